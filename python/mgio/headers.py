"""Headers: the header fields of an HTTP message, as a case-insensitive multi-mapping."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar, overload

_T = TypeVar("_T")

HeadersLike = Mapping[str, str] | Iterable[tuple[str, str]]


class Headers(Mapping[str, str]):
    """Header fields in the order they were sent, duplicates kept; lookups ignore case.

    ``h["content-type"]`` and ``h.get(name)`` give the first value of a field,
    ``h.getall(name)`` every value in order, ``name in h`` tests presence; ``len(h)``,
    iteration, ``keys()``, ``values()`` and ``items()`` cover every field line (a
    repeated field counts, and is listed, each time), with names spelled as sent.

    A ``Headers`` is immutable; make one from a mapping or from (name, value) pairs.
    """

    __slots__ = ("_index", "_items")

    def __init__(self, fields: HeadersLike | None = None) -> None:
        if fields is None:
            items: list[tuple[str, str]] = []
        elif isinstance(fields, Headers):
            items = list(fields._items)
        elif isinstance(fields, Mapping):
            items = [(str(k), str(v)) for k, v in fields.items()]
        else:
            items = [(str(k), str(v)) for k, v in fields]
        self._set(items)

    @classmethod
    def _from_items(cls, items: list[tuple[str, str]]) -> Headers:
        """A Headers over ``items`` (a list of str pairs, taken over, not copied)."""
        self = cls.__new__(cls)
        self._set(items)
        return self

    def _set(self, items: list[tuple[str, str]]) -> None:
        self._items = items
        index: dict[str, list[str]] = {}
        for name, value in items:
            key = name.lower()
            found = index.get(key)
            if found is None:
                index[key] = [value]
            else:
                found.append(value)
        self._index = index

    def __getitem__(self, name: str) -> str:
        """The first value of field ``name`` (any case); KeyError when absent."""
        values = self._index.get(name.lower()) if isinstance(name, str) else None
        if values is None:
            raise KeyError(name)
        return values[0]

    @overload
    def get(self, name: str, /) -> str | None: ...
    @overload
    def get(self, name: str, /, default: str | _T) -> str | _T: ...
    def get(self, name: str, /, default: Any = None) -> Any:
        """The first value of field ``name`` (any case), or ``default``."""
        values = self._index.get(name.lower()) if isinstance(name, str) else None
        return default if values is None else values[0]

    def getall(self, name: str, default: _T | None = None) -> list[str] | _T:
        """Every value of field ``name`` (any case) in the order sent; ``default`` when
        there is none (``[]`` when not given)."""
        values = self._index.get(name.lower()) if isinstance(name, str) else None
        if values is None:
            return [] if default is None else default
        return list(values)

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._index

    def __len__(self) -> int:
        """The number of field lines (a repeated field counts each time)."""
        return len(self._items)

    def __iter__(self) -> Iterator[str]:
        """Field names in order, as sent (a repeated field appears each time)."""
        return (name for name, _ in self._items)

    def items(self) -> list[tuple[str, str]]:  # type: ignore[override]
        """Every (name, value) field line in order, duplicates included."""
        return list(self._items)

    def keys(self) -> list[str]:  # type: ignore[override]
        """Field names in order, duplicates included."""
        return [name for name, _ in self._items]

    def values(self) -> list[str]:  # type: ignore[override]
        """Field values in order."""
        return [value for _, value in self._items]

    def __eq__(self, other: object) -> bool:
        """Equal to another Headers or a mapping/pair list with the same fields in the
        same order (names compared without case)."""
        if not isinstance(other, Headers):
            if isinstance(other, Mapping) or isinstance(other, (list, tuple)):
                try:
                    other = Headers(other)
                except (TypeError, ValueError):
                    return NotImplemented
            else:
                return NotImplemented
        return [(k.lower(), v) for k, v in self._items] == [(k.lower(), v) for k, v in other._items]

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Headers({self._items!r})"
