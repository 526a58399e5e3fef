"""Hostile responses (tests/hostile/client.py) to the mgio HTTP client: each sent whole,
byte by byte (short ones) and split; a refused one must end with no reply and the client
closing by itself; then the same manager must read a good response."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import mgio
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from hostile import client, client_run
from hostile.known_bugs import param


@pytest.fixture(scope="module")
def mgr() -> Iterator[mgio.Manager]:
    m = mgio.Manager()
    yield m
    m.close()


def test_case_names_are_unique() -> None:
    names = [c.name for c in client.CASES]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("case", [param("client", c.name, c) for c in client.CASES])
def test_hostile_response(mgr: mgio.Manager, case: client.ClientCase) -> None:
    client_run.run_case(mgr, case)
