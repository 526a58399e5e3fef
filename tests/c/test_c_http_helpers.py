"""HTTP helpers through cffi: mg_status_message, the URI functions, mg_get_http_var,
mg_http_parse_header(2), the glob matcher and comma lists.

Every mg_str input ends against a guard page (the `guarded` fixture), so a read past its
length crashes the test. Seeded random inputs are checked against urllib.parse
(URIs and form decoding) and against a regex model of the glob rules."""

from __future__ import annotations

import random
import re
import time
from urllib.parse import unquote_to_bytes, urlsplit

import pytest
from cutil import GuardedInput

# --- helpers ---------------------------------------------------------------------------


def view(ffi, lib, guarded, data: bytes):
    """An mg_str over `data` placed against the guard page (valid until the next call)."""
    return lib.mg_mk_str_n(ffi.cast("char *", guarded(data)), len(data))


def sbytes(ffi, s):
    """The bytes of an mg_str, or None for {NULL, 0}."""
    if s.p == ffi.NULL:
        assert s.len == 0
        return None
    return ffi.buffer(s.p, s.len)[:]


@pytest.fixture(scope="module")
def guard2(ffi):
    """A second guard-page region, for functions that take two views."""
    g = GuardedInput(ffi)
    yield g
    g.close()


# --- mg_status_message -----------------------------------------------------------------

PHRASES = {
    100: "Continue", 101: "Switching Protocols", 102: "Processing", 103: "Early Hints",
    200: "OK", 201: "Created", 202: "Accepted", 203: "Non-Authoritative Information",
    204: "No Content", 205: "Reset Content", 206: "Partial Content", 207: "Multi-Status",
    208: "Already Reported", 226: "IM Used",
    300: "Multiple Choices", 301: "Moved Permanently", 302: "Found", 303: "See Other",
    304: "Not Modified", 305: "Use Proxy", 307: "Temporary Redirect",
    308: "Permanent Redirect",
    400: "Bad Request", 401: "Unauthorized", 402: "Payment Required", 403: "Forbidden",
    404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable",
    407: "Proxy Authentication Required", 408: "Request Timeout", 409: "Conflict",
    410: "Gone", 411: "Length Required", 412: "Precondition Failed",
    413: "Content Too Large", 414: "URI Too Long", 415: "Unsupported Media Type",
    416: "Range Not Satisfiable", 417: "Expectation Failed", 421: "Misdirected Request",
    422: "Unprocessable Content", 423: "Locked", 424: "Failed Dependency",
    425: "Too Early", 426: "Upgrade Required", 428: "Precondition Required",
    429: "Too Many Requests", 431: "Request Header Fields Too Large",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 505: "HTTP Version Not Supported",
    506: "Variant Also Negotiates", 507: "Insufficient Storage", 508: "Loop Detected",
    510: "Not Extended", 511: "Network Authentication Required",
}


def test_status_message_every_code(ffi, lib):
    for code in range(-2, 1001):
        got = ffi.string(lib.mg_status_message(code)).decode()
        assert got == PHRASES.get(code, "Unknown"), code


def test_status_message_extremes(ffi, lib):
    for code in (-(2**31), 2**31 - 1, 306, 418, 1200):
        assert ffi.string(lib.mg_status_message(code)) == b"Unknown"


# --- mg_parse_uri / mg_assemble_uri / mg_normalize_uri_path ----------------------------

PARTS = ("scheme", "user_info", "host", "path", "query", "fragment")


def parse_uri(ffi, lib, guarded, uri: bytes):
    out = {k: ffi.new("struct mg_str *") for k in PARTS}
    port = ffi.new("unsigned int *")
    r = lib.mg_parse_uri(view(ffi, lib, guarded, uri), out["scheme"], out["user_info"],
                         out["host"], port, out["path"], out["query"], out["fragment"])
    if r != 0:
        return r, None
    res = {k: sbytes(ffi, v[0]) for k, v in out.items()}
    res["port"] = port[0]
    return r, res


