"""Fuzzing the whole checker: strategies for plan texts and the property every run must keep.

Shared by tests/test_fuzz.py (1,000 fresh examples a run under the "ci" profile) and bench/fuzz.py
(100,000+ seeded).
Three sources of texts:
- `yaml_documents()`: random YAML (plan keys and values mixed with noise), as text;
- `mutated_plans()`: small correct plans with 1-4 mutations (delete, duplicate, retype or rename a
  key, a random degree or sync field, a duplicated line);
- `valid_plans()`: schema-valid plans, synthesized for random small layouts or drawn from the
  JSON schema's enums and ranges.
`check_text(text)` runs `syncverify check` (in-process, json format) and asserts the property:
no crash (no exception, no SV900), exit code 0, 1 or 2, every finding inside the file, and every
rank and layer a finding names exists in the plan.

Graph-building inputs stay tiny: models of 1-3 layers, degrees up to 2-4, and while fuzzing the
size guard's DAG cap is lowered to FUZZ_MAX_DAG_NODES (larger mutants are refused with SV014 at
once, which the property also accepts), so an example costs milliseconds, not seconds.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import random
import re

import yaml
from hypothesis import strategies as st

from syncverify import budget
from syncverify.commands.check import CheckArguments, check
from syncverify.plan import ALL_OPS, ANCHORS, COLLECTIVES, GROUPS
from syncverify.schema import plan_schema
from syncverify.synthesis import synthesize_plan

FUZZ_MAX_DAG_NODES = 700
ONE = {"layers": 1, "hidden": 64, "heads": 4, "kv_heads": 2, "ffn": 128, "vocab": 100}
TWO = {"layers": 2, "hidden": 256, "heads": 8, "kv_heads": 4, "ffn": 512, "vocab": 1000}
THREE_MOE = {
    "layers": 3,
    "hidden": 256,
    "heads": 8,
    "kv_heads": 2,
    "ffn": 512,
    "vocab": 1000,
    "moe": {"experts": 4, "top_k": 2, "layers": "1..2", "shared_experts": 1, "ffn": 128},
}
MODELS = (ONE, TWO, THREE_MOE)
AXES = ("tp", "pp", "dp", "sp", "ep")
PLAN_KEYS = (
    "syncverify",
    "name",
    "model",
    "cluster",
    "parallel",
    "phases",
    "sync",
    "ops",
    "prefill",
    "decode",
    "layers",
    "hidden",
    "heads",
    "kv_heads",
    "ffn",
    "vocab",
    "moe",
    "experts",
    "top_k",
    "microbatches",
    "tokens",
    "batch",
    "overlap",
    "dp_idle",
    "token_return",
    "after",
    "collective",
    "group",
    "async",
    "wait_before",
    "ranks",
    "tensor",
    "role",
    "id",
    "stages",
    "layout",
    "nodes",
    "gpus_per_node",
    "x-extra",
) + AXES
ODD_VALUES = (
    0,
    -1,
    1,
    2,
    3,
    7,
    2.5,
    10**12,
    "",
    "x",
    "0..1",
    "1..0",
    "all",
    "moe",
    "none",
    "yes",
    True,
    False,
    None,
    [],
    [0],
    [1, "0..1"],
    {},
    {"tp": 0},
    {"a": 1},
    "tp",
    "all_reduce",
)


# ---------------------------------------------------------------------------------- property

# Inputs that once crashed the checker (an SV900 finding), found by fuzzing and fixed; each
# stays as a regression test (tests/test_fuzz.py). Each entry: what crashed -> the smallest input.
PAST_CRASHES = {
    # a race whose consumer waits at the output sink (a 4-tuple node) was read as an op node
    "rule SV310 (unawaited-collective) crashed: IndexError: tuple index out of range": (
        "syncverify: 1\n"
        "model: {layers: 2, hidden: 256, heads: 8, kv_heads: 4, ffn: 512, vocab: 1000}\n"
        "parallel: {dp: 2}\nphases:\n"
        "  prefill: {microbatches: 1, tokens: 16, overlap: comm_compute}\n"
        "  decode: {microbatches: 1, batch: 4, overlap: comm_compute}\nsync:\n"
        "  - {after: sample, collective: gather, group: dp, async: true}\n"
        "  - {after: sample, collective: gather, group: dp, async: true}\n"
    ),
}


def finding_where_problems(finding: dict, worlds: dict, layers: int) -> list[str]:
    """What is wrong with a finding's `where`: ranks or layers the plan does not have."""
    where = finding.get("where", {})
    phases = [p.strip() for p in where.get("phase", "").split(",") if p.strip()]
    phases = ["decode" if p == "handover" else p for p in phases]
    world = max((worlds.get(p, 0) for p in phases), default=max(worlds.values(), default=0))
    wrong = []
    ranks = where.get("ranks") or ""
    if re.match(r"(tp|sp|dp|pp|ep) ", ranks):
        # a selector's coordinates on one axis (SV112 names those past the axis): not ranks
        return [] if finding["category"] == "config" else [f"axis coordinates {ranks!r} as ranks"]
    for rank in _numbers(ranks):
        if not 0 <= rank < world:
            wrong.append(f"rank {rank} is not in a world of {world}")
    for layer in _numbers(where.get("layers")):
        if not 0 <= layer < layers:
            wrong.append(f"layer {layer} is not one of the model's {layers}")
    return wrong


