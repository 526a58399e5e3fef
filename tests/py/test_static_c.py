"""Static file serving in C (mg_serve_http, mg_http_serve_file) end to end.

The C example examples/c/http_server.c is built with `make -C csrc examples` and run
on a free loopback port over a temporary folder; real clients (requests, http.client,
raw sockets and curl) talk to it. Every wait is bounded and every server process is
stopped at teardown.
"""

from __future__ import annotations

import email.utils
import hashlib
import http.client
import os
import re
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from examples_c import ExampleServer, build, starter

CURL = "/usr/bin/curl"
TIMEOUT = 10.0
BIG_SIZE = 20 * 1024 * 1024

ETAG_RE = re.compile(r'^"[0-9a-f]+\.[0-9]+"$')


# ---- the server ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary() -> Path:
    """The example server, built now (a failed build fails the tests)."""
    return build("http_server")


Server = ExampleServer


@pytest.fixture(scope="module")
def start(
    binary: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Server]]:
    """start(root, *options) runs a server; all of them are stopped at teardown."""
    with starter(binary, tmp_path_factory.mktemp("logs")) as run:
        yield run


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The served folder, next to a file and a folder that must stay unreachable."""
    base = tmp_path_factory.mktemp("static")
    (base / "outside.txt").write_text("outside secret\n")
    (base / "outside_dir").mkdir()
    (base / "outside_dir" / "x.txt").write_text("outside dir\n")
    root = base / "root"
    root.mkdir()
    (root / "a.txt").write_text("hello world\n")
    (root / "empty.txt").write_bytes(b"")
    (root / "page.html").write_text("<p>page</p>\n")
    (root / "style.CSS").write_text("p{}\n")
    (root / "data.json").write_text('{"a": 1}\n')
    (root / "thing.custom").write_text("custom\n")
    (root / "noext").write_text("plain\n")
    (root / "big.bin").write_bytes(os.urandom(BIG_SIZE))
    (root / "site").mkdir()
    (root / "site" / "index.html").write_text("<h1>index</h1>\n")
    (root / "site" / "start.html").write_text("<h1>start</h1>\n")
    docs = root / "docs"
    docs.mkdir()
    (docs / "<b>&x.txt").write_text("tricky\n")
    (docs / "plain.txt").write_text("plain\n")
    (docs / ".htpasswd").write_text("user:realm:0123\n")
    (docs / "old.bak").write_text("backup\n")
    (docs / "sub").mkdir()
    (docs / "sub" / "deep.txt").write_text("deep\n")
    (docs / "link_out.txt").symlink_to(base / "outside.txt")
    (docs / "link_in.txt").symlink_to(root / "a.txt")
    (docs / "pw.txt").symlink_to(docs / ".htpasswd")  # an auth file under another name
    (root / "dir_out").symlink_to(base / "outside_dir")
    os.mkfifo(root / "fifo")
    return root


@pytest.fixture(scope="module")
def srv(start: Callable[..., Server], tree: Path) -> Server:
    return start(
        tree,
        "hidden_file_pattern=**.bak$",
        "custom_mime_types=.custom=application/x-custom,.CSS=text/x-mine-css",
        "extra_headers=X-Test: yes",
    )


# ---- raw clients ------------------------------------------------------------------------


def exchange(srv: Server, raw: bytes, method: str = "GET") -> http.client.HTTPResponse:
    """Sends raw request bytes on a new connection and parses one response (read)."""
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT)
    try:
        sock.sendall(raw)
        resp = http.client.HTTPResponse(sock, method=method)
        resp.begin()
        resp.read()
        return resp
    finally:
        sock.close()


def get_raw(
    srv: Server, target: str, method: str = "GET", extra: str = ""
) -> http.client.HTTPResponse:
    req = f"{method} {target} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n"
    return exchange(srv, req.encode("latin-1"), method)


def read_until_close(sock: socket.socket) -> bytes:
    out = bytearray()
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return bytes(out)
        out += chunk


def fresh_ok(srv: Server) -> None:
    """The server still answers a new connection."""
    assert srv.alive()
    r = requests.get(srv.url("/a.txt"), timeout=TIMEOUT)
    assert r.status_code == 200 and r.content == b"hello world\n"


def curl(*args: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([CURL, "-sS", "--max-time", "20", *args], capture_output=True, timeout=30)


# ---- files ------------------------------------------------------------------------------


def test_get_file_headers(srv: Server, tree: Path) -> None:
    r = requests.get(srv.url("/a.txt"), timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.content == b"hello world\n"
    h = r.headers
    assert h["Content-Type"] == "text/plain"
    assert h["Content-Length"] == "12"
    assert h["Accept-Ranges"] == "bytes"
    assert h["Connection"] == "keep-alive"
    assert h["Server"] == "mgio"
    assert h["X-Test"] == "yes"
    assert ETAG_RE.match(h["ETag"])
    st = (tree / "a.txt").stat()
    assert h["ETag"] == f'"{int(st.st_mtime):x}.{st.st_size}"'
    assert email.utils.parsedate_to_datetime(h["Last-Modified"]).timestamp() == int(st.st_mtime)
    assert h["Last-Modified"].endswith(" GMT")
    assert abs(email.utils.parsedate_to_datetime(h["Date"]).timestamp() - time.time()) < 60


def test_header_order_matches_reference(srv: Server) -> None:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = read_until_close(s)
    head = raw.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
    names = [line.split(":", 1)[0] for line in head[1:]]
    assert head[0] == "HTTP/1.1 200 OK"
    assert names == [
        "Server",
        "X-Test",
        "Date",
        "Last-Modified",
        "Accept-Ranges",
        "Content-Type",
        "Connection",
        "Content-Length",
        "ETag",
    ]
    assert "Connection: close" in head


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/page.html", "text/html"),
        ("/data.json", "application/json"),
        ("/noext", "text/plain"),
        ("/thing.custom", "application/x-custom"),
        ("/style.CSS", "text/x-mine-css"),  # the custom list comes first
        ("/site/index.html", "text/html"),
        ("/big.bin", "application/octet-stream"),
    ],
)
def test_mime_types(srv: Server, path: str, ctype: str) -> None:
    r = requests.head(srv.url(path), timeout=TIMEOUT)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == ctype


def test_head_has_headers_and_no_body(srv: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=TIMEOUT)
    try:
        conn.request("HEAD", "/big.bin")
        r = conn.getresponse()
        assert r.status == 200
        assert r.getheader("Content-Length") == str(BIG_SIZE)
        assert r.read() == b""
        sock = conn.sock
        conn.request("GET", "/a.txt")  # the connection is still in step: no body was sent
        r = conn.getresponse()
        assert r.status == 200 and r.read() == b"hello world\n"
        assert conn.sock is sock
    finally:
        conn.close()


def test_empty_file(srv: Server) -> None:
    r = requests.get(srv.url("/empty.txt"), timeout=TIMEOUT)
    assert r.status_code == 200 and r.content == b"" and r.headers["Content-Length"] == "0"


def test_fifo_is_refused_without_blocking(srv: Server) -> None:
    t0 = time.monotonic()
    assert get_raw(srv, "/fifo").status == 403
    assert time.monotonic() - t0 < 5
    fresh_ok(srv)


# ---- ranges -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "body", "content_range"),
    [
        ("bytes=0-4", b"hello", "bytes 0-4/12"),
        ("bytes=6-", b"world\n", "bytes 6-11/12"),
        ("bytes=-6", b"world\n", "bytes 6-11/12"),
        ("bytes=6-1000", b"world\n", "bytes 6-11/12"),
        ("bytes=-100", b"hello world\n", "bytes 0-11/12"),
        ("Bytes=1-1", b"e", "bytes 1-1/12"),
    ],
)
def test_range_206(srv: Server, spec: str, body: bytes, content_range: str) -> None:
    r = requests.get(srv.url("/a.txt"), headers={"Range": spec}, timeout=TIMEOUT)
    assert r.status_code == 206
    assert r.content == body
    assert r.headers["Content-Range"] == content_range
    assert r.headers["Content-Length"] == str(len(body))


@pytest.mark.parametrize(
    "spec", ["bytes=12-", "bytes=100-200", "bytes=5-2", "bytes=-0", "bytes=abc", "bytes=", "bytes"]
)
def test_range_416(srv: Server, spec: str) -> None:
    r = requests.get(srv.url("/a.txt"), headers={"Range": spec}, timeout=TIMEOUT)
    assert r.status_code == 416
    assert r.headers["Content-Range"] == "bytes */12"
    assert r.content == b""
    fresh_ok(srv)


@pytest.mark.parametrize("spec", ["bytes=0-1,4-5", "items=0-3"])
def test_range_ignored_serves_whole(srv: Server, spec: str) -> None:
    r = requests.get(srv.url("/a.txt"), headers={"Range": spec}, timeout=TIMEOUT)
    assert r.status_code == 200 and r.content == b"hello world\n"


def test_range_with_if_range(srv: Server) -> None:
    etag = requests.head(srv.url("/a.txt"), timeout=TIMEOUT).headers["ETag"]
    r = requests.get(
        srv.url("/a.txt"), headers={"Range": "bytes=0-1", "If-Range": etag}, timeout=TIMEOUT
    )
    assert r.status_code == 206 and r.content == b"he"
    r = requests.get(
        srv.url("/a.txt"), headers={"Range": "bytes=0-1", "If-Range": '"other"'}, timeout=TIMEOUT
    )
    assert r.status_code == 200 and r.content == b"hello world\n"


def test_range_with_curl(srv: Server) -> None:
    r = curl("-r", "0-4", "-w", "|%{http_code}", srv.url("/a.txt"))
    assert r.returncode == 0 and r.stdout == b"hello|206"
    r = curl("-r", "50-60", "-w", "|%{http_code}", srv.url("/a.txt"))
    assert r.returncode == 0 and r.stdout == b"|416"


def test_range_of_big_file(srv: Server, tree: Path) -> None:
    data = (tree / "big.bin").read_bytes()
    start, end = 10_000_000, 12_345_678
    r = requests.get(
        srv.url("/big.bin"), headers={"Range": f"bytes={start}-{end}"}, timeout=TIMEOUT
    )
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"bytes {start}-{end}/{BIG_SIZE}"
    assert hashlib.sha256(r.content).digest() == hashlib.sha256(data[start : end + 1]).digest()


# ---- conditional requests ---------------------------------------------------------------


def test_if_none_match(srv: Server) -> None:
    first = requests.get(srv.url("/a.txt"), timeout=TIMEOUT)
    etag = first.headers["ETag"]
    for value in (etag, f"W/{etag}", f'"nope", {etag}', "*"):
        r = requests.get(srv.url("/a.txt"), headers={"If-None-Match": value}, timeout=TIMEOUT)
        assert r.status_code == 304, value
        assert r.content == b""
        assert r.headers["ETag"] == etag
        assert "Content-Length" not in r.headers
        assert r.headers["X-Test"] == "yes"
    r = requests.get(srv.url("/a.txt"), headers={"If-None-Match": '"nope"'}, timeout=TIMEOUT)
    assert r.status_code == 200 and r.content == b"hello world\n"


def test_if_modified_since(srv: Server) -> None:
    last = requests.head(srv.url("/a.txt"), timeout=TIMEOUT).headers["Last-Modified"]
    r = requests.get(srv.url("/a.txt"), headers={"If-Modified-Since": last}, timeout=TIMEOUT)
    assert r.status_code == 304 and r.content == b""
    old = "Sun, 06 Nov 1994 08:49:37 GMT"
    r = requests.get(srv.url("/a.txt"), headers={"If-Modified-Since": old}, timeout=TIMEOUT)
    assert r.status_code == 200
    r = requests.get(srv.url("/a.txt"), headers={"If-Modified-Since": "garbage"}, timeout=TIMEOUT)
    assert r.status_code == 200
    # If-None-Match takes precedence: a mismatching tag means 200 whatever the date says
    r = requests.get(
        srv.url("/a.txt"),
        headers={"If-Modified-Since": last, "If-None-Match": '"nope"'},
        timeout=TIMEOUT,
    )
    assert r.status_code == 200


def test_conditional_with_curl(srv: Server, tree: Path) -> None:
    st = (tree / "a.txt").stat()
    since = email.utils.formatdate(st.st_mtime + 10, usegmt=True)
    r = curl("-z", since, "-w", "%{http_code}", "-o", "/dev/null", srv.url("/a.txt"))
    assert r.stdout == b"304"
    etag = f'"{int(st.st_mtime):x}.{st.st_size}"'
    r = curl(
        "-H", f"If-None-Match: {etag}", "-w", "%{http_code}", "-o", "/dev/null", srv.url("/a.txt")
    )
    assert r.stdout == b"304"


# ---- folders ----------------------------------------------------------------------------


def test_listing_escapes_names(srv: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/docs/")
        r = conn.getresponse()
        body = r.read().decode()
        assert r.status == 200
        assert r.getheader("Transfer-Encoding") == "chunked"
        assert r.getheader("Content-Type") == "text/html; charset=utf-8"
    finally:
        conn.close()
    assert "&lt;b&gt;&amp;x.txt" in body
    assert "<b>&x.txt" not in body
    assert 'href="%3cb%3e%26x.txt"' in body
    assert 'href="sub/"' in body and 'href="plain.txt"' in body
    assert 'href="link_in.txt"' in body
    assert ".htpasswd" not in body  # the auth file
    assert "old.bak" not in body  # hidden_file_pattern
    assert "link_out" not in body  # leads out of the root
    assert body.index('href="sub/"') < body.index('href="plain.txt"')  # folders first
    r = requests.get(srv.url("/docs/%3cb%3e%26x.txt"), timeout=TIMEOUT)
    assert r.status_code == 200 and r.content == b"tricky\n"


def test_listing_http10_has_length(srv: Server) -> None:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /docs/ HTTP/1.0\r\n\r\n")
        raw = read_until_close(s)
    head, body = raw.split(b"\r\n\r\n", 1)
    assert b"Transfer-Encoding" not in head
    assert f"Content-Length: {len(body)}".encode() in head
    assert b"Connection: close" in head
    assert b"plain.txt" in body


def test_listing_head(srv: Server) -> None:
    r = get_raw(srv, "/docs/", method="HEAD")
    assert r.status == 200 and r.getheader("Content-Type") == "text/html; charset=utf-8"


def test_index_file(srv: Server) -> None:
    r = requests.get(srv.url("/site/"), timeout=TIMEOUT)
    assert r.status_code == 200 and r.content == b"<h1>index</h1>\n"
    assert r.headers["Content-Type"] == "text/html"


def test_folder_without_slash_redirects(srv: Server) -> None:
    r = requests.get(srv.url("/site"), allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 301
    assert r.headers["Location"] == "/site/"
    assert r.headers["X-Test"] == "yes"
    r = requests.get(srv.url("/docs/sub?x=1&y=%20"), allow_redirects=False, timeout=TIMEOUT)
    assert r.status_code == 301 and r.headers["Location"] == "/docs/sub/?x=1&y=%20"
    r = requests.get(srv.url("/site"), timeout=TIMEOUT)  # following it lands on the index
    assert r.status_code == 200 and r.content == b"<h1>index</h1>\n"


def test_no_open_redirect(srv: Server) -> None:
    r = get_raw(srv, "//site")
    assert r.status == 301 and r.getheader("Location") == "/site/"


def test_listing_disabled_and_other_index(start: Callable[..., Server], tree: Path) -> None:
    s = start(tree, "enable_directory_listing=no", "index_files=missing.html,start.html")
    assert requests.get(s.url("/docs/"), timeout=TIMEOUT).status_code == 403
    r = requests.get(s.url("/site/"), timeout=TIMEOUT)
    assert r.status_code == 200 and r.content == b"<h1>start</h1>\n"


# ---- confinement and hidden files ---------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "/../outside.txt",
        "/../../../../etc/passwd",
        "/%2e%2e/outside.txt",
        "/%2E%2E/%2e%2e/etc/passwd",
        "/docs/..%2f..%2foutside.txt",
        "/..%2Foutside.txt",
        "/a.txt%00.html",
        "/%00",
        "/..%5coutside.txt",
        "/..%5c..%5coutside.txt",
        "/docs/link_out.txt",
        "/docs/pw.txt",
        "/dir_out/x.txt",
        "/dir_out/",
        "/missing.txt",
        "/a.txt/",
    ],
)
def test_traversal_and_escapes_refused(srv: Server, target: str) -> None:
    r = get_raw(srv, target)
    assert r.status in (400, 404), (target, r.status)
    fresh_ok(srv)


def test_traversal_with_curl(srv: Server) -> None:
    r = curl("--path-as-is", "-w", "|%{http_code}", srv.url("/../outside.txt"))
    assert r.stdout.endswith(b"|404") and b"secret" not in r.stdout
    fresh_ok(srv)


def test_dot_segments_inside_the_root_resolve(srv: Server) -> None:
    r = get_raw(srv, "/docs/../a.txt")
    assert r.status == 200
    r = get_raw(srv, "/docs/%2e%2e/a.txt")
    assert r.status == 200


def test_symlink_inside_root_is_followed(srv: Server) -> None:
    r = requests.get(srv.url("/docs/link_in.txt"), timeout=TIMEOUT)
    assert r.status_code == 200 and r.content == b"hello world\n"


@pytest.mark.parametrize(
    "target", ["/docs/.htpasswd", "/docs/.HTPASSWD", "/docs/old.bak", "/docs/OLD.BAK"]
)
def test_hidden_files_404(srv: Server, target: str) -> None:
    r = get_raw(srv, target)
    assert r.status == 404
    assert r.getheader("X-Test") == "yes"
    fresh_ok(srv)


def test_malformed_escape_400_closes(srv: Server) -> None:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\nGET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        raw = read_until_close(s)
    assert raw.startswith(b"HTTP/1.1 400 ")
    assert b"Connection: close" in raw
    assert raw.count(b"HTTP/1.1 ") == 1
    fresh_ok(srv)


# ---- methods ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH"])
def test_unsupported_method_405(srv: Server, method: str) -> None:
    r = requests.request(method, srv.url("/a.txt"), data=b"x", timeout=TIMEOUT)
    assert r.status_code == 405
    assert r.headers["Allow"] == "GET, HEAD, OPTIONS"
    fresh_ok(srv)


def test_unknown_method_501(srv: Server) -> None:
    r = get_raw(srv, "/a.txt", method="BREW")
    assert r.status == 501
    fresh_ok(srv)


def test_options(srv: Server) -> None:
    r = requests.options(srv.url("/a.txt"), timeout=TIMEOUT)
    assert r.status_code == 200 and r.headers["Allow"] == "GET, HEAD, OPTIONS"
    r = get_raw(srv, "*", method="OPTIONS")
    assert r.status == 200 and r.getheader("Allow") == "GET, HEAD, OPTIONS"
    assert requests.options(srv.url("/missing"), timeout=TIMEOUT).status_code == 404


def test_per_directory_auth_file_guards_its_folder(
    start: Callable[..., Server], tree: Path
) -> None:
    """A folder with a password file asks for Digest credentials (docs/.htpasswd holds no
    valid line: nobody gets in); folders without one are served; the file never is."""
    s = start(tree, "per_directory_auth_file=.htpasswd", "auth_domain=example")
    assert requests.get(s.url("/a.txt"), timeout=TIMEOUT).status_code == 200
    r = requests.get(s.url("/docs/plain.txt"), timeout=TIMEOUT)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"].startswith("Digest ")
    assert 'realm="example"' in r.headers["WWW-Authenticate"]
    assert requests.get(s.url("/docs/.htpasswd"), timeout=TIMEOUT).status_code in (401, 404)


def test_ip_acl(start: Callable[..., Server], tree: Path) -> None:
    deny = start(tree, "ip_acl=-0.0.0.0/0,+10.0.0.0/8")
    assert requests.get(deny.url("/a.txt"), timeout=TIMEOUT).status_code == 403
    allow = start(tree, "ip_acl=-0.0.0.0/0,+127.0.0.1")
    assert requests.get(allow.url("/a.txt"), timeout=TIMEOUT).status_code == 200


def test_api_endpoint(srv: Server) -> None:
    r = requests.get(srv.url("/api/hello"), timeout=TIMEOUT)
    assert r.status_code == 200 and r.json() == {"message": "hello"}
    assert r.headers["Content-Type"] == "application/json"


# ---- big files and connections --------------------------------------------------------------


def test_big_file_requests(srv: Server, tree: Path) -> None:
    want = hashlib.sha256((tree / "big.bin").read_bytes()).hexdigest()
    h = hashlib.sha256()
    n = 0
    with requests.get(srv.url("/big.bin"), stream=True, timeout=TIMEOUT) as r:
        assert r.status_code == 200
        assert r.headers["Content-Length"] == str(BIG_SIZE)
        for chunk in r.iter_content(1 << 16):
            h.update(chunk)
            n += len(chunk)
    assert n == BIG_SIZE and h.hexdigest() == want


def test_big_file_curl(srv: Server, tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "big.out"
    r = curl("-o", str(out), "-w", "%{http_code}", srv.url("/big.bin"))
    assert r.returncode == 0 and r.stdout == b"200"
    want = hashlib.sha256((tree / "big.bin").read_bytes()).hexdigest()
    assert hashlib.sha256(out.read_bytes()).hexdigest() == want


def test_big_file_streams_with_bounded_memory(srv: Server, tree: Path) -> None:
    """A client that stops reading: the server keeps only a window of the file."""
    with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        first = s.recv(65536)
        time.sleep(0.5)  # the server fills the socket and its queue, then waits
        assert srv.rss_kib() < 16 * 1024, srv.rss_kib()
        rest = read_until_close(s)
    body = (first + rest).split(b"\r\n\r\n", 1)[1]
    want = hashlib.sha256((tree / "big.bin").read_bytes()).digest()
    assert len(body) == BIG_SIZE and hashlib.sha256(body).digest() == want


def test_aborted_downloads_release_files(srv: Server) -> None:
    """A client that goes away mid-body: the stream's file is closed with the connection."""

    def open_fds() -> int:
        return len(os.listdir(f"/proc/{srv.proc.pid}/fd"))

    fresh_ok(srv)
    before = open_fds()
    for _ in range(5):
        with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as s:
            s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 200 OK\r\n")
    deadline = time.monotonic() + TIMEOUT
    while open_fds() > before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert open_fds() <= before
    fresh_ok(srv)


