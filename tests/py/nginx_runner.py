"""Runs Debian's nginx for a test: a private prefix, a free loopback port, bounded start
and stop. Shared by the tests that use nginx as a server and as a reverse proxy."""

from __future__ import annotations

import contextlib
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"

# The frame every test configuration goes in: one worker, logs and temp files under
# the prefix, no daemon. {http} is the test's own http-level text.
FRAME = """
daemon off;
master_process off;
worker_processes 1;
error_log {tmp}/error.log;
pid {tmp}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
{http}
}}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serving(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def run_nginx(tmp: Path, http_config: Callable[[int], str]) -> Iterator[int]:
    """Start nginx with the http-level text ``http_config(port)`` listening on a free
    port (retried if another process takes the port first); yield the port; stop it."""
    for attempt in range(5):
        port = free_port()
        conf = tmp / "nginx.conf"
        conf.write_text(FRAME.format(tmp=tmp, http=http_config(port)))
        proc = subprocess.Popen([NGINX, "-p", str(tmp), "-c", str(conf)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while proc.poll() is None and not serving(port) and time.monotonic() < deadline:
            time.sleep(0.02)
        if proc.poll() is None and serving(port):
            break
        proc.kill()
        proc.wait()
        if attempt == 4:
            log = (tmp / "error.log").read_text() if (tmp / "error.log").exists() else ""
            pytest.fail(f"nginx did not start: {log}")
    try:
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
