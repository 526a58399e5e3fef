"""Shared helpers of the Python tests: bounded polling, event logs, loopback peers.

Every wait here is bounded in time, so a bug fails a test instead of hanging the run.
"""

from __future__ import annotations

import contextlib
import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import mgio
import pytest

# (family name, loopback host) pairs the network tests run on.
FAMILIES = [("ipv4", "127.0.0.1"), ("ipv6", "::1")]


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


HAS_IPV6 = _ipv6_loopback()


def host_param(name: str, host: str) -> Any:
    marks = [] if name == "ipv4" or HAS_IPV6 else [pytest.mark.skip(reason="no ::1")]
    return pytest.param(host, id=name, marks=marks)


HOSTS = [host_param(name, host) for name, host in FAMILIES]


def url(scheme: str, host: str, port: int) -> str:
    """An mgio address: "tcp://127.0.0.1:80", "udp://[::1]:80"."""
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


def port_of(conn: mgio.Connection) -> int:
    address = conn.local_address
    assert address is not None
    return address[1]


def poll_until(
    mgrs: mgio.Manager | Iterable[mgio.Manager],
    predicate: Callable[[], object],
    timeout: float = 5.0,
    step_ms: int = 10,
    what: str = "condition",
) -> None:
    """Polls the manager(s) until predicate() is true; AssertionError after `timeout` s."""
    managers = [mgrs] if isinstance(mgrs, mgio.Manager) else list(mgrs)
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        for m in managers:
            m.poll(step_ms if len(managers) == 1 else 1)


def poll_for(mgrs: mgio.Manager | Iterable[mgio.Manager], seconds: float) -> None:
    """Keeps polling for `seconds` (to show that something does NOT happen)."""
    end = time.monotonic() + seconds
    poll_until(mgrs, lambda: time.monotonic() >= end, timeout=seconds + 5)


def recv_polling(mgr: mgio.Manager, sock: socket.socket, n: int, timeout: float = 5.0) -> bytes:
    """Reads until `n` bytes or EOF from a plain socket while polling `mgr` (which is
    what makes the bytes arrive)."""
    sock.setblocking(False)
    got = bytearray()
    eof = False

    def step() -> bool:
        nonlocal eof
        while len(got) < n and not eof:
            try:
                chunk = sock.recv(min(1 << 20, n - len(got)))
            except (BlockingIOError, InterruptedError):
                return False
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                eof = True
            got.extend(chunk)
        return True

    poll_until(mgr, step, timeout=timeout, what=f"{n} bytes from a plain socket")
    return bytes(got)


def echo(conn: mgio.Connection, ev: int, data: object) -> None:
    """An echo handler: whatever arrives goes back."""
    if ev == mgio.EV_RECV:
        conn.send(bytes(conn.recv_buf))
        conn.recv_buf.clear()


class EventLog:
    """A handler that records each connection's events: ``log.events[conn]`` is the list
    of (ev, data) it got, in order. On EV_RECV it moves conn.recv_buf into
    ``log.received[conn]`` (unless consume=False) and, with echo=True, sends it back;
    then it calls on_event(conn, ev, data) if given."""

    def __init__(
        self,
        on_event: Callable[[mgio.Connection, int, Any], None] | None = None,
        *,
        echo: bool = False,
        consume: bool = True,
    ):
        self.events: dict[mgio.Connection, list[tuple[int, Any]]] = {}
        self.received: dict[mgio.Connection, bytearray] = {}
        self.on_event = on_event
        self.echo = echo
        self.consume = consume

    def __call__(self, conn: mgio.Connection, ev: int, data: Any) -> None:
        self.events.setdefault(conn, []).append((ev, data))
        if ev == mgio.EV_RECV and self.consume:
            chunk = bytes(conn.recv_buf)
            conn.recv_buf.clear()
            self.received.setdefault(conn, bytearray()).extend(chunk)
            if self.echo:
                conn.send(chunk)
        if self.on_event is not None:
            self.on_event(conn, ev, data)

    def kinds(self, conn: mgio.Connection) -> list[int]:
        return [ev for ev, _ in self.events.get(conn, [])]

    def got(self, conn: mgio.Connection) -> bytes:
        return bytes(self.received.get(conn, b""))

    def closed(self, conn: mgio.Connection) -> bool:
        return mgio.EV_CLOSE in self.kinds(conn)

    def accepted(self) -> list[mgio.Connection]:
        """The connections that began with EV_ACCEPT, in the order they were accepted."""
        return [c for c, evs in self.events.items() if evs[0][0] == mgio.EV_ACCEPT]


@pytest.fixture
def mgr():
    """A Manager, closed at teardown."""
    m = mgio.Manager()
    try:
        yield m
    finally:
        if not m.closed:
            m.close()


# ---- HTTP: an mgio server on a background thread, a Python http.server ----------------


