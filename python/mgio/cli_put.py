"""A ``PUT`` body streamed into a file: written to a hidden temporary file beside the
target and renamed over it only when the body is complete, so an interrupted upload
never leaves a partial file and an existing file is replaced atomically."""

from __future__ import annotations

import os
import tempfile

#: Temporary files start with this; the server hides them from listings.
TEMP_PREFIX = ".mgio-put-"


class PutFile:
    """One upload in progress to ``folder/name``: :meth:`write` the body as it arrives,
    then :meth:`commit` (or :meth:`abort`)."""

    def __init__(self, folder: str, name: str) -> None:
        self.path = os.path.join(folder, name)
        if os.path.isdir(self.path):
            raise IsADirectoryError(f"{name} is a folder")
        self.existed = os.path.lexists(self.path)
        self.size = 0
        fd, self._temp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=folder)
        self._fd: int | None = fd

    def write(self, data: bytes) -> None:
        """Append `data` (all of it: short writes are retried)."""
        assert self._fd is not None, "write after commit or abort"
        view = memoryview(data)
        while view:
            view = view[os.write(self._fd, view) :]
        self.size += len(data)

    def commit(self) -> None:
        """Make the file visible under its name, replacing an existing one."""
        assert self._fd is not None, "commit after commit or abort"
        os.fchmod(self._fd, 0o644)  # mkstemp makes 0600; saved files are readable
        os.close(self._fd)
        self._fd = None
        os.replace(self._temp, self.path)

    def abort(self) -> None:
        """Drop what was written; the target is left as it was. Safe to repeat."""
        if self._fd is None:
            return
        os.close(self._fd)
        self._fd = None
        try:
            os.unlink(self._temp)
        except FileNotFoundError:
            pass
