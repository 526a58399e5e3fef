"""Pipelined requests (RFC 9112 9.3.2): the answers come in order; a bad request in the
pipeline gets its status after the good ones before it, then the connection closes and
nothing after it is answered (DESIGN "Precise rules")."""

from __future__ import annotations

from dataclasses import dataclass

from .cases import post, req

GOOD = req("/p")


@dataclass(frozen=True)
class Pipeline:
    """`data` is sent on one connection; `statuses` are the answers, in order; the
    connection closes after the last one when `close`, else it stays open."""

    name: str
    rfc: str
    data: bytes
    statuses: tuple[int, ...]
    close: bool = True


CASES = [
    Pipeline(
        "good-then-bad-header", "RFC 9112 9.3.2", GOOD + req("/", "Bad Name: v") + GOOD, (200, 400)
    ),
    Pipeline(
        "cl-body-then-garbage",
        "RFC 9112 6.3",
        post(b"abc", "Content-Length: 3") + b"XYZ\r\n\r\n",
        (200, 400),
    ),
    Pipeline(
        "chunked-then-cl-te",
        "RFC 9112 6.1",
        post(b"1\r\na\r\n0\r\n\r\n", "Transfer-Encoding: chunked")
        + post(b"0\r\n\r\n", "Content-Length: 5", "Transfer-Encoding: chunked"),
        (200, 400),
    ),
    Pipeline(
        "trailers-then-request",
        "RFC 9112 7.1.2",
        post(b"0\r\nX-T: 1\r\n\r\n", "Transfer-Encoding: chunked") + GOOD,
        (200, 200),
        False,
    ),
    Pipeline(
        "good-then-long-line", "RFC 9112 3 (414)", GOOD + req("/" + "a" * 9000) + GOOD, (200, 414)
    ),
    Pipeline(
        "three-then-close-then-more",
        "RFC 9112 9.6",
        GOOD * 3 + req("/", "Connection: close") + GOOD,
        (200, 200, 200, 200),
    ),
    Pipeline(
        "body-holds-a-head",
        "RFC 9112 6.3 (the body is data)",
        req("/", "Content-Length: 5", body=b"GET /") + GOOD,
        (200, 200),
        False,
    ),
    Pipeline(
        "expect-continue-with-body-at-once",
        "RFC 9110 10.1.1",
        req("/", "Expect: 100-continue", "Content-Length: 1", method="POST", body=b"z") + GOOD,
        (200, 200),
        False,
    ),
    Pipeline(
        "good-then-http2-preface",
        "RFC 9110 15.6.6",
        GOOD + b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        (200, 505),
    ),
]
