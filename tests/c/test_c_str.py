"""mg_str and the C-string helpers through cffi: fixed cases from the reference, and
seeded random inputs checked against plain Python byte-string semantics (unsigned order,
ASCII-only case folding, NULs and high bytes as ordinary bytes)."""

from __future__ import annotations

import random

import pytest

WHITESPACE = b" \t\n\v\f\r"
# Bytes that probe every edge: NUL, case pairs, the bytes between 'Z' and 'a' (case-folding
# direction), whitespace, and bytes >= 0x80 (signedness).
ALPHABET = b"\0aAbBzZ_[@`~ \t\n\x7f\x80\xa0\xc4\xe4\xff"


class Strs:
    """Makes mg_str views over C memory that stays alive as long as this object."""

    def __init__(self, ffi, lib):
        self.ffi, self.lib, self._keep = ffi, lib, []

    def mem(self, b: bytes):
        buf = self.ffi.new("char[]", b)  # len(b) + 1 bytes, NUL-terminated
        self._keep.append(buf)
        return buf

    def __call__(self, b: bytes | None):
        if b is None:
            return self.lib.mg_mk_str_n(self.ffi.NULL, 0)
        return self.lib.mg_mk_str_n(self.mem(b), len(b))


@pytest.fixture
def s(ffi, lib):
    return Strs(ffi, lib)


def cmp(a: bytes, b: bytes) -> int:
    return (a > b) - (a < b)


def sign(x: int) -> int:
    return (x > 0) - (x < 0)


def ncasecmp_model(a: bytes, b: bytes, n: int) -> int:
    a, b = a.lower() + b"\0", b.lower() + b"\0"
    for i in range(min(n, len(a), len(b))):
        if a[i] != b[i] or a[i] == 0:
            return a[i] - b[i]
    return 0


def offset(ffi, p, base):
    if p == ffi.NULL:
        return None
    return int(ffi.cast("uintptr_t", p)) - int(ffi.cast("uintptr_t", base))


# ---------------------------------------------------------------------------------------
# fixed cases


def test_mk_str(ffi, lib):
    v = lib.mg_mk_str(ffi.NULL)
    assert v.p == ffi.NULL and v.len == 0
    text = ffi.new("char[]", b"hello")
    v = lib.mg_mk_str(text)
    assert v.p == text and v.len == 5
    v = lib.mg_mk_str_n(text, 3)
    assert v.p == text and v.len == 3


def test_vcmp_reference_examples(ffi, lib, s):
    aa = ffi.new("struct mg_str *", s(b"aa"))
    assert lib.mg_vcmp(aa, b"abb") < 0
    assert lib.mg_vcmp(aa, b"aa") == 0
    assert lib.mg_vcmp(aa, b"a") == 1
    assert lib.mg_vcmp(aa, b"aaaa") == -2
    abb = ffi.new("struct mg_str *", s(b"abb"))
    assert lib.mg_vcmp(abb, b"aa") > 0
    empty = ffi.new("struct mg_str *", s(None))
    assert lib.mg_vcmp(empty, b"") == 0
    assert lib.mg_vcmp(empty, b"xyz") == -3
    hi = ffi.new("struct mg_str *", s(b"HeLLo"))
    assert lib.mg_vcasecmp(hi, b"hello") == 0
    assert lib.mg_vcasecmp(hi, b"HELL") == 1
    assert lib.mg_vcasecmp(hi, b"help") < 0
    under = ffi.new("struct mg_str *", s(b"_"))
    assert lib.mg_vcasecmp(under, b"A") < 0  # folds to lower case


