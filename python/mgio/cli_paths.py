"""Where an upload to a request path may be written: confined to the served folder.

``PUT /a/b/name`` names the folder ``a/b`` inside the served root and the file
``name``; a multipart form ``POST /a/b/`` names the folder ``a/b``. Folder segments must
already be safe names (no ``..``, no leading dot, no slash hidden by percent-encoding)
and the folder must exist inside the root once symlinks are resolved; uploads never
create folders. The file name is reduced to a safe base name (:func:`mgio.safe_filename`),
so ``PUT /..%2Fx`` saves ``x`` in the root.
"""

from __future__ import annotations

import os
from urllib.parse import unquote

from .uploads import safe_filename


class Refused(Exception):
    """The request path cannot be written to: ``status`` is the HTTP answer."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _decoded(segment: str) -> str:
    return unquote(segment, errors="surrogateescape")


def upload_folder(root: str, segments: list[str]) -> str:
    """The real path of the existing folder named by the raw URI `segments` under
    `root`; Refused (400 bad name, 403 outside the root, 404 missing) otherwise."""
    names = [_decoded(s) for s in segments]
    for name in names:
        if not name or safe_filename(name, default="") != name:
            raise Refused(400, f"bad folder name {name!r}")
    real_root = os.path.realpath(root)
    folder = os.path.realpath(os.path.join(real_root, *names))
    if folder != real_root and not folder.startswith(real_root + os.sep):
        raise Refused(403, "the folder is outside the served root")
    if not os.path.isdir(folder):
        raise Refused(404, "no such folder (uploads do not create folders)")
    return folder


def _segments(uri: str) -> list[str]:
    if not uri.startswith("/"):
        raise Refused(400, "the request target must be a path")
    return uri[1:].split("/")


def put_target(root: str, uri: str) -> tuple[str, str]:
    """(folder, file name) for ``PUT uri``: see the module docstring."""
    *folders, last = _segments(uri)
    name = safe_filename(_decoded(last), default="")
    if not name:
        raise Refused(400, "PUT needs a file name")
    return upload_folder(root, folders), name


def form_folder(root: str, uri: str) -> str:
    """The folder a multipart form ``POST uri`` saves its files in."""
    segments = _segments(uri)
    if segments and segments[-1] == "":
        segments.pop()
    return upload_folder(root, segments)
