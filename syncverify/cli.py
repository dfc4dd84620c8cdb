"""Command-line interface: a thin click layer over `syncverify.commands`. Each subcommand builds
its arguments dataclass and calls its command, whose return value is the exit code.

Exit codes: 0 no finding at or above the fail level, 1 findings at or above it, 2 an unusable
plan or a bad invocation. No traceback reaches the user unless SYNCVERIFY_RAISE=1.
"""

from __future__ import annotations

import gc
import os
import signal
import sys

import click

from syncverify import __version__
from syncverify.commands.simulate import MAX_SIMULATED_STEPS
from syncverify.crash import should_raise
from syncverify.report import AUTO, COLOR_MODES, DEFAULT_FORMAT, FORMATS

CONTEXT = {"help_option_names": ["-h", "--help"]}
color_option = click.option(
    "--color",
    type=click.Choice(COLOR_MODES),
    default="auto",
    show_default=True,
    help="Colour and styles: auto follows the terminal, NO_COLOR and FORCE_COLOR.",
)


@click.group(context_settings=CONTEXT)
@click.version_option(__version__, "-V", "--version", prog_name="syncverify")
def cli() -> None:
    """Static verifier for the parallel execution plans of Transformer inference.

    Checks that a plan's synchronization points (TP, SP, PP, EP, DP, KV cache) are all there,
    none is redundant, and none is illegal in its phase, before anything is deployed.
    """


@cli.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, metavar="[PLAN]...")
@click.option(
    "--format",
    "--output-format",
    "-f",
    "format_",
    type=click.Choice([AUTO, *FORMATS], case_sensitive=False),
    default=DEFAULT_FORMAT,
    show_default=True,
    envvar="SYNCVERIFY_OUTPUT_FORMAT",
    show_envvar=True,
    help="Output format; auto: github inside GitHub Actions, text elsewhere.",
)
@click.option(
    "--output",
    "-o",
    metavar="FILE",
    help="Write the report to FILE (atomically) instead of standard output.",
)
@click.option(
    "--statistics",
    is_flag=True,
    help="Print how many findings each rule reported instead of the findings.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning"]),
    default=None,
    help="Lowest severity that makes the exit code 1 [default: error, or the "
    "configuration's fail-on].",
)
@click.option(
    "--exit-zero",
    is_flag=True,
    help="Exit 0 even when findings are reported (an unusable plan still exits 2).",
)
@color_option
@click.option(
    "--quiet",
    "-q",
    is_flag=True,
    help="Text format: findings only, without code frames, details or summary.",
)
@click.option(
    "--stdin-filename",
    metavar="NAME",
    help="The name to report for a plan read from standard input (PLAN is -).",
)
@click.option(
    "--select",
    metavar="CODES",
    help="Report only these rules: comma-separated codes, code prefixes (SV3) or slugs.",
)
@click.option(
    "--extend-select",
    metavar="CODES",
    help="Report these rules too, on top of the configuration's select.",
)
@click.option(
    "--ignore", metavar="CODES", help="Do not report these rules (codes, code prefixes or slugs)."
)
@click.option(
    "--per-file-ignores",
    metavar="PATTERN:CODES",
    multiple=True,
    help="Do not report these rules for plans matching PATTERN (repeatable; e.g. "
    "'plans/legacy/*.yaml:SV7'), on top of the configuration's.",
)
@click.option(
    "--config",
    metavar="PATH",
    type=click.Path(exists=True, dir_okay=False),
    help="Use this configuration file (pyproject.toml or .syncverify.yaml) for "
    "every plan instead of the nearest one.",
)
@click.option("--isolated", is_flag=True, help="Ignore every configuration file.")
@click.option(
    "--baseline",
    metavar="FILE",
    type=click.Path(exists=True, dir_okay=False),
    help="Hide the findings this baseline file records; report only new ones.",
)
@click.option(
    "--write-baseline",
    metavar="FILE",
    help="Record the current findings in FILE as the baseline (stale entries pruned).",
)
@click.option(
    "--exhaustive",
    is_flag=True,
    help="Unroll every layer instead of one representative per class (slower; the reference).",
)
@click.option(
    "--jobs",
    "-j",
    type=click.IntRange(min=0),
    default=1,
    show_default=True,
    metavar="N",
    help="Check the plans on N processes (0: one per CPU); same output.",
)
@click.option(
    "--fix",
    is_flag=True,
    help="Print the sync points the missing-sync findings ask for, as YAML list items.",
)
@click.option(
    "--write",
    is_flag=True,
    help="Insert them into the plan files (implies --fix; comments and formatting kept), "
    "then check again.",
)
@click.option(
    "--exclude",
    metavar="PATTERNS",
    help="Skip these files and folders in a folder walk (comma-separated globs); replaces "
    "the configuration's exclude and the defaults (.git, .venv, node_modules, ...).",
)
@click.option(
    "--extend-exclude",
    metavar="PATTERNS",
    help="Skip these files and folders too, on top of the configuration's exclude.",
)
@click.option(
    "--force-exclude",
    is_flag=True,
    help="Treat the files named as found by a folder walk: skip excluded ones and YAML files "
    "without a top-level syncverify: key (the pre-commit hook passes every matching file).",
)
@click.option(
    "--verbose", "-v", is_flag=True, help="Note on standard error the files skipped, and why."
)
def check(paths, format_, per_file_ignores, **options) -> None:
    """Check plan files (directories: every plan below them; - reads stdin; none: `.`)."""
    from syncverify.commands import check as command

    arguments = command.CheckArguments(
        tuple(paths) or (".",),  # as ruff: no path checks the current directory
        format_.lower(),
        per_file_ignores=tuple(per_file_ignores),
        **options,
    )
    finish(command.check(arguments))


