"""Known, deliberate disagreements between mgio and h11 on the hostile HTTP request cases:
case name -> (mgio's verdict, h11's verdict, why). Each reason is an RFC rule that allows
both behaviours or requires mgio's, or a DESIGN.md rule; none is a smuggling risk (mgio
is the stricter side on every framing question)."""

from __future__ import annotations

from .reference import ACCEPT, INCOMPLETE, REJECT

LEADING_CRLF = (
    "RFC 9112 2.2: a server SHOULD ignore at least one empty line before the request-line; "
    "mgio does, h11 refuses it"
)
RAW_TARGET = (
    "RFC 9112 3.2: an invalid request-target SHOULD (not MUST) get 400; mgio keeps the target "
    "raw and takes any byte but controls and SP (csrc/proto/http_parse.c C_TARGET), h11 only "
    "VCHAR"
)
MAJOR_VERSION = (
    "RFC 9110 6.2, 15.6.6: a server answers 505 for a major version it does not speak "
    "(an HTTP/2 preface must not be read as HTTP/1.1); h11 parses any DIGIT.DIGIT version"
)
BARE_LF = (
    "RFC 9112 2.2: a recipient MAY take a bare LF as a line end; DESIGN 2 makes mgio strict "
    "(400), h11 is lenient"
)
HOST_VALUE = (
    "RFC 9112 3.2: a server MUST answer 400 to a Host field with an invalid value (RFC 3986 "
    "3.2.2 uri-host [':' port]); h11 does not check the value"
)
CONTROL_IN_VALUE = (
    "RFC 9110 5.5: a field value with a CTL other than HTAB is invalid (a recipient MAY keep "
    "it for robustness); DESIGN 2: control bytes -> 400, h11 keeps them"
)
OBS_FOLD = (
    "RFC 9112 5.2: a server MUST either reject obs-fold with 400 or replace it with SP; mgio "
    "rejects (DESIGN 2), h11 unfolds"
)
EXPECT = (
    "RFC 9110 10.1.1: a server MAY answer 417 to an expectation it cannot meet; h11 leaves "
    "Expect to the application"
)
CL_AND_TE = (
    "RFC 9112 6.1: a server MAY reject a request with both Content-Length and "
    "Transfer-Encoding, and 6.3 says such a message ought to be handled as an error "
    "(smuggling); mgio rejects (DESIGN 2), h11 lets Transfer-Encoding win"
)
TE_HTTP10 = (
    "RFC 9112 6.1: an HTTP/1.0 message with Transfer-Encoding MUST be treated as having "
    "faulty framing; mgio refuses it, h11 reads it as chunked"
)
BIG_NUMBERS = (
    "RFC 9110 8.6 and RFC 9112 7.1: recipients MUST anticipate large numerals and prevent "
    "overflow; mgio refuses lengths it cannot hold (>= 2^63), h11 has unbounded integers and "
    "waits for the announced bytes"
)
CHUNK_EXT_BWS = (
    "RFC 9112 7.1.1: chunk-ext = *( BWS ';' BWS name [ BWS '=' BWS value ] ), whitespace "
    "allowed; h11's chunk-size line pattern does not allow it"
)
CHUNK_EXT_SYNTAX = (
    "RFC 9112 7.1.1 gives chunk extensions a syntax (token, quoted-string) that mgio checks; "
    "h11 skips everything after ';' unchecked"
)
LIMITS = (
    "DESIGN 'Defaults' and csrc/proto/chunked.h (RFC 9112 3, 2.3 and 7.1, RFC 6585 5, RFC "
    "9110 15.5.14 leave limits to the implementation): mgio answers 414/431/413/400 past "
    "its limits; h11 has none for complete heads, bodies and chunk lines"
)

