"""HTTP authentication in C against real clients.

Digest: the C example server (examples/c/http_server.c, built with `make -C csrc
examples`) serves a folder with mg_serve_http, guarded by a global htdigest file or by
per-directory `.htpasswd` files, on a free loopback port; `curl --digest` and
`requests.auth.HTTPDigestAuth` must get in with the right password and get 401 with a
wrong one. Basic: what `curl -u` sends is read back with mg_parse_http_basic_auth
(through the cffi build of the C core that tests/c uses). Every wait is bounded and every
server process is stopped at teardown.
"""

from __future__ import annotations

import base64
import hashlib
import importlib
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from examples_c import ROOT, ExampleServer, build, starter
from requests.auth import HTTPDigestAuth

CURL = "/usr/bin/curl"
TIMEOUT = 10.0
REALM = "mgio test"

CHALLENGE_RE = re.compile(
    r'^Digest realm="mgio test", qop="auth", nonce="[0-9a-f]{64}", algorithm=MD5(, stale=true)?$'
)


def htdigest_line(user: str, password: str, realm: str = REALM) -> str:
    ha1 = hashlib.md5(f"{user}:{realm}:{password}".encode()).hexdigest()
    return f"{user}:{realm}:{ha1}\n"


# ---- servers ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary() -> Path:
    return build("http_server")


Server = ExampleServer


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """root/ with an open file and a guarded folder; global.htdigest beside the root."""
    base = tmp_path_factory.mktemp("digest")
    (base / "global.htdigest").write_text(
        "# users\n" + "x" * 5000 + "\n" + htdigest_line("joe", "s3cret pw") +
        htdigest_line("ann", "p:w\u00e9")
    )
    root = base / "root"
    root.mkdir()
    (root / "pub.txt").write_text("public\n")
    (root / "sec").mkdir()
    (root / "sec" / "a.txt").write_text("secret a\n")
    (root / "sec" / "sub").mkdir()
    (root / "sec" / "sub" / "b.txt").write_text("secret b\n")
    (root / "sec" / ".htpasswd").write_text(htdigest_line("joe", "dir pw"))
    return root


@pytest.fixture(scope="module")
def start(
    binary: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Server]]:
    """start(root, *options) runs a server; all of them are stopped at teardown."""
    with starter(binary, tmp_path_factory.mktemp("logs")) as run:
        yield run


@pytest.fixture(scope="module")
def global_srv(start: Callable[..., Server], tree: Path) -> Server:
    return start(tree, f"global_auth_file={tree.parent / 'global.htdigest'}",
                 f"auth_domain={REALM}")


@pytest.fixture(scope="module")
def dir_srv(start: Callable[..., Server], tree: Path) -> Server:
    return start(tree, f"auth_domain={REALM}")


def curl(*args: str) -> tuple[int, str]:
    """Runs curl; (status of the last response, body)."""
    r = subprocess.run(
        [CURL, "-s", "-S", "--max-time", str(TIMEOUT), "-o", "-", "-w", "\n%{http_code}",
         *args],
        capture_output=True, text=True, timeout=TIMEOUT + 5,
    )
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


# ---- Digest: curl ------------------------------------------------------------------------


def test_curl_digest_right_and_wrong_password(global_srv: Server) -> None:
    assert curl("--digest", "-u", "joe:s3cret pw", global_srv.url("/pub.txt")) == (200, "public\n")
    assert curl("--digest", "-u", "joe:s3cret pw", global_srv.url("/pub.txt?a=1&b=%20")) == (
        200, "public\n")
    assert curl("--digest", "-u", "ann:p:w\u00e9", global_srv.url("/pub.txt"))[0] == 200
    assert curl("--digest", "-u", "joe:wrong", global_srv.url("/pub.txt"))[0] == 401
    assert curl("--digest", "-u", "bob:s3cret pw", global_srv.url("/pub.txt"))[0] == 401
    assert curl(global_srv.url("/pub.txt"))[0] == 401


def test_curl_digest_per_directory(dir_srv: Server) -> None:
    assert curl(dir_srv.url("/pub.txt")) == (200, "public\n")
    assert curl(dir_srv.url("/sec/a.txt"))[0] == 401
    assert curl(dir_srv.url("/sec/sub/b.txt"))[0] == 401  # the whole subtree
    assert curl("--digest", "-u", "joe:dir pw", dir_srv.url("/sec/a.txt")) == (200, "secret a\n")
    assert curl("--digest", "-u", "joe:dir pw", dir_srv.url("/sec/sub/b.txt")) == (
        200, "secret b\n")
    assert curl("--digest", "-u", "joe:s3cret pw", dir_srv.url("/sec/a.txt"))[0] == 401
    # the password file itself is never served, even to its users
    assert curl("--digest", "-u", "joe:dir pw", dir_srv.url("/sec/.htpasswd"))[0] == 404


