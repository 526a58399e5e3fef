"""The WebSocket codecs (csrc/proto/ws_frame.c, ws_deflate.c) against independent Python
models: frame headers built by struct.pack and fed whole, byte by byte and at every split
point against a guard page; masking in pieces; Close payloads; the handshake keys against
hashlib and base64. permessage-deflate against Python's zlib in both directions across
several messages sharing a context, at every window size; negotiation; the output limit
against a decompression bomb; invalid data."""

from __future__ import annotations

import base64
import hashlib
import random
import struct
import time
import zlib

import pytest
from cutil import splits

TRAILER = b"\x00\x00\xff\xff"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


# --- helpers ------------------------------------------------------------------------------


def ref_header(first: int, length: int, mask: bytes | None) -> bytes:
    """RFC 6455 5.2, written independently: the minimal length form, then the key."""
    m = 0x80 if mask is not None else 0
    if length < 126:
        out = struct.pack("!BB", first, m | length)
    elif length <= 0xFFFF:
        out = struct.pack("!BBH", first, m | 126, length)
    else:
        out = struct.pack("!BBQ", first, m | 127, length)
    return out + (mask or b"")


def parse(ffi, lib, guarded, data: bytes):
    """(r, header fields or None) of mg__ws_parse_header on `data` against the guard page."""
    h = ffi.new("struct mg__ws_header *")
    r = lib.mg__ws_parse_header(guarded(data), len(data), h)
    if r <= 0:
        return r, None
    return r, (h.len, h.first, h.fin, h.rsv, h.opcode, h.masked, bytes(h.mask))


def parse_fed(ffi, lib, guarded, data: bytes, pieces: list[bytes]):
    """Feeds `pieces` into a growing receive buffer and parses after each one, as a
    connection does; every result before the last must be -2 (or the final verdict, once
    enough is in hand). Returns the final result."""
    buf = b""
    results = []
    for p in pieces:
        buf += p
        results.append(parse(ffi, lib, guarded, buf))
    final = results[-1]
    for r in results[:-1]:
        assert r[0] == -2 or r == final, (pieces, results)
    return final


def ref_mask(data: bytes, key: bytes, offset: int = 0) -> bytes:
    return bytes(b ^ key[(offset + i) % 4] for i, b in enumerate(data))


def mask(ffi, lib, data: bytes, key: bytes, offset: int = 0) -> bytes:
    buf = ffi.new("unsigned char[]", data or b"\0")
    lib.mg__ws_mask(buf, len(data), key, offset)
    return ffi.buffer(buf, len(data))[:]


def mbuf_bytes(ffi, mb) -> bytes:
    return ffi.buffer(mb.buf, mb.len)[:] if mb.len else b""


class State:
    """One side's mg__ws_deflate, freed with the test."""

    def __init__(self, ffi, lib, is_server: bool, snct=0, cnct=0, smwb=15, cmwb=15):
        self.ffi, self.lib = ffi, lib
        p = ffi.new("struct mg__ws_deflate_params *", [snct, cnct, smwb, cmwb])
        self.d = lib.mg__ws_deflate_new(p, int(is_server))
        assert self.d != ffi.NULL

    def deflate(self, data: bytes) -> bytes:
        out = self.ffi.new("struct mbuf *")
        try:
            assert self.lib.mg__ws_deflate_message(self.d, data, len(data), out) == 0
            return mbuf_bytes(self.ffi, out)
        finally:
            self.lib.mbuf_free(out)

    def inflate(self, data: bytes, limit: int = 1 << 30) -> tuple[int, bytes]:
        out = self.ffi.new("struct mbuf *")
        try:
            r = self.lib.mg__ws_inflate_message(self.d, data, len(data), limit, out)
            return r, mbuf_bytes(self.ffi, out)
        finally:
            self.lib.mbuf_free(out)

    def close(self):
        self.lib.mg__ws_deflate_free(self.d)
        self.d = self.ffi.NULL


@pytest.fixture
def states(ffi, lib):
    made = []

    def make(is_server, **kw):
        s = State(ffi, lib, is_server, **kw)
        made.append(s)
        return s

    yield make
    for s in made:
        s.close()


