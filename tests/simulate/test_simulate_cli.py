"""`syncverify simulate PLAN` as a user runs it: exit codes, where it diverges, what hangs."""
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from syncverify import commands

PLANS = Path(__file__).resolve().parent / "plans"


def simulate(name: str, *args, **options):
    out, err = io.StringIO(), io.StringIO()
    code = commands.simulate(str(PLANS / name), out=out, err=err, **options)
    return code, out.getvalue(), err.getvalue()


def test_a_correct_plan_matches_and_exits_0():
    code, out, _ = simulate("clean.yaml")
    assert code == 0
    assert out == (f"{PLANS / 'clean.yaml'}: matches the single-device reference "
                   f"(prefill + 3 decode steps; every replica busy)\n")


def test_a_missing_reduction_names_the_first_divergence():
    code, out, _ = simulate("missing-attn-allreduce.yaml")
    assert code == 1
    assert "diverges at prefill mb 0 rank 1 layer 0 attn_residual" in out
    assert "differs from the single-device reference by" in out


def test_a_hang_names_what_each_rank_waits_for():
    code, out, _ = simulate("world-barrier.yaml")
    assert code == 1
    assert "hang" in out.splitlines()[0]
    assert ("rank 0 waits for 'paranoid' (barrier over world ranks 0-3, prefill mb 0 layer 0), "
            "which ranks 2-3 never issue") in out


def test_a_stale_read_is_a_divergence_even_when_the_numbers_agree():
    code, out, _ = simulate("unawaited-broadcast.yaml")
    assert code == 1
    assert "stale read of attn_residual output of layer 0: mlp_norm reads it before 'bcast'" in out


def test_steps_and_json():
    code, out, _ = simulate("missing-attn-allreduce.yaml", steps=1, format="json")
    data = json.loads(out)
    assert code == 1 and data["status"] == "divergence" and data["steps"] == 1
    assert {k: data["outcome"][k] for k in ("kind", "rank", "layer", "op")} == \
        {"kind": "value", "rank": 1, "layer": 0, "op": "attn_residual"}
    assert data["outcome"]["max_abs_error"] > 0.1
    assert data["model"]["heads"] % 2 == 0


@pytest.mark.parametrize("name, code_at", [("misaligned.yaml", "misaligned.yaml:5:16"),
                                           ("unknown-key.yaml", "unknown-key.yaml:4:19")])
def test_unusable_or_refused_plans_exit_2_at_file_line_column(name, code_at):
    code, out, err = simulate(name)
    assert code == 2 and out == ""
    assert code_at in err


def test_the_real_command_line():
    proc = subprocess.run([sys.executable, "-m", "syncverify", "simulate", "--steps", "3",
                           "missing-attn-allreduce.yaml"], capture_output=True, text=True, cwd=PLANS)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert proc.stdout.startswith("missing-attn-allreduce.yaml: diverges at ")