@pytest.mark.parametrize(
    ("uri", "want"),
    [
        (b"http://u:p@example.com:8080/a/b?x=1#f",
         dict(scheme=b"http", user_info=b"u:p", host=b"example.com", port=8080,
              path=b"/a/b", query=b"x=1", fragment=b"f")),
        (b"foo.com:80", dict(scheme=None, host=b"foo.com", port=80, path=None)),
        (b"tcp://[::1]:8080", dict(scheme=b"tcp", host=b"[::1]", port=8080)),
        (b"udp://[fe80::1%25eth0]/x", dict(host=b"[fe80::1%25eth0]", port=0, path=b"/x")),
        (b"/p?q#f", dict(host=b"", path=b"/p", query=b"q", fragment=b"f")),
        (b"http://h?q", dict(host=b"h", path=None, query=b"q")),
        (b"http://h:", dict(host=b"h", port=0)),
        (b"", dict(host=b"", port=0, path=None, query=None, fragment=None)),
    ],
)
def test_parse_uri_cases(ffi, lib, guarded, uri, want):
    r, got = parse_uri(ffi, lib, guarded, uri)
    assert r == 0
    for k, v in want.items():
        assert got[k] == v, k


@pytest.mark.parametrize(
    "uri",
    [b"tcp://[::1", b"[::1", b"h:65536", b"h:1x", b"h:-1", b"a:b:c", b"http://[::1]z",
     b"http://h:99999999999999999999999/", b"http://h: 80/"],
)
def test_parse_uri_rejects(ffi, lib, guarded, uri):
    assert parse_uri(ffi, lib, guarded, uri)[0] == -1


def random_uri(rng: random.Random, zero_port: bool = True):
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"

    def word(extra=""):
        return "".join(rng.choice(alnum + extra) for _ in range(rng.randint(1, 8)))

    scheme = rng.choice(["http", "https", "ws", "tcp", "x-y.z"])
    user = word(":;=") if rng.random() < 0.3 else None
    host = rng.choice([word("-."), "[::1]", "[2001:db8::7]", "127.0.0.1"])
    port = rng.choice([None, 0, 1, 80, 8080, 65535] if zero_port else [None, 1, 80, 65535])
    path = "".join("/" + rng.choice([word("%-._~"), ".", "..", ""])
                   for _ in range(rng.randint(0, 4))) or None
    query = word("=&+%/?:@") if rng.random() < 0.5 else None
    frag = word("=&?/#") if rng.random() < 0.3 else None
    s = f"{scheme}://"
    if user is not None:
        s += user + "@"
    s += host
    if port is not None:
        s += f":{port}"
    s += path or ""
    if query is not None:
        s += "?" + query
    if frag is not None:
        s += "#" + frag
    return s


def test_parse_uri_random_against_urlsplit(ffi, lib, guarded):
    rng = random.Random(1234)
    for _ in range(2000):
        uri = random_uri(rng)
        r, got = parse_uri(ffi, lib, guarded, uri.encode())
        assert r == 0, uri
        want = urlsplit(uri)
        assert got["scheme"].decode() == want.scheme
        assert (got["port"] or None) == (want.port or None), uri
        assert (got["path"] or b"") == want.path.encode()
        assert (got["query"] or b"").decode() == want.query
        assert (got["fragment"] or b"").decode() == want.fragment
        host = got["host"].decode()
        assert host.strip("[]").lower() == want.hostname, uri
        assert (got["user_info"] or b"").decode() == (
            want.netloc.rpartition("@")[0] if "@" in want.netloc else "")


def assemble(ffi, lib, parts: dict, port: int, normalize: int):
    keep = []

    def mk(b):
        if b is None:
            return ffi.NULL
        buf = ffi.new("char[]", b)
        keep.append(buf)
        s = ffi.new("struct mg_str *", {"p": buf, "len": len(b)})
        keep.append(s)
        return s

    out = ffi.new("struct mg_str *")
    r = lib.mg_assemble_uri(mk(parts["scheme"]), mk(parts["user_info"]), mk(parts["host"]),
                            port, mk(parts["path"]), mk(parts["query"]),
                            mk(parts["fragment"]), normalize, out)
    if r != 0:
        assert out.p == ffi.NULL and out.len == 0
        return r, None
    data = ffi.buffer(out.p, out.len + 1)[:]
    assert data[-1:] == b"\0"
    lib.free(ffi.cast("void *", out.p))
    return r, data[:-1]


def test_parse_assemble_round_trip(ffi, lib, guarded):
    rng = random.Random(99)
    for _ in range(1000):
        # ":0" is the one thing that does not round-trip: port 0 means "no port"
        uri = random_uri(rng, zero_port=False).encode()
        r, got = parse_uri(ffi, lib, guarded, uri)
        assert r == 0
        port = got.pop("port")
        assert assemble(ffi, lib, got, port, 0) == (0, uri)