def messages(rng: random.Random, count: int) -> list[bytes]:
    """Messages that compress somewhat and repeat each other (so context takeover
    matters): empty, 1 byte and 1 MiB among them."""
    words = [b"alpha ", b"beta ", b'{"id": ', b"0123456789", b"websocket ", b"\r\n"]
    out = [b"", b"x", bytes(rng.getrandbits(8) for _ in range(64)) * (1 << 14)]
    while len(out) < count:
        n = int(2 ** rng.uniform(0, 14))
        parts = []
        size = 0
        while size < n:
            k = rng.random()
            if k < 0.6:
                part = rng.choice(words)
            elif k < 0.8:
                part = rng.randbytes(rng.randint(1, 12))
            else:
                part = rng.choice(out[-5:])[: rng.randint(0, 200)]
            parts.append(part)
            size += len(part)
        out.append(b"".join(parts)[:n])
    rng.shuffle(out)
    return out


# --- frame headers ------------------------------------------------------------------------

LENGTHS = [0, 1, 125, 126, 127, 65535, 65536, 2**32, 2**63 - 1]


@pytest.mark.parametrize("length", LENGTHS)
@pytest.mark.parametrize("masked", [False, True])
def test_header_every_length_form_every_split(ffi, lib, guarded, length, masked):
    key = b"\x37\xfa\x21\x3d" if masked else None
    first = 0x81
    want = ref_header(first, length, key)
    out = ffi.new("unsigned char[]", lib.MG__WS_MAX_HEADER)
    n = lib.mg__ws_build_header(out, first, length, key if key else ffi.NULL)
    assert ffi.buffer(out, n)[:] == want
    fields = (length, first, 1, 0, 1, int(masked), key or b"\0\0\0\0")
    data = want + b"payload"
    for pieces in splits(data):
        r = parse_fed(ffi, lib, guarded, data, pieces)
        assert r == (len(want), fields)
    for k in range(len(want)):
        assert parse(ffi, lib, guarded, want[:k]) == (-2, None)


def test_header_random_round_trips(ffi, lib, guarded):
    rng = random.Random(6455)
    out = ffi.new("unsigned char[]", lib.MG__WS_MAX_HEADER)
    for _ in range(3000):
        first = rng.getrandbits(8)
        length = rng.choice([rng.randrange(126), rng.randrange(126, 65536),
                             rng.randrange(65536, 2**63)])
        key = rng.randbytes(4) if rng.random() < 0.5 else None
        n = lib.mg__ws_build_header(out, first, length, key if key else ffi.NULL)
        want = ref_header(first, length, key)
        assert ffi.buffer(out, n)[:] == want
        r, f = parse(ffi, lib, guarded, want)
        assert r == len(want)
        assert f == (length, first, first >> 7, first & 0x70, first & 0x0F, int(bool(key)),
                     key or b"\0\0\0\0")


BAD_HEADERS = [
    *(struct.pack("!BBH", 0x82, 126, v) for v in (0, 1, 125)),
    *(struct.pack("!BBH", 0x82, 0xFE, 125) + b"KEY!",),
    *(struct.pack("!BBQ", 0x82, 127, v) for v in (0, 125, 126, 65535)),
    *(struct.pack("!BBQ", 0x02, 0xFF, v) + b"KEY!" for v in (2**63, 2**64 - 1, 65535)),
]


@pytest.mark.parametrize("data", BAD_HEADERS, ids=lambda d: d.hex())
def test_header_non_minimal_and_msb_rejected(ffi, lib, guarded, data):
    for pieces in splits(data):
        assert parse_fed(ffi, lib, guarded, data, pieces) == (-1, None)
    # -1 as soon as the length is in hand; -2 before.
    length_end = 4 if data[1] & 0x7F == 126 else 10
    for k in range(len(data)):
        assert parse(ffi, lib, guarded, data[:k])[0] == (-1 if k >= length_end else -2)


# --- masking -----------------------------------------------------------------------------


