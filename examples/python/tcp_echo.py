"""A TCP echo server: every byte received is sent back.

    python examples/python/tcp_echo.py [ADDRESS]      (default 127.0.0.1:8000)

Try it with ``nc 127.0.0.1 8000``. Ctrl-C stops it.
"""

import sys

import mgio


def echo(conn: mgio.Connection, ev: int, data: object) -> None:
    if ev == mgio.EV_RECV:
        conn.send(conn.recv_buf)        # an Mbuf is a buffer: no copy into bytes first
        conn.recv_buf.clear()



if __name__ == "__main__":
    mgio.serve_forever(echo, *sys.argv[1:2])
