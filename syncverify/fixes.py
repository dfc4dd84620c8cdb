"""`syncverify check --fix [--write]`: the sync points that missing-sync findings ask for.

A missing-sync finding's `help` ends with the YAML list item to add, filled in from the rule
requirement table (rules/requirements.yaml, through `for_graph_rules.fix`), e.g.
`- {after: o_proj, collective: all_reduce, group: tp}`. `--fix` prints those items per plan;
`--write` inserts them into the plan's `sync:` list as text, so every untouched line keeps its
comments and formatting, then writes the file atomically.

Where an item goes: after the last sync point whose anchor comes before or at its own in data-flow
order (embed, the layer's ops, stage_boundary, the tail, step_end), and at the same anchor before
the gathers already there, since syncs at one anchor run in list order (S7) and a reduction or a
combine must come before the gather that reads it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from syncverify.escape import clean_line
from syncverify.findings import Finding
from syncverify.plan import BOUNDARIES, MODEL_TAIL_OPS, PHASES

FIX_CATEGORY = "missing-sync"
ITEM_LINE = re.compile(r"^\s*- (\{.*\})\s*$")
LAYER_FLOW = (
    "attn_norm",
    "qkv",
    "attention",
    "o_proj",
    "attn_residual",
    "mlp_norm",
    "gate_up",
    "down",
    "router",
    "experts",
    "shared_experts",
    "mlp_residual",
)
ANCHOR_ORDER = {
    name: i
    for i, name in enumerate(
        ("prefill_end", "embed", *LAYER_FLOW, "stage_boundary", *MODEL_TAIL_OPS, "step_end")
    )
}
GATHERS = ("all_gather", "gather", "broadcast", "barrier")
# the keys that make two sync points the same (S8), in the order items are written
IDENTITY = ("after", "collective", "group", "tensor", "role", "phases", "layers")
assert set(BOUNDARIES) <= set(ANCHOR_ORDER)


@dataclass
class SyncFix:
    """One sync point to add to a plan, and the findings that ask for it."""

    item: dict
    codes: list[str]
    phases: set[str]  # where the findings saw it missing

    @property
    def flow(self) -> str:
        """The item in flow style, as the plan's other items: {after: o_proj, ...}."""
        import yaml

        return yaml.safe_dump(
            self.item, default_flow_style=True, sort_keys=False, width=10**6
        ).strip()

    def narrow_to_phases(self, plan) -> None:
        """Run only in the phases it is missing from, when a sync of the same shape already
        runs in the others (a transfer or gather written for prefill only, say)."""
        if (
            "phases" in self.item
            or self.item["after"] in ("prefill_end", "step_end")
            or not self.phases
        ):
            return
        others = {p.name for p in plan.phases} - self.phases
        same = [
            s
            for s in plan.syncs
            if (s.after, s.collective, s.group, s.tensor)
            == tuple(self.item.get(k) for k in ("after", "collective", "group", "tensor"))
        ]
        if others and any(others <= set(s.phases) for s in same):
            self.item["phases"] = [p for p in PHASES if p in self.phases]

    def comment(self) -> str:
        return f"# syncverify --fix: {', '.join(dict.fromkeys(self.codes))}"


def fixes_in(findings: list[Finding]) -> list[SyncFix]:
    """The sync points missing-sync findings ask for, each once, in data-flow order."""
    import yaml

    found: dict[tuple, SyncFix] = {}
    for finding in findings:
        if finding.category != FIX_CATEGORY:
            continue
        for flow in _items(finding.help):
            item = yaml.safe_load(flow)
            if not isinstance(item, dict) or "after" not in item:
                continue
            if item["after"] not in LAYER_FLOW:
                item.pop("layers", None)  # `layers` selects per-layer anchors only
            phases = set((finding.where.phase or "").split(", ")) & set(PHASES)
            fix = found.setdefault(_identity(item), SyncFix(item, [], set()))
            fix.codes.append(finding.code)
            fix.phases |= phases
    return sorted(found.values(), key=lambda f: _order(f.item))


def _identity(item: dict) -> tuple:
    return tuple(repr(item.get(k)) for k in IDENTITY)


def _items(help_text: str) -> list[str]:
    return [m.group(1) for m in map(ITEM_LINE.match, help_text.splitlines()) if m]


def unfixable(findings: list[Finding]) -> list[Finding]:
    """Findings `--fix` has nothing to add for."""
    return [f for f in findings if f.category != FIX_CATEGORY or not _items(f.help)]


# ------------------------------------------------------------------------ the text edit


