"""`syncverify check --fix [--write]`: the sync points missing-sync findings ask for, printed or
inserted into the plan as text (untouched lines keep their comments and formatting)."""

import copy
import difflib

import pytest
import yaml
from click.testing import CliRunner

from syncverify import atomic
from syncverify.cli import cli
from tests.support import TINY_MOE, synth

HEAD = """\
# A tiny dense model on two TP ranks.
syncverify: 1
name: tiny
model: {layers: 4, hidden: 256, heads: 8, kv_heads: 4, ffn: 512, vocab: 1000}
parallel:   {tp: 2}     # odd spacing, kept
phases:
  prefill: {microbatches: 1, tokens: 64}
  decode: {microbatches: 1, batch: 8}
"""
MISSING_TWO = (
    HEAD
    + """\
sync:
  # the vocab-parallel embedding
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}

  # the logits, block style
  - id: logits
    after: lm_head        # vocab-parallel
    collective: all_gather
    group: tp
# end of the list
"""
)
MOE_WITHOUT_COMBINE = """\
syncverify: 1
model:
  {layers: 4, hidden: 256, heads: 8, kv_heads: 8, ffn: 512, vocab: 1000,
   moe: {experts: 8, top_k: 2, layers: 1..3, shared_experts: 1, ffn: 128}}
parallel: {tp: 2, dp: 2, ep: 4}
phases:
  prefill: {microbatches: 1, tokens: 64}
  decode: {microbatches: 1, batch: 8}
sync:
- {id: embed-ar, after: embed, collective: all_reduce, group: tp}
- {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
- {id: mlp-ar, after: down, collective: all_reduce, group: tp, layers: dense}
- {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch,
  layers: moe}
- {id: moe-ag, after: experts, collective: all_gather, group: tp, layers: moe}
- {id: shared-ar, after: shared_experts, collective: all_reduce, group: tp, layers: moe}
- {id: logits, after: lm_head, collective: all_gather, group: tp}
- {id: dp-out, after: sample, collective: gather, group: dp}
"""


def check(*args):
    return CliRunner().invoke(cli, ["check", "--isolated", "--format", "concise", *args])


def plan_file(tmp_path, text, name="plan.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def added_lines(before: str, after: str) -> list[str]:
    """The lines `after` adds to `before`; fails if any line of `before` changed."""
    diff = list(difflib.ndiff(before.splitlines(), after.splitlines()))
    assert not [d for d in diff if d.startswith("- ")], "an untouched line changed"
    return [d[2:] for d in diff if d.startswith("+ ")]


def test_fix_prints_the_items_to_add_and_writes_nothing(tmp_path):
    path = plan_file(tmp_path, MISSING_TWO)
    result = check("--fix", str(path))
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"# {path}: add to `sync:` (2 sync points; `--fix --write` inserts them)",
        "- {after: o_proj, collective: all_reduce, group: tp}  # SV301",
        "- {after: down, collective: all_reduce, group: tp}  # SV301",
    ]
    assert path.read_text() == MISSING_TWO


def test_fix_write_inserts_them_in_data_flow_order_and_keeps_everything_else(tmp_path):
    path = plan_file(tmp_path, MISSING_TWO)
    result = check("--fix", "--write", str(path))
    assert result.exit_code == 0, result.output  # the re-check is clean
    assert result.stdout == ""
    assert f"{path}: added 2 sync points" in result.stderr
    after = path.read_text()
    assert added_lines(MISSING_TWO, after) == [
        "  - {after: o_proj, collective: all_reduce, group: tp}  # syncverify --fix: SV301",
        "  - {after: down, collective: all_reduce, group: tp}  # syncverify --fix: SV301",
    ]
    lines = after.splitlines()
    # after embed-ar, before the comment that belongs to the logits item
    assert (
        lines.index("  # the logits, block style") - 2
        == lines.index(
            "  - {after: down, collective: all_reduce, group: tp}  # syncverify --fix: SV301"
        )
        - 1
    )
    assert check(str(path)).exit_code == 0


def test_a_reduction_goes_before_the_gather_at_the_same_anchor(tmp_path):
    path = plan_file(tmp_path, MOE_WITHOUT_COMBINE)
    result = check("--fix", "--write", str(path))
    assert result.exit_code == 0, result.output
    lines = path.read_text().splitlines()
    combine = next(i for i, line in enumerate(lines) if "role: combine" in line)
    assert lines[combine] == (
        "- {after: experts, collective: all_to_all, group: ep, role: combine,"
        " layers: moe}  # syncverify --fix: SV305"
    )
    assert lines[combine + 1].startswith("- {id: moe-ag")  # S7: combine, then gather


