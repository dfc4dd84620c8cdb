"""The plan loader from the user's side: plan texts in, a Plan or located problems out."""

from pathlib import Path

import pytest

from syncverify.findings import PlanError
from syncverify.loader import load_plan, stage_split
from syncverify.plan import PHASES, Plan
from syncverify.span import Span

ACCEPTANCE = Path(__file__).resolve().parent.parent.parent / "shared" / "acceptance" / "plans"
DATA = Path(__file__).parent / "data" / "loader"
UNUSABLE = {"16-unknown-key.yaml", "17-malformed-yaml.yaml"}

PLAN = """\
syncverify: 1
name: llama3-70b-tp8-pp2
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256}
cluster: {nodes: 2, gpus_per_node: 8}
parallel: {tp: 8, pp: 2}
phases:
  prefill: {microbatches: 4, tokens: 8192, overlap: none}
  decode: {microbatches: 2, batch: 64, overlap: none}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
"""


def load(text: str) -> Plan:
    return load_plan("plan.yaml", text=text)


def problems(text: str) -> list:
    with pytest.raises(PlanError) as caught:
        load(text)
    found = caught.value.problems
    assert found, "a PlanError must carry at least one problem"
    for p in found:
        assert p.file == "plan.yaml" and p.line >= 1 and p.column >= 1
        assert p.code.startswith("SV0") and p.category == "config" and p.severity == "error"
        assert p.message and p.message[0].islower() and not p.message.endswith(".")
    return found


def only(text: str):
    """The single problem `text` has."""
    found = problems(text)
    assert len(found) == 1, [(p.code, p.line, p.column, p.message) for p in found]
    return found[0]


def pinned(text: str) -> tuple:
    p = only(text)
    return p.code, p.line, p.column


# ---------------------------------------------------------------------------- acceptance plans

ACCEPTANCE_PLANS = sorted(ACCEPTANCE.glob("*.yaml")) if ACCEPTANCE.is_dir() else []
needs_acceptance = pytest.mark.skipif(not ACCEPTANCE_PLANS, reason="acceptance plans not present")


@needs_acceptance
@pytest.mark.parametrize(
    "path", [p for p in ACCEPTANCE_PLANS if p.name not in UNUSABLE], ids=lambda p: p.name
)
def test_acceptance_plan_loads(path):
    plan = load_plan(str(path))
    assert isinstance(plan, Plan) and plan.path == str(path) and plan.text == path.read_text()
    assert plan.phases and all(p.name in PHASES for p in plan.phases)


@needs_acceptance
def test_acceptance_16_names_the_misspelled_key_and_its_line():
    with pytest.raises(PlanError) as caught:
        load_plan(str(ACCEPTANCE / "16-unknown-key.yaml"))
    (problem,) = caught.value.problems
    assert (problem.code, problem.line, problem.column) == ("SV003", 6, 19)
    assert "'pipline'" in problem.message and "did you mean 'pp'?" in problem.help


@needs_acceptance
def test_acceptance_17_names_the_line_of_the_syntax_error():
    with pytest.raises(PlanError) as caught:
        load_plan(str(ACCEPTANCE / "17-malformed-yaml.yaml"))
    (problem,) = caught.value.problems
    assert (problem.code, problem.line) == ("SV002", 5)
    assert "line 4" in problem.message  # where the unclosed `{` was opened


# --------------------------------------------------------------------- defaults and resolution

MINIMAL = """\
syncverify: 1
model: {layers: 4, hidden: 64, heads: 8, ffn: 256, vocab: 1000}
phases:
  decode: {}
"""


