"""The default limits at, below and above each bound (DESIGN "Defaults" and "Precise
rules": inclusive; request line 8 KiB without its CRLF -> 414; header section 32 KiB,
100 fields, one field line 8 KiB -> 431; buffered body 1 MiB -> 413). RFC 9112 3
(SHOULD 414 for a long target), RFC 6585 5 (431), RFC 9110 15.5.14 (413)."""

from __future__ import annotations

from .cases import Case, ok, post, reject, req

KiB, MiB = 1024, 1024 * 1024
BASE = b"GET / HTTP/1.1\r\nHost: x\r\n"  # the head around the filler fields, plus CRLF


def request_line(length: int) -> bytes:
    """A GET whose request line (without CRLF) is `length` bytes."""
    return req("/" + "a" * (length - len("GET / HTTP/1.1")))


def field_line(length: int) -> bytes:
    """A request with one field line (name, colon, SP, value; no CRLF) of `length` bytes."""
    return req("/", "X: " + "v" * (length - 3))


def head_section(size: int) -> bytes:
    """A request whose head (request line, fields and blank line, CRLFs included) is
    exactly `size` bytes, in fields of 4000 bytes at most."""
    fields: list[bytes] = []
    left = size - len(BASE) - 2
    while left > 0:
        n = min(4000, left)
        if 0 < left - n < 8:  # keep the last field long enough for its name
            n -= 8
        fields.append(
            b"F%d: " % len(fields) + b"v" * (n - 2 - len(b"F%d: " % len(fields))) + b"\r\n"
        )
        left -= n
    data = BASE + b"".join(fields) + b"\r\n"
    assert len(data) == size, (len(data), size)
    return data


def many_fields(count: int) -> bytes:
    """A request with `count` header fields, Host included."""
    return req("/", *(f"F{i}: v" for i in range(count - 1)))


def cl_body(length: int) -> bytes:
    return post(b"b" * length, f"Content-Length: {length}")


def chunked_body(length: int) -> bytes:
    piece = 64 * KiB
    coded = b"".join(b"%x\r\n%s\r\n" % (piece, b"c" * piece) for _ in range(length // piece))
    if length % piece:
        coded += b"%x\r\n%s\r\n" % (length % piece, b"c" * (length % piece))
    return post(coded + b"0\r\n\r\n", "Transfer-Encoding: chunked")


# Split points near the bound (offsets), so that a write ends right at it.
AT = (8192, 8193, 8194)

CASES = [
    Case("request-line-8191", "DESIGN limits", request_line(8191), ok()),
    Case("request-line-8192", "DESIGN limits (inclusive)", request_line(8192), ok()),
    Case("request-line-8193", "RFC 9112 3 (414)", request_line(8193), reject(414)),
    Case("request-line-64k-no-crlf-yet", "RFC 9112 3 (414)", b"GET /" + b"a" * 65536, reject(414)),
    Case("field-line-8191", "DESIGN limits", field_line(8191), ok()),
    Case("field-line-8192", "DESIGN limits (inclusive)", field_line(8192), ok()),
    Case("field-line-8193", "RFC 6585 5 (431)", field_line(8193), reject(431)),
    Case("header-section-32767", "DESIGN limits", head_section(32767), ok()),
    Case("header-section-32768", "DESIGN limits (inclusive)", head_section(32768), ok()),
    Case("header-section-32769", "RFC 6585 5 (431)", head_section(32769), reject(431)),
    Case("header-section-endless", "RFC 6585 5 (431)", BASE + b"X: y\r\n" * 20000, reject(431)),
    Case("fields-99", "DESIGN limits", many_fields(99), ok()),
    Case("fields-100", "DESIGN limits (inclusive)", many_fields(100), ok()),
    Case("fields-101", "RFC 6585 5 (431)", many_fields(101), reject(431)),
    Case("cl-body-1mib-minus-1", "DESIGN limits", cl_body(MiB - 1), ok()),
    Case("cl-body-1mib", "DESIGN limits (inclusive)", cl_body(MiB), ok()),
    Case("cl-body-1mib-plus-1", "RFC 9110 15.5.14 (413)", cl_body(MiB + 1), reject(413)),
    Case(
        "cl-announces-1tib",
        "RFC 9110 15.5.14 (413)",
        post(b"", f"Content-Length: {MiB * MiB}"),
        reject(413),
    ),
    Case(
        "expect-100-with-oversize-cl",
        "RFC 9110 10.1.1 (final status instead of 100)",
        req("/", "Expect: 100-continue", f"Content-Length: {MiB + 1}", method="POST"),
        reject(413),
    ),
    Case("chunked-body-1mib", "DESIGN limits (inclusive)", chunked_body(MiB), ok()),
    Case("chunked-body-1mib-plus-1", "RFC 9110 15.5.14 (413)", chunked_body(MiB + 1), reject(413)),
]
