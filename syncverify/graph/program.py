"""A rank's program: its streams joined in the order the phase's schedule runs them.

- Within a step each stage runs its microbatches in index order (S3).
- `two_batch` (S16): microbatches pair up as (2k, 2k+1); between consecutive sync points a rank
  runs a's segment, issues a's collective, runs b's segment, issues b's collective; every rank
  uses the same issue order. An odd last microbatch (a config error) runs alone.
- Decode steps follow each other on a device's stream; there is no barrier between steps (S3).
"""

from __future__ import annotations

from syncverify.graph.streams import Issue


def segments(stream: list) -> list[list]:
    """Cut a stream after each run of collective issues that follows an op."""
    out, current, seen_op = [], [], False
    for i, item in enumerate(stream):
        current.append(item)
        if isinstance(item, Issue):
            nxt = stream[i + 1] if i + 1 < len(stream) else None
            if seen_op and not isinstance(nxt, Issue):
                out.append(current)
                current, seen_op = [], False
        else:
            seen_op = True
    if current:
        out.append(current)
    return out


def interleave(a: list, b: list) -> list:
    """S16: a's segment, b's segment, a's next segment, ..."""
    sa, sb = segments(a), segments(b)
    out = []
    for i in range(max(len(sa), len(sb))):
        if i < len(sa):
            out.extend(sa[i])
        if i < len(sb):
            out.extend(sb[i])
    return out


def schedule_step(streams: list[list], overlap: str) -> list:
    """One step of one rank: its microbatch streams in schedule order."""
    if overlap != "two_batch":
        return [item for stream in streams for item in stream]
    out = []
    for k in range(0, len(streams) - 1, 2):
        out.extend(interleave(streams[k], streams[k + 1]))
    if len(streams) % 2:
        out.extend(streams[-1])
    return out
