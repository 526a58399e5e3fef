"""mgio.auth and the clients' auth=: the Python Digest checker against real clients
(mgio.request, mgio.aio.request, requests, curl --digest) and hostile headers; the
clients against the C server's Digest (examples/c/http_server.c); htdigest_line files
read by the C server. Every wait is bounded; servers stop at teardown."""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import mgio
import mgio.aio
import pytest
import requests
from conftest import ServerThread
from examples_c import ExampleServer, build, starter
from mgio.auth import (
    DigestAuth,
    authorization_for,
    check_basic,
    htdigest_line,
    parse_digest_params,
)
from requests.auth import HTTPDigestAuth

REALM = "mgio test"
CURL = "/usr/bin/curl"
TIMEOUT = 10.0


# ---- htdigest_line ---------------------------------------------------------------------


def test_htdigest_line_format() -> None:
    line = htdigest_line("joe", REALM, "s3cret pw")
    ha1 = hashlib.md5(f"joe:{REALM}:s3cret pw".encode()).hexdigest()
    assert line == f"joe:{REALM}:{ha1}"
    for bad in ("", "a:b", "a\nb", "a\rb", "a\0b"):
        with pytest.raises(ValueError):
            htdigest_line(bad, REALM, "pw")
        with pytest.raises(ValueError):
            htdigest_line("joe", bad, "pw")
    with pytest.raises(ValueError):
        htdigest_line("joe", REALM, "p\nw")


# ---- a Python server guarded by DigestAuth ------------------------------------------------


class Guarded:
    """A handler answering 200 "hello <user>" to authorized requests."""

    def __init__(self, checker: DigestAuth) -> None:
        self.checker = checker
        self.bodies: list[bytes] = []

    def __call__(self, conn: mgio.Connection, ev: int, data: Any) -> None:
        if ev == mgio.EV_HTTP_REQUEST:
            if not self.checker.require(conn, data):
                return
            self.bodies.append(data.body)
            conn.reply(200, f"hello {self.checker.user(data)}")


@pytest.fixture(params=["mapping", "hashed", "file"])
def checker(request: pytest.FixtureRequest, tmp_path: Path) -> DigestAuth:
    if request.param == "mapping":
        return DigestAuth(REALM, {"joe": "s3cret pw", "ann": "p:w\u00e9"})
    if request.param == "hashed":
        ha1 = {
            u: htdigest_line(u, REALM, p).rsplit(":", 1)[1]
            for u, p in (("joe", "s3cret pw"), ("ann", "p:w\u00e9"))
        }
        return DigestAuth(REALM, ha1, hashed=True)
    f = tmp_path / "users.htdigest"
    f.write_text(
        "# comment\n"
        + htdigest_line("joe", "other", "x")
        + "\n"
        + htdigest_line("joe", REALM, "s3cret pw")
        + "\n"
        + htdigest_line("ann", REALM, "p:w\u00e9")
        + "\n",
        encoding="utf-8",
    )
    return DigestAuth(REALM, f)


@pytest.fixture
def server(checker: DigestAuth) -> Iterator[ServerThread]:
    with ServerThread(Guarded(checker)) as s:
        yield s


def test_mgio_request_digest(server: ServerThread) -> None:
    r = mgio.request("GET", server.url + "/x?a=1&b=%20", auth=("joe", "s3cret pw"))
    assert (r.status, r.body) == (200, b"hello joe")
    r = mgio.request("POST", server.url + "/p", body=b"data", auth=("ann", "p:w\u00e9"))
    assert (r.status, r.body) == (200, b"hello ann")
    r = mgio.request("GET", server.url + "/x", auth=("joe", "wrong"))
    assert r.status == 401 and r.headers["WWW-Authenticate"].startswith("Digest ")
    r = mgio.request("GET", server.url + "/x", auth=("bob", "s3cret pw"))
    assert r.status == 401
    assert mgio.request("GET", server.url + "/x").status == 401


def test_target_without_path_and_url_credentials(server: ServerThread) -> None:
    r = mgio.request("GET", server.url, auth=("joe", "s3cret pw"))
    assert (r.status, r.body) == (200, b"hello joe")
    r = mgio.request("GET", server.url + "?only=query", auth=("joe", "s3cret pw"))
    assert r.status == 200
    # Basic from the URL is refused by a Digest server; auth= then answers the challenge
    creds = server.url.replace("//", "//joe:s3cret%20pw@")
    r = mgio.request("POST", creds + "/p", json={"a": 1}, auth=("joe", "s3cret pw"))
    assert (r.status, r.body) == (200, b"hello joe")


