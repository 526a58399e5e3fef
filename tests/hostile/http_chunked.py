"""The chunked transfer coding from a client (RFC 9112 7.1: sizes, extensions, trailers)."""

from __future__ import annotations

from .cases import Case, ok, post, reject

TE = "Transfer-Encoding: chunked"


def trailers(count: int) -> bytes:
    """A last chunk with `count` trailer fields."""
    return b"0\r\n" + b"".join(b"T%d: v\r\n" % i for i in range(count)) + b"\r\n"


def trailer_section(size: int) -> bytes:
    """A last chunk whose trailer section (one field, its CRLF, the final CRLF) is `size`
    bytes."""
    return b"0\r\nX: " + b"v" * (size - 7) + b"\r\n\r\n"


def chunked(body: bytes) -> bytes:
    """A chunked POST whose coded body is `body`."""
    return post(body, TE)


# Limits of the decoder (csrc/proto/chunked.h), inclusive: 16 size digits, 4096 bytes of
# extensions, 100 trailer fields, an 8 KiB trailer section. Over them: 400 (RFC 9112 7.1
# leaves the bounds to the recipient; mgio answers the malformed-body status).
LIMITS = [
    Case(
        "size-16-digits",
        "RFC 9112 7.1 (leading zeros)",
        chunked(b"0000000000000001\r\nx\r\n0\r\n\r\n"),
        ok(body="x"),
    ),
    Case(
        "size-17-digits",
        "RFC 9112 7.1 (MUST anticipate large numerals; mgio: 16 digits)",
        chunked(b"00000000000000001\r\nx\r\n0\r\n\r\n"),
        reject(400),
    ),
    Case(
        "ext-4096-bytes",
        "RFC 9112 7.1.1",
        chunked(b"1;" + b"e" * 4095 + b"\r\nx\r\n0\r\n\r\n"),
        ok(body="x"),
    ),
    Case(
        "ext-4097-bytes",
        "RFC 9112 7.1.1 (bounded)",
        chunked(b"1;" + b"e" * 4096 + b"\r\nx\r\n0\r\n\r\n"),
        reject(400),
    ),
    Case("trailers-100", "RFC 9112 7.1.2", chunked(trailers(100)), ok(body="")),
    Case("trailers-101", "RFC 9112 7.1.2 (bounded)", chunked(trailers(101)), reject(400)),
    Case("trailer-section-8192", "RFC 9112 7.1.2", chunked(trailer_section(8192)), ok(body="")),
    Case(
        "trailer-section-8193",
        "RFC 9112 7.1.2 (bounded)",
        chunked(trailer_section(8193)),
        reject(400),
    ),
]

