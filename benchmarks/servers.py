"""Server processes for the benchmarks: start one pinned to a core, learn its port, wait
until it accepts connections, read its memory and CPU time, stop it and its children;
nginx configurations in a temporary folder."""

from __future__ import annotations

import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import time

from benchcommon import cpu_seconds, process_tree

HOST = "127.0.0.1"
START_TIMEOUT = 20.0


class StartError(Exception):
    """A server exited, or did not answer in time; the message has its log's tail."""


def free_port() -> int:
    """A port that was free a moment ago (for servers that cannot announce theirs)."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def raise_nofile() -> int:
    """Raises this process's open-file limit to its hard limit; returns the limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def announced_port(line: str) -> int | None:
    """The port in a server's first line: "8080", "ready 127.0.0.1:8080",
    "serving ... on http://127.0.0.1:8080/ ..."."""
    found = re.search(r"(?:^|:)(\d{2,5})\b", line.strip())
    return int(found.group(1)) if found else None


class ServerProcess:
    """`argv` in its own process group, pinned to `core`, with the open-file limit raised.
    With port None the server announces its port in its first stdout line."""

    def __init__(self, name: str, argv: list[str], core: int | None, logs: str,
                 port: int | None = None) -> None:
        self.name = name
        self.log_path = os.path.join(logs, f"{len(os.listdir(logs))}.log")
        self.log = open(self.log_path, "w+")  # closed in stop()

        def setup() -> None:
            raise_nofile()
            if core is not None:
                os.sched_setaffinity(0, {core})

        self.proc = subprocess.Popen(
            argv,
            stdout=subprocess.PIPE if port is None else subprocess.DEVNULL,
            stderr=self.log,
            text=True,
            preexec_fn=setup,
            start_new_session=True,  # stop() ends its workers too
        )
        if port is None:
            assert self.proc.stdout is not None
            port = announced_port(self.proc.stdout.readline())
            if port is None:
                self.fail("no port announced")
        assert port is not None
        self.port = port
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if self.proc.poll() is not None:
                self.fail(f"exited with status {self.proc.returncode}")
            try:
                socket.create_connection((HOST, self.port), timeout=1).close()
                return
            except OSError:
                pass
            if time.monotonic() > deadline:
                self.fail(f"not accepting after {START_TIMEOUT:.0f} s")
            time.sleep(0.05)

    def fail(self, why: str) -> None:
        self.stop()
        with open(self.log_path) as f:
            tail = f.read().strip().splitlines()[-3:]
        raise StartError(why + (f": {' | '.join(tail)}" if tail else ""))

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
            except ProcessLookupError:
                pass
        if self.proc.stdout is not None:
            self.proc.stdout.close()
        self.log.close()

    def cpu_seconds(self) -> tuple[float, float]:
        return cpu_seconds(self.proc.pid)

    def rss_kib(self) -> int:
        """VmRSS of the server and its children, in KiB (/proc/PID/status)."""
        total = 0
        for pid in process_tree(self.proc.pid):
            try:
                with open(f"/proc/{pid}/status") as f:
                    total += next(int(x.split()[1]) for x in f if x.startswith("VmRSS:"))
            except (OSError, StopIteration):
                pass
        return total


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(p, os.X_OK)),
        None,
    )


NGINX_CONF = """\
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile {connections};
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections {connections}; }}
http {{
    access_log off;
    default_type application/octet-stream;
    keepalive_requests 1000000;
    keepalive_timeout 600s;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server {{
        listen {host}:{port} backlog=4096;
        {server}
    }}
}}
"""


def start_nginx(tmp: str, logs: str, core: int | None, server: str,
                connections: int = 1024) -> ServerProcess:
    """nginx with one process (no master), `server` inside its server block."""
    nginx = find_nginx()
    if nginx is None:
        raise StartError("not installed: nginx (apt-get install nginx)")
    port = free_port()
    conf = os.path.join(tmp, "nginx.conf")
    with open(conf, "w") as f:
        f.write(NGINX_CONF.format(tmp=tmp, host=HOST, port=port, server=server,
                                  connections=connections))
    argv = [nginx, "-p", tmp, "-c", conf, "-e", os.path.join(tmp, "nginx-error.log")]
    return ServerProcess("nginx (1 process)", argv, core, logs, port=port)
