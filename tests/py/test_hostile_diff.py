"""Differential test: every hostile HTTP request case (tests/hostile/http_*.py) also goes
to h11, a strict server-side parser, and the two verdicts must agree: mgio accepts a case
when its handler gets the request (the case sent whole to an in-process mgio server),
h11 when it parses a whole request.

Known, deliberate disagreements are listed in hostile/diff_allow.py with their reason; any
other disagreement fails, and so does an allow-list entry that no longer disagrees.
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
    http_request_line,
    http_vars,
)
from hostile.cases import Case
from hostile.diff_allow import ALLOWED
from hostile.http_run import dispatched
from hostile.known_bugs import is_known
from hostile.reference import ACCEPT, REJECT, h11_verdict
from hostile.site import Server

CASES = [
    c
    for m in (
        http_request_line,
        http_headers,
        http_framing,
        http_chunked,
        http_limits,
        http_paths,
        http_vars,
    )
    for c in m.CASES
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    srv = Server(tmp_path_factory.mktemp("hostile_diff"))
    yield srv
    srv.close()


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name) for c in CASES])
def test_mgio_and_h11_agree(server: Server, case: Case) -> None:
    mine = ACCEPT if dispatched(server, case.data) else REJECT
    if not is_known(case.name):  # a known bug's verdict is checked by its strict xfail
        assert mine == (ACCEPT if case.expect.accepted else REJECT), "mgio changed its verdict"
    ref = h11_verdict(case.data)
    if case.name in ALLOWED:
        want_mine, want_ref, _reason = ALLOWED[case.name]
        assert (mine, ref) == (want_mine, want_ref), "an allowed disagreement changed"
    else:
        assert mine == ref, f"mgio: {mine}, h11: {ref}; {case.rfc}"


def test_allow_list_names_real_cases() -> None:
    names = {c.name for c in CASES}
    assert set(ALLOWED) <= names, set(ALLOWED) - names
