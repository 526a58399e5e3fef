"""Static files from Python: Connection.serve_file and Connection.serve_dir (the C
mg_http_serve_file / mg_serve_http) against requests, http.client and raw sockets."""

from __future__ import annotations

import hashlib
import http.client
import os
import socket

import mgio
import pytest
import requests
from conftest import ServerThread, poll_until
from mgio import EV_HTTP_REQUEST, EV_TIMER


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    root.mkdir()
    (root / "index.html").write_text("<h1>home</h1>")
    (root / "small.txt").write_text("small text")
    (root / "data.json").write_text('{"a": 1}')
    (root / "big.bin").write_bytes(os.urandom(3 * 1024 * 1024 + 5))
    (root / "secret.bak").write_text("hidden")
    (root / "thing.xyz").write_text("custom type")
    sub = root / "sub dir"
    sub.mkdir()
    (sub / "a&b.txt").write_text("in sub")
    (tmp_path / "outside.txt").write_text("outside the root")
    return root


def file_server(path_of):
    """A handler serving serve_file(msg, path_of(msg))."""

    def handler(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            conn.serve_file(msg, path_of(msg))

    return handler


def test_serve_file_get_head_and_big(site):
    def path_of(msg):
        return site / msg.uri.lstrip("/")

    big = (site / "big.bin").read_bytes()
    with ServerThread(file_server(path_of)) as srv, requests.Session() as s:
        r = s.get(srv.url + "/small.txt", timeout=5)
        assert (r.status_code, r.text) == (200, "small text")
        assert r.headers["Content-Type"].startswith("text/plain")
        assert "ETag" in r.headers and "Last-Modified" in r.headers
        r = s.get(srv.url + "/big.bin", timeout=10)
        assert r.status_code == 200
        assert hashlib.sha256(r.content).digest() == hashlib.sha256(big).digest()
        r = s.head(srv.url + "/big.bin", timeout=5)
        assert r.headers["Content-Length"] == str(len(big)) and r.content == b""
        r = s.get(srv.url + "/data.json", timeout=5)
        assert r.headers["Content-Type"].startswith("application/json")
        r = s.get(srv.url + "/missing", timeout=5)
        assert r.status_code == 404


def test_serve_file_conditional_and_range(site):
    with ServerThread(file_server(lambda msg: str(site / "big.bin"))) as srv:
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=5)
        c.request("GET", "/", headers={"Range": "bytes=10-19"})
        r = c.getresponse()
        assert r.status == 206
        assert r.read() == (site / "big.bin").read_bytes()[10:20]
        etag = r.getheader("ETag")
        c.request("GET", "/", headers={"If-None-Match": etag})
        r = c.getresponse()
        assert r.status == 304 and r.read() == b""
        c.request("GET", "/", headers={"Range": "bytes=999999999-"})
        r = c.getresponse()
        assert r.status == 416
        r.read()
        c.close()


