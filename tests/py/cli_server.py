"""Runs ``python -m mgio serve`` as a subprocess for the CLI tests: on a free loopback
port, its URL read from the banner, stopped with SIGINT. Every wait is bounded."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path


def mgio_cli(
    *args: str, stdin: bytes | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[bytes]:
    """Runs ``python -m mgio ARGS`` to completion."""
    return subprocess.run([sys.executable, "-m", "mgio", *args], input=stdin,
                          capture_output=True, timeout=timeout)


def curl(*args: str) -> tuple[int, str]:
    """(HTTP status, body) of a silent curl run with `args`."""
    p = subprocess.run(["curl", "-s", "-w", "\n%{http_code}", *args],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, p.stderr
    body, _, status = p.stdout.rpartition("\n")
    return int(status), body


class CliServer:
    """``mgio serve DIR --listen 127.0.0.1:0 *options``; ``url`` ends with "/"."""

    def __init__(self, root: Path, *options: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "mgio", "serve", str(root), "--listen", "127.0.0.1:0",
             *options],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True)  # its own group: stop() can kill workers too
        assert self.proc.stdout is not None
        banner = self.proc.stdout.readline()  # ends when the process exits, too
        found = re.search(r"http://\S+/", banner)
        if found is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            _, err = self.proc.communicate(timeout=10)
            raise AssertionError(f"no banner: {banner!r} {err}")
        self.url = found.group(0)
        self.ws_url = "ws" + self.url[len("http"):]
        self.out = self.err = ""
        self.stopped = False

    def stop(self) -> int:
        """Ctrl-C; the exit status (stdout and stderr are kept in out and err). Once
        stopped, returns the same status again."""
        if self.stopped:
            return self.proc.returncode
        self.stopped = True
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.out, self.err = self.proc.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            # the whole group: a worker left behind would hold the pipes open
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.out, self.err = self.proc.communicate(timeout=10)
        return self.proc.returncode

    def __enter__(self) -> CliServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
