"""Dispatcher: the mgio handler of the test server's listener (mgio.testing). It runs on
the server thread: records each request, finds its expectation, queues the answer, and
routes WebSocket upgrades and messages to their endpoints."""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from ._core import Connection, HttpMessage, WebSocketMessage
from ._testing_expect import ExpectationBook, Found
from ._testing_match import RequestMatcher
from ._testing_reply import Action, Reply, Stream
from ._testing_request import Request
from ._testing_sender import AnswerQueue
from ._testing_ws import WebSocketExpectation
from .handler import Handler

__all__ = ["Dispatcher", "Recorder"]


class Recorder(Protocol):
    """Where the dispatcher reports (the Server)."""

    def record(self, request: Request, found: Found, status: int | None) -> None:
        """A request arrived, was matched (or not) and answered with ``status`` (None:
        the connection was closed instead)."""

    def fail(self, problem: str) -> None:
        """Something the check must report happened."""


@dataclass
class _ConnState:
    """What the dispatcher keeps per connection (in ``conn.user_data``)."""

    answers: AnswerQueue
    ws: WebSocketExpectation | None = field(default=None)


class Dispatcher(Handler):
    """Serves the expectations of ``book`` and the WebSocket endpoints of ``ws_endpoints``
    (a callable returning them, oldest first); reports to ``recorder``."""

    def __init__(
        self,
        book: ExpectationBook,
        ws_endpoints: Callable[[], list[WebSocketExpectation]],
        recorder: Recorder,
        unmatched_status: int,
    ) -> None:
        self._book = book
        self._ws_endpoints = ws_endpoints
        self._recorder = recorder
        self._unmatched_status = unmatched_status

    def _state(self, conn: Connection) -> _ConnState:
        state = conn.user_data
        if not isinstance(state, _ConnState):
            state = conn.user_data = _ConnState(AnswerQueue(self._recorder.fail))
        return state

    # ---- HTTP --------------------------------------------------------------------------

    def on_http_request(self, conn: Connection, msg: HttpMessage) -> None:
        req = Request.from_message(msg)
        found = self._book.take(req)
        action, delay = self._answer(req, found)
        status = action.status if isinstance(action, Reply | Stream) else None
        self._recorder.record(req, found, status)
        self._state(conn).answers.push(conn, action, delay)

    def _answer(self, req: Request, found: Found) -> tuple[Action, float]:
        expectation = found.expectation
        if expectation is None:
            status = self._unmatched_status
            problem = f"unexpected request (answered {status}): {req.describe()}\n{found.problem}"
            self._recorder.fail(problem)
            return Reply(f"mgio.testing: {problem}\n", status), 0.0
        try:
            return expectation.action_for(req), expectation.delay
        except Exception:  # the test's responder: answer 500 and fail the check
            trace = traceback.format_exc()
            where = f"the responder of {expectation.matcher}"
            self._recorder.fail(f"{where} raised for {req}:\n{trace}")
            return Reply(f"mgio.testing: the responder raised\n{trace}", 500), 0.0

    def on_timer(self, conn: Connection, when: float) -> None:
        self._state(conn).answers.pump(conn)

    def on_send(self, conn: Connection, count: int) -> None:
        state = conn.user_data
        if isinstance(state, _ConnState):
            state.answers.pump(conn)

    # ---- WebSocket ---------------------------------------------------------------------

    def on_ws_handshake_request(self, conn: Connection, msg: HttpMessage) -> None:
        req = Request.from_message(msg)
        endpoint = self._endpoint_for(req)
        if endpoint is None:
            problem = "no WebSocket endpoint matches its path"
            self._recorder.record(req, Found(None, problem), 404)
            self._recorder.fail(f"unexpected WebSocket upgrade {req}: {problem}")
            conn.send_error(404, f"mgio.testing: no WebSocket endpoint for {req.path}\n")
            return
        self._recorder.record(req, Found(None, endpoint=endpoint), 101)
        self._state(conn).ws = endpoint

    def _endpoint_for(self, req: Request) -> WebSocketExpectation | None:
        for endpoint in self._ws_endpoints():
            if RequestMatcher(endpoint.path).matches(req):
                return endpoint
        return None

    def on_ws_open(self, conn: Connection, msg: HttpMessage) -> None:
        endpoint = self._state(conn).ws
        if endpoint is not None:
            endpoint.opened(conn)

    def on_ws_message(self, conn: Connection, msg: WebSocketMessage) -> None:
        endpoint = self._state(conn).ws
        if endpoint is not None:
            endpoint.received(conn, msg)

    def on_close(self, conn: Connection) -> None:
        state = conn.user_data
        if isinstance(state, _ConnState) and state.ws is not None:
            state.ws.closed(conn)
