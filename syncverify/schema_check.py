"""Validate a plan document against the shipped JSON Schema (draft-07), every error at once.

The plan schema uses a small part of draft-07: type, enum, const, minimum, maximum, minLength,
pattern, properties, patternProperties, additionalProperties, required, minProperties, items
(one schema), minItems, maxItems, uniqueItems, anyOf, not, if/then and local `$ref`s. This module
validates exactly that part, with the error fields `syncverify.schema` reads (the same names as
the `jsonschema` package's ValidationError, whose semantics it follows: draft-07 `$ref` ignores
its siblings, booleans are not numbers, 1.0 is an integer). Why not the `jsonschema` package:
importing it (with referencing, rpds and the bundled metaschemas) costs about as much as the
rest of a check of a 70B plan, on every run; tests/test_schema_check.py checks both agree on
every plan and thousands of mutations of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

TYPES = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool))
        or (isinstance(v, float) and v.is_integer())
    ),
}
WEAK_MATCHES = frozenset({"anyOf", "oneOf"})
KEYWORDS = frozenset(
    {
        "type",
        "enum",
        "const",
        "minimum",
        "maximum",
        "minLength",
        "pattern",
        "properties",
        "patternProperties",
        "additionalProperties",
        "required",
        "minProperties",
        "items",
        "minItems",
        "maxItems",
        "uniqueItems",
        "anyOf",
        "not",
        "if",
    }
)
UNCHECKED = frozenset(
    {
        "$schema",
        "$id",
        "title",
        "description",
        "definitions",
        "then",
        "else",
        "default",
        "examples",
        "$comment",
    }
)


@dataclass
class SchemaError:
    validator: str  # the keyword that failed
    validator_value: Any  # its value in the schema
    instance: Any  # the value that failed it
    schema: dict  # the schema object holding the keyword
    absolute_path: tuple  # from the document's root
    relative_path: tuple = ()  # from the anyOf/not that holds it (its own root for others)
    context: list = field(default_factory=list)  # the branches' errors, for anyOf

    @property
    def path(self) -> tuple:
        return self.relative_path

    @property
    def message(self) -> str:
        shown = repr(self.instance)
        if self.validator == "pattern":
            return f"{shown} does not match {self.validator_value!r}"
        if self.validator in ("maxItems", "maxLength"):
            return f"{shown} is too long"
        if self.validator in ("minItems", "minLength"):
            return f"{shown} should be non-empty" if not self.instance else f"{shown} is too short"
        if self.validator == "not":
            return f"{shown} should not be valid under {self.validator_value!r}"
        if self.validator == "anyOf":
            return f"{shown} is not valid under any of the given schemas"
        return f"{shown} is not valid under '{self.validator}'"

    def matches_type(self) -> bool:
        expected = self.schema.get("type") if isinstance(self.schema, dict) else None
        if expected is None:
            return False
        names = [expected] if isinstance(expected, str) else expected
        return any(TYPES[name](self.instance) for name in names)


def equal(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1, and containers compare element by element."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(equal(a[k], b[k]) for k in a)
    return a == b


@lru_cache(maxsize=256)
def _regex(pattern: str) -> re.Pattern:
    return re.compile(pattern)


class Validator:
    """iter_errors(document) yields SchemaError for every violation, in schema order."""

    def __init__(self, schema: dict):
        self.root = schema

    def iter_errors(self, instance: Any) -> Iterator[SchemaError]:
        yield from self._errors(instance, self.root, (), ())

    def is_valid(self, instance: Any, schema: dict) -> bool:
        return next(self._errors(instance, schema, (), ()), None) is None

    def _resolve(self, ref: str) -> dict:
        if not ref.startswith("#"):
            raise ValueError(f"only local $refs are supported, not {ref!r}")
        node: Any = self.root
        for part in filter(None, ref[1:].split("/")):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def _errors(self, instance, schema, path: tuple, relative: tuple) -> Iterator[SchemaError]:
        if schema is True or schema == {}:
            return
        if schema is False:
            yield SchemaError("false", False, instance, {}, path, relative)
            return
        if "$ref" in schema:  # draft-07: a $ref's siblings are ignored
            yield from self._errors(instance, self._resolve(schema["$ref"]), path, relative)
            return
        for keyword, value in schema.items():
            if keyword in KEYWORDS:
                yield from getattr(self, "_" + keyword)(value, instance, schema, path, relative)
            elif keyword not in UNCHECKED:
                raise ValueError(f"schema keyword {keyword!r} is not supported")

    # ---- keywords: each yields its errors (error() builds one at this instance) -------------
    @staticmethod
    def _error(keyword, value, instance, schema, path, relative, context=None) -> SchemaError:
        return SchemaError(keyword, value, instance, schema, path, relative, context or [])

    def _type(self, value, instance, schema, path, relative):
        names = [value] if isinstance(value, str) else value
        if not any(TYPES[name](instance) for name in names):
            yield self._error("type", value, instance, schema, path, relative)

    def _enum(self, value, instance, schema, path, relative):
        if not any(equal(instance, allowed) for allowed in value):
            yield self._error("enum", value, instance, schema, path, relative)

    def _const(self, value, instance, schema, path, relative):
        if not equal(instance, value):
            yield self._error("const", value, instance, schema, path, relative)

    def _minimum(self, value, instance, schema, path, relative):
        if TYPES["number"](instance) and instance < value:
            yield self._error("minimum", value, instance, schema, path, relative)

    def _maximum(self, value, instance, schema, path, relative):
        if TYPES["number"](instance) and instance > value:
            yield self._error("maximum", value, instance, schema, path, relative)

    def _minLength(self, value, instance, schema, path, relative):
        if isinstance(instance, str) and len(instance) < value:
            yield self._error("minLength", value, instance, schema, path, relative)

    def _pattern(self, value, instance, schema, path, relative):
        if isinstance(instance, str) and not _regex(value).search(instance):
            yield self._error("pattern", value, instance, schema, path, relative)

    def _properties(self, value, instance, schema, path, relative):
        if not isinstance(instance, dict):
            return
        for key, subschema in value.items():
            if key in instance:
                yield from self._errors(instance[key], subschema, path + (key,), relative + (key,))

    def _patternProperties(self, value, instance, schema, path, relative):
        if not isinstance(instance, dict):
            return
        for pattern, subschema in value.items():
            for key, item in instance.items():
                if _regex(pattern).search(key):
                    yield from self._errors(item, subschema, path + (key,), relative + (key,))

    def _additionalProperties(self, value, instance, schema, path, relative):
        if not isinstance(instance, dict):
            return
        known = schema.get("properties", {})
        patterns = [_regex(p) for p in schema.get("patternProperties", {})]
        extras = [k for k in instance if k not in known and not any(p.search(k) for p in patterns)]
        if not extras:
            return
        if value is False:
            yield self._error("additionalProperties", value, instance, schema, path, relative)
        elif isinstance(value, dict):
            for key in extras:
                yield from self._errors(instance[key], value, path + (key,), relative + (key,))

    def _required(self, value, instance, schema, path, relative):
        if isinstance(instance, dict):
            for key in value:
                if key not in instance:
                    yield self._error("required", value, instance, schema, path, relative)

    def _minProperties(self, value, instance, schema, path, relative):
        if isinstance(instance, dict) and len(instance) < value:
            yield self._error("minProperties", value, instance, schema, path, relative)

    def _items(self, value, instance, schema, path, relative):
        if isinstance(instance, list) and isinstance(value, dict):
            for index, item in enumerate(instance):
                yield from self._errors(item, value, path + (index,), relative + (index,))

    def _minItems(self, value, instance, schema, path, relative):
        if isinstance(instance, list) and len(instance) < value:
            yield self._error("minItems", value, instance, schema, path, relative)

    def _maxItems(self, value, instance, schema, path, relative):
        if isinstance(instance, list) and len(instance) > value:
            yield self._error("maxItems", value, instance, schema, path, relative)

    def _uniqueItems(self, value, instance, schema, path, relative):
        if value and isinstance(instance, list):
            if any(equal(a, b) for i, a in enumerate(instance) for b in instance[i + 1 :]):
                yield self._error("uniqueItems", value, instance, schema, path, relative)

    def _anyOf(self, value, instance, schema, path, relative):
        context = []
        for subschema in value:
            errors = list(self._errors(instance, subschema, path, ()))
            if not errors:
                return
            context.extend(errors)
        yield self._error("anyOf", value, instance, schema, path, relative, context)

    def _not(self, value, instance, schema, path, relative):
        if self.is_valid(instance, value):
            yield self._error("not", value, instance, schema, path, relative)

    def _if(self, value, instance, schema, path, relative):
        branch = "then" if self.is_valid(instance, value) else "else"
        if branch in schema:
            yield from self._errors(instance, schema[branch], path, relative)


def relevance(error: SchemaError) -> tuple:
    """How well an error explains a failure (the `jsonschema` package's default heuristic):
    shallower first, then earlier, then a strong keyword, then one whose type matches."""
    return (
        -len(error.path),
        error.path,
        error.validator not in WEAK_MATCHES,
        False,
        not error.matches_type(),
    )


def best_match(errors) -> SchemaError | None:
    """The error to show for an anyOf failure: the most relevant branch error, descending into
    nested anyOfs while one branch error stands out."""
    best = max(errors, key=relevance, default=None)
    while best is not None and best.context:
        ranked = sorted(best.context, key=relevance)[:2]
        if len(ranked) == 2 and relevance(ranked[0]) == relevance(ranked[1]):
            return best
        best = ranked[0]
    return best
