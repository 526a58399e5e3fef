"""``mgio serve --auth-file FILE --realm R``: Digest authentication from an htdigest file
on downloads (curl --digest, requests), uploads (PUT and multipart) and the WebSocket
echo (the websockets library); the auth file itself is neither served nor replaced."""

from __future__ import annotations

import asyncio

import mgio
import pytest
import requests
import websockets
from cli_server import CliServer, curl
from mgio.auth import authorization_for
from requests.auth import HTTPDigestAuth

REALM = "mgio test"
RIGHT = HTTPDigestAuth("joe", "s3cret")
WRONG = HTTPDigestAuth("joe", "guess")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """A protected folder with uploads and a WebSocket echo; the htdigest file inside."""
    root = tmp_path_factory.mktemp("auth")
    (root / "secret.txt").write_text("for joe only\n")
    lines = [mgio.htdigest_line("joe", REALM, "s3cret"), mgio.htdigest_line("ann", "other", "x")]
    (root / "users.htdigest").write_text("\n".join(lines) + "\n")
    server = CliServer(root, "--upload", "--ws-echo", "/echo",
                       "--auth-file", str(root / "users.htdigest"), "--realm", REALM)
    yield server, root
    assert server.stop() == 0
    assert '"GET /secret.txt HTTP/1.1" 401' in server.err
    assert '"GET /echo HTTP/1.1" 101' in server.err


def status(*args: str) -> int:
    """The HTTP status of a curl run."""
    return curl(*args)[0]


def test_right_password_200_wrong_401(site):
    server, _ = site
    url = server.url + "secret.txt"
    assert status("--digest", "-u", "joe:s3cret", url) == 200
    assert status("--digest", "-u", "joe:guess", url) == 401
    assert status("--digest", "-u", "ann:x", url) == 401  # a user of another realm
    assert status(url) == 401
    r = requests.get(url, auth=RIGHT, timeout=5)
    assert r.status_code == 200 and r.text == "for joe only\n"
    assert requests.get(url, auth=WRONG, timeout=5).status_code == 401


def test_a_session_reuses_its_nonce(site):
    server, _ = site
    with requests.Session() as s:
        s.auth = RIGHT
        for _ in range(3):
            assert s.get(server.url + "secret.txt", timeout=5).status_code == 200


def test_uploads_need_auth(site, tmp_path):
    server, root = site
    src = tmp_path / "up.txt"
    src.write_text("up")
    assert status("-T", str(src), server.url + "up.txt") == 401
    assert status("--digest", "-u", "joe:guess", "-T", str(src), server.url + "up.txt") == 401
    assert status("-F", f"f=@{src}", server.url) == 401
    assert not (root / "up.txt").exists()
    assert status("--digest", "-u", "joe:s3cret", "-T", str(src), server.url + "up.txt") == 201
    assert status("--digest", "-u", "joe:s3cret", "-F", f"f=@{src}", server.url) == 201
    assert (root / "up (1).txt").read_text() == "up"


def test_the_auth_file_is_hidden_and_kept(site, tmp_path):
    server, root = site
    before = (root / "users.htdigest").read_text()
    assert status("--digest", "-u", "joe:s3cret", server.url + "users.htdigest") == 404
    listing = requests.get(server.url, auth=RIGHT, timeout=5).text
    assert "secret.txt" in listing and "users.htdigest" not in listing
    src = tmp_path / "evil"
    src.write_text("joe:mgio test:00000000000000000000000000000000\n")
    auth = ("--digest", "-u", "joe:s3cret")
    assert status(*auth, "-T", str(src), server.url + "users.htdigest") == 403
    assert (root / "users.htdigest").read_text() == before


def ws_echo(url: str, headers: dict[str, str] | None = None) -> str:
    async def talk() -> str:
        async with websockets.connect(url, additional_headers=headers, open_timeout=5) as ws:
            await ws.send("hello")
            return str(await asyncio.wait_for(ws.recv(), 5))

    return asyncio.run(talk())


def test_websocket_needs_auth(site):
    server, _ = site
    with pytest.raises(websockets.InvalidStatus) as refused:
        ws_echo(server.ws_url + "echo")
    assert refused.value.response.status_code == 401
    # a Digest answer to a challenge got with a plain request
    challenge = requests.get(server.url, timeout=5).headers["WWW-Authenticate"]
    value = authorization_for("GET", "/echo", [challenge], "joe", "s3cret")
    assert value is not None
    assert ws_echo(server.ws_url + "echo", {"Authorization": value}) == "hello"
    wrong = authorization_for("GET", "/echo", [challenge], "joe", "guess")
    assert wrong is not None
    with pytest.raises(websockets.InvalidStatus):
        ws_echo(server.ws_url + "echo", {"Authorization": wrong})


def test_auth_file_and_realm_go_together(tmp_path):
    from cli_server import mgio_cli

    p = mgio_cli("serve", str(tmp_path), "--realm", "r")
    assert p.returncode == 2 and b"--auth-file and --realm go together" in p.stderr
    p = mgio_cli("serve", str(tmp_path), "--auth-file", str(tmp_path / "none"), "--realm", "r")
    assert p.returncode == 2 and b"no such file" in p.stderr
