/*
 * ws.h - WebSocket codecs (RFC 6455) and the permessage-deflate extension (RFC 7692).
 * Internal to mgio: the http layer's WebSocket glue uses them; nothing here is public.
 *
 * Pure functions over caller-owned bytes: no sockets, no globals. The rules that depend
 * on the connection (which side masks, which opcodes and RSV bits are allowed, message
 * sequencing, size limits) are the caller's; these functions parse, build and check.
 */
#ifndef MGIO_PROTO_WS_H
#define MGIO_PROTO_WS_H

#include <stddef.h>
#include <stdint.h>

#include "mgio.h"

/* The longest frame header: 2 bytes, a 64-bit length and a mask key. */
#define MG__WS_MAX_HEADER 14

/* First-byte bits. */
#define MG__WS_FIN 0x80
#define MG__WS_RSV1 0x40
#define MG__WS_RSV2 0x20
#define MG__WS_RSV3 0x10

struct mg__ws_header {
  uint64_t len;          /* payload length */
  unsigned char first;   /* the first byte as sent (FIN, RSV1-3, opcode) */
  unsigned char fin;     /* 1 when FIN is set */
  unsigned char rsv;     /* first & (RSV1 | RSV2 | RSV3) */
  unsigned char opcode;  /* first & 0x0f */
  unsigned char masked;  /* 1 when the MASK bit is set; mask[] is then valid */
  unsigned char mask[4];
};

/* Parses the frame header at buf[0 .. n). Returns the header length (2 to 14) with *h
 * filled, -2 when more bytes are needed (no byte at or after buf[n] is read), or -1 when
 * the header is malformed: a 64-bit length with its most significant bit set, or a
 * length not in its minimal form (RFC 6455 5.2: 126 introducing a value under 126, 127
 * introducing a value under 65536). -1 comes as soon as the length bytes are in hand,
 * before the mask key. Opcode, RSV bits and masking are reported, not judged; *h is
 * written only on success. */
int mg__ws_parse_header(const unsigned char *buf, size_t n, struct mg__ws_header *h);

/* Writes the header of a frame whose first byte is `first` and payload `len` bytes
 * into out: the length in its minimal form (7 bits up to 125, 16 bits up to 65535,
 * else 64 bits - mgio fix: Mongoose 6 used 64 bits for 65535), then the MASK bit and
 * the key when `mask` is not NULL. Returns the header length. */
size_t mg__ws_build_header(unsigned char out[MG__WS_MAX_HEADER], unsigned char first,
                           uint64_t len, const unsigned char *mask);

/* XORs data[0 .. n) with the mask key, as the payload bytes at offset `offset` of the
 * frame (so a payload may be (un)masked in pieces). 8 bytes at a time, any alignment. */
void mg__ws_mask(unsigned char *data, size_t n, const unsigned char mask[4], uint64_t offset);

/* 1 when `code` may be sent or received in a Close frame: 1000-1003, 1007-1014 and
 * 3000-4999 (RFC 6455 7.4, IANA registry); 0 for 1004-1006, 1015, others under 3000,
 * and 5000 up. */
int mg__ws_close_code_ok(int code);

/* Checks a received Close payload: empty (*code = 1005, no status), or a valid 2-byte
 * code (big-endian) followed by a UTF-8 reason (*code set, *reason the reason's offset).
 * Returns 0 when valid, 1002 for a 1-byte payload or an invalid code, 1007 for a reason
 * that is not UTF-8 (an invalid code is reported first). Whatever the result, *code is
 * the code received (0 for a 1-byte payload) and *reason is 2, or 0 when n < 2. The
 * 125-byte limit of control frames is the caller's. */
int mg__ws_check_close(const unsigned char *p, size_t n, int *code, size_t *reason);

/* Writes Sec-WebSocket-Accept for `key`: base64(SHA-1(key + the RFC 6455 GUID)), 28
 * characters and a NUL. */
void mg__ws_accept_key(const char *key, size_t key_len, char out[29]);

/* 1 when `key` is a valid Sec-WebSocket-Key: the base64 form of 16 bytes (24 characters
 * of the base64 alphabet, the last two "=="; RFC 6455 4.2.1). Nonzero pad bits in the
 * 22nd character are accepted, as lenient base64 decoders (and Python's websockets)
 * accept them: the key still decodes to 16 bytes. */
int mg__ws_key_ok(struct mg_str key);

/* ---- permessage-deflate (RFC 7692) ----------------------------------------------------
 * Uses zlib: programs linking libmgio.a add -lz. zlib allocates through the mbuf hooks
 * (MBUF_REALLOC / MBUF_FREE, libc by default), so Python's tracemalloc and the tests'
 * failing allocator see its memory too. */

