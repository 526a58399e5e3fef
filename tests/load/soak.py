"""Load and soak scenarios against tests/load/load_server.py, on loopback, bounded in time.

    python tests/load/soak.py [--scenario NAME ...] [--duration S] [--markdown]

Scenarios (each stops by itself; counts are the issue's figures, --quick shrinks time):
  keepalive  1,000 concurrent keep-alive clients posting bodies and checking the
             SHA-256 the server answers, for --duration seconds; zero errors.
  slowloris  500 connections trickling a request head one byte a second while 20
             normal clients keep being served; their latency percentiles.
  churn      5,000 connections opened and dropped mid-request (half by reset), in
             waves of 250; the server then serves normally.
  websocket  1,000 WebSocket connections exchanging messages of random size and
             checking each echo, for --duration seconds.
After each scenario the server's open descriptors must return to their baseline and its
resident memory is reported. tests/py/test_load.py runs every scenario briefly in CI.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import os
import random
import re
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from load_server import raise_fd_limit

SERVER = Path(__file__).with_name("load_server.py")
POOL = os.urandom(1 << 20)  # bodies and messages are slices of this
COMPRESSION = os.environ.get("SOAK_COMPRESSION", "deflate") or None


@dataclass
class Outcome:
    """What a scenario did; `errors` must stay 0."""

    name: str
    operations: int = 0
    errors: int = 0
    bytes_checked: int = 0
    latencies: list[float] = field(default_factory=list)
    reconnects: int = 0  # connections the server ended after max_requests, reopened
    notes: list[str] = field(default_factory=list)
    fds_before: int = 0
    fds_after: int = 0
    rss_before_kib: int = 0
    rss_after_kib: int = 0
    seconds: float = 0.0

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p * len(ordered)))] if ordered else 0.0


class ServerProcess:
    """tests/load/load_server.py in a subprocess: its port, open descriptors and RSS."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(SERVER)], stdout=subprocess.PIPE,
                                     text=True)
        banner = self.proc.stdout.readline() if self.proc.stdout else ""
        match = re.search(r"port (\d+)", banner)
        if not match:
            self.proc.kill()
            raise RuntimeError(f"the load server did not start: {banner!r}")
        self.port = int(match.group(1))

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.proc.pid}/fd"))

    def rss_kib(self) -> int:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1))

    def settle(self, baseline: int, timeout: float = 10.0) -> int:
        """Wait (bounded) for the descriptor count to come back to `baseline`."""
        deadline = time.monotonic() + timeout
        while self.fds() > baseline and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.fds()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@contextlib.contextmanager
def load_server() -> Iterator[ServerProcess]:
    server = ServerProcess()
    try:
        yield server
    finally:
        server.stop()


# ---- one HTTP exchange over asyncio streams --------------------------------------------


async def read_response(reader: asyncio.StreamReader) -> tuple[bytes, bool]:
    """The body of one Content-Length response (the load server sends no other kind), and
    whether the server ends the connection after it (Connection: close)."""
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 "):
        raise ValueError(f"unexpected answer {head[:40]!r}")
    length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))
    closing = re.search(rb"(?i)\r\nconnection: *close\r\n", head) is not None
    return await reader.readexactly(length), closing