class CannotInsert(Exception):
    """The plan's `sync:` list is written in a form text insertion cannot extend."""


def insert_syncs(text: str, plan, fixes: list[SyncFix]) -> str:
    """`text` with each fix inserted as a `- {...}` line into the `sync:` list."""
    lines = text.split("\n")  # splitlines would also split at U+2028, NEL, form feeds
    lines = [line + "\n" for line in lines[:-1]] + ([lines[-1] + "\n"] if lines[-1] else [])
    edited = "".join(
        _into_block_list(lines, plan, fixes) if plan.syncs else _into_empty_list(lines, plan, fixes)
    )
    if "\r\n" in text:  # a CRLF file: the inserted lines end as its lines do
        edited = edited.replace("\r\n", "\n").replace("\n", "\r\n")
    return edited


def _into_block_list(lines: list[str], plan, fixes: list[SyncFix]) -> list[str]:
    starts = [_item_start(lines, plan, i) for i in range(len(plan.syncs))]
    dash = starts[0][1]
    placed: dict[int, list[str]] = {}  # line index -> new lines to put before it
    for fix in sorted(fixes, key=lambda f: _order(f.item)):
        k = _last_before(plan.syncs, fix.item)
        if k + 1 < len(starts):
            at = _with_leading_comments(lines, starts[k + 1][0])
        else:
            at = _item_end(lines, starts[-1][0], dash) + 1
        placed.setdefault(at, []).append(f"{' ' * dash}- {fix.flow}  {fix.comment()}\n")
    out = []
    for index in range(len(lines) + 1):
        out += placed.get(index, [])
        if index < len(lines):
            out.append(lines[index])
    return out


def _item_start(lines: list[str], plan, index: int) -> tuple[int, int]:
    """(0-based line, column of the dash) of sync item `index`."""
    span = plan.span(("sync", index))
    line = span.line - 1
    before = lines[line][: span.column - 1].rstrip()
    if not before.endswith("-"):
        raise CannotInsert("the sync list is written in flow style ([...])")
    return line, len(before) - 1


def _with_leading_comments(lines: list[str], start: int) -> int:
    """The first line of the comment block directly above `start` (comments belong below)."""
    while start > 0 and lines[start - 1].strip().startswith("#"):
        start -= 1
    return start


def _item_end(lines: list[str], start: int, dash: int) -> int:
    """The last line of the item starting at `start`: its more-indented continuation lines."""
    end = start
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if not stripped:
            continue
        if len(lines[i]) - len(lines[i].lstrip()) <= dash:
            break
        end = i
    return end


def _into_empty_list(lines: list[str], plan, fixes: list[SyncFix]) -> list[str]:
    """`sync: []`, `sync:` with nothing under it, or no `sync:` key at all."""
    items = [f"  - {f.flow}  {f.comment()}\n" for f in sorted(fixes, key=lambda f: _order(f.item))]
    key = plan.spans.get(("@key", "sync"))
    if key is None:
        return lines + ["sync:\n"] + items
    line = key.line - 1
    head = lines[line]
    colon = head.index(":", key.column - 1)
    rest = head[colon + 1 :]
    if rest.split("#")[0].strip() not in ("", "[]", "null", "~"):
        raise CannotInsert("the sync list is written in flow style ([...])")
    indent = " " * (key.column - 1)
    items = [indent + item for item in items]
    return lines[:line] + [head[: colon + 1] + "\n"] + items + lines[line + 1 :]


def _order(item: dict) -> tuple:
    rank = ANCHOR_ORDER.get(item.get("after", ""), len(ANCHOR_ORDER))  # "" names no anchor
    return rank, 1 if item.get("collective") in GATHERS else 0


def _last_before(syncs, item: dict) -> int:
    """Index of the last existing sync the new item goes after (-1: before them all)."""
    new = _order(item)
    last = -1
    for sync in syncs:
        if _order({"after": sync.after, "collective": sync.collective}) <= new:
            last = sync.index
    return last


# ------------------------------------------------------------------------ rounds


@dataclass
class Repair:
    """What `--fix` does to one plan: the sync points added and the text with them."""

    file: str
    text: str  # the plan as checked
    fixed: str  # the plan with the sync points inserted
    added: list[SyncFix]
    problem: str = ""  # why the text could not be edited ("" when it could)


