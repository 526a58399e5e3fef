"""multipart/form-data request bodies (RFC 7578; RFC 2046 5.1.1 for the delimiters).

The Site counts the parts and their sizes and answers 200 with them as JSON. A body the
parser refuses gets 400 (malformed) or 413 (a part header over 8 KiB, over 1000 parts),
then the connection closes (DESIGN "Defaults": multipart limits).
"""

from __future__ import annotations

import json

from .cases import Case, Expect, post

B = "XyZ-boundary"
CT = f"Content-Type: multipart/form-data; boundary={B}"


def part(name: str = "f", data: bytes = b"v", *, headers: bytes | None = None) -> bytes:
    """One body part with its delimiter line (CRLF "--" B CRLF, headers, CRLF, data)."""
    if headers is None:
        headers = b'Content-Disposition: form-data; name="%s"\r\n' % name.encode()
    return b"\r\n--" + B.encode() + b"\r\n" + headers + b"\r\n" + data


def body(*parts: bytes, end: bytes = b"\r\n--" + B.encode() + b"--\r\n") -> bytes:
    """The parts and the close delimiter. The first delimiter needs no CRLF before it."""
    return b"".join(parts).removeprefix(b"\r\n") + end


def form(data: bytes, content_type: str = CT) -> bytes:
    return post(data, content_type, f"Content-Length: {len(data)}")


def counted(*sizes: tuple[str, int]) -> Expect:
    reply = json.dumps({"parts": len(sizes), "sizes": [list(s) for s in sizes]})
    return Expect(200, close=False, dispatched=True, body=reply.encode())


def failed(status: int) -> Expect:
    """The multipart stream began (the handler saw the request) and then failed."""
    return Expect(status, close=True, dispatched=True)


def refused(status: int) -> Expect:
    """Refused from the head alone: no handler saw it."""
    return Expect(status, close=True, dispatched=False)


def header_of(size: int) -> bytes:
    """A part header section (fields, CRLFs and the empty line) of exactly `size` bytes."""
    disp = b'Content-Disposition: form-data; name="f"\r\n'
    pad = size - len(disp) - len(b"X-Pad: \r\n") - 2
    return disp + b"X-Pad: " + b"p" * pad + b"\r\n"


MANY = body(*(part(f"p{i}", b"") for i in range(1000)))
TOO_MANY = body(*(part(f"p{i}", b"") for i in range(1001)))


def disposition(value: bytes) -> bytes:
    """A body of one part whose Content-Disposition value is `value`."""
    return form(body(part(headers=b"Content-Disposition: " + value + b"\r\n")))


BB = B.encode()
CHUNKED_BODY = body(part("a", b"c"))

