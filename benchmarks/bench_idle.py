"""Memory per idle keep-alive connection: mgio (Python and C) against nginx, uvicorn and
aiohttp, in the same run.

Each server answers any request with a 5-byte "hello" and keeps the connection open; it
runs in a process of its own (pinned to one core, open-file limit raised to the hard
limit, connection caps and keep-alive timeouts raised so nothing is closed during the run).
A client process (this file with --client, pinned to the other core) opens N connections
in batches of 100; on each it sends one GET and reads the answer, then keeps them all
open. The server's VmRSS (/proc/PID/status, its whole process tree) is read before (after
a warm-up of 100 connections opened, used and closed) and after the N connections are
established and answered; (after - before) / N is the memory per idle connection.
Kernel memory (socket buffers, the epoll entry, the file) is not in VmRSS and not counted.
Each figure is the median of several rounds (a fresh server each round); spread is
(max - min) / median.

Servers: "mgio (Python)" - `mgio.Manager` with `max_connections` raised, a
`mgio.Handler` replying from `on_http_request`; "mgio (C)" - benchmarks/http_hello.c
(Mongoose 6 API) built with the library sources, its cap raised; nginx (1 process,
`return 200 "hello"`); uvicorn+httptools (raw ASGI app, `timeout_keep_alive` raised) and
aiohttp (`keepalive_timeout` raised), for reference.

Targets (issue 8): at most 4 KiB per connection for the Python server, 2 KiB for C.

    python benchmarks/bench_idle.py             # full: 10,000 connections, 3 rounds
    python benchmarks/bench_idle.py --quick     # CI smoke: 500 connections, 1 round
    python benchmarks/bench_idle.py --markdown  # the table for benchmarks/RESULTS.md
    python benchmarks/bench_idle.py --only "mgio (C)" --c-server EXE  # try a build
"""

from __future__ import annotations

import argparse
import asyncio
import os
import selectors
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bench_http import asgi_app
from benchcommon import build_c_server, format_table, have, machine, pick_cores, spread
from servers import HOST, ServerProcess, StartError, raise_nofile, start_nginx

HERE = Path(__file__).resolve().parent
C_SERVER_SOURCE = HERE / "http_hello.c"
BATCH = 100
WARM_UP = 100
CAP = 30_000  # connection caps and nginx's worker_connections
KEEP_ALIVE = 600  # seconds, for the servers whose default would close idle connections
REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
TARGETS = {"mgio (Python)": 4.0, "mgio (C)": 2.0}  # KiB per connection

# ---- servers that run as this file (--serve NAME) -----------------------------------------


def serve_mgio() -> None:
    import mgio

    class Hello(mgio.Handler):
        def on_http_request(self, conn, msg):
            conn.reply(200, b"hello", {"Content-Type": "text/plain"})

    mgr = mgio.Manager()
    mgr.max_connections = CAP
    listener = mgr.bind(f"{HOST}:0", Hello(), http=True)
    print(listener.local_address[1], flush=True)
    mgr.run()


def serve_aiohttp() -> None:
    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(body=b"hello", content_type="text/plain")

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", hello)
        runner = web.AppRunner(app, access_log=None, keepalive_timeout=KEEP_ALIVE)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0, backlog=4096)
        await site.start()
        print(runner.addresses[0][1], flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def serve_uvicorn() -> None:
    import uvicorn

    sock = socket.socket()
    sock.bind((HOST, 0))
    config = uvicorn.Config(asgi_app, http="httptools", lifespan="off", access_log=False,
                            log_level="warning", timeout_keep_alive=KEEP_ALIVE, backlog=4096,
                            loop="uvloop" if have("uvloop") else "asyncio")
    print(sock.getsockname()[1], flush=True)
    uvicorn.Server(config).run(sockets=[sock])


SERVE: dict[str, Callable[[], None]] = {
    "mgio": serve_mgio,
    "aiohttp": serve_aiohttp,
    "uvicorn": serve_uvicorn,
}

# ---- the client (--client PORT N) ---------------------------------------------------------


def answered(data: bytes) -> bool:
    return b"\r\n\r\n" in data and data.endswith(b"hello")


def open_batch(port: int, n: int, timeout: float = 30.0) -> list[socket.socket]:
    """n connections, each with one request sent and its answer read."""
    socks = []
    sel = selectors.DefaultSelector()
    for _ in range(n):
        s = socket.create_connection((HOST, port), timeout=timeout)
        s.sendall(REQUEST)
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ, bytearray())
        socks.append(s)
    deadline, waiting = time.monotonic() + timeout, n
    while waiting:
        events = sel.select(max(0.0, deadline - time.monotonic()))
        if not events:
            raise SystemExit(f"client: {waiting} answers missing after {timeout:.0f} s")
        for key, _ in events:
            chunk = key.fileobj.recv(4096)  # type: ignore[union-attr]
            if not chunk:
                raise SystemExit("client: the server closed a connection")
            key.data.extend(chunk)
            if answered(key.data):
                sel.unregister(key.fileobj)
                waiting -= 1
    sel.close()
    return socks


