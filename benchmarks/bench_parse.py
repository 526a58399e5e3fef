"""HTTP request parsing: mgio's C parser (mg_parse_http) against llhttp, in one process.

benchmarks/parse_harness.c parses one browser-like GET request (about 700 bytes, 15
fields) again and again with each parser, the parsers alternating within every round
(the order rotated), and prints nanoseconds per parse. It is compiled at run time with
the mgio library sources and llhttp's sources, all with the same compiler and flags
(`cc -O2 -std=c11`, as benchcommon.build_c_server builds every C server here).
Parsers:

- mgio: `mg_parse_http(req, len, &hm, 1)` - start line, every field as a view,
  Content-Length and the framing checks;
- llhttp: `llhttp_execute` with callbacks that keep what mgio keeps (method, URL, each
  field name and value as a view) - the same work, the peer of the target;
- llhttp (no callbacks): validation only, llhttp's floor.

Each figure is the median of the rounds; spread is (max - min) / median. The ratio is
mgio's time / the row's (target: mgio within 1.3x of llhttp, i.e. ratio <= 1.3). Beside
the times, instructions per parse from callgrind (`valgrind --tool=callgrind`), which do
not depend on the machine's load: the difference between two runs of N1 and N2 parses,
divided by N2 - N1, so start-up is not counted.

llhttp comes from the httptools sdist (it bundles llhttp under vendor/llhttp): fetched
with `pip download --no-binary :all: --no-deps httptools` into ~/.cache/mgio-bench (once;
$XDG_CACHE_HOME is honoured), or taken from --llhttp DIR (a folder with include/llhttp.h
and src/*.c). Debian packages only llhttp's JavaScript sources (node-llhttp), not the C
library.

    python benchmarks/bench_parse.py             # full run, about 30 s
    python benchmarks/bench_parse.py --quick     # CI smoke run, a few seconds
    python benchmarks/bench_parse.py --markdown  # the table for benchmarks/RESULTS.md

A missing llhttp or valgrind is reported in the table, not fatal; the exit status is 1
when the harness fails to build or the parsers disagree on the request.
"""

from __future__ import annotations

import argparse
import glob
import os
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from benchcommon import build_c_server, format_table, machine, spread

HERE = Path(__file__).resolve().parent
HARNESS = HERE / "parse_harness.c"
PARSERS = ("mgio", "llhttp", "llhttp-bare")
LABELS = {
    "mgio": "mgio mg_parse_http",
    "llhttp": "llhttp (callbacks keep the fields)",
    "llhttp-bare": "llhttp (no callbacks)",
}
TARGET = 1.3  # mgio's time / llhttp's at most this


def sdist_cache() -> Path:
    """Where the httptools sdist is kept between runs (pip download is slow: it prepares
    the sdist's metadata in an isolated build environment)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "mgio-bench"


def fetch_llhttp(tmp: str) -> tuple[Path | None, str]:
    """llhttp's folder from the httptools sdist (downloaded once), or (None, why)."""
    cache = sdist_cache()
    found = sorted(cache.glob("httptools-*.tar.gz"))
    if not found:
        cache.mkdir(parents=True, exist_ok=True)
        out = subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:",
             "--no-deps", "-d", str(cache), "httptools"],
            capture_output=True,
            text=True,
        )
        found = sorted(cache.glob("httptools-*.tar.gz"))
        if out.returncode != 0 or not found:
            why = (out.stderr.strip().splitlines() or ["?"])[-1]
            return None, f"not installed: llhttp (pip download httptools failed: {why})"
    with tarfile.open(found[-1]) as tar:
        members = [m for m in tar.getmembers() if "/vendor/llhttp/" in m.name]
        if hasattr(tarfile, "data_filter"):  # Python 3.10.12+/3.11.4+
            tar.extractall(tmp, members=members, filter="data")
        else:
            tar.extractall(tmp, members=members)  # members filtered to vendor/llhttp/
    folder = glob.glob(os.path.join(tmp, "httptools-*", "vendor", "llhttp"))
    return (Path(folder[0]), "") if folder else (None, "not installed: llhttp (not in sdist)")


def llhttp_version(folder: Path) -> str:
    text = (folder / "include" / "llhttp.h").read_text()
    parts = [re.search(rf"LLHTTP_VERSION_{k} (\d+)", text) for k in ("MAJOR", "MINOR", "PATCH")]
    return ".".join(m.group(1) if m else "?" for m in parts)


def build(tmp: str, llhttp: Path) -> tuple[str | None, str]:
    return build_c_server(
        tmp, HARNESS, extra_sources=sorted((llhttp / "src").glob("*.c")),
        includes=[llhttp / "include"],
    )