def normalize_model(path: str) -> str:
    """RFC 3986 5.2.4 remove_dot_segments for a path starting with '/'."""
    out: list[str] = []
    segs = path.split("/")[1:]
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if seg == ".":
            if last:
                out.append("")
        elif seg == "..":
            if out:
                out.pop()
            if last:
                out.append("")
        else:
            out.append(seg)
    return "/" + "/".join(out)


def test_normalize_random_against_model(ffi, lib, guarded):
    rng = random.Random(7)
    for _ in range(3000):
        path = "".join("/" + rng.choice(["a", "bc", ".", "..", "", "...", ".a", "%2e"])
                       for _ in range(rng.randint(1, 8)))
        inp = ffi.new("struct mg_str *", view(ffi, lib, guarded, path.encode()))
        buf = ffi.new("char[]", len(path))
        out = ffi.new("struct mg_str *", {"p": buf, "len": 0})
        assert lib.mg_normalize_uri_path(inp, out) == 1
        assert ffi.buffer(buf, out.len)[:].decode() == normalize_model(path), path


def test_assemble_normalizes(ffi, lib):
    parts = dict(scheme=b"file", user_info=None, host=None, path=b"/foo/.././bar/baz",
                 query=None, fragment=None)
    assert assemble(ffi, lib, parts, 0, 1) == (0, b"file:///bar/baz")
    parts.update(host=b"h", path=b"/a/../../b", query=b"", fragment=b"x")
    assert assemble(ffi, lib, parts, 8080, 1) == (0, b"file://h:8080/b?#x")
    parts.update(path=b"a/b")
    assert assemble(ffi, lib, parts, 0, 1) == (-1, None)
    empty = dict.fromkeys(PARTS)
    assert assemble(ffi, lib, empty, 0, 0) == (0, b"")


def test_skip_every_prefix(ffi, lib, guarded):
    text = b"GET  /index.html,, x"
    v = ffi.new("struct mg_str *")
    for n in range(len(text) + 1):
        p = ffi.cast("char *", guarded(text[:n]))
        end = lib.mg_skip(p, p + n, b" ,", v)
        token = re.match(rb"[^ ,]*", text[:n]).group()
        rest = text[:n][len(token):]
        skipped = len(rest) - len(rest.lstrip(b" ,"))
        assert sbytes(ffi, v[0]) == token
        assert end - p == len(token) + skipped


# --- mg_get_http_var ------------------------------------------------------------------

def var_model(buf: bytes, name: bytes, dst_len: int):
    if not buf:
        return -1, b""
    for entry in buf.split(b"&"):
        k, eq, v = entry.partition(b"=")
        if eq and k.lower() == name.lower():
            if re.search(rb"%(?![0-9a-fA-F]{2})", v):
                return -3, b""
            dec = unquote_to_bytes(v.replace(b"+", b" "))
            if len(dec) + 1 > dst_len:
                return -3, b""
            return len(dec), dec
    return -4, b""


def get_var(ffi, lib, guarded, buf: bytes, name: bytes, dst_len: int):
    b = ffi.new("struct mg_str *", view(ffi, lib, guarded, buf))
    dst = ffi.new("char[]", dst_len + 8)
    ffi.memmove(dst, b"\xa5" * (dst_len + 8), dst_len + 8)
    r = lib.mg_get_http_var(b, name, dst, dst_len)
    raw = ffi.buffer(dst)[:]
    assert raw[dst_len:] == b"\xa5" * 8, "wrote past dst_len"
    if r >= 0:
        assert raw[r] == 0
        return r, raw[:r]
    assert raw[0] == 0
    return r, b""


def test_get_http_var_random_against_urllib(ffi, lib, guarded):
    rng = random.Random(2024)
    alphabet = b"aAbB=&+%0123456789fFgG \xff\x00"
    names = [b"a", b"A", b"b", b"ab", b"aB", b""]
    for _ in range(5000):
        buf = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 24)))
        name = rng.choice(names)
        dst_len = rng.choice([1, 2, 4, 8, 64])
        assert get_var(ffi, lib, guarded, buf, name, dst_len) == var_model(buf, name, dst_len), (
            buf, name, dst_len)


