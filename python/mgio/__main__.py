"""The mgio command line: ``python -m mgio`` (also installed as ``mgio``).

``serve [DIR]`` serves a folder over HTTP (uploads, Digest auth and a WebSocket echo on
request); ``get URL`` downloads; ``ws URL`` talks to a WebSocket from stdin; ``demo``
runs an echo server and client over loopback and a short tour of Mbuf.
"""

from __future__ import annotations

import argparse
import os
import sys

from ._version import __version__

_SERVE_EPILOG = """\
uploads (--upload): "PUT /path/name" streams the body into DIR/path/name, replacing an
existing file only once the body is complete (201 Created, 200 when replaced); a
multipart form POST to a folder saves its files there, never overwriting ("name (1).ext"
instead; 201). Names are reduced to safe base names and folders must already exist
inside DIR. The answers are JSON: {"saved": [names], ...}.

auth (--auth-file FILE --realm R): every request, upload and WebSocket upgrade needs
Digest credentials from the htdigest FILE (lines user:realm:md5(user:realm:password));
FILE is hidden from listings when it lies inside DIR.
"""


def _ws_path(value: str) -> str:
    if not value.startswith("/") or any(c in value for c in "?# \t"):
        raise argparse.ArgumentTypeError("a path like /ws (no query)")
    return value


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= 256:
        raise argparse.ArgumentTypeError(f"expected a number of processes (1-256), not {value!r}")
    return number


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    srv = sub.add_parser(
        "serve",
        help="serve a folder over HTTP",
        description="Serve a folder over HTTP: directory listings, Range, ETag and "
        "conditional requests, an access log on stderr. Ctrl-C stops it (exit status 0).",
        epilog=_SERVE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    srv.add_argument("dir", nargs="?", default=".", help="the folder to serve (default: .)")
    srv.add_argument("--listen", default="127.0.0.1:8000", metavar="ADDR",
                     help="address to listen on (default 127.0.0.1:8000; port 0: any free)")
    srv.add_argument("--upload", action="store_true",
                     help="accept uploads: PUT and multipart form POST (see below)")
    srv.add_argument("--auth-file", metavar="FILE",
                     help="require Digest auth with the users of this htdigest file")
    srv.add_argument("--realm", metavar="R", help="the Digest realm (with --auth-file)")
    srv.add_argument("--ws-echo", metavar="PATH", type=_ws_path,
                     help="a WebSocket echo at PATH (e.g. /ws) on the same port")
    srv.add_argument("--quiet", action="store_true", help="no access log")
    srv.add_argument("--workers", type=_positive, default=1, metavar="N",
                     help="serve from N processes sharing the port (SO_REUSEPORT)")


def _add_get(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    get = sub.add_parser(
        "get",
        help="download a URL",
        description="Download an http:// URL in bounded memory to FILE or stdout, "
        "following redirects; a progress bar goes to stderr when it is a terminal. "
        "A status other than 2xx prints a message and exits 1.",
    )
    get.add_argument("url", help="http://host[:port]/path")
    get.add_argument("-o", "--output", metavar="FILE", help="write here (default or -: stdout)")
    get.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS",
                     help="give up when nothing arrives for this long (default 30)")


def _add_ws(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    sub.add_parser(
        "ws",
        help="a WebSocket client on stdin/stdout",
        description="Connect to a ws:// URL; each line of stdin is sent as a text message, "
        "each message received is printed on its own line. End of input closes with "
        "code 1000 and exits 0; a refused or broken connection exits 1.",
    ).add_argument("url", help="ws://host[:port]/path")


def parser() -> argparse.ArgumentParser:
    """The argument parser of the command line."""
    p = argparse.ArgumentParser(
        prog="mgio", description="mgio: serve a folder, download a URL, talk to a WebSocket."
    )
    p.add_argument("--version", action="version", version=f"mgio {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(sub)
    _add_get(sub)
    _add_ws(sub)
    sub.add_parser("demo", help="an echo server and client over loopback, and an Mbuf")
    return p


def _serve(p: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    from .auth import DigestAuth
    from .serve import ServeOptions, serve

    if (args.auth_file is None) != (args.realm is None):
        p.error("--auth-file and --realm go together")
    auth = None
    if args.auth_file is not None:
        if not os.path.isfile(args.auth_file):
            p.error(f"--auth-file {args.auth_file}: no such file")
        try:
            auth = DigestAuth(args.realm, args.auth_file)
        except ValueError as e:
            p.error(f"--realm: {e}")
    options = ServeOptions(args.upload, auth, args.auth_file, args.ws_echo)
    return serve(args.dir, args.listen, args.quiet, options, args.workers)


def main(argv: list[str] | None = None) -> int:
    """Runs the command line with `argv` (default: sys.argv[1:]); the exit status."""
    p = parser()
    args = p.parse_args(argv)
    if args.command == "serve":
        return _serve(p, args)
    if args.command == "get":
        from .cli_get import get

        return get(args.url, args.output, args.timeout)
    if args.command == "ws":
        from .cli_ws import ws

        return ws(args.url)
    from .cli_demo import demo

    return demo()


if __name__ == "__main__":
    sys.exit(main())
