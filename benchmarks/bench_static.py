"""A 1 MiB static file over keep-alive: mgio (C and Python) against nginx, in one run.

Every server serves the same folder holding one 1 MiB file of random bytes from a process
of its own pinned to one core; wrk (`-t1 -c16`, keep-alive) runs pinned to the other and
fetches /file.bin again and again. Servers:

- mgio (C): examples/c/http_server.c (mg_serve_http, the Mongoose 6 API) built with the
  library sources at -O2;
- mgio (Python): `python -m mgio serve DIR --quiet`, the Python serve_dir path
  (`mgio.Handler.on_http_request` -> `conn.serve_dir`);
- nginx (1 process, no master) with `root DIR`, once with `sendfile off` (nginx's default,
  and what mgio does: pread into the connection's send buffer, then send) and once with
  `sendfile on` (zero-copy, as Debian's packaged config sets it).

Each figure is the median of several runs, the servers alternating (the order rotated
every round); spread is (max - min) / median of the rates. Beside the rate: the server's
CPU time per request (utime + stime from /proc over the wrk run) and how busy the server
and wrk were. Ratios: mgio's rate / the row's, and the row's CPU per request / mgio's
(above 1.0: mgio is better), against each mgio row. Target (issue 8): mgio >= 1x nginx.

    python benchmarks/bench_static.py             # full run, about 2 minutes
    python benchmarks/bench_static.py --quick     # CI smoke run, about 15 s
    python benchmarks/bench_static.py --markdown  # the table for benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchcommon import build_c_server, format_table, machine, pick_cores, spread
from servers import ServerProcess, StartError, find_nginx, start_nginx
from wrkload import WrkSample, run_wrk

HERE = Path(__file__).resolve().parent
C_SERVER_SOURCE = HERE.parent / "examples" / "c" / "http_server.c"
FILE_NAME = "file.bin"
FILE_SIZE = 1 << 20
CONNECTIONS = 16
MGIO_ROWS = ("mgio (C)", "mgio (Python serve_dir)")


@dataclass
class Ctx:
    core: int | None
    tmp: str
    logs: str
    root: str
    c_server: str | None = None
    c_error: str = ""


def start_c(ctx: Ctx) -> ServerProcess:
    if ctx.c_server is None:
        raise StartError(ctx.c_error)
    return ServerProcess(MGIO_ROWS[0], [ctx.c_server, "127.0.0.1:0", ctx.root], ctx.core,
                         ctx.logs)


def start_python(ctx: Ctx) -> ServerProcess:
    argv = [sys.executable, "-m", "mgio", "serve", ctx.root, "--listen", "127.0.0.1:0",
            "--quiet"]
    return ServerProcess(MGIO_ROWS[1], argv, ctx.core, ctx.logs)


def start_nginx_static(sendfile: bool) -> Callable[[Ctx], ServerProcess]:
    def start(ctx: Ctx) -> ServerProcess:
        folder = os.path.join(ctx.tmp, f"nginx-{sendfile}")
        os.makedirs(folder, exist_ok=True)
        directive = f"location / {{ root {ctx.root}; sendfile {'on' if sendfile else 'off'}; }}"
        server = start_nginx(folder, ctx.logs, ctx.core, directive)
        server.name = nginx_name(sendfile)
        return server

    return start


def nginx_name(sendfile: bool) -> str:
    return f"nginx (1 process, sendfile {'on' if sendfile else 'off'})"


def specs() -> list[tuple[str, str | None, Callable[[Ctx], ServerProcess]]]:
    no_nginx = None if find_nginx() else "not installed: nginx (apt-get install nginx)"
    return [
        (MGIO_ROWS[0], None, start_c),
        (MGIO_ROWS[1], None, start_python),
        (nginx_name(False), no_nginx, start_nginx_static(False)),
        (nginx_name(True), no_nginx, start_nginx_static(True)),
    ]


@dataclass
class Row:
    name: str
    note: str = ""
    samples: list[WrkSample] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)


def run(ctx: Ctx, wrk: str, rounds: int, seconds: float, warm_up: bool) -> list[Row]:
    rows, live = [], []
    try:
        for name, missing, start in specs():
            rows.append(Row(name, note=missing or ""))
            if missing:
                continue
            try:
                live.append((rows[-1], start(ctx)))
            except StartError as e:
                rows[-1].note = f"failed to start: {e}"
        path = f"/{FILE_NAME}"
        if warm_up:
            for _, server in live:
                run_wrk(wrk, server, path, 1, CONNECTIONS)
        for r in range(rounds):
            for row, server in live[r % len(live):] + live[: r % len(live)]:
                row.samples.append(run_wrk(wrk, server, path, seconds, CONNECTIONS))
    finally:
        for _, server in live:
            server.stop()
    return rows


COLUMNS = ("server", "requests/s", "MiB/s", "spread", "server CPU/req", "of which user",
           "server busy", "wrk busy", "errors", "mgio C/this", "mgio Python/this")


def cells(rows: list[Row], row: Row) -> list[str]:
    if row.note or not row.samples:
        return [row.name, row.note or "no figures", *[""] * (len(COLUMNS) - 2)]
    refs = [next(r for r in rows if r.name == name) for name in MGIO_ROWS]
    rate = row.median("rate")
    ratios = [f"{r.median('rate') / rate:.2f}" if r.samples else "n/a" for r in refs]
    return [
        row.name,
        f"{rate:,.0f}",
        f"{rate * FILE_SIZE / (1 << 20):,.0f}",
        f"{spread([s.rate for s in row.samples]):.0%}",
        f"{row.median('cpu') * 1e6:.0f} µs",
        f"{row.median('user') * 1e6:.0f} µs",
        f"{row.median('busy'):.0%}",
        f"{row.median('client_busy'):.0%}",
        f"{sum(s.errors for s in row.samples):,}",
        *ratios,
    ]


def verdicts(rows: list[Row]) -> list[str]:
    lines = []
    by_name = {r.name: r for r in rows}
    for mgio in MGIO_ROWS:
        for sendfile in (False, True):
            ref, peer = by_name[mgio], by_name[nginx_name(sendfile)]
            if not (ref.samples and peer.samples):
                lines.append(f"{mgio} / {peer.name}: n/a ({peer.note or ref.note})")
                continue
            rate = ref.median("rate") / peer.median("rate")
            cpu = peer.median("cpu") / ref.median("cpu")
            verdict = "met" if rate >= 1.0 else "not met"
            lines.append(f"{mgio} / {peer.name} = {rate:.2f}x by rate ({verdict}; target 1x), "
                         f"{cpu:.2f}x by server CPU per request")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one short run per server")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--rounds", type=int, help="runs per server (5; quick 1)")
    ap.add_argument("--seconds", type=int, help="seconds per wrk run (4; quick 1)")
    args = ap.parse_args()
    wrk = shutil.which("wrk")
    if wrk is None:
        print("bench_static: wrk is not installed (apt-get install wrk); skipping")
        raise SystemExit(0 if args.quick else 1)
    rounds = args.rounds or (1 if args.quick else 5)
    seconds = args.seconds or (1 if args.quick else 4)
    server_core, client_core = pick_cores()
    with tempfile.TemporaryDirectory(prefix="bench_static_") as tmp:
        root, logs = os.path.join(tmp, "www"), os.path.join(tmp, "logs")
        os.mkdir(root)
        os.mkdir(logs)
        with open(os.path.join(root, FILE_NAME), "wb") as f:
            f.write(os.urandom(FILE_SIZE))
        c_server, c_error = build_c_server(tmp, C_SERVER_SOURCE)
        if client_core is not None:
            os.sched_setaffinity(0, {client_core})  # wrk inherits it
        rows = run(Ctx(server_core, tmp, logs, root, c_server, c_error), wrk, rounds, seconds,
                   warm_up=not args.quick)
    print(format_table(COLUMNS, [cells(rows, r) for r in rows], args.markdown))
    dash = "- " if args.markdown else ""
    if args.markdown:
        print()
    for line in verdicts(rows):
        print(dash + line)
    print(f"{dash}1 MiB file, wrk -t1 -c{CONNECTIONS}, {rounds} round(s) of {seconds} s; "
          f"machine: {machine()}")
    broken = [r for r in rows if r.name in MGIO_ROWS and r.note]
    if broken:
        raise SystemExit("bench_static: " + "; ".join(f"{r.name}: {r.note}" for r in broken))


if __name__ == "__main__":
    main()