def test_get_http_var_codes(ffi, lib, guarded):
    assert get_var(ffi, lib, guarded, b"x=1&Name=J%C3%B6+D", b"name", 16) == (
        5, "Jö D".encode())
    assert get_var(ffi, lib, guarded, b"a=1", b"b", 16) == (-4, b"")
    assert get_var(ffi, lib, guarded, b"a=%4", b"a", 16) == (-3, b"")
    assert get_var(ffi, lib, guarded, b"", b"a", 16) == (-1, b"")
    b = ffi.new("struct mg_str *", view(ffi, lib, guarded, b"a=1"))
    assert lib.mg_get_http_var(b, ffi.NULL, ffi.new("char[4]"), 4) == -1
    assert lib.mg_get_http_var(b, b"a", ffi.NULL, 4) == -2
    assert lib.mg_get_http_var(b, b"a", ffi.new("char[4]"), 0) == -2


def test_get_http_var_every_prefix(ffi, lib, guarded):
    text = b"first=%41b&second=x+y&third=%zz"
    for n in range(len(text) + 1):
        for name in (b"first", b"second", b"third"):
            assert get_var(ffi, lib, guarded, text[:n], name, 32) == var_model(
                text[:n], name, 32)


# --- mg_http_parse_header(2) -----------------------------------------------------------

AUTH = (b'Digest username="Mufasa", realm="a, nonce=evil", nonce="dcd98b", '
        b"uri='/dir/index.html', qop=auth, nc=00000001; "
        b'opaque="5c\\"x\\\\y\\z"')


def parse_header(ffi, lib, guarded, hdr: bytes, name: bytes, size: int):
    h = ffi.new("struct mg_str *", view(ffi, lib, guarded, hdr))
    buf = ffi.new("char[]", size + 8)
    r = lib.mg_http_parse_header(h, name, buf, size)
    return r, ffi.string(buf) if size else None


def parse_header2(ffi, lib, guarded, hdr: bytes, name: bytes, size: int):
    h = ffi.new("struct mg_str *", view(ffi, lib, guarded, hdr))
    own = ffi.new("char[]", max(size, 1))
    pbuf = ffi.new("char **", own)
    r = lib.mg_http_parse_header2(h, name, pbuf, size)
    val = ffi.string(pbuf[0], r + 1)
    if pbuf[0] != own:
        assert r + 1 > size
        lib.free(pbuf[0])
    return r, val


@pytest.mark.parametrize(
    ("name", "want"),
    [(b"username", b"Mufasa"), (b"realm", b"a, nonce=evil"), (b"nonce", b"dcd98b"),
     (b"uri", b"/dir/index.html"), (b"qop", b"auth"), (b"nc", b"00000001"),
     (b"opaque", b'5c"x\\y\\z'), (b"Digest", b""), (b"evil", b""), (b"nonc", b"")],
)
def test_parse_header_params(ffi, lib, guarded, name, want):
    assert parse_header(ffi, lib, guarded, AUTH, name, 64) == (len(want), want)
    assert parse_header2(ffi, lib, guarded, AUTH, name, 4) == (len(want), want)
    assert parse_header2(ffi, lib, guarded, AUTH, name, 0) == (len(want), want)


def test_parse_header_every_prefix(ffi, lib, guarded):
    """No prefix of the header makes either function read past it; the value found in a
    prefix is the one the same text gives when it is the whole header."""
    for n in range(len(AUTH) + 1):
        for name in (b"username", b"realm", b"nonce", b"opaque", b"nc"):
            a = parse_header(ffi, lib, guarded, AUTH[:n], name, 64)
            b = parse_header2(ffi, lib, guarded, AUTH[:n], name, 2)
            assert a == b


def test_parse_header_random(ffi, lib, guarded):
    rng = random.Random(5)
    alphabet = b'ab= ,;"\'\\x'
    for _ in range(5000):
        hdr = bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 20)))
        name = rng.choice([b"a", b"b", b"ab"])
        a = parse_header(ffi, lib, guarded, hdr, name, 64)
        b = parse_header2(ffi, lib, guarded, hdr, name, rng.choice([0, 1, 3]))
        assert a == b, hdr


