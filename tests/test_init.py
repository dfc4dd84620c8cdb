"""`syncverify init`: a commented plan with the minimal correct sync set for a layout.

For every model config in tests/data/models and a few layouts each (small degrees: the checker's
cost grows with the ranks), the written plan passes `check` with no error or warning, and
removing any one of its sync points gives an error finding.
"""

import re
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import syncverify
from syncverify.cli import cli
from syncverify.hfconfig import read_hf_config

ROOT = Path(__file__).resolve().parent.parent
MODELS = sorted((ROOT / "tests" / "data" / "models").glob("*.json"))
LLAMA_8B = ROOT / "tests" / "data" / "models" / "Llama-3.1-8B.json"
ITEM = re.compile(r"^  - \{.*\}$")

# layouts as `syncverify init` options; every model gets three, in turn, so that across the
# models each one is used (MoE-only ones on MoE models)
DENSE_LAYOUTS = [
    ["--tp", "2"],
    ["--tp", "2", "--pp", "2"],
    ["--tp", "2", "--dp", "2", "--overlap", "comm_compute"],
    ["--tp", "2", "--sp", "2"],
    ["--tp", "2", "--pp", "2", "--token-return", "device", "--overlap", "two_batch"],
    ["--pp", "2", "--dp", "2", "--nodes", "2", "--gpus-per-node", "2"],
]
MOE_LAYOUTS = [
    ["--tp", "2", "--ep", "2"],
    ["--tp", "2", "--dp", "2", "--ep", "4"],
    ["--dp", "2", "--ep", "2", "--overlap", "two_batch"],
    ["--tp", "2", "--dp", "2", "--ep", "4", "--overlap", "comm_compute"],
]


def layouts_for(index: int, model: Path) -> list[list[str]]:
    moe = "moe" in read_hf_config(model)
    pool = DENSE_LAYOUTS + (MOE_LAYOUTS if moe else [])
    first = MOE_LAYOUTS[index % len(MOE_LAYOUTS)] if moe else pool[index % len(pool)]
    return [first, pool[(index + 1) % len(pool)], pool[(index + 3) % len(pool)]]


def init(tmp_path, *args, name="plan.yaml"):
    target = tmp_path / name
    result = CliRunner().invoke(cli, ["init", *args, "-o", str(target)])
    return result, target


