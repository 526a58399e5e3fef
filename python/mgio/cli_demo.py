"""``mgio demo``: an echo server and client over loopback, then an Mbuf over a socket
pair -- a short tour of the library."""

from __future__ import annotations

import socket
import time

from . import EV_CONNECT, EV_RECV, Connection, Manager, Mbuf


def demo() -> int:
    """An echo server and a client in one Manager, then an Mbuf over a socket pair."""
    replies: list[bytes] = []

    def echo(conn: Connection, ev: int, data: object) -> None:
        if ev == EV_RECV:
            conn.send(bytes(conn.recv_buf))
            conn.recv_buf.clear()

    def client(conn: Connection, ev: int, data: object) -> None:
        if ev == EV_CONNECT:
            conn.send(b"hello, mgio")
        elif ev == EV_RECV:
            replies.append(bytes(conn.recv_buf))
            conn.close()

    with Manager() as mgr:
        listener = mgr.bind("tcp://127.0.0.1:0", echo)
        address = listener.local_address
        assert address is not None  # a bound listener has one
        host, port = address
        print(f"echo server on {host}:{port}")
        conn = mgr.connect(f"{host}:{port}", client)
        deadline = time.monotonic() + 5
        while not conn.closed and time.monotonic() < deadline:
            mgr.poll(100)
    print(f"the client got back: {b''.join(replies)!r}")

    left, right = socket.socketpair()
    with left, right:
        right.sendall(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
        buf = Mbuf(bytes(64))
        n = left.recv_into(buf)  # the Mbuf is a writable buffer
        del buf[n:]
        line_end = bytes(buf).index(b"\r\n")
        print(f"an Mbuf received {n} bytes; request line: {buf[:line_end].decode()}")
        buf.remove(line_end + 2)
        print(f"left after consuming it: {len(buf)} bytes, capacity {buf.size}")
    return 0 if replies else 1
