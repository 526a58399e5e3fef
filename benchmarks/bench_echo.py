"""TCP echo servers: mgio with a Python handler against asyncio and uvloop, in the same run.

Each server runs in a child process pinned to one core; the load generator, a small C
program (echo_client.c, compiled into a temporary folder at start), runs pinned to another,
so the client's cost shares neither the server's GIL nor its core. Workloads:

- round trips: K connections, each sending a 16-byte message and waiting for its echo,
  for a fixed time (K = 1 and K = 50); the rate is round trips per second;
- bulk: one connection streaming 256 MiB through the echo, sending and reading at once.

Beside each rate: the server's CPU time per operation (utime + stime of its process from
/proc/PID/stat, over the whole client run), the user part of it, and how busy the server
was (CPU time / wall time). Below 100% busy the rate is bound by latency or the client and
CPU per operation is the fairer comparison. The kernel samples the user/system split at
each clock tick, so "of which user" is rough on short or mostly idle runs.

The servers run alternately, several rounds after a warm-up, and the medians are compared;
spread is (max - min) / median of the rates. The ratios put the plain "mgio" row against
each row: mgio's rate / the row's rate, and the row's CPU per operation / mgio's; above 1.0
mgio is the faster or the cheaper.

The client busy-polls instead of sleeping in epoll_wait: on this kind of VM a sleeping core
can take up to a millisecond to wake, which made a one-connection ping-pong measure the
hypervisor rather than the server (about 1,000 round trips/s for every server alike).

    python benchmarks/bench_echo.py            # full run, a few minutes
    python benchmarks/bench_echo.py --quick    # CI smoke run, under 20 s
    python benchmarks/bench_echo.py --markdown # the table for benchmarks/RESULTS.md
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from benchcommon import pick_cores

HOST = "127.0.0.1"
MESSAGE_SIZE = 16
BULK_CHUNK = 65536
CLIENT_SOURCE = Path(__file__).with_name("echo_client.c")

# ---- servers: each runs in its own process (bench_echo.py --serve NAME) -------------------


def serve_mgio(announce: Callable[[int], None]) -> None:
    """The plain echo: copy recv_buf out as bytes, queue it, empty recv_buf."""
    import mgio

    ev_recv = int(mgio.EV_RECV)

    def echo(conn, ev, data):
        if ev == ev_recv:
            conn.send(bytes(conn.recv_buf))
            conn.recv_buf.clear()

    run_mgio(echo, announce)


def serve_mgio_view(announce: Callable[[int], None]) -> None:
    """The cheapest Python-level echo: a Handler with only on_recv (the C layer then skips
    EV_SEND without a Python call), passing the recv_buf view to send(), which reads it in
    place."""
    import mgio

    class Echo(mgio.Handler):
        def on_recv(self, conn, count):
            buf = conn.recv_buf
            conn.send(buf)
            buf.clear()

    run_mgio(Echo(), announce)


def run_mgio(handler: Callable, announce: Callable[[int], None]) -> None:
    import mgio

    mgr = mgio.Manager()
    listener = mgr.bind(f"tcp://{HOST}:0", handler)
    announce(listener.local_address[1])
    while True:
        mgr.poll(1000)


class EchoProtocol(asyncio.Protocol):
    """data_received -> transport.write, reading paused while the transport's buffer is
    over its high-water mark (so a slow reader cannot grow it without bound)."""

    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


async def echo_stream(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


def run_asyncio(streams: bool, use_uvloop: bool, announce: Callable[[int], None]) -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        if streams:
            server = await asyncio.start_server(echo_stream, HOST, 0)
        else:
            server = await loop.create_server(EchoProtocol, HOST, 0)
        announce(server.sockets[0].getsockname()[1])
        await asyncio.Event().wait()  # until the parent kills us

    if use_uvloop:
        import uvloop

        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(main())


# name -> (function of `announce`, needs uvloop)
SERVERS: dict[str, tuple[Callable[[Callable[[int], None]], None], bool]] = {
    "mgio": (serve_mgio, False),
    "mgio, Handler.on_recv": (serve_mgio_view, False),
    "asyncio streams": (lambda a: run_asyncio(True, False, a), False),
    "asyncio Protocol": (lambda a: run_asyncio(False, False, a), False),
    "uvloop streams": (lambda a: run_asyncio(True, True, a), True),
    "uvloop Protocol": (lambda a: run_asyncio(False, True, a), True),
}
TARGET = ("mgio", "asyncio streams", 2.0)  # the target: mgio >= 2x, round trips


def serve(name: str, core: int | None) -> None:
    if core is not None:
        os.sched_setaffinity(0, {core})

    def announce(port: int) -> None:
        print(port, flush=True)

    SERVERS[name][0](announce)


# ---- the parent: servers, client runs, rounds ---------------------------------------------


class Server:
    """One server in a child process: this file run with --serve NAME."""

    def __init__(self, name: str, core: int | None):
        pin = [] if core is None else ["--core", str(core)]
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", name, *pin], stdout=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()  # the port, once it listens
        if not line:
            self.proc.wait()
            raise SystemExit(f"server {name!r} failed to start")
        self.port = int(line)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()

    def cpu_seconds(self) -> tuple[float, float]:
        """(utime, stime) of the server process so far, in seconds."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return int(fields[11]) / tick, int(fields[12]) / tick


