"""Message framing and request smuggling (RFC 9112 6, 6.1, 6.3; RFC 9110 8.6).

An accepted case is followed on the same connection by another request, which must be
answered as such: a server that framed the body wrongly would see garbage there.
"""

from __future__ import annotations

from .cases import Case, ok, ok_close, post, raw, reject, req

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
TE = "Transfer-Encoding: chunked"

CASES = [
    Case("cl-body", "RFC 9112 6.2", post(b"hello", "Content-Length: 5"), ok(body="hello")),
    Case("cl-zero", "RFC 9112 6.2", post(b"", "Content-Length: 0"), ok(body="")),
    Case(
        "cl-leading-zeros",
        "RFC 9110 8.6 (1*DIGIT)",
        post(b"hello", "Content-Length: 0005"),
        ok(body="hello"),
    ),
    Case(
        "cl-identical-fields",
        "RFC 9110 8.6 (MAY accept)",
        post(b"hello", "Content-Length: 5", "Content-Length: 5"),
        ok(body="hello"),
    ),
    Case(
        "cl-body-holds-a-request",
        "RFC 9112 6.3 (the body is data)",
        post(SMUGGLED, f"Content-Length: {len(SMUGGLED)}"),
        ok(body=SMUGGLED.decode()),
    ),
    Case(
        "chunked-body-holds-a-request",
        "RFC 9112 7.1",
        post(b"%x\r\n%s\r\n0\r\n\r\n" % (len(SMUGGLED), SMUGGLED), TE),
        ok(body=SMUGGLED.decode()),
    ),
    Case(
        "get-with-cl-body",
        "RFC 9110 9.3.1",
        req("/", "Content-Length: 3", body=b"abc"),
        ok(body="abc", method="GET"),
    ),
    Case("no-framing-means-no-body", "RFC 9112 6.3 (7)", post(b""), ok(body="")),
    Case(
        "http10-cl-body-then-close",
        "RFC 9112 6.3",
        req("/", "Content-Length: 2", method="POST", version="HTTP/1.0", body=b"ab"),
        ok_close(body="ab"),
    ),
    Case(
        "connection-close-then-pipelined",
        "RFC 9112 9.6",
        req("/", "Connection: close") + SMUGGLED,
        ok_close(uri="/"),
    ),
    Case(
        "te-name-lowercase",
        "RFC 9110 5.1",
        post(b"0\r\n\r\n", "transfer-encoding: chunked"),
        ok(body=""),
    ),
    Case(
        "te-value-mixed-case",
        "RFC 9112 7 (case-insensitive codings)",
        post(b"1\r\na\r\n0\r\n\r\n", "Transfer-Encoding: ChUnKeD"),
        ok(body="a"),
    ),
    Case(
        "te-leading-htab",
        "RFC 9112 5.1 (OWS)",
        post(b"0\r\n\r\n", "Transfer-Encoding:\tchunked"),
        ok(body=""),
    ),
    Case(
        "te-underscore-is-another-field",
        "RFC 9110 5.1 (exact names)",
        post(b"", "Transfer_Encoding: chunked"),
        ok(body=""),
    ),
    Case(
        "cl-underscore-is-another-field",
        "RFC 9110 5.1",
        post(b"", "Content_Length: 5"),
        ok(body=""),
    ),
    Case(
        "cl-then-te",
        "RFC 9112 6.1 (MAY reject; DESIGN: 400)",
        post(b"0\r\n\r\n", "Content-Length: 5", TE),
        reject(400),
    ),
    Case(
        "te-then-cl-smuggle",
        "RFC 9112 6.1",
        post(b"0\r\n\r\nGET /x HTTP/1.1\r\nHost: x\r\n\r\n", TE, "Content-Length: 40"),
        reject(400),
    ),
    Case(
        "te-uppercase-with-cl",
        "RFC 9112 6.1",
        post(b"0\r\n\r\n", "Content-Length: 0", "TRANSFER-ENCODING: CHUNKED"),
        reject(400),
    ),
    Case(
        "te-on-http10",
        "RFC 9112 6.1 (faulty framing)",
        req("/", TE, method="POST", version="HTTP/1.0", body=b"0\r\n\r\n"),
        reject(400),
    ),
    Case(
        "te-chunked-not-last",
        "RFC 9112 6.1 (MUST 400)",
        post(b"", "Transfer-Encoding: chunked, identity"),
        reject(400),
    ),
    Case(
        "te-chunked-then-field-gzip",
        "RFC 9112 6.1",
        post(b"", TE, "Transfer-Encoding: gzip"),
        reject(400),
    ),
    Case(
        "te-deflate-chunked-501",
        "RFC 9112 6.1, RFC 9110 15.6.2 (501)",
        post(b"0\r\n\r\n", "Transfer-Encoding: deflate, chunked"),
        reject(501),
    ),
    Case(
        "te-unknown-coding-chunked-501",
        "RFC 9112 7 (501)",
        post(b"0\r\n\r\n", "Transfer-Encoding: x-made-up, chunked"),
        reject(501),
    ),
    Case(
        "te-chunked-semicolon",
        "RFC 9112 7 (no parameters for chunked)",
        post(b"0\r\n\r\n", "Transfer-Encoding: chunked;x=1"),
        reject(400),
    ),
    Case("te-comma-only", "RFC 9110 5.6.1", post(b"", "Transfer-Encoding: ,"), reject(400)),
    Case(
        "te-chunked-trailing-garbage",
        "RFC 9112 7",
        post(b"", "Transfer-Encoding: chunked x"),
        reject(400),
    ),
    Case(
        "te-obs-fold-second-line",
        "RFC 9112 5.2",
        post(b"0\r\n\r\n", "Transfer-Encoding: gzip,", " chunked"),
        reject(400),
    ),
    Case(
        "te-with-nbsp",
        "RFC 9110 5.6.3 (OWS is SP / HTAB only)",
        post(b"0\r\n\r\n", "Transfer-Encoding: \xa0chunked"),
        reject(400),
    ),
    Case(
        "cl-differing-fields",
        "RFC 9110 8.6 (MUST 400)",
        post(b"hello", "Content-Length: 5", "Content-Length: 4"),
        reject(400),
    ),
    Case("cl-differing-list", "RFC 9110 8.6", post(b"hello", "Content-Length: 4, 5"), reject(400)),
    Case("cl-negative-zero", "RFC 9110 8.6", post(b"", "Content-Length: -0"), reject(400)),
    Case(
        "cl-2pow64",
        "RFC 9110 8.6 (overflow)",
        post(b"", "Content-Length: 18446744073709551616"),
        reject(400),
    ),
    Case("cl-underscore-digits", "RFC 9110 8.6", post(b"", "Content-Length: 1_0"), reject(400)),
    Case(
        "cl-fullwidth-digit",
        "RFC 9110 8.6 (DIGIT is ASCII)",
        post(b"", "Content-Length: \xef\xbc\x95"),
        reject(400),
    ),
    Case("cl-nul-after", "RFC 9110 5.5", post(b"", "Content-Length: 0\0"), reject(400)),
    Case(
        "cl-bare-cr-inside",
        "RFC 9112 2.2",
        raw("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r0\r\n\r\n"),
        reject(400),
    ),
    Case("cl-tab-before-colon", "RFC 9112 5.1", post(b"", "Content-Length\t: 0"), reject(400)),
    Case(
        "cl-obs-fold-digit", "RFC 9112 5.2", post(b"12345", "Content-Length: 1", " 2"), reject(400)
    ),
    Case("cl-empty-list-element", "RFC 9110 8.6", post(b"", "Content-Length: ,0"), reject(400)),
]
