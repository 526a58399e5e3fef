"""mgio.aio.fetch and mgio.aio.request: streaming bodies both ways in bounded memory,
timeouts (the builtin TimeoutError), redirects against mgio and http.server, Basic and
Digest auth, cancellation, errors.

Every test runs one asyncio loop with a bound; every wait is bounded."""

from __future__ import annotations

import asyncio
import http.server
import os
import socket
import threading
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from typing import Any

import mgio
import mgio.aio
import pytest
from aio_helpers import run
from aiohttp import web
from mgio.aio import Request, Response

MIB = 1 << 20
BIG = 50 * MIB
PIECE = 64 * 1024


async def pieces(total: int, size: int = PIECE) -> AsyncIterator[bytes]:
    """``total`` bytes in ``size`` pieces, made as they are asked for."""
    block = b"m" * size
    for _ in range(total // size):
        yield block


async def measure(coro: Any) -> tuple[Any, int]:
    """``await coro`` under tracemalloc: (its result, the peak of traced memory)."""
    tracemalloc.start()
    try:
        result = await coro
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_fetch_streams_a_50_mib_body_in_bounded_memory() -> None:
    def handler(req: Request) -> Response:
        return Response(200, pieces(BIG), content_type="application/octet-stream")

    async def download(url: str) -> int:
        got = 0
        async with mgio.aio.fetch(url, timeout=30) as resp:
            assert resp.status == 200 and resp.headers["Transfer-Encoding"] == "chunked"
            async for chunk in resp.iter_chunks():
                got += len(chunk)
        return got

    async def main() -> tuple[int, int]:
        async with mgio.aio.serve(handler) as server:
            return await measure(download(server.url + "/big"))

    got, peak = run(main(), timeout=40)
    assert got == BIG
    assert peak < 16 * MIB  # server and client together, with 50 MiB through


def test_request_body_from_an_async_iterator_50_mib_in_bounded_memory() -> None:
    """Sent chunked to an aiohttp server that counts what it reads."""

    async def count(request: web.Request) -> web.Response:
        n = 0
        async for chunk in request.content.iter_chunked(PIECE):
            n += len(chunk)
        return web.json_response({"n": n, "te": request.headers.get("Transfer-Encoding")})

    async def main() -> tuple[mgio.Response, int]:
        app = web.Application()
        app.router.add_put("/up", count)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        try:
            url = f"http://127.0.0.1:{port}/up"
            return await measure(mgio.aio.request("PUT", url, body=pieces(BIG), timeout=30))
        finally:
            await runner.cleanup()

    resp, peak = run(main(), timeout=40)
    assert resp.json() == {"n": BIG, "te": "chunked"}
    assert peak < 16 * MIB


def test_streamed_request_body_to_an_mgio_server() -> None:
    async def handler(req: Request) -> dict[str, Any]:
        return {"n": len(req.body), "te": req.headers.get("transfer-encoding")}

    async def main() -> Any:
        async with mgio.aio.serve(handler) as server:
            r = await mgio.aio.request("POST", server.url + "/", body=pieces(300_000, 1000))
            return r.json()

    assert run(main()) == {"n": 300_000, "te": "chunked"}


async def silent_server() -> tuple[asyncio.AbstractServer, int, asyncio.Queue[bytes]]:
    """A server that reads requests and never answers; the queue gets b"" at each EOF."""
    eofs: asyncio.Queue[bytes] = asyncio.Queue()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await reader.read(65536):
            pass
        await eofs.put(b"")
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1], eofs


def test_total_timeout_raises_the_builtin_timeout_error_and_closes() -> None:
    async def main() -> None:
        server, port, eofs = await silent_server()
        with pytest.raises(TimeoutError) as info:
            await mgio.aio.request("GET", f"http://127.0.0.1:{port}/", timeout=0.3)
        assert type(info.value) is TimeoutError  # also on 3.10 (asyncio had its own)
        await asyncio.wait_for(eofs.get(), 5)  # the connection was closed
        server.close()

    run(main())