def test_a_sync_written_for_one_phase_is_added_for_the_other_only(tmp_path):
    text = (
        HEAD.replace("{tp: 2}", "{tp: 2, pp: 2}").replace("microbatches: 1", "microbatches: 2")
        + """\
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: xfer, after: stage_boundary, collective: send_recv, group: pp, phases: [prefill]}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
"""
    )
    path = plan_file(tmp_path, text)
    result = check("--fix", "--write", str(path))
    assert result.exit_code == 0, result.output
    assert added_lines(text, path.read_text()) == [
        "  - {after: stage_boundary, collective: send_recv, group: pp, phases: [decode]}"
        "  # syncverify --fix: SV304"
    ]


@pytest.mark.parametrize("tail", ["sync: []\n", ""], ids=["empty", "absent"])
def test_an_empty_or_absent_sync_list_is_filled(tmp_path, tail):
    path = plan_file(tmp_path, HEAD + tail)
    result = check("--fix", "--write", str(path))
    assert result.exit_code == 0, result.output
    text = path.read_text()
    assert text.startswith(HEAD)
    assert text[len(HEAD) :].startswith(
        "sync:\n  - {after: embed, collective: all_reduce, group: tp}"
    )
    assert text.count("# syncverify --fix") == 4


def test_a_flow_style_sync_list_is_left_alone(tmp_path):
    text = HEAD + "sync: [{after: embed, collective: all_reduce, group: tp}]\n"
    path = plan_file(tmp_path, text)
    result = check("--fix", "--write", str(path))
    assert result.exit_code == 1  # the findings are still there
    assert "not changed: the sync list is written in flow style" in result.stderr
    assert "  - {after: o_proj, collective: all_reduce, group: tp}" in result.stderr
    assert path.read_text() == text


def test_a_failed_write_keeps_the_original(tmp_path, monkeypatch):
    path = plan_file(tmp_path, MISSING_TWO)

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(atomic.os, "replace", broken_replace)
    result = check("--fix", "--write", str(path))
    assert result.exit_code == 1
    assert "not changed: No space left on device" in result.stderr
    assert path.read_text() == MISSING_TWO
    assert [p.name for p in tmp_path.iterdir()] == ["plan.yaml"]  # no temporary left


def test_write_refuses_standard_input():
    result = CliRunner().invoke(
        cli, ["check", "--isolated", "--fix", "--write", "-"], input=MISSING_TWO
    )
    assert result.exit_code == 2 and "standard input" in result.stderr


def test_findings_without_a_sync_to_add_are_counted(tmp_path):
    text = MISSING_TWO.replace(
        "after: embed, collective: all_reduce, group: tp",
        "after: embed, collective: all_reduce, group: tp, async: true",
    )
    path = plan_file(
        tmp_path,
        text.replace(
            "{microbatches: 1, tokens: 64}", "{microbatches: 1, tokens: 64, overlap: comm_compute}"
        ),
    )
    result = check("--fix", str(path))
    assert "have no sync point to add" in result.stderr or "has no sync point" in result.stderr


def test_fix_write_restores_any_one_removed_sync_point(tmp_path):
    """From a synthesized MoE plan (EP across replicas: dispatch, combine, gathers), remove each
    sync point in turn: `--fix --write` puts back what the checker needs and the plan is clean."""
    plan = synth(TINY_MOE, tp=2, dp=2, ep=4)
    for i, sync in enumerate(plan["sync"]):
        if sync["id"] not in ("mlp-ar", "combine", "shared-ar", "dp-out"):
            continue  # the dense TP syncs are covered above; no finding gives the
            # missing dispatch (SV309, SV312, SV403) or tp gather after the combine (SV302
            # "addends hold different tokens") as a snippet, so --fix cannot add them
        mutant = copy.deepcopy(plan)
        del mutant["sync"][i]
        path = plan_file(tmp_path, yaml.safe_dump(mutant, sort_keys=False), f"without-{i}.yaml")
        result = check("--fix", "--write", str(path))
        assert result.exit_code == 0, f"without {sync}: {result.output}"
        assert "added 1 sync point" in result.stderr