def repair(
    file: str, text: str, findings: list[Finding], recheck: Callable, *, rounds: int = 12
) -> Repair:
    """Add the sync points the findings ask for, checking again until none is missing.

    Each round first adds every pending sync point; if the check then finds an error that is
    not a missing sync (a reduction counted twice: one missing sync can look like several
    downstream, S19), it adds only those at the earliest anchor in data-flow order instead.
    `recheck(file, text)` returns the findings of a plan text.
    """
    from syncverify.findings import PlanError
    from syncverify.loader import load_plan

    result = Repair(file, text, text, [])
    pending = fixes_in(findings)
    try:
        for _ in range(rounds):
            if not pending:
                break
            plan = load_plan(file, text=result.fixed)
            for fix in pending:
                fix.narrow_to_phases(plan)
            text_all = insert_syncs(result.fixed, plan, pending)
            now, after = pending, recheck(file, text_all)
            if _new_errors(after, findings):
                first = _order(pending[0].item)[0]
                now = [f for f in pending if _order(f.item)[0] == first]
                text_all = insert_syncs(result.fixed, plan, now)
                after = recheck(file, text_all)
            result.fixed, findings = text_all, after
            result.added += now
            added = {_identity(f.item) for f in result.added}
            pending = [f for f in fixes_in(findings) if _identity(f.item) not in added]
    except (CannotInsert, PlanError) as exc:
        result.problem = (
            str(exc) if isinstance(exc, CannotInsert) else "the edited plan does not load"
        )
        result.added += pending
    return result


def _new_errors(after: list[Finding], before: list[Finding]) -> bool:
    seen = {(f.code, f.message) for f in before}
    return any(
        f.severity == "error" and f.category != FIX_CATEGORY and (f.code, f.message) not in seen
        for f in after
    )


def repairs(report, recheck: Callable) -> list[Repair]:
    """A Repair for every checked plan with a sync point to add."""
    by_file: dict[str, list[Finding]] = {}
    for finding in report.findings:
        by_file.setdefault(finding.file, []).append(finding)
    out = []
    for file, findings in sorted(by_file.items()):
        if fixes_in(findings) and report.sources.get(file) is not None:
            out.append(repair(file, report.sources[file], findings, recheck))
    return out


# ------------------------------------------------------------------------ the command side


def show(report, recheck: Callable, out, err) -> None:
    """`--fix`: print, per plan, the sync points to add, as YAML list items."""
    for fixed in repairs(report, recheck):
        count = f"{len(fixed.added)} sync point{'s' if len(fixed.added) != 1 else ''}"
        out.write(
            f"# {clean_line(fixed.file)}: add to `sync:` ({count}; `--fix --write` inserts them)\n"
        )
        for fix in fixed.added:
            out.write(f"- {fix.flow}  # {', '.join(dict.fromkeys(fix.codes))}\n")
        if fixed.problem:
            err.write(f"syncverify: {clean_line(fixed.file)}: {fixed.problem}\n")
    _tell_rest(report, err)


def write(report, recheck: Callable, err) -> list[str]:
    """`--fix --write`: insert the sync points into each plan file, atomically; returns the
    files written. A plan that changed since it was read, or whose edit fails, is left as is."""
    from syncverify.atomic import write_text_atomically

    written = []
    for fixed in repairs(report, recheck):
        try:
            if fixed.problem:
                raise CannotInsert(fixed.problem)
            now = _read(fixed.file)
            bom = "\ufeff" if now.startswith("\ufeff") else ""  # the loader reads past a BOM
            if now[len(bom) :] != fixed.text:
                raise CannotInsert("it changed since it was checked")
            write_text_atomically(fixed.file, bom + fixed.fixed)
        except (CannotInsert, OSError) as exc:
            reason = exc.strerror or str(exc) if isinstance(exc, OSError) else str(exc)
            err.write(
                f"syncverify: error: {clean_line(fixed.file)}: not changed: {reason}; add these "
                f"by hand:\n" + "".join(f"  - {f.flow}\n" for f in fixed.added)
            )
            continue
        written.append(fixed.file)
        err.write(
            f"syncverify: {clean_line(fixed.file)}: added {len(fixed.added)} sync point"
            f"{'s' if len(fixed.added) != 1 else ''}\n"
        )
    _tell_rest(report, err)
    return written


def _read(file: str) -> str:
    with open(file, encoding="utf-8", newline="") as handle:
        return handle.read()


def _tell_rest(report, err) -> None:
    rest = unfixable(report.findings)
    if rest:
        err.write(
            f"syncverify: {len(rest)} finding{'s' if len(rest) != 1 else ''} "
            f"{'have' if len(rest) != 1 else 'has'} no sync point to add "
            f"(run without --fix to see them)\n"
        )
    if report.problems:
        err.write(
            f"syncverify: {len(report.unusable_files())} plan(s) could not be checked "
            f"(run without --fix to see why)\n"
        )
