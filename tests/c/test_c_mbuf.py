"""mbuf through cffi: each operation and its edges, the exact growth policy, allocation
failures, and seeded random operation sequences checked against a model that predicts the
contents, the length and the exact allocation size."""

from __future__ import annotations

import random

import pytest


@pytest.fixture(autouse=True)
def _no_leaks(lib):
    """Every test releases every block it had the mbuf allocator make."""
    before = lib.mgio_test_alloc_live()
    yield
    assert lib.mgio_test_alloc_live() == before


@pytest.fixture
def size_max(ffi):
    return (1 << (8 * ffi.sizeof("size_t"))) - 1


@pytest.fixture
def headroom(lib):
    return lib.MBUF_SIZE_MAX_HEADROOM


def new_mbuf(ffi, lib, capacity=0):
    m = ffi.new("struct mbuf *")
    lib.mbuf_init(m, capacity)
    return m


def data(ffi, m) -> bytes:
    assert m.len <= m.size
    return ffi.buffer(m.buf, m.len)[:] if m.len else b""


def state(ffi, m):
    """Everything a failed operation must leave alone."""
    return (m.buf, m.len, m.size, data(ffi, m))


def heap_block(ffi, lib, payload: bytes):
    """A block of exactly len(payload) bytes from the mbuf allocator (so the live-block
    count stays balanced when an mbuf frees or adopts it), holding `payload`."""
    tmp = new_mbuf(ffi, lib, len(payload))
    assert tmp.buf != ffi.NULL
    ffi.memmove(tmp.buf, payload, len(payload))
    block = tmp.buf
    tmp.buf, tmp.len, tmp.size = ffi.NULL, 0, 0
    return block


def failure_pending(ffi, lib, k: int = 1) -> bool:
    """True when a failure injected with fail_at(k) has not fired yet (fewer than k
    allocations happened since). Consumes it and leaves failures off."""
    pending = False
    for _ in range(k):
        probe = new_mbuf(ffi, lib, 1)
        pending = probe.buf == ffi.NULL
        lib.mbuf_free(probe)
        if pending:
            break
    lib.mgio_test_alloc_fail_at(0)
    return pending


def grown(needed: int, headroom: int) -> int:
    extra = needed // 2
    if extra > headroom:  # capped, but never below an eighth: geometric for large buffers
        extra = max(headroom, needed // 8)
    return needed + extra


# ---------------------------------------------------------------------------------------
# init / free


def test_init_zero_allocates_nothing(ffi, lib):
    lib.mgio_test_alloc_fail_at(1)
    m = new_mbuf(ffi, lib, 0)
    assert failure_pending(ffi, lib)
    assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)


@pytest.mark.parametrize("n", [1, 7, 100, 65536])
def test_init_exact_capacity(ffi, lib, n):
    live = lib.mgio_test_alloc_live()
    m = new_mbuf(ffi, lib, n)
    assert m.buf != ffi.NULL and m.len == 0 and m.size == n
    assert lib.mgio_test_alloc_live() == live + 1
    lib.mbuf_free(m)
    assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)
    lib.mbuf_free(m)  # twice is fine
    assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)


def test_init_failure_and_huge(ffi, lib, size_max):
    lib.mgio_test_alloc_fail_at(1)
    m = new_mbuf(ffi, lib, 64)
    assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)
    lib.mgio_test_alloc_fail_at(1)
    m = new_mbuf(ffi, lib, size_max)
    assert failure_pending(ffi, lib)
    assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)


# ---------------------------------------------------------------------------------------
# growth


def test_growth_sizes(ffi, lib, headroom):
    m = new_mbuf(ffi, lib)
    total = b""
    for chunk in [1, 1, 2, 5, 13, 100, 1000, 20000, 3, 50000]:
        payload = bytes([len(total) % 251]) * chunk
        needed = len(total) + chunk
        expected = m.size if needed <= m.size else grown(needed, headroom)
        assert lib.mbuf_append(m, payload, chunk) == chunk
        total += payload
        assert m.size == expected
        assert data(ffi, m) == total
    lib.mbuf_free(m)


