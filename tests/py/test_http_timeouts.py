"""Timeouts and per-connection limits set through Connection.set_limits: the defaults
and their validation; the header timeout (408), body idle (408), send (a client that
never reads), keep-alive idle (a quiet close, which http.client and requests survive),
max_requests (Connection: close on the last answer), and the WebSocket client's
handshake timeout. Raw sockets, http.client and requests over loopback; timeouts are
0.15 s and every wait is bounded."""

from __future__ import annotations

import http.client
import socket
import time

import mgio
import pytest
import requests
from conftest import ServerThread, poll_until, port_of, recv_until_closed, wait_for

SHORT = 0.15


class Hello(mgio.Handler):
    """Answers every request with "hi <uri>"; records accepts and closes."""

    def __init__(self) -> None:
        self.accepted = 0
        self.closes = 0

    def on_accept(self, conn, addr):
        self.accepted += 1

    def on_http_request(self, conn, msg):
        if msg.uri == "/big":
            conn.reply(200, b"x" * (16 << 20))
        else:
            conn.reply(200, f"hi {msg.uri}")

    def on_close(self, conn):
        self.closes += 1


def serve(**limits: float | int | None) -> tuple[ServerThread, Hello]:
    handler = Hello()
    return ServerThread(handler, setup=lambda lc: lc.set_limits(**limits)), handler


def fresh_request_works(srv: ServerThread) -> bool:
    return requests.get(srv.url + "/fresh", timeout=5).text == "hi /fresh"


def test_timeout_limits_defaults_and_validation(mgr):
    listener = mgr.bind("tcp://127.0.0.1:0", Hello(), http=True)
    lim = listener.limits
    new = {k: v for k, v in lim.items() if "timeout" in k or "multipart" in k or "max_req" in k}
    assert new == {
        "ws_close_timeout": 5.0,
        "ws_ping_timeout": 20.0,
        "multipart_max_header": 8192,
        "multipart_max_parts": 1000,
        "header_timeout": 30.0,
        "body_timeout": 30.0,
        "send_timeout": 60.0,
        "keep_alive_timeout": 75.0,
        "max_requests": 1000,
        "ws_handshake_timeout": 30.0,
    }
    listener.set_limits(header_timeout=None, send_timeout=0.25, max_requests=0)
    lim = listener.limits
    assert (lim["header_timeout"], lim["send_timeout"], lim["max_requests"]) == (0.0, 0.25, 0)
    for bad in (
        {"header_timeout": -1},
        {"keep_alive_timeout": 5e6},
        {"max_requests": -1},
        {"max_requests": 1 << 32},
        {"multipart_max_parts": 0},
        {"multipart_max_header": 0},
    ):
        with pytest.raises(ValueError):
            listener.set_limits(**bad)
    with pytest.raises(TypeError):
        listener.set_limits(max_requests=1.5)
    assert listener.limits == lim  # nothing of a refused call was kept


def test_accepted_connections_take_the_timeouts(mgr):
    server: list[mgio.Connection] = []
    listener = mgr.bind(
        "tcp://127.0.0.1:0",
        lambda c, ev, d: server.append(c) if ev == mgio.EV_ACCEPT else None,
        http=True,
    )
    listener.set_limits(body_timeout=1.5, max_requests=7)
    with socket.create_connection(("127.0.0.1", port_of(listener)), timeout=5):
        poll_until(mgr, lambda: server)
        assert server[0].limits["body_timeout"] == 1.5
        assert server[0].limits["max_requests"] == 7


def test_header_timeout_408_then_fresh_connection_served():
    srv, _ = serve(header_timeout=SHORT)
    with srv, socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        t0 = time.monotonic()
        s.sendall(b"GET / HTTP/1.1\r\nHo")
        got = recv_until_closed(s)
        took = time.monotonic() - t0
        assert got.startswith(b"HTTP/1.1 408 Request Timeout\r\n")
        assert b"Connection: close" in got
        assert SHORT - 0.05 <= took < 3
        assert fresh_request_works(srv)


def test_header_timeout_lets_a_slow_head_within_it_through():
    srv, _ = serve(header_timeout=3 * SHORT)
    with srv, socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        s.sendall(b"GET /slow HTTP/1.1\r\n")
        time.sleep(SHORT)
        s.sendall(b"Host: a\r\nConnection: close\r\n\r\n")
        assert recv_until_closed(s).endswith(b"hi /slow")


def test_body_timeout_408():
    srv, _ = serve(body_timeout=SHORT)
    with srv, socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
        t0 = time.monotonic()
        s.sendall(b"POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nab")
        got = recv_until_closed(s)
        assert got.startswith(b"HTTP/1.1 408 ") and b"Connection: close" in got
        assert SHORT - 0.05 <= time.monotonic() - t0 < 3
        assert fresh_request_works(srv)


def test_keep_alive_idle_closes_quietly_and_clients_reconnect():
    srv, handler = serve(keep_alive_timeout=SHORT)
    with srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        conn.request("GET", "/1")
        assert conn.getresponse().read() == b"hi /1"
        assert conn.sock is not None
        t0 = time.monotonic()
        assert conn.sock.recv(100) == b""  # closed by the server, nothing sent
        assert SHORT - 0.05 <= time.monotonic() - t0 < 3
        conn.close()
        with requests.Session() as session:
            assert session.get(srv.url + "/a", timeout=5).text == "hi /a"
            time.sleep(3 * SHORT)  # the pooled connection is closed meanwhile
            assert session.get(srv.url + "/b", timeout=5).text == "hi /b"
        wait_for(lambda: handler.accepted == 3 and handler.closes == 3)


def test_max_requests_last_answer_says_close():
    srv, handler = serve(max_requests=3)
    with srv, requests.Session() as session:
        answers = [session.get(f"{srv.url}/{i}", timeout=5) for i in range(5)]
        assert [a.text for a in answers] == [f"hi /{i}" for i in range(5)]
        assert [a.headers.get("Connection") for a in answers] == [
            None,
            None,
            "close",
            None,
            None,
        ]
        assert handler.accepted == 2


def test_send_timeout_closes_a_client_that_never_reads():
    srv, handler = serve(send_timeout=SHORT)
    with srv, socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect(("127.0.0.1", srv.port))
        t0 = time.monotonic()
        s.sendall(b"GET /big HTTP/1.1\r\nHost: a\r\n\r\n")
        wait_for(lambda: handler.closes == 1, what="the server's close")
        assert SHORT - 0.05 <= time.monotonic() - t0 < 3
        assert fresh_request_works(srv)


def test_ws_handshake_timeout(mgr):
    silent = mgr.bind("tcp://127.0.0.1:0", None)
    events: list[tuple[int, object]] = []
    conn = mgr.connect_ws(
        f"ws://127.0.0.1:{port_of(silent)}/", lambda c, ev, d: events.append((ev, d))
    )
    conn.set_limits(ws_handshake_timeout=SHORT)
    t0 = time.monotonic()
    poll_until(mgr, lambda: conn.closed, what="the handshake timeout")
    assert SHORT - 0.05 <= time.monotonic() - t0 < 3
    done = [d for ev, d in events if ev == mgio.EV_WEBSOCKET_HANDSHAKE_DONE]
    assert len(done) == 1 and done[0].status == 0
    assert not conn.is_websocket
