"""Tests of mgio.Mbuf: the C mbuf as a bytearray-like Python object with a writable buffer.

bytes and bytearray are the reference: where Mbuf mirrors them, results are compared with
theirs rather than spelled out by hand.
"""

from __future__ import annotations

import array
import gc
import operator
import random
import socket
import struct
import sys
import tracemalloc

import mgio
import pytest
from mgio import Mbuf

HUGE = 2**62  # fits a Py_ssize_t, never fits in memory
ABC = b"abc"


def state(m: Mbuf) -> tuple[bytes, int]:
    """What an operation that fails must leave alone: the data and the allocation."""
    return bytes(m), m.size


# Bytes-like argument types, each making an object with the given bytes.
BYTES_LIKES = {
    "bytes": bytes,
    "bytearray": bytearray,
    "memoryview": lambda b: memoryview(b),
    "array": lambda b: array.array("B", b),
    "Mbuf": Mbuf,
}
bytes_like = pytest.mark.parametrize("make", BYTES_LIKES.values(), ids=BYTES_LIKES.keys())

NOT_BUFFERS = ["abc", 5, 1.5, None, [97, 98]]


def test_version_matches_core():
    assert mgio.__version__ == mgio._core.__version__
    assert mgio.Mbuf is mgio._core.Mbuf


# ---- construction -------------------------------------------------------------------


def test_new_empty():
    m = Mbuf()
    assert (len(m), m.size, bytes(m)) == (0, 0, b"")


@bytes_like
def test_new_from_bytes_like(make):
    m = Mbuf(make(ABC))
    assert bytes(m) == ABC
    assert len(m) == m.size == 3


def test_new_from_wide_array_takes_its_raw_bytes():
    a = array.array("i", [1, -2, 3])
    assert bytes(Mbuf(a)) == a.tobytes()


@pytest.mark.parametrize(
    ("data", "capacity", "size"),
    [
        (b"", 0, 0),
        (b"", 10, 10),
        (ABC, 0, 3),
        (ABC, 1, 3),  # capacity < len(data): the data decides
        (ABC, 3, 3),  # exact
        (ABC, 100, 100),
    ],
)
def test_new_capacity(data, capacity, size):
    m = Mbuf(data, capacity)
    assert (bytes(m), m.size) == (data, size)
    assert m.size == Mbuf(data, capacity=capacity).size


def test_new_capacity_keyword_only():
    m = Mbuf(capacity=16)
    assert (len(m), m.size) == (0, 16)


@pytest.mark.parametrize("data", NOT_BUFFERS)
def test_new_rejects_non_buffers(data):
    with pytest.raises(TypeError):
        Mbuf(data)


@pytest.mark.parametrize(("capacity", "exc"), [(-1, ValueError), ("8", TypeError)])
def test_new_rejects_bad_capacity(capacity, exc):
    with pytest.raises(exc):
        Mbuf(ABC, capacity)


@pytest.mark.parametrize("data", [b"", ABC])
def test_new_huge_capacity_is_memory_error(data):
    with pytest.raises(MemoryError):
        Mbuf(data, capacity=HUGE)


# ---- methods --------------------------------------------------------------------------


@bytes_like
def test_append(make):
    m = Mbuf(b"xy")
    m.append(make(ABC))
    m.append(make(b""))
    assert bytes(m) == b"xyabc"
    assert m.size >= len(m)


@pytest.mark.parametrize("data", NOT_BUFFERS)
def test_append_rejects_non_buffers(data):
    m = Mbuf(ABC)
    with pytest.raises(TypeError):
        m.append(data)
    assert bytes(m) == ABC


def test_growth_keeps_size_above_len():
    m = Mbuf()
    for i in range(1000):
        m.append(bytes([i % 256]) * (i % 7))
        assert m.size >= len(m)
    assert bytes(m) == b"".join(bytes([i % 256]) * (i % 7) for i in range(1000))


@pytest.mark.parametrize(
    ("offset", "expected"),
    [(0, b"XYabc"), (1, b"aXYbc"), (3, b"abcXY"), (-1, b"abXYc"), (-3, b"XYabc")],
)
def test_insert(offset, expected):
    m = Mbuf(ABC)
    m.insert(offset, b"XY")
    assert bytes(m) == expected


@pytest.mark.parametrize("offset", [4, -4, 2**100, -(2**100)])
def test_insert_out_of_range(offset):
    m = Mbuf(ABC)
    with pytest.raises(IndexError):
        m.insert(offset, b"XY")
    assert bytes(m) == ABC


