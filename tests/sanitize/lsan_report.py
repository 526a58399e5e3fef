"""Reads LeakSanitizer's reports of the Python test run under ASan (.ci/run) and fails on
any leak that is not CPython's known at-exit memory, naming the ones mgio's code allocated.

The run sets PYTHONMALLOC=malloc, so every Python object is a malloc block that LSan can
scan (pymalloc's arenas are mmap'd and would hide the pointers in them), and LSan's
exitcode=0, so pytest's status is its own. Each leak record is then one of:

- mgio's: a frame of its allocation stack is in mgio's C code, a source file under csrc/
  (the extension is built with -g) or, for a frame without line info, the extension
  module _core itself. Printed whole; fails.
- CPython's: tracemalloc's own traceback table (allocated by raw_malloc in
  Modules/_tracemalloc.c), which CPython leaves at exit. Counted only.
- unattributed: anything else. Fails too. ASan unwinds malloc's stack by frame pointers
  (the exact unwinder costs about 7 times the run), and CPython is built without them,
  so a Python object that the extension made through the C API and leaked (a missing
  Py_DECREF) shows a stack that stops inside CPython; and a leaked reference to an
  object allocated elsewhere shows that allocation's stack. The suite leaves no other
  leak, so one of these is a finding: rerun the test with ASAN_OPTIONS
  fast_unwind_on_malloc=0 to see the whole stack.

log_path= sends ASan's other reports (a heap overflow, a use after free) to the same
files, and they end the process before any leak check: such a report is printed whole
(less the warnings of allocations that tests make fail on purpose) and fails too.

Usage: python tests/sanitize/lsan_report.py REPORT_OR_FOLDER...
Exit status 1 when any leak is mgio's or unattributed, or ASan reported an error, else 0.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HEADER_RE = re.compile(
    r"^(?P<kind>Direct|Indirect) leak of (?P<bytes>\d+) byte\(s\) in "
    r"(?P<count>\d+) object\(s\) allocated from:$"
)
# "    #3 0x7f.. in func file.c:12:3", "    #3 0x7f.. in func (lib.so+0x1f)", or no "in"
FRAME_RE = re.compile(r"^\s+#\d+ 0x[0-9a-fA-F]+ (?:in )?(?P<where>.*)$")
# mgio's sources as the compiler names them (setup.py passes csrc/... relative paths),
# and the extension module for frames that have no line info.
MGIO_FRAME_RE = re.compile(r"(?:^|[\s/(])csrc/|(?:^|/)_core\.cpython-[^/\s)]*\.so\b")
# the interceptor frame (#0) names the sanitizer, not the allocating code
RUNTIME_FRAME_RE = re.compile(r"libsanitizer/|__interceptor_|\blib[al]san\.so")
# an ASan report other than LeakSanitizer's ("==12==ERROR: AddressSanitizer: heap-...")
ASAN_ERROR_RE = re.compile(r"^==\d+==ERROR: AddressSanitizer")
# what allocator_may_return_null=1 prints for each allocation the tests make fail
ALLOC_FAILED_RE = re.compile(r"^==\d+==WARNING: AddressSanitizer failed to allocate")
# tracemalloc's own bookkeeping (its traceback table), which CPython keeps to the end:
# allocated directly by its raw_malloc / raw_realloc
CPYTHON_FRAME_RE = re.compile(r"^raw_(?:malloc|realloc) \S*Modules/_tracemalloc\.c:")


@dataclass
class Leak:
    """One record of a LeakSanitizer report: a leak's size and its allocation stack."""

    kind: str
    size: int
    count: int
    frames: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def is_mgio(self) -> bool:
        """True when a frame of the allocation stack is in mgio's C code."""
        return any(MGIO_FRAME_RE.search(f) for f in self.frames)

    def is_cpython(self) -> bool:
        """True when CPython's own bookkeeping allocated the block (see CPYTHON_FRAME_RE)."""
        first = self.first_frame(full=True)
        return not self.is_mgio() and CPYTHON_FRAME_RE.search(first) is not None

    def first_frame(self, full: bool = False) -> str:
        """The first frame past the allocator interceptor (what allocated): its function
        name, or the whole frame if `full`; '?' when the stack has no such frame."""
        for f in self.frames:
            if not RUNTIME_FRAME_RE.search(f):
                return f if full else f.split(" ", 1)[0]
        return "?"


def parse(lines: Iterable[str]) -> Iterator[Leak]:
    """The leak records in a report's lines; everything else (ASan's warnings, the
    SUMMARY line, other output sharing the log) is skipped."""
    leak: Leak | None = None
    for raw in lines:
        line = raw.rstrip("\n")
        header = HEADER_RE.match(line)
        if header:
            if leak is not None:
                yield leak
            leak = Leak(header["kind"], int(header["bytes"]), int(header["count"]))
            leak.text.append(line)
            continue
        frame = FRAME_RE.match(line) if leak is not None else None
        if leak is not None and frame:
            leak.frames.append(frame["where"])
            leak.text.append(line)
        elif leak is not None:  # a blank line or anything else ends the record
            yield leak
            leak = None
    if leak is not None:
        yield leak


def report_files(paths: Iterable[str]) -> list[Path]:
    """The files named, and the files in the folders named (LSan's log_path=PREFIX
    writes PREFIX.PID, one file per process that reported)."""
    found: list[Path] = []
    for p in map(Path, paths):
        found.extend(sorted(f for f in p.iterdir() if f.is_file()) if p.is_dir() else [p])
    return found


def total(leaks: list[Leak]) -> str:
    """Their size, as LSan's summary says it."""
    return f"{sum(x.size for x in leaks)} byte(s) in {sum(x.count for x in leaks)} allocation(s)"


def check(paths: Iterable[str], out: list[str]) -> int:
    """Appends what the reports say to `out`; 1 if any leak is mgio's or unattributed,
    or ASan reported an error."""
    files = report_files(paths)
    texts = {f: f.read_text(errors="replace").splitlines() for f in files}
    errors = 0
    for f, lines in texts.items():
        if any(ASAN_ERROR_RE.match(line) for line in lines):
            errors += 1
            out.append(f"AddressSanitizer reported an error ({f}):")
            out.extend(line for line in lines if not ALLOC_FAILED_RE.match(line))
            out.append("")
    leaks = [leak for lines in texts.values() for leak in parse(lines)]
    mine = [leak for leak in leaks if leak.is_mgio()]
    cpython = [leak for leak in leaks if leak.is_cpython()]
    other = [leak for leak in leaks if not leak.is_mgio() and not leak.is_cpython()]
    out.append(
        f"LeakSanitizer: {len(files)} report(s), {len(leaks)} leak record(s), {total(leaks)}"
    )
    out.append(f"  CPython's (tracemalloc's traceback table): {len(cpython)}, {total(cpython)}")
    out.append(f"  allocated by mgio's code (csrc/, mgio._core): {len(mine)}, {total(mine)}")
    out.append(f"  unattributed: {len(other)}, {total(other)}")
    for title, found in (
        ("allocated by mgio's code", mine),
        (
            "unattributed (a stack that stops inside CPython: rerun the tests that make it "
            "with fast_unwind_on_malloc=0 in ASAN_OPTIONS to see where it comes from)",
            other,
        ),
    ):
        if found:
            out.append("")
            out.append(f"Leaks {title}:")
            for leak in found:
                out.append("")
                out.extend(leak.text)
    return 1 if mine or other or errors else 0


def main(argv: list[str]) -> int:
    """Command line: the reports or folders to read; prints the verdict."""
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    out: list[str] = []
    rc = check(argv, out)
    print("\n".join(out))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
