"""The mgio pytest plugin (entry point ``pytest11``): fixtures giving a test a real HTTP
and WebSocket server (:class:`mgio.testing.Server`) that fails the test at teardown
when a request was unexpected or an expectation unmet.

- ``mgio_server``: a started Server on 127.0.0.1 with an ephemeral port.
- ``mgio_ws_server``: a WebSocket endpoint on that server (any path, echoing, not
  required): a :class:`mgio.testing.WebSocketExpectation`, ``.url`` to connect to.
- ``mgio_server_factory``: ``factory(handler=None, **options)`` starts one more Server
  (with your own mgio handler, if given) and stops and checks it at teardown.

Opt out of the teardown check with ``server.check_on_exit = False`` or the marker
``@pytest.mark.mgio_no_check``. Nothing of mgio is imported until a fixture is used, so
the plugin costs other test runs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from mgio.testing import Server, WebSocketExpectation

_NO_CHECK = "mgio_no_check"


def pytest_configure(config: pytest.Config) -> None:
    """Registers the opt-out marker."""
    config.addinivalue_line(
        "markers", f"{_NO_CHECK}: the mgio fixtures do not fail the test at teardown"
    )


def _finish(servers: list[Server], request: pytest.FixtureRequest) -> None:
    """Stops every server, then fails with the reports of those that found problems."""
    for server in servers:
        server.stop()
    if request.node.get_closest_marker(_NO_CHECK) is not None:
        return
    reports = [s.report() for s in servers if s.check_on_exit]
    failed = [r for r in reports if r]
    if failed:
        pytest.fail("\n\n".join(failed), pytrace=False)


@pytest.fixture
def mgio_server_factory(
    request: pytest.FixtureRequest,
) -> Iterator[Callable[..., Server]]:
    """``factory(handler=None, **options)``: a started :class:`mgio.testing.Server`
    (``options`` go to its constructor); all are stopped and checked at teardown."""
    from mgio.testing import Server

    servers: list[Server] = []

    def start(handler: Any = None, **options: Any) -> Server:
        server = Server(handler=handler, **options).start()
        servers.append(server)
        return server

    try:
        yield start
    finally:
        _finish(servers, request)


@pytest.fixture
def mgio_server(mgio_server_factory: Callable[..., Server]) -> Server:
    """A started :class:`mgio.testing.Server`: set expectations, point clients at
    ``mgio_server.url_for("/path")``; checked at teardown."""
    return mgio_server_factory()


@pytest.fixture
def mgio_ws_server(mgio_server: Server) -> WebSocketExpectation:
    """A WebSocket endpoint of ``mgio_server`` on every path, echoing (``.echo(False)``
    stops that), with scripted replies through ``.on(message, reply)``; connect to
    ``mgio_ws_server.url``."""
    return mgio_server.expect_ws(required=False).echo()
