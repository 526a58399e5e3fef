"""The HTTP client from Python: Manager.connect_http, mgio.request and mgio.aio.request,
against Python's http.server (threaded, on a free loopback port) and against mgio's own
server. Every wait is bounded.
"""

from __future__ import annotations

import asyncio
import base64
import http.server
import json
import os
import socket
import threading
import time
from typing import ClassVar

import mgio
import mgio.aio
import pytest
from conftest import ServerThread, poll_until, python_http_server, refused_port
from mgio import EV_CLOSE, EV_CONNECT, EV_HTTP_CHUNK, EV_HTTP_REPLY, EV_HTTP_REQUEST

BIG = os.urandom(5 * 1024 * 1024 + 17)  # over the 1 MiB buffered-body limit


class Handler(http.server.BaseHTTPRequestHandler):
    """Answers by path: /echo (method, path, headers and body as JSON), /chunked,
    /close-delimited, /big, /status/N, /slow (never answers), /cut (closes mid-body)."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict]] = []

    def log_message(self, *args: object) -> None:  # quiet
        pass

    def _body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _send(self, status: int, body: bytes, ctype: str = "application/octet-stream") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self) -> None:
        body = self._body()
        info = {
            "method": self.command,
            "path": self.path,
            "headers": list(self.headers.items()),
            "body": body.decode("latin-1"),
        }
        Handler.seen.append(info)
        if self.path.startswith("/echo"):
            self._send(200, json.dumps(info).encode(), "application/json; charset=utf-8")
        elif self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("X-Multi", "a")
            self.send_header("X-Multi", "b")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        elif self.path == "/close-delimited":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"until the end")
            self.wfile.flush()
            self.close_connection = True
        elif self.path == "/big":
            self._send(200, BIG)
        elif self.path.startswith("/status/"):
            self._send(int(self.path.split("/")[2]), b"status body", "text/plain")
        elif self.path == "/latin1":
            self._send(200, "café".encode("latin-1"), "text/plain; charset=iso-8859-1")
        elif self.path == "/slow":
            time.sleep(3)
            self._send(200, b"late")
        elif self.path == "/cut":
            self.send_response(200)
            self.send_header("Content-Length", "100")
            self.end_headers()
            self.wfile.write(b"only part")
            self.wfile.flush()
            self.close_connection = True
        else:
            self._send(404, b"no such path")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = handle_any


@pytest.fixture(scope="module")
def pyserver():
    with python_http_server(Handler) as srv:
        yield f"http://127.0.0.1:{srv.server_port}"


@pytest.fixture(autouse=True)
def _clear_seen():
    Handler.seen.clear()


# ---- mgio.request -------------------------------------------------------------------------


def test_request_get(pyserver):
    r = mgio.request("GET", pyserver + "/echo?a=1", timeout=5)
    assert r.status == 200 and r.reason == "OK" and r.ok
    assert isinstance(r.headers, mgio.Headers)
    assert r.headers["content-type"] == "application/json; charset=utf-8"
    assert r.charset == "utf-8"
    info = r.json()
    assert info["method"] == "GET" and info["path"] == "/echo?a=1"
    assert r.http_version == "HTTP/1.1"
    assert r.url == pyserver + "/echo?a=1"
    assert "Response 200" in repr(r)


def test_request_post_bytes_str_and_json_with_headers(pyserver):
    r = mgio.request("POST", pyserver + "/echo", {"X-Custom": "yes"}, b"\x00\x01binary")
    info = r.json()
    assert info["body"] == "\x00\x01binary"
    headers = {k.lower(): v for k, v in info["headers"]}
    assert headers["x-custom"] == "yes"
    assert headers["content-length"] == "8"
    r = mgio.request("PUT", pyserver + "/echo", [("X-A", "1"), ("X-A", "2")], "text é")
    info = r.json()
    assert info["method"] == "PUT"
    assert info["body"] == "text é".encode().decode("latin-1")
    assert [v for k, v in info["headers"] if k == "X-A"] == ["1", "2"]
    assert dict(info["headers"])["Content-Type"] == "text/plain; charset=utf-8"
    r = mgio.request("PATCH", pyserver + "/echo", json={"k": [1, 2]})
    info = r.json()
    assert json.loads(info["body"]) == {"k": [1, 2]}
    assert dict(info["headers"])["Content-Type"] == "application/json"
    with pytest.raises(TypeError):
        mgio.request("POST", pyserver + "/echo", body=b"x", json=1)


def test_request_basic_auth_from_url(pyserver):
    host = pyserver.removeprefix("http://")
    r = mgio.request("GET", f"http://user:pa%20ss@{host}/echo")
    headers = dict(r.json()["headers"])
    assert headers["Authorization"].startswith("Basic ")
    creds = base64.b64decode(headers["Authorization"][6:]).decode()
    assert creds.startswith("user:")


def test_request_chunked_reply_with_repeated_headers(pyserver):
    r = mgio.request("GET", pyserver + "/chunked")
    assert r.body == b"hello chunked world"
    assert r.headers.getall("x-multi") == ["a", "b"]
    assert r.headers["Transfer-Encoding"] == "chunked"


def test_request_close_delimited_reply(pyserver):
    r = mgio.request("GET", pyserver + "/close-delimited")
    assert (r.status, r.body) == (200, b"until the end")
    assert "Content-Length" not in r.headers


def test_request_head_reply_has_no_body(pyserver):
    start = time.monotonic()
    r = mgio.request("HEAD", pyserver + "/big", timeout=5)
    assert r.status == 200 and r.body == b""
    assert r.headers["Content-Length"] == str(len(BIG))
    assert time.monotonic() - start < 2, "the client did not wait for a body"


def test_request_big_body_streams_past_the_buffer_limit(pyserver):
    r = mgio.request("GET", pyserver + "/big", timeout=20)
    assert r.body == BIG
    with pytest.raises(ValueError, match="max_size"):
        mgio.request("GET", pyserver + "/big", max_size=1024 * 1024, timeout=20)


def test_request_error_statuses_are_responses(pyserver):
    r = mgio.request("GET", pyserver + "/status/404")
    assert (r.status, r.reason, r.text, r.ok) == (404, "Not Found", "status body", False)
    r = mgio.request("DELETE", pyserver + "/status/503")
    assert r.status == 503
    r = mgio.request("GET", pyserver + "/latin1")
    assert r.text == "café"


def test_request_timeout(pyserver):
    start = time.monotonic()
    with pytest.raises(TimeoutError):
        mgio.request("GET", pyserver + "/slow", timeout=0.5)
    assert time.monotonic() - start < 2


def test_request_to_a_silent_server_times_out():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        with pytest.raises(TimeoutError):
            mgio.request("GET", f"http://127.0.0.1:{port}/", timeout=0.3)


def test_request_connection_refused():
    with refused_port() as port, pytest.raises(ConnectionRefusedError):
        mgio.request("GET", f"http://127.0.0.1:{port}/", timeout=5)


def test_request_reply_cut_short_is_a_connection_error(pyserver):
    with pytest.raises(ConnectionError, match="closed before a complete response"):
        mgio.request("GET", pyserver + "/cut", timeout=5)


def test_request_bad_arguments(pyserver):
    with pytest.raises(ValueError):
        mgio.request("GET", "https://127.0.0.1/")
    with pytest.raises(ValueError):
        mgio.request("GET", "ftp://127.0.0.1/")
    with pytest.raises(ValueError):
        mgio.request("GET", "http://[::1/")
    with pytest.raises(ValueError):
        mgio.request("GET", pyserver + "/echo", {"X-A": "b\r\nInjected: 1"})
    with pytest.raises(ValueError):
        mgio.request("GET", pyserver + "/echo", {"Bad Name": "v"})
    with pytest.raises(ValueError):
        mgio.request("GE T", pyserver + "/echo")
    with pytest.raises(ValueError):
        mgio.request("", pyserver + "/echo")
    assert Handler.seen == [], "nothing was sent"


def test_request_against_a_malformed_response():
    """A server that answers garbage: a clear ConnectionError, not a hang."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nx")
                time.sleep(0.5)

        t = threading.Thread(target=serve)
        t.start()
        try:
            with pytest.raises(ConnectionError):
                mgio.request("GET", f"http://127.0.0.1:{port}/", timeout=5)
        finally:
            t.join(5)


