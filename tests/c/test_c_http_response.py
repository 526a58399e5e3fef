"""The HTTP response helpers (csrc/http/response.c) through cffi.

The heads they queue on a timer-only connection are parsed by two independent parsers:
Python's http.client (fed through a fake socket) and mgio's own strict
mg_http_parse_head (is_req=0). Both must accept every head, with the status, reason
phrase, fields and body the helper was asked for. Seeded random extra-header values
(with CR, LF, NUL, colons, spaces ...) either are refused (nothing queued, connection
closed) or give a head both parsers accept with exactly the fields asked for.
"""

from __future__ import annotations

import http.client
import io
import random

import pytest

# --- helpers ---------------------------------------------------------------------------


class FakeSocket:
    """Just enough of a socket for http.client.HTTPResponse."""

    def __init__(self, data: bytes):
        self.data = data

    def makefile(self, mode, *args, **kwargs):
        assert "r" in mode
        return io.BytesIO(self.data)


def client_parse(data: bytes, method: str = "GET"):
    """(response, body) as http.client reads them from `data`."""
    resp = http.client.HTTPResponse(FakeSocket(data), method=method)
    resp.begin()
    body = resp.read()
    return resp, body


@pytest.fixture
def conn(ffi, lib):
    """A timer-only connection on a fresh manager."""
    mgr = ffi.new("struct mg_mgr *")
    lib.mg_mgr_init(mgr, ffi.NULL)
    c = lib.mg_add_sock(mgr, -1, ffi.NULL)
    assert c != ffi.NULL
    yield c
    lib.mg_mgr_free(mgr)


def take(ffi, lib, c) -> bytes:
    """The bytes queued on `c`, which are then dropped."""
    m = c.send_mbuf
    data = b"" if m.len == 0 else ffi.buffer(m.buf, m.len)[:]
    lib.mbuf_clear(ffi.addressof(c[0], "send_mbuf"))
    return data


def text(ffi, s) -> bytes:
    return b"" if s.len == 0 else ffi.buffer(s.p, s.len)[:]


def mgio_parse(ffi, lib, data: bytes):
    """(head length, struct http_message *) from mg_http_parse_head on a response."""
    hm = ffi.new("struct http_message *")
    status = ffi.new("int *")
    buf = ffi.new("char[]", data)
    r = lib.mg_http_parse_head(buf, len(data), hm, 0, ffi.NULL, status)
    assert r > 0, (r, status[0], data)
    fields = [(text(ffi, hm.header_names[i]), text(ffi, hm.header_values[i]))
              for i in range(hm.num_headers)]
    return r, hm, fields, buf  # buf keeps the views alive


def reason(ffi, lib, code: int) -> str:
    return ffi.string(lib.mg_status_message(code)).decode()


def closed(lib, c) -> bool:
    return bool(c.flags & lib.MG_F_CLOSE_IMMEDIATELY)


# --- status lines ------------------------------------------------------------------------


def test_every_status_code_gives_a_valid_head(ffi, lib, conn):
    for code in range(100, 1000):
        lib.mg_send_head(conn, code, 0, ffi.NULL)
        data = take(ffi, lib, conn)
        phrase = reason(ffi, lib, code)
        assert data.startswith(f"HTTP/1.1 {code} {phrase}\r\n".encode())
        assert phrase != "OK" or code == 200
        n, hm, fields, _ = mgio_parse(ffi, lib, data)
        assert n == len(data)
        assert hm.resp_code == code
        assert text(ffi, hm.resp_status_msg) == phrase.encode()
        assert (b"Server", b"mgio") in fields
        if 101 <= code <= 599:
            resp, body = client_parse(data)
            assert (resp.status, resp.reason, resp.version) == (code, phrase, 11)
            assert resp.getheader("Server") == "mgio"
            assert body == b""


def test_100_continue_then_final_response(ffi, lib, conn):
    lib.mg_send_head(conn, 100, 0, ffi.NULL)
    lib.mg_send_head(conn, 200, 2, ffi.NULL)
    lib.mg_send(conn, b"ok", 2)
    data = take(ffi, lib, conn)
    assert data.startswith(b"HTTP/1.1 100 Continue\r\nServer: mgio\r\n\r\nHTTP/1.1 200 OK\r\n")
    resp, body = client_parse(data)  # http.client skips the 100
    assert (resp.status, body) == (200, b"ok")


@pytest.mark.parametrize("code", [-1, 0, 99, 1000, 2**31 - 1, -(2**31)])
def test_out_of_range_codes_become_500(ffi, lib, conn, code):
    lib.mg_send_head(conn, code, 0, ffi.NULL)
    resp, _ = client_parse(take(ffi, lib, conn))
    assert (resp.status, resp.reason) == (500, "Internal Server Error")


