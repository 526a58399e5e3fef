"""``python -m mgio serve``: a folder over HTTP (listing, Range, conditional requests), an
access log, Ctrl-C stops it; the command line's help and its errors."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys

import pytest
import requests
import websockets
from cli_server import CliServer, mgio_cli


def test_serve_folder_logs_and_stops_on_ctrl_c(tmp_path):
    (tmp_path / "hello.txt").write_text("hello from mgio serve\n")
    (tmp_path / "sub").mkdir()
    proc = subprocess.Popen(
        [sys.executable, "-m", "mgio", "serve", str(tmp_path), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = proc.stdout.readline()
        url = re.search(r"http://\S+/", banner).group(0)
        r = requests.get(url + "hello.txt", timeout=5)
        assert r.status_code == 200 and r.text == "hello from mgio serve\n"
        assert r.headers["Content-Type"].startswith("text/plain")
        listing = requests.get(url, timeout=5)
        assert listing.status_code == 200 and "hello.txt" in listing.text
        assert requests.get(url + "missing", timeout=5).status_code == 404
        assert requests.get(url + "sub", timeout=5, allow_redirects=False).status_code == 301
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0
    assert "stopped" in out
    log = err.splitlines()
    assert any('"GET /hello.txt HTTP/1.1" 200' in line for line in log), err
    assert any('"GET /missing HTTP/1.1" 404' in line for line in log), err
    assert log[0].startswith("127.0.0.1 - - [")


def test_range_etag_and_conditional_requests(tmp_path):
    (tmp_path / "digits.txt").write_text("0123456789")
    with CliServer(tmp_path, "--quiet") as server:
        url = server.url + "digits.txt"
        p = subprocess.run(["curl", "-s", "-i", "-r", "2-5", url],
                           capture_output=True, timeout=30)
        assert p.stdout.startswith(b"HTTP/1.1 206 ")
        assert b"Content-Range: bytes 2-5/10" in p.stdout and p.stdout.endswith(b"\r\n\r\n2345")
        etag = requests.get(url, timeout=5).headers["ETag"]
        again = requests.get(url, headers={"If-None-Match": etag}, timeout=5)
        assert again.status_code == 304 and again.content == b""
    assert server.proc.returncode == 0 and server.err == ""  # --quiet: no access log


def test_without_ws_echo_upgrades_are_refused(tmp_path):
    async def connect() -> None:
        async with websockets.connect(server.ws_url, open_timeout=5):
            pass

    with CliServer(tmp_path) as server, pytest.raises(websockets.InvalidStatus) as refused:
        asyncio.run(connect())
    assert refused.value.response.status_code == 404


def test_serve_refuses_a_missing_folder(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mgio", "serve", str(tmp_path / "nope")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "not a folder" in r.stderr


def test_help_names_every_command_and_option():
    p = mgio_cli("--help")
    assert p.returncode == 0
    for command in (b"serve", b"get", b"ws", b"demo"):
        assert command in p.stdout
    p = mgio_cli("serve", "--help")
    assert p.returncode == 0
    for option in (b"--listen", b"--upload", b"--auth-file", b"--realm", b"--ws-echo"):
        assert option in p.stdout


@pytest.mark.parametrize(("args", "message"), [
    ((), b"required: COMMAND"),
    (("fly",), b"invalid choice: 'fly'"),
    (("serve", "--bogus"), b"unrecognized arguments: --bogus"),
    (("serve", "--ws-echo", "ws"), b"a path like /ws"),
    (("ws",), b"required: url"),
])
def test_bad_arguments_exit_2(args, message):
    p = mgio_cli(*args)
    assert p.returncode == 2 and message in p.stderr, p.stderr


def test_demo_still_runs():
    p = mgio_cli("demo")
    assert p.returncode == 0 and b"the client got back: b'hello, mgio'" in p.stdout
