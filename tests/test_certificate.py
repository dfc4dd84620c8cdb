"""The certificate of the reduced check (syncverify.analysis.certificate): each window is proven
on the plan or widened, and a window that cannot be widened is an SV118 error, never a silent
pass."""

from __future__ import annotations

import itertools
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from syncverify.analysis.certificate import PERIOD_LADDER, certified_analyses, next_period
from syncverify.engine import check_plan
from syncverify.graph.reduction import WHOLE, run_classes
from syncverify.loader import load_plan

REGRESSIONS = Path(__file__).parent / "regressions" / "issue10"
SV118 = Path(__file__).parent / "rules" / "SV118"
SHIPPED = Path(__file__).parent.parent / "plans"


def certificate(path: Path):
    return certified_analyses(load_plan(str(path))).certificate


def test_a_device_token_carrier_keeps_every_decode_microbatch():
    cert = certificate(REGRESSIONS / "device-token-pp3-six-microbatches.yaml")
    assert cert.exact
    assert cert.reduction.whole_microbatches == {"decode"}
    assert [gap.window for gap in cert.widened] == ["microbatches"]


def test_layouts_that_number_devices_differently_per_phase_keep_the_rank_axes_whole():
    cert = certificate(REGRESSIONS / "handover-layout-dp-tp-first.yaml")
    assert cert.exact and cert.reduction.whole_axes == {"tp", "dp"}
    assert "in prefill but" in cert.widened[0].detail


def test_state_alternating_every_layer_is_cut_with_period_two():
    cert = certificate(REGRESSIONS / "state-alternating-every-layer.yaml")
    assert cert.exact
    assert dict(cert.reduction.layer_periods) == {0: (2, 1)}


def test_every_shipped_plan_is_certified_without_widening_a_host_token_plan():
    for path in sorted(SHIPPED.glob("*.yaml")):
        cert = certificate(path)
        assert cert.exact, path
        if "token-return-device" not in path.name:
            assert not cert.widened, (path, cert.widened)


def test_a_window_too_large_to_widen_is_an_error_not_a_pass():
    findings = check_plan(load_plan(str(SV118 / "bad.yaml")))
    assert [f.code for f in findings if f.severity == "error"] == ["SV118"]
    assert "microbatches window" in findings[0].message and "node cap" in findings[0].message


def test_the_period_ladder_ends_in_keeping_the_run_whole():
    period, seen = PERIOD_LADDER[0], []
    while period != WHOLE:
        seen.append(period)
        period = next_period(period)
    assert seen == PERIOD_LADDER[:-1] and next_period(WHOLE) == WHOLE


@given(a=st.integers(0, 5), length=st.integers(1, 40), period=st.sampled_from(PERIOD_LADDER))
def test_run_classes_cover_each_layer_once_with_its_residue(a, length, period):
    b = a + length - 1
    classes = run_classes(a, b, period)
    members = sorted(layer for real in classes.values() for layer in real)
    assert members == list(range(a, b + 1))
    p = period[0]
    for rep, real in classes.items():
        assert rep == min(real)
        assert all((layer - rep) % max(p, 1) == 0 for layer in real)
    # the layer after the repeating block in the reduced graph has the residue of the real one
    kept = sorted(classes)
    for before, after in itertools.pairwise(kept):
        if after != before + 1 and p:
            assert (after - 1 - before) % p == 0
    # the last two layers are always kept as themselves (the hand-off to what follows)
    assert all(classes.get(layer) == (layer,) for layer in (b - 1, b) if layer >= a)


def test_a_window_over_the_cap_falls_back_to_the_full_unroll_when_it_fits(monkeypatch):
    from syncverify.analysis import certificate as module

    # the mechanism on a small plan whose microbatch window must be widened (0.7 s a check); the
    # 32-rank plan the generators found it with (regressions/properties/uncertified-window-falls-
    # back-to-full-unroll.yaml, 10 s a check) is held to --exhaustive in test_properties_symmetry
    path = REGRESSIONS / "device-token-pp3-six-microbatches.yaml"
    widened = certified_analyses(load_plan(str(path)))
    assert widened.certificate.exact and widened.classes.ranks  # cut, then widened
    monkeypatch.setattr(module, "node_cap", lambda reduce: 1_000)  # no room to widen
    unrolled = certified_analyses(load_plan(str(path)))
    assert unrolled.certificate.exact
    assert unrolled.classes.ranks == {}  # the full unroll: nothing cut
    assert any(gap.window == "microbatches" for gap in unrolled.certificate.widened)
