"""Tests of mgio.Manager and mgio.Connection over real loopback sockets.

mgio talks to itself and to real peers (plain sockets, socketserver, asyncio). Every loop
is bounded in count and time (conftest.poll_until), so a bug fails a test, never hangs it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import errno
import gc
import itertools
import os
import random
import select
import signal
import socket
import socketserver
import threading
import time
import traceback
import tracemalloc
import weakref
from collections import Counter
from collections.abc import Iterator

import mgio
import pytest
from conftest import (
    HOSTS,
    EventLog,
    echo,
    poll_for,
    poll_until,
    port_of,
    recv_polling,
    url,
)
from mgio import EV_ACCEPT, EV_CLOSE, EV_CONNECT, EV_POLL, EV_RECV, EV_SEND, EV_TIMER, Flag

SCHEMES = ["tcp", "udp"]


def family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def sock_type(scheme: str) -> socket.SocketKind:
    return socket.SOCK_STREAM if scheme == "tcp" else socket.SOCK_DGRAM


@contextlib.contextmanager
def refusing_port(host: str) -> Iterator[int]:
    """A port that refuses connections for the block's duration: bound, never listening.
    Keeping it bound matters: a released port can be handed out again, to a server of a
    later test or as a client's own port (a loopback connect to it then succeeds)."""
    with socket.socket(family(host), socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        yield s.getsockname()[1]


def plain_client(host: str, port: int) -> socket.socket:
    return socket.create_connection((host, port), timeout=5)


def writable_export(obj: object) -> None:
    """Asks obj for a writable buffer as C code does (PyObject_GetBuffer with
    PyBUF_WRITABLE), then releases it; raises what the export raised."""
    proto = ctypes.PYFUNCTYPE(ctypes.c_int, ctypes.py_object, ctypes.c_void_p, ctypes.c_int)
    get = proto(("PyObject_GetBuffer", ctypes.pythonapi))
    view = ctypes.create_string_buffer(256)  # room for a Py_buffer
    get(obj, view, 1)  # PyBUF_WRITABLE
    ctypes.pythonapi.PyBuffer_Release(view)


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


# ---- echo: mgio on both ends, and against real peers ------------------------------------


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_echo_mgio_both_ends(mgr, scheme, host):
    server_log = EventLog(echo=True)
    server = mgr.bind(url(scheme, host, 0), server_log)
    assert server.flags & Flag.LISTENING
    assert bool(server.flags & Flag.UDP) == (scheme == "udp")
    payload = f"hello over {scheme} {host}".encode()

    def on_event(conn, ev, data):
        if ev == EV_CONNECT and data == 0:
            conn.send(payload)

    log = EventLog(on_event)
    client = mgr.connect(url(scheme, host, port_of(server)), log)
    poll_until(mgr, lambda: log.got(client) == payload, what="the echo")
    assert log.events[client][0] == (EV_CONNECT, 0)
    assert client.remote_address == (host, port_of(server))
    [accepted] = server_log.accepted()
    assert accepted.remote_address == client.local_address
    assert server_log.events[accepted][0] == (EV_ACCEPT, client.local_address)
    assert server_log.got(accepted) == payload


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_echo_plain_socket_client(mgr, scheme, host):
    server = mgr.bind(url(scheme, host, 0), echo)
    with socket.socket(family(host), sock_type(scheme)) as s:
        s.connect((host, port_of(server)))
        for i in range(3):
            payload = b"plain %d over %s" % (i, scheme.encode())
            s.send(payload)
            assert recv_polling(mgr, s, len(payload)) == payload


class _TCPEcho(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(65536):
            self.request.sendall(data)


class _UDPEcho(socketserver.BaseRequestHandler):
    def handle(self):
        data, sock = self.request
        sock.sendto(data, self.client_address)


@contextlib.contextmanager
def socketserver_echo(scheme: str, host: str):
    base = socketserver.ThreadingTCPServer if scheme == "tcp" else socketserver.UDPServer

    class Server(base):
        address_family = family(host)
        daemon_threads = True
        allow_reuse_address = True

    srv = Server((host, 0), _TCPEcho if scheme == "tcp" else _UDPEcho)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()
        t.join(5)


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("scheme", SCHEMES)
def test_echo_mgio_client_socketserver(mgr, scheme, host):
    payload = b"to socketserver"
    sent = []

    def on_event(conn, ev, data):
        if ev == EV_CONNECT and data == 0:
            conn.send(payload)
            sent.append(1)

    with socketserver_echo(scheme, host) as port:
        log = EventLog(on_event)
        client = mgr.connect(url(scheme, host, port), log)
        poll_until(mgr, lambda: log.got(client) == payload, what="the echo")
        client.close()
        poll_until(mgr, lambda: client.closed)
    assert sent == [1]
    assert log.kinds(client)[0] == EV_CONNECT and log.kinds(client)[-1] == EV_CLOSE


@contextlib.contextmanager
def asyncio_echo(host: str):
    loop = asyncio.new_event_loop()

    async def handle(reader, writer):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        writer.close()

    t = threading.Thread(target=loop.run_forever, daemon=True)
    t.start()
    server = asyncio.run_coroutine_threadsafe(asyncio.start_server(handle, host, 0), loop)
    srv = server.result(5)
    try:
        yield srv.sockets[0].getsockname()[1]
    finally:

        async def stop():
            srv.close()
            await srv.wait_closed()

        asyncio.run_coroutine_threadsafe(stop(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        t.join(5)
        loop.close()


@pytest.mark.parametrize("host", HOSTS)
def test_echo_mgio_client_asyncio_server(mgr, host):
    with asyncio_echo(host) as port:
        log = EventLog(lambda c, ev, d: ev == EV_CONNECT and c.send(b"x" * 100_000))
        client = mgr.connect(url("tcp", host, port), log)
        poll_until(mgr, lambda: len(log.got(client)) == 100_000, what="the echo")
        assert log.got(client) == b"x" * 100_000
        client.close()
        poll_until(mgr, lambda: client.closed)


# ---- many clients -----------------------------------------------------------------------


def test_200_plain_clients_each_get_their_echo(mgr):
    log = EventLog(echo=True)
    server = mgr.bind("tcp://127.0.0.1:0", log)
    socks = [plain_client("127.0.0.1", port_of(server)) for _ in range(200)]
    try:
        for i, s in enumerate(socks):
            s.sendall(b"client %03d" % i)
            s.setblocking(False)
        got = [b""] * len(socks)

        def all_echoed():
            for i, s in enumerate(socks):
                with contextlib.suppress(BlockingIOError):
                    got[i] += s.recv(100)
            return all(len(g) >= 10 for g in got)

        poll_until(mgr, all_echoed, timeout=10, what="200 echoes")
        assert got == [b"client %03d" % i for i in range(200)]
        assert len(log.accepted()) == 200
        assert len(mgr.connections) == 201
    finally:
        for s in socks:
            s.close()
    poll_until(mgr, lambda: len(mgr.connections) == 1, what="200 closes")
    assert all(log.kinds(c).count(EV_CLOSE) == 1 for c in log.accepted())


def test_200_mgio_clients_each_get_their_echo(mgr):
    server = mgr.bind("tcp://127.0.0.1:0", echo)

    def on_event(conn, ev, data):
        if ev == EV_CONNECT:
            conn.send(conn.user_data)

    log = EventLog(on_event)
    clients = []
    for i in range(200):
        c = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), log)
        c.user_data = b"mgio client %03d" % i
        clients.append(c)
    poll_until(
        mgr, lambda: all(log.got(c) == c.user_data for c in clients), timeout=10, what="echoes"
    )
    assert len(mgr.connections) == 401


# ---- back-pressure: 10 MiB each way ------------------------------------------------------

TOTAL = 10 << 20
LIMIT = 64 << 10  # recv_limit on both ends
HIGH = 256 << 10  # the producer refills send_buf only below this
ECHO_HIGH = 32 << 10  # the echo moves data only while its send_buf is below this: slower
CHUNK = 64 << 10
PERIOD = 131071  # the stream is a random block of this (prime) length, repeated
PATTERN = random.Random(1).randbytes(PERIOD) * 2


def stream(offset: int, n: int) -> bytes:
    """Bytes [offset, offset + n) of the test stream (n <= PERIOD)."""
    o = offset % PERIOD
    return PATTERN[o : o + n]


class Producer(mgio.Handler):
    """Sends TOTAL stream bytes, refilling on EV_SEND; checks what comes back."""

    def __init__(self):
        self.sent = self.received = self.max_recv = self.max_send = 0

    def refill(self, conn):
        while self.sent < TOTAL and len(conn.send_buf) < HIGH:
            n = min(CHUNK, TOTAL - self.sent)
            conn.send(stream(self.sent, n))
            self.sent += n
        self.max_send = max(self.max_send, len(conn.send_buf))

    def on_connect(self, conn, status):
        assert status == 0
        conn.recv_limit = LIMIT
        self.refill(conn)

    def on_send(self, conn, n):
        self.refill(conn)

    def on_recv(self, conn, n):
        k = len(conn.recv_buf)
        self.max_recv = max(self.max_recv, k)
        assert conn.recv_buf == stream(self.received, k), f"corrupt at {self.received}"
        self.received += k
        conn.recv_buf.clear()
        if self.received == TOTAL:
            conn.close()


class BoundedEcho(mgio.Handler):
    """Echoes, moving bytes from recv_buf to send_buf only while send_buf is below
    ECHO_HIGH, so that its recv_buf fills up and reading pauses."""

    def __init__(self):
        self.max_recv = self.max_send = 0
        self.closed = 0

    def move(self, conn):
        k = min(ECHO_HIGH - len(conn.send_buf), len(conn.recv_buf))
        if k > 0:
            conn.send(conn.recv_buf[:k])
            conn.recv_buf.remove(k)
        self.max_send = max(self.max_send, len(conn.send_buf))

    def on_recv(self, conn, n):
        self.max_recv = max(self.max_recv, len(conn.recv_buf))
        self.move(conn)

    def on_send(self, conn, n):
        self.move(conn)

    def on_close(self, conn):
        self.closed += 1


def test_10mib_each_way_with_back_pressure(mgr):
    echo_side = BoundedEcho()
    server = mgr.bind("tcp://127.0.0.1:0", echo_side)
    server.recv_limit = LIMIT  # accepted connections inherit it
    producer = Producer()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        client = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), producer)
        poll_until(
            mgr, lambda: client.closed and echo_side.closed, timeout=15, what="10 MiB each way"
        )
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    assert producer.sent == producer.received == TOTAL
    assert 0 < producer.max_recv <= LIMIT
    assert echo_side.max_recv == LIMIT  # back-pressure engaged, and held the line
    assert producer.max_send < HIGH + CHUNK
    assert echo_side.max_send < ECHO_HIGH + LIMIT
    # Buffers stay within a few hundred KiB; queueing it all would trace over 10 MiB.
    assert peak < 4 << 20, f"{peak} bytes traced at the peak"


