"""The Python API: check a plan from a program (a config-search loop, a notebook, a test).

    import syncverify
    report = syncverify.check("plans/llama-3.1-70b-tp8-pp2.yaml")
    report.ok, report.errors, report.by_code()

`check` takes a path, a plan dict (as `yaml.safe_load` would give it) or the YAML text, runs the
same loader and rules as `syncverify check`, and returns a `Report`. It never reads a
configuration file and never raises for a bad plan: load problems come back as
`report.problems` (exit code 2), as the CLI reports them. Documented in docs/api.md.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from syncverify.findings import Finding
from syncverify.report import Report as BaseReport
from syncverify.selection import Selection

Source = str | os.PathLike | dict
Names = str | Iterable[str] | None


@dataclass
class Report(BaseReport):
    """The outcome of `syncverify.check` on one plan.

    `findings` are the rules' findings; `problems` the reasons a plan could not be checked (load
    problems SV0xx, internal errors SV900); `exit_code` is what `syncverify check` would exit
    with (0 clean, 1 findings at or above `fail_on`, 2 unusable).
    """

    @property
    def ok(self) -> bool:
        """Nothing at or above the fail level, and the plan could be checked."""
        return self.exit_code == 0

    @property
    def errors(self) -> list[Finding]:
        """Error findings and problems, in output order."""
        return self.at("error")

    @property
    def warnings(self) -> list[Finding]:
        return self.at("warning")

    @property
    def notes(self) -> list[Finding]:
        return self.at("note")

    def at(self, severity: str) -> list[Finding]:
        return [f for f in self.all_findings() if f.severity == severity]

    def by_code(self) -> dict[str, list[Finding]]:
        """Code -> its findings (problems included), codes in order."""
        out: dict[str, list[Finding]] = defaultdict(list)
        for finding in self.all_findings():
            out[finding.code].append(finding)
        return dict(sorted(out.items()))

    def codes(self) -> set[str]:
        return {f.code for f in self.all_findings()}


def check(
    source: Source,
    *,
    exhaustive: bool = False,
    select: Names = None,
    ignore: Names = None,
    fail_on: str = "error",
    name: str | None = None,
) -> Report:
    """Check one plan and return its Report.

    `source` is a path (str or os.PathLike) to a plan file, a plan as a dict, or YAML text (a
    str with a line break, or starting with `{`). `name` is the file name findings carry for a
    dict or text (default `<plan>`); a relative `model.hf_config` is found from its folder (the
    current directory by default). `select` / `ignore` take codes, code prefixes (`SV3`) or slugs,
    as a list or a comma-separated string. `exhaustive` unrolls every layer (slower; the
    reference). Raises FileNotFoundError for a path that does not exist and ValueError for a
    `select`/`ignore`/`fail_on` that names nothing.
    """
    from syncverify.checking import CheckOptions, PlanSource, check_source
    from syncverify.report import exit_code

    if fail_on not in ("error", "warning", "note"):
        raise ValueError(f"fail_on must be error, warning or note, not {fail_on!r}")
    options = CheckOptions(selection=_selection(select, ignore), exhaustive=exhaustive)
    text = _text_of(source)
    if text is None:
        assert not isinstance(source, dict)  # a dict has text
        path = os.fspath(source)
        if not Path(path).is_file():
            raise FileNotFoundError(f"no plan file at '{path}'")
        plan = PlanSource(path)
    else:
        plan = PlanSource.of_text(text, name or "<plan>")
    report = Report(**vars(check_source(plan, options)))
    report.exit_code = exit_code(report, fail_on)
    return report


def _text_of(source: Source) -> str | None:
    """The YAML text of a dict or text source; None for a path."""
    if isinstance(source, dict):
        import yaml

        return yaml.safe_dump(source, sort_keys=False)
    if isinstance(source, str) and ("\n" in source or source.lstrip().startswith("{")):
        return source
    if isinstance(source, (str, os.PathLike)):
        return None
    raise TypeError(f"check() takes a path, a plan dict or YAML text, not {type(source).__name__}")


def _selection(select: Names, ignore: Names) -> Selection | None:
    """The rules to run and the codes to report, or None for all."""
    if not select and not ignore:
        return None
    from syncverify.rules import ALL_RULES
    from syncverify.selection import codes_named, selection_reporting
    from syncverify.usage import UsageProblem

    try:
        reported = (
            codes_named("select", _joined(select), ALL_RULES)
            if select
            else {r.code for r in ALL_RULES}
        )
        reported -= codes_named("ignore", _joined(ignore), ALL_RULES) if ignore else set()
    except UsageProblem as exc:
        raise ValueError(str(exc)) from None
    return selection_reporting(reported, ALL_RULES)


def _joined(names: Names) -> str:
    return names if isinstance(names, str) else ",".join(names or ())
