"""Opening: what mgio.aio's openers return (fetch, connect_ws) — awaitable for the opened
object, or an async context manager that closes it at exit."""

from __future__ import annotations

from collections.abc import Generator
from types import TracebackType
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Opening(Generic[T]):
    """``await`` it for the object :meth:`_open` makes, or ``async with`` it to have that
    object closed (:meth:`_close`) at the end of the block."""

    _opened: T | None = None

    def __await__(self) -> Generator[Any, None, T]:
        return self._open().__await__()

    async def __aenter__(self) -> T:
        self._opened = await self._open()
        return self._opened

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._opened is not None:
            await self._close(self._opened)

    async def _open(self) -> T:
        raise NotImplementedError

    async def _close(self, opened: T) -> None:
        raise NotImplementedError
