#!/usr/bin/env python3
"""How the check scales: plans from 8 to 16,384 GPUs, 8 to 128 layers, 1 to 64 microbatches.

Usage: python3 bench/scale.py [--runs N] [--exhaustive-cap NODES] [--quick]

Generates correct plans with `syncverify init` (the real DeepSeek-V3 and Llama-3.1-405B configs
from plans/models, and a Llama-shaped model with 8 to 128 layers), adds the shipped plans, and
checks each the way a user does: `python -m syncverify check --format json PLAN` in a fresh
interpreter, interpreter start included. For each plan it prints, in reduced mode (the default)
and, when the full unroll is estimated under --exhaustive-cap DAG nodes, in --exhaustive mode:
wall time (median of --runs), peak memory (the child's max RSS), DAG nodes and edges, and
whether both modes give byte-identical findings. Then the targets of issue #5 and whether the
table meets them.

Bytecode caching is on in the children (as after `pip install`); the first run of each plan
warms it and is not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODELS = ROOT / "plans" / "models"
GRAPH_SIZE = """
import sys
from syncverify.analysis import run_analyses
from syncverify.loader import load_plan
graph = run_analyses(load_plan(sys.argv[1]), reduce=sys.argv[2] == "reduced").graph
print(graph.number_of_nodes(), graph.number_of_edges())
"""


@dataclass
class Row:
    family: str
    name: str
    path: Path
    gpus: int = 0
    layers: int = 0
    microbatches: int = 0
    modes: dict = field(default_factory=dict)  # mode -> Measured or a reason it was not run


@dataclass
class Measured:
    wall: float
    cpu: float  # user + system seconds: what the run costs whatever else runs
    peak_mb: float
    nodes: int
    edges: int
    output: str


def child_env() -> dict:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def run_child(argv: list[str]) -> str:
    """The stdout of one child process (exit code 0 or 1: findings are not a failure)."""
    proc = subprocess.run(argv, capture_output=True, env=child_env())
    if proc.returncode not in (0, 1):
        raise RuntimeError(
            f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.decode()[-2000:]}"
        )
    return proc.stdout.decode()


def measure(path: Path, mode: str, runs: int) -> Measured:
    check = [
        sys.executable,
        "-m",
        "syncverify",
        "check",
        "--format",
        "json",
        "--isolated",
        str(path),
    ]
    if mode == "exhaustive":
        check.append("--exhaustive")
    run_child(check)  # warm the bytecode cache
    walls, cpus, peaks, output = [], [], [], ""
    for _ in range(runs):
        wall, cpu, peak, output = measure_peak(check)
        walls.append(wall)
        cpus.append(cpu)
        peaks.append(peak)
    sizes = run_child([sys.executable, "-c", GRAPH_SIZE, str(path), mode])
    nodes, edges = (int(x) for x in sizes.split())
    return Measured(
        statistics.median(walls), statistics.median(cpus), max(peaks), nodes, edges, output
    )


def measure_peak(argv: list[str]) -> tuple[float, float, float, str]:
    """One run's wall time, CPU time and peak RSS (os.wait4 reports the child alone)."""
    start = time.perf_counter()
    proc = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=child_env()
    )
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {code}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.decode()


def estimated_exhaustive_nodes(path: Path) -> int:
    sys.path.insert(0, str(ROOT))
    from syncverify.budget import estimate
    from syncverify.loader import load_plan

    return sum(e.nodes for e in estimate(load_plan(str(path)), exhaustive=True))


def init_plan(out: Path, hf: Path, **layout) -> Path:
    argv = [sys.executable, "-m", "syncverify", "init", "--hf", str(hf), "--output", str(out)]
    for key, value in layout.items():
        argv += [f"--{key.replace('_', '-')}", str(value)]
    run_child(argv)
    return out


def llama_with_layers(tmp: Path, layers: int) -> Path:
    config = json.loads((MODELS / "Llama-3.1-405B.json").read_text())
    config["num_hidden_layers"] = layers
    path = tmp / f"llama-{layers}-layers.json"
    path.write_text(json.dumps(config))
    return path


