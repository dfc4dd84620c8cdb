"""Nothing lost: syncverify never writes to a plan it reads, except `check --fix --write`, and
that write is atomic (a temporary file renamed over the plan) and keeps the original when it
fails.

Every subcommand and format runs on a copy of a plan (one with a finding `--fix` can repair);
afterwards its bytes and modification time are unchanged and no temporary file is left. Output
options pointed at the plan itself are refused."""

import errno
import io
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from syncverify import atomic
from syncverify.commands.check import CheckArguments, check
from syncverify.report import FORMATS
from tests.hostile_inputs import SMALL

FIXABLE = SMALL.replace("  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}\n", "")
PLAN = "plan.yaml"
MODELS = Path(__file__).resolve().parent / "data" / "models"


def invocations() -> dict:
    """Name -> (arguments, standard input): every way a plan is read."""
    out = {f"check --format {fmt}": ([["check", "--format", fmt, PLAN]], None) for fmt in FORMATS}
    out.update(
        {
            "check --statistics": ([["check", "--statistics", PLAN]], None),
            "check --fix": ([["check", "--fix", PLAN]], None),
            "check --exhaustive -j 2": (
                [["check", "--exhaustive", "-j", "2", PLAN, "other.yaml"]],
                None,
            ),
            "check --output": ([["check", "--output", "report.txt", PLAN]], None),
            "check --write-baseline, --baseline": (
                [
                    ["check", "--write-baseline", "base.json", PLAN],
                    ["check", "--baseline", "base.json", PLAN],
                ],
                None,
            ),
            "check stdin named as the plan": ([["check", "--stdin-filename", PLAN, "-"]], FIXABLE),
            "check --output the plan (refused)": ([["check", "--output", PLAN, PLAN]], None),
            "check --write-baseline the plan (refused)": (
                [["check", "--write-baseline", PLAN, PLAN]],
                None,
            ),
            "graph": ([["graph", PLAN], ["graph", "--format", "dot", "-o", "dag.dot", PLAN]], None),
            "graph --output the plan (refused)": ([["graph", "-o", PLAN, PLAN]], None),
            "timeline": ([["timeline", PLAN]], None),
            "simulate": ([["simulate", PLAN], ["simulate", "--format", "json", PLAN]], None),
            "init --output the plan (refused)": (
                [["init", "--hf", str(MODELS / "Llama-3.1-8B.json"), "--tp", "2", "-o", PLAN]],
                None,
            ),
        }
    )
    return out


def run(args, stdin, cwd):
    env = {
        k: v
        for k, v in os.environ.items()
        if k
        not in (
            "SYNCVERIFY_OUTPUT_FORMAT",
            "SYNCVERIFY_RAISE",
            "PYTEST_CURRENT_TEST",
            "GITHUB_ACTIONS",
            "GITHUB_WORKFLOW",
        )
    }
    return subprocess.run(
        [sys.executable, "-m", "syncverify", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def state(folder):
    plan = folder / PLAN
    return plan.read_bytes(), plan.stat().st_mtime_ns


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Each invocation in its own folder with its own copy; (state before, after, processes)."""
    base = tmp_path_factory.mktemp("nothing-lost")
    jobs = {}
    for name, (runs, stdin) in invocations().items():
        folder = base / name.replace(" ", "_").replace("/", "_")
        folder.mkdir()
        (folder / PLAN).write_text(FIXABLE)
        (folder / "other.yaml").write_text(SMALL)
        os.utime(folder / PLAN, ns=(1_000_000_000, 1_000_000_000))  # any change shows
        jobs[name] = (folder, runs, stdin, state(folder))

    def one(job):
        folder, runs, stdin, before = job
        procs = [run(args, stdin, folder) for args in runs]
        return before, state(folder), procs, sorted(p.name for p in folder.iterdir())

    with ThreadPoolExecutor(max_workers=2) as pool:
        done = {name: pool.submit(one, job) for name, job in jobs.items()}
        return {name: future.result() for name, future in done.items()}


@pytest.mark.parametrize("name", sorted(invocations()), ids=str)
def test_the_plan_read_is_never_written(name, results):
    before, after, procs, files = results[name]
    assert after == before, f"{name} changed the plan"
    assert not [f for f in files if f.endswith(".tmp")], files
    for proc in procs:
        assert "Traceback" not in proc.stdout + proc.stderr
    if name.endswith("(refused)"):
        assert procs[-1].returncode == 2 and "syncverify: error:" in procs[-1].stderr


def fixable(tmp_path):
    path = tmp_path / PLAN
    path.write_text(FIXABLE)
    return path


def check_write(path) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    arguments = CheckArguments((str(path),), isolated=True, fix=True, write=True, format="concise")
    code = check(arguments, out, err)
    return code, err.getvalue()


def test_fix_write_replaces_the_plan_with_the_repaired_one(tmp_path):
    path = fixable(tmp_path)
    code, err = check_write(path)
    assert code == 0 and "added 1 sync point" in err
    assert path.read_text() != FIXABLE and "after: o_proj" in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == [PLAN]


class HalfWriter:
    """A temporary file whose write stops halfway with a full disk."""

    def __init__(self, real):
        self.real = real

    def __getattr__(self, name):
        return getattr(self.real, name)

    def __enter__(self):
        self.real.__enter__()
        return self

    def __exit__(self, *exc):
        return self.real.__exit__(*exc)

    def write(self, text):
        self.real.write(text[: len(text) // 2])
        self.real.flush()
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("failure", ["disk full mid-write", "rename fails"])
def test_a_failed_write_keeps_the_original(tmp_path, monkeypatch, failure):
    path = fixable(tmp_path)
    before = path.read_bytes(), path.stat().st_mtime_ns
    if failure == "disk full mid-write":
        real = atomic.tempfile.NamedTemporaryFile
        monkeypatch.setattr(
            atomic.tempfile, "NamedTemporaryFile", lambda *a, **k: HalfWriter(real(*a, **k))
        )
    else:

        def no_rename(source, target):
            raise OSError(errno.EXDEV, os.strerror(errno.EXDEV))

        monkeypatch.setattr(atomic.os, "replace", no_rename)
    code, err = check_write(path)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert "not changed" in err and "add these by hand" in err
    assert code == 1  # the plan still has its finding
    assert sorted(p.name for p in tmp_path.iterdir()) == [PLAN]  # no temporary file left


@pytest.mark.parametrize("target", ["baseline", "config"])
def test_reports_are_not_written_over_the_baseline_or_configuration_read(
    tmp_path, monkeypatch, target
):
    monkeypatch.chdir(tmp_path)
    fixable(tmp_path)
    assert (
        check(
            CheckArguments((PLAN,), isolated=True, write_baseline="base.json"),
            io.StringIO(),
            io.StringIO(),
        )
        == 0
    )
    (tmp_path / "conf.yaml").write_text("ignore: [SV4]\n")
    read = {"baseline": {"baseline": "base.json"}, "config": {"config": "conf.yaml"}}[target]
    victim = tmp_path / read[target]
    before = victim.read_bytes()
    for option in ("output", "write_baseline"):
        if target == "baseline" and option == "write_baseline":
            continue  # --write-baseline FILE updates a baseline: its job
        err = io.StringIO()
        arguments = CheckArguments((PLAN,), **read, **{option: victim.name})
        code = check(arguments, io.StringIO(), err)
        what = "baseline" if target == "baseline" else "configuration file"
        assert code == 2 and f"'{victim.name}' is the {what} being read" in err.getvalue()
        assert victim.read_bytes() == before
