"""How large a plan syncverify agrees to check, decided before anything is built (SV014).

The checker unrolls a plan into a DAG whose size grows with ranks x layers x microbatches x
steps. The schema caps each number alone (tp <= 65,536, layers <= 100,000, ...), but their
product can still reach billions of nodes: a few bytes of YAML would then hang the checker or
exhaust memory. So `check_size(plan, exhaustive)` estimates from the plan's numbers, in time
proportional to the sync points, the layer-selector runs and the selector classes (never to the
DAG), what the check would build and walk, and refuses the plan with a located SV014 problem
(exit code 2) giving the estimate and the limit when one is over its cap. The caps are set so
that a default check ends within about 2 s and 300 MB on a 2-core machine (issue 11).

Each cap below reads: what is counted; its limit for the default check / for `--exhaustive`
and `simulate`; the measured cost of one unit (CPU, this machine):

- `MAX_RANKS` ranks in a phase: 65,536 / 65,536; static rules walk ranks.
- `MAX_RANK_WALKS` ranks x sync points: 1,000,000 / 1,000,000; ~2 us: a finding is told rank
  by rank (dp 65,536, 10 hanging selectors: 2.2 s).
- estimated DAG nodes: 20,000 (`MAX_CHECKED_NODES`) / 250,000 (`MAX_DAG_NODES`); 65-140 us and
  2-2.6 KB (pp 1-8: 65 us; 405B exhaustive, 197,152 estimated: 19 s, 510 MB).
- estimated DAG edges: 60,000 / 750,000; ~90 us for a decode x prefill microbatch pair
  (200 x 200: 416,000 estimated, 33 s, 357 MB); 3 per node otherwise.
- vector-clock entries, nodes x ranks: 4,000,000 / 16,000,000; ~0.2 us and 8 bytes (pp 64:
  21,582 nodes x 128 ranks, 0.6 s).
- chained sync pairs: 2,000,000 (`MAX_SYNC_PAIRS`) / 2,000,000; ~0.5 us: the redundancy check
  re-judges the values read below a dropped sync in its chain (300 broadcasts at one anchor:
  2,899,392, 1.1 s; 400: 3.4 s).
- `MAX_LAYER_SCANS` layers x sync points: 2,000,000 / 2,000,000; the layer-symmetry scan,
  ~4 us each.
- `MAX_SELECTED_LAYERS` layer indices named: 1,000,000 / 1,000,000; a set element each (the
  loader checks it).

`--exhaustive` and `simulate` are held to the default check's caps as well (on the reduced
estimate), so that the default check verifies whatever `--exhaustive` can. The default check's
caps keep every shipped plan (plans/, the acceptance plans, bench/scale.py's
generated plans: at most 10,608 estimated nodes) checkable; `--exhaustive` and `simulate` unroll
everything, asked for by name, and are held to about a minute (the shipped Llama-3.1-405B plan:
197,152 nodes, 19 s; with 10 microbatches, 492,880 nodes, refused). `bench/cost.py` prints time
and memory against sync points, selectors and pp (docs/robustness.md, "Cost model").

The node estimate follows what the graph package builds (docs/semantics.md): by default the
representative layers of each run (graph.reduction, at most 4 per run), the representative ranks
(TP coordinates, DP replicas) and microbatches (graph.quotient), 3 decode steps and 1 prefill
pass, one extra graph per idle-replica scenario (S17); `--exhaustive` unrolls every layer,
replica and microbatch. It is an upper bound of the nodes built (tests/test_budget.py compares
it with real graphs), so a plan under the cap never builds more than the cap. Edges: 3 per node
(measured 1.7-2.6), plus the decode attention's reads of each prefill microbatch's K/V and the
host's hand-over of each prefill sample to each decode microbatch (S5). Chained sync pairs: a
rank issues the blocking syncs of one anchor back to back, each after the last completed (S7),
so they make a chain of collective nodes; leaving one out (analysis.redundancy) empties the
clocks of the rest of its chain, in constant time, but the values read below it in the chain
are judged again: k value-moving syncs at one anchor cost k x k per instance of the anchor
(barriers move none and are not counted).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from syncverify.load_codes import PLAN_TOO_LARGE
from syncverify.plan import DENSE_LAYER_OPS, LAYER_OPS, MOE_LAYER_OPS, Phase, Plan, SyncPoint
from syncverify.problems import Problems

MAX_RANKS = 65_536
MAX_CHECKED_NODES = 20_000
MAX_CHECKED_EDGES = 60_000
MAX_CLOCK_ENTRIES = 4_000_000
MAX_DAG_NODES = 250_000
MAX_DAG_EDGES = 750_000
MAX_FULL_CLOCK_ENTRIES = 16_000_000
MAX_SYNC_PAIRS = 2_000_000
MAX_RANK_WALKS = 1_000_000
EDGES_PER_NODE = 3  # measured: 1.7 to 2.6 edges per node, before the microbatch pairs
MAX_LAYER_SCANS = 2_000_000
MAX_SELECTED_LAYERS = 1_000_000
DECODE_STEPS = 3  # graph.world.DECODE_STEPS: steps 0, 1 and 2 (docs/semantics.md)
LAYER_REPRESENTATIVES = 4  # graph.reduction: the first two and last two layers of a run
OPS_PER_LAYER = len(MOE_LAYER_OPS)
OPS_OUTSIDE_LAYERS = 4  # embed, final_norm, lm_head, sample
HOST_AND_SINK = 2  # the host's token slot and the output sink, per step and microbatch


@dataclass(frozen=True)
class Limits:
    """The caps one kind of run is held to."""

    nodes: int
    edges: int
    clock_entries: int
    sync_pairs: int


# the default check builds the reduced graph: held to about 2 s and 300 MB on this machine
CHECK = Limits(
    nodes=MAX_CHECKED_NODES,
    edges=MAX_CHECKED_EDGES,
    clock_entries=MAX_CLOCK_ENTRIES,
    sync_pairs=MAX_SYNC_PAIRS,
)
# --exhaustive and `simulate` unroll everything, asked for by name: held to about a minute
FULL = Limits(
    nodes=MAX_DAG_NODES,
    edges=MAX_DAG_EDGES,
    clock_entries=MAX_FULL_CLOCK_ENTRIES,
    sync_pairs=MAX_SYNC_PAIRS,
)


@dataclass(frozen=True)
class Estimate:
    """What one phase unrolls to, factor by factor."""

    phase: Phase
    ranks: int
    layers: int
    microbatches: int
    steps: int
    graphs: int
    nodes: int
    edges: int = 0
    sync_pairs: int = 0
    worst_chain: SyncPoint | None = None  # the first sync of the longest chain
    chain: int = 0  # how many blocking syncs that chain holds


def check_size(plan: Plan, exhaustive: bool = False) -> None:
    """Raise PlanError (SV014) when `plan` is too large to check; return quietly otherwise.

    Time: the plan's syncs x phases, plus the selector classes (ranks + coordinates named);
    never the DAG: a refusal takes milliseconds whatever the numbers."""
    problems = Problems(plan.path)
    too_many = [p for p in plan.phases if p.degrees.world > MAX_RANKS]
    if too_many:
        _too_many_ranks(plan, too_many, problems)
        raise problems.error()
    walks = {
        p.name: p.degrees.world * sum(1 for s in plan.syncs if s.runs_in(p.name))
        for p in plan.phases
    }
    if sum(walks.values()) > MAX_RANK_WALKS:
        worst = max(plan.phases, key=lambda p: walks[p.name])
        _too_many_walks(plan, worst, sum(walks.values()), problems)
        raise problems.error()
    scans = plan.model.layers * max(len(plan.syncs), 1)
    if scans > MAX_LAYER_SCANS:
        problems.add(
            PLAN_TOO_LARGE,
            plan.span(("model", "layers")),
            f"model.layers x sync points is {plan.model.layers:,} x {len(plan.syncs):,} "
            f"= {scans:,}, more than the {MAX_LAYER_SCANS:,} syncverify scans",
            help="no served model has that many layers and sync points; check the numbers",
        )
        raise problems.error()
    # --exhaustive is held to the default check's caps too: the default check must verify
    # whatever --exhaustive can (a plan refused by default is refused in every mode)
    _within_limits(plan, estimate(plan), CHECK, False, problems)
    if exhaustive:
        _within_limits(plan, estimate(plan, exhaustive=True), FULL, True, problems)


def _within_limits(
    plan: Plan, estimates: list, limits: Limits, exhaustive: bool, problems: Problems
) -> None:
    """Raise PlanError (SV014) at the first of `limits` the estimates are over."""
    worst = max(estimates, key=lambda e: e.nodes)
    total = sum(e.nodes for e in estimates)
    if total > limits.nodes:
        _too_many_nodes(plan, worst, total, limits.nodes, exhaustive, problems)
        raise problems.error()
    edges = sum(e.edges for e in estimates)
    if edges > limits.edges:
        _too_much(
            plan,
            worst,
            f"about {edges:,} DAG edges",
            limits.edges,
            "DAG edges",
            exhaustive,
            problems,
        )
        raise problems.error()
    width = max((e.ranks for e in estimates), default=1)
    if total * width > limits.clock_entries:
        _too_much(
            plan,
            worst,
            f"{total:,} DAG nodes x {width:,} ranks = {total * width:,} vector-clock entries",
            limits.clock_entries,
            "entries",
            exhaustive,
            problems,
        )
        raise problems.error()
    pairs = sum(e.sync_pairs for e in estimates)
    if pairs > limits.sync_pairs:
        _too_many_pairs(plan, max(estimates, key=lambda e: e.sync_pairs), pairs, limits, problems)
        raise problems.error()


def estimate(plan: Plan, exhaustive: bool = False) -> list[Estimate]:
    """An upper bound of the DAG nodes each phase unrolls to (all scenarios together), with
    the edges and the redundancy check's sync pairs that go with them."""
    layers = plan.model.layers if exhaustive else representative_layers(plan)
    graphs = 1 + idle_scenarios(plan, exhaustive)
    prefill = plan.phase("prefill")
    out = []
    for phase in plan.phases:
        d = phase.degrees
        ranks = d.world if exhaustive else kept_ranks(plan, phase)
        microbatches = phase.microbatches if exhaustive else kept_microbatches(phase)
        steps = DECODE_STEPS if phase.name == "decode" else 1
        per_layer = sum(1 for s in plan.syncs if s.is_per_layer and s.runs_in(phase.name))
        other = sum(1 for s in plan.syncs if not s.is_per_layer and s.runs_in(phase.name))
        stage_ranks = ranks // d.pp
        # each rank unrolls its own stage's layers: over all stages, every unrolled layer once
        per_mb = (
            stage_ranks
            * (layers * (OPS_PER_LAYER + per_layer) + d.pp * (OPS_OUTSIDE_LAYERS + other))
            + HOST_AND_SINK
        )
        nodes = graphs * steps * microbatches * per_mb
        edges = EDGES_PER_NODE * nodes
        if phase.name == "decode" and prefill is not None:
            # every decode attention reads the prompt's K/V of each prefill microbatch, and the
            # host hands each prefill sample to each decode microbatch (S5): microbatches squared
            prompt = prefill.microbatches if exhaustive else kept_microbatches(prefill)
            edges += graphs * prompt * microbatches * (steps * stage_ranks * layers + stage_ranks)
        chain, first = _longest_chain(plan, phase.name)
        pairs = (
            sum(
                count * count * (stage_ranks * layers if per else d.pp * stage_ranks)
                for count, per in _chains(plan, phase.name)
            )
            * microbatches
            * steps
        )
        out.append(
            Estimate(
                phase,
                stage_ranks * d.pp,
                layers,
                microbatches,
                steps,
                graphs,
                nodes,
                edges,
                pairs,
                first,
                chain,
            )
        )
    return out