def plans(tmp: Path, quick: bool) -> list[Row]:
    deepseek, llama = MODELS / "DeepSeek-V3.json", MODELS / "Llama-3.1-405B.json"
    rows = []
    worlds = [8, 16, 64, 256, 1024, 4096, 16384] if not quick else [16, 1024]
    for world in worlds:
        path = init_plan(
            tmp / f"deepseek-dp{world}.yaml",
            deepseek,
            dp=world,
            ep=min(world, 32),
            overlap="two_batch",
            microbatches=2,
            nodes=max(world // 8, 1),
            gpus_per_node=min(world, 8),
        )
        rows.append(Row("world: DeepSeek-V3, DP attention + EP32", path.name, path, world, 61, 2))
    for world in [w for w in worlds if w >= 16]:
        path = init_plan(
            tmp / f"llama405b-tp8-pp2-dp{world // 16}.yaml",
            llama,
            tp=8,
            pp=2,
            dp=world // 16,
            microbatches=2,
            nodes=world // 8,
            gpus_per_node=8,
        )
        rows.append(Row("world: Llama-3.1-405B, TP8 x PP2 x DP", path.name, path, world, 126, 2))
    for layers in [8, 32, 128] if not quick else [8, 128]:
        path = init_plan(
            tmp / f"llama-{layers}-layers-tp8-pp2-dp4.yaml",
            llama_with_layers(tmp, layers),
            tp=8,
            pp=2,
            dp=4,
            microbatches=2,
        )
        rows.append(Row("layers: Llama-shaped, TP8 x PP2 x DP4", path.name, path, 64, layers, 2))
    for mbs in [1, 8, 64] if not quick else [1, 64]:
        path = init_plan(
            tmp / f"llama405b-tp8-pp4-mb{mbs}.yaml", llama, tp=8, pp=4, microbatches=mbs
        )
        rows.append(Row("microbatches: Llama-3.1-405B, TP8 x PP4", path.name, path, 32, 126, mbs))
    for name, gpus, layers, mbs in [
        ("deepseek-v3-1024gpu-dp-ep.yaml", 1024, 61, 2),
        ("llama-3.1-405b-tp8-pp4.yaml", 32, 126, 4),
        ("llama-3.1-70b-tp8-pp2.yaml", 16, 80, 2),
    ]:
        rows.append(Row("shipped plans", name, ROOT / "plans" / name, gpus, layers, mbs))
    return rows


def run(rows: list[Row], runs: int, cap: int) -> None:
    for row in rows:
        print(f"  {row.name} ...", file=sys.stderr, flush=True)
        row.modes["reduced"] = measure(row.path, "reduced", runs)
        estimate = estimated_exhaustive_nodes(row.path)
        if estimate <= cap:
            row.modes["exhaustive"] = measure(row.path, "exhaustive", 1)
        else:
            row.modes["exhaustive"] = f"not run: ~{estimate:,} nodes estimated (cap {cap:,})"


def table(rows: list[Row]) -> str:
    lines = [
        "| family | plan | GPUs | layers | mbs | reduced s (CPU s) | peak MB | nodes | edges "
        "| exhaustive s (CPU s) | peak MB | nodes | edges | speed-up | same findings |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        r, e = row.modes["reduced"], row.modes["exhaustive"]
        cells = [
            row.family,
            row.name,
            f"{row.gpus:,}",
            str(row.layers),
            str(row.microbatches),
            f"{r.wall:.2f} ({r.cpu:.2f})",
            f"{r.peak_mb:.0f}",
            f"{r.nodes:,}",
            f"{r.edges:,}",
        ]
        if isinstance(e, Measured):
            same = "yes" if e.output == r.output else "NO"
            cells += [
                f"{e.wall:.2f} ({e.cpu:.2f})",
                f"{e.peak_mb:.0f}",
                f"{e.nodes:,}",
                f"{e.edges:,}",
                f"{e.wall / r.wall:.1f}x",
                same,
            ]
        else:
            cells += [e, "", "", "", "", ""]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


STARTUP_RUNS = 21  # one run varies by +-15% on these machines: many, in turns


def startup(plan: Path) -> dict[str, tuple[float, float]]:
    """(wall, CPU) of `syncverify check PLAN` as a user types it (default format, its
    configuration looked up) and of the interpreter importing the runtime dependencies, each
    as the median and as the fastest of STARTUP_RUNS runs; the two run in turns so that a change
    in the machine's load hits both alike."""
    base = [sys.executable, "-c", "import networkx, yaml, click, rich.console"]
    check = [sys.executable, "-m", "syncverify", "check", str(plan)]
    run_child(base)
    run_child(check)
    turns = [(measure_peak(check), measure_peak(base)) for _ in range(STARTUP_RUNS)]
    out = {}
    for name, pick in (("median", statistics.median), ("fastest", min)):
        for side, runs_of_one in (
            ("check", [c for c, _ in turns]),
            ("base", [b for _, b in turns]),
        ):
            out[f"{side} {name}"] = (
                pick(r[0] for r in runs_of_one),
                pick(r[1] for r in runs_of_one),
            )
    return out


def targets(rows: list[Row], runs: int) -> list[str]:
    by_name = {row.name: row for row in rows}
    out = []
    ds = by_name.get("deepseek-v3-1024gpu-dp-ep.yaml")
    if ds:
        wall, cpu = ds.modes["reduced"].wall, ds.modes["reduced"].cpu
        out.append(
            f"DeepSeek-V3 on 1,024 GPUs: {wall:.2f} s wall, {cpu:.2f} s CPU (target <= 1.0 s): "
            f"{'met' if wall <= 1.0 else 'missed'}"
        )
    for family in sorted({row.family for row in rows if row.family.startswith("world")}):
        series = {row.gpus: row.modes["reduced"] for row in rows if row.family == family}
        if 16 in series and 16384 in series:
            ratio = series[16384].wall / series[16].wall
            cpu_ratio = series[16384].cpu / series[16].cpu
            out.append(
                f"{family}: time at 16,384 / 16 GPUs = {ratio:.2f} wall, {cpu_ratio:.2f} CPU "
                f"(target <= 1.5): {'met' if max(ratio, cpu_ratio) <= 1.5 else 'missed'}"
            )
    peak = max(row.modes["reduced"].peak_mb for row in rows)
    out.append(
        f"peak memory in reduced mode: {peak:.0f} MB (target <= 200 MB): "
        f"{'met' if peak <= 200 else 'missed'}"
    )
    exhaustive = [
        (row.modes["exhaustive"], row)
        for row in rows
        if isinstance(row.modes["exhaustive"], Measured)
    ]
    if exhaustive:
        sized = [(e, r) for e, r in exhaustive if e.nodes > 2000]
        per_node = statistics.median(e.wall / e.nodes for e, _ in sized)
        cpu_per_node = sorted(e.cpu / e.nodes * 1e6 for e, _ in sized)
        out.append(
            f"--exhaustive: {per_node * 1e6:.0f} us wall per DAG node (median); CPU per node "
            f"{cpu_per_node[0]:.0f}-{cpu_per_node[-1]:.0f} us over {len(sized)} plans of "
            f"{min(e.nodes for e, _ in sized):,}-{max(e.nodes for e, _ in sized):,} nodes "
            f"(linear in DAG size); different findings on "
            f"{sum(e.output != r.modes['reduced'].output for e, r in exhaustive)} "
            f"of {len(exhaustive)} plans"
        )
        if ds and not isinstance(ds.modes["exhaustive"], Measured):
            nodes = estimated_exhaustive_nodes(ds.path)
            ratio = nodes * per_node / ds.modes["reduced"].wall
            out.append(
                f"DeepSeek-V3 on 1,024 GPUs exhaustive: ~{nodes:,} nodes, "
                f"~{nodes * per_node:,.0f} s "
                f"at that rate (over the SV014 cap, not run): reduced is ~{ratio:,.0f}x faster"
            )
    seventy = by_name.get("llama-3.1-70b-tp8-pp2.yaml")
    if seventy:
        times = startup(seventy.path)
        for name in ("median", "fastest"):
            (wall, cpu), (base_wall, base_cpu) = times[f"check {name}"], times[f"base {name}"]
            ratio, cpu_ratio = wall / base_wall, cpu / base_cpu
            out.append(
                f"`syncverify check` of the Llama-3.1-70B example, {name} of {STARTUP_RUNS}: "
                f"{wall:.3f} s wall, {cpu:.3f} s CPU / import of networkx, yaml, click, "
                f"rich.console {base_wall:.3f} s wall, {base_cpu:.3f} s CPU = {ratio:.2f} wall, "
                f"{cpu_ratio:.2f} CPU (target <= 1.5): "
                f"{'met' if max(ratio, cpu_ratio) <= 1.5 else 'missed'}"
            )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs per plan in reduced mode")
    parser.add_argument(
        "--exhaustive-cap",
        type=int,
        default=150_000,
        help="run --exhaustive only under this many estimated DAG nodes",
    )
    parser.add_argument("--quick", action="store_true", help="a few rows only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = plans(Path(tmp), args.quick)
        run(rows, args.runs, args.exhaustive_cap)
        print(
            f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
            f"load average {os.getloadavg()[0]:.2f}"
        )
        print(table(rows))
        print()
        for line in targets(rows, args.runs):
            print("- " + line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