def test_growth_caps_headroom(ffi, lib, headroom):
    m = new_mbuf(ffi, lib)
    assert lib.mbuf_append(m, ffi.NULL, 4 * headroom) == 4 * headroom
    assert m.size == 5 * headroom
    lib.mbuf_free(m)
    assert lib.mbuf_append(m, ffi.NULL, 2 * headroom) == 2 * headroom
    assert m.size == 3 * headroom
    lib.mbuf_free(m)


@pytest.mark.parametrize("needed", [8 * 8192 - 8, 8 * 8192, 8 * 8192 + 8, 1 << 20, 5 << 20])
def test_large_growth_stays_geometric(ffi, lib, headroom, needed):
    """Above 64 KiB the headroom is an eighth of the size, so appends stay amortised O(1)."""
    m = new_mbuf(ffi, lib)
    assert lib.mbuf_append(m, ffi.NULL, needed) == needed
    assert m.size == needed + max(headroom, needed // 8)
    lib.mbuf_free(m)


def test_growth_falls_back_to_exact(ffi, lib):
    m = new_mbuf(ffi, lib)
    lib.mgio_test_alloc_fail_at(1)
    assert lib.mbuf_append(m, b"0123456789", 10) == 10
    assert m.size == 10 and data(ffi, m) == b"0123456789"
    lib.mgio_test_alloc_fail_at(1)
    assert lib.mbuf_insert(m, 0, b"ab", 2) == 2
    assert m.size == 12 and data(ffi, m) == b"ab0123456789"
    lib.mgio_test_alloc_fail_at(1)
    assert lib.mbuf_reserve(m, 8) == 1
    assert m.size == 20 and data(ffi, m) == b"ab0123456789"
    lib.mbuf_free(m)


def test_no_fallback_without_headroom(ffi, lib):
    m = new_mbuf(ffi, lib)
    for call in (
        lambda: lib.mbuf_append(m, b"x", 1),
        lambda: lib.mbuf_insert(m, 0, b"x", 1),
        lambda: lib.mbuf_append(m, ffi.NULL, 1),
        lambda: lib.mbuf_reserve(m, 1),
    ):
        lib.mgio_test_alloc_fail_at(1)
        assert call() == 0
        assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)
    lib.mgio_test_alloc_fail_at(0)


def test_fits_without_realloc(ffi, lib):
    m = new_mbuf(ffi, lib, 16)
    buf = m.buf
    lib.mgio_test_alloc_fail_at(1)
    assert lib.mbuf_append(m, b"abcdef", 6) == 6
    assert lib.mbuf_insert(m, 3, b"XYZ", 3) == 3
    assert lib.mbuf_reserve(m, 7) == 1
    assert failure_pending(ffi, lib)
    assert m.buf == buf and m.size == 16 and data(ffi, m) == b"abcXYZdef"
    lib.mbuf_free(m)


def test_huge_requests_refused_without_allocating(ffi, lib, size_max):
    m = new_mbuf(ffi, lib)
    lib.mgio_test_alloc_fail_at(1)
    assert lib.mbuf_append(m, ffi.NULL, size_max) == 0
    assert lib.mbuf_insert(m, 0, ffi.NULL, size_max) == 0
    assert lib.mbuf_reserve(m, size_max) == 0
    assert lib.mbuf_append(m, ffi.NULL, size_max // 2 + 1) == 0
    lib.mbuf_resize(m, size_max)
    assert failure_pending(ffi, lib)
    assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)

    assert lib.mbuf_append(m, b"abc", 3) == 3
    before = state(ffi, m)
    lib.mgio_test_alloc_fail_at(1)
    for n in (size_max, size_max - m.len + 1, size_max - m.len):
        assert lib.mbuf_append(m, ffi.NULL, n) == 0
        assert lib.mbuf_insert(m, 1, ffi.NULL, n) == 0
        assert lib.mbuf_reserve(m, n) == 0
        lib.mbuf_resize(m, n)
    assert failure_pending(ffi, lib)
    assert state(ffi, m) == before
    lib.mbuf_free(m)


# ---------------------------------------------------------------------------------------
# insert / append


