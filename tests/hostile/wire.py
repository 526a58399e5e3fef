"""Driving an in-process mgio server over real loopback sockets, one step at a time.

The manager is polled in the test's own thread, between the client's writes: after each
write the server reads what arrived, so a case sent one byte per write reaches the parser
one byte per read (TCP_NODELAY; loopback delivers a write before send() returns). Every
wait is bounded.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import mgio

TIMEOUT = 2.5  # in-process: answers come at once; this only bounds a bug
BYTEWISE_MAX = 600  # inputs up to this long are also sent one byte per write
EVERY_SPLIT_MAX = 16  # inputs up to this long are split in two at every point


def send_modes(data: bytes, extra_splits: tuple[int, ...] = ()) -> list[tuple[str, list[bytes]]]:
    """The ways a case is sent: (mode name, the writes). Whole; one byte per write (short
    inputs); split in two at every point (tiny inputs) or at a few points plus
    `extra_splits` (byte offsets; negative ones count from the end)."""
    n = len(data)
    out = [("whole", [data])]
    if 1 < n <= BYTEWISE_MAX:
        out.append(("bytes", [data[i : i + 1] for i in range(n)]))
    if n <= EVERY_SPLIT_MAX:
        points = set(range(1, n))
    else:
        points = {1, n // 3, n // 2, n - 2, n - 1} | {p % n for p in extra_splits}
    out.extend((f"split{k}", [data[:k], data[k:]]) for k in sorted(points) if 0 < k < n)
    return out


class Peer:
    """A plain client socket to the manager's listener; `got` collects what it received,
    `eof` tells that the server closed (or reset) the connection."""

    def __init__(self, mgr: mgio.Manager, port: int, host: str = "127.0.0.1"):
        self.mgr = mgr
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.got = bytearray()
        self.eof = False

    def __enter__(self) -> Peer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()
        self.step()  # the server sees the close now

    def step(self, timeout_ms: int = 0) -> None:
        """Lets the server run once or twice, then reads what it sent."""
        self.mgr.poll(timeout_ms)
        self.mgr.poll(0)
        self.drain()

    def drain(self) -> None:
        while not self.eof and self.sock.fileno() >= 0:
            try:
                chunk = self.sock.recv(1 << 16)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                self.eof = True
            self.got += chunk

    def send(self, piece: bytes) -> bool:
        """Writes `piece` (letting the server read as it goes); False when the server
        closed first, so not all of it went out."""
        view = memoryview(piece)
        deadline = time.monotonic() + TIMEOUT
        while view:
            if self.eof:
                return False
            try:
                sent = self.sock.send(view)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except (BrokenPipeError, ConnectionResetError):
                self.eof = True
                return False
            view = view[sent:]
            self.step(1 if sent == 0 else 0)
            if time.monotonic() > deadline:
                raise AssertionError("the server stopped reading")
        return True

    def send_all(self, pieces: list[bytes]) -> bool:
        """Writes each piece in turn; False when the server closed before the last."""
        return all(self.send(p) for p in pieces)

    def wait(self, done: Callable[[Peer], object], what: str, timeout: float = TIMEOUT) -> None:
        """Steps until done(self); AssertionError after `timeout` s."""
        deadline = time.monotonic() + timeout
        while not done(self):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"{what}: not within {timeout} s; got {bytes(self.got)[:200]!r}"
                )
            self.step(2)


@dataclass
class Response:
    """One HTTP response read off the wire."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers:
            if k.lower() == name.lower():
                return v
        return None

    def closes(self) -> bool:
        """Whether it says Connection: close."""
        value = self.header("Connection") or ""
        return "close" in [t.strip().lower() for t in value.split(",")]


def _chunked_body(buf: bytes, at: int) -> tuple[bytes, int] | None:
    body = bytearray()
    while True:
        end = buf.find(b"\r\n", at)
        if end < 0:
            return None
        size = int(buf[at:end].split(b";")[0], 16)
        at = end + 2
        if size == 0:
            end = buf.find(b"\r\n\r\n", at - 2)
            return (bytes(body), end + 4) if end >= 0 else None
        if len(buf) < at + size + 2:
            return None
        body += buf[at : at + size]
        at += size + 2


def parse_responses(buf: bytes, *, head_only: bool = False) -> tuple[list[Response], int]:
    """The complete responses at the front of `buf` and the bytes they took. A response
    without Content-Length or chunked coding runs to the end of `buf` (close-delimited;
    the caller knows whether the peer closed)."""
    out: list[Response] = []
    at = 0
    while (end := buf.find(b"\r\n\r\n", at)) >= 0:
        lines = buf[at:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ")[1])
        headers = [(k, v.strip()) for k, _, v in (ln.partition(":") for ln in lines[1:])]
        r = Response(status, headers, b"")
        at = end + 4
        if head_only or status < 200 or status in (204, 304):
            pass
        elif (r.header("Transfer-Encoding") or "").lower() == "chunked":
            got = _chunked_body(buf, at)
            if got is None:
                return out, at
            r.body, at = got
        elif (length := r.header("Content-Length")) is not None:
            if len(buf) < at + int(length):
                return out, at
            r.body, at = bytes(buf[at : at + int(length)]), at + int(length)
        else:
            r.body, at = bytes(buf[at:]), len(buf)
        out.append(r)
    return out, at


def finals(buf: bytes, *, head_only: bool = False) -> list[Response]:
    """The final (non-1xx) responses complete in `buf` (answers to HEAD: head_only)."""
    return [r for r in parse_responses(buf, head_only=head_only)[0] if r.status >= 200]
