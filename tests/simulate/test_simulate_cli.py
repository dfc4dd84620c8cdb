"""`syncverify simulate PLAN` as a user runs it: exit codes, where it diverges, what hangs."""

import io
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from syncverify.commands.check import CheckArguments, check
from syncverify.commands.simulate import MAX_SIMULATED_STEPS, SimulateArguments
from syncverify.commands.simulate import simulate as run_simulate
from tests.hostile_inputs import CASES, SMALL

PLANS = Path(__file__).resolve().parent / "plans"
ROOT = PLANS.parents[2]


def simulate(name: str, *args, **options):
    out, err = io.StringIO(), io.StringIO()
    code = run_simulate(SimulateArguments(str(PLANS / name), **options), out, err)
    return code, out.getvalue(), err.getvalue()


def test_a_correct_plan_matches_and_exits_0():
    code, out, _ = simulate("clean.yaml")
    assert code == 0
    assert out == (
        f"{PLANS / 'clean.yaml'}: matches the single-device reference "
        f"(prefill + 3 decode steps; every replica busy)\n"
    )


def test_a_missing_reduction_names_the_first_divergence():
    code, out, _ = simulate("missing-attn-allreduce.yaml")
    assert code == 1
    assert "diverges at prefill mb 0 rank 1 layer 0 attn_residual" in out
    assert "differs from the single-device reference by" in out


def test_a_hang_names_what_each_rank_waits_for():
    code, out, _ = simulate("world-barrier.yaml")
    assert code == 1
    assert "hang" in out.splitlines()[0]
    assert (
        "rank 0 waits for 'paranoid' (barrier over world ranks 0-3, prefill mb 0 layer 0), "
        "which ranks 2-3 never issue"
    ) in out


def test_a_stale_read_is_a_divergence_even_when_the_numbers_agree():
    code, out, _ = simulate("unawaited-broadcast.yaml")
    assert code == 1
    assert "stale read of attn_residual output of layer 0: mlp_norm reads it before 'bcast'" in out


def test_steps_and_json():
    code, out, _ = simulate("missing-attn-allreduce.yaml", steps=1, format="json")
    data = json.loads(out)
    assert code == 1 and data["status"] == "divergence" and data["steps"] == 1
    assert {k: data["outcome"][k] for k in ("kind", "rank", "layer", "op")} == {
        "kind": "value",
        "rank": 1,
        "layer": 0,
        "op": "attn_residual",
    }
    assert data["outcome"]["max_abs_error"] > 0.1
    assert data["model"]["heads"] % 2 == 0


@pytest.mark.parametrize(
    "name, code_at",
    [("misaligned.yaml", "misaligned.yaml:5:16"), ("unknown-key.yaml", "unknown-key.yaml:4:19")],
)
def test_unusable_or_refused_plans_exit_2_at_file_line_column(name, code_at):
    code, out, err = simulate(name)
    assert code == 2 and out == ""
    assert code_at in err


def test_the_real_command_line():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "syncverify",
            "simulate",
            "--steps",
            "3",
            "missing-attn-allreduce.yaml",
        ],
        capture_output=True,
        text=True,
        cwd=PLANS,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.startswith("missing-attn-allreduce.yaml: diverges at ")


HEAVY = ("100-mb-file", "100-mb-stdin", "hf-config-60-mb")  # tests/test_hostile.py runs those


@pytest.mark.parametrize(
    "case", [c for c in CASES if c.name not in HEAVY and not c.args], ids=lambda c: c.name
)
def test_hostile_inputs_exit_2_at_the_place_check_names(case, tmp_path):
    """simulate loads plans as check does: the same problem, at file:line:column, no traceback.
    The size guard (SV014) counts every instance the executor runs, so it may name another of
    the numbers that make the plan large than check's does."""
    plan = case.make(tmp_path)
    out, err = io.StringIO(), io.StringIO()
    code = run_simulate(SimulateArguments(plan), out, err)
    first = err.getvalue().splitlines()[0]
    assert code == 2 and out.getvalue() == ""
    name = "<stdin>" if plan == "-" else plan
    pinned = case.code != "SV014"
    line = f"{case.line}" if case.line is not None and pinned else r"\d+"
    column = f"{case.column}" if case.column is not None and pinned else r"\d+"
    located = rf"syncverify: error: {re.escape(name)}:{line}:{column}: .*\[{case.code}\]"
    assert re.fullmatch(located, first), first


def test_standard_input_is_named_stdin():
    out, err = io.StringIO(), io.StringIO()
    stdin = io.StringIO((PLANS / "missing-attn-allreduce.yaml").read_text())
    code = run_simulate(SimulateArguments("-", stdin=stdin), out, err)
    assert code == 1 and out.getvalue().startswith("<stdin>: diverges at ")


def test_a_crash_of_the_executor_is_an_internal_error_not_a_traceback(monkeypatch):
    import syncverify.simulate

    def crash(plan, steps):
        raise RuntimeError("boom")

    monkeypatch.setattr(syncverify.simulate, "simulate", crash)
    monkeypatch.delenv("SYNCVERIFY_RAISE", raising=False)
    code, out, err = simulate("clean.yaml")
    assert code == 2 and out == ""
    assert err == (
        f"syncverify: error: {PLANS / 'clean.yaml'}:1:1: internal error while simulating "
        f"this plan: RuntimeError: boom (SYNCVERIFY_RAISE=1 shows the traceback) [SV900]\n"
    )


@pytest.mark.parametrize("steps", [0, MAX_SIMULATED_STEPS + 1, 10**9])
def test_steps_out_of_range_are_refused_before_running(steps):
    code, out, err = simulate("clean.yaml", steps=steps)
    assert code == 2 and out == "" and "--steps: expected 1 to 64" in err


def test_a_plan_check_reduces_but_the_executor_would_unroll_in_full_is_refused(tmp_path):
    """check keeps representative layers; the executor runs every one: its size guard counts
    them all (SV014 at the layer count), before anything is allocated."""
    plan = tmp_path / "long.yaml"
    plan.write_text(SMALL.replace("layers: 4,", "layers: 4000,"))
    out, err = io.StringIO(), io.StringIO()
    assert check(CheckArguments((str(plan),), isolated=True, format="concise"), out, err) == 0
    code = run_simulate(SimulateArguments(str(plan)), out, err)
    assert code == 2 and f"{plan}:2:17: the plan would unroll to about" in err.getvalue()


def test_too_many_steps_for_the_size_guard_are_refused():
    code, out, err = simulate(str(ROOT / "plans" / "llama-3.1-405b-tp8-pp4.yaml"), steps=64)
    assert code == 2 and out == ""
    assert err.startswith("syncverify: error: --steps 64: the plan would run about ")