def test_insert_positions(ffi, lib):
    m = new_mbuf(ffi, lib)
    assert lib.mbuf_insert(m, 0, b"world", 5) == 5
    assert lib.mbuf_insert(m, 0, b"hello", 5) == 5
    assert lib.mbuf_insert(m, 5, b", ", 2) == 2
    assert lib.mbuf_insert(m, m.len, b"!", 1) == 1
    assert data(ffi, m) == b"hello, world!"
    before = state(ffi, m)
    assert lib.mbuf_insert(m, m.len + 1, b"?", 1) == 0
    assert lib.mbuf_insert(m, 3, b"", 0) == 0
    assert state(ffi, m) == before
    assert lib.mbuf_insert(m, 5, ffi.NULL, 3) == 3  # a reserved gap
    ffi.memmove(m.buf + 5, b"___", 3)
    assert data(ffi, m) == b"hello___, world!"
    lib.mbuf_free(m)


def test_append_from_itself(ffi, lib):
    m = new_mbuf(ffi, lib)
    assert lib.mbuf_append(m, b"abcdef", 6) == 6
    lib.mbuf_trim(m)
    assert lib.mbuf_append(m, m.buf, m.len) == 6  # reallocates while reading itself
    assert data(ffi, m) == b"abcdefabcdef"
    assert lib.mbuf_insert(m, 2, m.buf + 6, 6) == 6
    assert data(ffi, m) == b"ababcdefcdefabcdef"
    assert lib.mbuf_insert(m, 4, m.buf + 1, 5) == 5
    assert data(ffi, m) == b"ababbabcdcdefcdefabcdef"
    lib.mbuf_free(m)


@pytest.mark.parametrize("capacity", [8, 64])
def test_insert_from_itself_everywhere(ffi, lib, capacity):
    base = b"abcdefgh"
    for off in range(len(base) + 1):
        for src in range(len(base)):
            for n in range(1, len(base) - src + 1):
                m = new_mbuf(ffi, lib, capacity)
                lib.mbuf_append(m, base, len(base))
                assert lib.mbuf_insert(m, off, m.buf + src, n) == n
                piece = base[src : src + n]
                assert data(ffi, m) == base[:off] + piece + base[off:], (off, src, n)
                lib.mbuf_free(m)


# ---------------------------------------------------------------------------------------
# remove / resize / trim / clear / move / reserve


def test_remove(ffi, lib, size_max):
    m = new_mbuf(ffi, lib)
    lib.mbuf_remove(m, 1)
    lib.mbuf_append(m, b"0123456789", 10)
    buf, size = m.buf, m.size
    for n in (0, 11, size_max):
        lib.mbuf_remove(m, n)
        assert data(ffi, m) == b"0123456789"
    lib.mbuf_remove(m, 4)
    assert data(ffi, m) == b"456789"
    lib.mbuf_remove(m, 6)
    assert m.len == 0 and m.buf == buf and m.size == size
    lib.mbuf_free(m)


def test_resize_trim_clear(ffi, lib):
    m = new_mbuf(ffi, lib)
    lib.mbuf_resize(m, 0)
    assert (m.buf, m.size) == (ffi.NULL, 0)
    lib.mbuf_resize(m, 40)
    assert m.size == 40
    lib.mbuf_append(m, b"abcdefghij", 10)
    for below in (0, 5, 9):
        lib.mbuf_resize(m, below)
        assert m.size == 40 and data(ffi, m) == b"abcdefghij"
    lib.mbuf_resize(m, 12)
    assert m.size == 12
    lib.mbuf_trim(m)
    assert m.size == 10 and data(ffi, m) == b"abcdefghij"
    buf = m.buf
    lib.mbuf_clear(m)
    assert m.len == 0 and m.buf == buf and m.size == 10
    lib.mbuf_trim(m)
    assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)
    lib.mbuf_resize(m, 5)
    lib.mbuf_resize(m, 0)
    assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)


def test_resize_and_trim_failure_unchanged(ffi, lib):
    m = new_mbuf(ffi, lib)
    lib.mbuf_append(m, b"hello world", 11)
    before = state(ffi, m)
    for call in (lambda: lib.mbuf_trim(m), lambda: lib.mbuf_resize(m, 999),
                 lambda: lib.mbuf_resize(m, 12)):
        lib.mgio_test_alloc_fail_at(1)
        call()
        assert state(ffi, m) == before
    lib.mgio_test_alloc_fail_at(0)
    lib.mbuf_free(m)


def test_move(ffi, lib):
    a = new_mbuf(ffi, lib)
    b = new_mbuf(ffi, lib)
    lib.mbuf_append(a, b"payload", 7)
    before = state(ffi, a)
    lib.mbuf_move(a, b)
    assert (a.buf, a.len, a.size) == (ffi.NULL, 0, 0)
    assert state(ffi, b) == before
    lib.mbuf_move(b, b)  # onto itself: nothing lost
    assert state(ffi, b) == before
    lib.mbuf_free(b)


