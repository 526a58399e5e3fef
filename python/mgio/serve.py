"""``mgio serve``: serve a folder over HTTP (listing, Range, ETag, conditional requests),
optionally with uploads (multipart form ``POST`` and ``PUT``), Digest authentication
and a WebSocket echo, with one access-log line per request; Ctrl-C stops it."""

from __future__ import annotations

import errno
import json
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO
from urllib.parse import quote

from ._core import Connection, HttpMessage, Manager, MultipartPart, WebSocketMessage
from .auth import DigestAuth
from .cli_auth import Guard, hidden_pattern, is_auth_file
from .cli_form import FormUpload
from .cli_log import AccessLog, RequestLine
from .cli_paths import Refused, form_folder, put_target
from .cli_put import TEMP_PREFIX, PutFile
from .cli_workers import reserve_port, run_workers
from .handler import Handler


@dataclass
class _Request:
    """The state of the request a connection is reading (in ``conn.user_data``)."""

    line: RequestLine
    refused: bool = False
    put: PutFile | None = None
    form: FormUpload | None = None


@dataclass
class ServeOptions:
    """What ``mgio serve`` does besides serving files."""

    upload: bool = False
    auth: DigestAuth | None = None
    auth_file: str | None = None
    ws_echo: str | None = None


class FolderServer(Handler):
    """Answers requests from the folder `root` (mg_serve_http) and logs them to `log`.

    With ``options.upload``, ``PUT /path/name`` streams its body into that file
    (replacing it; 201 when created, 200 when replaced) and a multipart form ``POST`` to
    a folder saves its files there (201); with ``options.auth`` every request, upload and
    WebSocket upgrade needs Digest credentials; with ``options.ws_echo`` a WebSocket at
    that path echoes every message.
    """

    def __init__(
        self, root: str, log: TextIO | None = sys.stderr, options: ServeOptions | None = None
    ) -> None:
        self.root = os.path.abspath(root)
        self.log = AccessLog(log)
        self.options = options or ServeOptions()
        self.guard = Guard(self.options.auth)
        self.hidden = hidden_pattern(self.root, self.options.auth_file, TEMP_PREFIX)

    # -- the request --------------------------------------------------------------------

    def _begin(self, conn: Connection, msg: HttpMessage, *, close: bool) -> _Request:
        """The state of a new request, checked against the guard (refused: answered)."""
        req = _Request(RequestLine.of(msg))
        conn.user_data = req
        queued = len(conn.send_buf)
        if not self.guard.allows(conn, msg, close=close):
            req.refused = True
            self.log.answered(conn, req.line, queued)
        return req

    def _refuse(self, conn: Connection, req: _Request, status: int, reason: str) -> None:
        """Answers `status` and closes (a body that is not wanted is not read)."""
        req.refused = True
        fields = {"Content-Type": "text/plain", "Connection": "close"}
        if status == 405:
            fields["Allow"] = "GET, HEAD"
        conn.reply(status, reason + "\n", fields)
        conn.close()
        self.log.write(conn, req.line, status)

    def on_http_chunk(self, conn: Connection, msg: HttpMessage) -> None:
        req = conn.user_data
        if req is None:
            req = self._begin(conn, msg, close=msg.method == "PUT")
            if msg.method == "PUT" and not req.refused:
                self._start_put(conn, msg, req)
        if req.put is not None:
            self._write_put(conn, req, msg.body)
            conn.delete_chunk()  # also when empty: a streamed body is not size-limited

    def on_http_request(self, conn: Connection, msg: HttpMessage) -> None:
        req = conn.user_data or self._begin(conn, msg, close=False)
        conn.user_data = None
        if req.refused:
            return
        if req.put is not None:
            self._finish_put(conn, req, msg.body)
            return
        queued = len(conn.send_buf)
        conn.serve_dir(msg, self.root, hidden_file_pattern=self.hidden)
        self.log.answered(conn, req.line, queued)

    def on_close(self, conn: Connection) -> None:
        req = conn.user_data
        if isinstance(req, _Request) and req.put is not None:
            req.put.abort()  # the client went away mid-body

    # -- PUT ----------------------------------------------------------------------------

    def _start_put(self, conn: Connection, msg: HttpMessage, req: _Request) -> None:
        if not self.options.upload:
            self._refuse(conn, req, 405, "uploads are off (mgio serve --upload)")
            return
        try:
            folder, name = put_target(self.root, msg.uri)
            if is_auth_file(os.path.join(folder, name), self.options.auth_file):
                raise Refused(403, "the auth file cannot be replaced")
            req.put = PutFile(folder, name)
        except Refused as e:
            self._refuse(conn, req, e.status, e.reason)
        except IsADirectoryError:
            self._refuse(conn, req, 409, "the target is a folder")
        except OSError as e:
            self._refuse(conn, req, 500, f"cannot create the file: {e.strerror or e}")

    def _write_put(self, conn: Connection, req: _Request, data: bytes) -> None:
        assert req.put is not None
        try:
            req.put.write(data)
        except OSError as e:
            req.put.abort()
            req.put = None
            full = e.errno in (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)
            self._refuse(conn, req, 507 if full else 500, f"write failed: {e.strerror or e}")

    def _finish_put(self, conn: Connection, req: _Request, rest: bytes) -> None:
        put = req.put
        assert put is not None
        self._write_put(conn, req, rest)
        if req.put is None:
            return  # the write failed and was answered
        req.put = None
        put.commit()
        name = os.path.relpath(put.path, os.path.realpath(self.root)).replace(os.sep, "/")
        queued = len(conn.send_buf)
        conn.reply(
            200 if put.existed else 201,
            json.dumps({"saved": [name], "size": put.size}),
            {"Content-Type": "application/json", "Location": "/" + quote(name)},
        )
        self.log.answered(conn, req.line, queued)

    # -- multipart form POST ----------------------------------------------------------

    def on_http_multipart_request(self, conn: Connection, msg: HttpMessage) -> None:
        req = self._begin(conn, msg, close=True)
        if req.refused:
            return
        if not self.options.upload:
            self._refuse(conn, req, 405, "uploads are off (mgio serve --upload)")
            return
        try:
            req.form = FormUpload(form_folder(self.root, msg.uri), self.root)
        except Refused as e:
            self._refuse(conn, req, e.status, e.reason)

    def on_http_part_begin(self, conn: Connection, part: MultipartPart) -> None:
        req = conn.user_data
        if req is not None and req.form is not None:
            req.form.on_http_part_begin(conn, part)

    def on_http_part_data(self, conn: Connection, part: MultipartPart) -> None:
        req = conn.user_data
        if req is not None and req.form is not None:
            req.form.on_http_part_data(conn, part)

    def on_http_part_end(self, conn: Connection, part: MultipartPart) -> None:
        req = conn.user_data
        if req is not None and req.form is not None:
            req.form.on_http_part_end(conn, part)

    def on_http_multipart_request_end(self, conn: Connection, part: MultipartPart) -> None:
        req = conn.user_data
        conn.user_data = None
        if req is None or req.form is None:
            return  # refused at the start (answered and logged)
        if conn.closed:
            req.form.on_http_multipart_request_end(conn, part)  # cleans up
            self.log.write(conn, req.line, "-")  # the client went away
            return
        queued = len(conn.send_buf)
        req.form.on_http_multipart_request_end(conn, part)
        self.log.answered(conn, req.line, queued)

    # -- WebSocket echo -------------------------------------------------------------------

    def on_ws_handshake_request(self, conn: Connection, msg: HttpMessage) -> None:
        req = conn.user_data or self._begin(conn, msg, close=True)
        conn.user_data = None
        if req.refused:
            conn.close()  # the 401 is queued; closing refuses the upgrade
        elif msg.uri != self.options.ws_echo:
            self._refuse(conn, req, 404, "no WebSocket here")

    def on_ws_open(self, conn: Connection, msg: HttpMessage) -> None:
        self.log.write(conn, RequestLine.of(msg), 101)

    def on_ws_message(self, conn: Connection, msg: WebSocketMessage) -> None:
        conn.send_ws(msg)