def test_response_line_then_own_fields(ffi, lib, conn):
    lib.mg_send_response_line(conn, 201, b"X-A: b\r\n")
    lib.mg_printf(conn, b"Content-Length: 3\r\n\r\nabc")
    data = take(ffi, lib, conn)
    resp, body = client_parse(data)
    assert (resp.status, resp.reason, body) == (201, "Created", b"abc")
    assert resp.getheader("X-A") == "b"
    _, hm, fields, _ = mgio_parse(ffi, lib, data)
    assert fields == [(b"Server", b"mgio"), (b"X-A", b"b"), (b"Content-Length", b"3")]
    assert text(ffi, hm.body) == b"abc"


# --- heads, errors, redirects ------------------------------------------------------------


def test_send_head_content_length_and_extra(ffi, lib, conn):
    lib.mg_send_head(conn, 200, 5, b"Content-Type: text/plain\r\nX-Y: z")
    lib.mg_send(conn, b"hello", 5)
    data = take(ffi, lib, conn)
    resp, body = client_parse(data)
    assert body == b"hello"
    assert resp.getheader("Content-Type") == "text/plain"
    assert resp.getheader("X-Y") == "z"
    _, hm, fields, _ = mgio_parse(ffi, lib, data)
    assert hm.content_length == 5
    assert fields == [(b"Server", b"mgio"), (b"Content-Type", b"text/plain"),
                      (b"X-Y", b"z"), (b"Content-Length", b"5")]


@pytest.mark.parametrize("code", [204, 101, 103])
def test_no_framing_fields_for_1xx_and_204(ffi, lib, conn, code):
    lib.mg_send_head(conn, code, 10, ffi.NULL)
    data = take(ffi, lib, conn)
    assert b"Content-Length" not in data and b"Transfer-Encoding" not in data
    _, hm, _, _ = mgio_parse(ffi, lib, data)
    assert hm.flags & lib.MG_HTTP_F_NO_BODY


@pytest.mark.parametrize(("code", "given", "body"), [
    (404, None, b"Not Found"),
    (400, b"bad thing", b"bad thing"),
    (500, b"", b""),
    (403, b"line1\r\nline2\n<b>", b"line1\r\nline2\n<b>"),
    (431, None, b"Request Header Fields Too Large"),
])
def test_send_error(ffi, lib, conn, code, given, body):
    lib.mg_http_send_error(conn, code, ffi.NULL if given is None else given)
    assert conn.flags & lib.MG_F_SEND_AND_CLOSE
    assert not closed(lib, conn)
    data = take(ffi, lib, conn)
    resp, got = client_parse(data)
    assert (resp.status, resp.reason, got) == (code, reason(ffi, lib, code), body)
    assert resp.getheader("Connection") == "close"
    assert resp.getheader("Content-Type") == "text/plain"
    assert resp.will_close
    n, hm, _, _ = mgio_parse(ffi, lib, data)
    assert data[n:] == body
    assert not hm.flags & lib.MG_HTTP_F_KEEP_ALIVE


@pytest.mark.parametrize("location", [b"/", b"/login?next=/a&b=1", b"http://h:8080/x",
                                      b"/a'><script>alert(1)</script>", b""])
def test_send_redirect(ffi, lib, conn, location):
    lib.mg_http_send_redirect(conn, 302, lib.mg_mk_str_n(location, len(location)),
                              lib.mg_mk_str(b"Set-Cookie: s=1"))
    data = take(ffi, lib, conn)
    resp, body = client_parse(data)
    assert (resp.status, resp.reason) == (302, "Found")
    assert resp.getheader("Location") == location.decode()
    assert resp.getheader("Set-Cookie") == "s=1"
    assert resp.getheader("Cache-Control") == "no-cache"
    assert not resp.will_close
    escaped = (location.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;")
               .replace(b'"', b"&quot;").replace(b"'", b"&#39;"))
    assert body == b"<p>Moved <a href='" + escaped + b"'>here</a>.\r\n"
    n, hm, _, _ = mgio_parse(ffi, lib, data)
    assert hm.content_length == len(body)
    assert data[n:] == body


def test_redirect_refuses_split_location(ffi, lib, conn):
    loc = b"/a\r\nSet-Cookie: evil=1"
    lib.mg_http_send_redirect(conn, 302, lib.mg_mk_str_n(loc, len(loc)), lib.mg_mk_str(ffi.NULL))
    assert take(ffi, lib, conn) == b""
    assert closed(lib, conn)