def test_reserve_then_commit(ffi, lib):
    m = new_mbuf(ffi, lib)
    assert lib.mbuf_reserve(m, 0) == 1 and m.buf == ffi.NULL
    assert lib.mbuf_reserve(m, 10) == 1 and m.size == 15 and m.len == 0
    ffi.memmove(m.buf, b"abc", 3)
    m.len = 3
    assert lib.mbuf_reserve(m, 12) == 1 and m.size == 15
    assert lib.mbuf_reserve(m, 13) == 1 and m.size == 24
    assert data(ffi, m) == b"abc"
    lib.mbuf_free(m)


# ---------------------------------------------------------------------------------------
# append_and_free


def test_append_and_free_adopts_when_empty(ffi, lib):
    live = lib.mgio_test_alloc_live()
    m = new_mbuf(ffi, lib, 50)
    lib.mbuf_append(m, b"junk", 4)
    lib.mbuf_clear(m)
    block = heap_block(ffi, lib, b"adopted")
    lib.mgio_test_alloc_fail_at(1)
    assert lib.mbuf_append_and_free(m, block, 7) == 7
    assert failure_pending(ffi, lib)  # adoption allocates nothing
    assert m.buf == block and m.len == 7 and m.size == 7
    assert data(ffi, m) == b"adopted"
    assert lib.mgio_test_alloc_live() == live + 1  # the old storage was released
    lib.mbuf_free(m)


def test_append_and_free_appends_then_frees(ffi, lib):
    live = lib.mgio_test_alloc_live()
    m = new_mbuf(ffi, lib)
    lib.mbuf_append(m, b"x", 1)
    block = heap_block(ffi, lib, b"yz")
    lib.mgio_test_alloc_fail_at(1)  # preferred 4 fails, exact 3 succeeds
    assert lib.mbuf_append_and_free(m, block, 2) == 2
    assert m.buf != block and m.size == 3 and data(ffi, m) == b"xyz"
    assert lib.mgio_test_alloc_live() == live + 1
    lib.mbuf_free(m)


def test_append_and_free_failure_still_frees(ffi, lib, size_max):
    m = new_mbuf(ffi, lib)
    lib.mbuf_append(m, b"keep", 4)
    before = state(ffi, m)
    block = heap_block(ffi, lib, b"z")
    assert lib.mbuf_append_and_free(m, block, size_max - 1) == 0  # refused, freed
    assert state(ffi, m) == before
    block = heap_block(ffi, lib, b"z")
    assert lib.mbuf_append_and_free(m, block, 0) == 0  # nothing to add, freed
    assert state(ffi, m) == before
    lib.mbuf_free(m)
    # an empty mbuf: a zero-size block is freed and the allocation kept
    m = new_mbuf(ffi, lib, 8)
    before = state(ffi, m)
    assert lib.mbuf_append_and_free(m, heap_block(ffi, lib, b"q"), 0) == 0
    assert state(ffi, m) == before
    lib.mbuf_free(m)


def test_append_and_free_null(ffi, lib):
    m = new_mbuf(ffi, lib)
    assert lib.mbuf_append_and_free(m, ffi.NULL, 0) == 0
    assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)
    lib.mgio_test_alloc_fail_at(1)
    assert lib.mbuf_append_and_free(m, ffi.NULL, 1) == 0  # a 1-byte growth with no fallback
    assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)
    assert lib.mbuf_append_and_free(m, ffi.NULL, 3) == 3
    assert m.len == 3
    lib.mbuf_free(m)


# ---------------------------------------------------------------------------------------
# Model-based random sequences. The model predicts contents, len and the exact size,
# including which allocation attempt an injected failure hits.