ALLOWED: dict[str, tuple[str, str, str]] = {
    "one-leading-crlf-ignored": (ACCEPT, REJECT, LEADING_CRLF),
    "target-obs-text-kept-raw": (ACCEPT, REJECT, RAW_TARGET),
    "raw-obs-text-target": (ACCEPT, REJECT, RAW_TARGET),
    "h2-preface": (REJECT, ACCEPT, MAJOR_VERSION),
    "version-http-4-0": (REJECT, ACCEPT, MAJOR_VERSION),
    "lf-only-head-in-two-writes": (REJECT, ACCEPT, BARE_LF),
    "lf-only-head-after-long-line": (REJECT, ACCEPT, BARE_LF),
    "trailer-bare-lf-end": (REJECT, ACCEPT, BARE_LF),
    "host-with-space": (REJECT, ACCEPT, HOST_VALUE),
    "host-with-slash": (REJECT, ACCEPT, HOST_VALUE),
    "host-with-userinfo": (REJECT, ACCEPT, HOST_VALUE),
    "host-list": (REJECT, ACCEPT, HOST_VALUE),
    "host-port-not-digits": (REJECT, ACCEPT, HOST_VALUE),
    "host-ipv6-unclosed": (REJECT, ACCEPT, HOST_VALUE),
    "value-escape-control": (REJECT, ACCEPT, CONTROL_IN_VALUE),
    "value-backspace": (REJECT, ACCEPT, CONTROL_IN_VALUE),
    "obs-fold-space": (REJECT, ACCEPT, OBS_FOLD),
    "obs-fold-tab-on-connection": (REJECT, ACCEPT, OBS_FOLD),
    "whitespace-only-line": (REJECT, ACCEPT, OBS_FOLD),
    "trailer-obs-fold": (REJECT, ACCEPT, OBS_FOLD),
    "expect-unknown-417": (REJECT, ACCEPT, EXPECT),
    "cl-then-te": (REJECT, ACCEPT, CL_AND_TE),
    "te-then-cl-smuggle": (REJECT, ACCEPT, CL_AND_TE),
    "te-uppercase-with-cl": (REJECT, ACCEPT, CL_AND_TE),
    "te-on-http10": (REJECT, ACCEPT, TE_HTTP10),
    "cl-2pow64": (REJECT, INCOMPLETE, BIG_NUMBERS),
    "size-overflow-2pow64": (REJECT, INCOMPLETE, BIG_NUMBERS),
    "size-overflow-wraps-to-1": (REJECT, INCOMPLETE, BIG_NUMBERS),
    "size-int64-min": (REJECT, INCOMPLETE, BIG_NUMBERS),
    "chunk-ext-bws": (ACCEPT, REJECT, CHUNK_EXT_BWS),
    "ext-no-name": (REJECT, ACCEPT, CHUNK_EXT_SYNTAX),
    "ext-control-char": (REJECT, ACCEPT, CHUNK_EXT_SYNTAX),
    "ext-unterminated-quote": (REJECT, ACCEPT, CHUNK_EXT_SYNTAX),
    "ext-nul-in-quoted": (REJECT, ACCEPT, CHUNK_EXT_SYNTAX),
    "request-line-8193": (REJECT, ACCEPT, LIMITS),
    "field-line-8193": (REJECT, ACCEPT, LIMITS),
    "header-section-32769": (REJECT, ACCEPT, LIMITS),
    "fields-101": (REJECT, ACCEPT, LIMITS),
    "cl-body-1mib-plus-1": (REJECT, ACCEPT, LIMITS),
    "cl-announces-1tib": (REJECT, INCOMPLETE, LIMITS),
    "chunked-body-1mib-plus-1": (REJECT, ACCEPT, LIMITS),
    "expect-100-with-oversize-cl": (REJECT, INCOMPLETE, LIMITS),
    "size-17-digits": (REJECT, ACCEPT, LIMITS),
    "ext-4097-bytes": (REJECT, ACCEPT, LIMITS),
    "trailers-101": (REJECT, ACCEPT, LIMITS),
    "trailer-section-8193": (REJECT, ACCEPT, LIMITS),
}
