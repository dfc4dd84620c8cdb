"""A defect's payload is mapped to real values by field type (rule_support.for_graph_rules)."""

from types import SimpleNamespace

from syncverify.graph.nodes import sink_node
from syncverify.records import Defect, DefectKind, MissingSlot, Replicas, SinkMissing
from syncverify.rule_support.for_graph_rules import real_payload


class TwoReplicasEach:
    """A reduction where representative replica d stands for replicas 2d and 2d + 1."""

    def real_replicas(self, phase, replicas):
        assert phase == "decode"
        return {r for d in replicas for r in (2 * d, 2 * d + 1)}


def _analyses(classes):
    return SimpleNamespace(classes=classes)


def test_replicas_fields_are_expanded_to_every_real_replica():
    defect = Defect(
        DefectKind.SINK_MISSING, sink_node("decode", 0, 0), None, SinkMissing(Replicas((1,)))
    )
    assert real_payload(_analyses(TwoReplicasEach()), defect) == SinkMissing(Replicas((2, 3)))


def test_without_a_reduction_and_without_typed_fields_the_payload_is_unchanged():
    sink = sink_node("decode", 0, 0)
    missing = Defect(DefectKind.SINK_MISSING, sink, None, SinkMissing(Replicas((1,))))
    slot = Defect(DefectKind.MISSING_TOKEN, sink, None, MissingSlot("tokens"))
    assert real_payload(_analyses(None), missing) == missing.payload
    assert real_payload(_analyses(TwoReplicasEach()), slot) is slot.payload
