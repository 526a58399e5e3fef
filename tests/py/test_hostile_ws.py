"""Hostile WebSocket input (tests/hostile/ws*.py) against an in-process mgio echo server:
the opening handshake (as HTTP request cases), then framing, UTF-8 and closing cases,
each sent whole, one byte per write and split; then a fresh WebSocket must work."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile import http_run, ws, ws_handshake, ws_run
from hostile.cases import Case
from hostile.known_bugs import param
from hostile.site import Server
from hostile.ws import WsCase

AREAS = {"ws-framing": ws.FRAMING, "ws-utf8": ws.UTF8, "ws-closing": ws.CLOSING}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("hostile_ws"))
    yield srv
    srv.close()


def test_case_names_are_unique() -> None:
    names = [c.name for c in ws.CASES + ws_handshake.CASES + ws_handshake.ACCEPTED]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", [param("ws-handshake", c.name, c) for c in ws_handshake.CASES])
def test_hostile_handshake(server: Server, case: Case) -> None:
    http_run.run_case(server, case)


@pytest.mark.parametrize("case", [param("ws-handshake", c.name, c) for c in ws_handshake.ACCEPTED])
def test_handshake_accepted(server: Server, case: Case) -> None:
    ws_run.run_handshake(server, case.data)


@pytest.mark.parametrize(
    "case", [param(area, c.name, c) for area, cases in AREAS.items() for c in cases]
)
def test_hostile_frames(server: Server, case: WsCase) -> None:
    ws_run.run_case(server, case)
