"""RequestMatcher: which requests an expectation of the test server takes (mgio.testing).

Every criterion left out matches anything; :meth:`RequestMatcher.mismatch` names the first
criterion a request fails, for readable failure messages.
"""

from __future__ import annotations

import json as _json
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from ._testing_request import Request

__all__ = ["ANY_JSON", "BodyMatch", "HeaderMatch", "PathMatch", "QueryMatch", "RequestMatcher"]

#: A path: exact text, a regular expression (must match it whole), or a predicate.
PathMatch = str | re.Pattern[str] | Callable[[str], bool]
#: A query: a mapping (order-insensitive; values a str or a list of str), the exact raw
#: query string, or a predicate on the decoded query.
QueryMatch = Mapping[str, Any] | str | Callable[[dict[str, list[str]]], bool]
#: A header value: exact text, a regular expression (must match it whole) or a predicate.
HeaderMatch = str | re.Pattern[str] | Callable[[str], bool]
#: A body: exact bytes, exact text (UTF-8), or a predicate on the bytes.
BodyMatch = bytes | str | Callable[[bytes], bool]

#: The json= default of the matchers: no JSON criterion.
ANY_JSON: Any = object()


def _text_matches(expected: PathMatch, actual: str) -> bool:
    if isinstance(expected, re.Pattern):
        return expected.fullmatch(actual) is not None
    if isinstance(expected, str):
        return expected == actual
    return bool(expected(actual))


def _show(value: Any) -> str:
    """A criterion as a failure message shows it."""
    if isinstance(value, re.Pattern):
        return f"re({value.pattern!r})"
    if callable(value):
        return getattr(value, "__name__", "predicate")
    return repr(value)


def _normal_query(query: Mapping[str, Any]) -> dict[str, list[str]]:
    return {k: [str(x) for x in v] if isinstance(v, list | tuple) else [str(v)]
            for k, v in query.items()}


class RequestMatcher:
    """The criteria of an expectation: method (any case), path (a '?query' in it is
    compared like a query mapping), query, headers (each given field must be present
    with a matching value, any of its values if repeated; others may be there too), and
    the body as bytes/text, a predicate, or JSON (compared after parsing)."""

    def __init__(
        self,
        path: PathMatch | None = None,
        method: str | None = None,
        *,
        query: QueryMatch | None = None,
        headers: Mapping[str, HeaderMatch] | None = None,
        body: BodyMatch | None = None,
        json: Any = ANY_JSON,
    ) -> None:
        if isinstance(path, str) and "?" in path:
            if query is not None:
                raise ValueError("give the query in the path or as query=, not both")
            path, raw = path.split("?", 1)
            query = parse_qs(raw, keep_blank_values=True)  # order-insensitive
        if body is not None and json is not ANY_JSON:
            raise ValueError("give body= or json=, not both")
        self.path = path
        self.method = method.upper() if method is not None else None
        self.query = query
        self.headers = dict(headers or {})
        self.body = body.encode() if isinstance(body, str) else body
        self.json = json

    def mismatch(self, req: Request) -> str | None:
        """Why ``req`` does not match ("path differs", "method, path differ"), or None
        when it matches."""
        checks: list[tuple[str, Callable[[Request], bool]]] = [
            ("method", self._method_ok),
            ("path", self._path_ok),
            ("query", self._query_ok),
            ("headers", self._headers_ok),
            ("body", self._body_ok),
        ]
        failed = [name for name, ok in checks if not ok(req)]
        if not failed:
            return None
        return f"{', '.join(failed)} {'differs' if len(failed) == 1 else 'differ'}"

    def matches(self, req: Request) -> bool:
        """True when ``req`` meets every criterion."""
        return self.mismatch(req) is None

    def _method_ok(self, req: Request) -> bool:
        return self.method is None or self.method == req.method

    def _path_ok(self, req: Request) -> bool:
        return self.path is None or _text_matches(self.path, req.path)

    def _query_ok(self, req: Request) -> bool:
        if self.query is None:
            return True
        if isinstance(self.query, str):
            return self.query == req.query_string
        if isinstance(self.query, Mapping):
            return _normal_query(self.query) == parse_qs(req.query_string, True)
        return bool(self.query(req.query))

    def _headers_ok(self, req: Request) -> bool:
        return all(
            any(_text_matches(want, got) for got in req.headers.getall(name, []))
            for name, want in self.headers.items()
        )

    def _body_ok(self, req: Request) -> bool:
        if self.json is not ANY_JSON:
            try:
                return bool(_json.loads(req.body) == self.json)
            except ValueError:
                return False
        if self.body is None:
            return True
        if isinstance(self.body, bytes):
            return self.body == req.body
        return bool(self.body(req.body))

    def __str__(self) -> str:
        path = self.path if isinstance(self.path, str) else _show(self.path)
        parts = [self.method or "*", "*" if self.path is None else path]
        if self.query is not None:
            parts.append(f"query={_show(self.query)}")
        if self.headers:
            shown = ", ".join(f"{k}: {_show(v)}" for k, v in self.headers.items())
            parts.append(f"headers={{{shown}}}")
        if self.json is not ANY_JSON:
            parts.append(f"json={self.json!r}")
        elif self.body is not None:
            parts.append(f"body={_show(self.body)}")
        return " ".join(parts)