# ---- Digest: requests ---------------------------------------------------------------------


def test_requests_digest_right_and_wrong_password(global_srv: Server) -> None:
    r = requests.get(global_srv.url("/pub.txt"), auth=HTTPDigestAuth("joe", "s3cret pw"),
                     timeout=TIMEOUT)
    assert r.status_code == 200 and r.text == "public\n"
    assert len(r.history) == 1 and r.history[0].status_code == 401
    assert CHALLENGE_RE.match(r.history[0].headers["WWW-Authenticate"])
    r = requests.get(global_srv.url("/pub.txt"), auth=HTTPDigestAuth("joe", "nope"),
                     timeout=TIMEOUT)
    assert r.status_code == 401
    assert CHALLENGE_RE.match(r.headers["WWW-Authenticate"])
    assert "stale" not in r.headers["WWW-Authenticate"]


def test_requests_session_counts_nc_up(global_srv: Server) -> None:
    """A session answers once, then reuses the nonce with nc 2, 3, ...: all accepted."""
    with requests.Session() as s:
        s.auth = HTTPDigestAuth("joe", "s3cret pw")
        for i in range(5):
            r = s.get(global_srv.url(f"/pub.txt?i={i}"), timeout=TIMEOUT)
            assert r.status_code == 200 and r.text == "public\n"
        sent = r.request.headers["Authorization"]
        assert "nc=00000005" in sent


def test_replayed_authorization_is_refused_as_stale(global_srv: Server) -> None:
    r = requests.get(global_srv.url("/pub.txt"), auth=HTTPDigestAuth("joe", "s3cret pw"),
                     timeout=TIMEOUT)
    assert r.status_code == 200
    captured = r.request.headers["Authorization"]
    again = requests.get(global_srv.url("/pub.txt"), headers={"Authorization": captured},
                         timeout=TIMEOUT)
    assert again.status_code == 401
    assert again.headers["WWW-Authenticate"].endswith(", stale=true")
    # the uri is bound to the request target: the same answer for another path fails
    other = requests.get(global_srv.url("/sec/a.txt"), headers={"Authorization": captured},
                         timeout=TIMEOUT)
    assert other.status_code == 401 and "stale" not in other.headers["WWW-Authenticate"]