@dataclass
class Result:
    times: dict[str, list[float]] = field(default_factory=dict)  # ns per parse, by round
    instructions: dict[str, float] = field(default_factory=dict)  # per parse (callgrind)
    callgrind_note: str = ""


def time_parsers(exe: str, rounds: int, iterations: int, result: Result) -> None:
    out = subprocess.run([exe, "time", str(rounds), str(iterations)], capture_output=True,
                         text=True, check=True)
    for line in out.stdout.splitlines():
        name, ns = line.split()
        result.times.setdefault(name, []).append(float(ns))


def callgrind_total(exe: str, name: str, n: int, tmp: str) -> int:
    out = subprocess.run(
        ["valgrind", "--tool=callgrind", f"--callgrind-out-file={tmp}/cg.out", exe, "run",
         name, str(n)],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected\s*:\s*(\d+)", out.stderr)
    if found is None:
        raise RuntimeError(f"callgrind printed no total: {out.stderr[-200:]}")
    return int(found.group(1))


def count_instructions(exe: str, n1: int, n2: int, tmp: str, result: Result) -> None:
    if shutil.which("valgrind") is None:
        result.callgrind_note = "not installed: valgrind (apt-get install valgrind)"
        return
    for name in PARSERS:
        low, high = (callgrind_total(exe, name, n, tmp) for n in (n1, n2))
        result.instructions[name] = (high - low) / (n2 - n1)
    result.callgrind_note = f"callgrind, ({n2:,} parses - {n1:,} parses) / {n2 - n1:,}"


COLUMNS = ("parser", "ns/parse", "spread", "fastest round", "mgio/this time",
           "instructions/parse", "mgio/this instructions")


def cells(result: Result, name: str) -> list[str]:
    times, ref = result.times[name], statistics.median(result.times["mgio"])
    ins, ref_ins = result.instructions.get(name), result.instructions.get("mgio")
    median = statistics.median(times)
    return [
        LABELS[name],
        f"{median:.1f}",
        f"{spread(times):.0%}",
        f"{min(times):.1f}",
        f"{ref / median:.2f}",
        f"{ins:,.0f}" if ins else result.callgrind_note,
        f"{ref_ins / ins:.2f}" if ins and ref_ins else "n/a",
    ]


def report(result: Result, markdown: bool, note: str) -> None:
    dash = "- " if markdown else ""
    rows = [cells(result, name) for name in PARSERS]
    print(format_table(COLUMNS, rows, markdown))
    if markdown:
        print()
    mgio_ns = statistics.median(result.times["mgio"])
    ratio = mgio_ns / statistics.median(result.times["llhttp"])
    verdict = "met" if ratio <= TARGET else "not met"
    print(f"{dash}mgio / llhttp time = {ratio:.2f}x ({verdict}; target <= {TARGET}x)")
    if "mgio" in result.instructions:
        ins = result.instructions["mgio"] / result.instructions["llhttp"]
        print(f"{dash}mgio / llhttp instructions = {ins:.2f}x ({result.callgrind_note})")
    print(f"{dash}{note}; machine: {machine()}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a short run (CI smoke)")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--rounds", type=int, help="timed rounds per parser (15; quick 3)")
    ap.add_argument("--llhttp", type=Path, help="llhttp folder (include/, src/)")
    args = ap.parse_args()
    rounds = args.rounds or (3 if args.quick else 15)
    iterations = 20_000 if args.quick else 200_000
    with tempfile.TemporaryDirectory(prefix="bench_parse_") as tmp:
        llhttp, why = (args.llhttp, "") if args.llhttp else fetch_llhttp(tmp)
        if llhttp is None:
            print(f"bench_parse: {why}; nothing to compare against")
            raise SystemExit(0 if args.quick else 1)
        exe, err = build(tmp, llhttp)
        if exe is None:
            raise SystemExit(f"bench_parse: the harness failed to build: {err}")
        check = subprocess.run([exe, "check"], capture_output=True, text=True)
        if check.returncode != 0:
            raise SystemExit(f"bench_parse: {check.stdout.strip()} {check.stderr.strip()}")
        result = Result()
        time_parsers(exe, rounds, iterations, result)
        n1, n2 = (100, 1_100) if args.quick else (1_000, 11_000)
        count_instructions(exe, n1, n2, tmp, result)
        note = f"{check.stdout.strip()}; llhttp {llhttp_version(llhttp)}; cc -O2 -std=c11"
        note += f"; {rounds} rounds of {iterations:,} parses"
    report(result, args.markdown, note)


if __name__ == "__main__":
    main()
