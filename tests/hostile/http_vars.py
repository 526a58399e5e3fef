"""URL decoding of form variables (RFC 3986 2.1; the application/x-www-form-urlencoded
rules of the HTML living standard: '+' is a space): GET /var?... and POST /var answer the
JSON of ``msg.var("a")`` (the C mg_get_http_var), null when absent or malformed. Decoded
bytes that are not UTF-8 come out as U+FFFD (the Python API decodes with "replace")."""

from __future__ import annotations

import json

from .cases import Case, answered, post, req


def var(query: str, value: object, rfc: str = "RFC 3986 2.1") -> tuple[str, bytes, object]:
    return query, req("/var?" + query), value


def case(name: str, rfc: str, data: bytes, value: object) -> Case:
    return Case(name, rfc, data, answered(200, body=json.dumps(value).encode()))


def query(name: str, rfc: str, q: str, value: object) -> Case:
    return case(name, rfc, req("/var?" + q), value)


BIG = "%41" * 3000

CASES = [
    query("var-escaped-space", "RFC 3986 2.1", "a=hello%20world", "hello world"),
    query("var-plus-is-space", "form-urlencoded", "a=x+y", "x y"),
    query("var-utf8", "RFC 3986 2.5", "a=%E2%82%AC", "\u20ac"),
    query("var-decoded-once", "RFC 3986 2.4", "a=%2525", "%25"),
    query("var-empty-value", "RFC 3986 3.4", "a=", ""),
    query("var-first-of-two", "form-urlencoded", "a=1&a=2", "1"),
    query("var-name-is-exact", "form-urlencoded", "aa=1&a=2", "2"),
    query("var-empty-pairs", "form-urlencoded", "&&a=3&&", "3"),
    query("var-no-equals", "form-urlencoded", "a", None),
    query("var-value-holding-equals", "form-urlencoded", "b=a=1", None),
    query("var-bad-escape", "RFC 3986 2.1 (% HEXDIG HEXDIG)", "a=%zz", None),
    query("var-lone-percent", "RFC 3986 2.1", "a=%", None),
    query("var-truncated-escape", "RFC 3986 2.1", "a=%4", None),
    query("var-escaped-nul", "RFC 3986 2.1 (data, kept)", "a=%00b", "\x00b"),
    query("var-overlong-utf8", "RFC 3629 3 (invalid: replaced)", "a=%c0%ae", "\ufffd\ufffd"),
    query("var-truncated-utf8", "RFC 3629 3", "a=%e2%82", "\ufffd"),
    case(
        "var-form-body-bad-escape",
        "RFC 3986 2.1",
        post(b"a=%zz", "Content-Length: 5", target="/var"),
        None,
    ),
    case(
        "var-form-body-9000-bytes",
        "RFC 3986 2.1",
        post(("a=" + BIG).encode(), f"Content-Length: {2 + len(BIG)}", target="/var"),
        "A" * 3000,
    ),
    case(
        "var-body-not-a-form",
        "form-urlencoded (by Content-Type)",
        post(b"a=1", "Content-Length: 3", "Content-Type: text/plain", target="/var"),
        None,
    ),
]
