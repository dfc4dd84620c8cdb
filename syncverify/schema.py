"""The plan format's JSON Schema (draft-07), and validation of composed plans against it.

`syncverify/data/plan.schema.json` is the one description of the format's keys, types, names and
ranges: editors read it (`# yaml-language-server: $schema=...`), and the loader validates every
plan against the same file. Each validation error becomes one located problem with a stable
code: unknown keys (one per key, at the key, with a "did you mean"), wrong types (with YAML 1.1
hints), unknown names, out-of-range values and missing keys. Selectors (`layers`, `ranks`) and
the layout permutation are checked by hand in the loader, so schema errors there are dropped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

from syncverify.load_codes import INVALID_VALUE, MISSING_KEY, UNKNOWN_KEY, UNKNOWN_NAME, WRONG_TYPE
from syncverify.problems import Problems
from syncverify.yamlnodes import Document, dotted

TYPE_NAMES = {
    "integer": "an integer",
    "string": "a name (string)",
    "boolean": "true or false",
    "array": "a list",
    "object": "a mapping",
    "number": "a number",
    "null": "empty",
}
NAME_KINDS = {
    "after": "op or boundary",
    "wait_before": "op",
    "collective": "collective",
    "group": "group",
    "tensor": "tensor",
    "role": "role",
    "phases": "phase",
    "overlap": "overlap mode",
    "dp_idle": "dp_idle mode",
    "sharding": "sharding",
    "token_return": "token_return mode",
    "layout": "layout axis",
}
REQUIRED_EXAMPLES = {
    "syncverify": "syncverify: 1",
    "model": "model: {layers: 80, hidden: 8192, heads: 64, kv_heads: 8, ffn: 28672, vocab: 128256}",
    "phases": "phases:\n  decode: {microbatches: 1, batch: 64}",
    "after": "after: o_proj",
    "collective": "collective: all_reduce",
    "group": "group: tp",
    "experts": "experts: 8",
    "top_k": "top_k: 2",
    "nodes": "nodes: 1",
    "gpus_per_node": "gpus_per_node: 8",
    "sharding": "sharding: replicated",
}
YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}
_FLOATISH = re.compile(r"[-+]?(\d[\d_]*)?\.?\d*[eE][-+]?\d+")
_LEADING_ZERO = re.compile(r"[-+]?0\d+")


def plan_schema() -> dict:
    """The plan format's JSON Schema (draft-07), as shipped in the package."""
    return json.loads(_schema_text())


def schema_text() -> str:
    """The shipped schema file, byte for byte (what `syncverify schema` prints)."""
    return _schema_text()


@lru_cache(maxsize=1)
def _schema_text() -> str:
    # beside this file (see syncverify.catalog: importlib.resources costs ~20 ms to import)
    return (Path(__file__).resolve().parent / "data" / "plan.schema.json").read_text("utf-8")


@lru_cache(maxsize=1)
def validator():
    from syncverify.schema_check import Validator

    return Validator(plan_schema())


def is_hand_checked(path: tuple, keyword: str) -> bool:
    """Errors the loader's own checks report better: selectors, layout, the version."""
    if path[:1] == ("syncverify",) or (path == () and keyword == "required-syncverify"):
        return True
    if len(path) >= 3 and path[0] == "sync" and path[2] in ("layers", "ranks"):
        return True
    if path[:3] == ("model", "moe", "layers"):
        return True
    return path == ("parallel", "layout") and keyword in ("minItems", "maxItems", "uniqueItems")


def validate(doc: Document, problems: Problems) -> set[tuple]:
    """Report every schema error in `doc`; return the paths that had one."""
    from syncverify.schema_check import best_match

    errors = []
    for error in validator().iter_errors(doc.data):
        if error.validator in ("anyOf", "oneOf") and error.context:
            error = best_match([error])
        path = tuple(error.absolute_path)
        keyword = error.validator
        if keyword == "required" and path == () and _missing(error) == ["syncverify"]:
            keyword = "required-syncverify"
        if not is_hand_checked(path, keyword):
            errors.append((path, error))
    typed = {path for path, error in errors if error.validator == "type"}
    misspelled = _misspelled_required(errors)
    reported: set[tuple] = {(path, "required", want) for (path, _), want in misspelled.items()}
    for path, error in errors:
        if path in typed and error.validator != "type":
            continue  # a wrong type says it all; its enum/minimum errors are noise
        _report(doc, problems, path, error, reported, misspelled)
    return reported


