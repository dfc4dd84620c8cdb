"""YAML text -> plain data, with a span for every value and every key.

The only module that touches PyYAML. It composes the node tree (C loader when available), refuses
hostile shapes before anything walks them (size, nesting depth, alias expansion, recursive
aliases, non-standard tags), and builds dicts, lists and scalars itself so that each value keeps
its position: `spans[path]` for the value and `spans[("@key",) + path]` for its key, where
`path` is the tuple of keys and list indices leading to it. Duplicate keys and YAML 1.1 traps
(octal `010`) are noted on the way; deciding what they mean is the loader's job. Base-60 numbers
(`1:30`) are off, as in YAML 1.2: they stay the text written.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from syncverify.escape import shown
from syncverify.load_codes import (
    DUPLICATE_KEY,
    UNREADABLE_FILE,
    UNSAFE_YAML,
    WRONG_TYPE,
    YAML_SYNTAX,
)
from syncverify.problems import Problems
from syncverify.span import Span

LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 64
# Real plans hold a few hundred values (a sync point is about six). Loading one value (compose,
# build with spans, schema) costs ~50-100 us, so 50,000 values (~8,000 sync points) load in a
# few seconds; the cap bounds what an alias bomb or a long generated file can cost.
MAX_EXPANDED_NODES = 50_000
TOO_LONG = "a plan is a few hundred lines; split generated plans per model"
FLATTEN = "a plan needs a handful of levels (sync -> entry -> ranks -> list); flatten the rest"

_TAG = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = (_TAG + t for t in ("str", "int", "float", "bool", "null"))
TIMESTAMP, MAP, SEQ, MERGE = (_TAG + t for t in ("timestamp", "map", "seq", "merge"))
_SCALAR_TAGS = {STR, INT, FLOAT, BOOL, NULL, TIMESTAMP}
_OCTAL = re.compile(r"[-+]?0[0-7_]+")
_PREFIXED = re.compile(r"[-+]?0[bx]")
MAX_DIGITS = 30  # a plan's numbers fit in 64 bits (every degree is capped at 65,536)
_CONSTRUCTOR = SafeConstructor()


@dataclass
class Document:
    """A composed plan: its data, where each part was written, and the raw scalar texts."""

    text: str
    data: Any = None
    spans: dict = field(default_factory=dict)
    raw: dict = field(default_factory=dict)  # path -> (text as written, quote style or None)
    traps: dict = field(default_factory=dict)  # path -> why YAML 1.1 read it unlike it looks
    fatal: bool = False  # nothing usable (unreadable, bad syntax, hostile)

    def span_at(self, path: tuple) -> Span:
        """The span of the value at `path`, or of its nearest written ancestor."""
        while path and path not in self.spans:
            path = path[:-1]
        return self.spans.get(path, Span(1, 1))


class _Refused(Exception):
    """A hostile shape found while walking the nodes: reported as SV011 at `node`."""

    def __init__(self, node: Node, message: str, help: str = ""):
        super().__init__(message)
        self.node, self.message, self.help = node, message, help


# ---------------------------------------------------------------------------------- reading


def read_text(path: str, text: str | None, problems: Problems) -> str | None:
    """The plan's text, or None after reporting why it cannot be read (SV001, SV011)."""
    if text is not None:
        if len(text) > MAX_BYTES:
            problems.add(
                UNSAFE_YAML,
                Span(1, 1),
                f"the plan is more than the {MAX_BYTES:,} characters syncverify reads",
                help=TOO_LONG,
            )
            return None
        return _checked_text(text, problems)
    raw = _read_bytes(Path(path), problems)
    if raw is None:
        return None
    return _decode(raw, problems)


