"""The chunked transfer-coding decoder (csrc/proto/chunked.c) through its test driver
(csrc/tests/chunked_feed.c): vectors fed whole, byte by byte and at every split point in
reassembly and streaming modes; random payloads under an independent Python encoder with
random reads; a differential check against a Python model of RFC 9112 section 7.1 on
mutated messages; limits at, below and above; pipelined bytes kept."""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from cutil import splits

HEADER = Path(__file__).resolve().parents[2] / "csrc" / "proto" / "chunked.h"


def _error_codes() -> dict[str, int]:
    """The enum mg__chunked_error, read from the header (values in declaration order)."""
    body = re.search(r"enum mg__chunked_error \{(.*?)\};", HEADER.read_text(), re.S)
    names = re.findall(r"MG__CHUNKED_([A-Z]+)", body.group(1))
    return {name: i for i, name in enumerate(names)}


ERR = _error_codes()
DEFAULT_LIMITS = (16, 4096, 8192, 100)


def feed(ffi, lib, data: bytes, pieces=None, keep=True, limits=None):
    """(verdict, body, rest, err): verdict is 'done', 'more' or 'bad'."""
    pieces = [] if pieces is None else list(pieces)
    assert sum(pieces) in (0, len(data)) or not pieces
    out = ffi.new("char[]", max(len(data), 1))
    out_len = ffi.new("size_t *")
    err = ffi.new("int *")
    cp = ffi.new("size_t[]", pieces or [0])
    lim = ffi.new("size_t[4]", list(limits)) if limits is not None else ffi.NULL
    r = lib.mgio_test_chunked_feed(data, len(data), cp, len(pieces), int(keep), lim, out,
                                   out_len, err)
    assert r != -3, "the driver caught a decoder fault"
    body = ffi.buffer(out, out_len[0])[:]
    if r >= 0:
        rest = ffi.buffer(out + out_len[0], r)[:]
        assert rest == data[len(data) - r :]
        return "done", body, rest, err[0]
    return ("more" if r == -2 else "bad"), body, b"", err[0]


def feed_all_ways(ffi, lib, data: bytes, limits=None):
    """Feeds every way (cutil.splits, both modes); asserts one outcome and returns it."""
    results = set()
    for pieces in splits(data):
        for keep in (True, False):
            results.add(feed(ffi, lib, data, [len(p) for p in pieces], keep, limits))
    assert len(results) == 1, results
    return results.pop()


# --- an independent model of the grammar ------------------------------------------------

TCHAR = rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]"
TOKEN = TCHAR + rb"+"
QSTR = rb'"(?:[\t \x21\x23-\x5b\x5d-\x7e\x80-\xff]|\\[\t \x21-\x7e\x80-\xff])*"'
EXT = (rb"(?:[ \t]*;[ \t]*" + TOKEN + rb"(?:[ \t]*=[ \t]*(?:" + TOKEN + rb"|" + QSTR
       + rb"))?)*")
SIZE_LINE = re.compile(rb"([0-9A-Fa-f]+)(" + EXT + rb")\r\n")
TRAILERS = re.compile(rb"(?:" + TOKEN + rb":[\t \x21-\x7e\x80-\xff]*\r\n)*\r\n")


def model(data: bytes):
    """(body, rest) when `data` holds a complete valid message within the default
    limits, else None (malformed or incomplete)."""
    pos, body = 0, b""
    while True:
        m = SIZE_LINE.match(data, pos)
        if not m or len(m[1]) > 16 or int(m[1], 16) >= 2**63 or len(m[2]) > 4096:
            return None
        size, pos = int(m[1], 16), m.end()
        if size == 0:
            break
        if data[pos + size : pos + size + 2] != b"\r\n":
            return None
        body += data[pos : pos + size]
        pos += size + 2
    m = TRAILERS.match(data, pos)
    if not m or m.end() - pos > 8192 or m[0].count(b"\r\n") - 1 > 100:
        return None
    return body, data[m.end() :]


