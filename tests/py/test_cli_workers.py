"""``mgio serve --workers N``: N processes share the port (SO_REUSEPORT) and the kernel
spreads connections between them; Ctrl-C stops them all."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_server import CliServer, mgio_cli
from conftest import wait_for


def _children(pid: int) -> list[int]:
    text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    return [int(p) for p in text.split()]


def _sockets(pid: int) -> int:
    fds = Path(f"/proc/{pid}/fd")
    return sum(os.readlink(fds / fd).startswith("socket:") for fd in os.listdir(fds))


def test_workers_share_the_port_and_stop_together(tmp_path):
    (tmp_path / "hello.txt").write_text("hello\n")
    server = CliServer(tmp_path, "--workers", "2")
    try:
        assert "2 worker processes" in server.proc.stdout.readline()
        workers = _children(server.proc.pid)
        assert len(workers) == 2
        # the banner comes from the first worker; the other may still be setting up
        # (the two are alike once both listen)
        wait_for(lambda: _sockets(workers[0]) == _sockets(workers[1]))
        idle = {pid: _sockets(pid) for pid in workers}
        port = int(server.url.rsplit(":", 1)[1].strip("/"))
        held = []
        for _ in range(40):  # kept open: each worker holds the ones it accepted
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            assert s.recv(4096).startswith(b"HTTP/1.1 200 OK")
            held.append(s)
        busy = {pid: _sockets(pid) - idle[pid] for pid in workers}
        assert sum(busy.values()) == 40 and all(busy.values()), busy
        for s in held:
            s.close()
        assert server.stop() == 0
    finally:
        server.stop()
    assert server.out.count("stopped") == 1
    assert "Traceback" not in server.err
    assert server.err.count('"GET /hello.txt HTTP/1.1" 200') == 40
    wait_for(lambda: all(not Path(f"/proc/{pid}").exists() for pid in workers))


@pytest.mark.parametrize("value", ["0", "-1", "x", "1000"])
def test_workers_must_be_a_sensible_count(value):
    r = mgio_cli("serve", "--workers", value)
    assert r.returncode == 2 and b"--workers" in r.stderr


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.5, 0.75, 0.9, 1.0])
def test_ctrl_c_while_starting_leaves_no_worker(tmp_path, fraction):
    """Ctrl-C at any moment of the start-up (here a fraction of the time the banner
    took to come) stops every worker started so far: none is left serving alone."""
    started = time.monotonic()
    with CliServer(tmp_path, "--workers", "3"):
        startup = time.monotonic() - started
    proc = subprocess.Popen(
        [sys.executable, "-m", "mgio", "serve", str(tmp_path), "--listen", "127.0.0.1:0",
         "--workers", "3"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    time.sleep(startup * fraction)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=20)
        wait_for(lambda: not _group_alive(proc.pid), what="the workers' exit")
    finally:
        if _group_alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=10)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True
