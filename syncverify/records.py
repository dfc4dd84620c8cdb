"""What the graph analyses hand to the graph rules: record kinds, reasons and typed payloads.

Every placement defect, hang, race and redundancy carries a kind or reason from an enum below,
and each defect kind a small frozen payload with named fields (`DEFECT_PAYLOADS` says which).
The enums are `StrEnum`s whose values are the words the analyses always used, so a reason read
as text (a dict key, a comparison) is unchanged.

Payload fields that name ranks, replicas or DAG nodes are typed `Ranks`, `Group`, `Replicas`,
`Contributions` or `Node`: these hold representatives of the graph the analyses ran on (the
reduced graph by default, graph.quotient), and the type says how each maps to real values (a
set of ranks to every rank its members stand for; a group to the real group it stands for).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import NewType

Node = NewType("Node", tuple)  # a DAG node of the analysed graph (graph.nodes)
Ranks = NewType("Ranks", tuple)  # sorted representative ranks (a set of ranks)
Group = NewType("Group", tuple)  # the sorted members of one group instance (a communicator)
Replicas = NewType("Replicas", tuple)  # sorted representative DP replica indices
Contributions = NewType("Contributions", tuple)  # ((representative rank, times summed), ...)
NO_RANKS = Ranks(())
NO_GROUP = Group(())


class DefectKind(StrEnum):
    """An unmet requirement the placement analysis found. Where the same requirement goes to a
    different rule depending on whether a collective is to blame, the analysis reports two
    kinds (the `_BLAMED` / `_UNBLAMED` pairs), so the kind alone names the rule."""

    MISSING_TOKEN = "missing-token"
    MISSING_STAGE_INPUT = "missing-stage-input"
    MISSING_INPUT = "missing-input"
    EXPERT_ORDER = "expert-order"
    PARTIAL_INPUT = "partial-input"
    DUPLICATED = "duplicated"  # a collective gathered copies
    DUPLICATED_UNBLAMED = "duplicated-unblamed"
    SHARDED_FEATURES = "sharded-features"
    KV_NOT_AGGREGATED = "kv-not-aggregated"
    WRONG_SHARD = "wrong-shard"  # the op's input, no collective to blame
    WRONG_SHARD_BLAMED = "wrong-shard-blamed"  # a collective handed the op the wrong shard
    ADDENDS_DIFFER = "addends-differ"  # same tokens, different placement, no collective to blame
    ADDENDS_DIFFER_BLAMED = "addends-differ-blamed"
    ADDENDS_HOLD_DIFFERENT_TOKENS = "addends-hold-different-tokens"
    NOT_REPLICATED = "not-replicated"
    WRONG_GROUP = "wrong-group"
    WRONG_COLLECTIVE = "wrong-collective"
    REDUCE_SHARDED = "reduce-sharded"
    DOUBLE_REDUCTION = "double-reduction"
    UNTILED_GATHER = "untiled-gather"
    SCRAMBLED_TOKENS = "scrambled-tokens"
    DOUBLE_DISPATCH = "double-dispatch"
    COMBINE_UNDISPATCHED = "combine-undispatched"
    OVERSIZED_GATHER = "oversized-gather"  # a gather after sample hands the sink copies
    OVERSIZED_GATHER_UNBLAMED = "oversized-gather-unblamed"
    SINK_MISSING = "sink-missing"


class WrongGroupReason(StrEnum):
    DIFFERENT_TOKENS = "different-tokens"  # members hold different requests' tokens
    EXTRA_CONTRIBUTIONS = "extra-contributions"  # members outside the partial sum's group
    COMBINE_GROUP = "combine-group"  # a combine over another group than its dispatch


class HangKind(StrEnum):
    MISSING_RANKS = "missing-ranks"
    ORDER_MISMATCH = "order-mismatch"
    SIZE_MISMATCH = "size-mismatch"
    DEADLOCK = "deadlock"  # a cycle of waits (Analyses.deadlock)


class HangReason(StrEnum):
    """Why members never issue a collective instance (missing ranks only)."""

    NONE = ""  # order and size mismatches
    SELECTOR = "selector"
    NEVER_REACHES = "never-reaches"
    IDLE = "idle"


class RaceReason(StrEnum):
    UNAWAITED = "unawaited"
    AWAITED_LATE = "awaited-late"
    HOST_TOKEN = "host-token"
    UNORDERED = "unordered"  # a blocking collective's output read with no order path
    UNORDERED_OPS = "unordered-ops"  # two ops with no order path and no collective between


class RedundantReason(StrEnum):
    BARRIER = "barrier"
    IDENTITY = "identity"
    UNUSED = "unused"
    HANDOVER = "handover"


class OverlapKind(StrEnum):
    COULD_BE_ASYNC = "could-be-async"


class HandoverKind(StrEnum):
    MISSING_KV = "missing-kv"  # decode ranks lack the prompt's K/V (HandoverResult.missing)
    OVERSIZED = "oversized"  # an all_gather moves K/V nobody needs (HandoverResult.oversized)


KIND_ENUMS = (DefectKind, HangKind, RaceReason, RedundantReason, OverlapKind, HandoverKind)


# ---- defect payloads ---------------------------------------------------------------------


@dataclass(frozen=True)
class NoDetail:
    """A defect whose kind, node and blamed sync say everything."""


NO_DETAIL = NoDetail()


@dataclass(frozen=True)
class MissingSlot:
    slot: str | None = None  # the input slot nothing feeds


@dataclass(frozen=True)
class FromProducer:
    producer: str | None  # the op whose output it is (through collectives: their anchor)


@dataclass(frozen=True)
class PartialInput:
    need: Group  # the group whose partial sums make the whole value
    have: Contributions  # who has contributed so far
    producer: str | None
    addend: str | None = None  # at an add: the addend that is partial


@dataclass(frozen=True)
class Copies:
    copies: int  # copies of each token the reader receives
    producer: str | None = None


@dataclass(frozen=True)
class ShardText:
    feat: str  # the feature share read, as the real plan names it
    producer: str | None = None


@dataclass(frozen=True)
class WrongShard:
    feat: str
    expected: str
    producer: str | None


@dataclass(frozen=True)
class AddendsDiffer:
    addend: str
    producer: str | None
    other: str | None  # the op behind the first addend (the residual stream's)


@dataclass(frozen=True)
class NotReplicated:
    group: Group
    producer: str | None


@dataclass(frozen=True)
class KvNotAggregated:
    sp: int


@dataclass(frozen=True)
class WrongGroup:
    reason: WrongGroupReason
    need: Group = NO_GROUP


@dataclass(frozen=True)
class Times:
    times: int  # how many times the value is summed


@dataclass(frozen=True)
class SinkMissing:
    missing: Replicas


K = DefectKind
DEFECT_PAYLOADS: dict[DefectKind, type] = {
    K.MISSING_TOKEN: MissingSlot,
    K.MISSING_STAGE_INPUT: MissingSlot,
    K.MISSING_INPUT: MissingSlot,
    K.EXPERT_ORDER: FromProducer,
    K.PARTIAL_INPUT: PartialInput,
    K.DUPLICATED: Copies,
    K.DUPLICATED_UNBLAMED: Copies,
    K.SHARDED_FEATURES: ShardText,
    K.KV_NOT_AGGREGATED: KvNotAggregated,
    K.WRONG_SHARD: WrongShard,
    K.WRONG_SHARD_BLAMED: WrongShard,
    K.ADDENDS_DIFFER: AddendsDiffer,
    K.ADDENDS_DIFFER_BLAMED: AddendsDiffer,
    K.ADDENDS_HOLD_DIFFERENT_TOKENS: AddendsDiffer,
    K.NOT_REPLICATED: NotReplicated,
    K.WRONG_GROUP: WrongGroup,
    K.WRONG_COLLECTIVE: NoDetail,
    K.REDUCE_SHARDED: ShardText,
    K.DOUBLE_REDUCTION: Times,
    K.UNTILED_GATHER: NoDetail,
    K.SCRAMBLED_TOKENS: NoDetail,
    K.DOUBLE_DISPATCH: NoDetail,
    K.COMBINE_UNDISPATCHED: NoDetail,
    K.OVERSIZED_GATHER: Copies,
    K.OVERSIZED_GATHER_UNBLAMED: Copies,
    K.SINK_MISSING: SinkMissing,
}


@dataclass(frozen=True)
class Defect:
    """One unmet requirement at one DAG node; `sync` is the sync point to blame, if any."""

    kind: DefectKind
    node: Node
    sync: int | None
    payload: object

    def __post_init__(self):
        expected = DEFECT_PAYLOADS[self.kind]
        if type(self.payload) is not expected:
            raise TypeError(
                f"a {self.kind} defect carries a {expected.__name__}, "
                f"not a {type(self.payload).__name__}"
            )


def blamed(sync: int | None, if_blamed: DefectKind, if_not: DefectKind) -> DefectKind:
    """The kind of a defect that a different rule reports when a collective is to blame."""
    return if_blamed if sync is not None else if_not
