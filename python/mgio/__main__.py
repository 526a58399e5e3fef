"""The mgio command line: ``python -m mgio`` (also installed as ``mgio``).

``serve [DIR]`` serves a folder over HTTP; ``demo`` runs an echo server and client over
loopback and a short tour of Mbuf.
"""

from __future__ import annotations

import argparse
import socket
import sys
import time

from . import EV_CONNECT, EV_RECV, Connection, Manager, Mbuf, __version__
from .serve import serve


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mgio", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"mgio {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="an echo server and client over loopback, and an Mbuf")
    srv = sub.add_parser("serve", help="serve a folder over HTTP")
    srv.add_argument("dir", nargs="?", default=".", help="the folder to serve (default: .)")
    srv.add_argument("--listen", default="127.0.0.1:8000", metavar="ADDR",
                     help="address to listen on (default 127.0.0.1:8000; port 0: any free)")
    srv.add_argument("--quiet", action="store_true", help="no access log")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    if args.command == "serve":
        return serve(args.dir, args.listen, args.quiet)
    return 2


if __name__ == "__main__":
    sys.exit(main())
