"""mgio.Headers: the case-insensitive, ordered multi-mapping of header fields."""

from __future__ import annotations

from collections.abc import Mapping

import mgio
import pytest


def test_lookup_ignores_case_and_keeps_order_and_duplicates():
    h = mgio.Headers([("Set-Cookie", "a=1"), ("Host", "x"), ("set-cookie", "b=2")])
    assert isinstance(h, Mapping)
    assert h["SET-COOKIE"] == "a=1" and h.get("set-cookie") == "a=1"
    assert h.getall("Set-Cookie") == ["a=1", "b=2"]
    assert h.getall("absent") == [] and h.getall("absent", ["d"]) == ["d"]
    assert h.get("absent") is None and h.get("absent", "d") == "d"
    assert "HOST" in h and "nope" not in h and 42 not in h
    assert len(h) == 3
    assert list(h) == ["Set-Cookie", "Host", "set-cookie"]
    assert h.keys() == ["Set-Cookie", "Host", "set-cookie"]
    assert h.values() == ["a=1", "x", "b=2"]
    assert h.items() == [("Set-Cookie", "a=1"), ("Host", "x"), ("set-cookie", "b=2")]
    with pytest.raises(KeyError):
        h["absent"]
    assert h.get(42) is None  # type: ignore[call-overload]


def test_construction_and_equality():
    assert mgio.Headers({"A": "1"}) == mgio.Headers([("a", "1")])
    assert mgio.Headers({"A": "1"}) == {"a": "1"}
    assert mgio.Headers({"A": "1"}) != {"a": "2"}
    assert mgio.Headers([("A", "1"), ("B", "2")]) != mgio.Headers([("B", "2"), ("A", "1")])
    assert mgio.Headers() == [] and len(mgio.Headers(None)) == 0
    copy = mgio.Headers(mgio.Headers({"X": "y"}))
    assert copy.items() == [("X", "y")]
    assert repr(copy) == "Headers([('X', 'y')])"
    assert mgio.Headers({"N": 5})["n"] == "5"
    with pytest.raises(TypeError):
        hash(copy)
    assert (mgio.Headers() == 42) is False