def _banner(root: str, address: tuple[str, int] | None, options: ServeOptions) -> str:
    host, port = address if address else ("?", 0)
    shown = f"[{host}]" if ":" in host else host
    lines = [f"serving {os.path.abspath(root)} on http://{shown}:{port}/ (Ctrl-C stops)"]
    if options.upload:
        lines.append("uploads: PUT /path/name, or a multipart form POST to a folder")
    if options.ws_echo is not None:
        lines.append(f"WebSocket echo on ws://{shown}:{port}{options.ws_echo}")
    if options.auth is not None:
        lines.append(f"Digest authentication, realm {options.auth.realm!r}")
    return "\n".join(lines)


def _run(mgr: Manager) -> None:
    """Runs until Ctrl-C; a handler error is reported and serving goes on (the manager
    has closed that connection)."""
    while True:
        try:
            mgr.run()
            return
        except KeyboardInterrupt:
            raise
        except Exception:
            print("mgio serve: error in a handler:", file=sys.stderr)
            traceback.print_exc(file=sys.stderr)


def serve(
    root: str = ".",
    listen: str = "127.0.0.1:8000",
    quiet: bool = False,
    options: ServeOptions | None = None,
    workers: int = 1,
) -> int:
    """Serve `root` on `listen` until Ctrl-C, in `workers` processes sharing the port
    (SO_REUSEPORT) when more than one; returns the exit status."""
    options = options or ServeOptions()
    if not os.path.isdir(root):
        print(f"mgio serve: {root}: not a folder", file=sys.stderr)
        return 2
    try:
        # made before any fork: the workers share its Digest key (their nonces are
        # valid on each other; each keeps its own replay table)
        handler = FolderServer(root, None if quiet else sys.stderr, options)
    except ValueError as e:
        print(f"mgio serve: {e}", file=sys.stderr)
        return 2
    if workers <= 1:
        def announce(address: tuple[str, int] | None) -> None:
            print(_banner(root, address, options), flush=True)

        status = _serve_one(listen, handler, announce)
        if status == 0:
            print("stopped", flush=True)
        return status
    try:
        holder, address = reserve_port(listen)
    except (OSError, ValueError) as e:
        print(f"mgio serve: cannot listen on {listen}: {e}", file=sys.stderr)
        return 1
    with holder:
        # the banner once every worker listens, from here: a client that reads it can
        # reach all of them
        banner = _banner(root, holder.getsockname()[:2], options)
        status = run_workers(
            workers,
            lambda index, ready: _serve_one(address, handler, lambda _: ready(), True),
            lambda: print(f"{banner}\n{workers} worker processes", flush=True))
    print("stopped", flush=True)
    return status


def _serve_one(listen: str, handler: FolderServer,
               on_listening: Callable[[tuple[str, int] | None], None],
               reuse_port: bool = False) -> int:
    """One manager serving until Ctrl-C (then 0); on_listening(address) once bound.
    1 when it cannot listen."""
    with Manager() as mgr:
        try:
            listener = mgr.bind(listen, handler, http=True, reuse_port=reuse_port)
        except OSError as e:
            print(f"mgio serve: cannot listen on {listen}: {e}", file=sys.stderr)
            return 1
        on_listening(listener.local_address)
        try:
            _run(mgr)
        except KeyboardInterrupt:
            pass
    return 0
