"""Hostile HTTP requests (tests/hostile/http_*.py) against an in-process mgio server.

Each case is sent whole, one byte per write (short inputs) and split in two at a few
points; the outcome (status, Connection: close and the close, whether the handler saw
the request, what it saw) must be the same every time, a connection that stays open must
answer a second request, and a fresh connection must then be served.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile import (
    http_chunked,
    http_framing,
    http_headers,
    http_limits,
    http_paths,
    http_pipeline,
    http_request_line,
    http_vars,
)
from hostile.http_run import run_case, run_pipeline
from hostile.known_bugs import param
from hostile.site import Server

AREAS = {
    "request-line": http_request_line.CASES,
    "headers": http_headers.CASES,
    "framing": http_framing.CASES,
    "chunked": http_chunked.CASES,
    "limits": http_limits.CASES,
    "paths": http_paths.CASES,
    "url-vars": http_vars.CASES,
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("hostile_http"))
    yield srv
    srv.close()


def params() -> list[object]:
    return [param(area, c.name, c) for area, cases in AREAS.items() for c in cases]


def test_case_names_are_unique() -> None:
    names = [c.name for cases in AREAS.values() for c in cases]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", params())
def test_hostile_request(server: Server, case: object) -> None:
    extra = http_limits.AT if case in http_limits.CASES else ()
    run_case(server, case, extra)  # type: ignore[arg-type]


@pytest.mark.parametrize("case", [param("pipeline", c.name, c) for c in http_pipeline.CASES])
def test_hostile_pipeline(server: Server, case: http_pipeline.Pipeline) -> None:
    run_pipeline(server, case.data, case.statuses, case.close)
