"""HTTP hello world: mgio against aiohttp, uvicorn, granian and nginx, in the same run.

Every server answers any request with a 5-byte "hello" (text/plain) on keep-alive
connections, in a process of its own pinned to one core; the load generator, wrk
(`-t1 -c50`), runs pinned to another. Two groups, each with its own reference row:

- Python handler: mgio (a `mgio.Handler` whose on_http_request calls
  `conn.reply(200, b"hello", {"Content-Type": "text/plain"})`) against aiohttp
  (web.Application, asyncio loop), uvicorn with httptools (a raw ASGI app; uvloop when
  installed), granian (the same ASGI app, 1 worker, 1 runtime thread) and socketify (its
  native App API over uWebSockets: `res.end(b"hello")` from an `app.any("/*")` route).
- C handler: mgio's C core through the Mongoose 6 API (benchmarks/http_hello.c, compiled
  at start with the library sources at -O2, linked with csrc/Makefile's LDLIBS) against
  nginx with one process (`return 200 "hello";`, a config generated in a temporary folder).

Workloads: "keep-alive" (one request in flight per connection) and "pipelined x16"
(benchmarks/http_wrk.lua sends 16 requests per write). Near the kernel's ceiling
requests/s stops telling servers apart (DESIGN, "Tests"), so beside each rate: the
server's CPU time per request (utime + stime of the server's processes from /proc, over
the wrk run), the user part of it, and how busy the server and wrk were (CPU time / wall
time). Where the server is well below 100%, the rate is bound by wrk (near 100% then) or
by latency (neither is: on a VM, waking an idle core takes long), and CPU per request is
the comparison that tells.

Each figure is the median of several runs, the servers alternating (the order rotated
each round); spread is (max - min) / median of the rates. The ratios put each group's
mgio row against the row: mgio's rate / the row's, and the row's CPU per request /
mgio's; above 1.0 mgio is the faster or the cheaper. A peer that is not installed is
listed as such. wrk's error counts (connect, read, write, timeout, non-2xx) are shown.
Every server keeps its connections for the whole run: nginx's keepalive_requests is
raised from its default 1000, since none of the others closes after a request count.

    python benchmarks/bench_http.py            # full run, about 5 minutes
    python benchmarks/bench_http.py --quick    # CI smoke run, about 20 s
    python benchmarks/bench_http.py --markdown # the table for benchmarks/RESULTS.md

Needs: wrk (apt `wrk`), a C compiler and zlib (as csrc/ does), nginx (apt `nginx`), and
the Python peers (`pip install aiohttp uvicorn httptools uvloop granian socketify`). A
missing peer is reported as not installed; without wrk, --quick prints a note and exits 0
and a full run fails. The exit status is 1 when an mgio server fails to build or to start.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import importlib.util
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import wrkload
from benchcommon import build_c_server, have, pick_cores
from servers import START_TIMEOUT, ServerProcess, StartError, find_nginx, free_port
from wrkload import WrkSample

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
CSRC = HERE.parent / "csrc"
C_SERVER_SOURCE = HERE / "http_hello.c"
CONNECTIONS = 50
PIPELINE_DEPTH = 16
BODY = b"hello"

PY_GROUP = "Python handler"
C_GROUP = "C handler"

# ---- servers that run as this file (bench_http.py --serve NAME) ---------------------------


def serve_mgio(announce: Callable[[int], None]) -> None:
    import mgio

    class Hello(mgio.Handler):
        def on_http_request(self, conn, msg):
            conn.reply(200, b"hello", {"Content-Type": "text/plain"})

    mgr = mgio.Manager()
    listener = mgr.bind(f"{HOST}:0", Hello(), http=True)
    listener.set_limits(max_requests=0)  # kept for the whole run, like every server here
    announce(listener.local_address[1])
    mgr.run()


def serve_aiohttp(announce: Callable[[int], None]) -> None:
    from aiohttp import web

    async def hello(request: web.Request) -> web.Response:
        return web.Response(body=b"hello", content_type="text/plain")

    async def main() -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", hello)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0)
        await site.start()
        announce(runner.addresses[0][1])
        await asyncio.Event().wait()  # until the parent stops us

    asyncio.run(main())


HELLO_HEADERS = [(b"content-type", b"text/plain"), (b"content-length", b"5")]


async def asgi_app(scope, receive, send):
    """The raw ASGI app of the uvicorn and granian rows (no framework)."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HELLO_HEADERS})
    await send({"type": "http.response.body", "body": b"hello"})


