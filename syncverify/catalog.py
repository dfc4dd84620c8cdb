"""The rule catalog data shipped beside the code: `rules/ops.yaml` and `rules/requirements.yaml`.

In a wheel the repository's `rules/` folder is installed as `syncverify/catalog/`; in a source
checkout (editable install) it is read from the repository root.
"""
from __future__ import annotations

from functools import lru_cache
from importlib import resources
from pathlib import Path

import yaml


def _catalog_file(name: str):
    packaged = resources.files("syncverify").joinpath("catalog", name)
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules" / name


@lru_cache(maxsize=None)
def load(name: str) -> dict:
    return yaml.safe_load(_catalog_file(name).read_text(encoding="utf-8"))


def op_table() -> dict:
    """op -> {sharding -> {kind, dim?}} (rules/ops.yaml)."""
    return load("ops.yaml")["ops"]


def op_spec(op: str, sharding: str) -> dict:
    specs = op_table()[op]
    return specs.get(sharding) or specs["default"]


def requirements() -> dict[str, dict]:
    """requirement id -> entry (rules/requirements.yaml)."""
    return {entry["id"]: entry for entry in load("requirements.yaml")["requirements"]}