def _chains(plan: Plan, phase: str) -> list[tuple[int, bool]]:
    """(blocking syncs, per layer) at each anchor: a rank issues them back to back, each
    after the last has completed, so they make one chain of collective nodes (S7)."""
    counts: dict[str, int] = {}
    for sync in _chained(plan, phase):
        counts[sync.after] = counts.get(sync.after, 0) + 1
    return [(count, anchor in LAYER_OPS) for anchor, count in counts.items()]


def _chained(plan: Plan, phase: str) -> list[SyncPoint]:
    """The syncs whose chain costs pairs: blocking, not point-to-point, and moving a value
    (leaving out one of a chain re-judges the values read below it in the chain; barriers move
    none, and analysis.redundancy handles their chains in linear time)."""
    return [
        s
        for s in plan.syncs
        if s.runs_in(phase) and not s.is_async and s.collective not in ("send_recv", "barrier")
    ]


def _longest_chain(plan: Plan, phase: str) -> tuple[int, SyncPoint | None]:
    by_anchor: dict[str, list[SyncPoint]] = {}
    for sync in _chained(plan, phase):
        by_anchor.setdefault(sync.after, []).append(sync)
    longest = max(by_anchor.values(), key=len, default=[])
    return len(longest), (longest[0] if longest else None)


