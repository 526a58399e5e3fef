"""The mgio HTTP client against a server nobody here wrote: nginx (Debian's package),
started by the test on a loopback port. Covers Content-Length, chunked and
close-delimited replies, HEAD, ranges, errors and a multi-MiB body."""

from __future__ import annotations

import gzip
import hashlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

import mgio
import pytest
from nginx_runner import run_nginx

SITE = """
    types {{ text/plain txt; application/octet-stream bin; }}
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location /chunked/ {{
            gzip on; gzip_types *; gzip_min_length 0;
        }}
        location /close/ {{
            gzip on; gzip_types *; gzip_min_length 0; chunked_transfer_encoding off;
        }}
        location = /teapot {{ return 418 "short and stout"; }}
    }}
"""

TEXT = b"The quick brown fox jumps over the lazy dog.\n" * 500


@pytest.fixture(scope="module")
def nginx(tmp_path_factory) -> Iterator[tuple[str, Path]]:
    """(base URL, document root) of an nginx running for this module."""
    tmp = tmp_path_factory.mktemp("nginx")
    www = tmp / "www"
    for sub in ("", "chunked", "close"):
        (www / sub).mkdir(parents=True, exist_ok=True)
        (www / sub / "text.txt").write_bytes(TEXT)
    (www / "big.bin").write_bytes(os.urandom(5 << 20))
    with run_nginx(tmp, lambda port: SITE.format(port=port, www=www)) as port:
        yield f"http://127.0.0.1:{port}", www


def test_content_length_reply(nginx):
    base, _ = nginx
    r = mgio.request("GET", base + "/text.txt")
    assert r.status == 200 and r.reason == "OK"
    assert r.body == TEXT
    assert r.headers["content-length"] == str(len(TEXT))
    assert r.headers["Content-Type"] == "text/plain"


def test_big_body_arrives_whole(nginx):
    base, www = nginx
    r = mgio.request("GET", base + "/big.bin", max_size=8 << 20, timeout=30)
    assert r.status == 200
    want = hashlib.sha256((www / "big.bin").read_bytes()).hexdigest()
    assert hashlib.sha256(r.body).hexdigest() == want


def test_chunked_reply(nginx):
    base, _ = nginx
    r = mgio.request("GET", base + "/chunked/text.txt", {"Accept-Encoding": "gzip"})
    assert r.status == 200
    assert r.headers["transfer-encoding"] == "chunked"
    assert r.headers["content-encoding"] == "gzip"
    assert gzip.decompress(r.body) == TEXT


def test_close_delimited_reply(nginx):
    base, _ = nginx
    r = mgio.request("GET", base + "/close/text.txt", {"Accept-Encoding": "gzip"})
    assert r.status == 200
    assert "content-length" not in r.headers and "transfer-encoding" not in r.headers
    assert gzip.decompress(r.body) == TEXT


def test_head_reply_has_no_body(nginx):
    base, _ = nginx
    r = mgio.request("HEAD", base + "/text.txt")
    assert r.status == 200 and r.body == b""
    assert r.headers["content-length"] == str(len(TEXT))


def test_range_and_errors(nginx):
    base, _ = nginx
    r = mgio.request("GET", base + "/text.txt", {"Range": "bytes=4-8"})
    assert r.status == 206 and r.body == TEXT[4:9]
    assert r.headers["content-range"] == f"bytes 4-8/{len(TEXT)}"
    assert mgio.request("GET", base + "/missing").status == 404
    r = mgio.request("POST", base + "/text.txt", body=b"x")
    assert r.status == 405
    r = mgio.request("GET", base + "/teapot")
    assert (r.status, r.body) == (418, b"short and stout")


def test_connect_http_events(nginx):
    """The event-level client: chunk events, then one reply, for a chunked body."""
    base, _ = nginx
    seen: list[tuple[str, int]] = []

    class Client(mgio.Handler):
        def on_http_chunk(self, conn, msg):
            seen.append(("chunk", len(msg.body)))

        def on_http_reply(self, conn, msg):
            seen.append(("reply", msg.status))
            conn.close()

    with mgio.Manager() as mgr:
        conn = mgr.connect_http(base + "/chunked/text.txt", Client(),
                                headers={"Accept-Encoding": "gzip"})
        deadline = time.monotonic() + 10
        while not conn.closed and time.monotonic() < deadline:
            mgr.poll(50)
    assert seen and seen[-1] == ("reply", 200)
    assert any(kind == "chunk" for kind, _ in seen[:-1])
