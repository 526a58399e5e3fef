"""Running one hostile-response case (client.ClientCase) against the mgio HTTP client: a
plain listening socket plays the server, in the test's thread, between manager polls."""

from __future__ import annotations

import contextlib
import socket
import time

import mgio

from .client import ClientCase
from .wire import TIMEOUT, send_modes


class Recorder(mgio.Handler):
    """The client's handler: records replies and closes after the first one."""

    def __init__(self) -> None:
        self.replies: list[tuple[int, bytes]] = []
        self.closed = False

    def on_http_reply(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        self.replies.append((msg.status, msg.body))
        conn.close()

    def on_close(self, conn: mgio.Connection) -> None:
        self.closed = True


def poll_until(mgr: mgio.Manager, done: object, what: str) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not done():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {TIMEOUT} s")
        mgr.poll(2)


def accept_request(mgr: mgio.Manager, listener: socket.socket) -> socket.socket:
    """The client's connection, once its request head is in."""
    got: list[socket.socket] = []

    def accepted() -> bool:
        try:
            got.append(listener.accept()[0])
        except BlockingIOError:
            return False
        return True

    poll_until(mgr, accepted, "the client connects")
    s = got[0]
    s.setblocking(False)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    head = bytearray()

    def request_in() -> bool:
        try:
            head.extend(s.recv(65536))
        except BlockingIOError:
            pass
        return b"\r\n\r\n" in head

    poll_until(mgr, request_in, "the client's request")
    return s


def send_pieces(mgr: mgio.Manager, s: socket.socket, pieces: list[bytes]) -> None:
    """Sends each piece and lets the client read it; stops once the client is gone."""
    for piece in pieces:
        view = memoryview(piece)
        deadline = time.monotonic() + TIMEOUT
        while view:
            try:
                view = view[s.send(view) :]
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise AssertionError("the client stopped reading") from None
            except (BrokenPipeError, ConnectionResetError):
                return
            mgr.poll(0)
            mgr.poll(0)


def run_exchange(mgr: mgio.Manager, case: ClientCase, pieces: list[bytes]) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        rec = Recorder()
        mgr.connect_http(f"http://127.0.0.1:{listener.getsockname()[1]}/", rec)
        with accept_request(mgr, listener) as s:
            send_pieces(mgr, s, pieces)
            if case.eof:
                with contextlib.suppress(OSError):  # the client may have closed already
                    s.shutdown(socket.SHUT_WR)
            poll_until(mgr, lambda: rec.closed, "the client closes the connection")
    want = [] if case.reply is None else [case.reply]
    assert rec.replies == want, f"replies {rec.replies!r:.300}, want {want!r:.300}"


def run_case(mgr: mgio.Manager, case: ClientCase) -> None:
    for mode, pieces in send_modes(case.data):
        try:
            run_exchange(mgr, case, pieces)
        except AssertionError as e:
            raise AssertionError(f"[{mode}] {e}") from None
    fresh = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nk"
    run_exchange(mgr, ClientCase("fresh", "", fresh, (200, b"k")), [fresh])
