"""UploadHandler: saves the files of streaming multipart uploads to a folder, safely."""

from __future__ import annotations

import json
import os
from typing import Any

from ._core import Connection, HttpMessage, MultipartPart
from .handler import Handler

_FORBIDDEN = frozenset("/\\\x00")


def safe_filename(name: str, default: str = "upload") -> str:
    """Reduce a client-given file name to a safe base name: the part after the last ``/``
    or ``\\``, without NUL or control characters, leading dots or spaces, ``..``, at most
    200 characters; ``default`` when nothing is left."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in base if c not in _FORBIDDEN and ord(c) >= 32 and c != "\x7f")
    base = base.replace("..", "").strip().lstrip(". ")
    while base.encode("utf-8", "replace").__len__() > 200:
        base = base[:-1]
    return base or default


class _Stream:
    """The state of one multipart request, kept in part.user_data."""

    __slots__ = ("error", "fd", "field_buf", "fields", "files", "path", "size")

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.files: list[dict[str, Any]] = []
        self.fd: int | None = None
        self.path: str | None = None
        self.size = 0
        self.error: str | None = None
        self.field_buf: bytearray | None = None


class UploadHandler(Handler):
    """A server handler that streams every file part of a multipart request to `folder`
    (memory stays bounded whatever the size) and collects the other parts as fields.

    File names are reduced by :func:`safe_filename`; an existing file is never overwritten
    (``name (1).ext`` and so on is used instead). At the end the request is answered
    :attr:`reply_status` (200) with a JSON summary ``{"files": [{"field", "filename",
    "path", "size"}], "fields": {name: value}}``. A part that does not complete (status < 0)
    has its partial file removed; the stream failing answers nothing more (the C layer
    already answered, or the connection is gone). Fields are limited to `max_field_size`
    bytes each (413 beyond). Subclass and override :meth:`on_saved` or :meth:`summary` to
    change the answer (and :attr:`reply_status` its status);
    `on_http_request` is not handled here."""

    #: The status of the final answer (a subclass may say 201 Created).
    reply_status = 200

    def __init__(self, folder: str | os.PathLike[str], max_field_size: int = 64 * 1024):
        self.folder = os.fspath(folder)
        self.max_field_size = max_field_size

    # -- helpers ----------------------------------------------------------------------

    def _open_unique(self, base: str) -> tuple[int, str]:
        stem, ext = os.path.splitext(base)
        for i in range(10000):
            name = base if i == 0 else f"{stem} ({i}){ext}"
            path = os.path.join(self.folder, name)
            try:
                flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
                return os.open(path, flags, 0o644), path
            except FileExistsError:
                continue
        raise FileExistsError(f"no free name for {base!r} in {self.folder!r}")

    @staticmethod
    def _close(st: _Stream, remove: bool) -> None:
        if st.fd is not None:
            os.close(st.fd)
            st.fd = None
            if remove and st.path is not None:
                try:
                    os.unlink(st.path)
                except FileNotFoundError:
                    pass
        st.path = None

    # -- events -----------------------------------------------------------------------

    def on_http_multipart_request(self, conn: Connection, msg: HttpMessage) -> None:
        pass  # the state is made at the first part

    def on_http_part_begin(self, conn: Connection, part: MultipartPart) -> None:
        st = part.user_data
        if st is None:
            st = part.user_data = _Stream()
        if st.error is not None:
            return
        st.size = 0
        if part.file_name:
            try:
                st.fd, st.path = self._open_unique(safe_filename(part.file_name))
            except OSError as e:
                st.error = f"cannot create file: {e.strerror or e}"
                conn.send_error(500, st.error)
        else:
            st.field_buf = bytearray()

    def on_http_part_data(self, conn: Connection, part: MultipartPart) -> None:
        st: _Stream = part.user_data
        if st is None or st.error is not None:
            return
        data = part.data
        st.size += len(data)
        if st.fd is not None:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(st.fd, view) :]
            except OSError as e:
                st.error = f"write failed: {e.strerror or e}"
                self._close(st, remove=True)
                conn.send_error(413 if e.errno in (28, 27, 122) else 500, st.error)
        elif st.field_buf is not None:
            if len(st.field_buf) + len(data) > self.max_field_size:
                st.error = "field too large"
                st.field_buf = None
                conn.send_error(413, st.error)
            else:
                st.field_buf += data

    def on_http_part_end(self, conn: Connection, part: MultipartPart) -> None:
        st: _Stream | None = part.user_data
        if st is None:
            return
        if part.status < 0 or st.error is not None:
            self._close(st, remove=True)
            st.field_buf = None
            return
        if st.fd is not None:
            path = st.path
            self._close(st, remove=False)
            info = {
                "field": part.var_name,
                "filename": part.file_name,
                "path": path,
                "size": st.size,
            }
            st.files.append(info)
            self.on_saved(conn, info)
        elif st.field_buf is not None:
            st.fields[part.var_name] = bytes(st.field_buf).decode("utf-8", "replace")
            st.field_buf = None

    def on_http_multipart_request_end(self, conn: Connection, part: MultipartPart) -> None:
        st: _Stream | None = part.user_data
        if st is not None:
            self._close(st, remove=True)
        if part.status < 0 or (st is not None and st.error is not None):
            return
        files = st.files if st is not None else []
        fields = st.fields if st is not None else {}
        conn.reply(
            self.reply_status,
            json.dumps(self.summary(files, fields)),
            {"Content-Type": "application/json"},
        )

    # -- hooks ------------------------------------------------------------------------

    def on_saved(self, conn: Connection, info: dict[str, Any]) -> None:
        """Called for each file saved completely (info: field, filename, path, size)."""

    def summary(self, files: list[dict[str, Any]], fields: dict[str, str]) -> Any:
        """The JSON-able body of the final answer."""
        return {"files": files, "fields": fields}
