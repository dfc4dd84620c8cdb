"""Small real plans with known findings, and a CliRunner helper, for the ecosystem tests
(formats, configuration, suppressions, baselines, stdin).

`plan_text()` is a correct 4-layer TP 2 x PP 2 plan; its keyword arguments break it:

    layers=5   SV103 error    at 4:23 (the layers do not split over pp; blocks the graph rules)
    mb=1       SV702 warning  at 6:27 (prefill pipeline bubble)
    kv=1       SV709 note     at 4:16 (kv heads replicated over tp)
"""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from syncverify.cli import cli

TEMPLATE = """\
syncverify: 1
name: small
model: {{layers: {layers}, hidden: 512, heads: 8, kv_heads: {kv}, ffn: 1024, vocab: 1000}}
parallel: {{tp: 2, pp: 2}}
phases:
  prefill: {{microbatches: {mb}, tokens: 64, overlap: none}}
  decode: {{microbatches: 2, batch: 4, overlap: none}}
sync:
  - {{id: embed-ar, after: embed, collective: all_reduce, group: tp}}
  - {{id: attn-ar, after: o_proj, collective: all_reduce, group: tp}}
  - {{id: mlp-ar, after: down, collective: all_reduce, group: tp}}
  - {{id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}}
  - {{id: logits, after: lm_head, collective: all_gather, group: tp}}
"""
# environment variables that would change what `check` prints
SCRUBBED = (
    "SYNCVERIFY_OUTPUT_FORMAT",
    "GITHUB_ACTIONS",
    "GITHUB_WORKFLOW",
    "FORCE_COLOR",
    "NO_COLOR",
    "SYNCVERIFY_RAISE",
)


def plan_text(layers: int = 4, kv: int = 8, mb: int = 2) -> str:
    return TEMPLATE.format(layers=layers, kv=kv, mb=mb)


def write(folder: Path, name: str, text: str) -> str:
    """Write `text` to folder/name (creating folders) and return the path as a string."""
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return str(path)


def check(*args: str, env: dict | None = None, **kwargs):
    """`syncverify check ARGS` in-process; stdout and stderr apart (result.stdout/.stderr)."""
    environ = dict.fromkeys(SCRUBBED)
    environ.update(env or {})
    return CliRunner().invoke(cli, ["check", *args], env=environ, **kwargs)
