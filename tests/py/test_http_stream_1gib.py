"""1 GiB through mgio in each direction in bounded memory: a chunked upload to a server
that streams it with delete_chunk(), and a download to a client that does the same.
Both ends check SHA-256; the mgio process's peak RSS (VmHWM) must stay under 64 MiB."""

from __future__ import annotations

import hashlib
import socket
import subprocess
import sys
import time

import pytest
from mgio import request

TOTAL = 1 << 30
BLOCK = 1 << 20
PEAK_LIMIT_KIB = 64 * 1024

# The data: 1 MiB blocks, each a fixed pattern stamped with its index (so a lost, doubled
# or reordered block changes the hash).
COMMON = r"""
import hashlib, sys
BLOCK = 1 << 20
BASE = bytes(range(256)) * (BLOCK // 256)

def block(i):
    return i.to_bytes(8, "little") + BASE[8:]

def peak_kib():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return -1
"""

SERVER = COMMON + r"""
import mgio
TOTAL = int(sys.argv[1])

class Server(mgio.Handler):
    def __init__(self):
        self.hashes = {}
        self.next_block = {}

    def on_http_chunk(self, conn, msg):
        if msg.method == "POST":
            self.hashes.setdefault(conn, hashlib.sha256()).update(msg.body)
            conn.delete_chunk()

    def on_http_request(self, conn, msg):
        if msg.method == "POST":
            digest = self.hashes.pop(conn, hashlib.sha256()).hexdigest()
            conn.reply(200, f"{digest} {peak_kib()}")
        elif msg.uri == "/download":
            conn.send_head(200, TOTAL)
            self.next_block[conn] = 0
            self.pump(conn)
        else:
            conn.reply(200, str(peak_kib()))

    def on_send(self, conn, count):
        self.pump(conn)

    def pump(self, conn):
        i = self.next_block.get(conn)
        while i is not None and i < TOTAL // BLOCK and len(conn.send_buf) < 4 * BLOCK:
            conn.send(block(i))
            i += 1
        if i is not None:
            self.next_block[conn] = i

with mgio.Manager() as mgr:
    port = mgr.bind("127.0.0.1:0", Server(), http=True).local_address[1]
    print(port, flush=True)
    mgr.run()
"""

CLIENT = COMMON + r"""
import mgio
url = sys.argv[1]
sha = hashlib.sha256()
result = {}

class Client(mgio.Handler):
    def on_http_chunk(self, conn, msg):
        sha.update(msg.body)
        conn.delete_chunk()

    def on_http_reply(self, conn, msg):
        result["status"] = msg.status
        conn.close()

with mgio.Manager() as mgr:
    conn = mgr.connect_http(url, Client())
    while not conn.closed:
        mgr.poll(100)
print(result.get("status"), sha.hexdigest(), peak_kib(), flush=True)
"""


def expected_sha256() -> str:
    base = bytes(range(256)) * (BLOCK // 256)
    sha = hashlib.sha256()
    for i in range(TOTAL // BLOCK):
        sha.update(i.to_bytes(8, "little") + base[8:])
    return sha.hexdigest()


def read_reply(s: socket.socket) -> tuple[bytes, bytes]:
    """(head, body) of one Content-Length response read from `s` (bounded in time)."""
    reply = b""
    deadline = time.monotonic() + 60
    while True:
        head, sep, body = reply.partition(b"\r\n\r\n")
        if sep:
            length = int(head.split(b"Content-Length: ")[1].split(b"\r\n")[0])
            if len(body) >= length:
                return head, body
        chunk = s.recv(4096)
        assert chunk and time.monotonic() < deadline, reply
        reply += chunk


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    script = tmp_path_factory.mktemp("stream") / "server.py"
    script.write_text(SERVER)
    proc = subprocess.Popen([sys.executable, str(script), str(TOTAL)],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def want() -> str:
    return expected_sha256()


def test_upload_1gib_chunked(server, want):
    base = bytes(range(256)) * (BLOCK // 256)
    with socket.create_connection(("127.0.0.1", server), timeout=60) as s:
        s.sendall(b"POST /upload HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
        size_line = f"{BLOCK:x}\r\n".encode()
        for i in range(TOTAL // BLOCK):
            s.sendall(size_line + i.to_bytes(8, "little") + base[8:] + b"\r\n")
        s.sendall(b"0\r\n\r\n")
        head, body = read_reply(s)
    assert head.startswith(b"HTTP/1.1 200 OK")
    digest, peak = body.decode().split()
    assert digest == want
    assert int(peak) < PEAK_LIMIT_KIB, f"server peak RSS {int(peak) // 1024} MiB"


def test_download_1gib(server, want, tmp_path):
    script = tmp_path / "client.py"
    script.write_text(CLIENT)
    out = subprocess.run([sys.executable, str(script), f"http://127.0.0.1:{server}/download"],
                         capture_output=True, text=True, timeout=120, check=True)
    status, digest, peak = out.stdout.split()
    assert status == "200"
    assert digest == want
    assert int(peak) < PEAK_LIMIT_KIB, f"client peak RSS {int(peak) // 1024} MiB"
    # and the server, which produced it, stayed small too
    assert int(request("GET", f"http://127.0.0.1:{server}/peak").text) < PEAK_LIMIT_KIB
