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
TEST_DEFINES = [("MBUF_REALLOC", "mgio_test_realloc"), ("MBUF_FREE", "mgio_test_free")]

# What cffi's generated wrapper includes: the public header and the test-only helpers.
WRAPPER_INCLUDES = ['"mgio.h"', '"test.h"', '"chunked_feed.h"', "<stdlib.h>"]

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