@pytest.mark.parametrize("args", [(), (0,), (0, b"x", 1), ("0", b"x"), (0, "x"), (0, 1)])
def test_insert_bad_arguments(args):
    m = Mbuf(ABC)
    with pytest.raises(TypeError):
        m.insert(*args)
    assert bytes(m) == ABC


@pytest.mark.parametrize(("count", "expected"), [(0, ABC), (1, b"bc"), (3, b"")])
def test_remove(count, expected):
    m = Mbuf(ABC, capacity=10)
    m.remove(count)
    assert state(m) == (expected, 10)


@pytest.mark.parametrize(("count", "exc"), [(4, ValueError), (-1, ValueError), ("1", TypeError)])
def test_remove_bad_count(count, exc):
    m = Mbuf(ABC)
    with pytest.raises(exc):
        m.remove(count)
    assert bytes(m) == ABC


def test_clear_keeps_size():
    m = Mbuf(ABC, capacity=10)
    m.clear()
    assert state(m) == (b"", 10)


@pytest.mark.parametrize("size", [3, 4, 100])
def test_resize_sets_exact_size(size):
    m = Mbuf(ABC, capacity=10)
    m.resize(size)
    assert state(m) == (ABC, size)


def test_resize_to_zero_when_empty():
    m = Mbuf(capacity=10)
    m.resize(0)
    assert state(m) == (b"", 0)


@pytest.mark.parametrize(("size", "exc"), [(2, ValueError), (-1, ValueError), (HUGE, MemoryError)])
def test_resize_failure_leaves_mbuf_unchanged(size, exc):
    m = Mbuf(ABC, capacity=10)
    with pytest.raises(exc):
        m.resize(size)
    assert state(m) == (ABC, 10)
    m.append(b"d")  # still usable
    assert bytes(m) == b"abcd"


@pytest.mark.parametrize(("data", "capacity"), [(ABC, 100), (ABC, 3), (b"", 100)])
def test_trim(data, capacity):
    m = Mbuf(data, capacity)
    m.trim()
    assert state(m) == (data, len(data))


def test_free():
    m = Mbuf(ABC, capacity=10)
    m.free()
    assert state(m) == (b"", 0)
    m.free()  # twice is fine
    m.append(b"x")
    assert bytes(m) == b"x"


# ---- front removal: a standalone Mbuf slides a window instead of moving the data ----------


def test_drain_in_small_pieces_keeps_the_allocation():
    data = bytes(range(256)) * 64
    m = Mbuf(data)
    for i in range(0, len(data), 100):
        assert m[:100] == data[i : i + 100]
        if i % 200:
            m.remove(min(100, len(m)))
        else:
            del m[:100]
        assert m.size == len(data)
        assert bytes(memoryview(m)) == data[i + 100 :]
    assert state(m) == (b"", len(data))


# After m = Mbuf(b"0123456789", capacity=20); m.remove(3): the edit, the data and size after.
AFTER_FRONT_REMOVAL = {
    "append": (lambda m: m.append(b"ab"), b"3456789ab", 20),
    "append-grows": (lambda m: m.append(bytes(14)), b"3456789" + bytes(14), None),
    "insert": (lambda m: m.insert(0, b"x"), b"x3456789", 20),
    "set-item": (lambda m: operator.setitem(m, 0, 65), b"A456789", 20),
    "set-slice": (lambda m: operator.setitem(m, slice(1, 3), b"XYZ"), b"3XYZ6789", 20),
    "del-slice": (lambda m: operator.delitem(m, slice(None, 2)), b"56789", 20),
    "del-middle": (lambda m: operator.delitem(m, slice(2, 4)), b"34789", 20),
    "remove-more": (lambda m: m.remove(4), b"789", 20),
    "remove-all": (lambda m: m.remove(7), b"", 20),
    "clear": (lambda m: m.clear(), b"", 20),
    "trim": (lambda m: m.trim(), b"3456789", 7),
    "resize-exact": (lambda m: m.resize(7), b"3456789", 7),
    "resize-up": (lambda m: m.resize(100), b"3456789", 100),
    "free": (lambda m: m.free(), b"", 0),
    "pack-into": (lambda m: struct.pack_into("2s", m, 5, b"PQ"), b"34567PQ", 20),
}


