"""``mgio serve --upload``: multipart form POSTs (curl -F, requests files=) and PUT bodies
(curl -T) saved into the served folder, hostile names kept inside it, a big PUT streamed
in bounded memory, and uploads refused when --upload is not given."""

from __future__ import annotations

import hashlib
import os
import socket
import subprocess
from pathlib import Path

import pytest
import requests
from cli_server import CliServer, curl
from conftest import wait_for


def tree(root: Path) -> set[str]:
    """Every file under root, as a relative path."""
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """A server with --upload over a folder `root/www` (the parent catches escapes)."""
    outer = tmp_path_factory.mktemp("upload")
    root = outer / "www"
    (root / "sub").mkdir(parents=True)
    server = CliServer(root, "--upload")
    yield server, root
    assert server.stop() == 0
    # the access log has a line per upload, with its status
    assert '"POST /sub/ HTTP/1.1" 201' in server.err
    assert '"PUT /sub/put.txt HTTP/1.1" 200' in server.err
    assert '"PUT /missing/y.txt HTTP/1.1" 404' in server.err


def test_curl_form_saves_files_and_never_overwrites(site, tmp_path):
    server, root = site
    src = tmp_path / "report.txt"
    src.write_text("first\n")
    status, body = curl("-F", f"file=@{src}", "-F", "note=hi", server.url + "sub/")
    assert status == 201
    assert requests.models.complexjson.loads(body) == {
        "saved": ["sub/report.txt"], "fields": {"note": "hi"}}
    src.write_text("second\n")
    status, body = curl("-F", f"file=@{src}", server.url + "sub/")
    assert status == 201 and "sub/report (1).txt" in body
    assert (root / "sub" / "report.txt").read_text() == "first\n"
    assert (root / "sub" / "report (1).txt").read_text() == "second\n"


def test_chunked_put_from_stdin(site):
    server, root = site
    data = os.urandom(200_000)
    p = subprocess.run(["curl", "-s", "-T", "-", server.url + "piped.bin"], input=data,
                       capture_output=True, timeout=30)
    assert p.returncode == 0 and b'"saved": ["piped.bin"]' in p.stdout
    assert (root / "piped.bin").read_bytes() == data


def test_requests_form_with_two_files(site):
    server, root = site
    files = [("a", ("one.bin", b"\x00" * 1000)), ("b", ("two.bin", b"\xff" * 10))]
    r = requests.post(server.url, files=files, timeout=10)
    assert r.status_code == 201 and r.json()["saved"] == ["one.bin", "two.bin"]
    assert (root / "one.bin").read_bytes() == b"\x00" * 1000


def test_put_creates_then_replaces(site, tmp_path):
    server, root = site
    src = tmp_path / "data.txt"
    src.write_text("v1")
    assert curl("-T", str(src), server.url + "sub/put.txt") == (
        201, '{"saved": ["sub/put.txt"], "size": 2}')
    src.write_text("version 2")
    status, _ = curl("-T", str(src), server.url + "sub/put.txt")
    assert status == 200 and (root / "sub" / "put.txt").read_text() == "version 2"
    r = requests.get(server.url + "sub/put.txt", timeout=5)
    assert r.text == "version 2"
    assert not [n for n in os.listdir(root / "sub") if n.startswith(".mgio-put-")]


@pytest.mark.parametrize(("target", "saved"), [
    ("..%2F..%2Fescaped.txt", "escaped.txt"),
    ("%2Fetc%2Fescaped2.txt", "escaped2.txt"),
    ("sub/..%5C..%5Cescaped3.txt", "sub/escaped3.txt"),
    ("...hidden", "hidden"),
])
def test_hostile_put_names_stay_inside(site, tmp_path, target, saved):
    server, root = site
    src = tmp_path / "x"
    src.write_text("x")
    status, body = curl("--path-as-is", "-T", str(src), server.url + target)
    assert status == 201 and f'"{saved}"' in body
    assert (root / saved).read_text() == "x"
    assert tree(root.parent) == {f"www/{name}" for name in tree(root)}  # nothing outside


@pytest.mark.parametrize(("target", "status"), [
    ("../outside.txt", 400),  # ".." as a folder
    ("sub%2F..%2F..%2Fx/y.txt", 400),  # an encoded slash inside a folder name
    ("missing/y.txt", 404),  # uploads do not create folders
    ("sub/", 400),  # no file name
    ("sub", 409),  # a folder
])
def test_bad_put_targets_are_refused(site, tmp_path, target, status):
    server, root = site
    src = tmp_path / "x"
    src.write_text("x")
    before = tree(root.parent)
    # not -T: for a URL ending in "/" curl would append the file's name
    put = ("-X", "PUT", "--data-binary", f"@{src}")
    assert curl("--path-as-is", *put, server.url + target)[0] == status
    assert tree(root.parent) == before


def test_hostile_form_file_names_stay_inside(site):
    server, root = site
    files = {"f": ("../../../form-escape.txt", b"e"), "g": ("/abs/form-abs.txt", b"a")}
    r = requests.post(server.url, files=files, timeout=10)
    assert r.status_code == 201
    assert sorted(r.json()["saved"]) == ["form-abs.txt", "form-escape.txt"]
    assert tree(root.parent) == {f"www/{name}" for name in tree(root)}


def peak_rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:"))


def test_big_put_streams_in_bounded_memory(site, tmp_path):
    server, root = site
    size = 64 * 1024 * 1024
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        f.truncate(size)  # sparse: no time spent writing it
    before = peak_rss_kib(server.proc.pid)
    status, body = curl("-T", str(src), server.url + "big.bin")
    assert status == 201 and f'"size": {size}' in body
    assert (root / "big.bin").stat().st_size == size
    with open(root / "big.bin", "rb") as f:
        assert hashlib.sha256(f.read()).digest() == hashlib.sha256(bytes(size)).digest()
    grown = peak_rss_kib(server.proc.pid) - before
    assert grown < 16 * 1024, f"the server grew by {grown} KiB for a {size >> 20} MiB PUT"
    (root / "big.bin").unlink()


def test_uploads_are_refused_without_the_flag(tmp_path):
    with CliServer(tmp_path) as server:
        r = requests.put(server.url + "x.txt", data=b"x", timeout=5)
        assert r.status_code == 405 and r.headers["Allow"] == "GET, HEAD"
        r = requests.post(server.url, files={"f": ("y.txt", b"y")}, timeout=5)
        assert r.status_code == 405
    assert server.proc.returncode == 0
    assert os.listdir(tmp_path) == []
    assert '"PUT /x.txt HTTP/1.1" 405' in server.err
    assert '"POST / HTTP/1.1" 405' in server.err


def test_a_put_cut_short_leaves_nothing(site):
    server, root = site
    host, port = server.url[len("http://"):-1].rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=5) as s:
        s.sendall(b"PUT /cut.bin HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        s.sendall(b"only the start")
        wait_for(lambda: temp_files(root))  # the upload began
    wait_for(lambda: not temp_files(root))  # the server saw the close and cleaned up
    assert not (root / "cut.bin").exists()


def temp_files(root: Path) -> list[str]:
    return [n for n in os.listdir(root) if n.startswith(".mgio-put-")]

