"""The rank processes of the executor's interpreter (syncverify/simulate/process.py): the order
in which a rank runs its work (S3, S16) and where an async call is awaited (S11)."""

from syncverify.simulate.process import Await, Compute, Post, two_batch


def op(mb: int, layer: int, name: str) -> Compute:
    return Compute("prefill", 0, mb, layer, name, {}, {})


def call(mb: int, name: str) -> Post:
    return Post(("prefill", 0, mb, name), None, (0, 1), (0, 1), True, False)  # order only


def names(items) -> list[str]:
    return [
        f"{i.mb}:{i.op}" if isinstance(i, Compute) else f"{i.call[2]}:{i.call[3]}" for i in items
    ]


def stream(mb: int):
    yield call(mb, "recv")  # a stage's receive, before its first op
    yield op(mb, 0, "attn_norm")
    yield op(mb, 0, "qkv")
    yield call(mb, "q-a2a")
    yield call(mb, "kv-a2a")
    yield op(mb, 0, "attention")
    yield call(mb, "back")


def test_two_batch_interleaves_segments_of_the_pair():
    """S16: a's segment and the calls it issues there, then b's, and so on; the calls posted
    before a stream's first op open its first segment."""
    assert names(two_batch([stream(0), stream(1)])) == [
        "0:recv",
        "0:attn_norm",
        "0:qkv",
        "0:q-a2a",
        "0:kv-a2a",
        "1:recv",
        "1:attn_norm",
        "1:qkv",
        "1:q-a2a",
        "1:kv-a2a",
        "0:attention",
        "0:back",
        "1:attention",
        "1:back",
    ]


def test_an_odd_last_microbatch_runs_alone_after_the_pairs():
    order = names(two_batch([stream(0), stream(1), stream(2)]))
    assert order[-7:] == [
        "2:recv",
        "2:attn_norm",
        "2:qkv",
        "2:q-a2a",
        "2:kv-a2a",
        "2:attention",
        "2:back",
    ]


def test_an_await_matches_its_op_in_its_stream_and_layers_only():
    """S11: the first `wait_before` op after the issue point, in the same layer or the next,
    never in another microbatch or step."""
    wait = Await(("prefill", 0, 0), "mlp_norm", frozenset((3, 4)))
    assert wait.matches(op(0, 3, "mlp_norm")) and wait.matches(op(0, 4, "mlp_norm"))
    assert not wait.matches(op(0, 5, "mlp_norm"))
    assert not wait.matches(op(1, 3, "mlp_norm"))
    assert not wait.matches(op(0, 3, "attn_norm"))
    anywhere = Await(("prefill", 0, 0), "lm_head")
    assert anywhere.matches(op(0, 80, "lm_head"))
