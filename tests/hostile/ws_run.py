"""Running one WebSocket case (ws.WsCase) against the in-process Site server."""

from __future__ import annotations

import base64
import hashlib
import struct

from .site import Server
from .wire import Peer, send_modes
from .ws import NO_CODE, OP_CLOSE, OP_TEXT, WsCase, close, text
from .ws_handshake import GOOD_KEY, upgrade

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def accept_value(key: str) -> bytes:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest())


def server_frames(buf: bytes) -> tuple[list[tuple[int, bytes]], int]:
    """The whole frames at the front of `buf` (server frames: unmasked) as (opcode,
    payload), and the bytes they took. Server frames are final and unfragmented here."""
    out, at = [], 0
    while len(buf) - at >= 2:
        b0, b1 = buf[at], buf[at + 1]
        assert b1 & 0x80 == 0, "a server frame is never masked"
        assert b0 & 0x70 == 0, "no RSV bits without an extension"
        n, head = b1 & 0x7F, 2
        if n == 126:
            if len(buf) - at < 4:
                break
            n, head = struct.unpack("!H", buf[at + 2 : at + 4])[0], 4
        elif n == 127:
            if len(buf) - at < 10:
                break
            n, head = struct.unpack("!Q", buf[at + 2 : at + 10])[0], 10
        if len(buf) - at < head + n:
            break
        out.append((b0 & 0x0F, bytes(buf[at + head : at + head + n])))
        at += head + n
    return out, at


def open_ws(srv: Server, pieces: list[bytes] | None = None) -> Peer:
    """A connection past a good opening handshake, sent as `pieces` (default: a plain
    upgrade in one write); the 101 (after any other answers) checked and removed."""
    peer = Peer(srv.mgr, srv.port)
    peer.send_all(pieces or [upgrade()])
    peer.wait(
        lambda p: (
            b"HTTP/1.1 101 " in p.got and b"\r\n\r\n" in p.got[p.got.index(b"HTTP/1.1 101 ") :]
        ),
        "the 101",
    )
    del peer.got[: peer.got.index(b"HTTP/1.1 101 ")]
    end = peer.got.index(b"\r\n\r\n") + 4
    head = bytes(peer.got[:end])
    assert head.startswith(b"HTTP/1.1 101 "), head
    assert b"Sec-WebSocket-Accept: " + accept_value(GOOD_KEY) + b"\r\n" in head
    del peer.got[:end]
    return peer


def close_code(payload: bytes) -> int:
    return NO_CODE if not payload else struct.unpack("!H", payload[:2])[0]


def check_exchange(srv: Server, case: WsCase, pieces: list[bytes]) -> None:
    with open_ws(srv) as peer:
        peer.send_all(pieces)
        want = list(case.echoes)
        if case.close is None:
            peer.wait(lambda p: len(server_frames(bytes(p.got))[0]) >= len(want), "the echoes")
            peer.send(close(1000))
        peer.wait(lambda p: p.eof, "the server closes")
        frames = server_frames(bytes(peer.got))[0]
        assert frames[:-1] == want, f"frames {frames[:-1]!r:.300}, want {want!r:.300}"
        assert frames and frames[-1][0] == OP_CLOSE, f"no Close: {frames!r:.300}"
        code = close_code(frames[-1][1])
        assert code == (1000 if case.close is None else case.close), f"Close code {code}"


def check_echo(peer: Peer) -> None:
    peer.send(text(b"fresh"))
    peer.wait(lambda p: server_frames(bytes(p.got))[0], "an echo")
    assert server_frames(bytes(peer.got))[0][0] == (OP_TEXT, b"fresh")


def run_handshake(srv: Server, data: bytes) -> None:
    """A valid handshake in every send mode: the 101, then an echo."""
    for mode, pieces in send_modes(data):
        try:
            with open_ws(srv, pieces) as peer:
                check_echo(peer)
        except AssertionError as e:
            raise AssertionError(f"[{mode}] {e}") from None


def check_fresh(srv: Server) -> None:
    """A new WebSocket is served normally."""
    with open_ws(srv) as peer:
        peer.send(text(b"fresh"))
        peer.wait(lambda p: server_frames(bytes(p.got))[0], "the echo on a fresh WebSocket")
        assert server_frames(bytes(peer.got))[0][0] == (OP_TEXT, b"fresh")


def run_case(srv: Server, case: WsCase) -> None:
    for mode, pieces in send_modes(case.data):
        try:
            check_exchange(srv, case, pieces)
        except AssertionError as e:
            raise AssertionError(f"[{mode}] {e}") from None
    check_fresh(srv)