def test_reading_pauses_at_recv_limit(mgr):
    log = EventLog(consume=False)
    server = mgr.bind("tcp://127.0.0.1:0", log)
    server.recv_limit = 1000
    data = random.Random(2).randbytes(200_000)
    with plain_client("127.0.0.1", port_of(server)) as s:
        s.sendall(data)
        poll_until(mgr, lambda: log.accepted() and len(log.accepted()[0].recv_buf) == 1000)
        [conn] = log.accepted()
        assert conn.recv_limit == 1000
        poll_for(mgr, 0.2)  # more is waiting in the socket, yet nothing more is read
        assert len(conn.recv_buf) == 1000
        assert sum(d for ev, d in log.events[conn] if ev == EV_RECV) == 1000
        got = bytearray()

        def drained():
            got.extend(bytes(conn.recv_buf))
            conn.recv_buf.clear()
            return len(got) >= len(data)

        poll_until(mgr, drained, what="the rest, 1000 bytes at a time")
        assert got == data
        assert max(d for ev, d in log.events[conn] if ev == EV_RECV) <= 1000


# ---- close semantics and event order ----------------------------------------------------


def test_event_order_connect_recv_close(mgr):
    server_log = EventLog(echo=True)
    server = mgr.bind("tcp://127.0.0.1:0", server_log)

    def on_event(conn, ev, data):
        if ev == EV_CONNECT:
            conn.send(b"ping")
        elif ev == EV_RECV:
            conn.close()
            conn.close()  # twice is fine
            assert not conn.closed  # only marked; EV_CLOSE comes at the end of the poll
            assert conn.flags & Flag.SEND_AND_CLOSE
        elif ev == EV_CLOSE:
            assert conn.closed is False  # still attached while its handler runs
            conn.close()  # closing a closing connection is harmless

    log = EventLog(on_event)
    client = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), log)
    poll_until(mgr, lambda: client.closed and all(c.closed for c in server_log.accepted()))
    kinds = log.kinds(client)
    assert kinds[0] == EV_CONNECT and kinds[-1] == EV_CLOSE and kinds.count(EV_CLOSE) == 1
    assert kinds.index(EV_RECV) > kinds.index(EV_SEND) > 0
    [accepted] = server_log.accepted()
    skinds = server_log.kinds(accepted)
    assert skinds[0] == EV_ACCEPT and skinds[-1] == EV_CLOSE and skinds.count(EV_CLOSE) == 1
    assert EV_RECV in skinds
    poll_for(mgr, 0.05)
    assert log.kinds(client).count(EV_CLOSE) == 1


