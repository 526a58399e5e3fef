"""The mgio WebSocket server (Manager.bind(..., http=True) with a Handler) against real
clients: the `websockets` library (sync and asyncio clients) and aiohttp's
ClientSession.ws_connect, each with and without permessage-deflate.

The server runs on a background thread (conftest.ServerThread); every wait is bounded.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any

import aiohttp
import mgio
import pytest
import websockets
from conftest import ServerThread, recv_until_closed, wait_for, ws_payload
from mgio import WsOp
from websockets.sync.client import ClientConnection
from websockets.sync.client import connect as ws_connect

SIZES = [0, 125, 126, 65535, 65536, 1 << 20]
BIG = 16 << 20
COMPRESSION = [pytest.param(None, id="plain"), pytest.param("deflate", id="deflate")]
AIOHTTP_COMPRESS = [pytest.param(0, id="plain"), pytest.param(15, id="deflate")]


class WsServer(mgio.Handler):
    """Echoes every message (same opcode, no copy into Python); text commands:
    "cmd:close CODE REASON" closes, "cmd:frag N" answers with a message in N fragments,
    "cmd:ping PAYLOAD" sends a Ping. Records what it sees (read from the test thread
    once it has waited for it)."""

    def __init__(self) -> None:
        self.requests: list[mgio.HttpMessage] = []
        self.opened = 0
        self.controls: list[tuple[int, bytes, int | None, str | None]] = []
        self.messages = 0
        self.closed = 0
        self.lock = threading.Lock()

    def on_ws_handshake_request(self, conn, msg):
        if msg.uri == "/refuse":
            conn.send_error(403)
        elif msg.uri == "/old":
            conn.send_error(426)

    def on_ws_open(self, conn, msg):
        self.requests.append(msg)
        self.opened += 1

    def on_ws_message(self, conn, msg):
        self.messages += 1
        if msg.is_text and len(msg) < 200 and msg.data.startswith(b"cmd:"):
            cmd, _, arg = msg.text[4:].partition(" ")
            if cmd == "close":
                code, _, reason = arg.partition(" ")
                conn.ws_close(int(code), reason)
            elif cmd == "frag":
                n = int(arg)
                conn.send_ws(ws_payload("text", 10), fin=False)
                for i in range(1, n):
                    conn.send_ws(ws_payload("text", 10), WsOp.CONTINUE, fin=i == n - 1)
            elif cmd == "ping":
                conn.send_ws(arg, WsOp.PING)
            return
        conn.send_ws(msg)

    def on_ws_control(self, conn, msg):
        self.controls.append((msg.opcode, msg.data, msg.close_code, msg.close_reason))

    def on_close(self, conn):
        self.closed += 1


def serve(limits: dict[str, Any] | None = None) -> tuple[ServerThread, WsServer]:
    handler = WsServer()
    setup = (lambda listener: listener.set_limits(**limits)) if limits else None
    return ServerThread(handler, setup=setup), handler


def ws_url(srv: ServerThread, path: str = "/echo") -> str:
    return f"ws://127.0.0.1:{srv.port}{path}"


def sync_client(srv: ServerThread, compression: str | None, path: str = "/echo", **kw: Any):
    kw.setdefault("max_size", None)
    return ws_connect(
        ws_url(srv, path),
        compression=compression,
        proxy=None,
        open_timeout=5,
        close_timeout=5,
        **kw,
    )


def negotiated_deflate(ws: ClientConnection) -> bool:
    return "permessage-deflate" in ws.response.headers.get("Sec-WebSocket-Extensions", "")


# ---- the websockets library (sync client) ---------------------------------------------


@pytest.mark.parametrize("compression", COMPRESSION)
@pytest.mark.parametrize("kind", ["text", "binary"])
def test_websockets_echo_sizes(compression, kind):
    srv, handler = serve()
    with srv, sync_client(srv, compression) as ws:
        assert negotiated_deflate(ws) is (compression is not None)
        for n in SIZES:
            payload = ws_payload(kind, n)
            ws.send(payload)
            assert ws.recv(timeout=10) == payload, n
    assert handler.messages == len(SIZES)


@pytest.mark.parametrize("compression", COMPRESSION)
def test_websockets_16_mib_with_a_raised_limit(compression):
    srv, _ = serve({"ws_max_message": BIG})
    with srv, sync_client(srv, compression) as ws:
        for kind in ("binary", "text"):
            payload = ws_payload(kind, BIG)
            ws.send(payload)
            assert ws.recv(timeout=30) == payload


@pytest.mark.parametrize("compression", COMPRESSION)
def test_websockets_1000_round_trips(compression):
    srv, handler = serve()
    with srv, sync_client(srv, compression) as ws:
        for i in range(1000):
            msg = f"message {i} " * (i % 7) if i % 2 else f"{i}".encode() * 20
            ws.send(msg)
            assert ws.recv(timeout=5) == msg
    assert handler.messages == 1000


@pytest.mark.parametrize("compression", COMPRESSION)
def test_websockets_1000_messages_pipelined(compression):
    srv, _ = serve()
    with srv, sync_client(srv, compression) as ws:
        sent = [f"pipelined {i}" for i in range(1000)]
        for m in sent:
            ws.send(m)
        assert [ws.recv(timeout=5) for _ in sent] == sent


@pytest.mark.parametrize("compression", COMPRESSION)
def test_websockets_fragments_both_ways(compression):
    srv, _ = serve()
    with srv, sync_client(srv, compression) as ws:
        # client -> server: an iterable is sent as fragments; mgio reassembles it
        parts = ["frag", "ment€"[:3], "ment€"[3:], ws_payload("text", 70000)]
        ws.send(iter(parts))
        assert ws.recv(timeout=5) == "".join(parts)
        ws.send(iter([b"a" * 10, b"", b"b" * 200000]))
        assert ws.recv(timeout=5) == b"a" * 10 + b"b" * 200000
        # server -> client: send_ws(fin=False), then CONTINUE frames
        ws.send("cmd:frag 5")
        assert ws.recv(timeout=5) == ws_payload("text", 10) * 5


@pytest.mark.parametrize("compression", COMPRESSION)
def test_websockets_ping_pong_both_ways(compression):
    srv, handler = serve()
    with srv, sync_client(srv, compression, ping_interval=None) as ws:
        pong = ws.ping(b"client ping")
        assert pong.wait(5)
        ws.send("cmd:ping server ping")
        ws.send("sync")  # the client answers the Ping before it reads this echo
        assert ws.recv(timeout=5) == "sync"
        wait_for(lambda: any(c[0] == WsOp.PONG for c in handler.controls))
    assert (WsOp.PING, b"client ping", None, None) in handler.controls
    assert (WsOp.PONG, b"server ping", None, None) in handler.controls


@pytest.mark.parametrize("compression", COMPRESSION)
def test_websockets_client_closes_with_code_and_reason(compression):
    srv, handler = serve()
    with srv:
        with sync_client(srv, compression) as ws:
            ws.send("x")
            ws.recv(timeout=5)
            ws.close(4123, "client says bye ✓")
            assert ws.close_code == 4123  # the server echoed the code
        wait_for(lambda: handler.closed == 1)
    (close,) = [c for c in handler.controls if c[0] == WsOp.CLOSE]
    assert close[2:] == (4123, "client says bye ✓")


@pytest.mark.parametrize("compression", COMPRESSION)
def test_websockets_server_closes_with_code_and_reason(compression):
    srv, handler = serve()
    with srv, sync_client(srv, compression) as ws:
        ws.send("cmd:close 4001 server says bye ✓")
        with pytest.raises(websockets.ConnectionClosed) as info:
            ws.recv(timeout=5)
        assert info.value.rcvd.code == 4001
        assert info.value.rcvd.reason == "server says bye ✓"
        wait_for(lambda: handler.closed == 1)
    (close,) = [c for c in handler.controls if c[0] == WsOp.CLOSE]
    assert close[2] == 4001  # the client's answering Close


def test_websockets_normal_close_is_closed_ok():
    srv, _ = serve()
    with srv, sync_client(srv, None) as ws:
        ws.send("cmd:close 1000 done")
        with pytest.raises(websockets.ConnectionClosedOK):
            ws.recv(timeout=5)
        assert ws.close_code == 1000 and ws.close_reason == "done"


def test_websockets_subprotocol_negotiation():
    srv, handler = serve()
    with srv:
        with sync_client(srv, None, subprotocols=["chat", "superchat"]) as ws:
            assert ws.subprotocol == "chat"  # mgio takes the client's first choice
        with sync_client(srv, None) as ws:
            assert ws.subprotocol is None
        wait_for(lambda: handler.opened == 2)
    assert handler.requests[0].header("Sec-WebSocket-Protocol") == "chat, superchat"


@pytest.mark.parametrize("compression", COMPRESSION)
def test_websockets_message_over_the_limit_closes_1009(compression):
    srv, handler = serve({"ws_max_message": 1000})
    with srv, sync_client(srv, compression) as ws:
        ws.send(b"x" * 1000)  # inclusive
        assert ws.recv(timeout=5) == b"x" * 1000
        ws.send(ws_payload("binary", 1001))
        with pytest.raises(websockets.ConnectionClosedError) as info:
            ws.recv(timeout=5)
        assert info.value.rcvd.code == 1009
    assert handler.messages == 1


def test_websockets_default_limit_is_1_mib():
    srv, _ = serve()
    with srv, sync_client(srv, "deflate") as ws:
        ws.send(b"\0" * ((1 << 20) + 1))  # compresses to almost nothing: still 1009
        with pytest.raises(websockets.ConnectionClosedError) as info:
            ws.recv(timeout=5)
        assert info.value.rcvd.code == 1009


def test_websockets_too_many_fragments_closes_1009():
    # websockets sends an iterable as one frame per item, then an empty final one
    srv, _ = serve({"ws_max_fragments": 5})
    with srv, sync_client(srv, None) as ws:
        ws.send(iter(["a", "b", "c", "d"]))
        assert ws.recv(timeout=5) == "abcd"
        ws.send(iter(["a", "b", "c", "d", "e"]))
        with pytest.raises(websockets.ConnectionClosedError) as info:
            ws.recv(timeout=5)
        assert info.value.rcvd.code == 1009


class _ChangedHandshake(ClientConnection):
    """A websockets client whose upgrade request is altered by `change(headers)`."""

    change: Any = None

    def handshake(self, *args: Any, **kwargs: Any) -> None:
        original = self.protocol.connect

        def connect() -> Any:
            request = original()
            type(self).change(request.headers)
            return request

        self.protocol.connect = connect  # type: ignore[method-assign]
        super().handshake(*args, **kwargs)


def _set(name: str, value: str) -> Any:
    def change(headers: Any) -> None:
        del headers[name]
        headers[name] = value

    return change


@pytest.mark.parametrize(
    ("change", "status"),
    [
        pytest.param(_set("Sec-WebSocket-Version", "8"), 426, id="version-8"),
        pytest.param(_set("Sec-WebSocket-Key", "not-a-key"), 400, id="bad-key"),
        pytest.param(_set("Connection", "keep-alive"), 400, id="no-connection-upgrade"),
    ],
)
def test_websockets_sees_the_refusal_as_invalid_status(change, status):
    srv, handler = serve()
    connection_class = type("Changed", (_ChangedHandshake,), {"change": staticmethod(change)})
    with srv:
        with pytest.raises(websockets.InvalidStatus) as info:
            sync_client(srv, None, create_connection=connection_class)
        response = info.value.response
        assert response.status_code == status
        if status == 426:
            assert response.headers["Sec-WebSocket-Version"] == "13"
        wait_for(lambda: srv.connections() == 0)
    assert handler.opened == 0


@pytest.mark.parametrize(("path", "status"), [("/refuse", 403), ("/old", 426)])
def test_websockets_sees_a_handler_refusal_as_invalid_status(path, status):
    srv, handler = serve()
    with srv:
        with pytest.raises(websockets.InvalidStatus) as info:
            sync_client(srv, None, path=path)
        assert info.value.response.status_code == status
    assert handler.opened == 0


def test_raw_upgrade_refusals():
    """426 names the version mgio speaks; a malformed upgrade is 400; both close."""
    srv, _ = serve()
    base = (
        "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    )
    with srv:
        for request, status in [
            (base + "Sec-WebSocket-Version: 7\r\n\r\n", 426),
            (base + "\r\n", 400),
            (base.replace("GET", "POST") + "Sec-WebSocket-Version: 13\r\n\r\n", 400),
        ]:
            with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as s:
                s.sendall(request.encode())
                answer = recv_until_closed(s).decode("latin-1")
            assert answer.startswith(f"HTTP/1.1 {status} "), answer
            assert ("Sec-WebSocket-Version: 13" in answer) is (status == 426)


# ---- the websockets library (asyncio client), many at once -----------------------------


def test_websockets_asyncio_clients_in_parallel():
    from websockets.asyncio.client import connect

    srv, handler = serve()

    async def one(i: int) -> list[str]:
        async with connect(ws_url(srv), proxy=None, open_timeout=5) as ws:
            out = []
            for j in range(50):
                await ws.send(f"{i}:{j}")
                out.append(await asyncio.wait_for(ws.recv(), 5))
            return out

    async def main() -> list[list[str]]:
        return await asyncio.gather(*(one(i) for i in range(20)))

    with srv:
        results = asyncio.run(asyncio.wait_for(main(), 30))
        wait_for(lambda: handler.closed == 20)
    assert results == [[f"{i}:{j}" for j in range(50)] for i in range(20)]


# ---- aiohttp ---------------------------------------------------------------------------


def run(coro: Any, timeout: float = 30.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def aiohttp_exchange(url: str, compress: int, body: Any, **kw: Any) -> Any:
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url, compress=compress, max_msg_size=0, **kw) as ws:
            return await body(ws)


@pytest.mark.parametrize("compress", AIOHTTP_COMPRESS)
@pytest.mark.parametrize("kind", ["text", "binary"])
def test_aiohttp_echo_sizes(compress, kind):
    srv, _ = serve()

    async def body(ws: Any) -> None:
        assert ws.compress == compress
        for n in SIZES:
            payload = ws_payload(kind, n)
            if kind == "text":
                await ws.send_str(payload)
            else:
                await ws.send_bytes(payload)
            msg = await ws.receive(timeout=10)
            expected = aiohttp.WSMsgType.TEXT if kind == "text" else aiohttp.WSMsgType.BINARY
            assert msg.type == expected and msg.data == payload, n

    with srv:
        run(aiohttp_exchange(ws_url(srv), compress, body))


@pytest.mark.parametrize("compress", AIOHTTP_COMPRESS)
def test_aiohttp_16_mib_and_1000_round_trips(compress):
    srv, handler = serve({"ws_max_message": BIG})

    async def body(ws: Any) -> None:
        big = ws_payload("binary", BIG)
        await ws.send_bytes(big)
        assert (await ws.receive(timeout=30)).data == big
        for i in range(1000):
            await ws.send_str(f"round trip {i}")
            assert (await ws.receive(timeout=5)).data == f"round trip {i}"

    with srv:
        run(aiohttp_exchange(ws_url(srv), compress, body), 60)
    assert handler.messages == 1001


@pytest.mark.parametrize("compress", AIOHTTP_COMPRESS)
def test_aiohttp_ping_pong_and_close(compress):
    srv, handler = serve()

    async def body(ws: Any) -> tuple[int | None, Any]:
        await ws.ping(b"aiohttp ping")
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.PONG and msg.data == b"aiohttp ping"
        await ws.send_str("cmd:ping from mgio")
        msg = await ws.receive(timeout=5)
        assert msg.type == aiohttp.WSMsgType.PING and msg.data == b"from mgio"
        await ws.pong(msg.data)
        await ws.close(code=4002, message=b"aiohttp bye")
        return ws.close_code, ws.protocol

    with srv:
        code, protocol = run(aiohttp_exchange(ws_url(srv), compress, body, autoping=False))
        wait_for(lambda: handler.closed == 1)
    assert code == 4002 and protocol is None
    assert (WsOp.PING, b"aiohttp ping", None, None) in handler.controls
    assert (WsOp.PONG, b"from mgio", None, None) in handler.controls
    assert (WsOp.CLOSE, b"\x0f\xa2aiohttp bye", 4002, "aiohttp bye") in handler.controls


def test_aiohttp_server_close_and_subprotocol():
    srv, _ = serve()

    async def body(ws: Any) -> tuple[Any, ...]:
        await ws.send_str("cmd:close 4003 see you")
        msg = await ws.receive(timeout=5)
        return ws.protocol, msg.type, msg.data, msg.extra, ws.close_code

    with srv:
        result = run(aiohttp_exchange(ws_url(srv), 0, body, protocols=("v2", "v1")))
    assert result == ("v2", aiohttp.WSMsgType.CLOSE, 4003, "see you", 4003)


def test_aiohttp_message_over_the_limit_closes_1009():
    srv, _ = serve({"ws_max_message": 65536})

    async def body(ws: Any) -> Any:
        await ws.send_bytes(b"x" * 65537)
        msg = await ws.receive(timeout=5)
        return msg.type, msg.data

    with srv:
        assert run(aiohttp_exchange(ws_url(srv), 0, body)) == (aiohttp.WSMsgType.CLOSE, 1009)


def test_aiohttp_refusal_is_a_handshake_error():
    srv, _ = serve()

    async def main() -> int:
        async with aiohttp.ClientSession() as session:
            try:
                await session.ws_connect(ws_url(srv, "/refuse"))
            except aiohttp.WSServerHandshakeError as e:
                return e.status
        return 0

    with srv:
        assert run(main()) == 403
