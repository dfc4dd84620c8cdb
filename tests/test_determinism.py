"""The same input gives byte-identical output: every report format (report.FORMATS), the DAG
pictures, the timeline, the executor (`simulate`) and `init`, across runs with different
PYTHONHASHSEED values (set and dict orders), with -j 2 as with one process; findings come sorted.

The plans have findings of every kind: rule fixtures (tests/rules/*/bad.yaml) of each category,
small plans with graph findings (a missing reduction, a split group that hangs) and an unusable
one (a load problem)."""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from syncverify.report import FORMATS
from tests.hostile_inputs import SMALL

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ("0", "4242")
# rule fixtures with findings of every category: config, shape, missing-sync (a race), phase-
# illegal, ordering (a hang), performance
FIXTURES = ("SV101", "SV201", "SV310", "SV501", "SV601", "SV702")
GRAPH_PLANS = {
    "missing-reduction.yaml": SMALL.replace(
        "  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}\n", ""
    ),
    "split-group.yaml": SMALL.replace(
        "group: tp}\n  - {id: mlp-ar", "group: tp, ranks: {tp: 0}}\n  - {id: mlp-ar"
    ),
    "unusable.yaml": SMALL.replace("tp: 2,", "tp: 2, pipline: 2,"),
}


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    path = tmp_path_factory.mktemp("determinism")
    for name, text in GRAPH_PLANS.items():
        (path / name).write_text(text)
    return path


def syncverify(args, seed: str, cwd: Path) -> bytes:
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "SYNCVERIFY_OUTPUT_FORMAT",
            "SYNCVERIFY_RAISE",
            "PYTEST_CURRENT_TEST",
            "GITHUB_ACTIONS",
            "GITHUB_WORKFLOW",
            "FORCE_COLOR",
            "NO_COLOR",
        )
    }
    env.update(PYTHONHASHSEED=seed, COLUMNS="100")
    proc = subprocess.run(
        [sys.executable, "-m", "syncverify", *args],
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )
    return proc.returncode.to_bytes(1, "big") + proc.stdout + b"\0" + proc.stderr


def commands(folder: Path) -> dict:
    fixtures = [str(ROOT / "tests" / "rules" / code / "bad.yaml") for code in FIXTURES]
    plans = [*fixtures, *sorted(GRAPH_PLANS)]
    out = {
        f"check --format {fmt}": ["check", "--isolated", "--format", fmt, *plans] for fmt in FORMATS
    }
    out["check -j 2 --format json"] = ["check", "--isolated", "-j", "2", "--format", "json", *plans]
    for fmt in ("mermaid", "dot"):
        out[f"graph --format {fmt}"] = ["graph", "--format", fmt, "split-group.yaml"]
    out["timeline"] = ["timeline", "--color", "never", "split-group.yaml"]
    # the executor: a divergence as text, a hang as JSON
    out["simulate"] = ["simulate", "missing-reduction.yaml"]
    out["simulate --format json"] = ["simulate", "--format", "json", "split-group.yaml"]
    out["init"] = [
        "init",
        "--hf",
        str(ROOT / "tests" / "data" / "models" / "Llama-3.1-8B.json"),
        "--tp",
        "2",
        "--pp",
        "2",
    ]
    return out


@pytest.fixture(scope="module")
def outputs(folder):
    runs = {(name, seed): args for name, args in commands(folder).items() for seed in SEEDS}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {key: pool.submit(syncverify, args, key[1], folder) for key, args in runs.items()}
        return {key: future.result() for key, future in futures.items()}


@pytest.mark.parametrize("name", sorted(commands(Path("."))), ids=str)
def test_output_is_byte_identical_across_hash_seeds(name, outputs):
    first, second = (outputs[(name, seed)] for seed in SEEDS)
    assert first[1:], "no output"
    assert first == second


def test_jobs_do_not_change_the_report(outputs):
    assert (
        outputs[("check -j 2 --format json", SEEDS[0])]
        == outputs[("check --format json", SEEDS[0])]
    )


def test_findings_come_sorted_and_cover_every_kind(outputs):
    raw = outputs[("check --format json", SEEDS[0])]
    report = json.loads(raw[1:].split(b"\0")[0])
    keys = [
        (f["file"], f["line"], f["column"], f["code"], f["message"]) for f in report["findings"]
    ]
    assert keys == sorted(keys)
    categories = {f["category"] for f in report["findings"]}
    assert {
        "config",
        "shape",
        "missing-sync",
        "ordering",
        "phase-illegal",
        "performance",
    } <= categories
    assert any(f["code"].startswith("SV0") for f in report["findings"])