def _misspelled_required(errors) -> dict[tuple, str]:
    """(path, unknown key) -> the missing required sibling it stands for: `num_attention_heads`
    or `Heads` for `heads` (a known other spelling), `haeds` for `heads` (the closest key by
    spelling, when that key is missing). The unknown-key problem names the required key, so the
    missing-key problem is left out: one typo, one finding."""
    missing = {
        path: set(_missing(error)) for path, error in errors if error.validator == "required"
    }
    out = {}
    for path, error in errors:
        if error.validator != "additionalProperties" or not missing.get(path):
            continue
        # did-you-mean on error paths only: loading a clean plan never imports it
        from syncverify.suggest import close_match, exact_match

        allowed = list(error.schema.get("properties", {}))
        for key in error.instance:
            if key in allowed:
                continue
            guess = exact_match(key, allowed) or close_match(key, allowed)
            if guess in missing[path]:
                out[(path, key)] = guess
    return out


def _report(
    doc: Document, problems: Problems, path: tuple, error, reported: set, misspelled: dict
) -> None:
    keyword = error.validator
    if keyword == "additionalProperties":
        _unknown_keys(doc, problems, path, error, reported, misspelled)
        return
    if keyword in ("required", "minProperties"):
        _missing_keys(doc, problems, path, error, reported)
        return
    if (path, keyword) in reported:
        return
    reported.add(path)
    reported.add((path, keyword))
    span = doc.span_at(path)
    if keyword == "type":
        message, help = type_message(doc, path, error.instance, error.validator_value)
        problems.add(
            WRONG_TYPE,
            span,
            message,
            _with_names(help, doc.raw.get(path), error.schema.get("enum")),
        )
    elif keyword in ("enum", "const"):
        message, help = enum_message(path, error.instance, error.validator_value)
        problems.add(UNKNOWN_NAME, span, message, help)
    else:
        message, help = _value_message(path, keyword, error)
        problems.add(INVALID_VALUE, span, message, help)


# ---------------------------------------------------------------------------------- unknown keys


def _unknown_keys(
    doc: Document, problems: Problems, path: tuple, error, reported: set, misspelled: dict
) -> None:
    allowed = list(error.schema.get("properties", {}))
    patterns = [re.compile(p) for p in error.schema.get("patternProperties", {})]
    for key in error.instance:
        if key in allowed or (path + (key,)) in reported or any(p.search(key) for p in patterns):
            continue
        reported.add(path + (key,))
        span = doc.spans.get(("@key",) + path + (key,), doc.span_at(path))
        message, help = unknown_key_message(path, key, allowed, misspelled.get((path, key)))
        problems.add(UNKNOWN_KEY, span, message, help)


def unknown_key_message(
    path: tuple, key: str, allowed: list[str], stands_for: str | None = None
) -> tuple[str, str]:
    """The message and help for `key`, which is not one of `allowed` at `path` (`stands_for`:
    the missing required key it is a misspelling of, which the hint then names first)."""
    where = _where(path)
    if path == ("phases",):
        message = f"unknown phase '{key}' in phases"
    elif path == ("ops",):
        message = f"unknown op '{key}' in ops"
    else:
        message = f"unknown key '{key}' {where}"
    hint = f"did you mean '{stands_for}'?" if stands_for else key_hint(path, key, allowed)
    owner = (
        "phases are" if path == ("phases",) else f"keys of {dotted(path) if path else 'a plan'}:"
    )
    listing = f"{owner} {', '.join(allowed)}"
    return message, (hint + "\n" if hint else "") + listing


def key_hint(path: tuple, key: str, allowed: list[str]) -> str:
    """'did you mean ...?', or where the key belongs when it is valid elsewhere."""
    from syncverify.suggest import KEY_ALIASES, close_match, exact_match

    here = exact_match(key, allowed)
    if here:
        return f"did you mean '{here}'?"
    homes = key_homes().get(key) or key_homes().get(key.lower())
    if homes:
        if path == ("phases",) or (path[:1] == ("phases",) and key in ("layout", "stages")):
            return f"'{key}' is shared by both phases: set it under {_join(homes)}"
        return f"'{key}' belongs under {_join(homes)}"
    here = close_match(key, allowed)
    if here:
        return f"did you mean '{here}'?"
    for target in KEY_ALIASES.get(key.lower().replace("-", "_"), ()):
        if key_homes().get(target):
            return f"did you mean '{target}' under {_join(key_homes()[target])}?"
    return ""


