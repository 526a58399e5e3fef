"""The mgio WebSocket clients - Manager.connect_ws with a Handler, and
mgio.aio.connect_ws - against real servers: the `websockets` library
(websockets.asyncio.server.serve) and aiohttp (web.WebSocketResponse), each with and
without permessage-deflate.

The servers run on an asyncio loop on a background thread (conftest.LoopThread) while the
test thread polls the mgio manager, or (aio tests) in the test's own loop; every wait is
bounded.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any

import aiohttp
import mgio
import mgio.aio
import pytest
from aiohttp import web
from conftest import LoopThread, poll_until, ws_payload
from mgio import (
    EV_CLOSE,
    EV_WEBSOCKET_CONTROL_FRAME,
    EV_WEBSOCKET_FRAME,
    EV_WEBSOCKET_HANDSHAKE_DONE,
    WsOp,
)
from websockets.asyncio.server import serve as websockets_serve
from websockets.datastructures import Headers as WsHeaders
from websockets.http11 import Response as WsResponse

SIZES = [0, 125, 126, 65535, 65536, 1 << 20]
BIG = 16 << 20
PEERS = ["websockets", "aiohttp"]
DEFLATE = [pytest.param(False, id="plain"), pytest.param(True, id="deflate")]


# ---- the servers -------------------------------------------------------------------------


class Record:
    """What a test server saw: the Close codes and reasons it received, the Pongs it got,
    the upgrade requests' headers."""

    def __init__(self) -> None:
        self.closes: list[tuple[int | None, str]] = []
        self.pongs: list[bytes] = []
        self.headers: list[dict[str, str]] = []
        self.extensions: list[str] = []


async def _command(msg: str, send: Any, close: Any, ping: Any, fragments: Any) -> bool:
    """Runs a "cmd:..." text command of a test server; False when it is not one."""
    if not msg.startswith("cmd:"):
        return False
    cmd, _, arg = msg[4:].partition(" ")
    if cmd == "close":
        code, _, reason = arg.partition(" ")
        await close(int(code), reason)
    elif cmd == "frag":
        await fragments([ws_payload("text", 10)] * int(arg))
    elif cmd == "ping":
        await ping(arg.encode())
    elif cmd == "big":
        await send(b"x" * int(arg))
    return True