def client(port: int, n: int) -> None:
    """Opens n connections (printing "open"), then holds them until stdin closes."""
    raise_nofile()
    socks = []
    for done in range(0, n, BATCH):
        socks += open_batch(port, min(BATCH, n - done))
    print("open", len(socks), flush=True)
    sys.stdin.read()
    for s in socks:
        s.close()


# ---- the parent ---------------------------------------------------------------------------


@dataclass
class Ctx:
    server_core: int | None
    client_core: int | None
    tmp: str
    logs: str
    c_server: str | None = None
    c_error: str = ""


def start_here(name: str) -> Callable[[Ctx], ServerProcess]:
    def start(ctx: Ctx) -> ServerProcess:
        argv = [sys.executable, __file__, "--serve", name]
        return ServerProcess(name, argv, ctx.server_core, ctx.logs)

    return start


def start_c(ctx: Ctx) -> ServerProcess:
    if ctx.c_server is None:
        raise StartError(ctx.c_error)
    argv = [ctx.c_server, f"{HOST}:0", str(CAP)]
    return ServerProcess("mgio (C)", argv, ctx.server_core, ctx.logs)


def start_nginx_hello(ctx: Ctx) -> ServerProcess:
    return start_nginx(ctx.tmp, ctx.logs, ctx.server_core, 'location / { return 200 "hello"; }',
                       connections=CAP)


def specs() -> list[tuple[str, str | None, Callable[[Ctx], ServerProcess]]]:
    """(row name, why it cannot run or None, start)."""
    pip = "not installed: {} (pip install {})"
    missing_uvicorn = [m for m in ("uvicorn", "httptools") if not have(m)]
    return [
        ("mgio (Python)", None, start_here("mgio")),
        ("mgio (C)", None, start_c),
        ("nginx (1 process)", None, start_nginx_hello),
        ("uvicorn+httptools", pip.format(*[" ".join(missing_uvicorn)] * 2)
         if missing_uvicorn else None, start_here("uvicorn")),
        ("aiohttp", None if have("aiohttp") else pip.format("aiohttp", "aiohttp"),
         start_here("aiohttp")),
    ]