# ---- Manager.connect_http ------------------------------------------------------------------


def test_connect_http_events_and_message(mgr, pyserver):
    events: list[tuple[int, object]] = []
    replies: list[mgio.HttpMessage] = []

    def handler(conn, ev, data):
        events.append((ev, data if ev in (EV_CONNECT,) else None))
        if ev == EV_HTTP_REPLY:
            replies.append(data)
            conn.close()

    conn = mgr.connect_http(pyserver + "/chunked", handler)
    assert isinstance(conn, mgio.Connection)
    poll_until(mgr, lambda: conn.closed)
    kinds = [ev for ev, _ in events]
    assert kinds[0] == EV_CONNECT and events[0][1] == 0
    assert EV_HTTP_CHUNK in kinds
    assert kinds[-2:] == [EV_HTTP_REPLY, EV_CLOSE]
    [msg] = replies  # kept after the handler: copied, still readable
    assert msg.status == 200 and msg.status_text == "OK" and msg.proto == "HTTP/1.1"
    assert msg.method == "" and msg.uri == ""
    assert msg.body == b"hello chunked world"
    assert msg.chunked and msg.content_length == -1
    assert msg.headers.getall("X-Multi") == ["a", "b"]


def test_connect_http_handler_class_streams_chunks(mgr, pyserver):
    class Client(mgio.Handler):
        def __init__(self):
            self.parts: list[bytes] = []
            self.status = 0

        def on_http_chunk(self, conn, msg):
            self.parts.append(msg.body)
            conn.delete_chunk()

        def on_http_reply(self, conn, msg):
            self.status = msg.status
            self.parts.append(msg.body)
            conn.close()

    client = Client()
    conn = mgr.connect_http(pyserver + "/big", client)
    poll_until(mgr, lambda: conn.closed, timeout=20)
    assert client.status == 200
    assert b"".join(client.parts) == BIG
    assert max(len(p) for p in client.parts) < 2 * 1024 * 1024


