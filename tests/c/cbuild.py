"""Builds the mgio C core as a cffi extension for the C-level tests.

The declarations come from the public header itself (preprocessed with MGIO_CDEF, which
leaves out system headers and attributes), and every integer macro of the header is
exported with cffi's ``...`` so the compiler supplies its value. The C sources never see
Python.h; only cffi's generated wrapper does.

Set MGIO_SANITIZE=1 to build with ASan + UBSan (then run Python with the ASan runtime
preloaded; ``.ci/run`` shows how).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cffi

ROOT = Path(__file__).resolve().parents[2]
CSRC = ROOT / "csrc"
HEADER = CSRC / "include" / "mgio.h"
BUILD = Path(__file__).resolve().parent / "_build"

# Test-only C: the failing allocator the mbuf hooks point to, and the driver of the
# internal chunked decoder (csrc/tests/chunked_feed.h).
TEST_SOURCES = [CSRC / "tests" / "alloc.c", CSRC / "tests" / "chunked_feed.c"]
TEST_CDEF = """
void mgio_test_alloc_fail_at(long k);
long mgio_test_alloc_live(void);
long long mgio_test_chunked_feed(const char *in, size_t n, const size_t *pieces,
                                 size_t npieces, int keep, const size_t *limits, char *out,
                                 size_t *out_len, int *err);
void free(void *);
void *malloc(size_t);
"""
# The internal WebSocket codecs (csrc/proto/ws.h), declared as that header does (array
# parameters as pointers).
TEST_CDEF += """
#define MG__WS_MAX_HEADER ...
#define MG__WS_FIN ...
#define MG__WS_RSV1 ...
struct mg__ws_header {
  uint64_t len;
  unsigned char first, fin, rsv, opcode, masked;
  unsigned char mask[4];
};
int mg__ws_parse_header(const unsigned char *buf, size_t n, struct mg__ws_header *h);
size_t mg__ws_build_header(unsigned char *out, unsigned char first, uint64_t len,
                           const unsigned char *mask);
void mg__ws_mask(unsigned char *data, size_t n, const unsigned char *mask, uint64_t offset);
int mg__ws_close_code_ok(int code);
int mg__ws_check_close(const unsigned char *p, size_t n, int *code, size_t *reason);
void mg__ws_accept_key(const char *key, size_t key_len, char *out);
int mg__ws_key_ok(struct mg_str key);
struct mg__ws_deflate_params {
  unsigned char server_no_context_takeover;
  unsigned char client_no_context_takeover;
  unsigned char server_max_window_bits;
  unsigned char client_max_window_bits;
};
int mg__ws_deflate_negotiate(struct mg_str offers, struct mg__ws_deflate_params *p,
                             char *resp, size_t resp_len);
const char *mg__ws_deflate_offer(void);
int mg__ws_deflate_accept(struct mg_str value, struct mg__ws_deflate_params *p);
struct mg__ws_deflate;
struct mg__ws_deflate *mg__ws_deflate_new(const struct mg__ws_deflate_params *p,
                                          int is_server);
void mg__ws_deflate_free(struct mg__ws_deflate *d);
int mg__ws_deflate_message(struct mg__ws_deflate *d, const void *data, size_t n,
                           struct mbuf *out);
int mg__ws_inflate_message(struct mg__ws_deflate *d, const void *data, size_t n, size_t max,
                           struct mbuf *out);
"""
# The internal streaming multipart parser (csrc/proto/multipart.h).
TEST_CDEF += """
#define MG__MP_MAX_BOUNDARY ...
#define MG__MP_MAX_HEADER ...
#define MG__MP_MAX_PARTS ...
#define MG__MP_MAX_PADDING ...
struct mg__mp_limits { size_t boundary; size_t header; size_t parts; };
enum mg__mp_event_type { MG__MP_NEED_MORE, MG__MP_PART_BEGIN, MG__MP_PART_DATA,
                         MG__MP_PART_END, MG__MP_DONE, MG__MP_ERROR, ... };
