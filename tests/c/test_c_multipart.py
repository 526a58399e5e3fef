"""The multipart parser (csrc/proto/multipart.c) and mg_parse_multipart through cffi.

The streaming parser is fed whole, byte by byte and at every split point (each call's
input placed against a guard page), also by a caller that takes only part of each data
offer, and compared with Python's email package on well-formed forms and with an
independent model of the grammar (regular expressions over the whole body) on random and
mutated bodies. mg_parse_multipart walks the same bodies part by part."""

from __future__ import annotations

import email
import random
import re

import pytest
from cutil import splits

CD = b"Content-Disposition: form-data; "

# --- driving the parser --------------------------------------------------------------------


def mg_bytes(ffi, s) -> bytes | None:
    if s.p == ffi.NULL:
        return None
    return ffi.buffer(s.p, s.len)[:] if s.len else b""


def unquote(ffi, lib, s) -> bytes | None:
    raw = mg_bytes(ffi, s)
    if raw is None:
        return None
    out = ffi.new("char[]", max(len(raw), 1))
    n = lib.mg__mp_unquote(s, out)
    return ffi.buffer(out, n)[:]


def feed(ffi, lib, guarded, boundary: bytes, body: bytes, pieces=None, limits=None,
         stingy=False):
    """The events of a parser fed `body` in `pieces` (sizes; None: whole) as a connection
    would: unconsumed bytes are handed in again, each call's input against the guard page.
    Data events are merged. With `stingy`, only half of each data offer is consumed."""
    st = ffi.new("struct mg__mp *")
    lim = ffi.NULL
    if limits is not None:
        lim = ffi.new("struct mg__mp_limits *", limits)
    bs = ffi.new("char[]", boundary)
    if lib.mg__mp_init(st, ffi.new("struct mg_str *", (bs, len(boundary)))[0], lim) != 0:
        return [("error", st.err)]
    pieces = [len(body)] if pieces is None else list(pieces)
    assert sum(pieces) == len(body)
    events: list[tuple] = []
    pending, given = b"", 0
    ev = ffi.new("struct mg__mp_event *")
    for k, size in enumerate(pieces):
        pending += body[given : given + size]
        given += size
        at_end = k == len(pieces) - 1
        while True:
            buf = ffi.cast("char *", guarded(pending)) if pending else ffi.NULL
            used = lib.mg__mp_parse(st, buf, len(pending), int(at_end), ev)
            assert used <= len(pending)
            t = ev.type
            if t == lib.MG__MP_PART_BEGIN:
                ct = mg_bytes(ffi, ev.content_type)
                events.append(("begin", unquote(ffi, lib, ev.name),
                               unquote(ffi, lib, ev.filename), ct))
            elif t == lib.MG__MP_PART_DATA:
                data = mg_bytes(ffi, ev.data)
                assert data and ffi.cast("char *", ev.data.p) == buf + used - len(data)
                take = (len(data) + 1) // 2 if stingy else len(data)
                used -= len(data) - take
                if events and events[-1][0] == "data":
                    events[-1] = ("data", events[-1][1] + data[:take])
                else:
                    events.append(("data", data[:take]))
            elif t == lib.MG__MP_PART_END:
                events.append(("end",))
            elif t == lib.MG__MP_DONE:
                assert used == len(pending)
            elif t == lib.MG__MP_ERROR:
                events.append(("error", ev.err))
                return events
            else:
                assert t == lib.MG__MP_NEED_MORE and not at_end
            pending = pending[used:]
            if t in (lib.MG__MP_NEED_MORE, lib.MG__MP_DONE):
                if t == lib.MG__MP_DONE and at_end:
                    events.append(("done",))
                break
    return events


def feed_all_ways(ffi, lib, guarded, boundary: bytes, body: bytes, limits=None):
    """Feeds every way (cutil.splits, and stingy whole and bytewise); asserts one outcome
    and returns it."""
    results = []
    for pieces in splits(body):
        results.append(feed(ffi, lib, guarded, boundary, body, [len(p) for p in pieces],
                            limits))
    results.append(feed(ffi, lib, guarded, boundary, body, None, limits, stingy=True))
    results.append(feed(ffi, lib, guarded, boundary, body, [1] * len(body), limits,
                        stingy=True))
    for r in results[1:]:
        assert r == results[0]
    return results[0]


# --- an independent model ------------------------------------------------------------------

