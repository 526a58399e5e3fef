"""Streaming multipart from Python: MultipartPart, the on_http_part_* handler methods,
MultipartPart.consume, and mgio.UploadHandler, against real clients (curl -F, requests
files=, a browser-style raw post) over loopback. Every wait is bounded."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time

import mgio
import pytest
import requests
from conftest import ServerThread, wait_for

CURL = shutil.which("curl") or "/usr/bin/curl"
needs_curl = pytest.mark.skipif(not os.path.exists(CURL), reason="no curl")


class Events(mgio.Handler):
    """Records every multipart event as a tuple; answers 200 at the end. With `take`, each
    on_http_part_data consumes at most that many bytes."""

    def __init__(self, take: int | None = None):
        self.log: list[tuple] = []
        self.kept: list[mgio.MultipartPart] = []
        self.take = take
        self.done = False

    def on_http_multipart_request(self, conn, msg):
        self.log.append(("request", msg.method, msg.uri))

    def on_http_part_begin(self, conn, part):
        if part.user_data is None:
            part.user_data = {"parts": 0}
        part.user_data["parts"] += 1
        self.log.append(("begin", part.var_name, part.file_name, part.status))

    def on_http_part_data(self, conn, part):
        data = part.data
        if self.take is not None and len(data) > self.take:
            part.consume(self.take)
            data = data[: self.take]
        self.log.append(("data", part.var_name, data))

    def on_http_part_end(self, conn, part):
        self.kept.append(part)  # escapes: copied
        self.log.append(("end", part.var_name, part.status))

    def on_http_multipart_request_end(self, conn, part):
        self.log.append(("request_end", part.status, part.user_data))
        if part.status == 0:
            conn.reply(200, "ok")
        self.done = True

    def parts(self) -> dict[str, bytes]:
        out: dict[str, bytes] = {}
        for e in self.log:
            if e[0] == "data":
                out[e[1]] = out.get(e[1], b"") + e[2]
            elif e[0] == "begin":
                out.setdefault(e[1], b"")
        return out


def raw_post(port: int, body: bytes, boundary: str, cut: bool = False) -> bytes:
    head = (
        f"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
        f"boundary={boundary}\r\nContent-Length: {len(body) + (100 if cut else 0)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(head + body)
        if cut:
            time.sleep(0.2)
            return b""
        chunks = []
        while True:
            b = s.recv(65536)
            if not b:
                break
            chunks.append(b)
        return b"".join(chunks)


@needs_curl
def test_curl_files_and_fields_events(tmp_path):
    a = os.urandom(300_000)
    b = b"second file\r\n--not a boundary\r\n" * 10
    (tmp_path / "a.bin").write_bytes(a)
    (tmp_path / "b.txt").write_bytes(b)
    h = Events()
    with ServerThread(h) as srv:
        r = subprocess.run(
            [
                CURL,
                "-sS",
                "--max-time",
                "20",
                "-F",
                "title=hello world",
                "-F",
                f"a=@{tmp_path / 'a.bin'}",
                "-F",
                f"b=@{tmp_path / 'b.txt'}",
                "-F",
                "empty=",
                srv.url + "/up",
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert r.returncode == 0, r.stderr
        assert r.stdout == b"ok"
        wait_for(lambda: h.done)
    assert h.log[0] == ("request", "POST", "/up")
    begins = [e for e in h.log if e[0] == "begin"]
    assert begins == [
        ("begin", "title", "", 0),
        ("begin", "a", "a.bin", 0),
        ("begin", "b", "b.txt", 0),
        ("begin", "empty", "", 0),
    ]
    assert h.parts() == {"title": b"hello world", "a": a, "b": b, "empty": b""}
    assert all(e[2] == 0 for e in h.log if e[0] == "end")
    assert h.log[-1] == ("request_end", 0, {"parts": 4})
    # parts kept after the call stay readable (copied), and their user_data too
    assert [p.var_name for p in h.kept] == ["title", "a", "b", "empty"]
    assert h.kept[-1].data == b"" and h.kept[-1].user_data == {"parts": 4}
    with pytest.raises(RuntimeError):
        h.kept[0].consume(0)


def test_consume_takes_part_and_the_rest_comes_again():
    data = bytes(range(256)) * 400
    h = Events(take=1000)
    with ServerThread(h) as srv:
        r = requests.post(srv.url + "/c", files={"f": ("f.bin", data)}, timeout=20)
        assert r.status_code == 200
        wait_for(lambda: h.done)
    pieces = [e[2] for e in h.log if e[0] == "data"]
    assert b"".join(pieces) == data
    assert max(len(p) for p in pieces) <= 1000
    assert len(pieces) >= len(data) // 1000


def test_consume_outside_part_data_and_bad_n_raise():
    errors: list[str] = []

    class H(mgio.Handler):
        done = False

        def on_http_part_begin(self, conn, part):
            try:
                part.consume(0)
            except RuntimeError:
                errors.append("begin")

        def on_http_part_data(self, conn, part):
            for n in (-1, len(part) + 1):
                try:
                    part.consume(n)
                except ValueError:
                    errors.append("bad n")

        def on_http_multipart_request_end(self, conn, part):
            conn.reply(200, "ok")
            H.done = True

    with ServerThread(H()) as srv:
        r = requests.post(srv.url, files={"x": ("x", b"abc")}, data={"y": "1"}, timeout=10)
        assert r.status_code == 200
        wait_for(lambda: H.done)
    assert errors.count("begin") == 2 and errors.count("bad n") >= 4


def test_connection_cut_mid_part_gives_negative_status(tmp_path):
    h = Events()
    body = (
        b'--XyZ\r\nContent-Disposition: form-data; name="f"; filename="cut.bin"\r\n\r\n'
        + b"z" * 5000
    )
    with ServerThread(h) as srv:
        raw_post(srv.port, body, "XyZ", cut=True)
        wait_for(lambda: h.done)
    ends = [e for e in h.log if e[0] in ("end", "request_end")]
    assert ends[0][:2] == ("end", "f") and ends[0][2] < 0
    assert ends[1][0] == "request_end" and ends[1][1] < 0
    # with UploadHandler the partial file is removed
    up = mgio.UploadHandler(tmp_path)
    with ServerThread(up) as srv:
        raw_post(srv.port, body, "XyZ", cut=True)
        wait_for(lambda: srv.connections() == 0)
        time.sleep(0.1)
    assert list(tmp_path.iterdir()) == []


@needs_curl
def test_upload_handler_with_curl_several_files_no_overwrite(tmp_path):
    src = tmp_path / "src"
    dst = tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    (src / "report.txt").write_bytes(b"one")
    (src / "data.bin").write_bytes(os.urandom(100_000))
    (dst / "report.txt").write_bytes(b"existing")
    with ServerThread(mgio.UploadHandler(dst)) as srv:
        r = subprocess.run(
            [
                CURL,
                "-sS",
                "--max-time",
                "20",
                "-F",
                "note=hi",
                "-F",
                f"a=@{src / 'report.txt'}",
                "-F",
                f"b=@{src / 'data.bin'}",
                "-F",
                f"c=@{src / 'report.txt'};filename=../../etc/report.txt",
                srv.url,
            ],
            capture_output=True,
            timeout=30,
            check=False,
        )
    assert r.returncode == 0, r.stderr
    summary = json.loads(r.stdout)
    assert summary["fields"] == {"note": "hi"}
    names = sorted(p.name for p in dst.iterdir())
    assert names == ["data.bin", "report (1).txt", "report (2).txt", "report.txt"]
    assert (dst / "report.txt").read_bytes() == b"existing"
    assert (dst / "data.bin").read_bytes() == (src / "data.bin").read_bytes()
    assert [f["size"] for f in summary["files"]] == [3, 100_000, 3]
    assert all(os.path.dirname(f["path"]) == str(dst) for f in summary["files"])


def test_upload_handler_with_requests_files(tmp_path):
    files = {
        "one": ("one.txt", b"first"),
        "two": ("..\\..\\win\\two.bin", os.urandom(70_000)),
        "three": (".hidden", b""),
    }
    with ServerThread(mgio.UploadHandler(tmp_path)) as srv:
        r = requests.post(srv.url, files=files, data={"k": "v", "u": "ü"}, timeout=20)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    summary = r.json()
    assert summary["fields"] == {"k": "v", "u": "ü"}
    assert [os.path.basename(f["path"]) for f in summary["files"]] == [
        "one.txt",
        "two.bin",
        "hidden",
    ]
    assert (tmp_path / "two.bin").read_bytes() == files["two"][1]
    assert (tmp_path / "hidden").read_bytes() == b""


def test_browser_style_form(tmp_path):
    boundary = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    name = 'my "quoted" résumé.pdf'
    encoded = name.replace('"', "%22").encode()  # what Chrome sends for quotes
    payload = os.urandom(20_000)
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="comment"\r\n\r\nhéllo\r\n'.encode()
        + f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="'.encode()
        + encoded
        + b'"\r\nContent-Type: application/pdf\r\n\r\n'
        + payload
        + f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="q"; '
        'filename="a \\"b\\".txt"\r\n\r\nQ\r\n'.encode()
        + f"--{boundary}--\r\n".encode()
    )
    h = Events()
    with ServerThread(h) as srv:
        resp = raw_post(srv.port, body, boundary)
        assert resp.startswith(b"HTTP/1.1 200")
        wait_for(lambda: h.done)
    begins = [e for e in h.log if e[0] == "begin"]
    assert begins[1] == ("begin", "file", encoded.decode(), 0)
    assert begins[2] == ("begin", "q", 'a "b".txt', 0)
    assert h.parts()["comment"] == "héllo".encode()
    assert h.parts()["file"] == payload
    with ServerThread(mgio.UploadHandler(tmp_path)) as srv:
        resp = raw_post(srv.port, body, boundary)
    assert resp.startswith(b"HTTP/1.1 200")
    summary = json.loads(resp.split(b"\r\n\r\n", 1)[1])
    assert summary["fields"] == {"comment": "héllo"}
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([encoded.decode(), 'a "b".txt'])
    assert (tmp_path / encoded.decode()).read_bytes() == payload


def test_safe_filename():
    f = mgio.safe_filename
    assert f("../../etc/passwd") == "passwd"
    assert f("C:\\Users\\x\\evil.exe") == "evil.exe"
    assert f("..") == "upload"
    assert f("...hidden") == "hidden"
    assert f("a\x00b..c") == "abc"
    assert f("") == "upload"
    assert f("ok name.txt") == "ok name.txt"
    assert len(f("x" * 1000).encode()) <= 200


def test_endpoint_handler_gets_the_multipart_events(tmp_path):
    h = Events()
    fallback: list[int] = []

    def setup(listener):
        listener.register_endpoint("/ep", h)

    with ServerThread(lambda conn, ev, data: fallback.append(ev), setup=setup) as srv:
        r = requests.post(srv.url + "/ep", files={"f": ("f.txt", b"data")}, timeout=10)
        assert r.status_code == 200
        wait_for(lambda: h.done)
    assert h.parts() == {"f": b"data"}
    assert not any(121 <= ev <= 125 for ev in fallback)


def test_user_data_is_dropped_after_the_request():
    import weakref

    refs: list[weakref.ref] = []

    class State:
        pass

    class H(mgio.Handler):
        done = False

        def on_http_part_begin(self, conn, part):
            if part.user_data is None:
                part.user_data = State()
                refs.append(weakref.ref(part.user_data))

        def on_http_multipart_request_end(self, conn, part):
            assert isinstance(part.user_data, State)
            conn.reply(200, "ok")
            H.done = True

    with ServerThread(H()) as srv:
        r = requests.post(srv.url, files={"a": ("a", b"1"), "b": ("b", b"2")}, timeout=10)
        assert r.status_code == 200
        wait_for(lambda: H.done)
        wait_for(lambda: refs and refs[0]() is None)


def test_handler_raising_in_a_part_event_answers_500():
    class H(mgio.Handler):
        def on_http_part_begin(self, conn, part):
            raise ValueError("boom")

    srv = ServerThread(H())
    with pytest.raises(ValueError, match="boom"), srv:
        r = requests.post(srv.url, files={"a": ("a", b"1")}, timeout=10)
        assert r.status_code == 500


def test_upload_handler_refuses_an_oversized_field(tmp_path):
    with ServerThread(mgio.UploadHandler(tmp_path, max_field_size=100)) as srv:
        r = requests.post(
            srv.url, files={"f": ("f.txt", b"x")}, data={"big": "y" * 1000}, timeout=10
        )
    assert r.status_code == 413
