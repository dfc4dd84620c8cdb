"""A collapsed picture as Mermaid (renders in GitHub markdown) or Graphviz DOT.

Lanes (rank classes) are subgraphs; collective instances sit between them as hexagons; the
host's token slots and the output sinks are round. Solid arrows carry data, dotted arrows only
order. Boxes and arrows of a highlighted finding are drawn thick and red.
"""

from __future__ import annotations

from syncverify.pictures.collapse import Picture

HOT = "#d00000"
HOT_FILL = "#ffe0e0"
COLL_FILL = "#eef0ff"


# ------------------------------------------------------------------------ mermaid


def mermaid(picture: Picture) -> str:
    lines = ["flowchart TB", f"  %% {picture.title}"]
    for lane, label in enumerate(picture.lanes):
        lines.append(f'  subgraph lane{lane}["{_mermaid_text(label)}"]')
        lines += [f"    {_mermaid_box(b)}" for b in picture.boxes if b.lane == lane]
        lines.append("  end")
    lines += [f"  {_mermaid_box(b)}" for b in picture.boxes if b.lane is None]
    hot_links = []
    for i, arrow in enumerate(picture.arrows):
        link = "-->" if arrow.data else "-.->"
        lines.append(f"  {arrow.tail} {link} {arrow.head}")
        if arrow.hot:
            hot_links.append(str(i))
    lines.append(f"  classDef coll fill:{COLL_FILL},stroke:#5560a0")
    lines.append(f"  classDef finding fill:{HOT_FILL},stroke:{HOT},stroke-width:3px")
    colls = [b.id for b in picture.boxes if b.kind == "coll" and not b.hot]
    hot = [b.id for b in picture.boxes if b.hot]
    if colls:
        lines.append(f"  class {','.join(colls)} coll")
    if hot:
        lines.append(f"  class {','.join(hot)} finding")
    if hot_links:
        lines.append(f"  linkStyle {','.join(hot_links)} stroke:{HOT},stroke-width:3px")
    return "\n".join(lines) + "\n"


def _mermaid_box(box) -> str:
    text = _mermaid_text(box.label)
    if box.kind == "coll":
        return f'{box.id}{{{{"{text}"}}}}'
    if box.kind in ("host", "sink"):
        return f'{box.id}(["{text}"])'
    return f'{box.id}["{text}"]'


def _mermaid_text(text: str) -> str:
    """Mermaid labels in quotes: quotes and angle brackets as entities, `#` as its code."""
    return (
        text.replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    )


# ------------------------------------------------------------------------ dot


def dot(picture: Picture) -> str:
    lines = [
        "digraph plan {",
        f"  label={_dot_text(picture.title)}; labelloc=t;",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname=Helvetica, '
        "fontsize=10];",
        "  edge [fontname=Helvetica, fontsize=9];",
    ]
    for lane, label in enumerate(picture.lanes):
        lines.append(f"  subgraph cluster_{lane} {{")
        lines.append(f"    label={_dot_text(label)}; style=rounded; color=gray60;")
        lines += [f"    {_dot_box(b)}" for b in picture.boxes if b.lane == lane]
        lines.append("  }")
    lines += [f"  {_dot_box(b)}" for b in picture.boxes if b.lane is None]
    for arrow in picture.arrows:
        attrs = [] if arrow.data else ["style=dashed", "color=gray50"]
        if arrow.hot:
            attrs = [a for a in attrs if not a.startswith("color")] + [
                f'color="{HOT}"',
                "penwidth=3",
            ]
        suffix = f" [{', '.join(attrs)}]" if attrs else ""
        lines.append(f"  {arrow.tail} -> {arrow.head}{suffix};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _dot_box(box) -> str:
    attrs = [f"label={_dot_text(box.label)}"]
    if box.kind == "coll":
        attrs += ["shape=hexagon", f'fillcolor="{COLL_FILL}"']
    elif box.kind in ("host", "sink"):
        attrs += ["shape=ellipse"]
    if box.hot:
        attrs += [f'color="{HOT}"', f'fillcolor="{HOT_FILL}"', "penwidth=3"]
    return f"{box.id} [{', '.join(attrs)}];"


def _dot_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
