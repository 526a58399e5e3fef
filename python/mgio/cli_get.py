"""``mgio get URL [-o FILE]``: download a URL in bounded memory.

The body is written as it arrives (``on_http_chunk`` + ``delete_chunk``), to FILE or
to stdout; a progress bar goes to stderr when stderr is a terminal. Redirects are
followed (at most 5). A status other than 2xx, a failed connection or a body cut short
is reported on stderr with exit status 1; FILE is then left as it was (the body goes
to a temporary file renamed over FILE at the end).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from typing import BinaryIO
from urllib.parse import urljoin

from ._core import Connection, HttpMessage, Manager
from .cli_progress import Progress
from .handler import Handler

MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class GetError(Exception):
    """The download failed; the message says why."""


class _Sink:
    """Where the body goes: stdout, or FILE through a temporary file beside it that is
    renamed over FILE only when the download succeeded (a failure leaves FILE as it
    was)."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.file: BinaryIO | None = None
        self.temp: str | None = None

    def write(self, data: bytes) -> None:
        if self.file is None:
            self.file = self._open()
        self.file.write(data)

    def _open(self) -> BinaryIO:
        if self.path is None:
            return sys.stdout.buffer
        folder = os.path.dirname(os.path.abspath(self.path))
        fd, self.temp = tempfile.mkstemp(prefix=".mgio-get-", dir=folder)
        return os.fdopen(fd, "wb")

    def close(self, ok: bool) -> None:
        if self.path is None:
            sys.stdout.buffer.flush()
            return
        if ok and self.file is None:
            self.write(b"")  # an empty body is an empty file
        if self.file is None or self.temp is None:
            return
        self.file.close()
        if ok:
            os.chmod(self.temp, 0o666 & ~_umask())
            os.replace(self.temp, self.path)
        else:
            os.unlink(self.temp)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class _Fetch(Handler):
    """One request: streams a 2xx body to the sink, or notes a redirect or an error."""

    def __init__(self, url: str, sink: _Sink, show_progress: bool) -> None:
        self.url = url
        self.sink = sink
        self.show_progress = show_progress
        self.progress: Progress | None = None
        self.started = False
        self.done = False
        self.error: str | None = None
        self.redirect: str | None = None
        self.last_input = time.monotonic()

    def _end(self, conn: Connection, error: str | None = None) -> None:
        self.done = True
        self.error = error
        conn.close(immediately=error is not None)

    def _start(self, conn: Connection, msg: HttpMessage) -> bool:
        """Looks at the status once; False when the body is not wanted."""
        self.started = True
        location = msg.header("Location")
        if msg.status in _REDIRECTS and location:
            self.redirect = urljoin(self.url, location)
            self._end(conn)
            return False
        if not 200 <= msg.status < 300:
            self._end(conn, f"{msg.status} {msg.status_text}")
            return False
        if self.show_progress:
            self.progress = Progress(sys.stderr, msg.content_length)
        return True

    def _take(self, data: bytes) -> None:
        self.last_input = time.monotonic()
        if data:
            self.sink.write(data)
            if self.progress is not None:
                self.progress.add(len(data))

    def on_connect(self, conn: Connection, status: int) -> None:
        if status == -1:
            self._end(conn, "cannot resolve the host")
        elif status != 0:
            self._end(conn, os.strerror(status))

    def on_http_chunk(self, conn: Connection, msg: HttpMessage) -> None:
        if self.done or (not self.started and not self._start(conn, msg)):
            return
        self._take(msg.body)
        conn.delete_chunk()

    def on_http_reply(self, conn: Connection, msg: HttpMessage) -> None:
        if self.done or (not self.started and not self._start(conn, msg)):
            return
        self._take(msg.body)
        if self.progress is not None:
            self.progress.done()
        self._end(conn)

    def on_close(self, conn: Connection) -> None:
        if not self.done:
            self.done = True
            self.error = "the connection closed before the whole answer arrived"
            if self.progress is not None:
                self.progress.done()  # ends the bar's line before the message


def _fetch_once(url: str, sink: _Sink, timeout: float, progress: bool) -> _Fetch:
    fetch = _Fetch(url, sink, progress)
    with Manager() as mgr:
        try:
            mgr.connect_http(url, fetch)
        except (ValueError, OSError) as e:
            raise GetError(str(e)) from None
        while not fetch.done:
            if time.monotonic() - fetch.last_input > timeout:
                raise GetError(f"nothing received for {timeout:g} s")
            mgr.poll(200)
    return fetch


def fetch(url: str, output: str | None, timeout: float = 30.0) -> None:
    """Download `url` to the file `output` (None: stdout); GetError when it fails."""
    sink = _Sink(output)
    ok = False
    try:
        for _ in range(MAX_REDIRECTS + 1):
            result = _fetch_once(url, sink, timeout, sys.stderr.isatty())
            if result.error is not None:
                raise GetError(result.error)
            if result.redirect is None:
                ok = True
                return
            url = result.redirect
        raise GetError(f"more than {MAX_REDIRECTS} redirects")
    finally:
        sink.close(ok)


def get(url: str, output: str | None, timeout: float = 30.0) -> int:
    """``mgio get``: returns the exit status (0, or 1 with a message on stderr)."""
    try:
        fetch(url, None if output in (None, "-") else output, timeout)
    except GetError as e:
        print(f"mgio get: {url}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("mgio get: interrupted", file=sys.stderr)
        return 130
    except OSError as e:  # writing FILE or stdout
        print(f"mgio get: {e}", file=sys.stderr)
        return 1
    return 0