CASES = [
    Case(
        "delimiter-prefix-then-text-is-data",
        "RFC 2046 5.1.1 (delimiter: then LWSP CRLF or --)",
        form(body(part("a", b"x\r\n--" + BB + b"X more"))),
        counted(("a", 11 + len(B))),
    ),
    Case(
        "close-delimiter-without-crlf",
        "RFC 2046 5.1.1 (close-delimiter, then epilogue)",
        form(body(part("a"), end=b"\r\n--" + BB + b"--")),
        counted(("a", 1)),
    ),
    Case(
        "close-delimiter-only",
        "RFC 2046 5.1.1 wants a part; an empty form is sent so",
        form(b"--" + BB + b"--\r\n"),
        counted(),
    ),
    Case(
        "chunked-framing",
        "RFC 9112 7.1, RFC 7578",
        post(
            b"%x\r\n%s\r\n0\r\n\r\n" % (len(CHUNKED_BODY), CHUNKED_BODY),
            CT,
            "Transfer-Encoding: chunked",
        ),
        counted(("a", 1)),
    ),
    Case(
        "boundary-70-chars",
        "RFC 2046 5.1.1 (1 to 70)",
        form(
            b"--"
            + b"b" * 70
            + b'\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--'
            + b"b" * 70
            + b"--\r\n",
            "Content-Type: multipart/form-data; boundary=" + "b" * 70,
        ),
        counted(("a", 1)),
    ),
    Case(
        "boundary-with-inner-space",
        "RFC 2046 5.1.1 (bchars include space)",
        form(
            b'--a b\r\nContent-Disposition: form-data; name="a"\r\n\r\nv\r\n--a b--\r\n',
            'Content-Type: multipart/form-data; boundary="a b"',
        ),
        counted(("a", 1)),
    ),
    Case(
        "boundary-param-after-charset",
        "RFC 9110 5.6.6 (parameters in any order)",
        form(body(part("a")), f"Content-Type: multipart/form-data; charset=utf-8; boundary={B}"),
        counted(("a", 1)),
    ),
    Case(
        "boundary-param-name-uppercase",
        "RFC 9110 5.6.6, RFC 2045 5.1 (names case-insensitive)",
        form(body(part("a")), f"Content-Type: multipart/form-data; BOUNDARY={B}"),
        counted(("a", 1)),
    ),
    Case(
        "disposition-any-case",
        "RFC 7578 4.2, RFC 6266 4.1 (case-insensitive)",
        disposition(b'FORM-DATA; NAME="a"'),
        counted(("a", 1)),
    ),
    Case(
        "disposition-token-name",
        "RFC 6266 4.1 (value = token / quoted-string)",
        disposition(b"form-data; name=a"),
        counted(("a", 1)),
    ),
    Case(
        "disposition-quoted-pair-in-name",
        "RFC 9110 5.6.4",
        disposition(b'form-data; name="a\\"b"'),
        counted(('a"b', 1)),
    ),
    Case(
        "disposition-attachment",
        "RFC 7578 4.2 (type MUST be form-data)",
        disposition(b'attachment; name="a"'),
        failed(400),
    ),
    Case(
        "disposition-name-twice",
        "RFC 6266 4.1 (each parameter once)",
        disposition(b'form-data; name="a"; name="b"'),
        failed(400),
    ),
    Case(
        "disposition-ext-name-only",
        "RFC 7578 4.2 (name, not name*)",
        disposition(b"form-data; name*=UTF-8''a"),
        failed(400),
    ),
    Case(
        "disposition-unterminated-quote",
        "RFC 9110 5.6.4",
        disposition(b'form-data; name="a'),
        failed(400),
    ),
    Case(
        "disposition-twice",
        "RFC 7578 4.2 (one Content-Disposition)",
        form(
            body(
                part(
                    headers=b'Content-Disposition: form-data; name="a"\r\n'
                    b'Content-Disposition: form-data; name="b"\r\n'
                )
            )
        ),
        failed(400),
    ),
    Case("empty-body", "RFC 2046 5.1.1", form(b""), failed(400)),
    Case("one-field", "RFC 7578 4", form(body(part("a", b"hello"))), counted(("a", 5))),
    Case(
        "preamble-and-epilogue",
        "RFC 2046 5.1.1 (ignored)",
        form(b"preamble\r\n" + body(part("a", b"x"), end=b"\r\n--" + B.encode() + b"--\r\nepi")),
        counted(("a", 1)),
    ),
    Case(
        "boundary-like-text-in-data",
        "RFC 2046 5.1.1 (CRLF -- B only)",
        form(body(part("a", b"--" + B.encode() + b" x--" + B.encode()))),
        counted(("a", 2 * len(B) + 6)),
    ),
    Case(
        "quoted-boundary",
        "RFC 2046 5.1.1, RFC 9110 5.6.4",
        form(body(part("a", b"q")), f'Content-Type: multipart/form-data; boundary="{B}"'),
        counted(("a", 1)),
    ),
    Case(
        "transport-padding",
        "RFC 2046 5.1.1 (LWSP after the boundary)",
        form(body(part("a", b"x")).replace(B.encode() + b"\r\n", B.encode() + b" \t \r\n", 1)),
        counted(("a", 1)),
    ),
    Case(
        "filename-with-path",
        "RFC 7578 4.2 (the name is the application's)",
        form(
            body(
                part(
                    headers=b'Content-Disposition: form-data; name="u"; '
                    b'filename="../../etc/passwd"\r\n',
                    data=b"abc",
                )
            )
        ),
        counted(("u", 3)),
    ),
    Case(
        "parts-1000",
        "DESIGN multipart (<= 1000 parts)",
        form(MANY),
        counted(*((f"p{i}", 0) for i in range(1000))),
    ),
    Case(
        "part-header-8192",
        "DESIGN multipart (part header <= 8 KiB)",
        form(body(part(headers=header_of(8192), data=b"d"))),
        counted(("f", 1)),
    ),
    Case("parts-1001", "DESIGN multipart (413)", form(TOO_MANY), failed(413)),
    Case(
        "part-header-8193",
        "DESIGN multipart (413)",
        form(body(part(headers=header_of(8193), data=b"d"))),
        failed(413),
    ),
    Case(
        "no-boundary-parameter",
        "RFC 7578 4.1 (boundary required)",
        form(body(part()), "Content-Type: multipart/form-data"),
        refused(400),
    ),
    Case(
        "empty-boundary",
        "RFC 2046 5.1.1 (1 to 70 chars)",
        form(body(part()), "Content-Type: multipart/form-data; boundary="),
        refused(400),
    ),
    Case(
        "boundary-71-chars",
        "RFC 2046 5.1.1",
        form(b"x", "Content-Type: multipart/form-data; boundary=" + "b" * 71),
        refused(400),
    ),
    Case(
        "boundary-bad-char",
        "RFC 2046 5.1.1 (bchars)",
        form(b"x", "Content-Type: multipart/form-data; boundary=a@b"),
        refused(400),
    ),
    Case(
        "boundary-ends-in-space",
        "RFC 2046 5.1.1 (bcharsnospace last)",
        form(b"x", 'Content-Type: multipart/form-data; boundary="ab "'),
        refused(400),
    ),
    Case(
        "no-content-disposition",
        "RFC 7578 4.2 (MUST)",
        form(body(part(headers=b"Content-Type: text/plain\r\n"))),
        failed(400),
    ),
    Case(
        "disposition-without-name",
        "RFC 7578 4.2 (name MUST)",
        form(body(part(headers=b"Content-Disposition: form-data\r\n"))),
        failed(400),
    ),
    Case(
        "disposition-empty-name-param",
        "RFC 7578 4.2",
        form(body(part(headers=b'Content-Disposition: form-data; filename="a"\r\n'))),
        failed(400),
    ),
    Case(
        "part-header-no-colon",
        "RFC 2046 5.1.1, RFC 5322 2.2",
        form(body(part(headers=b'Content-Disposition: form-data; name="a"\r\nbroken\r\n'))),
        failed(400),
    ),
    Case(
        "part-header-bare-lf",
        "RFC 2046 5.1.1 (CRLF)",
        form(body(part(headers=b'Content-Disposition: form-data; name="a"\nX: y\r\n'))),
        failed(400),
    ),
    Case(
        "part-header-obs-fold",
        "RFC 7578 4.8 (no folding needed), RFC 9112 5.2",
        form(body(part(headers=b'Content-Disposition: form-data;\r\n name="a"\r\n'))),
        failed(400),
    ),
    Case("no-close-delimiter", "RFC 2046 5.1.1", form(body(part("a"), end=b"")), failed(400)),
    Case(
        "lf-only-delimiters",
        "RFC 2046 5.1.1 (CRLF)",
        form(body(part("a")).replace(b"\r\n", b"\n")),
        failed(400),
    ),
]


