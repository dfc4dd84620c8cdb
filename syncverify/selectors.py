"""The syntax of `layers` and `ranks` selectors, checked by hand (SV012) and parsed.

`layers`: "all", "dense", "moe" (sync points only), an inclusive range "a..b", a layer index, or
a non-empty list of indices and ranges. `ranks` (S9): a mapping from tp/sp/dp/pp/ep to a
coordinate or a non-empty list of coordinates. Only the syntax is checked here: indices past the
model's last layer and coordinates past an axis's size are kept for the config rules.
"""

from __future__ import annotations

import re
from typing import Any

from syncverify.load_codes import BAD_SELECTOR, UNKNOWN_KEY
from syncverify.plan import AXES
from syncverify.problems import Problems
from syncverify.schema import describe, key_hint
from syncverify.yamlnodes import Document, dotted

# At most 18 digits a bound, read in linear time (Python refuses to convert more than 4,300
# digits, and no plan has 10**18 layers or ranks): a longer one is not a range but an error.
RANGE = re.compile(r"\s*(\d{1,18})\s*\.\.\s*(\d{1,18})\s*")
LOOKS_LIKE_RANGE = re.compile(r"\s*(\d{1,18})\s*(?:-|:|\.\.\.|\.\.=|to|,)\s*(\d{1,18})\s*")
# no model has this many layers (the schema caps model.layers at 100000); expanding a range
# beyond it would only cost memory
MAX_LAYER_INDEX = 99_999
LayerSelection = str | frozenset[int]  # a keyword, or the layer indices


class SelectorError(Exception):
    def __init__(self, message: str, help: str = "", at: tuple = ()):
        super().__init__(message)
        self.message, self.help, self.at = message, help, at


