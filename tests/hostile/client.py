"""Hostile responses to the mgio HTTP client (Manager.connect_http): status line, framing,
chunked coding, limits (RFC 9112 4, 5, 6, 7; RFC 9110 8.6, 15).

A case is the bytes a server answers a GET with and what the client makes of them: one
reply (status, body), or ``None``: no reply at all, and the client closes the connection
by itself. With ``eof`` the server closes after the bytes (a close-delimited body).
"""

from __future__ import annotations

from dataclasses import dataclass

OK = "HTTP/1.1 200 OK\r\n"


@dataclass(frozen=True)
class ClientCase:
    name: str
    rfc: str
    data: bytes
    reply: tuple[int, bytes] | None
    eof: bool = False


def resp(*lines: str, body: bytes = b"", status: str = OK) -> bytes:
    return (status + "".join(f"{ln}\r\n" for ln in lines) + "\r\n").encode("latin-1") + body


def good(
    name: str, rfc: str, data: bytes, status: int, body: bytes, eof: bool = False
) -> ClientCase:
    return ClientCase(name, rfc, data, (status, body), eof)


def bad(name: str, rfc: str, data: bytes) -> ClientCase:
    return ClientCase(name, rfc, data, None)


def headers(count: int) -> list[str]:
    return [f"F{i}: v" for i in range(count)]


TE = "Transfer-Encoding: chunked"