def test_close_sends_queued_output_first(mgr):
    data = random.Random(3).randbytes(4 << 20)

    def on_event(conn, ev, d):
        if ev == EV_ACCEPT:
            conn.send(data)
            conn.close()

    log = EventLog(on_event)
    server = mgr.bind("tcp://127.0.0.1:0", log)
    with plain_client("127.0.0.1", port_of(server)) as s:
        got = recv_polling(mgr, s, len(data) + 1)  # reads to EOF
    assert got == data
    poll_until(mgr, lambda: log.accepted()[0].closed)
    kinds = log.kinds(log.accepted()[0])
    assert kinds[0] == EV_ACCEPT and kinds[-1] == EV_CLOSE and kinds.count(EV_CLOSE) == 1
    assert sum(d for ev, d in log.events[log.accepted()[0]] if ev == EV_SEND) == len(data)


def test_close_immediately_drops_queued_output(mgr):
    def on_event(conn, ev, d):
        if ev == EV_RECV:
            conn.send(b"z" * (1 << 20))
            conn.close(immediately=True)
            assert conn.flags & Flag.CLOSE_IMMEDIATELY

    log = EventLog(on_event)
    server = mgr.bind("tcp://127.0.0.1:0", log)
    with plain_client("127.0.0.1", port_of(server)) as s:
        s.sendall(b"go")
        got = recv_polling(mgr, s, 1 << 20)
    assert len(got) < 1 << 20
    [conn] = log.accepted()
    assert conn.closed and EV_SEND not in log.kinds(conn)


def test_peer_close_and_close_from_outside_a_handler(mgr):
    log = EventLog()
    server = mgr.bind("tcp://127.0.0.1:0", log)
    s = plain_client("127.0.0.1", port_of(server))
    s.sendall(b"bye")
    s.close()
    poll_until(mgr, lambda: log.accepted() and log.accepted()[0].closed)
    [conn] = log.accepted()
    assert log.got(conn) == b"bye" and log.kinds(conn)[-1] == EV_CLOSE

    client = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), log)
    poll_until(mgr, lambda: EV_CONNECT in log.kinds(client))
    client.close()  # between polls
    assert not client.closed
    poll_until(mgr, lambda: client.closed)
    assert log.kinds(client) == [EV_CONNECT, EV_CLOSE]


def test_udp_server_close_closes_its_peers(mgr):
    log = EventLog(echo=True)
    server = mgr.bind("udp://127.0.0.1:0", log)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(b"dgram", ("127.0.0.1", port_of(server)))
        poll_until(mgr, lambda: log.accepted())
    server.close()
    poll_until(mgr, lambda: server.closed)
    [peer] = log.accepted()
    assert peer.closed and log.kinds(peer).count(EV_CLOSE) == 1


# ---- timers -----------------------------------------------------------------------------


def test_timer_one_shot(mgr):
    log = EventLog()
    t = mgr.add_timer(log)
    due = mgio.time() + 0.15
    assert t.set_timer(due) == 0.0
    start = time.monotonic()
    mgr.poll(5000)  # returns for the timer, not after 5 s
    poll_until(mgr, lambda: EV_TIMER in log.kinds(t), timeout=2)
    fired = mgio.time()
    assert time.monotonic() - start < 1.0
    assert due <= fired < due + 0.5
    assert log.events[t] == [(EV_TIMER, due)]
    poll_for(mgr, 0.3)
    assert log.kinds(t) == [EV_TIMER]  # one shot


def test_timer_rearmed_from_the_handler(mgr):
    fires = []

    def on_event(conn, ev, data):
        if ev == EV_TIMER:
            fires.append(mgio.time())
            if len(fires) < 5:
                assert conn.set_timer(mgio.time() + 0.04) == 0.0  # cleared before the call

    client_server = mgr.bind("tcp://127.0.0.1:0", None)
    client = mgr.connect(url("tcp", "127.0.0.1", port_of(client_server)), on_event)
    client.set_timer(mgio.time() + 0.04)
    poll_until(mgr, lambda: len(fires) == 5, timeout=3)
    assert all(b - a >= 0.035 for a, b in itertools.pairwise(fires))
    poll_for(mgr, 0.2)
    assert len(fires) == 5


def test_timer_cancelled(mgr):
    log = EventLog()
    t = mgr.add_timer(log)
    due = mgio.time() + 0.1
    t.set_timer(due)
    assert mgr.next_timer() == due
    assert t.set_timer(0) == due
    assert mgr.next_timer() == 0.0
    poll_for(mgr, 0.3)
    assert log.kinds(t) == []
    t.close()
    poll_until(mgr, lambda: t.closed)
    assert log.kinds(t) == [EV_CLOSE]


def test_no_timer_after_close(mgr):
    log = EventLog()
    t = mgr.add_timer(log)
    t.set_timer(mgio.time() + 0.05)
    t.close()
    poll_for(mgr, 0.2)
    assert log.kinds(t) == [EV_CLOSE]


def test_poll_events_and_time(mgr):
    assert abs(mgio.time() - time.time()) < 1
    m = mgio.Manager(poll_events=True)
    with m:
        log = EventLog()
        m.bind("tcp://127.0.0.1:0", log)
        m.poll(0)
        m.poll(0)
        [conn] = log.events
        assert log.kinds(conn) == [EV_POLL, EV_POLL]
        assert abs(log.events[conn][0][1] - time.time()) < 2
        m.poll_events = False
        m.poll(0)
        assert len(log.events[conn]) == 2


# ---- connect and bind failures ----------------------------------------------------------


@pytest.mark.parametrize("host", HOSTS)
def test_connect_refused(mgr, host):
    log = EventLog()
    with refusing_port(host) as port:
        c = mgr.connect(url("tcp", host, port), log)
        poll_until(mgr, lambda: c.closed)
    assert log.events[c] == [(EV_CONNECT, errno.ECONNREFUSED), (EV_CLOSE, None)]


@pytest.mark.parametrize(
    "address",
    [
        "",
        "nonsense",
        "tcp://127.0.0.1:99999",
        "tcp://127.0.0.1:",
        "tcp://[::1:80",
        "tcp://127.0.0.1:80x",
        "http://127.0.0.1:80",
    ],
)
def test_unparsable_address_is_value_error(mgr, address):
    with pytest.raises(ValueError):
        mgr.connect(address, None)
    with pytest.raises(ValueError):
        mgr.bind(address, None)
    assert mgr.connections == []


def test_bind_to_a_name_that_does_not_resolve_is_os_error(mgr):
    with pytest.raises(OSError, match="resolve"):
        mgr.bind("tcp://nothing.invalid:0", None)


