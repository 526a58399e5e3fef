"""Hostile 401 challenges to ``mgio.request(..., auth=(user, password))`` (RFC 9110 11.3,
11.6.1; RFC 7616 3.3; RFC 7617 2).

A case is the WWW-Authenticate value a server answers 401 with, and what the client does:
ANSWERED, it repeats the request once with an Authorization field (the server then says
200); IGNORED, it gives up and the 401 is the result, with no credentials sent for a
challenge it cannot meet; MALFORMED, the response itself breaks the HTTP limits or
syntax (a control byte, a field line over 8 KiB), so the client raises ConnectionError.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Challenge:
    name: str
    rfc: str
    value: str
    outcome: str


ANSWERED, IGNORED, MALFORMED = "answered", "ignored", "malformed"


def answers(name: str, rfc: str, value: str) -> Challenge:
    return Challenge(name, rfc, value, ANSWERED)


def ignores(name: str, rfc: str, value: str) -> Challenge:
    return Challenge(name, rfc, value, IGNORED)


def malformed(name: str, rfc: str, value: str) -> Challenge:
    return Challenge(name, rfc, value, MALFORMED)


D = 'Digest realm="r", qop="auth", nonce="abc"'

CASES = [
    answers("digest-md5", "RFC 7616 3.3", D + ", algorithm=MD5"),
    answers("digest-sha256", "RFC 7616 3.3", D + ", algorithm=SHA-256"),
    answers(
        "digest-token-values",
        "RFC 9110 11.2 (token / quoted-string)",
        "Digest realm=r, nonce=abc, qop=auth",
    ),
    answers(
        "digest-qop-list-with-auth",
        "RFC 7616 3.3 (qop options list)",
        'Digest realm="r", qop="auth-int, auth", nonce="abc"',
    ),
    answers("digest-escaped-quote-in-nonce", "RFC 9110 5.6.4", D.replace("abc", 'a\\"b')),
    answers("basic", "RFC 7617 2", 'Basic realm="r"'),
    answers(
        "basic-after-unknown-scheme",
        "RFC 9110 11.6.1 (several challenges)",
        'Newauth realm="x", Basic realm="r"',
    ),
    ignores("digest-no-nonce", "RFC 7616 3.3 (nonce required)", 'Digest realm="r", qop="auth"'),
    ignores(
        "digest-only-auth-int",
        "RFC 7616 3.3 (auth-int not supported)",
        'Digest realm="r", qop="auth-int", nonce="abc"',
    ),
    ignores("digest-unknown-algorithm", "RFC 7616 3.3", D + ", algorithm=SHA-512-256"),
    ignores("digest-md5-sess", "RFC 7616 3.3 (-sess not supported)", D + ", algorithm=MD5-sess"),
    ignores("digest-long-nonce", "RFC 7616 3.3 (bounded: 128)", D.replace("abc", "n" * 4000)),
    malformed(
        "digest-huge-nonce", "DESIGN limits (field line 8 KiB)", D.replace("abc", "n" * 10000)
    ),
    ignores(
        "digest-realm-twice",
        "RFC 9110 11.2 (each parameter once)",
        'Digest realm="r", realm="s", qop="auth", nonce="abc"',
    ),
    ignores(
        "digest-unterminated-quote", "RFC 9110 5.6.4", 'Digest realm="r, qop="auth", nonce="abc'
    ),
    ignores("digest-bare-scheme", "RFC 7616 3.3", "Digest"),
    malformed(
        "digest-control-in-realm",
        "RFC 9110 5.6.4 (qdtext)",
        'Digest realm="r\x01", qop="auth", nonce="abc"',
    ),
    ignores("unknown-scheme-only", "RFC 9110 11.6.1", 'Newauth realm="x"'),
]