def encode(rng: random.Random, payload: bytes, trailers: bool = True) -> bytes:
    """A random valid chunked encoding of payload (written independently of the C)."""
    out, off = [], 0
    exts = [b"", b";a", b";a=b", b' ; q = "x\\"; y"', b";n=\"\x80\"\t;m"]
    while True:
        n = 0 if off == len(payload) else rng.randint(1, min(len(payload) - off, 700))
        digits = format(n, "x" if rng.random() < 0.5 else "X")
        out.append(b"0" * rng.randint(0, 2) + digits.encode() + rng.choice(exts) + b"\r\n")
        if n == 0:
            break
        out.append(payload[off : off + n] + b"\r\n")
        off += n
    if trailers and rng.random() < 0.5:
        out.append(b"Digest: sha-256=abc\r\nX-Empty:\r\nX-Ws: \t v \t\r\n")
    out.append(b"\r\n")
    return b"".join(out)


# --- vectors ------------------------------------------------------------------------------

VALID = [
    (b"0\r\n\r\n", b"", b""),
    (b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", b"hello world", b""),
    (b"A\r\n0123456789\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", b"0123456789",
     b"GET / HTTP/1.1\r\n\r\n"),
    (b"1 ; a = b ;c=\"x\\\"y\"\r\nz\r\n0;last\r\nT: v\r\n\r\nNEXT", b"z", b"NEXT"),
    (b"3\r\na\x00b\r\n0\r\n\r\n", b"a\x00b", b""),
    (b"0\r\n\r\n0\r\n\r\n", b"", b"0\r\n\r\n"),
]

INVALID = [
    (b"\r\n", "EBADSIZE"),
    (b"x\r\n", "EBADSIZE"),
    (b"-1\r\n", "EBADSIZE"),
    (b"0x1\r\n", "EBADSIZE"),
    (b"00000000000000001\r\n", "ESIZETOOBIG"),
    (b"8000000000000000\r\n", "ESIZETOOBIG"),
    (b"1\nx\r\n0\r\n\r\n", "EBADLINE"),
    (b"1\r\nxy\r\n0\r\n\r\n", "EBADLINE"),
    (b"1\r\nx\n0\r\n\r\n", "EBADLINE"),
    (b"1 \r\nx\r\n", "EBADEXT"),
    (b"1;\r\nx\r\n", "EBADEXT"),
    (b"1;a=\r\nx\r\n", "EBADEXT"),
    (b'1;a="x\r\n', "EBADEXT"),
    (b"1;a=\"\x01\"\r\n", "EBADEXT"),
    (b"0\r\nA : b\r\n\r\n", "EBADTRAILER"),
    (b"0\r\nA: b\r\n c\r\n\r\n", "EBADTRAILER"),
    (b"0\r\nA: b\nB: c\r\n\r\n", "EBADTRAILER"),
    (b"0\r\nA: b\rB\r\n\r\n", "EBADTRAILER"),
    (b"0\r\nA: \x00\r\n\r\n", "EBADTRAILER"),
    (b"0\r\n\n", "EBADTRAILER"),
]


@pytest.mark.parametrize(("data", "body", "rest"), VALID)
def test_valid_every_split(ffi, lib, data, body, rest):
    assert feed_all_ways(ffi, lib, data) == ("done", body, rest, 0)
    assert model(data) == (body, rest)


@pytest.mark.parametrize(("data", "reason"), INVALID)
def test_invalid_every_split(ffi, lib, data, reason):
    verdict, _, _, err = feed_all_ways(ffi, lib, data)
    assert (verdict, err) == ("bad", ERR[reason])
    assert model(data) is None


def test_incomplete_delivers_data_so_far(ffi, lib):
    msg = b"8\r\nabcdefgh\r\n0\r\nT: v\r\n\r\n"
    for cut in range(len(msg)):
        verdict, body, _, _ = feed_all_ways(ffi, lib, msg[:cut])
        assert verdict == "more"
        # Every data byte that has arrived is delivered at once.
        assert body == b"abcdefgh"[: max(0, min(cut - 3, 8))]


def test_random_payloads_random_reads(ffi, lib):
    rng = random.Random(4242)
    tail = b"POST /next HTTP/1.1\r\nContent-Length: 0\r\n\r\n"
    for _ in range(150):
        payload = rng.randbytes(rng.randint(0, 4000))
        wire = encode(rng, payload) + (tail if rng.random() < 0.5 else b"")
        rest = wire[len(wire) - len(tail) :] if wire.endswith(tail) else b""
        pieces, left = [], len(wire)
        top = rng.choice([1, 3, 17, 256, 5000])
        while left:
            p = min(left, rng.randint(1, top))
            pieces.append(p)
            left -= p
        for keep in (True, False):
            assert feed(ffi, lib, wire, pieces, keep) == ("done", payload, rest, 0)
        assert model(wire) == (payload, rest)


def test_mutations_agree_with_model(ffi, lib):
    """Random byte edits of valid messages: the decoder completes exactly when the model
    does, with the same body and rest, whatever the split."""
    rng = random.Random(7)
    alphabet = b'0123456789aAfFgG \t;="\\\r\n:xX\x00\x7f\x80'
    for _ in range(1500):
        wire = bytearray(encode(rng, rng.randbytes(rng.randint(0, 12))) + b"NEXT")
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(wire) + 1)
            op = rng.randrange(3)
            if op == 0 and i < len(wire):
                wire[i] = rng.choice(alphabet)
            elif op == 1:
                wire.insert(i, rng.choice(alphabet))
            elif i < len(wire):
                del wire[i]
        data = bytes(wire)
        want = model(data)
        split = rng.randrange(len(data) + 1)
        for pieces in ([len(data)], [split, len(data) - split]):
            verdict, body, rest, _ = feed(ffi, lib, data, pieces, rng.random() < 0.5)
            if want is None:
                assert verdict != "done", data
            else:
                assert (verdict, body, rest) == ("done", *want), data


