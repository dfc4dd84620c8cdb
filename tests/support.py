"""Helpers for tests that check small plans written inline or synthesized."""

from __future__ import annotations

import textwrap

import yaml

from syncverify.engine import check_plan
from syncverify.loader import load_plan
from syncverify.synthesis import synthesize_plan

TINY_DENSE = {"layers": 4, "hidden": 256, "heads": 8, "kv_heads": 4, "ffn": 512, "vocab": 1000}
TINY_MOE = {
    "layers": 4,
    "hidden": 256,
    "heads": 8,
    "kv_heads": 8,
    "ffn": 512,
    "vocab": 1000,
    "moe": {"experts": 8, "top_k": 2, "layers": "1..3", "shared_experts": 1, "ffn": 128},
}


def load_text(text: str, name: str = "plan.yaml"):
    return load_plan(name, text=textwrap.dedent(text))


def load_dict(plan: dict, name: str = "plan.yaml"):
    return load_plan(name, text=yaml.safe_dump(plan, sort_keys=False))


def findings(plan_or_text, **kwargs):
    plan = (
        load_text(plan_or_text)
        if isinstance(plan_or_text, str)
        else load_dict(plan_or_text)
        if isinstance(plan_or_text, dict)
        else plan_or_text
    )
    return check_plan(plan, **kwargs)


def codes(plan_or_text) -> set[str]:
    return {f.code for f in findings(plan_or_text)}


def errors(plan_or_text) -> list:
    return [f for f in findings(plan_or_text) if f.severity == "error"]


def synth(model=None, **layout) -> dict:
    layout.setdefault("tokens", 64)
    layout.setdefault("batch", 8)
    return synthesize_plan(model or TINY_DENSE, **layout)
