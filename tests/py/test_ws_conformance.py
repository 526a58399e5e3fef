"""WebSocket conformance over raw sockets (RFC 6455, RFC 7692 permessage-deflate).

The C example examples/c/ws_echo.c (built with `make -C csrc examples`) echoes every
data message; it runs as several servers with different limits. Each case opens a raw
TCP connection, does the opening handshake by hand (tests/py/wsframes.py checks the 101
and Sec-WebSocket-Accept), sends the case's frames and checks the outcome: the echoed
frames (opcode, FIN, payload; the reader rejects masked server frames, non-minimal
lengths and stray RSV bits), Pongs, or a Close with the exact code followed by the TCP
close. A case that does not end in a Close is finished with a clean closing handshake,
which also proves nothing unexpected was sent. Then a fresh connection must still work.

Every case runs three ways (wsframes.MODES): the whole case in one write, one write per
frame, and one write per byte (TCP_NODELAY and a short pause after each byte, so the
server sees them one by one; large payloads go byte by byte only near their ends).

MGIO_WS_ECHO=/path/to/ws_echo runs the suite against another build of the example (one
with sanitizers, say) instead of building it.

The expectations come from RFC 6455 / RFC 7692 and the WebSocket section of mgio.h; a
case the implementation gets wrong is marked xfail(strict=True) with the reason, never
weakened.
"""

from __future__ import annotations

import functools
import os
import random
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import wsframes as wf
from examples_c import ExampleServer, build, starter
from wsframes import (
    MODES,
    OP_BINARY,
    OP_CLOSE,
    OP_CONT,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    RSV1,
    RSV2,
    RSV3,
    Client,
    binary,
    close_frame,
    deflate_raw,
    fragments,
    frame,
    split,
    text,
)

TIMEOUT = 5.0
FAST = 2.0  # fail-fast cases: the Close must come although the message never ends
MiB = 1 << 20

# The servers: name -> ws_echo options.
SERVERS = {
    "plain": ["ws_deflate=0"],  # default limits: 1 MiB, 1024 fragments
    "small": ["ws_deflate=0", "ws_message=1000", "ws_fragments=4"],
    "big": ["ws_deflate=0", f"ws_message={8 * MiB}"],
    "nodefrag": ["no_defrag=1"],  # deflate on, but NO_DEFRAG declines it
    "deflate": [],  # all defaults: permessage-deflate accepted when offered
}


# ---- the servers -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def binary_path() -> Path:
    """The example server, built now (a failed build fails the tests). MGIO_WS_ECHO names
    another build of it instead (e.g. one with sanitizers)."""
    other = os.environ.get("MGIO_WS_ECHO")
    return Path(other) if other else build("ws_echo")


Server = ExampleServer


@pytest.fixture(scope="module")
def start(
    binary_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[..., Server]]:
    """start(*options) runs a ws_echo server; all of them are stopped at teardown."""
    with starter(binary_path, tmp_path_factory.mktemp("ws_logs")) as run:
        yield run


@pytest.fixture(scope="module")
def servers(start: Callable[..., Server]) -> dict[str, Server]:
    return {name: start(*opts) for name, opts in SERVERS.items()}


def fresh_ok(srv: Server) -> None:
    """The server is alive and a new connection still echoes and closes cleanly."""
    assert srv.alive(), f"the server died (exit {srv.proc.returncode}): {srv.log.read_text()}"
    with Client(srv.port) as c:
        c.handshake()
        c.write(text("still there?"))
        f = c.read_frame()
        assert (f.opcode, f.fin, f.payload) == (OP_TEXT, True, b"still there?")
        c.write(close_frame(1000))
        f = c.read_frame()
        assert f.opcode == OP_CLOSE and f.close_code == 1000
        c.expect_eof()


# ---- cases -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Msg:
    """An expected data or control frame from the server."""

    opcode: int
    payload: bytes
    fin: bool = True

    def __repr__(self) -> str:
        return f"Msg(opcode={self.opcode}, payload={wf.short(self.payload)}, fin={self.fin})"


@dataclass(frozen=True)
class Close:
    """An expected Close: `code` (None: an empty payload), then the TCP close."""

    code: int | None


Expect = Msg | Close


@dataclass
class Case:
    name: str
    build: Callable[[], list[bytes]]  # the frames (built per connection: fresh masks)
    expect: list[Expect]
    server: str = "plain"
    offer: str | None = None  # Sec-WebSocket-Extensions offered
    timeout: float = TIMEOUT
    xfail: str | None = None
    marks: list = field(default_factory=list)


CASES: list[Case] = []


def case(
    name: str,
    build: Callable[[], list[bytes]] | list[bytes],
    expect: list[Expect] | Expect,
    **kw: object,
) -> None:
    b = build if callable(build) else (lambda frames=build: frames)
    # Frames given as a list are built once, at import; a lambda rebuilds them (fresh mask
    # keys and compressors) for each connection.
    e = expect if isinstance(expect, list) else [expect]
    CASES.append(Case(name, b, e, **kw))  # type: ignore[arg-type]


