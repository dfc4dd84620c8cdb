"""Baseline files: adopt syncverify on a fleet of existing plans (docs/suppressions.md).

The format is ESLint's bulk-suppressions file: how many findings of each rule each plan had
when the baseline was written, not where they were, so it survives edits that move lines.

    {"plans/llama-70b.yaml": {"SV301": {"count": 2}, "SV702": {"count": 1}}}

Plan paths are relative to the folder of the baseline file, with `/` separators, so the file
can be committed and used from any working directory. `--baseline FILE` hides up to `count`
findings of a rule in a plan (the first ones in output order) and reports the rest, which are
new; `--write-baseline FILE` records the current counts, keeping the entries of plans that were
not checked in this run and pruning those that no longer match.

A finding that stops the graph rules (`Rule.blocks_graph`) is never recorded nor hidden: the
plan it is on was not checked, and a baseline must not turn that into "no findings".
"""

from __future__ import annotations

import json
import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from syncverify.findings import Finding
from syncverify.usage import UsageProblem

Counts = dict[str, dict[str, int]]  # plan key -> code -> count


@dataclass(frozen=True)
class Stale:
    """A baseline entry that records more findings than a checked plan has now."""

    plan: str
    code: str
    recorded: int
    found: int


def plan_key(file: str, folder: Path) -> str:
    """The key of a plan in a baseline kept in `folder`: its path relative to that folder."""
    if file.startswith("<"):  # <stdin> without --stdin-filename
        return file
    absolute = os.path.abspath(file)
    try:
        relative = os.path.relpath(absolute, folder)
    except ValueError:  # another drive (Windows)
        return Path(absolute).as_posix()
    return Path(relative).as_posix()


def read(path: str) -> Counts:
    """The counts of a baseline file (UsageProblem if it is not one)."""
    from syncverify.yamlnodes import MAX_BYTES

    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)  # never further: /dev/zero has no end
        if len(raw) > MAX_BYTES:
            raise UsageProblem(f"--baseline: '{path}' is larger than {MAX_BYTES:,} bytes")
        document = json.loads(raw.decode("utf-8"))
    except OSError as exc:
        raise UsageProblem(f"--baseline: cannot read '{path}': {exc.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageProblem(f"--baseline: '{path}' is not JSON: {exc}") from None
    except RecursionError:
        raise UsageProblem(f"--baseline: '{path}' is nested too deeply to be a baseline") from None
    except ValueError:  # Python converts no integer of more than 4,300 digits
        raise UsageProblem(
            f"--baseline: '{path}' holds a number of more than 4,300 digits: not a baseline"
        ) from None
    return validated(document, path)


def validated(document, path: str) -> Counts:
    shape = 'expected {"plan.yaml": {"SV301": {"count": 2}}}'
    if not isinstance(document, dict):
        raise UsageProblem(f"--baseline: '{path}': {shape}")
    counts: Counts = {}
    for plan, rules in document.items():
        if not isinstance(rules, dict):
            raise UsageProblem(f"--baseline: '{path}': {plan}: {shape}")
        counts[plan] = {}
        for code, entry in rules.items():
            count = entry.get("count") if isinstance(entry, dict) else None
            if not isinstance(count, int) or isinstance(count, bool) or count < 0:
                raise UsageProblem(
                    f"--baseline: '{path}': {plan}: {code}: expected {{\"count\": N}} with N >= 0"
                )
            counts[plan][code] = count
    return counts


def _recordable(finding: Finding) -> bool:
    from syncverify.blocking import BLOCKING_CODES

    return finding.code not in BLOCKING_CODES


def current_counts(findings: list[Finding], folder: Path) -> Counts:
    counts: Counts = defaultdict(dict)
    for (plan, code), n in sorted(
        Counter((plan_key(f.file, folder), f.code) for f in findings if _recordable(f)).items()
    ):
        counts[plan][code] = n
    return dict(counts)


Judged = dict[str, frozenset | None]  # plan key -> the codes this run reported (None: all)


def judges(judged: Judged, plan: str, code: str) -> bool:
    """Whether this run can say how many `code` findings `plan` has: the plan was checked and
    the rule was not left out by --select/--ignore or the configuration."""
    if plan not in judged:
        return False
    codes = judged[plan]
    return codes is None or code in codes


def stale_entries(recorded: Counts, now: Counts, judged: Judged) -> list[Stale]:
    """Entries this run judges that record more findings than the plans have now."""
    out = []
    for plan in sorted(set(recorded) & set(judged)):
        for code, count in sorted(recorded[plan].items()):
            found = now.get(plan, {}).get(code, 0)
            if judges(judged, plan, code) and count > found:
                out.append(Stale(plan, code, count, found))
    return out


def apply(findings: list[Finding], recorded: Counts, folder: Path) -> tuple[list[Finding], int]:
    """(the findings beyond the recorded counts, how many were hidden)."""
    left = {(plan, code): n for plan, rules in recorded.items() for code, n in rules.items()}
    kept, hidden = [], 0
    for finding in sorted(findings, key=Finding.sort_key):
        key = (plan_key(finding.file, folder), finding.code)
        if left.get(key, 0) > 0 and _recordable(finding):
            left[key] -= 1
            hidden += 1
        else:
            kept.append(finding)
    return kept, hidden


def merged(previous: Counts | None, now: Counts, judged: Judged) -> Counts:
    """The counts to write: this run's for what it judged, the previous file's for the rest
    (a run over part of the fleet, or with some rules left out, does not forget the others)."""
    out: dict[str, dict[str, int]] = {}
    for plan, rules in (previous or {}).items():
        kept = {code: n for code, n in rules.items() if not judges(judged, plan, code)}
        if kept:
            out[plan] = kept
    for plan, rules in now.items():
        out.setdefault(plan, {}).update(rules)
    return {plan: dict(sorted(rules.items())) for plan, rules in sorted(out.items()) if rules}


def render(counts: Counts) -> str:
    document = {
        plan: {code: {"count": n} for code, n in rules.items()} for plan, rules in counts.items()
    }
    return json.dumps(document, indent=2, sort_keys=True) + "\n"
