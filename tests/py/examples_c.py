"""Runs the C example programs (examples/c/*.c, built by `make -C csrc examples`) as
servers for the tests: each prints "ready HOST:PORT" once it listens."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CSRC = ROOT / "csrc"
EXAMPLES = CSRC / "out" / "examples"
TIMEOUT = 10.0


def build(name: str) -> Path:
    """The example `name`, built now (a failed build fails the caller's tests)."""
    r = subprocess.run(
        ["make", "-C", str(CSRC), "examples"], capture_output=True, text=True, timeout=600
    )
    assert r.returncode == 0, f"make examples failed:\n{r.stdout}\n{r.stderr}"
    binary = EXAMPLES / name
    assert binary.exists()
    return binary


class ExampleServer:
    """One running example server on 127.0.0.1 (port 0: it picks one): `port`,
    `alive()`, `rss_kib()`, `stop()`. Its stderr goes to `log`."""

    def __init__(self, binary: Path, args: list[str], log: Path):
        self.log = log
        self.stderr = open(log, "wb")  # closed in stop()
        self.proc = subprocess.Popen(
            [str(binary), "127.0.0.1:0", *args], stdout=subprocess.PIPE, stderr=self.stderr
        )
        self.port = self._read_port()

    def _read_port(self) -> int:
        assert self.proc.stdout is not None
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + TIMEOUT
        line = b""
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                self.stop()
                raise AssertionError(f"no ready line; stderr: {self.log.read_text()}")
            byte = os.read(self.proc.stdout.fileno(), 1)
            if not byte:
                self.stop()
                raise AssertionError(f"server exited; stderr: {self.log.read_text()}")
            line += byte
        sel.close()
        m = re.fullmatch(rb"ready 127\.0\.0\.1:(\d+)\n", line)
        assert m, line
        return int(m.group(1))

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def rss_kib(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.stderr.close()


@contextlib.contextmanager
def starter(binary: Path, logs: Path) -> Iterator[Callable[..., ExampleServer]]:
    """run(*args) starts a server of `binary` with the arguments `args` (str() of each;
    logs in `logs`); every one started is stopped when the block ends."""
    servers: list[ExampleServer] = []

    def run(*args: object) -> ExampleServer:
        s = ExampleServer(binary, [str(a) for a in args], logs / f"server{len(servers)}.log")
        servers.append(s)
        return s

    try:
        yield run
    finally:
        for s in servers:
            s.stop()