def _read_bytes(path: Path, problems: Problems) -> bytes | None:
    try:
        if path.is_dir():
            problems.add(
                UNREADABLE_FILE,
                Span(1, 1),
                f"'{path}' is a directory, not a plan file",
                help="name a plan file; `syncverify check DIR` checks the *.yaml and "
                "*.yml files under DIR, and finds no plan files under this one",
            )
            return None
        size = path.stat().st_size
        if size <= MAX_BYTES:
            # one byte past the cap, never more: devices and pipes (/dev/zero) report size 0
            with path.open("rb") as handle:
                raw = handle.read(MAX_BYTES + 1)
            if len(raw) <= MAX_BYTES:
                return raw
        length = f"{size:,} bytes, more than the" if size else "more than the"
        problems.add(
            UNSAFE_YAML,
            Span(1, 1),
            f"the plan is {length} {MAX_BYTES:,} bytes syncverify reads",
            help=TOO_LONG,
        )
        return None
    except FileNotFoundError:
        problems.add(
            UNREADABLE_FILE, Span(1, 1), f"cannot read '{path}': no such file or directory"
        )
    except PermissionError:
        problems.add(UNREADABLE_FILE, Span(1, 1), f"cannot read '{path}': permission denied")
    except OSError as exc:
        problems.add(UNREADABLE_FILE, Span(1, 1), f"cannot read '{path}': {exc.strerror or exc}")
    return None


def _decode(raw: bytes, problems: Problems) -> str | None:
    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        problems.add(
            UNREADABLE_FILE,
            Span(1, 1),
            "the plan is UTF-16 text, not UTF-8",
            help="save the file as UTF-8",
        )
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        column = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        problems.add(
            UNREADABLE_FILE,
            Span(line, column),
            f"the plan is not UTF-8 text: byte 0x{raw[exc.start]:02x} at line {line}",
            help="save the file as UTF-8",
        )
        return None
    return _checked_text(text, problems)


def _checked_text(text: str, problems: Problems) -> str | None:
    nul = text.find("\x00")
    if nul >= 0:
        problems.add(
            UNREADABLE_FILE,
            _offset_span(text, nul),
            "the plan holds a NUL byte: it is not a text file",
        )
        return None
    bad = re.search(r"[\ud800-\udfff]", text)
    if bad:
        problems.add(
            UNREADABLE_FILE,
            _offset_span(text, bad.start()),
            "the plan is not UTF-8 text",
            help="save the file as UTF-8",
        )
        return None
    return text


def _offset_span(text: str, offset: int) -> Span:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return Span(line, column)


# ---------------------------------------------------------------------------------- composing


def compose(text: str, problems: Problems) -> Document:
    """Compose and convert `text`; problems found are added to `problems`."""
    doc = Document(text)
    if not _shape_ok(text, problems):
        doc.fatal = True
        return doc
    try:
        root = yaml.compose(text, Loader=LOADER)
    except yaml.YAMLError as exc:
        _syntax_problem(exc, text, problems)
        doc.fatal = True
        return doc
    except RecursionError:
        problems.add(
            UNSAFE_YAML,
            Span(1, 1),
            f"the plan is nested more than {MAX_DEPTH} levels deep",
            help=FLATTEN,
        )
        doc.fatal = True
        return doc
    if root is None:
        return doc
    try:
        _check_expansion(root)
        doc.data = _Builder(doc, problems).convert(root, (), 0)
    except _Refused as refused:
        problems.add(
            UNSAFE_YAML,
            _node_span(refused.node, text, text.split("\n")),
            refused.message,
            refused.help,
        )
        doc.fatal = True
    return doc


