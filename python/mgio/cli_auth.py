"""Digest authentication for ``mgio serve --auth-file FILE --realm R``: every request,
upload and WebSocket upgrade must carry valid credentials from the htdigest file."""

from __future__ import annotations

import os

from ._core import Connection, HttpMessage
from .auth import DigestAuth

# Characters with a meaning in mg_serve_http's hidden_file_pattern glob.
_GLOB = frozenset("*?|,$")


class Guard:
    """Checks requests against `auth` (None: everything is allowed)."""

    def __init__(self, auth: DigestAuth | None) -> None:
        self.auth = auth

    def allows(self, conn: Connection, msg: HttpMessage, *, close: bool) -> bool:
        """True when `msg` may proceed; otherwise the 401 challenge is queued (with
        ``Connection: close`` and the connection closing after it when `close`: an
        upload body or a WebSocket upgrade is then not read)."""
        if self.auth is None:
            return True
        result = self.auth.verify(msg)
        if result.ok:
            return True
        status, headers = self.auth.challenge(stale=result.stale)
        fields = {**headers, "Content-Type": "text/plain"}
        if close:
            fields["Connection"] = "close"
        conn.reply(status, "Unauthorized\n", fields)
        if close:
            conn.close()
        return False


def hidden_pattern(root: str, auth_file: str | None, always: str) -> str:
    """The hidden_file_pattern for serving `root`: `always`, plus the name of the auth
    file when it lies inside the root (its hashes must not be downloadable).
    ValueError when that name cannot be written as a pattern."""
    if auth_file is None:
        return always
    real_root = os.path.realpath(root)
    real_file = os.path.realpath(auth_file)
    if not real_file.startswith(real_root + os.sep):
        return always
    name = os.path.basename(real_file)
    if _GLOB & set(name):
        raise ValueError(
            f"the auth file {name!r} is inside the served folder and its name holds one "
            f"of {''.join(sorted(_GLOB))}: rename it or move it out"
        )
    return f"{always}|{name}$"


def is_auth_file(path: str, auth_file: str | None) -> bool:
    """Whether writing `path` (its folder already resolved) would replace the auth file."""
    return auth_file is not None and path == os.path.realpath(auth_file)
