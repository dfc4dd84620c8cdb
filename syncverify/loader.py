"""Plan format v1 -> a frozen `Plan` (plan-format.md), or PlanError with every problem found.

The steps, and the load problems each can report (all exit code 2):
1. read the text: missing, a directory, not UTF-8, NUL bytes (SV001); over 10 MB (SV011)
2. compose the YAML with a span for every value and key: syntax (SV002), duplicate keys (SV004),
   alias bombs, recursive aliases, deep nesting, non-standard tags (SV011)
3. the format version `syncverify: 1` (SV009)
4. the JSON Schema (`syncverify/data/plan.schema.json`): unknown keys (SV003), wrong types
   (SV005), out-of-range values (SV006), unknown names (SV007), missing keys (SV008); and by hand
   what a schema cannot say: selector syntax (SV012), the layout permutation (SV006), numbers
   YAML 1.1 reads unlike they look (SV013); layer selectors naming more than
   budget.MAX_SELECTED_LAYERS indices in all (SV014)
5. `model.hf_config` (SV010), then defaults and resolution into the Plan dataclasses.

Semantic problems are not load problems: a stage split that does not add up, a world size
that does not match the cluster, layer indices past the model, coordinates past an axis, async
under `overlap: none` and the like are kept as written for the static rules to report.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from syncverify.budget import MAX_SELECTED_LAYERS
from syncverify.findings import PlanError
from syncverify.frozenmap import FrozenMap
from syncverify.load_codes import (
    AMBIGUOUS_NUMBER,
    HF_CONFIG_UNREADABLE,
    INVALID_VALUE,
    MISSING_KEY,
    PLAN_TOO_LARGE,
    UNSUPPORTED_VERSION,
    WRONG_TYPE,
)
from syncverify.plan import (
    AXES,
    DEFAULT_LAYOUT,
    LAYOUT_AXES,
    PHASES,
    Cluster,
    Degrees,
    Model,
    MoE,
    Phase,
    Plan,
    SyncPoint,
)
from syncverify.problems import Problems
from syncverify.schema import validate
from syncverify.selectors import (
    check_layers,
    check_ranks,
    parse_layers,
    parse_ranks,
    selected_count,
)
from syncverify.span import Span
from syncverify.topology import Topology
from syncverify.yamlnodes import Document, compose, dotted, read_text

SYNC_LAYER_KEYWORDS = ("all", "dense", "moe")
MOE_LAYER_KEYWORDS = ("all",)
REQUIRED_MODEL_KEYS = ("layers", "hidden", "heads", "vocab")
MINIMAL_PLAN = """syncverify: 1
model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256}
parallel: {tp: 8}
phases:
  decode: {microbatches: 1, batch: 64}
