"""Raw WebSocket frames for conformance tests (RFC 6455, RFC 7692), over plain sockets.

- frame(...) builds one client frame, masked by default, with any first byte, any
  length form (minimal by default; a longer one on request) and any payload;
- Client does the opening handshake by hand (checking the 101 and
  Sec-WebSocket-Accept), sends bytes in one write, frame by frame or one byte at a time,
  and reads the server's frames strictly (no mask, minimal lengths, RSV bits only as
  negotiated), with every wait bounded.

Nothing here knows the server under test; the expectations live in the tests.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import select
import socket
import struct
import time
import zlib
from dataclasses import dataclass, field

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TIMEOUT = 5.0

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0, 1, 2, 8, 9, 10
FIN, RSV1, RSV2, RSV3 = 0x80, 0x40, 0x20, 0x10
DEFLATE_TAIL = b"\x00\x00\xff\xff"

# Send modes of a case: the whole case in one write, one write per frame, one write per
# byte (see Client.send_case).
MODES = ("whole", "frames", "bytes")


# ---- building client frames ------------------------------------------------------------


def mask_bytes(data: bytes, key: bytes) -> bytes:
    """XORs data with the 4-byte key repeated (masking and unmasking are the same)."""
    if not data:
        return b""
    n = len(data)
    k = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(n, "big")


def length_field(n: int, form: int | None = None) -> tuple[int, bytes]:
    """(7-bit code, extended bytes) for payload length n; `form` forces 7, 16 or 64 bits
    (a non-minimal form when n is small), None picks the minimal one."""
    if form is None:
        form = 7 if n < 126 else 16 if n < 65536 else 64
    if form == 7:
        assert n < 126
        return n, b""
    if form == 16:
        return 126, struct.pack("!H", n)
    return 127, struct.pack("!Q", n)


def frame(
    opcode: int,
    payload: bytes = b"",
    *,
    fin: bool = True,
    rsv: int = 0,
    mask: bool = True,
    key: bytes | None = None,
    form: int | None = None,
    length: int | None = None,
) -> bytes:
    """One client frame: FIN (unless fin=False), the RSV bits `rsv` (RSV1|RSV2|RSV3
    values), `opcode`, the payload masked with `key` (random when None) unless
    mask=False. `length` announces another length than len(payload) (a truncated frame,
    or a header alone); `form` forces the length encoding (7, 16 or 64 bits)."""
    first = (FIN if fin else 0) | rsv | opcode
    code, ext = length_field(len(payload) if length is None else length, form)
    if not mask:
        return bytes([first, code]) + ext + payload
    key = os.urandom(4) if key is None else key
    return bytes([first, 0x80 | code]) + ext + key + mask_bytes(payload, key)


def header_len(raw: bytes) -> int:
    """The header length of the client frame at the start of raw (whatever it holds)."""
    if len(raw) < 2:
        return len(raw)
    code = raw[1] & 0x7F
    n = 2 + (2 if code == 126 else 8 if code == 127 else 0) + (4 if raw[1] & 0x80 else 0)
    return min(n, len(raw))


def text(payload: str | bytes, **kw: object) -> bytes:
    data = payload.encode() if isinstance(payload, str) else payload
    return frame(OP_TEXT, data, **kw)  # type: ignore[arg-type]


def binary(payload: bytes, **kw: object) -> bytes:
    return frame(OP_BINARY, payload, **kw)  # type: ignore[arg-type]


def close_frame(code: int | None = None, reason: bytes = b"", **kw: object) -> bytes:
    payload = b"" if code is None else struct.pack("!H", code) + reason
    return frame(OP_CLOSE, payload, **kw)  # type: ignore[arg-type]


def fragments(opcode: int, parts: list[bytes], **kw: object) -> list[bytes]:
    """A message as len(parts) frames: `opcode` first, continuations after, FIN last."""
    out = []
    for i, part in enumerate(parts):
        op = opcode if i == 0 else OP_CONT
        out.append(frame(op, part, fin=i == len(parts) - 1, **kw))  # type: ignore[arg-type]
    return out


def split(data: bytes, n: int) -> list[bytes]:
    """data cut into n pieces as even as possible (some may be empty when n > len)."""
    step, extra = divmod(len(data), n)
    out, at = [], 0
    for i in range(n):
        size = step + (1 if i < extra else 0)
        out.append(data[at : at + size])
        at += size
    return out


def deflate_raw(data: bytes, comp: zlib._Compress | None = None, wbits: int = 15) -> bytes:
    """A permessage-deflate payload (RFC 7692 7.2.1): raw DEFLATE ended by a sync flush,
    without the trailing 00 00 FF FF; `comp` keeps the context across messages."""
    c = comp if comp is not None else zlib.compressobj(9, zlib.DEFLATED, -wbits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(DEFLATE_TAIL)
    return out[:-4]


def short(data: bytes, keep: int = 40) -> str:
    """A payload for messages: in full when short, else its length and both ends."""
    if len(data) <= keep:
        return repr(data)
    return f"<{len(data)} bytes {data[:16]!r}...{data[-8:]!r}>"


# ---- reading server frames ---------------------------------------------------------------


@dataclass
class Frame:
    fin: bool
    rsv: int
    opcode: int
    payload: bytes  # inflated when the frame came compressed
    header: bytes = field(repr=False, default=b"")
    wire: bytes = field(repr=False, default=b"")  # the payload as sent

    def __repr__(self) -> str:
        return (
            f"Frame(fin={self.fin}, rsv={self.rsv:#x}, opcode={self.opcode}, "
            f"payload={short(self.payload)})"
        )

    @property
    def close_code(self) -> int | None:
        assert self.opcode == OP_CLOSE
        return struct.unpack("!H", self.payload[:2])[0] if len(self.payload) >= 2 else None


class ProtocolViolation(AssertionError):
    """The server sent something RFC 6455 forbids it to send."""


class Closed(AssertionError):
    """The connection ended before what was expected arrived."""


def accept_for(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def upgrade_request(
    key: str,
    *,
    path: str = "/",
    extensions: str | None = None,
    protocol: str | None = None,
    version: str = "13",
    extra: str = "",
) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        f"Sec-WebSocket-Version: {version}",
    ]
    if extensions is not None:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    if protocol is not None:
        lines.append(f"Sec-WebSocket-Protocol: {protocol}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode("latin-1")


def parse_head(head: bytes) -> tuple[int, dict[str, list[str]]]:
    """(status, fields by lower-case name) of a response head (without the blank line)."""
    lines = head.decode("latin-1").split("\r\n")
    m = re.fullmatch(r"HTTP/1\.1 (\d{3}) .*", lines[0])
    assert m, lines[0]
    fields: dict[str, list[str]] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields.setdefault(name.strip().lower(), []).append(value.strip())
    return int(m.group(1)), fields


def tokens(value: str) -> list[str]:
    return [t.strip().lower() for t in value.split(",") if t.strip()]


class Client:
    """One raw connection to a WebSocket server.

    Bytes that arrive are collected in `buf` whenever the client pumps (also while it
    sends, so that nothing is lost to a reset once the server closes); `eof` is set when
    the server closed. `inflater` (set after a permessage-deflate handshake) decompresses
    frames that come with RSV1."""

    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)
        self.buf = bytearray()
        self.eof = False
        self.reset = False
        self.send_failed = False
        self.deflate = False
        self.inflater: zlib._Decompress | None = None
        self.server_no_context_takeover = False
        self.server_window_bits = 15
        self.head_fields: dict[str, list[str]] = {}

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- I/O ------------------------------------------------------------------------------

    def pump(self, timeout: float = 0.0) -> bool:
        """Reads what is available (waiting up to `timeout` s for the first byte); True
        when something arrived or the connection ended."""
        if self.eof:
            return False
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return False
        got = False
        while True:
            try:
                chunk = self.sock.recv(1 << 20)
            except (BlockingIOError, InterruptedError):
                return got
            except ConnectionResetError:
                self.eof = self.reset = True
                return True
            if not chunk:
                self.eof = True
                return True
            self.buf += chunk
            got = True

    def need(self, n: int, timeout: float = TIMEOUT) -> None:
        """Waits until buf holds n bytes; Closed when the connection ends first."""
        deadline = time.monotonic() + timeout
        while len(self.buf) < n:
            if self.eof:
                raise Closed(f"connection closed with {len(self.buf)} of {n} bytes")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"timeout: {len(self.buf)} of {n} bytes in {timeout} s")
            self.pump(min(left, 0.5))

    def take(self, n: int, timeout: float = TIMEOUT) -> bytes:
        self.need(n, timeout)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def write(self, data: bytes) -> bool:
        """Sends all of data (pumping input meanwhile); False once the server is gone."""
        view = memoryview(data)
        deadline = time.monotonic() + 4 * TIMEOUT
        while view:
            if self.send_failed:
                return False
            try:
                n = self.sock.send(view)
                view = view[n:]
            except (BlockingIOError, InterruptedError):
                if time.monotonic() > deadline:
                    raise AssertionError("the server stopped reading") from None
                r, _w, _ = select.select([self.sock], [self.sock], [], 0.5)
                if r:
                    self.pump()
            except (BrokenPipeError, ConnectionResetError):
                self.send_failed = True
                return False
        return True

    def send_case(self, chunks: list[bytes], mode: str, gap: float = 0.0003) -> None:
        """Sends the frames `chunks` (each the bytes of one frame, or any piece):
        - "whole": everything in one write;
        - "frames": one write per chunk, with a short pause between;
        - "bytes": one write per byte with a short pause after each (TCP_NODELAY is on,
          so each byte travels alone); in a payload over 4 KiB only the first and last
          KiB go byte by byte, the middle in 64 KiB writes (a MiB byte by byte would
          take minutes).
        Input is pumped during the pauses; sending stops quietly once the server has
        closed (the expectations then say whether that was right)."""
        if mode == "whole":
            self.write(b"".join(chunks))
            self.pump()
            return
        for chunk in chunks:
            if mode == "frames":
                if not self.write(chunk):
                    return
                self.pump(gap)
                continue
            assert mode == "bytes", mode
            for piece in byte_pieces(chunk):
                if self.eof or not self.write(piece):
                    return
                self.pump(gap)

    # -- the opening handshake --------------------------------------------------------------

    def handshake(
        self,
        *,
        extensions: str | None = None,
        protocol: str | None = None,
        then: bytes = b"",
        path: str = "/",
    ) -> dict[str, list[str]]:
        """Sends the upgrade request (followed by `then` in the same write), reads the
        response head and checks a valid 101 (RFC 6455 4.2.2). Returns its fields; sets
        up the inflater when permessage-deflate was accepted."""
        key = base64.b64encode(os.urandom(16)).decode()
        req = upgrade_request(key, path=path, extensions=extensions, protocol=protocol)
        self.write(req + then)
        status, fields = self.read_head()
        assert status == 101, (status, fields)
        assert fields.get("sec-websocket-accept") == [accept_for(key)], fields
        assert "websocket" in tokens(",".join(fields.get("upgrade", []))), fields
        assert "upgrade" in tokens(",".join(fields.get("connection", []))), fields
        ext = fields.get("sec-websocket-extensions")
        if ext is not None:
            assert extensions is not None, f"extension answered without an offer: {ext}"
            params = parse_pmd_response(",".join(ext))
            self.deflate = True
            self.server_no_context_takeover = "server_no_context_takeover" in params
            bits = params.get("server_max_window_bits")
            self.server_window_bits = int(bits) if bits else 15
            self.inflater = zlib.decompressobj(-self.server_window_bits)
        self.head_fields = fields
        return fields

    def read_head(self, timeout: float = TIMEOUT) -> tuple[int, dict[str, list[str]]]:
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in self.buf:
            if self.eof:
                raise Closed(f"closed before a response head: {bytes(self.buf)!r}")
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"no response head: {bytes(self.buf)!r}")
            self.pump(min(left, 0.5))
        end = self.buf.index(b"\r\n\r\n")
        head = bytes(self.buf[:end])
        del self.buf[: end + 4]
        return parse_head(head)

    # -- server frames ------------------------------------------------------------------------

    def read_frame(self, timeout: float = TIMEOUT) -> Frame:
        """The next server frame, checked against RFC 6455 5.1-5.2: no mask, minimal
        length, no RSV bit except RSV1 on the first frame of a compressed message."""
        deadline = time.monotonic() + timeout
        h = self.take(2, timeout)
        first, second = h[0], h[1]
        if second & 0x80:
            raise ProtocolViolation(f"masked server frame: {h!r}")
        code = second & 0x7F
        ext = b""
        if code == 126:
            ext = self.take(2, max(0.0, deadline - time.monotonic()))
            n = struct.unpack("!H", ext)[0]
            if n < 126:
                raise ProtocolViolation(f"16-bit length {n} (not minimal)")
        elif code == 127:
            ext = self.take(8, max(0.0, deadline - time.monotonic()))
            n = struct.unpack("!Q", ext)[0]
            if n < 65536 or n >> 63:
                raise ProtocolViolation(f"64-bit length {n} (not minimal)")
        else:
            n = code
        payload = self.take(n, max(1.0, deadline - time.monotonic()))
        rsv = first & 0x70
        opcode = first & 0x0F
        if rsv & (RSV2 | RSV3) or (rsv & RSV1 and not self.deflate):
            raise ProtocolViolation(f"server frame with RSV bits {rsv:#x}")
        if rsv & RSV1 and opcode not in (OP_TEXT, OP_BINARY):
            raise ProtocolViolation(f"RSV1 on opcode {opcode}")
        if opcode in (3, 4, 5, 6, 7) or opcode > 10:
            raise ProtocolViolation(f"server frame with reserved opcode {opcode}")
        if opcode >= 8 and (not first & FIN or n > 125):
            raise ProtocolViolation("fragmented or oversized control frame from the server")
        wire = payload
        if rsv & RSV1:
            payload = self.inflate(payload)
        return Frame(bool(first & FIN), rsv, opcode, payload, h + ext, wire)

    def inflate(self, payload: bytes) -> bytes:
        assert self.inflater is not None
        if self.server_no_context_takeover:
            self.inflater = zlib.decompressobj(-self.server_window_bits)
        return self.inflater.decompress(payload + DEFLATE_TAIL)

    def expect_eof(self, timeout: float = TIMEOUT) -> None:
        """The server closes the TCP connection (after its Close) within `timeout`;
        nothing more than what is already read may come."""
        deadline = time.monotonic() + timeout
        while not self.eof:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError(f"the server did not close the connection in {timeout} s")
            self.pump(min(left, 0.5))
        assert not self.buf, f"bytes after the server's Close: {bytes(self.buf[:64])!r}"


def byte_pieces(chunk: bytes) -> list[bytes]:
    """The writes of "bytes" mode for one chunk (see Client.send_case)."""
    hl = header_len(chunk)
    if len(chunk) - hl <= 4096:
        return [chunk[i : i + 1] for i in range(len(chunk))]
    head_end, tail_start = hl + 1024, len(chunk) - 1024
    out = [chunk[i : i + 1] for i in range(head_end)]
    out += [chunk[i : min(i + 65536, tail_start)] for i in range(head_end, tail_start, 65536)]
    out += [chunk[i : i + 1] for i in range(tail_start, len(chunk))]
    return out


def parse_pmd_response(value: str) -> dict[str, str]:
    """The parameters of the one permessage-deflate element of a response value."""
    elements = [e.strip() for e in value.split(",") if e.strip()]
    assert len(elements) == 1, value
    parts = [p.strip() for p in elements[0].split(";")]
    assert parts[0].lower() == "permessage-deflate", value
    params: dict[str, str] = {}
    for p in parts[1:]:
        name, _, v = p.partition("=")
        name = name.strip().lower()
        assert name not in params, f"repeated parameter {name}: {value}"
        params[name] = v.strip().strip('"')
    return params


# ---- a DEFLATE decoder that measures match distances (RFC 1951) -------------------------


class _Bits:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0  # bit position

    def bit(self) -> int:
        byte = self.data[self.pos >> 3]  # IndexError at the end of the input
        b = (byte >> (self.pos & 7)) & 1
        self.pos += 1
        return b

    def bits(self, n: int) -> int:
        v = 0
        for i in range(n):
            v |= self.bit() << i
        return v

    def align(self) -> None:
        self.pos = (self.pos + 7) & ~7


def _huffman(lengths: list[int]) -> dict[tuple[int, int], int]:
    """(code length, code) -> symbol for canonical Huffman code lengths."""
    table: dict[tuple[int, int], int] = {}
    code = 0
    for n in range(1, 16):
        for sym, ln in enumerate(lengths):
            if ln == n:
                table[(n, code)] = sym
                code += 1
        code <<= 1
    return table


def _decode_sym(b: _Bits, table: dict[tuple[int, int], int]) -> int:
    code = 0
    for n in range(1, 16):
        code = (code << 1) | b.bit()
        sym = table.get((n, code))
        if sym is not None:
            return sym
    raise ValueError("bad Huffman code")


_LEN_EXTRA = [0] * 8 + [e for e in range(1, 6) for _ in range(4)] + [0]
_LEN_BASE = [3 + sum(1 << e for e in _LEN_EXTRA[:k]) for k in range(28)] + [258]
_DIST_EXTRA = [0, 0, 0, 0] + [i // 2 for i in range(2, 28)]
_DIST_BASE = [1 + sum(1 << e for e in _DIST_EXTRA[:k]) for k in range(30)]
_CL_ORDER = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]


def inflate_max_distance(data: bytes) -> tuple[bytes, int]:
    """Decodes a raw DEFLATE stream (up to its end, or up to a final block) and returns
    (output, the longest match distance used). Slow; for a few KiB."""
    b = _Bits(data)
    out = bytearray()
    maxd = 0
    fixed_lit = _huffman([8] * 144 + [9] * 112 + [7] * 24 + [8] * 8)
    fixed_dist = _huffman([5] * 30)
    while b.pos < len(data) * 8:
        if len(data) * 8 - b.pos < 3:
            break  # padding bits
        final = b.bit()
        btype = b.bits(2)
        if btype == 0:
            b.align()
            p = b.pos >> 3
            n, nn = struct.unpack("<HH", data[p : p + 4])
            assert n ^ nn == 0xFFFF, "bad stored block"
            out += data[p + 4 : p + 4 + n]
            b.pos = (p + 4 + n) * 8
        elif btype in (1, 2):
            if btype == 1:
                lit, dist = fixed_lit, fixed_dist
            else:
                hlit, hdist, hclen = b.bits(5) + 257, b.bits(5) + 1, b.bits(4) + 4
                cl = [0] * 19
                for i in range(hclen):
                    cl[_CL_ORDER[i]] = b.bits(3)
                cl_table = _huffman(cl)
                lengths: list[int] = []
                while len(lengths) < hlit + hdist:
                    sym = _decode_sym(b, cl_table)
                    if sym < 16:
                        lengths.append(sym)
                    elif sym == 16:
                        lengths += [lengths[-1]] * (3 + b.bits(2))
                    elif sym == 17:
                        lengths += [0] * (3 + b.bits(3))
                    else:
                        lengths += [0] * (11 + b.bits(7))
                lit, dist = _huffman(lengths[:hlit]), _huffman(lengths[hlit:])
            while True:
                sym = _decode_sym(b, lit)
                if sym < 256:
                    out.append(sym)
                elif sym == 256:
                    break
                else:
                    k = sym - 257
                    length = _LEN_BASE[k] + b.bits(_LEN_EXTRA[k])
                    ds = _decode_sym(b, dist)
                    d = _DIST_BASE[ds] + b.bits(_DIST_EXTRA[ds])
                    assert d <= len(out), "distance before the start"
                    maxd = max(maxd, d)
                    for _ in range(length):
                        out.append(out[-d])
        else:
            raise ValueError("reserved block type")
        if final:
            break
    return bytes(out), maxd