def layout_refusal(world: int, pp: int, microbatches: int) -> tuple[str, str] | None:
    """For `syncverify init`, before a plan is written out: (option, why) when a layout is
    too large to check whatever the model, from a lower bound of its reduced graph (every
    stage runs at least one dense layer for each kept microbatch, in prefill and 3 decode
    steps); None when it may fit."""
    if world > MAX_RANKS:
        return (
            "world",
            f"the layout runs on {world:,} ranks, more than the {MAX_RANKS:,} syncverify checks",
        )
    kept = min(microbatches, pp + 2)
    least = (1 + DECODE_STEPS) * kept * pp * len(DENSE_LAYER_OPS)
    if least > MAX_CHECKED_NODES:
        return "pp", (
            f"{pp:,} stages x {kept:,} microbatches would unroll to at least {least:,} "
            f"DAG nodes, more than the {MAX_CHECKED_NODES:,} syncverify checks"
        )
    return None


def representative_layers(plan: Plan) -> int:
    """How many layers graph.reduction unrolls at most: up to 4 per run of equal layers.

    A run ends at a stage start (in any phase) or where the layer's template changes: where
    MoE starts or stops, or a per-layer sync's `layers` selector starts or stops applying.
    """
    count = plan.model.layers
    starts = {0}
    for phase in plan.phases:
        total = 0
        for layers in phase.topology.stages:
            starts.add(total)
            total += layers
    chosen = {id(s.layers): s.layers for s in plan.syncs if s.is_per_layer and s.layers is not None}
    if plan.model.moe is not None:
        chosen[id(plan.model.moe.layers)] = plan.model.moe.layers
    for selected in chosen.values():
        starts.update(_edges(selected))
    bounds = sorted(s for s in starts if 0 <= s < count) + [count]
    return sum(min(end - start, LAYER_REPRESENTATIVES) for start, end in itertools.pairwise(bounds))


