"""Multipart parse throughput: mgio against python-multipart and streaming-form-data, in
the same run.

Two workloads, the same generated bodies for every contender (written once to a
temporary folder; every contender reads the same files):

- "one 100 MiB file": one part (`name="file"; filename="upload.bin"`, a Content-Type)
  holding 100 MiB of pseudo-random bytes (a compressed upload looks like that). Every
  100 KiB the data also holds a decoy, in turn: a boundary line after a bare LF
  (`LF --B CRLF`), `--B--` with no line break before it, and a prefix of the delimiter
  (`CRLF --` and B less its last 3 characters, then CRLF). None is a delimiter (RFC 2046
  requires CRLF `--` B), so each parser must look at it and go on.
- "10,000 fields": 10,000 parts of 100 bytes of text each (`name="field00001"`, ...),
  in 10 bodies of 1,000 fields: 1,000 is mgio's default part limit per request (DESIGN,
  Defaults), and every contender parses the same 10 bodies. Besides MB/s, parts/s.

Contenders, each in a process of its own pinned to one core (the "parse core"):

- mgio C parser: benchmarks/multipart_parse.c (compiled at start with the library sources
  at -O2) runs the streaming parser of csrc/proto/multipart.c over the bodies in memory,
  as they would arrive 64 KiB at a time; no socket, no Python. Target: >= 1 GB/s.
- mgio server (Python handler): the realistic path, `Manager.bind(..., http=True)` with a
  `mgio.Handler` whose on_http_part_begin counts parts and on_http_part_data counts
  `len(part)` (the handler sees every piece of data; it answers the counts at
  on_http_multipart_request_end). This process, pinned to the other core, uploads each
  body over loopback TCP (a raw socket: the request head, then the body with sendfile,
  Connection: close) and waits for the answer. The time is the whole exchange, so mgio
  pays for the TCP transfer here that the in-process peers do not; "CPU" is the server
  process's utime + stime (from /proc) over it, kernel receive work included.
- python-multipart (`python_multipart.MultipartParser` with on_part_begin and
  on_part_data callbacks, the latter counting `end - start`) and streaming-form-data
  (`StreamingFormDataParser` with one target, matched for every part name, whose
  on_start counts parts and on_data_received counts `len(chunk)`), fed in-process the
  same bodies split into 64 KiB bytes chunks beforehand (the split is not timed).

Every contender must report exactly the parts and data bytes the generator wrote, or the
run fails: none may skip data. Per round each contender runs several passes over the
bodies (the order of contenders rotates each round); figures are the medians of all
passes, spread is (max - min) / median of their rates. MB is 10^6 bytes and counts the
whole body (part headers and delimiters included). "CPU MB/s" divides by the CPU time of
the parsing process instead of the wall time. The ratio columns are mgio's rate / the
row's rate; above 1.0 mgio is faster. Nothing asserts a speed.

    python benchmarks/bench_multipart.py            # full run, about 2 minutes
    python benchmarks/bench_multipart.py --quick    # CI smoke run (8 MiB, 2,000 fields)
    python benchmarks/bench_multipart.py --markdown # the table for benchmarks/RESULTS.md

Needs a C compiler and zlib (as csrc/ does); the peers are `pip install python-multipart
streaming-form-data` (the `bench` extra). A peer that is not installed is listed as such.
The exit status is 1 when an mgio contender fails to build, to start or to count right.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from benchcommon import build_c_server, cpu_seconds, have, pick_cores

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
HARNESS_SOURCE = HERE / "multipart_parse.c"
BOUNDARY = "----mgioBenchBoundary7MA4YWxkTrZu0gW"
CHUNK = 64 * 1024
DECOY_EVERY = 100 * 1024
FIELD_SIZE = 100
FIELDS_PER_BODY = 1000
TIMEOUT = 120.0

# ---- the bodies ---------------------------------------------------------------------------


@dataclass
class Workload:
    name: str
    paths: list[str]  # the body files, parsed in this order
    size: int  # bytes of all bodies
    parts: int  # parts in all bodies
    data: int  # data bytes of all parts


def decoys() -> list[bytes]:
    """Byte strings that resemble a delimiter but are data (see the module docstring)."""
    b = BOUNDARY.encode()
    return [b"\n--" + b + b"\r\n", b"--" + b + b"--", b"\r\n--" + b[:-3] + b"\r\n"]


def file_data(size: int, seed: int = 1) -> bytes:
    data = bytearray(random.Random(seed).randbytes(size))
    fakes = decoys()
    for i, at in enumerate(range(DECOY_EVERY // 2, size - 100, DECOY_EVERY)):
        fake = fakes[i % len(fakes)]
        data[at : at + len(fake)] = fake
    if b"\r\n--" + BOUNDARY.encode() in data:  # about 2^-300 likely; never silently wrong
        raise SystemExit("bench_multipart: the random data holds the delimiter; change seed")
    return bytes(data)


def part_head(name: str, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"'
    if filename is None:
        return f"Content-Disposition: {disposition}\r\n\r\n".encode()
    return (
        f'Content-Disposition: {disposition}; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()


def body(parts: list[tuple[bytes, bytes]]) -> bytes:
    """A multipart body of (part head, data) pairs."""
    b = BOUNDARY.encode()
    pieces = [b"--" + b + b"\r\n"]
    for i, (head, data) in enumerate(parts):
        if i > 0:
            pieces.append(b"\r\n--" + b + b"\r\n")
        pieces += [head, data]
    pieces.append(b"\r\n--" + b + b"--\r\n")
    return b"".join(pieces)


def field_value(rnd: random.Random) -> bytes:
    letters = "abcdefghijklmnopqrstuvwxyz ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,"
    return "".join(rnd.choice(letters) for _ in range(FIELD_SIZE)).encode()


def write_workloads(folder: str, file_size: int, fields: int) -> list[Workload]:
    path = os.path.join(folder, "file.body")
    data = file_data(file_size)
    with open(path, "wb") as f:
        f.write(body([(part_head("file", "upload.bin"), data)]))
    big = Workload(f"one {file_size >> 20} MiB file", [path], os.path.getsize(path), 1, len(data))
    rnd = random.Random(2)
    small = Workload(f"{fields:,} fields of {FIELD_SIZE} B", [], 0, fields, fields * FIELD_SIZE)
    for first in range(0, fields, FIELDS_PER_BODY):
        count = min(FIELDS_PER_BODY, fields - first)
        parts = [(part_head(f"field{first + i:05d}"), field_value(rnd)) for i in range(count)]
        path = os.path.join(folder, f"fields{first // FIELDS_PER_BODY:03d}.body")
        with open(path, "wb") as f:
            f.write(body(parts))
        small.paths.append(path)
        small.size += os.path.getsize(path)
    return [big, small]


# ---- in-process peers (bench_multipart.py --peer NAME ...) --------------------------------
# A peer parses a list of bodies, each a list of chunks, and returns (parts, data bytes).


def parse_python_multipart(bodies: list[list[bytes]]) -> tuple[int, int]:
    from python_multipart import MultipartParser

    counts = [0, 0]

    def on_part_begin() -> None:
        counts[0] += 1

    def on_part_data(data: bytes, start: int, end: int) -> None:
        counts[1] += end - start

    callbacks = {"on_part_begin": on_part_begin, "on_part_data": on_part_data}
    for chunks in bodies:
        parser = MultipartParser(BOUNDARY, callbacks)  # type: ignore[arg-type]
        for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    return counts[0], counts[1]


def parse_streaming_form_data(bodies: list[list[bytes]]) -> tuple[int, int]:
    from streaming_form_data import StreamingFormDataParser
    from streaming_form_data.targets import BaseTarget

    class Count(BaseTarget):
        parts = 0
        data = 0

        def on_start(self) -> None:
            self.parts += 1

        def on_data_received(self, chunk: bytes) -> None:
            self.data += len(chunk)

    target = Count()
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    for chunks in bodies:
        parser = StreamingFormDataParser(headers=headers)
        # One target for every part name: a target per name would make each part's
        # lookup a linear search through 1,000 names.
        parser.register("file", target, lambda registered, name: True)
        for chunk in chunks:
            parser.data_received(chunk)
    return target.parts, target.data


PEERS: dict[str, Callable[[list[list[bytes]]], tuple[int, int]]] = {
    "python-multipart": parse_python_multipart,
    "streaming-form-data": parse_streaming_form_data,
}


def run_peer(name: str, chunk: int, passes: int, paths: list[str]) -> None:
    """Prints `pass WALL CPU PARTS DATA` per pass, like multipart_parse.c."""
    bodies = []
    for path in paths:
        data = Path(path).read_bytes()
        bodies.append([data[i : i + chunk] for i in range(0, len(data), chunk)])
    parse = PEERS[name]
    for _ in range(passes):
        t0, c0 = time.perf_counter(), time.process_time()
        parts, data_bytes = parse(bodies)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"pass {wall:.9f} {cpu:.9f} {parts} {data_bytes}", flush=True)


# ---- servers (bench_multipart.py --serve NAME) --------------------------------------------
# Each prints its port, then answers every upload with "PARTS DATA_BYTES STATUS".


def serve_mgio() -> None:
    import mgio

    class Count(mgio.Handler):
        parts = 0
        data = 0

        def on_http_part_begin(self, conn, part):
            self.parts += 1

        def on_http_part_data(self, conn, part):
            self.data += len(part)

        def on_http_multipart_request_end(self, conn, part):
            conn.reply(200, f"{self.parts} {self.data} {part.status}")
            self.parts = self.data = 0

    mgr = mgio.Manager()
    listener = mgr.bind(f"{HOST}:0", Count(), http=True)
    print(listener.local_address[1], flush=True)
    mgr.run()


def serve_sink() -> None:
    """The transport alone: reads each upload's body with recv_into (256 KiB at a time,
    as asyncio does) and discards it; answers "0 BODY_BYTES 0"."""
    listener = socket.create_server((HOST, 0))
    print(listener.getsockname()[1], flush=True)
    buf = bytearray(256 * 1024)
    while True:
        conn, _ = listener.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            head, _, got = head.partition(b"\r\n\r\n")
            length = next(
                int(x.split(b":")[1])
                for x in head.split(b"\r\n")
                if x.startswith(b"Content-Length")
            )
            n = len(got)
            while n < length:
                n += conn.recv_into(buf)
            answer = f"0 {n} 0".encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(answer) + answer)


SERVERS = {"mgio": serve_mgio, "sink": serve_sink}


class Server:
    """A server process (`SERVERS[name]`), pinned to `core`."""

    def __init__(self, name: str, core: int | None):
        def pin() -> None:
            if core is not None:
                os.sched_setaffinity(0, {core})

        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", name],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=pin,
            start_new_session=True,
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.strip().isdigit():
            self.stop()
            raise ContenderError(f"the {name} server did not start ({self.proc.poll()})")
        self.port = int(line)

    def upload(self, path: str) -> tuple[int, int]:
        """POSTs the body in `path`; returns the (parts, bytes) the server counted."""
        size = os.path.getsize(path)
        head = (
            f"POST /upload HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n"
            f"Content-Length: {size}\r\n\r\n"
        ).encode()
        with (
            socket.create_connection((HOST, self.port), timeout=TIMEOUT) as s,
            open(path, "rb") as f,
        ):
            s.sendall(head)
            s.sendfile(f)
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        status, _, text = answer.partition(b"\r\n\r\n")
        if not status.startswith(b"HTTP/1.1 200"):
            raise ContenderError(f"the {self.name} server answered {answer[:80]!r}")
        parts, data_bytes, _ = text.split()
        return int(parts), int(data_bytes)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=10)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


class ContenderError(Exception):
    pass


# ---- running the contenders ---------------------------------------------------------------


@dataclass
class Pass:
    wall: float
    cpu: float


@dataclass
class Row:
    workload: Workload
    contender: str
    note: str = ""  # why it has no figures
    passes: list[Pass] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.note and bool(self.passes)

    def rate(self) -> float:
        """Body bytes per wall second (median pass)."""
        return self.workload.size / statistics.median(p.wall for p in self.passes)

    def cpu_rate(self) -> float | None:
        """Body bytes per CPU second over all passes; None when too short to tell (the
        server's CPU time comes from /proc in clock ticks, 10 ms)."""
        cpu = sum(p.cpu for p in self.passes)
        return self.workload.size * len(self.passes) / cpu if cpu >= 0.02 else None

    def spread(self) -> float:
        rates = [self.workload.size / p.wall for p in self.passes]
        return (max(rates) - min(rates)) / statistics.median(rates)


Runner = Callable[[Workload, int], list[Pass]]


def check(name: str, w: Workload, parts: int, data_bytes: int) -> None:
    if (parts, data_bytes) != (w.parts, w.data):
        raise ContenderError(
            f"{name} counted {parts} parts and {data_bytes} data bytes in {w.name}; "
            f"the bodies hold {w.parts} and {w.data}"
        )


def subprocess_runner(name: str, argv: list[str], core: int | None) -> Runner:
    """A contender that runs `argv + [passes, files...]` and prints pass lines."""

    def run(w: Workload, passes: int) -> list[Pass]:
        def pin() -> None:
            if core is not None:
                os.sched_setaffinity(0, {core})

        out = subprocess.run(
            [*argv, str(passes), *w.paths],
            capture_output=True,
            text=True,
            preexec_fn=pin,
            timeout=TIMEOUT * passes,
        )
        lines = [x.split() for x in out.stdout.splitlines() if x.startswith("pass ")]
        if out.returncode != 0 or len(lines) != passes:
            raise ContenderError(f"{name} failed: {out.stderr.strip()[-300:]}")
        result = []
        for _, wall, cpu, parts, data_bytes in lines:
            check(name, w, int(parts), int(data_bytes))
            result.append(Pass(float(wall), float(cpu)))
        return result

    return run


def server_runner(name: str, server: Server) -> Runner:
    def run(w: Workload, passes: int) -> list[Pass]:
        result = []
        for _ in range(passes):
            (u0, s0), t0 = cpu_seconds(server.proc.pid), time.perf_counter()
            counted = [server.upload(path) for path in w.paths]
            wall, (u1, s1) = time.perf_counter() - t0, cpu_seconds(server.proc.pid)
            parts, got = sum(c[0] for c in counted), sum(c[1] for c in counted)
            if server.name == "sink":  # it counts body bytes, not parts
                check(name, w, parts + w.parts, got - w.size + w.data)
            else:
                check(name, w, parts, got)
            result.append(Pass(wall, u1 - u0 + s1 - s0))
        return result

    return run


C_ROW = "mgio C parser"
SERVER_ROW = "mgio server (Python handler)"
SINK_ROW = "loopback only (recv_into sink)"
SERVER_ROWS = {"mgio": SERVER_ROW, "sink": SINK_ROW}
PEER_MODULES = {
    "python-multipart": "python_multipart",
    "streaming-form-data": "streaming_form_data",
}


def contenders(
    harness: str | None,
    harness_error: str,
    servers: dict[str, Server | str],
    core: int | None,
) -> list[tuple[str, Runner | None, str]]:
    """(name, runner or None, why not) for every contender, mgio first. `servers` maps
    a SERVERS name to its Server or to why it did not start."""
    peer_argv = [sys.executable, __file__, "--chunk", str(CHUNK), "--peer"]
    rows: list[tuple[str, Runner | None, str]] = [
        (
            C_ROW,
            subprocess_runner(C_ROW, [harness, BOUNDARY, str(CHUNK)], core) if harness else None,
            harness_error,
        ),
    ]
    for key, server in servers.items():
        name = SERVER_ROWS[key]
        if isinstance(server, Server):
            rows.append((name, server_runner(name, server), ""))
        else:
            rows.append((name, None, server))
    for name, module in PEER_MODULES.items():
        if not have(module):
            rows.append((name, None, f"not installed (pip install {name})"))
            continue
        rows.append((name, subprocess_runner(name, [*peer_argv, name], core), ""))
    return rows


def run(
    workloads: list[Workload],
    entries: list[tuple[str, Runner | None, str]],
    rounds: int,
    passes: int,
) -> list[Row]:
    rows = []
    for w in workloads:
        by_name = {
            name: Row(w, name, note=why if runner is None else "") for name, runner, why in entries
        }
        live = [(name, runner) for name, runner, _ in entries if runner is not None]
        for r in range(rounds):  # rotate the order, so drift hits all alike
            for name, runner in live[r % len(live) :] + live[: r % len(live)]:
                row = by_name[name]
                if row.note:
                    continue
                try:
                    row.passes += runner(w, passes)
                except (ContenderError, OSError, subprocess.TimeoutExpired) as e:
                    row.note, row.passes = f"failed: {e}", []
        rows += by_name.values()
    return rows


# ---- report -------------------------------------------------------------------------------

COLUMNS = (
    "workload",
    "contender",
    "MB/s",
    "spread",
    "parts/s",
    "CPU MB/s",
    "mgio server/this",
    "mgio C/this",
)

TARGETS = [  # (workload prefix, mgio row, peer, wanted ratio)
    ("one ", SERVER_ROW, "python-multipart", 10.0),
    ("one ", SERVER_ROW, "streaming-form-data", 3.0),
]
C_TARGET = 1e9  # bytes/s of the C parser on the large file


def find(rows: list[Row], w: Workload, name: str) -> Row | None:
    row = next((r for r in rows if r.workload is w and r.contender == name), None)
    return row if row is not None and row.ok else None


def ratio(rows: list[Row], r: Row, mgio: str) -> str:
    ref = find(rows, r.workload, mgio)
    return f"{ref.rate() / r.rate():.2f}" if ref else "n/a"


def cells(rows: list[Row], r: Row) -> list[str]:
    if not r.ok:
        return [r.workload.name, r.contender, r.note, *([""] * (len(COLUMNS) - 3))]
    seconds, cpu_rate = r.workload.size / r.rate(), r.cpu_rate()
    return [
        r.workload.name,
        r.contender,
        f"{r.rate() / 1e6:,.0f}",
        f"{r.spread():.0%}",
        f"{r.workload.parts / seconds:,.0f}",
        f"{cpu_rate / 1e6:,.0f}" if cpu_rate else "n/a",
        ratio(rows, r, SERVER_ROW),
        ratio(rows, r, C_ROW),
    ]


def target_lines(rows: list[Row], workloads: list[Workload]) -> list[str]:
    big = workloads[0]
    lines = []
    c = find(rows, big, C_ROW)
    if c is not None:
        verdict = "met" if c.rate() >= C_TARGET else "not met"
        lines.append(
            f"{big.name}: mgio C parser {c.rate() / 1e9:.2f} GB/s ({verdict}; target 1 GB/s)"
        )
    for w in workloads:
        for prefix, mgio, peer, want in TARGETS:
            if not w.name.startswith(prefix):
                continue
            ref, other = find(rows, w, mgio), find(rows, w, peer)
            if ref is None or other is None:
                lines.append(f"{w.name}: {mgio} / {peer}: n/a; target {want:g}x")
                continue
            got = ref.rate() / other.rate()
            cpus = ref.cpu_rate(), other.cpu_rate()
            by_cpu = f"{cpus[0] / cpus[1]:.2f}x" if cpus[0] and cpus[1] else "n/a"
            verdict = "met" if got >= want else "not met"
            lines.append(
                f"{w.name}: {mgio} / {peer} = {got:.2f}x by wall time ({verdict}; target "
                f"{want:g}x), {by_cpu} by CPU time"
            )
    return lines


def report(rows: list[Row], workloads: list[Workload], markdown: bool) -> None:
    table = [cells(rows, r) for r in rows]
    if markdown:
        print("| " + " | ".join(COLUMNS) + " |")
        print("|---|---|" + "---:|" * (len(COLUMNS) - 2))
        for line in table:
            print("| " + " | ".join(line) + " |")
        print()
        for line in target_lines(rows, workloads):
            print(f"- {line}")
        return
    full = [line for line, r in zip(table, rows, strict=True) if r.ok]
    widths = [max(len(x) for x in col) for col in zip(COLUMNS, *full, strict=True)]
    for line, r in zip([COLUMNS, *table], [None, *rows], strict=True):
        if r is not None and not r.ok:
            print(f"{line[0]:<{widths[0]}}  {r.contender}: {r.note}")
            continue
        pairs = enumerate(zip(line, widths, strict=True))
        print("  ".join(f"{x:{'<' if i < 2 else '>'}{w}}" for i, (x, w) in pairs))
    for line in target_lines(rows, workloads):
        print(line)


def versions() -> str:
    """What ran: the CPU, Python and the version of every contender."""
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        cpu = next((x.split(":", 1)[1].strip() for x in f if x.startswith("model name")), cpu)
    parts = [f"CPU {cpu} x{os.cpu_count()}", f"Python {platform.python_version()}"]
    for dist in ("mgio", *PEER_MODULES):
        try:
            parts.append(f"{dist} {importlib.metadata.version(dist)}")
        except importlib.metadata.PackageNotFoundError:
            parts.append(f"{dist} not installed")
    return ", ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="small bodies, one round")
    ap.add_argument("--markdown", action="store_true", help="print a markdown table")
    ap.add_argument("--rounds", type=int, help="rounds per contender (5; quick 1)")
    ap.add_argument("--passes", type=int, help="passes over the bodies per round (3; quick 1)")
    ap.add_argument("--file-mib", type=int, help="size of the file part in MiB (100; quick 8)")
    ap.add_argument("--fields", type=int, help="small fields (10000; quick 2000)")
    ap.add_argument("--serve", choices=SERVERS, help=argparse.SUPPRESS)
    ap.add_argument("--peer", metavar="NAME", help=argparse.SUPPRESS)
    ap.add_argument("--chunk", type=int, default=CHUNK, help=argparse.SUPPRESS)
    ap.add_argument("rest", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.serve:
        return SERVERS[args.serve]()
    if args.peer is not None:  # rest: PASSES FILE...
        return run_peer(args.peer, args.chunk, int(args.rest[0]), args.rest[1:])

    rounds = args.rounds or (1 if args.quick else 5)
    passes = args.passes or (1 if args.quick else 3)
    file_mib = args.file_mib or (8 if args.quick else 100)
    fields = args.fields or (2000 if args.quick else 10000)
    parse_core, client_core = pick_cores()
    with tempfile.TemporaryDirectory(prefix="bench_multipart_") as tmp:
        workloads = write_workloads(tmp, file_mib << 20, fields)
        harness, harness_error = build_c_server(tmp, HARNESS_SOURCE)
        if client_core is not None:
            os.sched_setaffinity(0, {client_core})  # this process uploads to the server
        servers: dict[str, Server | str] = {}
        try:
            for name in SERVERS:
                try:
                    servers[name] = Server(name, parse_core)
                except ContenderError as e:
                    servers[name] = str(e)
            entries = contenders(harness, harness_error, servers, parse_core)
            rows = run(workloads, entries, rounds, passes)
        finally:
            for server in servers.values():
                if isinstance(server, Server):
                    server.stop()
    report(rows, workloads, args.markdown)
    print(("- " if args.markdown else "") + "versions: " + versions())
    broken = {r.contender: r.note for r in rows if r.contender.startswith("mgio") and not r.ok}
    if broken:  # a peer may be missing; mgio itself must run
        raise SystemExit("bench_multipart: " + "; ".join(f"{k}: {v}" for k, v in broken.items()))


if __name__ == "__main__":
    main()