def serve_uvicorn(announce: Callable[[int], None]) -> None:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    config = uvicorn.Config(
        asgi_app,
        http="httptools",
        loop="uvloop" if have("uvloop") else "asyncio",
        lifespan="off",
        access_log=False,
        log_level="warning",
    )
    announce(sock.getsockname()[1])
    uvicorn.Server(config).run(sockets=[sock])


def serve_socketify(announce: Callable[[int], None]) -> None:
    from socketify import App, AppListenOptions

    def hello(res, req) -> None:
        res.write_header("Content-Type", "text/plain")
        res.end(b"hello")

    app = App()
    app.any("/*", hello)
    app.listen(AppListenOptions(port=0, host=HOST), lambda config: announce(config.port))
    app.run()


IN_PROCESS: dict[str, Callable[[Callable[[int], None]], None]] = {
    "mgio": serve_mgio,
    "aiohttp": serve_aiohttp,
    "uvicorn": serve_uvicorn,
    "socketify": serve_socketify,
}


def serve(name: str) -> None:
    def announce(port: int) -> None:
        print(port, flush=True)

    IN_PROCESS[name](announce)


# ---- the parent: starting and measuring servers -------------------------------------------


def get_hello(port: int, timeout: float = 2.0) -> bytes:
    """One raw GET /; returns the whole response (head and body)."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\n\r\n".encode())
        data = b""
        while not (b"\r\n\r\n" in data and data.endswith(BODY)):
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    return data


class Server(ServerProcess):
    """A server process (servers.ServerProcess) that is ready once it answers the hello;
    `response` keeps that answer (its size is reported)."""

    response = b""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                self.fail(f"exited with status {self.proc.returncode}")
            try:
                response = get_hello(self.port)
                if response.startswith(b"HTTP/1.1 200") and response.endswith(BODY):
                    self.response = response
                    return
                self.fail(f"unexpected answer {response[:60]!r}")
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.fail(f"not answering after {START_TIMEOUT:.0f} s")
            time.sleep(0.05)


# ---- server definitions -------------------------------------------------------------------


@dataclass
class Spec:
    name: str
    group: str
    missing: str | None  # why it cannot run ("not installed (...)"), or None
    start: Callable[[Context], Server]


@dataclass
class Context:
    core: int | None
    tmp: str
    logs: str
    c_server: str | None = None  # the compiled http_hello, or None
    c_server_error: str = ""


def start_in_process(name: str, display: str) -> Callable[[Context], Server]:
    def start(ctx: Context) -> Server:
        return Server(display, [sys.executable, __file__, "--serve", name], ctx.core, ctx.logs)

    return start


def start_granian(loop: str) -> Callable[[Context], Server]:
    def start(ctx: Context) -> Server:
        port = free_port()
        options = (
            f"--interface asgi --host {HOST} --port {port} --workers 1 --runtime-threads 1 "
            f"--http 1 --no-ws --loop {loop} --log-level warning --no-access-log"
        )
        argv = [sys.executable, "-m", "granian", *options.split(), "--working-dir", str(HERE)]
        argv.append("bench_http:asgi_app")
        return Server(granian_name(loop), argv, ctx.core, ctx.logs, port=port)

    return start


def granian_name(loop: str) -> str:
    return f"granian ASGI ({loop})"


def start_c(ctx: Context) -> Server:
    assert ctx.c_server is not None
    return Server("mgio (C handler)", [ctx.c_server], ctx.core, ctx.logs)


NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    default_type text/plain;
    keepalive_requests 1000000;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen {host}:{port};
        location / {{ return 200 "hello"; }}
    }}
}}
"""


