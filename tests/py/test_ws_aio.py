"""mgio.aio.serve_ws (a coroutine per WebSocket connection) and the asyncio WebSocket
object: real clients (websockets, aiohttp, mgio.aio.connect_ws) in the same loop,
back-pressure both ways, timeouts, cancellation, handler errors, shutdown.

Everything runs in one asyncio loop per test; every wait is bounded."""

from __future__ import annotations

import asyncio
import os
import socket
import time
from typing import Any

import aiohttp
import mgio
import mgio.aio
import pytest
import websockets
from conftest import ws_payload
from mgio import WsOp
from websockets.asyncio.client import connect as websockets_connect

BIG = 16 << 20


def run(coro: Any, timeout: float = 30.0) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


async def echo(ws: mgio.aio.WebSocket) -> None:
    async for msg in ws:
        await ws.send(msg)


async def eventually(predicate: Any, timeout: float = 5.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} not reached within {timeout} s")
        await asyncio.sleep(0.005)


# ---- real clients against serve_ws ---------------------------------------------------


@pytest.mark.parametrize("compression", [None, "deflate"], ids=["plain", "deflate"])
def test_serve_ws_with_websockets_client(compression):
    async def main() -> None:
        async with mgio.aio.serve_ws(echo, max_message=BIG) as server:
            async with websockets_connect(
                server.url, compression=compression, max_size=None, proxy=None
            ) as ws:
                extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
                assert ("permessage-deflate" in extensions) is (compression is not None)
                for kind in ("text", "binary"):
                    for n in (0, 125, 126, 65535, 65536, 1 << 20, BIG):
                        payload = ws_payload(kind, n)
                        await ws.send(payload)
                        assert await asyncio.wait_for(ws.recv(), 30) == payload
                for i in range(1000):
                    await ws.send(f"round trip {i}")
                    assert await asyncio.wait_for(ws.recv(), 5) == f"round trip {i}"
                await ws.send(iter(["frag", "ments"]))
                assert await asyncio.wait_for(ws.recv(), 5) == "fragments"
                pong = await ws.ping(b"hi")
                await asyncio.wait_for(pong, 5)
            assert ws.close_code == 1000
            await eventually(lambda: not server.connections)

    run(main(), 60)


@pytest.mark.parametrize("compress", [0, 15], ids=["plain", "deflate"])
def test_serve_ws_with_aiohttp_client(compress):
    async def main() -> None:
        async with mgio.aio.serve_ws(echo, max_message=BIG) as server:
            async with aiohttp.ClientSession() as session:
                async with session.ws_connect(server.url, compress=compress, max_msg_size=0) as ws:
                    assert ws.compress == compress
                    for n in (0, 125, 126, 65535, 65536, 1 << 20, BIG):
                        await ws.send_bytes(ws_payload("binary", n))
                        msg = await ws.receive(timeout=30)
                        assert msg.type == aiohttp.WSMsgType.BINARY
                        assert msg.data == ws_payload("binary", n)
                        await ws.send_str(ws_payload("text", n))
                        msg = await ws.receive(timeout=30)
                        assert msg.type == aiohttp.WSMsgType.TEXT
                        assert msg.data == ws_payload("text", n)
                    for i in range(1000):
                        await ws.send_str(str(i))
                        assert (await ws.receive(timeout=5)).data == str(i)
                    await ws.close(code=4100, message=b"aiohttp done")
            await eventually(lambda: not server.connections)

    run(main(), 60)


def test_serve_ws_with_mgio_client_and_the_closing_handshake():
    seen: dict[str, Any] = {}

    async def handler(ws: mgio.aio.WebSocket) -> None:
        seen["request"] = ws.request
        seen["subprotocol"] = ws.subprotocol
        assert (await ws.recv(timeout=5)).text == "close me"
        await ws.close(4200, "as you wish ✓")
        seen["close"] = (ws.close_code, ws.close_reason)

    async def main() -> None:
        async with mgio.aio.serve_ws(handler) as server:
            assert server.url == f"ws://127.0.0.1:{server.port}/"
            async with mgio.aio.connect_ws(server.url + "room?x=1", headers={"X-Token": "t"}) as ws:
                await ws.send("close me")
                with pytest.raises(mgio.WebSocketClosed) as info:
                    await ws.recv(timeout=5)
                assert (info.value.code, info.value.reason) == (4200, "as you wish ✓")
            await eventually(lambda: "close" in seen)
        request = seen["request"]
        assert (request.uri, request.query_string, request.header("X-Token")) == (
            "/room",
            "x=1",
            "t",
        )
        assert seen["subprotocol"] is None
        assert seen["close"] == (4200, "")  # mgio's client echoes the code, no reason

    run(main())