class ServerThread:
    """An mgio Manager polled on a background thread, for tests whose clients block
    (http.client, requests, curl). Build it with the handler, then ``with`` it: the
    thread starts, ``.port`` / ``.url`` point at an HTTP listener on 127.0.0.1, and at
    exit the thread stops (bounded) and the first exception a handler raised (poll()
    re-raises it) fails the test. Handlers run on that thread: record into lists, which
    the test reads after ``wait_for``."""

    def __init__(self, handler: Any, *, http: bool = True, setup: Any = None):
        self.mgr = mgio.Manager()
        self.listener = self.mgr.bind("tcp://127.0.0.1:0", handler, http=http)
        if setup is not None:
            setup(self.listener)
        self.port = port_of(self.listener)
        self.url = f"http://127.0.0.1:{self.port}"
        self.errors: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.mgr.poll(20)
            except Exception as e:  # a handler raised: keep serving, report at exit
                self.errors.append(e)

    def __enter__(self) -> ServerThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.mgr.wakeup()
        self._thread.join(10)
        assert not self._thread.is_alive(), "the server thread did not stop"
        self.mgr.close()
        if self.errors and exc[0] is None:
            raise self.errors[0]

    def connections(self) -> int:
        """Accepted connections now open (not the listener). Read from the test thread
        while the server polls: a snapshot, good for wait_for."""
        return sum(1 for c in self.mgr.connections if c is not self.listener)


def wait_for(predicate: Callable[[], object], timeout: float = 5.0, what: str = "condition"):
    """Sleeps in small steps until predicate() is true (another thread makes it so);
    AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        time.sleep(0.002)


def recv_until_closed(sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Reads a blocking socket until the peer closes (or `timeout` s pass: then fails)."""
    sock.settimeout(timeout)
    got = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        try:
            chunk = sock.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        got += chunk
        if time.monotonic() > deadline:
            raise AssertionError("the peer did not close")
    return bytes(got)


def poll_recv_until_closed(mgr: mgio.Manager, sock: socket.socket, timeout: float = 5.0) -> bytes:
    """Polls `mgr` while reading `sock` until its peer (served by `mgr`) closes it."""
    sock.setblocking(False)
    got = bytearray()

    def closed() -> bool:
        try:
            chunk = sock.recv(65536)
        except BlockingIOError:
            return False
        got.extend(chunk)
        return not chunk

    poll_until(mgr, closed, timeout=timeout)
    return bytes(got)


class _QuietHTTPServer(http.server.ThreadingHTTPServer):
    """A client that went away mid-answer (a test's timeout) is not an error here."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def python_http_server(
    handler_class: type[http.server.BaseHTTPRequestHandler],
) -> Iterator[http.server.ThreadingHTTPServer]:
    """A threaded http.server on a free loopback port for the block's duration; its URL
    is f"http://127.0.0.1:{srv.server_port}"."""
    srv = _QuietHTTPServer(("127.0.0.1", 0), handler_class)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


@contextlib.contextmanager
def refused_port(host: str = "127.0.0.1") -> Iterator[int]:
    """A port that refuses connections for the block's duration: bound, never listening
    (kept bound so that it cannot be handed out again meanwhile)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        yield s.getsockname()[1]


# ---- WebSocket: payloads, an asyncio loop on a background thread -----------------------


def ws_payload(kind: str, n: int) -> str | bytes:
    """A message of exactly `n` bytes on the wire: for "text" a str whose UTF-8 takes n
    bytes, with 2- and 3-byte characters (so that fragments and frames split inside
    characters), for "binary" bytes of every value."""
    if kind == "binary":
        return bytes(i * 7 % 256 for i in range(256)) * (n // 256) + bytes(range(n % 256))
    unit = "aé€"  # 1 + 2 + 3 bytes
    text = unit * (n // 6)
    return text + "a" * (n - len(text.encode()))


class LoopThread:
    """An asyncio event loop running on a background thread, for peers that are asyncio
    servers (websockets, aiohttp) while the test thread polls an mgio Manager:
    ``with LoopThread() as lt: lt.run(coro, timeout)``. At exit the loop stops and the
    thread is joined (bounded)."""

    def __init__(self) -> None:
        import asyncio

        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def run(self, coro: Any, timeout: float = 10.0) -> Any:
        """Runs `coro` on the loop and returns its result (TimeoutError after `timeout`)."""
        import asyncio

        fut = asyncio.run_coroutine_threadsafe(asyncio.wait_for(coro, timeout), self.loop)
        return fut.result(timeout + 5)

    def __enter__(self) -> LoopThread:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        import asyncio

        async def cancel_all() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for t in tasks:
                t.cancel()
            await asyncio.wait(tasks, timeout=5) if tasks else None

        try:
            asyncio.run_coroutine_threadsafe(cancel_all(), self.loop).result(10)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            assert not self._thread.is_alive(), "the loop thread did not stop"
            self.loop.close()


@pytest.fixture
def pytester(pytester: pytest.Pytester) -> pytest.Pytester:
    """pytest's own, with an ini that sets pytest-asyncio's loop scope (unset, every
    inner run warns that its default will change)."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    return pytester