# Upload file names (mgio.UploadHandler, DESIGN 5: reduced to a safe base name; RFC 7578
# 4.2: the filename is a hint the receiver must not trust with paths): the filename
# parameter sent, and the name the file is saved under (" (1)" and so on appended when
# the name is taken, as every send mode saves the file once more).
UPLOADS = [
    ("upload-dot-dot-path", "RFC 7578 4.2", b"../../x.txt", "x.txt"),
    ("upload-backslash-path", "RFC 7578 4.2", b"a\\..\\b.txt", "b.txt"),
    ("upload-absolute-path", "RFC 7578 4.2", b"/etc/passwd", "passwd"),
    ("upload-dot-dot-alone", "RFC 7578 4.2", b"..", "upload"),
    ("upload-slash-alone", "RFC 7578 4.2", b"/", "upload"),
    ("upload-hidden-name", "RFC 7578 4.2", b".htaccess", "htaccess"),
    ("upload-encoded-dots-kept", "RFC 7578 4.2 (no decoding)", b"%2e%2e%2fx", "%2e%2e%2fx"),
    ("upload-300-chars", "RFC 7578 4.2 (bounded)", b"a" * 300, "a" * 200),
    ("upload-utf8-name", "RFC 7578 4.2", "é.txt".encode(), "é.txt"),
]


def upload(filename: bytes) -> bytes:
    """A form with one 5-byte file part named `filename`."""
    return form(
        body(
            part(
                headers=b'Content-Disposition: form-data; name="f"; filename="'
                + filename
                + b'"\r\n',
                data=b"hello",
            )
        )
    )
