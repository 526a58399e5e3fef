"""The shape of a hostile case and of its expected outcome, and request builders."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Expect:
    """What the server does with a request.

    status: the response status; close: the server closes after it (and sends
    ``Connection: close``); dispatched: the handler saw the request; echo: fields the
    echo handler must have seen (method, uri, query, body, headers as [name, value]
    pairs, ...), compared one by one; body: the exact response body, when given."""

    status: int
    close: bool
    dispatched: bool
    echo: dict[str, object] = field(default_factory=dict)
    body: bytes | None = None

    @property
    def accepted(self) -> bool:
        """Whether the message got past the HTTP parser (the differential test's verdict)."""
        return self.dispatched


def ok(**echo: object) -> Expect:
    """Accepted: 200 from the echo handler, the connection stays open."""
    return Expect(200, close=False, dispatched=True, echo=echo)


def ok_close(**echo: object) -> Expect:
    """Accepted and answered, then closed (Connection: close, HTTP/1.0)."""
    return Expect(200, close=True, dispatched=True, echo=echo)


def reject(status: int) -> Expect:
    """Refused by the server before any handler sees it: `status`, then close."""
    return Expect(status, close=True, dispatched=False)


def answered(status: int, *, close: bool = False, body: bytes | None = None) -> Expect:
    """Parsed and handed to the application, which answered `status`."""
    return Expect(status, close=close, dispatched=True, body=body)


@dataclass(frozen=True)
class Case:
    """One hostile input: `data` sent on a fresh connection, `expect` the outcome; `rfc`
    says where the expectation comes from; `splits` adds split points (byte offsets;
    negative ones count from the end) to the default few."""

    name: str
    rfc: str
    data: bytes
    expect: Expect
    splits: tuple[int, ...] = ()


def req(
    target: str = "/",
    *headers: str,
    method: str = "GET",
    version: str = "HTTP/1.1",
    body: bytes = b"",
    host: bool = True,
) -> bytes:
    """A request: the request line, Host (unless host=False), the `headers` lines (each
    without CRLF), the blank line, then `body`. Everything is Latin-1."""
    lines = [f"{method} {target} {version}"]
    if host:
        lines.append("Host: x")
    lines.extend(headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def post(body: bytes, *headers: str, target: str = "/") -> bytes:
    """A POST with the `headers` (framing left to the caller) and `body`."""
    return req(target, *headers, method="POST", body=body)


def raw(text: str) -> bytes:
    """Latin-1 bytes of `text` (one character per byte)."""
    return text.encode("latin-1")
