"""A 2 GiB multipart upload streamed to disk by mgio.UploadHandler in a subprocess
server: the server's peak RSS (VmHWM) stays under 64 MiB and the file's SHA-256 matches.
MGIO_BIG_UPLOAD_MIB overrides the size (MiB). Every wait is bounded."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import time

import pytest

SIZE = int(os.environ.get("MGIO_BIG_UPLOAD_MIB", "2048")) << 20
BOUNDARY = "bigUploadBoundary0123"

SERVER = r"""
import sys, mgio

class H(mgio.UploadHandler):
    def summary(self, files, fields):
        hwm = 0
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = int(line.split()[1]) * 1024
        return {"files": files, "fields": fields, "vmhwm": hwm}

mgr = mgio.Manager()
lst = mgr.bind("tcp://127.0.0.1:0", H(sys.argv[1]), http=True)
print(lst.local_address[1], flush=True)
while True:
    mgr.poll(100)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs /proc")
def test_big_upload_streams_to_disk_with_bounded_memory(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        port = int(proc.stdout.readline())  # type: ignore[union-attr]
        block = os.urandom(1 << 20)
        pre = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f"; '
            'filename="big.bin"\r\nContent-Type: application/octet-stream\r\n\r\n'
        ).encode()
        post = f"\r\n--{BOUNDARY}--\r\n".encode()
        head = (
            f"POST /big HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; "
            f"boundary={BOUNDARY}\r\nContent-Length: {len(pre) + SIZE + len(post)}\r\n"
            "Connection: close\r\n\r\n"
        ).encode()
        digest = hashlib.sha256()
        t0 = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=60) as s:
            s.sendall(head + pre)
            for i in range(SIZE >> 20):
                chunk = block[i % 1024 :] + block[: i % 1024]  # not all the same
                digest.update(chunk)
                s.sendall(chunk)
            s.sendall(post)
            resp = b""
            while True:
                b = s.recv(65536)
                if not b:
                    break
                resp += b
        elapsed = time.monotonic() - t0
        assert resp.startswith(b"HTTP/1.1 200"), resp[:200]
        summary = json.loads(resp.split(b"\r\n\r\n", 1)[1])
        path = summary["files"][0]["path"]
        assert summary["files"][0]["size"] == SIZE
        h = hashlib.sha256()
        with open(path, "rb") as f:
            while chunk := f.read(1 << 20):
                h.update(chunk)
        assert h.hexdigest() == digest.hexdigest()
        assert summary["vmhwm"] < 64 << 20, summary["vmhwm"]
        print(
            f"\n{SIZE >> 20} MiB in {elapsed:.1f} s, server VmHWM "
            f"{summary['vmhwm'] / (1 << 20):.1f} MiB"
        )
    finally:
        proc.stdin.close()  # type: ignore[union-attr]
        proc.kill()
        proc.wait(10)
        for p in tmp_path.iterdir():  # do not leave 2 GiB behind in pytest's temp dirs
            p.unlink()
