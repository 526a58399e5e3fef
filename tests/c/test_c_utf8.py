"""UTF-8 validation through cffi, against Python's strict UTF-8 codec.

The oracle gives the status after every prefix of a text: INVALID from the first byte
after which no valid text can follow, else INCOMPLETE inside a character, else COMPLETE.
mg_utf8_feed must report exactly that after each part, however the text is split: whole,
byte by byte and at every split point (cutil.splits), so the fail-fast position is checked
too. Every 1- and 2-byte text is checked; every 3-byte text byte by byte; a grid of 3- and
4-byte texts; every code point; and seeded random texts."""

from __future__ import annotations

import codecs
import functools
import random

import pytest
from cutil import splits

# --- the oracle -----------------------------------------------------------------------


def _proper_prefixes() -> frozenset[bytes]:
    """Every proper prefix of the encoding of a scalar value (no surrogates). All bytes
    of an encoding but the last depend only on cp >> 6, and every length and surrogate
    boundary is a multiple of 64, so one code point per block of 64 gives them all."""
    out = set()
    for cp in range(0x80, 0x110000, 64):
        if not 0xD800 <= cp <= 0xDFFF:
            e = chr(cp).encode()
            out.update(e[:k] for k in range(1, len(e)))
    return frozenset(out)


PREFIXES = _proper_prefixes()
COMPLETE, INCOMPLETE, INVALID = 0, 1, -1  # checked against the header below


@functools.cache
def _advance(pending: bytes | None, byte: int) -> bytes | None:
    """The unfinished character after one more byte (b"" between characters), or None
    once the text is invalid: a text is valid iff each of its characters is, so this
    pending tail is the whole state of a text. Built from Python's own encoder (PREFIXES)
    and strict decoder; the cache makes the exhaustive tests cheap."""
    if pending is None:
        return None
    tail = pending + bytes([byte])
    if tail in PREFIXES:
        return tail
    return b"" if strict_ok(tail) else None  # a whole character, or impossible


def _status(pending: bytes | None) -> int:
    return INVALID if pending is None else INCOMPLETE if pending else COMPLETE


def pending_after(data: bytes, pending: bytes | None = b"") -> bytes | None:
    for byte in data:
        pending = _advance(pending, byte)
    return pending


def statuses(data: bytes) -> list[int]:
    """The status after each prefix data[:i], for i = 0 .. len(data)."""
    out, pending = [COMPLETE], b""
    for byte in data:
        pending = _advance(pending, byte)
        out.append(_status(pending))
    return out


