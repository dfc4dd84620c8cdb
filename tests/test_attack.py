"""The attack suite of issue 11: each case (tests/attack_inputs.py) is run as a user runs it and
must end with an expected exit code (0, 1 or 2), no traceback, every input it reads unchanged,
and what its own check asks (a refusal's message, escaped output, a kept file mode...).
bench/attack.py replays the same catalogue with time and memory limits."""

import os
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
    folder, _run, result, changed = outcomes[case.name]
    assert "Traceback" not in result.both, result.both
    assert result.code in case.exits, (result.code, result.both)
    assert not changed, f"inputs changed: {changed}"
    case.expect(result, folder)


def test_ctrl_c_exits_130_without_a_traceback(monkeypatch, capsys):
    """SIGINT while a check runs (here: delivered from inside it) ends the command with 130."""
    import signal

    from syncverify import cli
    from syncverify.commands import check

    def interrupted_check(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGINT)
        raise AssertionError("the signal did not stop the check")

    monkeypatch.setattr(check, "check", interrupted_check)
    previous = signal.getsignal(signal.SIGINT)
    try:
        assert cli.main(["check", "plan.yaml"]) == 130
    finally:
        signal.signal(signal.SIGINT, previous)
    assert capsys.readouterr().err == "syncverify: interrupted\n"


def test_jobs_are_capped_at_the_cpu_count():
    from syncverify.jobs import jobs_wanted

    cpus = os.cpu_count() or 1
    assert jobs_wanted(50) == cpus and jobs_wanted(0) == cpus and jobs_wanted(1) == 1


def killing_check(source, options):
    """check_source, except that the process checking a plan named kill*.yaml dies."""
    from syncverify.checking import check_source

    if os.path.basename(source.file).startswith("kill"):
        os.kill(os.getpid(), 9)
    return check_source(source, options)


def test_a_killed_worker_loses_only_its_plan(tmp_path):
    """One plan's process is killed: that plan gets a located internal error, the others are
    reported as usual, in order."""
    from syncverify.checking import CheckOptions, PlanSource, lost_part
    from syncverify.commands.check import CheckArguments, plan_policies
    from syncverify.jobs import map_in_processes
    from tests.hostile_inputs import SMALL

    files = []
    for name in ("a.yaml", "kill.yaml", "b.yaml", "c.yaml"):
        (tmp_path / name).write_text(
            SMALL.replace("tp: 2,", "tp: 3,") if name == "c.yaml" else SMALL
        )
        files.append(str(tmp_path / name))
    policies = plan_policies(files, CheckArguments(tuple(files), isolated=True))
    sources = [PlanSource(file) for file in files]
    options = [CheckOptions(p.selection, p.severity) for p in policies]
    parts = map_in_processes(killing_check, sources, options, jobs=2, lost=lost_part)
    assert [part.files for part in parts] == [[f] for f in files]
    killed = parts[1].problems
    assert [(p.code, p.file, p.line) for p in killed] == [("SV900", files[1], 1)]
    assert "died" in killed[0].message
    assert not parts[0].problems and not parts[2].problems and not parts[0].findings
    assert parts[3].problems or parts[3].findings  # tp 3 is reported, not lost
