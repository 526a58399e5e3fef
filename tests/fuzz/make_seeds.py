#!/usr/bin/env python3
"""Writes the seed corpora of the fuzz targets into tests/fuzz/corpus/<target>/.

The HTTP head and chunked seeds come from the parser vectors (tests/c/vectors/*.json,
byte strings in the Latin-1 convention of tests/c/vectors/README.md); the others are
written here. Each seed starts with the settings bytes its target reads first (see the
comment at the top of each tests/fuzz/fuzz_*.c). Inputs over MAX_SEED bytes are skipped
to keep the committed corpus small. Run it again after changing the vectors:
    python3 tests/fuzz/make_seeds.py
"""
import hashlib
import json
import pathlib
import shutil

HERE = pathlib.Path(__file__).resolve().parent
VECTORS = HERE.parent / "c" / "vectors"
CORPUS = HERE / "corpus"
MAX_SEED = 2048
NO_SETTINGS = b"\0"       # a settings byte that keeps the defaults
NO_SPLIT = b"\0\0\0\0"    # a split seed (any value works; this one cuts small pieces)


def expand(piece):
    """A vector byte string: str (Latin-1), list of pieces, repeat or hex."""
    if isinstance(piece, str):
        return piece.encode("latin-1")
    if isinstance(piece, list):
        return b"".join(expand(p) for p in piece)
    if "hex" in piece:
        return bytes.fromhex(piece["hex"])
    return expand(piece["repeat"]) * piece["times"]


def vector_inputs(name):
    for v in json.loads((VECTORS / name).read_text()):
        data = bytes.fromhex(v["data_hex"]) if "data_hex" in v else expand(v["data"])
        if len(data) <= MAX_SEED:
            yield data


def multipart_seeds():
    body = (b"preamble\r\n--XyZ\r\n"
            b'Content-Disposition: form-data; name="field"\r\n\r\nvalue\r\n--XyZ  \r\n'
            b'Content-Disposition: form-data; name="f"; filename="a\\"b.txt"\r\n'
            b"Content-Type: text/plain\r\n\r\nline\r\n--XyZx\r\n--XyZ--\r\nepilogue")
    boundary = b"XyZ"
    yield NO_SETTINGS + bytes([len(boundary)]) + boundary + NO_SPLIT + body
    yield b"\x01\x10\x02" + bytes([len(boundary)]) + boundary + NO_SPLIT + body
    yield NO_SETTINGS + b"\x01b" + NO_SPLIT + b"--b--\r\n"


def ws_frame(op, payload, mask=b"\x11\x22\x33\x44", fin=True):
    first = (0x80 if fin else 0) | op
    n = len(payload)
    if n < 126:
        head = bytes([first, 0x80 | n])
    elif n < 65536:
        head = bytes([first, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([first, 0x80 | 127]) + n.to_bytes(8, "big")
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return head + mask + masked


def ws_seeds():
    text = "h\u00e9llo \u20ac \U0001f600".encode()
    yield NO_SPLIT + ws_frame(1, text)
    yield NO_SPLIT + ws_frame(1, text[:8], fin=False) + ws_frame(0, text[8:])
    yield NO_SPLIT + ws_frame(2, bytes(200)) + ws_frame(9, b"ping")
    yield NO_SPLIT + ws_frame(8, b"\x03\xe8bye") + ws_frame(1, b"\xed\xa0\x80")


def manager_seeds():
    upload = (b"--b\r\nContent-Disposition: form-data; name=\"a\"; filename=\"x\"\r\n\r\n"
              b"hello\r\n--b--\r\n")
    yield (b"\x00GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n\xfe"
           b"POST /p HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel\xfelo"
           b"PUT /c HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
    yield (b"\x05POST /upload HTTP/1.1\r\nContent-Type: multipart/form-data; boundary=b\r\n"
           b"Content-Length: " + str(len(upload)).encode() + b"\r\n\r\n" +
           upload[:20] + b"\xfe" + upload[20:])
    yield b"\x00GET /static/a.txt HTTP/1.1\r\n\r\n\xfeGET /static/ HTTP/1.1\r\n\r\n"
    yield (b"\x08GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
           b"\r\n\xfe" + ws_frame(1, b"hi").replace(b"\xfe", b"\xfe\xfe") +
           ws_frame(8, b"\x03\xe8"))


SEEDS = {
    "http_request": (NO_SETTINGS + NO_SPLIT + d for d in vector_inputs("requests.json")),
    "http_response": (NO_SETTINGS + NO_SPLIT + d for d in vector_inputs("responses.json")),
    "chunked": (NO_SETTINGS + NO_SPLIT + d for d in vector_inputs("chunked.json")),
    "multipart": multipart_seeds(),
    "ws": ws_seeds(),
    "url": [b"\x00\x00hello world", b"\x07\x03._-a b%c/d?e=f+g&\xff\x00",
            b"\x04\x00%41%zz+%2"],
    "http_var": [b"\x20\x01aa=1&b=2%20x+y&a=3", b"\x04\x04nameq=1&NAME=%4g&name=toolong",
                 b"\x10\x00=x"],
    "header_param": [b"\x10\x04name form-data; name=\"a\\\"b\"; filename=x.txt",
                     b"\x04\x08boundarymultipart/form-data; boundary=\"--long--value\"",
                     b"\x40\x01a b='q,x' a=1"],
    "digest": [b'Digest username="Mufasa", realm="t@h.com", nonce="dcd98b", uri="/i.html",'
               b' qop=auth, nc=00000001, cnonce="0a4f113b", response="6629fae4",'
               b' opaque="5ccc069c"',
               b"digest\tusername=a,,realm=\"x\\\"y\", algorithm=MD5",
               b"user:realm:0123456789abcdef0123456789ABCDEF"],
    "manager": manager_seeds(),
}


def main():
    for target, seeds in SEEDS.items():
        folder = CORPUS / target
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for seed in seeds:
            (folder / hashlib.sha1(seed).hexdigest()[:16]).write_bytes(seed)


if __name__ == "__main__":
    main()