def strict_ok(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


# --- calling the C functions ----------------------------------------------------------


def new_state(ffi, lib):
    st = ffi.new("struct mg_utf8_state *")
    lib.mg_utf8_init(st)
    return st


def feed_parts(ffi, lib, parts: list[bytes]) -> list[int]:
    st = new_state(ffi, lib)
    return [lib.mg_utf8_feed(st, ffi.from_buffer(p), len(p)) for p in parts]


def check(ffi, lib, data: bytes, every_split: bool = True) -> None:
    """The result after each part equals the oracle's status at that offset."""
    want = statuses(data)
    assert (want[-1] == COMPLETE) == strict_ok(data), data.hex()
    assert lib.mg_utf8_valid(ffi.from_buffer(data), len(data)) == (want[-1] == COMPLETE)
    feeds = splits(data) if every_split else iter([[data], [bytes([b]) for b in data]])
    for parts in dict.fromkeys(map(tuple, feeds)):  # short texts repeat a feed
        got = feed_parts(ffi, lib, parts)
        ends = [sum(map(len, parts[: k + 1])) for k in range(len(parts))]
        assert got == [want[e] for e in ends], (data.hex(), [p.hex() for p in parts])


def test_header_constants(lib):
    assert (lib.MG_UTF8_COMPLETE, lib.MG_UTF8_INCOMPLETE, lib.MG_UTF8_INVALID) == (
        COMPLETE,
        INCOMPLETE,
        INVALID,
    )


def _incremental_decoder_fails_at(data: bytes) -> int | None:
    dec = codecs.getincrementaldecoder("utf-8")()
    for i in range(len(data)):
        try:
            dec.decode(data[i : i + 1])
        except UnicodeDecodeError:
            return i
    return None


def test_oracle_agrees_with_cpythons_incremental_decoder():
    """Fed byte by byte, CPython's decoder raises at the same byte as the oracle, with one
    known lag: it keeps ED A0..BF (a surrogate's first two bytes) pending and raises only
    at the third byte. The oracle fails at the A0..BF byte, as RFC 3629's table does."""
    rng = random.Random(1)
    texts = [
        bytes([a, b, c])
        for a in range(0x80, 0x100)
        for b in range(0x80, 0xC0, 7)
        for c in (0x41, 0x80, 0xBF, 0xC2)
    ]
    texts += [bytes(rng.randrange(256) for _ in range(6)) for _ in range(2000)]
    for data in texts:
        want = statuses(data)
        ours = want.index(INVALID) - 1 if INVALID in want else None
        cpython = _incremental_decoder_fails_at(data)
        if ours and data[ours - 1] == 0xED and 0xA0 <= data[ours] <= 0xBF:
            assert cpython in (ours, ours + 1, None), data.hex()  # the lag (None: text ends)
        else:
            assert cpython == ours, data.hex()


def test_oracle_knows_the_rfc_cases():
    """The oracle itself, on the cases RFC 3629 singles out."""
    assert statuses(b"\xed\xa0\x80") == [0, 1, -1, -1]  # U+D800: fails at A0
    assert statuses(b"\xe0\x80") == [0, 1, -1]  # overlong
    assert statuses(b"\xf4\x90") == [0, 1, -1]  # > U+10FFFF
    assert statuses(b"\xf0\x9f\x98\x80") == [0, 1, 1, 1, 0]
    assert statuses(b"a\x80b") == [0, 0, -1, -1]


# --- fixed cases ----------------------------------------------------------------------

CASES = [
    b"",
    b"plain ascii",
    b"\x00\x7f",
    b"\xc2\x80\xdf\xbf",  # U+0080, U+07FF
    b"\xe0\xa0\x80\xef\xbf\xbf",  # U+0800, U+FFFF
    b"\xed\x9f\xbf\xee\x80\x80",  # U+D7FF, U+E000
    b"\xf0\x90\x80\x80\xf4\x8f\xbf\xbf",  # U+10000, U+10FFFF
    "κόσμε, 中文, 😀".encode(),
    b"\xc0\x80",
    b"\xc1\xbf",
    b"\xe0\x9f\xbf",
    b"\xf0\x8f\xbf\xbf",
    b"\xed\xa0\x80",
    b"\xed\xbf\xbf",
    b"\xf4\x90\x80\x80",
    b"\xf5\x80\x80\x80",
    b"\xff",
    b"\xfe\xfe\xff\xff",
    b"ok\x80",
    b"\xe4\xb8\xad\x80",
    b"\xc2",
    b"\xe0\xa0",
    b"\xf0\x90\x80",
    b"\xf0\x90\x80A",
    b"\xc2\xc2\x80",
    b"abc\xed\xa0\x80def",
]


@pytest.mark.parametrize("data", CASES, ids=lambda d: d.hex() or "empty")
def test_fixed_cases(ffi, lib, data):
    check(ffi, lib, data)


def test_error_is_sticky_across_fragments(ffi, lib):
    st = new_state(ffi, lib)
    assert lib.mg_utf8_feed(st, b"caf\xc3", 4) == INCOMPLETE
    assert lib.mg_utf8_feed(st, b"\xa9 \xed", 3) == INCOMPLETE
    assert lib.mg_utf8_feed(st, b"\xa0", 1) == INVALID  # a surrogate, at its 2nd byte
    assert st.need == 0xFF
    assert lib.mg_utf8_feed(st, b"fine", 4) == INVALID
    assert lib.mg_utf8_feed(st, ffi.NULL, 0) == INVALID


def test_zero_filled_state_is_a_start(ffi, lib):
    st = ffi.new("struct mg_utf8_state *")  # cffi zero-fills
    assert lib.mg_utf8_feed(st, "é".encode(), 2) == COMPLETE
    assert lib.mg_utf8_feed(st, ffi.NULL, 0) == COMPLETE


# --- exhaustive and systematic --------------------------------------------------------


def test_every_1_and_2_byte_text(ffi, lib):
    for a in range(256):
        check(ffi, lib, bytes([a]))
        for b in range(256):
            check(ffi, lib, bytes([a, b]))


def _check_next_byte_rows(ffi, lib, prefixes) -> None:
    """For each prefix, the status after every possible next byte fed on its own: every
    text prefix + x for x in 0..255. mg's answers depend only on its state struct and the
    oracle's only on the pending character, so each row is computed once per distinct
    state (or pending tail) and compared for every prefix."""
    mg_rows: dict[tuple[int, int, int], tuple[int, ...]] = {}
    oracle_rows: dict[bytes | None, tuple[int, ...]] = {}
    for prefix in prefixes:
        st = new_state(ffi, lib)
        lib.mg_utf8_feed(st, prefix, len(prefix))
        key = (st.need, st.lo, st.hi)
        if key not in mg_rows:
            copies = [ffi.new("struct mg_utf8_state *", st[0]) for _ in range(256)]
            mg_rows[key] = tuple(lib.mg_utf8_feed(copies[x], bytes([x]), 1) for x in range(256))
        pending = pending_after(prefix)
        if pending not in oracle_rows:
            oracle_rows[pending] = tuple(_status(_advance(pending, x)) for x in range(256))
        assert mg_rows[key] == oracle_rows[pending], prefix.hex()


def test_every_3_byte_text_byte_by_byte(ffi, lib):
    _check_next_byte_rows(ffi, lib, (bytes([a, b]) for a in range(256) for b in range(256)))


# Byte values at the edges of the ranges RFC 3629 distinguishes, plus a few inside.
EDGES = bytes.fromhex("00 41 7f 80 8f 90 9f a0 bf c0 c1 c2 df e0 e1 ed ef f0 f1 f4 f5 ff")


def test_3_byte_texts_fed_whole(ffi, lib):
    """Fed whole, a text takes the whole-character path: every lead and second byte, and
    a third byte on each side of every range edge."""
    thirds = bytes.fromhex("41 7f 80 9f a0 bf c2 ff")
    for a in EDGES:
        for b in range(256):
            for c in thirds:
                data = bytes([a, b, c])
                assert feed_parts(ffi, lib, [data]) == [statuses(data)[-1]], data.hex()


def test_4_byte_texts_on_a_first_second_byte_grid(ffi, lib):
    """First and second byte sampled; third and fourth exhaustive (each fed on its own),
    then every F0-F7 lead with every second byte, fed whole and byte by byte."""
    firsts = bytes.fromhex("41 80 c2 e0 ed ef f0 f1 f3 f4 f5 ff")
    prefixes = (bytes([a, b, c]) for a in firsts for b in EDGES for c in range(256))
    _check_next_byte_rows(ffi, lib, prefixes)
    for a in range(0xF0, 0xF8):
        for b in range(256):
            for c, d in ((0x80, 0xBF), (0xBF, 0x80), (0x41, 0x80), (0x80, 0xC2)):
                check(ffi, lib, bytes([a, b, c, d]), every_split=False)


def test_every_code_point_in_one_text(ffi, lib):
    scalars = [*range(0xD800), *range(0xE000, 0x110000)]
    text = "".join(map(chr, scalars)).encode()
    assert lib.mg_utf8_valid(ffi.from_buffer(text), len(text)) == 1
    for size in (1460, 4093):  # splits that cut characters at every offset
        parts = [text[i : i + size] for i in range(0, len(text), size)]
        got = feed_parts(ffi, lib, parts)
        assert set(got[:-1]) <= {COMPLETE, INCOMPLETE} and got[-1] == COMPLETE


def test_every_surrogate_and_overlong_fails_at_its_second_byte(ffi, lib):
    """Each impossible 3- or 4-byte form is refused at its second byte, before the rest
    arrives: every surrogate and 3-byte overlong, and 4-byte overlongs and values above
    U+10FFFF (F4 90..BF) in steps."""
    bad = [chr(cp).encode("utf-8", "surrogatepass") for cp in range(0xD800, 0xE000)]
    bad += [bytes([0xE0, 0x80 | cp >> 6, 0x80 | cp & 63]) for cp in range(0x800)]
    bad += [
        bytes([0xF0, 0x80 | cp >> 12, 0x80 | cp >> 6 & 63, 0x80]) for cp in range(0, 1 << 16, 64)
    ]
    bad += [
        bytes([0xF4, 0x80 | cp >> 12 & 63, 0x80, 0x80]) for cp in range(0x110000, 0x140000, 4096)
    ]
    for data in bad:
        st = new_state(ffi, lib)
        assert lib.mg_utf8_feed(st, data[:1], 1) == INCOMPLETE, data.hex()
        assert lib.mg_utf8_feed(st, data[1:2], 1) == INVALID, data.hex()
        assert lib.mg_utf8_valid(data, len(data)) == 0


# --- random ---------------------------------------------------------------------------

SAMPLE_CHARS = "aZ0 ~\x00\x7f\x80é߿ࠀ中\ud7ff\ue000\uffff𐀀😀\U0010ffff"


def _random_text(rng: random.Random) -> bytes:
    if rng.random() < 0.4:  # raw bytes, biased to the non-ASCII half
        return bytes(
            rng.choice((rng.randrange(256), rng.randrange(0x80, 0x100)))
            for _ in range(rng.randrange(12))
        )
    chars = [
        rng.choice(SAMPLE_CHARS) if rng.random() < 0.5 else chr(rng.randrange(0x110000))
        for _ in range(rng.randrange(1, 8))
    ]
    data = bytearray("".join(chars).encode("utf-8", "surrogatepass"))  # may hold surrogates
    for _ in range(rng.choice((0, 0, 1, 2))):  # corruption
        op, i = rng.randrange(4), rng.randrange(len(data) + 1)
        if op == 0 and i < len(data):
            data[i] = rng.randrange(256)
        elif op == 1:
            data.insert(i, rng.randrange(0x80, 0x100))
        elif op == 2 and i < len(data):
            del data[i]
        else:
            del data[i:]
    return bytes(data)


def test_random_texts(ffi, lib):
    rng = random.Random(3629)
    seen = {COMPLETE: 0, INCOMPLETE: 0, INVALID: 0}
    for _ in range(2500):
        data = _random_text(rng)
        check(ffi, lib, data)
        seen[statuses(data)[-1]] += 1
    assert min(seen.values()) > 150, seen  # every outcome well represented


def test_reads_stay_inside_the_input(ffi, lib, guarded):
    """Inputs that end against an inaccessible page: the word-at-a-time ASCII loop must
    not load past the end, whatever the length and where the last character falls."""
    rng = random.Random(8)
    for n in range(0, 48):
        for tail in (b"", b"\xc3\xa9", b"\xe4\xb8", b"\x80"):
            data = bytes(rng.randrange(0x80) for _ in range(n)) + tail
            want = statuses(data)[-1]
            st = new_state(ffi, lib)
            assert lib.mg_utf8_feed(st, guarded(data), len(data)) == want