def start_nginx(ctx: Context) -> Server:
    nginx = find_nginx()
    assert nginx is not None
    port = free_port()
    conf = os.path.join(ctx.tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(tmp=ctx.tmp, host=HOST, port=port))
    argv = [nginx, "-p", ctx.tmp, "-c", conf, "-e", os.path.join(ctx.tmp, "nginx-error.log")]
    return Server("nginx (1 process)", argv, ctx.core, ctx.logs, port=port)


def specs(ctx: Context) -> list[Spec]:
    loop = "uvloop" if have("uvloop") else "asyncio"
    pip = "not installed (pip install {})"
    uvicorn_missing = [m for m in ("uvicorn", "httptools") if not have(m)]
    return [
        Spec(
            "mgio (Python handler)",
            PY_GROUP,
            None,
            start_in_process("mgio", "mgio (Python handler)"),
        ),
        Spec(
            "aiohttp (asyncio)",
            PY_GROUP,
            None if have("aiohttp") else pip.format("aiohttp"),
            start_in_process("aiohttp", "aiohttp (asyncio)"),
        ),
        Spec(
            f"uvicorn+httptools ({loop})",
            PY_GROUP,
            pip.format(" ".join(uvicorn_missing)) if uvicorn_missing else None,
            start_in_process("uvicorn", f"uvicorn+httptools ({loop})"),
        ),
        Spec(
            granian_name(loop),
            PY_GROUP,
            None if have("granian") else pip.format("granian"),
            start_granian(loop),
        ),
        Spec(
            "socketify (uWebSockets)",
            PY_GROUP,
            None if have("socketify") else pip.format("socketify"),
            start_in_process("socketify", "socketify (uWebSockets)"),
        ),
        Spec(
            "mgio (C handler)",
            C_GROUP,
            None if ctx.c_server else c_build_note(ctx.c_server_error),
            start_c,
        ),
        Spec(
            "nginx (1 process)",
            C_GROUP,
            None if find_nginx() else "not installed (apt-get install nginx)",
            start_nginx,
        ),
    ]


def c_build_note(error: str) -> str:
    return error if error.startswith("not installed") else f"failed to build: {error}"


# ---- load ---------------------------------------------------------------------------------


@dataclass
class Workload:
    name: str
    depth: int  # requests per write (1: plain keep-alive)


WORKLOADS = [Workload("keep-alive", 1), Workload(f"pipelined x{PIPELINE_DEPTH}", PIPELINE_DEPTH)]


def run_wrk(wrk: str, server: Server, w: Workload, seconds: int) -> WrkSample:
    return wrkload.run_wrk(wrk, server, "/", seconds, CONNECTIONS, w.depth)


@dataclass
class Row:
    workload: str
    group: str
    server: str
    note: str = ""  # "not installed (...)", "failed to start: ..."; no figures then
    samples: list[WrkSample] = field(default_factory=list)
    response_bytes: int = 0

    @property
    def ok(self) -> bool:
        return not self.note and bool(self.samples)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)

    @property
    def spread(self) -> float:
        rates = [s.rate for s in self.samples]
        return (max(rates) - min(rates)) / statistics.median(rates)


