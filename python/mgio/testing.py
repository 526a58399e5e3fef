"""mgio.testing: a real HTTP and WebSocket server for tests, with expectations.

:class:`Server` runs an mgio Manager on a background thread, on an ephemeral port of
127.0.0.1 (started in milliseconds, serving requests concurrently). Tell it what to
expect and how to answer; it records every request; at the end, :meth:`Server.check`
(run on leaving ``with``, and by the pytest fixtures at teardown) fails on a request no
expectation matched (answered 500 meanwhile, with a readable body) and on an expectation
that did not get its requests::

    with mgio.testing.Server() as server:
        server.expect("/hello", method="GET").respond_json({"hello": "world"})
        assert requests.get(server.url_for("/hello")).json() == {"hello": "world"}

Nothing here imports pytest; the fixtures are in :mod:`mgio.pytest_plugin`.
"""

from __future__ import annotations

import collections
import threading
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any

from ._core import Connection, Manager
from ._testing_dispatch import Dispatcher
from ._testing_expect import Expectation, ExpectationBook, Found
from ._testing_match import ANY_JSON, BodyMatch, HeaderMatch, PathMatch, QueryMatch, RequestMatcher
from ._testing_reply import CLOSE, Action, CloseConnection, Reply, Responder, Stream
from ._testing_request import Request
from ._testing_wait import Signal
from ._testing_ws import MessageMatch, WebSocketExpectation, WsData, WsReply

__all__ = [
    "CLOSE",
    "Action",
    "CloseConnection",
    "Expectation",
    "LogEntry",
    "MessageMatch",
    "Reply",
    "Request",
    "RequestMatcher",
    "Responder",
    "Server",
    "Stream",
    "WebSocketExpectation",
    "WsData",
    "WsReply",
]

#: A custom mgio handler: a function (conn, ev, data) or an mgio.Handler.
EventHandler = Callable[[Connection, int, Any], object]


@dataclass(frozen=True)
class LogEntry:
    """One received request, what took it (an HTTP ``expectation``, a WebSocket
    ``endpoint``, or neither: then ``problem`` says why) and the ``status`` of the
    answer (101 for an upgrade; None when the connection was closed instead)."""

    request: Request
    expectation: Expectation | None = None
    endpoint: WebSocketExpectation | None = None
    problem: str = ""
    status: int | None = None

    @property
    def matched(self) -> bool:
        """True when an expectation or an endpoint took the request."""
        return self.expectation is not None or self.endpoint is not None

    def __str__(self) -> str:
        answer = "closed" if self.status is None else str(self.status)
        if self.expectation is not None:
            return f"{self.request} -> {answer}, matched {self.expectation.matcher}"
        if self.endpoint is not None:
            return f"{self.request} -> {answer}, WebSocket endpoint {self.endpoint.path or '*'}"
        return f"{self.request} -> {answer}, UNMATCHED"


