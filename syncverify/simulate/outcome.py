"""What a simulation ends with: a match, the first divergence, or a hang."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

MATCH, DIVERGENCE, HANG = "match", "divergence", "hang"
# kinds of divergence
VALUE = "value"  # a number differs from the single-device reference
STALE = "stale-read"  # a read before the call that writes the buffer completed (S22)
MISPLACED = "misplaced"  # an op or a call got a value in a placement it cannot use (S19)
MISSING = "missing"  # a value that never arrived (no transfer, no K/V, no token)


@dataclass
class Outcome:
    status: str
    message: str
    kind: str | None = None
    scenario: str = ""
    rank: int | None = None
    phase: str | None = None
    step: int | None = None
    microbatch: int | None = None
    layer: int | None = None
    op: str | None = None
    sync: str | None = None
    max_abs_error: float | None = None
    waiting: list = field(default_factory=list)  # hang: [{"rank", "waits_for"}]

    @property
    def matches(self) -> bool:
        return self.status == MATCH

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v not in (None, [], "")}

    def where(self) -> str:
        """'decode step 1 mb 0 rank 3 layer 2 o_proj' (only the parts known)."""
        parts = []
        if self.phase:
            parts.append(
                self.phase
                if self.phase != "decode" or self.step is None
                else f"decode step {self.step}"
            )
        if self.microbatch is not None and self.microbatch >= 0:
            parts.append(f"mb {self.microbatch}")
        if self.rank is not None:
            parts.append(f"rank {self.rank}")
        if self.layer is not None and self.layer >= 0:
            parts.append(f"layer {self.layer}")
        if self.op:
            parts.append(self.op)
        return " ".join(parts)