# The first fails inside the resolver library (a label over 63 bytes), with no network;
# the second needs a DNS answer, which normally takes well under a second.
@pytest.mark.parametrize("name", ["a" * 64 + ".invalid", "nothing.invalid"])
def test_name_that_does_not_resolve(mgr, name):
    log = EventLog()
    c = mgr.connect(f"{name}:80", log)
    assert c.flags & Flag.RESOLVING
    poll_until(mgr, lambda: c.closed, timeout=30, what="the failed lookup")
    assert log.events[c] == [(EV_CONNECT, -1), (EV_CLOSE, None)]


def _loopback_name() -> str | None:
    """A name other than "localhost" that resolves to 127.0.0.1 only, if there is one."""
    for name in ("vm", "runsc", socket.gethostname()):
        try:
            infos = socket.getaddrinfo(name, 80, type=socket.SOCK_STREAM)
        except OSError:
            continue
        if infos and all(i[4][0] == "127.0.0.1" for i in infos):
            return name
    return None


def test_names_resolve_without_blocking(mgr):
    log = EventLog(echo=True)
    server = mgr.bind("tcp://localhost:0", log)
    assert server.local_address == ("127.0.0.1", port_of(server))
    c = mgr.connect(f"localhost:{port_of(server)}", lambda *a: None)
    assert not c.flags & Flag.RESOLVING  # "localhost" needs no lookup
    name = _loopback_name()
    if name is None:
        pytest.skip("no name resolves to 127.0.0.1 here")
    c = mgr.connect(f"tcp://{name}:{port_of(server)}", EventLog())
    assert c.flags & Flag.RESOLVING
    poll_until(mgr, lambda: EV_CONNECT in c.handler.kinds(c), timeout=10)
    assert c.handler.events[c][0] == (EV_CONNECT, 0)
    assert c.remote_address == ("127.0.0.1", port_of(server))


def test_bind_to_a_busy_port_is_os_error(mgr):
    server = mgr.bind("tcp://127.0.0.1:0", None)
    with pytest.raises(OSError, match="listener"):
        mgr.bind(url("tcp", "127.0.0.1", port_of(server)), None)
    with pytest.raises(TypeError):
        mgr.bind("tcp://127.0.0.1:0", 42)  # not callable
    assert mgr.connections == [server]


# ---- broadcast and wakeup from other threads --------------------------------------------


def test_broadcast_from_8_threads(mgr):
    server = mgr.bind("tcp://127.0.0.1:0", echo)
    clients = [mgr.connect(url("tcp", "127.0.0.1", port_of(server)), None) for _ in range(3)]
    poll_until(mgr, lambda: len(mgr.connections) == 7)
    conns = mgr.connections
    seen: Counter = Counter()
    n_calls = 50

    def func(conn, tid, i, *, kw=None):
        seen[(conn, tid, i)] += 1

    barrier = threading.Barrier(8)

    def worker(tid):
        barrier.wait()
        for i in range(n_calls):
            mgr.broadcast(func, tid, i)

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    expected = len(conns) * 8 * n_calls
    poll_until(mgr, lambda: len(seen) == expected and not any(t.is_alive() for t in threads))
    for t in threads:
        t.join(5)
    poll_for(mgr, 0.05)
    assert len(seen) == expected and set(seen.values()) == {1}
    assert {c for c, _, _ in seen} == set(conns)
    assert clients[0] in conns


def test_broadcast_wakes_a_long_poll_and_checks_its_arguments(mgr):
    mgr.bind("tcp://127.0.0.1:0", None)
    got = []
    threading.Timer(0.1, mgr.broadcast, (lambda c, x: got.append(x), "hi")).start()
    start = time.monotonic()
    poll_until(mgr, lambda: got, timeout=5, step_ms=10_000)
    assert time.monotonic() - start < 3
    assert got == ["hi"]
    with pytest.raises(TypeError):
        mgr.broadcast()
    with pytest.raises(TypeError):
        mgr.broadcast(42)


def test_wakeup_ends_a_long_poll_early(mgr):
    mgr.bind("tcp://127.0.0.1:0", None)
    mgr.poll(0)
    threading.Timer(0.2, mgr.wakeup).start()
    start = time.monotonic()
    mgr.poll(10_000)
    elapsed = time.monotonic() - start
    assert 0.1 < elapsed < 3


# ---- exceptions from handlers -----------------------------------------------------------


class Boom(Exception):
    pass


def raise_on_boom(conn, ev, data):
    if ev == EV_RECV and b"boom" in conn.handler.got(conn):
        raise Boom("from a handler")


def test_handler_exception_is_reraised_and_closes_only_its_connection(mgr):
    log = EventLog(raise_on_boom, echo=True)
    server = mgr.bind("tcp://127.0.0.1:0", log)
    port = port_of(server)
    good = plain_client("127.0.0.1", port)
    poll_until(mgr, lambda: len(log.accepted()) == 1)
    bad = plain_client("127.0.0.1", port)
    poll_until(mgr, lambda: len(log.accepted()) == 2)
    good_conn, bad_conn = log.accepted()
    with good, bad:
        # Both arrive for the same poll; the newest connection (bad) is served first.
        bad.sendall(b"boom")
        good.sendall(b"hello")
        time.sleep(0.05)
        with pytest.raises(Boom, match="from a handler") as info:
            poll_until(mgr, lambda: False, timeout=2)
        names = [f.name for f in traceback.extract_tb(info.value.__traceback__)]
        assert "raise_on_boom" in names
        assert bad_conn.closed and not good_conn.closed
        assert log.kinds(bad_conn).count(EV_CLOSE) == 1  # EV_CLOSE still reaches it
        assert recv_polling(mgr, bad, 100) == b""
        # The other connection's events of that same poll were not lost.
        assert recv_polling(mgr, good, 5) == b"hello"
        good.sendall(b"again")
        assert recv_polling(mgr, good, 5) == b"again"
    client = mgr.connect(url("tcp", "127.0.0.1", port), EventLog())
    poll_until(mgr, lambda: EV_CONNECT in client.handler.kinds(client))


def test_second_exception_in_the_same_poll_is_unraisable(mgr, monkeypatch):
    unraisable = []
    monkeypatch.setattr("sys.unraisablehook", unraisable.append)
    log = EventLog(raise_on_boom)
    server = mgr.bind("tcp://127.0.0.1:0", log)
    socks = [plain_client("127.0.0.1", port_of(server)) for _ in range(2)]
    poll_until(mgr, lambda: len(log.accepted()) == 2)
    for s in socks:
        s.sendall(b"boom")
    time.sleep(0.05)
    with pytest.raises(Boom):
        poll_until(mgr, lambda: False, timeout=2)
    if not all(c.closed for c in log.accepted()):  # the two reads were in two polls
        with pytest.raises(Boom):
            poll_until(mgr, lambda: False, timeout=2)
    else:
        assert len(unraisable) == 1 and isinstance(unraisable[0].exc_value, Boom)
    assert all(c.closed for c in log.accepted())
    for s in socks:
        s.close()