TOKEN = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
QUOTED = rb'"(?:[^"\\]|\\[\s\S])*"'
FIELD = re.compile(rb"(" + TOKEN + rb"):([\t \x21-\x7e\x80-\xff]*)")
PARAM = re.compile(rb"[ \t]*;[ \t]*(?:(" + TOKEN + rb")[ \t]*=[ \t]*(" + TOKEN + rb"|"
                   + QUOTED + rb"))?")
ERR = {"truncated": 2, "padding": 3, "header": 4, "size": 5, "disposition": 6,
       "noname": 7, "parts": 8}


class Malformed(Exception):
    def __init__(self, why: str):
        self.code = ERR[why]


def model_unquote(v: bytes) -> bytes:
    if v.startswith(b'"'):
        return re.sub(rb'\\(["\\])', rb"\1", v[1:-1])
    return v


def model_disposition(v: bytes):
    m = re.match(TOKEN, v)
    if not m or m.group(0).lower() != b"form-data":  # RFC 7578 4.2
        raise Malformed("disposition")
    pos, found = m.end(), {}
    while True:
        rest = v[pos:]
        if re.fullmatch(rb"[ \t]*", rest):
            return found.get(b"name"), found.get(b"filename")
        m = PARAM.match(v, pos)
        if not m:
            raise Malformed("disposition")
        pos = m.end()
        if m.group(1) is not None:
            key = m.group(1).lower()
            if key in (b"name", b"filename"):
                if key in found:
                    raise Malformed("disposition")
                found[key] = model_unquote(m.group(2))


def model_headers(section: bytes):
    """(name, filename, content type) of a header section (its last CRLF CRLF cut)."""
    name = filename = ctype = None
    seen_cd = False
    for line in section.split(b"\r\n") if section else []:
        m = FIELD.fullmatch(line)
        if not m:
            raise Malformed("header")
        key, value = m.group(1).lower(), m.group(2).strip(b" \t")
        if key == b"content-disposition":
            if seen_cd:
                raise Malformed("header")
            seen_cd = True
            name, filename = model_disposition(value)
        elif key == b"content-type":
            if ctype is not None:
                raise Malformed("header")
            ctype = value
    if name is None:
        raise Malformed("noname")
    return name, filename, ctype


def model(boundary: bytes, body: bytes, max_parts=1000, max_header=8192):
    events: list[tuple] = []
    dash = b"--" + re.escape(boundary)
    # a delimiter's tail: "--" (close), or padding and CRLF; 65 or more pad bytes: error
    tail = rb"(?P<close>--)|(?P<pad>[ \t]{65})|[ \t]{0,64}\r\n"
    first = re.compile(rb"(?:\A" + dash + rb"|\r\n" + dash + rb")(?:" + tail + rb")")
    later = re.compile(rb"\r\n" + dash + rb"(?:" + tail + rb")")

    def add_data(data: bytes):
        if data:
            events.append(("data", data))

    try:
        m = first.search(body)
        parts = 0
        while True:
            if m is None:
                raise Malformed("truncated")
            if m.group("pad"):
                raise Malformed("padding")
            if m.group("close"):
                events.append(("done",))
                return events
            if parts == max_parts:
                raise Malformed("parts")
            parts += 1
            h = m.end()
            rest = body[h:]
            # the header section ends after its first empty line
            if rest.startswith(b"\r\n"):
                end = 2
            else:
                k = rest.find(b"\r\n\r\n")
                end = k + 4 if k >= 0 else None
            # a bare CR or LF before that end (or within the limit) is malformed; a CR
            # whose next byte is not looked at yet is not
            limit = min(len(rest), max_header)
            scan = rest[:limit] if end is None or end > limit else rest[:end]
            bad = re.search(rb"(?<!\r)\n|\r(?!\n)", scan)
            if bad and not (bad.group() == b"\r" and bad.end() == len(scan)):
                raise Malformed("header")
            if end is None or end > max_header:
                raise Malformed("size" if len(rest) > max_header else "truncated")
            name, filename, ctype = model_headers(rest[: end - 4] if end > 2 else b"")
            events.append(("begin", name, filename, ctype))
            d = h + end
            m = later.search(body, d)
            add_data(body[d : m.start() if m else len(body)])
            if m is not None and not m.group("pad") and (
                    m.group("close") or parts < max_parts):
                events.append(("end",))
    except Malformed as e:
        events.append(("error", e.code))
        return events


# --- vectors -----------------------------------------------------------------------------