def test_defaults_round_trip():
    plan = load(MINIMAL)
    model = plan.model
    assert (model.kv_heads, model.head_dim, model.mla, model.moe, model.max_context) == (
        8,
        8,
        False,
        None,
        None,
    )
    assert plan.name == "plan" and plan.cluster is None and plan.syncs == ()
    assert plan.layout == ("tp", "sp", "dp", "pp") and plan.explicit_stages is None
    assert [p.name for p in plan.phases] == ["decode"]  # only the phases written exist
    decode = plan.phase("decode")
    assert (
        decode.microbatches,
        decode.batch,
        decode.tokens,
        decode.overlap,
        decode.dp_idle,
        decode.token_return,
    ) == (1, 1, None, "none", "dummy_batch", "host")
    assert (
        plan.parallel.tp,
        plan.parallel.pp,
        plan.parallel.dp,
        plan.parallel.sp,
        plan.parallel.ep,
    ) == (1,) * 5
    assert decode.topology.stages == (4,) and decode.topology.world == 1
    assert plan.sharding("lm_head") == "default"
    assert ("phases", "decode", "batch") not in plan.written and ("model", "heads") in plan.written


def test_written_defaults_equal_implicit_ones():
    explicit = (
        MINIMAL.replace(
            "decode: {}",
            "decode: {microbatches: 1, batch: 1, overlap: none, "
            "dp_idle: dummy_batch, token_return: host, tp: 1}",
        ).replace("ffn: 256,", "ffn: 256, kv_heads: 8, head_dim: 8, mla: false,")
        + "parallel: {tp: 1, pp: 1, dp: 1, sp: 1, ep: 1, layout: [tp, sp, dp, pp]}\n"
        "sync: []\nname: plan\n"
    )
    a, b = load(MINIMAL), load(explicit)
    assert (a.model, a.parallel, a.layout, a.phases, a.syncs, a.name) == (
        b.model,
        b.parallel,
        b.layout,
        b.phases,
        b.syncs,
        b.name,
    )


def test_phase_degrees_override_the_shared_ones():
    plan = load(
        PLAN.replace("prefill: {", "prefill: {sp: 2, pp: 1, ").replace(
            "decode: {", "decode: {dp: 2, "
        )
    )
    prefill, decode = plan.phase("prefill"), plan.phase("decode")
    assert (prefill.degrees.tp, prefill.degrees.sp, prefill.degrees.pp) == (8, 2, 1)
    assert (decode.degrees.dp, decode.degrees.pp) == (2, 2)
    assert prefill.topology.stages == (80,) and decode.topology.stages == (40, 40)
    assert dict(decode.topology.sizes) == {"tp": 8, "sp": 1, "dp": 2, "pp": 2, "ep": 1}
    assert plan.parallel.pp == 2 and ("phases", "decode", "dp") in plan.written


@pytest.mark.parametrize(
    "layers, pp, explicit, split",
    [
        (80, 2, None, (40, 40)),
        (80, 2, (30, 50), (30, 50)),
        (80, 2, (40, 39), (40, 40)),
        (126, 4, None, (32, 32, 31, 31)),
        (80, 4, (40, 40), (20, 20, 20, 20)),
        (2, 4, None, (1, 1, 0, 0)),
    ],
)
def test_stage_split(layers, pp, explicit, split):
    assert stage_split(layers, pp, explicit) == split


def test_explicit_stages_are_kept_as_written_even_when_they_do_not_fit():
    plan = load(PLAN.replace("pp: 2}", "pp: 2, stages: [40, 39]}"))
    assert plan.explicit_stages == (40, 39) and plan.phase("decode").topology.stages == (40, 40)
    plan = load(PLAN.replace("pp: 2}", "pp: 2, stages: [40, 0, 40]}"))
    assert plan.explicit_stages == (40, 0, 40)


MOE_PLAN = """\
syncverify: 1
model:
  layers: 8
  hidden: 64
  heads: 8
  ffn: 256
  vocab: 1000
  moe: {experts: 8, top_k: 2, layers: "2..7", shared_experts: 1, ffn: 32}
parallel: {dp: 2, ep: 2}
phases:
  prefill: {tokens: 16}
  decode: {batch: 4}
sync:
  - {after: router, collective: all_to_all, group: ep, layers: moe}
  - {after: experts, collective: all_to_all, group: ep, layers: moe}
  - {after: experts, collective: all_to_all, group: ep, role: dispatch}
  - {after: o_proj, collective: all_to_all, group: ep, layers: dense}
  - {after: o_proj, collective: all_reduce, group: tp, layers: [0, "3..4", 40], phases: [decode]}
  - {after: down, collective: all_reduce, group: tp, layers: 1, ranks: {tp: 0, pp: [0, 9]}}
  - {after: down, collective: all_reduce, group: tp, layers: all, async: true, \
wait_before: mlp_residual}
"""