def _edges(selected: frozenset) -> set[int]:
    """Where a set of layers starts or stops: the first layer of each run in or out of it."""
    return {i for i in selected if i - 1 not in selected} | {
        i + 1 for i in selected if i + 1 not in selected
    }


def kept_ranks(plan: Plan, phase: Phase) -> int:
    """The ranks graph.quotient keeps (its own rule, so the estimate cannot drift)."""
    from syncverify.graph.quotient import ranks_kept

    return ranks_kept(plan, phase)


def kept_microbatches(phase: Phase) -> int:
    """The microbatches graph.quotient keeps (pp + 2; pairs under two_batch)."""
    from syncverify.graph.quotient import microbatch_classes

    return len(microbatch_classes(phase))


def idle_scenarios(plan: Plan, exhaustive: bool = False) -> int:
    """S17: one more graph per phase under `dp_idle: skip` (per kept replica when selectors name
    dp: the replicas graph.quotient keeps, every replica with --exhaustive)."""
    count = 0
    for phase in plan.phases:
        if phase.dp_idle != "skip" or phase.degrees.dp == 1:
            continue
        by_dp = any(s.ranks and "dp" in s.ranks for s in plan.syncs if s.runs_in(phase.name))
        replicas = phase.degrees.dp if exhaustive else kept_replicas(plan, phase)
        count += replicas if by_dp else 1
    return count


def kept_replicas(plan: Plan, phase: Phase) -> int:
    """The DP replicas graph.quotient keeps."""
    from syncverify.graph.quotient import replicas_kept

    return replicas_kept(plan, phase)


# ---------------------------------------------------------------------------------- reports


def _degree_path(plan: Plan, phase: Phase, axis: str) -> tuple:
    """Where the phase's degree on `axis` was written: the phase override, else `parallel`."""
    override = ("phases", phase.name, axis)
    return override if override in plan.written else ("parallel", axis)