VECTORS = [
    (b"b", b"--b\r\n" + CD + b'name="a"\r\n\r\nxyz\r\n--b--\r\n',
     [("begin", b"a", None, None), ("data", b"xyz"), ("end",), ("done",)]),
    (b"b", b"pre\r\n--b\r\n" + CD + b'name=a; filename="x\\"y"\r\nContent-Type: t/x\r\n\r\n'
     b"\r\n--bb\r\n--b-x\r\n--b --\r\n--b\r\n" + CD + b"name=c\r\n\r\n\r\n--b--epi",
     [("begin", b"a", b'x"y', b"t/x"), ("data", b"\r\n--bb\r\n--b-x\r\n--b --"), ("end",),
      ("begin", b"c", None, None), ("end",), ("done",)]),
    (b"b", b"--b--", [("done",)]),
    (b"b", b"--b\n" + CD + b"name=a\n\nx\n--b--\n", [("error", 2)]),
    (b"b", b"--b\r\n" + CD + b"name=a\r\n\r\nx", [("begin", b"a", None, None),
                                                  ("data", b"x"), ("error", 2)]),
    (b"b", b"--b\r\n" + CD + b"filename=a\r\n\r\nx\r\n--b--", [("error", 7)]),
    (b"b", b"--b\r\n" + CD + b'name="a\r\n\r\nx\r\n--b--', [("error", 6)]),
    (b"b", b"--b\r\n" + CD + b"name=a\nX: y\r\n\r\nx\r\n--b--", [("error", 4)]),
    (b"b", b"--b\r\n" + CD + b"name=a\r\n\r\n\r\n--b" + b" " * 65 + b"\r\n", [
        ("begin", b"a", None, None), ("error", 3)]),
    (b"b", b"--b\r\n" + CD + b"name=a\r\n\r\n\r\n--b" + b"\t" * 64 + b"\r\n" + CD
     + b"name=z\r\n\r\n\r\n--b--", [("begin", b"a", None, None), ("end",),
                                    ("begin", b"z", None, None), ("end",), ("done",)]),
]


@pytest.mark.parametrize("boundary,body,want", VECTORS)
def test_vectors_every_way(ffi, lib, guarded, boundary, body, want):
    assert feed_all_ways(ffi, lib, guarded, boundary, body) == want
    assert model(boundary, body) == want


def test_boundary_rules(ffi, lib):
    st = ffi.new("struct mg__mp *")

    def init(b: bytes) -> int:
        s = ffi.new("char[]", b)
        return lib.mg__mp_init(st, ffi.new("struct mg_str *", (s, len(b)))[0], ffi.NULL)

    assert init(b"a" * 70) == 0 and init(b"a" * 71) == -1
    assert st.err == lib.MG__MP_EBOUNDARY
    assert init(b"") == -1 and init(b"a ") == -1 and init(b" a") == 0
    bchars = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? "
    for c in range(256):
        assert (init(b"x" + bytes([c]) + b"x") == 0) == (bytes([c]) in bchars), c
    assert lib.MG__MP_MAX_BOUNDARY == 70 and lib.MG__MP_MAX_HEADER == 8192
    assert lib.MG__MP_MAX_PARTS == 1000
    assert ffi.string(lib.mg__mp_strerror(lib.MG__MP_ETRUNCATED)) == (
        b"body ended before the close delimiter")


def test_limits(ffi, lib, guarded):
    part = b"--b\r\n" + CD + b"name=p\r\n\r\nv\r\n"
    body = part * 1000 + b"--b--"
    events = feed(ffi, lib, guarded, b"b", body)
    assert events[-1] == ("done",) and events.count(("end",)) == 1000
    events = feed(ffi, lib, guarded, b"b", part * 1001 + b"--b--")
    assert events[-1] == ("error", 8) and events.count(("end",)) == 999
    assert feed_all_ways(ffi, lib, guarded, b"b", part * 3 + b"--b--", (0, 0, 2)) == (
        model(b"b", part * 3 + b"--b--", max_parts=2))
    for size in (8191, 8192, 8193):
        section = CD + b"name=a\r\nX: " + b"x" * (size - len(CD) - 15) + b"\r\n\r\n"
        assert len(section) == size
        body = b"--b\r\n" + section + b"D\r\n--b--"
        got = feed(ffi, lib, guarded, b"b", body, [3, 5000, len(body) - 5003])
        want = [("error", 5)] if size > 8192 else [("begin", b"a", None, None),
                                                    ("data", b"D"), ("end",), ("done",)]
        assert got == want == model(b"b", body)