@lru_cache(maxsize=1)
def key_homes() -> dict[str, list[str]]:
    """For every key of the format, the places it is valid at ("parallel", "phases.decode", ...)."""
    schema = plan_schema()
    homes: dict[str, list[str]] = {}

    def resolve(node: dict) -> dict:
        while "$ref" in node:
            node = schema["definitions"][node["$ref"].rsplit("/", 1)[1]]
        return node

    def walk(node: dict, label: str, seen: set) -> None:
        node = resolve(node)
        if node.get("type") == "array" and isinstance(node.get("items"), dict):
            walk(node["items"], label + "[]", seen)
        if node.get("type") != "object" or id(node) in seen:
            return
        seen = seen | {id(node)}
        for key, child in node.get("properties", {}).items():
            if label != "ops":  # the keys of ops are op names, not keys
                homes.setdefault(key, []).append(label or "the top level")
            child_label = "ops.<op>" if label == "ops" else (f"{label}.{key}" if label else key)
            walk(child, child_label, seen)

    walk(schema, "", set())
    return {key: list(dict.fromkeys(labels)) for key, labels in homes.items()}


def _join(labels: Iterable[str]) -> str:
    labels = list(labels)
    return labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " or " + labels[-1]


# ---------------------------------------------------------------------------------- missing keys


def _missing(error) -> list[str]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    return (
        [k for k in error.validator_value if k not in instance]
        if error.validator == "required"
        else []
    )


def _missing_keys(doc: Document, problems: Problems, path: tuple, error, reported: set) -> None:
    span = doc.spans.get(("@key",) + path) if path else None
    span = span or doc.span_at(path)
    if error.validator == "minProperties":
        if (path, "minProperties") not in reported:
            reported.add((path, "minProperties"))
            problems.add(
                MISSING_KEY,
                span,
                f"{dotted(path)} declares no phase",
                help="phases:\n  decode: {microbatches: 1, batch: 64}",
            )
        return
    for key in _missing(error):
        if (path, "required", key) in reported or (path == () and key == "syncverify"):
            continue
        reported.add((path, "required", key))
        problems.add(MISSING_KEY, span, missing_message(path, key), missing_help(path, key))


def missing_message(path: tuple, key: str) -> str:
    if not path:
        return f"missing required key '{key}'"
    if path[0] == "sync" and len(path) == 2:
        return f"sync point {dotted(path)} has no '{key}'"
    return f"missing required key '{key}' in {dotted(path)}"


def missing_help(path: tuple, key: str) -> str:
    if path[:1] == ("model",) and key != "hf_config":
        example = f"{key}: ..." if path == ("model",) else f"moe: {{{key}: ...}}"
        return f"add `{example}` under model, or set `model.hf_config` to the model's config.json"
    return f"add `{REQUIRED_EXAMPLES.get(key, key + ': ...')}`"


# ------------------------------------------------------------------------ types, names, ranges


def type_message(doc: Document, path: tuple, value: Any, expected) -> tuple[str, str]:
    expected = [expected] if isinstance(expected, str) else list(expected)
    wanted = " or ".join(TYPE_NAMES.get(t, t) for t in expected)
    what = dotted(path) if path else "a plan"
    message = f"{what} must be {wanted}, not {describe(value)}"
    return message, yaml11_hint(doc.raw.get(path), value, expected) or _shape_hint(
        path, value, expected
    )


def _with_names(help: str, raw, names) -> str:
    """For a name field, the valid names too when the text as written is not one of them."""
    if not names or (raw and raw[0] in names):
        return help
    if help.startswith("quote it"):
        help = ""  # quoting a number would not make it one of the names
    from syncverify.suggest import suggest_value

    guess = suggest_value(raw[0], names) if raw else None
    listing = (f"did you mean '{guess}'? " if guess else "") + f"one of: {', '.join(names)}"
    return f"{help}\n{listing}" if help else listing


