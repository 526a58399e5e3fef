"""``mgio ws URL``: a small WebSocket client for the terminal or a pipe.

Each line read from stdin is sent as a text message; each message received is printed
to stdout (text as is, binary as raw bytes), one per line. At the end of stdin the
client closes with code 1000 and exits 0 once the server answered; when the server
closes, the client exits too (0 for codes 1000, 1001 or 1005, else 1). A refused
handshake or a lost connection prints a message on stderr and exits 1.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
from collections.abc import Iterator

from ._core import Connection, HttpMessage, Manager, WebSocketMessage
from .events import WsOp
from .handler import Handler
from .websocket import OK_CLOSE_CODES

_EOF = None  # what the stdin reader queues at the end of input


class _Session(Handler):
    """The client connection: sends queued lines once open, prints what arrives."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.open = False
        self.closing = False
        self.closed = False
        self.close_code: int | None = None
        self.error: str | None = None

    def on_connect(self, conn: Connection, status: int) -> None:
        if status != 0:
            self.error = "cannot resolve the host" if status == -1 else os.strerror(status)

    def on_ws_open(self, conn: Connection, msg: HttpMessage) -> None:
        if msg.status == 101:
            self.open = True
        else:
            self.error = f"the server refused the WebSocket: {msg.status} {msg.status_text}"

    def on_ws_message(self, conn: Connection, msg: WebSocketMessage) -> None:
        if msg.is_text:
            sys.stdout.write(msg.text + "\n")
            sys.stdout.flush()
        else:
            sys.stdout.buffer.write(msg.data + b"\n")
            sys.stdout.buffer.flush()

    def on_ws_control(self, conn: Connection, msg: WebSocketMessage) -> None:
        if msg.opcode == WsOp.CLOSE:
            self.close_code = msg.close_code

    def on_close(self, conn: Connection) -> None:
        self.closed = True

    def send_pending(self, conn: Connection) -> None:
        """Sends the lines read so far (once open); the end of input starts the close."""
        while self.open and not self.closing and not conn.closed:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return
            if line is _EOF:
                self.closing = True
                conn.ws_close(1000)
            else:
                conn.send_ws(line)

    def status(self) -> int:
        """The exit status, with a message on stderr when it is not 0."""
        if self.error is None and not self.open:
            self.error = "the connection closed before the WebSocket opened"
        if self.error is None and self.close_code not in OK_CLOSE_CODES:
            code = self.close_code if self.close_code is not None else 1006
            self.error = f"the WebSocket closed with code {code}"
        if self.error is not None:
            print(f"mgio ws: {self.error}", file=sys.stderr)
            return 1
        return 0


def _stdin_lines(fd: int = 0) -> Iterator[bytes]:
    """The lines of `fd` without their end; unbuffered reads (os.read), because a daemon
    thread blocked in sys.stdin's reader would hold its lock at interpreter exit."""
    pending = bytearray()
    while chunk := os.read(fd, 65536):
        pending += chunk
        *lines, rest = pending.split(b"\n")
        yield from (bytes(line) for line in lines)
        pending = bytearray(rest)
    if pending:
        yield bytes(pending)


def _read_stdin(session: _Session, mgr: Manager) -> None:
    """The reader thread: queues each line of stdin, then the end of input."""
    try:
        for raw in _stdin_lines():
            session.lines.put(raw.decode("utf-8", "replace").rstrip("\r"))
            mgr.wakeup()
        session.lines.put(_EOF)
        mgr.wakeup()
    except (OSError, RuntimeError, ValueError):
        pass  # stdin failed, or the manager is gone: the session is over


def ws(url: str) -> int:
    """``mgio ws``: returns the exit status."""
    session = _Session()
    with Manager() as mgr:
        try:
            conn = mgr.connect_ws(url, session)
        except (ValueError, OSError) as e:
            print(f"mgio ws: {url}: {e}", file=sys.stderr)
            return 1
        threading.Thread(target=_read_stdin, args=(session, mgr), daemon=True).start()
        try:
            while not session.closed:
                mgr.poll(200)
                session.send_pending(conn)
        except KeyboardInterrupt:
            print("mgio ws: interrupted", file=sys.stderr)
            return 130
    return session.status()
