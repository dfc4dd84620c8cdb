"""Inline suppressions: `# syncverify: ...` comments in a plan (docs/suppressions.md).

    parallel: {tp: 6}   # syncverify: disable-line SV201 -- we pad the heads
    # syncverify: disable-next-line SV702
    # syncverify: disable SV301, SV302  ...  # syncverify: enable SV301, SV302
    # syncverify: disable-file SV704         (before the first key of the plan)

Each directive names the rules it silences, by code or slug; a directive without one is
rejected (SV902, invalid-suppression), and a code that silenced nothing is reported (SV901,
unused-suppression), only when that rule ran on the plan. A finding is silenced by the line it
reports (its `line`). Load problems (SV0xx), internal errors (SV900) and the findings of rules
that stop the graph rules (`blocks_graph`: the plan cannot be unrolled) cannot be silenced: each
means part of the plan was not checked, and silencing it would turn that into "no findings" (as
mypy's blocking errors and ruff's syntax errors, which no `# type: ignore` or `noqa` hides).

PyYAML's composer throws comments away, so they are recovered from the source text between
the scanner's tokens: a `#` inside a quoted or block scalar is part of a token, never a gap.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from syncverify.findings import Finding, Where

MARKER = re.compile(r"#\s*syncverify\s*:", re.IGNORECASE)
DIRECTIVE = re.compile(r"#\s*syncverify\s*:\s*(?P<kind>[A-Za-z][\w-]*)(?P<rest>.*)$", re.IGNORECASE)
KINDS = ("disable-line", "disable-next-line", "disable", "enable", "disable-file")
CODE_LIKE = re.compile(r"^(?:[A-Za-z]{2}\d+|[Ss][Vv]\w*\d\w*)$")  # meant as a code
UNSILENCEABLE = re.compile(r"^SV0\d\d$|^SV900$")
SELF_CODES = ("SV901", "SV902")  # findings about the suppressions themselves
# words other linters use for their directives -> ours
OTHER_TOOLS = {
    "ignore": "disable-line",
    "noqa": "disable-line",
    "disable-all": "disable-file",
    "off": "disable",
    "on": "enable",
}


@dataclass(frozen=True)
class Comment:
    line: int  # 1-based
    column: int  # 1-based, the `#`
    text: str  # from `#` to the end of the line, trailing blanks removed


@dataclass
class Directive:
    kind: str
    codes: tuple[str, ...]
    comment: Comment
    used: set = field(default_factory=set)  # the codes that silenced a finding


@dataclass(frozen=True)
class Scope:
    """One code silenced over lines first..last by a directive."""

    code: str
    first: int
    last: int
    directive: Directive


@dataclass
class Parsed:
    directives: list[Directive] = field(default_factory=list)
    scopes: list[Scope] = field(default_factory=list)
    invalid: list[tuple[Comment, str, str]] = field(default_factory=list)  # comment, msg, help


# ------------------------------------------------------------------------- comments


def comments_and_content_lines(text: str) -> tuple[list[Comment], set[int]]:
    """Every comment of a YAML text and the lines that hold something other than comments."""
    import yaml

    from syncverify.yamlnodes import LOADER

    markers = (yaml.DocumentStartToken, yaml.DocumentEndToken, yaml.DirectiveToken)
    starts = [0] + [i + 1 for i, ch in enumerate(text) if ch == "\n"]
    comments: list[Comment] = []
    content: set[int] = set()
    previous_end = 0
    for token in yaml.scan(text, Loader=LOADER):
        start, end = token.start_mark, token.end_mark
        comments.extend(comments_in(text, previous_end, start.index, starts))
        if end.index > start.index and not isinstance(token, markers):
            last = end.line if end.column > 0 else end.line - 1
            content.update(range(start.line + 1, max(start.line, last) + 2))
        previous_end = max(previous_end, end.index)
    comments.extend(comments_in(text, previous_end, len(text), starts))
    return comments, content


def comments_in(text: str, begin: int, end: int, starts: list[int]) -> list[Comment]:
    """The comments in text[begin:end], a stretch between two tokens (blanks and comments)."""
    found: list[Comment] = []
    at = begin
    while True:
        at = text.find("#", at, end)
        if at < 0:
            return found
        line_end = text.find("\n", at, end)
        line_end = end if line_end < 0 else line_end
        line = bisect.bisect_right(starts, at)
        found.append(Comment(line, at - starts[line - 1] + 1, text[at:line_end].rstrip()))
        at = line_end


# ------------------------------------------------------------------------- directives


def rule_names(rest: str, known: dict[str, str]) -> tuple[list[str], list[str]]:
    """(codes named, unknown code-like tokens) at the start of `rest`; the rest is a reason."""
    codes, unknown = [], []
    for token in re.split(r"[\s,]+", rest.strip()):
        if not token:
            continue
        if token.lower() in known:
            codes.append(known[token.lower()])
        elif CODE_LIKE.match(token):
            unknown.append(token)
        else:
            break  # `--`, `#` or the first word of a reason
    return codes, unknown


def parse(comments: Iterable[Comment], content: set[int], known: dict[str, str]) -> Parsed:
    parsed = Parsed()
    first_content = min(content, default=0)
    for comment in comments:
        match = DIRECTIVE.match(comment.text)
        if not match:
            continue
        kind = match.group("kind").lower()
        if kind not in KINDS:
            from syncverify.usage import suggestions

            close = [OTHER_TOOLS[kind]] if kind in OTHER_TOOLS else suggestions(kind, KINDS)
            if close:  # `# syncverify: <prose>` is not a directive; a typo of one is
                parsed.invalid.append(
                    (
                        comment,
                        f"unknown suppression directive '{kind}'",
                        f"did you mean `# syncverify: {close[0].lower()} CODE`?",
                    )
                )
            continue
        codes, unknown = rule_names(match.group("rest"), known)
        problem = directive_problem(kind, codes, unknown, comment, content, first_content)
        if problem:
            parsed.invalid.append((comment, *problem))
        else:
            parsed.directives.append(Directive(kind, tuple(dict.fromkeys(codes)), comment))
    return parsed


def directive_problem(kind, codes, unknown, comment, content, first_content):
    """(message, help) when a directive cannot be used as written, else None."""
    example = f"`# syncverify: {kind} SV301`"
    if unknown:
        return (
            f"suppression names no rule: {', '.join(unknown)}",
            "`syncverify rules` lists the codes and slugs",
        )
    if not codes:
        return (
            f"`{kind}` without a rule code: suppressions silence named rules only",
            f"name the rules it silences, e.g. {example}",
        )
    blocked = [c for c in codes if UNSILENCEABLE.match(c)]
    if blocked:
        return (
            f"{', '.join(blocked)} cannot be suppressed: the plan could not be checked",
            "fix the plan so that it loads, or report the internal error",
        )
    stopping = [c for c in codes if c in graph_stoppers()]
    if stopping:
        return (
            f"{', '.join(stopping)} cannot be suppressed: "
            f"{'its finding stops' if len(stopping) == 1 else 'their findings stop'} the "
            "graph rules (the plan cannot be unrolled), so the plan would pass unchecked",
            f"fix the plan (`syncverify explain {stopping[0]}`) and the graph rules run",
        )
    if kind == "disable-line" and comment.line not in content:
        return (
            "`disable-line` on a line of its own silences nothing",
            f"put it after the value, or use `# syncverify: disable-next-line "
            f"{' '.join(codes)}` above it",
        )
    if kind == "disable-file" and first_content and comment.line > first_content:
        return (
            "`disable-file` must come before the plan's first key",
            "move it to the comments at the top of the file",
        )
    return None


def scope(parsed: Parsed, content: set[int], last_line: int) -> None:
    """The lines each directive silences, per code; an `enable` without an open `disable` of
    its code is invalid."""
    open_blocks: dict[str, tuple[int, Directive]] = {}
    for directive in parsed.directives:
        line = directive.comment.line
        if directive.kind == "enable":
            closed = [c for c in directive.codes if c in open_blocks]
            for code in closed:
                first, opened = open_blocks.pop(code)
                parsed.scopes.append(Scope(code, first, line, opened))
            missing = [c for c in directive.codes if c not in closed]
            if missing:
                names = " ".join(missing)
                parsed.invalid.append(
                    (
                        directive.comment,
                        f"`enable {names}` without an earlier `disable {names}`",
                        "remove it, or add the `disable` it ends",
                    )
                )
            continue
        if directive.kind == "disable":
            for code in directive.codes:
                open_blocks.setdefault(code, (line, directive))
            continue
        if directive.kind == "disable-line":
            first = last = line
        elif directive.kind == "disable-next-line":
            first = last = min((n for n in content if n > line), default=line + 1)
        else:  # disable-file
            first, last = 1, last_line
        parsed.scopes.extend(Scope(code, first, last, directive) for code in directive.codes)
    for code, (first, opened) in open_blocks.items():  # never re-enabled: to the end
        parsed.scopes.append(Scope(code, first, last_line, opened))


def lines_of(directive: Directive, scopes: list[Scope], code: str) -> tuple[int, int]:
    found = [s for s in scopes if s.directive is directive and s.code == code]
    return (found[0].first, found[0].last) if found else (directive.comment.line,) * 2


# ------------------------------------------------------------------------- applying


def graph_stoppers() -> frozenset[str]:
    """The codes whose findings keep the graph rules from running (`Rule.blocks_graph`)."""
    from syncverify.blocking import BLOCKING_CODES

    return BLOCKING_CODES


def known_names() -> dict[str, str]:
    """lower-case code or slug -> code, for every registered rule."""
    from syncverify.rules import ALL_RULES

    names = {r.code.lower(): r.code for r in ALL_RULES}
    names.update({r.slug: r.code for r in ALL_RULES})
    return names


def directives_of(text: str) -> Parsed | None:
    """The scoped directives of a plan text, or None when it has no `# syncverify:` comment."""
    import yaml

    if not text or not MARKER.search(text):
        return None
    try:
        comments, content = comments_and_content_lines(text)
    except yaml.YAMLError:  # the loader accepted the plan, so this is not expected
        return None
    parsed = parse(comments, content, known_names())
    scope(parsed, content, text.count("\n") + 1)
    return parsed


def apply_suppressions(plan, findings: list[Finding], ran: Iterable[str]) -> list[Finding]:
    """`findings` without the silenced ones, plus SV901/SV902 for the plan's directives.

    `ran`: the codes of the rules that ran on the plan (a suppression of a rule that did not
    run is not unused: it was not tested).
    """
    parsed = directives_of(getattr(plan, "text", ""))
    if parsed is None:
        return findings
    ran = set(ran)
    kept = [f for f in findings if not silenced(parsed.scopes, f)]
    own = own_findings(plan, parsed, ran, crashed=any(f.code == "SV900" for f in findings))
    kept += [f for f in own if not silenced(parsed.scopes, f)]
    return sorted(kept, key=Finding.sort_key)


def silenced(scopes: list[Scope], finding: Finding) -> bool:
    """Whether a scope silences `finding` (each scope that does is marked used)."""
    if UNSILENCEABLE.match(finding.code) or finding.code in graph_stoppers():
        return False
    matched = [s for s in scopes if s.code == finding.code and s.first <= finding.line <= s.last]
    for found in matched:
        found.directive.used.add(finding.code)
    return bool(matched)


def own_findings(plan, parsed: Parsed, ran: set[str], crashed: bool) -> list[Finding]:
    """SV902 for each rejected directive, SV901 for each code that silenced nothing."""
    from syncverify.rules import invalid_suppression, unused_suppression

    out = []
    if invalid_suppression.RULE.code in ran:
        for comment, message, help_text in parsed.invalid:
            out.append(finding_at(plan, invalid_suppression.RULE, comment, message, help_text))
    if unused_suppression.RULE.code in ran and not crashed:
        for directive in parsed.directives:
            for code in directive.codes:
                if (
                    code in ran
                    and code not in directive.used
                    and code not in SELF_CODES
                    and directive.kind != "enable"
                ):
                    out.append(
                        finding_at(
                            plan,
                            unused_suppression.RULE,
                            directive.comment,
                            unused_message(directive, parsed.scopes, code),
                            f"remove {code} from the comment (the finding it "
                            "silenced is gone), or the whole comment",
                        )
                    )
    return out


def unused_message(directive: Directive, scopes: list[Scope], code: str) -> str:
    if directive.kind == "disable-file":
        return f"unused suppression: no {code} finding in this plan"
    first, last = lines_of(directive, scopes, code)
    if first == last:
        return f"unused suppression: no {code} finding on line {first}"
    return f"unused suppression: no {code} finding in lines {first}-{last}"


def finding_at(plan, rule, comment: Comment, message: str, help_text: str) -> Finding:
    return Finding(
        code=rule.code,
        slug=rule.slug,
        category=rule.category,
        severity=rule.severity,
        message=message,
        help=help_text,
        file=plan.path,
        line=comment.line,
        column=comment.column,
        end_line=comment.line,
        end_column=comment.column + len(comment.text),
        where=Where(),
    )