SYNTAX = [
    Case("chunk-one", "RFC 9112 7.1", chunked(b"5\r\nhello\r\n0\r\n\r\n"), ok(body="hello")),
    Case(
        "chunk-uppercase-hex",
        "RFC 9112 7.1 (HEXDIG)",
        chunked(b"A\r\n0123456789\r\n0\r\n\r\n"),
        ok(body="0123456789"),
    ),
    Case(
        "chunk-leading-zeros",
        "RFC 9112 7.1",
        chunked(b"0003\r\nabc\r\n000\r\n\r\n"),
        ok(body="abc"),
    ),
    Case(
        "chunk-data-binary",
        "RFC 9112 7.1",
        chunked(b"4\r\n\0\r\n\xff\r\n0\r\n\r\n"),
        ok(body="\0\r\n\xff"),
    ),
    Case(
        "chunk-ext-token",
        "RFC 9112 7.1.1",
        chunked(b"2;name=value\r\nab\r\n0\r\n\r\n"),
        ok(body="ab"),
    ),
    Case(
        "chunk-ext-quoted-with-semicolon",
        "RFC 9112 7.1.1",
        chunked(b'2;n="a;b=\\"c"\r\nab\r\n0;last\r\n\r\n'),
        ok(body="ab"),
    ),
    Case(
        "chunk-ext-bws",
        "RFC 9112 7.1.1 (BWS)",
        chunked(b"2 ; n = v\r\nab\r\n0\r\n\r\n"),
        ok(body="ab"),
    ),
    Case(
        "trailer-field", "RFC 9112 7.1.2", chunked(b"1\r\nz\r\n0\r\nX-Sum: 1\r\n\r\n"), ok(body="z")
    ),
    Case(
        "trailer-content-length-ignored",
        "RFC 9110 6.5.1 (no framing from trailers)",
        chunked(b"1\r\nz\r\n0\r\nContent-Length: 50\r\n\r\n"),
        ok(body="z"),
    ),
    Case(
        "trailer-te-ignored",
        "RFC 9110 6.5.1",
        chunked(b"0\r\nTransfer-Encoding: chunked\r\n\r\n"),
        ok(body=""),
    ),
    Case("size-minus", "RFC 9112 7.1 (1*HEXDIG)", chunked(b"-1\r\nx\r\n0\r\n\r\n"), reject(400)),
    Case("size-0x", "RFC 9112 7.1", chunked(b"0x1\r\nx\r\n0\r\n\r\n"), reject(400)),
    Case("size-g", "RFC 9112 7.1", chunked(b"g\r\nx\r\n0\r\n\r\n"), reject(400)),
    Case("size-empty", "RFC 9112 7.1", chunked(b"\r\nx\r\n0\r\n\r\n"), reject(400)),
    Case("size-leading-space", "RFC 9112 7.1", chunked(b" 1\r\nx\r\n0\r\n\r\n"), reject(400)),
    Case(
        "size-overflow-2pow64",
        "RFC 9112 7.1 (MUST anticipate overflow)",
        chunked(b"10000000000000000\r\nx\r\n0\r\n\r\n"),
        reject(400),
    ),
    Case(
        "size-overflow-wraps-to-1",
        "RFC 9112 7.1",
        chunked(b"10000000000000001\r\nx\r\n"),
        reject(400),
    ),
    Case("size-int64-min", "RFC 9112 7.1", chunked(b"8000000000000000\r\nx\r\n"), reject(400)),
    Case("size-bare-lf", "RFC 9112 2.2", chunked(b"1\nx\r\n0\r\n\r\n"), reject(400)),
    Case("size-bare-cr", "RFC 9112 2.2", chunked(b"1\rx\r\n0\r\n\r\n"), reject(400)),
    Case("data-longer-than-size", "RFC 9112 7.1", chunked(b"1\r\nxy\r\n0\r\n\r\n"), reject(400)),
    Case("data-no-crlf", "RFC 9112 7.1", chunked(b"1\r\nx0\r\n\r\n"), reject(400)),
    Case("data-lf-only", "RFC 9112 7.1", chunked(b"1\r\nx\n0\r\n\r\n"), reject(400)),
    Case("ext-no-name", "RFC 9112 7.1.1", chunked(b"1;=v\r\nx\r\n0\r\n\r\n"), reject(400)),
    Case("ext-control-char", "RFC 9112 7.1.1", chunked(b"1;a\x01\r\nx\r\n0\r\n\r\n"), reject(400)),
    Case(
        "ext-unterminated-quote",
        "RFC 9112 7.1.1",
        chunked(b'1;a="b\r\nx\r\n0\r\n\r\n'),
        reject(400),
    ),
    Case(
        "ext-nul-in-quoted", "RFC 9110 5.6.4", chunked(b'1;a="\0"\r\nx\r\n0\r\n\r\n'), reject(400)
    ),
    Case("trailer-obs-fold", "RFC 9112 5.2", chunked(b"0\r\nX: a\r\n b\r\n\r\n"), reject(400)),
    Case("trailer-no-colon", "RFC 9112 7.1.2", chunked(b"0\r\nnonsense\r\n\r\n"), reject(400)),
    Case("trailer-space-before-colon", "RFC 9112 5.1", chunked(b"0\r\nX : y\r\n\r\n"), reject(400)),
    Case("trailer-bare-lf-end", "RFC 9112 2.2", chunked(b"0\r\nX: y\n\r\n"), reject(400)),
    Case(
        "last-chunk-missing-final-crlf-then-request",
        "RFC 9112 7.1",
        chunked(b"0\r\nGET / HTTP/1.1\r\n\r\n"),
        reject(400),
    ),
]

CASES = [*LIMITS, *SYNTAX]
