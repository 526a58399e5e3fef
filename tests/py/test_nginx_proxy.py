"""mgio behind a real nginx reverse proxy (Debian's package), with the configuration
docs/deploy.md gives: HTTP with keep-alive to two mgio upstreams, request bodies, and
WebSocket upgrades carried through."""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path

import mgio
import pytest
import requests
import websockets
from conftest import ServerThread
from nginx_runner import run_nginx

DEPLOY_DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def documented_config(proxy_port: int, upstreams: list[int]) -> str:
    """The nginx block of docs/deploy.md, pointed at this test's ports."""
    text = DEPLOY_DOC.read_text()
    config = re.search(r"```nginx\n(.*?)```", text, re.S).group(1)
    for index, port in enumerate(upstreams, start=1):
        config = config.replace(f"127.0.0.1:800{index};", f"127.0.0.1:{port};")
    return config.replace("listen 80;", f"listen 127.0.0.1:{proxy_port};")


class Upstream(mgio.Handler):
    """Answers with its name, the forwarded client address and a digest of the body;
    echoes WebSocket messages."""

    def __init__(self, name: str) -> None:
        self.name = name

    def on_http_request(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        digest = hashlib.sha256(msg.body).hexdigest()
        forwarded = msg.header("X-Forwarded-For", "-")
        conn.reply(200, f"{self.name} {forwarded} {digest}", {"Content-Type": "text/plain"})

    def on_ws_message(self, conn: mgio.Connection, msg: mgio.WebSocketMessage) -> None:
        conn.send_ws(msg)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory) -> Iterator[str]:
    """The base URL of nginx proxying to two mgio servers named a and b."""
    with ServerThread(Upstream("a")) as a, ServerThread(Upstream("b")) as b:
        for server in (a, b):
            server.listener.set_limits(body=64 << 20)
        tmp = tmp_path_factory.mktemp("nginx-proxy")
        config = lambda port: documented_config(port, [a.port, b.port])  # noqa: E731
        with run_nginx(tmp, config) as port:
            yield f"127.0.0.1:{port}"


def test_requests_reach_both_upstreams_with_the_client_address(proxy):
    with requests.Session() as session:
        answers = [session.get(f"http://{proxy}/", timeout=5).text for _ in range(8)]
    names = {answer.split()[0] for answer in answers}
    assert names == {"a", "b"}                      # round robin over the upstreams
    assert all(answer.split()[1] == "127.0.0.1" for answer in answers)


def test_request_bodies_arrive_whole(proxy):
    body = os.urandom(5 << 20)
    r = requests.post(f"http://{proxy}/upload", data=body, timeout=30)
    assert r.status_code == 200
    assert r.text.split()[2] == hashlib.sha256(body).hexdigest()


def test_websocket_through_the_proxy(proxy):
    blob = os.urandom(200_000)

    async def talk() -> list[str | bytes]:
        async with websockets.connect(f"ws://{proxy}/ws", max_size=None) as ws:
            got: list[str | bytes] = []
            for message in ("hello through nginx", blob, "bye"):
                await ws.send(message)
                got.append(await asyncio.wait_for(ws.recv(), 10))
            return got

    assert asyncio.run(talk()) == ["hello through nginx", blob, "bye"]