def _too_many_ranks(plan: Plan, phases: list[Phase], problems: Problems) -> None:
    """One problem per place to blame: phases sharing the culprit degree are named together."""
    axes = ("tp", "sp", "dp", "pp")
    blamed: dict[tuple, list[Phase]] = {}
    for phase in phases:
        largest = max(axes, key=phase.degrees.of)
        blamed.setdefault((_degree_path(plan, phase, largest), largest), []).append(phase)
    for (path, axis), group in blamed.items():
        d = group[0].degrees
        names = " and ".join(p.name for p in group)
        product = " x ".join(f"{a} {d.of(a):,}" for a in axes if d.of(a) > 1)
        problems.add(
            PLAN_TOO_LARGE,
            plan.span(path),
            f"{names} run{'s' if len(group) == 1 else ''} on {d.world:,} ranks ({product}), "
            f"more than the {MAX_RANKS:,} syncverify checks",
            help=f"check the degrees: {axis} = {d.of(axis):,} is the largest factor",
        )


def _blame(plan: Plan, worst: Estimate) -> tuple:
    """Where a size problem points: the written factor that contributes most."""
    phase, d = worst.phase, worst.phase.degrees
    factors = {
        _degree_path(plan, phase, max(("tp", "sp", "dp", "pp"), key=d.of)): worst.ranks,
        ("model", "layers"): worst.layers,
        ("phases", phase.name, "microbatches"): worst.microbatches,
        ("phases", phase.name, "dp_idle"): worst.graphs,
    }
    written = [path for path in factors if path in plan.written]
    return max(written, key=factors.__getitem__) if written else ("phases", phase.name)


def _factors(worst: Estimate) -> str:
    scenarios = f" x {worst.graphs} idle-replica scenarios" if worst.graphs > 1 else ""
    return (
        f"{worst.phase.name}: {worst.ranks:,} ranks x {worst.layers:,} layers x "
        f"{worst.microbatches:,} microbatches x {worst.steps} steps{scenarios}"
    )


def _way_out(exhaustive: bool) -> str:
    return (
        "drop --exhaustive: representative layers, replicas and microbatches give the same findings"
        if exhaustive
        else "check the numbers; a smaller model of the same layout (fewer layers or microbatches) "
        "has the same sync points"
    )


def _too_many_walks(plan: Plan, worst: Phase, walks: int, problems: Problems) -> None:
    d = worst.degrees
    axis = max(("tp", "sp", "dp", "pp"), key=d.of)
    syncs = sum(1 for s in plan.syncs if s.runs_in(worst.name))
    problems.add(
        PLAN_TOO_LARGE,
        plan.span(_degree_path(plan, worst, axis)),
        f"findings are told rank by rank: {worst.name} runs {d.world:,} ranks x {syncs:,} "
        f"sync points, {walks:,} rank walks in all phases, more than the "
        f"{MAX_RANK_WALKS:,} syncverify checks",
        help=f"check the degrees ({axis} = {d.of(axis):,}) and the sync list",
    )


def _too_many_nodes(
    plan: Plan, worst: Estimate, total: int, limit: int, exhaustive: bool, problems: Problems
) -> None:
    problems.add(
        PLAN_TOO_LARGE,
        plan.span(_blame(plan, worst)),
        f"the plan would unroll to about {total:,} DAG nodes, more than the "
        f"{limit:,} syncverify checks ({_factors(worst)})",
        help=_way_out(exhaustive),
    )


def _too_much(
    plan: Plan,
    worst: Estimate,
    amount: str,
    limit: int,
    unit: str,
    exhaustive: bool,
    problems: Problems,
) -> None:
    problems.add(
        PLAN_TOO_LARGE,
        plan.span(_blame(plan, worst)),
        f"the check would walk {amount}, more than the {limit:,} {unit} syncverify "
        f"checks ({_factors(worst)})",
        help=_way_out(exhaustive),
    )


def _too_many_pairs(
    plan: Plan, worst: Estimate, pairs: int, limits: Limits, problems: Problems
) -> None:
    first = worst.worst_chain
    at = first.path if first is not None else ("sync",)
    problems.add(
        PLAN_TOO_LARGE,
        plan.span(at),
        f"the redundancy check would judge about {pairs:,} pairs of blocking sync points "
        f"issued back to back, more than the {limits.sync_pairs:,} syncverify checks (the "
        f"longest run: {worst.chain:,} after {first.after if first else '?'}, from here)",
        help="one sync point per collective is enough; check for repeated lines",
    )


__all__ = [
    "CHECK",
    "FULL",
    "MAX_CHECKED_NODES",
    "MAX_DAG_NODES",
    "MAX_LAYER_SCANS",
    "MAX_RANKS",
    "MAX_SELECTED_LAYERS",
    "Estimate",
    "Limits",
    "check_size",
    "estimate",
]