def test_mask_matches_reference_in_pieces(ffi, lib):
    rng = random.Random(1)
    for n in [*range(0, 70), 255, 1000, 4099]:
        data = rng.randbytes(n)
        key = rng.randbytes(4)
        whole = ref_mask(data, key)
        assert mask(ffi, lib, data, key) == whole
        points = range(n + 1) if n < 70 else sorted(rng.sample(range(n + 1), 40))
        for i in points:
            assert mask(ffi, lib, data[:i], key) + mask(ffi, lib, data[i:], key, i) == whole
        assert mask(ffi, lib, whole, key) == data
    for offset in (1, 2, 3, 2**40 + 1, 2**64 - 1):
        data = rng.randbytes(100)
        assert mask(ffi, lib, data, b"\x01\x02\x03\x04", offset) == ref_mask(
            data, b"\x01\x02\x03\x04", offset)


# --- Close payloads and keys -------------------------------------------------------------

CLOSE_VECTORS = [
    (b"", 0, 1005),
    (b"\x03", 1002, None),
    *((struct.pack("!H", c), 0 if ok else 1002, c) for c, ok in [
        (999, 0), (1000, 1), (1003, 1), (1004, 0), (1005, 0), (1006, 0), (1007, 1),
        (1011, 1), (1014, 1), (1015, 0), (2999, 0), (3000, 1), (4999, 1), (5000, 0)]),
    (struct.pack("!H", 1000) + "κόσμε 😀".encode(), 0, 1000),
    (struct.pack("!H", 4000) + b"r" * 123, 0, 4000),
    (struct.pack("!H", 1000) + b"\xff", 1007, 1000),
    (struct.pack("!H", 1000) + b"\xc0\xaf", 1007, 1000),  # overlong
    (struct.pack("!H", 1000) + b"\xe0\x80\xaf", 1007, 1000),  # overlong
    (struct.pack("!H", 1000) + b"\xed\xa0\x80", 1007, 1000),  # surrogate
    (struct.pack("!H", 1000) + b"\xf4\x90\x80\x80", 1007, 1000),  # > U+10FFFF
    (struct.pack("!H", 1000) + "é".encode()[:1], 1007, 1000),  # truncated
    (struct.pack("!H", 1006) + b"\xff", 1002, 1006),  # the code is judged first
]


@pytest.mark.parametrize(("payload", "want", "code"), CLOSE_VECTORS,
                         ids=lambda v: v.hex() if isinstance(v, bytes) else str(v))
def test_close_payload(ffi, lib, guarded, payload, want, code):
    c = ffi.new("int *")
    reason = ffi.new("size_t *")
    assert lib.mg__ws_check_close(guarded(payload), len(payload), c, reason) == want
    if code is not None:
        assert c[0] == code
    assert reason[0] == (2 if len(payload) >= 2 else 0)
    for k in range(0, 70000, 7):
        assert lib.mg__ws_close_code_ok(k) == int(
            1000 <= k <= 1003 or 1007 <= k <= 1014 or 3000 <= k <= 4999)


def test_accept_key(ffi, lib, guarded):
    out = ffi.new("char[29]")
    lib.mg__ws_accept_key(b"dGhlIHNhbXBsZSBub25jZQ==", 24, out)
    assert ffi.string(out) == b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="  # RFC 6455 1.3
    rng = random.Random(2)
    for _ in range(200):
        key = base64.b64encode(rng.randbytes(16))
        lib.mg__ws_accept_key(ffi.cast("char *", guarded(key)), len(key), out)
        assert ffi.string(out) == base64.b64encode(hashlib.sha1(key + GUID).digest())


def _ref_key_ok(key: bytes) -> bool:
    try:
        return len(key) == 24 and len(base64.b64decode(key, validate=True)) == 16
    except ValueError:
        return False


def test_key_ok_against_base64(ffi, lib, guarded):
    rng = random.Random(3)
    alphabet = b"ABCXYZabcxyz0189+/=-_ \x00\x80"
    keys = [b"dGhlIHNhbXBsZSBub25jZQ==", b"", b"=" * 24, b"A" * 22 + b"=="]
    keys += [base64.b64encode(rng.randbytes(rng.choice([15, 16, 17]))) for _ in range(100)]
    for _ in range(3000):
        k = bytearray(base64.b64encode(rng.randbytes(16)))
        for _ in range(rng.randint(0, 2)):
            k[rng.randrange(len(k))] = rng.choice(alphabet)
        keys.append(bytes(k))
    for key in keys:
        s = ffi.new("struct mg_str *", [ffi.cast("char *", guarded(key)), len(key)])
        assert lib.mg__ws_key_ok(s[0]) == int(_ref_key_ok(key)), key