def test_parse_header_small_buffer(ffi, lib, guarded):
    assert parse_header(ffi, lib, guarded, b"a=12345", b"a", 5) == (0, b"")
    assert parse_header(ffi, lib, guarded, b"a=12345", b"a", 6) == (5, b"12345")


# --- mg_match_prefix_n -------------------------------------------------------------------

def glob_model(pattern: bytes, s: bytes) -> int:
    for alt in re.split(rb"[|,]", pattern):
        anchored = alt.endswith(b"$")
        if anchored:
            alt = alt[:-1]
        rx = b""
        i = 0
        while i < len(alt):
            if alt[i : i + 2] == b"**":
                while i < len(alt) and alt[i : i + 1] == b"*":
                    i += 1
                rx += b".*"
                continue
            c = alt[i : i + 1]
            rx += b"[^/]*" if c == b"*" else b"[^/]" if c == b"?" else re.escape(c)
            i += 1
        r = re.compile(rx, re.DOTALL | re.IGNORECASE)
        lengths = [len(s)] if anchored else range(len(s), 0, -1)
        for n in lengths:
            if n > 0 and r.fullmatch(s[:n]):
                return n
    return 0


def match(ffi, lib, guarded, guard2, pattern: bytes, s: bytes) -> int:
    p = lib.mg_mk_str_n(ffi.cast("char *", guard2(pattern)), len(pattern))
    return lib.mg_match_prefix_n(p, view(ffi, lib, guarded, s))


@pytest.mark.parametrize(
    ("pattern", "s", "want"),
    [(b"a*f", b"abcdefgh", 6), (b"a*f", b"abcdexgh", 0), (b"a*f|de*,xy", b"defgh", 5),
     (b"?*", b"abc", 3), (b"?*", b"", 0), (b"**.PHP$", b"/x/y.php", 8), (b"/a/*", b"/a/b/c", 4)],
)
def test_match_prefix_examples(ffi, lib, guarded, guard2, pattern, s, want):
    assert match(ffi, lib, guarded, guard2, pattern, s) == want
    assert glob_model(pattern, s) == want


def test_match_prefix_random_against_model(ffi, lib, guarded, guard2):
    rng = random.Random(11)
    for _ in range(5000):
        pattern = bytes(rng.choice(b"aAb/*?$|,") for _ in range(rng.randint(0, 8)))
        s = bytes(rng.choice(b"aAb/$") for _ in range(rng.randint(0, 10)))
        assert match(ffi, lib, guarded, guard2, pattern, s) == glob_model(pattern, s), (
            pattern, s)


def test_match_prefix_pathological_patterns_are_fast(ffi, lib, guarded, guard2):
    s = b"a" * 10240
    t0 = time.perf_counter()
    for pattern in (b"*" * 30 + b"b", b"*a" * 30 + b"b", b"**a" * 30 + b"b",
                    b"*?" * 30 + b"b", (b"*a" * 15 + b"b|") * 10):
        assert match(ffi, lib, guarded, guard2, pattern, s) == 0
    assert match(ffi, lib, guarded, guard2, b"*a" * 30, s) == len(s)
    assert time.perf_counter() - t0 < 2.0


def test_match_prefix_c_string(ffi, lib):
    assert lib.mg_match_prefix(b"a*f|xy", -1, b"xyz") == 2
    assert lib.mg_match_prefix(b"a*f|xy", 3, b"xyz") == 0
    assert lib.mg_match_prefix(ffi.NULL, 3, b"xyz") == 0


# --- comma lists -----------------------------------------------------------------------

def test_comma_list_random(ffi, lib, guarded):
    rng = random.Random(3)
    for _ in range(2000):
        text = bytes(rng.choice(b"ab=,") for _ in range(rng.randint(0, 12)))
        lst = view(ffi, lib, guarded, text)
        v, eq = ffi.new("struct mg_str *"), ffi.new("struct mg_str *")
        got = []
        while True:
            lst = lib.mg_next_comma_list_entry_n(lst, v, eq)
            if lst.p == ffi.NULL:
                break
            got.append((sbytes(ffi, v[0]), sbytes(ffi, eq[0])))
        want = []
        if text:
            # a trailing comma ends the list: no empty entry after it
            entries = text.split(b",")
            if text.endswith(b","):
                entries.pop()
            for entry in entries:
                k, sep, val = entry.partition(b"=")
                want.append((k, val if sep else None))
        assert got == want, text
