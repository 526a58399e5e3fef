"""URL percent-encoding through cffi, against urllib.parse.

mg_url_decode is compared with unquote_to_bytes (and, for forms, '+' as a space first, as
unquote_plus does) on seeded random inputs; where urllib passes a malformed escape through
unchanged, mg returns -1 with the bytes decoded before it. Every output buffer is
surrounded by canaries, and inputs end against a guard page. mg_url_encode(_opt) is
compared with quote / quote_plus, whose hex is upper-case and whose safe set always holds
"_.-~"."""

from __future__ import annotations

import random
import re
from urllib.parse import quote, quote_plus, unquote_to_bytes

import pytest

CANARY = b"\xa5" * 8
HEX = b"0123456789abcdefABCDEF"

# --- calling the C functions ----------------------------------------------------------


def c_decode(ffi, lib, guarded, src: bytes, dst_len: int, form: bool, src_len=None):
    """(return value, the dst_len bytes of dst); checks that nothing outside them was
    written. The input ends against a guard page."""
    n = len(src) if src_len is None else src_len
    room = max(dst_len, 0)
    buf = ffi.new("char[]", len(CANARY) * 2 + room)
    ffi.memmove(buf, CANARY + b"\xee" * room + CANARY, len(buf))
    r = lib.mg_url_decode(ffi.cast("char *", guarded(src)), n, buf + len(CANARY), dst_len, form)
    raw = ffi.buffer(buf)[:]
    assert raw[: len(CANARY)] == CANARY and raw[len(CANARY) + room :] == CANARY, "overflow"
    return r, raw[len(CANARY) : len(CANARY) + room]


def decodes(result, ret: int, want: bytes) -> bool:
    """The call returned `ret` and dst holds `want` and a NUL (`want` may hold NULs)."""
    r, dst = result
    return r == ret and dst[: len(want) + 1] == want + b"\0"


def c_encode(ffi, lib, src: bytes, safe: bytes | None = None, flags: int = 0) -> bytes:
    """The encoding, read through its length and NUL, then freed."""
    src_buf = ffi.from_buffer(src)
    s = ffi.new("struct mg_str *", {"p": src_buf, "len": len(src)})
    if safe is None:
        r = lib.mg_url_encode(s[0])
    else:
        safe_buf = ffi.from_buffer(safe)
        k = ffi.new("struct mg_str *", {"p": safe_buf, "len": len(safe)})
        r = lib.mg_url_encode_opt(s[0], k[0], flags)
    assert r.p != ffi.NULL
    try:
        assert r.p[r.len] == b"\0"
        return ffi.buffer(r.p, r.len)[:]
    finally:
        lib.free(ffi.cast("void *", r.p))


# --- the model ------------------------------------------------------------------------

BAD_ESCAPE = re.compile(rb"%(?![0-9a-fA-F]{2})")


def model_decode(src: bytes, form: bool) -> tuple[bool, bytes]:
    """(well formed, the bytes decoded before the first malformed escape or all)."""
    m = BAD_ESCAPE.search(src)
    good = src if m is None else src[: m.start()]
    if form:
        good = good.replace(b"+", b" ")
    return m is None, unquote_to_bytes(good)


def lower_escapes(s: str) -> bytes:
    return re.sub("%[0-9A-F]{2}", lambda m: m.group().lower(), s).encode()


def random_url_text(rng: random.Random) -> bytes:
    parts = []
    for _ in range(rng.randrange(12)):
        kind = rng.randrange(6)
        if kind == 0:
            parts.append(b"%" + bytes(rng.choice(HEX) for _ in range(2)))
        elif kind == 1:  # an escape that may be cut short or not hex
            parts.append(b"%" + bytes(rng.choice(HEX + b"gG%+ z") for _ in range(rng.randrange(3))))
        elif kind == 2:
            parts.append(b"+")
        elif kind == 3:
            parts.append(bytes([rng.randrange(256)]))
        else:
            parts.append(bytes(rng.choice(b"abcXYZ019-._~/?=&") for _ in range(rng.randrange(4))))
    return b"".join(parts)


# --- decoding -------------------------------------------------------------------------


def test_decode_matches_urllib_on_random_inputs(ffi, lib, guarded):
    rng = random.Random(3986)
    kinds = {True: 0, False: 0}
    for _ in range(3000):
        src = random_url_text(rng)
        for form in (False, True):
            ok, want = model_decode(src, form)
            kinds[ok] += 1
            result = c_decode(ffi, lib, guarded, src, len(src) + 1, form)
            assert decodes(result, len(want) if ok else -1, want), (src, form)
    assert min(kinds.values()) > 1000, kinds


def test_decode_dst_size_at_below_and_above_the_need(ffi, lib, guarded):
    rng = random.Random(7)
    for _ in range(400):
        src = random_url_text(rng).replace(b"%", b"%25")  # always well formed
        for form in (False, True):
            _, want = model_decode(src, form)
            need = len(want) + 1  # the NUL included
            for dst_len in {1, 2, need - 2, need - 1, need, need + 1, need + 5}:
                if dst_len < 1:
                    continue
                result = c_decode(ffi, lib, guarded, src, dst_len, form)
                if dst_len >= need:
                    assert decodes(result, len(want), want)
                else:  # too small: -1, and as much as fits, still NUL-terminated
                    assert decodes(result, -1, want[: dst_len - 1])


