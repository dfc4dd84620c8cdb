"""Which graph rule reports each record of the analyses (like flake8's code table).

Every record kind or reason (`syncverify.records`) names exactly one rule in `OWNER`,
or is in `DROPPED` with the reason no rule reports it. Rules take their records with
`records_for(analyses, CODE)`, so no two rules decide ownership with complementary predicates;
tests/analysis/test_record_owners.py checks the table is total and that every record a plan
produces reaches its rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

from syncverify.records import (
    DefectKind,
    HandoverKind,
    HangKind,
    OverlapKind,
    RaceReason,
    RedundantReason,
)

K = DefectKind
OWNER: dict[StrEnum, str] = {
    K.PARTIAL_INPUT: "SV301",
    K.NOT_REPLICATED: "SV302",
    K.SHARDED_FEATURES: "SV302",
    K.ADDENDS_HOLD_DIFFERENT_TOKENS: "SV302",
    K.KV_NOT_AGGREGATED: "SV303",
    K.MISSING_STAGE_INPUT: "SV304",
    K.EXPERT_ORDER: "SV305",
    HandoverKind.MISSING_KV: "SV306",
    K.SINK_MISSING: "SV307",
    K.MISSING_TOKEN: "SV308",
    K.WRONG_GROUP: "SV309",
    K.WRONG_COLLECTIVE: "SV309",
    RaceReason.UNAWAITED: "SV310",
    RaceReason.AWAITED_LATE: "SV310",
    RaceReason.UNORDERED: "SV310",
    RaceReason.HOST_TOKEN: "SV311",
    K.WRONG_SHARD: "SV312",
    K.MISSING_INPUT: "SV312",
    K.ADDENDS_DIFFER: "SV312",
    K.DOUBLE_REDUCTION: "SV402",
    K.REDUCE_SHARDED: "SV403",
    K.DOUBLE_DISPATCH: "SV403",
    K.COMBINE_UNDISPATCHED: "SV403",
    K.DUPLICATED: "SV403",
    K.WRONG_SHARD_BLAMED: "SV403",
    K.UNTILED_GATHER: "SV403",
    K.SCRAMBLED_TOKENS: "SV403",
    RedundantReason.BARRIER: "SV404",
    RedundantReason.IDENTITY: "SV404",
    RedundantReason.UNUSED: "SV404",
    RedundantReason.HANDOVER: "SV404",
    HangKind.MISSING_RANKS: "SV601",
    HangKind.ORDER_MISMATCH: "SV601",
    HangKind.SIZE_MISMATCH: "SV601",
    HangKind.DEADLOCK: "SV601",
    OverlapKind.COULD_BE_ASYNC: "SV704",
    K.OVERSIZED_GATHER: "SV705",
    HandoverKind.OVERSIZED: "SV705",
}

# Kinds no rule reports, and why. Behaviour kept as it was before the table; each is a gap
# to close with a rule of its own rather than a decision that the defect is harmless.
DROPPED: dict[StrEnum, str] = {
    K.DUPLICATED_UNBLAMED: "copies with no collective to blame: every gather that makes copies "
    "is blamed, so none is known; not reported (as before the table)",
    K.ADDENDS_DIFFER_BLAMED: "addends in different placements where a collective produced one: "
    "SV312 reports only unblamed ones and SV403 no add; not reported (as before the table)",
    K.OVERSIZED_GATHER_UNBLAMED: "copies reaching the output sink with no gather to blame: "
    "SV705 names the gather's group; not reported (as before the table)",
    RaceReason.UNORDERED_OPS: "two ops with no order path and no collective between them: the "
    "graph orders every op on one rank, so this needs a graph defect (SV900 is the place)",
}

# Graph rules that read no record, and what they read instead.
NO_RECORDS: dict[str, str] = {
    "SV118": "reduction-not-certified reads the certificate (Analyses.certificate)",
}


def _race_kind(race) -> RaceReason:
    """A race's reason; an unordered read with no collective between is a different kind."""
    if race.reason == RaceReason.UNORDERED and race.sync is None:
        return RaceReason.UNORDERED_OPS
    return RaceReason(race.reason)


def records(analyses) -> Iterator[tuple[StrEnum, object]]:
    """Every record of `analyses` with its kind, each source in the order the analysis made it."""
    for defect in analyses.placement.defects:
        yield defect.kind, defect
    for hang in analyses.hangs:
        yield HangKind(hang.kind), hang
    if analyses.deadlock is not None:
        yield HangKind.DEADLOCK, analyses.deadlock
    for race in analyses.races:
        yield _race_kind(race), race
    for item in analyses.redundant:
        yield RedundantReason(item.reason), item
    for item in analyses.could_be_async:
        yield OverlapKind.COULD_BE_ASYNC, item
    handover = analyses.handover
    if handover is not None and handover.missing:
        yield HandoverKind.MISSING_KV, handover
    for index in sorted(handover.oversized) if handover is not None else ():
        yield HandoverKind.OVERSIZED, index


def records_for(analyses, code: str, *kinds: StrEnum) -> list:
    """The records rule `code` reports (only those of `kinds`, when given), in analysis order."""
    return [
        record
        for kind, record in records(analyses)
        if OWNER.get(kind) == code and (not kinds or kind in kinds)
    ]