@cli.command(context_settings=CONTEXT)
@click.option(
    "--format",
    "-f",
    "format_",
    type=click.Choice(["table", "json", "markdown"]),
    default="table",
    show_default=True,
    help="Output format.",
)
@color_option
def rules(format_, color) -> None:
    """List every rule: code, slug, category, severity, summary."""
    from syncverify.commands import rules as command

    finish(command.rules(command.RulesArguments(format_, color)))


@cli.command(context_settings=CONTEXT)
@click.argument("name", metavar="CODE_OR_SLUG")
@color_option
def explain(name, color) -> None:
    """Print a rule's page: what it checks, why it matters, a bad plan, the fix."""
    from syncverify.commands import explain as command

    finish(command.explain(command.ExplainArguments(name, color)))


# `ruff rule F401` users type `rule`: the same command, not listed twice in --help
cli.add_command(
    click.Command(
        "rule",
        callback=explain.callback,
        params=explain.params,
        help=explain.help,
        context_settings=CONTEXT,
        hidden=True,
    )
)


output_option = click.option(
    "--output",
    "-o",
    metavar="FILE",
    help="Write to FILE (atomically: a temporary file, then a rename) instead of stdout.",
)


@cli.command(context_settings=CONTEXT)
@output_option
def schema(output) -> None:
    """Print the plan format's JSON Schema (draft-07), for editors and other tools."""
    from syncverify.commands import schema as command

    finish(command.schema(command.SchemaArguments(output)))