@pytest.mark.parametrize(
    ("edit", "data", "size"), AFTER_FRONT_REMOVAL.values(), ids=AFTER_FRONT_REMOVAL.keys()
)
def test_edits_after_front_removal(edit, data, size):
    m = Mbuf(b"0123456789", capacity=20)
    m.remove(3)
    assert state(m) == (b"3456789", 20)
    edit(m)
    assert bytes(m) == data
    assert m.size >= len(m)
    if size is not None:
        assert m.size == size
    assert eval(repr(m), {"Mbuf": Mbuf}) == m
    m.append(b"!")  # and growth afterwards
    m.insert(0, b"<")
    assert bytes(m) == b"<" + data + b"!"
    assert bytes(memoryview(m)) == bytes(m) == bytes(iter(m))


def test_front_removal_failures_keep_the_window():
    m = Mbuf(b"0123456789", capacity=20)
    del m[:3]
    for exc, edit in [(MemoryError, lambda: m.resize(HUGE)), (ValueError, lambda: m.remove(8))]:
        with pytest.raises(exc):
            edit()
        assert state(m) == (b"3456789", 20)
    with memoryview(m) as view:
        with pytest.raises(BufferError):
            m.remove(1)
        assert bytes(view) == b"3456789"


# ---- sequence protocol ------------------------------------------------------------------


@pytest.mark.parametrize("i", range(-3, 3))
def test_index(i):
    assert Mbuf(ABC)[i] == ABC[i]


@pytest.mark.parametrize(
    ("key", "exc"),
    [(3, IndexError), (-4, IndexError), (2**100, IndexError), ("0", TypeError), (1.0, TypeError)],
)
def test_index_errors(key, exc):
    with pytest.raises(exc):
        Mbuf(ABC)[key]


def test_index_high_bytes_are_unsigned():
    assert Mbuf(b"\x80\xff")[:] == b"\x80\xff"
    assert [Mbuf(b"\x80\xff")[i] for i in (0, 1)] == [0x80, 0xFF]


def random_slice(rng: random.Random, n: int) -> slice:
    def bound():
        return rng.choice([None, rng.randint(-n - 3, n + 3), rng.choice([-(2**70), 2**70])])

    return slice(bound(), bound(), rng.choice([None, 1, -1, 2, -2, 3, -5, n + 1, 2**70]))


def test_random_slices_match_bytes():
    rng = random.Random(1)
    for n in (0, 1, 2, 7, 64):
        data = bytes(rng.randrange(256) for _ in range(n))
        m = Mbuf(data)
        for _ in range(300):
            s = random_slice(rng, n)
            assert m[s] == data[s], s
            assert type(m[s]) is bytes


def test_slice_step_zero():
    with pytest.raises(ValueError):
        Mbuf(ABC)[::0]


@pytest.mark.parametrize("value", [0, 1, 127, 255, True])
def test_set_item(value):
    m = Mbuf(ABC)
    m[1] = value
    m[-1] = value
    assert bytes(m) == bytes([97, int(value), int(value)])


@pytest.mark.parametrize(
    ("key", "value", "exc"),
    [
        (0, 256, ValueError),
        (0, -1, ValueError),
        (0, 2**100, ValueError),  # as bytearray: out of range, not OverflowError
        (0, "a", TypeError),
        (0, b"a", TypeError),
        (0, 1.0, TypeError),
        (3, 0, IndexError),
        (-4, 0, IndexError),
        ("0", 0, TypeError),
    ],
)
def test_set_item_errors(key, value, exc):
    m = Mbuf(ABC)
    with pytest.raises(exc):
        m[key] = value
    assert bytes(m) == ABC


SLICE_EDITS = [
    (slice(0, 1), b"X"),  # equal length
    (slice(1, 3), b"XY"),
    (slice(0, 0), b"XY"),  # pure insertion
    (slice(3, None), b"XY"),  # at the end
    (slice(1, 2), b"WXYZ"),  # longer
    (slice(0, 3), b"Z"),  # shorter
    (slice(None), b""),  # everything removed
    (slice(-2, None), b"Q"),
    (slice(2, 1), b"XY"),  # empty, reversed bounds: inserts at 2
    (slice(-100, 100), b"new"),
]


@pytest.mark.parametrize(("key", "value"), SLICE_EDITS)
@bytes_like
def test_set_slice_matches_bytearray(key, value, make):
    m, expected = Mbuf(ABC), bytearray(ABC)
    m[key] = make(value)
    expected[key] = value
    assert bytes(m) == expected


