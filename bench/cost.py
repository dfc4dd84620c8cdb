#!/usr/bin/env python3
"""The cost model (syncverify.budget) on growing plans: time and peak memory of one check.

Usage: python3 bench/cost.py [--quick]

Each family grows one number of a small plan (tests/hostile_inputs.SMALL) and checks it the
way a user does, `python -m syncverify check --isolated -f concise PLAN` in a fresh interpreter
(start-up included), printing wall and CPU seconds, the child's peak RSS, the exit code, the
budget's estimate (DAG nodes, chained sync pairs) and what happened: checked, or refused (SV014)
and by which cap. The goal of issue 11: every row within 2 s and 300 MB, growing near-linearly until
the budget refuses it, quickly.

- sync points, spread: n barriers over tp or pp after the 13 anchors in turn (10 to 10,000);
- sync points, one anchor: n barriers after `sample`, issued back to back (10 to 10,000);
- broadcasts, one anchor: n broadcasts after `embed`, back to back, each moving the value
  (the redundancy check's one remaining pairwise term: the chained sync pairs);
- selectors: dp 65,536 (the attack's) or 1,024 with n gathers over dp, each naming one replica;
- pp: 1 to 128 pipeline stages of a 128-layer model, 2 microbatches.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.hostile_inputs import SMALL  # noqa: E402

ANCHORS = (
    "embed",
    "attn_norm",
    "qkv",
    "attention",
    "o_proj",
    "attn_residual",
    "mlp_norm",
    "gate_up",
    "down",
    "mlp_residual",
    "final_norm",
    "lm_head",
    "sample",
)


def spread_syncs(count: int) -> str:
    return SMALL + "".join(
        f"  - {{after: {ANCHORS[i % len(ANCHORS)]}, collective: barrier, "
        f"group: {'pp' if i % 3 == 0 else 'tp'}}}\n"
        for i in range(count)
    )


def chained_syncs(count: int) -> str:
    return SMALL + "  - {after: sample, collective: barrier, group: tp}\n" * count


def chained_broadcasts(count: int) -> str:
    return SMALL + "  - {after: embed, collective: broadcast, group: tp}\n" * count


def selectors(count: int, dp: int = 65536) -> str:
    text = SMALL.replace("parallel: {tp: 2, pp: 2}", f"parallel: {{tp: 1, pp: 1, dp: {dp}}}")
    return text + "".join(
        f"  - {{after: sample, collective: gather, group: dp, ranks: {{dp: [{i}]}}}}\n"
        for i in range(count)
    )


def stages(pp: int) -> str:
    return SMALL.replace("layers: 4,", "layers: 128,").replace("tp: 2, pp: 2", f"tp: 2, pp: {pp}")


FAMILIES = {
    "sync points, spread": (spread_syncs, [10, 30, 100, 300, 1000, 3000, 10000]),
    "sync points, one anchor": (chained_syncs, [10, 30, 100, 300, 600, 1000, 10000]),
    "broadcasts, one anchor": (chained_broadcasts, [10, 30, 100, 200, 300, 1000]),
    "selectors (dp 65,536)": (selectors, [10, 100, 1000, 4000]),
    "selectors (dp 1,024)": (lambda n: selectors(n, 1024), [1, 3, 10, 30, 100, 300, 1000]),
    "pp (128 layers)": (stages, [1, 2, 4, 8, 16, 32, 64, 128]),
}
QUICK = {
    "sync points, spread": [10, 100, 1000],
    "sync points, one anchor": [10, 100, 1000],
    "broadcasts, one anchor": [10, 100, 300],
    "selectors (dp 65,536)": [10, 1000],
    "selectors (dp 1,024)": [1, 10, 100],
    "pp (128 layers)": [1, 8, 64],
}


def budget_figures(path: Path) -> tuple[str, str]:
    """The estimate the budget makes of a plan: DAG nodes and chained sync pairs."""
    from syncverify.budget import estimate
    from syncverify.findings import PlanError
    from syncverify.loader import load_plan

    try:
        found = estimate(load_plan(str(path)))
    except PlanError as exc:
        return "-", f"load: {exc.problems[0].code}"
    return f"{sum(e.nodes for e in found):,}", f"{sum(e.sync_pairs for e in found):,}"


def measure(path: Path) -> tuple[float, float, float, int, str]:
    """Wall and CPU seconds (user + system: what a busy machine does not inflate), peak RSS in
    MB (GNU time's %M), exit code and what happened, of one check."""
    with tempfile.NamedTemporaryFile("r", suffix=".time") as times:
        start = time.perf_counter()
        child = subprocess.run(
            [
                "/usr/bin/time",
                "-o",
                times.name,
                "-f",
                "%U %S %M",
                sys.executable,
                "-m",
                "syncverify",
                "check",
                "--isolated",
                "-f",
                "concise",
                str(path),
            ],
            capture_output=True,
            text=True,
            cwd=path.parent,
        )
        wall = time.perf_counter() - start
        user, system, peak_kb = times.read().split()[-3:]
    refused = next(
        (
            line
            for line in (child.stdout + child.stderr).splitlines()
            if "SV014" in line or "SV011" in line
        ),
        "",
    )
    what = "checked" if child.returncode in (0, 1) else "refused: " + _gist(refused)
    return wall, float(user) + float(system), int(peak_kb) / 1024, child.returncode, what


def _gist(line: str) -> str:
    for words in (
        "DAG nodes",
        "DAG edges",
        "vector-clock",
        "pairs of blocking",
        "rank walks",
        "ranks",
        "values",
    ):
        if words in line:
            return words
    return line[-60:] if line else "?"


def run_one(family: str, make, n: int, folder: Path) -> str:
    path = folder / f"{family.split()[0]}-{n}.yaml"
    path.write_text(make(n))
    nodes, pairs = budget_figures(path)
    wall, cpu, peak, code, what = measure(path)
    return (
        f"| {family} | {n:,} | {nodes} | {pairs} | {wall:.2f} | {cpu:.2f} | {peak:.0f} | "
        f"{code} | {what} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three sizes per family")
    args = parser.parse_args()
    print(
        "| family | n | estimated nodes | chained sync pairs | wall s | CPU s | peak MB | exit "
        "| outcome |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for family, (make, sizes) in FAMILIES.items():
            for n in QUICK[family] if args.quick else sizes:
                print(run_one(family, make, n, Path(tmp)), flush=True)


if __name__ == "__main__":
    main()