@pytest.mark.parametrize("interrupt_first", [False, True])
def test_keyboard_interrupt_from_a_handler_wins_over_an_error(mgr, monkeypatch, interrupt_first):
    unraisable = []
    monkeypatch.setattr("sys.unraisablehook", unraisable.append)
    raised = [KeyboardInterrupt, Boom] if interrupt_first else [Boom, KeyboardInterrupt]

    def on_event(conn, ev, data):
        if ev == EV_TIMER:
            raise raised.pop(0)()

    timers = [mgr.add_timer(on_event) for _ in range(2)]
    for t in timers:
        t.set_timer(mgio.time())
    with pytest.raises(KeyboardInterrupt):
        poll_until(mgr, lambda: False)
    assert raised == []  # both ran in that one poll
    assert [type(u.exc_value) for u in unraisable] == [Boom]
    assert all(t.closed for t in timers)


@pytest.mark.parametrize("ev_to_fail", [EV_CONNECT, EV_SEND, EV_TIMER, EV_CLOSE])
def test_exception_in_each_event(mgr, ev_to_fail):
    def on_event(conn, ev, data):
        if ev == EV_CONNECT:
            conn.send(b"x")
            conn.set_timer(mgio.time())
        if ev == EV_SEND:
            conn.close()
        if ev == ev_to_fail:
            raise Boom(ev)

    server = mgr.bind("tcp://127.0.0.1:0", None)
    log = EventLog(on_event)
    c = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), log)
    with pytest.raises(Boom):
        poll_until(mgr, lambda: c.closed and len(mgr.connections) == 1)
    poll_until(mgr, lambda: c.closed)
    assert log.kinds(c)[-1] == EV_CLOSE and log.kinds(c).count(EV_CLOSE) == 1


def test_exception_in_a_broadcast_function(mgr):
    server = mgr.bind("tcp://127.0.0.1:0", None)
    clients = [mgr.connect(url("tcp", "127.0.0.1", port_of(server)), None) for _ in range(2)]
    poll_until(mgr, lambda: len(mgr.connections) == 5)
    called = []

    def func(conn):
        called.append(conn)
        if conn is clients[0]:
            raise Boom("in broadcast")

    mgr.broadcast(func)
    with pytest.raises(Boom):
        mgr.poll(0)
    assert set(called) == set(mgr.connections) | {clients[0]}  # every connection, once
    assert len(called) == 5
    poll_until(mgr, lambda: clients[0].closed)
    assert not clients[1].closed and not server.closed


def test_exception_on_close_is_raised_by_manager_close():
    m = mgio.Manager()

    def on_event(conn, ev, data):
        if ev == EV_CLOSE:
            raise Boom("on close")

    m.bind("tcp://127.0.0.1:0", on_event)
    with pytest.raises(Boom):
        m.close()
    assert m.closed


# ---- one thread at a time, signals ------------------------------------------------------


def test_poll_from_a_handler_is_runtime_error(mgr):
    errors = []

    def on_event(conn, ev, data):
        for call in (lambda: conn.manager.poll(0), conn.manager.run, conn.manager.close):
            try:
                call()
            except RuntimeError as e:
                errors.append(e)

    t = mgr.add_timer(on_event)
    t.set_timer(mgio.time())
    poll_until(mgr, lambda: errors)
    assert len(errors) == 3
    assert "already running" in str(errors[0])
    assert not mgr.closed


def test_poll_from_a_second_thread_is_runtime_error(mgr):
    mgr.bind("tcp://127.0.0.1:0", None)
    errors = []

    def other():
        try:
            mgr.poll(0)
        except RuntimeError as e:
            errors.append(e)
        finally:
            mgr.wakeup()

    t = threading.Timer(0.2, other)
    t.start()
    start = time.monotonic()
    mgr.poll(10_000)
    assert time.monotonic() - start < 3
    t.join(5)
    assert len(errors) == 1 and "already running" in str(errors[0])
    mgr.poll(0)  # the manager is fine


