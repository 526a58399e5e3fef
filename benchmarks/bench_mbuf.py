"""Mbuf against bytearray, in the same run: appends, and consuming from the front.

Each workload runs for Mbuf and bytearray alternately, several rounds, and the median of
each side is compared, so a noisy shared machine shifts both sides alike. The ratio is
bytearray time / Mbuf time: above 1.0 means Mbuf is faster.

    python benchmarks/bench_mbuf.py            # full run
    python benchmarks/bench_mbuf.py --quick    # CI smoke run, a few seconds
    python benchmarks/bench_mbuf.py --markdown # the table for benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from mgio import Mbuf

CHUNK_64 = b"x" * 64
CHUNK_4K = b"w" * 4096
SEGMENT = b"y" * 1460  # one TCP segment's worth
BIG = b"z" * (256 * 1024)


def append_small(make: Callable, n: int) -> int:
    """Appends 64-byte chunks until 1 MiB, with the method call (append / extend)."""
    for _ in range(n):
        buf = make()
        add = buf.append if isinstance(buf, Mbuf) else buf.extend
        for _ in range(16384):
            add(CHUNK_64)
    return n * 16384


def append_operator(make: Callable, n: int) -> int:
    """Appends 64-byte chunks until 1 MiB with +=."""
    for _ in range(n):
        buf = make()
        for _ in range(16384):
            buf += CHUNK_64
    return n * 16384


def append_large(make: Callable, n: int) -> int:
    """Buffers a 16 MiB body arriving in 4 KiB pieces (growth far past the headroom cap)."""
    for _ in range(n):
        buf = make()
        for _ in range(4096):
            buf += CHUNK_4K
    return n * 4096


def _remover(buf) -> Callable[[int], None]:
    if isinstance(buf, Mbuf):
        return buf.remove

    def remove(k: int) -> None:
        del buf[:k]

    return remove


def stream_messages(make: Callable, n: int) -> int:
    """A parser's pattern: a segment arrives, 100-byte messages are sliced off the front."""
    buf = make()
    add = buf.append if isinstance(buf, Mbuf) else buf.extend
    remove = _remover(buf)
    ops = 0
    for _ in range(n):
        add(SEGMENT)
        while len(buf) >= 100:
            buf[:100]
            remove(100)
            ops += 1
    return ops


def drain_large(make: Callable, n: int) -> int:
    """A 256 KiB body consumed from the front in 256-byte pieces."""
    ops = 0
    for _ in range(n):
        buf = make()
        buf += BIG
        remove = _remover(buf)
        while buf:
            remove(256)
            ops += 1
    return ops


WORKLOADS = [
    ("append 64 B x 16384 (method)", append_small, 4),
    ("append 64 B x 16384 (+=)", append_operator, 4),
    ("append 4 KiB x 4096 (16 MiB, +=)", append_large, 2),
    ("segment in, 100 B messages out", stream_messages, 20000),
    ("drain 256 KiB in 256 B pieces", drain_large, 20),
]


def time_once(fn: Callable, make: Callable, n: int) -> float:
    t0 = time.perf_counter()
    ops = fn(make, n)
    return (time.perf_counter() - t0) / ops


def run(rounds: int, scale: float) -> list[tuple[str, float, float, float, float]]:
    rows = []
    for name, fn, n in WORKLOADS:
        n = max(1, int(n * scale))
        mb, ba = [], []
        time_once(fn, Mbuf, n)  # warm-up: first-touch page faults, caches
        time_once(fn, bytearray, n)
        for _ in range(rounds):  # alternate so drift hits both sides alike
            mb.append(time_once(fn, Mbuf, n))
            ba.append(time_once(fn, bytearray, n))
        m, b = statistics.median(mb), statistics.median(ba)
        spread = (max(mb) - min(mb)) / m if m else 0.0
        rows.append((name, m * 1e9, b * 1e9, b / m, spread))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few rounds, small sizes")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    args = ap.parse_args()
    rows = run(rounds=3 if args.quick else 11, scale=0.1 if args.quick else 1.0)
    if args.markdown:
        print("| workload | Mbuf ns/op | bytearray ns/op | ratio (>1: Mbuf faster) | Mbuf spread |")
        print("|---|---:|---:|---:|---:|")
        for name, m, b, r, s in rows:
            print(f"| {name} | {m:.1f} | {b:.1f} | {r:.2f} | {s:.0%} |")
        return
    print(f"{'workload':34} {'Mbuf ns':>9} {'bytearray ns':>13} {'ratio':>7} {'spread':>7}")
    for name, m, b, r, s in rows:
        print(f"{name:34} {m:9.1f} {b:13.1f} {r:7.2f} {s:7.0%}")


if __name__ == "__main__":
    main()
