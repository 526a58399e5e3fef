"""``python -m mgio serve``: a folder over HTTP, an access log, Ctrl-C stops it."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import requests


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


def test_serve_refuses_a_missing_folder(tmp_path):
    r = subprocess.run([sys.executable, "-m", "mgio", "serve", str(tmp_path / "nope")],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "not a folder" in r.stderr
