"""Cases mgio gets wrong today, in code outside csrc/proto (so not fixed by the hostile
suite): each runs as a strict xfail, so a fix makes it pass loudly; then remove it here.

Keys are "<area>/<case name>"; values say what goes wrong (bytes, expected, actual).
"""

from __future__ import annotations

import pytest

KNOWN_BUGS: dict[str, str] = {}


def is_known(name: str) -> bool:
    """Whether case `name` (of any area) is a known bug."""
    return any(key.rpartition("/")[2] == name for key in KNOWN_BUGS)


def param(area: str, name: str, *values: object, id: str | None = None) -> object:
    """A pytest param (test id `id`, by default `name`) for case `name` of `area`,
    strict-xfail when it is a known bug."""
    key = f"{area}/{name}"
    marks = [pytest.mark.xfail(strict=True, reason=KNOWN_BUGS[key])] if key in KNOWN_BUGS else []
    return pytest.param(*values, id=id or name, marks=marks)