def md5hex(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def digest_answer(challenge: str, method: str, uri: str, user: str, password: str,
                  nc: str = "00000001", cnonce: str = "0a4f113b") -> str:
    """An Authorization value answering `challenge` (RFC 7616 3.4.1, MD5, qop=auth)."""
    m = re.search(r'nonce="([^"]+)"', challenge)
    assert m, challenge
    nonce = m.group(1)
    ha1 = md5hex(f"{user}:{REALM}:{password}")
    ha2 = md5hex(f"{method}:{uri}")
    response = md5hex(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}")
    return (f'Digest username="{user}", realm="{REALM}", nonce="{nonce}", uri="{uri}", '
            f'qop=auth, nc={nc}, cnonce="{cnonce}", response="{response}", algorithm=MD5')


@pytest.mark.parametrize(
    "mangle",
    [
        pytest.param(lambda v: re.sub(r'response="[0-9a-f]+"', 'response=""', v), id="empty"),
        pytest.param(lambda v: re.sub(r'response="([0-9a-f])[0-9a-f]+"', r'response="\1"', v),
                     id="one-digit"),
        pytest.param(lambda v: re.sub(r'response="([0-9a-f]{31})[0-9a-f]"', r'response="\1"', v),
                     id="truncated"),
        pytest.param(lambda v: re.sub(r"nc=[0-9a-f]+", "nc=1", v), id="nc-short"),
        pytest.param(lambda v: re.sub(r'nonce="[0-9a-f]', 'nonce="x', v), id="forged-nonce"),
        pytest.param(lambda v: re.sub(r', cnonce="[^"]*"', "", v), id="no-cnonce"),
        pytest.param(lambda v: re.sub(r', uri="[^"]*"', "", v), id="no-uri"),
        pytest.param(lambda v: re.sub(r'uri="[^"]*"', 'uri="/sec/a.txt"', v), id="other-uri"),
        pytest.param(lambda v: re.sub(r'username="joe"', 'username="' + "j" * 9000 + '"', v),
                     id="huge-username"),
        pytest.param(lambda v: re.sub(r'realm="[^"]*"', 'realm="other"', v), id="realm"),
        pytest.param(lambda v: v + ", algorithm=MD5", id="repeated-parameter"),
    ],
)
def test_hostile_answers(global_srv: Server, mangle: Callable[[str], str]) -> None:
    """A fresh, valid answer made hostile in one way is refused, and the unchanged answer
    still works afterwards (nothing was spent on the hostile one)."""
    first = requests.get(global_srv.url("/pub.txt"), timeout=TIMEOUT)
    assert first.status_code == 401
    value = digest_answer(first.headers["WWW-Authenticate"], "GET", "/pub.txt", "joe",
                          "s3cret pw")
    r = requests.get(global_srv.url("/pub.txt"), headers={"Authorization": mangle(value)},
                     timeout=TIMEOUT)
    assert r.status_code in (401, 431)
    if r.status_code == 401:
        assert "stale" not in r.headers["WWW-Authenticate"]
    assert global_srv.alive()
    ok = requests.get(global_srv.url("/pub.txt"), headers={"Authorization": value},
                      timeout=TIMEOUT)
    assert ok.status_code == 200


def test_server_survives(global_srv: Server, dir_srv: Server) -> None:
    assert global_srv.alive() and dir_srv.alive()


# ---- Basic: what curl -u sends, parsed by the C core ---------------------------------------


@pytest.fixture(scope="module")
def clib():
    sys.path.insert(0, str(ROOT / "tests" / "c"))
    try:
        cbuild = importlib.import_module("cbuild")
    finally:
        sys.path.remove(str(ROOT / "tests" / "c"))
    return cbuild.build()


def captured_authorization(*curl_args: str) -> bytes:
    """The Authorization value of the request curl sends with `curl_args`."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(TIMEOUT)
    port = listener.getsockname()[1]
    got: list[bytes] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            conn.settimeout(TIMEOUT)
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
            got.append(data)
            conn.sendall(b"HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n")

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    try:
        subprocess.run([CURL, "-s", "--max-time", str(TIMEOUT), *curl_args,
                        f"http://127.0.0.1:{port}/"], capture_output=True, timeout=TIMEOUT + 5)
        t.join(TIMEOUT)
    finally:
        listener.close()
    assert got, "curl sent nothing"
    m = re.search(rb"\r\nAuthorization: ([^\r\n]*)\r\n", got[0])
    assert m, got[0]
    return m.group(1)


@pytest.mark.parametrize(
    ("userpass", "user", "password"),
    [
        ("joe:s3cret", "joe", "s3cret"),
        ("joe:pa:ss:word", "joe", "pa:ss:word"),  # the password keeps its colons
        ("joe:", "joe", ""),
        ("j\u00f6rg:p\u00e4ss w\u00f6rd", "j\u00f6rg", "p\u00e4ss w\u00f6rd"),
        ("u" * 200 + ":" + "p" * 300, "u" * 200, "p" * 300),
    ],
)
def test_basic_from_curl(clib, userpass: str, user: str, password: str) -> None:
    ffi, lib = clib
    value = captured_authorization("-u", userpass)
    assert value.startswith(b"Basic ")
    hdr = ffi.new("struct mg_str *")
    keep = ffi.new("char[]", value)
    hdr.p, hdr.len = keep, len(value)
    u, p = ffi.new("char[512]"), ffi.new("char[512]")
    assert lib.mg_parse_http_basic_auth(hdr, u, 512, p, 512) == 0
    assert ffi.string(u).decode() == user and ffi.string(p).decode() == password
    # a buffer one byte short is refused, not truncated
    assert lib.mg_parse_http_basic_auth(hdr, u, len(user.encode()), p, 512) == -1
    assert ffi.string(u) == b""


@pytest.mark.parametrize(
    "value",
    [b"Basic " + base64.b64encode(b"nocolon"), b"Basic " + base64.b64encode(b":nouser"),
     b"Basic Zm9vOmJhcg", b"Basic Zm9v*mJhcg==", b"Bearer Zm9vOmJhcg==",
     b"Basic " + base64.b64encode(b"a\r\nb:c")],
)
def test_basic_refuses(clib, value: bytes) -> None:
    ffi, lib = clib
    hdr = ffi.new("struct mg_str *")
    keep = ffi.new("char[]", value)
    hdr.p, hdr.len = keep, len(value)
    u, p = ffi.new("char[64]"), ffi.new("char[64]")
    assert lib.mg_parse_http_basic_auth(hdr, u, 64, p, 64) == -1
    assert ffi.string(u) == b"" and ffi.string(p) == b""