def _shape_ok(text: str, problems: Problems) -> bool:
    """Refuse deep nesting and too many values before the composer builds anything.

    The C composer recurses on the C stack: about 30,000 levels crash the process with an 8 MB
    stack, far fewer on a thread's smaller stack. The parser's event stream is flat, so it is
    scanned first (it costs about a fifth of composing) and stops at the first level too deep,
    or at the first value past MAX_EXPANDED_NODES (a long file is refused after reading that
    many values, not all of it; aliases count once here and are expanded later).
    """
    if len(text) <= MAX_DEPTH:
        return True  # too short to nest deeper than MAX_DEPTH
    depth = values = 0
    try:
        for event in yaml.parse(text, Loader=LOADER):
            if isinstance(event, yaml.NodeEvent):
                values += 1
                if values > MAX_EXPANDED_NODES:
                    problems.add(
                        UNSAFE_YAML,
                        _mark_span(text, event.start_mark),
                        f"the plan holds more than {MAX_EXPANDED_NODES:,} values",
                        help="split it: a plan describes one deployment",
                    )
                    return False
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    problems.add(
                        UNSAFE_YAML,
                        _mark_span(text, event.start_mark),
                        f"the plan is nested more than {MAX_DEPTH} levels deep",
                        help=FLATTEN,
                    )
                    return False
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError as exc:
        if "nesting depth" not in str(exc):
            return True  # compose reports the syntax error with its position
        # newer PyYAML (6.0.4) refuses deep flow nesting itself, while scanning ahead: report
        # it as ours, at the bracket that goes past MAX_DEPTH
        line, column = _deep_flow_position(text)
        problems.add(
            UNSAFE_YAML,
            Span(line, column),
            f"the plan is nested more than {MAX_DEPTH} levels deep",
            help=FLATTEN,
        )
        return False
    return True


def _deep_flow_position(text: str) -> tuple[int, int]:
    """1-based line and column of the first flow bracket nested deeper than MAX_DEPTH.

    A block mapping or sequence at the root counts as the first level, as in the event stream.
    """
    first = next(
        (
            line.strip()
            for line in text.split("\n")
            if line.strip() and not line.strip().startswith(("#", "%", "---"))
        ),
        "",
    )
    depth, quote = (0 if first.startswith(("[", "{")) else 1), None
    for number, line in enumerate(text.split("\n"), start=1):
        for column, char in enumerate(line, start=1):
            if quote:
                quote = None if char == quote else quote
            elif char in "'\"":
                quote = char
            elif char == "#" and (column == 1 or line[column - 2] in " \t"):
                break
            elif char in "[{":
                depth += 1
                if depth > MAX_DEPTH:
                    return number, column
            elif char in "]}":
                depth -= 1
    return 1, 1


def _syntax_problem(exc: yaml.YAMLError, text: str, problems: Problems) -> None:
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        span = _inside(text, *_editor_position(text, mark.line, mark.column))
        problem = (getattr(exc, "problem", None) or "invalid YAML").strip()
        context = (getattr(exc, "context", None) or "").strip()
        context_mark = getattr(exc, "context_mark", None)
        message = f"invalid YAML: {problem}"
        if context and context_mark is not None:
            message += f" ({context} at line {_mark_span(text, context_mark).line})"
        elif context:
            message += f" ({context})"
        lines = text.split("\n")
        found = (
            lines[span.line - 1][span.column - 1 : span.column] if span.line <= len(lines) else ""
        )
        problems.add(YAML_SYNTAX, span, message, help=_syntax_help(problem, context, found))
        return
    position = getattr(exc, "position", None)
    span = _offset_span(text, position) if isinstance(position, int) else Span(1, 1)
    reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
    problems.add(YAML_SYNTAX, span, f"invalid YAML: {reason}")


def _inside(text: str, line: int, column: int) -> Span:
    """A 0-based mark as a span inside the text: at the end of the stream libyaml counts a line
    break the file does not have, so a mark past the last line moves to that line's end."""
    lines = text.split("\n")
    if line >= len(lines):
        line, column = len(lines) - 1, len(lines[-1])
    return Span(line + 1, min(column, len(lines[line])) + 1)


def _syntax_help(problem: str, context: str, found: str) -> str:
    if found == "\t" or "tab" in problem:
        return "indent with spaces: YAML does not allow tabs for indentation"
    if "flow mapping" in context or "flow sequence" in context:
        return "a `{` or `[` opened there is not closed before this point"
    if "another document" in problem:
        return "a plan is one YAML document: remove the second `---`"
    if "mapping values are not allowed" in problem:
        return "check the indentation of this line against the line above"
    return ""


