"""The mgio command line: ``python -m mgio`` (also installed as ``mgio``).

Until the server lands, it offers ``demo``: a short tour of Mbuf with a real socket pair.
"""

from __future__ import annotations

import argparse
import socket
import sys

from . import Mbuf, __version__


def demo() -> int:
    """Receives into an Mbuf from a socket pair and consumes it from the front."""
    left, right = socket.socketpair()
    with left, right:
        right.sendall(b"GET / HTTP/1.1\r\nHost: example\r\n\r\n")
        buf = Mbuf(bytes(64))
        n = left.recv_into(buf)  # the Mbuf is a writable buffer
        del buf[n:]
        print(f"received {n} bytes: {buf!r}")
        line_end = bytes(buf).index(b"\r\n")
        print(f"request line: {buf[:line_end].decode()}")
        buf.remove(line_end + 2)
        print(f"left after consuming it: {len(buf)} bytes, capacity {buf.size}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mgio", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"mgio {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="a short tour of Mbuf over a socket pair")
    args = parser.parse_args(argv)
    if args.command == "demo":
        return demo()
    return 2


if __name__ == "__main__":
    sys.exit(main())