def test_keep_alive_many_requests(srv: Server, tree: Path) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=TIMEOUT)
    try:
        conn.request("GET", "/a.txt")
        r = conn.getresponse()
        etag = r.getheader("ETag")
        assert r.read() == b"hello world\n"
        sock = conn.sock
        steps: list[tuple[str, str, dict[str, str], int, bytes | None]] = [
            ("GET", "/missing", {}, 404, None),
            ("HEAD", "/a.txt", {}, 200, b""),
            ("GET", "/a.txt", {"If-None-Match": etag or ""}, 304, b""),
            ("GET", "/a.txt", {"Range": "bytes=0-4"}, 206, b"hello"),
            ("GET", "/a.txt", {"Range": "bytes=99-"}, 416, b""),
            ("GET", "/docs/", {}, 200, None),
            ("GET", "/site", {}, 301, None),
            ("POST", "/a.txt", {"Content-Length": "3"}, 405, None),
            ("GET", "/big.bin", {"Range": "bytes=0-199999"}, 206, None),
            ("GET", "/page.html", {}, 200, b"<p>page</p>\n"),
        ]
        for method, path, headers, status, body in steps:
            conn.request(method, path, body=b"abc" if method == "POST" else None, headers=headers)
            r = conn.getresponse()
            data = r.read()
            assert r.status == status, (method, path)
            if body is not None:
                assert data == body, (method, path)
            assert r.getheader("Connection") == "keep-alive"
            assert conn.sock is sock, "the connection was not kept"
        assert len(data) == 12
    finally:
        conn.close()
    assert (tree / "big.bin").stat().st_size == BIG_SIZE


