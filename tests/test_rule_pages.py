"""Every rule page (`syncverify explain CODE`) shows plans that do what it says, from the user's
side, like pylint's message docs: the last ```yaml block of its "Bad plan" section is a complete
plan that gives a finding of the rule (for a load code SV0xx: is refused with that code), and
the last ```yaml block of its "Fix" section is a complete plan that loads and gives none.

A page may show the relevant lines first and the complete plan in a folded <details> block
after them; the complete plan is always the section's last yaml block. The pages of the rules
no file can show are listed in NOT_SHOWN_IN_A_FILE, each with the reason.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from syncverify.rules import ALL_RULES
from tests.cli_plans import check
from tests.test_registry import sections

NOT_SHOWN_IN_A_FILE = {
    "SV001": "the file cannot be read as UTF-8 text (UTF-16, binary, a directory): no page's "
    "yaml block can hold that",
    "SV900": "an internal error is a bug in syncverify: no plan is meant to trigger it",
}
SHOWN = [r for r in ALL_RULES if r.code not in NOT_SHOWN_IN_A_FILE]
YAML_BLOCK = re.compile(r"^```yaml\n(.*?)^```$", re.S | re.M)


def complete_plan(page: str, section: str) -> str:
    blocks = YAML_BLOCK.findall(sections(page)[section] + "\n")
    assert blocks, f"no ```yaml block in the page's {section!r} section"
    return blocks[-1]


def codes_of(tmp_path: Path, plan: str) -> tuple[int, set[str]]:
    """(exit code, codes reported) of `syncverify check` on `plan` written to a file."""
    path = tmp_path / "plan.yaml"
    path.write_text(plan)
    result = check("--isolated", "--format", "json", str(path))
    return result.exit_code, {f["code"] for f in json.loads(result.stdout)["findings"]}


@pytest.mark.parametrize("rule", SHOWN, ids=lambda r: r.code)
def test_bad_plan_of_the_page_gives_its_rule(rule, tmp_path: Path):
    exit_code, codes = codes_of(tmp_path, complete_plan(rule.page, "Bad plan"))
    assert rule.code in codes
    if rule.code.startswith("SV0"):
        assert exit_code == 2  # a load problem: the plan is refused


@pytest.mark.parametrize("rule", SHOWN, ids=lambda r: r.code)
def test_fix_of_the_page_loads_and_gives_none_of_its_rule(rule, tmp_path: Path):
    exit_code, codes = codes_of(tmp_path, complete_plan(rule.page, "Fix"))
    assert exit_code != 2, codes
    assert rule.code not in codes


def test_every_page_not_shown_in_a_file_names_a_rule():
    assert set(NOT_SHOWN_IN_A_FILE) <= {r.code for r in ALL_RULES}
