"""Hostile multipart/form-data bodies (tests/hostile/multipart.py) against an in-process
mgio server that counts parts: each sent whole, byte by byte (short ones) and split;
then a fresh connection."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import mgio
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile import http_run, multipart
from hostile.cases import Case
from hostile.known_bugs import param
from hostile.site import Server
from hostile.wire import Peer, finals, send_modes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("hostile_multipart"))
    yield srv
    srv.close()


def test_case_names_are_unique() -> None:
    names = [c.name for c in multipart.CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", [param("multipart", c.name, c) for c in multipart.CASES])
def test_hostile_multipart(server: Server, case: Case) -> None:
    http_run.run_case(server, case)


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[mgio.Manager, int, Path]]:
    folder = tmp_path_factory.mktemp("hostile_uploads")
    mgr = mgio.Manager()
    port = mgr.bind("tcp://127.0.0.1:0", mgio.UploadHandler(folder), http=True).local_address
    assert port is not None
    yield mgr, port[1], folder
    mgr.close()


@pytest.mark.parametrize(
    ("filename", "saved"),
    [param("upload", n, f, want, id=n) for n, _rfc, f, want in multipart.UPLOADS],
)
def test_hostile_upload_name(
    uploads: tuple[mgio.Manager, int, Path], filename: bytes, saved: str
) -> None:
    mgr, port, folder = uploads
    stem, ext = os.path.splitext(saved)
    for mode, pieces in send_modes(multipart.upload(filename)):
        with Peer(mgr, port) as peer:
            peer.send_all(pieces)
            peer.wait(lambda p: finals(bytes(p.got)), f"[{mode}] the upload summary")
            r = finals(bytes(peer.got))[0]
        assert r.status == 200, (mode, r.status, r.body)
        path = Path(json.loads(r.body)["files"][0]["path"])
        assert path.parent == folder, (mode, path)
        assert path.name == saved or (path.name.startswith(stem + " (") and path.name.endswith(ext))
        assert path.read_bytes() == b"hello"
