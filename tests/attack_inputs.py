"""The attack catalogue of issue 11: one case per defect, as a user runs it (a command line, the
files it reads, maybe standard input and environment), with what must come out.

Shared by tests/test_attack.py (behaviour: exit code, messages, no traceback, every input
unchanged) and bench/attack.py (the same cases, plus bigger variants and the cost-model cases,
under a time and memory limit). Large inputs are generated into the case's folder, never stored.

`Attack.setup(folder)` writes the inputs and returns a `Run`; `Attack.expect(result, folder)`
asserts what the result must show beyond the common checks (exit code among `exits`, no
traceback, the files in `Run.inputs` byte for byte as before).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.hostile_inputs import SMALL

FIXABLE = SMALL.replace("  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}\n", "")
MODELS = Path(__file__).resolve().parent / "data" / "models"
HF_PLAN = (
    "syncverify: 1\nmodel: {hf_config: hf.json}\nparallel: {tp: 2}\nphases:\n  decode: {batch: 4}\n"
)
HF_JSON = MODELS / "Llama-3.1-8B.json"
ESC = "\x1b]0;owned\x07\x1b[2J\x1b[31m"  # set the window title, clear the screen, turn red
FAKE_ERROR = "\n::error file=x.yaml,line=1::injected"


@dataclass
class Run:
    args: list  # after `syncverify`
    inputs: list = field(default_factory=list)  # files that must not change
    stdin: bytes | None = None
    env: dict = field(default_factory=dict)
    close_stdin: bool = False  # run with file descriptor 0 closed (`<&-`)
    interrupt_after: float | None = None  # Ctrl-C (SIGINT) then, stdin left open (bench)


@dataclass
class Result:
    code: int
    stdout: str
    stderr: str

    @property
    def both(self) -> str:
        return self.stdout + self.stderr


@dataclass(frozen=True)
class Attack:
    name: str
    setup: Callable[[Path], Run]
    expect: Callable[[Result, Path], None] = lambda result, folder: None
    exits: tuple = (2,)
    bench_only: bool = False  # a bigger variant: too slow for the test suite
    owner: str = "io"  # "cost model": made fast by the cost-model work (issue 11.1)


# ------------------------------------------------------------------------------- helpers


def write(folder: Path, name: str, content) -> Path:
    path = folder / name
    path.write_bytes(content) if isinstance(content, bytes) else path.write_text(content)
    return path


def refused(*pieces: str) -> Callable[[Result, Path], None]:
    """The run says `syncverify: error:` with every piece, and writes no report."""

    def expect(result: Result, folder: Path) -> None:
        assert "syncverify: error:" in result.stderr, result.stderr
        for piece in pieces:
            assert piece in result.stderr, (piece, result.stderr)

    return expect


def clean_output(result: Result, folder: Path) -> None:
    """Nothing from the plan reaches the output raw: no escape character, no C1, no separator,
    no line starting a workflow command but ours."""
    for bad in ("\x1b", "\x07", "\x85", "\u2028", "\u2029", "\x9b"):
        assert bad not in result.both, repr(bad)
    for line in result.both.splitlines():
        assert not line.startswith("::error file=x.yaml"), line


def located(result: Result, folder: Path) -> None:
    """A clear error with a location, never an internal error (SV900)."""
    assert "SV900" not in result.both and "internal error" not in result.both, result.both
    assert "syncverify: error:" in result.stderr or ": error SV" in result.stdout, result.both


def plan_run(plan_text: str, *options: str, name: str = "plan.yaml") -> Callable[[Path], Run]:
    def setup(folder: Path) -> Run:
        plan = write(folder, name, plan_text)
        return Run(["check", "--isolated", *options, name], inputs=[plan])

    return setup


# ----------------------------------------------------------------- 2. never write over an input


def output_onto(option: str, victim, command: str = "check") -> Callable[[Path], Run]:
    """`syncverify COMMAND OPTION VICTIM` where VICTIM is a file the run reads (or a function of
    the case's folder giving its name)."""

    def setup(folder: Path) -> Run:
        target = victim(folder) if callable(victim) else victim
        plan = write(folder, "plan.yaml", HF_PLAN)
        hf = write(folder, "hf.json", HF_JSON.read_text())
        config = write(folder, ".syncverify.yaml", "ignore: [SV4]\n")
        inputs = [plan, hf, config]
        if command == "init":
            return Run(["init", "--hf", "hf.json", "--tp", "2", option, target, "--force"], inputs)
        if command == "graph":
            return Run(["graph", option, target, "plan.yaml"], inputs)
        return Run(["check", option, target, "plan.yaml"], inputs)

    return setup


def output_onto_special(kind: str, option: str = "-o") -> Callable[[Path], Run]:
    def setup(folder: Path) -> Run:
        plan = write(folder, "plan.yaml", SMALL)
        target = {"fifo": folder / "fifo", "device": Path("/dev/null"), "directory": folder}[kind]
        if kind == "fifo":
            os.mkfifo(target)
        return Run(["check", "--isolated", option, str(target), "plan.yaml"], [plan])

    return setup


def same_output_twice(folder: Path) -> Run:
    plan = write(folder, "plan.yaml", SMALL)
    return Run(
        ["check", "--isolated", "-o", "out.json", "--write-baseline", "out.json", "plan.yaml"],
        [plan],
    )


def dash_is_stdout(folder: Path) -> Run:
    plan = write(folder, "plan.yaml", SMALL)
    return Run(["check", "--isolated", "-f", "concise", "-o", "-", "plan.yaml"], [plan])


def no_file_named_dash(result: Result, folder: Path) -> None:
    assert not (folder / "-").exists()


# ----------------------------------------------------------------- 3. the atomic writer

OTHER_OWNER = (12345, 12345)  # given to the plan when the suite runs as root


def fix_write(
    plan_bytes: bytes,
    mode: int = 0o644,
    link: bool = False,
    name: str = "plan.yaml",
    owner: bool = False,
) -> Callable[[Path], Run]:
    def setup(folder: Path) -> Run:
        real = write(folder, "real.yaml" if link else name, plan_bytes)
        os.chmod(real, mode)
        if owner and os.geteuid() == 0:
            os.chown(real, *OTHER_OWNER)
        if link:
            os.symlink("real.yaml", folder / name)
        return Run(
            ["check", "--isolated", "--fix", "--write", name],
            inputs=[real] if mode & 0o222 == 0 else [],
        )

    return setup


def fixed_keeps(
    mode: int = 0o644,
    link: bool = False,
    bom: bool = False,
    crlf: bool = False,
    owner: bool = False,
):
    def expect(result: Result, folder: Path) -> None:
        assert "added 1 sync point" in result.stderr, result.stderr
        real = folder / ("real.yaml" if link else "plan.yaml")
        if owner and os.geteuid() == 0:
            assert (real.stat().st_uid, real.stat().st_gid) == OTHER_OWNER
        data = real.read_bytes()
        assert b"after: o_proj" in data
        assert stat.S_IMODE(real.stat().st_mode) == mode
        if link:
            assert (folder / "plan.yaml").is_symlink()
        assert data.startswith(b"\xef\xbb\xbf") == bom
        if crlf:
            assert data.count(b"\n") == data.count(b"\r\n"), data
        else:
            assert b"\r" not in data
        assert sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp")) == []

    return expect


def read_only_fix(result: Result, folder: Path) -> None:
    assert "not changed: the file is read-only" in result.stderr, result.stderr


LONG_NAMES = {"ascii": "r" * 241 + ".txt", "emoji": "\U0001f600" * 60 + ".txt"}  # 245, 244 bytes


def long_output_name(kind: str) -> Callable[[Path], Run]:
    def setup(folder: Path) -> Run:
        plan = write(folder, "plan.yaml", SMALL)
        return Run(["check", "--isolated", "-o", LONG_NAMES[kind], "plan.yaml"], [plan])

    return setup


def long_name_written(kind: str) -> Callable[[Result, Path], None]:
    def expect(result: Result, folder: Path) -> None:
        assert "in 1 file" in (folder / LONG_NAMES[kind]).read_text()

    return expect


def read_only_output(folder: Path) -> Run:
    plan = write(folder, "plan.yaml", SMALL)
    report = write(folder, "report.txt", "old report\n")
    os.chmod(report, 0o444)
    return Run(["check", "--isolated", "-o", "report.txt", "plan.yaml"], [plan, report])


# ----------------------------------------------------------------- 4. clean output


def hostile_names(fmt: str, where: str) -> Callable[[Path], Run]:
    """Escape sequences and a fake workflow command in a sync id, a plan key or the file name."""
    bad = ESC + FAKE_ERROR + "\u2028\x85\x9b"

    def setup(folder: Path) -> Run:
        text, name = FIXABLE, "plan.yaml"
        if where == "id":
            text = FIXABLE.replace("id: mlp-ar", f"id: {_yaml_quoted(bad)}")
        elif where == "key":
            text = FIXABLE.replace(
                "parallel: {tp: 2,", f"parallel: {{{_yaml_quoted(bad)}: 1, tp: 2,"
            )
        elif where == "file":
            name = "plan" + ESC.replace("\x07", "") + "\n::error file=x.yaml::x.yaml"
        plan = write(folder, name, text)
        env = {"GITHUB_ACTIONS": "true", "GITHUB_WORKFLOW": "ci"} if fmt == "github" else {}
        return Run(["check", "--isolated", "-f", fmt, name], [plan], env=env)

    return setup


def hostile_name_fix(folder: Path) -> Run:
    """`--fix` prints the file name of each plan it repairs: escaped too."""
    name = "plan" + ESC.replace("\x07", "") + "\n::error file=x.yaml::x.yaml"
    plan = write(folder, name, FIXABLE)
    return Run(["check", "--isolated", "--fix", name], [plan])


def _yaml_quoted(text: str) -> str:
    """A YAML double-quoted scalar holding `text` (escapes as YAML reads them)."""
    return (
        '"'
        + "".join(c if c.isprintable() and c not in '"\\' else f"\\u{ord(c):04x}" for c in text)
        + '"'
    )


def separators_in_plan(where: str) -> Callable[[Path], Run]:
    """U+2028, U+2029 and NEL (line breaks to YAML 1.1, not to editors) in a quoted value or a
    comment before the line a problem is on."""

    def setup(folder: Path) -> Run:
        inserted = {"value": 'name: "a\u2028b\x85c\u2029d"\n', "comment": "# a\u2028b\x85c\n"}[
            where
        ]
        text = SMALL.replace("syncverify: 1\n", "syncverify: 1\n" + inserted, 1)
        text = text.replace("tp: 2,", "tp: 0,")  # refused at parallel.tp: line 4
        plan = write(folder, "plan.yaml", text)
        return Run(["check", "--isolated", "-f", "concise", "plan.yaml"], [plan])

    return setup


def first_problem_at(
    line: int, column, code: str, says: str = ""
) -> Callable[[Result, Path], None]:
    def expect(result: Result, folder: Path) -> None:
        first = result.stdout.partition("\n")[0]
        assert first.startswith(f"plan.yaml:{line}:{column}: error {code}"), result.stdout
        assert says in first, first

    return expect


def tiny_columns(columns: str) -> Callable[[Path], Run]:
    def setup(folder: Path) -> Run:
        plan = write(folder, "plan.yaml", FIXABLE)
        return Run(
            ["check", "--isolated", "--color", "always", "plan.yaml"],
            [plan],
            env={"COLUMNS": columns},
        )

    return setup


def report_printed(result: Result, folder: Path) -> None:
    assert "SV" in result.stdout and "plan.yaml" in result.stdout, result.both


# ----------------------------------------------------------------- 5. located errors


def pyproject_above(content: bytes) -> Callable[[Path], Run]:
    def setup(folder: Path) -> Run:
        project = write(folder, "pyproject.toml", content)
        (folder / "plans").mkdir()
        plan = write(folder, "plans/plan.yaml", SMALL)
        return Run(["check", "plans/plan.yaml"], [project, plan])

    return setup


def symlink_loop(folder: Path) -> Run:
    os.symlink("loop.yaml", folder / "loop.yaml")
    return Run(["check", "--isolated", "-f", "concise", "loop.yaml"])


def closed_stdin(folder: Path) -> Run:
    return Run(["check", "--isolated", "-f", "concise", "-"], close_stdin=True)


def not_a_baseline(folder: Path) -> Run:
    plan = write(folder, "plan.yaml", FIXABLE)
    other = write(folder, "notes.json", '{"hello": "world"}\n')
    return Run(
        ["check", "--isolated", "--write-baseline", "notes.json", "plan.yaml"], [plan, other]
    )


def picture_of(command: str, plan_text: str, *options: str) -> Callable[[Path], Run]:
    def setup(folder: Path) -> Run:
        plan = write(folder, "plan.yaml", plan_text)
        return Run([command, *options, "plan.yaml"], [plan])

    return setup


# ----------------------------------------------------------------- 1. bounded inputs (mine)


def digits(count: int, base: str = "") -> str:
    return base + ("f" if base == "0x" else "1" if base == "0b" else "9") * count


def number_plan(value: str, where: str = "tp") -> str:
    if where == "layers-selector":
        return (
            SMALL
            + f"  - {{after: attention, collective: barrier, group: tp, layers: '0..{value}'}}\n"
        )
    if where == "ranks-selector":
        return (
            SMALL
            + f"  - {{after: sample, collective: gather, group: tp, ranks: {{tp: [{value}]}}}}\n"
        )
    if where == "tokens":
        return SMALL.replace("tokens: 64", f"tokens: {value}")
    if where == "key":
        return SMALL.replace("parallel: {", f"parallel: {{{value}: 1, ", 1)
    return SMALL.replace("tp: 2,", f"tp: {value},")


def big_key(size: int) -> str:
    return SMALL.replace("parallel: {", "parallel: {" + "k" * size + ": 1, ", 1)


def not_echoed_whole(limit: int = 5000) -> Callable[[Result, Path], None]:
    def expect(result: Result, folder: Path) -> None:
        assert max(map(len, result.both.splitlines() or [""])) < limit, "a line echoes the input"

    return expect


def config_file(name: str, content) -> Callable[[Path], Run]:
    def setup(folder: Path) -> Run:
        config = write(folder, name, content() if callable(content) else content)
        plan = write(folder, "plan.yaml", SMALL)
        return Run(["check", "plan.yaml"], [config, plan])

    return setup


def explicit_config(target: str) -> Callable[[Path], Run]:
    def setup(folder: Path) -> Run:
        plan = write(folder, "plan.yaml", SMALL)
        path = folder / "fifo.yaml" if target == "fifo" else Path(target)
        if target == "fifo":
            os.mkfifo(path)
        return Run(["check", "--config", str(path), "plan.yaml"], [plan])

    return setup


def side_file_number(kind: str) -> Callable[[Path], Run]:
    """A 5,000-digit integer in a file read beside the plan (Python converts at most 4,300)."""
    big = digits(5000)

    def setup(folder: Path) -> Run:
        plan = write(folder, "plan.yaml", SMALL)
        if kind == "hf_config":
            side = write(folder, "hf.json", f'{{"num_hidden_layers": {big}, "hidden_size": 4096}}')
            plan = write(folder, "plan.yaml", HF_PLAN)
            return Run(["check", "--isolated", "-f", "concise", "plan.yaml"], [plan, side])
        if kind == "init --hf":
            side = write(folder, "hf.json", f'{{"num_hidden_layers": {big}, "hidden_size": 4096}}')
            return Run(["init", "--hf", "hf.json"], [side])
        if kind == "baseline":
            side = write(folder, "base.json", f'{{"plan.yaml": {{"SV301": {{"count": {big}}}}}}}')
            return Run(
                ["check", "--isolated", "--baseline", "base.json", "plan.yaml"], [plan, side]
            )
        name, text = {
            "yaml": (".syncverify.yaml", f"severity: {{SV301: {big}}}\n"),
            "toml": ("pyproject.toml", f"[tool.syncverify]\nselect = [{big}]\n"),
        }[kind]
        side = write(folder, name, text)
        return Run(["check", "plan.yaml"], [plan, side])

    return setup


def hostile_config_key(folder: Path) -> Run:
    """An unknown option in .syncverify.yaml, named with an escape sequence and a newline."""
    config = write(folder, ".syncverify.yaml", f"{_yaml_quoted(ESC + FAKE_ERROR)}: 1\n")
    plan = write(folder, "plan.yaml", SMALL)
    return Run(["check", "plan.yaml"], [config, plan])


def long_yaml_config() -> str:
    return "select:\n" + "  - SV1\n" * 1_000_000


def interrupted(folder: Path) -> Run:
    return Run(["check", "--isolated", "-"], interrupt_after=1.5)


def many_jobs(folder: Path) -> Run:
    plans = [write(folder, f"p{i}.yaml", SMALL) for i in range(8)]
    return Run(
        ["check", "--isolated", "-f", "concise", "-j", "50", *[p.name for p in plans]], plans
    )


# ----------------------------------------------------------------- cost-model cases (not mine)


def many_syncs(count: int) -> str:
    return SMALL + "".join(
        f"  - {{id: b{i}, after: attention, collective: barrier, group: tp}}\n"
        for i in range(count)
    )


def dp_selectors(count: int) -> str:
    text = SMALL.replace("parallel: {tp: 2, pp: 2}", "parallel: {tp: 1, pp: 1, dp: 65536}")
    return text + "".join(
        f"  - {{after: sample, collective: gather, group: dp, ranks: {{dp: {i}}}}}\n"
        for i in range(count)
    )


def syncs_within_budget(count: int) -> str:
    """`count` sync points on a plan small enough that the node budget lets them through."""
    text = (
        SMALL.replace("layers: 4,", "layers: 1,")
        .replace("tp: 2, pp: 2", "tp: 2")
        .replace("  prefill: {microbatches: 2, tokens: 64}\n", "")
        .replace("microbatches: 2, ", "")
    )
    text = text.replace(
        "  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}\n", ""
    )
    return text + "".join(
        f"  - {{id: b{i}, after: attention, collective: barrier, group: tp}}\n"
        for i in range(count)
    )


def pp64(folder: Path) -> Run:
    text = (
        SMALL.replace("layers: 4,", "layers: 128,")
        .replace("tp: 2, pp: 2", "tp: 2, pp: 64")
        .replace("microbatches: 2", "microbatches: 64")
    )
    plan = write(folder, "plan.yaml", text)
    return Run(["check", "--isolated", "-f", "concise", "plan.yaml"], [plan])


def llama405b(folder: Path) -> Run:
    plans = Path(__file__).resolve().parent.parent / "plans"
    found = sorted(plans.rglob("*405*.yaml"))
    text = found[0].read_text() if found else SMALL
    import re

    text = re.sub(r"microbatches: \d+", "microbatches: 10", text)
    plan = write(folder, "plan.yaml", text)
    models = plans / "models"
    (folder / "models").mkdir()
    for json_file in models.glob("*.json"):
        write(folder / "models", json_file.name, json_file.read_text())
    return Run(["check", "--isolated", "--exhaustive", "-f", "concise", "plan.yaml"], [plan])


def init_pp(folder: Path) -> Run:
    return Run(["init", "--hf", str(MODELS / "Llama-3.1-8B.json"), "--pp", "10000000"])


# ------------------------------------------------------------------------------- the catalogue


def _attacks() -> list[Attack]:
    out = [
        # 2. never write over an input
        Attack(
            "check -o onto the hf_config",
            output_onto("-o", "hf.json"),
            refused("the hf_config of a plan being read"),
        ),
        Attack(
            "check -o onto the discovered configuration",
            output_onto("-o", ".syncverify.yaml"),
            refused("the configuration file being read"),
        ),
        Attack(
            "check --write-baseline onto the hf_config",
            output_onto("--write-baseline", "hf.json"),
            refused("the hf_config of a plan being read"),
        ),
        Attack(
            "check -o onto the plan through ..",
            output_onto("-o", lambda f: f"../{f.name}/plan.yaml"),
            refused("a plan being read"),
        ),
        Attack(
            "graph -o onto the hf_config",
            output_onto("-o", "hf.json", "graph"),
            refused("the hf_config of the plan being drawn"),
        ),
        Attack(
            "init -o onto its own --hf",
            output_onto("-o", "hf.json", "init"),
            refused("the --hf config being read"),
        ),
        Attack(
            "check -o X --write-baseline X", same_output_twice, refused("name two different files")
        ),
        Attack("check -o a FIFO", output_onto_special("fifo"), refused("is a FIFO")),
        Attack(
            "check -o a device node", output_onto_special("device"), refused("a character device")
        ),
        Attack(
            "check --write-baseline a directory",
            output_onto_special("directory", "--write-baseline"),
            refused("is a directory"),
        ),
        Attack("check -o - is stdout", dash_is_stdout, no_file_named_dash, exits=(0,)),
        # 3. the atomic writer
        Attack(
            "--fix --write keeps mode 0600",
            fix_write(FIXABLE.encode(), 0o600),
            fixed_keeps(0o600),
            exits=(0,),
        ),
        Attack(
            "--fix --write keeps the owner",
            fix_write(FIXABLE.encode(), owner=True),
            fixed_keeps(owner=True),
            exits=(0,),
        ),
        Attack(
            "--fix --write through a symlink",
            fix_write(FIXABLE.encode(), link=True),
            fixed_keeps(link=True),
            exits=(0,),
        ),
        Attack(
            "--fix --write a read-only plan",
            fix_write(FIXABLE.encode(), 0o444),
            read_only_fix,
            exits=(1,),
        ),
        Attack(
            "--fix --write a UTF-8 BOM plan",
            fix_write(b"\xef\xbb\xbf" + FIXABLE.encode()),
            fixed_keeps(bom=True),
            exits=(0,),
        ),
        Attack(
            "--fix --write a CRLF plan",
            fix_write(FIXABLE.replace("\n", "\r\n").encode()),
            fixed_keeps(crlf=True),
            exits=(0,),
        ),
        Attack("check -o a read-only report", read_only_output, refused("read-only")),
        Attack(
            "check -o a 245-character name",
            long_output_name("ascii"),
            long_name_written("ascii"),
            exits=(0,),
        ),
        Attack(
            "check -o a name of 60 emoji (244 bytes)",
            long_output_name("emoji"),
            long_name_written("emoji"),
            exits=(0,),
        ),
        # 4. clean output
        *[
            Attack(
                f"escape sequences in a {where}, {fmt}",
                hostile_names(fmt, where),
                clean_output,
                exits=(1, 2),
            )
            for fmt in ("text", "concise", "github", "json", "sarif")
            for where in ("id", "key", "file")
        ],
        Attack(
            "escape sequences in a file name, --fix", hostile_name_fix, clean_output, exits=(1,)
        ),
        Attack(
            "U+2028 and NEL in a value keep line numbers",
            separators_in_plan("value"),
            first_problem_at(4, 16, "SV006"),
        ),
        Attack(
            "U+2028 and NEL in a comment keep line numbers",
            separators_in_plan("comment"),
            first_problem_at(2, 7, "SV002", "at line 2"),
        ),
        Attack("COLUMNS=0", tiny_columns("0"), report_printed, exits=(1,)),
        Attack("COLUMNS=1", tiny_columns("1"), report_printed, exits=(1,)),
        # 5. located errors
        Attack("tool = 3 in a parent pyproject.toml", pyproject_above(b"tool = 3\n"), located),
        Attack(
            "non-UTF-8 pyproject.toml in a parent",
            pyproject_above(b"[tool.syncverify]\n# caf\xe9\n"),
            located,
        ),
        Attack("a symlink loop", symlink_loop, located),
        Attack("closed stdin", closed_stdin, located),
        Attack("--write-baseline onto a file that is not a baseline", not_a_baseline, located),
        Attack(
            "graph --finding on a plan too large to check",
            picture_of(
                "graph",
                SMALL.replace("tp: 2, pp: 2", "tp: 8, pp: 2, dp: 32768"),
                "--finding",
                "SV301",
            ),
            _both(located, refused("plan.yaml:3:30", "[SV014]")),
        ),
        Attack(
            "timeline of a plan too large to draw",
            picture_of("timeline", SMALL.replace("tp: 2, pp: 2", "tp: 8, pp: 2, dp: 32768")),
            _both(located, refused("plan.yaml:3:30", "[SV014]")),
        ),
        Attack(
            "timeline --phase it lacks",
            picture_of(
                "timeline",
                SMALL.replace("  decode: {microbatches: 2, batch: 4}\n", ""),
                "--phase",
                "decode",
            ),
            located,
        ),
        Attack("graph of an unusable plan", picture_of("graph", "syncverify: 1\n"), located),
        # 1. bounded inputs: numbers, configuration files, -j
        Attack(
            "tp: 59:59:59 (base 60)",
            plan_run(number_plan(":".join(["59"] * 3)), "-f", "concise"),
            located,
        ),
        Attack(
            "base 60 of 100,000 parts",
            plan_run(number_plan(":".join(["59"] * 100_000)), "-f", "concise"),
            located,
        ),
        Attack(
            "base 60 float of 100,000 parts",
            plan_run(number_plan(":".join(["59"] * 100_000) + ".5"), "-f", "concise"),
            located,
        ),
        *[
            Attack(
                f"a {n:,}-digit {kind} integer in {where}",
                plan_run(number_plan(digits(n, base), where), "-f", "concise"),
                _both(located, not_echoed_whole()),
            )
            for n in (5000,)
            for kind, base in (("decimal", ""), ("hex", "0x"), ("binary", "0b"))
            for where in ("tp", "tokens", "layers-selector", "ranks-selector")
        ],
        *[
            Attack(
                f"a 5,000-digit integer in the {kind}",
                side_file_number(kind),
                _both(located, not_echoed_whole()),
            )
            for kind in ("hf_config", "init --hf", "baseline", "yaml", "toml")
        ],
        Attack(
            "a 9 MB key",
            plan_run(big_key(9 * 1024 * 1024), "-f", "concise"),
            _both(located, not_echoed_whole()),
        ),
        Attack(
            "escape sequences in a configuration key",
            hostile_config_key,
            _both(clean_output, refused("unknown option")),
        ),
        Attack(
            "a 6 MB .syncverify.yaml", config_file(".syncverify.yaml", long_yaml_config), located
        ),
        Attack(
            "a 6 MB pyproject.toml",
            config_file("pyproject.toml", lambda: "[tool.syncverify]\n" + "# padding\n" * 600_000),
            located,
        ),
        Attack("--config /dev/zero", explicit_config("/dev/zero"), located),
        Attack("--config a FIFO", explicit_config("fifo"), located),
        Attack("-j 50", many_jobs, exits=(0,)),
    ]
    out += [
        Attack(
            "2,000 sync points",
            plan_run(many_syncs(2000), "-f", "concise"),
            exits=(0, 1, 2),
            bench_only=True,
            owner="cost model",
        ),
        Attack(
            "5,000 sync points",
            plan_run(many_syncs(5000), "-f", "concise"),
            exits=(0, 1, 2),
            bench_only=True,
            owner="cost model",
        ),
        Attack(
            "2,000 sync points within the node budget",
            plan_run(syncs_within_budget(2000), "-f", "concise"),
            exits=(0, 1, 2),
            bench_only=True,
            owner="cost model",
        ),
        Attack(
            "dp 65,536, 4,000 selectors",
            plan_run(dp_selectors(4000), "-f", "concise"),
            exits=(0, 1, 2),
            bench_only=True,
            owner="cost model",
        ),
        Attack("pp 64", pp64, exits=(0, 1, 2), bench_only=True, owner="cost model"),
        Attack(
            "Llama-405B, 10 microbatches, --exhaustive",
            llama405b,
            exits=(0, 1, 2),
            bench_only=True,
            owner="cost model",
        ),
        Attack("init --pp 10000000", init_pp, exits=(1, 2), bench_only=True, owner="cost model"),
        Attack(
            "a 3 MB base-60 integer",
            plan_run(number_plan(":".join(["59"] * 1_000_000)), "-f", "concise"),
            located,
            bench_only=True,
        ),
        Attack("Ctrl-C while reading stdin", interrupted, exits=(130,), bench_only=True),
        Attack(
            "a 9 MB key, json",
            plan_run(big_key(9 * 1024 * 1024), "-f", "json"),
            _both(located, not_echoed_whole()),
            bench_only=True,
        ),
    ]
    return out


def _both(*checks):
    def expect(result: Result, folder: Path) -> None:
        for check in checks:
            check(result, folder)

    return expect


ATTACKS = _attacks()
__all__ = ["ATTACKS", "Attack", "Result", "Run"]
