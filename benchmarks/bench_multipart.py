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

Contenders, each in a process of its own pinned to one core (the "parse core"). In
process, no socket:

- mgio C parser: benchmarks/multipart_parse.c (compiled at start with the library sources
  at -O2) runs the streaming parser of csrc/proto/multipart.c over the bodies in memory,
  as they would arrive 64 KiB at a time; no Python. Target: >= 1 GB/s. (mgio has no
  Python entry to its parser without a connection; the C row stands for that path.)
- python-multipart (`python_multipart.MultipartParser` with on_part_begin and
  on_part_data callbacks, the latter counting `end - start`) and streaming-form-data
  (`StreamingFormDataParser` with one target, matched for every part name, whose
  on_start counts parts and on_data_received counts `len(chunk)`), fed the same bodies
  split into 64 KiB bytes chunks beforehand (the split is not timed), after one small
  untimed body (streaming-form-data imports the email package at its first part).

Behind a loopback server (the realistic path): this process, pinned to the other core,
uploads each body (a raw socket: the request head, then the body with sendfile,
Connection: close) and waits for the answer, which carries the server's counts. The time
is the whole exchange; "CPU" is the server process's utime + stime from /proc (clock
ticks of 10 ms), kernel receive work included.

- mgio server (Python handler): `Manager.bind(..., http=True)` with a `mgio.Handler` whose
  on_http_part_begin counts parts and on_http_part_data counts `len(part)`; it answers
  at on_http_multipart_request_end.
- python-multipart server, streaming-form-data server: the same counters as above in a
  plain blocking-socket server that reads the head, then feeds the body as
  `recv(64 KiB)` returns it (one upload at a time).
- loopback only, no parser: the same plain server counting body bytes: what the
  transport alone costs and allows.

Every contender must report exactly the parts and data bytes the generator wrote, or the
run fails: none may skip data. Per round each contender runs several passes over the
bodies (the order of contenders rotates each round); figures are the medians of all
passes, spread is (max - min) / median of their rates. MB is 10^6 bytes and counts the
whole body (part headers and delimiters included). "CPU MB/s" divides by the CPU time of
the parsing process instead of the wall time: on a shared machine the steadier figure.
The ratio columns are mgio's rate / the row's rate; above 1.0 mgio is faster. The target
lines compare like with like (server with server, in-process with in-process) and the
mgio server with the peers in-process, by wall and by CPU time. Nothing asserts a speed.

    python benchmarks/bench_multipart.py            # full run, about 3 minutes
    python benchmarks/bench_multipart.py --quick    # CI smoke run (8 MiB, 1,000 fields)
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


# ---- the peers ----------------------------------------------------------------------------
# A counter parses one body fed chunk by chunk, counting parts and data bytes the way its
# library hands them over; close() at the end of the body.


class PythonMultipartCounter:
    def __init__(self) -> None:
        from python_multipart import MultipartParser

        self.parts = self.data = 0
        callbacks = {"on_part_begin": self._begin, "on_part_data": self._data}
        self.parser = MultipartParser(BOUNDARY, callbacks)  # type: ignore[arg-type]

    def _begin(self) -> None:
        self.parts += 1

    def _data(self, data: bytes, start: int, end: int) -> None:
        self.data += end - start

    def feed(self, chunk: bytes) -> None:
        self.parser.write(chunk)

    def close(self) -> None:
        self.parser.finalize()


class StreamingFormDataCounter:
    def __init__(self) -> None:
        from streaming_form_data import StreamingFormDataParser
        from streaming_form_data.targets import BaseTarget

        counter = self

        class Count(BaseTarget):
            def on_start(self) -> None:
                counter.parts += 1

            def on_data_received(self, chunk: bytes) -> None:
                counter.data += len(chunk)

        self.parts = self.data = 0
        headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
        self.parser = StreamingFormDataParser(headers=headers)
        # One target for every part name: a target per name would make each part's
        # lookup a linear search through 1,000 names.
        self.parser.register("file", Count(), lambda registered, name: True)

    def feed(self, chunk: bytes) -> None:
        self.parser.data_received(chunk)

    def close(self) -> None:
        pass  # streaming-form-data has no end-of-body call


class ByteCounter:
    """No parser: counts body bytes (the loopback-only server)."""

    def __init__(self) -> None:
        self.parts = self.data = 0

    def feed(self, chunk: bytes) -> None:
        self.data += len(chunk)

    def close(self) -> None:
        pass


Counter = PythonMultipartCounter | StreamingFormDataCounter | ByteCounter
PEERS: dict[str, Callable[[], Counter]] = {
    "python-multipart": PythonMultipartCounter,
    "streaming-form-data": StreamingFormDataCounter,
}


def warm_up(make: Callable[[], Counter]) -> None:
    """One small body, untimed: some libraries import modules at their first part."""
    counter = make()
    counter.feed(body([(part_head("warm", "warm.bin"), b"x" * 100)]))
    counter.close()


