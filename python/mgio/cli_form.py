"""Multipart form uploads for ``mgio serve --upload``: the files of a form ``POST``
are saved in the folder the request path names (never overwriting: a taken name gets
`` (1)`` and so on), and the answer is 201 with the saved names."""

from __future__ import annotations

import os
from typing import Any

from .uploads import UploadHandler


class FormUpload(UploadHandler):
    """Saves one request's files in `folder`; the 201 answer is JSON
    ``{"saved": [paths relative to root], "fields": {name: value}}``."""

    reply_status = 201

    def __init__(self, folder: str, root: str) -> None:
        super().__init__(folder)
        self.root = os.path.realpath(root)

    def summary(self, files: list[dict[str, Any]], fields: dict[str, str]) -> Any:
        """The names saved, relative to the served root, with "/" separators."""
        saved = [os.path.relpath(f["path"], self.root).replace(os.sep, "/") for f in files]
        return {"saved": saved, "fields": fields}
