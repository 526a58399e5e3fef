"""Basic (RFC 7617) and Digest (RFC 7616, MD5 with qop=auth) credentials from a client.

Basic: GET /basic, whose handler answers the JSON of ``HttpMessage.basic_auth()`` (the C
``mg_get_http_basic_auth``): the (user, password) pair, or null for a malformed field.

Digest: GET /digest/secret.txt, a static file guarded by the C Digest check. A case is a
change to a good Authorization field, made at run time from a fresh nonce (a 401
challenge first): parameters replaced, removed or added, or the whole field rewritten.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from .cases import Case, Expect, req
from .site import PASSWORD, REALM, USER

# ---- Basic --------------------------------------------------------------------------------


def b64(s: bytes) -> str:
    return base64.b64encode(s).decode()


def basic(value: str, want: object) -> tuple[bytes, Expect]:
    body = json.dumps(want).encode()
    return req("/basic", f"Authorization: {value}"), Expect(200, False, True, body=body)


def basic_case(name: str, rfc: str, value: str, want: object) -> Case:
    data, expect = basic(value, want)
    return Case(name, rfc, data, expect)


GOOD = b64(b"joe:pw")
NOT_UTF8 = b64(b"j\xffe:pw")

BASIC = [
    basic_case("basic-good", "RFC 7617 2", f"Basic {GOOD}", [USER, PASSWORD]),
    basic_case(
        "basic-scheme-any-case",
        "RFC 9110 11.1 (case-insensitive)",
        f"bAsIc {GOOD}",
        [USER, PASSWORD],
    ),
    basic_case(
        "basic-password-with-colons",
        "RFC 7617 2 (user-id has no colon)",
        f"Basic {b64(b'joe:p:w:')}",
        ["joe", "p:w:"],
    ),
    basic_case("basic-empty-password", "RFC 7617 2", f"Basic {b64(b'joe:')}", ["joe", ""]),
    basic_case(
        "basic-utf8", "RFC 7617 2.1 (charset UTF-8)", f"Basic {b64('jö:pä'.encode())}", ["jö", "pä"]
    ),
    basic_case(
        "basic-huge-user",
        "RFC 7617 2 (no length bound; field line <= 8 KiB)",
        f"Basic {b64(b'u' * 5000 + b':pw')}",
        ["u" * 5000, "pw"],
    ),
    basic_case(
        "basic-two-spaces-after-scheme", "RFC 9110 11.4 (1*SP)", f"Basic  {GOOD}", [USER, PASSWORD]
    ),
    basic_case("basic-no-colon", "RFC 7617 2 (MUST have a colon)", f"Basic {b64(b'joepw')}", None),
    basic_case("basic-empty-user", "DESIGN (empty user refused)", f"Basic {b64(b':pw')}", None),
    basic_case("basic-bad-base64-char", "RFC 4648 4", "Basic am9l*nB3", None),
    basic_case("basic-missing-padding", "RFC 4648 3.2 (strict)", "Basic am9lOnB3Og", None),
    basic_case("basic-padding-inside", "RFC 4648 3.2", "Basic am9l=nB3", None),
    basic_case("basic-extra-padding", "RFC 4648 3.2", f"Basic {GOOD}=", None),
    basic_case("basic-no-credentials", "RFC 7617 2", "Basic", None),
    basic_case("basic-other-scheme", "RFC 9110 11.4", f"Bearer {GOOD}", None),
    basic_case(
        "basic-nul-in-user",
        "RFC 7617 2 (CTLs not allowed)",
        f"Basic {b64(b'jo' + bytes(1) + b'e:pw')}",
        None,
    ),
    basic_case(
        "basic-control-in-password", "RFC 7617 2", f"Basic {b64(b'joe:p' + bytes([1]))}", None
    ),
    basic_case("basic-not-utf8", "RFC 7617 2.1", f"Basic {NOT_UTF8}", None),
    basic_case("basic-base64-with-space-inside", "RFC 7235 2.1 (token68)", "Basic am9l OnB3", None),
]

# ---- Digest -------------------------------------------------------------------------------

URI = "/digest/secret.txt"  # the C guard (serve_dir); the Python one is PY_URI
PY_URI = "/pydigest/secret.txt"
CNONCE, NC = "0a4f113b", "00000001"


def md5(s: str) -> str:
    return hashlib.md5(s.encode()).hexdigest()


def good_params(nonce: str, uri: str = URI) -> list[tuple[str, str, bool]]:
    """The parameters of a right answer for `uri`, as (name, value, quoted)."""
    ha1, ha2 = md5(f"{USER}:{REALM}:{PASSWORD}"), md5(f"GET:{uri}")
    response = md5(f"{ha1}:{nonce}:{NC}:{CNONCE}:auth:{ha2}")
    return [
        ("username", USER, True),
        ("realm", REALM, True),
        ("nonce", nonce, True),
        ("uri", uri, True),
        ("qop", "auth", False),
        ("nc", NC, False),
        ("cnonce", CNONCE, True),
        ("response", response, True),
        ("algorithm", "MD5", False),
    ]


def render(params: list[tuple[str, str, bool]], scheme: str = "Digest") -> str:
    items = (f'{n}="{v}"' if q else f"{n}={v}" for n, v, q in params)
    return f"{scheme} " + ", ".join(items)


@dataclass(frozen=True)
class DigestCase:
    """`change` maps the good parameters to the sent ones; `field` then rewrites the
    whole field value; `status` is the answer (200 with the file, else 401)."""

    name: str
    rfc: str
    status: int
    py_status: int | None = None  # the Python guard's answer, when it differs
    change: Callable[[list[tuple[str, str, bool]]], list[tuple[str, str, bool]]] = lambda p: p
    rewrite: Callable[[str], str] = field(default=lambda v: v)

    def request(self, nonce: str, uri: str = URI) -> bytes:
        value = self.rewrite(render(self.change(good_params(nonce, uri))))
        return req(uri, f"Authorization: {value}")


Params = list[tuple[str, str, bool]]


def without(name: str) -> Callable[[Params], Params]:
    return lambda ps: [p for p in ps if p[0] != name]


def setting(name: str, value: str, quoted: bool = True) -> Callable[[Params], Params]:
    return lambda ps: [(n, value, quoted) if n == name else (n, v, q) for n, v, q in ps]


def adding(name: str, value: str, quoted: bool = True) -> Callable[[Params], Params]:
    return lambda ps: [*ps, (name, value, quoted)]


DIGEST = [
    DigestCase("digest-good", "RFC 7616 3.4", 200),
    DigestCase("digest-scheme-lowercase", "RFC 9110 11.1", 200, rewrite=lambda v: "digest" + v[6:]),
    DigestCase(
        "digest-param-names-uppercase",
        "RFC 9110 11.2 (case-insensitive names)",
        200,
        rewrite=lambda v: v.replace("username=", "USERNAME="),
    ),
    DigestCase("digest-unknown-param-ignored", "RFC 7616 3.4", 200, change=adding("x-extra", "1")),
    DigestCase(
        "digest-quoted-pair-in-username",
        "RFC 9110 5.6.4 (quoted-pair)",
        200,
        rewrite=lambda v: v.replace('username="joe"', 'username="j\\oe"'),
    ),
    DigestCase(
        "digest-qop-nc-algorithm-quoted",
        "RFC 9110 11.2 (token / quoted-string)",
        200,
        rewrite=lambda v: (
            v.replace("qop=auth", 'qop="auth"')
            .replace("nc=00000001", 'nc="00000001"')
            .replace("algorithm=MD5", 'algorithm="MD5"')
        ),
    ),
    DigestCase(
        "digest-empty-list-elements",
        "RFC 9110 5.6.1 (MUST accept empty elements)",
        200,
        rewrite=lambda v: v.replace("Digest ", "Digest ,, ").replace(", cnonce", ",, cnonce") + ",",
    ),
    DigestCase(
        "digest-uppercase-hex-response",
        "RFC 7616 3.4.1 (hex digits)",
        200,
        rewrite=lambda v: re.sub(r'response="(\w+)"', lambda m: f'response="{m[1].upper()}"', v),
    ),
    DigestCase(
        "digest-username-case-matters",
        "RFC 7616 3.4.4 (the username as given)",
        401,
        change=setting("username", "JOE"),
    ),
    DigestCase(
        "digest-realm-case-matters",
        "RFC 7616 3.3 (realm compared exactly)",
        401,
        change=setting("realm", "HOSTILE"),
    ),
    DigestCase(
        "digest-uri-with-extra-query",
        "RFC 7616 3.4.6 (uri MUST match the target)",
        401,
        change=lambda ps: [(n, v + "?x" if n == "uri" else v, q) for n, v, q in ps],
    ),
    DigestCase(
        "digest-bws-around-equals",
        "RFC 9110 11.2 (BWS)",
        200,
        rewrite=lambda v: v.replace("qop=auth", "qop = auth"),
    ),
    *(
        DigestCase(f"digest-missing-{n}", "RFC 7616 3.4 (required)", 401, change=without(n))
        for n in ("username", "realm", "nonce", "uri", "response", "qop", "nc", "cnonce")
    ),
    DigestCase(
        "digest-username-twice",
        "RFC 9110 11.2 (each name once)",
        401,
        change=adding("username", USER),
    ),
    DigestCase(
        "digest-response-twice",
        "RFC 9110 11.2",
        401,
        change=lambda ps: [*ps, next(p for p in ps if p[0] == "response")],
    ),
    DigestCase(
        "digest-wrong-response", "RFC 7616 3.4.1", 401, change=setting("response", "0" * 32)
    ),
    DigestCase(
        "digest-response-too-long",
        "RFC 7616 3.4 (32 hex digits for MD5)",
        401,
        rewrite=lambda v: v.replace('response="', 'response="00'),
    ),
    DigestCase(
        "digest-huge-username",
        "RFC 7616 3.4 (bounded)",
        401,
        change=setting("username", "u" * 4000),
    ),
    DigestCase(
        "digest-huge-cnonce", "RFC 7616 3.4 (bounded)", 401, change=setting("cnonce", "c" * 5000)
    ),
    DigestCase("digest-forged-nonce", "RFC 7616 3.3", 401, change=setting("nonce", "0" * 64)),
    DigestCase("digest-wrong-realm", "RFC 7616 3.4", 401, change=setting("realm", "other")),
    DigestCase(
        "digest-uri-mismatch", "RFC 7616 3.4.6", 401, change=setting("uri", "/digest/other.txt")
    ),
    DigestCase(
        "digest-nc-not-8-digits", "RFC 7616 3.4 (8LHEX)", 401, change=setting("nc", "1", False)
    ),
    DigestCase(
        "digest-qop-auth-int",
        "RFC 7616 3.4 (auth only here)",
        401,
        change=setting("qop", "auth-int", False),
    ),
    DigestCase(
        "digest-algorithm-sha256",
        "RFC 7616 3.4 (htdigest is MD5)",
        401,
        change=setting("algorithm", "SHA-256", False),
    ),
    DigestCase(
        "digest-unterminated-quote",
        "RFC 9110 5.6.4",
        401,
        rewrite=lambda v: v.rstrip() + ', opaque="abc',
    ),
    DigestCase("digest-no-equals", "RFC 9110 11.2", 401, rewrite=lambda v: v + ", lonely"),
    DigestCase("digest-empty", "RFC 7616 3.4", 401, rewrite=lambda v: "Digest"),
    DigestCase("digest-basic-scheme", "RFC 9110 11.4", 401, rewrite=lambda v: f"Basic {GOOD}"),
]