def _check_expansion(root: Node) -> None:
    """Refuse recursive aliases and alias expansions above MAX_EXPANDED_NODES, before any walk.

    Aliases share one node object, so the expanded size is computed once per node (memoised by
    id), iteratively; a node met again while it is still being expanded is a recursive alias.
    """
    size: dict[int, int] = {}
    open_nodes: set[int] = set()
    stack = [(root, False)]
    while stack:
        node, closing = stack.pop()
        if closing:
            open_nodes.discard(id(node))
            size[id(node)] = 1 + sum(size[id(c)] for c in _children(node))
            if size[id(node)] > MAX_EXPANDED_NODES:
                aliased = size[id(node)] > _plain_size(node)
                raise _Refused(
                    node,
                    f"{'aliases here expand to' if aliased else 'the plan holds'} "
                    f"more than {MAX_EXPANDED_NODES:,} values"
                    + (" (an alias bomb?)" if aliased else ""),
                    help="write the plan out without nested aliases"
                    if aliased
                    else "split it: a plan describes one deployment",
                )
            continue
        if id(node) in size:
            continue
        open_nodes.add(id(node))
        stack.append((node, True))
        for child in _children(node):
            if id(child) in open_nodes:
                raise _Refused(
                    child,
                    "a recursive alias: this value contains itself",
                    help="an alias (`*name`) must not refer to a value that encloses it",
                )
            if id(child) not in size:
                stack.append((child, False))


def _plain_size(root: Node) -> int:
    """How many distinct nodes are under `root` (each alias target counted once)."""
    seen, stack = set(), [root]
    while stack:
        node = stack.pop()
        if id(node) not in seen:
            seen.add(id(node))
            stack.extend(_children(node))
    return len(seen)


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _node_span(node: Node, text: str, lines: list[str]) -> Span:
    (start_line, start_column), (end_line, end_column) = (
        _editor_position(text, mark.line, mark.column) for mark in (node.start_mark, node.end_mark)
    )
    if end_column == 0 and end_line > start_line:  # a block collection ends where the next begins
        end_line, end_column = _last_content_before(lines, start_line, end_line)
    return Span(start_line + 1, start_column + 1, end_line + 1, end_column + 1)


def _mark_span(text: str, mark) -> Span:
    line, column = _editor_position(text, mark.line, mark.column)
    return Span(line + 1, column + 1)


# YAML 1.1 (PyYAML, libyaml) also ends a line at NEL, U+2028, U+2029 and a lone CR; editors and
# the rest of syncverify count only LF. Marks are moved to LF lines when the text has any.
_OTHER_BREAK = re.compile("[\x85\u2028\u2029]|\r(?!\n)")
_YAML_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")


@lru_cache(maxsize=2)
def _yaml_lines(text: str) -> tuple[list[int], list[int]] | None:
    """(offset where each YAML line starts, offset of each LF), or None when they agree."""
    if not _OTHER_BREAK.search(text):
        return None
    starts = [0] + [m.end() for m in _YAML_BREAK.finditer(text)]
    return starts, [m.start() for m in re.finditer("\n", text)]


def _editor_position(text: str, line: int, column: int) -> tuple[int, int]:
    """A 0-based YAML mark (line, column) as the 0-based LF line and column of `text`."""
    lines = _yaml_lines(text)
    if lines is None or line >= len(lines[0]):
        return line, column
    starts, feeds = lines
    offset = starts[line] + column
    before = bisect_left(feeds, offset)  # LFs before the offset
    return before, offset - (feeds[before - 1] + 1 if before else 0)


def _last_content_before(lines: list[str], first: int, line: int) -> tuple[int, int]:
    """(line, column) just after the last content (not blank, not comment) before `line`."""
    for index in range(min(line, len(lines)) - 1, first - 1, -1):
        content = lines[index].split(" #")[0].rstrip()
        if content and not content.lstrip().startswith("#"):
            return index, len(content)
    return first, 0


# ---------------------------------------------------------------------------------- building


