"""Pictures of a plan: its dependency DAG collapsed by symmetry (`syncverify graph`) and the
per-device lanes of one step (`syncverify timeline`).

`draw(plan, format=...)` returns Mermaid or DOT text; `mermaid_summary(report, plan)` returns a
markdown section with a Mermaid picture of the plan and its findings highlighted, for a CI job
summary (GitHub renders Mermaid in markdown, e.g. in $GITHUB_STEP_SUMMARY).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from syncverify.plan import Plan

FORMATS = ("mermaid", "dot")
# GitHub's Mermaid refuses large diagrams (about 50,000 characters of text, 500 edges)
SUMMARY_MAX_BOXES = 160


def default_phase(plan, findings: Iterable = ()) -> str:
    """Decode when the plan has it and the findings (if any) happen there too, else the
    phase the findings name, else the plan's only phase."""
    names = [p.name for p in plan.phases]
    named = {n for f in findings for n in (f.where.phase or "").split(", ") if n in names}
    if "decode" in names and (not named or "decode" in named):
        return "decode"
    return min(named or names, key=names.index)


def picture(
    plan,
    *,
    phase: str | None = None,
    steps: int = 1,
    microbatches: int = 1,
    findings: Iterable = (),
):
    """The collapsed Picture of `plan` with `findings` highlighted."""
    from syncverify.pictures.collapse import collapse
    from syncverify.pictures.highlight import highlight

    findings = list(findings)
    phase = phase or default_phase(plan, findings)
    reduced, _, dag = reduced_graph(plan, steps)
    drawn = collapse(reduced, dag, phase, steps=steps, microbatches=microbatches)
    if findings:
        highlight(drawn, reduced, findings, dag)
    return drawn


def reduced_graph(plan, steps: int):
    """(reduced plan, its classes, its unrolled DAG): the representatives the checker analyses
    (graph.quotient: DP replicas and microbatches; graph.reduction: layers), `steps` decode
    steps. Raises PlanError (SV014) for a plan too large to build."""
    from dataclasses import replace

    from syncverify.analysis.certificate import certified_reduction
    from syncverify.budget import check_size
    from syncverify.graph.builder import Scenario, unroll
    from syncverify.graph.quotient import quotient

    check_size(plan)
    # the windows the check certified for this plan (analysis.certificate), not the default
    # ones: a picture must show the graph whose findings it highlights
    reduction = certified_reduction(plan)
    reduced, classes = quotient(plan, reduction)
    scenario = Scenario(steps=max(steps, 1), periods=reduction.layer_periods)
    dag = replace(unroll(reduced, scenario), classes=classes)
    return reduced, classes, dag


def draw(plan, *, format: str = "mermaid", **options) -> str:
    """`plan` as Mermaid or DOT text (options as `picture`)."""
    from syncverify.pictures import formats as renderers

    if format not in FORMATS:
        raise ValueError(f"unknown picture format {format!r}; known: {', '.join(FORMATS)}")
    return getattr(renderers, format)(picture(plan, **options))


def mermaid_summary(report_or_findings, plan: str | os.PathLike[str] | Plan) -> str:
    """A markdown section for a CI summary: the plan's DAG (one phase, one step, the first
    microbatch) with its findings highlighted, in a ```mermaid block.

    `report_or_findings` is a Report (anything with `.findings`) or a list of Findings; only
    those in `plan`'s file are drawn. `plan` is a loaded Plan or a path. A plan too large for
    GitHub's Mermaid gets a line saying how to draw it instead.
    """
    from syncverify.pictures import formats as renderers

    loaded = _loaded(plan)
    findings = getattr(report_or_findings, "findings", report_or_findings)
    mine = [f for f in findings if f.file == loaded.path]
    drawn = picture(loaded, findings=mine)
    counts = f"{len(mine)} finding{'s' if len(mine) != 1 else ''}"
    codes = ", ".join(sorted({f.code for f in mine}))
    head = f"### {loaded.path}: {counts}" + (f" ({codes})" if codes else "") + "\n\n"
    if len(drawn.boxes) > SUMMARY_MAX_BOXES:
        return head + (
            f"The picture has {len(drawn.boxes)} boxes, too many for a summary: "
            f"`syncverify graph {loaded.path} --format dot` draws it.\n"
        )
    legend = "Highlighted in red: where the findings happen. " if mine else ""
    return (
        head + f"{legend}{drawn.title}; solid arrows carry data, dotted ones order.\n\n"
        "```mermaid\n" + renderers.mermaid(drawn) + "```\n"
    )


def _loaded(plan: str | os.PathLike[str] | Plan) -> Plan:
    if isinstance(plan, Plan):
        return plan
    from syncverify.loader import load_plan

    return load_plan(plan)
