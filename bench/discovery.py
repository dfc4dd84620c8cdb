"""What finding the plans of a repository costs: a folder walk with the plan-key scan and the
default excludes, on a generated repository (plans, Kubernetes manifests, a node_modules tree).

    python bench/discovery.py                     # 200 plans, 200 manifests, 5,000 vendored
    python bench/discovery.py --plans 2000 --vendored 50000

Prints the files found and skipped, the wall time of plan_files() with exclusions (median of
--repeat runs), and the scan time of one 1 MB file without a `syncverify:` key (the bound).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from syncverify.config import Configurations, Settings
from syncverify.discovery import SCAN_BYTES, may_be_plan, plan_files

PLAN = "syncverify: 1\nname: p\n"
MANIFEST = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n" * 20


def repository(root: Path, plans: int, manifests: int, vendored: int) -> None:
    for i in range(plans):
        path = root / "plans" / f"g{i % 20}" / f"p{i}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PLAN)
    for i in range(manifests):
        path = root / "deploy" / f"m{i}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(MANIFEST)
    for i in range(vendored):
        path = root / "node_modules" / f"pkg{i % 100}" / f"f{i}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(PLAN)


def median_seconds(action, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--manifests", type=int, default=200)
    parser.add_argument("--vendored", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        repository(root, args.plans, args.manifests, args.vendored)
        layers = Configurations(Settings(), isolated=True, cwd=root)
        run = plan_files([str(root)], excluded=layers.excluded)
        print(f"found {len(run.files)} plans, skipped {len(run.skipped)} files and folders")
        seconds = median_seconds(
            lambda: plan_files([str(root)], excluded=layers.excluded), args.repeat
        )
        print(f"plan_files over the repository: {seconds * 1000:.1f} ms (median of {args.repeat})")
        big = root / "big.yaml"
        big.write_bytes(b"kind: ConfigMap\n" * (SCAN_BYTES // 16))
        seconds = median_seconds(lambda: may_be_plan(big), args.repeat)
        print(f"plan-key scan of a {big.stat().st_size:,}-byte manifest: {seconds * 1000:.2f} ms")


if __name__ == "__main__":
    main()