def test_unquote(ffi, lib):
    def uq(raw: bytes) -> bytes:
        s = ffi.new("char[]", raw)
        out = ffi.new("char[]", max(len(raw), 1))
        n = lib.mg__mp_unquote(ffi.new("struct mg_str *", (s, len(raw)))[0], out)
        return ffi.buffer(out, n)[:]

    assert uq(b'a\\"b') == b'a"b'
    assert uq(b"a\\\\b") == b"a\\b"
    assert uq(b"C:\\dir\\x") == b"C:\\dir\\x"
    assert uq(b"\\") == b"\\"


# --- random forms: against Python's email package ------------------------------------------


def random_form(rng: random.Random, boundary: bytes):
    """A well-formed multipart/form-data body and its parts (name, filename, ctype,
    data). Data holds CRLFs, dashes and the boundary text, but never a delimiter, nor a
    line that email would take for one."""
    parts, body = [], b""
    if rng.random() < 0.3:
        body += b"a preamble\r\n"
    for i in range(rng.randint(1, 4)):
        name = rng.choice([b"f", b"field-%d" % i, b'q"uote', b"a;b=c", b""])
        filename = rng.choice([None, b"x.txt", b'sa"id', b"", b"dir\\name.bin"])
        ctype = rng.choice([None, b"text/plain", b"application/octet-stream"])
        words = [b"x", b"yz", b" ", b"-", b"--", b"\r\n", boundary, b"\xff\x00", b"\t"]
        data = b"".join(rng.choice(words) for _ in range(rng.randint(0, 30)))
        data = data.replace(b"\r\n-", b"\r\nx-")
        if data.startswith(b"-"):
            data = b"x" + data
        if data.endswith(b"\r\n"):
            data += b"."
        parts.append((name, filename, ctype, data))

        def q(v: bytes) -> bytes:
            return b'"' + v.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'

        head = CD + b"name=" + q(name)
        if filename is not None:
            head += b"; filename=" + q(filename)
        head += b"\r\n"
        if ctype is not None:
            head += b"Content-Type: " + ctype + b"\r\n"
        body += (b"\r\n" if body and i == 0 else b"") + b"--" + boundary + b"\r\n"
        body += head + b"\r\n" + data + b"\r\n"
    body += b"--" + boundary + b"--\r\n"
    return body, parts


def email_parts(boundary: bytes, body: bytes):
    msg = email.message_from_bytes(b'Content-Type: multipart/form-data; boundary="'
                                   + boundary + b'"\r\n\r\n' + body)
    assert msg.is_multipart() and not msg.defects
    out = []
    for p in msg.get_payload():
        name = p.get_param("name", header="content-disposition")
        fn = p.get_filename()
        out.append((name.encode("latin-1"), None if fn is None else fn.encode("latin-1"),
                    p.get_payload(decode=True)))
    return out


def events_to_parts(events):
    parts = []
    for e in events:
        if e[0] == "begin":
            parts.append([e[1], e[2], e[3], b""])
        elif e[0] == "data":
            parts[-1][3] += e[1]
    return [tuple(p) for p in parts]


def test_random_forms_match_email(ffi, lib, guarded):
    rng = random.Random(7578)
    for it in range(150):
        boundary = rng.choice([b"B", b"----WebKitFormBoundary7MA4YWxkTrZu0gW", b"a b'()+_,-./:=?"])
        body, parts = random_form(rng, boundary)
        events = feed(ffi, lib, guarded, boundary, body)
        assert events[-1] == ("done",)
        assert events_to_parts(events) == parts
        if all(b"\\" not in p[0] and b"\\" not in (p[1] or b"") for p in parts):
            assert [(n, f, d) for n, f, _, d in parts] == email_parts(boundary, body)
        if it % 10 == 0:
            assert feed_all_ways(ffi, lib, guarded, boundary, body) == events
        else:
            cuts = sorted(rng.randrange(len(body) + 1) for _ in range(3))
            pieces = [a - b for a, b in zip([*cuts, len(body)], [0, *cuts], strict=True)]
            assert feed(ffi, lib, guarded, boundary, body, pieces, stingy=it % 2) == events


# --- random and mutated bodies: against the model ------------------------------------------


