"""One wrk run against a server process, with the server's CPU time and wrk's own over
the run (benchmarks/http_wrk.lua prints wrk's counts as one machine-readable line)."""

from __future__ import annotations

import resource
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from servers import HOST

WRK_SCRIPT = Path(__file__).resolve().parent / "http_wrk.lua"


class Target(Protocol):
    """A running server: its name, port and CPU time so far (servers.ServerProcess)."""

    name: str
    port: int

    def cpu_seconds(self) -> tuple[float, float]: ...


@dataclass
class WrkSample:
    rate: float  # requests per second
    cpu: float  # server CPU seconds per request
    user: float  # of which user
    busy: float  # server CPU seconds per wall second
    client_busy: float  # wrk's CPU seconds per wall second
    errors: int


def run_wrk(wrk: str, server: Target, path: str, seconds: float, connections: int,
            depth: int = 1) -> WrkSample:
    """wrk -t1 -cCONNECTIONS against http://HOST:port/PATH for `seconds`."""
    options = f"-t1 -c{connections} -d{seconds}s --timeout 5s"
    url = f"http://{HOST}:{server.port}{path}"
    argv = [wrk, *options.split(), "-s", str(WRK_SCRIPT), url, "--", str(depth)]
    (u0, s0), t0 = server.cpu_seconds(), time.perf_counter()
    c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = subprocess.run(argv, capture_output=True, text=True)
    c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    wall, (u1, s1) = time.perf_counter() - t0, server.cpu_seconds()
    line = next((x for x in out.stdout.splitlines() if x.startswith("bench_http:")), None)
    if out.returncode != 0 or line is None:
        raise SystemExit(f"wrk against {server.name} failed: {out.stderr.strip()[-300:]}")
    got = {k: int(v) for k, v in (item.split("=") for item in line.split()[1:])}
    requests = got["requests"]
    if requests == 0:
        raise SystemExit(f"wrk against {server.name}: no request completed")
    cpu = u1 - u0 + s1 - s0
    client = c1.ru_utime - c0.ru_utime + c1.ru_stime - c0.ru_stime
    return WrkSample(
        rate=requests / (got["duration_us"] / 1e6),
        cpu=cpu / requests,
        user=(u1 - u0) / requests,
        busy=cpu / wall,
        client_busy=client / wall,
        errors=sum(got[k] for k in ("connect", "read", "write", "status", "timeout")),
    )
