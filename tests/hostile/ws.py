"""WebSocket after the handshake (RFC 6455 5, 7.4, 8.1): framing, UTF-8, closing.

A case is the frames a client sends after a good opening handshake and what the echo
server answers: the echoed messages (opcode, payload) and Pongs it sends first, then its
Close code (the connection ends), or ``None`` when the connection stays open (the runner
then closes it cleanly). ``NO_CODE`` is a Close with an empty body.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

KEY = b"\x11\x22\x33\x44"  # a fixed mask, so the cases are the same bytes every run
OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
RSV1, RSV2, RSV3 = 0x40, 0x20, 0x10
NO_CODE = 0
MiB = 1024 * 1024


def masked(payload: bytes) -> bytes:
    return bytes(b ^ KEY[i % 4] for i, b in enumerate(payload))


def frame(
    op: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
    length: int | None = None,
    form: int | None = None,
) -> bytes:
    """A client frame; `length` announces another payload length (the payload sent is
    still `payload`), `form` forces the 7-, 16- or 64-bit length encoding."""
    n = len(payload) if length is None else length
    form = form or (7 if n < 126 else 16 if n < 65536 else 64)
    if form == 7:
        code, ext = n, b""
    else:
        code, ext = (126, struct.pack("!H", n)) if form == 16 else (127, struct.pack("!Q", n))
    head = bytes([(0x80 if fin else 0) | rsv | op, (0x80 if mask else 0) | code]) + ext
    return head + (KEY + masked(payload) if mask else payload)


def text(payload: bytes, **kw: object) -> bytes:
    return frame(OP_TEXT, payload, **kw)  # type: ignore[arg-type]


def close(code: int | None, reason: bytes = b"") -> bytes:
    return frame(OP_CLOSE, b"" if code is None else struct.pack("!H", code) + reason)


@dataclass(frozen=True)
class WsCase:
    name: str
    rfc: str
    data: bytes
    echoes: tuple[tuple[int, bytes], ...]
    close: int | None


def fails(name: str, rfc: str, data: bytes, code: int) -> WsCase:
    return WsCase(name, rfc, data, (), code)


def echoes(name: str, rfc: str, data: bytes, *answers: tuple[int, bytes]) -> WsCase:
    return WsCase(name, rfc, data, answers, None)


EURO = "€".encode()  # 3 bytes
SMILE = "😀".encode()  # 4 bytes

FRAMING = [
    fails("rsv1-without-extension", "RFC 6455 5.2", text(b"a", rsv=RSV1), 1002),
    fails("rsv2", "RFC 6455 5.2", text(b"a", rsv=RSV2), 1002),
    fails("rsv3-on-ping", "RFC 6455 5.2", frame(OP_PING, rsv=RSV3), 1002),
    fails("opcode-3", "RFC 6455 5.2 (reserved non-control)", frame(3, b"a"), 1002),
    fails("opcode-7", "RFC 6455 5.2", frame(7), 1002),
    fails("opcode-0xb", "RFC 6455 5.2 (reserved control)", frame(0xB), 1002),
    fails("opcode-0xf", "RFC 6455 5.2", frame(0xF, b"x"), 1002),
    fails("unmasked-text", "RFC 6455 5.1 (server MUST close)", text(b"hi", mask=False), 1002),
    fails("unmasked-close", "RFC 6455 5.1", frame(OP_CLOSE, b"\x03\xe8", mask=False), 1002),
    fails(
        "ping-126-bytes", "RFC 6455 5.5 (control payload <= 125)", frame(OP_PING, b"p" * 126), 1002
    ),
    fails("close-126-bytes", "RFC 6455 5.5", close(1000, b"r" * 124), 1002),
    fails(
        "ping-fragmented",
        "RFC 6455 5.5 (control frames MUST NOT be fragmented)",
        frame(OP_PING, b"p", fin=False),
        1002,
    ),
    fails(
        "pong-7-bit-form-over-125-as-16-bit",
        "RFC 6455 5.5",
        frame(OP_PONG, b"x" * 125, form=16),
        1002,
    ),
    fails(
        "len64-top-bit",
        "RFC 6455 5.2 (most significant bit MUST be 0)",
        frame(OP_BINARY, b"", length=1 << 63),
        1002,
    ),
    fails("len64-all-ones", "RFC 6455 5.2", frame(OP_BINARY, b"", length=(1 << 64) - 1), 1002),
    fails(
        "len64-4gib",
        "RFC 6455 10.4 (over the 1 MiB limit)",
        frame(OP_BINARY, b"", length=1 << 32),
        1009,
    ),
    fails(
        "len16-then-fragments-over-1mib",
        "RFC 6455 10.4",
        frame(OP_BINARY, b"z" * 65535, fin=False) + frame(OP_CONT, b"", fin=False, length=MiB),
        1009,
    ),
    fails(
        "len16-for-5-bytes",
        "RFC 6455 5.2 (the minimal length form MUST be used)",
        frame(OP_TEXT, b"hello", form=16),
        1002,
    ),
    fails("len64-for-200-bytes", "RFC 6455 5.2", frame(OP_BINARY, b"b" * 200, form=64), 1002),
    fails(
        "unmasked-continuation",
        "RFC 6455 5.1",
        text(b"a", fin=False) + frame(OP_CONT, b"b", mask=False),
        1002,
    ),
    fails("continuation-first", "RFC 6455 5.4", frame(OP_CONT, b"x"), 1002),
    fails(
        "text-inside-fragmented-message", "RFC 6455 5.4", text(b"a", fin=False) + text(b"b"), 1002
    ),
    fails("close-1-byte-body", "RFC 6455 5.5.1", frame(OP_CLOSE, b"\x03"), 1002),
    echoes("empty-text", "RFC 6455 5.6", text(b""), (OP_TEXT, b"")),
    echoes(
        "len16-minimal-126", "RFC 6455 5.2", frame(OP_BINARY, b"b" * 126), (OP_BINARY, b"b" * 126)
    ),
    echoes(
        "ping-between-fragments",
        "RFC 6455 5.4 (control frames may be injected)",
        text(b"ab", fin=False) + frame(OP_PING, b"p") + frame(OP_CONT, b"cd"),
        (OP_PONG, b"p"),
        (OP_TEXT, b"abcd"),
    ),
    echoes(
        "empty-fragments",
        "RFC 6455 5.4",
        frame(OP_BINARY, b"", fin=False) + frame(OP_CONT, b"", fin=False) + frame(OP_CONT, b"x"),
        (OP_BINARY, b"x"),
    ),
    echoes("ping-125-bytes", "RFC 6455 5.5.2", frame(OP_PING, b"q" * 125), (OP_PONG, b"q" * 125)),
    echoes(
        "unsolicited-pong-ignored",
        "RFC 6455 5.5.3",
        frame(OP_PONG, b"u") + text(b"t"),
        (OP_TEXT, b"t"),
    ),
]

UTF8 = [
    fails("utf8-ff", "RFC 6455 8.1, RFC 3629 1", text(b"a\xffb"), 1007),
    fails("utf8-overlong-slash", "RFC 3629 3", text(b"\xc0\xaf"), 1007),
    fails("utf8-overlong-3-byte", "RFC 3629 3", text(b"\xe0\x80\xaf"), 1007),
    fails("utf8-surrogate", "RFC 3629 3 (U+D800..DFFF)", text(b"\xed\xa0\x80"), 1007),
    fails("utf8-above-10ffff", "RFC 3629 3", text(b"\xf4\x90\x80\x80"), 1007),
    fails("utf8-truncated-at-end", "RFC 6455 8.1", text(EURO[:2]), 1007),
    fails("utf8-lone-continuation", "RFC 3629 3", text(b"\x80"), 1007),
    fails(
        "utf8-truncated-before-continuation-frame",
        "RFC 6455 8.1",
        text(EURO[:2], fin=False) + frame(OP_CONT, b"a"),
        1007,
    ),
    fails(
        "utf8-fail-fast-first-fragment",
        "RFC 6455 8.1 (fail fast)",
        text(b"ok\xc0", fin=False),
        1007,
    ),
    fails(
        "utf8-bad-in-third-fragment",
        "RFC 6455 8.1",
        text(b"a", fin=False) + frame(OP_CONT, b"b", fin=False) + frame(OP_CONT, b"\xfe"),
        1007,
    ),
    echoes(
        "utf8-4-byte-split-across-fragments",
        "RFC 6455 8.1 (validity of the whole message)",
        text(SMILE[:1], fin=False)
        + frame(OP_CONT, SMILE[1:3], fin=False)
        + frame(OP_CONT, SMILE[3:]),
        (OP_TEXT, SMILE),
    ),
    echoes(
        "utf8-max-code-point",
        "RFC 3629 3",
        text(b"\xf4\x8f\xbf\xbf"),
        (OP_TEXT, b"\xf4\x8f\xbf\xbf"),
    ),
    echoes(
        "binary-not-checked",
        "RFC 6455 5.6",
        frame(OP_BINARY, b"\xff\xc0"),
        (OP_BINARY, b"\xff\xc0"),
    ),
]

CLOSING = [
    fails(f"close-code-{code}", "RFC 6455 7.4.1, 7.4.2 (not to be sent)", close(code), 1002)
    for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 65535)
] + [
    fails(
        "close-reason-invalid-utf8",
        "RFC 6455 5.5.1 (reason is UTF-8)",
        close(1000, b"bye\xff"),
        1007,
    ),
    fails("close-reason-truncated-utf8", "RFC 6455 5.5.1", close(1001, EURO[:2]), 1007),
    fails("close-code-3000", "RFC 6455 7.4.2 (registered range, valid)", close(3000), 3000),
    fails("close-code-4999", "RFC 6455 7.4.2 (private range, valid)", close(4999, b"x"), 4999),
    fails(
        "close-reason-123-bytes",
        "RFC 6455 5.5 (2 + 123 = 125 bytes)",
        close(1000, b"r" * 123),
        1000,
    ),
    fails(
        "close-no-body", "RFC 6455 5.5.1, 7.1.5 (no code: 1005 internally)", close(None), NO_CODE
    ),
    fails(
        "close-then-text-ignored",
        "RFC 6455 5.5.1 (no data after Close)",
        close(1000) + text(b"late"),
        1000,
    ),
]

CASES = FRAMING + UTF8 + CLOSING
