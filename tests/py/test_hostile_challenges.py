"""Hostile 401 challenges (tests/hostile/challenges.py) to mgio.request with auth=: a raw
server on a thread answers 401 with the case's WWW-Authenticate, and 200 to a request
that carries Authorization; the client must end with one response, retrying only when
it can meet the challenge."""

from __future__ import annotations

import socket
import sys
import threading
from pathlib import Path

import mgio
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile import challenges
from hostile.known_bugs import param

TIMEOUT = 5.0


class RawServer:
    """Answers each request on its own connection: 200 with Authorization, else 401 with
    the challenge. `authorizations` records the Authorization values received."""

    def __init__(self, challenge: str):
        self.challenge = challenge.encode("latin-1")
        self.authorizations: list[bytes] = []
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(TIMEOUT)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.serve, daemon=True)

    def answer(self, head: bytes) -> bytes:
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"authorization":
                self.authorizations.append(value.strip())
                return b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nin"
        return (
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: "
            + self.challenge
            + b"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )

    def serve(self) -> None:
        for _ in range(2):
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(TIMEOUT)
                head = b""
                while b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    head += chunk
                conn.sendall(self.answer(head))

    def __enter__(self) -> RawServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes an accept() still waiting
        except OSError:
            pass
        self.sock.close()
        self.thread.join(TIMEOUT)
        assert not self.thread.is_alive()


def test_case_names_are_unique() -> None:
    names = [c.name for c in challenges.CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", [param("challenge", c.name, c) for c in challenges.CASES])
def test_hostile_challenge(case: challenges.Challenge) -> None:
    with RawServer(case.value) as srv:
        url = f"http://127.0.0.1:{srv.port}/x"
        if case.outcome == challenges.MALFORMED:
            with pytest.raises(ConnectionError):
                mgio.request("GET", url, auth=("joe", "pw"), timeout=TIMEOUT)
            return
        r = mgio.request("GET", url, auth=("joe", "pw"), timeout=TIMEOUT)
    if case.outcome == challenges.ANSWERED:
        assert r.status == 200 and r.body == b"in"
        assert len(srv.authorizations) == 1
        scheme = case.value.split()[0] if not case.value.startswith("Newauth") else "Basic"
        assert srv.authorizations[0].split()[0].decode() == scheme
    else:
        assert r.status == 401, r.status
        assert srv.authorizations == []
