"""A misspelled required key is one finding, not two (issue 13): the unknown key, at the key,
with "did you mean" naming the required key it stands for; never also "missing required key".
"""

from pathlib import Path

import pytest

from syncverify.findings import PlanError
from syncverify.loader import load_plan

PLAN = (Path(__file__).resolve().parent.parent / "plans" / "llama-3.1-8b-tp4-dp2.yaml").read_text()


def line_of(text: str, needle: str) -> int:
    return next(n for n, line in enumerate(text.splitlines(), start=1) if needle in line)


MOE = PLAN.replace(
    "max_context: 131072}", "max_context: 131072,\n        moe: {experts: 8, top_k: 2, ffn: 2048}}"
).replace("parallel: {tp: 4, dp: 2}", "parallel: {tp: 4, dp: 2, ep: 8}")


def problems(text: str) -> list[tuple[str, int, int, str, str]]:
    with pytest.raises(PlanError) as caught:
        load_plan("plan.yaml", text=text)
    return [(p.code, p.line, p.column, p.message, p.help) for p in caught.value.problems]


def test_the_fixtures_load():
    load_plan("plan.yaml", text=PLAN)
    assert "moe:" in MOE and "ep: 8" in MOE
    load_plan("plan.yaml", text=MOE)


@pytest.mark.parametrize(
    "typo, wanted, where",
    [
        ("haeds: 32", "heads", "in model"),  # a transposition, model key
        ("hiden: 4096", "hidden", "in model"),  # a letter left out
        ("vocb: 128256", "vocab", "in model"),
        ("Hidden: 4096", "hidden", "in model"),  # case variant
        ("Haeds: 32", "heads", "in model"),  # case and transposition
        ("kv-heads: 8", "kv_heads", "in model"),  # dash variant (kv_heads is optional)
        ("num_attention_heads: 32", "heads", "in model"),  # the Hugging Face name
    ],
)
def test_a_misspelled_model_key_is_one_unknown_key(typo, wanted, where):
    original = {"heads": "heads: 32", "hidden": "hidden: 4096", "vocab": "vocab: 128256"}
    original["kv_heads"] = "kv_heads: 8"
    found = problems(PLAN.replace(original[wanted], typo, 1))
    assert len(found) == 1, found
    code, line, column, message, help = found[0]
    key = typo.split(":")[0]
    model = line_of(PLAN, "model:")
    assert (code, line) == ("SV003", model) and message == f"unknown key '{key}' {where}"
    assert PLAN.splitlines()[model - 1].find(original[wanted]) + 1 == column
    assert help.startswith(f"did you mean '{wanted}'?")


@pytest.mark.parametrize(
    "typo, wanted",
    [("colective", "collective"), ("grp", "group"), ("afterr", "after"), ("Group", "group")],
)
def test_a_misspelled_sync_key_is_one_finding_per_entry(typo, wanted):
    entry = "  - {id: dp-out, after: sample, collective: gather, group: dp}"
    text = PLAN.replace(entry, entry.replace(wanted + ":", typo + ":"))
    found = problems(text)
    assert [(code, line, message) for code, line, _, message, _ in found] == [
        ("SV003", line_of(PLAN, "id: dp-out"), f"unknown key '{typo}' in sync[4]")
    ]
    assert found[0][4].startswith(f"did you mean '{wanted}'?")


def test_every_entry_with_the_typo_gets_its_own_finding_and_no_missing_key():
    text = PLAN.replace("group: tp}", "grp: tp}")
    found = problems(text)
    tp_entries = [n for n, line in enumerate(text.splitlines(), 1) if "grp: tp}" in line]
    assert len(tp_entries) == 4
    assert [(code, line) for code, line, *_ in found] == [("SV003", n) for n in tp_entries]


@pytest.mark.parametrize(
    "typo, wanted", [("expers: 8", "experts"), ("topk: 2", "top_k"), ("Top-K: 2", "top_k")]
)
def test_a_misspelled_nested_moe_key_is_one_finding(typo, wanted):
    original = {"experts": "experts: 8", "top_k": "top_k: 2"}[wanted]
    found = problems(MOE.replace(original, typo, 1))
    assert len(found) == 1, found
    code, line, _, message, help = found[0]
    moe = line_of(MOE, "moe:")
    assert (code, line, message) == (
        "SV003",
        moe,
        f"unknown key '{typo.split(':')[0]}' in model.moe",
    )
    assert help.startswith(f"did you mean '{wanted}'?")


def test_a_misspelled_phase_is_one_finding():
    text = PLAN.replace("  prefill: {microbatches: 1, tokens: 4096}\n", "").replace(
        "  decode:", "  decod:"
    )
    found = problems(text)
    assert [(code, message) for code, _, _, message, _ in found] == [
        ("SV003", "unknown phase 'decod' in phases")
    ]
    assert found[0][4].startswith("did you mean 'decode'?")


def test_an_unrelated_unknown_key_leaves_the_missing_key_reported():
    """`colour` stands for no required key: both the unknown key and the missing one are said."""
    found = problems(PLAN.replace("vocab: 128256", "colour: 1"))
    assert sorted(code for code, *_ in found) == ["SV003", "SV008"]
    assert any("missing required key 'vocab'" in message for _, _, _, message, _ in found)


@pytest.mark.parametrize("typo", ["syncverfy", "SyncVerify", "sync_verify", "syncverify_"])
def test_a_misspelled_version_key_is_one_finding(typo: str):
    """`syncverfy: 1` is the unknown key with its "did you mean", not also "missing the plan
    format version" (SV009): one cause, one finding."""
    got = problems(PLAN.replace("syncverify: 1", f"{typo}: 1", 1))
    assert [(code, line) for code, line, *_ in got] == [("SV003", line_of(PLAN, "syncverify: 1"))]
    assert "did you mean 'syncverify'?" in got[0][4]


def test_a_plan_without_any_version_key_still_says_so():
    got = problems(PLAN.replace("syncverify: 1\n", "", 1))
    assert [code for code, *_ in got] == ["SV009"]