@pytest.mark.parametrize(
    ("server_protocols", "offer", "chosen"),
    [
        (None, ["a", "b"], "a"),  # mgio's default: the client's first choice
        (["b"], ["a", "b"], "b"),  # the server's only one
        (["b", "a"], ["a", "b"], "a"),  # the client's order decides among the server's
        (["x"], ["a", "b"], None),  # nothing in common: no subprotocol
        (["x"], None, None),
    ],
)
def test_serve_ws_subprotocols(server_protocols, offer, chosen):
    picked: list[Any] = []

    async def handler(ws: mgio.aio.WebSocket) -> None:
        picked.append(ws.subprotocol)
        await ws.send("hello")

    async def main() -> None:
        async with mgio.aio.serve_ws(handler, subprotocols=server_protocols) as server:
            async with websockets_connect(server.url, subprotocols=offer, proxy=None) as ws:
                assert ws.subprotocol == chosen
                assert await asyncio.wait_for(ws.recv(), 5) == "hello"
                # whichever subprotocol is chosen, compression is still negotiated
                extensions = ws.response.headers.get("Sec-WebSocket-Extensions", "")
                assert extensions.startswith("permessage-deflate")
            # mgio's own client checks the answer too
            async with mgio.aio.connect_ws(server.url, protocol=offer) as mws:
                assert mws.subprotocol == chosen
        assert picked == [chosen, chosen]

    run(main())


def test_serve_ws_refusals():
    def process_request(conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        if msg.header("Authorization") != "Bearer ok":
            conn.send_error(403)

    async def main() -> None:
        async with mgio.aio.serve_ws(echo, process_request=process_request) as server:
            with pytest.raises(websockets.InvalidStatus) as info:
                await websockets_connect(server.url, proxy=None, open_timeout=5)
            assert info.value.response.status_code == 403
            with pytest.raises(mgio.WebSocketHandshakeError) as merr:
                await mgio.aio.connect_ws(server.url)
            assert merr.value.status == 403 and isinstance(merr.value, ConnectionError)
            async with websockets_connect(
                server.url, additional_headers={"Authorization": "Bearer ok"}, proxy=None
            ) as ws:
                await ws.send("in")
                assert await asyncio.wait_for(ws.recv(), 5) == "in"
            # a plain HTTP request to a WebSocket server
            response = await mgio.aio.request("GET", f"http://127.0.0.1:{server.port}/")
            assert response.status == 426 and response.headers["Upgrade"] == "websocket"
            assert not server.connections

    run(main())


# ---- handler ends, errors, shutdown -----------------------------------------------------


def test_handler_return_closes_1000_and_error_closes_1011():
    errors: list[dict[str, Any]] = []

    async def handler(ws: mgio.aio.WebSocket) -> None:
        msg = await ws.recv(timeout=5)
        if msg.text == "fail":
            raise RuntimeError("handler bug")
        await ws.send("bye")

    async def main() -> None:
        asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: errors.append(ctx))
        async with mgio.aio.serve_ws(handler) as server:
            async with websockets_connect(server.url, proxy=None) as ws:
                await ws.send("ok")
                assert await asyncio.wait_for(ws.recv(), 5) == "bye"
                with pytest.raises(websockets.ConnectionClosedOK):
                    await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1000
            async with websockets_connect(server.url, proxy=None) as ws:
                await ws.send("fail")
                with pytest.raises(websockets.ConnectionClosedError):
                    await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1011
        assert len(errors) == 1 and isinstance(errors[0]["exception"], RuntimeError)

    run(main())


def test_server_close_says_going_away_and_waits_for_handlers():
    finished: list[Any] = []

    async def handler(ws: mgio.aio.WebSocket) -> None:
        try:
            async for _ in ws:
                pass
            finished.append(ws.close_code)
        except mgio.WebSocketClosed as e:
            finished.append(e.code)

    async def main() -> None:
        server = mgio.aio.serve_ws(handler)
        clients = [await websockets_connect(server.url, proxy=None) for _ in range(5)]
        await eventually(lambda: len(server.connections) == 5)
        t = time.monotonic()
        await server.close()
        assert time.monotonic() - t < 3
        for ws in clients:
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
            assert ws.close_code == 1001
        assert finished == [1001] * 5
        assert server.manager.closed
        await server.close()  # again: nothing

    run(main())


