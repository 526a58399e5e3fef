"""Request lines (RFC 9112 section 3, RFC 9110 sections 2.5 and 9) and Host (RFC 9112 3.2)."""

from __future__ import annotations

from .cases import Case, ok, ok_close, raw, reject, req

CASES = [
    Case("asterisk-form-options", "RFC 9112 3.2.4", req("*", method="OPTIONS"), ok(uri="*")),
    Case(
        "authority-form-connect",
        "RFC 9112 3.2.3",
        req("x:443", method="CONNECT"),
        ok(method="CONNECT"),
    ),
    Case("absolute-form", "RFC 9112 3.2.2", req("http://x/abs?q=1"), ok(method="GET")),
    Case(
        "method-lowercase-is-a-token",
        "RFC 9110 9.1 (case-sensitive)",
        req(method="get"),
        ok(method="get"),
    ),
    Case(
        "method-extension-token",
        "RFC 9110 9.1, 5.6.2",
        req(method="M-SEARCH!#$%&'*+.^_`|~"),
        ok(method="M-SEARCH!#$%&'*+.^_`|~"),
    ),
    Case("method-1000-chars", "RFC 9110 9.1", req(method="X" * 1000), ok(method="X" * 1000)),
    Case("one-leading-crlf-ignored", "RFC 9112 2.2", b"\r\n" + req(), ok(uri="/")),
    Case("higher-minor-version", "RFC 9110 2.5", req(version="HTTP/1.7"), ok()),
    Case(
        "http10-without-host",
        "RFC 9112 3.2",
        req(version="HTTP/1.0", host=False),
        ok_close(proto="HTTP/1.0"),
    ),
    Case(
        "http10-keep-alive-stays-open",
        "RFC 9112 9.3",
        req("/", "Connection: keep-alive", version="HTTP/1.0"),
        ok(proto="HTTP/1.0"),
    ),
    Case(
        "query-with-slashes-and-qmarks",
        "RFC 3986 3.4",
        req("/p?a=/b?c"),
        ok(uri="/p", query="a=/b?c"),
    ),
    Case(
        "method-with-paren",
        "RFC 9110 5.6.2 (token)",
        raw("GE(T / HTTP/1.1\r\nHost: x\r\n\r\n"),
        reject(400),
    ),
    Case(
        "method-with-nul", "RFC 9110 5.6.2", raw("G\0T / HTTP/1.1\r\nHost: x\r\n\r\n"), reject(400)
    ),
    Case(
        "method-obs-text",
        "RFC 9110 5.6.2",
        raw("G\xc9T / HTTP/1.1\r\nHost: x\r\n\r\n"),
        reject(400),
    ),
    Case("empty-method", "RFC 9112 3", raw(" / HTTP/1.1\r\nHost: x\r\n\r\n"), reject(400)),
    # RFC 9112 3.2 says SHOULD (not MUST) 400 for an invalid request-target; mgio keeps the
    # target raw and takes any byte but controls and SP (csrc/proto/http_parse.c,
    # C_TARGET), leaving the path to the application (see http_paths for what
    # serve_dir makes of such targets).
    Case(
        "target-obs-text-kept-raw",
        "RFC 9112 3.2 (SHOULD 400; mgio: lenient)",
        req("/caf\xe9"),
        ok(uri="/caf\udce9"),
    ),
    Case(
        "target-fragment-kept-raw",
        "RFC 9112 3.2.1 (SHOULD 400; mgio: lenient)",
        req("/a#b"),
        ok(uri="/a#b"),
    ),
    Case(
        "target-quote-and-angle-kept-raw",
        "RFC 3986 2 (SHOULD 400; mgio: lenient)",
        req('/a"<b>'),
        ok(uri='/a"<b>'),
    ),
    Case(
        "target-not-a-path-kept-raw",
        "RFC 9112 3.2 (SHOULD 400; mgio: lenient)",
        req("index.html"),
        ok(uri="index.html"),
    ),
    Case("target-del", "RFC 9112 3.2, RFC 3986 2", req("/a\x7fb"), reject(400)),
    Case("target-control-esc", "RFC 9112 3.2", req("/a\x1bb"), reject(400)),
    Case("target-vertical-tab", "RFC 9112 3.2", req("/a\x0bb"), reject(400)),
    Case("extra-token-after-version", "RFC 9112 3", req(version="HTTP/1.1 extra"), reject(400)),
    Case(
        "version-with-cr-inside",
        "RFC 9112 2.3",
        raw("GET / HTTP/1\r.1\r\nHost: x\r\n\r\n"),
        reject(400),
    ),
    Case(
        "version-leading-zero-major",
        "RFC 9112 2.3 (DIGIT.DIGIT)",
        req(version="HTTP/01.1"),
        reject(400),
    ),
    Case("version-http-1-dot", "RFC 9112 2.3", req(version="HTTP/1."), reject(400)),
    Case(
        "h2-preface",
        "RFC 9113 3.4, RFC 9110 6.2 (505)",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        reject(505),
    ),
    Case("version-http-2-no-minor", "RFC 9110 15.6.6", req(version="HTTP/2"), reject(400)),
    Case("version-http-4-0", "RFC 9110 15.6.6", req(version="HTTP/4.0"), reject(505)),
    Case(
        "empty-lines-then-lf-only-head", "RFC 9112 2.2", b"\r\n\r\nGET / HTTP/1.1\n\n", reject(400)
    ),
    Case(
        "lf-only-head-in-two-writes",
        "RFC 9112 2.2",
        b"GET / HTTP/1.1\nHost: x\n\n",
        reject(400),
        splits=(14,),
    ),
    Case(
        "lf-only-head-after-long-line",
        "RFC 9112 2.2",
        b"GET /" + b"a" * 100 + b" HTTP/1.1\r\nHost: x\r\nX: y\n\n",
        reject(400),
        splits=(64,),
    ),
    Case("host-twice", "RFC 9112 3.2 (MUST 400)", req("/", "Host: y"), reject(400)),
    Case("host-twice-same-value", "RFC 9112 3.2 (MUST 400)", req("/", "Host: x"), reject(400)),
    Case(
        "host-missing-http11",
        "RFC 9112 3.2 (MUST 400)",
        req(host=False, version="HTTP/1.1"),
        reject(400),
    ),
    Case(
        "host-with-space",
        "RFC 9112 3.2 (invalid value: MUST 400), RFC 3986 3.2.2",
        req("/", "Host: a b", host=False),
        reject(400),
    ),
    Case(
        "host-with-slash",
        "RFC 9112 3.2, RFC 3986 3.2.2",
        req("/", "Host: a/b", host=False),
        reject(400),
    ),
    Case(
        "host-with-userinfo",
        "RFC 9112 3.2, RFC 9110 4.2.4 (no userinfo in http URIs)",
        req("/", "Host: u@x", host=False),
        reject(400),
    ),
    Case(
        "host-list", "RFC 9112 3.2 (one uri-host)", req("/", "Host: a, b", host=False), reject(400)
    ),
    Case(
        "host-port-not-digits",
        "RFC 9112 3.2 (MUST 400), RFC 3986 3.2.3 (port = *DIGIT)",
        req("/", "Host: x:8a", host=False),
        reject(400),
    ),
    Case(
        "host-ipv6-unclosed",
        "RFC 9112 3.2 (MUST 400), RFC 3986 3.2.2 (IP-literal)",
        req("/", "Host: [::1", host=False),
        reject(400),
    ),
    Case(
        "host-empty-port",
        "RFC 3986 3.2.3 (port may be empty)",
        req("/", "Host: x:", host=False),
        ok(),
    ),
    Case(
        "host-pct-encoded",
        "RFC 3986 3.2.2 (reg-name has pct-encoded)",
        req("/", "Host: %41", host=False),
        ok(),
    ),
    Case(
        "host-empty-allowed",
        "RFC 9112 3.2 (empty when no authority)",
        req("/", "Host:", host=False),
        ok(),
    ),
    Case("host-with-port", "RFC 9112 3.2", req("/", "Host: x:8080", host=False), ok()),
    Case("host-ipv6-literal", "RFC 3986 3.2.2", req("/", "Host: [::1]:80", host=False), ok()),
]
