"""`syncverify timeline`: what each device does during one step, slot by slot.

Times come from the checker's own order edges (`graph.builder`): every op takes one slot, a
collective completes one slot after its last member issued it, and a node starts as soon as
everything ordered before it is done (program order, a blocking call's completion, an async
call's `wait_before`, a send/recv rendezvous, the host's token). The slots are not a cost
model; they show the shape of the schedule: which ranks compute while others wait, where a
collective overlaps compute, where a pipeline stage idles, and where a rank waits forever (a
collective some member never issues, or a cycle of waits).

Each lane is a rank; ranks whose lanes are identical are shown once ("ranks 0-7").
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from syncverify.graph.nodes import EMBED_LAYER, CollNode, Node, OpNode
from syncverify.pictures.collapse import layer_texts
from syncverify.ranges import compact

if TYPE_CHECKING:
    from syncverify.graph.builder import Unrolled

NEVER = None


@dataclass
class Cell:
    compute: str = ""  # the op running in this slot
    comm: list[str] = field(default_factory=list)  # collectives in flight on this rank
    wait: str = ""  # what an idle rank waits for
    hang: bool = False  # ... which never comes

    def key(self) -> tuple:
        return (self.compute, tuple(self.comm), self.wait, self.hang)


@dataclass
class Timeline:
    title: str
    lanes: list[str]
    rows: list[list[Cell]]  # rows[slot][lane]
    notes: list[str]


def schedule(graph) -> dict[tuple, int | None]:
    """Start slot of every node over the order edges; NEVER for nodes that cannot start."""
    order = [(u, v) for u, v, e in graph.edges(data=True) if e.get("order")]
    preds: dict = defaultdict(list)
    succs: dict = defaultdict(list)
    for u, v in order:
        preds[v].append(u)
        succs[u].append(v)
    waiting = {n: len(preds[n]) for n in graph}
    start = dict.fromkeys(graph, 0)
    ready = [n for n in graph if waiting[n] == 0]
    done: dict[tuple, int | None] = dict.fromkeys(graph, NEVER)
    while ready:
        node = ready.pop()
        done[node] = start[node]
        if _never_completes(graph, node):
            continue
        end = start[node] + _duration(node)
        for nxt in succs[node]:
            start[nxt] = max(start[nxt], end)
            waiting[nxt] -= 1
            if waiting[nxt] == 0:
                ready.append(nxt)
    return done


def _duration(node: Node) -> int:
    return 1 if node.kind in ("op", "coll") else 0


def _never_completes(graph, node: Node) -> bool:
    attrs = graph.nodes[node]
    return node.kind == "coll" and set(attrs.get("issuers", {})) != set(attrs.get("members", ()))


def build(plan, dag: Unrolled, phase: str, step: int = 0) -> Timeline:
    """The lanes of `phase` over the slots decode step `step` (prefill: the pass) spans; ops
    of neighbouring steps that run in those slots (a pipeline) are shown with their step.

    `plan` and `dag` may be the representatives of `pictures.reduced_graph`: lanes then name
    the real ranks they stand for."""
    graph, classes = dag.graph, dag.classes
    times = schedule(graph)
    world = dag.worlds[phase]
    ours = [n for n in graph if n.kind in ("op", "coll") and n.phase == phase and n.step == step]
    started = [t for n in ours if (t := times[n]) is not NEVER]
    first = min(started, default=0)
    last = max(started, default=first)
    shown = [
        n
        for n in graph
        if n.kind in ("op", "coll")
        and n.phase == phase
        and (t := times[n]) is not NEVER
        and first <= t <= last
    ]
    label = _Labels(plan, step, world.phase.microbatches > 1, classes, phase, layer_texts(dag))
    lanes = {
        r: [Cell() for _ in range(first, last + 1)]
        for r in range(world.topo.world)
        if world.active(r)
    }
    notes = []
    for node in sorted(set(shown) | set(ours)):
        if node.kind == "op" and (t := times[node]) is not NEVER and node.rank in lanes:
            lanes[node.rank][t - first].compute = label.op(node)
        elif node.kind == "coll":
            notes += _place_coll(lanes, graph, node, times, first, last, label)
    for rank, cells in lanes.items():
        _mark_waits(graph, times, rank, cells, first, label, phase)
    merged = _merged(lanes)
    rows = [[cells[i] for _, cells in merged] for i in range(last - first + 1)]
    if not any(times[n] is not NEVER for n in ours):
        notes.append(
            f"nothing of this {'step' if phase == 'decode' else 'phase'} runs: the plan "
            f"hangs before it (see `--phase prefill` or `syncverify check`)"
        )
    notes += _stand_ins(classes, phase)
    runs = [text for text in label.layers.values() if "-" in text]
    if runs:
        notes.append(
            f"a layer shown as {runs[0]} is one layer standing for layers "
            f"{runs[0][1:]}, which run alike (docs/semantics.md, Symmetry)"
        )
    title = (
        f"{plan.name}: {phase}"
        + (f" step {step}" if phase == "decode" else "")
        + " (one row per slot: an op takes one, a collective completes one slot after its "
        "last member issued it)"
    )
    labels = [
        _lane_label(sorted(classes.real_ranks(phase, r)) if classes else r, world)
        for r, _ in merged
    ]
    return Timeline(title, labels, rows, list(dict.fromkeys(notes)))


def _stand_ins(classes, phase: str) -> list[str]:
    """Notes on the microbatches a shown one stands for (graph.quotient)."""
    if not classes:
        return []
    return [
        f"microbatch {mb} stands for microbatches {compact(real)}, which run the same way"
        for mb, real in sorted(classes.microbatches.get(phase, {}).items())
        if len(real) > 1
    ]


class _Labels:
    def __init__(self, plan, step: int, many_mbs: bool, classes, phase: str, layers: dict):
        self.plan, self.step, self.many_mbs = plan, step, many_mbs
        self.classes, self.phase, self.layers = classes, phase, layers

    def prefix(self, node: OpNode | CollNode) -> str:
        out = f"s{node.step} " if node.phase == "decode" and node.step != self.step else ""
        mb = self.classes.representative_mb(self.phase, node.mb) if self.classes else node.mb
        return out + (f"mb{mb} " if self.many_mbs else "")

    def op(self, node: OpNode) -> str:
        layer = node.layer
        layer_text = (
            ""
            if layer == EMBED_LAYER or layer >= self.plan.model.layers
            else " " + self.layers.get(layer, f"L{layer}")
        )
        return self.prefix(node) + node.op + layer_text

    def coll(self, node: CollNode, sync) -> str:
        return self.prefix(node) + (sync.id or f"sync {sync.index + 1}")


def _place_coll(lanes, graph, node, times, first, last, label) -> list[str]:
    """Mark the slots `node` is in flight on each issuing rank, from issue to completion."""
    attrs = graph.nodes[node]
    sync = label.plan.syncs[attrs["sync"]]
    hangs = times[node] is NEVER or _never_completes(graph, node)
    end = last if hangs else times[node]
    notes = []
    if _never_completes(graph, node):
        missing = sorted(set(attrs["members"]) - set(attrs["issuers"]))
        classes = label.classes
        if classes:  # the real ranks the representatives stand for
            missing = sorted(classes.real_ranks(node.phase, missing))
        notes.append(
            f"{sync.id or f'sync {sync.index + 1}'} never completes: "
            f"rank{'s' if len(missing) > 1 else ''} "
            f"{compact(missing)} never issue it (a hang, SV601)"
        )
    for rank in attrs.get("issuers", {}):
        issued = _issued_at(graph, node, rank, times)
        if issued is NEVER or rank not in lanes:
            continue
        for slot in range(max(issued, first), end + 1):
            cell = lanes[rank][slot - first]
            cell.comm.append(label.coll(node, sync))
            cell.hang |= hangs
    return notes


def _mark_waits(graph, times, rank, cells, first, label, phase) -> None:
    """An idle slot waits for whatever holds back the rank's next op: a collective it is in,
    the host's token, or nothing (another rank's work reaches it through one of those)."""
    mine = sorted(
        (times[n], n)
        for n in graph
        if n.kind == "op" and n.phase == phase and n.rank == rank and times[n] is not NEVER
    )
    never = any(
        n.kind == "op" and n.phase == phase and n.rank == rank and times[n] is NEVER for n in graph
    )
    for i, cell in enumerate(cells):
        slot = first + i
        if cell.compute:
            continue
        nxt = next((n for t, n in mine if t > slot), None)
        if nxt is None:
            if never and cell.comm:
                cell.wait = cell.comm[-1]
            continue
        holding = [
            u
            for u in graph.predecessors(nxt)
            if graph.edges[u, nxt].get("order")
            and times[u] is not NEVER
            and times[u] + _duration(u) == times[nxt]
        ]
        for u in holding:
            if u.kind == "coll" and rank in graph.nodes[u].get("members", ()):
                cell.wait = label.coll(u, label.plan.syncs[graph.nodes[u]["sync"]])
            elif u.kind == "host":
                cell.wait = "host token"


def _issued_at(graph, coll, rank, times) -> int | None:
    """When `rank` issues `coll`: after its op (or blocking call) ordered right before it;
    NEVER when that never completes; 0 when the call is the first thing the rank does."""
    spots = []
    for u in graph.predecessors(coll):
        if not graph.edges[u, coll].get("order"):
            continue
        if (u.kind == "op" and u.rank == rank) or (
            u.kind == "coll" and rank in graph.nodes[u].get("issuers", {})
        ):
            if times[u] is NEVER or _never_completes(graph, u):
                return NEVER
            spots.append(times[u] + _duration(u))
    return max(spots, default=0)


def _merged(lanes: dict[int, list[Cell]]) -> list[tuple[list[int], list[Cell]]]:
    groups: dict[tuple, list[int]] = {}
    cells_of = {}
    for rank, cells in sorted(lanes.items()):
        key = tuple(c.key() for c in cells)
        groups.setdefault(key, []).append(rank)
        cells_of[key] = cells
    return [
        (ranks, cells_of[key]) for key, ranks in sorted(groups.items(), key=lambda kv: kv[1][0])
    ]


def _lane_label(ranks: list[int], world) -> str:
    stages = {world.topo.stage_of(r) for r in ranks}
    where = f" (stage {stages.pop()})" if len(stages) == 1 and world.topo.sizes["pp"] > 1 else ""
    return f"rank{'s' if len(ranks) > 1 else ''} {compact(ranks)}{where}"


# ------------------------------------------------------------------------ rendering


def parts(cell: Cell) -> list[tuple[str, str]]:
    """(text, style) pieces of a cell: compute, then what is in flight or awaited."""
    out = [(cell.compute, "bold")] if cell.compute else []
    flying = [c for c in cell.comm if c != cell.wait]
    if flying:
        out.append(("|| " + ", ".join(flying), "red bold" if cell.hang else "magenta"))
    if cell.wait:
        out.append(
            (("!! " if cell.hang else "wait ") + cell.wait, "red bold" if cell.hang else "yellow")
        )
    return out


def cell_text(cell: Cell) -> str:
    return "  ".join(text for text, _ in parts(cell))


def render_plain(timeline: Timeline, out) -> None:
    """Aligned columns, no styling: for pipes, files and logs."""
    header = ["slot"] + timeline.lanes
    body = [[str(i)] + [cell_text(c) for c in row] for i, row in enumerate(timeline.rows)]
    widths = [max(len(r[i]) for r in [header] + body) for i in range(len(header))]
    out.write(timeline.title + "\n")
    for row in [header, ["-" * w for w in widths]] + body:
        out.write("  ".join(text.ljust(w) for text, w in zip(row, widths)).rstrip() + "\n")
    _legend(out, timeline)


def render_rich(timeline: Timeline, console) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    table = Table(title=timeline.title, box=box.SIMPLE_HEAD, show_lines=False, pad_edge=False)
    table.add_column("slot", justify="right", style="dim")
    for lane in timeline.lanes:
        table.add_column(lane, no_wrap=True)
    for i, row in enumerate(timeline.rows):
        cells: list[str | Text] = [str(i)]
        for cell in row:
            text = Text()
            for n, (piece, style) in enumerate(parts(cell)):
                text.append(("  " if n else "") + piece, style=style)
            cells.append(text)
        table.add_row(*cells)
    console.print(table)
    _legend(console.file, timeline)


def _legend(out, timeline: Timeline) -> None:
    out.write(
        "legend: op = computing; || name = collective in flight; wait name = idle until "
        "it completes (or the host's token arrives); !! name = it never completes\n"
    )
    for note in timeline.notes:
        out.write(f"note: {note}\n")
