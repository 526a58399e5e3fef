"""``mgio serve --workers N``: N processes serving one port. Each worker has its own
manager and binds the port with ``reuse_port`` (SO_REUSEPORT), so the kernel spreads
new connections between them; this process only starts and stops the workers."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable


def reserve_port(listen: str) -> tuple[socket.socket, str]:
    """Resolve port 0 before forking, so that every worker binds the same port: a socket
    bound (not listening) with SO_REUSEPORT holds it. Returns that socket, to keep open
    while the workers run, and the address they bind."""
    host, port = split_address(listen)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    holder = socket.socket(family, socket.SOCK_STREAM)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        holder.bind((host, port))
    except OSError:
        holder.close()
        raise
    port = holder.getsockname()[1]
    return holder, f"[{host}]:{port}" if family == socket.AF_INET6 else f"{host}:{port}"


def split_address(listen: str) -> tuple[str, int]:
    """"[tcp://][HOST]:PORT", "[V6]:PORT" or "PORT" -> (host, port); ValueError."""
    text = listen.removeprefix("tcp://")
    if text.isdigit():
        return "0.0.0.0", int(text)
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"not a TCP address: {listen}")
    host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    return host or "0.0.0.0", int(port)


def run_workers(count: int, work: Callable[[int], int]) -> int:
    """Fork `count` workers running ``work(index)`` (its exit status) and wait for them.
    Ctrl-C, or a worker that fails, stops the others (SIGINT); returns 0 when every
    worker exited 0, else 1."""
    pids: dict[int, int] = {}
    for index in range(count):
        pid = os.fork()
        if pid == 0:
            os._exit(_worker(work, index))
        pids[pid] = index
    codes: dict[int, int] = {}
    try:
        while len(codes) < count:
            pid, status = os.wait()
            codes[pid] = os.waitstatus_to_exitcode(status)
            if codes[pid] != 0:
                break
    except KeyboardInterrupt:
        pass
    _stop(pids, codes)
    return 0 if all(code == 0 for code in codes.values()) else 1


def _worker(work: Callable[[int], int], index: int) -> int:
    signal.signal(signal.SIGINT, _interrupt_once)
    try:
        return work(index)
    except KeyboardInterrupt:
        return 0
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def _interrupt_once(signum: int, frame: object) -> None:
    """A worker's first SIGINT stops it; more (the terminal's and the forwarded one)
    must not interrupt its clean exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    raise KeyboardInterrupt


def _stop(pids: dict[int, int], codes: dict[int, int]) -> None:
    """SIGINT to the workers still running (a terminal's Ctrl-C reached them already;
    a second one is ignored by a worker that is stopping), then wait for them."""
    for pid in pids:
        if pid not in codes:
            try:
                os.kill(pid, signal.SIGINT)
            except ProcessLookupError:
                pass
    while len(codes) < len(pids):
        try:
            pid, status = os.wait()
        except KeyboardInterrupt:
            continue
        codes[pid] = os.waitstatus_to_exitcode(status)
