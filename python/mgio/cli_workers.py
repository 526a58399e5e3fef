"""``mgio serve --workers N``: N processes serving one port. Each worker has its own
manager and binds the port with ``reuse_port`` (SO_REUSEPORT), so the kernel spreads
new connections between them; this process only starts and stops the workers."""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable

#: work(index, ready) serves as worker `index` and returns its exit status; it calls
#: ready() once it listens.
Work = Callable[[int, Callable[[], None]], int]


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


def run_workers(count: int, work: Work, on_ready: Callable[[], None]) -> int:
    """Fork `count` workers running `work`, call on_ready() once every one of them
    listens, and wait for them. Ctrl-C, or a worker that fails, stops the others
    (SIGINT); returns 0 when every worker exited 0, else 1."""
    ready_r, ready_w = os.pipe()
    # Ctrl-C is held back while forking: raised between two forks it would leave the
    # workers started so far running with no supervisor to stop them.
    unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    pids: dict[int, int] = {}
    try:
        for index in range(count):
            pid = os.fork()
            if pid == 0:
                os.close(ready_r)
                os._exit(_worker(work, index, ready_w, unblocked))
            pids[pid] = index
    finally:
        os.close(ready_w)
    codes: dict[int, int] = {}
    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
        if _all_ready(ready_r, count):
            on_ready()
        while len(codes) < count:
            pid, status = os.wait()
            codes[pid] = os.waitstatus_to_exitcode(status)
            if codes[pid] != 0:
                break
    except KeyboardInterrupt:
        pass
    finally:
        os.close(ready_r)
    _stop(pids, codes)
    return 0 if all(code == 0 for code in codes.values()) else 1


def _all_ready(ready_r: int, count: int) -> bool:
    """Whether all `count` workers said they listen (one byte each); False as soon as
    every write end is closed without that (a worker failed before listening)."""
    got = 0
    while got < count:
        chunk = os.read(ready_r, count)
        if not chunk:
            return False
        got += len(chunk)
    return True


def _worker(work: Work, index: int, ready_w: int, unblocked: set[int | signal.Signals]) -> int:
    signal.signal(signal.SIGINT, _interrupt_once)
    open_fds = [ready_w]

    def ready() -> None:
        # closed at once: the supervisor sees the end of the pipe when every worker
        # either said so or died
        os.write(ready_w, b"r")
        os.close(open_fds.pop())

    try:
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
        return work(index, ready)
    except KeyboardInterrupt:
        return 0
    finally:
        for fd in open_fds:
            os.close(fd)
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