class Model:
    def __init__(self, headroom: int):
        self.data = bytearray()
        self.size = 0
        self.headroom = headroom
        self.countdown = 0  # mirrors mgio_test_alloc_fail_at

    def attempt(self) -> bool:
        """One allocation attempt; False when it is the injected failure."""
        if self.countdown > 0:
            self.countdown -= 1
            if self.countdown == 0:
                return False
        return True

    def grow(self, extra: int) -> bool:
        needed = len(self.data) + extra
        if needed <= self.size:
            return True
        preferred = grown(needed, self.headroom)
        if self.attempt():
            self.size = preferred
            return True
        if preferred != needed and self.attempt():
            self.size = needed
            return True
        return False

    def resize(self, n: int) -> None:
        if n < len(self.data):
            return
        if n == 0:
            self.size = 0
        elif n != self.size and self.attempt():
            self.size = n


def random_payload(rng: random.Random, n: int) -> bytes:
    return rng.randbytes(n)


def one_sequence(ffi, lib, rng: random.Random, steps: int, headroom: int) -> None:
    md = Model(headroom)
    m = new_mbuf(ffi, lib)
    spare = new_mbuf(ffi, lib)
    try:
        for _ in range(steps):
            fail = rng.choice((0, 0, 0, 0, 1, 1, 2))
            lib.mgio_test_alloc_fail_at(fail)
            md.countdown = fail
            op = rng.randrange(14)
            length = len(md.data)
            n = rng.choice((0, 1, 2, 3, rng.randrange(1, 64), rng.randrange(1, 3000)))
            if op <= 2:  # append
                payload = random_payload(rng, n)
                ok = n > 0 and md.grow(n)
                got = lib.mbuf_append(m, payload, n)
                assert got == (n if ok else 0)
                if ok:
                    md.data += payload
            elif op == 3:  # append NULL, then fill the gap
                ok = n > 0 and md.grow(n)
                got = lib.mbuf_append(m, ffi.NULL, n)
                assert got == (n if ok else 0)
                if ok:
                    payload = random_payload(rng, n)
                    ffi.memmove(m.buf + length, payload, n)
                    md.data += payload
            elif op <= 5:  # insert, sometimes past the end
                off = rng.randrange(length + 2)
                payload = random_payload(rng, n)
                ok = n > 0 and off <= length and md.grow(n)
                got = lib.mbuf_insert(m, off, payload, n)
                assert got == (n if ok else 0)
                if ok:
                    md.data[off:off] = payload
            elif op == 6 and length > 0:  # insert or append a slice of itself
                src = rng.randrange(length)
                cnt = rng.randrange(1, length - src + 1)
                off = rng.choice((length, rng.randrange(length + 1)))
                piece = bytes(md.data[src : src + cnt])
                ok = md.grow(cnt)
                got = lib.mbuf_insert(m, off, m.buf + src, cnt)
                assert got == (cnt if ok else 0)
                if ok:
                    md.data[off:off] = piece
            elif op == 7:  # remove, sometimes more than len
                k = rng.choice((0, rng.randrange(length + 1), length, length + 1))
                lib.mbuf_remove(m, k)
                if 0 < k <= length:
                    del md.data[:k]
            elif op == 8:  # resize anywhere around len and size
                target = rng.choice((0, length, md.size, rng.randrange(2 * md.size + 10)))
                md.resize(target)
                lib.mbuf_resize(m, target)
            elif op == 9:
                md.resize(length)
                lib.mbuf_trim(m)
            elif op == 10:
                lib.mbuf_clear(m)
                md.data.clear()
            elif op == 11:
                ok = md.grow(n)
                assert lib.mbuf_reserve(m, n) == int(ok)
            elif op == 12 and n > 0:  # append_and_free (the block is made before failures)
                lib.mgio_test_alloc_fail_at(0)
                payload = random_payload(rng, n)
                block = heap_block(ffi, lib, payload)
                lib.mgio_test_alloc_fail_at(fail)
                if length == 0:  # adopted: no allocation
                    ok = True
                    md.size = n
                else:
                    ok = md.grow(n)
                got = lib.mbuf_append_and_free(m, block, n)
                assert got == (n if ok else 0)
                if ok:
                    md.data += payload
            elif op == 13:  # move away and back
                buf = m.buf
                lib.mbuf_move(m, spare)
                assert (m.buf, m.len, m.size) == (ffi.NULL, 0, 0)
                assert spare.buf == buf
                lib.mbuf_move(spare, m)
            lib.mgio_test_alloc_fail_at(0)
            assert m.len == len(md.data)
            assert m.size == md.size
            assert (m.buf == ffi.NULL) == (m.size == 0)
            assert data(ffi, m) == md.data
    finally:
        lib.mgio_test_alloc_fail_at(0)
        lib.mbuf_free(m)
        lib.mbuf_free(spare)


