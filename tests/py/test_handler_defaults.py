"""What a Handler that does not take some events gets: a multipart body arrives whole as
an ordinary request (not as part events delivered to nobody), and a WebSocket upgrade is
refused with 404 (not accepted with nobody to read the messages)."""

from __future__ import annotations

import asyncio

import mgio
import pytest
import requests
import websockets
from conftest import ServerThread


class PlainHttp(mgio.Handler):
    def on_http_request(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        ctype = msg.header("Content-Type", "")
        conn.reply(200, f"{msg.method} {len(msg.body)} {ctype.split(';')[0]}")


def test_plain_handler_gets_a_multipart_body_whole():
    with ServerThread(PlainHttp()) as srv:
        r = requests.post(srv.url + "/form", files={"f": ("a.txt", b"x" * 1000)},
                          data={"k": "v"}, timeout=5)
        assert r.status_code == 200
        method, size, ctype = r.text.split()
        assert (method, ctype) == ("POST", "multipart/form-data") and int(size) > 1000
        big = requests.post(srv.url + "/form", files={"f": ("b", b"y" * (2 << 20))}, timeout=10)
        assert big.status_code == 413  # the buffered-body limit applies


def test_multipart_events_still_stream_to_a_handler_that_takes_them():
    class Parts(PlainHttp):
        def on_http_part_data(self, conn: mgio.Connection, part: mgio.MultipartPart) -> None:
            self.seen = getattr(self, "seen", 0) + len(part)

        def on_http_multipart_request_end(self, conn, part) -> None:
            conn.reply(200, f"parts {self.seen}")

    with ServerThread(Parts()) as srv:
        r = requests.post(srv.url + "/", files={"f": ("a", b"z" * 5000)}, timeout=5)
        assert r.text == "parts 5000"


def test_an_endpoint_that_takes_parts_keeps_streaming():
    class Parts(mgio.Handler):
        def on_http_part_end(self, conn, part) -> None:
            pass

        def on_http_multipart_request_end(self, conn, part) -> None:
            conn.reply(200, "streamed")

    with ServerThread(PlainHttp(),
                      setup=lambda lc: lc.register_endpoint("/up", Parts())) as srv:
        r = requests.post(srv.url + "/up", files={"f": ("a", b"1")}, timeout=5)
        assert r.text == "streamed"


@pytest.mark.parametrize("path", ["/", "/ws"])
def test_upgrade_to_a_handler_without_websocket_events_is_refused(path):
    async def attempt(url: str) -> int:
        try:
            async with websockets.connect(url, open_timeout=5):
                return 101
        except websockets.exceptions.InvalidStatus as e:
            return e.response.status_code

    with ServerThread(PlainHttp()) as srv:
        assert asyncio.run(attempt(f"ws://127.0.0.1:{srv.port}{path}")) == 404
        assert requests.get(srv.url + "/after", timeout=5).status_code == 200