@pytest.mark.parametrize(
    "key", [slice(None, 0), slice(None, 1), slice(None, 2), slice(1, None), slice(None), 0, -1]
)
def test_delete_matches_bytearray(key):
    m, expected = Mbuf(ABC), bytearray(ABC)
    del m[key]
    del expected[key]
    assert bytes(m) == expected


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (slice(None, None, 2), b"XY"),
        (slice(None, None, -1), b"XYZ"),
        (slice(2, 0, -2), b"X"),
        (slice(5, 9, 2), b""),
    ],
)
def test_set_extended_slice(key, value):
    m, expected = Mbuf(ABC), bytearray(ABC)
    m[key] = value
    expected[key] = value
    assert bytes(m) == expected


@pytest.mark.parametrize("value", [b"", b"X", b"XYZ"])
def test_set_extended_slice_wrong_size(value):
    m = Mbuf(ABC)
    with pytest.raises(ValueError):
        m[::2] = value
    assert bytes(m) == ABC


@pytest.mark.parametrize("value", NOT_BUFFERS)
def test_set_slice_rejects_non_buffers(value):
    m = Mbuf(ABC)
    with pytest.raises(TypeError):
        m[0:1] = value
    assert bytes(m) == ABC


def test_iteration():
    assert list(Mbuf(b"\x00a\xff")) == [0, 97, 255]
    assert list(Mbuf()) == []
    assert list(reversed(Mbuf(ABC))) == list(reversed(ABC))


@pytest.mark.parametrize(
    ("needle", "found"),
    [
        (97, True),
        (99, True),
        (0, False),
        (b"", True),
        (b"bc", True),
        (b"ac", False),
        (bytearray(b"ab"), True),
        (memoryview(b"c"), True),
        (b"abcd", False),
    ],
)
def test_contains(needle, found):
    assert (needle in Mbuf(ABC)) is found
    assert (needle in Mbuf(ABC)) is (needle in ABC)


def test_contains_in_empty():
    assert b"" in Mbuf()
    assert 0 not in Mbuf()


@pytest.mark.parametrize(
    ("needle", "exc"),
    [
        (256, ValueError),
        (-1, ValueError),
        (2**100, ValueError),
        ("a", TypeError),
        (1.0, TypeError),
        (None, TypeError),
    ],
)
def test_contains_errors(needle, exc):
    with pytest.raises(exc):
        needle in Mbuf(ABC)  # noqa: B015


@bytes_like
def test_iadd(make):
    m = same = Mbuf(ABC)
    m += make(b"de")
    assert m is same
    assert bytes(m) == b"abcde"


@pytest.mark.parametrize("value", NOT_BUFFERS)
def test_iadd_rejects_non_buffers(value):
    m = Mbuf(ABC)
    with pytest.raises(TypeError):
        m += value
    assert bytes(m) == ABC


# ---- comparison, hashing, repr --------------------------------------------------------

COMPARE_OPS = [operator.eq, operator.ne, operator.lt, operator.le, operator.gt, operator.ge]
COMPARE_PAIRS = [
    (b"", b""),
    (b"", b"a"),
    (b"a", b""),
    (ABC, ABC),
    (ABC, b"abd"),
    (ABC, b"ab"),
    (b"ab", ABC),
    (b"\x80", b"\x7f"),
    (b"\xff", b"\x00\x00"),  # bytes compare unsigned
]


@pytest.mark.parametrize(("a", "b"), COMPARE_PAIRS)
@bytes_like
def test_compare_matches_bytes(a, b, make):
    for op in COMPARE_OPS:
        assert op(Mbuf(a), make(b)) is op(a, b), op
        assert op(make(b), Mbuf(a)) is op(b, a), op  # the reflected side


@pytest.mark.parametrize("other", [1, "abc", None, [97, 98, 99]])
def test_compare_with_non_buffers(other):
    m = Mbuf(ABC)
    assert m.__eq__(other) is NotImplemented
    assert (m == other) is False
    assert (m != other) is True
    for op in COMPARE_OPS[2:]:
        with pytest.raises(TypeError):
            op(m, other)


def test_unhashable():
    assert Mbuf.__hash__ is None
    with pytest.raises(TypeError):
        hash(Mbuf(ABC))


