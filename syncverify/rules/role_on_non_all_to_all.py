"""## What it checks
That `role` (`dispatch` or `combine`) is given only on an `all_to_all` (plan format: `role`,
all_to_all only).

## Why it matters
The role tells an all-to-all whether it moves tokens to their experts or brings the experts'
results back. No other collective has such a direction, so a `role` elsewhere says the author
believes the sync does something it does not: typically an all-to-all dispatch that was turned
into an all_gather without revisiting the combine.

## Bad plan
```yaml
sync:
  - {id: dispatch, after: router, collective: all_gather, group: ep, role: dispatch, layers: moe}
```

<details><summary>A complete plan with this defect</summary>

```yaml
# Qwen3-30B-A3B with EP4 inside each TP4 replica: the experts' outputs are summed by an
# all-reduce over EP (S12), which was given the role of the all-to-all combine it replaced.
syncverify: 1
name: qwen3-30b-a3b-all-reduce-with-role
model: {layers: 48, hidden: 2048, heads: 32, kv_heads: 4, head_dim: 128, vocab: 151936,
        max_context: 40960, moe: {experts: 128, top_k: 8, ffn: 768}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4, dp: 2, ep: 4}
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 128}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  # next line: SV115
  - {id: moe-ar, after: experts, collective: all_reduce, group: ep, role: combine, layers: moe}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>

## Fix
```yaml
sync:
  - {id: dispatch, after: router, collective: all_to_all, group: ep, role: dispatch, layers: moe}
```

<details><summary>The complete plan, fixed</summary>

```yaml
syncverify: 1
name: qwen3-30b-a3b-all-reduce-with-role-fixed
model: {layers: 48, hidden: 2048, heads: 32, kv_heads: 4, head_dim: 128, vocab: 151936,
        max_context: 40960, moe: {experts: 128, top_k: 8, ffn: 768}}
cluster: {nodes: 1, gpus_per_node: 8}
parallel: {tp: 4, dp: 2, ep: 4}
phases:
  prefill: {microbatches: 1, tokens: 8192}
  decode: {microbatches: 1, batch: 128}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: moe-ar, after: experts, collective: all_reduce, group: ep, layers: moe}  # <- fixed
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
  - {id: dp-out, after: sample, collective: gather, group: dp}
```

</details>
"""

from syncverify.findings import Where
from syncverify.rule import Context, Rule
from syncverify.rule_support.for_static_rules import article, is_written


def check(ctx: Context) -> None:
    for sync in ctx.plan.syncs:
        if sync.collective == "all_to_all":
            continue
        if is_written(ctx.plan, sync.path + ("role",)) or sync.role is not None:
            ctx.report(
                RULE,
                at=sync.path + ("role",),
                message=f"{sync.label} is {article(sync.collective)} with role '{sync.role}': "
                f"only an all_to_all has a role",
                help="remove `role`, or make the collective an all_to_all",
                where=Where(op=sync.after, sync=sync.label),
            )


RULE = Rule(
    code="SV115",
    slug="role-on-non-all-to-all",
    category="config",
    severity="error",
    summary="role on a collective that is not an all_to_all",
    check=check,
    page=__doc__,
)
