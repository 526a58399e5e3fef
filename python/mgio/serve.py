"""``mgio serve``: serve a folder over HTTP (listing, Range, ETag, conditional requests),
with one access-log line per request; Ctrl-C stops it."""

from __future__ import annotations

import os
import sys
import time
from typing import TextIO

from ._core import Connection, HttpMessage, Manager
from .handler import Handler


class FolderServer(Handler):
    """Answers every request from the folder `root` (mg_serve_http) and logs it to `log`."""

    def __init__(self, root: str, log: TextIO | None = sys.stderr) -> None:
        self.root = os.path.abspath(root)
        self.log = log

    def on_http_request(self, conn: Connection, msg: HttpMessage) -> None:
        queued = len(conn.send_buf)
        conn.serve_dir(msg, self.root)
        if self.log is not None:
            self.log.write(self._log_line(conn, msg, queued))
            self.log.flush()

    @staticmethod
    def _log_line(conn: Connection, msg: HttpMessage, queued: int) -> str:
        """A Common Log Format-like line; the status is read from the head just queued."""
        head = bytes(conn.send_buf[queued : queued + 12])
        status = head[9:12].decode("ascii", "replace") if head.startswith(b"HTTP/") else "-"
        peer = conn.remote_address
        host = peer[0] if peer else "-"
        when = time.strftime("%d/%b/%Y:%H:%M:%S %z")
        target = msg.uri + (f"?{msg.query_string}" if msg.query_string else "")
        return f'{host} - - [{when}] "{msg.method} {target} {msg.proto}" {status}\n'


def serve(root: str = ".", listen: str = "127.0.0.1:8000", quiet: bool = False) -> int:
    """Serve `root` on `listen` until Ctrl-C; returns the exit status."""
    if not os.path.isdir(root):
        print(f"mgio serve: {root}: not a folder", file=sys.stderr)
        return 2
    with Manager() as mgr:
        try:
            listener = mgr.bind(listen, FolderServer(root, None if quiet else sys.stderr),
                                http=True)
        except OSError as e:
            print(f"mgio serve: cannot listen on {listen}: {e}", file=sys.stderr)
            return 1
        address = listener.local_address
        host, port = address if address else ("?", 0)
        shown = f"[{host}]" if ":" in host else host
        print(f"serving {os.path.abspath(root)} on http://{shown}:{port}/ (Ctrl-C stops)",
              flush=True)
        try:
            mgr.run()
        except KeyboardInterrupt:
            print("stopped", flush=True)
    return 0
