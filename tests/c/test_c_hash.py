"""MD5, SHA-1 and HMAC-SHA1 through cffi, checked against Python's hashlib and hmac on
seeded random inputs: one-shot, fed whole / byte by byte / split at every point, as
message vectors, and through cs_md5's argument pairs; plus cs_to_hex and the wiping of
the context."""

from __future__ import annotations

import hashlib
import hmac
import random

import pytest
from cutil import splits

# Lengths 0..300 cover the 55/56 padding edge and the 63/64/65 block edge several times.
LENGTHS = [*range(301), 1000, 4095, 4096, 65537, 1 << 20]
# For the incremental feeds (each split point is a separate hash): the edges only.
SPLIT_LENGTHS = [0, 1, 2, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 130]


class Algo:
    def __init__(self, ffi, lib, name: str):
        self.ffi, self.lib, self.name = ffi, lib, name
        self.size = hashlib.new(name).digest_size
        self.ctype = f"cs_{name}_ctx *"
        self.init = getattr(lib, f"cs_{name}_init")
        self.update = getattr(lib, f"cs_{name}_update")
        self.final = getattr(lib, f"cs_{name}_final")
        self.vector = getattr(lib, f"mg_hash_{name}_v")

    def feed(self, pieces: list[bytes], ctx=None) -> bytes:
        ctx = ctx or self.ffi.new(self.ctype)
        self.init(ctx)
        for piece in pieces:
            self.update(ctx, piece, len(piece))
        out = self.ffi.new("unsigned char[]", self.size)
        self.final(out, ctx)
        return self.ffi.buffer(out)[:]


@pytest.fixture(params=["md5", "sha1"])
def algo(request, ffi, lib):
    return Algo(ffi, lib, request.param)


def test_c_hash_matches_hashlib(algo):
    rng = random.Random(10)
    for n in LENGTHS:
        data = rng.randbytes(n)
        assert algo.feed([data]) == hashlib.new(algo.name, data).digest(), n


def test_c_hash_split_feeds(algo):
    rng = random.Random(11)
    for n in SPLIT_LENGTHS:
        data = rng.randbytes(n)
        want = hashlib.new(algo.name, data).digest()
        for pieces in splits(data):
            assert algo.feed(pieces) == want, (n, [len(p) for p in pieces])


def test_c_hash_random_piece_sizes(algo):
    rng = random.Random(12)
    for _ in range(50):
        data = rng.randbytes(rng.randrange(5000))
        cuts = sorted(rng.sample(range(len(data) + 1), k=min(len(data) + 1, 12)))
        pieces = [data[a:b] for a, b in zip([0, *cuts], [*cuts, len(data)], strict=True)]
        assert algo.feed(pieces) == hashlib.new(algo.name, data).digest()


def test_c_hash_empty_updates_with_null(algo):
    ctx = algo.ffi.new(algo.ctype)
    algo.init(ctx)
    algo.update(ctx, algo.ffi.NULL, 0)
    algo.update(ctx, b"abc", 3)
    algo.update(ctx, algo.ffi.NULL, 0)
    out = algo.ffi.new("unsigned char[]", algo.size)
    algo.final(out, ctx)
    assert bytes(out) == hashlib.new(algo.name, b"abc").digest()


def test_c_hash_final_wipes_and_reinit_reuses(algo):
    ctx = algo.ffi.new(algo.ctype)
    assert algo.feed([b"secret" * 30], ctx) == hashlib.new(algo.name, b"secret" * 30).digest()
    assert bytes(algo.ffi.buffer(ctx)) == bytes(algo.ffi.sizeof(algo.ctype[:-2]))
    assert algo.feed([b"again"], ctx) == hashlib.new(algo.name, b"again").digest()


def test_c_hash_message_vectors(algo):
    ffi = algo.ffi
    rng = random.Random(13)
    for _ in range(100):
        msgs = [rng.randbytes(rng.choice([0, 1, 63, 64, rng.randrange(200)]))
                for _ in range(rng.randrange(6))]
        keep = [ffi.from_buffer(m) if m else ffi.NULL for m in msgs]
        ptrs = ffi.new("const uint8_t *[]", [ffi.cast("const uint8_t *", k) for k in keep])
        lens = ffi.new("size_t[]", [len(m) for m in msgs])
        out = ffi.new("uint8_t[]", algo.size)
        algo.vector(len(msgs), ptrs, lens, out)
        assert bytes(out) == hashlib.new(algo.name, b"".join(msgs)).digest()


def test_c_cs_md5_argument_pairs(ffi, lib):
    rng = random.Random(14)
    for _ in range(100):
        parts = [rng.randbytes(rng.randrange(80)) for _ in range(rng.randrange(7))]
        args = []
        for p in parts:
            args += [ffi.new("char[]", p), ffi.cast("size_t", len(p))]
        buf = ffi.new("char[33]")
        assert lib.cs_md5(buf, *args, ffi.cast("char *", 0)) == buf
        assert ffi.string(buf) == hashlib.md5(b"".join(parts)).hexdigest().encode()


def c_hmac(ffi, lib, key: bytes, text: bytes) -> bytes:
    out = ffi.new("unsigned char[20]")
    lib.cs_hmac_sha1(key, len(key), text, len(text), out)
    return bytes(out)


def test_c_hmac_sha1_matches_python(ffi, lib):
    rng = random.Random(15)
    key_lengths = [0, 1, 20, 63, 64, 65, 100, 128, 200]
    for _ in range(300):
        key = rng.randbytes(rng.choice([*key_lengths, rng.randrange(300)]))
        text = rng.randbytes(rng.randrange(300))
        assert c_hmac(ffi, lib, key, text) == hmac.new(key, text, "sha1").digest()


def test_c_hmac_sha1_rfc2202(ffi, lib):
    cases = [
        (b"\x0b" * 20, b"Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"),
        (b"Jefe", b"what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
        (b"\xaa" * 20, b"\xdd" * 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
        (bytes(range(1, 26)), b"\xcd" * 50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da"),
        (b"\x0c" * 20, b"Test With Truncation", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"),
        (b"\xaa" * 80, b"Test Using Larger Than Block-Size Key - Hash Key First",
         "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
        (b"\xaa" * 80,
         b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
         "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"),
    ]
    for key, text, want in cases:
        assert c_hmac(ffi, lib, key, text).hex() == want


def test_c_hmac_sha1_digest_may_overlap_inputs(ffi, lib):
    key, text = b"k" * 70, b"some text to authenticate"
    want = hmac.new(key, text, "sha1").digest()
    buf = ffi.new("unsigned char[]", text)
    lib.cs_hmac_sha1(key, len(key), buf, len(text), buf)
    assert bytes(buf)[:20] == want
    buf = ffi.new("unsigned char[]", key)
    lib.cs_hmac_sha1(buf, len(key), text, len(text), buf)
    assert bytes(buf)[:20] == want


def test_c_cs_to_hex(ffi, lib):
    rng = random.Random(16)
    for n in [*range(70), 1000]:
        data = rng.randbytes(n)
        out = ffi.new("char[]", 2 * n + 1 + 4)
        ffi.memmove(out, b"\xff" * (2 * n + 5), 2 * n + 5)
        lib.cs_to_hex(out, data, n)
        assert ffi.buffer(out, 2 * n + 1)[:] == data.hex().encode() + b"\0"
        assert ffi.buffer(out + 2 * n + 1, 4)[:] == b"\xff" * 4