# --- permessage-deflate: negotiation -----------------------------------------------------


def negotiate(ffi, lib, guarded, offers: bytes):
    p = ffi.new("struct mg__ws_deflate_params *")
    resp = ffi.new("char[128]")
    s = ffi.new("struct mg_str *", [ffi.cast("char *", guarded(offers)), len(offers)])
    r = lib.mg__ws_deflate_negotiate(s[0], p, resp, 128)
    params = (p.server_no_context_takeover, p.client_no_context_takeover,
              p.server_max_window_bits, p.client_max_window_bits)
    return r, ffi.string(resp), params if r else None


def accept(ffi, lib, guarded, value: bytes):
    p = ffi.new("struct mg__ws_deflate_params *")
    s = ffi.new("struct mg_str *", [ffi.cast("char *", guarded(value)), len(value)])
    r = lib.mg__ws_deflate_accept(s[0], p)
    params = (p.server_no_context_takeover, p.client_no_context_takeover,
              p.server_max_window_bits, p.client_max_window_bits)
    return r, params if r == 1 else None


PMD = b"permessage-deflate"


@pytest.mark.parametrize(("offers", "resp", "params"), [
    (PMD, PMD, (0, 0, 15, 15)),
    # what browsers and Python's websockets send
    (PMD + b"; client_max_window_bits", PMD, (0, 0, 15, 15)),
    (PMD + b"; server_max_window_bits=12; client_max_window_bits=12",
     PMD + b"; server_max_window_bits=12", (0, 0, 12, 15)),
    (PMD + b'; server_max_window_bits="8"', PMD + b"; server_max_window_bits=8",
     (0, 0, 8, 15)),
    (PMD + b"; client_no_context_takeover; server_no_context_takeover",
     PMD + b"; server_no_context_takeover; client_no_context_takeover", (1, 1, 15, 15)),
    (b"x-webkit-deflate-frame, " + PMD + b"; server_max_window_bits=16, " + PMD,
     PMD, (0, 0, 15, 15)),
    (PMD + b"; server_max_window_bits=09", b"", None),
    (PMD + b"; server_no_context_takeover; server_no_context_takeover", b"", None),
    (PMD + b"; zzz", b"", None),
    (b"", b"", None),
])
def test_negotiate(ffi, lib, guarded, offers, resp, params):
    assert negotiate(ffi, lib, guarded, offers) == (int(params is not None), resp, params)


@pytest.mark.parametrize(("value", "want"), [
    (b"", (0, None)),
    (PMD, (1, (0, 0, 15, 15))),
    (PMD + b"; server_max_window_bits=10; client_max_window_bits=9", (1, (0, 0, 10, 9))),
    (PMD + b"; client_max_window_bits", (-1, None)),
    (PMD + b", " + PMD, (-1, None)),
    (b"x-other", (-1, None)),
])
def test_client_accept(ffi, lib, guarded, value, want):
    assert accept(ffi, lib, guarded, value) == want


def test_negotiate_random_offers_round_trip(ffi, lib, guarded):
    """Random well-formed offers: accepted exactly when valid, and the response is one the
    client side accepts with the same parameters."""
    rng = random.Random(4)
    names = ["server_no_context_takeover", "client_no_context_takeover",
             "server_max_window_bits", "client_max_window_bits"]
    for _ in range(2000):
        params, valid, seen = [], True, set()
        for _ in range(rng.randint(0, 4)):
            name = rng.choice(names)
            valid &= name not in seen
            seen.add(name)
            if name.endswith("bits"):
                v = rng.choice(["", "8", "15", "10", "7", "16", "010"])
                ok_v = v in ("8", "15", "10") or (v == "" and name.startswith("client"))
                valid &= ok_v
                if v and rng.random() < 0.3:
                    v = '"' + v + '"'
                params.append(name + ("=" + v if v else ""))
            else:
                params.append(name)
        sep = rng.choice(["; ", ";", " ;\t"])
        offer = sep.join(["permessage-deflate", *params]).encode()
        r, resp, p = negotiate(ffi, lib, guarded, offer)
        assert r == int(valid), offer
        if r:
            assert accept(ffi, lib, guarded, resp) == (1, p)
            assert p[0] == int("server_no_context_takeover" in seen)
            assert p[1] == int("client_no_context_takeover" in seen)


