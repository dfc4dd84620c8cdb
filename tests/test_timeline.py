"""`syncverify timeline`: per-device lanes of one step (compute, collectives, waits)."""

import re

import yaml
from click.testing import CliRunner

from syncverify.cli import cli
from tests.support import synth

EIGHT_LAYERS = {"layers": 8, "hidden": 256, "heads": 8, "kv_heads": 4, "ffn": 512, "vocab": 1000}
ANSI = re.compile(r"\x1b\[")


def write(tmp_path, plan: dict):
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def timeline(*args):
    return CliRunner().invoke(cli, ["timeline", *map(str, args)])


def rows(output: str) -> list[list[str]]:
    """The table's body rows split into columns (two spaces or more apart)."""
    lines = output.splitlines()
    body = lines[lines.index(next(line for line in lines if line.startswith("----"))) + 1 :]
    return [re.split(r"\s{2,}", row.strip()) for row in body if re.match(r"^\d+\s", row)]


def test_blocking_collectives_make_the_ranks_wait(tmp_path):
    result = timeline(write(tmp_path, synth(EIGHT_LAYERS, tp=2, dp=2)))
    assert result.exit_code == 0
    assert ANSI.search(result.stdout) is None  # not a terminal: plain text
    header = result.stdout.splitlines()[1]
    assert header.split() == ["slot", "ranks", "0-3"]  # TP ranks and replicas: one lane
    cells = [r[1] for r in rows(result.stdout) if len(r) > 1]
    assert cells[:4] == ["embed", "wait embed-ar", "attn_norm L0", "qkv L0"]
    assert "o_proj L1-5" in cells and cells[cells.index("o_proj L1-5") + 1] == "wait attn-ar"
    assert "a layer shown as L1-5 is one layer standing for layers 1-5" in result.stdout


def test_two_batch_overlaps_one_microbatch_s_collective_with_the_other_s_compute(tmp_path):
    plan = synth(
        EIGHT_LAYERS, tp=2, prefill_microbatches=2, decode_microbatches=2, overlap="two_batch"
    )
    result = timeline(write(tmp_path, plan), "--phase", "prefill")
    assert result.exit_code == 0
    assert re.search(r"\n\d+ +mb1 attn_norm L0  \|\| mb0 attn-ar\n", result.stdout)


def test_a_pipeline_shows_the_next_stage_waiting_for_its_transfer(tmp_path):
    plan = synth(EIGHT_LAYERS, tp=2, pp=2, prefill_microbatches=2, decode_microbatches=2)
    result = timeline(write(tmp_path, plan), "--step", "1")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].startswith("synthesized: decode step 1")
    assert (
        lines[1].split("  ")[0] == "slot"
        and "ranks 0-1 (stage 0)" in lines[1]
        and "ranks 2-3 (stage 1)" in lines[1]
    )
    body = rows(result.stdout)
    assert any(len(r) > 2 and r[2] == "wait mb0 stage-xfer" for r in body)
    assert any("s0 mb1" in cell for r in body for cell in r[1:])  # step 0 still running


def test_a_collective_that_never_completes_is_shown_and_explained(tmp_path):
    plan = synth(EIGHT_LAYERS, tp=2, pp=2, prefill_microbatches=2, decode_microbatches=2)
    plan["sync"].append(
        {"id": "paranoid", "after": "attention", "collective": "barrier", "group": "world"}
    )
    result = timeline(write(tmp_path, plan), "--phase", "prefill")
    assert result.exit_code == 0
    assert "!! mb0 paranoid" in result.stdout
    assert (
        "note: paranoid never completes: ranks 0-1 never issue it (a hang, SV601)" in result.stdout
    )
    decode = timeline(tmp_path / "plan.yaml")
    assert "nothing of this step runs: the plan hangs before it" in decode.stdout


def test_color_always_styles_the_lanes(tmp_path):
    result = timeline(write(tmp_path, synth(EIGHT_LAYERS, tp=2)), "--color", "always")
    assert result.exit_code == 0 and ANSI.search(result.stdout)
    assert "wait embed-ar" in ANSI.sub("", re.sub(r"\x1b\[[0-9;]*m", "", result.stdout))


def test_bad_arguments_exit_2(tmp_path):
    plan = synth(EIGHT_LAYERS, tp=2)
    del plan["phases"]["decode"]
    path = write(tmp_path, plan)
    assert timeline(path, "--phase", "decode").exit_code == 2
    assert timeline(path, "--step", "99").exit_code == 2
    assert timeline(tmp_path / "missing.yaml").exit_code == 2
