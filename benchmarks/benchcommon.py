"""Helpers the benchmarks share: finding peers, building the C core into a server,
pinning to cores, reading a process tree's CPU time."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import platform
import re
import shutil
import statistics
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

CSRC = Path(__file__).resolve().parent.parent / "csrc"


def have(module: str) -> bool:
    """Whether `module` can be imported here."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a submodule of a package that is not installed
        return False


def find_cc() -> str | None:
    return os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")


def link_libs() -> list[str]:
    """The libraries libmgio needs: LDLIBS of csrc/Makefile (zlib, pthread)."""
    try:
        text = (CSRC / "Makefile").read_text()
    except OSError:
        text = ""
    found = re.search(r"^LDLIBS\s*:?=(.*)$", text, re.MULTILINE)
    return found.group(1).split() if found else ["-lz", "-pthread"]


OBJ_CACHE_ENV = "MGIO_BENCH_OBJ_CACHE"


def object_path(folder: str, i: int, src: Path, command: list[str]) -> str:
    """Where the object of `src` goes: `folder`, or, when $MGIO_BENCH_OBJ_CACHE names a
    folder (the suite runner sets one for its run), a name there keyed by the compiler
    command and the source's path, size and mtime, so the suite compiles the library once."""
    cache = os.environ.get(OBJ_CACHE_ENV)
    if not cache:
        return os.path.join(folder, f"{i}_{src.stem}.o")
    st = src.stat()
    key = repr((command, str(src.resolve()), st.st_size, st.st_mtime_ns)).encode()
    return os.path.join(cache, f"{src.stem}-{hashlib.sha1(key).hexdigest()[:16]}.o")


def build_c_server(
    folder: str,
    source: Path,
    extra_sources: Sequence[Path] = (),
    includes: Sequence[Path] = (),
) -> tuple[str | None, str]:
    """Compiles `source` with the library sources (and `extra_sources`, with `includes`
    on the include path) at -O2 into `folder` (in parallel); (path, "") or (None, why)."""
    cc = find_cc()
    if cc is None:
        return None, "not installed: no C compiler (apt-get install gcc)"
    layers = ("base", "net", "proto", "http")
    sources = [source, *sorted(p for x in layers for p in (CSRC / x).glob("*.c"))]
    sources += extra_sources
    flags = ["-O2", "-std=c11", f"-I{CSRC / 'include'}", *(f"-I{d}" for d in includes)]

    def compile_one(i_src: tuple[int, Path]) -> tuple[str, str]:
        i, src = i_src
        obj = object_path(folder, i, src, [cc, *flags])
        if os.path.exists(obj):
            return obj, ""  # from the suite's object cache
        try:
            out = subprocess.run(
                [cc, *flags, "-c", str(src), "-o", f"{obj}.tmp"], capture_output=True, text=True
            )
        except OSError as e:
            return obj, f"cannot run {cc}: {e}"
        if out.returncode == 0:
            os.replace(f"{obj}.tmp", obj)
            return obj, ""
        return obj, out.stderr.strip() or f"{cc} exited with status {out.returncode}"

    with ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        results = list(pool.map(compile_one, enumerate(sources)))
    errors = [e for _, e in results if e]
    if errors:
        first = next((x for x in errors[0].splitlines() if "error" in x), errors[0][:200])
        return None, f"compile error: {first.strip()}"
    exe = os.path.join(folder, source.stem)
    objects = [o for o, _ in results]
    out = subprocess.run([cc, "-o", exe, *objects, *link_libs()], capture_output=True, text=True)
    if out.returncode != 0:
        return None, f"link error: {(out.stderr.strip() or '?').splitlines()[-1]}"
    return exe, ""


def pick_cores() -> tuple[int | None, int | None]:
    """(server core, client core), or Nones when fewer than two cores are ours."""
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        print("only one core available: server and client share it (no pinning)")
        return None, None
    return cores[0], cores[1]


def process_tree(pid: int) -> list[int]:
    """pid and its descendants (granian serves from a worker process)."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return pids


def cpu_seconds(pid: int) -> tuple[float, float]:
    """(utime, stime) of pid and its descendants so far, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for p in process_tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user += int(fields[11])
        system += int(fields[12])
    return user / tick, system / tick


def format_table(columns: Sequence[str], rows: Sequence[Sequence[str]], markdown: bool) -> str:
    """`rows` under `columns`: a markdown table (first column left-aligned, the rest
    right-aligned), or aligned plain text."""
    if markdown:
        lines = ["| " + " | ".join(columns) + " |", "|---|" + "---:|" * (len(columns) - 1)]
        return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])
    widths = [max(len(x) for x in col) for col in zip(columns, *rows, strict=True)]

    def line(r: Sequence[str]) -> str:
        pairs = enumerate(zip(r, widths, strict=True))
        return "  ".join(f"{x:{'<' if i == 0 else '>'}{w}}" for i, (x, w) in pairs)

    return "\n".join(line(r) for r in [columns, *rows])


def spread(values: Sequence[float]) -> float:
    """(max - min) / median: how much the runs of one figure disagree."""
    return (max(values) - min(values)) / statistics.median(values)


def machine() -> str:
    """CPU model, cores, Python version: the 'Machine:' line of a result."""
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        cpu = next((x.split(":", 1)[1].strip() for x in f if x.startswith("model name")), cpu)
    return f"{cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"