def removals(text: str):
    """The plan text without each of its sync items (and the comment above it) in turn."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if ITEM.match(line.rstrip("\n")):
            start = i
            while lines[start - 1].startswith("  # "):
                start -= 1
            yield line.strip(), "".join(lines[:start] + lines[i + 1 :])


@pytest.mark.parametrize("index,model", list(enumerate(MODELS)), ids=[m.stem for m in MODELS])
def test_init_plans_are_clean_and_every_sync_is_needed(tmp_path, index, model):
    for n, options in enumerate(layouts_for(index, model)):
        result, target = init(tmp_path, "--hf", str(model), *options, name=f"p{n}.yaml")
        assert result.exit_code == 0, f"{options}: {result.output}"
        assert result.stderr == "", f"{options}: the checker said {result.stderr}"
        if n:
            continue  # one layout per model is mutated (in turn across the models)
        text = target.read_text()
        for item, mutant in removals(text):
            report = syncverify.check(mutant, name=str(target))
            assert report.problems == [], f"{options}: without {item}: {report.problems}"
            assert any(f.category in ("missing-sync", "ordering") for f in report.errors), (
                f"{options}: removing {item} is not caught"
            )


def test_init_writes_a_commented_plan_naming_the_config_relative_to_it(tmp_path):
    (tmp_path / "plans").mkdir()
    result, target = init(
        tmp_path, "--hf", str(LLAMA_8B), "--tp", "2", "--pp", "2", name="plans/llama.yaml"
    )
    assert result.exit_code == 0
    text = target.read_text()
    plan = yaml.safe_load(text)
    assert (target.parent / plan["model"]["hf_config"]).resolve() == LLAMA_8B.resolve()
    assert not Path(plan["model"]["hf_config"]).is_absolute()
    assert plan["parallel"] == {"tp": 2, "pp": 2}
    assert {s["id"] for s in plan["sync"]} == {
        "embed-ar",
        "attn-ar",
        "mlp-ar",
        "stage-xfer",
        "logits",
    }
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if ITEM.match(line):  # each sync point says why, citing S-numbers
            assert lines[i - 1].startswith("  # ") and re.search(
                r"\(S\d+", lines[i - 1] + lines[i - 2]
            )
    assert CliRunner().invoke(cli, ["check", "--isolated", str(target)]).exit_code == 0


def test_init_prints_to_stdout_with_the_config_relative_to_the_current_folder(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(cli, ["init", "--hf", str(LLAMA_8B), "--tp", "2"])
    assert result.exit_code == 0
    plan = yaml.safe_load(result.stdout)
    assert plan["model"]["hf_config"] == "tests/data/models/Llama-3.1-8B.json"
    assert result.stdout.startswith("# Llama-3.1-8B.json: 32 layers")


def test_init_does_not_replace_a_file_without_force(tmp_path):
    target = tmp_path / "plan.yaml"
    target.write_text("mine\n")
    result, _ = init(tmp_path, "--hf", str(LLAMA_8B), "--tp", "2")
    assert result.exit_code == 2 and "--force" in result.stderr
    assert target.read_text() == "mine\n"
    result = CliRunner().invoke(cli, ["init", "--hf", str(LLAMA_8B), "-o", str(target), "--force"])
    assert result.exit_code == 0 and target.read_text().startswith("# Llama-3.1-8B.json")


def test_a_layout_that_does_not_fit_the_model_is_refused(tmp_path):
    result, target = init(tmp_path, "--hf", str(LLAMA_8B), "--tp", "3")
    assert result.exit_code == 1 and not target.exists()
    assert "SV201" in result.stderr and "nothing written" in result.stderr


def test_warnings_are_shown_and_the_plan_is_written(tmp_path):
    result, target = init(tmp_path, "--hf", str(LLAMA_8B), "--pp", "2", "--microbatches", "1")
    assert result.exit_code == 0 and target.exists()
    assert "warning SV702" in result.stderr  # the pipeline bubble


def test_an_unreadable_config_exits_2(tmp_path):
    bad = tmp_path / "config.json"
    bad.write_text("{not json")
    result, target = init(tmp_path, "--hf", str(bad))
    assert result.exit_code == 2 and "cannot read" in result.stderr and not target.exists()


@pytest.mark.parametrize(
    "options, flags, says",
    [
        # 16 devices (tp 8 x dp 2) over 3 nodes: no whole number of devices per node
        (["--nodes", "3"], "'--nodes'", "16 devices (tp 8 x dp 2) do not split over 3 nodes"),
        (["--gpus-per-node", "6"], "'--gpus-per-node'", "do not fill whole nodes of 6 devices"),
        (["--gpus-per-node", "32"], "'--gpus-per-node'", "do not fill whole nodes of 32 devices"),
        (
            ["--nodes", "3", "--gpus-per-node", "8"],
            "'--nodes' / '--gpus-per-node'",
            "3 nodes x 8 devices is 24 devices, but the layout uses 16 (tp 8 x dp 2)",
        ),
        (
            ["--nodes", "1", "--gpus-per-node", "8"],
            "'--nodes' / '--gpus-per-node'",
            "1 node x 8 devices is 8 devices, but the layout uses 16 (tp 8 x dp 2)",
        ),
    ],
)
def test_an_explicit_cluster_that_cannot_hold_the_degrees_is_refused(
    tmp_path, options, flags, says
):
    """Never a silent change of the cluster (`--nodes 3` for 16 devices became "3 nodes x 6"):
    exit 2, the flags named, nothing written."""
    result, target = init(tmp_path, "--hf", str(LLAMA_8B), "--tp", "8", "--dp", "2", *options)
    assert result.exit_code == 2, result.output
    assert flags in result.stderr and says in result.stderr
    assert "Traceback" not in result.output and not target.exists()


@pytest.mark.parametrize(
    "options, cluster",
    [
        ([], None),
        (["--nodes", "2"], "{nodes: 2, gpus_per_node: 8}"),
        (["--nodes", "16"], "{nodes: 16, gpus_per_node: 1}"),
        (["--gpus-per-node", "8"], "{nodes: 2, gpus_per_node: 8}"),
        (["--gpus-per-node", "16"], "{nodes: 1, gpus_per_node: 16}"),
        (["--nodes", "2", "--gpus-per-node", "8"], "{nodes: 2, gpus_per_node: 8}"),
        (["--nodes", "4", "--gpus-per-node", "4"], "{nodes: 4, gpus_per_node: 4}"),
    ],
)
def test_a_cluster_that_holds_the_degrees_is_written_as_given(tmp_path, options, cluster):
    result, target = init(tmp_path, "--hf", str(LLAMA_8B), "--tp", "8", "--dp", "2", *options)
    assert result.exit_code in (0, 1), result.output  # 1: the layout's own findings (SV701)
    if result.exit_code == 1:
        assert "nothing written" in result.stderr and "SV101" not in result.stderr
        return
    plan = yaml.safe_load(target.read_text())
    written = plan.get("cluster")
    if cluster is None:
        assert written is None
    else:
        assert f"cluster: {cluster}" in target.read_text()


def test_init_takes_a_model_folder_holding_config_json(tmp_path):
    """`--hf` names a Hugging Face model folder as well as its config.json: the same plan, and
    the plan names the config.json itself."""
    folder = tmp_path / "models" / "Llama-3.1-8B"
    folder.mkdir(parents=True)
    (folder / "config.json").write_bytes(LLAMA_8B.read_bytes())
    result, target = init(tmp_path, "--hf", str(folder), "--tp", "2")
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert "hf_config: models/Llama-3.1-8B/config.json" in text
    assert "name: llama-3.1-8b-tp2" in text  # named after the folder, not "config"
    file_result, from_file = init(
        tmp_path, "--hf", str(folder / "config.json"), "--tp", "2", name="file.yaml"
    )
    assert file_result.exit_code == 0 and "name: llama-3.1-8b-tp2" in from_file.read_text()


def test_init_refuses_a_folder_without_config_json_naming_what_it_looked_for(tmp_path):
    folder = tmp_path / "weights"
    folder.mkdir()
    result, target = init(tmp_path, "--hf", str(folder))
    assert result.exit_code == 2 and not target.exists()
    assert f"looked for '{folder / 'config.json'}'" in result.stderr
    assert "Invalid value for '--hf'" in result.stderr and "Traceback" not in result.output


def test_init_never_writes_over_the_config_json_of_the_folder_it_reads(tmp_path):
    folder = tmp_path / "Llama-3.1-8B"
    folder.mkdir()
    config = folder / "config.json"
    config.write_bytes(LLAMA_8B.read_bytes())
    result = CliRunner().invoke(cli, ["init", "--hf", str(folder), "-o", str(config), "--force"])
    assert result.exit_code == 2 and config.read_bytes() == LLAMA_8B.read_bytes()


def test_a_hugging_face_cache_snapshot_is_named_after_its_repository(tmp_path):
    snapshot = tmp_path / "hub" / "models--meta-llama--Llama-3.1-8B" / "snapshots" / "0e9e39f2"
    snapshot.mkdir(parents=True)
    (snapshot / "config.json").write_bytes(LLAMA_8B.read_bytes())
    result, target = init(tmp_path, "--hf", str(snapshot), "--tp", "2")
    assert result.exit_code == 0, result.output
    text = target.read_text()
    assert text.startswith("# Llama-3.1-8B: 32 layers") and "name: llama-3.1-8b-tp2" in text