def build_client(folder: str) -> str:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        raise SystemExit("bench_echo: a C compiler (cc) is needed to build the load generator")
    exe = os.path.join(folder, "echo_client")
    subprocess.run([cc, "-O2", "-o", exe, str(CLIENT_SOURCE)], check=True)
    return exe


@dataclass
class Sample:
    rate: float  # ops per second
    cpu: float  # server CPU seconds (user + system) per op
    user: float  # of which user
    busy: float  # server CPU seconds per wall second


def run_client(client: str, server: Server, args: list[str]) -> Sample:
    """Runs the client once against `server`."""
    (u0, s0), t0 = server.cpu_seconds(), time.perf_counter()
    out = subprocess.run([client, HOST, str(server.port), *args], capture_output=True, text=True)
    wall, (u1, s1) = time.perf_counter() - t0, server.cpu_seconds()
    if out.returncode != 0:
        raise SystemExit(f"echo_client against {server.name}: {out.stderr.strip()}")
    result = dict(item.split("=") for item in out.stdout.split())
    ops, seconds = int(result["ops"]), float(result["seconds"])
    cpu = u1 - u0 + s1 - s0
    return Sample(ops / seconds, cpu / ops, (u1 - u0) / ops, cpu / wall)


@dataclass
class Workload:
    name: str
    client_args: list[str]
    warm_up_args: list[str]
    unit: str  # what one reported operation is: "rt" or "MiB"
    ops_per_unit: int  # client ops (round trips, bytes) in one unit


def workloads(quick: bool) -> list[Workload]:
    seconds = "0.3" if quick else "1.5"
    size = str(MESSAGE_SIZE)
    bulk = (64 if quick else 256) << 20
    return [
        Workload(
            f"round trips, {k} connection{'s' if k > 1 else ''}",
            ["rt", str(k), size, seconds],
            ["rt", str(k), size, "0.1"],
            "rt",
            1,
        )
        for k in (1, 50)
    ] + [
        Workload(
            f"bulk {bulk >> 20} MiB, 1 connection",
            ["bulk", str(bulk), str(BULK_CHUNK)],
            ["bulk", str(8 << 20), str(BULK_CHUNK)],
            "MiB",
            1 << 20,
        )
    ]


@dataclass
class Row:
    workload: str
    server: str
    unit: str
    rate: float  # medians, per unit
    spread: float
    cpu: float
    user: float
    busy: float


def run(servers: list[Server], client: str, rounds: int, quick: bool) -> list[Row]:
    rows = []
    for w in workloads(quick):
        samples: dict[str, list[Sample]] = {s.name: [] for s in servers}
        for s in servers:
            run_client(client, s, w.warm_up_args)
        for r in range(rounds):  # alternate, rotating the order, so drift hits all alike
            for s in servers[r % len(servers) :] + servers[: r % len(servers)]:
                samples[s.name].append(run_client(client, s, w.client_args))
        for s in servers:
            got = samples[s.name]
            rates = [x.rate / w.ops_per_unit for x in got]
            rate = statistics.median(rates)
            rows.append(
                Row(
                    w.name,
                    s.name,
                    w.unit,
                    rate,
                    (max(rates) - min(rates)) / rate,
                    statistics.median(x.cpu * w.ops_per_unit for x in got),
                    statistics.median(x.user * w.ops_per_unit for x in got),
                    statistics.median(x.busy for x in got),
                )
            )
    return rows


