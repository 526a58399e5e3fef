"""The filter of LeakSanitizer's reports that the Python run under ASan uses (.ci/run,
tests/sanitize/lsan_report.py), on a report recorded from that run with two leaks put in
the extension on purpose: a mbuf never freed in connect_ws (named: its stack is in
csrc/) and a Py_DECREF left out there (unattributed: the stack of a str that the
extension made through the C API stops inside CPython)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Protocol

import pytest

SANITIZE = Path(__file__).resolve().parent.parent / "sanitize"
SAMPLE = SANITIZE / "sample_lsan_report.txt"


def load_filter() -> ModuleType:
    """tests/sanitize/lsan_report.py, by path (that folder also holds a sitecustomize.py,
    which must not come onto sys.path)."""
    spec = importlib.util.spec_from_file_location("lsan_report", SANITIZE / "lsan_report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


lsan_report = load_filter()


def records(text: str) -> list[str]:
    """The report's leak records as text blocks (each up to the next blank line)."""
    return [b for b in text.split("\n\n") if "leak of" in b]


def run(tmp_path: Path, text: str) -> tuple[int, str]:
    """The filter's status and output on a report holding `text`, read from a folder as
    .ci/run names it (log_path=FOLDER/lsan writes FOLDER/lsan.PID)."""
    (tmp_path / "lsan.1234").write_text(text)
    out: list[str] = []
    return lsan_report.check([str(tmp_path)], out), "\n".join(out)


class LeakRecord(Protocol):
    """What these tests use of lsan_report.Leak (the module is loaded by path)."""

    def is_mgio(self) -> bool: ...


def one_leak(frame: str) -> LeakRecord:
    """The record of a report with one leak, whose stack is the interceptor and `frame`."""
    lines = [
        "Direct leak of 8 byte(s) in 1 object(s) allocated from:",
        "    #0 0x7f01 in __interceptor_malloc ../../../../src/libsanitizer/asan/a.cpp:69",
        frame,
    ]
    leaks: list[LeakRecord] = list(lsan_report.parse(lines))
    assert len(leaks) == 1
    return leaks[0]


def test_the_recorded_report_fails_and_names_the_leak_in_csrc(tmp_path: Path) -> None:
    rc, out = run(tmp_path, SAMPLE.read_text())
    assert rc == 1
    assert "6 leak record(s), 30652 byte(s) in 1377 allocation(s)" in out
    assert "CPython's (tracemalloc's traceback table): 1, 30288 byte(s)" in out
    assert "allocated by mgio's code (csrc/, mgio._core): 4, 253 byte(s)" in out
    assert "unattributed: 1, 111 byte(s) in 2 allocation(s)" in out
    assert out.count("in ws_protocols csrc/pyext/manager_object.c") == 4
    assert "in PyUnicode_New Objects/unicodeobject.c" in out
    # CPython's own record is counted, not printed
    assert "traceback_new" not in out


def test_cpythons_at_exit_memory_alone_passes(tmp_path: Path) -> None:
    text = SAMPLE.read_text()
    cpython = [b for b in records(text) if "_tracemalloc.c" in b]
    assert len(cpython) == 1
    rc, out = run(tmp_path, "\n\n".join([*cpython, "SUMMARY: AddressSanitizer: ...\n"]))
    assert rc == 0, out
    assert "mgio._core): 0, 0 byte(s)" in out and "unattributed: 0" in out


def test_an_unattributed_leak_alone_fails(tmp_path: Path) -> None:
    unattributed = [b for b in records(SAMPLE.read_text()) if "PyUnicode_New" in b]
    rc, out = run(tmp_path, unattributed[0] + "\n")
    assert rc == 1
    assert "unattributed: 1" in out


@pytest.mark.parametrize(
    "frame",
    [
        "    #3 0x7f00 in mbuf_reserve csrc/base/mbuf.c:74",
        "    #3 0x7f00 in f /src/mgio/csrc/net/io.c:148:7",
        "    #3 0x7f00  (/x/python/mgio/_core.cpython-311-x86_64-linux-gnu.so+0x1f)",
        "    #3 0x7f00 in f (/venv/mgio/_core.cpython-312-x86_64-linux-gnu.so+0x1f)",
    ],
)
def test_frames_in_mgio(frame: str) -> None:
    assert one_leak(frame).is_mgio()


@pytest.mark.parametrize(
    "frame",
    [
        "    #1 0x7f00 in raw_malloc Modules/_tracemalloc.c:260",
        "    #1 0x7f00 in PyUnicode_New Objects/unicodeobject.c:1425",
        "    #1 0x7f00 in foo ../src/libsanitizer/asan/x.cpp:1",
        "    #1 0x7f00 in bar (/venv/site-packages/_cffi_backend.cpython-311.so+0x2)",
    ],
)
def test_frames_not_in_mgio(frame: str) -> None:
    assert not one_leak(frame).is_mgio()


def test_an_asan_error_in_the_log_fails_and_is_printed(tmp_path: Path) -> None:
    text = (
        "==77==WARNING: AddressSanitizer failed to allocate 0x4000000000000000 bytes\n"
        "==77==ERROR: AddressSanitizer: heap-use-after-free on address 0x6020 at pc 0x7f00\n"
        "READ of size 1 at 0x6020 thread T0\n"
        "    #0 0x7f00 in Mbuf_item csrc/pyext/mbuf_object.c:371\n"
    )
    rc, out = run(tmp_path, text)
    assert rc == 1
    assert "heap-use-after-free" in out and "Mbuf_item csrc/pyext/mbuf_object.c:371" in out
    assert "failed to allocate" not in out


def test_no_report_is_no_leak(tmp_path: Path) -> None:
    out: list[str] = []
    assert lsan_report.check([str(tmp_path)], out) == 0
    assert out[0].startswith("LeakSanitizer: 0 report(s), 0 leak record(s)")


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert lsan_report.main([str(SAMPLE)]) == 1
    assert "ws_protocols" in capsys.readouterr().out
    assert lsan_report.main([]) == 2