@contextlib.asynccontextmanager
async def websockets_server(deflate: bool, record: Record, **kw: Any):
    """A websockets echo server (with the test commands); yields its ws:// URL."""

    async def handler(ws: Any) -> None:
        record.headers.append(dict(ws.request.headers.raw_items()))
        record.extensions.append(ws.response.headers.get("Sec-WebSocket-Extensions", ""))

        async def ping(data: bytes) -> None:
            waiter = await ws.ping(data)
            await asyncio.wait_for(waiter, 5)
            record.pongs.append(data)
            await ws.send("pong received")

        try:
            async for msg in ws:
                if isinstance(msg, str) and await _command(msg, ws.send, ws.close, ping, ws.send):
                    continue
                await ws.send(msg)
        except Exception:
            pass
        finally:
            record.closes.append((ws.close_code, ws.close_reason or ""))

    async def refuse(connection: Any, request: Any) -> Any:
        if request.path == "/refuse":
            return WsResponse(403, "Forbidden", WsHeaders([("Content-Length", "0")]), b"")
        return None

    async with websockets_serve(
        handler,
        "127.0.0.1",
        0,
        compression="deflate" if deflate else None,
        max_size=None,
        process_request=refuse,
        **kw,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/echo"


@contextlib.asynccontextmanager
async def aiohttp_server(deflate: bool, record: Record, protocols: tuple[str, ...] = ()):
    """An aiohttp echo server (with the test commands); yields its ws:// URL."""

    async def handle(request: web.Request) -> Any:
        if request.path == "/refuse":
            return web.Response(status=403)
        record.headers.append(dict(request.headers))
        ws = web.WebSocketResponse(
            compress=deflate, max_msg_size=0, protocols=protocols, autoping=False
        )
        await ws.prepare(request)

        async def close(code: int, reason: str) -> None:
            await ws.close(code=code, message=reason.encode())

        async def ping(data: bytes) -> None:
            await ws.ping(data)

        async def fragments(parts: list[str]) -> None:
            await ws.send_str("".join(parts))  # aiohttp cannot send fragments

        while True:
            msg = await ws.receive(timeout=30)
            if msg.type == aiohttp.WSMsgType.TEXT:
                if not await _command(msg.data, ws.send_bytes, close, ping, fragments):
                    await ws.send_str(msg.data)
            elif msg.type == aiohttp.WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
            elif msg.type == aiohttp.WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type == aiohttp.WSMsgType.PONG:
                record.pongs.append(msg.data)
                await ws.send_str("pong received")
            else:
                if msg.type == aiohttp.WSMsgType.CLOSE:
                    record.closes.append((msg.data, msg.extra or ""))
                else:
                    record.closes.append((ws.close_code, ""))
                break
        await ws.close()
        return ws

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"ws://127.0.0.1:{port}/echo"
    finally:
        await runner.cleanup()


def peer_server(peer: str, deflate: bool, record: Record, **kw: Any) -> Any:
    if peer == "websockets":
        return websockets_server(deflate, record, **kw)
    return aiohttp_server(deflate, record, **kw)


@contextlib.contextmanager
def background_server(
    mgr: mgio.Manager, peer: str, deflate: bool, **kw: Any
) -> Iterator[tuple[str, Record]]:
    """The peer's server on a LoopThread for the block; yields (url, record). At exit
    the clients of `mgr` are dropped first (nothing polls them while the server stops,
    so a closing handshake could not finish)."""
    record = Record()
    with LoopThread() as lt:
        cm = peer_server(peer, deflate, record, **kw)
        url = lt.run(cm.__aenter__())
        try:
            yield url, record
        finally:
            for conn in mgr.connections:
                conn.close(immediately=True)
            mgr.poll(0)
            lt.run(cm.__aexit__(None, None, None))


# ---- the synchronous client: Manager.connect_ws + a Handler ----------------------------


class Client(mgio.Handler):
    """Records the events of one mgio client connection."""

    def __init__(self) -> None:
        self.reply: mgio.HttpMessage | None = None
        self.messages: list[mgio.WebSocketMessage] = []
        self.controls: list[mgio.WebSocketMessage] = []
        self.closed = False

    def on_ws_open(self, conn, msg):
        self.reply = msg

    def on_ws_message(self, conn, msg):
        self.messages.append(msg)

    def on_ws_control(self, conn, msg):
        self.controls.append(msg)

    def on_close(self, conn):
        self.closed = True


def open_client(
    mgr: mgio.Manager, url: str, deflate: bool, **kw: Any
) -> tuple[mgio.Connection, Client]:
    client = Client()
    conn = mgr.connect_ws(url, client, deflate=deflate, **kw)
    poll_until(mgr, lambda: client.reply is not None or client.closed, what="the handshake")
    assert client.reply is not None and client.reply.status == 101
    return conn, client


def next_message(mgr: mgio.Manager, client: Client, timeout: float = 10.0) -> mgio.WebSocketMessage:
    poll_until(mgr, lambda: client.messages or client.closed, timeout=timeout, what="a message")
    assert client.messages, "closed instead"
    return client.messages.pop(0)


@pytest.mark.parametrize("deflate", DEFLATE)
@pytest.mark.parametrize("peer", PEERS)
def test_sync_echo_sizes(mgr, peer, deflate):
    with background_server(mgr, peer, deflate) as (url, _):
        conn, client = open_client(mgr, url, deflate)
        assert client.reply is not None
        extensions = client.reply.header("Sec-WebSocket-Extensions") or ""
        assert ("permessage-deflate" in extensions) is deflate
        for kind in ("text", "binary"):
            for n in SIZES:
                payload = ws_payload(kind, n)
                conn.send_ws(payload)
                msg = next_message(mgr, client)
                assert msg.is_text is (kind == "text")
                assert (msg.text if kind == "text" else msg.data) == payload, (kind, n)
        conn.ws_close()
        poll_until(mgr, lambda: client.closed)


@pytest.mark.parametrize("deflate", DEFLATE)
@pytest.mark.parametrize("peer", PEERS)
def test_sync_16_mib_with_a_raised_limit(mgr, peer, deflate):
    with background_server(mgr, peer, deflate) as (url, _):
        conn, client = open_client(mgr, url, deflate)
        conn.set_limits(ws_max_message=BIG)
        payload = ws_payload("binary", BIG)
        conn.send_ws(payload)
        assert next_message(mgr, client, 30).data == payload


@pytest.mark.parametrize("deflate", DEFLATE)
@pytest.mark.parametrize("peer", PEERS)
def test_sync_1000_round_trips(mgr, peer, deflate):
    with background_server(mgr, peer, deflate) as (url, _):
        conn, client = open_client(mgr, url, deflate)
        for i in range(1000):
            conn.send_ws(f"round trip {i}" * (i % 5 + 1))
            assert next_message(mgr, client).text == f"round trip {i}" * (i % 5 + 1)


@pytest.mark.parametrize("deflate", DEFLATE)
@pytest.mark.parametrize("peer", PEERS)
def test_sync_fragments(mgr, peer, deflate):
    with background_server(mgr, peer, deflate) as (url, _):
        conn, client = open_client(mgr, url, deflate)
        conn.send_ws("début ", fin=False)
        conn.send_ws(b"ping between", WsOp.PING)
        conn.send_ws("€".encode()[:2], WsOp.CONTINUE, fin=False)
        conn.send_ws("€".encode()[2:] + b" fin", WsOp.CONTINUE)
        assert next_message(mgr, client).text == "début € fin"
        conn.send_ws(b"\x00" * 100000, fin=False)
        conn.send_ws(b"\x01" * 100000, WsOp.CONTINUE)
        assert next_message(mgr, client).data == b"\x00" * 100000 + b"\x01" * 100000
        conn.send_ws("cmd:frag 6")  # websockets sends 6 fragments (+ an empty last one)
        assert next_message(mgr, client).text == ws_payload("text", 10) * 6


@pytest.mark.parametrize("deflate", DEFLATE)
@pytest.mark.parametrize("peer", PEERS)
def test_sync_ping_pong(mgr, peer, deflate):
    with background_server(mgr, peer, deflate) as (url, record):
        conn, client = open_client(mgr, url, deflate)
        conn.send_ws(b"mgio ping", WsOp.PING)
        poll_until(mgr, lambda: client.controls)
        pong = client.controls.pop()
        assert pong.opcode is WsOp.PONG and pong.data == b"mgio ping"
        conn.send_ws("cmd:ping server ping")  # mgio answers the server's Ping itself
        assert next_message(mgr, client).text == "pong received"
        assert record.pongs == [b"server ping"]
        (ping,) = client.controls
        assert ping.opcode is WsOp.PING and ping.data == b"server ping"


@pytest.mark.parametrize("deflate", DEFLATE)
@pytest.mark.parametrize("peer", PEERS)
def test_sync_client_closes(mgr, peer, deflate):
    with background_server(mgr, peer, deflate) as (url, record):
        conn, client = open_client(mgr, url, deflate)
        conn.ws_close(4005, "mgio says bye ✓")
        poll_until(mgr, lambda: client.closed)
        (close,) = client.controls
        # websockets echoes the code; aiohttp answers with 1000
        assert close.opcode is WsOp.CLOSE
        assert close.close_code == (4005 if peer == "websockets" else 1000)
        poll_until(mgr, lambda: record.closes)
        assert record.closes == [(4005, "mgio says bye ✓")]


@pytest.mark.parametrize("deflate", DEFLATE)
@pytest.mark.parametrize("peer", PEERS)
def test_sync_server_closes(mgr, peer, deflate):
    with background_server(mgr, peer, deflate) as (url, record):
        conn, client = open_client(mgr, url, deflate)
        conn.send_ws("cmd:close 4006 server says bye ✓")
        poll_until(mgr, lambda: client.closed)
        (close,) = client.controls
        assert (close.close_code, close.close_reason) == (4006, "server says bye ✓")
        assert client.messages == []
        poll_until(mgr, lambda: record.closes)
        if peer == "websockets":
            assert record.closes == [(4006, "")]  # mgio echoed the code


@pytest.mark.parametrize("peer", PEERS)
def test_sync_subprotocol(mgr, peer):
    kw = {"subprotocols": ["chat"]} if peer == "websockets" else {"protocols": ("chat",)}
    with background_server(mgr, peer, False, **kw) as (url, record):
        conn, client = open_client(mgr, url, False, protocol=["superchat", "chat"])
        assert client.reply is not None
        assert client.reply.header("Sec-WebSocket-Protocol") == "chat"
        conn.ws_close()
        poll_until(mgr, lambda: client.closed)
    sent = {k.lower(): v for k, v in record.headers[0].items()}
    assert sent["sec-websocket-protocol"] == "superchat, chat"


@pytest.mark.parametrize("peer", PEERS)
def test_sync_headers_reach_the_server(mgr, peer):
    with background_server(mgr, peer, False) as (url, record):
        conn, client = open_client(mgr, url, False, headers=[("X-One", "1"), ("X-Two", "zwei")])
        conn.ws_close()
        poll_until(mgr, lambda: client.closed)
    sent = {k.lower(): v for k, v in record.headers[0].items()}
    assert (sent["x-one"], sent["x-two"]) == ("1", "zwei")
    assert "permessage-deflate" not in sent.get("sec-websocket-extensions", "")


@pytest.mark.parametrize("peer", PEERS)
def test_sync_refused_upgrade(mgr, peer):
    with background_server(mgr, peer, False) as (url, _):
        client = Client()
        conn = mgr.connect_ws(url.replace("/echo", "/refuse"), client)
        poll_until(mgr, lambda: client.closed)
        assert client.reply is not None and client.reply.status == 403
        assert not conn.is_websocket


@pytest.mark.parametrize("peer", PEERS)
def test_sync_message_over_the_client_limit(mgr, peer):
    with background_server(mgr, peer, False) as (url, record):
        conn, client = open_client(mgr, url, False)
        conn.set_limits(ws_max_message=1000)
        conn.send_ws("cmd:big 1000")
        assert len(next_message(mgr, client)) == 1000
        conn.send_ws("cmd:big 1001")
        poll_until(mgr, lambda: client.closed)
        assert client.messages == []
        poll_until(mgr, lambda: record.closes)
        assert record.closes[0][0] == 1009


# ---- the asyncio client: mgio.aio.connect_ws -------------------------------------------


def run(coro: Any, timeout: float = 60.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


@pytest.mark.parametrize("deflate", DEFLATE)
@pytest.mark.parametrize("peer", PEERS)
def test_aio_echo_sizes_16_mib_and_round_trips(peer, deflate):
    async def main() -> None:
        record = Record()
        async with peer_server(peer, deflate, record) as url:
            async with mgio.aio.connect_ws(url, deflate=deflate, max_message=BIG) as ws:
                assert ws.response is not None and ws.response.status == 101
                assert (
                    "permessage-deflate" in (ws.response.header("Sec-WebSocket-Extensions") or "")
                ) is deflate
                for kind in ("text", "binary"):
                    for n in [*SIZES, BIG]:
                        payload = ws_payload(kind, n)
                        await ws.send(payload)
                        msg = await ws.recv(timeout=30)
                        assert (msg.text if kind == "text" else msg.data) == payload
                for i in range(1000):
                    await ws.send(f"aio {i}")
                    assert (await ws.recv(timeout=5)).text == f"aio {i}"
            assert ws.closed and ws.close_code == 1000
            for _ in range(100):
                if record.closes:
                    break
                await asyncio.sleep(0.01)
            assert record.closes == [(1000, "")]

    run(main(), 120)


@pytest.mark.parametrize("deflate", DEFLATE)
@pytest.mark.parametrize("peer", PEERS)
def test_aio_fragments_ping_and_close(peer, deflate):
    async def main() -> None:
        record = Record()
        async with peer_server(peer, deflate, record) as url:
            async with mgio.aio.connect_ws(url, deflate=deflate) as ws:
                await ws.send("frag", fin=False)
                await ws.send(b"ments", WsOp.CONTINUE)
                assert (await ws.recv(timeout=5)).text == "fragments"
                await ws.send("cmd:frag 3")
                assert (await ws.recv(timeout=5)).text == ws_payload("text", 10) * 3
                rtt = await ws.ping(timeout=5)
                assert 0 <= rtt < 5
                await ws.send("cmd:ping hello")
                assert (await ws.recv(timeout=5)).text == "pong received"
                await ws.close(4010, "aio bye")
                # the peer's answering Close: websockets echoes the code, aiohttp says 1000
                assert ws.closed and ws.close_code == (4010 if peer == "websockets" else 1000)
                with pytest.raises(mgio.WebSocketClosed):
                    await ws.recv()
                with pytest.raises(mgio.WebSocketClosed):
                    await ws.send("after close")
            for _ in range(100):
                if record.closes:
                    break
                await asyncio.sleep(0.01)
            assert record.closes == [(4010, "aio bye")]
            assert record.pongs == [b"hello"]

    run(main())


@pytest.mark.parametrize("peer", PEERS)
def test_aio_server_close_ends_iteration_or_raises(peer):
    async def main() -> None:
        record = Record()
        async with peer_server(peer, False, record) as url:
            async with mgio.aio.connect_ws(url) as ws:
                await ws.send("before")
                await ws.send("cmd:close 1000 normal")
                assert [m.text async for m in ws] == ["before"]
                assert (ws.close_code, ws.close_reason) == (1000, "normal")
            async with mgio.aio.connect_ws(url) as ws:
                await ws.send("cmd:close 4011 abnormal")
                with pytest.raises(mgio.WebSocketClosed) as info:
                    async for _ in ws:
                        pass
                assert (info.value.code, info.value.reason) == (4011, "abnormal")
                assert not info.value.ok

    run(main())


@pytest.mark.parametrize("peer", PEERS)
def test_aio_subprotocol_headers_and_refusal(peer):
    async def main() -> None:
        record = Record()
        kw = {"subprotocols": ["chat"]} if peer == "websockets" else {"protocols": ("chat",)}
        async with peer_server(peer, False, record, **kw) as url:
            async with mgio.aio.connect_ws(
                url, protocol=["v9", "chat"], headers={"X-Hello": "world"}
            ) as ws:
                assert ws.subprotocol == "chat"
            assert record.headers[0].get("X-Hello") == "world"
            with pytest.raises(mgio.WebSocketHandshakeError) as info:
                await mgio.aio.connect_ws(url.replace("/echo", "/refuse"))
            assert info.value.status == 403

    run(main())


@pytest.mark.parametrize("peer", PEERS)
def test_aio_message_over_the_limit(peer):
    async def main() -> None:
        record = Record()
        async with peer_server(peer, False, record) as url:
            async with mgio.aio.connect_ws(url, max_message=100) as ws:
                await ws.send("cmd:big 101")
                with pytest.raises(mgio.WebSocketClosed):
                    await ws.recv(timeout=5)
            for _ in range(100):
                if record.closes:
                    break
                await asyncio.sleep(0.01)
            assert record.closes[0][0] == 1009

    run(main())


async def silent_server() -> tuple[asyncio.Server, list[asyncio.StreamWriter]]:
    """A server that accepts and never answers; its writers, to close at the end (from
    Python 3.12.1, leaving `async with server` waits until every connection is gone)."""
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)

    return await asyncio.start_server(silent, "127.0.0.1", 0), writers


def close_silent(server: asyncio.Server, writers: list[asyncio.StreamWriter]) -> None:
    server.close()
    for w in writers:
        w.close()


def test_aio_connect_errors():
    async def main() -> None:
        from conftest import refused_port

        with refused_port() as port:
            with pytest.raises(ConnectionError):
                await mgio.aio.connect_ws(f"ws://127.0.0.1:{port}/")
        with pytest.raises(ValueError):
            await mgio.aio.connect_ws("wss://127.0.0.1:1/")
        with pytest.raises(ValueError):
            await mgio.aio.connect_ws("ws://127.0.0.1:1/", headers={"Upgrade": "x"})

        # a server that accepts and never answers: the open timeout
        server, writers = await silent_server()
        port = server.sockets[0].getsockname()[1]
        async with server:
            with pytest.raises(TimeoutError):
                await mgio.aio.connect_ws(f"ws://127.0.0.1:{port}/", open_timeout=0.2)
            close_silent(server, writers)

    run(main(), 20)


def test_aio_connect_is_cancellable():
    async def main() -> None:
        server, writers = await silent_server()
        port = server.sockets[0].getsockname()[1]
        async with server:

            async def go() -> Any:
                return await mgio.aio.connect_ws(f"ws://127.0.0.1:{port}/")

            task = asyncio.create_task(go())
            await asyncio.sleep(0.1)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            close_silent(server, writers)

    run(main(), 20)


def test_sync_events_after_close_are_done(mgr):
    """The last event of a client is EV_CLOSE, after the Close control frame."""
    kinds: list[int] = []
    with background_server(mgr, "websockets", False) as (url, _):
        conn = mgr.connect_ws(url, lambda c, ev, d: kinds.append(ev))
        poll_until(mgr, lambda: conn.is_websocket)
        conn.ws_close(1000)
        poll_until(mgr, lambda: conn.closed)
    assert kinds[0] == mgio.EV_CONNECT and kinds[-1] == EV_CLOSE
    assert kinds.index(EV_WEBSOCKET_HANDSHAKE_DONE) < kinds.index(EV_WEBSOCKET_CONTROL_FRAME)
    assert EV_WEBSOCKET_FRAME not in kinds
