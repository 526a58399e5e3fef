"""Header field syntax (RFC 9110 5.1, 5.5, 5.6.2; RFC 9112 5, 2.2)."""

from __future__ import annotations

from .cases import Case, Expect, ok, raw, reject, req

HDRS = [["Host", "x"]]

CASES = [
    Case(
        "value-obs-text-kept",
        "RFC 9110 5.5 (obs-text)",
        req("/", "X: caf\xe9"),
        ok(headers=[*HDRS, ["X", "caf\xe9"]]),
    ),
    Case(
        "value-inner-htab-kept",
        "RFC 9110 5.5",
        req("/", "X: a\tb"),
        ok(headers=[*HDRS, ["X", "a\tb"]]),
    ),
    Case(
        "value-ows-trimmed-both-sides",
        "RFC 9112 5.1",
        req("/", "X: \t v \t"),
        ok(headers=[*HDRS, ["X", "v"]]),
    ),
    Case("value-empty", "RFC 9110 5.5", req("/", "X:"), ok(headers=[*HDRS, ["X", ""]])),
    Case(
        "name-every-tchar",
        "RFC 9110 5.6.2",
        req("/", "!#$%&'*+-.^_`|~09azAZ: v"),
        ok(headers=[*HDRS, ["!#$%&'*+-.^_`|~09azAZ", "v"]]),
    ),
    Case(
        "repeated-field-kept-in-order",
        "RFC 9110 5.3",
        req("/", "A: 1", "a: 2", "A: 3"),
        ok(headers=[*HDRS, ["A", "1"], ["a", "2"], ["A", "3"]]),
    ),
    Case(
        "value-with-colons",
        "RFC 9110 5.5",
        req("/", "X: a:b::c"),
        ok(headers=[*HDRS, ["X", "a:b::c"]]),
    ),
    Case("name-with-paren", "RFC 9110 5.6.2", req("/", "X(Y): z"), reject(400)),
    Case("name-with-slash", "RFC 9110 5.6.2", req("/", "X/Y: z"), reject(400)),
    Case("name-with-del", "RFC 9110 5.6.2", req("/", "X\x7f: z"), reject(400)),
    Case("name-with-vt", "RFC 9110 5.6.2", req("/", "X\x0bY: z"), reject(400)),
    Case("name-double-colon", "RFC 9110 5.6.2", req("/", "::"), reject(400)),
    Case("tab-before-colon", "RFC 9112 5.1 (MUST 400)", req("/", "X\t: y"), reject(400)),
    Case(
        "space-before-colon-host",
        "RFC 9112 5.1 (MUST 400)",
        req("/", "Host : x", host=False),
        reject(400),
    ),
    Case(
        "space-before-colon-connection",
        "RFC 9112 5.1 (MUST 400)",
        req("/", "Connection : close"),
        reject(400),
    ),
    Case(
        "value-nul-at-end",
        "RFC 9110 5.5 (MUST reject or replace NUL)",
        req("/", "X: a\0"),
        reject(400),
    ),
    Case("value-escape-control", "RFC 9110 5.5", req("/", "X: a\x1bb"), reject(400)),
    Case("value-backspace", "RFC 9110 5.5", req("/", "X: \x08"), reject(400)),
    Case(
        "value-bare-cr-before-crlf",
        "RFC 9112 2.2 (bare CR: MUST reject)",
        req("/", "X: a\r"),
        reject(400),
    ),
    Case(
        "value-lf-inside",
        "RFC 9112 2.2",
        raw("GET / HTTP/1.1\r\nHost: x\r\nX: a\nb\r\n\r\n"),
        reject(400),
    ),
    Case(
        "obs-fold-space",
        "RFC 9112 5.2 (server: 400 or unfold)",
        req("/", "X: a", " b"),
        reject(400),
    ),
    Case(
        "obs-fold-tab-on-connection",
        "RFC 9112 5.2",
        req("/", "Connection:", "\tclose"),
        reject(400),
    ),
    Case("whitespace-only-line", "RFC 9112 5.2", req("/", "X: a", " "), reject(400)),
    Case(
        "leading-space-on-first-field",
        "RFC 9112 2.2 (reject or consume)",
        raw("GET / HTTP/1.1\r\n Host: x\r\n\r\n"),
        reject(400),
    ),
    Case("no-colon", "RFC 9112 5", req("/", "Just-A-Name"), reject(400)),
    Case("no-colon-with-tab", "RFC 9112 5", req("/", "Name\tvalue"), reject(400)),
    Case("expect-unknown-417", "RFC 9110 10.1.1 (417)", req("/", "Expect: 200-ok"), reject(417)),
    Case(
        "expect-100-continue-then-body",
        "RFC 9110 10.1.1",
        req("/", "Expect: 100-continue", "Content-Length: 2", method="POST", body=b"hi"),
        ok(body="hi"),
    ),
    Case(
        "connection-close-mixed-case",
        "RFC 9110 7.6.1 (case-insensitive options)",
        req("/", "Connection: keep-alive, CLOSE"),
        Expect(200, close=True, dispatched=True),
    ),
]
