"""mgio.aio.serve: plain and coroutine handlers answered to real clients (aiohttp,
requests and http.client in threads, raw sockets for pipelining), answers in request
order whatever order the handlers finish in, back-pressure, handler errors, late
answers to closing requests, cancellation and shutdown, WebSocket routes.

Every test runs one asyncio loop with a bound; every wait is bounded."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import struct
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import mgio
import mgio.aio
import pytest
import requests
from aio_helpers import RawClient, collect_loop_errors, get, run
from mgio.aio import Request, Response


async def echo_handler(req: Request) -> Response:
    """Answers with what it saw of the request, as JSON."""
    await asyncio.sleep(0)
    seen = {
        "method": req.method,
        "path": req.path,
        "query": req.query,
        "x": req.headers.get("x-test"),
        "body": req.text,
        "version": req.http_version,
    }
    return Response(201, seen, {"X-Answer": "yes"})


def test_request_and_response_over_aiohttp() -> None:
    async def main() -> None:
        async with mgio.aio.serve(echo_handler) as server, aiohttp.ClientSession() as s:
            async with s.post(
                server.url + "/p/a?x=1&y=two", data=b"hello", headers={"X-Test": "t"}
            ) as r:
                assert r.status == 201
                assert r.headers["X-Answer"] == "yes"
                assert r.headers["Content-Type"] == "application/json"
                seen = await r.json()
        assert seen == {
            "method": "POST",
            "path": "/p/a",
            "query": {"x": "1", "y": "two"},
            "x": "t",
            "body": "hello",
            "version": "HTTP/1.1",
        }

    run(main())


def plain_handler(req: Request) -> Any:
    """A plain function handler returning each kind of result."""
    kinds: dict[str, Any] = {
        "/bytes": b"\x00raw",
        "/str": "text \u00e9",
        "/dict": {"a": [1, 2]},
        "/none": None,
        "/response": Response(418, "teapot", {"X-K": "v"}, content_type="text/x-tea"),
    }
    return kinds[req.path]


def test_plain_handler_results_over_requests_in_a_thread() -> None:
    async def main() -> list[tuple[int, str | None, bytes]]:
        async with mgio.aio.serve(plain_handler) as server:

            def fetch_all() -> list[tuple[int, str | None, bytes]]:
                with requests.Session() as s:
                    out = []
                    for path in ("/bytes", "/str", "/dict", "/none", "/response"):
                        r = s.get(server.url + path, timeout=5)
                        out.append((r.status_code, r.headers.get("content-type"), r.content))
                    return out

            return await asyncio.to_thread(fetch_all)

    assert run(main()) == [
        (200, None, b"\x00raw"),
        (200, "text/plain; charset=utf-8", "text \u00e9".encode()),
        (200, "application/json", b'{"a": [1, 2]}'),
        (204, None, b""),
        (418, "text/x-tea", b"teapot"),
    ]


async def delayed(req: Request) -> str:
    """Sleeps ?d= seconds, then answers with the path."""
    await asyncio.sleep(float(req.query.get("d", "0")))
    return req.path


def test_pipelined_answers_keep_request_order_when_later_handlers_finish_first() -> None:
    async def main() -> None:
        async with mgio.aio.serve(delayed) as server:

            def pipeline() -> list[bytes]:
                c = RawClient(server.port)
                c.send(
                    get("/1?d=0.3")
                    + get("/2?d=0.2")
                    + get("/3?d=0.1")
                    + get("/4")
                    + get("/5?d=0.05", "Connection: close")
                )
                bodies = [c.read_response().body for _ in range(5)]
                assert c.at_eof()  # the closing request was the last
                c.close()
                return bodies

            assert await asyncio.to_thread(pipeline) == [b"/1", b"/2", b"/3", b"/4", b"/5"]

    run(main())


def test_pipelined_head_and_keep_alive_fields_are_per_request() -> None:
    """A HEAD among GETs gets no body, the others theirs; each answer names its own
    Connection field, not the one of the last request parsed."""

    async def main() -> None:
        async with mgio.aio.serve(delayed) as server:

            def pipeline() -> list[tuple[str, bytes, str | None]]:
                c = RawClient(server.port)
                head = b"HEAD /h?d=0.1 HTTP/1.1\r\nHost: t\r\n\r\n"
                c.send(get("/a?d=0.2") + head + get("/c", "Connection: close"))
                out = []
                for is_head in (False, True, False):
                    r = c.read_response(head_request=is_head)
                    out.append((r.headers["content-length"], r.body, r.headers.get("connection")))
                assert c.at_eof()
                return out

            assert await asyncio.to_thread(pipeline) == [
                ("2", b"/a", None),  # HTTP/1.1 keeps the connection unless told otherwise
                ("2", b"", None),
                ("2", b"/c", "close"),
            ]

    run(main())


def test_pipelined_streamed_and_whole_answers_before_a_closing_request() -> None:
    """Chunked answers and whole ones, in order, the last one to a closing request
    given late: the connection is not closed before every answer is out."""

    async def chunks() -> AsyncIterator[bytes]:
        for i in range(3):
            await asyncio.sleep(0.02)
            yield b"part%d;" % i

    async def handler(req: Request) -> Any:
        if req.path == "/stream":
            return Response(200, chunks())
        return await delayed(req)

    async def main() -> None:
        async with mgio.aio.serve(handler) as server:

            def pipeline() -> list[bytes]:
                c = RawClient(server.port)
                c.send(
                    get("/w1?d=0.1")
                    + get("/stream")
                    + get("/w2")
                    + get("/last?d=0.2", "Connection: close")
                )
                bodies = [c.read_response().body for _ in range(4)]
                assert c.at_eof()
                return bodies

            got = await asyncio.to_thread(pipeline)
            assert got == [b"/w1", b"part0;part1;part2;", b"/w2", b"/last"]

    run(main())


def test_late_answers_to_closing_and_http10_requests() -> None:
    """A coroutine answers after the request: for Connection: close, for HTTP/1.0 and
    for a client that already shut its sending side, the answer still arrives."""

    async def main() -> None:
        async with mgio.aio.serve(delayed) as server:

            def clients() -> list[tuple[int, bytes]]:
                out = []
                conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
                conn.request("GET", "/close?d=0.1", headers={"Connection": "close"})
                r = conn.getresponse()
                out.append((r.status, r.read()))
                conn.close()
                for request in (
                    b"GET /ten?d=0.1 HTTP/1.0\r\n\r\n",
                    get("/shut?d=0.1", "Connection: close"),
                ):
                    c = RawClient(server.port)
                    c.send(request)
                    c.sock.shutdown(socket.SHUT_WR)
                    r2 = c.read_response()
                    assert c.at_eof()
                    c.close()
                    out.append((r2.status, r2.body))
                return out

            got = await asyncio.to_thread(clients)
            assert got == [(200, b"/close"), (200, b"/ten"), (200, b"/shut")]

    run(main())


def test_pipelined_requests_wait_for_the_answer_before_them() -> None:
    """While a coroutine works on a request, the requests pipelined behind it are not
    handed over (they wait in the receive buffer, which stops reading when full); each
    goes on once the answer before it is out, and the answers come in order."""

    async def main() -> None:
        release = asyncio.Event()
        started: list[str] = []

        async def handler(req: Request) -> str:
            started.append(req.path)
            if req.path == "/p0":
                await release.wait()
            return req.path

        async with mgio.aio.serve(handler) as server:
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(b"".join(get(f"/p{i}") for i in range(4)))
            while not started:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # time to hand over the others, were they not held
            assert started == ["/p0"]
            release.set()
            data = b""
            while data.count(b"HTTP/1.1 200") < 4:
                chunk = await asyncio.wait_for(reader.read(65536), 5)
                assert chunk
                data += chunk
            assert started == ["/p0", "/p1", "/p2", "/p3"]
            where = [data.find(b"/p%d" % i) for i in range(4)]
            assert where == sorted(where) and where[0] > 0
            writer.close()

    run(main())


def test_handler_error_gives_500_and_closes_that_connection_only() -> None:
    async def handler(req: Request) -> str:
        if req.path == "/boom":
            raise RuntimeError("boom")
        if req.path == "/bad":
            return 12  # type: ignore[return-value]  # not a body
        return "fine"

    async def main() -> None:
        errors = collect_loop_errors()
        async with mgio.aio.serve(handler) as server:

            def clients() -> list[tuple[int, str, bool]]:
                out = []
                for path in ("/boom", "/bad"):
                    c = RawClient(server.port)
                    c.send(get("/ok") + get(path) + get("/never"))
                    first, second = c.read_response(), c.read_response()
                    assert first.body == b"fine"
                    out.append((second.status, second.headers["connection"], c.at_eof()))
                    c.close()
                return out

            assert await asyncio.to_thread(clients) == [(500, "close", True)] * 2
            assert (await mgio.aio.request("GET", server.url + "/ok")).text == "fine"
        assert [type(e) for e in errors] == [RuntimeError, TypeError]

    run(main())


def test_fifty_concurrent_clients() -> None:
    async def handler(req: Request) -> dict[str, int]:
        n = int(req.query["n"])
        await asyncio.sleep(0.001 * (n % 7))
        return {"n": n}

    async def main() -> None:
        async with mgio.aio.serve(handler) as server:
            conn = aiohttp.TCPConnector(limit=50)
            async with aiohttp.ClientSession(connector=conn) as s:

                async def one(n: int) -> int:
                    async with s.get(f"{server.url}/?n={n}") as r:
                        return int((await r.json())["n"])

                got = await asyncio.gather(*(one(n) for n in range(50)))
                mgio_got = await asyncio.gather(
                    *(mgio.aio.request("GET", f"{server.url}/?n={n}") for n in range(50))
                )
        assert got == list(range(50))
        assert [r.json()["n"] for r in mgio_got] == list(range(50))

    run(main())


def test_client_going_away_cancels_its_handler() -> None:
    async def main() -> None:
        cancelled = asyncio.Event()
        entered = asyncio.Event()

        async def handler(req: Request) -> str:
            entered.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return "late"

        async with mgio.aio.serve(handler) as server:
            sock = socket.create_connection(("127.0.0.1", server.port))
            sock.sendall(get("/"))
            await asyncio.wait_for(entered.wait(), 5)
            # a reset (not a FIN, after which the client might still read the answer)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
            await asyncio.wait_for(cancelled.wait(), 5)
            assert server.connection_count == 0

    run(main())


def test_cancelling_serve_closes_the_listener_and_its_connections() -> None:
    async def main() -> None:
        entered = asyncio.Event()
        ports: list[int] = []

        async def handler(req: Request) -> str:
            entered.set()
            await asyncio.sleep(30)
            return "never"

        async def serving() -> None:
            async with mgio.aio.serve(handler) as server:
                ports.append(server.port)
                await server.serve_forever()

        task = asyncio.create_task(serving())
        while not ports:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", ports[0])
        writer.write(get("/"))
        await asyncio.wait_for(entered.wait(), 5)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert await asyncio.wait_for(reader.read(), 5) == b""  # closed, no answer
        writer.close()
        with pytest.raises(OSError):
            await asyncio.open_connection("127.0.0.1", ports[0])

    run(main())


def test_close_lets_requests_in_progress_finish() -> None:
    async def main() -> None:
        entered = asyncio.Event()

        async def handler(req: Request) -> str:
            entered.set()
            await asyncio.sleep(0.2)
            return "done"

        server = await mgio.aio.serve(handler, shutdown_timeout=5)
        pending = asyncio.create_task(mgio.aio.request("GET", server.url + "/"))
        idle_reader, idle_writer = await asyncio.open_connection("127.0.0.1", server.port)
        await asyncio.wait_for(entered.wait(), 5)
        server.close()
        await server.wait_closed()
        assert (await pending).text == "done"
        assert await asyncio.wait_for(idle_reader.read(), 5) == b""
        idle_writer.close()

    run(main())


def test_streamed_response_to_requests_and_http10() -> None:
    async def numbers(n: int) -> AsyncIterator[str]:
        for i in range(n):
            yield f"{i}\n"
            await asyncio.sleep(0)

    def handler(req: Request) -> Response:
        return Response(200, numbers(1000), content_type="text/plain")

    async def main() -> None:
        async with mgio.aio.serve(handler) as server:

            def clients() -> tuple[str, str | None, bytes]:
                r = requests.get(server.url + "/", timeout=5)
                c = RawClient(server.port)
                c.send(b"GET / HTTP/1.0\r\n\r\n")
                old = c.read_response()
                assert c.at_eof()
                return r.text, r.headers.get("transfer-encoding"), old.body

            text, coding, old = await asyncio.to_thread(clients)
            expected = "".join(f"{i}\n" for i in range(1000))
            assert (text, coding, old) == (expected, "chunked", expected.encode())

    run(main())


def test_response_refuses_framing_fields_and_bodies_of_bodiless_statuses() -> None:
    with pytest.raises(ValueError):
        Response(200, b"x", {"Content-Length": "1"})
    with pytest.raises(ValueError):
        Response(204, b"x")
    with pytest.raises(TypeError):
        Response(200, 3.5)  # type: ignore[arg-type]
    req = Request("GET", "/", "a=1&a=2&b=", mgio.Headers({"Authorization": "Basic am9lOnB3"}))
    assert req.query == {"a": "1", "b": ""}
    assert req.basic_auth() == ("joe", "pw")
    assert json.loads(Response(200, [1]).body) == [1]


def test_websocket_route_beside_http() -> None:
    async def ws_echo(ws: mgio.aio.WebSocket) -> None:
        async for msg in ws:
            await ws.send(msg)

    async def main() -> None:
        async with mgio.aio.serve(delayed, ws_routes={"/ws": ws_echo}) as server:
            ws_url = server.url.replace("http://", "ws://") + "/ws"
            async with mgio.aio.connect_ws(ws_url) as ws:
                await ws.send("hi")
                assert (await ws.recv(timeout=5)).text == "hi"
                assert (await mgio.aio.request("GET", server.url + "/plain")).text == "/plain"
            with pytest.raises(mgio.WebSocketHandshakeError) as info:
                await mgio.aio.connect_ws(ws_url + "x", open_timeout=5)
            assert info.value.status == 404

    run(main())


def test_closing_request_while_an_earlier_answer_is_still_being_sent() -> None:
    """The C layer would close once the earlier answer drained (see _aio_serve_conn):
    the late answer to the closing request must still follow it."""
    big = b"b" * (4 << 20)

    async def handler(req: Request) -> bytes:
        if req.path == "/big":
            return big
        await asyncio.sleep(0.5)  # meanwhile the big answer is read to its end
        return b"late"

    async def main() -> None:
        async with mgio.aio.serve(handler) as server:

            def client() -> tuple[int, bytes]:
                c = RawClient(server.port)
                c.send(get("/big"))
                c._fill()  # the big answer is on its way, most of it still queued
                c.send(get("/late", "Connection: close"))
                first, second = c.read_response(), c.read_response()
                assert c.at_eof()
                return len(first.body), second.body

            assert await asyncio.to_thread(client) == (len(big), b"late")

    run(main())


def test_pipelined_answers_to_a_client_that_shut_its_sending_side() -> None:
    """The client sends two requests and shuts its side at once; both late answers
    still arrive, in order, then the connection closes."""

    async def main() -> None:
        async with mgio.aio.serve(delayed) as server:

            def client() -> list[bytes]:
                c = RawClient(server.port)
                c.send(get("/a?d=0.2") + get("/b?d=0.4"))
                c.sock.shutdown(socket.SHUT_WR)
                bodies = [c.read_response().body for _ in range(2)]
                assert c.at_eof()
                return bodies

            assert await asyncio.to_thread(client) == [b"/a", b"/b"]

    run(main())


def test_a_streamed_body_that_raises_drops_the_connection() -> None:
    async def failing() -> AsyncIterator[bytes]:
        yield b"start;"
        raise RuntimeError("the body broke")

    async def main() -> None:
        errors = collect_loop_errors()
        async with mgio.aio.serve(lambda req: Response(200, failing())) as server:

            def client() -> str:
                c = RawClient(server.port)
                c.send(get("/"))
                try:
                    c.read_response()
                except ConnectionError as e:
                    return str(e)
                finally:
                    c.close()
                return "complete"

            assert await asyncio.to_thread(client) == "closed by the server"
        assert [type(e) for e in errors] == [RuntimeError]

    run(main())