sync:
  - {after: o_proj, collective: all_reduce, group: tp}"""


def load_plan(
    path, *, text: str | None = None, display_path: str | None = None, base_dir=None
) -> Plan:
    """Load the plan at `path` (or `text`, e.g. read from stdin) into a frozen Plan.

    `display_path` is the name findings carry (default: `path` as given); `base_dir` is where a
    relative `model.hf_config` is looked up (default: the plan's folder, or the current folder
    for stdin). Raises PlanError carrying every problem found, each located at line:column.
    """
    path = os.fspath(path)
    problems = Problems(display_path or path)
    source = read_text(path, text, problems)
    if source is None:
        raise problems.error()
    doc = compose(source, problems)
    if doc.fatal or not _is_plan(doc, problems) or not _version_supported(doc, problems):
        raise problems.error()
    flagged = validate(doc, problems)
    _check_by_hand(doc, problems)
    _report_traps(doc, problems, flagged)
    hf = _read_hf_config(doc, problems, path, base_dir)
    if problems:
        raise problems.error()
    plan = _Resolver(doc, hf, problems).plan()
    if problems or plan is None:
        raise problems.error()
    return plan


# ---------------------------------------------------------------------------------- checks


def _is_plan(doc: Document, problems: Problems) -> bool:
    if doc.data is None:
        problems.add(
            MISSING_KEY,
            Span(1, 1),
            "the plan is empty",
            help="a plan starts like this:\n" + MINIMAL_PLAN,
        )
        return False
    if not isinstance(doc.data, dict):
        kind = "a list" if isinstance(doc.data, list) else f"the single value {doc.data!r}"
        problems.add(
            WRONG_TYPE,
            doc.spans.get((), Span(1, 1)),
            f"a plan is a mapping of keys (syncverify, model, phases, ...), not {kind}",
            help="a plan starts like this:\n" + MINIMAL_PLAN,
        )
        return False
    return True


def _misspelled_version_key(data: dict) -> bool:
    from syncverify.suggest import suggest  # an error path only

    return any(suggest(key, ["syncverify"]) for key in data if isinstance(key, str))


def _version_supported(doc: Document, problems: Problems) -> bool:
    """False only for a version this syncverify cannot read (nothing else is worth checking)."""
    if "syncverify" not in doc.data:
        if _misspelled_version_key(doc.data):
            return True  # the unknown-key problem says "did you mean 'syncverify'?": one cause
        problems.add(
            UNSUPPORTED_VERSION,
            doc.spans.get((), Span(1, 1)),
            "missing the plan format version `syncverify: 1`",
            help="add `syncverify: 1` as the plan's first key",
        )
        return True
    version = doc.data["syncverify"]
    span = doc.spans[("syncverify",)]
    if isinstance(version, (int, float)) and not isinstance(version, bool) and version == 1:
        return True
    if isinstance(version, str) and version.strip().lstrip("vV") in ("1", "1.0"):
        problems.add(
            UNSUPPORTED_VERSION,
            span,
            f"the format version is the string '{version}', not the number 1",
            help="write `syncverify: 1`",
        )
        return True
    problems.add(
        UNSUPPORTED_VERSION,
        span,
        f"unsupported plan format version {version!r}: this syncverify reads version 1",
        help="write `syncverify: 1` for a plan in format v1, or upgrade syncverify",
    )
    return False


def _check_by_hand(doc: Document, problems: Problems) -> None:
    """What the schema cannot say: selector syntax and the layout permutation."""
    data = doc.data
    if not _selectors_fit(doc, problems):
        return
    moe = _get(data, "model", "moe")
    if isinstance(moe, dict) and "layers" in moe:
        check_layers(doc, problems, ("model", "moe", "layers"), MOE_LAYER_KEYWORDS)
    syncs = data.get("sync")
    for index, sync in enumerate(syncs if isinstance(syncs, list) else []):
        if isinstance(sync, dict) and "layers" in sync:
            check_layers(doc, problems, ("sync", index, "layers"), SYNC_LAYER_KEYWORDS)
        if isinstance(sync, dict) and "ranks" in sync:
            check_ranks(doc, problems, ("sync", index, "ranks"))
    _check_layout(doc, problems)


def _selectors_fit(doc: Document, problems: Problems) -> bool:
    """SV014 when the layer selectors together name more indices than syncverify expands:
    each becomes a set of layers, so a few hundred `"0..99999"` would cost gigabytes."""
    moe = _get(doc.data, "model", "moe")
    selectors: list[tuple[tuple[str | int, ...], Any]] = (
        [(("model", "moe", "layers"), moe.get("layers"))] if isinstance(moe, dict) else []
    )
    selectors += [
        (("sync", i, "layers"), s.get("layers"))
        for i, s in enumerate(_list(doc.data.get("sync")))
        if isinstance(s, dict)
    ]
    total = 0
    for path, selector in selectors:
        total += selected_count(selector)
        if total > MAX_SELECTED_LAYERS:
            problems.add(
                PLAN_TOO_LARGE,
                doc.span_at(path),
                f"the layer selectors up to {dotted(path)} name {total:,} layer indices, "
                f"more than the {MAX_SELECTED_LAYERS:,} syncverify expands",
                help="write `layers: all`, `dense` or `moe` for a sync point that applies "
                "to every such layer",
            )
            return False
    return True


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def _check_layout(doc: Document, problems: Problems) -> None:
    layout = _get(doc.data, "parallel", "layout")
    if not isinstance(layout, list) or not all(
        isinstance(a, str) and a in LAYOUT_AXES for a in layout
    ):
        return  # a wrong type or an unknown axis: the schema reports it
    if sorted(layout) == sorted(LAYOUT_AXES):
        return
    missing = [a for a in LAYOUT_AXES if a not in layout]
    twice = [a for a in LAYOUT_AXES if layout.count(a) > 1]
    why = ([f"{', '.join(missing)} missing"] if missing else []) + (
        [f"{', '.join(twice)} repeated"] if twice else []
    )
    problems.add(
        INVALID_VALUE,
        doc.spans[("parallel", "layout")],
        f"parallel.layout [{', '.join(layout)}] is not an ordering of tp, sp, dp, pp: "
        f"{'; '.join(why)}",
        help="list each of tp, sp, dp and pp once, fastest-varying first, "
        "e.g. `layout: [tp, sp, dp, pp]` (the default)",
    )


def _report_traps(doc: Document, problems: Problems, flagged: set) -> None:
    for path, (message, help) in doc.traps.items():
        if any(path[:n] in flagged for n in range(len(path) + 1)):
            continue
        problems.add(AMBIGUOUS_NUMBER, doc.spans[path], f"{dotted(path)}: {message}", help)


def referenced_hf_config(path: str) -> str | None:
    """The file the plan at `path` names as `model.hf_config` (None: none, or the plan does not
    read as YAML), so that outputs are never written over it."""
    problems = Problems(path)
    source = read_text(path, None, problems)
    doc = compose(source, problems) if source is not None else None
    if doc is None or doc.fatal:
        return None
    reference = _get(doc.data, "model", "hf_config")
    return (
        str(_hf_path(reference, path, None)) if isinstance(reference, str) and reference else None
    )


def _hf_path(reference: str, path: str, base_dir) -> Path:
    """Where `model.hf_config: reference` points for the plan at `path`."""
    return (
        Path(reference) if Path(reference).is_absolute() else _hf_base(path, base_dir) / reference
    )


def _hf_base(path: str, base_dir) -> Path:
    """The folder a relative `model.hf_config` is read from."""
    base = (
        Path(base_dir)
        if base_dir is not None
        else (Path(path).parent if path not in ("-", "") else Path.cwd())
    )
    return base.absolute()


def _read_hf_config(doc: Document, problems: Problems, path: str, base_dir) -> dict | None:
    reference = _get(doc.data, "model", "hf_config")
    if not isinstance(reference, str) or not reference:
        return None
    # imported only for a plan that names a config: a plain plan's load does not pay for it
    from syncverify.hfconfig import HfConfigError, read_hf_config

    resolved, base = _hf_path(reference, path, base_dir), _hf_base(path, base_dir)
    try:
        return read_hf_config(resolved)
    except HfConfigError as exc:
        problems.add(
            HF_CONFIG_UNREADABLE,
            doc.spans[("model", "hf_config")],
            f"cannot use model.hf_config '{reference}': {exc}",
            help=f"the path is relative to the plan's folder ({base}); "
            "or write the model's keys under `model` instead",
        )
        return None


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


# ---------------------------------------------------------------------------------- resolution


def stage_split(layers: int, pp: int, explicit: tuple[int, ...] | None) -> tuple[int, ...]:
    """Layers per stage: `explicit` when it fits (pp entries adding up to `layers`), else an even
    split, else a best-effort one (the first stages get one layer more). The static rules
    report an explicit split that does not fit and an uneven split nobody wrote."""
    if explicit is not None and len(explicit) == pp and sum(explicit) == layers:
        return explicit
    base, extra = divmod(layers, pp)
    return tuple(base + (1 if stage < extra else 0) for stage in range(pp))


def infer_role(after: str, collective: str) -> str | None:
    """An all_to_all's role when not written: after router it dispatches, after experts it
    combines."""
    if collective != "all_to_all":
        return None
    return {"router": "dispatch", "experts": "combine"}.get(after)


class _Resolver:
    """Builds the Plan from validated data: hf_config merged under the written keys, defaults."""

    def __init__(self, doc: Document, hf: dict | None, problems: Problems):
        self.doc, self.hf, self.problems = doc, hf, problems
        self.data = doc.data
        self.spans = dict(doc.spans)

    def plan(self) -> Plan | None:
        model = self.model()
        if model is None:
            return None
        block = self.data.get("parallel", {})
        parallel = _degrees(block, Degrees())
        layout = tuple(block.get("layout", DEFAULT_LAYOUT))
        explicit = tuple(int(n) for n in block["stages"]) if "stages" in block else None
        phases = tuple(
            self.phase(name, parallel, layout, explicit, model.layers)
            for name in PHASES
            if name in self.data["phases"]
        )
        syncs = tuple(
            self.sync(index, entry, model) for index, entry in enumerate(self.data.get("sync", []))
        )
        cluster = self.data.get("cluster")
        return Plan(
            path=self.problems.file,
            text=self.doc.text,
            name=str(self.data.get("name") or Path(self.problems.file).stem),
            model=model,
            parallel=parallel,
            layout=layout,
            explicit_stages=explicit,
            phases=phases,
            syncs=syncs,
            cluster=Cluster(int(cluster["nodes"]), int(cluster["gpus_per_node"]))
            if cluster
            else None,
            op_sharding=FrozenMap(
                (op, entry["sharding"]) for op, entry in self.data.get("ops", {}).items()
            ),
            spans=FrozenMap(self.spans),
            written=frozenset(p for p in self.doc.spans if p and p[0] != "@key"),
        )

    # model

    def model(self) -> Model | None:
        written = self.data["model"]
        hf = self.hf or {}
        values = {k: v for k, v in hf.items() if k != "moe"}
        values.update({k: v for k, v in written.items() if k not in ("moe", "hf_config")})
        self._locate_hf_values(written, hf)
        missing = [k for k in REQUIRED_MODEL_KEYS if k not in values]
        if missing:
            for key in missing:
                self.missing(("model",), key)
            return None
        layers = int(values["layers"])
        moe = self.moe(written.get("moe"), hf.get("moe"), layers, values.get("ffn"))
        if moe is False:
            return None
        dense = [n for n in range(layers) if moe is None or n not in moe.layers]
        if "ffn" not in values and dense:
            from syncverify.ranges import compact  # an error message only

            self.missing(("model",), "ffn", f"layers {compact(dense)} are dense")
            return None
        heads, hidden = int(values["heads"]), int(values["hidden"])
        return Model(
            layers=layers,
            hidden=hidden,
            heads=heads,
            kv_heads=int(values.get("kv_heads", heads)),
            head_dim=int(values.get("head_dim", hidden // heads)),
            vocab=int(values["vocab"]),
            ffn=int(values["ffn"]) if "ffn" in values else None,
            mla=bool(values.get("mla", False)),
            max_context=int(values["max_context"]) if "max_context" in values else None,
            moe=moe,
            hf_config=written.get("hf_config"),
        )

    def moe(self, written: dict | None, from_hf: dict | None, layers: int, ffn) -> Any:
        """The MoE block (None: a dense model; False: after reporting what is missing)."""
        if written is None and from_hf is None:
            return None
        merged = dict(from_hf or {})
        merged.update(written or {})
        missing = [k for k in ("experts", "top_k") if k not in merged]
        if "ffn" not in merged and ffn is None:
            missing.append("ffn")
        for key in missing:
            self.missing(("model", "moe"), key)
        if missing:
            return False
        return MoE(
            experts=int(merged["experts"]),
            top_k=int(merged["top_k"]),
            layers=self._moe_layers(written or {}, merged, layers),
            shared_experts=int(merged.get("shared_experts", 0)),
            ffn=int(merged.get("ffn", ffn)),
        )

    @staticmethod
    def _moe_layers(written: dict, merged: dict, layers: int) -> frozenset[int]:
        if "layers" in written:
            chosen = parse_layers(written["layers"], MOE_LAYER_KEYWORDS)
            # "all" is the one keyword MOE_LAYER_KEYWORDS allows
            return frozenset(range(layers)) if isinstance(chosen, str) else chosen
        return merged.get("layers", frozenset(range(layers)))

    def missing(self, path: tuple, key: str, why: str = "") -> None:
        """A required model key neither the plan nor its hf_config gives."""
        if "hf_config" in self.data["model"]:
            from syncverify.hfconfig import HF_FIELDS

            field = HF_FIELDS.get("moe_ffn" if path[-1] == "moe" and key == "ffn" else key, key)
            self.problems.add(
                HF_CONFIG_UNREADABLE,
                self.doc.spans[("model", "hf_config")],
                f"model.hf_config gives no {field} and the plan does not set "
                f"{dotted(path + (key,))}" + (f" ({why})" if why else ""),
                help=f"add `{key}: ...` under {dotted(path)}",
            )
            return
        span = self.doc.spans.get(("@key",) + path) or self.doc.spans.get(path, Span(1, 1))
        what = (
            "the per-expert width (moe_intermediate_size)"
            if path[-1] == "moe" and key == "ffn"
            else "the dense MLP width (intermediate_size)"
            if key == "ffn"
            else key
        )
        self.problems.add(
            MISSING_KEY,
            span,
            f"missing required key '{key}' in {dotted(path)}" + (f": {why}" if why else ""),
            help=f"add `{key}: N`, {what}, under {dotted(path)}"
            + (", or `ffn` under model (the default)" if path[-1] == "moe" else ""),
        )

    def _locate_hf_values(self, written: dict, hf: dict) -> None:
        """Values read from hf_config are located at the `hf_config` value."""
        if not hf:
            return
        at = self.doc.spans[("model", "hf_config")]
        for key in hf:
            if key not in written:
                self.spans[("model", key)] = at
        for key in hf.get("moe", {}):
            if key not in (written.get("moe") or {}):
                self.spans[("model", "moe", key)] = at

    # phases and sync points

    def phase(self, name: str, parallel: Degrees, layout: tuple, explicit, layers: int) -> Phase:
        block = self.data["phases"][name]
        degrees = _degrees(block, parallel)
        topology = Topology(
            sizes=FrozenMap((a, degrees.of(a)) for a in AXES),
            layout=layout,
            stages=stage_split(layers, degrees.pp, explicit),
        )
        return Phase(
            name=name,
            degrees=degrees,
            topology=topology,
            microbatches=int(block.get("microbatches", 1)),
            tokens=int(block["tokens"]) if "tokens" in block else None,
            batch=int(block.get("batch", 1)),
            overlap=block.get("overlap", "none"),
            dp_idle=block.get("dp_idle", "dummy_batch"),
            token_return=block.get("token_return", "host"),
        )

    def sync(self, index: int, entry: dict, model: Model) -> SyncPoint:
        return SyncPoint(
            index=index,
            after=entry["after"],
            collective=entry["collective"],
            group=entry["group"],
            id=entry.get("id"),
            tensor=entry.get("tensor"),
            role=entry.get("role") or infer_role(entry["after"], entry["collective"]),
            phases=tuple(entry.get("phases", PHASES)),
            layers=_sync_layers(entry["layers"], model) if "layers" in entry else None,
            is_async=bool(entry.get("async", False)),
            wait_before=entry.get("wait_before"),
            ranks=FrozenMap(parse_ranks(entry["ranks"])) if "ranks" in entry else None,
        )


def _degrees(block: dict, base: Degrees) -> Degrees:
    return Degrees(**{axis: int(block.get(axis, base.of(axis))) for axis in AXES})


def _sync_layers(selector: Any, model: Model) -> frozenset[int] | None:
    chosen = parse_layers(selector, SYNC_LAYER_KEYWORDS)
    if chosen == "all":
        return None
    if chosen == "dense":
        return model.dense_layers
    if chosen == "moe":
        return model.moe_layers
    assert not isinstance(chosen, str), chosen  # parse_layers allows only SYNC_LAYER_KEYWORDS
    return chosen


__all__ = ["PlanError", "infer_role", "load_plan", "stage_split"]