def _numbers(text) -> list[int]:
    """The ends of every range a range text names: "0-3, 6" -> 0, 3, 6; ">= 4" -> 4."""
    if not text or text == "none":
        return []
    out = []
    for part in re.split(r",\s*", text):
        match = re.fullmatch(r"(?:>= )?(-?\d+)(?:-(-?\d+))?", part.strip())
        assert match, f"unreadable range {text!r}"
        out += [int(n) for n in match.groups() if n is not None]
    return out


@contextlib.contextmanager
def small_graphs(cap: int = FUZZ_MAX_DAG_NODES):
    """Lower the size guard's cap while fuzzing: larger plans are refused (SV014) at once."""
    saved = budget.MAX_DAG_NODES
    budget.MAX_DAG_NODES = cap
    try:
        yield
    finally:
        budget.MAX_DAG_NODES = saved


def run_check(text: str) -> tuple[int, dict, str]:
    out, err = io.StringIO(), io.StringIO()
    arguments = CheckArguments(
        ("-",), format="json", isolated=True, stdin_filename="fuzz.yaml", stdin=io.StringIO(text)
    )
    code = check(arguments, out, err)
    return code, json.loads(out.getvalue()), err.getvalue()


def check_text(text: str) -> int:
    """Run the checker on `text` and assert the property; returns the exit code."""
    code, report, err = run_check(text)
    assert code in (0, 1, 2), code
    assert report["summary"]["exit_code"] == code
    lines = text.split("\n")
    worlds, layers = _shape(text)
    for f in report["findings"]:
        assert f["code"] != "SV900", f"crash: {f['message']}"
        assert 1 <= f["line"] <= len(lines), f
        assert 1 <= f["column"] <= len(lines[f["line"] - 1]) + 1, f
        assert f["line"] <= f["end_line"] <= len(lines), f
        if f["end_line"] == f["line"]:
            assert f["column"] <= f["end_column"], f
        assert f["end_column"] <= len(lines[f["end_line"] - 1]) + 1, f
        if not f["code"].startswith("SV0"):
            assert not finding_where_problems(f, worlds, layers), (f, worlds, layers)
    if code == 2:
        assert any(f["code"].startswith("SV0") for f in report["findings"]), report
    assert "Traceback" not in err
    return code


def _shape(text: str) -> tuple[dict, int]:
    """Each phase's world size and the model's layers, as the loader read them (when it does)."""
    from syncverify.findings import PlanError
    from syncverify.loader import load_plan

    try:
        plan = load_plan("fuzz.yaml", text=text)
    except PlanError:
        return {}, 0
    return {p.name: p.degrees.world for p in plan.phases}, plan.model.layers


# ---------------------------------------------------------------------------------- sources

JUNK_KEYS = ("", "pipline", "tpp", "Model", "sync ", "ñ", "1", "<<", "x-")
SCALAR_POOL = ODD_VALUES[:20] + ANCHORS + COLLECTIVES + GROUPS + JUNK_KEYS
NOISE = (
    "{",
    "]",
    "\t",
    "&a ",
    "*a",
    "!!python/name:os.system ",
    "<<: *a\n",
    "\x00",
    "\ufeff",
    "010",
    "1:30",
    "no",
    "- ",
    ": ",
    "---\n",
    "%YAML 1.2\n",
    "'",
    '"',
    "#",
    "|\n",
    "? ",
)
SEEDS = st.integers(0, 2**32 - 1)