def test_random_sequences_match_model(ffi, lib, headroom):
    for seed in range(200):
        one_sequence(ffi, lib, random.Random(seed), 200, headroom)


def test_long_random_sequences_past_headroom_cap(ffi, lib, headroom):
    """Long sequences that grow past the headroom cap."""
    for seed in range(1000, 1010):
        one_sequence(ffi, lib, random.Random(seed), 1000, headroom)


# ---------------------------------------------------------------------------------------
# Allocation failure at every point of a fixed script.


SCRIPT = [
    ("append", b"abc"), ("append", b"defgh"), ("insert", 2, b"XY"), ("append_self", 1, 4),
    ("trim",), ("append", b"!"), ("reserve", 40), ("append", b"z" * 30), ("resize", 300),
    ("resize", 5), ("append_and_free", b"block"), ("insert", 0, b"H" * 3000),
    ("remove", 2000), ("clear",), ("append_and_free", b"adopt me"), ("append", b"1" * 100),
    ("trim",), ("insert_self", 10, 20, 30), ("remove", 50), ("remove", 10**6), ("trim",),
    ("clear",), ("resize", 0), ("append", b"m"), ("append", b"n"),
]


def run_script(ffi, lib, fail_at: int) -> tuple[bytes, bool]:
    """Runs SCRIPT with allocation `fail_at` failing; returns the final contents and whether
    the failure fired. Every step must either take effect or leave the mbuf unchanged."""
    model = bytearray()
    m = new_mbuf(ffi, lib)
    lib.mgio_test_alloc_fail_at(fail_at)
    try:
        for step in SCRIPT:
            before = state(ffi, m)
            name = step[0]
            if name == "append":
                ok = lib.mbuf_append(m, step[1], len(step[1])) == len(step[1])
                if ok:
                    model += step[1]
            elif name == "insert":
                ok = lib.mbuf_insert(m, step[1], step[2], len(step[2])) == len(step[2])
                if ok:
                    model[step[1] : step[1]] = step[2]
            elif name in ("append_self", "insert_self"):
                off, src, cnt = (len(model), *step[1:]) if name == "append_self" else step[1:]
                off, src = min(off, len(model)), min(src, len(model) - 1)
                cnt = min(cnt, len(model) - src)
                piece = bytes(model[src : src + cnt])
                ok = lib.mbuf_insert(m, off, m.buf + src, cnt) == cnt
                if ok:
                    model[off:off] = piece
            elif name == "append_and_free":
                # the block comes from the same allocator and may be the one that fails
                tmp = new_mbuf(ffi, lib, len(step[1]))
                if tmp.buf == ffi.NULL:
                    continue
                ffi.memmove(tmp.buf, step[1], len(step[1]))
                block, tmp.buf, tmp.size = tmp.buf, ffi.NULL, 0
                ok = lib.mbuf_append_and_free(m, block, len(step[1])) == len(step[1])
                if ok:
                    model += step[1]
            elif name == "reserve":
                ok = lib.mbuf_reserve(m, step[1]) == 1
                if ok:
                    assert m.size >= m.len + step[1]
            elif name in ("resize", "trim"):
                target = step[1] if name == "resize" else m.len
                if name == "resize":
                    lib.mbuf_resize(m, target)
                else:
                    lib.mbuf_trim(m)
                ok = target < len(model) or m.size == target
            elif name == "remove":
                lib.mbuf_remove(m, step[1])
                if step[1] <= len(model):
                    del model[: step[1]]
                ok = True
            elif name == "clear":
                lib.mbuf_clear(m)
                model.clear()
                ok = True
            if not ok:
                assert state(ffi, m) == before, step
            assert data(ffi, m) == model, step
        fired = fail_at > 0 and not failure_pending(ffi, lib, fail_at)
        return data(ffi, m), fired
    finally:
        lib.mgio_test_alloc_fail_at(0)
        lib.mbuf_free(m)


def test_allocation_failure_at_every_point(ffi, lib):
    reference, fired = run_script(ffi, lib, 0)
    assert not fired and reference == b"mn"
    for k in range(1, 1000):
        final, fired = run_script(ffi, lib, k)
        if not fired:
            assert final == reference
            break
    assert 10 < k < 1000