def test_pipelined_requests_answer_in_order(srv: Server, tree: Path) -> None:
    big = (tree / "big.bin").read_bytes()
    reqs = (
        b"GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-299999\r\n\r\n"
        b"GET /a.txt HTTP/1.1\r\nHost: x\r\n\r\n"
        b"GET /missing HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as s:
        s.sendall(reqs)
        raw = read_until_close(s)  # the server closes after the last one
    statuses, bodies = [], []
    while raw:
        head, raw = raw.split(b"\r\n\r\n", 1)
        statuses.append(int(head.split(b" ", 2)[1]))
        length = int(re.search(rb"\r\nContent-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
        bodies.append(raw[:length])
        raw = raw[length:]
    assert statuses == [206, 200, 404]
    assert bodies[0] == big[:300000] and bodies[1] == b"hello world\n"


def test_connection_close_is_honoured(srv: Server) -> None:
    with socket.create_connection(("127.0.0.1", srv.port), timeout=TIMEOUT) as s:
        s.sendall(b"GET /a.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        raw = read_until_close(s)
    assert raw.endswith(b"\r\n\r\nhello world\n") and b"Connection: close\r\n" in raw


def test_head_with_curl(srv: Server) -> None:
    r = curl("-I", srv.url("/a.txt"))
    assert r.returncode == 0
    assert b"HTTP/1.1 200 OK" in r.stdout and b"Content-Length: 12" in r.stdout


def test_server_survives_everything(srv: Server) -> None:
    assert srv.alive()
    fresh_ok(srv)
