"""serve_forever: the few lines every small server script needs — bind, say where, run
until Ctrl-C."""

from __future__ import annotations

import sys
from typing import Any, TextIO

from ._core import Manager


def serve_forever(
    handler: Any,
    address: str = "127.0.0.1:8000",
    *,
    http: bool = False,
    announce: TextIO | None = sys.stdout,
) -> None:
    """Listen on ``address`` with ``handler`` in a new :class:`Manager` and poll until
    Ctrl-C, then close every connection and return.

    ``http=True`` makes the listener speak HTTP (and WebSocket). Unless ``announce`` is
    None, writes ``listening on HOST port PORT`` there once the socket is bound (so
    ``address`` may use port 0) and ``stopped`` at the end. A bind failure raises
    ``OSError``.
    """
    with Manager() as mgr:
        listener = mgr.bind(address, handler, http=http)
        host, port = listener.local_address or ("?", 0)
        _say(announce, f"listening on {host} port {port}")
        try:
            mgr.run()
        except KeyboardInterrupt:
            _say(announce, "stopped")


def _say(out: TextIO | None, line: str) -> None:
    if out is not None:
        print(line, file=out, flush=True)