def test_strcmp_exact_values(lib, s):
    cases = [
        (b"a", b"z", -1), (b"z", b"a", 1), (b"abc", b"abc", 0), (b"ab", b"abc", -1),
        (b"abc", b"ab", 1), (b"", b"", 0), (None, b"", 0), (None, b"a", -1),
        (b"\x80", b"\x7f", 1), (b"z", b"\xff", -1), (b"a\0b", b"a\0c", -1), (b"a\0", b"a", 1),
    ]
    for a, b, want in cases:
        assert lib.mg_strcmp(s(a), s(b)) == want, (a, b)
    assert lib.mg_strcasecmp(s(b"ABC"), s(b"abc")) == 0
    assert lib.mg_strcasecmp(s(b"_"), s(b"A")) == -1
    assert lib.mg_strcasecmp(s(b"\xc4"), s(b"\xe4")) == -1  # no folding beyond ASCII
    assert lib.mg_strncmp(s(b"abcdef"), s(b"abcxyz"), 3) == 0
    assert lib.mg_strncmp(s(b"abcdef"), s(b"abcxyz"), 4) == -1
    assert lib.mg_strncmp(s(b"ab"), s(b"abc"), 3) == -1
    assert lib.mg_strncmp(s(b"abc"), s(b"xyz"), 0) == 0


def test_strdup_and_free(ffi, lib, s):
    src = s(b"hel\0lo")
    d = lib.mg_strdup(src)
    assert d.p != ffi.NULL and d.p != src.p and d.len == 6
    assert ffi.buffer(d.p, 6)[:] == b"hel\0lo"
    box = ffi.new("struct mg_str *", d)
    lib.mg_strfree(box)
    assert box.p == ffi.NULL and box.len == 0
    lib.mg_strfree(box)
    d = lib.mg_strdup_nul(src)
    assert d.len == 6 and ffi.buffer(d.p, 7)[:] == b"hel\0lo\0"
    lib.mg_strfree(ffi.new("struct mg_str *", d))
    for empty in (b"", None):
        for fn in (lib.mg_strdup, lib.mg_strdup_nul):
            d = fn(s(empty))
            assert d.p == ffi.NULL and d.len == 0


def test_strstr_cases(ffi, lib, s):
    def find(h, n):
        hv = s(h)
        return offset(ffi, lib.mg_strstr(hv, s(n)), hv.p)

    assert find(b"hello world", b"") == 0
    assert find(b"hello world", b"world") == 6
    assert find(b"hello world", b"hello world!") is None
    assert find(b"hello world", b"worlds") is None
    assert find(b"aaab", b"aab") == 1
    assert find(b"abababc", b"ababc") == 2
    assert find(b"a\0b\0c", b"\0c") == 3
    assert find(b"", b"x") is None
    hv = s(b"hello world")
    hv.len = 10
    assert lib.mg_strstr(hv, s(b"world")) == ffi.NULL  # the bound is respected


def test_c_strnstr_bound(ffi, lib, s):
    text = s.mem(b"hello world")
    assert offset(ffi, lib.c_strnstr(text, b"world", 11), text) == 6
    assert lib.c_strnstr(text, b"world", 10) == ffi.NULL
    assert offset(ffi, lib.c_strnstr(text, b"worl", 10), text) == 6
    assert offset(ffi, lib.c_strnstr(text, b"", 0), text) == 0
    assert lib.c_strnstr(text, b"h", 0) == ffi.NULL
    nul = s.mem(b"ab\0cd")
    assert lib.c_strnstr(nul, b"cd", 5) == ffi.NULL  # a NUL ends the C string
    # exactly slen bytes, no terminator in reach: nothing read beyond
    raw = lib.malloc(4)
    try:
        ffi.memmove(raw, b"abcd", 4)
        raw = ffi.cast("char *", raw)
        assert offset(ffi, lib.c_strnstr(raw, b"cd", 4), raw) == 2
        assert lib.c_strnstr(raw, b"d", 3) == ffi.NULL
    finally:
        lib.free(raw)