def run(ctx: Context, wrk: str, rounds: int, seconds: int, warm_up: bool) -> list[Row]:
    servers: list[Server] = []
    notes: dict[str, tuple[str, str]] = {}  # name -> (group, note)
    order: list[tuple[str, str]] = []
    try:
        for spec in specs(ctx):
            order.append((spec.name, spec.group))
            if spec.missing:
                notes[spec.name] = (spec.group, spec.missing)
                continue
            try:
                servers.append(spec.start(ctx))
            except StartError as e:
                notes[spec.name] = (spec.group, f"failed to start: {e}")
        rows: list[Row] = []
        for w in WORKLOADS:
            by_name = {
                s.name: Row(w.name, "", s.name, response_bytes=len(s.response)) for s in servers
            }
            if warm_up:
                for s in servers:
                    run_wrk(wrk, s, w, 1)
            for r in range(rounds):  # alternate, rotating the order, so drift hits all alike
                for s in servers[r % len(servers) :] + servers[: r % len(servers)]:
                    by_name[s.name].samples.append(run_wrk(wrk, s, w, seconds))
            for name, group in order:
                if name in by_name:
                    row = by_name[name]
                    row.group = group
                else:
                    row = Row(w.name, group, name, note=notes[name][1])
                rows.append(row)
        return rows
    finally:
        for s in servers:
            s.stop()


# ---- report -------------------------------------------------------------------------------

COLUMNS = (
    "workload",
    "server",
    "requests/s",
    "spread",
    "server CPU/req",
    "of which user",
    "server busy",
    "wrk busy",
    "wrk errors",
    "mgio/this rate",
    "this/mgio CPU",
)

TARGETS = [  # (group, peer name prefix, wanted mgio/peer rate ratio)
    (PY_GROUP, "uvicorn+httptools", 3.0),
    (PY_GROUP, "aiohttp", 6.0),
    (PY_GROUP, "granian", 1.0),
    (C_GROUP, "nginx", 1.0),
]


def reference(rows: list[Row], r: Row) -> Row | None:
    """The mgio row of r's workload and group, when it has figures."""
    ref = next((x for x in rows if x.workload == r.workload and x.group == r.group), None)
    return ref if ref is not None and ref.ok else None


def cells(rows: list[Row], r: Row) -> list[str]:
    if not r.ok:
        return [r.workload, r.server, r.note, *([""] * (len(COLUMNS) - 3))]
    ref = reference(rows, r)
    rate, cpu, user = r.median("rate"), r.median("cpu"), r.median("user")
    errors = sum(s.errors for s in r.samples)
    return [
        r.workload,
        r.server,
        f"{rate:,.0f}",
        f"{r.spread:.0%}",
        f"{cpu * 1e6:.2f} µs",
        f"{user * 1e6:.2f} µs",
        f"{r.median('busy'):.0%}",
        f"{r.median('client_busy'):.0%}",
        f"{errors:,}",
        f"{ref.median('rate') / rate:.2f}" if ref else "n/a",
        f"{cpu / ref.median('cpu'):.2f}" if ref else "n/a",
    ]


def target_lines(rows: list[Row]) -> list[str]:
    lines = []
    for group, prefix, want in TARGETS:
        for w in WORKLOADS:
            peer = next(
                (
                    r
                    for r in rows
                    if r.workload == w.name and r.group == group and r.server.startswith(prefix)
                ),
                None,
            )
            if peer is None:
                continue
            ref = reference(rows, peer)
            name = f"mgio ({group})"
            if ref is None or not peer.ok:
                why = peer.note if not peer.ok else "mgio has no figures"
                lines.append(f"{w.name}: {name} / {peer.server}: n/a ({why}); target {want:g}x")
                continue
            rate = ref.median("rate") / peer.median("rate")
            cpu = peer.median("cpu") / ref.median("cpu")
            verdict = "met" if rate >= want else "not met"
            lines.append(
                f"{w.name}: {name} / {peer.server} = {rate:.2f}x by rate ({verdict}; target "
                f"{want:g}x), {cpu:.2f}x by server CPU per request"
            )
    return lines


def response_lines(rows: list[Row]) -> list[str]:
    seen = {}
    for r in rows:
        if r.ok and r.server not in seen:
            seen[r.server] = r.response_bytes
    return [", ".join(f"{name} {n} B" for name, n in seen.items())]


