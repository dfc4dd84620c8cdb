"""Meta-tests that keep the rule registry honest: ids, categories, pages, fixtures."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

from syncverify.load_codes import LOAD_RULES
from syncverify.rule import PAGE_SECTIONS, Rule
from syncverify.rules import ALL_RULES, GRAPH_RULES, RULE_MODULES, STATIC_RULES

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


# ---------------------------------------------------------------------------- one registry


def rule_package_modules() -> set[str]:
    import syncverify.rules as package

    return {m.name for m in pkgutil.iter_modules(package.__path__)}


def test_every_module_in_the_rules_package_is_registered_once():
    """`syncverify/rules/` holds rule modules only, each named in RULE_MODULES exactly once."""
    assert len(RULE_MODULES) == len(set(RULE_MODULES))
    assert set(RULE_MODULES) == rule_package_modules()


@pytest.mark.parametrize("name", RULE_MODULES)
def test_a_rule_module_is_named_after_its_slug(name: str):
    module = importlib.import_module(f"syncverify.rules.{name}")
    assert isinstance(module.RULE, Rule), f"{name} defines no RULE: helpers go in rule_support"
    assert module.RULE.slug == name.replace("_", "-")


def test_every_rule_is_in_the_registry_exactly_once():
    codes = [r.code for r in ALL_RULES]
    slugs = [r.slug for r in ALL_RULES]
    assert len(codes) == len(set(codes)) and len(slugs) == len(set(slugs))
    registered = {importlib.import_module(f"syncverify.rules.{n}").RULE for n in RULE_MODULES}
    assert set(ALL_RULES) == registered | set(LOAD_RULES)


def test_static_and_graph_rules_partition_the_plan_rules():
    assert set(STATIC_RULES).isdisjoint(GRAPH_RULES)
    assert set(STATIC_RULES) | set(GRAPH_RULES) == {
        r for r in ALL_RULES if not is_load_or_internal(r.code)
    }


def test_the_loader_stands_alone():
    """Loading a plan never imports a rule: `import syncverify.loader` loads at most 15 of our
    modules (issue 12; it loaded 86 when the load codes lived in the rules package)."""
    code = (
        "import sys, syncverify.loader\n"
        "print(sorted(m for m in sys.modules if m.startswith('syncverify')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = ast.literal_eval(out.stdout)
    assert not [m for m in loaded if m.startswith(("syncverify.rules", "syncverify.analysis"))]
    assert len(loaded) <= 15, loaded
