"""The server the load and soak scenarios drive: an mgio HTTP and WebSocket server in its
own process, so its descriptors and memory can be read from /proc.

    python tests/load/load_server.py [ADDRESS]      (default 127.0.0.1:0)

Prints ``listening on HOST port PORT``. ``POST /echo`` answers the SHA-256 of the body
(hex), ``GET /`` answers ``ok``, ``GET /trim`` hands the C allocator's free memory back
to the system (glibc ``malloc_trim``; so that resident memory after a scenario shows what
is still in use, not what glibc keeps for reuse), and a WebSocket on any path echoes every
message.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import hashlib
import resource
import sys

import mgio


class LoadServer(mgio.Handler):
    def on_http_request(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        if msg.method == "POST":
            conn.reply(200, hashlib.sha256(msg.body).hexdigest())
        elif msg.uri == "/trim":
            conn.reply(200, b"ok" if trim_heap() else b"no")
        else:
            conn.reply(200, b"ok")

    def on_ws_message(self, conn: mgio.Connection, msg: mgio.WebSocketMessage) -> None:
        conn.send_ws(msg)


def trim_heap() -> bool:
    """Return free heap memory to the system where the C library can (glibc)."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True


def raise_fd_limit() -> int:
    """Lift the soft descriptor limit to the hard one (thousands of connections)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def main(address: str = "127.0.0.1:0") -> None:
    limit = raise_fd_limit()
    with mgio.Manager() as mgr:
        mgr.max_connections = max(1024, limit - 64)
        listener = mgr.bind(address, LoadServer(), http=True)
        host, port = listener.local_address or ("?", 0)
        print(f"listening on {host} port {port}", flush=True)
        try:
            mgr.run()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main(*sys.argv[1:2])