# --- chunks ------------------------------------------------------------------------------


def test_chunked_response(ffi, lib, conn):
    lib.mg_send_head(conn, 200, -1, b"Content-Type: text/plain")
    pieces = [b"x" * n for n in (1, 15, 16, 255, 4096)]
    for p in pieces:
        lib.mg_send_http_chunk(conn, p, len(p))
    lib.mg_printf_http_chunk(conn, b"%d %s", ffi.cast("int", 123), ffi.new("char[]", b":-)"))
    lib.mg_printf_html_escape(conn, b"<%s>", ffi.new("char[]", b"a&b"))
    lib.mg_send_http_chunk(conn, b"", 0)
    data = take(ffi, lib, conn)
    for p, h in zip(pieces, [b"1", b"F", b"10", b"FF", b"1000"], strict=True):
        assert h + b"\r\n" + p + b"\r\n" in data
    assert data.endswith(b"7\r\n123 :-)\r\nF\r\n&lt;a&amp;b&gt;\r\n0\r\n\r\n")
    resp, body = client_parse(data)
    assert resp.getheader("Transfer-Encoding") == "chunked"
    assert body == b"".join(pieces) + b"123 :-)" + b"&lt;a&amp;b&gt;"
    n, hm, _, _ = mgio_parse(ffi, lib, data)
    assert n == data.index(b"\r\n\r\n") + 4
    assert hm.flags & lib.MG_HTTP_F_CHUNKED
    assert hm.content_length == -1


def test_chunk_terminator(ffi, lib, conn):
    lib.mg_send_http_chunk(conn, b"", 0)
    assert take(ffi, lib, conn) == b"0\r\n\r\n"
    lib.mg_printf_http_chunk(conn, b"%s", ffi.new("char[]", b""))
    assert take(ffi, lib, conn) == b""


def test_html_escape_all_five(ffi, lib, conn):
    lib.mg_printf_html_escape(conn, b"%s", ffi.new("char[]", b"<>&\"'ok"))
    assert take(ffi, lib, conn) == b"1A\r\n&lt;&gt;&amp;&quot;&#39;ok\r\n"


# --- extra headers: never a malformed head -----------------------------------------------


@pytest.mark.parametrize("extra", [
    b"X-A: b\nX-C: d", b"X-A: b\rX-C: d", b"X-A: b\r\n\r\nbody", b"X-A: b\r\n folded",
    b"no colon", b": empty name", b"X-A : b", b"X-A: \x01", b"\r\nX-A: b",
    b"Set-Cookie: a\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 0",
])
def test_malformed_extra_headers_refused(ffi, lib, conn, extra):
    lib.mg_send_head(conn, 200, 0, extra)
    assert take(ffi, lib, conn) == b""
    assert closed(lib, conn)
    assert conn.err != 0


def test_random_extra_headers_never_malformed(ffi, lib):
    rng = random.Random(20261126)
    atoms = [b"X-A", b"b", b":", b": ", b" ", b"\t", b"\r", b"\n", b"\r\n", b"\r\n\r\n",
             b"\x00", b"\x7f", b"\xc3\xa9", b"Set-Cookie: x=1", b"\x01", b"(", b"="]
    refused = accepted = 0
    for _ in range(3000):
        extra = b"".join(rng.choice(atoms) for _ in range(rng.randint(0, 8)))
        mgr = ffi.new("struct mg_mgr *")
        lib.mg_mgr_init(mgr, ffi.NULL)
        c = lib.mg_add_sock(mgr, -1, ffi.NULL)
        try:
            lib.mg_send_response_line_s(c, 200, lib.mg_mk_str_n(extra, len(extra)))
            data = take(ffi, lib, c)
            if not data:
                assert closed(lib, c), extra
                refused += 1
                continue
            assert not closed(lib, c)
            accepted += 1
            data += b"Content-Length: 0\r\n\r\n"
            n, _, fields, _ = mgio_parse(ffi, lib, data)
            assert n == len(data)
            expect = extra
            while expect.endswith(b"\r\n"):
                expect = expect[:-2]
            if expect:
                lines = expect.split(b"\r\n")
                want = [(k, v.strip(b" \t")) for k, v in (ln.split(b":", 1) for ln in lines)]
            else:
                want = []
            assert fields == [(b"Server", b"mgio"), *want, (b"Content-Length", b"0")]
            resp, _ = client_parse(data)
            assert resp.status == 200
        finally:
            lib.mg_mgr_free(mgr)
    assert refused > 100 and accepted > 100
