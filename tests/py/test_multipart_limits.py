"""Streaming multipart limits set through Connection.set_limits (multipart_max_header,
multipart_max_parts) at, below and above their values, with raw bodies and curl -F;
the defaults (8192 bytes, 1000 parts); and data a handler left unconsumed
(part.consume) offered again on the next poll without the client sending more."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

import mgio
import pytest
from conftest import ServerThread, recv_until_closed, wait_for

CURL = shutil.which("curl") or "/usr/bin/curl"
CD = b'Content-Disposition: form-data; name="a"\r\n'


class Counter(mgio.Handler):
    """Counts a request's parts and data bytes; answers "parts=<n> bytes=<n>" at the end. With
    `pause`, the first `pause` offers are taken with consume(0)."""

    def __init__(self, pause: int = 0) -> None:
        self.parts = 0
        self.bytes = 0
        self.offers = 0
        self.pause = pause
        self.ends: list[int] = []

    def on_http_multipart_request(self, conn, msg):
        self.parts = self.bytes = 0

    def on_http_part_begin(self, conn, part):
        self.parts += 1

    def on_http_part_data(self, conn, part):
        self.offers += 1
        if self.pause > 0:
            self.pause -= 1
            part.consume(0)
            return
        self.bytes += len(part.data)

    def on_http_multipart_request_end(self, conn, part):
        self.ends.append(part.status)
        if part.status == 0:
            conn.reply(200, f"parts={self.parts} bytes={self.bytes}")


def serve(handler: Counter | None = None, **limits: int) -> ServerThread:
    handler = handler if handler is not None else Counter()
    return ServerThread(handler, setup=lambda lc: lc.set_limits(**limits) if limits else None)


def head(length: int) -> bytes:
    return (
        "POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=XyZ\r\n"
        f"Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ).encode()


def post(port: int, body: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(head(len(body)) + body)
        return recv_until_closed(s)


def header_body(size: int) -> bytes:
    """One part whose header section (CRLFs and the empty line included) is `size`
    bytes, with the data "data"."""
    pad = size - len(CD) - len(b"X-Pad: \r\n\r\n")
    return b"--XyZ\r\n" + CD + b"X-Pad: " + b"x" * pad + b"\r\n\r\ndata\r\n--XyZ--"


def parts_body(n: int) -> bytes:
    return (
        b"--XyZ\r\n"
        + CD
        + b"\r\n\r\n"
        + b"".join(b"--XyZ\r\n" + CD + b"\r\n\r\n" for _ in range(n - 1))
        + b"--XyZ--"
    )


def ok(answer: bytes, parts: int, data: int) -> bool:
    return answer.startswith(b"HTTP/1.1 200 ") and answer.endswith(
        f"parts={parts} bytes={data}".encode()
    )


def refused(answer: bytes) -> bool:
    return answer.startswith(b"HTTP/1.1 413 ") and b"Connection: close" in answer


@pytest.mark.parametrize(("size", "accepted"), [(99, True), (100, True), (101, False)])
def test_part_header_limit(size, accepted):
    with serve(multipart_max_header=100) as srv:
        answer = post(srv.port, header_body(size))
        assert ok(answer, 1, 4) if accepted else refused(answer)
        assert ok(post(srv.port, header_body(60)), 1, 4)  # the server goes on


@pytest.mark.parametrize(("count", "accepted"), [(2, True), (3, True), (4, False)])
def test_parts_limit(count, accepted):
    handler = Counter()
    with serve(handler, multipart_max_parts=3) as srv:
        answer = post(srv.port, parts_body(count))
        assert ok(answer, count, 0) if accepted else refused(answer)
        wait_for(lambda: handler.ends)
        assert handler.ends == [0 if accepted else -1]


def test_defaults_8192_bytes_and_1000_parts():
    with serve() as srv:
        assert ok(post(srv.port, header_body(8192)), 1, 4)
        assert refused(post(srv.port, header_body(8193)))
    with serve() as srv:
        assert ok(post(srv.port, parts_body(1000)), 1000, 0)
        assert refused(post(srv.port, parts_body(1001)))


@pytest.mark.skipif(not os.path.exists(CURL), reason="no curl")
def test_curl_fields_against_the_parts_limit():
    with serve(multipart_max_parts=2) as srv:

        def curl(fields: int) -> str:
            args = [CURL, "-s", "-o", "-", "-w", " %{http_code}", srv.url + "/up"]
            for i in range(fields):
                args += ["-F", f"f{i}=v{i}"]
            return subprocess.run(args, capture_output=True, text=True, timeout=10).stdout

        assert curl(2) == "parts=2 bytes=4 200"
        assert curl(3).endswith(" 413")


def test_unconsumed_data_offered_again_on_poll():
    handler = Counter(pause=1)
    body = b"--XyZ\r\n" + CD + b"\r\nhello world"
    with serve(handler) as srv, socket.create_connection(("127.0.0.1", srv.port)) as s:
        s.settimeout(5)
        s.sendall(head(len(body) + 9) + body)  # the close delimiter comes later
        wait_for(lambda: handler.bytes == 11, what="the data offered again")
        assert handler.offers == 2
        time.sleep(0.1)
        assert handler.offers == 2  # taken: not offered once more
        s.sendall(b"\r\n--XyZ--")
        assert recv_until_closed(s).endswith(b"parts=1 bytes=11")