def test_connect_timeout() -> None:
    """A listener whose accept queue is full never completes a connect."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        s = socket.socket()
        s.setblocking(False)
        try:
            s.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        fillers.append(s)

    async def main() -> None:
        with pytest.raises(TimeoutError, match="no connection"):
            await mgio.aio.request(
                "GET", f"http://127.0.0.1:{port}/", timeout=10, connect_timeout=0.3
            )

    try:
        run(main())
    finally:
        for s in [*fillers, listener]:
            s.close()


def test_cancelling_a_request_task_closes_its_connection() -> None:
    async def main() -> None:
        server, port, eofs = await silent_server()
        task = asyncio.create_task(mgio.aio.request("GET", f"http://127.0.0.1:{port}/"))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        await asyncio.wait_for(eofs.get(), 5)
        server.close()

    run(main())


def test_leaving_a_stream_early_closes_the_connection() -> None:
    async def main() -> None:
        closed = asyncio.Event()

        async def endless() -> AsyncIterator[bytes]:
            try:
                while True:
                    yield b"x" * PIECE
            finally:
                closed.set()

        async with mgio.aio.serve(lambda req: Response(200, endless())) as server:
            async with mgio.aio.fetch(server.url + "/") as resp:
                async for _ in resp.iter_chunks():
                    break
            await asyncio.wait_for(closed.wait(), 5)  # the server saw the client go

    run(main())


def test_errors() -> None:
    async def main() -> None:
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        with pytest.raises(ConnectionRefusedError):
            await mgio.aio.request("GET", f"http://127.0.0.1:{port}/")
        async with mgio.aio.serve(lambda req: b"x" * 1000) as server:
            with pytest.raises(ValueError, match="max_size"):
                await mgio.aio.request("GET", server.url, max_size=999)
            with pytest.raises(ValueError):
                await mgio.aio.request("GET", "https://127.0.0.1/")

        async def cut(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this")
            await writer.drain()
            writer.close()

        early = await asyncio.start_server(cut, "127.0.0.1", 0)
        url = f"http://127.0.0.1:{early.sockets[0].getsockname()[1]}/"
        async with mgio.aio.fetch(url) as resp:
            assert resp.status == 200
            with pytest.raises(ConnectionError):
                await resp.read()
        early.close()

    run(main())


# ---- redirects ---------------------------------------------------------------------


def redirecting(req: Request) -> Response:
    """/rNNN redirects with status NNN to /echo (or ?to=); /loop to itself; /echo tells
    what it got."""
    if req.path.startswith("/r"):
        return Response(int(req.path[2:]), b"", {"Location": req.query.get("to", "/echo")})
    if req.path == "/loop":
        return Response(302, b"", {"Location": "/loop"})
    return Response(
        200,
        {"method": req.method, "body": req.text, "auth": req.headers.get("authorization")},
    )


@pytest.mark.parametrize(
    ("status", "method", "body"),
    [
        (301, "GET", ""),
        (302, "GET", ""),
        (303, "GET", ""),
        (307, "POST", "data"),
        (308, "POST", "data"),
    ],
)
def test_redirect_methods_and_bodies(status: int, method: str, body: str) -> None:
    async def main() -> tuple[Any, list[tuple[int, str]], str]:
        async with mgio.aio.serve(redirecting) as server:
            async with mgio.aio.fetch(
                f"{server.url}/r{status}", method="POST", body=b"data", follow_redirects=True
            ) as resp:
                return await resp.json(), resp.history, resp.url

    seen, history, final = run(main())
    assert (seen["method"], seen["body"]) == (method, body)
    assert [h[0] for h in history] == [status]
    assert final.endswith("/echo")


def test_redirects_are_opt_in_and_bounded() -> None:
    async def main() -> None:
        async with mgio.aio.serve(redirecting) as server:
            r = await mgio.aio.request("GET", server.url + "/r302")
            assert (r.status, r.headers["Location"]) == (302, "/echo")
            with pytest.raises(mgio.aio.TooManyRedirects):
                await mgio.aio.request("GET", server.url + "/loop", follow_redirects=True)
            # a streamed body cannot be sent again: a 307 is returned as it is
            r = await mgio.aio.request(
                "POST", server.url + "/r307", body=pieces(10, 5), follow_redirects=True
            )
            assert r.status == 307

    run(main())


def test_authorization_kept_on_the_same_host_and_dropped_on_another() -> None:
    async def main() -> tuple[Any, Any]:
        async with mgio.aio.serve(redirecting) as a, mgio.aio.serve(redirecting) as b:
            headers = {"Authorization": "Bearer t"}
            same = await mgio.aio.request("GET", a.url + "/r302", headers, follow_redirects=True)
            other = await mgio.aio.request(
                "GET", f"{a.url}/r302?to={b.url}/echo", headers, follow_redirects=True
            )
            return same.json()["auth"], other.json()["auth"]

    assert run(main()) == ("Bearer t", None)


class _StdlibRedirects(http.server.BaseHTTPRequestHandler):
    """http.server: /start redirects (relative) to /next, which redirects to ?to."""

    target = ""

    def do_GET(self) -> None:
        if self.path == "/start":
            location = "next"
        else:
            location = self.target
        self.send_response(301)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def stdlib_server() -> Iterator[http.server.ThreadingHTTPServer]:
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _StdlibRedirects)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


def test_redirects_from_http_server_to_mgio(
    stdlib_server: http.server.ThreadingHTTPServer,
) -> None:
    async def main() -> tuple[Any, list[tuple[int, str]]]:
        async with mgio.aio.serve(redirecting) as server:
            _StdlibRedirects.target = server.url + "/echo"
            port = stdlib_server.server_address[1]
            async with mgio.aio.fetch(
                f"http://127.0.0.1:{port}/start", follow_redirects=True
            ) as resp:
                return await resp.json(), resp.history

    seen, history = run(main())
    assert seen["method"] == "GET"
    assert [h[0] for h in history] == [301, 301]
    assert history[1][1].endswith("/next")


# ---- auth ---------------------------------------------------------------------------


def test_basic_and_digest_auth_against_serve() -> None:
    digest = mgio.DigestAuth("realm", {"joe": "pw"})

    def handler(req: Request) -> Response:
        if req.path == "/basic":
            if mgio.auth.check_basic(req, {"joe": "pw"}):
                return Response(200, "basic ok")
            return Response(401, "no", {"WWW-Authenticate": 'Basic realm="r"'})
        if digest.check(req):
            return Response(200, "digest ok")
        status, fields = digest.challenge()
        return Response(status, "no", fields)

    async def main() -> list[tuple[int, str]]:
        out = []
        async with mgio.aio.serve(handler) as server:
            for path, auth in (
                ("/basic", ("joe", "pw")),
                ("/digest", ("joe", "pw")),
                ("/digest", ("joe", "wrong")),
            ):
                async with mgio.aio.fetch(server.url + path, auth=auth) as resp:
                    out.append((resp.status, await resp.text()))
        return out

    assert run(main()) == [(200, "basic ok"), (200, "digest ok"), (401, "no")]


def test_responses_left_open_release_their_descriptors_once_complete() -> None:
    async def main() -> None:
        async with mgio.aio.serve(lambda req: "body") as server:
            before = len(os.listdir("/proc/self/fd"))
            responses = [await mgio.aio.fetch(server.url) for _ in range(10)]
            for _ in range(100):  # bounded: until the closes went through
                if len(os.listdir("/proc/self/fd")) <= before:
                    break
                await asyncio.sleep(0.01)
            assert len(os.listdir("/proc/self/fd")) <= before
            assert [await r.text() for r in responses] == ["body"] * 10

    run(main())