def report(rows: list[Row], markdown: bool) -> None:
    table = [cells(rows, r) for r in rows]
    if markdown:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|---|---|" + "---:|" * (len(COLUMNS) - 2))
        for line in table:
            print("| " + " | ".join(line) + " |")
        print()
        print(f"- response size (head + body): {response_lines(rows)[0]}")
        for line in target_lines(rows):
            print(f"- {line}")
        return
    full = [line for line, r in zip(table, rows, strict=True) if r.ok]
    widths = [max(len(x) for x in col) for col in zip(COLUMNS, *full, strict=True)]
    previous = None
    for line, r in zip([COLUMNS, *table], [None, *rows], strict=True):
        if r is not None and (r.workload, r.group) != previous:
            previous = (r.workload, r.group)
            print(f"-- {r.workload}, {r.group} (ratios against mgio ({r.group}))")
        if r is not None and not r.ok:
            print(f"{line[0]:<{widths[0]}}  {r.server}: {r.note}")
            continue
        pairs = enumerate(zip(line, widths, strict=True))
        print("  ".join(f"{x:{'<' if i < 2 else '>'}{w}}" for i, (x, w) in pairs))
    print("response size (head + body): " + response_lines(rows)[0])
    for line in target_lines(rows):
        print(line)


def first_line(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return ((out.stdout or out.stderr).strip().splitlines() or ["?"])[0]


def versions(wrk: str) -> str:
    """What ran: the CPU, Python and the version of every server and of wrk."""
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        cpu = next((x.split(":", 1)[1].strip() for x in f if x.startswith("model name")), cpu)
    parts = [f"CPU {cpu} x{os.cpu_count()}", f"Python {platform.python_version()}"]
    for dist in ("mgio", "aiohttp", "uvicorn", "httptools", "uvloop", "granian", "socketify"):
        try:
            parts.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{dist} not installed")
    nginx = find_nginx()
    if nginx:
        parts.append(first_line([nginx, "-v"]).replace("nginx version: ", ""))
    parts.append(" ".join(first_line([wrk, "-v"]).split()[:2]))
    return ", ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one short run per server")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--rounds", type=int, help="runs per server and workload (5; quick 1)")
    ap.add_argument("--seconds", type=int, help="seconds per wrk run (4; quick 1)")
    ap.add_argument("--serve", metavar="NAME", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        return serve(args.serve)

    wrk = shutil.which("wrk")
    if wrk is None:
        msg = "bench_http: wrk is not installed (apt-get install wrk); "
        if args.quick:
            print(msg + "skipping the HTTP benchmark (quick mode)")
            return
        raise SystemExit(msg + "it is the load generator")
    rounds = args.rounds or (1 if args.quick else 5)
    seconds = args.seconds or (1 if args.quick else 4)
    server_core, client_core = pick_cores()
    with tempfile.TemporaryDirectory(prefix="bench_http_") as tmp:
        logs = os.path.join(tmp, "logs")
        os.mkdir(logs)
        c_server, c_error = build_c_server(tmp, C_SERVER_SOURCE)
        if client_core is not None:
            os.sched_setaffinity(0, {client_core})  # wrk inherits it
        ctx = Context(server_core, tmp, logs, c_server, c_error)
        rows = run(ctx, wrk, rounds, seconds, warm_up=not args.quick)
    report(rows, args.markdown)
    print(("- " if args.markdown else "") + "versions: " + versions(wrk))
    broken = {
        r.server: r.note
        for r in rows
        if r.server.startswith("mgio") and not r.ok and not r.note.startswith("not installed")
    }
    if broken:  # a peer may be missing; mgio itself must run
        raise SystemExit("bench_http: " + "; ".join(f"{k}: {v}" for k, v in broken.items()))


if __name__ == "__main__":
    main()
