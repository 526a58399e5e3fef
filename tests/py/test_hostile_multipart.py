"""Hostile multipart/form-data bodies (tests/hostile/multipart.py) against an in-process
mgio server that counts parts: each sent whole, byte by byte (short ones) and split;
then a fresh connection."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile import http_run, multipart
from hostile.cases import Case
from hostile.known_bugs import param
from hostile.site import Server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("hostile_multipart"))
    yield srv
    srv.close()


def test_case_names_are_unique() -> None:
    names = [c.name for c in multipart.CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", [param("multipart", c.name, c) for c in multipart.CASES])
def test_hostile_multipart(server: Server, case: Case) -> None:
    http_run.run_case(server, case)
