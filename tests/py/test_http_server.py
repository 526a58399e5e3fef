"""The HTTP server from Python: Manager.bind(..., http=True), HttpMessage, Connection.reply
and the other response methods, against real peers over loopback (http.client, urllib,
requests, aiohttp, curl, raw sockets).

Servers run on a background thread (conftest.ServerThread) while blocking clients talk to
them; every wait is bounded.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import tracemalloc
import urllib.error
import urllib.request
from typing import Any

import mgio
import mgio.aio
import pytest
import requests
from conftest import ServerThread, poll_recv_until_closed, poll_until, recv_until_closed, wait_for
from mgio import EV_CLOSE, EV_HTTP_CHUNK, EV_HTTP_REQUEST, HttpFlag

CURL = shutil.which("curl") or "/usr/bin/curl"
HAS_CURL = os.path.exists(CURL)
needs_curl = pytest.mark.skipif(not HAS_CURL, reason="no curl")


class Recorder:
    """A handler that records each request (method, uri, query, headers, body, ...) and
    answers with `answer(conn, msg)` (default: 200 with a JSON echo of the request)."""

    def __init__(self, answer=None):
        self.requests: list[dict] = []
        self.answer = answer
        self.peers: list[tuple[str, int]] = []

    def __call__(self, conn, ev, msg):
        if ev != EV_HTTP_REQUEST:
            return
        info = {
            "method": msg.method,
            "uri": msg.uri,
            "query": msg.query_string,
            "proto": msg.proto,
            "headers": msg.headers.items(),
            "body": msg.body,
            "keep_alive": msg.keep_alive,
            "flags": msg.flags,
        }
        self.requests.append(info)
        self.peers.append(conn.remote_address)
        if self.answer is not None:
            self.answer(conn, msg)
            return
        echo = dict(info, body=msg.body.decode("latin-1"), headers=msg.headers.items())
        conn.reply(200, json.dumps(echo).encode(), {"Content-Type": "application/json"})


def raw_exchange(port: int, data: bytes, timeout: float = 5.0) -> bytes:
    """Sends `data` on a new connection and reads until the server closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(data)
        return recv_until_closed(s, timeout)