def describe(value: Any) -> str:
    if value is None:
        return "empty (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string '{_clip(value)}'"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def yaml11_hint(raw, value: Any, expected: list[str]) -> str:
    """What YAML 1.1 did to the text as written, when that explains a wrong type."""
    if raw is None:
        return ""
    text, style = raw
    wants_number = "integer" in expected or "number" in expected
    if (
        isinstance(value, bool)
        and style is None
        and text.lower() in YAML11_BOOLS
        and "string" in expected
    ):
        return f"YAML 1.1 reads unquoted `{text}` as a boolean: quote it ('{text}')"
    if isinstance(value, str) and wants_number:
        bare = text.strip()
        if style is None and _FLOATISH.fullmatch(bare):
            whole = _as_whole(bare)
            instead = (
                f"write {whole} (or {_signed_exponent(bare)})"
                if whole
                else f"write {_signed_exponent(bare)}"
            )
            return (
                f"YAML 1.1 reads {bare} as a string (its exponent needs a dot and a sign): "
                f"{instead}"
            )
        if style is None and _LEADING_ZERO.fullmatch(bare):
            return f"YAML 1.1 reads {bare} as a string (a leading zero): write {int(bare, 10)}"
        if re.fullmatch(r"[-+]?\d+", bare.replace("_", "")):
            return f"remove the quotes: {bare}"
    if (
        isinstance(value, str)
        and "boolean" in expected
        and text.strip().lower() in ("true", "false")
    ):
        return f"remove the quotes: {text.strip().lower()}"
    if value is None and style is None:
        return "the key has no value: give it one or remove the key"
    return ""


def _as_whole(text: str):
    try:
        number = float(text.replace("_", ""))
    except ValueError:
        return None
    return int(number) if number.is_integer() and abs(number) < 1e18 else None


def _signed_exponent(text: str) -> str:
    mantissa, _, exponent = text.replace("E", "e").partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    if exponent[:1] not in "+-":
        exponent = "+" + exponent
    return f"{mantissa}e{exponent}"


def _shape_hint(path: tuple, value: Any, expected: list[str]) -> str:
    key = next((p for p in reversed(path) if isinstance(p, str)), "")
    if "array" in expected and isinstance(value, str):
        return f"write a list: [{value}]"
    if "array" in expected and isinstance(value, dict) and key == "sync":
        return "sync is a list: start each sync point with '- '"
    if "integer" in expected and isinstance(value, float):
        return "write a whole number"
    if "string" in expected and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f"quote it: '{value}'"
    return ""


def enum_message(path: tuple, value: Any, allowed: list) -> tuple[str, str]:
    key = next((p for p in reversed(path) if isinstance(p, str)), "")
    kind = NAME_KINDS.get(key, "value")
    message = f"unknown {kind} '{_clip(str(value))}' in {dotted(path[:-1])}"
    hint = ""
    if key == "layout" and value in ("ep", "world"):
        hint = f"layout orders tp, sp, dp and pp only; {value} groups are derived from them (S1)\n"
    else:
        from syncverify.suggest import suggest_value

        guess = suggest_value(value, [str(a) for a in allowed])
        if guess:
            hint = f"did you mean '{guess}'?\n"
    return message, hint + f"one of: {', '.join(str(a) for a in allowed)}"


def _value_message(path: tuple, keyword: str, error) -> tuple[str, str]:
    what = dotted(path)
    value, limit = error.instance, error.validator_value
    if keyword == "minimum":
        help = (
            "a degree of 1 means no parallelism on that axis"
            if path[-1:] and path[-1] in ("tp", "pp", "dp", "sp", "ep")
            else ""
        )
        return f"{what} must be at least {limit}, not {value}", help
    if keyword == "maximum":
        return f"{what} is {value}, more than {limit:,}, the largest syncverify accepts", ""
    if keyword in ("minItems", "minLength"):
        return f"{what} must not be empty", ""
    if keyword == "uniqueItems":
        seen, repeated = set(), None
        for item in value:
            if item in seen:
                repeated = item
                break
            seen.add(item)
        return f"{what} names '{repeated}' twice", "list each once"
    return f"{what}: {error.message}", ""


# ---------------------------------------------------------------------------------- helpers


def _where(path: tuple) -> str:
    if not path:
        return "at the top level"
    return f"in {dotted(path)}"


def _clip(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