enum mg__mp_error { MG__MP_OK, MG__MP_EBOUNDARY, MG__MP_ETRUNCATED, MG__MP_EPADDING,
                    MG__MP_EHEADER, MG__MP_EHEADERSIZE, MG__MP_EDISPOSITION, MG__MP_ENONAME,
                    MG__MP_ETOOMANYPARTS, ... };
struct mg__mp_event {
  int type;
  int err;
  struct mg_str data;
  struct mg_str name;
  struct mg_str filename;
  struct mg_str content_type;
  struct mg_str headers;
};
struct mg__mp { struct mg__mp_limits limits; size_t parts; unsigned char err; ...; };
int mg__mp_init(struct mg__mp *st, struct mg_str boundary, const struct mg__mp_limits *limits);
size_t mg__mp_parse(struct mg__mp *st, const char *buf, size_t n, int at_end,
                    struct mg__mp_event *ev);
size_t mg__mp_unquote(struct mg_str raw, char *dst);
const char *mg__mp_strerror(int err);
"""
TEST_DEFINES = [("MBUF_REALLOC", "mgio_test_realloc"), ("MBUF_FREE", "mgio_test_free")]

# What cffi's generated wrapper includes: the public header and the test-only helpers.
WRAPPER_INCLUDES = ['"mgio.h"', '"test.h"', '"chunked_feed.h"', '"../proto/ws.h"',
                    '"../proto/multipart.h"', "<stdlib.h>"]

_INT_MACRO = re.compile(r"^#define\s+((?:MG|MBUF|MGIO)_[A-Z0-9_]+)\s+(\(?[-0-9(][^\"]*)$")


def library_sources() -> list[Path]:
    layers = ("base", "net", "proto", "http")
    return sorted(p for layer in layers for p in (CSRC / layer).glob("*.c"))


def cdef_text() -> str:
    """The header's declarations and integer constants, in the form cffi's cdef takes."""
    pre = subprocess.run(
        [os.environ.get("CC", "cc"), "-E", "-P", "-DMGIO_CDEF", "-x", "c", str(HEADER)],
        check=True, capture_output=True, text=True,
    ).stdout
    consts = []
    for line in HEADER.read_text().splitlines():
        m = _INT_MACRO.match(line.strip())
        if m:
            consts.append(f"#define {m.group(1)} ...")
    return pre + "\n" + "\n".join(consts) + "\n" + TEST_CDEF


def _fingerprint(sanitize: bool) -> str:
    h = hashlib.sha256(str(sanitize).encode())
    # Internal headers too: a change to one (proto/chunked.h, ...) must rebuild.
    headers = sorted(CSRC.glob("*/*.h"))
    for p in [HEADER, Path(__file__), *library_sources(), *TEST_SOURCES, *headers]:
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def build(sanitize: bool = False):
    """Returns (ffi, lib), building the module unless an identical build exists."""
    name = f"_mgio_cffi_{_fingerprint(sanitize)}"
    BUILD.mkdir(exist_ok=True)
    target = BUILD / f"{name}.so"
    if not target.exists():
        ffi = cffi.FFI()
        ffi.cdef(cdef_text())
        # The wrapper calls every declared function, deprecated ones included.
        flags = ["-std=c11", "-Wall", "-Wextra", "-Wno-deprecated-declarations", "-O1", "-g"]
        link = ["-pthread"]
        if sanitize:
            san = ["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]
            flags += san
            link += san
        ffi.set_source(
            name,
            "".join(f"#include {h}\n" for h in WRAPPER_INCLUDES),
            sources=[str(p) for p in library_sources() + TEST_SOURCES],
            include_dirs=[str(CSRC / "include"), str(CSRC / "tests")],
            define_macros=TEST_DEFINES,
            extra_compile_args=flags,
            extra_link_args=link,
            libraries=["z"],  # zlib: permessage-deflate (csrc/proto/ws_deflate.c)
        )
        # Build in a private folder, then rename: concurrent test runs never see half a file.
        work = BUILD / f"{name}.{os.getpid()}"
        built = ffi.compile(tmpdir=str(work), verbose=False)
        os.replace(built, target)
        shutil.rmtree(work, ignore_errors=True)
    spec = importlib.util.spec_from_file_location(name, target)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    spec.loader.exec_module(mod)
    return mod.ffi, mod.lib