def test_sync_points_resolve_roles_layers_and_ranks():
    plan = load(MOE_PLAN)
    assert plan.model.moe.layers == frozenset(range(2, 8)) and plan.model.dense_layers == {0, 1}
    dispatch, combine, explicit, dense, listed, ranked, every = plan.syncs
    assert (dispatch.role, combine.role, explicit.role, dense.role) == (
        "dispatch",
        "combine",
        "dispatch",
        None,
    )
    assert dispatch.layers == frozenset(range(2, 8)) and dense.layers == {0, 1}
    assert listed.layers == {0, 3, 4, 40} and listed.phases == ("decode",)  # 40 kept for the rules
    assert dispatch.phases == ("prefill", "decode")
    assert ranked.layers == {1} and dict(ranked.ranks) == {"tp": {0}, "pp": {0, 9}}
    assert every.layers is None and every.is_async and every.wait_before == "mlp_residual"
    assert dispatch.ranks is None and dispatch.index == 0 and every.index == 6
    assert hash(plan.syncs) and hash(plan.phases)  # frozen all the way down


def test_spans_locate_sync_fields_and_keys():
    plan = load(PLAN)
    line = 11  # - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
    assert plan.span(("sync", 1)) == Span(line, 5, line, 68)
    assert plan.span(("sync", 1, "after")) == Span(line, 26, line, 32)
    assert plan.key_span(("sync", 1, "after")) == Span(line, 19, line, 24)
    assert plan.span(("sync", 1, "group")) == Span(line, 65, line, 67)
    assert plan.span(("parallel", "pp")) == Span(5, 23, 5, 24)
    assert plan.span(("phases", "decode", "batch")).line == 8
    assert plan.span(()) == Span(1, 1, 14, 68)
    assert plan.span(("phases", "decode", "tp")) == plan.span(("phases", "decode"))  # not written
    assert ("sync", 1, "after") in plan.written and ("@key", "sync", 1, "after") not in plan.written


def test_block_style_spans_end_at_the_last_content():
    text = (
        "syncverify: 1\nmodel:\n  layers: 4\n  hidden: 64   # comment\n  heads: 8\n"
        "  ffn: 256\n  vocab: 1000\n\n# trailing comment\nphases:\n  decode:\n    batch: 4\n"
    )
    plan = load(text)
    assert plan.span(("model",)) == Span(3, 3, 7, 14)
    assert plan.key_span(("model",)) == Span(2, 1, 2, 6)
    assert plan.span(("model", "hidden")) == Span(4, 11, 4, 13)


def test_merge_keys_and_extension_keys_for_shared_sync_fields():
    text = PLAN.replace(
        "sync:\n",
        "x-tp-ar: &ar {collective: all_reduce, group: tp}\nsync:\n"
        "  - {<<: *ar, after: attn_norm, group: sp}\n",
    )
    plan = load(text)
    merged = plan.syncs[0]
    assert (merged.after, merged.collective, merged.group) == ("attn_norm", "all_reduce", "sp")
    assert plan.span(("sync", 0, "collective")).line == 9  # where the anchor wrote it
    assert plan.span(("sync", 0, "group")).line == 11  # the explicit key wins