@pytest.fixture
def python_sigint():
    """Python's own SIGINT handler for the test's duration: a run started in the
    background (as CI may be) inherits SIGINT ignored, and the test must still run."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def _interrupt_main_later(delay: float) -> threading.Timer:
    if threading.current_thread() is not threading.main_thread():
        pytest.skip("signals reach the main thread only")
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    main = threading.main_thread().ident
    assert main is not None
    t = threading.Timer(delay, signal.pthread_kill, (main, signal.SIGINT))
    t.start()
    return t


def test_keyboard_interrupt_ends_a_long_poll(mgr, python_sigint):
    mgr.bind("tcp://127.0.0.1:0", None)
    timer = _interrupt_main_later(0.2)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        mgr.poll(10_000)
    assert time.monotonic() - start < 3
    timer.join()
    mgr.poll(0)


def test_keyboard_interrupt_is_not_blamed_on_a_connection(python_sigint):
    # With EV_POLL on, a handler runs right after the interrupted wait: the interrupt must
    # surface from poll() without closing that handler's connection.
    with mgio.Manager(poll_events=True) as m:
        log = EventLog()
        server = m.bind("tcp://127.0.0.1:0", log)
        timer = _interrupt_main_later(0.2)
        with pytest.raises(KeyboardInterrupt):
            m.poll(10_000)
        timer.join()
        m.poll(0)
        assert not server.closed
        assert EV_POLL in log.kinds(server)


def test_keyboard_interrupt_ends_run(mgr, python_sigint):
    mgr.bind("tcp://127.0.0.1:0", None)
    timer = _interrupt_main_later(0.2)
    start = time.monotonic()
    with pytest.raises(KeyboardInterrupt):
        mgr.run()
    assert time.monotonic() - start < 3
    timer.join()


def test_run_until_stop_or_no_connections(mgr):
    def on_event(conn, ev, data):
        if ev == EV_TIMER:
            conn.manager.stop()

    t = mgr.add_timer(on_event)
    t.set_timer(mgio.time() + 0.05)
    start = time.monotonic()
    mgr.run()
    assert time.monotonic() - start < 3 and not t.closed
    t.close()
    mgr.run()  # returns once nothing is left
    assert t.closed
    threading.Timer(0.1, mgr.stop).start()
    mgr.bind("tcp://127.0.0.1:0", None)
    start = time.monotonic()
    mgr.run()  # stop() from another thread
    assert time.monotonic() - start < 3


# ---- event-loop integration: fileno() and next_timer() ----------------------------------


def test_fileno_is_readable_when_there_is_work(mgr):
    log = EventLog()
    server = mgr.bind("tcp://127.0.0.1:0", log)
    mgr.poll(0)
    fd = mgr.fileno()
    assert fd >= 0
    assert select.select([fd], [], [], 0)[0] == []
    with plain_client("127.0.0.1", port_of(server)) as s:
        assert select.select([fd], [], [], 2)[0] == [fd]  # a client to accept
        poll_until(mgr, lambda: log.accepted())
        mgr.poll(0)
        assert select.select([fd], [], [], 0)[0] == []
        s.sendall(b"data")
        assert select.select([fd], [], [], 2)[0] == [fd]
        mgr.poll(0)
        assert log.got(log.accepted()[0]) == b"data"
    mgr.wakeup()
    assert select.select([fd], [], [], 2)[0] == [fd]


def external_loop(mgr: mgio.Manager, done, timeout: float = 3.0) -> None:
    """Drives mgr as an event loop does: sleeps on fileno() until next_timer(), polls."""
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the external loop stalled"
        due = mgr.next_timer()
        wait = 1.0 if due == 0 else max(0.0, due - mgio.time())
        select.select([mgr.fileno()], [], [], min(wait, 1.0))
        mgr.poll(0)


def test_external_loop_sees_changes_made_between_polls(mgr):
    mgr.fileno()  # as an event-loop integration starts
    log = EventLog(consume=False)
    start = time.monotonic()
    with socket.create_server(("127.0.0.1", 0)) as listener:
        c = mgr.connect(url("tcp", "127.0.0.1", listener.getsockname()[1]), log)
        external_loop(mgr, lambda: EV_CONNECT in log.kinds(c))
        peer, _ = listener.accept()
        with peer:
            c.send(b"made outside a poll")  # no handler runs: the loop must still send it
            external_loop(mgr, lambda: len(c.send_buf) == 0)
            peer.settimeout(2)
            assert peer.recv(100) == b"made outside a poll"
            c.recv_limit = 4
            peer.sendall(b"0123456789")
            external_loop(mgr, lambda: c.recv_buf == b"0123")
            c.recv_buf.clear()  # reading may resume: the loop must notice
            external_loop(mgr, lambda: c.recv_buf == b"4567")
            c.set_timer(mgio.time() + 0.05)
            external_loop(mgr, lambda: EV_TIMER in log.kinds(c))
    server_log = EventLog()
    server = mgr.bind("tcp://127.0.0.1:0", server_log)
    with plain_client("127.0.0.1", port_of(server)):
        external_loop(mgr, lambda: server_log.accepted())
    c.close()
    external_loop(mgr, lambda: c.closed)
    assert time.monotonic() - start < 0.9  # never waited out a 1 s select


def test_next_timer(mgr):
    assert mgr.next_timer() == 0.0
    a, b = mgr.add_timer(None), mgr.add_timer(None)
    a.set_timer(mgio.time() + 100)
    due = mgio.time() + 50
    b.set_timer(due)
    assert mgr.next_timer() == due
    mgr.broadcast(lambda c: None)
    assert mgr.next_timer() <= mgio.time()
    mgr.poll(0)
    assert mgr.next_timer() > mgio.time() + 40
    a.close()
    assert mgr.next_timer() <= mgio.time()  # a close is due


# ---- manager and connection lifetimes ---------------------------------------------------


def test_manager_context_closes_every_connection():
    log = EventLog()
    with mgio.Manager() as m:
        assert m.max_connections == 1024
        server = m.bind("tcp://127.0.0.1:0", log)
        client = m.connect(url("tcp", "127.0.0.1", port_of(server)), log)
        t = m.add_timer(log)
        poll_until(m, lambda: log.accepted() and EV_CONNECT in log.kinds(client))
        conns = m.connections
        assert set(conns) == {server, client, t, log.accepted()[0]}
    assert m.closed and m.connections == []
    for c in conns:
        assert c.closed and log.kinds(c).count(EV_CLOSE) == 1 and log.kinds(c)[-1] == EV_CLOSE
    calls = [
        lambda: m.bind("tcp://127.0.0.1:0", None),
        lambda: m.connect("tcp://127.0.0.1:1", None),
        lambda: m.add_timer(None),
        lambda: m.poll(0),
        m.run,
        m.fileno,
        m.next_timer,
        lambda: m.broadcast(print),
    ]
    for call in calls:
        with pytest.raises(RuntimeError, match="closed"):
            call()
    m.close()  # again: nothing happens
    m.wakeup()
    m.stop()


def test_connection_after_close(mgr):
    server = mgr.bind("tcp://127.0.0.1:0", None)
    c = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), None)
    c.user_data = {"kept": True}
    view = c.recv_buf
    poll_until(mgr, lambda: len(mgr.connections) == 3)
    c.close()
    poll_until(mgr, lambda: c.closed)
    assert c.closed is True
    assert c.flags == 0
    with pytest.raises(ConnectionError):
        c.send(b"x")
    with pytest.raises(ConnectionError):
        c.set_timer(1)
    with pytest.raises(ConnectionError):
        c.flags = Flag.USER_1
    assert isinstance(c.recv_buf, mgio.Mbuf) and len(c.recv_buf) == 0 and c.recv_buf == b""
    assert len(c.send_buf) == 0 and view == b""
    c.recv_buf.append(b"x")  # the two buffers of a closed connection stay separate
    assert c.recv_buf == b"x" and c.send_buf == b""
    assert c.remote_address is None and c.local_address is None
    assert c.user_data == {"kept": True} and c.manager is mgr
    assert "closed" in repr(c)
    c.close()
    c.close(immediately=True)
    with pytest.raises(TypeError):
        mgio.Connection()


def test_flags(mgr):
    server = mgr.bind("tcp://127.0.0.1:0", None)
    server.flags |= Flag.USER_1 | Flag.USER_6
    assert server.flags & Flag.USER_1 and server.flags & Flag.USER_6
    assert server.flags & Flag.LISTENING
    server.flags = server.flags & ~int(Flag.USER_1)
    assert not server.flags & Flag.USER_1
    for bad in (
        server.flags | Flag.UDP,
        server.flags & ~int(Flag.LISTENING),
        server.flags | Flag.CONNECTING,
    ):
        with pytest.raises(ValueError):
            server.flags = bad
    with pytest.raises(AttributeError):
        del server.flags
    assert Flag(server.flags) == Flag.LISTENING | Flag.USER_6
    seen = []

    def on_event(conn, ev, data):
        if ev == EV_CONNECT:
            conn.flags |= Flag.USER_2
        seen.append(conn.flags & Flag.USER_2)

    c = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), on_event)
    poll_until(mgr, lambda: seen)
    assert c.flags & Flag.USER_2  # kept after the handler returned
    c.flags |= Flag.CLOSE_IMMEDIATELY  # a handler-settable flag closes, as close() does
    poll_until(mgr, lambda: c.closed)


class EchoHandler(mgio.Handler):
    def __init__(self):
        self.calls = []

    def on_accept(self, conn, address):
        self.calls.append(("accept", address))

    def on_connect(self, conn, status):
        self.calls.append(("connect", status))
        conn.send(b"via Handler")

    def on_recv(self, conn, count):
        self.calls.append(("recv", count))
        if conn.remote_address[1] == conn.user_data:  # the client's side
            conn.close()
        else:
            conn.send(bytes(conn.recv_buf))
        conn.recv_buf.clear()

    def on_close(self, conn):
        self.calls.append(("close",))


def test_handler_subclass(mgr):
    h = EchoHandler()
    server = mgr.bind("tcp://127.0.0.1:0", h)
    client = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), h)
    client.user_data = port_of(server)
    poll_until(mgr, lambda: client.local_address)
    local = client.local_address
    poll_until(mgr, lambda: client.closed)
    names = [c[0] for c in h.calls]
    assert names[:2] == ["connect", "accept"] or names[:2] == ["accept", "connect"]
    assert ("connect", 0) in h.calls
    assert ("accept", local) in h.calls
    assert ("recv", len(b"via Handler")) in h.calls
    assert names.count("close") >= 1
    # Events without an on_* method are ignored (no on_send, no on_timer here).
    client2 = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), h)
    client2.set_timer(mgio.time())
    poll_for(mgr, 0.05)
    assert isinstance(mgio.Handler(), mgio.Handler)
    mgio.Handler()(client2, EV_RECV, 1)  # the base class ignores everything


def test_recv_buf_is_an_mbuf_view(mgr):
    log = EventLog(consume=False)
    server = mgr.bind("tcp://127.0.0.1:0", log)
    with plain_client("127.0.0.1", port_of(server)) as s:
        s.sendall(b"hello world")
        poll_until(mgr, lambda: log.accepted() and len(log.accepted()[0].recv_buf) == 11)
        [conn] = log.accepted()
        rb = conn.recv_buf
        assert isinstance(rb, mgio.Mbuf)
        assert rb == b"hello world" and bytes(rb) == b"hello world"
        assert rb[0] == ord("h") and rb[:5] == b"hello" and b"world" in rb
        snapshot = memoryview(rb)
        assert snapshot.readonly and bytes(snapshot) == b"hello world"
        with pytest.raises(BufferError):
            writable_export(rb)  # the live memory of a socket buffer never escapes
        with pytest.raises(TypeError):
            s.recv_into(rb)  # which recv_into reports as "not writable"
        rb.remove(6)
        assert conn.recv_buf == b"world" and rb == b"world"
        assert bytes(snapshot) == b"hello world"  # the snapshot did not move
        with pytest.raises(ValueError):
            rb.remove(100)
        s.sendall(b"!")
        poll_until(mgr, lambda: rb == b"world!")  # the view is live
        conn.send_buf.append(b"sent through the view")
        assert recv_polling(mgr, s, 21) == b"sent through the view"


def test_max_connections_cap(mgr):
    mgr.max_connections = 2
    log = EventLog(echo=True)
    server = mgr.bind("tcp://127.0.0.1:0", log)
    socks = []
    try:
        for n in (1, 2):
            socks.append(plain_client("127.0.0.1", port_of(server)))
            poll_until(mgr, lambda n=n: len(log.accepted()) == n)
        socks.append(plain_client("127.0.0.1", port_of(server)))
        assert recv_polling(mgr, socks[2], 1) == b""  # accepted and closed at once
        assert len(log.accepted()) == 2
        with pytest.raises(OSError, match="too many"):
            mgr.connect(url("tcp", "127.0.0.1", port_of(server)), None)
        socks[0].sendall(b"still served")
        assert recv_polling(mgr, socks[0], 12) == b"still served"
    finally:
        for s in socks:
            s.close()
    poll_until(mgr, lambda: len(mgr.connections) == 1)
    mgr.max_connections = 1024
    with pytest.raises((ValueError, OverflowError)):
        mgr.max_connections = -1


# ---- reference cycles and leaks ---------------------------------------------------------


class CyclicHandler(mgio.Handler):
    """Holds its manager and its connections: a cycle through the C side."""

    def __init__(self, manager):
        self.manager = manager
        self.conns = []

    def on_accept(self, conn, address):
        self.conns.append(conn)
        conn.user_data = self

    def on_connect(self, conn, status):
        conn.send(b"x")

    def on_recv(self, conn, count):
        self.conns.append(conn.recv_buf)  # a view, which keeps its connection alive


def _cyclic_setup():
    m = mgio.Manager()
    h = CyclicHandler(m)
    server = m.bind("tcp://127.0.0.1:0", h)
    client = m.connect(url("tcp", "127.0.0.1", port_of(server)), h)
    client.user_data = m
    poll_until(m, lambda: len(h.conns) == 2)
    refs = [weakref.ref(o) for o in (m, h, server, client, h.conns[0])]
    return m, refs


@pytest.mark.parametrize("close", [True, False], ids=["close", "no-close"])
def test_no_cycle_keeps_objects_alive(close):
    gc.collect()
    fds = fd_count()
    m, refs = _cyclic_setup()
    if close:
        m.close()
    del m
    gc.collect()
    assert [r() for r in refs] == [None] * len(refs)
    assert fd_count() == fds


def _closed_manager_refs() -> list[weakref.ref]:
    m = mgio.Manager()
    server = m.bind("tcp://127.0.0.1:0", echo)
    client = m.connect(url("tcp", "127.0.0.1", port_of(server)), echo)
    view = client.recv_buf
    poll_until(m, lambda: len(m.connections) == 3)
    refs = [weakref.ref(o) for o in (m, server, client, *m.connections)]
    assert view == b""
    m.close()
    return refs


def test_closed_objects_die_by_refcount_alone():
    gc.collect()
    gc.disable()
    try:
        refs = _closed_manager_refs()
        assert [r() for r in refs] == [None] * len(refs)
    finally:
        gc.enable()


def _one_cycle(refused_port: int) -> None:
    """A manager with an echo exchange, a refused connect and a handler that raises."""
    done = []

    def client_side(conn, ev, data):
        if ev == EV_CONNECT:
            conn.send(b"ping")
        elif ev == EV_RECV:
            conn.close()
        elif ev == EV_CLOSE:
            done.append(1)

    def failing(conn, ev, data):
        if ev == EV_TIMER:
            raise Boom("leak check")

    with mgio.Manager() as m:
        server = m.bind("tcp://127.0.0.1:0", echo)
        m.connect(url("tcp", "127.0.0.1", port_of(server)), client_side)
        refused = m.connect(url("tcp", "127.0.0.1", refused_port), None)
        m.add_timer(failing).set_timer(mgio.time())
        with pytest.raises(Boom):
            poll_until(m, lambda: False)
        poll_until(m, lambda: done and refused.closed)


def test_no_leak_over_200_managers():
    with refusing_port("127.0.0.1") as refused_port:
        for _ in range(20):  # warm up caches and free lists
            _one_cycle(refused_port)
        gc.collect()
        fds = fd_count()
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            for _ in range(200):
                _one_cycle(refused_port)
            gc.collect()
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
    # 16 KiB over 200 cycles: one leaked object per cycle would show.
    assert grown < 16 << 10, f"{grown} bytes more after 200 managers"
    assert fd_count() <= fds + 2


@pytest.mark.parametrize("size", [16, 64 * 1024, 8 * 1024 * 1024])
def test_half_close_still_gets_every_byte_back(mgr, size):
    """A client that sends, then shuts down its side, reads the whole echo before EOF: the
    server flushes what it queued before closing (the peer's EOF is not an abort)."""
    server = mgr.bind("tcp://127.0.0.1:0", echo)
    payload = bytes(range(256)) * (size // 256) or b"x" * size
    received = bytearray()
    with socket.create_connection(("127.0.0.1", port_of(server))) as s:
        s.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if sent < len(payload):
                try:
                    sent += s.send(payload[sent : sent + 65536])
                except BlockingIOError:
                    pass
                if sent == len(payload):
                    s.shutdown(socket.SHUT_WR)
            mgr.poll(1)
            try:
                chunk = s.recv(1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                break
            received += chunk
    assert len(received) == len(payload)
    assert received == payload


def test_handler_gets_only_the_events_it_defines(mgr):
    """A Handler subclass is called only for its on_* methods: the C layer skips the rest
    (no Python call for EV_SEND when there is no on_send)."""
    calls: list[int] = []

    class RecvOnly(mgio.Handler):
        def __call__(self, conn, ev, data):
            calls.append(ev)
            super().__call__(conn, ev, data)

        def on_recv(self, conn, count):
            conn.send(conn.recv_buf)
            conn.recv_buf.clear()

    assert RecvOnly._mgio_events == 1 << mgio.EV_RECV
    server = mgr.bind("tcp://127.0.0.1:0", RecvOnly())
    with socket.create_connection(("127.0.0.1", port_of(server))) as s:
        s.sendall(b"ping")
        assert recv_polling(mgr, s, 4) == b"ping"
    poll_until(mgr, lambda: len(mgr.connections) == 1)
    assert calls and set(calls) == {mgio.EV_RECV}


def test_handler_methods_are_called_directly_and_may_replace_the_handler(mgr):
    """The manager calls a Handler's on_* function itself (no Handler.__call__ frame in a
    traceback), and a handler that replaces conn.handler mid-call hands over cleanly."""
    seen: list[str] = []

    class Second(mgio.Handler):
        def on_recv(self, conn, count):
            seen.append("second")
            raise LookupError("from the second handler")

    class First(mgio.Handler):
        def on_recv(self, conn, count):
            seen.append("first")
            conn.recv_buf.clear()
            conn.handler = Second()  # drops the only reference to this instance

    server = mgr.bind("tcp://127.0.0.1:0", First())
    with socket.create_connection(("127.0.0.1", port_of(server))) as s:
        s.sendall(b"1")
        poll_until(mgr, lambda: seen == ["first"])
        s.sendall(b"2")
        with pytest.raises(LookupError) as info:
            poll_until(mgr, lambda: False)
    assert seen == ["first", "second"]
    frames = [frame.name for frame in traceback.extract_tb(info.value.__traceback__)]
    assert frames[-1] == "on_recv" and "__call__" not in frames


def test_plain_handler_may_declare_its_events(mgr):
    seen: list[int] = []

    def handler(conn, ev, data):
        seen.append(ev)

    handler._mgio_events = (1 << mgio.EV_CONNECT) | (1 << mgio.EV_CLOSE)
    server = mgr.bind("tcp://127.0.0.1:0", None)
    c = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), handler)
    c.send(b"x")
    poll_until(mgr, lambda: seen == [mgio.EV_CONNECT])
    c.close()
    poll_until(mgr, lambda: c.closed)
    assert seen == [mgio.EV_CONNECT, mgio.EV_CLOSE]
    c2 = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), None)
    c2.handler = handler  # set later: the mask is read again
    assert c2.handler is handler
    with pytest.raises(TypeError):
        c2.handler = 42


