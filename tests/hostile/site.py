"""The server under test: one mgio HTTP listener whose handler answers every kind of case.

- any request: 200 with a JSON echo of what the handler saw (method, uri, query, proto,
  headers, body as Latin-1);
- ``/static/...`` (also in absolute form): ``serve_dir`` of a small tree (path mapping);
- ``/digest/...``: ``serve_dir`` guarded by a global htdigest file (user "joe", password
  "pw", realm "hostile"): the C Digest check;
- ``/pydigest/...``: 200 "secret" behind the Python ``mgio.auth.DigestAuth`` (same user);
- ``/var``: 200 with the JSON of ``msg.var("a")`` (query string, then a form body);
- ``/basic``: 200 with the JSON of ``msg.basic_auth()`` (null when malformed);
- a WebSocket upgrade on any path: an echo of every data message;
- a multipart/form-data POST: 200 "parts=N" (N parts, each with its byte count).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import mgio
import mgio.auth

USER, PASSWORD, REALM = "joe", "pw", "hostile"


class Site(mgio.Handler):
    """The handler; `seen` lists the URI of every request a handler method was given."""

    def __init__(self, root: Path, auth_file: Path):
        self.root = root
        self.auth_file = auth_file
        self.seen: list[str] = []
        self.py_digest = mgio.auth.DigestAuth(REALM, {USER: PASSWORD})

    def on_http_request(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        self.seen.append(msg.uri)
        if origin_path(msg.uri).lstrip("/").startswith("static/"):
            conn.serve_dir(msg, self.root, enable_directory_listing=False)
        elif msg.uri.startswith("/digest/"):
            conn.serve_dir(msg, self.root, global_auth_file=str(self.auth_file), auth_domain=REALM)
        elif msg.uri.startswith("/pydigest/"):
            if self.py_digest.require(conn, msg):
                conn.reply(200, "secret")
        elif msg.uri == "/var":
            conn.reply(200, json.dumps(msg.var("a")))
        elif msg.uri == "/basic":
            conn.reply(200, json.dumps(msg.basic_auth()))
        else:
            conn.reply(200, json.dumps(echo_of(msg)), {"Content-Type": "application/json"})

    def on_ws_message(self, conn: mgio.Connection, msg: mgio.WebSocketMessage) -> None:
        conn.send_ws(msg)

    def on_http_multipart_request(self, conn: mgio.Connection, msg: mgio.HttpMessage) -> None:
        self.seen.append(msg.uri)

    def on_http_part_begin(self, conn: mgio.Connection, part: mgio.MultipartPart) -> None:
        if part.user_data is None:
            part.user_data = []
        part.user_data.append([part.var_name, 0])

    def on_http_part_data(self, conn: mgio.Connection, part: mgio.MultipartPart) -> None:
        part.user_data[-1][1] += len(part.data)

    def on_http_multipart_request_end(
        self, conn: mgio.Connection, part: mgio.MultipartPart
    ) -> None:
        if part.status == 0:
            parts = part.user_data or []
            conn.reply(200, json.dumps({"parts": len(parts), "sizes": parts}))


def origin_path(uri: str) -> str:
    """The path of a request target: an absolute-form target loses its scheme and
    authority (RFC 9112 3.2.2)."""
    scheme, sep, rest = uri.partition("://")
    return "/" + rest.partition("/")[2] if sep and "/" not in scheme else uri


def echo_of(msg: mgio.HttpMessage) -> dict[str, Any]:
    """What the echo handler answers: the request as the handler saw it."""
    return {
        "method": msg.method,
        "uri": msg.uri,
        "query": msg.query_string,
        "proto": msg.proto,
        "headers": [list(kv) for kv in msg.headers.items()],
        "body": msg.body.decode("latin-1"),
    }


def make_tree(root: Path) -> None:
    """The served folder `root`: static/index.txt, static/a/b.txt, static/a%2fb.txt,
    digest/secret.txt; and ../outside.txt, next to it, which must never be served."""
    (root / "static" / "a").mkdir(parents=True)
    (root / "digest").mkdir()
    (root / "static" / "index.txt").write_bytes(b"index")
    (root / "static" / "a" / "b.txt").write_bytes(b"bee")
    (root / "static" / "a%2fb.txt").write_bytes(b"escaped-name")
    (root / "digest" / "secret.txt").write_bytes(b"secret")
    (root.parent / "outside.txt").write_bytes(b"outside")


def write_htdigest(path: Path) -> None:
    ha1 = hashlib.md5(f"{USER}:{REALM}:{PASSWORD}".encode()).hexdigest()
    path.write_text(f"{USER}:{REALM}:{ha1}\n")


class Server:
    """A Manager with the Site on 127.0.0.1 (port `port`), polled by the test's thread."""

    def __init__(self, tmp: Path):
        self.root = tmp / "site" / "www"
        self.root.mkdir(parents=True)
        make_tree(self.root)
        auth = tmp / "htdigest"
        write_htdigest(auth)
        self.site = Site(self.root, auth)
        self.mgr = mgio.Manager()
        self.listener = self.mgr.bind("tcp://127.0.0.1:0", self.site, http=True)
        address = self.listener.local_address
        assert address is not None
        self.port = address[1]

    def close(self) -> None:
        self.mgr.close()
