"""The WebSocket handler API on its own: events and Handler methods, WebSocketMessage
(attributes, copy on escape), Connection.send_ws / ws_close / is_websocket / set_limits
and Manager.connect_ws argument checks, with an mgio server and an mgio client in one
manager over loopback. Peers from other libraries are in test_ws_server.py and
test_ws_client.py."""

from __future__ import annotations

import gc
import socket
from typing import Any

import mgio
import pytest
from conftest import poll_for, poll_until, port_of
from mgio import (
    EV_CLOSE,
    EV_WEBSOCKET_CONTROL_FRAME,
    EV_WEBSOCKET_FRAME,
    EV_WEBSOCKET_HANDSHAKE_DONE,
    EV_WEBSOCKET_HANDSHAKE_REQUEST,
    Flag,
    WebSocketError,
    WebSocketMessage,
    WsOp,
)


class Log:
    """Records (ev, data) per connection; runs on_event(conn, ev, data) if given."""

    def __init__(self, on_event: Any = None):
        self.events: list[tuple[mgio.Connection, int, Any]] = []
        self.on_event = on_event

    def __call__(self, conn: mgio.Connection, ev: int, data: Any) -> None:
        self.events.append((conn, ev, data))
        if self.on_event is not None:
            self.on_event(conn, ev, data)

    def of(self, ev: int) -> list[Any]:
        return [d for _, e, d in self.events if e == ev]

    def conns(self, ev: int) -> list[mgio.Connection]:
        return [c for c, e, _ in self.events if e == ev]


def ws_url(listener: mgio.Connection, path: str = "/ws") -> str:
    return f"ws://127.0.0.1:{port_of(listener)}{path}"


def open_pair(mgr: mgio.Manager, server: Any, client: Any, **kw: Any) -> mgio.Connection:
    """Binds an HTTP listener with `server`, connects a WebSocket client with `client`
    and polls until the client's handshake is done. Returns the client connection."""
    listener = mgr.bind("tcp://127.0.0.1:0", server, http=True)
    conn = mgr.connect_ws(ws_url(listener), client, **kw)
    poll_until(mgr, lambda: conn.is_websocket or conn.closed, what="the handshake")
    assert conn.is_websocket
    return conn


def echo_server(conn: mgio.Connection, ev: int, data: Any) -> None:
    if ev == EV_WEBSOCKET_FRAME:
        conn.send_ws(data)


# ---- events, Handler -----------------------------------------------------------------


def test_event_numbers_and_opcodes():
    assert mgio.Event.WEBSOCKET_HANDSHAKE_REQUEST == mgio.EV_WEBSOCKET_HANDSHAKE_REQUEST == 111
    assert mgio.Event.WEBSOCKET_HANDSHAKE_DONE == mgio.EV_WEBSOCKET_HANDSHAKE_DONE == 112
    assert mgio.Event.WEBSOCKET_FRAME == mgio.EV_WEBSOCKET_FRAME == 113
    assert mgio.Event.WEBSOCKET_CONTROL_FRAME == mgio.EV_WEBSOCKET_CONTROL_FRAME == 114
    bits = {mgio.event_bit(ev) for ev in (111, 112, 113, 114)}
    assert len(bits) == 4 and mgio.event_bit(999) not in bits
    assert [int(op) for op in WsOp] == [0, 1, 2, 8, 9, 10]
    assert WsOp.TEXT.name == "TEXT"


