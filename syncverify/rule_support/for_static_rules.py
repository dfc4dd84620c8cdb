"""Small helpers the static rules share: where a value was written, which phases a sync runs
in, and how numbers read in messages. Not a rule module (it defines no RULE).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from fractions import Fraction
from typing import TYPE_CHECKING, TypeVar

from syncverify.findings import Where
from syncverify.plan import LAYOUT_AXES, Phase, Plan, SyncPoint

if TYPE_CHECKING:
    from syncverify.rule import Context, Rule

K = TypeVar("K", bound=Hashable)  # what merge_phases groups phases by
F = TypeVar("F", bound=Hashable)  # the facts report_merged hands to `describe`


def is_written(plan: Plan, path: tuple) -> bool:
    """Whether the user wrote the key at `path` (as opposed to a default)."""
    path = tuple(path)
    return path in plan.written or path in plan.spans


def degree_path(plan: Plan, phase: str, axis: str) -> tuple:
    """The key path that sets `axis` for `phase`: the phase override, else `parallel.<axis>`.

    A degree nobody wrote points at `parallel` (or the nearest written ancestor).
    """
    override = ("phases", phase, axis)
    return override if is_written(plan, override) else ("parallel", axis)


def phase_key_path(plan: Plan, phase: str, key: str, fallback: str | None = None) -> tuple:
    """`phases.<phase>.<key>` if written, else `phases.<phase>.<fallback>` if that is written,
    else the phase itself."""
    for candidate in (key, fallback):
        if candidate and is_written(plan, ("phases", phase, candidate)):
            return ("phases", phase, candidate)
    return ("phases", phase)


def world_override_path(plan: Plan, phase: str) -> tuple | None:
    """The first layout degree `phase` overrides, if any."""
    for axis in LAYOUT_AXES:
        if is_written(plan, ("phases", phase, axis)):
            return ("phases", phase, axis)
    return None


def is_token_carrier(plan: Plan, sync: SyncPoint) -> bool:
    """S4: the sync that carries the sampled token from the last stage to stage 0 on device."""
    decode = plan.phase("decode")
    return (
        decode is not None
        and decode.token_return == "device"
        and sync.after == "sample"
        and sync.collective in ("send_recv", "broadcast")
        and sync.group in ("pp", "world")
    )


def sync_phases(plan: Plan, sync: SyncPoint) -> list[Phase]:
    """The plan's phases in which `sync` has instances (the plan's order).

    `step_end` exists only in decode (S14) and the S4 token carrier runs in decode only; a
    `prefill_end` sync runs between the phases over the decode phase's groups (S5), so it is
    counted as decode's.
    """
    if sync.after == "prefill_end":
        decode = plan.phase("decode")
        return [decode] if decode is not None and plan.phase("prefill") is not None else []
    phases = [p for p in plan.phases if sync.runs_in(p.name)]
    if sync.after == "step_end" or is_token_carrier(plan, sync):
        phases = [p for p in phases if p.name == "decode"]
    return phases


def group_size(phase: Phase, group: str) -> int:
    if group == "world":
        return phase.degrees.world
    return phase.degrees.of(group)


def merge_phases(plan: Plan, key: Callable[[Phase], K | None]) -> list[tuple[list[Phase], K]]:
    """Group the plan's phases by `key(phase)` (None: skip the phase), in plan order.

    Rules use it so that one defect in a shared degree gives one finding, not one per phase.
    """
    groups: dict[K, list[Phase]] = {}
    for phase in plan.phases:
        value = key(phase)
        if value is not None:
            groups.setdefault(value, []).append(phase)
    return [(phases, value) for value, phases in groups.items()]


def in_phases(plan: Plan, phases: Iterable[Phase]) -> str:
    """ " in prefill" when the finding holds for some of the plan's phases only, else ""."""
    names = [p.name for p in phases]
    if len(names) == len(plan.phases):
        return ""
    return " in " + " and ".join(names)


def ranges(values: Iterable[int]) -> str:
    """Sorted integers as ranges: [0, 1, 2, 5] -> "0-2, 5"."""
    items = sorted(set(values))
    parts, start = [], None
    for i, v in enumerate(items):
        if start is None:
            start = v
        if i + 1 == len(items) or items[i + 1] != v + 1:
            parts.append(str(start) if start == v else f"{start}-{v}")
            start = None
    return ", ".join(parts)


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count} {word if count == 1 else (many or word + 's')}"


def percent(fraction: Fraction) -> str:
    value = float(fraction) * 100
    return f"{value:.0f}%" if value == round(value) else f"{value:.1f}%"


def selected_layers(plan: Plan, sync: SyncPoint) -> list[int]:
    """The model layers a per-layer sync applies to where its anchor op exists."""
    model = plan.model
    return [
        layer
        for layer in range(model.layers)
        if sync.applies_to_layer(layer) and sync.after in model.layer_ops(layer)
    ]


def layer_path(sync: SyncPoint, plan: Plan) -> tuple:
    """`sync[i].layers` when written, else the sync's `after`."""
    return (
        sync.path + ("layers",)
        if is_written(plan, sync.path + ("layers",))
        else sync.path + ("after",)
    )


def report_merged(
    ctx: Context,
    rule: Rule,
    key: Callable[[Phase], tuple[tuple, F] | None],
    describe: Callable[[F, str], tuple[str, str]],
) -> None:
    """One finding per group of phases with the same `key(phase) = (path, facts)`.

    `describe(facts, suffix)` gives (message, help); `suffix` names the phases (" in decode")
    when the finding holds for some of the plan's phases only.
    """
    for phases, (path, facts) in merge_phases(ctx.plan, key):
        message, fix = describe(facts, in_phases(ctx.plan, phases))
        ctx.report(
            rule,
            at=path,
            message=message,
            help=fix,
            where=Where(phase=", ".join(p.name for p in phases)),
        )


def divisors_near(n: int, around: int) -> list[int]:
    """The divisors of `n` closest to `around` from below and above (for help texts)."""
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    below = [d for d in divisors if d < around]
    above = [d for d in divisors if d > around]
    return ([below[-1]] if below else []) + ([above[0]] if above else [])


def one_of(values: list[int]) -> str:
    return " or ".join(str(v) for v in values)


def article(word: str) -> str:
    """'an all_reduce', 'a barrier'."""
    return ("an " if word[:1] in "aeiou" else "a ") + word


def report_indivisible(
    ctx: Context,
    rule: Rule,
    count: int,
    axis: str,
    message: Callable[[int, str], str],
    suggest_from: int | None = None,
    degree_of: Callable[[Phase], int] | None = None,
    more_help: str = "",
) -> None:
    """S20's divisibility checks: a finding per phase group where `count` does not divide by the
    phase's degree on `axis` (or `degree_of(phase)`), at that degree's key.

    `message(degree, suffix)` words it; the help suggests the nearest degrees that divide
    `suggest_from` (default `count`: pass a gcd to suggest degrees that fix other checks too).
    """
    plan = ctx.plan
    degree_of = degree_of or (lambda phase: phase.degrees.of(axis))

    def key(phase):
        degree = degree_of(phase)
        return (degree_path(plan, phase.name, axis), degree) if count % degree else None

    def describe(degree, suffix):
        choices = one_of(divisors_near(suggest_from or count, degree))
        return message(
            degree, suffix
        ), f"use {article(axis)} that divides {count}, e.g. {axis}: {choices}{more_help}"

    report_merged(ctx, rule, key, describe)