@pytest.mark.parametrize(
    "src, form, ret, out",
    [
        (b"", False, 0, b""),
        (b"a%41%6a%4A", False, 4, b"aAjJ"),
        (b"a+b", False, 3, b"a+b"),
        (b"a+b", True, 3, b"a b"),
        (b"%2B+%20", True, 3, b"+  "),
        (b"a%00b", False, 3, b"a\0b"),  # a decoded NUL counts
        (b"%", False, -1, b""),
        (b"%2", False, -1, b""),
        (b"%2x", False, -1, b""),
        (b"%x2", False, -1, b""),
        (b"%%41", False, -1, b""),
        (b"abc%", True, -1, b"abc"),
        (b"a+%4", True, -1, b"a "),
        (b"ok%zzok", False, -1, b"ok"),
        (b"%41%g1", False, -1, b"A"),
    ],
)
def test_decode_exact_cases(ffi, lib, guarded, src, form, ret, out):
    assert decodes(c_decode(ffi, lib, guarded, src, 32, form), ret, out)


def test_decode_argument_errors(ffi, lib, guarded):
    assert c_decode(ffi, lib, guarded, b"abc", 0, False) == (-1, b"")  # nothing written
    assert c_decode(ffi, lib, guarded, b"abc", -3, False) == (-1, b"")
    assert decodes(c_decode(ffi, lib, guarded, b"abc", 8, False, src_len=-1), -1, b"")
    assert lib.mg_url_decode(b"abc", 3, ffi.NULL, 8, 0) == -1
    dst = ffi.new("char[]", b"###")
    assert lib.mg_url_decode(ffi.NULL, 3, dst, 4, 0) == -1 and dst[0] == b"\0"
    assert lib.mg_url_decode(ffi.NULL, 0, dst, 4, 0) == 0


def test_decode_reads_only_src_len_bytes(ffi, lib, guarded):
    """A truncated escape at the very end of the input is found without reading on."""
    for src in (b"%", b"%4", b"ab%", b"ab%4"):
        assert c_decode(ffi, lib, guarded, src, 8, False)[0] == -1
    assert decodes(c_decode(ffi, lib, guarded, b"ab%41", 8, False, src_len=3), -1, b"ab")


# --- encoding -------------------------------------------------------------------------

DEFAULT_SAFE = "$,;()/"  # mg_url_encode's set, minus "._-~" which quote always keeps


def random_bytes(rng: random.Random) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randrange(20)))


def test_encode_matches_quote(ffi, lib):
    rng = random.Random(1738)
    for src in [bytes(range(256)), *(random_bytes(rng) for _ in range(1500))]:
        assert c_encode(ffi, lib, src) == lower_escapes(quote(src, safe=DEFAULT_SAFE))


def test_encode_opt_matches_quote_with_random_safe_sets(ffi, lib):
    rng = random.Random(20)
    upper = lib.MG_URL_ENCODE_F_UPPERCASE_HEX
    plus = lib.MG_URL_ENCODE_F_SPACE_AS_PLUS
    for _ in range(1500):
        src = random_bytes(rng) + b" "
        safe = "".join(rng.sample("!#$&'()*+,/:;=?@[] %", rng.randrange(6)))
        both = (safe + "_.-~").encode()  # quote always keeps these
        assert c_encode(ffi, lib, src, both, upper) == quote(src, safe=safe).encode()
        assert c_encode(ffi, lib, src, both, 0) == lower_escapes(quote(src, safe=safe))
        if " " not in safe:  # quote_plus turns a space into '+' even when it is safe
            want = quote_plus(src, safe=safe).encode()
            assert c_encode(ffi, lib, src, both, upper | plus) == want


def test_encode_flags_and_safe_edge_cases(ffi, lib):
    upper = lib.MG_URL_ENCODE_F_UPPERCASE_HEX
    plus = lib.MG_URL_ENCODE_F_SPACE_AS_PLUS
    assert c_encode(ffi, lib, b"a b+c", b"", 0) == b"a%20b%2bc"
    assert c_encode(ffi, lib, b"a b+c", b"", upper) == b"a%20b%2Bc"
    assert c_encode(ffi, lib, b"a b+c", b"", plus) == b"a+b%2bc"
    assert c_encode(ffi, lib, b"a b", b" ", plus) == b"a b"  # a safe space stays a space
    assert c_encode(ffi, lib, b"\xc3\xa9%", b"\xc3%", 0) == b"\xc3%a9%"  # any byte can be safe
    assert c_encode(ffi, lib, b"\x00\xff", b"", 0) == b"%00%ff"


def test_encode_empty_input_is_an_allocated_empty_string(ffi, lib):
    assert c_encode(ffi, lib, b"") == b""
    assert c_encode(ffi, lib, b"", b"", lib.MG_URL_ENCODE_F_SPACE_AS_PLUS) == b""
    empty = ffi.new("struct mg_str *")  # {NULL, 0}
    r = lib.mg_url_encode_opt(empty[0], empty[0], 0)
    assert r.p != ffi.NULL and r.len == 0 and r.p[0] == b"\0"
    lib.free(ffi.cast("void *", r.p))


def test_encode_then_decode_round_trips(ffi, lib, guarded):
    rng = random.Random(5)
    for _ in range(500):
        src = random_bytes(rng)
        for flags, form in ((0, False), (lib.MG_URL_ENCODE_F_SPACE_AS_PLUS, True)):
            enc = c_encode(ffi, lib, src, b"._-", flags)
            assert decodes(c_decode(ffi, lib, guarded, enc, len(src) + 1, form), len(src), src)
