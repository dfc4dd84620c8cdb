"""User data made safe to print: plan keys, values, ids and file names reach a terminal or a CI
log inside messages, and must not act there.

A control character (C0, DEL, C1 such as NEL), a line or paragraph separator (U+2028, U+2029)
or a bidirectional override is shown as its Python escape (`\\x1b`, `\\n`, `\\u2028`): an escape
sequence cannot restyle or clear the terminal, and a newline cannot start a line of its own
(e.g. a fake `::error` workflow command in a GitHub Actions log). Long values are cut in the
middle, so a 9 MB key is not echoed whole.
"""

from __future__ import annotations

import re

# C0 but tab, DEL, C1, the Unicode line/paragraph separators, bidi embeddings and isolates
UNSAFE = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
MAX_SHOWN = 200  # characters of one piece of user data in a message
MAX_MESSAGE = 2000  # characters of a whole message (it may quote several pieces)


def escaped(text: str) -> str:
    """`text` with every unsafe character written as its escape."""
    return UNSAFE.sub(_escape, text) if UNSAFE.search(text) else text


def _escape(match: re.Match) -> str:
    return repr(match.group())[1:-1]


def shortened(text: str, limit: int = MAX_SHOWN) -> str:
    """`text`, or its start and end around `...(N characters)...` when it is longer than `limit`."""
    if len(text) <= limit:
        return text
    keep = max(limit // 2 - 12, 1)
    return f"{text[:keep]}...({len(text):,} characters)...{text[-keep:]}"


def shown(text: str, limit: int = MAX_SHOWN) -> str:
    """A piece of user data as a message quotes it: shortened, then escaped."""
    return escaped(shortened(str(text), limit))


def clean_line(text: str) -> str:
    """A whole message or file name for one output line: escaped, and no longer than
    MAX_MESSAGE."""
    return escaped(shortened(text, MAX_MESSAGE))