def _random_data(rng: random.Random, depth: int = 0):
    """A random value: plan keys and values with noise, nested a few levels."""
    roll = rng.random()
    if depth >= 4 or roll < 0.45:
        return rng.choice(SCALAR_POOL) if rng.random() < 0.8 else rng.randint(-3, 70)
    if roll < 0.65:
        return [_random_data(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {
        rng.choice(PLAN_KEYS + JUNK_KEYS): _random_data(rng, depth + 1)
        for _ in range(rng.randint(0, 5))
    }


def random_document(seed: int) -> str:
    """Random YAML text for `seed`: mostly plan-shaped (the plan's top keys over random values),
    sometimes a raw text edit of it (unbalanced brackets, tabs, anchors, tags, odd bytes)."""
    rng = random.Random(seed)
    if rng.random() < 0.5:
        data = {"syncverify": rng.choice([1, 1, "1", 2])}
        for key in ("model", "parallel", "phases", "sync"):
            if rng.random() < 0.8:
                data[key] = _random_data(rng, 1)
    else:
        data = _random_data(rng)
    text = yaml.safe_dump(data, sort_keys=False, default_flow_style=rng.random() < 0.5)
    for _ in range(rng.choice([0, 0, 1, 2])):
        at = rng.randint(0, len(text))
        text = text[:at] + rng.choice(NOISE) + text[at:]
    return text


def yaml_documents():
    # hypothesis draws the seed; the document is built by a plain PRNG, which is two orders of
    # magnitude faster than drawing a recursive structure value by value
    return SEEDS.map(random_document)


def _paths(data, prefix=()):
    """Every key path in nested dicts/lists (the root excluded)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield prefix + (key,)
            yield from _paths(value, prefix + (key,))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            yield prefix + (i,)
            yield from _paths(value, prefix + (i,))


def _parent(data, path):
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def small_layouts(draw):
    model = draw(st.sampled_from(MODELS))
    tp, pp, dp = (draw(st.sampled_from([1, 2])) for _ in range(3))
    moe = "moe" in model
    ep = draw(st.sampled_from(sorted({1, tp, tp * dp}))) if moe else 1
    overlap = draw(st.sampled_from(["none", "comm_compute", "two_batch"]))
    mb = 2 if overlap == "two_batch" else draw(st.sampled_from([1, 2]))
    sp = 2 if not moe and dp == 1 and draw(st.booleans()) else 1
    return {
        "model": model,
        "tp": tp,
        "pp": min(pp, model["layers"]),
        "dp": dp,
        "ep": ep,
        "overlap": overlap,
        "prefill_sp": sp,
        "decode_dp": 2 if sp > 1 else None,
        "prefill_microbatches": mb,
        "decode_microbatches": mb,
        "token_return": draw(st.sampled_from(["host", "device"])),
        "tokens": 16,
        "batch": 4,
    }


def _sync_field(draw, field: str):
    choices = {
        "after": ANCHORS,
        "collective": COLLECTIVES,
        "group": GROUPS,
        "wait_before": ALL_OPS + ("nowhere",),
        "async": (True, False),
        "tensor": ("q", "kv", "x"),
        "role": ("dispatch", "combine"),
        "phases": (["prefill"], ["decode"], ["prefill", "decode"], [], ["steps"]),
        "layers": ("all", "dense", "moe", "0..1", [0], [2], "1..0", 5),
        "ranks": ({"tp": 0}, {"pp": 1}, {"dp": [0, 1]}, {"tp": 5}, {"zz": 0}, {"ep": 0}),
    }
    return draw(st.sampled_from(choices[field]))


@st.composite
def mutated_plans(draw):
    """A small correct plan with 1-4 random mutations, as text."""
    plan = synthesize_plan(**draw(small_layouts()))
    for _ in range(draw(st.integers(1, 4))):
        plan = _mutate(draw, plan)
    text = yaml.safe_dump(plan, sort_keys=False, default_flow_style=draw(st.booleans()))
    if draw(st.integers(0, 5)) == 0:  # a duplicated line: duplicate keys, items
        lines = text.split("\n")
        at = draw(st.integers(0, len(lines) - 1))
        lines.insert(at, lines[at])
        text = "\n".join(lines)
    return text


def _mutate(draw, plan: dict) -> dict:
    plan = copy.deepcopy(plan)
    kind = draw(
        st.sampled_from(
            [
                "delete",
                "duplicate",
                "retype",
                "rename",
                "degree",
                "sync-field",
                "sync-field",
                "degree",
            ]
        )
    )
    paths = list(_paths(plan))
    if kind == "degree":
        where = draw(st.sampled_from([("parallel",), ("phases", "prefill"), ("phases", "decode")]))
        block = plan
        for key in where:
            block = block.setdefault(key, {}) if isinstance(block, dict) else None
        if isinstance(block, dict):
            block[draw(st.sampled_from(AXES))] = draw(st.sampled_from([1, 2, 3, 4]))
        return plan
    syncs = (
        [s for s in plan.get("sync") or [] if isinstance(s, dict)]
        if isinstance(plan.get("sync"), list)
        else []
    )
    if kind == "sync-field" and syncs:
        sync = draw(st.sampled_from(syncs))
        field = draw(
            st.sampled_from(
                [
                    "after",
                    "collective",
                    "group",
                    "wait_before",
                    "async",
                    "tensor",
                    "role",
                    "phases",
                    "layers",
                    "ranks",
                ]
            )
        )
        sync[field] = _sync_field(draw, field)
        return plan
    if not paths:
        return plan
    path = draw(st.sampled_from(paths))
    parent = _parent(plan, path)
    key = path[-1]
    if kind == "delete":
        del parent[key]
    elif kind == "duplicate" and isinstance(parent, list):
        parent.insert(key, copy.deepcopy(parent[key]))
    elif kind == "rename" and isinstance(parent, dict):
        new = draw(st.one_of(st.sampled_from(PLAN_KEYS), st.text(min_size=1, max_size=6)))
        parent[new] = parent.pop(key)
    else:  # retype (and duplicate/rename's fallback)
        parent[key] = draw(st.sampled_from(ODD_VALUES))
    return plan


@st.composite
def valid_plans(draw):
    """A plan the schema accepts: synthesized for a random small layout, or drawn from the
    schema's own enums and (capped) ranges."""
    if draw(st.booleans()):
        return yaml.safe_dump(synthesize_plan(**draw(small_layouts())), sort_keys=False)
    return schema_plan(draw(SEEDS))


SMALL_INTEGERS = {
    "layers": (1, 3),
    "microbatches": (1, 3),
    "tokens": (1, 64),
    "batch": (1, 8),
    "nodes": (1, 2),
    "gpus_per_node": (1, 8),
    "experts": (1, 8),
    "top_k": (1, 2),
}


def schema_plan(seed: int) -> str:
    """A schema instance for `seed` with small numbers and a small model."""
    rng = random.Random(seed)
    schema = plan_schema()
    data = _from_schema(rng, schema, schema)
    data["syncverify"] = 1
    written = data.get("model") if isinstance(data.get("model"), dict) else {}
    data["model"] = dict(
        rng.choice(MODELS),
        **{k: v for k, v in written.items() if k in ("kv_heads", "head_dim", "mla")},
    )
    return yaml.safe_dump(data, sort_keys=False)


def _from_schema(rng: random.Random, schema: dict, node: dict, name: str = "", depth: int = 0):
    """An instance of a schema node with small numbers (degrees 1-4, layers 1-3, ...)."""
    while "$ref" in node:
        node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
    if "anyOf" in node:
        return _from_schema(rng, schema, rng.choice(node["anyOf"]), name, depth)
    if "enum" in node:
        return rng.choice(node["enum"])
    if "const" in node:
        return node["const"]
    kind = node.get("type")
    if kind == "integer":
        low = node.get("minimum", 0)
        lo, hi = SMALL_INTEGERS.get(name, (low, low + (3 if name in AXES else 2)))
        return rng.randint(max(lo, low), hi)
    if kind == "string":
        return rng.choice(
            ["0..1", "1..2", "0..0"] if "pattern" in node else ["a", "b", "tp-ar", "x"]
        )
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "array":
        size = rng.randint(node.get("minItems", 0), min(node.get("maxItems", 4), 4))
        items = [
            _from_schema(rng, schema, node.get("items", {}), name, depth + 1) for _ in range(size)
        ]
        if node.get("uniqueItems"):
            items = [item for i, item in enumerate(items) if item not in items[:i]]
        return items
    if kind == "object" and depth < 5:
        properties = {k: v for k, v in node.get("properties", {}).items() if k != "hf_config"}
        chosen = set(rng.sample(sorted(properties), min(len(properties), rng.randint(0, 6))))
        chosen |= set(node.get("required", [])) & set(properties)
        return {
            key: _from_schema(rng, schema, properties[key], key, depth + 1)
            for key in sorted(chosen)
        }
    return None


SOURCES = {"yaml": yaml_documents, "mutated": mutated_plans, "valid": valid_plans}

__all__ = [
    "FUZZ_MAX_DAG_NODES",
    "PAST_CRASHES",
    "SOURCES",
    "check_text",
    "mutated_plans",
    "small_graphs",
    "valid_plans",
    "yaml_documents",
]