# --- permessage-deflate: data against Python's zlib ---------------------------------------


@pytest.mark.parametrize("takeover", [True, False])
def test_mgio_compresses_python_inflates(states, takeover):
    server = states(True, snct=int(not takeover))
    msgs = messages(random.Random(5), 150)
    d = zlib.decompressobj(-15)
    for m in msgs:
        payload = server.deflate(m)
        assert payload and not payload.endswith(TRAILER)
        if not takeover:
            d = zlib.decompressobj(-15)
        assert d.decompress(payload + TRAILER) == m


@pytest.mark.parametrize("takeover", [True, False])
def test_python_compresses_mgio_inflates(states, takeover):
    client = states(False, snct=int(not takeover))
    msgs = messages(random.Random(6), 150)
    c = zlib.compressobj(wbits=-15)
    for m in msgs:
        if not takeover:
            c = zlib.compressobj(wbits=-15)
        payload = c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH)
        assert payload.endswith(TRAILER)
        assert client.inflate(payload[:-4], max(len(m), 1)) == (0, m)


@pytest.mark.parametrize("bits", range(8, 16))
def test_window_bits_both_ways(states, bits):
    """At every window size, each stream with its own peer. At 8 mgio compresses at
    zlib's 9 with distance-1 matches only, so a 256-byte inflater (Python's zlib at wbits
    -8) reads it across messages."""
    to_python = states(True, smwb=bits, cmwb=bits)
    from_python = states(True, smwb=bits, cmwb=bits)
    server = states(True, smwb=bits, cmwb=bits)
    client = states(False, smwb=bits, cmwb=bits)
    msgs = messages(random.Random(bits), 60)
    d = zlib.decompressobj(-bits)
    c = zlib.compressobj(wbits=-bits) if bits > 8 else None  # zlib cannot compress at 8
    for m in msgs:
        assert d.decompress(to_python.deflate(m) + TRAILER) == m
        if c is not None:
            payload = c.compress(m) + c.flush(zlib.Z_SYNC_FLUSH)
            assert from_python.inflate(payload[:-4], len(m)) == (0, m)
        assert client.inflate(server.deflate(m), len(m)) == (0, m)
        assert server.inflate(client.deflate(m), len(m)) == (0, m)


def test_bomb_stops_at_limit(states):
    c = zlib.compressobj(1, zlib.DEFLATED, -15, 9, zlib.Z_RLE)
    chunk = bytes(1 << 20)
    bomb = b"".join(c.compress(chunk) for _ in range(100)) + c.flush(zlib.Z_SYNC_FLUSH)
    bomb = bomb[:-4]
    assert len(bomb) < 200 << 10  # deflate tops out near 1032:1
    client = states(False)
    t = time.perf_counter()
    r, out = client.inflate(bomb, 1 << 20)
    assert time.perf_counter() - t < 1.0
    assert r == -2
    assert len(out) == (1 << 20) + 1  # stopped one byte past the limit


def test_invalid_data(states):
    for bad in [b"\xff\xff\xff", b"\x07", b"\x00\x05\x00\x00\x00hello"]:
        assert states(False).inflate(bad)[0] == -1
    # A valid message cut short no longer ends on a block boundary.
    m = b"Hello, hello, hello!" * 20
    payload = states(True).deflate(m)
    for cut in range(1, len(payload)):
        assert states(False).inflate(payload[:cut])[0] in (-1, -2)
    # Once failed, a state stays failed.
    s = states(False)
    assert s.inflate(b"\xff")[0] == -1
    assert s.inflate(states(True).deflate(b"ok"))[0] == -1


def test_allocation_failure_gives_null_or_minus_3(ffi, lib, states):
    p = ffi.new("struct mg__ws_deflate_params *", [0, 0, 15, 15])
    lib.mgio_test_alloc_fail_at(1)
    assert lib.mg__ws_deflate_new(p, 1) == ffi.NULL
    payload = states(True).deflate(b"data " * 100)
    client = states(False)
    live = lib.mgio_test_alloc_live()
    lib.mgio_test_alloc_fail_at(1)  # the inflater's zlib state
    assert client.inflate(payload)[0] == -3
    assert lib.mgio_test_alloc_live() == live
