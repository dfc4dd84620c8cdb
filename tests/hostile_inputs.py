"""Hostile inputs for `syncverify check`: each must exit 2 with a located problem, fast.

Shared by tests/test_hostile.py (behaviour: exit code, file:line:column, code, no traceback)
and bench/hostile.py (time and peak memory). `Case.make(folder)` writes the input and returns
the plan argument (a path, or "-" with `stdin` bytes); `line`/`column` are where the problem
must point (None: not pinned).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
SMALL = """\
syncverify: 1
model: {layers: 4, hidden: 512, heads: 8, kv_heads: 8, ffn: 1024, vocab: 1000}
parallel: {tp: 2, pp: 2}
phases:
  prefill: {microbatches: 2, tokens: 64}
  decode: {microbatches: 2, batch: 4}
sync:
  - {id: embed-ar, after: embed, collective: all_reduce, group: tp}
  - {id: attn-ar, after: o_proj, collective: all_reduce, group: tp}
  - {id: mlp-ar, after: down, collective: all_reduce, group: tp}
  - {id: stage-xfer, after: stage_boundary, collective: send_recv, group: pp}
  - {id: logits, after: lm_head, collective: all_gather, group: tp}
"""


@dataclass(frozen=True)
class Case:
    name: str
    make: Callable[[Path], str]
    code: str
    line: int | None
    column: int | None
    says: str  # a piece of the message
    args: tuple = ()  # extra `check` options
    stdin: Callable[[], bytes] | None = None


def _file(name: str, content, mode: str = "w") -> Callable[[Path], str]:
    def make(folder: Path) -> str:
        path = folder / name
        data = content() if callable(content) else content
        path.write_bytes(data) if isinstance(data, bytes) else path.write_text(data)
        return str(path)

    return make


def _edited(old: str, new: str, extra: str = "") -> str:
    assert old in SMALL, old
    return SMALL.replace(old, new, 1) + extra


def _named(name: str) -> str:
    return SMALL.replace("syncverify: 1\n", f"syncverify: 1\nname: {name}\n", 1)


def _alias_bomb(levels: int = 9) -> str:
    """The "billion laughs": 9 levels of 9 aliases, 9**9 values once expanded, 400 bytes."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, levels):
        lines.append(f"a{level}: &a{level} [" + ", ".join([f"*a{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def _bomb_in_a_plan() -> str:
    """A bomb hidden in a real plan's sync list: refused before the schema walks it."""
    return (
        "x-laughs:\n"
        + "".join("  " + line + "\n" for line in _alias_bomb().splitlines())
        + SMALL.replace("sync:\n", "sync: *a8\nx-rest:\n")
    )


def _deep_block(levels: int = 2000) -> str:
    return "syncverify: 1\n" + "".join(" " * i + f"k{i}:\n" for i in range(levels))


def _big_file() -> bytes:
    """100 MB of well-formed YAML (a long list), not a sparse file."""
    chunk = "".join(f"  - {i}\n" for i in range(10_000)).encode()
    head = SMALL.encode() + b"x-padding:\n"
    return head + chunk * (100 * MB // len(chunk) + 1)


def _long_list() -> str:
    return SMALL + "x-values: [" + "1, " * 1_000_000 + "1]\n"


def _many_selectors() -> str:
    text = SMALL.replace("layers: 4,", "layers: 100000,")
    return text + "".join(
        '  - {after: attention, collective: barrier, group: tp, layers: "0..99999"}\n'
        for _ in range(11)
    )


def _idle_scenarios() -> str:
    """dp 1024 replicas told apart by a selector, each tried idle (S17): ~10^9 nodes in all with
    --exhaustive (by default the selector's classes keep 3 replicas, so 3 idle scenarios)."""
    return _edited(
        "parallel: {tp: 2, pp: 2}",
        "parallel: {tp: 2, pp: 2, dp: 1024}",
        "  - {after: sample, collective: gather, group: dp, ranks: {dp: [0, 1]}}\n",
    ).replace("decode: {microbatches: 2,", "decode: {dp_idle: skip, microbatches: 2,")


def _missing(folder: Path) -> str:
    return str(folder / "no-such-plan.yaml")


def _directory(folder: Path) -> str:
    path = folder / "plans"
    path.mkdir(exist_ok=True)
    (path / "notes.txt").write_text("not a plan\n")
    return str(path)


def _hf_config(target: str, content: str | None = None) -> Callable[[Path], str]:
    """A plan whose model comes from `target` (written first when `content` is given)."""

    def make(folder: Path) -> str:
        if content is not None:
            (folder / target).write_text(content)
        path = folder / "hf.yaml"
        path.write_text(
            f"syncverify: 1\nmodel: {{hf_config: {target}}}\nparallel: {{tp: 1}}\n"
            "phases:\n  decode: {batch: 4}\n"
        )
        return str(path)

    return make


def _stdin_only(folder: Path) -> str:
    return "-"


CASES = [
    Case("alias-bomb", _file("bomb.yaml", _alias_bomb), "SV011", 5, 5, "alias bomb"),
    Case(
        "alias-bomb-in-a-plan",
        _file("bomb-plan.yaml", _bomb_in_a_plan),
        "SV011",
        None,
        None,
        "alias bomb",
    ),
    Case(
        "recursive-alias",
        _file("recursive.yaml", _edited("sync:\n", "sync: &s [*s]\nx-rest:\n")),
        "SV011",
        7,
        7,
        "recursive alias",
    ),
    Case(
        "recursive-merge-key",
        _file("merge.yaml", "syncverify: 1\nmodel: &m {<<: *m}\n"),
        "SV011",
        2,
        8,
        "recursive alias",
    ),
    Case(
        "deep-nesting-flow",
        _file("deep-flow.yaml", "syncverify: 1\nx: " + "[" * 100_000 + "]" * 100_000),
        "SV011",
        2,
        67,
        "nested more than 64 levels",
    ),
    Case(
        "deep-nesting-block",
        _file("deep-block.yaml", _deep_block),
        "SV011",
        66,
        65,
        "nested more than 64 levels",
    ),
    Case(
        "100-mb-file", _file("big.yaml", _big_file), "SV011", 1, 1, "more than the 10,485,760 bytes"
    ),
    Case(
        "100-mb-stdin",
        _stdin_only,
        "SV011",
        1,
        1,
        "more than the 10,485,760 characters",
        stdin=_big_file,
    ),
    Case(
        "a-million-values",
        _file("long.yaml", _long_list),
        "SV011",
        13,
        None,
        "more than 50,000 values",
    ),
    Case(
        "tp-10-to-the-12",
        _file("huge-tp.yaml", _edited("tp: 2,", "tp: 1000000000000,")),
        "SV006",
        3,
        16,
        "more than 65,536",
    ),
    Case(
        "negative-tp",
        _file("negative-tp.yaml", _edited("tp: 2,", "tp: -4,")),
        "SV006",
        3,
        16,
        "at least 1",
    ),
    Case(
        "zero-microbatches",
        _file("zero-mb.yaml", _edited("prefill: {microbatches: 2", "prefill: {microbatches: 0")),
        "SV006",
        5,
        27,
        "at least 1",
    ),
    Case(
        "half-a-million-ranks",
        _file("world.yaml", _edited("tp: 2, pp: 2", "tp: 8, pp: 2, dp: 32768")),
        "SV014",
        3,
        30,
        "524,288 ranks",
    ),
    Case(
        "every-degree-at-its-max",
        _file(
            "max-world.yaml", _edited("tp: 2, pp: 2", "tp: 65536, pp: 65536, dp: 65536, sp: 65536")
        ),
        "SV014",
        3,
        16,
        "18,446,744,073,709,551,616 ranks",
    ),
    Case(
        "billions-of-nodes-exhaustive",
        _file(
            "exhaustive.yaml",
            _edited("layers: 4,", "layers: 100000,").replace(
                "microbatches: 2, batch", "microbatches: 65536, batch"
            ),
        ),
        "SV014",
        2,
        17,
        "DAG nodes",
        args=("--exhaustive",),
    ),
    Case(
        "a-graph-per-idle-replica",
        _file("idle.yaml", _idle_scenarios),
        "SV014",
        3,
        30,
        "idle-replica scenarios",
        args=("--exhaustive",),
    ),
    Case(
        "layer-selectors-of-100000-layers",
        _file("selectors.yaml", _many_selectors),
        "SV014",
        23,
        64,
        "layer indices",
    ),
    Case(
        "non-utf8-bytes",
        _file("latin1.yaml", lambda: _named("caf\xe9").encode("latin-1")),
        "SV001",
        2,
        10,
        "not UTF-8",
    ),
    Case(
        "utf16-text", _file("utf16.yaml", lambda: SMALL.encode("utf-16")), "SV001", 1, 1, "UTF-16"
    ),
    Case(
        "random-bytes",
        _file("random.yaml", lambda: bytes(range(256)) * 64),
        "SV001",
        None,
        None,
        "",
    ),
    Case("nul-byte", _file("nul.yaml", _edited("model:", "model:\x00")), "SV001", 2, 7, "NUL byte"),
    Case(
        "tab-indentation",
        _file("tab.yaml", _edited("  prefill:", "\tprefill:")),
        "SV002",
        5,
        1,
        "invalid YAML",
    ),
    Case(
        "python-tag",
        _file(
            "python-tag.yaml", _edited("tp: 2,", "tp: !!python/object/apply:os.system [echo hi],")
        ),
        "SV011",
        3,
        16,
        "!!python/object/apply:os.system",
    ),
    Case(
        "python-name-tag",
        _file("python-name.yaml", _named("!!python/name:os.system")),
        "SV011",
        2,
        7,
        "not allowed",
    ),
    Case(
        "custom-tag",
        _file("custom-tag.yaml", _edited("sync:\n", "sync: !include syncs.yaml\nx-rest:\n")),
        "SV011",
        7,
        7,
        "!include",
    ),
    Case(
        "yaml11-no-as-a-degree",
        _file("no.yaml", _edited("tp: 2,", "tp: no,")),
        "SV005",
        3,
        16,
        "boolean false",
    ),
    Case(
        "yaml11-no-as-a-group",
        _file("group-no.yaml", _edited("group: pp}", "group: no}")),
        "SV005",
        11,
        75,
        "boolean false",
    ),
    Case(
        "yaml11-on-as-a-key",
        _file("key-on.yaml", _edited("parallel: {tp: 2,", "parallel: {on: 2, tp: 2,")),
        "SV005",
        3,
        12,
        "boolean true",
    ),
    Case(
        "yaml11-octal-010",
        _file("octal.yaml", _edited("tp: 2,", "tp: 010,")),
        "SV013",
        3,
        16,
        "octal number 8",
    ),
    Case(
        "yaml11-base-60-is-text",
        _file("base60.yaml", _edited("batch: 4", "batch: 1:30")),
        "SV005",
        6,
        36,
        "the string '1:30'",
    ),
    Case(
        "yaml11-1e3-is-a-string",
        _file("1e3.yaml", _edited("tokens: 64", "tokens: 1e3")),
        "SV005",
        5,
        38,
        "the string '1e3'",
    ),
    Case("yaml-inf", _file("inf.yaml", _edited("tokens: 64", "tokens: .inf")), "SV005", 5, 38, ""),
    Case("empty-file", _file("empty.yaml", ""), "SV008", 1, 1, "the plan is empty"),
    Case(
        "only-comments",
        _file("comments.yaml", "# nothing here\n\n   \n"),
        "SV008",
        1,
        1,
        "the plan is empty",
    ),
    Case("a-list-not-a-plan", _file("list.yaml", "- syncverify: 1\n"), "SV005", 1, 1, "not a list"),
    Case(
        "two-documents",
        _file("two-docs.yaml", SMALL + "---\n" + SMALL),
        "SV002",
        13,
        1,
        "invalid YAML",
    ),
    Case("a-directory", _directory, "SV001", 1, 1, "is a directory"),
    Case("a-missing-file", _missing, "SV001", 1, 1, "no such file or directory"),
]
CASES += [
    Case(
        "hf-config-nested-json",
        _hf_config("deep.json", "[" * 100_000 + "]" * 100_000),
        "SV010",
        2,
        20,
        "nested too deeply",
    ),
    Case(
        "hf-config-60-mb",
        _hf_config("big.json", '{"a": "' + "x" * (60 * MB) + '"}'),
        "SV010",
        2,
        20,
        "larger than 10,485,760 bytes",
    ),
    Case(
        "hf-config-a-directory",
        _hf_config("."),
        "SV010",
        2,
        20,
        "is a folder without a config.json",
    ),
]
if os.path.exists("/dev/zero"):
    CASES += [
        Case(
            "dev-zero", lambda folder: "/dev/zero", "SV011", 1, 1, "more than the 10,485,760 bytes"
        ),
        Case(
            "hf-config-dev-zero",
            _hf_config("/dev/zero"),
            "SV010",
            2,
            20,
            "larger than 10,485,760 bytes",
        ),
    ]

__all__ = ["CASES", "SMALL", "Case"]
