"""Hypothesis strategies: small layouts whose synthesized plans are correct by construction."""
from hypothesis import strategies as st

from tests.support import TINY_DENSE, TINY_MOE

TINY_MOE_ALL = {"layers": 4, "hidden": 256, "heads": 8, "kv_heads": 2, "vocab": 1000,
                "moe": {"experts": 8, "top_k": 2, "layers": "all", "ffn": 128}}
MODELS = [TINY_DENSE, TINY_MOE, TINY_MOE_ALL]


@st.composite
def layouts(draw, max_tp: int = 4):
    """Keyword arguments for `synthesize_plan`: every axis, overlap mode and MoE layout."""
    model = draw(st.sampled_from(MODELS))
    tp = draw(st.sampled_from([t for t in (1, 2, 4) if t <= max_tp]))
    pp = draw(st.sampled_from([1, 2]))
    dp = draw(st.sampled_from([1, 2]))
    ep = draw(st.sampled_from(sorted({1, tp, tp * dp}))) if "moe" in model else 1
    overlap = draw(st.sampled_from(["none", "comm_compute", "two_batch"]))
    mb = draw(st.sampled_from([2] if overlap == "two_batch" else [1, 2, 3]))
    sp = 1
    if ep == 1 and draw(st.booleans()) and draw(st.booleans()):
        sp, dp = 2, 1
    return dict(model=model, tp=tp, pp=pp, dp=dp, ep=ep, overlap=overlap, prefill_sp=sp,
                decode_dp=sp if sp > 1 else None, prefill_microbatches=mb, decode_microbatches=mb,
                token_return=draw(st.sampled_from(["host", "device"])), tokens=64, batch=8)
