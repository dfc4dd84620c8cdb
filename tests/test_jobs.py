"""`syncverify check DIR -j N`: plans found recursively, checked on N processes, and the
report is the same, byte for byte, as with one process."""

import copy

import pytest
import yaml
from click.testing import CliRunner

from syncverify.cli import cli
from tests.support import synth


@pytest.fixture
def fleet(tmp_path):
    """A folder of small plans: clean ones, a broken one deep below, an unusable one."""
    good = synth(tp=2, pp=2, prefill_microbatches=2, decode_microbatches=2)
    broken = copy.deepcopy(good)
    broken["sync"] = [s for s in broken["sync"] if s["id"] != "attn-ar"]
    (tmp_path / "team" / "deep").mkdir(parents=True)
    (tmp_path / "a.yaml").write_text(yaml.safe_dump(good, sort_keys=False))
    (tmp_path / "team" / "b.yml").write_text(yaml.safe_dump(synth(tp=2, dp=2), sort_keys=False))
    (tmp_path / "team" / "deep" / "c.yaml").write_text(yaml.safe_dump(broken, sort_keys=False))
    (tmp_path / "team" / "d.yaml").write_text("syncverify: 1\nparallel: {tp: 8, pipline: 2}\n")
    return tmp_path


def run(*args):
    return CliRunner().invoke(cli, ["check", "--isolated", *args])


def test_jobs_give_the_same_report_in_the_same_order(fleet):
    one = run(str(fleet), "--format", "json")
    two = run(str(fleet), "--format", "json", "-j", "2")
    assert one.exit_code == two.exit_code == 2  # d.yaml cannot be loaded
    assert two.stdout == one.stdout and two.stderr == one.stderr
    report = yaml.safe_load(two.stdout)
    assert report["summary"]["files"] == 4
    assert {f["file"].split("/")[-1] for f in report["findings"]} == {"c.yaml", "d.yaml"}


def test_every_job_count_reports_the_missing_sync(fleet):
    (fleet / "team" / "d.yaml").unlink()
    for jobs in ("1", "2", "3", "0"):
        result = run(str(fleet), "--format", "concise", "--jobs", jobs)
        assert result.exit_code == 1
        assert "c.yaml" in result.output and "SV301" in result.output
        assert "a.yaml" not in result.output


def test_a_negative_job_count_is_a_usage_error(fleet):
    result = run(str(fleet), "-j", "-1")
    assert result.exit_code == 2 and "-1" in result.output
