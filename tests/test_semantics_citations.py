"""Every S-number a user can meet (in a message, a rule page, `init`'s comments, the docs or the
README) resolves to an entry of docs/plan-format.md's numbered semantics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from syncverify.rules import ALL_RULES

ROOT = Path(__file__).resolve().parent.parent
PLAN_FORMAT = ROOT / "docs" / "plan-format.md"
CITATION = re.compile(r"\bS(\d{1,3})\b")


def defined() -> set[int]:
    return {int(n) for n in re.findall(r'<a id="s(\d+)"></a>S\1 \|', PLAN_FORMAT.read_text())}


def cited_in(text: str) -> set[int]:
    return {int(n) for n in CITATION.findall(text)}


def sources() -> list[Path]:
    out = sorted((ROOT / "syncverify").rglob("*.py")) + sorted((ROOT / "docs").glob("*.md"))
    out += sorted((ROOT / "rules").glob("*")) + [ROOT / "README.md"]
    return [p for p in out if p.is_file()]


def test_the_numbered_semantics_run_from_s1_without_a_gap():
    numbers = defined()
    assert numbers and numbers == set(range(1, max(numbers) + 1))


@pytest.mark.parametrize("path", sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_citation_in_the_sources_is_defined(path: Path):
    assert cited_in(path.read_text(encoding="utf-8")) <= defined()


def test_every_citation_in_the_rule_pages_is_defined():
    for rule in ALL_RULES:
        assert cited_in(rule.page + rule.summary) <= defined(), rule.code


def test_init_comments_cite_only_defined_semantics(tmp_path):
    from click.testing import CliRunner

    from syncverify.cli import cli

    hf = ROOT.parent / "shared" / "models" / "DeepSeek-V3.json"
    if not hf.is_file():
        pytest.skip("../shared/models is not beside the checkout")
    out = tmp_path / "plan.yaml"
    result = CliRunner().invoke(
        cli, ["init", "--hf", str(hf), "--tp", "8", "--dp", "4", "--ep", "32", "-o", str(out)]
    )
    assert out.is_file(), result.output
    assert cited_in(out.read_text()) <= defined()