def test_mutated_bodies_match_model(ffi, lib, guarded):
    rng = random.Random(2046)
    alphabet = b"\r\n- x\t\";=\\:"
    seen = set()
    for it in range(1500):
        boundary = rng.choice([b"B", b"-", b"--", b"xy"])
        body, _ = random_form(rng, boundary)
        body = bytearray(body)
        for _ in range(rng.randint(0, 4)):
            at = rng.randrange(len(body))
            r = rng.random()
            if r < 0.3:
                del body[at]
            elif r < 0.6:
                body.insert(at, rng.choice(alphabet))
            elif r < 0.8:
                body[at] = rng.choice(alphabet)
            else:
                body[at:at] = rng.choice([b"\r\n--" + boundary + b"\r\n", b"\r\n\r\n",
                                          b" " * 70, b"\n--" + boundary, b"--"])
        body = bytes(body)
        max_parts = rng.choice([1000, 1, 2, 3])
        limits = (0, 0, max_parts) if max_parts != 1000 else None
        want = model(boundary, body, max_parts=max_parts)
        seen.add(want[-1][0] if want[-1][0] != "error" else want[-1])
        if it % 25 == 0:
            got = feed_all_ways(ffi, lib, guarded, boundary, body, limits)
        else:
            cut = rng.randrange(len(body) + 1)
            got = feed(ffi, lib, guarded, boundary, body, [cut, len(body) - cut], limits,
                       stingy=bool(it % 2))
        assert got == want, (boundary, body)
    assert "done" in seen and {("error", c) for c in (2, 4, 6, 8)} <= seen


# --- mg_parse_multipart --------------------------------------------------------------------


def parse_whole(ffi, lib, guarded, body: bytes, size=64):
    """The parts mg_parse_multipart finds walking `body`, each call against the guard
    page: [(var, file, chunk)]."""
    out, off = [], 0
    var, file = ffi.new("char[]", size), ffi.new("char[]", size)
    chunk, clen = ffi.new("const char **"), ffi.new("size_t *")
    while True:
        rest = body[off:]
        buf = ffi.cast("char *", guarded(rest)) if rest else ffi.NULL
        r = lib.mg_parse_multipart(buf, len(rest), var, size, file, size, chunk, clen)
        if r == 0:
            assert ffi.string(var) == b"" and chunk[0] == ffi.NULL and clen[0] == 0
            return out, off
        assert 0 < r <= len(rest) and rest[r : r + 2] == b"--"
        data = ffi.buffer(chunk[0], clen[0])[:] if clen[0] else b""
        assert ffi.cast("char *", chunk[0]) >= buf and data == rest[
            chunk[0] - buf : chunk[0] - buf + clen[0]]
        out.append((ffi.string(var), ffi.string(file), data))
        off += r


def test_parse_multipart_walks_forms(ffi, lib, guarded):
    rng = random.Random(1867)
    for _ in range(100):
        boundary = rng.choice([b"B", b"xyz-123"])
        body, parts = random_form(rng, boundary)
        body = body[body.index(b"--" + boundary):]  # no preamble: a boundary line first
        got, off = parse_whole(ffi, lib, guarded, body)
        assert got == [(n, f or b"", d) for n, f, _, d in parts]
        assert body[off:] == b"--" + boundary + b"--\r\n"


def test_parse_multipart_edges(ffi, lib, guarded):
    body = b"--b\r\n" + CD + b'name="abcdefgh"; filename="x"\r\n\r\n1\r\n--b--'
    got, _ = parse_whole(ffi, lib, guarded, body, size=8)
    assert got == [(b"", b"x", b"1")]  # the name did not fit with its NUL
    got, _ = parse_whole(ffi, lib, guarded, body, size=9)
    assert got == [(b"abcdefgh", b"x", b"1")]
    bads = [b"", b"-", b"--b", b"--b\r\n", b"x--b\r\n" + CD + b"name=a\r\n\r\n\r\n--b--",
            b"--b\n" + CD + b"name=a\n\n\n--b--", b"--b\r\n" + CD + b"name=a\r\n\r\n1",
            b"--b\r\n\r\n1\r\n--b--", b"--b--\r\n",
            b"--b;\r\n" + CD + b"name=a\r\n\r\n\r\n--b;--"]
    for bad in bads:
        assert parse_whole(ffi, lib, guarded, bad)[0] == []
    # every prefix of a body: a part only once its delimiter is decided, no over-read
    whole = b"--b\r\n" + CD + b"name=a\r\n\r\nabc\r\n--b\r\n"
    for n in range(len(whole) + 1):
        got, _ = parse_whole(ffi, lib, guarded, whole[:n])
        assert got == ([(b"a", b"", b"abc")] if n == len(whole) else [])