def hold(ctx: Ctx, port: int, n: int) -> subprocess.Popen[str]:
    """Starts the client holding n connections to port; returns once they are open."""

    def pin() -> None:
        if ctx.client_core is not None:
            os.sched_setaffinity(0, {ctx.client_core})

    proc = subprocess.Popen([sys.executable, __file__, "--client", str(port), str(n)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            preexec_fn=pin)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("open"):
        proc.kill()
        raise SystemExit(f"bench_idle: the client failed against port {port}")
    return proc


def release(proc: subprocess.Popen[str]) -> None:
    assert proc.stdin is not None
    proc.stdin.close()
    proc.wait(timeout=30)
    if proc.stdout is not None:
        proc.stdout.close()


@dataclass
class Row:
    name: str
    note: str = ""
    per_conn: list[float] = field(default_factory=list)  # KiB per connection, by round
    base: list[int] = field(default_factory=list)  # KiB before, by round


def measure(ctx: Ctx, start: Callable[[Ctx], ServerProcess], n: int, row: Row) -> None:
    server = start(ctx)
    try:
        release(hold(ctx, server.port, WARM_UP))
        time.sleep(0.3)
        before = server.rss_kib()
        proc = hold(ctx, server.port, n)
        time.sleep(0.5)
        after = server.rss_kib()
        release(proc)
    finally:
        server.stop()
    row.base.append(before)
    row.per_conn.append((after - before) / n)


def run(ctx: Ctx, n: int, rounds: int, only: list[str] | None = None) -> list[Row]:
    rows, todo = [], []
    for name, missing, start in specs():
        if only and not any(name.startswith(x) for x in only):
            continue
        rows.append(Row(name, note=missing or ""))
        if not missing:
            todo.append((rows[-1], start))
    for _ in range(rounds):
        for row, start in todo:
            if row.note:
                continue
            try:
                measure(ctx, start, n, row)
            except StartError as e:
                row.note = str(e) if str(e).startswith("not installed") else f"failed: {e}"
    return rows


COLUMNS = ("server", "KiB per idle connection", "spread", "RSS before", "target", "verdict")


def cells(row: Row) -> list[str]:
    if row.note or not row.per_conn:
        return [row.name, row.note or "no figures", "", "", "", ""]
    kib = statistics.median(row.per_conn)
    want = TARGETS.get(row.name)
    verdict = "" if want is None else ("met" if kib <= want else "not met")
    return [
        row.name,
        f"{kib:.2f}",
        f"{spread(row.per_conn):.0%}" if len(row.per_conn) > 1 else "-",
        f"{statistics.median(row.base) / 1024:.1f} MiB",
        f"<= {want:g} KiB" if want else "reference",
        verdict,
    ]


def verdicts(rows: list[Row]) -> list[str]:
    """One line per target: "NAME: X KiB per idle connection (met; target <= Y KiB)"."""
    lines = []
    for row in rows:
        want = TARGETS.get(row.name)
        if want is None or row.note or not row.per_conn:
            continue
        kib = statistics.median(row.per_conn)
        verdict = "met" if kib <= want else "not met"
        lines.append(f"{row.name}: {kib:.2f} KiB per idle connection ({verdict}; target "
                     f"<= {want:g} KiB)")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="500 connections, 1 round")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--connections", type=int, help="idle connections (10,000; quick 500)")
    ap.add_argument("--rounds", type=int, help="rounds per server (3; quick 1)")
    ap.add_argument("--c-server", metavar="EXE", help="an http_hello build to use as mgio (C)")
    ap.add_argument("--only", nargs="+", metavar="ROW", help="rows starting with these")
    ap.add_argument("--serve", metavar="NAME", help=argparse.SUPPRESS)
    ap.add_argument("--client", nargs=2, type=int, metavar=("PORT", "N"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        return SERVE[args.serve]()
    if args.client:
        return client(*args.client)
    n = args.connections or (500 if args.quick else 10_000)
    rounds = args.rounds or (1 if args.quick else 3)
    limit = raise_nofile()
    if limit < n + 100:
        raise SystemExit(f"bench_idle: the open-file hard limit is {limit}, {n} needs more")
    server_core, client_core = pick_cores()
    with tempfile.TemporaryDirectory(prefix="bench_idle_") as tmp:
        logs = os.path.join(tmp, "logs")
        os.mkdir(logs)
        c_server, c_error = args.c_server, ""
        if c_server is None:
            c_server, c_error = build_c_server(tmp, C_SERVER_SOURCE)
        ctx = Ctx(server_core, client_core, tmp, logs, c_server, c_error)
        rows = run(ctx, n, rounds, args.only)
    print(format_table(COLUMNS, [cells(r) for r in rows], args.markdown))
    dash = "- " if args.markdown else ""
    if args.markdown:
        print()
    for line in verdicts(rows):
        print(dash + line)
    print(f"{dash}{n:,} connections, {rounds} round(s); machine: {machine()}")
    broken = [r for r in rows if r.name.startswith("mgio") and r.note]
    if broken:
        raise SystemExit("bench_idle: " + "; ".join(f"{r.name}: {r.note}" for r in broken))


if __name__ == "__main__":
    main()
