"""Meta-tests that keep the rule registry honest: ids, categories, pages, fixtures."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from syncverify.rules import ALL_RULES
from syncverify.rules.base import PAGE_SECTIONS

FIXTURES = Path(__file__).parent / "rules"
CATEGORY_OF_HUNDREDS = {
    "1": "config",
    "2": "shape",
    "3": "missing-sync",
    "4": "redundant-sync",
    "5": "phase-illegal",
    "6": "ordering",
    "7": "performance",
}


def is_load_or_internal(code: str) -> bool:
    """SV0xx (reported by the loader) and SV900 (reported by the engine): no plan triggers them
    through check_plan."""
    return code.startswith(("SV0", "SV9"))


def sections(page: str) -> dict[str, str]:
    """Markdown `## Title` sections of a page, title -> body (stripped)."""
    found, title = {}, None
    for line in page.splitlines():
        heading = re.match(r"^##\s+(.+?)\s*$", line)
        if heading:
            title = heading.group(1)
            found[title] = ""
        elif title is not None:
            found[title] += line + "\n"
    return {k: v.strip() for k, v in found.items()}


CHECKED = [r for r in ALL_RULES if not is_load_or_internal(r.code)]


def test_codes_are_unique():
    codes = [r.code for r in ALL_RULES]
    assert len(codes) == len(set(codes))


def test_slugs_are_unique():
    slugs = [r.slug for r in ALL_RULES]
    assert len(slugs) == len(set(slugs))


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_hundreds_digit_matches_the_category(rule):
    digit = rule.code[2]
    if digit in ("0", "9"):
        return
    assert rule.category == CATEGORY_OF_HUNDREDS[digit]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_page_has_exactly_the_four_sections_filled(rule):
    found = sections(rule.page or "")
    assert tuple(found) == PAGE_SECTIONS
    assert all(found.values()), [k for k, v in found.items() if not v]


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: r.code)
def test_bad_plan_section_holds_a_yaml_snippet(rule):
    assert re.search(r"```yaml\n.+?\n```", sections(rule.page)["Bad plan"], re.S)


@pytest.mark.parametrize("rule", CHECKED, ids=lambda r: r.code)
def test_rule_has_a_fixture_pair(rule):
    directory = FIXTURES / rule.code
    assert (directory / "bad.yaml").is_file() and (directory / "good.yaml").is_file()


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_rule_module_has_a_docstring(rule):
    module = inspect.getmodule(rule.check)
    assert module is not None and (module.__doc__ or "").strip()


def test_every_fixture_directory_names_a_registered_rule():
    codes = {r.code for r in ALL_RULES}
    dirs = {p.name for p in FIXTURES.iterdir() if p.is_dir() and re.fullmatch(r"SV\d{3}", p.name)}
    assert dirs <= codes, sorted(dirs - codes)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.code)
def test_summary_is_one_lowercase_line(rule):
    assert rule.summary and "\n" not in rule.summary
    assert not rule.summary[0].isupper() and not rule.summary.endswith(".")
