"""A read-only, hashable mapping, so that frozen Plan dataclasses holding one stay hashable."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class FrozenMap(Mapping):
    """A dict that cannot change and can be hashed (equal to a dict with the same items)."""

    __slots__ = ("_data", "_hash")

    def __init__(self, data: Any = ()):
        self._data = dict(data)
        self._hash: int | None = None

    def __getitem__(self, key):
        return self._data[key]

    def get(self, key, default=None):
        # the plain dict's get: Mapping's generic one is a hot spot in the graph builder
        return self._data.get(key, default)

    def __contains__(self, key) -> bool:
        return key in self._data

    def __iter__(self) -> Iterator:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._data.items()))
        return self._hash

    def __repr__(self) -> str:
        return f"FrozenMap({self._data!r})"
