"""mgio.testing WebSocket endpoints with real clients (the websockets library, sync and
asyncio, and aiohttp): echo, scripted replies, greetings, recorded messages, pushes
from the test, closing, unknown paths and unmet endpoints."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest
import websockets
from mgio.testing import Server
from websockets.sync.client import connect


def connect_to(url: str):
    return connect(url, open_timeout=5, close_timeout=5, proxy=None)


def test_echo_records_text_and_binary():
    with Server() as server:
        ws = server.expect_ws("/echo").echo()
        with connect_to(ws.url) as client:
            client.send("héllo")
            assert client.recv(timeout=5) == "héllo"
            client.send(b"\x00\xff")
            assert client.recv(timeout=5) == b"\x00\xff"
        assert ws.messages == ["héllo", b"\x00\xff"]
        assert ws.connections == 1
        assert ws.url == server.ws_url_for("/echo")


def test_scripted_replies_take_precedence_over_echo():
    with Server() as server:
        ws = (server.expect_ws("/chat").echo()
              .on("ping", "pong")
              .on(re.compile(r"add (\d+) (\d+)"), lambda m: str(sum(map(int, m.split()[1:]))))
              .on(b"\x01", [b"\x02", "two"])
              .on(lambda m: m == "quiet", lambda m: None))
        with connect_to(ws.url) as client:
            client.send("ping")
            assert client.recv(timeout=5) == "pong"
            client.send("add 2 40")
            assert client.recv(timeout=5) == "42"
            client.send(b"\x01")
            assert [client.recv(timeout=5), client.recv(timeout=5)] == [b"\x02", "two"]
            client.send("quiet")
            client.send("anything else")
            assert client.recv(timeout=5) == "anything else"  # echoed; "quiet" got nothing
        assert ws.messages == ["ping", "add 2 40", b"\x01", "quiet", "anything else"]


def test_without_echo_or_script_messages_are_only_recorded():
    with Server() as server:
        ws = server.expect_ws("/sink")
        with connect_to(ws.url) as client:
            for i in range(3):
                client.send(f"m{i}")
            assert ws.wait_for_messages(3) == ["m0", "m1", "m2"]


def test_greeting_push_and_close_from_the_test():
    with Server() as server:
        ws = server.expect_ws(re.compile("/feed/.*")).greet("welcome")
        with connect_to(server.ws_url_for("/feed/a")) as a, \
                connect_to(server.ws_url_for("/feed/b")) as b:
            ws.wait_for_connections(2)
            assert a.recv(timeout=5) == b.recv(timeout=5) == "welcome"
            ws.send("news")
            ws.send(b"\x07")
            assert [a.recv(timeout=5), a.recv(timeout=5)] == ["news", b"\x07"]
            assert [b.recv(timeout=5), b.recv(timeout=5)] == ["news", b"\x07"]
            ws.close(4000, "bye")
            with pytest.raises(websockets.ConnectionClosed) as info:
                a.recv(timeout=5)
            assert (info.value.rcvd.code, info.value.rcvd.reason) == (4000, "bye")
        assert ws.open_connections <= 2 and ws.connections == 2


def test_an_upgrade_to_an_unknown_path_is_refused_and_fails():
    with Server(check_on_exit=False) as server:
        server.expect_ws("/known", required=False)
        with pytest.raises(websockets.InvalidStatus) as info:
            connect_to(server.ws_url_for("/unknown"))
        assert info.value.response.status_code == 404
        with pytest.raises(AssertionError) as failure:
            server.check()
        message = str(failure.value)
        assert "unexpected WebSocket upgrade GET /unknown: no WebSocket endpoint" in message
        assert "Received:\n  1. GET /unknown -> 404, UNMATCHED" in message


def test_an_endpoint_nobody_connected_to_fails_the_check():
    with pytest.raises(AssertionError) as info, Server() as server:
        server.expect_ws("/lonely")
    assert "expected but not met: WebSocket /lonely (0 connection(s), 0 message(s))" \
        in str(info.value)


def test_websockets_asyncio_and_aiohttp_clients_in_asyncio_run():
    async def main(server: Server) -> None:
        ws = server.expect_ws("/a").on("hi", "hello")
        async with websockets.connect(ws.url, proxy=None) as client:
            await client.send("hi")
            assert await asyncio.wait_for(client.recv(), 5) == "hello"
        async with aiohttp.ClientSession() as session, \
                session.ws_connect(server.ws_url_for("/a")) as client2:
            await client2.send_str("not scripted")
            assert await ws.wait_for_messages_async(2) == ["hi", "not scripted"]

    with Server() as server:
        asyncio.run(main(server))
