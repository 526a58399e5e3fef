"""Waiting for the test server's thread to record something (mgio.testing)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

__all__ = ["Signal"]


class Signal:
    """Wakes the waiters of one server whenever its thread records something; every
    wait is bounded, and fails with an AssertionError naming what did not happen."""

    def __init__(self) -> None:
        self._cond = threading.Condition()

    def notify(self) -> None:
        """Something changed: waiters re-check their predicate."""
        with self._cond:
            self._cond.notify_all()

    def wait_until(self, predicate: Callable[[], bool], timeout: float, what: str) -> None:
        """Blocks until ``predicate()`` is true; AssertionError after ``timeout`` s."""
        with self._cond:
            if not self._cond.wait_for(predicate, timeout):
                raise AssertionError(f"{what} did not happen within {timeout} s")

    async def wait_until_async(
        self, predicate: Callable[[], bool], timeout: float, what: str
    ) -> None:
        """:meth:`wait_until` for coroutines: the event loop keeps running meanwhile."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} did not happen within {timeout} s")
            await asyncio.sleep(0.005)