@pytest.mark.parametrize(
    ("data", "capacity"),
    [(b"", 0), (b"", 8), (ABC, 3), (ABC, 50), (b'it\'s "q" \x00\xff\n', 20), (b"x" * 64, 64)],
)
def test_repr_round_trips(data, capacity):
    m = Mbuf(data, capacity)
    assert repr(m) == f"Mbuf({data!r}, capacity={capacity})"
    again = eval(repr(m), {"Mbuf": Mbuf})
    assert state(again) == state(m)


def test_repr_long_is_truncated():
    data = bytes(range(200))
    r = repr(Mbuf(data, capacity=300))
    assert r == f"<Mbuf len=200 size=300 {data[:64]!r}...>"


# ---- buffer export --------------------------------------------------------------------


def test_memoryview_is_writable_and_shared():
    m = Mbuf(ABC, capacity=10)
    with memoryview(m) as view:
        assert (view.readonly, view.nbytes, view.format, view.itemsize) == (False, 3, "B", 1)
        assert bytes(view) == ABC
        view[0] = ord("X")
        view[1:3] = b"YZ"
    assert bytes(m) == b"XYZ"
    m[0] = ord("a")
    assert bytes(memoryview(m)) == b"aYZ"


def test_memoryview_of_empty_and_freed():
    for m in (Mbuf(), Mbuf(capacity=4), Mbuf(ABC)):
        m.free()
        with memoryview(m) as view:
            assert bytes(view) == b""


def test_struct_pack_into():
    m = Mbuf(bytes(8))
    struct.pack_into(">HI", m, 1, 0xABCD, 0x01020304)
    assert bytes(m) == b"\x00\xab\xcd\x01\x02\x03\x04\x00"
    assert struct.unpack_from(">HI", m, 1) == (0xABCD, 0x01020304)


def test_socket_recv_into():
    payload = bytes(range(256)) * 4
    a, b = socket.socketpair()
    with a, b:
        a.sendall(payload)
        a.shutdown(socket.SHUT_WR)
        out = Mbuf()
        chunk = Mbuf(bytes(300))
        while n := b.recv_into(chunk):
            out += memoryview(chunk)[:n]
        assert bytes(out) == payload
        # recv_into a slice of the Mbuf's own view, then drop the unused tail.
        a2, b2 = socket.socketpair()
        with a2, b2:
            a2.sendall(b"hello")
            m = Mbuf(b"> " + bytes(10))
            with memoryview(m) as view:
                n = b2.recv_into(view[2:])
            del m[2 + n :]
            assert bytes(m) == b"> hello"


# Edits that change the length or the storage: refused while a view is exported.
RESIZING_EDITS = {
    "append": lambda m: m.append(b"x"),
    "insert": lambda m: m.insert(0, b"x"),
    "remove": lambda m: m.remove(1),
    "clear": lambda m: m.clear(),
    "resize": lambda m: m.resize(100),
    "trim": lambda m: m.trim(),
    "free": lambda m: m.free(),
    "del-slice": lambda m: operator.delitem(m, slice(None, 1)),
    "del-item": lambda m: operator.delitem(m, 0),
    "iadd": lambda m: operator.iadd(m, b"x"),
    "iadd-self": lambda m: operator.iadd(m, m),
    "longer-slice": lambda m: operator.setitem(m, slice(0, 1), b"xy"),
    "shorter-slice": lambda m: operator.setitem(m, slice(0, 2), b"x"),
}
resizing_edit = pytest.mark.parametrize("edit", RESIZING_EDITS.values(), ids=RESIZING_EDITS.keys())


@resizing_edit
def test_export_blocks_resizing(edit):
    m = Mbuf(ABC, capacity=10)
    view = memoryview(m)
    with pytest.raises(BufferError):
        edit(m)
    assert state(m) == (ABC, 10)
    assert bytes(view) == ABC
    view.release()
    edit(m)  # works again once the view is gone


@resizing_edit
def test_nested_exports_are_counted(edit):
    m = Mbuf(ABC, capacity=10)
    first, second = memoryview(m), memoryview(m)
    sliced = first[1:]  # shares first's export; does not add one
    first.release()
    with pytest.raises(BufferError):
        edit(m)
    second.release()
    with pytest.raises(BufferError):
        edit(m)
    sliced.release()
    edit(m)


def test_export_through_other_objects_is_released():
    m = Mbuf(ABC)
    other = Mbuf()
    for _ in range(3):
        other.append(m)  # exports m for the duration of the call only
        other += m
        assert m == memoryview(m)
        assert b"b" in Mbuf(m)
    m.append(b"d")
    assert bytes(other) == ABC * 6