def test_server_close_cancels_a_stuck_handler():
    cancelled: list[bool] = []

    async def handler(ws: mgio.aio.WebSocket) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    async def main() -> None:
        async with websockets_connect((server := mgio.aio.serve_ws(handler)).url, proxy=None) as ws:
            await eventually(lambda: server.connections)
            await server.close(timeout=0.2)
            with pytest.raises(websockets.ConnectionClosed):
                await asyncio.wait_for(ws.recv(), 5)
        assert cancelled == [True]

    run(main())


def test_serve_forever_is_cancellable():
    async def main() -> None:
        async with mgio.aio.serve_ws(echo) as server:
            task = asyncio.create_task(server.serve_forever())
            await asyncio.sleep(0.05)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            async with mgio.aio.connect_ws(server.url) as ws:  # still serving
                await ws.send("x")
                assert (await ws.recv(5)).text == "x"

    run(main())


# ---- back-pressure ---------------------------------------------------------------------


def test_send_waits_for_a_slow_reader():
    """A handler sending faster than the client reads is held at write_limit: the send
    queue stays bounded, and everything arrives once the client reads."""
    progress: list[int] = []
    queued: list[int] = []
    chunk = b"\xab" * (256 << 10)
    count = 64  # 16 MiB in all

    async def handler(ws: mgio.aio.WebSocket) -> None:
        for i in range(count):
            await ws.send(chunk)
            queued.append(len(ws.connection.send_buf))
            progress.append(i)
        await ws.recv(timeout=10)

    async def main() -> None:
        async with mgio.aio.serve_ws(handler, write_limit=1 << 20) as server:
            raw = socket.create_connection(("127.0.0.1", server.port))
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
            raw.sendall(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            await asyncio.sleep(0.5)  # the client reads nothing meanwhile
            stalled = len(progress)
            assert 0 < stalled < count
            assert max(queued) <= (1 << 20) + len(chunk) + 16
            # now read everything
            raw.setblocking(False)
            loop = asyncio.get_running_loop()
            total = 0
            want = count * (len(chunk) + 10)
            while total < want:
                data = await asyncio.wait_for(loop.sock_recv(raw, 1 << 20), 10)
                assert data
                total += len(data)
            await eventually(lambda: len(progress) == count)
            raw.close()

    run(main())


def test_recv_queue_is_bounded_and_reading_resumes():
    """A handler that does not read: at most max_queue messages (plus what one poll had
    read already, up to 256 KiB) wait; then the socket is not read (the peer is held
    back by TCP) until recv() catches up."""
    counts: list[int] = []
    payloads = [os.urandom(4096) for _ in range(400)]  # 1.6 MB, incompressible

    async def handler(ws: mgio.aio.WebSocket) -> None:
        await asyncio.sleep(0.5)  # not reading: the queue fills, then reading pauses
        counts.append(len(ws._queue))
        received = [(await ws.recv(timeout=5)).data for _ in payloads]
        await ws.send(b"ok" if received == payloads else b"wrong")

    async def main() -> None:
        async with mgio.aio.serve_ws(handler, max_queue=8) as server:
            async with mgio.aio.connect_ws(server.url) as ws:
                for p in payloads:
                    await ws.send(p)
                assert (await ws.recv(timeout=10)).data == b"ok"
        assert 8 <= counts[0] <= 8 + 64 + 1, counts

    run(main())


# ---- timeouts, cancellation, misuse ----------------------------------------------------


def test_recv_timeout_and_cancellation_lose_nothing():
    async def handler(ws: mgio.aio.WebSocket) -> None:
        with pytest.raises(TimeoutError):
            await ws.recv(timeout=0.05)
        task = asyncio.create_task(ws.recv())
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        waiter = asyncio.create_task(ws.recv())
        await asyncio.sleep(0.01)  # it waits: nothing came yet
        with pytest.raises(RuntimeError, match="already waiting"):
            await ws.recv()
        await ws.send("ready")
        first = await asyncio.wait_for(waiter, 5)
        second = await ws.recv(timeout=5)
        await ws.send(first.text + " " + second.text)

    async def main() -> None:
        async with mgio.aio.serve_ws(handler) as server:
            async with mgio.aio.connect_ws(server.url) as ws:
                assert (await ws.recv(timeout=5)).text == "ready"
                await ws.send("one")
                await ws.send("two")
                assert (await ws.recv(timeout=5)).text == "one two"

    run(main())


def test_ping_from_the_server_and_ping_timeout():
    results: list[Any] = []

    async def handler(ws: mgio.aio.WebSocket) -> None:
        results.append(await ws.ping(b"x", timeout=5))
        results.append(await ws.ping(timeout=5))
        await ws.send("done")
        await ws.recv(timeout=5)

    async def main() -> None:
        async with mgio.aio.serve_ws(handler) as server:
            async with websockets_connect(server.url, proxy=None) as ws:
                assert await asyncio.wait_for(ws.recv(), 5) == "done"
        assert len(results) == 2 and all(0 <= r < 5 for r in results)
        # a peer that never answers: the ping times out
        async with mgio.aio.serve_ws(echo) as server:
            raw = socket.create_connection(("127.0.0.1", server.port))
            raw.sendall(
                b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                b"Sec-WebSocket-Version: 13\r\n\r\n"
            )
            await eventually(lambda: server.connections)
            (sws,) = server.connections
            with pytest.raises(TimeoutError):
                await sws.ping(timeout=0.1)
            t = time.monotonic()
            await sws.close(timeout=0.2)  # no Close comes back: dropped after the timeout
            assert sws.closed and time.monotonic() - t < 2
            raw.close()

    run(main())


def test_send_validation_and_state():
    async def handler(ws: mgio.aio.WebSocket) -> None:
        assert ws.open and not ws.closed
        with pytest.raises(ValueError):
            await ws.send(b"x" * 126, WsOp.PING)
        with pytest.raises(ValueError):
            await ws.send(b"x", WsOp.CONTINUE)
        await ws.send(b"part", fin=False)
        await ws.send(b"s", WsOp.CONTINUE)
        await ws.close()
        assert ws.closed and not ws.open
        with pytest.raises(mgio.WebSocketClosed):
            await ws.send("late")
        await ws.close()  # twice is fine

    async def main() -> None:
        async with mgio.aio.serve_ws(handler) as server:
            async with mgio.aio.connect_ws(server.url) as ws:
                assert (await ws.recv(timeout=5)).data == b"parts"
                assert [m async for m in ws] == []
                assert ws.close_code == 1000
                assert "closed" in repr(ws)

    run(main())


def test_connect_ws_without_context_manager_and_abort():
    async def main() -> None:
        async with mgio.aio.serve_ws(echo) as server:
            ws = await mgio.aio.connect_ws(server.url)
            await ws.send("hi")
            assert (await ws.recv(timeout=5)).text == "hi"
            ws.abort()
            await ws.wait_closed(5)
            assert ws.closed and ws.close_code == 1006
            with pytest.raises(mgio.WebSocketClosed) as info:
                await ws.recv()
            assert info.value.code == 1006 and not info.value.ok
            await ws.close()  # releases the private manager
            await eventually(lambda: not server.connections)

    run(main())


async def _silent_peer_reads(server: mgio.aio.WebSocketServer, enough: Any) -> bytes:
    """Upgrades with a raw socket that never sends again; what it reads until
    enough(bytes so far), or the server closes, within 5 s."""
    raw = socket.create_connection(("127.0.0.1", server.port))
    raw.sendall(
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n"
    )
    raw.setblocking(False)
    loop = asyncio.get_running_loop()
    got = b""
    deadline = time.monotonic() + 5
    with raw:
        while not enough(got) and time.monotonic() < deadline:
            chunk = await asyncio.wait_for(loop.sock_recv(raw, 4096), 5)
            if not chunk:
                break
            got += chunk
    assert got.startswith(b"HTTP/1.1 101 ")
    return got


def test_server_idle_ping_in_the_event_loop():
    """The C layer's idle Ping fires under the asyncio driver, with no I/O to wake it;
    without a Pong deadline, again after each quiet interval."""

    async def main() -> None:
        async with mgio.aio.serve_ws(echo, ping_interval=0.2, ping_timeout=0) as server:
            got = await _silent_peer_reads(server, lambda got: got.count(b"\x89\x00") >= 2)
            assert got.count(b"\x89\x00") >= 2  # empty Pings, unmasked from a server

    run(main())


def test_server_ping_timeout_in_the_event_loop():
    """No answer to the idle Ping within ping_timeout: Close 1011, then the close."""

    async def main() -> None:
        async with mgio.aio.serve_ws(echo, ping_interval=0.1, ping_timeout=0.2) as server:
            t0 = time.monotonic()
            got = await _silent_peer_reads(server, lambda got: False)
            assert 0.25 <= time.monotonic() - t0 < 4
            assert got.endswith(b"\x89\x00\x88\x18\x03\xf3keepalive ping timeout")
            await eventually(lambda: not server.connections)

    run(main())
