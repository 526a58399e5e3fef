"""Builds the C extension mgio._core from csrc/ (the metadata lives in pyproject.toml)."""

import os
from glob import glob

from setuptools import Extension, setup

CORE_LAYERS = ("base", "net", "proto", "http")
sources = sorted(f for layer in CORE_LAYERS for f in glob(f"csrc/{layer}/*.c"))
sources += sorted(glob("csrc/pyext/*.c"))

compile_args = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Wno-missing-field-initializers"]
if os.environ.get("MGIO_STRICT") == "1":  # CI: a warning fails the build
    compile_args.append("-Werror")

core = Extension(
    "mgio._core",
    sources=sources,
    include_dirs=["csrc/include", "csrc/pyext"],
    # mbuf storage goes through Python's raw allocator, so tracemalloc sees it (leak tests).
    define_macros=[
        ("MBUF_REALLOC", "PyMem_RawRealloc"),
        ("MBUF_FREE", "PyMem_RawFree"),
    ],
    extra_compile_args=compile_args,
    libraries=["z"],  # zlib, for permessage-deflate (csrc/proto/ws_deflate.c)
    extra_link_args=["-pthread"],
)

setup(ext_modules=[core])
