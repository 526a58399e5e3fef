"""``mgio get URL [-o FILE]`` against an mgio server: to a file, to stdout, 404 and a
refused connection exit 1, redirects are followed, a progress bar only on a terminal."""

from __future__ import annotations

import os
import pty
import socket
import subprocess
import sys
import threading

import pytest
from cli_server import CliServer, mgio_cli

BODY = os.urandom(3 * 1024 * 1024 + 7)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("get")
    (root / "data.bin").write_bytes(BODY)
    (root / "sub").mkdir()
    (root / "sub" / "hello.txt").write_text("hello\n")
    srv = CliServer(root)
    yield srv
    assert srv.stop() == 0


def test_get_to_a_file(server, tmp_path):
    out = tmp_path / "copy.bin"
    p = mgio_cli("get", server.url + "data.bin", "-o", str(out))
    assert p.returncode == 0, p.stderr
    assert out.read_bytes() == BODY
    assert p.stdout == b"" and p.stderr == b""  # no progress bar: stderr is not a terminal


def test_get_to_stdout(server):
    p = mgio_cli("get", server.url + "data.bin")
    assert p.returncode == 0 and p.stdout == BODY


def test_get_follows_a_redirect(server):
    p = mgio_cli("get", server.url + "sub")  # 301 to sub/, a listing
    assert p.returncode == 0 and b"hello.txt" in p.stdout


def test_404_exits_1_and_leaves_no_file(server, tmp_path):
    out = tmp_path / "missing.bin"
    p = mgio_cli("get", server.url + "missing", "-o", str(out))
    assert p.returncode == 1
    assert b"404 Not Found" in p.stderr and p.stdout == b""
    assert not out.exists()


def test_a_failed_download_keeps_an_existing_file(server, tmp_path):
    out = tmp_path / "kept.txt"
    out.write_text("old")
    assert mgio_cli("get", server.url + "missing", "-o", str(out)).returncode == 1
    assert out.read_text() == "old"
    assert mgio_cli("get", server.url + "sub/hello.txt", "-o", str(out)).returncode == 0
    assert out.read_text() == "hello\n"
    assert os.listdir(tmp_path) == ["kept.txt"]


def test_refused_connection_exits_1(tmp_path):
    p = mgio_cli("get", "http://127.0.0.1:1/x", "-o", str(tmp_path / "x"))
    assert p.returncode == 1 and p.stderr.startswith(b"mgio get: http://127.0.0.1:1/x: ")


def test_progress_bar_on_a_terminal(server, tmp_path):
    parent, child = pty.openpty()
    try:
        p = subprocess.run(
            [sys.executable, "-m", "mgio", "get", server.url + "data.bin", "-o",
             str(tmp_path / "d")], stderr=child, stdout=subprocess.PIPE, timeout=30)
        os.close(child)
        child = -1
        shown = b""
        while True:
            try:
                chunk = os.read(parent, 65536)
            except OSError:  # EIO: the terminal's other side is closed
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(parent)
        if child >= 0:
            os.close(child)
    assert p.returncode == 0
    assert b"100%" in shown and b"3.0 MiB of 3.0 MiB" in shown


def test_bad_arguments_exit_2():
    p = mgio_cli("get")
    assert p.returncode == 2 and b"required: url" in p.stderr
    p = mgio_cli("get", "http://x/", "--timeout", "soon")
    assert p.returncode == 2 and b"invalid float value" in p.stderr


def test_a_body_cut_short_exits_1_and_removes_the_file(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def answer_half() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.settimeout(5)
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + b"x" * 5000)

        peer = threading.Thread(target=answer_half, daemon=True)
        peer.start()
        out = tmp_path / "half.bin"
        p = mgio_cli("get", f"http://127.0.0.1:{port}/", "-o", str(out))
        peer.join(5)
    assert p.returncode == 1 and b"closed before the whole answer arrived" in p.stderr
    assert os.listdir(tmp_path) == []  # neither the file nor its temporary
