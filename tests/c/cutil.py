"""Helpers shared by the C-level tests."""

from __future__ import annotations

from collections.abc import Iterator


def splits(data: bytes) -> Iterator[list[bytes]]:
    """Every way the tests feed a decoder: whole, one byte at a time, and split in two at
    every point (picohttpparser's and llhttp's discipline)."""
    yield [data]
    if len(data) > 1:
        yield [data[i : i + 1] for i in range(len(data))]
    for i in range(1, len(data)):
        yield [data[:i], data[i:]]