CASES = [
    good("cl-body", "RFC 9112 6.3", resp("Content-Length: 5", body=b"hello"), 200, b"hello"),
    good(
        "chunked-ext-and-trailer",
        "RFC 9112 7.1",
        resp(TE, body=b"5;e=1\r\nhello\r\n0\r\nX-T: 1\r\n\r\n"),
        200,
        b"hello",
    ),
    good(
        "interim-100-then-final",
        "RFC 9110 15.2",
        b"HTTP/1.1 100 Continue\r\n\r\n" + resp("Content-Length: 1", body=b"x"),
        200,
        b"x",
    ),
    good(
        "interim-103-then-404",
        "RFC 9110 15.2, RFC 8297",
        b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
        + resp("Content-Length: 0", status="HTTP/1.1 404 Not Found\r\n"),
        404,
        b"",
    ),
    good("close-delimited", "RFC 9112 6.3 (8)", resp(body=b"tail"), 200, b"tail", eof=True),
    good(
        "te-gzip-is-close-delimited",
        "RFC 9112 6.3 (4)",
        resp("Transfer-Encoding: gzip", body=b"raw"),
        200,
        b"raw",
        eof=True,
    ),
    good(
        "cl-identical-list",
        "RFC 9110 8.6 (MAY accept)",
        resp("Content-Length: 3, 3", body=b"abc"),
        200,
        b"abc",
    ),
    good(
        "reason-obs-text",
        "RFC 9112 4 (reason-phrase)",
        resp("Content-Length: 0", status="HTTP/1.1 200 \xd6K\r\n"),
        200,
        b"",
    ),
    good(
        "empty-reason",
        "RFC 9112 4",
        resp("Content-Length: 0", status="HTTP/1.1 201 \r\n"),
        201,
        b"",
    ),
    good(
        "status-999-three-digits",
        "RFC 9112 4 (status-code = 3DIGIT; 9110 15: outside 100..599 is the reader's call)",
        resp("Content-Length: 0", status="HTTP/1.1 999 Odd\r\n"),
        999,
        b"",
    ),
    good(
        "interim-with-content-length",
        "RFC 9110 15.2 (1xx has no content)",
        b"HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n" + resp("Content-Length: 0"),
        200,
        b"",
    ),
    good(
        "interim-flood",
        "RFC 9110 15.2 (any number of 1xx)",
        b"HTTP/1.1 100 Continue\r\n\r\n" * 2000 + resp("Content-Length: 1", body=b"k"),
        200,
        b"k",
    ),
    good(
        "no-content-204-ignores-length",
        "RFC 9112 6.3 (1)",
        resp("Content-Length: 5", status="HTTP/1.1 204 No Content\r\n"),
        204,
        b"",
    ),
    good(
        "not-modified-304-ignores-length",
        "RFC 9112 6.3 (1)",
        resp("Content-Length: 100", status="HTTP/1.1 304 Not Modified\r\n"),
        304,
        b"",
    ),
    ClientCase(
        "http10-with-chunked",
        "RFC 9112 6.1 (MUST treat the framing as faulty)",
        resp(TE, body=b"1\r\nx\r\n0\r\n\r\n", status="HTTP/1.0 200 OK\r\n"),
        None,
        eof=True,
    ),
    bad("status-4-digits", "RFC 9112 4 (3DIGIT)", resp(status="HTTP/1.1 2000 OK\r\n")),
    bad("status-2-digits", "RFC 9112 4", resp(status="HTTP/1.1 20 OK\r\n")),
    bad("status-negative", "RFC 9112 4", resp(status="HTTP/1.1 -20 OK\r\n")),
    bad("status-glued-reason", "RFC 9112 4", resp(status="HTTP/1.1 200OK\r\n")),
    bad("status-099", "RFC 9110 15 (100..599)", resp(status="HTTP/1.1 099 X\r\n")),
    bad("not-http", "RFC 9112 2.3", resp(status="ICY 200 OK\r\n")),
    bad("status-bare-lf", "RFC 9112 2.2", b"HTTP/1.1 200 OK\nContent-Length: 0\n\n"),
    bad("reason-nul", "RFC 9112 4", resp("Content-Length: 0", status="HTTP/1.1 200 O\0K\r\n")),
    bad("cl-negative", "RFC 9110 8.6", resp("Content-Length: -1")),
    bad("cl-differing-list", "RFC 9110 8.6 (MUST treat as error)", resp("Content-Length: 1, 2")),
    bad(
        "cl-differing-fields",
        "RFC 9110 8.6",
        resp("Content-Length: 2", "Content-Length: 1", body=b"ab"),
    ),
    bad("cl-hex", "RFC 9110 8.6", resp("Content-Length: 0x10")),
    bad("cl-2pow64", "RFC 9110 8.6 (overflow)", resp("Content-Length: 18446744073709551616")),
    bad(
        "cl-with-te",
        "RFC 9112 6.1 (smuggling; DESIGN: refused)",
        resp("Content-Length: 3", TE, body=b"0\r\n\r\n"),
    ),
    ClientCase(
        "cl-body-cut-short-by-close",
        "RFC 9112 8 (incomplete message)",
        resp("Content-Length: 10", body=b"short"),
        None,
        eof=True,
    ),
    ClientCase(
        "chunked-cut-short-by-close", "RFC 9112 8", resp(TE, body=b"5\r\nhello\r\n"), None, eof=True
    ),
    bad("chunk-size-zz", "RFC 9112 7.1", resp(TE, body=b"zz\r\nx\r\n0\r\n\r\n")),
    bad("chunk-size-overflow", "RFC 9112 7.1", resp(TE, body=b"fffffffffffffffff\r\nx\r\n")),
    bad("chunk-data-too-long", "RFC 9112 7.1", resp(TE, body=b"1\r\nxy\r\n0\r\n\r\n")),
    bad("chunk-size-bare-lf", "RFC 9112 2.2", resp(TE, body=b"1\nx\r\n0\r\n\r\n")),
    bad("trailer-obs-fold", "RFC 9112 5.2", resp(TE, body=b"0\r\nX: a\r\n b\r\n\r\n")),
    bad(
        "obs-fold-in-head",
        "DESIGN 2 (obs-fold refused; RFC 9112 5.2 lets a UA unfold)",
        resp("X: a", " b", "Content-Length: 0"),
    ),
    bad("space-before-colon", "RFC 9112 5.1", resp("Content-Length : 0")),
    bad("headers-101", "DESIGN limits (100 fields)", resp(*headers(100), "Content-Length: 0")),
    bad(
        "header-section-over-32k",
        "DESIGN limits (32 KiB)",
        resp(*(f"F{i}: {'v' * 4000}" for i in range(9)), "Content-Length: 0"),
    ),
    bad("field-line-over-8k", "DESIGN limits (8 KiB)", resp("X: " + "v" * 8190)),
    bad(
        "status-line-over-8k",
        "DESIGN limits (8 KiB)",
        resp(status="HTTP/1.1 200 " + "r" * 8190 + "\r\n"),
    ),
]