def test_export_allows_same_length_writes():
    m = Mbuf(b"abcdef")
    with memoryview(m) as view:
        m[0] = ord("A")  # Abcdef
        m[1:3] = b"BC"  # ABCdef
        m[-1:] = memoryview(b"F")  # ABCdeF
        m[3:5] = view[2:4]  # ABCCdF: the source overlaps the target
        m[::2] = b"xyz"  # xByCzF
        m[0:0] = b""
        assert bytes(view) == b"xByCzF"
    assert bytes(m) == b"xByCzF"


OWN_VIEW_EDITS = {
    "append": lambda m: m.append(memoryview(m)),
    "insert": lambda m: m.insert(0, memoryview(m)),
    "iadd": lambda m: operator.iadd(m, memoryview(m)),
    "set-slice": lambda m: operator.setitem(m, slice(0, 0), memoryview(m)),
}


@pytest.mark.parametrize("edit", OWN_VIEW_EDITS.values(), ids=OWN_VIEW_EDITS.keys())
def test_growing_from_own_view_is_buffer_error(edit):
    """The argument is itself an export; bytearray refuses `ba += memoryview(ba)` too."""
    m = Mbuf(ABC)
    with pytest.raises(BufferError):
        edit(m)
    assert state(m) == (ABC, 3)
    m.append(b"d")  # the argument's export was released


def test_bytearray_from_exported_mbuf():
    m = Mbuf(ABC)
    with memoryview(m):
        assert bytearray(m) == ABC
        assert bytes(m) == ABC
        assert m == ABC


# ---- self-aliasing ---------------------------------------------------------------------

# Each edit takes m as its own argument; the second item gives the result from the data.
SELF_EDITS = {
    "append": (lambda m: m.append(m), lambda d: d + d),
    "iadd": (lambda m: operator.iadd(m, m), lambda d: d + d),
    "insert-0": (lambda m: m.insert(0, m), lambda d: d + d),
    "insert-1": (lambda m: m.insert(1, m), lambda d: d[:1] + d + d[1:]),
    "insert-neg": (lambda m: m.insert(-1, m), lambda d: d[:-1] + d + d[-1:]),
    "insert-end": (lambda m: m.insert(len(m), m), lambda d: d + d),
    "slice-grow": (lambda m: operator.setitem(m, slice(1, 2), m), lambda d: d[:1] + d + d[2:]),
    "slice-all": (lambda m: operator.setitem(m, slice(None), m), lambda d: d),
    "slice-empty": (lambda m: operator.setitem(m, slice(0, 0), m), lambda d: d + d),
    "slice-reverse": (lambda m: operator.setitem(m, slice(None, None, -1), m), lambda d: d[::-1]),
}


@pytest.mark.parametrize(("edit", "expected"), SELF_EDITS.values(), ids=SELF_EDITS.keys())
@pytest.mark.parametrize("data", [ABC, bytes(range(100))], ids=["short", "long"])
def test_self_aliasing(edit, expected, data):
    m = Mbuf(data)
    edit(m)
    assert bytes(m) == expected(data)
    assert m.size >= len(m)
    edit(m)  # no export was left behind
    assert bytes(m) == expected(expected(data))


def test_self_comparisons():
    m = Mbuf(ABC)
    assert m == m
    assert m in m
    assert not (m < m)
    m.append(b"d")  # no export was left behind


# ---- model-based: random operations against bytearray -----------------------------------


def random_bytes(rng: random.Random, limit: int = 12) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randrange(limit)))


