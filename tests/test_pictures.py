"""`syncverify graph`: the DAG collapsed by symmetry, as Mermaid or DOT, with a finding's boxes
and arrows highlighted; `mermaid_summary` for CI summaries."""

import copy
import re
import shutil
import subprocess

import yaml
from click.testing import CliRunner

import syncverify
from syncverify import pictures
from syncverify.cli import cli
from syncverify.loader import load_plan
from tests.support import synth

EIGHT_LAYERS = {"layers": 8, "hidden": 256, "heads": 8, "kv_heads": 4, "ffn": 512, "vocab": 1000}
BOX = re.compile(r'^\s*(n\d+)(?:\["|\{\{"|\(\[")(.*?)(?:"\]|"\}\}|"\]\))$')
ARROW = re.compile(r"^\s*(n\d+) (-->|-\.->) (n\d+)$")


def write(tmp_path, plan: dict, name="plan.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def without(plan: dict, sync_id: str) -> dict:
    mutant = copy.deepcopy(plan)
    mutant["sync"] = [s for s in mutant["sync"] if s["id"] != sync_id]
    return mutant


def graph(*args):
    return CliRunner().invoke(cli, ["graph", *map(str, args)])


def parse_mermaid(text: str):
    """(boxes {id: label}, arrows [(tail, kind, head)], lanes, classes {name: ids}, hot links)."""
    boxes, arrows, lanes, classes, hot = {}, [], [], {}, []
    for line in text.splitlines():
        if m := BOX.match(line):
            boxes[m.group(1)] = m.group(2)
        elif m := ARROW.match(line):
            arrows.append(m.groups())
        elif m := re.match(r'\s*subgraph lane\d+\["(.*)"\]$', line):
            lanes.append(m.group(1))
        elif m := re.match(r"\s*class (\S+) (\w+)$", line):
            classes[m.group(2)] = m.group(1).split(",")
        elif m := re.match(r"\s*linkStyle (\S+) ", line):
            hot = [int(i) for i in m.group(1).split(",")]
    return boxes, arrows, lanes, classes, hot


def test_ranks_replicas_and_layers_collapse_into_lanes_and_layer_classes(tmp_path):
    path = write(tmp_path, synth(EIGHT_LAYERS, tp=2, dp=2))
    result = graph(path)
    assert result.exit_code == 0, result.output
    boxes, arrows, lanes, classes, _ = parse_mermaid(result.stdout)
    assert result.stdout.startswith("flowchart TB")
    assert lanes == ["ranks 0-3"]  # 2 TP ranks x 2 replicas: one lane
    labels = set(boxes.values())
    assert {
        "attn_residual L0",
        "attn_residual L1-5",
        "attn_residual L6",
        "attn_residual L7",
    } <= labels
    assert "attn-ar: all_reduce tp L1-5 (2 groups)" in labels  # one per replica
    assert "dp-out: gather dp (2 groups)" in labels and "output sink" in labels
    for tail, _, head in arrows:  # every arrow joins declared boxes
        assert tail in boxes and head in boxes
    by_label = {label: box for box, label in boxes.items()}
    assert (
        by_label["o_proj L0"],
        "-->",
        by_label["attn-ar: all_reduce tp L0 (2 groups)"],
    ) in arrows
    assert set(classes["coll"]) == {
        b for b, label in boxes.items() if ": " in label and "host" not in label
    }


def test_pipeline_stages_are_separate_lanes(tmp_path):
    path = write(
        tmp_path, synth(EIGHT_LAYERS, tp=2, pp=2, prefill_microbatches=2, decode_microbatches=2)
    )
    _, _, lanes, _, _ = parse_mermaid(graph(path, "--phase", "prefill").stdout)
    assert lanes == ["ranks 0-1, stage 0", "ranks 2-3, stage 1"]


def test_a_finding_is_highlighted(tmp_path):
    path = write(tmp_path, without(synth(EIGHT_LAYERS, tp=2), "attn-ar"))
    result = graph(path, "--finding", "SV301")
    assert result.exit_code == 0, result.output
    boxes, arrows, _, classes, hot = parse_mermaid(result.stdout)
    hot_boxes = {boxes[b] for b in classes["finding"]}
    assert {
        "attn_residual L0",
        "attn_residual L1-5",
        "attn_residual L6",
        "attn_residual L7",
    } <= hot_boxes
    assert all(label.startswith("attn_residual") for label in hot_boxes)
    by_label = {label: box for box, label in boxes.items()}
    read = arrows.index((by_label["o_proj L0"], "-->", by_label["attn_residual L0"]))
    assert read in hot  # the partial sum's read, drawn red
    assert "stroke:#d00000" in result.stdout


def test_a_finding_the_plan_does_not_have_exits_2(tmp_path):
    path = write(tmp_path, without(synth(EIGHT_LAYERS, tp=2), "attn-ar"))
    result = graph(path, "--finding", "missing-stage-transfer")
    assert result.exit_code == 2
    assert "has no SV304 finding (its findings: SV301)" in result.stderr
    assert graph(path, "--finding", "SV999").exit_code == 2


def test_dot_output_file(tmp_path):
    path = write(
        tmp_path,
        without(
            synth(EIGHT_LAYERS, tp=2, pp=2, prefill_microbatches=2, decode_microbatches=2),
            "attn-ar",
        ),
    )
    target = tmp_path / "plan.dot"
    result = graph(path, "--format", "dot", "--finding", "SV301", "--steps", "2", "-o", target)
    assert result.exit_code == 0 and result.stdout == ""
    text = target.read_text()
    assert text.startswith("digraph plan {") and text.rstrip().endswith("}")
    assert "subgraph cluster_0" in text and 'label="ranks 0-1, stage 0"' in text
    assert "attn_residual L0 · s1" in text  # two steps: each box says which
    assert 'color="#d00000"' in text
    if shutil.which("dot"):  # Graphviz, when installed, lays it out
        subprocess.run(["dot", "-Tsvg", str(target)], check=True, capture_output=True)


def test_a_phase_the_plan_lacks_exits_2(tmp_path):
    plan = synth(EIGHT_LAYERS, tp=2)
    del plan["phases"]["prefill"]
    result = graph(write(tmp_path, plan), "--phase", "prefill")
    assert result.exit_code == 2 and "no prefill phase" in result.stderr


def test_an_unusable_plan_exits_2_with_its_problem(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("syncverify: 1\nparallel: {tp: 8, pipline: 2}\n")
    result = graph(path)
    assert result.exit_code == 2 and f"{path}:2:19" in result.stderr


def test_mermaid_summary_draws_a_plan_with_its_findings(tmp_path):
    path = write(tmp_path, without(synth(EIGHT_LAYERS, tp=2), "attn-ar"))
    report = syncverify.check(path)
    summary = pictures.mermaid_summary(report, str(path))
    assert summary.startswith(f"### {path}: 1 finding (SV301)")
    block = summary.split("```mermaid\n", 1)[1].split("```", 1)[0]
    _, _, _, classes, hot = parse_mermaid(block)
    assert classes["finding"] and hot
    # a list of findings works too, and findings of other files are left out
    assert "```mermaid" in pictures.mermaid_summary(report.findings, load_plan(path))
    assert "0 findings" in pictures.mermaid_summary([], str(path))


def test_mermaid_summary_of_a_large_plan_says_how_to_draw_it(tmp_path, monkeypatch):
    path = write(tmp_path, synth(EIGHT_LAYERS, tp=2))
    monkeypatch.setattr(pictures, "SUMMARY_MAX_BOXES", 10)
    summary = pictures.mermaid_summary([], str(path))
    assert "```mermaid" not in summary and "syncverify graph" in summary