class _Builder:
    """Builds plain data from nodes, filling the document's spans, raw texts and traps."""

    def __init__(self, doc: Document, problems: Problems, parent: _Builder | None = None):
        self.doc, self.problems = doc, problems
        self._spans: dict[int, Span] = parent._spans if parent else {}
        self.lines: list[str] = parent.lines if parent else doc.text.split("\n")

    def span(self, node: Node) -> Span:
        """The node's span (computed once per node: aliases share their anchor's node)."""
        found = self._spans.get(id(node))
        if found is None:
            found = self._spans[id(node)] = _node_span(node, self.doc.text, self.lines)
        return found

    def convert(self, node: Node, path: tuple, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise _Refused(node, f"the plan is nested more than {MAX_DEPTH} levels deep", FLATTEN)
        self.doc.spans[path] = self.span(node)
        if isinstance(node, MappingNode):
            self._check_tag(node, MAP)
            return self.mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            self._check_tag(node, SEQ)
            return [self.convert(item, path + (i,), depth + 1) for i, item in enumerate(node.value)]
        if isinstance(node, ScalarNode):
            return self.scalar(node, path)
        # PyYAML's composer makes only these three kinds of node
        raise TypeError(f"unexpected YAML node {type(node).__name__}")

    def _check_tag(self, node: Node, expected: str) -> None:
        if node.tag != expected:
            raise _Refused(
                node,
                f"the tag '{_short_tag(node.tag)}' is not allowed: a plan is plain YAML",
                help="remove the tag; syncverify never constructs language objects",
            )

    def scalar(self, node: ScalarNode, path: tuple) -> Any:
        if node.tag not in _SCALAR_TAGS:
            self._check_tag(node, STR)
        self.doc.raw[path] = (node.value, node.style or None)  # the C loader says '' for plain
        if node.tag in (STR, TIMESTAMP):  # a date-looking name stays the text written
            return node.value
        if node.tag in (INT, FLOAT) and ":" in node.value:
            # base 60 is off, as in YAML 1.2: `1:30` is the text written (an id stays an id; a
            # number field names the text in its type error), never converted (PyYAML converts
            # base 60 in quadratic time)
            return node.value
        _check_digits(node, path)
        try:
            value = _construct(node)
        except Exception:
            self.problems.add(
                WRONG_TYPE,
                self.span(node),
                f"'{shown(node.value)}' cannot be read as {_short_tag(node.tag)}",
            )
            return node.value
        self._note_trap(node, path, value)
        return value

    def _note_trap(self, node: ScalarNode, path: tuple, value: Any) -> None:
        if node.style or node.tag not in (INT, FLOAT):
            return
        text = node.value
        if node.tag == INT and _OCTAL.fullmatch(text):
            decimal = int(text.replace("_", ""), 10)
            if decimal != value:
                self.doc.traps[path] = (
                    f"YAML 1.1 reads {text} as the octal number {value}, not {decimal}",
                    f"write {decimal} without the leading zero",
                )

    def mapping(self, node: MappingNode, path: tuple, depth: int) -> dict:
        out: dict = {}
        first_seen: dict[str, Node] = {}
        merges = []
        for key_node, value_node in node.value:
            if key_node.tag == MERGE:
                merges.append(value_node)
                continue
            key = self.key(key_node, path)
            if key is None:
                continue
            if key in first_seen:
                self._duplicate(key, first_seen[key], key_node, path)
            first_seen[key] = key_node
            self.doc.spans[("@key",) + path + (key,)] = self.span(key_node)
            out[key] = self.convert(value_node, path + (key,), depth + 1)
        for source in merges:
            self.merge(source, out, path, depth)
        return out

    def key(self, key_node: Node, path: tuple) -> str | None:
        """The key's name; None (after reporting it) for keys that are not names."""
        if isinstance(key_node, ScalarNode) and key_node.tag in (STR, TIMESTAMP):
            return key_node.value
        if isinstance(key_node, ScalarNode) and key_node.tag in _SCALAR_TAGS:
            _check_digits(key_node, path)
            read = _construct(key_node) if key_node.tag != NULL else None
            kind = {BOOL: "boolean", NULL: "null", INT: "number", FLOAT: "number"}[key_node.tag]
            hint = (
                f"quote it ('{key_node.value}') if it is meant as a name"
                if key_node.tag == BOOL
                else "keys are names"
            )
            shown = (
                "null" if read is None else str(read).lower() if isinstance(read, bool) else read
            )
            self.problems.add(
                WRONG_TYPE,
                self.span(key_node),
                f"the key `{key_node.value}` is read by YAML 1.1 as the {kind} {shown}, not a name",
                help=hint,
            )
            return None
        if isinstance(key_node, ScalarNode):
            self._check_tag(key_node, STR)
        self.problems.add(
            WRONG_TYPE, self.span(key_node), "a key must be a plain name, not a list or mapping"
        )
        return None

    def _duplicate(self, key: str, first: Node, again: Node, path: tuple) -> None:
        where = " in " + dotted(path) if path else ""
        self.problems.add(
            DUPLICATE_KEY,
            self.span(again),
            f"duplicate key '{key}'{where}: first at {_where(self.doc.text, first, again)}, "
            f"again at {_where(self.doc.text, again, first)}",
            help="keep one of them: YAML would silently use only the last",
        )

    def merge(self, source: Node, out: dict, path: tuple, depth: int) -> None:
        """`<<: *defaults` (or a list of them): keys not written here are taken from the source."""
        sources = source.value if isinstance(source, SequenceNode) else [source]
        for item in sources:
            if not isinstance(item, MappingNode):
                self.problems.add(
                    WRONG_TYPE,
                    self.span(item),
                    "a merge key (<<) takes a mapping or a list of mappings",
                )
                continue
            scratch = Document(self.doc.text)
            merged = _Builder(scratch, self.problems, parent=self).mapping(item, path, depth)
            adopted = {key for key in merged if key not in out}
            for key in adopted:
                out[key] = merged[key]
            for table in ("spans", "raw", "traps"):
                getattr(self.doc, table).update(
                    (p, v)
                    for p, v in getattr(scratch, table).items()
                    if _merged_key(p, path) in adopted
                )


def _where(text: str, node: Node, other: Node) -> str:
    """'line 5', or 'line 5 column 12' when both keys share a line."""
    at, there = (_mark_span(text, n.start_mark) for n in (node, other))
    return f"line {at.line}" + (f" column {at.column}" if at.line == there.line else "")


def _merged_key(entry: tuple, path: tuple):
    """The key under `path` that a span/raw entry of a merged mapping belongs to."""
    at = len(path) + 1 if entry[:1] == ("@key",) else len(path)
    return entry[at] if len(entry) > at else None


def _construct(node: ScalarNode) -> Any:
    if node.tag == NULL:
        return None
    method = {
        INT: _CONSTRUCTOR.construct_yaml_int,
        FLOAT: _CONSTRUCTOR.construct_yaml_float,
        BOOL: _CONSTRUCTOR.construct_yaml_bool,
    }[node.tag]
    return method(node)


def _check_digits(node: ScalarNode, path: tuple) -> None:
    """Refuse an integer written with more than MAX_DIGITS digits before anything converts it:
    Python refuses decimal strings of more than 4,300 digits; hex and binary convert at any
    length, then fail when a message prints them. (Base 60 never gets here: it is text.)"""
    if node.tag != INT:
        return
    count = sum(1 for c in node.value if c.isalnum()) - (2 if _PREFIXED.match(node.value) else 0)
    if count > MAX_DIGITS:
        raise _Refused(
            node,
            f"{dotted(path)}: a number of {count:,} digits; syncverify reads "
            f"numbers of at most {MAX_DIGITS}",
            help="a plan's numbers are degrees, sizes and counts",
        )


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_TAG) :] if tag.startswith(_TAG) else tag


def dotted(path: tuple) -> str:
    """A key path as users read it: ("sync", 3, "group") -> "sync[3].group"."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "the plan"
