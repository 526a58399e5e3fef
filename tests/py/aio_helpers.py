"""Helpers of the asyncio tests: a bounded asyncio.run, raw HTTP/1.1 over a blocking
socket (for pipelining), and a collector of the loop's reported exceptions."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
    """asyncio.run with a bound, so a stuck test fails instead of hanging the suite."""

    async def bounded() -> T:
        task = asyncio.ensure_future(coro)
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
            await asyncio.wait({task}, timeout=5)
            raise AssertionError(f"the test coroutine ran over {timeout} s")
        return task.result()

    return asyncio.run(bounded())


def collect_loop_errors() -> list[BaseException]:
    """Make the running loop's exception handler record exceptions in the list returned."""
    errors: list[BaseException] = []

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        errors.append(exc if exc is not None else RuntimeError(context["message"]))

    asyncio.get_running_loop().set_exception_handler(handler)
    return errors


class RawResponse:
    """One response read off a raw socket: status, headers (lowercase names), body."""

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body


class RawClient:
    """A blocking socket speaking HTTP/1.1 by hand: requests can be pipelined and the
    responses are parsed one by one (Content-Length or chunked framing)."""

    def __init__(self, port: int, timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = bytearray()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("closed by the server")
        self.buf += data

    def _take_until(self, sep: bytes) -> bytes:
        while sep not in self.buf:
            self._fill()
        at = self.buf.index(sep)
        head = bytes(self.buf[:at])
        del self.buf[: at + len(sep)]
        return head

    def _take(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_response(self, head_request: bool = False) -> RawResponse:
        lines = self._take_until(b"\r\n\r\n").decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if head_request or status in (204, 304):
            return RawResponse(status, headers, b"")
        if headers.get("transfer-encoding") == "chunked":
            body = bytearray()
            while True:
                size = int(self._take_until(b"\r\n").split(b";")[0], 16)
                if size == 0:
                    self._take_until(b"\r\n")
                    return RawResponse(status, headers, bytes(body))
                body += self._take(size)
                self._take(2)
        return RawResponse(status, headers, self._take(int(headers.get("content-length", "0"))))

    def at_eof(self) -> bool:
        """True when the server closed (after any bytes still buffered)."""
        if self.buf:
            return False
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self) -> None:
        self.sock.close()


def get(path: str, *extra: str) -> bytes:
    """A GET request with a Host field and ``extra`` field lines."""
    lines = [f"GET {path} HTTP/1.1", "Host: t", *extra]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