def run_peer(name: str, chunk: int, passes: int, paths: list[str]) -> None:
    """Parses the bodies in-process; prints `pass WALL CPU PARTS DATA` per pass, like
    multipart_parse.c. The bodies are split into chunks before the timing."""
    bodies = []
    for path in paths:
        data = Path(path).read_bytes()
        bodies.append([data[i : i + chunk] for i in range(0, len(data), chunk)])
    warm_up(PEERS[name])
    for _ in range(passes):
        t0, c0 = time.perf_counter(), time.process_time()
        parts = data_bytes = 0
        for chunks in bodies:
            counter = PEERS[name]()
            for piece in chunks:
                counter.feed(piece)
            counter.close()
            parts, data_bytes = parts + counter.parts, data_bytes + counter.data
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


def serve_plain(make: Callable[[], Counter]) -> None:
    """A plain blocking-socket server, one upload at a time: reads the head, then feeds
    the body to a fresh counter as recv(CHUNK) returns it."""
    listener = socket.create_server((HOST, 0))
    print(listener.getsockname()[1], flush=True)
    warm_up(make)
    while True:
        conn, _ = listener.accept()
        with conn:
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            head, _, got = head.partition(b"\r\n\r\n")
            fields = (x.split(b":", 1) for x in head.split(b"\r\n")[1:])
            left = next(int(v) for k, v in fields if k.lower() == b"content-length")
            counter = make()
            if got:
                counter.feed(got)
                left -= len(got)
            while left > 0 and (got := conn.recv(min(CHUNK, left))):
                counter.feed(got)
                left -= len(got)
            counter.close()
            answer = f"{counter.parts} {counter.data} 0".encode()
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(answer) + answer)


SERVERS: dict[str, Callable[[], None]] = {
    "mgio": serve_mgio,
    "sink": lambda: serve_plain(ByteCounter),
    **{name: lambda make=make: serve_plain(make) for name, make in PEERS.items()},
}


def pinner(core: int | None) -> Callable[[], None]:
    """A preexec_fn that pins the child to `core` (None: anywhere)."""

    def pin() -> None:
        if core is not None:
            os.sched_setaffinity(0, {core})

    return pin


class Server:
    """A server process (`SERVERS[name]`), pinned to `core`."""

    def __init__(self, name: str, core: int | None):
        self.name = name
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", name],
            stdout=subprocess.PIPE,
            text=True,
            preexec_fn=pinner(core),
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
        """Body bytes per CPU second over all passes; None when no CPU time was seen (a
        server's CPU time comes from /proc in clock ticks of 10 ms: coarse on short runs)."""
        cpu = sum(p.cpu for p in self.passes)
        return self.workload.size * len(self.passes) / cpu if cpu > 0 else None

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
        out = subprocess.run(
            [*argv, str(passes), *w.paths],
            capture_output=True,
            text=True,
            preexec_fn=pinner(core),
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
SERVER_ROWS = {
    "mgio": SERVER_ROW,
    "sink": "loopback only, no parser",
    **{name: f"{name} server" for name in PEERS},
}
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
    for name in PEERS:
        row = in_process(name)
        why = missing(name)
        rows.append((row, None if why else subprocess_runner(row, [*peer_argv, name], core), why))
    for key, server in servers.items():
        name = SERVER_ROWS[key]
        if isinstance(server, Server):
            rows.append((name, server_runner(name, server), ""))
        else:
            rows.append((name, None, server))
    return rows


def in_process(peer: str) -> str:
    return f"{peer} (in-process)"


def missing(name: str) -> str:
    """Why the peer `name` (or server of that name) cannot run, or ""."""
    module = PEER_MODULES.get(name)
    return f"not installed (pip install {name})" if module and not have(module) else ""


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

TARGETS = {"python-multipart": 10.0, "streaming-form-data": 3.0}  # mgio / peer, large file
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
    for peer, want in TARGETS.items():
        # Like for like (both behind a loopback server; both in-process), then the
        # mgio server against the peer without a transport.
        pairs = [(SERVER_ROW, f"{peer} server"), (C_ROW, in_process(peer))]
        for mgio, other in [*pairs, (SERVER_ROW, in_process(peer))]:
            lines.append(target_line(rows, big, mgio, other, want))
    return lines


def target_line(rows: list[Row], w: Workload, mgio: str, peer: str, want: float) -> str:
    ref, other = find(rows, w, mgio), find(rows, w, peer)
    if ref is None or other is None:
        return f"{w.name}: {mgio} / {peer}: n/a; target {want:g}x"
    verdicts = []
    for how, a, b in (
        ("wall", ref.rate(), other.rate()),
        ("CPU", ref.cpu_rate(), other.cpu_rate()),
    ):
        if a and b:
            verdicts.append(f"{a / b:.2f}x by {how} time ({'met' if a / b >= want else 'not met'})")
    return f"{w.name}: {mgio} / {peer} = {', '.join(verdicts)}; target {want:g}x"


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
    ap.add_argument("--passes", type=int, help="passes over the bodies per round (2; quick 1)")
    ap.add_argument("--file-mib", type=int, help="size of the file part in MiB (100; quick 8)")
    ap.add_argument("--fields", type=int, help="small fields (10000; quick 1000)")
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
    passes = args.passes or (1 if args.quick else 2)
    file_mib = args.file_mib or (8 if args.quick else 100)
    fields = args.fields or (1000 if args.quick else 10000)
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
                    servers[name] = missing(name) or Server(name, parse_core)
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