def test_aio_request_digest(server: ServerThread) -> None:
    async def main() -> tuple[int, int]:
        ok = await mgio.aio.request(
            "PUT", server.url + "/a", body=b"xyz", auth=("joe", "s3cret pw")
        )
        bad = await mgio.aio.request("GET", server.url + "/a", auth=("joe", "nope"))
        return ok.status, bad.status

    assert asyncio.run(main()) == (200, 401)


def test_requests_digest(server: ServerThread) -> None:
    r = requests.get(
        server.url + "/x?q=1", auth=HTTPDigestAuth("joe", "s3cret pw"), timeout=TIMEOUT
    )
    assert r.status_code == 200 and r.text == "hello joe"
    r = requests.get(server.url + "/x", auth=HTTPDigestAuth("joe", "bad"), timeout=TIMEOUT)
    assert r.status_code == 401


def test_requests_session_nc_grows(server: ServerThread) -> None:
    with requests.Session() as s:
        s.auth = HTTPDigestAuth("joe", "s3cret pw")
        for i in range(4):
            r = s.get(server.url + f"/n?i={i}", timeout=TIMEOUT)
            assert r.status_code == 200
        assert "nc=00000004" in r.request.headers["Authorization"]


def curl(*args: str) -> tuple[int, str]:
    r = subprocess.run(
        [CURL, "-s", "-S", "--max-time", str(TIMEOUT), "-o", "-", "-w", "\n%{http_code}", *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT + 5,
    )
    assert r.returncode == 0, r.stderr
    body, _, code = r.stdout.rpartition("\n")
    return int(code), body


def test_curl_digest(server: ServerThread) -> None:
    assert curl("--digest", "-u", "joe:s3cret pw", server.url + "/c?x=1") == (200, "hello joe")
    assert curl("--digest", "-u", "joe:wrong", server.url + "/c")[0] == 401
    assert curl(server.url + "/c")[0] == 401


# ---- hostile headers -----------------------------------------------------------------------


def raw(url: str, head: str) -> tuple[int, str]:
    """Sends a raw request head; (status, WWW-Authenticate or "")."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=TIMEOUT) as s:
        s.sendall(head.encode("utf-8", "surrogateescape"))
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    text = data.decode("latin-1")
    status = int(text.split(" ", 2)[1])
    m = re.search(r"(?im)^www-authenticate: *(.*?)\r$", text)
    return status, m.group(1) if m else ""


def fresh_nonce(url: str) -> str:
    status, chal = raw(url, "GET /h HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert status == 401
    m = re.search(r'nonce="([0-9a-f]{64})"', chal)
    assert m
    return m.group(1)


def digest(
    method: str,
    uri: str,
    nonce: str,
    nc: str = "00000001",
    user: str = "joe",
    password: str = "s3cret pw",
    cnonce: str = "abcdef",
    realm: str = REALM,
    override: dict[str, Any] | None = None,
) -> str:
    md5 = lambda s: hashlib.md5(s.encode()).hexdigest()  # noqa: E731
    ha1 = md5(f"{user}:{realm}:{password}")
    resp = md5(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{md5(f'{method}:{uri}')}")
    params = {
        "username": f'"{user}"',
        "realm": f'"{realm}"',
        "nonce": f'"{nonce}"',
        "uri": f'"{uri}"',
        "qop": "auth",
        "nc": nc,
        "cnonce": f'"{cnonce}"',
        "response": f'"{resp}"',
        "algorithm": "MD5",
    }
    for k, v in (override or {}).items():
        if v is None:
            params.pop(k)
        else:
            params[k] = v
    return "Digest " + ", ".join(f"{k}={v}" for k, v in params.items())


def get(url: str, uri: str, authz: str | list[str]) -> tuple[int, str]:
    fields = [authz] if isinstance(authz, str) else authz
    lines = "".join(f"Authorization: {a}\r\n" for a in fields)
    return raw(url, f"GET {uri} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{lines}\r\n")


@pytest.fixture
def py_server() -> Iterator[tuple[ServerThread, DigestAuth]]:
    checker = DigestAuth(REALM, {"joe": "s3cret pw"})
    with ServerThread(Guarded(checker)) as s:
        yield s, checker


def test_raw_digest_accepted_then_nc_replay_stale(py_server: Any) -> None:
    s, _ = py_server
    n = fresh_nonce(s.url)
    assert get(s.url, "/a?b=c", digest("GET", "/a?b=c", n))[0] == 200
    status, chal = get(s.url, "/a?b=c", digest("GET", "/a?b=c", n))  # replayed nc
    assert status == 401 and "stale=true" in chal
    assert get(s.url, "/a", digest("GET", "/a", n, nc="00000003"))[0] == 200  # grows: ok
    assert get(s.url, "/a", digest("GET", "/a", n, nc="00000002"))[0] == 401  # backwards


@pytest.mark.parametrize(
    "override",
    [
        {"username": None},
        {"realm": None},
        {"nonce": None},
        {"uri": None},
        {"response": None},
        {"qop": None},
        {"nc": None},
        {"cnonce": None},
        {"response": '""'},
        {"response": '"0123"'},
        {"qop": "auth-int"},
        {"algorithm": "SHA-1"},
        {"nc": "1"},
        {"nc": "000000001"},
        {"nc": "00000000"},
        {"nc": "0000000g"},
        {"cnonce": '""'},
        {"realm": '"other"'},
        {"username": '"x' + "a" * 300 + '"'},
        {"cnonce": '"' + "c" * 300 + '"'},
        {"opaque": '"' + "o" * 300 + '"'},
        {"nonce": '"' + "0" * 64 + '"'},
        {"nonce": '"' + "f" * 200 + '"'},
    ],
)
def test_hostile_fields(py_server: Any, override: dict[str, Any]) -> None:
    s, _ = py_server
    n = fresh_nonce(s.url)
    status, chal = get(s.url, "/a", digest("GET", "/a", n, override=override))
    assert status == 401 and "stale" not in chal
    # the same nonce still works afterwards with a valid header
    assert get(s.url, "/a", digest("GET", "/a", n))[0] == 200


@pytest.mark.parametrize(
    "authz",
    [
        "Digest",
        "Digest ",
        "Digest username",
        'Digest username="joe',
        "Basic Zm9vOmJhcg==",
        'Digest username="joe",,',
        'Digest username="joe" realm="x"',
        "Digest a=b, a=b",
        "Digest " + "\u00ff" * 3000,
        'Digest username="\\',
    ],
)
def test_malformed_headers(py_server: Any, authz: str) -> None:
    s, _ = py_server
    assert get(s.url, "/a", authz)[0] == 401


def test_huge_values_refused_by_the_parser() -> None:
    """Values too long for the C server's field limit (431 there) are bounded here too."""
    base = 'Digest username="joe", realm="r", nonce="n", uri="/", response="r", '
    assert parse_digest_params(base + 'qop=auth, nc=00000001, cnonce="c"') is not None
    assert parse_digest_params(base + 'cnonce="' + "c" * 100000 + '"') is None
    assert parse_digest_params('Digest uri="' + "/" * 16385 + '"') is None
    assert parse_digest_params('Digest uri="' + "/" * 16384 + '"') is not None
    assert parse_digest_params("Digest " + ", ".join(f"p{i}=1" for i in range(17))) is None
    assert parse_digest_params(base + "x=" + "t" * 300) is None
    assert parse_digest_params('Digest a="\x01"') is None


def test_wrong_uri_forged_and_two_fields(py_server: Any) -> None:
    s, _ = py_server
    n = fresh_nonce(s.url)
    assert get(s.url, "/other", digest("GET", "/a", n))[0] == 401
    assert get(s.url, "/a?x=1", digest("GET", "/a", n))[0] == 401
    forged = n[:-1] + ("0" if n[-1] != "0" else "1")
    status, chal = get(s.url, "/a", digest("GET", "/a", forged))
    assert status == 401 and "stale" not in chal
    other = DigestAuth(REALM, {"joe": "s3cret pw"}).new_nonce()  # another key
    assert get(s.url, "/a", digest("GET", "/a", other))[0] == 401
    valid = digest("GET", "/a", n)
    assert get(s.url, "/a", [valid, valid])[0] == 401
    assert get(s.url, "/a", valid)[0] == 200


def test_expired_nonce_is_stale(py_server: Any) -> None:
    s, checker = py_server
    checker.lifetime = 0.2
    n = fresh_nonce(s.url)
    time.sleep(0.4)
    status, chal = get(s.url, "/a", digest("GET", "/a", n))
    assert status == 401 and "stale=true" in chal
    status, chal = get(s.url, "/a", digest("GET", "/a", n, password="bad"))
    assert status == 401 and "stale" not in chal
    checker.lifetime = 300
    r = mgio.request("GET", s.url + "/a", auth=("joe", "s3cret pw"))
    assert r.status == 200


def test_nonce_table_is_bounded() -> None:
    checker = DigestAuth(REALM, {"joe": "pw"}, table=4)
    nonces = [checker.new_nonce() for _ in range(10)]
    assert len(checker._table) == 4 and nonces[-1] in checker._table


# ---- Basic ------------------------------------------------------------------------------------


def test_check_basic_and_client_basic_challenge() -> None:
    users = {"joe": "pw:1", "amy": "pw"}
    seen: list[str | None] = []

    def handler(conn: mgio.Connection, ev: int, msg: Any) -> None:
        if ev == mgio.EV_HTTP_REQUEST:
            user = check_basic(msg, users)
            seen.append(user)
            if user is None:
                conn.reply(401, "no", headers={"WWW-Authenticate": 'Basic realm="r"'})
            else:
                conn.reply(200, user)

    with ServerThread(handler) as s:
        assert mgio.request("GET", s.url + "/b", auth=("joe", "pw:1")).status == 200
        assert seen == [None, "joe"]  # not sent preemptively
        assert mgio.request("GET", s.url + "/b", auth=("joe", "pw")).status == 401
        assert mgio.request("GET", s.url.replace("//", "//amy:pw@") + "/b").status == 200
        for authz in ("Basic !!!!", "Basic Zm9v", "Basic OnB3", "Basic " + "A" * 4001):
            assert get(s.url, "/b", authz)[0] == 401


def test_authorization_for_sha256_and_no_challenge() -> None:
    value = authorization_for(
        "GET",
        "/x",
        [
            'Digest realm="r", nonce="n", qop="auth", algorithm=MD5',
            'Digest realm="r", nonce="n", qop="auth", algorithm=SHA-256',
        ],
        "u",
        "p",
    )
    assert value is not None and "algorithm=SHA-256" in value and "nc=00000001" in value
    assert authorization_for("GET", "/x", ['Bearer realm="x"'], "u", "p") is None
    assert authorization_for("GET", "/x", [], "u", "p") is None
    assert (
        authorization_for("GET", "/x", ['Newauth realm="a", Basic realm="b"'], "u", "p")
        == "Basic dTpw"
    )
    checker = DigestAuth("r", {"u": "p"})
    _, hdrs = checker.challenge()
    assert authorization_for("GET", "/x", [hdrs["WWW-Authenticate"]], "u", "p")


# ---- the C server -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def c_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ExampleServer]:
    binary = build("http_server")
    base = tmp_path_factory.mktemp("cauth")
    (base / "users.htdigest").write_text(
        htdigest_line("joe", REALM, "s3cret pw")
        + "\n"
        + htdigest_line("ann", REALM, "p:w\u00e9")
        + "\n",
        encoding="utf-8",
    )
    root = base / "root"
    root.mkdir()
    (root / "pub.txt").write_text("public\n")
    with starter(binary, tmp_path_factory.mktemp("logs")) as run:
        yield run(root, f"global_auth_file={base / 'users.htdigest'}", f"auth_domain={REALM}")


def test_clients_against_c_digest(c_server: ExampleServer) -> None:
    r = mgio.request("GET", c_server.url("/pub.txt"), auth=("joe", "s3cret pw"))
    assert (r.status, r.body) == (200, b"public\n")
    r = mgio.request("GET", c_server.url("/pub.txt?a=1&b=%20"), auth=("ann", "p:w\u00e9"))
    assert r.status == 200
    assert mgio.request("GET", c_server.url("/pub.txt"), auth=("joe", "bad")).status == 401
    assert mgio.request("GET", c_server.url("/pub.txt")).status == 401

    async def main() -> tuple[int, int]:
        ok = await mgio.aio.request("GET", c_server.url("/pub.txt"), auth=("joe", "s3cret pw"))
        bad = await mgio.aio.request("GET", c_server.url("/pub.txt"), auth=("joe", "x"))
        return ok.status, bad.status

    assert asyncio.run(main()) == (200, 401)


def test_htdigest_line_accepted_by_c_server_with_curl(c_server: ExampleServer) -> None:
    assert curl("--digest", "-u", "joe:s3cret pw", c_server.url("/pub.txt")) == (200, "public\n")
    assert curl("--digest", "-u", "joe:nope", c_server.url("/pub.txt"))[0] == 401
