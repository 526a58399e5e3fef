"""Helpers shared by the C-level tests."""

from __future__ import annotations

import ctypes
import mmap
import re
from collections.abc import Iterator
from pathlib import Path

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


# --- the HTTP head parser (mg_http_parse_head) --------------------------------------------

HEAD_INCOMPLETE = -2

# Bits of http_message.flags by the names the vector files use (MG_HTTP_F_<NAME upper>).
HTTP_FLAG_NAMES = ("chunked", "keep_alive", "upgrade", "expect_continue", "expect_other",
                   "close_delimited", "no_body")


def http_flag_names(lib, flags: int) -> list[str]:
    """The names of the MG_HTTP_F_* bits set in `flags`, in HTTP_FLAG_NAMES order; an
    unknown bit shows as "0x..." so that it is never silently dropped."""
    names, known = [], 0
    for name in HTTP_FLAG_NAMES:
        bit = getattr(lib, "MG_HTTP_F_" + name.upper())
        known |= bit
        if flags & bit:
            names.append(name)
    if flags & ~known:
        names.append(hex(flags & ~known))
    return names


def parse_head(ffi, lib, guarded, data: bytes, is_req: bool = True, limits=None):
    """(return value, status, struct http_message *) of mg_http_parse_head on `data`
    placed against a guard page."""
    hm = ffi.new("struct http_message *")
    status = ffi.new("int *")
    buf = ffi.cast("char *", guarded(data))
    r = lib.mg_http_parse_head(buf, len(data), hm, int(is_req),
                               ffi.NULL if limits is None else limits, status)
    return r, status[0], hm


def mg_str_bytes(ffi, s) -> bytes:
    return b"" if s.len == 0 else ffi.buffer(s.p, s.len)[:]


def head_fields(ffi, lib, hm, r: int) -> dict:
    """A parsed head as plain Python values, keyed as in tests/c/vectors (read before the
    guarded buffer is reused)."""
    n = hm.num_headers
    return {
        "length": r,
        "method": mg_str_bytes(ffi, hm.method),
        "uri": mg_str_bytes(ffi, hm.uri),
        "query_string": mg_str_bytes(ffi, hm.query_string),
        "proto": mg_str_bytes(ffi, hm.proto),
        "resp_code": hm.resp_code,
        "reason": mg_str_bytes(ffi, hm.resp_status_msg),
        "headers": [(mg_str_bytes(ffi, hm.header_names[i]),
                     mg_str_bytes(ffi, hm.header_values[i])) for i in range(n)],
        "num_headers": n,
        "content_length": hm.content_length,
        "flags": http_flag_names(lib, hm.flags),
        "http_minor": hm.http_minor,
        "body": mg_str_bytes(ffi, hm.body),
        "message": mg_str_bytes(ffi, hm.message),
    }


def head_verdict(ffi, lib, guarded, data: bytes, is_req: bool = True, limits=None,
                 step: int = 1):
    """Parses `data` whole and at every prefix (every `step`-th, and the last 64), each
    against the guard page, as a growing receive buffer sees it; checks that every prefix
    agrees with the whole (-2 before the head is complete, then the same head; for an
    input rejected or incomplete as a whole, each prefix -2 or that same verdict).
    Returns (r, status, head_fields or None)."""
    r, status, hm = parse_head(ffi, lib, guarded, data, is_req, limits)
    whole = (r, status, head_fields(ffi, lib, hm, r) if r > 0 else None)
    n, k = len(data), 0
    while k < n:
        pr, pst, _ = parse_head(ffi, lib, guarded, data[:k], is_req, limits)
        if r > 0 and k < r:
            assert (pr, pst) == (HEAD_INCOMPLETE, HEAD_INCOMPLETE), f"prefix {k}"
        elif r > 0:
            assert (pr, pst) == (r, 0), f"prefix {k}"  # the same head, less body in hand
        else:
            assert (pr, pst) in ((HEAD_INCOMPLETE, HEAD_INCOMPLETE), (r, status)), (
                f"prefix {k}: {(pr, pst)} but {(r, status)} for the whole")
        k += 1 if k + 64 >= n else step
    return whole


# --- the chunked decoder driver (csrc/tests/chunked_feed.c) -------------------------------


def chunked_error_names(header) -> list[str]:
    """The names of enum mg__chunked_error in csrc/proto/chunked.h, indexed by value
    (declaration order, "OK" first)."""
    body = re.search(r"enum mg__chunked_error \{(.*?)\};", Path(header).read_text(), re.S)
    return re.findall(r"MG__CHUNKED_([A-Z]+)", body.group(1))


def chunked_feed(ffi, lib, data: bytes, pieces=None, keep: bool = True, limits=None,
                 src=None):
    """(verdict, body, rest, err) of mgio_test_chunked_feed: verdict 'done', 'more' or
    'bad'. `src`, when given, is where the driver reads the input from (e.g. a copy of
    `data` against a guard page); `data` is then only used to check the rest."""
    pieces = [] if pieces is None else list(pieces)
    assert not pieces or sum(pieces) == len(data)
    out = ffi.new("char[]", max(len(data), 1))
    out_len = ffi.new("size_t *")
    err = ffi.new("int *")
    cp = ffi.new("size_t[]", pieces or [0])
    lim = ffi.new("size_t[4]", list(limits)) if limits is not None else ffi.NULL
    r = lib.mgio_test_chunked_feed(data if src is None else ffi.cast("char *", src),
                                   len(data), cp, len(pieces), int(keep), lim, out,
                                   out_len, err)
    assert r != -3, "the driver caught a decoder fault"
    body = ffi.buffer(out, out_len[0])[:]
    if r >= 0:
        rest = ffi.buffer(out + out_len[0], r)[:]
        assert rest == data[len(data) - r :]
        return "done", body, rest, err[0]
    return ("more" if r == -2 else "bad"), body, b"", err[0]


def chunked_feed_all_ways(ffi, lib, data: bytes, limits=None, src=None):
    """Feeds `data` every way (splits(): whole, byte by byte, every two-piece split), in
    reassembly and streaming mode; asserts one outcome and returns it."""
    results = set()
    for pieces in splits(data):
        for keep in (True, False):
            results.add(chunked_feed(ffi, lib, data, [len(p) for p in pieces], keep, limits,
                                     src))
    assert len(results) == 1, results
    return results.pop()