def ratios(rows: list[Row]) -> dict[tuple[str, str], tuple[float, float]]:
    """(workload, server) -> (mgio's rate / its rate, its CPU per op / mgio's)."""
    mgio = {r.workload: r for r in rows if r.server == "mgio"}
    return {
        (r.workload, r.server): (mgio[r.workload].rate / r.rate, r.cpu / mgio[r.workload].cpu)
        for r in rows
    }


def fmt_rate(r: Row) -> str:
    return f"{r.rate:,.0f} {r.unit}/s"


def fmt_cpu(r: Row, seconds: float) -> str:
    return f"{seconds * 1e6:.2f} µs/rt" if r.unit == "rt" else f"{seconds * 1e3:.2f} ms/MiB"


def target_lines(rows: list[Row]) -> list[str]:
    mgio, base, want = TARGET
    rel = ratios(rows)
    lines = []
    for r in rows:
        if r.server == base and r.unit == "rt":
            rate, cpu = rel[(r.workload, base)]
            verdict = "met" if rate >= want else "not met"
            lines.append(
                f"{r.workload}: {mgio} / {base} = {rate:.2f}x by rate ({verdict}; target "
                f"{want:.0f}x), {cpu:.2f}x by server CPU per round trip"
            )
    return lines


COLUMNS = (
    "workload",
    "server",
    "rate",
    "spread",
    "server CPU/op",
    "of which user",
    "server busy",
    "mgio/this rate",
    "this/mgio CPU",
)


def cells(r: Row, rel: dict[tuple[str, str], tuple[float, float]]) -> list[str]:
    rate_ratio, cpu_ratio = rel[(r.workload, r.server)]
    return [
        r.workload,
        r.server,
        fmt_rate(r),
        f"{r.spread:.0%}",
        fmt_cpu(r, r.cpu),
        fmt_cpu(r, r.user),
        f"{r.busy:.0%}",
        f"{rate_ratio:.2f}",
        f"{cpu_ratio:.2f}",
    ]


def report(rows: list[Row], markdown: bool) -> None:
    rel = ratios(rows)
    table = [cells(r, rel) for r in rows]
    if markdown:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|---|---|" + "---:|" * (len(COLUMNS) - 2))
        for line in table:
            print("| " + " | ".join(line) + " |")
        print()
        for line in target_lines(rows):
            print(f"- {line}")
        return
    widths = [max(len(x) for x in col) for col in zip(COLUMNS, *table, strict=True)]
    for line in [COLUMNS, *table]:
        pairs = enumerate(zip(line, widths, strict=True))
        print("  ".join(f"{x:{'<' if i < 2 else '>'}{w}}" for i, (x, w) in pairs))
    for line in target_lines(rows):
        print(line)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="few rounds, short runs")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--serve", metavar="NAME", help=argparse.SUPPRESS)
    ap.add_argument("--core", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve is not None:
        return serve(args.serve, args.core)

    names = list(SERVERS)
    try:
        import uvloop  # noqa: F401
    except ImportError:
        print("uvloop: not installed (pip install uvloop), its rows are missing")
        names = [n for n in names if not SERVERS[n][1]]
    server_core, client_core = pick_cores()
    servers: list[Server] = []
    with tempfile.TemporaryDirectory() as tmp:
        client = build_client(tmp)
        if client_core is not None:
            os.sched_setaffinity(0, {client_core})  # the client runs inherit it
        try:
            for name in names:
                servers.append(Server(name, server_core))
            rows = run(servers, client, rounds=3 if args.quick else 7, quick=args.quick)
        finally:
            for s in servers:
                s.stop()
    report(rows, args.markdown)


if __name__ == "__main__":
    main()