def step(rng: random.Random, m: Mbuf, model: bytearray) -> None:
    """One random operation applied to both; every branch is valid for the current state."""
    n = len(model)
    op = rng.randrange(12)
    if op == 0:
        data = random_bytes(rng)
        m.append(rng.choice(list(BYTES_LIKES.values()))(data))
        model += data
    elif op == 1:
        off, data = rng.randint(-n, n), random_bytes(rng)
        m.insert(off, data)
        at = off + n if off < 0 else off
        model[at:at] = data
    elif op == 2:
        count = rng.randint(0, n)
        m.remove(count)
        del model[:count]
    elif op == 3 and rng.random() < 0.1:
        m.clear()
        model.clear()
    elif op == 4:
        size = n + rng.randrange(40)
        m.resize(size)
        assert m.size == size
    elif op == 5:
        m.trim()
        assert m.size == n
    elif op == 6 and n:
        i, v = rng.randrange(-n, n), rng.randrange(256)
        m[i] = v
        model[i] = v
    elif op == 7:
        key, data = random_slice(rng, n), random_bytes(rng)
        if key.step in (None, 1):
            m[key] = data
            model[key] = data
        else:
            data = random_bytes(rng, 1 + len(model[key]))[: len(model[key])]
            data += bytes(len(model[key]) - len(data))
            m[key] = data
            model[key] = data
    elif op == 8:
        key = slice(rng.randint(-n - 2, n + 2), rng.randint(-n - 2, n + 2))
        del m[key]
        del model[key]
    elif op == 9:
        data = random_bytes(rng, 4)
        assert (data in m) is (data in model)
        if n:
            assert (model[rng.randrange(n)] in m) is True
    elif op == 10:
        key = random_slice(rng, n)
        assert m[key] == model[key]
        other = bytearray(model)
        if other and rng.random() < 0.5:
            other[rng.randrange(len(other))] = rng.randrange(256)
        for cmp in COMPARE_OPS:
            assert cmp(m, other) is cmp(bytes(model), bytes(other))
    elif op == 11:
        with memoryview(m) as view:
            with pytest.raises(BufferError):
                m.append(b"z")
            if n:
                view[-1] = 7
                model[-1] = 7


@pytest.mark.parametrize("seed", range(4))
def test_model_random_operations(seed):
    rng = random.Random(seed)
    m, model = Mbuf(), bytearray()
    for i in range(1500):
        step(rng, m, model)
        assert bytes(m) == model, (seed, i)
        assert m.size >= len(m) == len(model)
        if len(model) > 2000:  # keep it bounded
            m.remove(1000)
            del model[:1000]


# ---- re-entrancy: Python code run by an argument changes the Mbuf --------------------------


class Shrinker:
    """An int-like whose __index__ empties the Mbuf it is used on, then returns `value`."""

    def __init__(self, m: Mbuf, value: int):
        self.m, self.value = m, value

    def __index__(self) -> int:
        self.m.clear()
        return self.value


def test_reentrant_set_item_checks_bounds_after_value():
    m = Mbuf(bytes(100))
    with pytest.raises(IndexError):
        m[0] = Shrinker(m, 1)
    assert bytes(m) == b""


def test_reentrant_contains_reads_current_data():
    m = Mbuf(bytes(100))
    assert Shrinker(m, 0) not in m


@pytest.mark.parametrize(
    ("edit", "exc"),
    [
        (lambda m, s: m[s], IndexError),
        (lambda m, s: m.insert(s, b"x"), IndexError),
        (lambda m, s: m.remove(s), ValueError),
        (lambda m, s: m.resize(s), None),
    ],
)
def test_reentrant_index_arguments(edit, exc):
    m = Mbuf(bytes(100))
    shrinker = Shrinker(m, 1)
    if exc is None:
        edit(m, shrinker)
    else:
        with pytest.raises(exc):
            edit(m, shrinker)
    assert bytes(m) == b""


@pytest.mark.parametrize(
    ("make_key", "value", "expected"),
    [
        (lambda s: slice(s, None), b"xy", b"xy"),
        (lambda s: slice(None, s), b"xy", b"xy"),
        (lambda s: slice(s, None), None, b""),
    ],
)
def test_reentrant_slice_bounds(make_key, value, expected):
    m = Mbuf(bytes(100))
    key = make_key(Shrinker(m, 50))
    if value is None:
        del m[key]
    else:
        m[key] = value
    assert bytes(m) == expected


needs_buffer_dunder = pytest.mark.skipif(
    sys.version_info < (3, 12), reason="Python classes get __buffer__ in 3.12"
)


class ClearingBuffer:
    """A bytes-like whose __buffer__ (3.12+) empties the Mbuf, then gives b'xy'."""

    def __init__(self, m: Mbuf):
        self.m = m

    def __buffer__(self, flags: int) -> memoryview:
        self.m.clear()
        return memoryview(b"xy")


@needs_buffer_dunder
@pytest.mark.parametrize(
    ("edit", "exc", "expected"),
    [
        (lambda m, b: m.append(b), None, b"xy"),
        (lambda m, b: operator.iadd(m, b), None, b"xy"),
        (lambda m, b: m.insert(50, b), IndexError, b""),
        (lambda m, b: operator.setitem(m, slice(90, 100), b), None, b"xy"),
        (lambda m, b: operator.contains(m, b), None, b""),
    ],
)
def test_reentrant_buffer_arguments(edit, exc, expected):
    m = Mbuf(bytes(100))
    if exc is None:
        edit(m, ClearingBuffer(m))
    else:
        with pytest.raises(exc):
            edit(m, ClearingBuffer(m))
    assert bytes(m) == expected