def test_send_reads_an_mbuf_in_place_and_bytes_copies_once(mgr):
    server = mgr.bind("tcp://127.0.0.1:0", echo)
    c = mgr.connect(url("tcp", "127.0.0.1", port_of(server)), None)
    c.send(mgio.Mbuf(b"abc"))
    c.send(c.send_buf)  # its own queue: copied first, so it doubles
    assert bytes(c.send_buf) == b"abcabc"
    poll_until(mgr, lambda: len(c.recv_buf) == 6)
    assert bytes(c.recv_buf) == b"abcabc"
    assert type(bytes(c.recv_buf)) is bytes


def test_poll_arguments(mgr):
    assert mgr.poll() >= 0 and mgr.poll(0) >= 0 and mgr.poll(timeout_ms=1) >= 0
    with pytest.raises(TypeError):
        mgr.poll(1, 2)
    with pytest.raises(TypeError):
        mgr.poll(x=1)
    with pytest.raises(TypeError):
        mgr.poll("1")
    with pytest.raises(OverflowError):
        mgr.poll(2**40)


def test_reuse_port_shares_a_port_between_listeners():
    """With reuse_port=True two managers (standing in for two processes) listen on one
    port and the kernel spreads the connections; without it the second bind fails."""
    seen: list[Counter[int]] = [Counter(), Counter()]

    def counter(index: int):
        def handler(conn, ev, data):
            if ev == EV_ACCEPT:
                seen[index][1] += 1
        return handler

    with mgio.Manager() as a, mgio.Manager() as b:
        first = a.bind("tcp://127.0.0.1:0", counter(0), reuse_port=True)
        port = port_of(first)
        with pytest.raises(OSError):
            b.bind(f"tcp://127.0.0.1:{port}", None)
        b.bind(f"tcp://127.0.0.1:{port}", counter(1), reuse_port=True)
        clients = [socket.create_connection(("127.0.0.1", port)) for _ in range(40)]
        try:
            deadline = time.monotonic() + 5
            while sum(c[1] for c in seen) < 40 and time.monotonic() < deadline:
                a.poll(5)
                b.poll(5)
        finally:
            for c in clients:
                c.close()
    # 40 connections hashed over two sockets all landing on one: odds 2**-39
    assert seen[0][1] + seen[1][1] == 40 and seen[0][1] > 0 and seen[1][1] > 0
