#!/usr/bin/env python3
"""Mutation testing of the checker's verdicts on every correct plan in plans/.

Usage: python3 bench/mutation.py [--jobs N] [--operator NAME] [PLAN ...]   (default: plans/*.yaml)

Each plan gets every single mutation of tests/mutants.py (remove a sync point, make it async
with no wait, move its wait past its consumer, change its group, restrict it to some ranks,
repeat a reduction, SP in decode, overlapping decode steps, idle DP replicas that skip, a degree
or the stage split perturbed). A mutant is killed when the checker reports an error of the
category its operator breaks. Mutants that are no defect under S1-S23 (equivalent mutants) are
decided from the contract, not from the checker, listed with the reason, and not counted; the
checker is still run on them and any error it reports there is listed as a false alarm.

Prints: the findings on the originals, the kill rate per operator, the equivalent mutants by
reason, and every survivor with the findings it got.
"""

from __future__ import annotations

import argparse
import collections
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def load_yaml(path: Path) -> dict:
    """The plan as data, its hf_config made absolute so that mutants load from text."""
    import yaml

    data = yaml.safe_load(path.read_text())
    model = data.get("model")
    if isinstance(model, dict) and "hf_config" in model:
        model["hf_config"] = str((path.parent / model["hf_config"]).resolve())
    return data


def verdict(data: dict) -> list:
    """The checker's findings on a plan given as data (load problems included)."""
    import yaml

    from syncverify.engine import check_plan
    from syncverify.findings import PlanError
    from syncverify.loader import load_plan

    try:
        return check_plan(load_plan("mutant.yaml", text=yaml.safe_dump(data, sort_keys=False)))
    except PlanError as error:
        return error.problems


def run_plan(job: tuple[str, tuple]) -> dict:
    """Every mutant of one plan: its originals' findings and one row per mutant."""
    from syncverify.loader import load_plan
    from tests.mutants import mutants

    path, operators = Path(job[0]), job[1]
    data = load_yaml(path)
    plan = load_plan(path)
    rows = []
    for mutant in mutants(data, plan):
        if operators and mutant.operator not in operators:
            continue
        start = time.perf_counter()
        found = verdict(mutant.plan)
        rows.append(
            {
                "operator": mutant.operator,
                "label": mutant.label,
                "equivalent": mutant.equivalent,
                "killers": sorted({f.code for f in mutant.killed_by(found)}),
                "errors": sorted(
                    {f"{f.code} {f.category}" for f in found if f.severity == "error"}
                ),
                "others": sorted(
                    {f"{f.code} {f.severity}" for f in found if f.severity != "error"}
                ),
                "seconds": time.perf_counter() - start,
            }
        )
    original = verdict(data)
    return {
        "plan": path.name,
        "original": [f"{f.line}:{f.column} {f.severity} {f.code} {f.message}" for f in original],
        "original_errors": sum(f.severity == "error" for f in original),
        "rows": rows,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("plans", nargs="*", type=Path)
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--operator", action="append", help="only this operator (repeatable)")
    options = parser.parse_args()
    plans = options.plans or sorted((ROOT / "plans").glob("*.yaml"))
    jobs = [(str(p), tuple(options.operator or ())) for p in plans]
    start = time.perf_counter()
    if options.jobs > 1:
        with multiprocessing.get_context("spawn").Pool(options.jobs) as pool:
            results = pool.map(run_plan, jobs, chunksize=1)
    else:
        results = [run_plan(job) for job in jobs]
    report(results, time.perf_counter() - start)
    survivors = [
        r for res in results for r in res["rows"] if not r["equivalent"] and not r["killers"]
    ]
    return 1 if survivors or any(res["original_errors"] for res in results) else 0


def report(results: list, seconds: float) -> None:
    print(f"## Findings on the originals ({len(results)} plans)\n")
    for res in results:
        found = res["original"]
        print(f"- {res['plan']}: " + ("no findings" if not found else f"{len(found)} finding(s)"))
        for line in found:
            print(f"    {line}")
    table = collections.OrderedDict()
    for res in results:
        for row in res["rows"]:
            counts = table.setdefault(row["operator"], collections.Counter())
            counts["mutants"] += 1
            if row["equivalent"]:
                counts["equivalent"] += 1
            elif row["killers"]:
                counts["killed"] += 1
            else:
                counts["survived"] += 1
    total = collections.Counter()
    print("\n## Kill rate per operator\n")
    print("| operator | mutants | equivalent | killed | survived | kill rate |")
    print("|---|---:|---:|---:|---:|---:|")
    for operator, c in table.items():
        total.update(c)
        print(
            f"| {operator} | {c['mutants']} | {c['equivalent']} | {c['killed']} | "
            f"{c['survived']} | "
            f"{_rate(c)} |"
        )
    print(
        f"| all | {total['mutants']} | {total['equivalent']} | {total['killed']} | "
        f"{total['survived']} | "
        f"{_rate(total)} |"
    )
    print(f"\n{total['mutants']} mutants of {len(results)} plans checked in {seconds:.0f} s")
    reasons = collections.defaultdict(list)
    alarms = []
    for res in results:
        for row in res["rows"]:
            if row["equivalent"]:
                reasons[(row["operator"], _reason_class(row["equivalent"]))].append(
                    f"{res['plan']}: {row['label']}"
                )
                if row["errors"]:
                    alarms.append((res["plan"], row))
    print("\n## Equivalent mutants (no defect under S1-S23; not counted)\n")
    for (operator, reason), labels in sorted(reasons.items()):
        print(f"- {operator}: {reason} ({len(labels)}), e.g. {labels[0]}")
    print("\n## Errors the checker reports on equivalent mutants (false alarms)\n")
    for plan, row in alarms:
        print(
            f"- {plan}: {row['label']}: {', '.join(row['errors'])} -- "
            f"equivalent because {row['equivalent']}"
        )
    if not alarms:
        print("none")
    print("\n## Survivors (defects the checker missed)\n")
    any_survivor = False
    for res in results:
        for row in res["rows"]:
            if not row["equivalent"] and not row["killers"]:
                any_survivor = True
                got = ", ".join(row["errors"] + row["others"]) or "no findings"
                print(f"- {res['plan']}: {row['operator']}: {row['label']}: got {got}")
    if not any_survivor:
        print("none")
    slowest = max(
        ((row["seconds"], res["plan"], row["label"]) for res in results for row in res["rows"]),
        default=(0, "", ""),
    )
    print(f"\nslowest mutant: {slowest[0]:.2f} s ({slowest[1]}: {slowest[2]})")


def _rate(c) -> str:
    counted = c["mutants"] - c["equivalent"]
    return f"{100 * c['killed'] / counted:.1f}%" if counted else "n/a"


def _reason_class(reason: str) -> str:
    """The reason without the per-mutant details (degrees, axes), to group equivalents."""
    return (
        reason.split(":")[0]
        + ": "
        + reason.split(":", 1)[1].split(" for ")[0].split(" here")[0].strip()
        if ":" in reason
        else reason
    )


if __name__ == "__main__":
    sys.exit(main())
