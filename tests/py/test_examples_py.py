"""The Python programs in examples/python run as documented, against real clients."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import requests
import websockets

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "python"


@contextlib.contextmanager
def example_server(name: str, *args: str) -> Iterator[int]:
    """Run examples/python/NAME with ARGS and an ephemeral port; yield the port; on exit
    stop it with Ctrl-C (SIGINT) and check that it said so and exited 0."""
    proc = subprocess.Popen([sys.executable, str(EXAMPLES / name), *args, "127.0.0.1:0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        banner = proc.stdout.readline()
        match = re.search(r"port (\d+)", banner)
        assert match, (banner, proc.stderr.read() if proc.poll() is not None else "")
        yield int(match.group(1))
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_hello_http():
    with example_server("hello_http.py") as port:
        base = f"http://127.0.0.1:{port}"
        assert requests.get(base + "/?name=you", timeout=5).text == "hello, you\n"
        assert requests.get(base + "/sum?a=2&b=40", timeout=5).json() == {"sum": 42}
        assert requests.get(base + "/sum?a=x", timeout=5).status_code == 400
        assert requests.get(base + "/nope", timeout=5).status_code == 404


def test_tcp_echo():
    with example_server("tcp_echo.py") as port:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            payload = os.urandom(100_000)
            s.sendall(payload)
            got = b""
            while len(got) < len(payload):
                chunk = s.recv(65536)
                assert chunk, "closed early"
                got += chunk
            assert got == payload


def test_ws_chat_relays_to_everyone():
    async def chat(port: int) -> tuple[list[str], list[str]]:
        url = f"ws://127.0.0.1:{port}/"
        async with websockets.connect(url) as alice, websockets.connect(url) as bob:
            await asyncio.wait_for(alice.recv(), 5)          # alice's own "joined"
            await asyncio.wait_for(alice.recv(), 5)          # bob "joined"
            await bob.send("hi all")
            heard_by_alice = [await asyncio.wait_for(alice.recv(), 5)]
            heard_by_bob = [await asyncio.wait_for(bob.recv(), 5)]  # bob's own join
            heard_by_bob.append(await asyncio.wait_for(bob.recv(), 5))
            return heard_by_alice, heard_by_bob

    with example_server("ws_chat.py") as port:
        alice_heard, bob_heard = asyncio.run(chat(port))
        assert alice_heard[0].endswith(": hi all")
        assert bob_heard[0].endswith(" joined") and bob_heard[1] == alice_heard[0]
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 426


def test_upload_server_streams_to_the_folder(tmp_path):
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 << 20))
    folder = tmp_path / "uploads"
    folder.mkdir()
    with example_server("upload_server.py", str(folder)) as port:
        r = subprocess.run(["curl", "-sS", "-F", f"file=@{source};filename=../../evil.bin",
                            "-F", "note=hello", f"http://127.0.0.1:{port}/"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, r.stderr
    assert [p.name for p in folder.iterdir()] == ["evil.bin"]
    saved = (folder / "evil.bin").read_bytes()
    assert hashlib.sha256(saved).digest() == hashlib.sha256(source.read_bytes()).digest()
    assert '"note": "hello"' in r.stdout


def test_fetch_prints_the_body():
    with example_server("hello_http.py") as port:
        ok = subprocess.run([sys.executable, str(EXAMPLES / "fetch.py"),
                             f"http://127.0.0.1:{port}/?name=fetch"],
                            capture_output=True, timeout=30)
        missing = subprocess.run([sys.executable, str(EXAMPLES / "fetch.py"),
                                  f"http://127.0.0.1:{port}/missing"],
                                 capture_output=True, timeout=30)
    assert ok.returncode == 0 and ok.stdout == b"hello, fetch\n"
    assert ok.stderr.startswith(b"200 text/plain")
    assert missing.returncode == 1 and missing.stderr.startswith(b"404")


def test_serve_forever_raises_when_the_address_is_taken():
    import mgio

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        try:
            mgio.serve_forever(lambda conn, ev, data: None, f"127.0.0.1:{port}", announce=None)
        except OSError:
            pass
        else:
            raise AssertionError("bound a port that is in use")


def test_prefork_workers_share_the_port():
    """Two worker processes bind one port with reuse_port; answers come from both (the
    kernel spreads new connections), and SIGINT stops them all."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen([sys.executable, str(EXAMPLES / "prefork_http.py"),
                             f"127.0.0.1:{port}", "2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "2 workers" in proc.stdout.readline()
        workers: set[str] = set()
        deadline = time.monotonic() + 10
        while len(workers) < 2 and time.monotonic() < deadline:
            try:    # a fresh connection each time, so the kernel picks a worker anew
                r = requests.get(f"http://127.0.0.1:{port}/", timeout=5,
                                 headers={"Connection": "close"})
                workers.add(r.text.split()[-1])
            except requests.ConnectionError:
                time.sleep(0.05)        # the workers are still binding
        assert len(workers) == 2
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err
        assert "stopped" in out
    finally:
        if proc.poll() is None:     # the workers stop when the first process forwards SIGINT
            proc.send_signal(signal.SIGINT)
            try:
                proc.communicate(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.communicate()
