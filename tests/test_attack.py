"""The attack suite of issue 11: each case (tests/attack_inputs.py) is run as a user runs it and
must end with an expected exit code (0, 1 or 2), no traceback, every input it reads unchanged,
and what its own check asks (a refusal's message, escaped output, a kept file mode...).
bench/attack.py replays the same catalogue with time and memory limits."""
import io
import os
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.attack_inputs import ATTACKS
from tests.attack_runner import attack

CASES = [case for case in ATTACKS if not case.bench_only]


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    base = tmp_path_factory.mktemp("attack")

    def one(number_and_case):
        number, case = number_and_case
        folder = base / f"case{number}"
        folder.mkdir()
        return case.name, (folder, *attack(case, folder))

    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(one, enumerate(CASES)))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_attack(case, outcomes):
    folder, run, result, changed = outcomes[case.name]
    assert "Traceback" not in result.both, result.both
    assert result.code in case.exits, (result.code, result.both)
    assert not changed, f"inputs changed: {changed}"
    case.expect(result, folder)


def test_ctrl_c_exits_130_without_a_traceback(monkeypatch, capsys):
    """SIGINT while a check runs (here: delivered from inside it) ends the command with 130."""
    import signal

    from syncverify import cli, commands

    def interrupted_check(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        raise AssertionError("the signal did not stop the check")

    monkeypatch.setattr(commands, "check", interrupted_check)
    previous = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit) as stopped:
            cli.main(["check", "plan.yaml"])
    finally:
        signal.signal(signal.SIGINT, previous)
    assert stopped.value.code == 130
    assert capsys.readouterr().err == "syncverify: interrupted\n"
