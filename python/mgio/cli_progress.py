"""A one-line progress bar for ``mgio get``, redrawn in place on a terminal."""

from __future__ import annotations

import time
from typing import TextIO

_WIDTH = 30


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GiB"  # not reached


class Progress:
    """Shows bytes received out of `total` (-1: unknown) on `stream`, at most every
    `interval` seconds; :meth:`done` draws the last state and ends the line."""

    def __init__(self, stream: TextIO, total: int, interval: float = 0.1) -> None:
        self.stream = stream
        self.total = total
        self.interval = interval
        self.received = 0
        self._started = time.monotonic()
        self._drawn = 0.0

    def add(self, n: int) -> None:
        """Counts `n` more bytes; redraws when the last drawing is old enough."""
        self.received += n
        now = time.monotonic()
        if now - self._drawn >= self.interval:
            self._drawn = now
            self._draw(now)

    def done(self) -> None:
        """Draws the final state and moves to a new line."""
        self._draw(time.monotonic())
        self.stream.write("\n")
        self.stream.flush()

    def _draw(self, now: float) -> None:
        rate = self.received / max(now - self._started, 1e-3)
        if self.total > 0:
            filled = min(_WIDTH, _WIDTH * self.received // self.total)
            bar = "#" * filled + "-" * (_WIDTH - filled)
            pct = 100 * self.received // self.total
            text = f"[{bar}] {pct:3d}% {_size(self.received)} of {_size(self.total)}"
        else:
            text = f"{_size(self.received)}"
        self.stream.write(f"\r{text}  {_size(rate)}/s ")
        self.stream.flush()
