"""WebSocket echo: mgio with a Python handler against websockets and aiohttp, in the same run.

Every server echoes each WebSocket message with its opcode, in a process of its own pinned
to one core; permessage-deflate is off everywhere (and never offered by the client):

- mgio: a `mgio.Handler` whose on_ws_message does `conn.send_ws(msg.data, msg.opcode)`
  (the reference row of the ratios), and "mgio, send_ws(msg)", the in-place echo
  (`conn.send_ws(msg)`: the payload is never made into a bytes object);
- websockets, its asyncio API (`websockets.asyncio.server.serve(..., compression=None)`,
  `async for message in ws: await ws.send(message)`), on the default asyncio loop;
- aiohttp (`web.WebSocketResponse(compress=False)`, `async for msg in ws`, then
  `send_bytes` / `send_str`), on the default asyncio loop;
- mgio (C handler): the C core alone through the Mongoose 6 API
  (benchmarks/ws_echo_c.c, built at start with the library sources at -O2), the
  ceiling a Python handler can approach.

The load generator, benchmarks/ws_client.c (compiled with cc -O2 at start), runs pinned to
another core: K connections each upgrade to a WebSocket, then send a masked binary frame
and wait for its echo, again and again, for a fixed time; messages of 16 B and 4 KiB, with
K = 50 (every server is CPU-bound) and K = 1 (bound by latency: the loopback and waking a
core). The client busy-polls, like echo_client.c, and reports the share of its time it
found nothing to read ("client idle"; near 0% the client, not the server, is the limit).

Beside each rate: the server's CPU time per round trip (utime + stime of its process from
/proc, over the timed part of the client run only: the client says when its handshakes are
done and when its last echo came back), the user part of it, and how busy the server was
(CPU time / wall time). Each figure is the median of several runs, the servers alternating
(the order rotated each round); spread is (max - min) / median of the rates. The ratios put
the "mgio" row against each row: mgio's rate / the row's, and the row's CPU per round trip
/ mgio's; above 1.0 mgio is the faster or the cheaper. A peer that is not installed is
listed as such; nothing asserts a speed.

    python benchmarks/bench_ws.py            # full run, about 4 minutes
    python benchmarks/bench_ws.py --quick    # CI smoke run, about 20 s
    python benchmarks/bench_ws.py --markdown # the table for benchmarks/RESULTS.md

Needs a C compiler and zlib (as csrc/ does); the peers are `pip install websockets
aiohttp` (both in the `test` extra). The exit status is 1 when the load client or an
mgio server fails to build or to start.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import importlib.util
import os
import platform
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchcommon import build_c_server, find_cc, have, pick_cores
from servers import START_TIMEOUT, ServerProcess, StartError

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
CSRC = HERE.parent / "csrc"
CLIENT_SOURCE = HERE / "ws_client.c"
C_SERVER_SOURCE = HERE / "ws_echo_c.c"
SIZES = (16, 4096)
CONNECTIONS = (50, 1)

# ---- servers that run as this file (bench_ws.py --serve NAME) -----------------------------


def run_mgio(handler: object, announce: Callable[[int], None]) -> None:
    import mgio

    mgr = mgio.Manager()
    listener = mgr.bind(f"{HOST}:0", handler, http=True)
    listener.set_limits(ws_deflate=False)
    announce(listener.local_address[1])
    mgr.run()


def serve_mgio(announce: Callable[[int], None]) -> None:
    import mgio

    class Echo(mgio.Handler):
        def on_ws_message(self, conn, msg):
            conn.send_ws(msg.data, msg.opcode)

    run_mgio(Echo(), announce)


def serve_mgio_in_place(announce: Callable[[int], None]) -> None:
    import mgio

    class Echo(mgio.Handler):
        def on_ws_message(self, conn, msg):
            conn.send_ws(msg)

    run_mgio(Echo(), announce)


def serve_websockets(announce: Callable[[int], None]) -> None:
    from websockets.asyncio.server import serve

    async def echo(ws) -> None:
        async for message in ws:
            await ws.send(message)

    async def main() -> None:
        async with serve(echo, HOST, 0, compression=None) as server:
            announce(next(iter(server.sockets)).getsockname()[1])
            await server.serve_forever()

    asyncio.run(main())


def serve_aiohttp(announce: Callable[[int], None]) -> None:
    from aiohttp import WSMsgType, web

    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False)
        await ws.prepare(request)
        async for msg in ws:
            if msg.type == WSMsgType.BINARY:
                await ws.send_bytes(msg.data)
            elif msg.type == WSMsgType.TEXT:
                await ws.send_str(msg.data)
        return ws

    async def main() -> None:
        app = web.Application()
        app.router.add_get("/", echo)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, HOST, 0)
        await site.start()
        announce(runner.addresses[0][1])
        await asyncio.Event().wait()  # until the parent stops us

    asyncio.run(main())


IN_PROCESS: dict[str, Callable[[Callable[[int], None]], None]] = {
    "mgio": serve_mgio,
    "mgio-in-place": serve_mgio_in_place,
    "websockets": serve_websockets,
    "aiohttp": serve_aiohttp,
}


def serve(name: str) -> None:
    def announce(port: int) -> None:
        print(port, flush=True)

    IN_PROCESS[name](announce)


# ---- the parent: building, starting and probing servers -----------------------------------


def recv_exactly(s: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def masked_frame(op: int, payload: bytes) -> bytes:
    assert len(payload) < 126
    key = os.urandom(4)
    body = bytes(b ^ key[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | op, 0x80 | len(payload)]) + key + body


def probe(port: int, timeout: float = 2.0) -> None:
    """Upgrades a connection, checks the echo of one binary message and closes it with the
    closing handshake; raises OSError (or ConnectionError) on any failure."""
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(
            f"GET / HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            "Sec-WebSocket-Version: 13\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = s.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        head, _, rest = head.partition(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 101") or rest:
            raise ConnectionError(f"handshake answer {head[:40]!r}")
        s.sendall(masked_frame(0x2, b"bench_ws probe"))
        if recv_exactly(s, 2) != bytes([0x82, 14]) or recv_exactly(s, 14) != b"bench_ws probe":
            raise ConnectionError("wrong echo")
        s.sendall(masked_frame(0x8, struct.pack("!H", 1000)))
        try:
            while s.recv(4096):
                pass
        except OSError:
            pass


class Server(ServerProcess):
    """A server process (servers.ServerProcess) that announces its port on its first line
    and is ready once it echoes a WebSocket message."""

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                probe(self.port)
                return
            except OSError as e:
                if self.proc.poll() is not None:
                    self.fail(f"exited with status {self.proc.returncode}")
                if time.monotonic() > deadline:
                    self.fail(f"no WebSocket echo after {START_TIMEOUT:.0f} s ({e})")
                time.sleep(0.05)


def build_client(folder: str) -> str:
    cc = find_cc()
    if cc is None:
        raise SystemExit("bench_ws: a C compiler (cc) is needed to build the load generator")
    exe = os.path.join(folder, "ws_client")
    try:
        out = subprocess.run(
            [cc, "-O2", "-o", exe, str(CLIENT_SOURCE)], capture_output=True, text=True
        )
    except OSError as e:
        raise SystemExit(f"bench_ws: cannot run the C compiler {cc!r}: {e}") from None
    if out.returncode != 0:
        raise SystemExit(f"bench_ws: the load generator does not build:\n{out.stderr.strip()}")
    return exe


@dataclass
class Spec:
    name: str
    missing: str | None  # why it cannot run ("not installed (...)"), or None
    argv: list[str]


def specs(c_server: str | None, c_error: str) -> list[Spec]:
    def me(name: str) -> list[str]:
        return [sys.executable, __file__, "--serve", name]

    pip = "not installed (pip install {})"
    if not have("websockets"):
        ws_missing: str | None = pip.format("websockets")
    elif not have("websockets.asyncio.server"):
        ws_missing = pip.format("'websockets>=13'") + ": no asyncio API"
    else:
        ws_missing = None
    if c_server is None:
        c_missing = (
            c_error if c_error.startswith("not installed") else f"failed to build: {c_error}"
        )
    else:
        c_missing = None
    return [
        Spec("mgio", None, me("mgio")),
        Spec("mgio, send_ws(msg)", None, me("mgio-in-place")),
        Spec("websockets (asyncio)", ws_missing, me("websockets")),
        Spec(
            "aiohttp (asyncio)", None if have("aiohttp") else pip.format("aiohttp"), me("aiohttp")
        ),
        Spec("mgio (C handler)", c_missing, [c_server or "?"]),
    ]


# ---- load ---------------------------------------------------------------------------------


@dataclass
class Workload:
    size: int
    conns: int

    @property
    def name(self) -> str:
        size = f"{self.size >> 10} KiB" if self.size >= 1024 else f"{self.size} B"
        return f"{size}, {self.conns} connection{'s' if self.conns > 1 else ''}"


WORKLOADS = [Workload(size, k) for size in SIZES for k in CONNECTIONS]


@dataclass
class Sample:
    rate: float  # round trips per second
    cpu: float  # server CPU seconds (user + system) per round trip
    user: float  # of which user
    busy: float  # server CPU seconds per wall second
    client_idle: float  # share of the client's time with nothing to read


def run_client(client: str, server: Server, w: Workload, seconds: float) -> Sample:
    argv = [client, HOST, str(server.port), str(w.conns), str(w.size), str(seconds)]
    proc = subprocess.Popen(
        argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert proc.stdin is not None and proc.stdout is not None
    try:
        ready = proc.stdout.readline()
        if ready.strip() == "ready":
            (u0, s0), t0 = server.cpu_seconds(), time.perf_counter()
            proc.stdin.write("\n")
            proc.stdin.flush()
            line = proc.stdout.readline()
            wall, (u1, s1) = time.perf_counter() - t0, server.cpu_seconds()
        else:
            line = ""
        _, err = proc.communicate(timeout=15)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    if proc.returncode != 0 or not line.startswith("ops="):
        why = err.strip() or f"exit status {proc.returncode}"
        raise SystemExit(f"ws_client against {server.name} ({w.name}): {why}")
    got = dict(item.split("=") for item in line.split())
    ops, elapsed = int(got["ops"]), float(got["seconds"])
    if ops == 0:
        raise SystemExit(f"ws_client against {server.name} ({w.name}): no round trip")
    cpu = u1 - u0 + s1 - s0
    return Sample(
        ops / elapsed, cpu / ops, (u1 - u0) / ops, cpu / wall, float(got["idle"]) / elapsed
    )


@dataclass
class Row:
    workload: str
    server: str
    note: str = ""  # "not installed (...)", "failed to start: ..."; no figures then
    samples: list[Sample] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.note and bool(self.samples)

    def median(self, attr: str) -> float:
        return statistics.median(getattr(s, attr) for s in self.samples)

    @property
    def spread(self) -> float:
        rates = [s.rate for s in self.samples]
        return (max(rates) - min(rates)) / statistics.median(rates)


def run(
    all_specs: list[Spec],
    client: str,
    core: int | None,
    logs: str,
    rounds: int,
    seconds: float,
    warm_up: bool,
) -> list[Row]:
    servers: list[Server] = []
    notes: dict[str, str] = {}
    try:
        for spec in all_specs:
            if spec.missing:
                notes[spec.name] = spec.missing
                continue
            try:
                servers.append(Server(spec.name, spec.argv, core, logs))
            except StartError as e:
                notes[spec.name] = f"failed to start: {e}"
        rows: list[Row] = []
        for w in WORKLOADS:
            by_name = {s.name: Row(w.name, s.name) for s in servers}
            if warm_up:
                for s in servers:
                    run_client(client, s, w, 0.3)
            for r in range(rounds):  # alternate, rotating the order, so drift hits all alike
                for s in servers[r % len(servers) :] + servers[: r % len(servers)]:
                    by_name[s.name].samples.append(run_client(client, s, w, seconds))
            for spec in all_specs:
                rows.append(by_name.get(spec.name) or Row(w.name, spec.name, note=notes[spec.name]))
        return rows
    finally:
        for s in servers:
            s.stop()


# ---- report -------------------------------------------------------------------------------

REFERENCE = "mgio"
TARGETS = [("websockets", 3.0), ("aiohttp", 2.0)]  # (peer name prefix, wanted mgio/peer rate)
COLUMNS = (
    "workload",
    "server",
    "round trips/s",
    "spread",
    "server CPU/rt",
    "of which user",
    "server busy",
    "client idle",
    "mgio/this rate",
    "this/mgio CPU",
)


def reference(rows: list[Row], workload: str) -> Row | None:
    ref = next((x for x in rows if x.workload == workload and x.server == REFERENCE), None)
    return ref if ref is not None and ref.ok else None


def cells(rows: list[Row], r: Row) -> list[str]:
    if not r.ok:
        return [r.workload, r.server, r.note, *([""] * (len(COLUMNS) - 3))]
    ref = reference(rows, r.workload)
    rate, cpu = r.median("rate"), r.median("cpu")
    return [
        r.workload,
        r.server,
        f"{rate:,.0f}",
        f"{r.spread:.0%}",
        f"{cpu * 1e6:.2f} µs",
        f"{r.median('user') * 1e6:.2f} µs",
        f"{r.median('busy'):.0%}",
        f"{r.median('client_idle'):.0%}",
        f"{ref.median('rate') / rate:.2f}" if ref else "n/a",
        f"{cpu / ref.median('cpu'):.2f}" if ref else "n/a",
    ]


def target_lines(rows: list[Row]) -> list[str]:
    lines = []
    for prefix, want in TARGETS:
        for w in WORKLOADS:
            peer = next(
                (r for r in rows if r.workload == w.name and r.server.startswith(prefix)), None
            )
            if peer is None:
                continue
            ref = reference(rows, w.name)
            if ref is None or not peer.ok:
                why = peer.note if not peer.ok else "mgio has no figures"
                lines.append(f"{w.name}: mgio / {peer.server}: n/a ({why}); target {want:g}x")
                continue
            rate = ref.median("rate") / peer.median("rate")
            cpu = peer.median("cpu") / ref.median("cpu")
            verdict = "met" if rate >= want else "not met"
            lines.append(
                f"{w.name}: mgio / {peer.server} = {rate:.2f}x by rate ({verdict}; target "
                f"{want:g}x), {cpu:.2f}x by server CPU per round trip"
            )
    return lines


def report(rows: list[Row], markdown: bool) -> None:
    table = [cells(rows, r) for r in rows]
    if markdown:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|---|---|" + "---:|" * (len(COLUMNS) - 2))
        for line in table:
            print("| " + " | ".join(line) + " |")
        print()
        for line in target_lines(rows):
            print(f"- {line}")
        return
    full = [line for line, r in zip(table, rows, strict=True) if r.ok] or [list(COLUMNS)]
    widths = [max(len(x) for x in col) for col in zip(COLUMNS, *full, strict=True)]
    previous = None
    for line, r in zip([COLUMNS, *table], [None, *rows], strict=True):
        if r is not None and r.workload != previous:
            previous = r.workload
            print(f"-- {r.workload}")
        if r is not None and not r.ok:
            print(f"{line[0]:<{widths[0]}}  {r.server}: {r.note}")
            continue
        pairs = enumerate(zip(line, widths, strict=True))
        print("  ".join(f"{x:{'<' if i < 2 else '>'}{w}}" for i, (x, w) in pairs))
    for line in target_lines(rows):
        print(line)


def versions() -> str:
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        cpu = next((x.split(":", 1)[1].strip() for x in f if x.startswith("model name")), cpu)
    parts = [f"CPU {cpu} x{os.cpu_count()}", f"Python {platform.python_version()}"]
    for dist in ("mgio", "websockets", "aiohttp"):
        try:
            parts.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{dist} not installed")
    cc = find_cc()
    if cc:
        out = subprocess.run([cc, "--version"], capture_output=True, text=True)
        parts.append((out.stdout.strip().splitlines() or ["cc ?"])[0])
    return ", ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one short run per server")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--rounds", type=int, help="runs per server and workload (7; quick 1)")
    ap.add_argument("--seconds", type=float, help="seconds per client run (1.5; quick 0.3)")
    ap.add_argument("--serve", metavar="NAME", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        return serve(args.serve)

    rounds = args.rounds or (1 if args.quick else 7)
    seconds = args.seconds or (0.3 if args.quick else 1.5)
    server_core, client_core = pick_cores()
    with tempfile.TemporaryDirectory(prefix="bench_ws_") as tmp:
        logs = os.path.join(tmp, "logs")
        os.mkdir(logs)
        client = build_client(tmp)
        c_server, c_error = build_c_server(tmp, C_SERVER_SOURCE)
        if client_core is not None:
            os.sched_setaffinity(0, {client_core})  # the client runs inherit it
        all_specs = specs(c_server, c_error)
        rows = run(all_specs, client, server_core, logs, rounds, seconds, not args.quick)
    report(rows, args.markdown)
    print(("- " if args.markdown else "") + "versions: " + versions())
    broken = {
        r.server: r.note
        for r in rows
        if r.server.startswith("mgio") and not r.ok and not r.note.startswith("not installed")
    }
    if broken:  # a peer may be missing; mgio itself must run
        raise SystemExit("bench_ws: " + "; ".join(f"{k}: {v}" for k, v in broken.items()))


if __name__ == "__main__":
    main()