@pytest.mark.parametrize("limit", [DEFAULT_LIMITS[1], 10])
def test_ext_length_limit(ffi, lib, limit):
    limits = (0, 0 if limit == DEFAULT_LIMITS[1] else limit, 0, 0)
    for ext_len in (limit - 1, limit, limit + 1):
        data = b"1;" + b"e" * (ext_len - 1) + b"\r\nx\r\n0\r\n\r\n"
        verdict, _, _, err = feed(ffi, lib, data, limits=limits)
        if ext_len <= limit:
            assert verdict == "done"
        else:
            assert (verdict, err) == ("bad", ERR["EEXTTOOLONG"])


def test_trailer_limits(ffi, lib):
    def message(fields: int, total: int) -> bytes:
        lines, left = [], total - 2
        for f in range(fields):
            n = left // (fields - f)
            lines.append(b"T:" + b"v" * (n - 4) + b"\r\n")
            left -= n
        return b"0\r\n" + b"".join(lines) + b"\r\n"

    for total in (8191, 8192, 8193):
        verdict, _, _, err = feed(ffi, lib, message(3, total))
        assert verdict == ("done" if total <= 8192 else "bad")
        if total > 8192:
            assert err == ERR["ETRAILERTOOLONG"]
    for fields in (99, 100, 101):
        verdict, _, _, err = feed(ffi, lib, message(fields, fields * 4 + 2))
        assert verdict == ("done" if fields <= 100 else "bad")
        if fields > 100:
            assert err == ERR["ETOOMANYTRAILERS"]
    data = message(2, 20)
    assert feed(ffi, lib, data, limits=(0, 0, 20, 2))[0] == "done"
    assert feed(ffi, lib, data, limits=(0, 0, 19, 2))[3] == ERR["ETRAILERTOOLONG"]
    assert feed(ffi, lib, data, limits=(0, 0, 0, 1))[3] == ERR["ETOOMANYTRAILERS"]


def test_size_digit_limits(ffi, lib):
    assert feed(ffi, lib, b"0" * 16 + b"\r\n\r\n")[0] == "done"
    assert feed(ffi, lib, b"0" * 17 + b"\r\n\r\n")[3] == ERR["ESIZETOOBIG"]
    assert feed(ffi, lib, b"7fffffffffffffff\r\nab")[:2] == ("more", b"ab")
    assert feed(ffi, lib, b"8000000000000000\r\n")[3] == ERR["ESIZETOOBIG"]
    assert feed(ffi, lib, b"ffff\r\n", limits=(4, 0, 0, 0))[0] == "more"
    assert feed(ffi, lib, b"0ffff\r\n", limits=(4, 0, 0, 0))[3] == ERR["ESIZETOOBIG"]
    assert feed(ffi, lib, b"0" * 17 + b"\r\n", limits=(40, 0, 0, 0))[0] == "bad"