def _whole(value: Any) -> int | None:
    """An integer written as 8 or 8.0; None for anything else (booleans included)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


# ---------------------------------------------------------------------------------- layers


def parse_layers(value: Any, keywords: tuple[str, ...]) -> LayerSelection:
    """A keyword from `keywords`, or the frozenset of layer indices selected.

    Raises SelectorError (with `at` the sub-path of the bad list item) when malformed.
    """
    if isinstance(value, list):
        errors = layer_list_errors(value, keywords)
        if errors:
            raise errors[0]
        return frozenset(i for item in value for i in _indices(item))
    if isinstance(value, str) and value.strip() in keywords:
        return value.strip()
    return frozenset(_indices(value, keywords))


def selected_count(value: Any) -> int:
    """How many layer indices a selector names, counted without expanding it (keywords and
    malformed parts count 0: keywords name sets the model already holds, errors stop the load)."""
    items = value if isinstance(value, list) else [value]
    count = 0
    for item in items:
        if _whole(item) is not None:
            count += 1
        elif isinstance(item, str) and (match := RANGE.fullmatch(item)):
            first, last = (int(n) for n in match.groups())
            count += max(last - first + 1, 0)
    return count


def layer_list_errors(value: list, keywords: tuple[str, ...]) -> list[SelectorError]:
    """Every malformed item of a list of layers (an empty list is one error)."""
    if not value:
        return [SelectorError("an empty list selects no layer", _layers_help(keywords))]
    errors = []
    for index, item in enumerate(value):
        if isinstance(item, str) and item.strip() in keywords:
            errors.append(
                SelectorError(
                    f"'{item}' cannot be mixed into a list of layers",
                    f"write `layers: {item}` alone",
                    at=(index,),
                )
            )
            continue
        try:
            _indices(item)
        except SelectorError as exc:
            errors.append(SelectorError(exc.message, exc.help, at=(index,)))
    return errors


def _indices(item: Any, keywords: tuple[str, ...] = ()) -> set[int]:
    number = _whole(item)
    if number is not None:
        if number < 0:
            raise SelectorError(f"layer index {number} is negative", "layers count from 0")
        _check_cap(number)
        return {number}
    if isinstance(item, str):
        return _range(item, keywords)
    raise SelectorError(f"a layer selector cannot be {describe(item)}", _layers_help(keywords))


def _range(text: str, keywords: tuple[str, ...]) -> set[int]:
    match = RANGE.fullmatch(text)
    if match:
        first, last = int(match.group(1)), int(match.group(2))
        if first > last:
            raise SelectorError(
                f"the range '{text}' is empty ({first} > {last})",
                f'write "{last}..{first}": ranges count upwards and include both ends',
            )
        _check_cap(last)
        return set(range(first, last + 1))
    near = LOOKS_LIKE_RANGE.fullmatch(text)
    if near:
        raise SelectorError(
            f"malformed layer range '{text}'",
            f'write "{near.group(1)}..{near.group(2)}" (inclusive at both ends)',
        )
    if text.strip() in ("dense", "moe", "all"):
        raise SelectorError(f"'{text.strip()}' is not a selector here", _layers_help(keywords))
    raise SelectorError(f"malformed layer selector '{text}'", _layers_help(keywords))


def _check_cap(index: int) -> None:
    if index > MAX_LAYER_INDEX:
        raise SelectorError(
            f"layer index {index} is past {MAX_LAYER_INDEX:,}, the last layer index "
            "syncverify accepts",
            "layer indices count from 0 up to model.layers - 1",
        )


def _layers_help(keywords: tuple[str, ...]) -> str:
    if not keywords:
        return 'a list holds layer indices and "a..b" ranges (inclusive), e.g. [0, "3..60"]'
    names = " | ".join(keywords)
    return f'one of: {names} | "a..b" (inclusive) | an index | a list such as [0, "3..60"]'


def check_layers(doc: Document, problems: Problems, path: tuple, keywords: tuple[str, ...]) -> None:
    """Report every malformed part of the layers selector at `path` (SV012)."""
    value = _get(doc.data, path)
    if isinstance(value, list):
        errors = layer_list_errors(value, keywords)
    else:
        try:
            parse_layers(value, keywords)
            errors = []
        except SelectorError as exc:
            errors = [exc]
    for error in errors:
        problems.add(
            BAD_SELECTOR,
            doc.span_at(path + error.at),
            f"{dotted(path)}: {error.message}",
            error.help,
        )


# ---------------------------------------------------------------------------------- ranks


def parse_ranks(value: dict) -> dict[str, frozenset[int]]:
    """Axis -> the coordinates selected, for a ranks selector that passed `check_ranks`."""
    out = {}
    for axis, coords in value.items():
        items = coords if isinstance(coords, list) else [coords]
        out[axis] = frozenset(_checked_whole(c) for c in items)
    return out


def _checked_whole(value: Any) -> int:
    """A coordinate `check_ranks` accepted, so a whole number."""
    number = _whole(value)
    if number is None:  # check_ranks reports it (SV012) before any plan is built: a bug here
        raise ValueError(f"parse_ranks called on an unchecked coordinate {value!r}")
    return number


def check_ranks(doc: Document, problems: Problems, path: tuple) -> None:
    """Report a malformed ranks selector at `path`: unknown axes (SV003), bad coordinates
    (SV012)."""
    value = _get(doc.data, path)
    if not isinstance(value, dict):
        problems.add(
            BAD_SELECTOR,
            doc.span_at(path),
            f"{dotted(path)} must map axes to coordinates, not {describe(value)}",
            "for example `ranks: {tp: [0, 1], pp: 0}`",
        )
        return
    for axis, coords in value.items():
        if axis not in AXES:
            hint = key_hint(path, axis, list(AXES))
            problems.add(
                UNKNOWN_KEY,
                doc.spans.get(("@key",) + path + (axis,), doc.span_at(path)),
                f"unknown axis '{axis}' in {dotted(path)}",
                (hint + "\n" if hint else "") + "axes: " + ", ".join(AXES),
            )
            continue
        _check_coordinates(doc, problems, path + (axis,), coords)


def _check_coordinates(doc: Document, problems: Problems, path: tuple, coords: Any) -> None:
    items = coords if isinstance(coords, list) else [coords]
    if isinstance(coords, list) and not coords:
        problems.add(
            BAD_SELECTOR,
            doc.span_at(path),
            f"{dotted(path)} is an empty list: it selects no rank",
            "remove the axis to select every coordinate",
        )
        return
    for index, item in enumerate(items):
        at = path + (index,) if isinstance(coords, list) else path
        number = _whole(item)
        if number is not None and number >= 0:
            continue
        problems.add(
            BAD_SELECTOR, doc.span_at(at), _coordinate_message(path, item), _coordinate_help(item)
        )


def _coordinate_message(path: tuple, item: Any) -> str:
    number = _whole(item)
    if number is not None:
        return f"{dotted(path)}: coordinate {number} is negative"
    return f"{dotted(path)}: a coordinate must be an integer, not {describe(item)}"


def _coordinate_help(item: Any) -> str:
    if isinstance(item, str):
        match = RANGE.fullmatch(item) or LOOKS_LIKE_RANGE.fullmatch(item)
        if (
            match
            and int(match.group(1)) <= int(match.group(2))
            and int(match.group(2)) - int(match.group(1)) < 64
        ):
            listed = ", ".join(str(i) for i in range(int(match.group(1)), int(match.group(2)) + 1))
            return f"list the coordinates: [{listed}]"
        if re.fullmatch(r"\s*\d+\s*", item):
            return f"remove the quotes: {item.strip()}"
    return "coordinates count from 0: a number or a list such as [0, 1]"


# ---------------------------------------------------------------------------------- helpers


def _get(data: Any, path: tuple) -> Any:
    for part in path:
        data = data[part]
    return data