class Client:
    """A keep-alive connection to the load server that reconnects when the server ends it
    (Connection: close after its max_requests), as browsers and HTTP libraries do."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.reconnects = 0

    async def exchange(self, request: bytes) -> bytes:
        if self.reader is None or self.writer is None:
            self.reader, self.writer = await connect(self.port)
        self.writer.write(request)
        body, closing = await read_response(self.reader)
        if closing:
            self.close()
            self.reconnects += 1
        return body

    def close(self) -> None:
        if self.writer is not None:
            close_writer(self.writer)
        self.reader = self.writer = None


async def post_and_check(client: Client, rng: random.Random) -> int:
    """POST a random slice of POOL to /echo and check the SHA-256 answered; its size."""
    start = rng.randrange(len(POOL) - 16384)
    body = POOL[start : start + rng.randrange(16384)]
    head = b"POST /echo HTTP/1.1\r\nHost: load\r\nContent-Length: %d\r\n\r\n" % len(body)
    if await client.exchange(head + body) != hashlib.sha256(body).hexdigest().encode():
        raise ValueError("corrupted echo digest")
    return len(body)


async def get_ok(client: Client) -> None:
    if await client.exchange(b"GET / HTTP/1.1\r\nHost: load\r\n\r\n") != b"ok":
        raise ValueError("wrong answer to GET /")


async def connect(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    return await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 10)


def close_writer(writer: asyncio.StreamWriter, reset: bool = False) -> None:
    if reset:  # SO_LINGER 0: the close sends RST instead of FIN
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.close()


# ---- scenarios ---------------------------------------------------------------------------


class StartLine:
    """Every client connects first; the clock starts when the last one is in (so the
    duration measures traffic, not the handshakes of a thousand connections)."""

    def __init__(self, clients: int, duration: float) -> None:
        self.waiting = clients
        self.duration = duration
        self.go = asyncio.Event()
        self.deadline = 0.0

    async def ready(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.deadline = time.monotonic() + self.duration
            self.go.set()
        await self.go.wait()

    def running(self) -> bool:
        return time.monotonic() < self.deadline


async def keepalive(port: int, out: Outcome, duration: float, clients: int = 1000) -> None:
    start = StartLine(clients, duration)

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        conn = Client(port)
        try:
            conn.reader, conn.writer = await connect(port)
        except (OSError, asyncio.TimeoutError) as e:
            out.errors += 1
            out.notes.append(f"client {seed}: {e!r}")
            await start.ready()
            return
        try:
            await start.ready()
            while True:  # at least one exchange each, however short the duration
                # (await first: `x += await f()` would read x before the await)
                size = await asyncio.wait_for(post_and_check(conn, rng), 30)
                out.bytes_checked += size
                out.operations += 1
                if not start.running():
                    break
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
            out.errors += 1
            out.notes.append(f"client {seed}: {e!r}")
        finally:
            conn.close()
            out.reconnects += conn.reconnects

    await asyncio.gather(*(client(i) for i in range(clients)))


async def slowloris(port: int, out: Outcome, duration: float, slow: int = 500,
                    normal: int = 20) -> None:
    deadline = time.monotonic() + duration
    held: list[asyncio.StreamWriter] = []
    for _ in range(slow):
        _, writer = await connect(port)
        writer.write(b"GET / HTTP/1.1\r\nHost: load\r\nX-Slow: ")
        held.append(writer)

    async def trickle() -> None:
        while time.monotonic() < deadline:
            for writer in held:
                if not writer.is_closing():
                    writer.write(b"a")
            await asyncio.sleep(1)

    async def client() -> None:
        conn = Client(port)
        try:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                await asyncio.wait_for(get_ok(conn), 10)
                out.latencies.append(time.perf_counter() - started)
                out.operations += 1
                await asyncio.sleep(0.01)
        except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.TimeoutError) as e:
            out.errors += 1
            out.notes.append(f"normal client: {e!r}")
        finally:
            conn.close()
            out.reconnects += conn.reconnects

    await asyncio.gather(trickle(), *(client() for _ in range(normal)))
    still_open = sum(not w.is_closing() and not w.transport.is_closing() for w in held)
    out.notes.append(f"{still_open} of {slow} slow connections held to the end")
    for writer in held:
        close_writer(writer)


async def churn(port: int, out: Outcome, duration: float, total: int = 5000,
                wave: int = 250) -> None:
    del duration  # a fixed amount of work
    rng = random.Random(7)
    request = b"POST /echo HTTP/1.1\r\nHost: load\r\nContent-Length: 4096\r\n\r\n" + POOL[:4096]

    async def drop(index: int) -> None:
        try:
            _, writer = await connect(port)
        except (OSError, asyncio.TimeoutError):
            out.errors += 1
            return
        writer.write(request[: rng.randrange(1, len(request) - 1)])
        await writer.drain()
        close_writer(writer, reset=index % 2 == 0)
        out.operations += 1

    for first in range(0, total, wave):
        await asyncio.gather(*(drop(i) for i in range(first, min(total, first + wave))))
    conn = Client(port)  # and the server still serves
    try:
        size = await post_and_check(conn, rng)
        out.bytes_checked += size
    finally:
        conn.close()


async def websocket_soak(port: int, out: Outcome, duration: float, clients: int = 1000) -> None:
    start = StartLine(clients, duration)

    async def exchange(ws: websockets.ClientConnection, rng: random.Random, text: bool) -> None:
        begin = rng.randrange(len(POOL) - 8192)
        data = POOL[begin : begin + rng.randrange(1, 8192)]
        message = data.hex() if text else data
        await ws.send(message)
        if await asyncio.wait_for(ws.recv(), 30) != message:
            raise ValueError("corrupted echo")
        out.operations += 1
        out.bytes_checked += len(data)

    async def client(seed: int) -> None:
        rng = random.Random(seed)
        ready = False
        try:
            async with websockets.connect(f"ws://127.0.0.1:{port}/soak", max_size=None,
                                          open_timeout=60, ping_interval=None,
                                          compression=COMPRESSION) as ws:
                ready = True
                await start.ready()
                await exchange(ws, rng, text=seed % 2 == 0)  # at least one each
                while start.running():
                    await exchange(ws, rng, text=seed % 2 == 0)
        except (OSError, ValueError, asyncio.TimeoutError,
                websockets.exceptions.WebSocketException) as e:
            out.errors += 1
            out.notes.append(f"ws client {seed}: {e!r}")
        if not ready:
            await start.ready()

    await asyncio.gather(*(client(i) for i in range(clients)))


SCENARIOS: dict[str, Callable[..., Awaitable[None]]] = {
    "keepalive": keepalive,
    "slowloris": slowloris,
    "churn": churn,
    "websocket": websocket_soak,
}


async def trim(port: int) -> None:
    """Ask the server to hand free heap memory back (GET /trim) before RSS is read."""
    conn = Client(port)
    try:
        await conn.exchange(b"GET /trim HTTP/1.1\r\nHost: load\r\nConnection: close\r\n\r\n")
    finally:
        conn.close()


def run(name: str, server: ServerProcess, duration: float, **sizes: int) -> Outcome:
    """Run one scenario against `server` and check its descriptors come back."""
    out = Outcome(name)
    out.fds_before, out.rss_before_kib = server.fds(), server.rss_kib()
    started = time.monotonic()
    asyncio.run(SCENARIOS[name](server.port, out, duration, **sizes))
    out.seconds = time.monotonic() - started
    out.fds_after = server.settle(out.fds_before)
    asyncio.run(trim(server.port))
    out.rss_after_kib = server.rss_kib()
    return out


def report(outcomes: list[Outcome], markdown: bool) -> str:
    rows = [("scenario", "seconds", "operations", "errors", "reconnects", "MiB checked",
             "p50 ms", "p99 ms", "fds before/after", "RSS KiB before/after")]
    for o in outcomes:
        rows.append((o.name, f"{o.seconds:.1f}", str(o.operations), str(o.errors),
                     str(o.reconnects),
                     f"{o.bytes_checked / (1 << 20):.1f}",
                     f"{o.percentile(0.5) * 1000:.1f}" if o.latencies else "-",
                     f"{o.percentile(0.99) * 1000:.1f}" if o.latencies else "-",
                     f"{o.fds_before}/{o.fds_after}", f"{o.rss_before_kib}/{o.rss_after_kib}"))
    if markdown:
        lines = ["| " + " | ".join(r) + " |" for r in rows]
        lines.insert(1, "|" + "---|" * len(rows[0]))
    else:
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    notes = [f"- {o.name}: {n}" for o in outcomes for n in o.notes[:5]]
    return "\n".join(lines + notes)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    raise_fd_limit()
    outcomes = []
    with load_server() as server:
        for name in args.scenario or list(SCENARIOS):
            outcomes.append(run(name, server, args.duration))
            print(report(outcomes[-1:], False), file=sys.stderr, flush=True)
    print(report(outcomes, args.markdown))
    failed = any(o.errors or o.fds_after > o.fds_before for o in outcomes)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
