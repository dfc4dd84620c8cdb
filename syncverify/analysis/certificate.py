"""The certificate of the default (reduced) check: proof, plan by plan, that the cut-down graph
answers as the full unroll would, or a wider cut until it does, or an error saying it could not.

The symmetry argument (docs/semantics.md, "Symmetry") holds under conditions that a plan may
break. Each window of the reduction is checked on the plan at hand instead of assumed:

- Ranks (graph.quotient): a device is the same device in every phase, so the S5 hand-over
  compares a rank's prefill state with its decode state. A kept rank must therefore stand for the
  same real ranks in every phase; when layouts differ between phases ([dp, tp, ...] with SP
  prefill and DP decode numbers one device as tp 1 in prefill and dp 1 in decode) the rank axes
  are kept whole. So are they when an all_to_all outside MoE or a reduce_scatter runs over a
  group spanning cut replicas (dp, ep, world): it splits by the member count, which only TP's
  shares are read back through.
- Microbatches (graph.quotient.microbatch_classes): keeping the first ones and one for the rest
  is exact when no rank ever waits on a later (step, microbatch) than the one it runs: every
  order edge of the graph goes forward in (phase, step, microbatch) (pairs under two_batch,
  S16). A cycle of waits then lies inside one microbatch (and shows in the kept ones), and every
  order path between two microbatches crosses slots that all look alike. A device token carrier
  (S4) breaks it: stage 0 posts step t+1's receive only after sending every microbatch of step
  t, so whether the pipeline deadlocks depends on how many microbatches there are. Such a phase
  keeps all its microbatches.
- Layers (graph.reduction): a run of equal layers is cut to a few representatives when what a
  layer leaves for the next (the residual stream out of `mlp_residual`, on every rank,
  microbatch and step) repeats: after one layer (period 1) or after p layers. The period is
  checked on the reduced graph itself (layer a and layer a+p leave equal values); failing every
  p <= MAX_LAYER_PERIOD, the run is kept whole.
- Decode steps (graph.world.DECODE_STEPS): the last two unrolled steps must leave equal values
  for the steps after them (K/V written, the sampled token). Otherwise one more step is
  unrolled, up to MAX_STEPS.

A window that cannot be widened within the node cap (budget.FULL) is replaced by the full unroll
when --exhaustive would accept the plan (so the default check says what --exhaustive says
wherever --exhaustive runs); otherwise the check stays uncertified: the findings of the widest
graph built are reported together with an SV118 error that says which window could not be
proven (never a silent "no findings").
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from syncverify.frozenmap import FrozenMap
from syncverify.graph.nodes import Node, describe
from syncverify.graph.quotient import Classes, Reduction, quotient
from syncverify.graph.reduction import DEFAULT_PERIOD, WHOLE, period_start, run_classes, runs
from syncverify.plan import Plan

MAX_LAYER_PERIOD = 4
MAX_STEPS = 6
PHASE_ORDER = {"prefill": 0, "handover": 1, "decode": 2}
END_OF_STEP = 1 << 30  # step_end syncs (microbatch -1) come after every microbatch


@dataclass(frozen=True)
class Gap:
    """One window the certificate could not prove on this plan."""

    window: str  # "ranks" | "microbatches" | "layers" | "steps"
    detail: str  # what failed, as users read it


@dataclass(frozen=True)
class Certificate:
    """What the certified check kept, and what it could not prove (empty: exact)."""

    reduction: Reduction
    widened: tuple[Gap, ...] = ()  # windows widened after a failed check
    unproven: tuple[Gap, ...] = ()  # windows that failed and could not be widened

    @property
    def exact(self) -> bool:
        return not self.unproven


# ---- ranks ------------------------------------------------------------------------------
def rank_gaps(plan: Plan, classes: Classes) -> list[Gap]:
    """A kept rank must stand for the same physical ranks in every phase (S5 compares a
    device's prefill and decode state)."""
    names = [p.name for p in plan.phases]
    if len(names) < 2:
        return []
    first, second = (classes.ranks.get(n, {}) for n in names[:2])
    for rank in first.keys() & second.keys():
        if set(first[rank]) != set(second[rank]):
            return [
                Gap(
                    "ranks",
                    f"kept rank {rank} stands for ranks {_short(first[rank])} in "
                    f"{names[0]} but {_short(second[rank])} in {names[1]} (the layouts "
                    "number the devices differently)",
                )
            ]
    return []


# collectives whose result depends on the group's size beyond what the classes read back for
# TP (Classes.real_feature, member_weights): an all_to_all outside MoE splits features by the
# member count, a reduce_scatter splits tokens by it
SIZE_DEPENDENT = ("all_to_all", "reduce_scatter")


def size_gaps(plan: Plan, classes: Classes) -> list[Gap]:
    """A size-dependent collective over a group that spans a cut DP (or TP outside its own
    group): the kept group is smaller than the real one, so shares would read differently."""
    for sync in plan.syncs:
        if sync.collective not in SIZE_DEPENDENT or sync.role in ("dispatch", "combine"):
            continue
        if sync.group not in ("dp", "ep", "world"):
            continue
        for phase in plan.phases:
            if sync.runs_in(phase.name) and _cut(classes, phase.name):
                return [
                    Gap(
                        "ranks",
                        f"{sync.label} splits its value by the size of its "
                        f"{sync.group} group, which the reduction would cut",
                    )
                ]
    return []


def _cut(classes: Classes, phase: str) -> bool:
    tables = (classes.tp.get(phase, {}), classes.replicas.get(phase, {}))
    return any(len(real) > 1 for table in tables for real in table.values())


def _short(ranks) -> str:
    from syncverify.ranges import compact

    return compact(sorted(ranks))


# ---- microbatches ---------------------------------------------------------------------------
def microbatch_gaps(plan: Plan, graph) -> dict[str, Gap]:
    """Phases where some order edge runs back from a later (step, microbatch) to an earlier
    one: a rank waits on work the pipeline does after it."""
    two_batch = {p.name for p in plan.phases if p.overlap == "two_batch"}
    out: dict[str, Gap] = {}
    for u, v, attrs in graph.edges(data=True):
        if not attrs.get("order"):
            continue
        ku, kv = _slot_key(u, two_batch), _slot_key(v, two_batch)
        if ku is None or kv is None or ku <= kv:
            continue
        phase = _phase_of(v)
        if phase not in out:
            out[phase] = Gap(
                "microbatches",
                f"in {phase} a rank waits on a later microbatch or "
                "step than the one it runs (a token carried on the "
                "device, S4), so the outcome depends on how many "
                "microbatches there are",
            )
    return out


def _phase_of(node: Node) -> str:
    return "decode" if node.kind == "host" else node.phase


def _slot_key(node: Node, two_batch: set) -> tuple | None:
    if node.kind not in ("op", "coll", "host", "sink"):
        return None
    phase, step, mb = _phase_of(node), node.step, node.mb
    if mb is None or mb < 0:
        slot = END_OF_STEP
    else:
        slot = mb // 2 if phase in two_batch else mb
    return (PHASE_ORDER.get(phase, 0), step or 0, slot)


# ---- layers -------------------------------------------------------------------------------
def layer_gaps(plan: Plan, graph, values: dict, reduction: Reduction) -> dict[int, Gap]:
    """Runs of layers whose representatives do not repeat with the period they were cut with:
    with the repeating block starting at s, layers s-1 and s-1+p must leave the same residual
    stream on every instance (the state entering s then recurs every p layers)."""
    # layer -> instance -> what it leaves ({(tensor, member): Val}; None: nothing placed)
    exits: dict[int, dict[tuple, dict | None]] = {}
    for node in graph.nodes:
        if node.kind == "op" and node.op == "mlp_residual":
            instance = (node.phase, node.step, node.mb, node.rank)
            exits.setdefault(node.layer, {})[instance] = values.get(node)
    out: dict[int, Gap] = {}
    for a, b in runs(plan):
        period = reduction.layer_periods.get(a, DEFAULT_PERIOD)
        if period[0] <= 0 or len(run_classes(a, b, period)) == b - a + 1:
            continue  # kept whole: nothing to prove
        before = period_start(a, period) - 1
        first, later = exits.get(before, {}), exits.get(before + period[0], {})
        if any(later.get(key) != value for key, value in first.items()):
            p = period[0]
            out[a] = Gap(
                "layers",
                f"layers {a}-{b}: what layer {before} leaves for the next "
                f"layer differs from what layer {before + p} leaves (state "
                f"that does not repeat every {p} layer{'s' if p > 1 else ''})",
            )
    return out


# after (1, 0) fails: one transient layer, then periods 1 to MAX_LAYER_PERIOD, then whole
PERIOD_LADDER = [(1, 0), (1, 1)] + [(p, 1) for p in range(2, MAX_LAYER_PERIOD + 1)] + [WHOLE]


def next_period(period: tuple) -> tuple:
    """The next (period, transient) to try after `period` failed (WHOLE: keep the run whole)."""
    at = PERIOD_LADDER.index(period) if period in PERIOD_LADDER else len(PERIOD_LADDER) - 2
    return PERIOD_LADDER[min(at + 1, len(PERIOD_LADDER) - 1)]


# ---- steps --------------------------------------------------------------------------------
def step_gap(graph, values: dict, steps: int) -> Gap | None:
    """The last two unrolled decode steps must leave equal values for the steps after them."""
    if steps < 2:
        return None
    crossing = set()
    for u, v in graph.edges():
        if (
            u.kind in ("op", "coll")
            and u.phase == "decode"
            and v.kind in ("op", "coll", "host")
            and _step_of(v) is not None
            and _step_of(v) > u.step
            and u.step == steps - 2
        ):
            crossing.add(u)
    for node in crossing:
        later = node._replace(step=node.step + 1)
        if later in values and values.get(node) != values[later]:
            return Gap(
                "steps",
                f"decode steps {steps - 2} and {steps - 1} leave different "
                f"values for the next step ({_what(node)})",
            )
    return None


def _step_of(node: Node) -> int | None:
    if node.kind == "host":
        return node.step
    return node.step if node.phase == "decode" else None


def _what(node: Node) -> str:
    return describe(node)


# ---- the widening loop ---------------------------------------------------------------------
def widen(
    plan: Plan, analyses, reduction: Reduction, reduce: bool = True
) -> tuple[Reduction, list[Gap]]:
    """The next reduction to try after checking `analyses` (built with `reduction`), and the
    gaps that made it wider; the same reduction and no gap when the certificate holds."""
    graph, values = analyses.graph, analyses.placement.values
    gaps: list[Gap] = []
    if reduce:
        reduction, gaps = _widen_cuts(plan, graph, values, reduction)
    step = step_gap(graph, values, reduction.steps)
    if step is not None:
        reduction = reduction.widened(steps=reduction.steps + 1)
        gaps.append(step)
    return reduction, gaps


def _widen_cuts(
    plan: Plan, graph, values: dict, reduction: Reduction
) -> tuple[Reduction, list[Gap]]:
    """The microbatch and layer windows the reduced graph disproves, widened."""
    gaps: list[Gap] = []
    mbs = microbatch_gaps(plan, graph)
    cut_mbs = {p for p in mbs if p not in reduction.whole_microbatches}
    if cut_mbs:
        reduction = reduction.widened(whole_microbatches=reduction.whole_microbatches | cut_mbs)
        gaps += [mbs[p] for p in sorted(cut_mbs)]
    layers = layer_gaps(plan, graph, values, reduction)
    if layers:
        periods = dict(reduction.layer_periods)
        for a in layers:
            periods[a] = next_period(periods.get(a, DEFAULT_PERIOD))
        reduction = reduction.widened(layer_periods=FrozenMap(periods))
        gaps += list(layers.values())
    return reduction, gaps


def initial_reduction(plan: Plan) -> tuple[Reduction, list[Gap], list[Gap]]:
    """The symmetry argument's windows, with the rank axes kept whole where a rank check fails
    (checked before anything is built): (reduction, gaps widened, gaps still unproven)."""
    reduction = Reduction()
    gaps = _rank_checks(plan, reduction)
    if not gaps:
        return reduction, [], []
    reduction = reduction.widened(whole_axes=frozenset({"tp", "dp"}))
    still = _rank_checks(plan, reduction)
    return (
        reduction,
        gaps,
        [replace(g, detail=g.detail + "; still so with tp and dp kept whole") for g in still],
    )


def _rank_checks(plan: Plan, reduction: Reduction) -> list[Gap]:
    _, classes = quotient(plan, reduction)
    return rank_gaps(plan, classes) + size_gaps(plan, classes)


def certified_analyses(plan: Plan, reduce: bool = True):
    """The analyses of `plan` on the narrowest graph whose certificate holds (syncverify.analysis
    .run_analyses), with `.certificate` saying what was widened and what stayed unproven.
    `reduce=False` (--exhaustive) unrolls every rank, layer and microbatch; only its decode
    steps are certified."""
    from syncverify.analysis import run_analyses

    cap = node_cap(reduce)
    reduction, widened, unproven = initial_reduction(plan) if reduce else (Reduction(), [], [])
    if unproven and _fits_full_unroll(plan):
        return _unrolled(plan, widened + unproven)
    while True:
        analyses = run_analyses(plan, reduce, reduction)
        wider, gaps = widen(plan, analyses, reduction, reduce)
        if not gaps:
            break
        grown = _growth(plan, reduction, wider, analyses) * analyses.graph.number_of_nodes()
        if wider.steps > MAX_STEPS or grown > cap:
            if reduce and wider.steps <= MAX_STEPS and _fits_full_unroll(plan):
                return _unrolled(plan, widened + gaps)  # the full unroll: exact by itself
            unproven += [replace(g, detail=g.detail + _why_not(wider, grown, cap)) for g in gaps]
            break
        widened += gaps
        reduction = wider
    analyses.certificate = Certificate(reduction, tuple(widened), tuple(unproven))
    return analyses


def _fits_full_unroll(plan: Plan) -> bool:
    """Whether --exhaustive would accept `plan` (its size guard, syncverify.budget)."""
    from syncverify.budget import check_size
    from syncverify.findings import PlanError

    try:
        check_size(plan, exhaustive=True)
    except PlanError:
        return False
    return True


def _unrolled(plan: Plan, widened: list[Gap]):
    """The analyses of the full unroll (steps certified as --exhaustive's), standing in for a
    reduction that could not be proven exact within its cap."""
    analyses = certified_analyses(plan, reduce=False)
    cert = analyses.certificate
    analyses.certificate = Certificate(cert.reduction, tuple(widened) + cert.widened, cert.unproven)
    return analyses


def certified_reduction(plan: Plan) -> Reduction:
    """The reduction the default check certifies for `plan` (the widest tried when some window
    stayed unproven)."""
    return certified_analyses(plan).certificate.reduction


def node_cap(reduce: bool) -> int:
    """The most nodes a widened graph may have: the full unroll's budget (syncverify.budget
    FULL, about a minute), in both modes. A widened graph is never larger than the full one, so
    whatever --exhaustive can check the default check certifies too, and says the same (it may
    then take as long as --exhaustive: a device token carrier over many microbatches)."""
    from syncverify import budget

    limits = getattr(budget, "FULL", None)
    return limits.nodes if limits is not None else budget.MAX_DAG_NODES


def _why_not(wider: Reduction, grown: float, cap: int) -> str:
    if wider.steps > MAX_STEPS:
        return f"; no fixed point within {MAX_STEPS} decode steps"
    return f"; the wider graph (~{int(grown):,} nodes) is over the {cap:,}-node cap"


def _growth(plan: Plan, old: Reduction, new: Reduction, analyses) -> float:
    """How many times larger the graph of `new` is than that of `old` (an upper bound)."""
    from syncverify.graph.reduction import layer_classes

    factor = 1.0
    classes = analyses.classes
    for phase in new.whole_microbatches - old.whole_microbatches:
        kept = len(classes.microbatches.get(phase, {}))
        whole = plan.phase(phase)
        assert whole is not None  # whole_microbatches names phases of this plan
        real = whole.microbatches
        factor *= real / max(kept, 1)
    if new.layer_periods != old.layer_periods:
        before = len(layer_classes(plan, True, old.layer_periods))
        factor *= len(layer_classes(plan, True, new.layer_periods)) / max(before, 1)
    if new.steps != old.steps:
        factor *= new.steps / old.steps
    return factor
