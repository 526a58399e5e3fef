"""URL decoding and path mapping of static files (RFC 3986 2.1, 2.4, 3.3, 5.2.4; RFC 3629
section 3 and 10 on overlong UTF-8). The folder is site.make_tree's: served files answer
their content, nothing outside the root is ever served (never a 200 with "outside"), and
a request target that cannot be decoded is 400 (then close)."""

from __future__ import annotations

from .cases import Case, Expect, answered, req

NOT_FOUND = answered(404)
BAD = Expect(400, close=True, dispatched=True)


def get(target: str) -> bytes:
    return req(target)


def ranged(spec: str) -> bytes:
    """GET of the 5-byte static/index.txt with Range: `spec`. Invalid or unsatisfiable
    ranges are 416 (RFC 9110 14.2, 15.5.17); mgio answers each from the file size, and a
    number past 64 bits must never wrap around."""
    return req("/static/index.txt", f"Range: {spec}")


CASES = [
    Case("file", "RFC 3986 3.3", get("/static/index.txt"), answered(200, body=b"index")),
    Case(
        "dot-segment-inside",
        "RFC 3986 5.2.4",
        get("/static/a/../index.txt"),
        answered(200, body=b"index"),
    ),
    Case(
        "encoded-unreserved-letters",
        "RFC 3986 2.3 (equivalent)",
        get("/static/%69ndex.txt"),
        answered(200, body=b"index"),
    ),
    Case(
        "dot-dot-escapes",
        "RFC 3986 5.2.4 (no escape from the root)",
        get("/static/../../outside.txt"),
        NOT_FOUND,
    ),
    Case("encoded-dots", "RFC 3986 2.4", get("/static/%2e%2e/%2e%2e/outside.txt"), NOT_FOUND),
    Case(
        "mixed-case-encoded-dots", "RFC 3986 2.1", get("/static/.%2E/%2e./outside.txt"), NOT_FOUND
    ),
    Case("encoded-slash-and-dots", "RFC 3986 2.2", get("/static/..%2f..%2foutside.txt"), NOT_FOUND),
    Case("encoded-backslash", "RFC 3986 2.1", get("/static/..%5c..%5coutside.txt"), NOT_FOUND),
    Case(
        "raw-backslash-is-no-separator",
        "RFC 3986 3.3 (only / separates segments)",
        get("/static/..\\..\\outside.txt"),
        NOT_FOUND,
    ),
    Case(
        "double-encoded-dots",
        "RFC 3986 2.4 (decode once)",
        get("/static/%252e%252e/%252e%252e/outside.txt"),
        NOT_FOUND,
    ),
    Case(
        "overlong-utf8-dot",
        "RFC 3629 3, 10 (overlong forms are invalid)",
        get("/static/%c0%ae%c0%ae/%c0%ae%c0%ae/outside.txt"),
        NOT_FOUND,
    ),
    Case(
        "overlong-utf8-slash", "RFC 3629 10", get("/static/..%c0%af..%c0%afoutside.txt"), NOT_FOUND
    ),
    Case(
        "overlong-3-byte-dot",
        "RFC 3629 10",
        get("/static/%e0%80%ae%e0%80%ae/outside.txt"),
        NOT_FOUND,
    ),
    Case(
        "encoded-nul",
        "RFC 3986 2.1 (NUL is no path byte)",
        get("/static/index.txt%00.png"),
        NOT_FOUND,
    ),
    Case("encoded-nul-alone", "RFC 3986 2.1", get("/static/%00"), NOT_FOUND),
    Case(
        "bad-escape-zz",
        "RFC 3986 2.1 (pct-encoded = % HEXDIG HEXDIG)",
        get("/static/%zzindex.txt"),
        BAD,
    ),
    Case("truncated-escape", "RFC 3986 2.1", get("/static/index.txt%2"), BAD),
    Case("lone-percent", "RFC 3986 2.1", get("/static/%"), BAD),
    Case(
        "dot-dot-at-root",
        "RFC 3986 5.2.4 (remove_dot_segments stops at the root)",
        get("/static/../../../../../../etc/passwd"),
        NOT_FOUND,
    ),
    Case(
        "query-does-not-map",
        "RFC 3986 3.4",
        get("/static/index.txt?../../outside.txt"),
        answered(200, body=b"index"),
    ),
    Case(
        "raw-obs-text-target",
        "RFC 3986 2 (kept raw by the parser)",
        get("/static/caf\xe9"),
        NOT_FOUND,
    ),
    Case("target-without-leading-slash", "RFC 9112 3.2.1", get("static/index.txt"), BAD),
    Case(
        "range-start-2pow64-plus-1",
        "RFC 9110 14.1.1, 14.2 (no wrap to 1)",
        ranged("bytes=18446744073709551617-"),
        answered(416, body=b""),
    ),
    Case(
        "range-last-2pow64",
        "RFC 9110 14.1.1 (last-pos past the end: to the end)",
        ranged("bytes=0-18446744073709551616"),
        answered(206, body=b"index"),
    ),
    Case(
        "range-suffix-2pow64-plus-1",
        "RFC 9110 14.1.1 (suffix longer than the file)",
        ranged("bytes=-18446744073709551617"),
        answered(206, body=b"index"),
    ),
    Case(
        "range-int64-max-start",
        "RFC 9110 14.1.1",
        ranged("bytes=9223372036854775807-"),
        answered(416, body=b""),
    ),
    Case(
        "range-signed-start",
        "RFC 9110 14.1.1 (1*DIGIT)",
        ranged("bytes=+1-2"),
        answered(416, body=b""),
    ),
    Case("range-hex", "RFC 9110 14.1.1", ranged("bytes=0x1-2"), answered(416, body=b"")),
    Case("range-three-parts", "RFC 9110 14.1.1", ranged("bytes=1-2-3"), answered(416, body=b"")),
    Case(
        "range-ows-after-equals",
        "RFC 9110 5.6.1 (list OWS)",
        ranged("bytes= 1-2"),
        answered(206, body=b"nd"),
    ),
    Case(
        "absolute-form-file",
        "RFC 9112 3.2.2 (a server MUST accept absolute-form)",
        get("http://x/static/index.txt"),
        answered(200, body=b"index"),
    ),
    Case(
        "absolute-form-dot-dot",
        "RFC 9112 3.2.2, RFC 3986 5.2.4",
        get("http://x/static/../../outside.txt"),
        NOT_FOUND,
    ),
    Case(
        "double-slash",
        "RFC 3986 3.3 (empty segment)",
        get("//static//index.txt"),
        answered(200, body=b"index"),
    ),
    Case(
        "trailing-dot-name", "RFC 3986 3.3 (no name tricks)", get("/static/index.txt."), NOT_FOUND
    ),
    Case("file-as-folder", "RFC 3986 3.3", get("/static/index.txt/"), NOT_FOUND),
    Case("missing-file", "RFC 9110 15.5.5", get("/static/nope.txt"), NOT_FOUND),
]