def test_strstrip_and_starts_with(ffi, lib, s):
    v = lib.mg_strstrip(s(b" \t\r\n\v\fab c \n"))
    assert ffi.buffer(v.p, v.len)[:] == b"ab c"
    assert lib.mg_strstrip(s(b"   ")).len == 0
    assert lib.mg_strstrip(s(None)).len == 0
    v = lib.mg_strstrip(s(b"\xa0x\x85"))
    assert ffi.buffer(v.p, v.len)[:] == b"\xa0x\x85"
    assert lib.mg_str_starts_with(s(b"hello"), s(b"he")) == 1
    assert lib.mg_str_starts_with(s(b"he"), s(b"hello")) == 0
    assert lib.mg_str_starts_with(s(b"x"), s(b"")) == 1
    assert lib.mg_str_starts_with(s(None), s(None)) == 1


def test_ncasecmp_casecmp(ffi, lib):
    assert lib.mg_ncasecmp(b"Hello", b"hELLo", 5) == 0
    assert lib.mg_ncasecmp(b"abc", b"abd", 2) == 0
    assert lib.mg_ncasecmp(b"abc", b"abd", 3) < 0
    assert lib.mg_ncasecmp(b"abc", b"ab", 3) > 0
    assert lib.mg_ncasecmp(b"ab", b"AB", 1000) == 0
    assert lib.mg_ncasecmp(b"\x80", b"a", 1) > 0
    assert lib.mg_casecmp(b"HTTP/1.1", b"http/1.1") == 0
    assert lib.mg_casecmp(b"_", b"a") < 0


# ---------------------------------------------------------------------------------------
# mg_asprintf


@pytest.fixture
def printer(ffi, lib):
    """Calls mg_asprintf into a 5-byte caller buffer; returns (result, text, on_heap)."""

    def run(fmt: bytes, *args, size: int = 5):
        mem = ffi.new("char[]", max(size, 1))
        box = ffi.new("char **", mem if size else ffi.NULL)
        cargs = [ffi.new("char[]", a) if isinstance(a, bytes) else a for a in args]
        n = lib.mg_asprintf(box, size, fmt, *cargs)
        if box[0] == ffi.NULL:
            return n, None, False
        on_heap = box[0] != mem
        text = ffi.string(box[0])
        if on_heap:
            lib.free(box[0])
        return n, text, on_heap

    return run


def test_asprintf_reference(ffi, printer):
    assert printer(b"%d", ffi.cast("int", 123)) == (3, b"123", False)
    assert printer(b"%d", ffi.cast("int", 123456789)) == (9, b"123456789", True)


def test_asprintf_fit_edges(ffi, printer):
    assert printer(b"%s", b"abcd") == (4, b"abcd", False)  # 4 + NUL fits 5 exactly
    assert printer(b"%s", b"abcde") == (5, b"abcde", True)  # one too long
    assert printer(b"%s", b"") == (0, b"", False)
    assert printer(b"x=%d", ffi.cast("int", 7), size=0) == (3, b"x=7", True)
    n, text, heap = printer(b"%s|%d", b"y" * 5000, ffi.cast("int", -1))
    assert (n, text, heap) == (5003, b"y" * 5000 + b"|-1", True)
    for size in range(1, 12):
        n, text, heap = printer(b"%s", b"0123456789", size=size)
        assert (n, text) == (10, b"0123456789")
        assert heap == (size <= 10)


def test_asprintf_format_error_leaves_buffer(ffi, lib):
    mem = ffi.new("char[5]")
    box = ffi.new("char **", mem)
    # a lone surrogate has no multibyte form in the C or a UTF-8 locale: EILSEQ
    wide = ffi.new("int32_t[]", [0xD800, 0])
    assert ffi.sizeof("wchar_t") == 4
    assert lib.mg_asprintf(box, 5, b"%ls", ffi.cast("wchar_t *", wide)) == -1
    assert box[0] == mem


# ---------------------------------------------------------------------------------------
# seeded random comparisons against Python semantics


def rand_bytes(rng: random.Random, alphabet: bytes = ALPHABET, hi: int = 8) -> bytes:
    return bytes(rng.choice(alphabet) for _ in range(rng.randrange(hi + 1)))


