"""Where a redirect leads (RFC 9110 15.4): the next request's method, URL, headers and
body, or None when it cannot be followed; and the chain of redirects one request follows.
Shared by mgio.request and mgio.aio.fetch."""

from __future__ import annotations

from typing import Any, NamedTuple
from urllib.parse import urljoin, urlsplit

__all__ = ["REDIRECT_STATUSES", "Hop", "Redirects", "TooManyRedirects", "next_hop"]

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Fields that describe a body: dropped with it when a redirect turns the method into GET.
_BODY_FIELDS = frozenset({"content-type", "content-length", "transfer-encoding"})


class Hop(NamedTuple):
    """The request a redirect asks for."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: Any
    same_origin: bool


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return (parts.scheme.lower(), (parts.hostname or "").lower(), parts.port or 80)


def next_hop(
    status: int,
    location: str | None,
    method: str,
    url: str,
    headers: list[tuple[str, str]],
    body: Any,
    replayable: bool,
) -> Hop | None:
    """The request that follows a ``status`` response with ``Location: location``.

    301 and 302 turn a POST into a GET, 303 turns anything but HEAD into a GET (the body
    is dropped); 307 and 308 keep the method and the body (None when the body cannot
    be sent again: ``replayable`` False). The Authorization field is dropped when the
    host (or scheme, or port) changes. None when there is nothing to follow: another
    status, no Location, or a scheme other than http.
    """
    if status not in REDIRECT_STATUSES or not location:
        return None
    target = urljoin(url, location.strip())
    if urlsplit(target).scheme.lower() != "http":
        return None
    to_get = (status in (301, 302) and method == "POST") or (status == 303 and method != "HEAD")
    if to_get:
        method, body = "GET", None
        headers = [(k, v) for k, v in headers if k.lower() not in _BODY_FIELDS]
    elif body is not None and not replayable:
        return None
    same = _origin(target) == _origin(url)
    if not same:
        headers = [(k, v) for k, v in headers if k.lower() != "authorization"]
    return Hop(method, target, headers, body, same)


class TooManyRedirects(Exception):
    """More than ``max_redirects`` redirects; ``url`` is where the last one led."""

    def __init__(self, url: str, count: int) -> None:
        super().__init__(f"more than {count} redirects (the last to {url})")
        self.url = url
        self.count = count


class Redirects:
    """The redirects one request follows (none unless ``enabled``), at most ``limit``;
    ``history`` is the (status, url) of each response that redirected."""

    def __init__(self, enabled: bool, limit: int) -> None:
        if limit < 0:
            raise ValueError("max_redirects must be >= 0")
        self.enabled = enabled
        self.limit = limit
        self.history: list[tuple[int, str]] = []

    def follow(self, status: int, url: str, hop: Hop | None) -> Hop | None:
        """The request to make after a ``status`` response to ``url`` whose redirect,
        if any, leads to ``hop`` (see :func:`next_hop`); None when the response is the
        answer. TooManyRedirects past the limit."""
        if not self.enabled or hop is None:
            return None
        self.history.append((status, url))
        if len(self.history) > self.limit:
            raise TooManyRedirects(hop.url, self.limit)
        return hop
