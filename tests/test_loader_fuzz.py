"""Properties: whatever the text, the loader returns a Plan or raises PlanError, nothing else."""

import re
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from syncverify.findings import PlanError
from syncverify.loader import load_plan
from syncverify.plan import Plan
from syncverify.schema import plan_schema

ACCEPTANCE = Path(__file__).resolve().parent.parent.parent / "shared" / "acceptance" / "plans"
SEEDS = [
    p.read_text()
    for p in sorted(ACCEPTANCE.glob("*.yaml"))
    if not p.name.startswith(("16-", "17-"))
] or [
    "syncverify: 1\nmodel: {layers: 4, hidden: 64, heads: 8, ffn: 256, vocab: 1000}\n"
    "parallel: {tp: 2, pp: 2}\nphases:\n  decode: {batch: 4}\n"
    'sync:\n  - {after: o_proj, collective: all_reduce, group: tp, layers: "0..3", '
    "ranks: {tp: 0}}\n"
]
MODELS = Path(__file__).parent / "data" / "models"
FUZZ = settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
YAMLISH = st.sampled_from(
    list("{}[]:,-'\"&*!#|>?%@` \n\t")
    + [
        "\x00",
        "\ufeff",
        "010",
        "1e3",
        "no",
        "..",
        "<<: *a",
        "&a",
        "*a",
        "!!python/name:os.system",
        "- ",
        ": ",
        "null",
        "~",
        "-1",
        "9999999999",
    ]
)


def check(text: str) -> None:
    try:
        plan = load_plan("fuzz.yaml", text=text, base_dir=MODELS)
    except PlanError as error:
        assert error.problems
        for problem in error.problems:
            assert re.fullmatch(r"SV0\d\d", problem.code), problem
            assert problem.line >= 1 and problem.column >= 1 and problem.message
        return
    assert isinstance(plan, Plan)
    for phase in plan.phases:
        assert len(phase.topology.stages) == phase.degrees.pp


@st.composite
def mutated(draw):
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace-token", "swap-lines"]))
        if kind == "insert":
            text = text[:at] + draw(YAMLISH) + text[at:]
        elif kind == "delete":
            text = text[:at] + text[at + draw(st.integers(1, 12)) :]
        elif kind == "replace-token":
            tokens = list(re.finditer(r"[\w.]+", text))
            if tokens:
                token = draw(st.sampled_from(tokens))
                text = (
                    text[: token.start()]
                    + draw(st.one_of(YAMLISH, st.text(max_size=6)))
                    + text[token.end() :]
                )
        else:
            lines = text.split("\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            text = "\n".join(lines)
    return text


@FUZZ
@given(mutated())
def test_mutated_plans_give_a_plan_or_plan_error(text):
    check(text)


@FUZZ
@given(st.text(max_size=300))
def test_arbitrary_text_gives_a_plan_or_plan_error(text):
    check(text)


def from_schema(schema: dict, node: dict, depth: int = 0):
    """A strategy for instances of `node`, mostly valid, sometimes not (the loader must cope)."""
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in node:
        return st.one_of([from_schema(schema, option, depth) for option in node["anyOf"]])
    kind = node.get("type")
    if "enum" in node:
        return st.sampled_from(node["enum"])
    if "const" in node:
        return st.just(node["const"])
    if kind == "integer":
        low = node.get("minimum", 0)
        return st.integers(low, min(node.get("maximum", low + 300), low + 300))
    if kind == "string":
        if "pattern" in node:
            return st.tuples(st.integers(0, 90), st.integers(0, 90)).map(
                lambda ab: f"{ab[0]}..{ab[1]}"
            )
        return st.sampled_from(["Llama-3.1-8B.json", "Qwen3-30B-A3B.json", "DeepSeek-V3.json", "x"])
    if kind == "boolean":
        return st.booleans()
    if kind == "array":
        items = from_schema(schema, node.get("items", {}), depth + 1)
        return st.lists(
            items, min_size=node.get("minItems", 0), max_size=min(node.get("maxItems", 4), 4)
        )
    if kind == "object" and depth < 6:
        properties = node.get("properties", {})
        required = set(node.get("required", []))
        optional = (
            st.sets(st.sampled_from(sorted(properties)), max_size=6)
            if properties
            else st.just(set())
        )
        return optional.flatmap(
            lambda chosen: st.fixed_dictionaries(
                {
                    key: from_schema(schema, properties[key], depth + 1)
                    for key in sorted(chosen | required)
                }
            )
        )
    return st.none()


@settings(FUZZ, max_examples=60)
@given(st.data())
def test_plans_built_from_the_schema_load(data):
    schema = plan_schema()
    plan = data.draw(from_schema(schema, schema))
    check(yaml.safe_dump(plan, sort_keys=False))