def test_serve_file_mime_and_headers(site):
    def handler(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            conn.serve_file(msg, os.fsencode(site / "small.txt"), "text/x-mine", {"X-F": "1"})

    with ServerThread(handler) as srv:
        r = requests.get(srv.url + "/", timeout=5)
        assert r.headers["Content-Type"] == "text/x-mine"
        assert r.headers["X-F"] == "1"
        assert r.text == "small text"


def test_serve_file_refuses_bad_arguments(site):
    outcomes: list[str] = []

    def handler(conn, ev, msg):
        if ev != EV_HTTP_REQUEST:
            return
        for call in (
            lambda: conn.serve_file(msg, site / "small.txt", "text/x\r\nX: y"),
            lambda: conn.serve_file(msg, site / "small.txt", None, {"X": "a\nb"}),
            lambda: conn.serve_file("not a message", site / "small.txt"),
            lambda: conn.serve_file(msg, 42),
        ):
            try:
                call()
            except (ValueError, TypeError) as e:
                outcomes.append(type(e).__name__)
        conn.serve_file(msg, site / "small.txt")

    with ServerThread(handler) as srv:
        r = requests.get(srv.url + "/", timeout=5)
        assert r.text == "small text"
    assert outcomes == ["ValueError", "ValueError", "TypeError", "TypeError"]


def test_serve_file_later_from_a_kept_message(mgr, site):
    """A message kept past its handler (copied) still serves its file later: here from
    the connection's timer, as a deferred answer would."""
    pending: dict[mgio.Connection, mgio.HttpMessage] = {}

    def handler(conn, ev, data):
        if ev == EV_HTTP_REQUEST:
            pending[conn] = data
            conn.set_timer(mgio.time() + 0.05)
        elif ev == EV_TIMER:
            conn.serve_file(pending.pop(conn), site / "small.txt")

    srv = mgr.bind("tcp://127.0.0.1:0", handler, http=True)
    with socket.create_connection(("127.0.0.1", srv.local_address[1]), 5) as s:
        s.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\nRange: bytes=0-4\r\n\r\n")
        s.setblocking(False)
        got = bytearray()

        def done() -> bool:
            try:
                got.extend(s.recv(65536))
            except BlockingIOError:
                pass
            return got.endswith(b"small")

        poll_until(mgr, done)
    assert got.startswith(b"HTTP/1.1 206 Partial Content\r\n")


def test_serve_dir(site):
    def handler(conn, ev, msg):
        if ev == EV_HTTP_REQUEST:
            conn.serve_dir(
                msg,
                site,
                hidden_file_pattern="**.bak$",
                custom_mime_types=".xyz=application/x-xyz",
                headers={"X-Site": "1"},
            )

    with ServerThread(handler) as srv, requests.Session() as s:
        r = s.get(srv.url + "/", timeout=5)
        assert (r.status_code, r.text) == (200, "<h1>home</h1>")
        assert r.headers["X-Site"] == "1"
        assert r.headers["Content-Type"].startswith("text/html")
        r = s.get(srv.url + "/sub%20dir/", timeout=5)
        assert r.status_code == 200 and "a&amp;b.txt" in r.text
        r = s.get(srv.url + "/sub%20dir", timeout=5, allow_redirects=False)
        assert r.status_code == 301 and r.headers["Location"].endswith("/sub%20dir/")
        r = s.get(srv.url + "/sub%20dir/a%26b.txt", timeout=5)
        assert r.text == "in sub"
        assert s.get(srv.url + "/secret.bak", timeout=5).status_code == 404
        assert s.get(srv.url + "/thing.xyz", timeout=5).headers["Content-Type"] == (
            "application/x-xyz"
        )
        assert s.get(srv.url + "/%2e%2e/outside.txt", timeout=5).status_code in (400, 404)
        r = s.post(srv.url + "/small.txt", data=b"x", timeout=5)
        assert r.status_code == 405 and "GET" in r.headers["Allow"]
        r = s.get(srv.url + "/big.bin", timeout=10)
        assert r.content == (site / "big.bin").read_bytes()


def test_serve_dir_listing_disabled_and_options_checked(site):
    errors: list[str] = []

    def handler(conn, ev, msg):
        if ev != EV_HTTP_REQUEST:
            return
        for kwargs in ({"no_such_option": "x"}, {"index_files": 3}, {"ip_acl": "a\x00b"}):
            try:
                conn.serve_dir(msg, site, **kwargs)
            except (TypeError, ValueError) as e:
                errors.append(type(e).__name__)
        conn.serve_dir(msg, site, enable_directory_listing=False, index_files="nope.html")

    with ServerThread(handler) as srv:
        r = requests.get(srv.url + "/sub%20dir/", timeout=5)
        assert r.status_code == 403
    assert errors == ["TypeError", "TypeError", "ValueError"]


def test_pipelined_big_files_are_sent_in_order(site):
    big = (site / "big.bin").read_bytes()
    with ServerThread(file_server(lambda msg: site / msg.uri.lstrip("/"))) as srv:
        with socket.create_connection(("127.0.0.1", srv.port), 10) as s:
            s.sendall(
                b"GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n"
                b"GET /small.txt HTTP/1.1\r\nHost: h\r\n\r\n"
                b"GET /big.bin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n"
            )
            f = s.makefile("rb")
            bodies = []
            for _ in range(3):
                # parse by hand: status line, fields, Content-Length body
                line = f.readline()
                assert line.startswith(b"HTTP/1.1 200")
                length = 0
                while (field := f.readline()) != b"\r\n":
                    if field.lower().startswith(b"content-length:"):
                        length = int(field.split(b":")[1])
                bodies.append(f.read(length))
    assert bodies == [big, b"small text", big]
