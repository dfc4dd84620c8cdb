"""The progress bar: on a terminal only, never in CI, erased before the report."""

import io
from pathlib import Path

import pytest

from syncverify import progress
from syncverify.commands.check import CheckArguments, check

PLANS_DIR = Path(__file__).resolve().parent.parent / "plans"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_is_wanted_on_a_terminal_outside_ci():
    assert progress.wanted(Terminal(), environ={})
    assert not progress.wanted(io.StringIO(), environ={})  # a pipe or a log file
    assert not progress.wanted(Terminal(), environ={"CI": "true"})  # GitHub Actions, GitLab CI
    assert not progress.wanted(Terminal(), environ={"TERM": "dumb"})


def test_a_closed_stream_wants_no_bar():
    stream = io.StringIO()
    stream.close()
    assert not progress.wanted(stream, environ={})


def test_a_run_shorter_than_the_delay_prints_nothing():
    stream = Terminal()
    with progress.bar(stream, 2, delay=60, enabled=True):
        progress.stage("analysing")
        progress.advance()
    assert stream.getvalue() == ""


def test_stage_and_advance_without_a_bar_are_no_ops():
    progress.stage("loading")
    progress.advance()


@pytest.fixture
def immediate_bar(monkeypatch):
    monkeypatch.setattr(progress, "DELAY", 0.0)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("TERM", raising=False)


def test_check_on_a_terminal_draws_the_bar_on_stderr_and_erases_it(immediate_bar):
    out, err = io.StringIO(), Terminal()
    plans = [
        str(PLANS_DIR / "llama-3.1-8b-tp4-dp2.yaml"),
        str(PLANS_DIR / "llama-3.1-70b-tp8-pp2.yaml"),
    ]
    code = check(CheckArguments(tuple(plans), format="concise"), out, err)
    assert code == 0
    drawn = err.getvalue()
    assert "syncverify" in drawn and "/2" in drawn
    assert drawn.endswith("\x1b[2K")  # transient: the last thing it does is erase
    assert "\x1b[" not in out.getvalue()  # the report itself is untouched


def test_quiet_and_ci_runs_draw_no_bar(immediate_bar, monkeypatch):
    plan = (str(PLANS_DIR / "llama-3.1-8b-tp4-dp2.yaml"),)
    err = Terminal()
    check(CheckArguments(plan, format="concise", quiet=True), io.StringIO(), err)
    assert err.getvalue() == ""
    monkeypatch.setenv("CI", "true")
    check(CheckArguments(plan, format="concise"), io.StringIO(), err)
    assert err.getvalue() == ""
