"""Helpers shared by the C-level tests."""

from __future__ import annotations

import ctypes
import mmap
from collections.abc import Iterator

PROT_NONE = 0  # not exported by the mmap module; 0 on every POSIX system


def splits(data: bytes) -> Iterator[list[bytes]]:
    """Every way the tests feed a decoder: whole, one byte at a time, and split in two at
    every point (picohttpparser's and llhttp's discipline)."""
    yield [data]
    if len(data) > 1:
        yield [data[i : i + 1] for i in range(len(data))]
    for i in range(1, len(data)):
        yield [data[:i], data[i:]]


class GuardedInput:
    """Copies an input so that it ends exactly where an inaccessible page begins."""

    PAGES = 16

    def __init__(self, ffi):
        self.ffi = ffi
        self.page = mmap.PAGESIZE
        libc = ctypes.CDLL(None, use_errno=True)
        libc.mmap.restype = ctypes.c_void_p
        libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int,
                              ctypes.c_int, ctypes.c_long]
        libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        self.libc = libc
        self.total = (self.PAGES + 1) * self.page
        base = libc.mmap(None, self.total, mmap.PROT_READ | mmap.PROT_WRITE,
                         mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS, -1, 0)
        assert base not in (None, ctypes.c_void_p(-1).value)
        self.base = base
        self.end = base + self.PAGES * self.page
        assert libc.mprotect(self.end, self.page, PROT_NONE) == 0

    def __call__(self, data: bytes):
        assert len(data) <= self.PAGES * self.page
        start = self.end - len(data)
        ctypes.memmove(start, data, len(data))
        return self.ffi.cast("unsigned char *", start)

    def close(self):
        self.libc.munmap(self.base, self.total)