def read_responses(sock: socket.socket, count: int, timeout: float = 5.0) -> list[tuple]:
    """Reads `count` responses from a blocking socket: (status, headers, body) each
    (Content-Length or chunked bodies; no body for 1xx/204/304)."""
    sock.settimeout(timeout)
    f = sock.makefile("rb")
    out = []
    for _ in range(count):
        line = f.readline()
        assert line.startswith(b"HTTP/1."), line
        status = int(line.split()[1])
        headers = []
        while (line := f.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode("latin-1").partition(":")
            headers.append((name, value.strip()))
        fields = {k.lower(): v for k, v in headers}
        if status < 200 or status in (204, 304):
            body = b""
        elif fields.get("transfer-encoding") == "chunked":
            body = b""
            while (size := int(f.readline().split(b";")[0], 16)) > 0:
                body += f.read(size)
                f.readline()
            while f.readline() not in (b"\r\n", b""):
                pass
        else:
            body = f.read(int(fields.get("content-length", "0")))
        out.append((status, headers, body))
    f.close()
    return out


# ---- basic requests from real clients --------------------------------------------------


def test_http_client_get_and_post_with_bodies():
    rec = Recorder()
    with ServerThread(rec) as srv:
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        c.request("GET", "/hello/world?x=1&y=two", headers={"X-Multi": "a"})
        r = c.getresponse()
        assert r.status == 200 and r.reason == "OK"
        assert r.getheader("Content-Type") == "application/json"
        got = json.loads(r.read())
        assert got["method"] == "GET" and got["uri"] == "/hello/world"
        assert got["query"] == "x=1&y=two" and got["proto"] == "HTTP/1.1"
        body = os.urandom(100_000)
        c.request("POST", "/upload", body=body, headers={"Content-Type": "app/bin"})
        r = c.getresponse()
        assert r.status == 200
        r.read()
        c.close()
    assert rec.requests[1]["body"] == body
    assert rec.requests[1]["method"] == "POST"
    assert ("Content-Length", "100000") in rec.requests[1]["headers"]


def test_urllib_get_post_and_error_status():
    def answer(conn, msg):
        if msg.uri == "/missing":
            conn.reply(404, b"nope")
        else:
            conn.reply(201, b"made:" + msg.body, {"Location": "/things/1"})

    with ServerThread(Recorder(answer)) as srv:
        req = urllib.request.Request(srv.url + "/things", data=b"payload", method="POST")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 201
            assert r.headers["Location"] == "/things/1"
            assert r.read() == b"made:payload"
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(srv.url + "/missing", timeout=5)
        assert e.value.code == 404 and e.value.read() == b"nope"
        assert e.value.reason == "Not Found"


def test_requests_session_keeps_one_connection_alive():
    rec = Recorder()
    with ServerThread(rec) as srv, requests.Session() as s:
        for i in range(5):
            r = s.post(srv.url + f"/n/{i}", data=b"x" * i, timeout=5)
            assert r.status_code == 200
            assert r.json()["uri"] == f"/n/{i}"
    assert [q["body"] for q in rec.requests] == [b"x" * i for i in range(5)]
    assert len(set(rec.peers)) == 1, "all five requests came over one connection"
    assert all(q["keep_alive"] for q in rec.requests)


def test_requests_generator_body_is_sent_chunked_and_reassembled():
    rec = Recorder()
    pieces = [os.urandom(n) for n in (1, 10, 1000, 70_000, 3)]

    def gen():
        yield from pieces

    with ServerThread(rec) as srv:
        r = requests.put(srv.url + "/chunked", data=gen(), timeout=5)
        assert r.status_code == 200
    req = rec.requests[0]
    assert req["body"] == b"".join(pieces)
    assert ("Transfer-Encoding", "chunked") in req["headers"]
    assert req["flags"] & HttpFlag.CHUNKED


def test_aiohttp_client():
    aiohttp = pytest.importorskip("aiohttp")
    rec = Recorder(lambda conn, msg: conn.reply(200, msg.body[::-1], {"X-Len": len(msg.body)}))

    async def main(url: str) -> list[tuple[int, str, bytes]]:
        out = []
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            for i in range(3):
                async with session.post(url + "/a", data=b"abc" * (i + 1)) as r:
                    out.append((r.status, r.headers["X-Len"], await r.read()))
        return out

    with ServerThread(rec) as srv:
        got = asyncio.run(main(srv.url))
    assert got == [(200, str(3 * (i + 1)), b"cba" * (i + 1)) for i in range(3)]


def test_mgio_server_and_aiohttp_client_in_one_loop():
    """The server driven by mgio.aio.Driver, the client in the same asyncio loop."""
    aiohttp = pytest.importorskip("aiohttp")

    def handler(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            conn.reply(200, f"{msg.method} {msg.uri}")

    async def main() -> str:
        with mgio.Manager() as mgr:
            port = mgr.bind("tcp://127.0.0.1:0", handler, http=True).local_address[1]
            async with mgio.aio.Driver(mgr), aiohttp.ClientSession() as session:
                async with session.get(f"http://127.0.0.1:{port}/in-loop") as r:
                    assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
                    return await r.text()

    assert asyncio.run(asyncio.wait_for(main(), 10)) == "GET /in-loop"


# ---- curl -----------------------------------------------------------------------------


def curl(*args: str, stdin: bytes | None = None, timeout: float = 20) -> Any:
    return subprocess.run(
        [CURL, "-sS", "--max-time", "15", *args],
        input=stdin,
        capture_output=True,
        timeout=timeout,
        check=False,
    )


@needs_curl
def test_curl_get_post_and_head():
    rec = Recorder(lambda conn, msg: conn.reply(200, b"body of " + msg.method.encode()))
    with ServerThread(rec) as srv:
        p = curl(srv.url + "/a")
        assert p.returncode == 0 and p.stdout == b"body of GET"
        p = curl("-d", "k=v&w=x+y", srv.url + "/form")
        assert p.stdout == b"body of POST"
        p = curl("-I", srv.url + "/head")
        assert p.returncode == 0, p.stderr
        head = p.stdout.decode()
        assert head.startswith("HTTP/1.1 200 OK")
        assert "Content-Length: 12" in head  # the GET body's length, no body sent
    assert rec.requests[1]["body"] == b"k=v&w=x+y"
    assert rec.requests[2]["method"] == "HEAD"


@needs_curl
def test_curl_chunked_upload_from_stdin():
    rec = Recorder(lambda conn, msg: conn.reply(200, b"%d" % len(msg.body)))
    data = os.urandom(300_000)
    with ServerThread(rec) as srv:
        p = curl("-T", "-", srv.url + "/stdin", stdin=data)
        assert p.returncode == 0, p.stderr
        assert p.stdout == b"300000"
    req = rec.requests[0]
    assert req["method"] == "PUT"
    assert req["body"] == data
    assert req["flags"] & HttpFlag.CHUNKED


class Streamer:
    """Streams request bodies: on each EV_HTTP_CHUNK it counts and hashes the bytes and
    deletes them; tracks the largest chunk and receive buffer it saw."""

    def __init__(self):
        import hashlib

        self._hashlib = hashlib
        self.total = 0
        self.digest = hashlib.sha256()
        self.max_chunk = 0
        self.max_recv_buf = 0
        self.heads: list[list[tuple[str, str]]] = []
        self.done: list[int] = []

    def __call__(self, conn, ev, msg):
        if ev == EV_HTTP_CHUNK:
            if not self.heads:
                self.heads.append(msg.headers.items())
            body = msg.body
            self.total += len(body)
            self.digest.update(body)
            self.max_chunk = max(self.max_chunk, len(body))
            self.max_recv_buf = max(self.max_recv_buf, len(conn.recv_buf))
            conn.delete_chunk()
        elif ev == EV_HTTP_REQUEST:
            self.done.append(self.total)
            conn.reply(200, self.digest.hexdigest())


@needs_curl
def test_curl_big_post_sends_expect_100_continue(tmp_path):
    data = os.urandom(3 * 1024 * 1024)
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    streamer = Streamer()
    with ServerThread(streamer) as srv:
        p = curl("-v", "--data-binary", f"@{path}", srv.url + "/big")
        assert p.returncode == 0, p.stderr
    import hashlib

    assert p.stdout.decode() == hashlib.sha256(data).hexdigest()
    assert b"< HTTP/1.1 100 Continue" in p.stderr
    heads = dict((k.lower(), v) for k, v in streamer.heads[0])
    assert heads["expect"] == "100-continue"
    assert streamer.done == [len(data)]


def test_expect_100_continue_over_a_raw_socket():
    rec = Recorder(lambda conn, msg: conn.reply(200, b"got " + msg.body))
    with ServerThread(rec) as srv, socket.create_connection(("127.0.0.1", srv.port), 5) as s:
        s.sendall(
            b"POST /e HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
        )
        s.settimeout(5)
        interim = b""
        while not interim.endswith(b"\r\n\r\n"):
            interim += s.recv(1)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b"hello")
        [(status, _, body)] = read_responses(s, 1)
        assert (status, body) == (200, b"got hello")


def test_expectation_other_than_100_continue_is_417_then_close():
    with ServerThread(Recorder()) as srv:
        out = raw_exchange(srv.port, b"GET / HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 417 Expectation Failed\r\n")
        assert b"Connection: close" in out


# ---- keep-alive, pipelining, HEAD, Connection: close -------------------------------------


def test_pipelined_requests_are_answered_in_order():
    rec = Recorder(lambda conn, msg: conn.reply(200, msg.uri.encode()))
    reqs = b"".join(
        b"GET /%d HTTP/1.1\r\nHost: x\r\n\r\n" % i
        if i != 1
        else b"POST /1 HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc"
        for i in range(3)
    )
    with ServerThread(rec) as srv, socket.create_connection(("127.0.0.1", srv.port), 5) as s:
        s.sendall(reqs)  # all three at once
        answers = read_responses(s, 3)
    assert [(st, body) for st, _, body in answers] == [(200, b"/0"), (200, b"/1"), (200, b"/2")]
    assert [q["uri"] for q in rec.requests] == ["/0", "/1", "/2"]
    assert rec.requests[1]["body"] == b"abc"


def test_head_request_gets_the_head_without_the_body():
    rec = Recorder(lambda conn, msg: conn.reply(200, b"0123456789"))
    with ServerThread(rec) as srv:
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        c.request("HEAD", "/h")
        r = c.getresponse()
        assert r.status == 200 and r.getheader("Content-Length") == "10"
        assert r.read() == b""
        c.request("GET", "/g")  # the same connection is still in step
        r = c.getresponse()
        assert r.read() == b"0123456789"
        c.close()


def test_head_with_chunked_answer_sends_no_chunks():
    def answer(conn, msg):
        conn.send_head(200, headers={"X-A": "1"})
        conn.send_chunk(b"abc")
        conn.send_chunk(b"")

    with ServerThread(Recorder(answer)) as srv:
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        c.request("HEAD", "/")
        r = c.getresponse()
        assert r.getheader("Transfer-Encoding") == "chunked"
        r.read()
        c.request("GET", "/")
        r = c.getresponse()
        assert r.read() == b"abc"


def test_connection_close_request_is_answered_then_closed():
    with ServerThread(Recorder(lambda c, m: c.reply(200, b"bye"))) as srv:
        out = raw_exchange(
            srv.port,
            b"GET /a HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            b"GET /b HTTP/1.1\r\nHost: x\r\n\r\n",  # after a close: never parsed
        )
        assert out.count(b"HTTP/1.1 200") == 1 and out.endswith(b"bye")
        out = raw_exchange(srv.port, b"GET /c HTTP/1.0\r\n\r\n")  # 1.0 without keep-alive
        assert out.startswith(b"HTTP/1.1 200 OK") and out.endswith(b"bye")


# ---- malformed requests get their status, then the server goes on --------------------


@pytest.mark.parametrize(
    ("request_bytes", "status"),
    [
        (b"GARBAGE\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nBad Header: y\r\n\r\n", 400),
        (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
        (b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
        (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-H: v\r\n" * 150 + b"\r\n", 431),
        (b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"v" * 40000 + b"\r\n\r\n", 431),
        (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
        (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400),
        (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 400),
        (b"GET / HTTP/1.1\r\nHost: x\r\nExpect: foo\r\n\r\n", 417),
    ],
    ids=[
        "garbage",
        "space-in-name",
        "no-host",
        "414",
        "431-count",
        "431-size",
        "505",
        "501",
        "cl-conflict",
        "bad-chunk",
        "417",
    ],
)
def test_malformed_request_gets_its_status_and_close(request_bytes, status):
    rec = Recorder(lambda c, m: c.reply(200, b"fine"))
    with ServerThread(rec) as srv:
        out = raw_exchange(srv.port, request_bytes + b"GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 %d " % status), out[:80]
        assert out.count(b"HTTP/1.1 ") == 1, "nothing after the error is answered"
        assert b"Connection: close" in out
        # a fresh connection is served normally
        out = raw_exchange(srv.port, b"GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert out.startswith(b"HTTP/1.1 200 OK") and out.endswith(b"fine")
    assert [q["uri"] for q in rec.requests] == ["/ok"]


def test_body_over_the_buffered_limit_is_413():
    rec = Recorder()
    with ServerThread(rec) as srv:
        body = b"x" * (1024 * 1024 + 1)
        head = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
        with socket.create_connection(("127.0.0.1", srv.port), 5) as s:
            s.sendall(head)
            try:
                s.sendall(body)
            except (BrokenPipeError, ConnectionResetError):
                pass
            out = recv_until_closed(s)
        assert out.startswith(b"HTTP/1.1 413 ")
    assert rec.requests == []


# ---- streaming uploads in bounded memory -------------------------------------------------


def test_large_upload_streams_with_delete_chunk_in_bounded_memory():
    size = 48 * 1024 * 1024
    piece = os.urandom(64 * 1024)
    streamer = Streamer()
    import hashlib

    expected = hashlib.sha256()
    for _ in range(size // len(piece)):
        expected.update(piece)
    with ServerThread(streamer) as srv:
        tracemalloc.start()
        try:
            with socket.create_connection(("127.0.0.1", srv.port), 10) as s:
                s.sendall(b"PUT /big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % size)
                for _ in range(size // len(piece)):
                    s.sendall(piece)
                [(status, _, body)] = read_responses(s, 1, timeout=30)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert status == 200 and body.decode() == expected.hexdigest()
    assert streamer.done == [size]
    assert streamer.total == size
    # memory stays bounded by a read or two, whatever the body size
    assert streamer.max_recv_buf < 2 * 1024 * 1024, streamer.max_recv_buf
    assert peak < 8 * 1024 * 1024, peak


def test_chunked_upload_streams_too():
    streamer = Streamer()
    pieces = [os.urandom(100_000) for _ in range(30)]  # 3 MB: over the buffered limit

    def gen():
        yield from pieces

    import hashlib

    with ServerThread(streamer) as srv:
        r = requests.post(srv.url + "/s", data=gen(), timeout=10)
    assert r.status_code == 200
    assert r.text == hashlib.sha256(b"".join(pieces)).hexdigest()
    assert streamer.done == [3_000_000]


# ---- response methods -------------------------------------------------------------------


def test_reply_headers_mapping_pairs_and_duplicates():
    def answer(conn, msg):
        if msg.uri == "/pairs":
            conn.reply(200, b"p", [("Set-Cookie", "a=1"), ("Set-Cookie", "b=2"), (b"X-B", b"v")])
        else:
            conn.reply(200, "héllo", {"X-Num": 42})

    with ServerThread(Recorder(answer)) as srv:
        r = requests.get(srv.url + "/pairs", timeout=5)
        assert r.raw.headers.getlist("Set-Cookie") == ["a=1", "b=2"]
        assert r.headers["X-B"] == "v"
        r = requests.get(srv.url + "/text", timeout=5)
        assert r.headers["X-Num"] == "42"
        assert r.headers["Content-Type"] == "text/plain; charset=utf-8"
        assert r.text == "héllo"


def test_response_methods_take_keywords_and_refuse_bad_arguments():
    """reply/send_head/send_error/send_ws bind their arguments as a Python function would
    (by position or keyword; unknown, repeated, missing or mistyped ones raise)."""
    errors: list[str] = []

    def answer(conn, msg):
        bad_calls = [
            lambda: conn.reply(200, b"x", None, 1),
            lambda: conn.reply(bogus=1),
            lambda: conn.reply(200, status=201),
            lambda: conn.reply("200"),
            lambda: conn.reply(2**40),
            lambda: conn.send_head(),
            lambda: conn.send_error(code=None),
            lambda: conn.send_ws("x", 1, True),
        ]
        for call in bad_calls:
            try:
                call()
            except (TypeError, OverflowError) as e:
                errors.append(type(e).__name__)
        conn.reply(body=b"kw", headers={"X-Kw": "1"}, status=202)

    with ServerThread(Recorder(answer)) as srv:
        r = requests.get(srv.url + "/", timeout=5)
    assert (r.status_code, r.content, r.headers["X-Kw"]) == (202, b"kw", "1")
    assert errors == ["TypeError"] * 4 + ["OverflowError"] + ["TypeError"] * 3


def test_send_head_and_chunks_and_fixed_length_body():
    def answer(conn, msg):
        if msg.uri == "/chunked":
            conn.send_head(200, headers={"Content-Type": "text/plain"})
            for part in (b"one ", "two ", b"three"):
                conn.send_chunk(part)
            conn.send_chunk(b"")
        else:
            conn.send_head(200, 5)
            conn.send(b"fixed")

    with ServerThread(Recorder(answer)) as srv:
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        c.request("GET", "/chunked")
        r = c.getresponse()
        assert r.getheader("Transfer-Encoding") == "chunked"
        assert r.read() == b"one two three"
        c.request("GET", "/fixed")
        r = c.getresponse()
        assert r.read() == b"fixed"


def test_send_error_and_redirect():
    def answer(conn, msg):
        if msg.uri == "/err":
            conn.send_error(403)
        elif msg.uri == "/err2":
            conn.send_error(503, "try later")
        else:
            conn.redirect("/elsewhere?a=<b>", 301, {"X-R": "1"})

    with ServerThread(Recorder(answer)) as srv:
        r = requests.get(srv.url + "/err", timeout=5)
        assert (r.status_code, r.text) == (403, "Forbidden")
        assert r.headers["Connection"] == "close"
        r = requests.get(srv.url + "/err2", timeout=5)
        assert (r.status_code, r.reason, r.text) == (503, "Service Unavailable", "try later")
        r = requests.get(srv.url + "/r", timeout=5, allow_redirects=False)
        assert r.status_code == 301
        assert r.headers["Location"] == "/elsewhere?a=<b>"
        assert r.headers["X-R"] == "1"
        assert "&lt;b&gt;" in r.text


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Bad": "a\r\nInjected: yes"},
        {"X-Bad": "a\nb"},
        {"X-Bad": "a\rb"},
        {"X-Bad": "a\x00b"},
        {"Bad Name": "v"},
        {"Bad:Name": "v"},
        {"": "v"},
        {"X\r\nInjected": "v"},
        [("X-A", "1", "extra")],
        "X-A: 1",
        {"Content-Length": "5"},
        {"transfer-encoding": "chunked"},
    ],
)
def test_bad_headers_are_refused_before_anything_is_sent(headers):
    errors: list[BaseException] = []

    def answer(conn, msg):
        for call in (
            lambda: conn.reply(200, b"x", headers),
            lambda: conn.send_head(200, 1, headers),
            lambda: conn.redirect("/x", 302, headers),
        ):
            try:
                call()
            except (ValueError, TypeError) as e:
                errors.append(e)
            assert len(conn.send_buf) == 0, "nothing was queued"
        conn.reply(200, b"clean")

    with ServerThread(Recorder(answer)) as srv:
        r = requests.get(srv.url + "/", timeout=5)
        assert r.text == "clean"
        assert "Injected" not in r.headers
    assert len(errors) == 3


def test_redirect_location_and_error_reason_are_checked():
    seen: list[str] = []

    def answer(conn, msg):
        for call in (
            lambda: conn.redirect("/a\r\nSet-Cookie: x=1"),
            lambda: conn.send_error(400, "a\x00b"),
            lambda: conn.reply(99),
            lambda: conn.reply(1000),
            lambda: conn.reply(204, b"body"),
            lambda: conn.reply(304, b"body"),
        ):
            with pytest.raises(ValueError) as e:
                call()
            seen.append(str(e.value))
        conn.reply(204)

    with ServerThread(Recorder(answer)) as srv:
        r = requests.get(srv.url + "/", timeout=5)
        assert r.status_code == 204 and r.content == b""
        assert "Content-Length" not in r.headers
    assert len(seen) == 6


def test_methods_raise_connection_error_once_closed(mgr):
    kept: list[mgio.Connection] = []

    def handler(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            kept.append(conn)
            conn.reply(200, b"x")
            conn.close()

    srv = mgr.bind("tcp://127.0.0.1:0", handler, http=True)
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        poll_until(mgr, lambda: kept and kept[0].closed)
    conn = kept[0]
    for call in (
        lambda: conn.reply(200),
        lambda: conn.send_head(200),
        lambda: conn.send_chunk(b"x"),
        lambda: conn.send_error(500),
        lambda: conn.redirect("/"),
        lambda: conn.delete_chunk(),
    ):
        with pytest.raises(ConnectionError):
            call()


def test_handler_exception_answers_500_and_is_raised_from_poll(mgr):
    def handler(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            raise RuntimeError("boom in handler")

    srv = mgr.bind("tcp://127.0.0.1:0", handler, http=True)
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(RuntimeError, match="boom in handler"):
            poll_until(mgr, lambda: False, timeout=5)
        got = poll_recv_until_closed(mgr, s)
    assert got.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert b"Connection: close" in got
    poll_until(mgr, lambda: mgr.connections == [srv])  # closed once the client is gone


def test_exception_while_a_body_streams_answers_500(mgr):
    def handler(conn, ev, msg):
        if ev == EV_HTTP_CHUNK and msg.body:
            raise ValueError("bad upload")

    srv = mgr.bind("tcp://127.0.0.1:0", handler, http=True)
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\npart")
        with pytest.raises(ValueError, match="bad upload"):
            poll_until(mgr, lambda: False, timeout=5)
        got = poll_recv_until_closed(mgr, s)
    assert got.startswith(b"HTTP/1.1 500 Internal Server Error\r\n")


# ---- HttpMessage ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "want"),
    [
        ("Basic Zm9vOmJhcg==", ("foo", "bar")),
        ("basic Zm9vOmJhcg==", ("foo", "bar")),  # the scheme is case-insensitive
        ("Basic dTpwOnc=", ("u", "p:w")),  # the first colon splits
        ("Basic w6lsYTrDqQ==", ("\u00e9la", "\u00e9")),  # UTF-8
        ("Basic OmJhcg==", None),  # empty user
        ("Basic Zm9vYmFy", None),  # no colon
        ("Basic Zm9v!mJhcg==", None),  # not base64
        ("Digest username=foo", None),  # another scheme
        ("Basic /w==", None),  # not UTF-8 (and no colon)
    ],
)
def test_http_message_basic_auth(mgr, field, want):
    got = []

    def handler(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            got.append(msg.basic_auth())
            conn.reply(200)

    srv = mgr.bind("tcp://127.0.0.1:0", handler, http=True)
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        s.sendall(f"GET / HTTP/1.1\r\nHost: x\r\nAuthorization: {field}\r\n\r\n".encode())
        poll_until(mgr, lambda: got)
    assert got == [want]


def test_http_message_attributes_headers_and_vars():
    seen: dict = {}

    def answer(conn, msg):
        h = msg.headers
        seen.update(
            method=msg.method,
            uri=msg.uri,
            query=msg.query_string,
            proto=msg.proto,
            status=msg.status,
            status_text=msg.status_text,
            content_length=msg.content_length,
            chunked=msg.chunked,
            keep_alive=msg.keep_alive,
            header=msg.header("x-dup"),
            header_default=msg.header("absent", "dflt"),
            getall=h.getall("X-DUP"),
            contains=("x-Dup" in h, "nope" in h),
            length=len(h),
            names=list(h),
            get=h.get("content-type"),
            var_q=msg.var("q"),
            var_case=msg.var("Q"),
            var_body=msg.var("f"),
            var_space=msg.var("sp"),
            var_missing=msg.var("zz", "none"),
            var_bad=msg.var("bad", "malformed"),
            var_empty=msg.var("e"),
        )
        assert msg.basic_auth() is None  # no Authorization field
        with pytest.raises(TypeError):
            msg.header(b"x")
        conn.reply(200)

    req = (
        b"POST /p%20ath/x?q=%41b&sp=a+b&bad=%zz&e= HTTP/1.1\r\n"
        b"Host: h\r\nX-Dup: one\r\nx-dup: two\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 9\r\n\r\n"
        b"f=1&q=zzz"
    )
    with (
        ServerThread(Recorder(answer)) as srv,
        socket.create_connection(("127.0.0.1", srv.port), 5) as s,
    ):
        s.sendall(req)
        [(status, _, _)] = read_responses(s, 1)
    assert status == 200
    assert seen == dict(
        method="POST",
        uri="/p%20ath/x",
        query="q=%41b&sp=a+b&bad=%zz&e=",
        proto="HTTP/1.1",
        status=0,
        status_text="",
        content_length=9,
        chunked=False,
        keep_alive=True,
        header="one",
        header_default="dflt",
        getall=["one", "two"],
        contains=(True, False),
        length=5,
        names=["Host", "X-Dup", "x-dup", "Content-Type", "Content-Length"],
        get="application/x-www-form-urlencoded",
        var_q="Ab",
        var_case="Ab",
        var_body="1",
        var_space="a b",
        var_missing="none",
        var_bad="malformed",
        var_empty="",
    )


def test_http_message_cannot_be_made_from_python():
    with pytest.raises(TypeError):
        mgio.HttpMessage()


# ---- lifetimes: copy on escape -----------------------------------------------------------


def test_kept_messages_stay_valid_after_more_requests(mgr):
    """Messages kept past their handler are copied then: later requests reuse and grow
    the receive buffer, the connection closes and is freed, and the kept ones still read
    what they were."""
    kept: list[mgio.HttpMessage] = []
    untouched: list[mgio.HttpMessage] = []

    def handler(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            if msg.uri.startswith("/keep"):
                kept.append(msg)  # nothing read in the handler
            else:
                _ = msg.method  # touched, then kept
                untouched.append(msg)
            conn.reply(200, b"ok")

    srv = mgr.bind("tcp://127.0.0.1:0", handler, http=True)
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        for i in range(20):
            body = bytes([65 + i % 26]) * (i * 1000)
            path = b"/keep/%d" % i if i % 2 == 0 else b"/other/%d" % i
            s.sendall(
                b"POST %s?i=%d HTTP/1.1\r\nHost: h\r\nX-I: %d\r\nContent-Length: %d\r\n\r\n%s"
                % (path, i, i, len(body), body)
            )
            s.setblocking(False)
            poll_until(mgr, lambda n=i: len(kept) + len(untouched) == n + 1)
            s.setblocking(True)
    poll_until(mgr, lambda: len(mgr.connections) == 1)  # the connection is gone
    for msg in kept + untouched:
        i = int(msg.query_string.split("=")[1])
        assert msg.uri == (f"/keep/{i}" if i % 2 == 0 else f"/other/{i}")
        assert msg.method == "POST" and msg.proto == "HTTP/1.1"
        assert msg.header("x-i") == str(i) and msg.headers["Host"] == "h"
        assert msg.var("i") == str(i)
        assert msg.body == bytes([65 + i % 26]) * (i * 1000)
        assert "(copy)" in repr(msg)


@pytest.mark.parametrize("mode", ["untouched", "body-read", "kept"])
def test_common_path_copies_nothing_it_does_not_touch(mgr, mode):
    """A 900 KB body: a handler that reads only the method and URI makes no copy of it;
    one that reads .body makes one bytes object; one that keeps the message makes one
    copy when it returns."""
    size = 900_000
    kept: list[mgio.HttpMessage] = []
    done: list[bool] = []

    def handler(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            assert msg.method == "POST" and msg.uri == "/b"
            if mode == "body-read":
                assert len(msg.body) == size
            elif mode == "kept":
                kept.append(msg)
            conn.reply(200)
            done.append(True)

    srv = mgr.bind("tcp://127.0.0.1:0", handler, http=True)
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        s.sendall(b"POST /b HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n" % size)
        s.setblocking(False)
        poll_until(mgr, lambda: len(mgr.connections) == 2)
        tracemalloc.start()
        try:
            view = memoryview(b"x" * size)
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()

            def pump() -> bool:
                nonlocal view
                if view:
                    try:
                        view = view[s.send(view) :]
                    except BlockingIOError:
                        pass
                return bool(done)

            poll_until(mgr, pump, step_ms=1)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    extra = peak - base  # the receive buffer, plus any copy of the body
    if mode == "untouched":
        assert extra < 1.6 * size, extra
    else:
        assert extra > 1.8 * size, extra
    if mode == "kept":
        assert kept[0].body == b"x" * size


def test_message_survives_recv_buf_edits_in_the_handler(mgr):
    """A handler that empties or frees recv_buf while holding the message: the message
    copies itself first."""
    results: list[tuple] = []

    def handler(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            conn.recv_buf.clear()
            conn.recv_buf.free()
            results.append((msg.method, msg.uri, msg.body, msg.header("x-a")))
            conn.reply(200, b"ok")

    srv = mgr.bind("tcp://127.0.0.1:0", handler, http=True)
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        s.sendall(b"PUT /r HTTP/1.1\r\nHost: h\r\nX-A: b\r\nContent-Length: 4\r\n\r\nbody")
        poll_until(mgr, lambda: results)
    assert results == [("PUT", "/r", b"body", "b")]


def test_chunk_event_messages_are_snapshots(mgr):
    kept: list[tuple[int, mgio.HttpMessage]] = []

    def handler(conn, ev, msg):
        if ev == EV_HTTP_CHUNK:
            kept.append((len(conn.recv_buf), msg))
        elif ev == EV_HTTP_REQUEST:
            kept.append((-1, msg))
            conn.reply(200)

    srv = mgr.bind("tcp://127.0.0.1:0", handler, http=True)
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\nabc")
        poll_until(mgr, lambda: len(kept) >= 1)
        s.sendall(b"def")
        poll_until(mgr, lambda: kept and kept[-1][0] == -1)
    bodies = [m.body for _, m in kept]
    assert bodies[-1] == b"abcdef"
    assert b"abc" in bodies[:-1]
    for earlier, later in itertools.pairwise(bodies):
        assert later.startswith(earlier)


def test_escape_stress_many_requests_some_kept(mgr):
    """Thousands of pipelined requests; every seventh message is kept (in a list, in a
    closure, in an exception traceback); all read back intact at the end."""
    kept: list = []
    errors: list = []

    def handler(conn, ev, msg):
        if ev != EV_HTTP_REQUEST:
            return
        n = int(msg.uri[1:])
        if n % 7 == 0:
            kept.append(msg)
        elif n % 7 == 1:
            kept.append(lambda m=msg: m)
        elif n % 7 == 2:
            try:
                raise KeyError(msg)
            except KeyError as e:
                errors.append(e)
        else:
            assert msg.body == b"%d" % n
        conn.reply(200, b"%d" % n)

    srv = mgr.bind("tcp://127.0.0.1:0", handler, http=True)
    srv.set_limits(max_requests=0)  # all on one connection (the default ends it at 1000)
    total = 2000
    batch = b"".join(
        b"POST /%d HTTP/1.1\r\nHost: h\r\nContent-Length: %d\r\n\r\n%d" % (n, len(b"%d" % n), n)
        for n in range(total)
    )
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        s.setblocking(False)
        view = memoryview(batch)
        received = bytearray()

        def pump() -> bool:
            nonlocal view
            if view:
                try:
                    view = view[s.send(view) :]
                except BlockingIOError:
                    pass
            try:
                while chunk := s.recv(1 << 20):
                    received.extend(chunk)
            except BlockingIOError:
                pass
            return received.count(b"HTTP/1.1 200") == total

        poll_until(mgr, pump, timeout=30, step_ms=1)
    msgs = [k if isinstance(k, mgio.HttpMessage) else k() for k in kept]
    msgs += [e.args[0] for e in errors]
    assert len(msgs) == len([n for n in range(total) if n % 7 in (0, 1, 2)])
    for m in msgs:
        n = int(m.uri[1:])
        assert m.body == b"%d" % n
        assert m.headers.get("content-length") == str(len(b"%d" % n))


# ---- endpoints ---------------------------------------------------------------------------


def test_endpoints_longest_match_wins_and_fallback_to_the_handler():
    calls: list[tuple[str, str]] = []

    def make(name):
        def endpoint(conn, ev, msg):
            if ev == EV_HTTP_REQUEST:
                calls.append((name, msg.uri))
                conn.reply(200, name)

        return endpoint

    class ApiV2(mgio.Handler):
        def on_http_request(self, conn, msg):
            calls.append(("v2", msg.uri))
            conn.reply(200, "v2")

    def main(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            calls.append(("main", msg.uri))
            conn.reply(200, "main")

    def setup(listener):
        listener.register_endpoint("/api", make("api"))
        listener.register_endpoint("/api/v1", make("v1"))
        listener.register_endpoint("/api/v2/**", ApiV2())
        listener.register_endpoint("/exact$", make("exact"))
        listener.register_endpoint("/re", make("old"))
        listener.register_endpoint("/re", make("new"))  # replaces

    with ServerThread(main, setup=setup) as srv, requests.Session() as s:
        for path in ["/api/x", "/api/v1/y", "/api/v2/a/b", "/exact", "/exact/no", "/other", "/re"]:
            r = s.get(srv.url + path, timeout=5)
            assert r.status_code == 200
    assert calls == [
        ("api", "/api/x"),
        ("v1", "/api/v1/y"),
        ("v2", "/api/v2/a/b"),
        ("exact", "/exact"),
        ("main", "/exact/no"),
        ("main", "/other"),
        ("new", "/re"),
    ]


def test_endpoint_can_stream_and_needs_a_listener(mgr):
    streamer = Streamer()
    srv = mgr.bind("tcp://127.0.0.1:0", None, http=True)
    srv.register_endpoint("/up", streamer)
    with pytest.raises(TypeError):
        srv.register_endpoint("/x", 42)
    client = mgr.connect(f"tcp://127.0.0.1:{srv.local_address[1]}", None)
    with pytest.raises(ValueError):
        client.register_endpoint("/x", streamer)
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        s.sendall(b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n")
        s.sendall(b"z" * 2_000_000)
        s.setblocking(False)
        poll_until(mgr, lambda: streamer.done == [2_000_000], timeout=10)


def test_endpoint_handlers_stay_alive_with_their_connections(mgr):
    """The listener's Python object may go; the endpoint handler still serves."""
    import gc
    import weakref

    got: list[str] = []

    class Ep:
        def __call__(self, conn, ev, msg):
            if ev == EV_HTTP_REQUEST:
                got.append(msg.uri)
                conn.reply(200)

    ep = Ep()
    ref = weakref.ref(ep)
    srv = mgr.bind("tcp://127.0.0.1:0", None, http=True)
    srv.register_endpoint("/e", ep)
    port = srv.local_address[1]
    del ep, srv
    gc.collect()
    assert ref() is not None
    with socket.create_connection(("127.0.0.1", port), 5) as s:
        s.sendall(b"GET /e1 HTTP/1.1\r\nHost: h\r\n\r\n")
        poll_until(mgr, lambda: got == ["/e1"])


# ---- events, Handler ----------------------------------------------------------------------


def test_handler_subclass_gets_http_events_only_as_declared():
    seen: list[tuple[str, object]] = []

    class H(mgio.Handler):
        def on_http_chunk(self, conn, msg):
            seen.append(("chunk", len(msg.body)))

        def on_http_request(self, conn, msg):
            seen.append(("request", msg.body))
            conn.reply(200, b"k")

        def on_close(self, conn):
            seen.append(("close", None))

    assert H._mgio_events == (
        mgio.event_bit(EV_HTTP_CHUNK) | mgio.event_bit(EV_HTTP_REQUEST) | mgio.event_bit(EV_CLOSE)
    )
    with ServerThread(H()) as srv:
        requests.post(srv.url + "/", data=b"12345", headers={"Connection": "close"}, timeout=5)
        wait_for(lambda: ("close", None) in seen)
    assert ("request", b"12345") in seen
    assert seen[-1] == ("close", None)
    assert all(kind in ("chunk", "request", "close") for kind, _ in seen)


def test_event_numbers_and_bits():
    assert mgio.EV_HTTP_REQUEST == 100 and mgio.EV_HTTP_REPLY == 101
    assert mgio.EV_HTTP_CHUNK == 102
    assert mgio.EV_WEBSOCKET_FRAME == 113 and mgio.EV_HTTP_PART_DATA == 123
    bits = {mgio.event_bit(ev) for ev in mgio.Event}
    assert len(bits) == len(mgio.Event), "every event has its own bit"
    assert all(b < 1 << 32 for b in bits)
    assert mgio.event_bit(mgio.EV_RECV) == 1 << mgio.EV_RECV  # the old events keep theirs


def test_plain_function_with_http_event_mask(mgr):
    seen: list[int] = []

    def handler(conn, ev, msg):
        seen.append(ev)
        if ev == EV_HTTP_REQUEST:
            conn.reply(200)

    handler._mgio_events = mgio.event_bit(EV_HTTP_REQUEST)
    srv = mgr.bind("tcp://127.0.0.1:0", handler, http=True)
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nx")
        poll_until(mgr, lambda: seen)
        poll_for_a_bit = time.monotonic() + 0.1
        poll_until(mgr, lambda: time.monotonic() > poll_for_a_bit)
    assert seen == [EV_HTTP_REQUEST]


def test_bind_http_on_udp_is_refused(mgr):
    with pytest.raises(ValueError):
        mgr.bind("udp://127.0.0.1:0", None, http=True)


def test_many_concurrent_clients():
    rec = Recorder(lambda conn, msg: conn.reply(200, msg.uri.encode()))
    results: list[bytes] = []
    lock = threading.Lock()

    def client(i: int) -> None:
        with requests.Session() as s:
            for k in range(5):
                r = s.get(f"{srv.url}/{i}/{k}", timeout=10)
                with lock:
                    results.append(r.content)

    with ServerThread(rec) as srv:
        threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(30)
    assert sorted(results) == sorted(f"/{i}/{k}".encode() for i in range(20) for k in range(5))