@cli.command(context_settings=CONTEXT)
@click.argument("path", metavar="PLAN")
@click.option(
    "--steps",
    type=click.IntRange(min=1, max=MAX_SIMULATED_STEPS),
    default=3,
    show_default=True,
    help=f"Decode steps to run after prefill (at most {MAX_SIMULATED_STEPS}).",
)
@click.option(
    "--format",
    "-f",
    "format_",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
def simulate(path, steps, format_) -> None:
    """Run a plan on simulated devices with a tiny model; compare with one device (needs numpy)."""
    from syncverify.commands import simulate as command

    finish(command.simulate(command.SimulateArguments(path, steps, format_)))


degree = click.IntRange(min=1)


def hf_config_file(ctx, param, value: str) -> str:
    """--hf names a config.json or the model folder holding it: the file from here on, so that
    `-o` onto it is refused like onto any input."""
    from syncverify.scaffold import hf_config_file

    return hf_config_file(value)


@cli.command(context_settings=CONTEXT)
@click.option(
    "--hf",
    "hf",
    required=True,
    metavar="CONFIG",
    type=click.Path(exists=True),
    callback=hf_config_file,
    help="The model's Hugging Face config.json, or the model folder holding it.",
)
@click.option("--tp", type=degree, default=1, show_default=True, help="Tensor parallel degree.")
@click.option("--pp", type=degree, default=1, show_default=True, help="Pipeline stages.")
@click.option("--dp", type=degree, default=1, show_default=True, help="Data parallel replicas.")
@click.option(
    "--sp",
    type=degree,
    default=1,
    show_default=True,
    help="Sequence parallel degree in prefill (decode runs those devices as DP replicas).",
)
@click.option(
    "--ep", type=degree, default=1, show_default=True, help="Expert parallel degree (MoE models)."
)
@click.option("--nodes", type=degree, help="Nodes in the cluster.")
@click.option("--gpus-per-node", type=degree, help="Devices per node.")
@click.option(
    "--overlap",
    type=click.Choice(["none", "comm_compute", "two_batch"]),
    default="none",
    show_default=True,
    help="Overlap mode of both phases (collectives become async where they can).",
)
@click.option(
    "--microbatches",
    type=degree,
    help="Microbatches per step in both phases [default: one per stage; even under two_batch].",
)
@click.option(
    "--tokens",
    type=degree,
    default=4096,
    show_default=True,
    help="Prompt tokens per sequence (prefill).",
)
@click.option(
    "--batch",
    type=degree,
    default=64,
    show_default=True,
    help="Sequences per decode microbatch per DP replica.",
)
@click.option(
    "--token-return",
    type=click.Choice(["host", "device"]),
    default="host",
    show_default=True,
    help="How step t's sampled token reaches step t+1 (S4).",
)
@output_option
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
@click.option(
    "--check/--no-check",
    default=True,
    show_default=True,
    help="Check the plan before writing it (refused when it has errors).",
)
def init(hf, output, force, check, **layout) -> None:
    """Write a complete, commented plan with the minimal sync set for a model and a layout."""
    from syncverify.commands import init as command
    from syncverify.scaffold import Layout

    finish(command.init(command.InitArguments(hf, Layout(**layout), output, force, check)))


phase_option = click.option(
    "--phase",
    type=click.Choice(["prefill", "decode"]),
    help="The phase to show [default: decode, or the plan's only phase].",
)


@cli.command(context_settings=CONTEXT)
@click.argument("path", metavar="PLAN")
@click.option(
    "--format",
    "-f",
    "format_",
    type=click.Choice(["mermaid", "dot"]),
    default="mermaid",
    show_default=True,
    help="Mermaid (renders in GitHub markdown) or Graphviz DOT.",
)
@phase_option
@click.option(
    "--steps", type=click.IntRange(1, 3), default=1, show_default=True, help="Decode steps to draw."
)
@click.option(
    "--microbatches",
    type=click.IntRange(min=1),
    default=1,
    show_default=True,
    help="Microbatches to draw.",
)
@click.option(
    "--finding", metavar="CODE", help="Highlight where this rule's findings happen (code or slug)."
)
@output_option
def graph(path, format_, phase, steps, microbatches, finding, output) -> None:
    """Draw the plan's dependency DAG, collapsed by symmetry (ranks, layers, groups)."""
    from syncverify.commands import graph as command

    arguments = command.GraphArguments(path, format_, phase, steps, microbatches, finding, output)
    finish(command.graph(arguments))


@cli.command(context_settings=CONTEXT)
@click.argument("path", metavar="PLAN")
@phase_option
@click.option(
    "--step",
    type=click.IntRange(0, 8),
    default=0,
    show_default=True,
    help="The decode step to show (steps after 2 run like step 2).",
)
@color_option
def timeline(path, phase, step, color) -> None:
    """Print what each device does during one step: compute, collectives, waits."""
    from syncverify.commands import timeline as command

    finish(command.timeline(command.TimelineArguments(path, phase, step, color)))


GC_THRESHOLD = (200_000, 30, 30)  # gc.set_threshold arguments of the command line (main)


INTERRUPTED = 130  # 128 + SIGINT, the shell's convention for Ctrl-C


def interrupted(signum, frame) -> None:
    """Ctrl-C: exit 130 without a traceback (click would say "Aborted!" and exit 1). Files
    being written are temporary until renamed, so the old file or the new one is left."""
    sys.stderr.write("syncverify: interrupted\n")
    raise SystemExit(INTERRUPTED)


def finish(exit_code: int) -> None:
    """End the subcommand with its exit code: `main` returns it (click's Exit), and click's test
    runner sees it too."""
    click.get_current_context().exit(exit_code)


def main(argv: list[str] | None = None) -> int:
    """Console script entry point (also `python -m syncverify`): run the command line `argv`
    (default: the process's arguments) and return the exit code; the caller exits with it."""
    # The graph is many small tuples and dicts and almost no reference cycles, and the default
    # threshold (700) makes the collector sweep every imported module's objects again and again
    # while it is built: a tenth of a short check. mypy raises it for the same reason; only the
    # command line does, never `import syncverify`.
    gc.set_threshold(*GC_THRESHOLD)
    signal.signal(signal.SIGINT, interrupted)
    try:
        return run_command_line(argv)
    except BrokenPipeError:
        # the reader went away (`syncverify rules | head`): nothing left to say to it
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # the last boundary; per-plan errors are caught earlier
        if should_raise():
            raise
        sys.stderr.write(
            f"syncverify: internal error: {exc.__class__.__name__}: {exc} "
            "(SYNCVERIFY_RAISE=1 shows the traceback)\n"
        )
        return 2


def run_command_line(argv: list[str] | None) -> int:
    """The command's exit code; click's own outcomes (a usage error, --help) included."""
    try:
        return click_exit_code(cli.main(args=argv, prog_name="syncverify", standalone_mode=False))
    except click.ClickException as exc:  # a bad invocation: click's usage message, exit 2
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted!", err=True)
        return 1
    except SystemExit as exc:  # Ctrl-C (130), or click's broken pipe (1)
        return click_exit_code(exc.code)


def click_exit_code(code) -> int:
    """An exit status as an int (click and SystemExit may give None: success)."""
    return 0 if code is None else int(code)