class Server:
    """An HTTP/WebSocket server on a background thread, for tests.

    ``with Server() as server:`` starts it (or :meth:`start` / :meth:`stop`); leaving
    the block stops it and, unless the block raised or ``check_on_exit`` is False, runs
    :meth:`check`. ``handler``: serve with your own mgio handler (a function
    ``(conn, ev, data)`` or an :class:`mgio.Handler`) instead of expectations; an
    exception it raises fails the check. ``unmatched_status``: the status of the answer
    to an unexpected request (500).

    Thread safety: expect, read the log, wait and push from the test's thread while the
    server serves; responders and handlers run on the server thread.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        *,
        handler: EventHandler | None = None,
        check_on_exit: bool = True,
        unmatched_status: int = 500,
    ) -> None:
        self.host = host
        self.check_on_exit = check_on_exit
        self.port = 0
        self._handler = handler
        self._book = ExpectationBook()
        self._ws: list[WebSocketExpectation] = []
        self._lock = threading.Lock()
        self._log: list[LogEntry] = []
        self._problems: list[str] = []
        self._signal = Signal()
        self._calls: collections.deque[Callable[[], object]] = collections.deque()
        self._dispatcher = Dispatcher(self._book, self._ws_snapshot, self, unmatched_status)
        self._mgr: Manager | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    # ---- running -----------------------------------------------------------------------

    def start(self) -> Server:
        """Binds an ephemeral port and starts serving; returns the server."""
        if self._thread is not None:
            raise RuntimeError("the server is already started")
        self._mgr = Manager()
        address = "[::1]:0" if ":" in self.host else f"{self.host}:0"
        listener = self._mgr.bind(f"tcp://{address}", self._handler or self._dispatcher, http=True)
        local = listener.local_address
        assert local is not None
        self.port = local[1]
        self._thread = threading.Thread(target=self._serve, name=f"mgio.testing:{self.port}",
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving (open connections are closed); bounded, idempotent."""
        if self._thread is None or self._mgr is None:
            return
        self._stopping.set()
        self._mgr.wakeup()
        self._thread.join(10)
        if self._thread.is_alive():
            raise RuntimeError("the mgio.testing server thread did not stop within 10 s")
        self._mgr.close()

    def _serve(self) -> None:
        mgr = self._mgr
        assert mgr is not None
        while not self._stopping.is_set():
            try:
                mgr.poll(200)
            except Exception:  # a handler raised: keep serving, report at the check
                self.fail(f"a handler raised:\n{traceback.format_exc()}")
            self._run_calls()

    def _run_calls(self) -> None:
        while self._calls:
            call = self._calls.popleft()
            try:
                call()
            except Exception:
                self.fail(f"a call on the server thread raised:\n{traceback.format_exc()}")

    def call_soon(self, func: Callable[[], object]) -> None:
        """Runs ``func()`` on the server thread soon (from any thread)."""
        self._calls.append(func)
        if self._mgr is not None:
            self._mgr.wakeup()

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
        if exc_type is None and self.check_on_exit:
            self.check()

    # ---- addresses ---------------------------------------------------------------------

    @property
    def url(self) -> str:
        """http://host:port (no trailing slash)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def url_for(self, path: str = "/") -> str:
        """The http:// URL of ``path`` on this server."""
        return self.url + (path if path.startswith("/") else "/" + path)

    def ws_url_for(self, path: str = "/") -> str:
        """The ws:// URL of ``path`` on this server."""
        return "ws" + self.url_for(path)[4:]

    # ---- expectations ------------------------------------------------------------------

    def expect(
        self,
        path: PathMatch | None = None,
        method: str | None = None,
        *,
        query: QueryMatch | None = None,
        headers: Mapping[str, HeaderMatch] | None = None,
        body: BodyMatch | None = None,
        json: Any = ANY_JSON,
        times: int | None = None,
        required: bool = True,
    ) -> Expectation:
        """Expects requests matching every criterion given (see
        :class:`RequestMatcher`): ``times`` of them (None: any number, at least one
        unless ``required`` is False). Returns the :class:`Expectation`; say how to
        answer with its ``respond*`` methods (200 and an empty body otherwise)."""
        matcher = RequestMatcher(path, method, query=query, headers=headers, body=body,
                                 json=json)
        return self._add(Expectation(matcher, times=times, required=required))

    def expect_once(self, path: PathMatch | None = None, method: str | None = None,
                    **criteria: Any) -> Expectation:
        """Expects exactly one request like that (:meth:`expect` with ``times=1``)."""
        return self.expect(path, method, times=1, **criteria)

    def expect_ordered(self, path: PathMatch | None = None, method: str | None = None,
                       **criteria: Any) -> Expectation:
        """Expects one request like that, after the ordered ones expected before it; one
        arriving before its turn is answered 500 and fails the check."""
        matcher = RequestMatcher(path, method, **criteria)
        return self._add(Expectation(matcher, times=1, ordered=True))

    def allow(self, path: PathMatch | None = None, method: str | None = None,
              **criteria: Any) -> Expectation:
        """Accepts any number of requests like that, none required (a stub)."""
        return self.expect(path, method, required=False, **criteria)

    def _add(self, expectation: Expectation) -> Expectation:
        if self._handler is not None:
            raise RuntimeError("this server runs a custom handler; it has no expectations")
        return self._book.add(expectation)

    def expect_ws(self, path: PathMatch | None = None, *,
                  required: bool = True) -> WebSocketExpectation:
        """Accepts WebSocket upgrades on the paths ``path`` matches (None: any);
        returns the endpoint to configure and observe. ``required``: the check fails
        unless a connection opened."""
        if self._handler is not None:
            raise RuntimeError("this server runs a custom handler; it has no endpoints")
        url = self.ws_url_for(path if isinstance(path, str) else "/")
        endpoint = WebSocketExpectation(path, required=required, url=url,
                                        call_soon=self.call_soon, signal=self._signal)
        with self._lock:
            self._ws.append(endpoint)
        return endpoint

    def _ws_snapshot(self) -> list[WebSocketExpectation]:
        with self._lock:
            return list(self._ws)

    @property
    def expectations(self) -> list[Expectation]:
        """The HTTP expectations, oldest first."""
        return self._book.snapshot()

    def clear(self) -> None:
        """Forgets expectations, endpoints, the log and the problems found."""
        self._book.clear()
        with self._lock:
            self._ws.clear()
            self._log.clear()
            self._problems.clear()

    # ---- records -----------------------------------------------------------------------

    def record(self, request: Request, found: Found, status: int | None) -> None:
        """(Server thread) logs a request, what took it and the answer's status."""
        entry = LogEntry(request, found.expectation, found.endpoint, found.problem, status)
        with self._lock:
            self._log.append(entry)
        self._signal.notify()

    def fail(self, problem: str) -> None:
        """Records a problem for :meth:`check` to report (any thread)."""
        with self._lock:
            self._problems.append(problem)
        self._signal.notify()

    @property
    def log(self) -> list[LogEntry]:
        """Every request received so far with what took it, in order (a copy)."""
        with self._lock:
            return list(self._log)

    @property
    def requests(self) -> list[Request]:
        """Every request received so far, in order (a copy)."""
        return [entry.request for entry in self.log]

    @property
    def problems(self) -> list[str]:
        """What :meth:`check` would report besides unmet expectations (a copy)."""
        with self._lock:
            return list(self._problems)

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[Request]:
        """Blocks until ``count`` requests arrived; returns them all."""
        self._signal.wait_until(lambda: len(self._log) >= count, timeout,
                                f"{count} request(s) to {self.url}")
        return self.requests

    async def wait_for_requests_async(self, count: int, timeout: float = 5.0) -> list[Request]:
        """:meth:`wait_for_requests` for coroutines (the event loop keeps running)."""
        await self._signal.wait_until_async(lambda: len(self._log) >= count, timeout,
                                            f"{count} request(s) to {self.url}")
        return self.requests

    def requests_matching(
        self, path: PathMatch | None = None, method: str | None = None, **criteria: Any
    ) -> list[Request]:
        """The requests received so far that meet the criteria of :meth:`expect`."""
        matcher = RequestMatcher(path, method, **criteria)
        return [r for r in self.requests if matcher.matches(r)]

    def _all_met(self) -> bool:
        return not self._book.unmet() and all(w.met for w in self._ws_snapshot())

    def wait_until_met(self, timeout: float = 5.0) -> None:
        """Blocks until every required expectation got its requests (for clients that
        run in the background); AssertionError after ``timeout`` s."""
        self._signal.wait_until(self._all_met, timeout, "every expectation met")

    async def wait_until_met_async(self, timeout: float = 5.0) -> None:
        """:meth:`wait_until_met` for coroutines (the event loop keeps running)."""
        await self._signal.wait_until_async(self._all_met, timeout, "every expectation met")

    # ---- the verdict -------------------------------------------------------------------

    def report(self) -> str:
        """What is wrong, readably ("" when all is well): unexpected requests, errors,
        unmet expectations, then what was expected and what arrived."""
        problems = self.problems
        unmet = [f"expected but not met: {e}" for e in self._book.unmet()]
        unmet += [f"expected but not met: {w}" for w in self._ws_snapshot() if not w.met]
        if not problems and not unmet:
            return ""
        lines = [f"mgio.testing server {self.url}: {len(problems) + len(unmet)} problem(s)"]
        lines += ["- " + p.replace("\n", "\n  ") for p in problems + unmet]
        lines.append("Expected:")
        expected = [str(e) for e in self._book.snapshot()] + [str(w) for w in self._ws_snapshot()]
        lines += [f"  {i}. {e}" for i, e in enumerate(expected, 1)] or ["  (nothing)"]
        lines.append("Received:")
        lines += [f"  {i}. {entry}" for i, entry in enumerate(self.log, 1)] or ["  (nothing)"]
        return "\n".join(lines)

    def check(self) -> None:
        """Raises AssertionError with :meth:`report` when anything is wrong."""
        report = self.report()
        if report:
            raise AssertionError(report)

    def __repr__(self) -> str:
        return f"<mgio.testing.Server {self.url}>"
