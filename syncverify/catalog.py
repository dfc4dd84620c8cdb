"""The rule catalog data shipped beside the code: `rules/ops.yaml` and `rules/requirements.yaml`.

In a wheel the repository's `rules/` folder is installed as `syncverify/catalog/`; in a source
checkout (editable install) it is read from the repository root.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml


def _catalog_file(name: str) -> Path:
    # a path beside this file, not importlib.resources (whose import costs ~20 ms a run): the
    # package is always installed as files (a wheel or a source checkout), never zipped
    packaged = Path(__file__).resolve().parent / "catalog" / name
    if packaged.is_file():
        return packaged
    return Path(__file__).resolve().parent.parent / "rules" / name


@cache
def load(name: str) -> dict:
    # our own files: the C loader when PyYAML has it (15x faster than the Python one)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(_catalog_file(name).read_text(encoding="utf-8"), Loader=loader)


def op_table() -> dict:
    """op -> {sharding -> {kind, dim?}} (rules/ops.yaml)."""
    return load("ops.yaml")["ops"]


def op_spec(op: str, sharding: str) -> dict:
    specs = op_table()[op]
    return specs.get(sharding) or specs["default"]


def requirements() -> dict[str, dict]:
    """requirement id -> entry (rules/requirements.yaml)."""
    return {entry["id"]: entry for entry in load("requirements.yaml")["requirements"]}
