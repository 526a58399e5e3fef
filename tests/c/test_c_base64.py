"""base64 through cffi: encoding checked against Python's base64 on seeded random data,
and the decoder's exact stopping rule (consumed count and output) on fixed edge cases, on
every string over a small probing alphabet, and on inputs that end against a guard page,
so any read past the input crashes."""

from __future__ import annotations

import base64
import itertools
import random

import pytest

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
CANARY = b"\xa5" * 8


# --- calling the C functions ----------------------------------------------------------


def c_encode(ffi, lib, data: bytes, n: int | None = None) -> bytes:
    n = len(data) if n is None else n
    need = 4 * ((max(n, 0) + 2) // 3) + 1
    dst = ffi.new("char[]", need + len(CANARY))
    ffi.memmove(dst + need, CANARY, len(CANARY))
    lib.mg_base64_encode(ffi.from_buffer("unsigned char[]", data), n, dst)
    assert ffi.buffer(dst + need, len(CANARY))[:] == CANARY, "wrote past 4*ceil(n/3)+1"
    return ffi.string(dst, need)


def c_decode(ffi, lib, guarded, text: bytes, n: int | None = None) -> tuple[int, bytes]:
    """(return value, decoded bytes); the output's length comes from the documented
    formula and must be followed by the NUL, within decoded_max(len) + 1 bytes."""
    n = len(text) if n is None else n
    room = lib.mg_base64_decoded_max(max(n, 0)) + 1
    dst = ffi.new("char[]", room + len(CANARY))
    ffi.memmove(dst, b"\xee" * room + CANARY, room + len(CANARY))
    r = lib.mg_base64_decode(guarded(text), n, dst)
    assert ffi.buffer(dst + room, len(CANARY))[:] == CANARY, "wrote past decoded_max+1"
    assert 0 <= r <= max(n, 0)
    out_len = lib.mg_base64_decoded_max(r - text[:r].count(b"="))
    assert dst[out_len] == b"\0"
    return r, ffi.buffer(dst, out_len)[:]


def model(text: bytes) -> tuple[int, bytes]:
    """The documented rule, written independently of the C code: alphabet characters up
    to the first other byte; whole groups, plus a final 2 or 3 (and their padding when it
    completes the group); a lone final character is not consumed."""
    p = 0
    while p < len(text) and text[p] in ALPHABET:
        p += 1
    tail = p % 4
    used = p - (tail if tail == 1 else 0)
    consumed = used
    if tail >= 2 and text[p : p + 4 - tail] == b"=" * (4 - tail):
        consumed = p + 4 - tail
    data = text[:used]
    return consumed, base64.b64decode(data + b"=" * (-len(data) % 4))


# --- encoding -------------------------------------------------------------------------


def test_c_encode_rfc4648(ffi, lib):
    for plain, b64 in [(b"", b""), (b"f", b"Zg=="), (b"fo", b"Zm8="), (b"foo", b"Zm9v"),
                       (b"foob", b"Zm9vYg=="), (b"fooba", b"Zm9vYmE="),
                       (b"foobar", b"Zm9vYmFy")]:
        assert c_encode(ffi, lib, plain) == b64


def test_c_encode_matches_python(ffi, lib):
    rng = random.Random(1)
    lengths = [*range(301), 1021, 4096, 65537, 1 << 20]
    for n in lengths:
        data = rng.randbytes(n)
        assert c_encode(ffi, lib, data) == base64.b64encode(data), n


def test_c_encode_negative_length_writes_empty(ffi, lib):
    assert c_encode(ffi, lib, b"abc", -1) == b""
    assert c_encode(ffi, lib, b"abc", -(2**31)) == b""


# --- decoding: fixed cases -------------------------------------------------------------


@pytest.mark.parametrize(
    "text, consumed, out",
    [
        # the reference examples
        (b"Q2VzYW50YQ==", 12, b"Cesanta"),
        (b"AAAA----", 4, b"\0\0\0"),
        ("Ünïcödé".encode(), 0, b""),
        (b"\x80AAA", 0, b""),
        # padding forms
        (b"Zg==", 4, b"f"),
        (b"Zm8=", 4, b"fo"),
        (b"Zm9v", 4, b"foo"),
        (b"Zm9vYmFy", 8, b"foobar"),
        (b"Zg=", 2, b"f"),          # incomplete padding is not consumed
        (b"Zg=A", 2, b"f"),
        (b"Zm8==", 4, b"fo"),       # an extra '=' after a complete group stays
        (b"Zg==Zg==", 4, b"f"),     # decoding stops after padding
        (b"Zm9vZg==Zm9v", 8, b"foof"),
        (b"Z===", 0, b""),
        (b"====", 0, b""),
        (b"=Zg=", 0, b""),
        (b"Zh==", 4, b"f"),         # non-zero pad bits are tolerated
        (b"Zm9=", 4, b"fo"),
        # unpadded and truncated tails
        (b"Zg", 2, b"f"),
        (b"Zm8", 3, b"fo"),
        (b"Z", 0, b""),
        (b"Zm9vY", 4, b"foo"),
        (b"Zm9vYm", 6, b"foob"),
        (b"Zm9vYmF", 7, b"fooba"),
        # stops at the first byte outside the alphabet
        (b"Zm9v-", 4, b"foo"),
        (b"Zm9vZg-A", 6, b"foof"),
        (b"Zm9vZ-", 4, b"foo"),
        (b"Zm 9v", 2, b"f"),
        (b"Zm9v\r\n", 4, b"foo"),
        (b"Zm9v\0Zm9v", 4, b"foo"),
        (b"Zm9v_-_-", 4, b"foo"),   # base64url characters are not the standard alphabet
        (b"", 0, b""),
    ],
)
def test_c_decode_cases(ffi, lib, guarded, text, consumed, out):
    assert c_decode(ffi, lib, guarded, text) == (consumed, out)
    assert model(text) == (consumed, out)


def test_c_decode_zero_and_negative_length(ffi, lib, guarded):
    for n in (0, -1, -4, -(2**31)):
        assert c_decode(ffi, lib, guarded, b"Zm9v", n) == (0, b"")


def test_c_decode_only_len_characters(ffi, lib, guarded):
    # the bytes after `len` are never looked at, even when they would complete a group
    assert c_decode(ffi, lib, guarded, b"Zm9vYmFy", 6) == (6, b"foob")
    text = b"Zm9vYmFy"
    for n in range(len(text) + 1):
        assert c_decode(ffi, lib, guarded, text[:n]) == model(text[:n])


def test_c_decode_every_byte_after_a_group(ffi, lib, guarded):
    """Group 'Zm9' followed by each of the 256 bytes."""
    for b in range(256):
        text = b"Zm9" + bytes([b])
        r, out = c_decode(ffi, lib, guarded, text)
        if b in ALPHABET:
            assert (r, out) == (4, base64.b64decode(text))
        elif b == ord("="):
            assert (r, out) == (4, b"fo")
        else:
            assert (r, out) == (3, b"fo")


def test_c_decode_invalid_at_each_position(ffi, lib, guarded):
    rng = random.Random(2)
    data = rng.randbytes(24)
    text = base64.b64encode(data)  # 32 characters, no padding
    for bad in b"-= \0\n.\x80\xc3\xff":
        for p in range(len(text)):
            broken = text[:p] + bytes([bad]) + text[p + 1 :]
            tail = p % 4
            consumed = p - (tail if tail == 1 else 0)
            out_len = p // 4 * 3 + max(tail - 1, 0)
            if bad == ord("=") and tail == 3:
                consumed = p + 1  # "xxx=" ends the text validly
            assert c_decode(ffi, lib, guarded, broken) == (consumed, data[:out_len]), (p, bad)


def test_c_decode_every_short_string_matches_model(ffi, lib, guarded):
    """Every string of up to 6 characters over valid, padding, invalid and non-ASCII
    bytes (19 531 strings)."""
    probes = [b"A", b"w", b"=", b"-", b"\xc3"]
    for n in range(7):
        for chars in itertools.product(probes, repeat=n):
            text = b"".join(chars)
            assert c_decode(ffi, lib, guarded, text) == model(text), text


# --- decoding: random round trips -------------------------------------------------------


def test_c_decode_roundtrip_random(ffi, lib, guarded):
    rng = random.Random(3)
    for n in [*range(301), 4096, 49151]:
        data = rng.randbytes(n)
        text = base64.b64encode(data)
        assert c_decode(ffi, lib, guarded, text) == (len(text), data), n
        bare = text.rstrip(b"=")
        assert c_decode(ffi, lib, guarded, bare) == (len(bare), data), n
        assert lib.mg_base64_decoded_max(len(bare)) == n


def test_c_decode_truncated_random(ffi, lib, guarded):
    rng = random.Random(4)
    for _ in range(40):
        text = base64.b64encode(rng.randbytes(rng.randrange(1, 40)))
        for cut in range(len(text) + 1):
            assert c_decode(ffi, lib, guarded, text[:cut]) == model(text[:cut])


def test_c_decode_large_from_heap(ffi, lib):
    data = random.Random(5).randbytes(3 << 20)
    text = base64.b64encode(data)
    dst = ffi.new("char[]", lib.mg_base64_decoded_max(len(text)) + 1)
    src = ffi.from_buffer("unsigned char[]", text)
    assert lib.mg_base64_decode(src, len(text), dst) == len(text)
    assert ffi.buffer(dst, len(data))[:] == data


def test_c_decoded_max(ffi, lib):
    size_max = (1 << (8 * ffi.sizeof("size_t"))) - 1
    for n in range(200):
        assert lib.mg_base64_decoded_max(n) == n // 4 * 3 + (n % 4) * 3 // 4
    assert lib.mg_base64_decoded_max(size_max) == size_max // 4 * 3 + 2


# --- mg_mbuf_append_base64 ----------------------------------------------------------------


@pytest.fixture
def mbuf(ffi, lib):
    m = ffi.new("struct mbuf *")
    lib.mbuf_init(m, 0)
    before = lib.mgio_test_alloc_live()
    yield m
    lib.mbuf_free(m)
    assert lib.mgio_test_alloc_live() == before


def contents(ffi, m) -> bytes:
    assert m.len <= m.size
    return ffi.buffer(m.buf, m.len)[:] if m.len else b""


def test_c_mbuf_append_base64_random(ffi, lib, mbuf):
    rng = random.Random(6)
    want = b""
    for _ in range(200):
        data = rng.randbytes(rng.choice([0, 1, 2, 3, rng.randrange(300)]))
        lib.mg_mbuf_append_base64(mbuf, data, len(data))
        want += base64.b64encode(data)
        assert contents(ffi, mbuf) == want


def test_c_mbuf_append_base64_empty_allocates_nothing(ffi, lib, mbuf):
    lib.mgio_test_alloc_fail_at(1)
    lib.mg_mbuf_append_base64(mbuf, ffi.NULL, 0)
    assert (mbuf.buf, mbuf.len, mbuf.size) == (ffi.NULL, 0, 0)


def test_c_mbuf_append_base64_allocation_failure(ffi, lib, mbuf):
    lib.mbuf_append(mbuf, b"x:", 2)
    lib.mbuf_trim(mbuf)
    # The preferred size fails; mbuf_reserve retries for the exact size, which succeeds.
    lib.mgio_test_alloc_fail_at(1)
    lib.mg_mbuf_append_base64(mbuf, b"foobar", 6)
    assert contents(ffi, mbuf) == b"x:Zm9vYmFy" and mbuf.size == mbuf.len
    # Whichever allocation fails, the append is all or nothing.
    for k in range(1, 4):
        before = contents(ffi, mbuf)
        lib.mgio_test_alloc_fail_at(k)
        lib.mg_mbuf_append_base64(mbuf, b"a" * 100, 100)
        lib.mgio_test_alloc_fail_at(0)
        assert contents(ffi, mbuf) in (before, before + base64.b64encode(b"a" * 100))


def test_c_mbuf_append_base64_overflow_unchanged(ffi, lib, mbuf):
    size_max = (1 << (8 * ffi.sizeof("size_t"))) - 1
    lib.mbuf_append(mbuf, b"x", 1)
    before = (mbuf.buf, mbuf.len, mbuf.size)
    for n in (size_max, size_max // 4 * 3, (size_max >> 1) + 1):
        lib.mg_mbuf_append_base64(mbuf, b"abc", n)  # never read: the size check comes first
        assert (mbuf.buf, mbuf.len, mbuf.size) == before


def test_c_mbuf_append_base64_from_itself(ffi, lib, mbuf):
    lib.mbuf_append(mbuf, b"foobar", 6)
    lib.mbuf_trim(mbuf)  # the append must grow, moving the source
    lib.mg_mbuf_append_base64(mbuf, mbuf.buf, 6)
    assert contents(ffi, mbuf) == b"foobarZm9vYmFy"
    lib.mg_mbuf_append_base64(mbuf, mbuf.buf + 6, 8)
    assert contents(ffi, mbuf) == b"foobarZm9vYmFy" + base64.b64encode(b"Zm9vYmFy")