def test_handler_methods_get_the_websocket_events(mgr):
    seen: list[tuple[str, str, Any]] = []

    class Server(mgio.Handler):
        def on_ws_handshake_request(self, conn, msg):
            seen.append(("server", "request", (type(msg), msg.uri, msg.header("X-Test"))))

        def on_ws_open(self, conn, msg):
            seen.append(("server", "open", (type(msg), msg.method, conn.is_websocket)))

        def on_ws_message(self, conn, msg):
            seen.append(("server", "message", (type(msg), msg.text)))
            conn.send_ws(msg.text.upper())

        def on_ws_control(self, conn, msg):
            seen.append(("server", "control", (msg.opcode, msg.close_code, msg.close_reason)))

    class Client(mgio.Handler):
        def on_ws_open(self, conn, msg):
            seen.append(("client", "open", (type(msg), msg.status, conn.is_websocket)))
            conn.send_ws("hello")

        def on_ws_message(self, conn, msg):
            seen.append(("client", "message", (type(msg), msg.text)))
            conn.ws_close(4000, "done")

        def on_ws_control(self, conn, msg):
            seen.append(("client", "control", (msg.opcode, msg.close_code, msg.close_reason)))

        def on_close(self, conn):
            seen.append(("client", "close", None))

    listener = mgr.bind("tcp://127.0.0.1:0", Server(), http=True)
    mgr.connect_ws(ws_url(listener), Client(), headers={"X-Test": "yes"})
    poll_until(mgr, lambda: ("client", "close", None) in seen)
    assert seen == [
        ("server", "request", (mgio.HttpMessage, "/ws", "yes")),
        ("server", "open", (mgio.HttpMessage, "GET", True)),
        ("client", "open", (mgio.HttpMessage, 101, True)),
        ("server", "message", (WebSocketMessage, "hello")),
        ("client", "message", (WebSocketMessage, "HELLO")),
        ("server", "control", (WsOp.CLOSE, 4000, "done")),
        ("client", "control", (WsOp.CLOSE, 4000, "")),  # the server echoes the code
        ("client", "close", None),
    ]


def test_handler_without_ws_methods_is_not_called_for_them(mgr):
    """A handler that takes the upgrade but not the messages: frames cost no Python call.
    (One with no WebSocket method at all refuses upgrades: tests/py/test_handler_defaults.py.)"""
    calls: list[int] = []

    class Plain(mgio.Handler):
        def on_ws_open(self, conn, msg):
            pass

        def on_close(self, conn):
            calls.append(EV_CLOSE)

    conn = open_pair(mgr, Plain(), None)  # upgraded, then no Python call per frame
    conn.send_ws("x")
    conn.send_ws("y", WsOp.PING)
    poll_for(mgr, 0.05)
    assert calls == []
    conn.ws_close()
    poll_until(mgr, lambda: calls == [EV_CLOSE])


# ---- WebSocketMessage ------------------------------------------------------------------


def test_message_attributes(mgr):
    got = Log()
    conn = open_pair(mgr, echo_server, got)
    conn.send_ws("héllo €")
    conn.send_ws(b"\x00\xffbin")
    conn.send_ws(b"ping!", WsOp.PING)
    conn.send_ws("", WsOp.TEXT)
    poll_until(mgr, lambda: len(got.of(EV_WEBSOCKET_FRAME)) == 3 and got.of(114))
    text, binary, empty = got.of(EV_WEBSOCKET_FRAME)
    assert text.data == "héllo €".encode() and text.text == "héllo €"
    assert text.opcode is WsOp.TEXT and text.is_text and not text.is_binary
    assert text.fin and not text.is_control and len(text) == 10 and bytes(text) == text.data
    assert text.close_code is None and text.close_reason is None
    assert binary.data == b"\x00\xffbin" and binary.opcode is WsOp.BINARY and binary.is_binary
    with pytest.raises(UnicodeDecodeError):
        _ = binary.text
    assert empty.data == b"" and empty.text == "" and len(empty) == 0
    (pong,) = got.of(EV_WEBSOCKET_CONTROL_FRAME)
    assert pong.opcode is WsOp.PONG and pong.data == b"ping!" and pong.is_control
    assert "PONG 5 bytes" in repr(pong) and "(copy)" in repr(pong)
    conn.ws_close(4321, "bye ✓")
    poll_until(mgr, lambda: conn.closed)
    close = got.of(EV_WEBSOCKET_CONTROL_FRAME)[-1]
    assert close.opcode is WsOp.CLOSE and close.close_code == 4321 and close.close_reason == ""