def pattern(n: int, seed: int = 0) -> bytes:
    """n printable ASCII bytes (valid UTF-8), not all alike."""
    unit = bytes((seed + i) % 26 + 97 for i in range(26))
    return (unit * (n // 26 + 1))[:n]


@functools.cache
def rnd(n: int, seed: int = 1) -> bytes:
    """n pseudo-random bytes, the same for every call (fast for MiBs)."""
    return random.Random(seed).randbytes(n)


@functools.cache
def utf8_text(n: int) -> bytes:
    """About n bytes of valid UTF-8 with 1- to 4-byte characters."""
    unit = "aä€😀κόσμε-𝄞\U0010ffff\ud7ff\ue000".encode()
    return unit * (n // len(unit))


# -- payload lengths, text and binary -------------------------------------------------------

for n in (0, 1, 125, 126, 127, 65535, 65536):
    case(f"text_len_{n}", lambda n=n: [text(pattern(n))], Msg(OP_TEXT, pattern(n)))
    case(f"binary_len_{n}", lambda n=n: [binary(rnd(n))], Msg(OP_BINARY, rnd(n)))

case("binary_1MiB_exact_limit", lambda: [binary(rnd(MiB))], Msg(OP_BINARY, rnd(MiB)))
case(
    "text_1MiB_plus_1_announced",
    lambda: [frame(OP_TEXT, b"", length=MiB + 1)],
    Close(1009),
    timeout=FAST,
)
case(
    "binary_2_pow_62_announced",
    lambda: [frame(OP_BINARY, b"", length=1 << 62)],
    Close(1009),
    timeout=FAST,
)
case(
    "fragmented_over_1MiB_second_header",
    lambda: [
        frame(OP_TEXT, pattern(600 * 1024), fin=False),
        frame(OP_CONT, b"", length=600 * 1024),
    ],
    Close(1009),
    timeout=FAST,
)
for n in (5 * MiB,):
    case(f"binary_{n >> 20}MiB", lambda n=n: [binary(rnd(n))], Msg(OP_BINARY, rnd(n)), server="big")
    case(
        f"binary_{n >> 20}MiB_5_fragments",
        lambda n=n: fragments(OP_BINARY, split(rnd(n), 5)),
        Msg(OP_BINARY, rnd(n)),
        server="big",
    )
case(
    "text_3MiB_multibyte",
    lambda: [text(utf8_text(3 * MiB))],
    Msg(OP_TEXT, utf8_text(3 * MiB)),
    server="big",
)
case(
    "binary_8MiB_plus_1_announced",
    lambda: [frame(OP_BINARY, b"", length=8 * MiB + 1)],
    Close(1009),
    server="big",
    timeout=FAST,
)

# -- non-minimal lengths (RFC 6455 5.2) -----------------------------------------------------

case("len_5_in_16_bits", lambda: [text(b"hello", form=16)], Close(1002))
case("len_125_in_16_bits", lambda: [text(pattern(125), form=16)], Close(1002))
case("len_200_in_64_bits", lambda: [text(pattern(200), form=64)], Close(1002))
case("len_65535_in_64_bits", lambda: [binary(rnd(65535), form=64)], Close(1002))
case(
    "len_64_bit_msb_set", lambda: [frame(OP_BINARY, b"", length=1 << 63)], Close(1002), timeout=FAST
)

# -- ping and pong ---------------------------------------------------------------------------

case("ping_empty", lambda: [frame(OP_PING)], Msg(OP_PONG, b""))
case("ping_125", lambda: [frame(OP_PING, rnd(125))], Msg(OP_PONG, rnd(125)))
case(
    "ping_then_text",
    lambda: [frame(OP_PING, b"p1"), text("after"), frame(OP_PING, b"p2")],
    [Msg(OP_PONG, b"p1"), Msg(OP_TEXT, b"after"), Msg(OP_PONG, b"p2")],
)
case(
    "ping_binary_payload",
    lambda: [frame(OP_PING, bytes(range(256))[:125])],
    Msg(OP_PONG, bytes(range(125))),
)
case(
    "ten_pings",
    lambda: [frame(OP_PING, b"%d" % i) for i in range(10)],
    [Msg(OP_PONG, b"%d" % i) for i in range(10)],
)
case("ping_126", lambda: [frame(OP_PING, rnd(126))], Close(1002))
case(
    "ping_fragmented", lambda: [frame(OP_PING, b"a", fin=False), frame(OP_CONT, b"b")], Close(1002)
)
case("pong_unsolicited_ignored", lambda: [frame(OP_PONG, b"abc"), text("x")], Msg(OP_TEXT, b"x"))
case(
    "pong_empty_unsolicited_ignored",
    lambda: [frame(OP_PONG), binary(b"\x00")],
    Msg(OP_BINARY, b"\x00"),
)
case("pong_126", lambda: [frame(OP_PONG, rnd(126))], Close(1002))
case("pong_fragmented", lambda: [frame(OP_PONG, b"a", fin=False)], Close(1002))

# -- reserved bits and opcodes --------------------------------------------------------------

RSV_BITS = {"rsv1": RSV1, "rsv2": RSV2, "rsv3": RSV3, "rsv123": RSV1 | RSV2 | RSV3}
for bname, bit in RSV_BITS.items():
    case(f"{bname}_text", lambda bit=bit: [text("x", rsv=bit)], Close(1002))
    case(f"{bname}_binary", lambda bit=bit: [binary(b"x", rsv=bit)], Close(1002))
    case(f"{bname}_ping", lambda bit=bit: [frame(OP_PING, b"x", rsv=bit)], Close(1002))
    case(f"{bname}_pong", lambda bit=bit: [frame(OP_PONG, b"x", rsv=bit)], Close(1002))
    case(f"{bname}_close", lambda bit=bit: [close_frame(1000, rsv=bit)], Close(1002))
    case(
        f"{bname}_continuation",
        lambda bit=bit: [text("a", fin=False), frame(OP_CONT, b"b", rsv=bit)],
        Close(1002),
    )
    case(
        f"{bname}_after_good_text",
        lambda bit=bit: [text("ok"), text("x", rsv=bit)],
        [Msg(OP_TEXT, b"ok"), Close(1002)],
    )

for op in (3, 4, 5, 6, 7, 11, 12, 13, 14, 15):
    case(f"opcode_{op}", lambda op=op: [frame(op, b"x")], Close(1002))
    case(f"opcode_{op}_empty_no_fin", lambda op=op: [frame(op, b"", fin=False)], Close(1002))
case("opcode_3_inside_fragmented", lambda: [text("a", fin=False), frame(3, b"b")], Close(1002))
case(
    "opcode_11_after_ping",
    lambda: [frame(OP_PING, b"p"), frame(11, b"")],
    [Msg(OP_PONG, b"p"), Close(1002)],
)

# -- masking ---------------------------------------------------------------------------------

case("unmasked_text", lambda: [text("x", mask=False)], Close(1002))
case("unmasked_empty_binary", lambda: [binary(b"", mask=False)], Close(1002))
case("unmasked_ping", lambda: [frame(OP_PING, b"x", mask=False)], Close(1002))
case("unmasked_close", lambda: [close_frame(1000, mask=False)], Close(1002))
case(
    "unmasked_continuation",
    lambda: [text("a", fin=False), frame(OP_CONT, b"b", mask=False)],
    Close(1002),
)
case("zero_mask_key", lambda: [text("same", key=b"\0\0\0\0")], Msg(OP_TEXT, b"same"))

# -- fragmentation ---------------------------------------------------------------------------

case(
    "frag_text_2", lambda: fragments(OP_TEXT, [b"Hello, ", b"world"]), Msg(OP_TEXT, b"Hello, world")
)
case(
    "frag_binary_10", lambda: fragments(OP_BINARY, split(rnd(1000), 10)), Msg(OP_BINARY, rnd(1000))
)
case(
    "frag_text_1_byte_each",
    lambda: fragments(OP_TEXT, split(pattern(50), 50)),
    Msg(OP_TEXT, pattern(50)),
)
case("frag_empty_parts", lambda: fragments(OP_TEXT, [b"", b"abc", b"", b""]), Msg(OP_TEXT, b"abc"))
case("frag_all_empty", lambda: fragments(OP_BINARY, [b"", b""]), Msg(OP_BINARY, b""))
case(
    "frag_1024_default_limit",
    lambda: fragments(OP_BINARY, split(rnd(1024), 1024)),
    Msg(OP_BINARY, rnd(1024)),
)
case("frag_1025_over_limit", lambda: fragments(OP_BINARY, split(rnd(1025), 1025)), Close(1009))
case(
    "frag_ping_between",
    lambda: [text("frag1", fin=False), frame(OP_PING, b"p"), frame(OP_CONT, b"frag2")],
    [Msg(OP_PONG, b"p"), Msg(OP_TEXT, b"frag1frag2")],
)
case(
    "frag_pings_and_pong_between",
    lambda: [
        binary(b"a", fin=False),
        frame(OP_PING, b"1"),
        frame(OP_CONT, b"b", fin=False),
        frame(OP_PONG, b"unsolicited"),
        frame(OP_PING, b"2"),
        frame(OP_CONT, b"c"),
    ],
    [Msg(OP_PONG, b"1"), Msg(OP_PONG, b"2"), Msg(OP_BINARY, b"abc")],
)
case(
    "frag_two_messages",
    lambda: (
        fragments(OP_TEXT, [b"one", b"-two"]) + fragments(OP_BINARY, [b"\x01", b"\x02", b"\x03"])
    ),
    [Msg(OP_TEXT, b"one-two"), Msg(OP_BINARY, b"\x01\x02\x03")],
)
case("cont_without_start_fin", lambda: [frame(OP_CONT, b"x")], Close(1002))
case("cont_without_start_no_fin", lambda: [frame(OP_CONT, b"x", fin=False)], Close(1002))
case(
    "cont_after_complete_message",
    lambda: [text("done"), frame(OP_CONT, b"x")],
    [Msg(OP_TEXT, b"done"), Close(1002)],
)
case("text_inside_fragmented_text", lambda: [text("a", fin=False), text("b")], Close(1002))
case("binary_inside_fragmented_text", lambda: [text("a", fin=False), binary(b"b")], Close(1002))
case(
    "text_inside_fragmented_binary",
    lambda: [binary(b"a", fin=False), text("b", fin=False)],
    Close(1002),
)
case(
    "new_message_after_ping_inside_fragmented",
    lambda: [text("a", fin=False), frame(OP_PING, b""), text("b")],
    [Msg(OP_PONG, b""), Close(1002)],
)

# -- limits of the small server (ws_message=1000, ws_fragments=4) ---------------------------

case(
    "small_message_1000_exact",
    lambda: [binary(rnd(1000))],
    Msg(OP_BINARY, rnd(1000)),
    server="small",
)
case(
    "small_message_1001_announced",
    lambda: [frame(OP_BINARY, b"", length=1001)],
    Close(1009),
    server="small",
    timeout=FAST,
)
case(
    "small_text_1001_announced",
    lambda: [frame(OP_TEXT, b"", length=1001)],
    Close(1009),
    server="small",
    timeout=FAST,
)
case(
    "small_4_fragments_1000",
    lambda: fragments(OP_BINARY, split(rnd(1000), 4)),
    Msg(OP_BINARY, rnd(1000)),
    server="small",
)
case(
    "small_5_fragments",
    lambda: fragments(OP_TEXT, split(pattern(10), 5)),
    Close(1009),
    server="small",
)
case(
    "small_5th_fragment_header_only",
    lambda: (
        [
            *fragments(OP_TEXT, split(pattern(8), 4))[:3],
            frame(OP_CONT, pattern(2), fin=False),
            frame(OP_CONT, b"", length=5),
        ]
    ),
    Close(1009),
    server="small",
    timeout=FAST,
)
case(
    "small_pings_do_not_count_as_fragments",
    lambda: [
        binary(b"a", fin=False),
        frame(OP_PING, b"1"),
        frame(OP_CONT, b"b", fin=False),
        frame(OP_PING, b"2"),
        frame(OP_CONT, b"c", fin=False),
        frame(OP_PING, b"3"),
        frame(OP_CONT, b"d"),
    ],
    [Msg(OP_PONG, b"1"), Msg(OP_PONG, b"2"), Msg(OP_PONG, b"3"), Msg(OP_BINARY, b"abcd")],
    server="small",
)
case(
    "small_fragments_sum_over_1000",
    lambda: [binary(rnd(600), fin=False), frame(OP_CONT, b"", length=401)],
    Close(1009),
    server="small",
    timeout=FAST,
)
case(
    "small_limit_is_per_message",
    lambda: [binary(rnd(1000)), binary(rnd(1000, 2))],
    [Msg(OP_BINARY, rnd(1000)), Msg(OP_BINARY, rnd(1000, 2))],
    server="small",
)

# -- UTF-8 -----------------------------------------------------------------------------------

VALID_UTF8 = {
    "greek": "κόσμε".encode(),
    "boundaries": "\u0080\u07ff\u0800\uffff\U00010000\U0010ffff\ud7ff\ue000\ufffd".encode(),
    "emoji_mix": "a😀b€c𝄞d".encode(),
    "nul_and_del": b"\x00\x7f",
}
for vname, data in VALID_UTF8.items():
    case(f"utf8_valid_{vname}", lambda d=data: [text(d)], Msg(OP_TEXT, data))
    case(
        f"utf8_valid_{vname}_1_byte_fragments",
        lambda d=data: fragments(OP_TEXT, split(d, len(d))),
        Msg(OP_TEXT, data),
    )
case(
    "utf8_valid_split_inside_4_byte",
    lambda: fragments(OP_TEXT, [b"x\xf0\x9f", b"\x98", b"\x80y"]),
    Msg(OP_TEXT, "x😀y".encode()),
)
case(
    "utf8_valid_split_inside_3_byte",
    lambda: fragments(OP_TEXT, [b"\xe2", b"\x82\xac"]),
    Msg(OP_TEXT, "€".encode()),
)
case(
    "utf8_invalid_in_binary_echoed",
    lambda: [binary(b"\xff\xfe\xc0\xaf")],
    Msg(OP_BINARY, b"\xff\xfe\xc0\xaf"),
)

INVALID_UTF8 = {
    "overlong_2_slash": b"\xc0\xaf",
    "overlong_2_max": b"\xc1\xbf",
    "overlong_3_slash": b"\xe0\x80\xaf",
    "overlong_3_max": b"\xe0\x9f\xbf",
    "overlong_4_slash": b"\xf0\x80\x80\xaf",
    "overlong_4_max": b"\xf0\x8f\xbf\xbf",
    "overlong_nul": b"\xc0\x80",
    "surrogate_d800": b"\xed\xa0\x80",
    "surrogate_dbff": b"\xed\xaf\xbf",
    "surrogate_dc00": b"\xed\xb0\x80",
    "surrogate_dfff": b"\xed\xbf\xbf",
    "surrogate_pair": b"\xed\xa0\x80\xed\xb0\x80",
    "above_10ffff_f4": b"\xf4\x90\x80\x80",
    "above_10ffff_f5": b"\xf5\x80\x80\x80",
    "above_10ffff_f7": b"\xf7\xbf\xbf\xbf",
    "five_byte_form": b"\xf8\x88\x80\x80\x80",
    "six_byte_form": b"\xfc\x84\x80\x80\x80\x80",
    "truncated_2_at_end": b"abc\xc3",
    "truncated_3_at_end": b"abc\xe2\x82",
    "truncated_4_at_end": b"abc\xf0\x9f\x98",
    "lone_continuation_80": b"\x80",
    "lone_continuation_bf": b"a\xbfb",
    "bad_continuation_2": b"\xc3\x28",
    "bad_continuation_3_second": b"\xe2\x28\xa1",
    "bad_continuation_3_third": b"\xe2\x82\x28",
    "bad_continuation_4": b"\xf0\x28\x8c\xbc",
    "byte_fe": b"\xfe",
    "byte_ff": b"\xff",
    "fe_fe_ff_ff": b"\xfe\xfe\xff\xff",
    "valid_then_invalid": "κόσμε".encode() + b"\xed\xa0\x80edited",
}
for iname, data in INVALID_UTF8.items():
    case(f"utf8_invalid_{iname}", lambda d=data: [text(d)], Close(1007))
for iname in (
    "overlong_3_slash",
    "surrogate_d800",
    "above_10ffff_f4",
    "truncated_4_at_end",
    "fe_fe_ff_ff",
):
    data = INVALID_UTF8[iname]
    case(
        f"utf8_invalid_{iname}_1_byte_fragments",
        lambda d=data: fragments(OP_TEXT, split(d, len(d))),
        Close(1007),
    )
case(
    "utf8_truncated_at_end_of_fragmented_message",
    lambda: fragments(OP_TEXT, [b"a\xe2", b"\x82"]),
    Close(1007),
)
case(
    "utf8_invalid_after_ping_in_fragments",
    lambda: [text(b"ok", fin=False), frame(OP_PING, b"p"), frame(OP_CONT, b"\xff")],
    [Msg(OP_PONG, b"p"), Close(1007)],
)

# Fail fast: the message never ends, the Close must come anyway.
case("failfast_first_fragment", lambda: [text(b"ok\xc0\xaf", fin=False)], Close(1007), timeout=FAST)
case(
    "failfast_surrogate_prefix", lambda: [text(b"ok\xed\xa0", fin=False)], Close(1007), timeout=FAST
)
case(
    "failfast_above_10ffff_prefix",
    lambda: [text(b"\xf4\x90", fin=False)],
    Close(1007),
    timeout=FAST,
)
case(
    "failfast_second_fragment",
    lambda: [text(b"abc", fin=False), frame(OP_CONT, b"d\xff", fin=False)],
    Close(1007),
    timeout=FAST,
)
case(
    "failfast_inside_unfinished_frame",
    lambda: [text(b"0123456\xff" + pattern(92))[: 2 + 4 + 10]],  # 10 of 100 payload bytes
    Close(1007),
    timeout=FAST,
)
case(
    "failfast_inside_unfinished_big_frame",  # 1011 of 70000 announced payload bytes
    lambda: [frame(OP_TEXT, pattern(1000) + b"\xfe" + pattern(10), length=70000)],
    Close(1007),
    timeout=FAST,
)

# -- the closing handshake ------------------------------------------------------------------

case("close_empty", lambda: [close_frame()], Close(None))
case("close_1000_reason", lambda: [close_frame(1000, b"bye")], Close(1000))
case("close_1000_max_reason", lambda: [close_frame(1000, "é".encode() * 61 + b"x")], Close(1000))
case("close_1_byte", lambda: [frame(OP_CLOSE, b"\x03")], Close(1002))
case("close_126_bytes", lambda: [close_frame(1000, pattern(124))], Close(1002))
case("close_fragmented", lambda: [close_frame(1000, fin=False)], Close(1002))
for code in (0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535):
    case(f"close_code_{code}_invalid", lambda code=code: [close_frame(code)], Close(1002))
for code in (*range(1000, 1004), *range(1007, 1015), 3000, 3999, 4000, 4999):
    case(f"close_code_{code}_echoed", lambda code=code: [close_frame(code, b"r")], Close(code))
case("close_reason_invalid_utf8", lambda: [close_frame(1000, b"\xff")], Close(1007))
case("close_reason_surrogate", lambda: [close_frame(1000, b"ok\xed\xa0\x80")], Close(1007))
case("close_reason_truncated", lambda: [close_frame(1000, b"\xe2\x82")], Close(1007))
case("close_reason_utf8_valid", lambda: [close_frame(1001, "κόσμε😀".encode())], Close(1001))
case(
    "close_then_frames_ignored",
    lambda: [close_frame(1000), text("ignored"), frame(OP_PING, b"ignored")],
    Close(1000),
)
case(
    "close_then_garbage_ignored",
    lambda: [close_frame(1000), frame(3, b"x"), text(b"\xff")],
    Close(1000),
)
case(
    "close_inside_fragmented_message",
    lambda: [text("a", fin=False), close_frame(1000)],
    Close(1000),
)
case(
    "message_ping_close",
    lambda: [text("m"), frame(OP_PING, b"p"), close_frame(1001, b"going")],
    [Msg(OP_TEXT, b"m"), Msg(OP_PONG, b"p"), Close(1001)],
)

# -- MG_F_WEBSOCKET_NO_DEFRAG: fragments are delivered (and echoed) one by one ----------------

case(
    "nodefrag_3_fragments",
    lambda: fragments(OP_TEXT, [b"Hel", b"lo ", b"world"]),
    [Msg(OP_TEXT, b"Hel", False), Msg(OP_CONT, b"lo ", False), Msg(OP_CONT, b"world")],
    server="nodefrag",
)
case(
    "nodefrag_ping_between",
    lambda: [binary(b"\x01", fin=False), frame(OP_PING, b"p"), frame(OP_CONT, b"\x02")],
    [Msg(OP_BINARY, b"\x01", False), Msg(OP_PONG, b"p"), Msg(OP_CONT, b"\x02")],
    server="nodefrag",
)
case("nodefrag_whole_message", lambda: [text("whole")], Msg(OP_TEXT, b"whole"), server="nodefrag")
case(
    "nodefrag_utf8_split",
    lambda: fragments(OP_TEXT, [b"\xe2", b"\x82", b"\xac!"]),
    [Msg(OP_TEXT, b"\xe2", False), Msg(OP_CONT, b"\x82", False), Msg(OP_CONT, b"\xac!")],
    server="nodefrag",
)
case(
    "nodefrag_utf8_truncated_at_end",
    lambda: fragments(OP_TEXT, [b"ok", b"\xe2\x82"]),
    [Msg(OP_TEXT, b"ok", False), Close(1007)],
    server="nodefrag",
)
case(
    "nodefrag_utf8_invalid_in_fragment",
    lambda: [text(b"ok", fin=False), frame(OP_CONT, b"\xff", fin=False)],
    [Msg(OP_TEXT, b"ok", False), Close(1007)],
    server="nodefrag",
    timeout=FAST,
)
case("nodefrag_cont_without_start", lambda: [frame(OP_CONT, b"x")], Close(1002), server="nodefrag")
case(
    "nodefrag_new_message_inside",
    lambda: [text("a", fin=False), text("b")],
    [Msg(OP_TEXT, b"a", False), Close(1002)],
    server="nodefrag",
)
case(
    "nodefrag_rsv1_with_deflate_offered",
    lambda: [text("x", rsv=RSV1)],
    Close(1002),
    server="nodefrag",
    offer="permessage-deflate",
)

# -- permessage-deflate ---------------------------------------------------------------------

PMD = "permessage-deflate"


def dtext(data: bytes, comp: zlib._Compress | None = None, **kw: object) -> bytes:
    return frame(OP_TEXT, deflate_raw(data, comp), rsv=RSV1, **kw)  # type: ignore[arg-type]


def dbinary(data: bytes, comp: zlib._Compress | None = None, **kw: object) -> bytes:
    return frame(OP_BINARY, deflate_raw(data, comp), rsv=RSV1, **kw)  # type: ignore[arg-type]


def compressor(wbits: int = 15) -> zlib._Compress:
    return zlib.compressobj(9, zlib.DEFLATED, -wbits)


def deflated_fragments(opcode: int, data: bytes, n: int) -> list[bytes]:
    parts = split(deflate_raw(data), n)
    out = []
    for i, part in enumerate(parts):
        out.append(
            frame(opcode if i == 0 else OP_CONT, part, fin=i == n - 1, rsv=RSV1 if i == 0 else 0)
        )
    return out


@functools.cache
def bomb(n: int) -> bytes:
    """n zero bytes, compressed (about n / 1000 bytes)."""
    return deflate_raw(bytes(n))


def final_block(data: bytes) -> bytes:
    """A whole DEFLATE stream ended by a BFINAL block (RFC 7692 7.2.3.4)."""
    c = compressor()
    return c.compress(data) + c.flush(zlib.Z_FINISH)


def dcase(
    name: str, build: Callable[[], list[bytes]], expect: list[Expect] | Expect, **kw: object
) -> None:
    kw.setdefault("server", "deflate")
    kw.setdefault("offer", PMD)
    case(f"deflate_{name}", build, expect, **kw)


dcase("text_short", lambda: [dtext(b"Hello")], Msg(OP_TEXT, b"Hello"))
dcase("text_1000", lambda: [dtext(pattern(1000))], Msg(OP_TEXT, pattern(1000)))
dcase("text_multibyte", lambda: [dtext(utf8_text(5000))], Msg(OP_TEXT, utf8_text(5000)))
dcase("binary_64KiB_random", lambda: [dbinary(rnd(65536))], Msg(OP_BINARY, rnd(65536)))
dcase("empty_message_00", lambda: [frame(OP_TEXT, b"\x00", rsv=RSV1)], Msg(OP_TEXT, b""))
dcase("empty_message_sync_flush", lambda: [dbinary(b"")], Msg(OP_BINARY, b""))


def takeover_frames() -> list[bytes]:
    comp = compressor()  # one context for the connection: later messages refer back
    return [dtext(pattern(500), comp), dtext(pattern(500), comp), dbinary(rnd(300) * 2, comp)]


def mixed_frames() -> list[bytes]:
    comp = compressor()
    return [
        dtext(b"one", comp),
        text("two"),
        dbinary(rnd(100), comp),
        *fragments(OP_TEXT, [b"th", b"ree"]),
    ]


dcase(
    "context_takeover_3_messages",
    takeover_frames,
    [Msg(OP_TEXT, pattern(500)), Msg(OP_TEXT, pattern(500)), Msg(OP_BINARY, rnd(300) * 2)],
)
dcase(
    "fragmented_3",
    lambda: deflated_fragments(OP_TEXT, pattern(3000), 3),
    Msg(OP_TEXT, pattern(3000)),
)
dcase(
    "fragmented_byte_frames",
    lambda: deflated_fragments(OP_BINARY, rnd(40), len(deflate_raw(rnd(40)))),
    Msg(OP_BINARY, rnd(40)),
)
dcase(
    "fragmented_ping_between",
    lambda: (lambda fr: [fr[0], frame(OP_PING, b"p"), fr[1]])(
        deflated_fragments(OP_TEXT, pattern(200), 2)
    ),
    [Msg(OP_PONG, b"p"), Msg(OP_TEXT, pattern(200))],
)
dcase(
    "uncompressed_on_deflate_connection", lambda: [text(pattern(300))], Msg(OP_TEXT, pattern(300))
)
dcase(
    "mixed_compressed_and_plain",
    mixed_frames,
    [Msg(OP_TEXT, b"one"), Msg(OP_TEXT, b"two"), Msg(OP_BINARY, rnd(100)), Msg(OP_TEXT, b"three")],
)
dcase("ping", lambda: [frame(OP_PING, b"abc")], Msg(OP_PONG, b"abc"))
dcase(
    "bfinal_block_then_next_message",
    lambda: [
        frame(OP_TEXT, final_block(pattern(400)), rsv=RSV1),
        dtext(pattern(400, 3)),
    ],
    [Msg(OP_TEXT, pattern(400)), Msg(OP_TEXT, pattern(400, 3))],
)
dcase(
    "rsv1_on_continuation",
    lambda: [dtext(b"abc", fin=False), frame(OP_CONT, deflate_raw(b"d"), rsv=RSV1)],
    Close(1002),
)
dcase(
    "rsv1_on_plain_continuation",
    lambda: [text("abc", fin=False), frame(OP_CONT, b"d", rsv=RSV1)],
    Close(1002),
)
dcase("rsv1_on_ping", lambda: [frame(OP_PING, b"x", rsv=RSV1)], Close(1002))
dcase("rsv1_on_close", lambda: [close_frame(1000, rsv=RSV1)], Close(1002))
dcase("rsv2_on_text", lambda: [frame(OP_TEXT, deflate_raw(b"x"), rsv=RSV1 | RSV2)], Close(1002))
dcase("exactly_1MiB_inflated", lambda: [dbinary(bytes(MiB))], Msg(OP_BINARY, bytes(MiB)))
dcase("zip_bomb_100MiB", lambda: [frame(OP_BINARY, bomb(100 * MiB), rsv=RSV1)], Close(1009))
dcase(
    "zip_bomb_1MiB_plus_1",
    lambda: [frame(OP_TEXT, deflate_raw(b"a" * (MiB + 1)), rsv=RSV1)],
    Close(1009),
)
dcase(
    "zip_bomb_fragmented",
    lambda: [
        frame(OP_BINARY, bomb(100 * MiB)[:50], rsv=RSV1, fin=False),
        frame(OP_CONT, bomb(100 * MiB)[50:]),
    ],
    Close(1009),
)
dcase("invalid_block_type", lambda: [frame(OP_BINARY, b"\xff\xff\xff", rsv=RSV1)], Close(1007))
dcase(
    "invalid_stored_len",
    lambda: [frame(OP_BINARY, b"\x00\x05\x00\x00\x00abcde", rsv=RSV1)],
    Close(1007),
)
dcase(
    "truncated_stream",
    lambda: [frame(OP_BINARY, deflate_raw(rnd(2000))[:1000], rsv=RSV1)],
    Close(1007),
)
dcase("inflates_to_invalid_utf8", lambda: [dtext(b"ok\xed\xa0\x80")], Close(1007))
dcase("inflates_to_truncated_utf8", lambda: [dtext(b"ok\xf0\x9f")], Close(1007))
dcase(
    "inflated_invalid_utf8_binary_ok", lambda: [dbinary(b"\xff\xfe")], Msg(OP_BINARY, b"\xff\xfe")
)

dcase(
    "empty_first_fragment_rsv1",
    lambda: [frame(OP_TEXT, b"", rsv=RSV1, fin=False), frame(OP_CONT, deflate_raw(pattern(110)))],
    Msg(OP_TEXT, pattern(110)),
)
dcase("rsv1_without_offer", lambda: [dtext(b"x")], Close(1002), offer=None)
dcase(
    "incompressible_1MiB_exact",
    lambda: [dbinary(rnd(MiB, 5))],
    Msg(OP_BINARY, rnd(MiB, 5)),
)
# A compressed message is checked when it is inflated, at its end (mgio.h): the bad
# first fragment is caught once the message is complete.
dcase(
    "invalid_utf8_in_first_fragment",
    lambda: [dtext(b"ok\xff" * 100, fin=False), frame(OP_CONT, b"", fin=True)],
    Close(1007),
)

# -- many frames in one go ------------------------------------------------------------------

case(
    "many_small_messages",
    lambda: [text(b"m%d" % i) for i in range(300)],
    [Msg(OP_TEXT, b"m%d" % i) for i in range(300)],
)
case(
    "ping_flood_500",
    lambda: [frame(OP_PING, b"%d" % i) for i in range(500)],
    [Msg(OP_PONG, b"%d" % i) for i in range(500)],
)


def case_params() -> list:
    out = []
    for c in CASES:
        for mode in MODES:
            marks = list(c.marks)
            if c.xfail:
                marks.append(pytest.mark.xfail(strict=True, reason=c.xfail))
            out.append(pytest.param(c, mode, id=f"{c.name}-{mode}", marks=marks))
    return out


def same_payload(got: bytes, want: bytes) -> None:
    if got == want:
        return
    i = next(
        (k for k in range(min(len(got), len(want))) if got[k] != want[k]), min(len(got), len(want))
    )
    raise AssertionError(
        f"payload differs: got {len(got)} bytes, want {len(want)}; first difference at {i}: "
        f"got {got[i : i + 16]!r}, want {want[i : i + 16]!r}"
    )


def check_frames(c: Client, expect: list[Expect], timeout: float) -> None:
    for i, exp in enumerate(expect):
        f = c.read_frame(timeout)
        if isinstance(exp, Msg):
            assert (f.opcode, f.fin) == (exp.opcode, exp.fin), (i, f, exp)
            same_payload(f.payload, exp.payload)
        else:
            assert f.opcode == OP_CLOSE, (i, f, exp)
            if exp.code is None:
                assert f.payload == b"", f
            else:
                assert f.close_code == exp.code, (f.close_code, f.payload, exp)
            f.payload[2:].decode("utf-8")  # a valid reason
            assert i == len(expect) - 1, "a Close must be the last thing expected"
            c.expect_eof(timeout + 1)
            return
    # No Close expected: finish with a clean closing handshake (nothing else may come).
    c.write(close_frame(1000, b"done"))
    f = c.read_frame(timeout)
    assert f.opcode == OP_CLOSE and f.close_code == 1000, f
    c.expect_eof()


@pytest.mark.parametrize("tc,mode", case_params())
def test_case(servers: dict[str, Server], tc: Case, mode: str) -> None:
    srv = servers[tc.server]
    with Client(srv.port) as c:
        c.handshake(extensions=tc.offer)
        if tc.offer is not None and tc.server == "deflate":
            assert c.deflate, c.head_fields
        c.send_case(tc.build(), mode)
        check_frames(c, tc.expect, tc.timeout)
    fresh_ok(srv)


# ---- cases that do not fit the table --------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_frames_in_the_handshake_packet(servers: dict[str, Server], mode: str) -> None:
    """Frames that follow the upgrade request in the same write are read as frames."""
    srv = servers["plain"]
    frames = [text("first"), frame(OP_PING, b"p"), binary(b"\x00\x01")]
    with Client(srv.port) as c:
        if mode == "whole":
            c.handshake(then=b"".join(frames))
        elif mode == "frames":
            c.handshake(then=frames[0])
            c.send_case(frames[1:], "frames")
        else:
            c.handshake(then=frames[0][:1])
            c.send_case([frames[0][1:], *frames[1:]], "bytes")
        check_frames(
            c, [Msg(OP_TEXT, b"first"), Msg(OP_PONG, b"p"), Msg(OP_BINARY, b"\x00\x01")], TIMEOUT
        )
    fresh_ok(srv)


def test_bad_frame_in_the_handshake_packet(servers: dict[str, Server]) -> None:
    srv = servers["plain"]
    with Client(srv.port) as c:
        c.handshake(then=text("x", mask=False))
        check_frames(c, [Close(1002)], TIMEOUT)
    fresh_ok(srv)


def test_server_ping_when_idle(start: Callable[..., Server]) -> None:
    """ws_ping_ms: a quiet connection gets a Ping (empty, unmasked, FIN); after a Pong
    it still echoes."""
    srv = start("ws_ping_ms=300")
    with Client(srv.port) as c:
        c.handshake()
        f = c.read_frame(3.0)
        assert (f.opcode, f.payload, f.fin) == (OP_PING, b"", True)
        c.write(frame(OP_PONG, b""))
        c.write(text("alive"))
        f = c.read_frame()
        while f.opcode == OP_PING:  # another idle Ping may cross
            f = c.read_frame()
        assert (f.opcode, f.payload) == (OP_TEXT, b"alive")
    assert srv.alive()


def test_no_answer_to_the_ping_closes_1011(start: Callable[..., Server]) -> None:
    """ws_pong_ms: a peer that sends nothing after the idle Ping is taken for gone:
    Close 1011, then the connection closes, not before the wait has passed."""
    srv = start("ws_ping_ms=200", "ws_pong_ms=400")
    with Client(srv.port) as c:
        c.handshake()
        assert c.read_frame(3.0).opcode == OP_PING
        t0 = time.monotonic()
        f = c.read_frame(3.0)
        assert time.monotonic() - t0 >= 0.38
        assert (f.opcode, f.close_code, f.payload[2:]) == (
            OP_CLOSE, 1011, b"keepalive ping timeout")
        c.expect_eof()
    fresh_ok(srv)


def test_any_input_answers_the_ping(start: Callable[..., Server]) -> None:
    """After the idle Ping, a Pong or any frame keeps the connection: it lives on past
    the Pong wait, pinged again after each quiet interval."""
    srv = start("ws_ping_ms=200", "ws_pong_ms=300")
    with Client(srv.port) as c:
        c.handshake()
        for answer, echo in ((frame(OP_PONG), None), (text("busy"), b"busy"),
                             (frame(OP_PONG), None)):
            assert c.read_frame(3.0).opcode == OP_PING
            c.write(answer)
            if echo is not None:
                assert c.read_frame().payload == echo
        c.write(text("alive"))
        f = c.read_frame()
        while f.opcode == OP_PING:
            f = c.read_frame()
        assert (f.opcode, f.payload) == (OP_TEXT, b"alive")
    fresh_ok(srv)


def test_server_ping_not_before_ws_ping_ms(start: Callable[..., Server]) -> None:
    srv = start("ws_ping_ms=700")
    waits = []
    for _ in range(5):
        with Client(srv.port) as c:
            c.handshake()
            t0 = time.monotonic()
            f = c.read_frame(3.0)
            waits.append(time.monotonic() - t0)
            assert f.opcode == OP_PING
    assert min(waits) >= 0.68, [round(w, 3) for w in waits]


# ---- the opening handshake --------------------------------------------------------------------


def raw_response(srv: Server, req: bytes) -> tuple[int, dict[str, list[str]]]:
    with Client(srv.port) as c:
        c.write(req)
        return c.read_head()


def test_handshake_101_fields(servers: dict[str, Server]) -> None:
    with Client(servers["plain"].port) as c:
        fields = c.handshake()
        assert "sec-websocket-extensions" not in fields
        assert "sec-websocket-protocol" not in fields


def test_handshake_subprotocol_first_offered(servers: dict[str, Server]) -> None:
    with Client(servers["plain"].port) as c:
        fields = c.handshake(protocol="chat, superchat")
        assert fields["sec-websocket-protocol"] == ["chat"]


def test_handshake_wrong_version_426(servers: dict[str, Server]) -> None:
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    status, fields = raw_response(servers["plain"], wf.upgrade_request(key, version="8"))
    assert status == 426
    assert fields["sec-websocket-version"] == ["13"]


@pytest.mark.parametrize(
    "key",
    ["", "short", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ=!"],
    ids=["empty", "short", "no_pad", "bad_char"],
)
def test_handshake_bad_key_400(servers: dict[str, Server], key: str) -> None:
    status, _ = raw_response(servers["plain"], wf.upgrade_request(key))
    assert status == 400
    fresh_ok(servers["plain"])


def test_handshake_sample_key(servers: dict[str, Server]) -> None:
    """RFC 6455 1.3's example: key dGhlIHNhbXBsZSBub25jZQ== -> s3pPLMBiTxaQ9kYGzzhZRbK+xOo=."""
    status, fields = raw_response(servers["plain"], wf.upgrade_request("dGhlIHNhbXBsZSBub25jZQ=="))
    assert status == 101
    assert fields["sec-websocket-accept"] == ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]


@pytest.mark.parametrize(
    "req",
    [
        b"POST / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        b"GET / HTTP/1.0\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Version: 13\r\n\r\n",
    ],
    ids=["post", "http10", "no_upgrade", "no_connection_upgrade", "no_version", "no_key"],
)
def test_handshake_invalid_request_400(servers: dict[str, Server], req: bytes) -> None:
    status, _ = raw_response(servers["plain"], req)
    assert status == 400
    fresh_ok(servers["plain"])


def test_handshake_token_lists_and_case(servers: dict[str, Server]) -> None:
    """Connection is a token list, Upgrade and the tokens are case-insensitive."""
    req = (
        b"GET /chat?x=1 HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\n"
        b"Connection: keep-alive, Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        b"SEC-WEBSOCKET-VERSION: 13\r\n\r\n"
    )
    with Client(servers["plain"].port) as c:
        c.write(req)
        status, fields = c.read_head()
        assert status == 101
        assert fields["sec-websocket-accept"] == ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="]
        c.write(text("hi"))
        f = c.read_frame()
        assert (f.opcode, f.payload) == (OP_TEXT, b"hi")


# ---- permessage-deflate negotiation (RFC 7692 7.1) --------------------------------------------


def negotiate(srv: Server, offer: str) -> tuple[Client, dict[str, str] | None]:
    c = Client(srv.port)
    fields = c.handshake(extensions=offer)
    ext = fields.get("sec-websocket-extensions")
    return c, (wf.parse_pmd_response(",".join(ext)) if ext else None)


def echo_roundtrip(
    c: Client, messages: list[tuple[int, bytes]], comp_factory: Callable[[], zlib._Compress]
) -> None:
    """Sends each message compressed (a compressor from comp_factory per message, or one
    for all when it returns the same object) and checks the echo."""
    for op, data in messages:
        c.write(frame(op, deflate_raw(data, comp_factory()), rsv=RSV1))
        f = c.read_frame()
        assert (f.opcode, f.fin) == (op, True)
        same_payload(f.payload, data)
    c.write(close_frame(1000))
    f = c.read_frame()
    assert f.opcode == OP_CLOSE and f.close_code == 1000
    c.expect_eof()


MESSAGES = [(OP_TEXT, pattern(2000)), (OP_TEXT, pattern(2000)), (OP_BINARY, rnd(1500) * 3)]


def test_pmd_plain_offer(servers: dict[str, Server]) -> None:
    c, params = negotiate(servers["deflate"], PMD)
    with c:
        assert params is not None
        assert "client_max_window_bits" not in params  # not offered: must not come back
        comp = compressor()
        echo_roundtrip(c, MESSAGES, lambda: comp)


def test_pmd_declined_when_disabled(servers: dict[str, Server]) -> None:
    c, params = negotiate(servers["plain"], PMD)  # ws_deflate=0
    with c:
        assert params is None
        c.write(text("x", rsv=RSV1))
        check_frames(c, [Close(1002)], TIMEOUT)


def test_pmd_declined_with_no_defrag(servers: dict[str, Server]) -> None:
    c, params = negotiate(servers["nodefrag"], PMD)
    with c:
        assert params is None


@pytest.mark.parametrize(
    "offer",
    [
        "permessage-deflate; foo",
        "permessage-deflate; server_max_window_bits=7",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; client_max_window_bits=08",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "x-webkit-deflate-frame",
    ],
)
def test_pmd_bad_offer_declined(servers: dict[str, Server], offer: str) -> None:
    c, params = negotiate(servers["deflate"], offer)
    with c:
        assert params is None
        c.write(text("plain"))
        f = c.read_frame()
        assert (f.opcode, f.payload) == (OP_TEXT, b"plain")


def test_pmd_second_offer_taken(servers: dict[str, Server]) -> None:
    c, params = negotiate(
        servers["deflate"],
        "permessage-deflate; foo=bar, x-other, permessage-deflate; server_no_context_takeover",
    )
    with c:
        assert params == {"server_no_context_takeover": ""}
        echo_roundtrip(c, MESSAGES, compressor)


def test_pmd_server_no_context_takeover(servers: dict[str, Server]) -> None:
    """Each echo must inflate with a fresh context (the reader resets per message)."""
    c, params = negotiate(servers["deflate"], "permessage-deflate; server_no_context_takeover")
    with c:
        assert params is not None and "server_no_context_takeover" in params
        assert c.server_no_context_takeover
        comp = compressor()
        echo_roundtrip(c, MESSAGES, lambda: comp)


def test_pmd_client_no_context_takeover(servers: dict[str, Server]) -> None:
    """The client compresses each message afresh; the server may echo the parameter."""
    c, params = negotiate(servers["deflate"], "permessage-deflate; client_no_context_takeover")
    with c:
        assert params is not None
        assert set(params) <= {"client_no_context_takeover"}
        echo_roundtrip(c, MESSAGES, compressor)


@pytest.mark.parametrize("bits", [8, 10, 15])
def test_pmd_client_max_window_bits(servers: dict[str, Server], bits: int) -> None:
    """client_max_window_bits=N offered: if answered, with a value <= N; the client then
    compresses with N bits (zlib takes 9 for 8)."""
    c, params = negotiate(servers["deflate"], f"permessage-deflate; client_max_window_bits={bits}")
    with c:
        assert params is not None
        if "client_max_window_bits" in params:
            assert 8 <= int(params["client_max_window_bits"]) <= bits
        comp = compressor(max(bits, 9))
        echo_roundtrip(c, MESSAGES, lambda: comp)


def test_pmd_client_max_window_bits_hint(servers: dict[str, Server]) -> None:
    c, params = negotiate(servers["deflate"], "permessage-deflate; client_max_window_bits")
    with c:
        assert params is not None
        if "client_max_window_bits" in params:
            assert 8 <= int(params["client_max_window_bits"]) <= 15
        comp = compressor()
        echo_roundtrip(c, MESSAGES, lambda: comp)


@pytest.mark.parametrize("bits", [8, 9, 10, 12])
def test_pmd_server_max_window_bits(servers: dict[str, Server], bits: int) -> None:
    """server_max_window_bits=N offered and accepted: no match in the server's stream
    (context carried across messages) may reach back more than 2**N bytes."""
    c, params = negotiate(servers["deflate"], f"permessage-deflate; server_max_window_bits={bits}")
    with c:
        assert params is not None and params.get("server_max_window_bits") == str(bits)
        far = rnd(3000, 7)
        msgs = [
            (OP_BINARY, far + far),
            (OP_BINARY, far),
            (OP_TEXT, pattern(5000)),
            (OP_BINARY, rnd(200) * 8),
        ]
        comp = compressor()
        stream, plain = b"", b""
        for op, data in msgs:
            c.write(frame(op, deflate_raw(data, comp), rsv=RSV1))
            f = c.read_frame()
            assert (f.opcode, f.fin) == (op, True)
            same_payload(f.payload, data)
            assert f.rsv & RSV1, "messages over 64 bytes come compressed"
            stream += f.wire + wf.DEFLATE_TAIL
            plain += data
        out, maxd = wf.inflate_max_distance(stream)
        assert out == plain
        assert maxd <= 1 << bits, (maxd, bits)
        c.write(close_frame(1000))
        f = c.read_frame()
        assert f.opcode == OP_CLOSE and f.close_code == 1000
        c.expect_eof()


def test_pmd_all_parameters(servers: dict[str, Server]) -> None:
    offer = (
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
        "server_max_window_bits=9; client_max_window_bits=9"
    )
    c, params = negotiate(servers["deflate"], offer)
    with c:
        assert params is not None
        assert "server_no_context_takeover" in params
        assert params.get("server_max_window_bits") == "9"
        if "client_max_window_bits" in params:
            assert 8 <= int(params["client_max_window_bits"]) <= 9
        echo_roundtrip(c, MESSAGES, lambda: compressor(9))


def test_servers_survived(servers: dict[str, Server]) -> None:
    for name, srv in servers.items():
        assert srv.alive(), name
        fresh_ok(srv)
