"""Fixtures for the C-level tests: the core compiled through cffi, shared per session."""

from __future__ import annotations

import os

import pytest
from cbuild import build
from cutil import GuardedInput


@pytest.fixture(scope="session")
def _module():
    return build(sanitize=os.environ.get("MGIO_SANITIZE") == "1")


@pytest.fixture(scope="session")
def ffi(_module):
    return _module[0]


@pytest.fixture(scope="session")
def lib(_module):
    return _module[1]


@pytest.fixture(autouse=True)
def _no_alloc_failures(_module):
    """Every test starts with allocation failures off, and leaves them off."""
    _module[1].mgio_test_alloc_fail_at(0)
    yield
    _module[1].mgio_test_alloc_fail_at(0)


@pytest.fixture(scope="session")
def guarded(ffi):
    """Places an input so that it ends where an inaccessible page begins: any read past
    its end crashes the test (picohttpparser's guard-page trick)."""
    g = GuardedInput(ffi)
    yield g
    g.close()
