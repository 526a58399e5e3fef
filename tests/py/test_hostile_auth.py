"""Hostile Basic and Digest credentials (tests/hostile/auth.py) against an in-process
mgio server: Basic parsed by the C mg_get_http_basic_auth, Digest checked by the C
serve_dir guard. Every case runs whole, byte by byte and split (a Digest case with a
fresh nonce each time), then a fresh connection."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile import auth, http_run
from hostile.cases import Case, Expect, answered, req
from hostile.known_bugs import param
from hostile.site import Server
from hostile.wire import Peer, finals, send_modes


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("hostile_auth"))
    yield srv
    srv.close()


def test_case_names_are_unique() -> None:
    names = [c.name for c in auth.BASIC] + [c.name for c in auth.DIGEST]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", [param("basic", c.name, c) for c in auth.BASIC])
def test_hostile_basic(server: Server, case: Case) -> None:
    http_run.run_case(server, case)


def challenge(srv: Server, uri: str) -> str:
    """The nonce of a fresh 401 challenge for `uri`."""
    with Peer(srv.mgr, srv.port) as peer:
        peer.send(req(uri))
        peer.wait(lambda p: finals(bytes(p.got)), "the 401 challenge")
        r = finals(bytes(peer.got))[0]
    assert r.status == 401
    m = re.search(r'nonce="([^"]+)"', r.header("WWW-Authenticate") or "")
    assert m, r.headers
    return m.group(1)


def expectation(status: int) -> Expect:
    if status == 200:
        return answered(200, body=b"secret")
    return Expect(status, close=False, dispatched=True)


GUARDS = {"c": auth.URI, "py": auth.PY_URI}  # serve_dir's C check, mgio.auth.DigestAuth


@pytest.mark.parametrize(
    ("case", "guard"),
    [param(f"digest-{g}", c.name, c, g, id=f"{c.name}-{g}") for c in auth.DIGEST for g in GUARDS],
)
def test_hostile_digest(server: Server, case: auth.DigestCase, guard: str) -> None:
    uri = GUARDS[guard]
    status = case.py_status if guard == "py" and case.py_status is not None else case.status
    count = len(send_modes(case.request(challenge(server, uri), uri)))
    for i in range(count):
        data = case.request(challenge(server, uri), uri)
        mode, pieces = send_modes(data)[i]
        try:
            http_run.run_exchange(
                server, Case(case.name, case.rfc, data, expectation(status)), pieces
            )
        except AssertionError as e:
            raise AssertionError(f"[{mode}] {e}") from None
    http_run.check_fresh(server)