struct mg__ws_deflate_params {
  unsigned char server_no_context_takeover;
  unsigned char client_no_context_takeover;
  unsigned char server_max_window_bits; /* 8..15; 15 when not given */
  unsigned char client_max_window_bits; /* 8..15; 15 when not given */
};

/* Server: picks the first acceptable permessage-deflate offer in the
 * Sec-WebSocket-Extensions value(s) `offers` (a comma list of extensions, each with
 * ';'-separated parameters, RFC 7692 5 and 7.1). Returns 1 with *p set and the response
 * extension value written NUL-terminated to resp (e.g. "permessage-deflate;
 * server_no_context_takeover"), or 0 when no offer is acceptable or none was made (then
 * the connection runs without compression; resp is "" when resp_len > 0). An offer with
 * an unknown or repeated parameter or a bad value is skipped (RFC 7692 5.1), and so is an
 * element that breaks the list grammar (up to the next ',' outside quotes). Several
 * values are passed joined with ", ". Values may be tokens or quoted-strings; window
 * bits are 8..15 without leading zeros; OWS may surround ';', '=' and ','; names match
 * case-insensitively; empty list elements are ignored.
 * The response takes both no_context_takeover parameters the client named and echoes
 * server_max_window_bits (8 included: see mg__ws_deflate_message). A
 * client_max_window_bits hint is not echoed, so p->client_max_window_bits is 15 (the
 * client may use any window; this side inflates with 15 bits). resp_len >= 128 always
 * suffices (the longest response is 101 characters and its NUL). */
int mg__ws_deflate_negotiate(struct mg_str offers, struct mg__ws_deflate_params *p,
                             char *resp, size_t resp_len);

/* Client: the offer this side sends ("permessage-deflate; client_max_window_bits"). */
const char *mg__ws_deflate_offer(void);

/* Client: checks the server's Sec-WebSocket-Extensions response `value` against that
 * offer. Returns 1 with *p set when it accepts permessage-deflate with valid
 * parameters, 0 when it names no extension (value empty), -1 when it is invalid (an
 * extension not offered, permessage-deflate twice, a bad, unknown or repeated
 * parameter, client_max_window_bits without a value, broken syntax): the client must
 * fail the connection. Window bits not named in the response are 15. */
int mg__ws_deflate_accept(struct mg_str value, struct mg__ws_deflate_params *p);

/* The compression state of one connection (two zlib streams). */
struct mg__ws_deflate;

/* A new state for the side `is_server` with the negotiated `p`; NULL out of memory.
 * The zlib streams are set up on the first message in each direction (a compressor
 * costs about 256 KiB, an inflater about 7 KiB plus its window). Free with
 * mg__ws_deflate_free. */
struct mg__ws_deflate *mg__ws_deflate_new(const struct mg__ws_deflate_params *p,
                                          int is_server);
void mg__ws_deflate_free(struct mg__ws_deflate *d); /* NULL allowed */

/* Compresses one whole message payload, appending the frame payload to `out` (without
 * the final 00 00 FF FF, RFC 7692 7.2.1), keeping or resetting the context as
 * negotiated for this side. The payload is never empty: an empty message that makes no
 * output is sent as the byte 00. With 8 window bits negotiated for this side (zlib's
 * raw deflate cannot run at 8), the compressor runs at 9 bits with the Z_RLE strategy,
 * whose matches all have distance 1, so nothing refers beyond 256 bytes back. Returns
 * 0, or -1 (out of memory; `out` may hold a partial result the caller discards, and
 * the state must not be used again: later calls return -1). */
int mg__ws_deflate_message(struct mg__ws_deflate *d, const void *data, size_t n,
                           struct mbuf *out);

/* Decompresses one whole message payload (its frames' payloads concatenated), appending
 * the result to `out`, with the peer's context taken over or reset as negotiated.
 * Returns 0; -1 for invalid compressed data (the caller closes with 1007); -2 as soon
 * as the output would exceed `max` bytes (1009; decompression stops there, so a small
 * bomb cannot allocate more); -3 out of memory (1011). After a negative return the
 * state must not be used again (later calls return -1).
 * Details: the output grows in steps (64 KiB, or the output so far when more) and never
 * past max + 1 bytes (on -2 `out` holds max + 1 new bytes the caller discards). The
 * payload, with 00 00 FF FF put back, must end on a DEFLATE block boundary, else -1 (a
 * truncated message would corrupt the next one). An empty payload is an empty message.
 * A peer may end a message with a BFINAL block (RFC 7692 permits it): bytes after it
 * are ignored and the next message starts a new stream, with the window carried over
 * as its dictionary when context takeover applies. zlib checks match distances against
 * the peer's window bits across messages. */
int mg__ws_inflate_message(struct mg__ws_deflate *d, const void *data, size_t n, size_t max,
                           struct mbuf *out);

#endif
