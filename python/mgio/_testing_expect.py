"""Expectations of the test server (mgio.testing): :class:`Expectation` (what to match,
how often, what to answer) and :class:`ExpectationBook` (all of a server's, searched from
the server thread while the test adds more)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ._testing_match import RequestMatcher
from ._testing_reply import CLOSE, Action, Fields, Reply, Responder, Stream, as_action
from ._testing_request import Request

__all__ = ["Expectation", "ExpectationBook", "Found"]


class Expectation:
    """One expected request: made by ``Server.expect()`` / ``expect_once()`` /
    ``expect_ordered()``, answered 200 with an empty body until one of the ``respond*``
    methods says otherwise. Each of them returns the expectation, and takes ``delay``:
    seconds to wait before answering (other requests are served meanwhile).

    ``times`` is how many requests it takes (None: any number); ``required`` makes an
    unmet expectation fail the check (``times`` requests, or at least one when
    ``times`` is None). ``count`` is how many it has taken so far."""

    def __init__(
        self,
        matcher: RequestMatcher,
        *,
        times: int | None = None,
        required: bool = True,
        ordered: bool = False,
    ) -> None:
        if times is not None and times < 1:
            raise ValueError("times must be >= 1 (or None for any number)")
        self.matcher = matcher
        self.times = times
        self.required = required
        self.ordered = ordered
        self.count = 0
        self.delay = 0.0
        self._responder: Responder = lambda req: Reply()

    # ---- how to answer -----------------------------------------------------------------

    def respond_with(self, responder: Responder, *, delay: float = 0.0) -> Expectation:
        """Answer with ``responder(request)``: a :class:`Reply`, a :class:`Stream`,
        :data:`CLOSE`, or a str/bytes body (status 200). It runs on the server thread;
        an exception there answers 500 and fails the check."""
        if delay < 0:
            raise ValueError("delay must be >= 0")
        self._responder = responder
        self.delay = delay
        return self

    def respond(
        self,
        body: bytes | str = b"",
        *,
        status: int = 200,
        headers: Fields = (),
        content_type: str | None = None,
        delay: float = 0.0,
    ) -> Expectation:
        """Answer with ``body`` (a str is sent as UTF-8 text/plain), ``status`` and
        ``headers``."""
        return self.respond_reply(Reply(body, status, headers, content_type), delay=delay)

    def respond_json(
        self, data: Any, *, status: int = 200, headers: Fields = (), delay: float = 0.0
    ) -> Expectation:
        """Answer with ``data`` as JSON (application/json)."""
        return self.respond_reply(Reply.json(data, status, headers), delay=delay)

    def respond_reply(self, reply: Reply, *, delay: float = 0.0) -> Expectation:
        """Answer with a prepared :class:`Reply`."""
        return self.respond_with(lambda req: reply, delay=delay)

    def respond_stream(
        self,
        chunks: Iterable[bytes | str] | Callable[[], Iterable[bytes | str]],
        *,
        status: int = 200,
        headers: Fields = (),
        content_type: str | None = None,
        interval: float = 0.0,
        delay: float = 0.0,
    ) -> Expectation:
        """Answer with a chunked body: each item of ``chunks`` is one chunk, sent as
        it is produced, ``interval`` seconds apart. Give a function returning an
        iterable (a generator function) when more than one request takes this
        expectation: an iterator runs out after the first."""

        def stream(req: Request) -> Stream:
            items = chunks() if callable(chunks) else chunks
            return Stream(items, status, headers, content_type, interval)

        return self.respond_with(stream, delay=delay)

    def close_connection(self, *, delay: float = 0.0) -> Expectation:
        """Close the connection without answering (after ``delay`` seconds)."""
        return self.respond_with(lambda req: CLOSE, delay=delay)

    # ---- state -------------------------------------------------------------------------

    def action_for(self, req: Request) -> Action:
        """The answer to ``req`` (runs the responder)."""
        return as_action(self._responder(req))

    @property
    def exhausted(self) -> bool:
        """True once it has taken ``times`` requests."""
        return self.times is not None and self.count >= self.times

    @property
    def met(self) -> bool:
        """True when it took what it must: ``times`` requests, or one when unlimited
        (always, when not ``required``)."""
        if not self.required:
            return True
        return self.count >= (self.times if self.times is not None else 1)

    def __str__(self) -> str:
        if self.ordered:
            kind = "ordered"
        elif self.times is None:
            kind = "any number of times" if self.required else "optional"
        else:
            kind = "once" if self.times == 1 else f"{self.times} times"
        want = "" if self.times is None else f" of {self.times}"
        return f"{self.matcher} ({kind}; got {self.count}{want})"

    def __repr__(self) -> str:
        return f"<Expectation {self}>"


@dataclass(frozen=True)
class Found:
    """What a request matched: an expectation, a WebSocket endpoint (``endpoint``), or
    neither, with the reason (for the 500 body and the failure message)."""

    expectation: Expectation | None
    problem: str = ""
    endpoint: Any = None


class ExpectationBook:
    """A server's expectations. The test thread adds; the server thread looks up with
    :meth:`take`; a lock keeps them consistent.

    Lookup order: the next ordered expectation; then those with a ``times`` limit not
    yet reached, oldest first; then the unlimited ones, oldest first. A request that
    matches a later ordered expectation but not the next one is out of order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._all: list[Expectation] = []

    def add(self, expectation: Expectation) -> Expectation:
        """Adds an expectation; returns it."""
        with self._lock:
            self._all.append(expectation)
        return expectation

    def clear(self) -> None:
        """Forgets every expectation."""
        with self._lock:
            self._all.clear()

    def snapshot(self) -> list[Expectation]:
        """The expectations, oldest first."""
        with self._lock:
            return list(self._all)

    def unmet(self) -> list[Expectation]:
        """The required expectations that did not get their requests."""
        return [e for e in self.snapshot() if not e.met]

    def take(self, req: Request) -> Found:
        """The expectation that answers ``req`` (its count incremented), or why none."""
        with self._lock:
            found = self._ordered(req) or self._first(req, limited=True)
            found = found or self._first(req, limited=False)
            if found is None:
                return Found(None, self._why_not(req))
            if found.expectation is not None:
                found.expectation.count += 1
            return found

    def _ordered(self, req: Request) -> Found | None:
        pending = [e for e in self._all if e.ordered and not e.exhausted]
        if pending and pending[0].matcher.matches(req):
            return Found(pending[0])
        for later in pending[1:]:
            if later.matcher.matches(req):
                return Found(
                    None, f"out of order: it matches {later.matcher}, but the next "
                    f"ordered request expected is {pending[0].matcher}"
                )
        return None

    def _first(self, req: Request, limited: bool) -> Found | None:
        for e in self._all:
            candidate = not e.ordered and not e.exhausted and (e.times is not None) == limited
            if candidate and e.matcher.matches(req):
                return Found(e)
        return None

    def _why_not(self, req: Request) -> str:
        if not self._all:
            return "no expectation was set"
        lines = ["no expectation matched; the expectations:"]
        for e in self._all:
            reason = "all its requests arrived" if e.exhausted else e.matcher.mismatch(req)
            lines.append(f"  - {e}: {reason or 'not its turn'}")
        return "\n".join(lines)
