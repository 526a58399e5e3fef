"""The pytest plugin (entry point pytest11, mgio.pytest_plugin), run on inner test files
through pytester: fixtures that pass, teardown failures and their message, the opt-outs,
the factory, and that merely loading the plugin imports nothing of mgio."""

from __future__ import annotations

# The inner runs are in-process, and pytester drops the modules they import afterwards:
# importing the clients here keeps one copy of each (requests breaks when re-imported).
import aiohttp  # noqa: F401
import mgio.testing  # noqa: F401
import pytest
import requests  # noqa: F401
import websockets.sync.client  # noqa: F401

pytest_plugins = ["pytester"]

PASSING = '''
import asyncio, json, urllib.request
import aiohttp, requests
from websockets.sync.client import connect

def test_http(mgio_server):
    mgio_server.expect("/hello", method="GET").respond_json({"hello": "world"})
    assert requests.get(mgio_server.url_for("/hello")).json() == {"hello": "world"}
    assert [str(r) for r in mgio_server.requests] == ["GET /hello"]

def test_async_client(mgio_server):
    mgio_server.expect_once("/a", method="POST", json={"n": 1}).respond("done")
    async def main():
        async with aiohttp.ClientSession() as s:
            async with s.post(mgio_server.url_for("/a"), json={"n": 1}) as r:
                return await r.text()
    assert asyncio.run(main()) == "done"

def test_ws(mgio_ws_server):
    mgio_ws_server.on("ping", "pong")
    with connect(mgio_ws_server.url, proxy=None) as ws:
        ws.send("ping")
        assert ws.recv(timeout=5) == "pong"
        ws.send("echo me")
        assert ws.recv(timeout=5) == "echo me"
    assert mgio_ws_server.messages == ["ping", "echo me"]

def test_factory(mgio_server_factory):
    def hello(conn, ev, data):
        if ev == 100:  # EV_HTTP_REQUEST
            conn.reply(200, "custom")
    custom = mgio_server_factory(hello)
    second = mgio_server_factory()
    second.expect("/").respond("second")
    assert urllib.request.urlopen(custom.url_for("/x")).read() == b"custom"
    assert urllib.request.urlopen(second.url).read() == b"second"
'''

FAILING = '''
import requests, pytest

def test_unexpected(mgio_server):
    mgio_server.expect("/expected").respond("ok")
    requests.get(mgio_server.url_for("/expected"))
    assert requests.get(mgio_server.url_for("/surprise")).status_code == 500

def test_unmet(mgio_server):
    mgio_server.expect_once("/never", method="DELETE")

def test_factory_server_unmet(mgio_server_factory):
    mgio_server_factory().expect("/from-factory")

def test_opted_out(mgio_server):
    mgio_server.check_on_exit = False
    mgio_server.expect("/never")

@pytest.mark.mgio_no_check
def test_marked(mgio_server):
    mgio_server.expect("/never")
'''


def test_fixtures_pass(pytester: pytest.Pytester):
    pytester.makepyfile(test_inner=PASSING)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=4)


def test_failures_are_reported_at_teardown(pytester: pytest.Pytester):
    pytester.makepyfile(test_inner=FAILING)
    result = pytester.runpytest("-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=5, errors=3)
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_unexpected*",
        "mgio.testing server http://127.0.0.1:*: 1 problem(s)",
        "- unexpected request (answered 500): GET /surprise",
        "*no expectation matched; the expectations:",
        "*- * /expected (any number of times; got 1): path differs",
        "Expected:",
        "  1. * /expected (any number of times; got 1)",
        "Received:",
        "  1. GET /expected -> 200, matched * /expected",
        "  2. GET /surprise -> 500, UNMATCHED",
    ])
    result.stdout.fnmatch_lines([
        "*ERROR at teardown of test_unmet*",
        "*- expected but not met: DELETE /never (once; got 0 of 1)",
        "Received:",
        "  (nothing)",
    ])
    result.stdout.fnmatch_lines(["*ERROR at teardown of test_factory_server_unmet*"])
    assert "test_opted_out" not in "".join(
        line for line in result.outlines if "ERROR" in line)


def test_loading_the_plugin_imports_nothing_heavy(pytester: pytest.Pytester):
    # The package itself (mgio/__init__) comes with the entry point; the test server,
    # asyncio and the clients come only with a fixture.
    pytester.makepyfile(test_inner='''
import sys

def test_nothing_imported():
    for name in ("mgio.testing", "mgio._testing_dispatch", "asyncio", "requests"):
        assert name not in sys.modules, name
''')
    # (pytest-asyncio, when installed, imports asyncio itself: left out here)
    result = pytester.runpytest_subprocess("-q", "-p", "no:cacheprovider", "-p", "no:asyncio")
    result.assert_outcomes(passed=1)