# ---- reference counts and leaks --------------------------------------------------------------


def test_argument_refcounts_unchanged():
    data = bytes(range(50))  # a fresh object: no caches share it
    ba = bytearray(data)
    m = Mbuf()
    before = sys.getrefcount(data), sys.getrefcount(ba), sys.getrefcount(m)
    for _ in range(10_000):
        m.append(data)
        m.insert(0, ba)
        m[0:50] = data
        m += ba
        assert m >= data
        assert m != ba
        assert data in m
        m.remove(150)
    assert len(m) == 0
    assert (sys.getrefcount(data), sys.getrefcount(ba), sys.getrefcount(m)) == before


def test_export_refcounts_unchanged():
    m = Mbuf(ABC)
    before = sys.getrefcount(m)
    for _ in range(10_000):
        with memoryview(m) as view:
            view[0] = 97
    assert sys.getrefcount(m) == before
    m.append(b"d")  # every export was released


@pytest.fixture
def traced():
    """Runs a function under tracemalloc; returns how much traced memory it left behind."""
    was_tracing = tracemalloc.is_tracing()
    if not was_tracing:
        tracemalloc.start()

    def growth(fn, iterations):
        fn(iterations // 10)  # warm up caches and free lists
        gc.collect()
        before = tracemalloc.get_traced_memory()[0]
        fn(iterations)
        gc.collect()
        return tracemalloc.get_traced_memory()[0] - before

    yield growth
    if not was_tracing:
        tracemalloc.stop()


# Measured growth is 0 to a few dozen bytes; one leaked Mbuf (64 bytes) in every few
# iterations, or any leaked storage, is far above this.
LEAK_BOUND = 16 * 1024


def churn(iterations: int) -> None:
    payload = bytes(200)
    for i in range(iterations):
        m = Mbuf(payload[: i % 50], capacity=i % 300)
        m.append(payload)
        m.insert(1, payload)
        m.resize(len(m) + 1000)
        with memoryview(m) as view:
            view[0] = 1
            sub = view[1:10]
            sub.release()
        m[::3] = bytes(len(m[::3]))
        del m[:10]
        m += m
        m.trim()
        _ = m[5:100:2], repr(m), m == payload, payload in m
        m.remove(i % 7 + 1)  # leaves the front-removal window open for dealloc
        if i % 2:
            m.free()


def expect_raise(exc: type[BaseException], call) -> None:
    """pytest.raises without its bookkeeping, which would blur a leak measurement."""
    try:
        call()
    except exc:
        return
    raise AssertionError(f"{call} did not raise {exc.__name__}")


def failing_calls(iterations: int) -> None:
    m = Mbuf(bytes(100))
    failures = [
        (TypeError, lambda: Mbuf("str")),
        (TypeError, lambda: Mbuf(ABC, "x")),
        (ValueError, lambda: Mbuf(ABC, -1)),
        (MemoryError, lambda: Mbuf(ABC, HUGE)),
        (TypeError, lambda: m.append(1)),
        (TypeError, lambda: m.insert(0, "x")),
        (IndexError, lambda: m.insert(1000, b"x")),
        (ValueError, lambda: m.remove(1000)),
        (MemoryError, lambda: m.resize(HUGE)),
        (ValueError, lambda: operator.setitem(m, 0, 256)),
        (ValueError, lambda: operator.setitem(m, slice(None, None, 2), b"x")),
        (IndexError, lambda: m[1000]),
        (TypeError, lambda: m < 1),
        (TypeError, lambda: hash(m)),
        (ValueError, lambda: 300 in m),
    ]
    refused = [(BufferError, lambda edit=edit: edit(m)) for edit in RESIZING_EDITS.values()]
    for _ in range(iterations // 10):
        for exc, call in failures:
            expect_raise(exc, call)
        with memoryview(m):
            for exc, call in refused:
                expect_raise(exc, call)
    assert len(m) == 100


@pytest.mark.parametrize("fn", [churn, failing_calls])
def test_no_leaks(traced, fn):
    assert traced(fn, 10_000) < LEAK_BOUND