def test_random_comparisons(lib, s):
    rng = random.Random(20240601)
    for _ in range(3000):
        a = rand_bytes(rng)
        if rng.random() < 0.5:  # often sharing a prefix
            b = a[: rng.randrange(len(a) + 1)] + rand_bytes(rng, hi=3)
        else:
            b = rand_bytes(rng)
        if rng.random() < 0.2:  # the same text with the case of its letters swapped
            b = bytes(c ^ 0x20 if chr(c).isalpha() and c < 0x80 else c for c in a)
        n = rng.randrange(10)
        assert lib.mg_strcmp(s(a), s(b)) == cmp(a, b), (a, b)
        assert lib.mg_strcasecmp(s(a), s(b)) == cmp(a.lower(), b.lower()), (a, b)
        assert lib.mg_strncmp(s(a), s(b), n) == cmp(a[:n], b[:n]), (a, b, n)
        assert lib.mg_str_starts_with(s(a), s(b)) == int(a.startswith(b)), (a, b)


def test_random_vcmp(ffi, lib, s):
    rng = random.Random(7)
    for _ in range(3000):
        a = rand_bytes(rng)
        if rng.random() < 0.6:
            c = rand_bytes(rng, ALPHABET.replace(b"\0", b""))
        else:  # a prefix-related C string
            c = a.replace(b"\0", b"")[: rng.randrange(len(a) + 1)]
        view = ffi.new("struct mg_str *", s(a))
        for fn, fold in ((lib.mg_vcmp, bytes), (lib.mg_vcasecmp, bytes.lower)):
            got = fn(view, c)
            common = min(len(a), len(c))
            if fold(a[:common]) == fold(c[:common]):
                assert got == len(a) - len(c), (a, c)
            else:
                assert sign(got) == cmp(fold(a[:common]), fold(c[:common])), (a, c)


def test_random_search(ffi, lib, s):
    rng = random.Random(99)
    small = b"ab\0\xff"
    for _ in range(3000):
        h = rand_bytes(rng, small, 12)
        if h and rng.random() < 0.5:
            i = rng.randrange(len(h))
            n = h[i : i + rng.randrange(1, 5)]
        else:
            n = rand_bytes(rng, small, 4)
        hv = s(h)
        got = offset(ffi, lib.mg_strstr(hv, s(n)), hv.p)
        want = h.find(n)
        assert got == (None if want < 0 else want), (h, n)
        c = rng.choice(small)
        got = offset(ffi, lib.mg_strchr(hv, c), hv.p)
        want = h.find(bytes([c]))
        assert got == (None if want < 0 else want), (h, c)
        # c_strnstr: `find` is a C string; `s` is searched up to slen bytes or a NUL
        find = n.split(b"\0")[0]
        slen = rng.randrange(len(h) + 2)  # the +1 reaches the terminator of the copy
        mem = hv.p
        got = offset(ffi, lib.c_strnstr(mem, find, slen), mem)
        hay = (h + b"\0")[:slen].split(b"\0")[0]
        want = hay.find(find)
        assert got == (None if want < 0 else want), (h, find, slen)


def test_random_strip_and_case(ffi, lib, s):
    rng = random.Random(5)
    ws = WHITESPACE + b"x\0\xa0\x85"
    for _ in range(2000):
        a = rand_bytes(rng, ws, 8)
        v = lib.mg_strstrip(s(a))
        assert (ffi.buffer(v.p, v.len)[:] if v.len else b"") == a.strip(WHITESPACE), a
        x = rand_bytes(rng, ALPHABET.replace(b"\0", b""))
        y = rand_bytes(rng, ALPHABET.replace(b"\0", b""))
        n = rng.randrange(12)
        assert lib.mg_ncasecmp(x, y, n) == ncasecmp_model(x, y, n), (x, y, n)
        assert sign(lib.mg_casecmp(x, y)) == sign(ncasecmp_model(x, y, 1 << 30)), (x, y)