def test_reads_files_stdin_text_and_display_paths(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text(PLAN)
    assert load_plan(path).path == str(path)
    assert load_plan(str(path), display_path="shown.yaml").path == "shown.yaml"
    plan = load_plan("-", text=PLAN, display_path="<stdin>")
    assert plan.path == "<stdin>" and plan.text == PLAN
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbf" + PLAN.encode())
    assert load_plan(bom).name == "llama3-70b-tp8-pp2"


def test_hf_config_is_relative_to_the_plan_or_base_dir(tmp_path):
    models = Path(__file__).parent / "data" / "models"
    (tmp_path / "m.json").write_text((models / "Llama-3.1-8B.json").read_text())
    text = "syncverify: 1\nmodel: {hf_config: m.json}\nphases: {decode: {batch: 1}}\n"
    (tmp_path / "p.yaml").write_text(text)
    assert load_plan(tmp_path / "p.yaml").model.layers == 32
    assert load_plan("-", text=text, base_dir=tmp_path).model.layers == 32
    problem = only_at(lambda: load_plan("-", text=text, base_dir=tmp_path / "nowhere"))
    assert (problem.code, problem.line, problem.column) == ("SV010", 2, 20)
    assert "no such file" in problem.message


def only_at(call):
    with pytest.raises(PlanError) as caught:
        call()
    (problem,) = caught.value.problems
    return problem


# ---------------------------------------------------------------------------------- unusable files


def test_missing_file_and_directory(tmp_path):
    problem = only_at(lambda: load_plan(tmp_path / "absent.yaml"))
    assert (problem.code, problem.line, problem.column) == (
        "SV001",
        1,
        1,
    ) and "no such file" in problem.message
    assert only_at(lambda: load_plan(tmp_path)).code == "SV001"


@pytest.mark.parametrize(
    "name, line, column, words",
    [
        ("latin1.yaml", 3, 10, "not UTF-8"),
        ("nul-byte.yaml", 2, 6, "NUL byte"),
        ("utf16.yaml", 1, 1, "UTF-16"),
    ],
)
def test_undecodable_files_are_located(name, line, column, words):
    problem = only_at(lambda: load_plan(DATA / name))
    assert (problem.code, problem.line, problem.column) == ("SV001", line, column)
    assert words in problem.message


def test_oversized_plan_is_refused_before_parsing():
    problem = only_at(lambda: load_plan("-", text="#" * (10 * 1024 * 1024 + 1)))
    assert problem.code == "SV011" and "more than" in problem.message


@pytest.mark.parametrize(
    "text, code",
    [
        ("", "SV008"),
        ("# only a comment\n", "SV008"),
        ("- a\n- b\n", "SV005"),
        ("just text\n", "SV005"),
    ],
)
def test_empty_and_non_mapping_plans(text, code):
    problem = only(text)
    assert (problem.code, problem.line) == (code, 1) and "syncverify: 1" in problem.help


# -------------------------------------------------------------- one test per kind of bad input


def with_line(number: int, old: str, new: str) -> str:
    lines = PLAN.split("\n")
    assert old in lines[number - 1], lines[number - 1]
    lines[number - 1] = lines[number - 1].replace(old, new)
    return "\n".join(lines)


BAD = {
    # name: (plan text, code, line, column, words in message, words in help)
    "yaml syntax": (with_line(5, "pp: 2}", "pp: 2"), "SV002", 6, 7, "flow mapping", "not closed"),
    "tab indentation": (
        PLAN + "ops:\n\tlm_head: {sharding: replicated}\n",
        "SV002",
        16,
        1,
        "invalid YAML",
        "tabs",
    ),
    "two documents": (
        PLAN + "---\nname: second\n",
        "SV002",
        15,
        1,
        "another document",
        "one YAML document",
    ),
    "unknown key": (
        with_line(5, "pp: 2", "pipeline_parallel_size: 2"),
        "SV003",
        5,
        19,
        "unknown key 'pipeline_parallel_size' in parallel",
        "did you mean 'pp'?",
    ),
    "misplaced key": (
        with_line(3, "ffn: 28672", "ffn: 28672, tp: 8"),
        "SV003",
        3,
        71,
        "unknown key 'tp' in model",
        "belongs under parallel",
    ),
    "unknown phase": (
        with_line(8, "decode:", "decoding:"),
        "SV003",
        8,
        3,
        "unknown phase 'decoding'",
        "'decode'",
    ),
    "decode key in prefill": (
        with_line(7, "overlap: none", "token_return: device"),
        "SV003",
        7,
        44,
        "token_return",
        "belongs under phases.decode",
    ),
    "wrong type: quoted number": (
        with_line(5, "tp: 8", 'tp: "8"'),
        "SV005",
        5,
        16,
        "must be an integer",
        "remove the quotes",
    ),
    "wrong type: 1e3": (
        with_line(7, "tokens: 8192", "tokens: 1e3"),
        "SV005",
        7,
        38,
        "the string '1e3'",
        "write 1000 (or 1.0e+3)",
    ),
    "wrong type: yes as a name": (
        with_line(8, "overlap: none", "overlap: off"),
        "SV005",
        8,
        49,
        "the boolean false",
        "quote it ('off')",
    ),
    "wrong type: null": (
        with_line(5, "tp: 8", "tp: "),
        "SV005",
        5,
        16,
        "not empty (null)",
        "no value",
    ),
    "wrong type: boolean key": (PLAN + "on: 1\n", "SV005", 15, 1, "the key `on`", "quote it"),
    "wrong type: sync mapping": (
        PLAN.replace("sync:\n  - {id: embed-ar", "sync: {id: embed-ar").split("\n  - ")[0] + "\n",
        "SV005",
        9,
        7,
        "sync must be a list",
        "start each sync point",
    ),
    "out of range degree": (
        with_line(5, "tp: 8", "tp: 0"),
        "SV006",
        5,
        16,
        "at least 1, not 0",
        "no parallelism",
    ),
    "out of range layers": (
        with_line(3, "layers: 80", "layers: 0"),
        "SV006",
        3,
        17,
        "model.layers must be at least 1",
        "",
    ),
    "too large degree": (
        with_line(5, "tp: 8", "tp: 10000000"),
        "SV006",
        5,
        16,
        "the largest syncverify accepts",
        "",
    ),
    "empty phases list": (
        with_line(11, "group: tp}", "group: tp, phases: []}"),
        "SV006",
        11,
        77,
        "must not be empty",
        "",
    ),
    "layout not a permutation": (
        with_line(5, "pp: 2}", "pp: 2, layout: [tp, dp, pp, dp]}"),
        "SV006",
        5,
        34,
        "sp missing; dp repeated",
        "each of tp, sp, dp and pp once",
    ),
    "unknown collective": (
        with_line(11, "all_reduce", "allreduce"),
        "SV007",
        11,
        46,
        "unknown collective 'allreduce' in sync[1]",
        "did you mean 'all_reduce'?",
    ),
    "unknown group": (
        with_line(11, "group: tp", "group: tensor"),
        "SV007",
        11,
        65,
        "unknown group 'tensor'",
        "'tp'",
    ),
    "unknown op in after": (
        with_line(11, "o_proj", "out_proj"),
        "SV007",
        11,
        26,
        "op or boundary 'out_proj'",
        "'o_proj'",
    ),
    "unknown op in wait_before": (
        with_line(11, "group: tp}", "group: tp, wait_before: residual}"),
        "SV007",
        11,
        82,
        "unknown op 'residual'",
        "'attn_residual'",
    ),
    "unknown role": (
        with_line(11, "group: tp}", "group: tp, role: scatter}"),
        "SV007",
        11,
        75,
        "unknown role",
        "'dispatch'",
    ),
    "unknown tensor": (
        with_line(11, "group: tp}", "group: tp, tensor: k}"),
        "SV007",
        11,
        77,
        "unknown tensor 'k'",
        "'kv'",
    ),
    "unknown overlap mode": (
        with_line(8, "overlap: none", "overlap: tbo"),
        "SV007",
        8,
        49,
        "overlap mode 'tbo'",
        "'two_batch'",
    ),
    "unknown dp_idle": (
        with_line(8, "overlap: none", "dp_idle: wait"),
        "SV007",
        8,
        49,
        "dp_idle mode 'wait'",
        "dummy_batch",
    ),
    "unknown token_return": (
        with_line(8, "overlap: none", "token_return: gpu"),
        "SV007",
        8,
        54,
        "'gpu'",
        "'device'",
    ),
    "unknown sharding": (
        PLAN + "ops: {lm_head: {sharding: repl}}\n",
        "SV007",
        15,
        27,
        "sharding 'repl'",
        "'replicated'",
    ),
    "unknown layout axis": (
        with_line(5, "pp: 2}", "pp: 2, layout: [tp, ep, dp, pp]}"),
        "SV007",
        5,
        39,
        "layout axis 'ep'",
        "derived from them",
    ),
    "unknown sync phase": (
        with_line(11, "group: tp}", "group: tp, phases: [prefil]}"),
        "SV007",
        11,
        78,
        "phase 'prefil'",
        "'prefill'",
    ),
    "missing model key": (
        with_line(3, "heads: 64, ", ""),
        "SV008",
        3,
        1,
        "missing required key 'heads' in model",
        "hf_config",
    ),
    "missing sync key": (
        with_line(11, "collective: all_reduce, ", ""),
        "SV008",
        11,
        5,
        "has no 'collective'",
        "collective: all_reduce",
    ),
    "missing phases": (
        PLAN.replace(
            "phases:\n  prefill: {microbatches: 4, tokens: 8192, overlap: none}\n"
            "  decode: {microbatches: 2, batch: 64, overlap: none}\n",
            "",
        ),
        "SV008",
        1,
        1,
        "missing required key 'phases'",
        "phases:",
    ),
    "no phase": (
        PLAN.replace(
            "phases:\n  prefill: {microbatches: 4, tokens: 8192, overlap: none}\n"
            "  decode: {microbatches: 2, batch: 64, overlap: none}\n",
            "phases: {}\n",
        ),
        "SV008",
        6,
        1,
        "phases declares no phase",
        "decode:",
    ),
    "missing ffn": (
        with_line(3, "ffn: 28672, ", ""),
        "SV008",
        3,
        1,
        "'ffn' in model: layers 0-79 are dense",
        "ffn: N",
    ),
    "cluster half given": (
        with_line(4, ", gpus_per_node: 8", ""),
        "SV008",
        4,
        1,
        "'gpus_per_node' in cluster",
        "gpus_per_node: 8",
    ),
    "version missing": (
        PLAN.replace("syncverify: 1\n", ""),
        "SV009",
        1,
        1,
        "syncverify: 1",
        "first key",
    ),
    "version 2": (
        PLAN.replace("syncverify: 1", "syncverify: 2"),
        "SV009",
        1,
        13,
        "version 2",
        "syncverify: 1",
    ),
    "version string": (
        PLAN.replace("syncverify: 1", "syncverify: '1'"),
        "SV009",
        1,
        13,
        "the string '1'",
        "syncverify: 1",
    ),
    "hf config missing": (
        with_line(3, "layers: 80", "hf_config: nowhere.json, layers: 80"),
        "SV010",
        3,
        20,
        "cannot use model.hf_config 'nowhere.json': no such file",
        "relative to the plan's folder",
    ),
    "python tag": (
        PLAN + "x-run: !!python/object/apply:os.system [echo hi]\n",
        "SV011",
        15,
        8,
        "tag '!!python/object/apply:os.system' is not allowed",
        "never constructs",
    ),
    "custom tag": (with_line(2, "name:", "name: !secret"), "SV011", 2, 7, "tag '!secret'", ""),
    "recursive alias": (PLAN + "x-loop: &loop [1, *loop]\n", "SV011", 15, 9, "recursive alias", ""),
    "deep nesting": (
        PLAN + "x-deep: " + "[" * 70 + "]" * 70 + "\n",
        "SV011",
        15,
        72,
        "more than 64 levels",
        "flatten",
    ),
    "bad layers range": (
        with_line(11, "group: tp}", "group: tp, layers: '3-60'}"),
        "SV012",
        11,
        77,
        "malformed layer range '3-60'",
        '"3..60"',
    ),
    "empty layers range": (
        with_line(11, "group: tp}", "group: tp, layers: '9..3'}"),
        "SV012",
        11,
        77,
        "is empty",
        '"3..9"',
    ),
    "negative layer": (
        with_line(11, "group: tp}", "group: tp, layers: [1, -2]}"),
        "SV012",
        11,
        81,
        "negative",
        "",
    ),
    "layers keyword in a list": (
        with_line(11, "group: tp}", "group: tp, layers: [1, moe]}"),
        "SV012",
        11,
        81,
        "cannot be mixed",
        "layers: moe",
    ),
    "layers mapping": (
        with_line(11, "group: tp}", "group: tp, layers: {from: 1}}"),
        "SV012",
        11,
        77,
        "a mapping",
        "",
    ),
    "bad moe layers": (
        with_line(
            3,
            "vocab: 128256}",
            "vocab: 128256, moe: {experts: 8, top_k: 2, ffn: 8, layers: dense}}",
        ),
        "SV012",
        3,
        130,
        "'dense' is not a selector here",
        "all",
    ),
    "ranks not a mapping": (
        with_line(11, "group: tp}", "group: tp, ranks: [0, 1]}"),
        "SV012",
        11,
        76,
        "must map axes to coordinates",
        "ranks: {tp: [0, 1]",
    ),
    "ranks string coordinates": (
        with_line(11, "group: tp}", "group: tp, ranks: {tp: '0..3'}}"),
        "SV012",
        11,
        81,
        "must be an integer",
        "[0, 1, 2, 3]",
    ),
    "ranks unknown axis": (
        with_line(11, "group: tp}", "group: tp, ranks: {tensor: 0}}"),
        "SV003",
        11,
        77,
        "unknown axis 'tensor'",
        "axes: tp, sp, dp, pp, ep",
    ),
    "octal number": (
        with_line(8, "batch: 64", "batch: 010"),
        "SV013",
        8,
        36,
        "octal number 8, not 10",
        "write 10",
    ),
    "base-60 is text (YAML 1.2)": (
        with_line(8, "batch: 64", "batch: 1:04"),
        "SV005",
        8,
        36,
        "not the string '1:04'",
        "",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_input_is_one_located_problem(name):
    text, code, line, column, message_words, help_words = BAD[name]
    problem = only(text)
    assert (problem.code, problem.line, problem.column) == (code, line, column), problem.message
    assert message_words in problem.message
    assert help_words in problem.help


def test_duplicate_keys_name_both_lines():
    text = PLAN.replace("parallel: {tp: 8, pp: 2}", "parallel:\n  tp: 8\n  pp: 2\n  tp: 4")
    problem = only(text)
    assert (problem.code, problem.line, problem.column) == ("SV004", 8, 3)
    assert "duplicate key 'tp' in parallel: first at line 6, again at line 8" in problem.message
    problem = only(with_line(5, "pp: 2", "pp: 2, pp: 4"))
    assert "first at line 5 column 19, again at line 5 column 26" in problem.message


def test_several_problems_are_reported_in_one_run():
    text = with_line(5, "tp: 8", "tp: 0, pipline: 2")
    text = text.replace("all_gather", "allgather").replace(
        "group: pp}", "group: pp, layers: '1-3'}"
    )
    text = text.replace("batch: 64", "batch: 064").replace("ffn: 28672", "ffn: 28672, ffn: 1")
    found = problems(text)
    assert [(p.code, p.line) for p in found] == [
        ("SV004", 3),
        ("SV006", 5),
        ("SV003", 5),
        ("SV013", 8),
        ("SV012", 13),
        ("SV007", 14),
    ]


def test_misspelled_required_key_is_reported_once_as_unknown():
    problem = only(with_line(3, "heads: 64", "num_attention_heads: 64"))
    assert problem.code == "SV003" and "did you mean 'heads'?" in problem.help


def test_semantic_problems_are_kept_for_the_rules():
    text = (
        PLAN.replace("pp: 2}", "pp: 2, stages: [40, 39]}")
        .replace(
            "group: tp}\n  - {id: mlp-ar",
            "group: tp, layers: [0, 200], ranks: {tp: [0, 99]}, async: true, "
            "wait_before: embed}\n  - {id: mlp-ar",
        )
        .replace("id: logits", "id: attn-ar")
        + "  - {after: prefill_end, collective: all_gather, group: tp, phases: [decode], "
        "layers: 1, tensor: q}\n"
        "  - {after: down, collective: all_reduce, group: ep, role: combine}\n"
        "  - {after: qkv, collective: all_gather, group: sp, phases: [decode]}\n"
    )
    text = text.replace(
        "prefill: {microbatches: 4, tokens: 8192, overlap: none}",
        "prefill: {microbatches: 3, tokens: 8192, overlap: across_steps, tp: 3}",
    )
    plan = load(text)
    assert plan.syncs[1].layers == {0, 200} and dict(plan.syncs[1].ranks) == {"tp": {0, 99}}
    assert plan.syncs[5].after == "prefill_end" and plan.syncs[5].tensor == "q"
    assert plan.syncs[6].role == "combine" and plan.phase("prefill").overlap == "across_steps"
    assert [s.id for s in plan.syncs].count("attn-ar") == 2


# ---------------------------------------------------------------------------------- the schema


def test_schema_is_valid_draft07_with_descriptions_everywhere():
    from jsonschema import Draft7Validator

    from syncverify.schema import plan_schema

    schema = plan_schema()
    Draft7Validator.check_schema(schema)
    assert schema["$schema"] == "http://json-schema.org/draft-07/schema#"

    def objects(node):
        if isinstance(node, dict):
            if node.get("type") == "object":
                yield node
            for value in node.values():
                yield from objects(value)
        elif isinstance(node, list):
            for value in node:
                yield from objects(value)

    for obj in objects(schema):
        assert obj["additionalProperties"] is False
        for key, prop in obj["properties"].items():
            target = (
                schema["definitions"][prop["$ref"].rsplit("/", 1)[1]] if "$ref" in prop else prop
            )
            assert target.get("description"), key


def test_schema_names_match_the_plan_model():
    from syncverify import plan as model
    from syncverify.schema import plan_schema

    definitions = plan_schema()["definitions"]
    sync = definitions["syncPoint"]["properties"]
    assert sync["after"]["enum"] == list(model.ANCHORS)
    assert sync["wait_before"]["enum"] == list(model.ALL_OPS)
    assert sync["collective"]["enum"] == list(model.COLLECTIVES)
    assert sync["group"]["enum"] == list(model.GROUPS)
    assert sync["role"]["enum"] == list(model.ROLES)
    assert sorted(definitions["ops"]["properties"]) == sorted(model.ALL_OPS)
    overlap = set(model.OVERLAP_MODES["prefill"]) | set(model.OVERLAP_MODES["decode"])
    assert set(definitions["prefill"]["properties"]["overlap"]["enum"]) == overlap
    assert set(definitions["decode"]["properties"]["overlap"]["enum"]) == overlap


@needs_acceptance
@pytest.mark.parametrize(
    "path", [p for p in ACCEPTANCE_PLANS if p.name not in UNUSABLE], ids=lambda p: p.name
)
def test_acceptance_plans_validate_against_the_schema(path):
    import yaml
    from jsonschema import Draft7Validator

    from syncverify.schema import plan_schema

    errors = list(Draft7Validator(plan_schema()).iter_errors(yaml.safe_load(path.read_text())))
    assert not errors, [e.message for e in errors]


def test_schema_ships_inside_the_package():
    from importlib import resources

    assert resources.files("syncverify").joinpath("data", "plan.schema.json").is_file()


def test_a_boolean_where_a_mode_is_expected_explains_yaml_and_suggests_the_mode():
    problem = only(with_line(8, "overlap: none", "overlap: off"))
    assert "YAML 1.1 reads unquoted `off` as a boolean" in problem.help
    assert "did you mean 'none'?" in problem.help
    problem = only(with_line(8, "overlap: none", "dp_idle: 3"))
    assert problem.help == "one of: dummy_batch, skip"