def test_close_frame_code_and_reason_as_the_peer_sent_them(mgr):
    server = Log()
    conn = open_pair(mgr, server, None)
    conn.ws_close(3001, "räson")
    poll_until(mgr, lambda: server.of(EV_WEBSOCKET_CONTROL_FRAME))
    (close,) = server.of(EV_WEBSOCKET_CONTROL_FRAME)
    assert (close.close_code, close.close_reason) == (3001, "räson")
    assert close.data == b"\x0b\xb9" + "räson".encode()
    assert repr(close) == "<mgio.WebSocketMessage CLOSE code=3001 reason='räson' (copy)>"
    poll_until(mgr, lambda: conn.closed)


def test_close_without_code_reads_1005(mgr):
    server = Log()
    conn = open_pair(mgr, server, None)
    conn.ws_close(None)
    poll_until(mgr, lambda: server.of(EV_WEBSOCKET_CONTROL_FRAME))
    (close,) = server.of(EV_WEBSOCKET_CONTROL_FRAME)
    assert close.close_code == 1005 and close.close_reason == "" and close.data == b""


def test_kept_messages_stay_valid_after_the_buffer_is_reused(mgr):
    kept: list[WebSocketMessage] = []
    datas: list[bytes] = []

    def server(conn, ev, msg):
        if ev == EV_WEBSOCKET_FRAME:
            if len(kept) % 2 == 0:
                datas.append(msg.data)  # made in the handler: the copy reuses it
            kept.append(msg)

    conn = open_pair(mgr, server, None, deflate=False)
    payloads = [bytes([i]) * (1000 + i) for i in range(20)]
    for p in payloads:
        conn.send_ws(p)
    poll_until(mgr, lambda: len(kept) == 20)
    conn.send_ws(b"\xee" * 5000)  # overwrites the receive buffer again
    poll_until(mgr, lambda: len(kept) == 21)
    assert [m.data for m in kept[:20]] == payloads
    assert all(kept[i].data is datas[i // 2] for i in range(0, 20, 2))  # not copied twice
    assert all("(copy)" in repr(m) for m in kept)


def test_kept_compressed_messages_stay_valid(mgr):
    kept: list[WebSocketMessage] = []
    conn = open_pair(mgr, lambda c, ev, m: ev == EV_WEBSOCKET_FRAME and kept.append(m), None)
    payloads = [f"message {i} ".encode() * 50 for i in range(10)]
    for p in payloads:
        conn.send_ws(p)
    poll_until(mgr, lambda: len(kept) == 10)
    assert [m.data for m in kept] == payloads


def test_message_kept_while_recv_buf_is_edited_is_copied_first(mgr):
    seen: list[Any] = []

    def server(conn, ev, msg):
        if ev == EV_WEBSOCKET_FRAME:
            seen.append(msg)
            conn.recv_buf.clear()  # the message is copied out first
            seen.append(msg.data)

    conn = open_pair(mgr, server, None, deflate=False)
    conn.send_ws(b"precious" * 100)
    poll_until(mgr, lambda: len(seen) == 2)
    assert seen[0].data == seen[1] == b"precious" * 100


def test_message_not_kept_is_freed(mgr):
    count = [0]

    def server(conn, ev, msg):
        if ev == EV_WEBSOCKET_FRAME:
            count[0] += 1
            conn.send_ws(msg)

    got = Log()
    conn = open_pair(mgr, server, got)
    gc.collect()
    before = sum(1 for o in gc.get_objects() if type(o) is WebSocketMessage)
    for _ in range(200):
        conn.send_ws(b"x" * 200)
    poll_until(mgr, lambda: count[0] == 200 and len(got.of(EV_WEBSOCKET_FRAME)) == 200)
    got.events.clear()
    gc.collect()
    assert sum(1 for o in gc.get_objects() if type(o) is WebSocketMessage) <= before


# ---- send_ws ---------------------------------------------------------------------------


def test_send_ws_kinds_and_opcodes(mgr):
    got = Log()
    conn = open_pair(mgr, echo_server, got)
    conn.send_ws("text")
    conn.send_ws(b"bytes")
    conn.send_ws(bytearray(b"bytearray"))
    conn.send_ws(memoryview(b"xmemoryview")[1:])
    conn.send_ws("str as binary", WsOp.BINARY)
    conn.send_ws(b"bytes as text", WsOp.TEXT)
    conn.send_ws(mgio.Mbuf(b"an mbuf"))
    poll_until(mgr, lambda: len(got.of(EV_WEBSOCKET_FRAME)) == 7)
    assert [(m.opcode, m.data) for m in got.of(EV_WEBSOCKET_FRAME)] == [
        (WsOp.TEXT, b"text"),
        (WsOp.BINARY, b"bytes"),
        (WsOp.BINARY, b"bytearray"),
        (WsOp.BINARY, b"memoryview"),
        (WsOp.BINARY, b"str as binary"),
        (WsOp.TEXT, b"bytes as text"),
        (WsOp.BINARY, b"an mbuf"),
    ]


def test_fragmented_send_arrives_whole(mgr):
    got = Log()
    conn = open_pair(mgr, echo_server, got)
    conn.send_ws("frag€"[:4], fin=False)
    conn.send_ws(b"\xe2\x82\xac", WsOp.PING)  # control frames may come between fragments
    conn.send_ws("€".encode()[:1], WsOp.CONTINUE, fin=False)  # splits a character
    conn.send_ws("€".encode()[1:] + b" end", WsOp.CONTINUE, fin=True)
    conn.send_ws(b"a", fin=False)
    conn.send_ws(b"b", WsOp.CONTINUE)
    poll_until(mgr, lambda: len(got.of(EV_WEBSOCKET_FRAME)) == 2)
    text, binary = got.of(EV_WEBSOCKET_FRAME)
    assert text.is_text and text.text == "frag€ end"
    assert binary.opcode is WsOp.BINARY and binary.data == b"ab"


def test_fragments_delivered_one_by_one_with_no_defrag(mgr):
    server = Log()

    def on_request(conn, ev, msg):
        if ev == EV_WEBSOCKET_HANDSHAKE_REQUEST:
            conn.flags |= Flag.WEBSOCKET_NO_DEFRAG

    server.on_event = on_request
    conn = open_pair(mgr, server, None)
    conn.send_ws("one ", fin=False)
    conn.send_ws("two ", WsOp.CONTINUE, fin=False)
    conn.send_ws("three", WsOp.CONTINUE)
    poll_until(mgr, lambda: len(server.of(EV_WEBSOCKET_FRAME)) == 3)
    frames = server.of(EV_WEBSOCKET_FRAME)
    assert [(m.opcode, m.fin, m.text) for m in frames] == [
        (WsOp.TEXT, False, "one "),
        (WsOp.CONTINUE, False, "two "),
        (WsOp.CONTINUE, True, "three"),
    ]


def test_send_ws_refusals(mgr):
    conn = open_pair(mgr, echo_server, None)
    with pytest.raises(ValueError, match="125"):
        conn.send_ws(b"x" * 126, WsOp.PING)
    conn.send_ws(b"x" * 125, WsOp.PONG)
    with pytest.raises(ValueError, match="fragmented"):
        conn.send_ws(b"x", WsOp.PING, fin=False)
    with pytest.raises(ValueError, match="CONTINUE"):
        conn.send_ws(b"x", WsOp.CONTINUE)
    with pytest.raises(ValueError, match="ws_close"):
        conn.send_ws(b"\x03\xe8", WsOp.CLOSE)
    with pytest.raises(ValueError, match="op must be"):
        conn.send_ws(b"x", 3)
    with pytest.raises(ValueError, match="UTF-8"):
        conn.send_ws(b"\xff", WsOp.TEXT)
    with pytest.raises(UnicodeEncodeError):
        conn.send_ws("\udcff")
    with pytest.raises(TypeError):
        conn.send_ws(12)
    conn.send_ws(b"start", fin=False)
    with pytest.raises(ValueError, match="in progress"):
        conn.send_ws(b"another")
    conn.send_ws(b"end", WsOp.CONTINUE)
    conn.send_ws(b"next")  # the fragmented message is over
    conn.ws_close()
    with pytest.raises(WebSocketError, match="closing"):
        conn.send_ws("after close")
    conn.ws_close()  # a second close does nothing
    poll_until(mgr, lambda: conn.closed)
    with pytest.raises(ConnectionError):
        conn.send_ws("closed")


def test_send_ws_on_a_connection_that_is_not_a_websocket(mgr):
    requests: list[mgio.Connection] = []
    listener = mgr.bind(
        "tcp://127.0.0.1:0", lambda c, ev, m: ev == 100 and requests.append(c), http=True
    )
    with pytest.raises(WebSocketError, match="open WebSocket"):
        listener.send_ws("x")
    client = mgr.connect_http(f"http://127.0.0.1:{port_of(listener)}/", None)
    assert not client.is_websocket
    with pytest.raises(WebSocketError):
        client.send_ws("x")
    with pytest.raises(WebSocketError):
        client.ws_close()
    poll_until(mgr, lambda: requests)
    with pytest.raises(WebSocketError):
        requests[0].send_ws(b"x")
    assert isinstance(WebSocketError("x"), ConnectionError)
    plain = mgr.connect(f"tcp://127.0.0.1:{port_of(listener)}", None)
    with pytest.raises(WebSocketError):
        plain.send_ws(b"x")


def test_ws_close_validation(mgr):
    conn = open_pair(mgr, echo_server, None)
    for code in (0, 999, 1004, 1005, 1006, 1015, 2999, 5000, -1):
        with pytest.raises(ValueError, match="close code"):
            conn.ws_close(code)
    with pytest.raises(ValueError, match="123"):
        conn.ws_close(1000, "é" * 62)  # 124 bytes
    with pytest.raises(ValueError, match="NUL"):
        conn.ws_close(1000, "a\0b")
    with pytest.raises(ValueError, match="needs a code"):
        conn.ws_close(None, "reason")
    with pytest.raises(TypeError):
        conn.ws_close(1000, b"bytes")
    assert conn.is_websocket


def test_ws_close_reason_of_123_bytes(mgr):
    server = Log()
    conn = open_pair(mgr, server, None)
    reason = "é" * 61 + "a"  # 123 bytes
    conn.ws_close(1001, reason)
    poll_until(mgr, lambda: server.of(EV_WEBSOCKET_CONTROL_FRAME))
    assert server.of(EV_WEBSOCKET_CONTROL_FRAME)[0].close_reason == reason


# ---- limits ----------------------------------------------------------------------------


def test_limits_defaults_and_changes(mgr):
    listener = mgr.bind("tcp://127.0.0.1:0", echo_server, http=True)
    assert listener.limits == {
        "request_line": 8192,
        "header_section": 32768,
        "max_headers": 100,
        "field_line": 8192,
        "body": 1048576,
        "ws_max_message": 1048576,
        "ws_max_fragments": 1024,
        "ws_ping_interval": 20.0,
        "ws_close_timeout": 5.0,
        "ws_ping_timeout": 20.0,
        "ws_deflate": True,
        "multipart_max_header": 8192,
        "multipart_max_parts": 1000,
        "header_timeout": 30.0,
        "body_timeout": 30.0,
        "send_timeout": 60.0,
        "keep_alive_timeout": 75.0,
        "max_requests": 1000,
        "ws_handshake_timeout": 30.0,
    }
    listener.set_limits(ws_max_message=10, ws_ping_interval=0.25, ws_deflate=False)
    lim = listener.limits
    assert (lim["ws_max_message"], lim["ws_ping_interval"], lim["ws_deflate"]) == (10, 0.25, False)
    assert lim["ws_max_fragments"] == 1024 and lim["body"] == 1048576  # kept
    with pytest.raises(TypeError, match="unexpected"):
        listener.set_limits(ws_max_mesage=1)
    with pytest.raises(TypeError, match="keyword"):
        listener.set_limits(1)
    with pytest.raises(TypeError):
        listener.set_limits(ws_max_message="big")
    with pytest.raises(ValueError):
        listener.set_limits(ws_max_message=-1)
    with pytest.raises(ValueError):
        listener.set_limits(ws_max_fragments=0)
    with pytest.raises(ValueError):
        listener.set_limits(ws_ping_interval=-1)
    assert listener.limits == lim  # nothing of a refused call was kept
    plain = mgr.bind("tcp://127.0.0.1:0", None)
    with pytest.raises(ValueError, match="HTTP"):
        plain.set_limits(body=1)


def test_accepted_connections_take_the_listeners_limits(mgr):
    server = Log()
    listener = mgr.bind("tcp://127.0.0.1:0", server, http=True)
    listener.set_limits(ws_max_message=1000, ws_max_fragments=3)
    conn = mgr.connect_ws(ws_url(listener), None)
    poll_until(mgr, lambda: conn.is_websocket)
    (accepted,) = server.conns(EV_WEBSOCKET_HANDSHAKE_DONE)
    assert accepted.limits["ws_max_message"] == 1000
    conn.send_ws(b"x" * 1000)  # the limit is inclusive
    poll_until(mgr, lambda: server.of(EV_WEBSOCKET_FRAME))
    conn.send_ws(b"y", fin=False)
    conn.send_ws(b"y", WsOp.CONTINUE, fin=False)
    conn.send_ws(b"y", WsOp.CONTINUE, fin=False)
    conn.send_ws(b"z", WsOp.CONTINUE)  # a 4th fragment is one too many
    poll_until(mgr, lambda: conn.closed)
    assert len(server.of(EV_WEBSOCKET_FRAME)) == 1


def test_message_over_the_limit_closes_with_1009(mgr):
    client = Log()
    listener = mgr.bind("tcp://127.0.0.1:0", echo_server, http=True)
    listener.set_limits(ws_max_message=100)
    conn = mgr.connect_ws(ws_url(listener), client)
    poll_until(mgr, lambda: conn.is_websocket)
    conn.send_ws(b"x" * 100)
    poll_until(mgr, lambda: client.of(EV_WEBSOCKET_FRAME))
    conn.send_ws(b"x" * 101)
    poll_until(mgr, lambda: conn.closed)
    (close,) = client.of(EV_WEBSOCKET_CONTROL_FRAME)
    assert close.close_code == 1009


def test_client_limits_apply_to_what_it_receives(mgr):
    client = Log()
    listener = mgr.bind("tcp://127.0.0.1:0", echo_server, http=True)
    conn = mgr.connect_ws(ws_url(listener), client)
    conn.set_limits(ws_max_message=50)
    poll_until(mgr, lambda: conn.is_websocket)
    conn.send_ws(b"x" * 50)
    poll_until(mgr, lambda: client.of(EV_WEBSOCKET_FRAME))
    conn.send_ws(b"x" * 51)  # the server takes it; its echo is too big for the client
    poll_until(mgr, lambda: conn.closed)
    assert len(client.of(EV_WEBSOCKET_FRAME)) == 1


@pytest.mark.parametrize("server_deflate", [True, False])
@pytest.mark.parametrize("client_deflate", [True, False])
def test_deflate_negotiation(mgr, server_deflate, client_deflate):
    server = Log(lambda c, ev, m: ev == EV_WEBSOCKET_FRAME and c.send_ws(m))
    listener = mgr.bind("tcp://127.0.0.1:0", server, http=True)
    listener.set_limits(ws_deflate=server_deflate)
    client = Log()
    conn = mgr.connect_ws(ws_url(listener), client, deflate=client_deflate)
    assert conn.limits["ws_deflate"] is client_deflate
    poll_until(mgr, lambda: conn.is_websocket)
    (request,) = server.of(EV_WEBSOCKET_HANDSHAKE_DONE)
    (response,) = client.of(EV_WEBSOCKET_HANDSHAKE_DONE)
    offered = request.header("Sec-WebSocket-Extensions")
    assert (offered is not None) is client_deflate
    accepted = response.header("Sec-WebSocket-Extensions")
    assert (accepted is not None) is (client_deflate and server_deflate)
    big = b"compressible " * 10000
    conn.send_ws(big)
    poll_until(mgr, lambda: client.of(EV_WEBSOCKET_FRAME))
    assert client.of(EV_WEBSOCKET_FRAME)[0].data == big


# ---- connect_ws ------------------------------------------------------------------------


def test_connect_ws_argument_errors(mgr):
    with pytest.raises(ValueError):
        mgr.connect_ws("wss://127.0.0.1:1/", None)
    with pytest.raises(ValueError):
        mgr.connect_ws("ftp://127.0.0.1:1/", None)
    with pytest.raises(ValueError):
        mgr.connect_ws("ws://[::1", None)
    for name in (
        "Upgrade",
        "connection",
        "Sec-WebSocket-Key",
        "sec-websocket-protocol",
        "Sec-WebSocket-Extensions",
        "Host",
        "Content-Length",
    ):
        with pytest.raises(ValueError, match="handshake"):
            mgr.connect_ws("ws://127.0.0.1:1/", None, headers={name: "x"})
    with pytest.raises(ValueError, match="control"):
        mgr.connect_ws("ws://127.0.0.1:1/", None, headers={"X-A": "a\r\nX-B: b"})
    with pytest.raises(ValueError, match="subprotocol"):
        mgr.connect_ws("ws://127.0.0.1:1/", None, protocol="a b")
    with pytest.raises(ValueError, match="subprotocol"):
        mgr.connect_ws("ws://127.0.0.1:1/", None, protocol=["ok", "bad\r\n"])
    with pytest.raises(TypeError):
        mgr.connect_ws("ws://127.0.0.1:1/", None, protocol=[1])
    with pytest.raises(TypeError):
        mgr.connect_ws("ws://127.0.0.1:1/", None, protocol=b"chat")
    with pytest.raises(TypeError):
        mgr.connect_ws("ws://127.0.0.1:1/", 42)
    assert mgr.connections == []


def test_connect_ws_subprotocol_forms(mgr):
    server = Log()
    listener = mgr.bind("tcp://127.0.0.1:0", server, http=True)
    client = Log()
    forms = ["chat", " chat , superchat ", ["chat", "superchat"], ("chat",)]
    for form in forms:
        mgr.connect_ws(ws_url(listener), client, protocol=form)
    poll_until(mgr, lambda: len(client.of(EV_WEBSOCKET_HANDSHAKE_DONE)) == len(forms))
    offers = [m.header("Sec-WebSocket-Protocol") for m in server.of(EV_WEBSOCKET_HANDSHAKE_DONE)]
    assert sorted(offers) == sorted(["chat", "chat, superchat", "chat, superchat", "chat"])
    assert {m.header("Sec-WebSocket-Protocol") for m in client.of(112)} == {"chat"}


def test_connect_ws_refused_connection(mgr):
    from conftest import refused_port

    client = Log()
    with refused_port() as port:
        conn = mgr.connect_ws(f"ws://127.0.0.1:{port}/", client)
        poll_until(mgr, lambda: conn.closed)
    kinds = [ev for _, ev, _ in client.events]
    assert kinds[0] == mgio.EV_CONNECT and client.events[0][2] != 0 and kinds[-1] == EV_CLOSE
    assert EV_WEBSOCKET_HANDSHAKE_DONE not in kinds


def test_user_info_in_the_url_sends_basic_auth(mgr):
    server = Log()
    listener = mgr.bind("tcp://127.0.0.1:0", server, http=True)
    conn = mgr.connect_ws(f"ws://us%20er:p%3Ass@127.0.0.1:{port_of(listener)}/p?q=1", None)
    poll_until(mgr, lambda: conn.is_websocket)
    (req,) = server.of(EV_WEBSOCKET_HANDSHAKE_DONE)
    import base64

    assert req.header("Authorization") == "Basic " + base64.b64encode(b"us er:p:ss").decode()
    assert (req.uri, req.query_string) == ("/p", "q=1")


# ---- refusals and handler errors -------------------------------------------------------


def test_server_refuses_the_upgrade(mgr):
    def server(conn, ev, msg):
        if ev == EV_WEBSOCKET_HANDSHAKE_REQUEST and msg.uri == "/private":
            conn.send_error(403)

    client = Log()
    listener = mgr.bind("tcp://127.0.0.1:0", server, http=True)
    conn = mgr.connect_ws(ws_url(listener, "/private"), client)
    poll_until(mgr, lambda: conn.closed)
    (reply,) = client.of(EV_WEBSOCKET_HANDSHAKE_DONE)
    assert reply.status == 403 and not conn.is_websocket
    assert client.of(EV_WEBSOCKET_FRAME) == []


def test_handler_error_in_handshake_request_answers_500(mgr):
    def server(conn, ev, msg):
        if ev == EV_WEBSOCKET_HANDSHAKE_REQUEST:
            raise RuntimeError("boom")

    client = Log()
    listener = mgr.bind("tcp://127.0.0.1:0", server, http=True)
    conn = mgr.connect_ws(ws_url(listener), client)
    with pytest.raises(RuntimeError, match="boom"):
        poll_until(mgr, lambda: conn.closed)
    poll_until(mgr, lambda: conn.closed)
    (reply,) = client.of(EV_WEBSOCKET_HANDSHAKE_DONE)
    assert reply.status == 500


def test_handler_error_on_a_frame_closes_with_1011(mgr):
    def server(conn, ev, msg):
        if ev == EV_WEBSOCKET_FRAME:
            raise KeyError("bad frame")

    client = Log()
    conn = open_pair(mgr, server, client)
    conn.send_ws("hi")
    with pytest.raises(KeyError):
        poll_until(mgr, lambda: conn.closed)
    poll_until(mgr, lambda: conn.closed)
    (close,) = client.of(EV_WEBSOCKET_CONTROL_FRAME)
    assert close.close_code == 1011


def test_idle_ping_keeps_the_connection_alive(mgr):
    client = Log()
    server = Log()
    listener = mgr.bind("tcp://127.0.0.1:0", server, http=True)
    listener.set_limits(ws_ping_interval=0.05)
    conn = mgr.connect_ws(ws_url(listener), client)
    conn.set_limits(ws_ping_interval=0)
    poll_until(mgr, lambda: conn.is_websocket)
    poll_until(mgr, lambda: len(server.of(EV_WEBSOCKET_CONTROL_FRAME)) >= 2, timeout=5)
    pings = client.of(EV_WEBSOCKET_CONTROL_FRAME)
    assert pings and all(m.opcode is WsOp.PING for m in pings)
    pongs = server.of(EV_WEBSOCKET_CONTROL_FRAME)
    assert all(m.opcode is WsOp.PONG for m in pongs)
    assert conn.is_websocket


def _silent_peer(mgr, listener) -> tuple[socket.socket, mgio.Connection]:
    """A raw client that upgrades and then sends nothing, and the server's connection."""
    server_conns: list[mgio.Connection] = []
    listener.handler = lambda c, ev, m: ev == EV_WEBSOCKET_HANDSHAKE_DONE and server_conns.append(c)
    s = socket.create_connection(("127.0.0.1", port_of(listener)), timeout=5)
    s.sendall(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    poll_until(mgr, lambda: server_conns)
    return s, server_conns[0]


def test_close_timeout_when_the_peer_never_answers(mgr):
    listener = mgr.bind("tcp://127.0.0.1:0", Log(), http=True)
    listener.set_limits(ws_close_timeout=0.1)
    s, conn = _silent_peer(mgr, listener)
    with s:
        conn.ws_close(1001)
        poll_until(mgr, lambda: conn.closed, timeout=3)


def test_ping_timeout_closes_a_silent_peer(mgr):
    """ws_ping_timeout: no input after the idle Ping -> Close 1011, then the close."""
    listener = mgr.bind("tcp://127.0.0.1:0", Log(), http=True)
    listener.set_limits(ws_ping_interval=0.05, ws_ping_timeout=0.1)
    assert listener.limits["ws_ping_timeout"] == 0.1
    s, conn = _silent_peer(mgr, listener)
    with s:
        poll_until(mgr, lambda: conn.closed, timeout=3)
        got = b""
        while b"keepalive ping timeout" not in got:
            chunk = s.recv(4096)
            assert chunk, got
            got += chunk
        # the 101, the Ping (0x89 0x00), then Close 1011 with its reason
        assert b"\x89\x00\x88\x18\x03\xf3keepalive ping timeout" in got