def test_connect_http_method_headers_body(mgr, pyserver):
    got: list[dict] = []

    def handler(conn, ev, msg):
        if ev == EV_HTTP_REPLY:
            got.append(json.loads(msg.body))
            conn.close()

    mgr.connect_http(pyserver + "/echo", handler, "DELETE", {"X-Q": "1"}, memoryview(b"mv"))
    poll_until(mgr, lambda: got)
    assert got[0]["method"] == "DELETE" and got[0]["body"] == "mv"
    assert ("X-Q", "1") in [tuple(h) for h in got[0]["headers"]]


def test_connect_http_refuses_bad_urls_and_headers(mgr):
    with pytest.raises(ValueError):
        mgr.connect_http("https://example.com/", None)
    with pytest.raises(ValueError):
        mgr.connect_http("http://127.0.0.1:1/", None, headers={"X": "a\nb"})
    with pytest.raises(ValueError):
        mgr.connect_http("http://127.0.0.1:1/", None, method="G\r\nET")
    with pytest.raises(TypeError):
        mgr.connect_http("http://127.0.0.1:1/", 42)
    with pytest.raises(TypeError):
        mgr.connect_http("http://127.0.0.1:1/", None, headers="X-A: b")
    for field in ("Host", "content-length", "Transfer-Encoding"):
        with pytest.raises(ValueError, match="connect_http"):
            mgr.connect_http("http://127.0.0.1:1/", None, headers={field: "1"})
    assert mgr.connections == []


def test_mgio_client_and_server_in_one_manager(mgr):
    def server(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            conn.reply(200, msg.method.encode() + b" " + msg.body, {"X-Uri": msg.uri})

    port = mgr.bind("tcp://127.0.0.1:0", server, http=True).local_address[1]
    replies: list[tuple[int, str, bytes]] = []

    def client(conn, ev, msg):
        if ev == EV_HTTP_REPLY:
            replies.append((msg.status, msg.header("x-uri"), msg.body))
            conn.close()

    for i in range(10):
        mgr.connect_http(f"http://127.0.0.1:{port}/n{i}", client, "POST", body=b"%d" % i)
    poll_until(mgr, lambda: len(replies) == 10)
    assert sorted(replies) == sorted((200, f"/n{i}", b"POST %d" % i) for i in range(10))


def test_request_against_mgio_server():
    def answer(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            if msg.uri == "/chunks":
                conn.send_head(200)
                for i in range(100):
                    conn.send_chunk(b"%03d," % i)
                conn.send_chunk(b"")
            else:
                conn.reply(200, msg.body + b"!")

    with ServerThread(answer) as srv:
        assert mgio.request("POST", srv.url + "/x", body=b"hi").body == b"hi!"
        r = mgio.request("GET", srv.url + "/chunks")
        assert r.body == b"".join(b"%03d," % i for i in range(100))


# ---- mgio.aio.request ---------------------------------------------------------------------


def run(coro: object, timeout: float = 30.0) -> object:
    return asyncio.run(asyncio.wait_for(coro, timeout))  # type: ignore[arg-type]


def test_aio_request(pyserver):
    async def main() -> list[mgio.Response]:
        return list(
            await asyncio.gather(
                mgio.aio.request("GET", pyserver + "/echo?x=1"),
                mgio.aio.request("POST", pyserver + "/echo", body=b"data"),
                mgio.aio.request("GET", pyserver + "/chunked"),
                mgio.aio.request("GET", pyserver + "/close-delimited"),
                mgio.aio.request("GET", pyserver + "/big", timeout=20),
            )
        )

    start = time.monotonic()
    a, b, c, d, e = run(main())
    assert time.monotonic() - start < 10, "each request returns when its reply is complete"
    assert a.json()["path"] == "/echo?x=1"
    assert b.json()["body"] == "data"
    assert c.body == b"hello chunked world"
    assert d.body == b"until the end"
    assert e.body == BIG


def test_aio_request_errors(pyserver):
    async def timeout() -> None:
        await mgio.aio.request("GET", pyserver + "/slow", timeout=0.3)

    start = time.monotonic()
    with pytest.raises(TimeoutError):
        run(timeout())
    assert time.monotonic() - start < 2

    async def refused(port: int) -> None:
        await mgio.aio.request("GET", f"http://127.0.0.1:{port}/")

    with refused_port() as port, pytest.raises(ConnectionRefusedError):
        run(refused(port))

    async def cut() -> None:
        await mgio.aio.request("GET", pyserver + "/cut")

    with pytest.raises(ConnectionError):
        run(cut())


def test_aio_request_does_not_block_the_loop(pyserver):
    async def main() -> int:
        ticks = 0
        stop = False

        async def ticker() -> None:
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0.01)

        t = asyncio.create_task(ticker())
        with pytest.raises(TimeoutError):
            await mgio.aio.request("GET", pyserver + "/slow", timeout=0.5)
        stop = True
        await t
        return ticks

    assert run(main()) >= 10
