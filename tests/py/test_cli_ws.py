"""``mgio serve --ws-echo PATH`` with the websockets library, and ``mgio ws URL`` with
piped stdin against that echo."""

from __future__ import annotations

import asyncio

import pytest
import websockets
from cli_server import CliServer, mgio_cli


@pytest.fixture(scope="module")
def echo(tmp_path_factory: pytest.TempPathFactory):
    server = CliServer(tmp_path_factory.mktemp("ws"), "--ws-echo", "/echo")
    yield server
    assert server.stop() == 0
    assert '"GET /echo HTTP/1.1" 101' in server.err


def test_websockets_library_echo(echo):
    async def talk() -> list[str | bytes]:
        async with websockets.connect(echo.ws_url + "echo", open_timeout=5) as ws:
            got = []
            for message in ("hello", b"\x00\x01binary", "ünïcödé " * 1000):
                await ws.send(message)
                got.append(await asyncio.wait_for(ws.recv(), 5))
            return got

    assert asyncio.run(talk()) == ["hello", b"\x00\x01binary", "ünïcödé " * 1000]


def test_other_paths_refuse_the_upgrade(echo):
    async def connect() -> None:
        async with websockets.connect(echo.ws_url + "other", open_timeout=5):
            pass

    with pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(connect())
    assert refused.value.response.status_code == 404


def test_mgio_ws_with_piped_stdin(echo):
    lines = "first line\nsecond ✓\n\nlast without newline"
    p = mgio_cli("ws", echo.ws_url + "echo", stdin=lines.encode())
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode() == "first line\nsecond ✓\n\nlast without newline\n"
    assert p.stderr == b""


def test_mgio_ws_empty_stdin_closes_cleanly(echo):
    p = mgio_cli("ws", echo.ws_url + "echo", stdin=b"")
    assert (p.returncode, p.stdout, p.stderr) == (0, b"", b"")


def test_mgio_ws_refused_exits_1(echo):
    p = mgio_cli("ws", echo.ws_url + "nope", stdin=b"x\n")
    assert p.returncode == 1 and b"refused the WebSocket: 404" in p.stderr


def test_mgio_ws_without_a_server_exits_1(echo):
    p = mgio_cli("ws", "ws://127.0.0.1:1/", stdin=b"x\n")
    assert p.returncode == 1 and p.stderr.startswith(b"mgio ws:")
