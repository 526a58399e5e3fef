/*
 * base64 (RFC 4648 section 4): the standard alphabet, padded output. Decoding looks each
 * character up in one 256-entry table and tests a whole group of four with a single
 * comparison, so the common path has no per-character branches.
 */
#include <stdint.h>

#include "mgio.h"

static const char alphabet[65] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Decode table values: 0..63 for the alphabet, PD for '=', XX for every other byte.
 * PD and XX lie outside 0..63, so OR-ing a group's four values and comparing with 64
 * tells whether the group is plain data. */
#define PD 0x40
#define XX 0x80
static const unsigned char decode_table[256] = {
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, 62, XX, XX, XX, 63,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, XX, XX, XX, PD, XX, XX,
    XX,  0,  1,  2,  3,  4,  5,  6,  7,  8,  9, 10, 11, 12, 13, 14,
    15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, XX, XX, XX, XX, XX,
    XX, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
    41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
    XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX, XX,
};
#undef PD
#undef XX

/* Writes the four characters of the 24-bit group `v`: the first `keep` (2..4) from the
 * alphabet, the rest '='. */
static void put_quad(char *o, uint32_t v, size_t keep) {
  o[0] = alphabet[v >> 18];
  o[1] = alphabet[v >> 12 & 63];
  o[2] = keep > 2 ? alphabet[v >> 6 & 63] : '=';
  o[3] = keep > 3 ? alphabet[v & 63] : '=';
}

/* Encodes `n` bytes as 4 * ceil(n / 3) characters at `dst` (no NUL); returns that count. */
static size_t encode(const unsigned char *src, size_t n, char *dst) {
  char *o = dst;
  size_t i = 0;
  for (; n - i >= 3; i += 3, o += 4) {
    put_quad(o, (uint32_t) src[i] << 16 | (uint32_t) src[i + 1] << 8 | src[i + 2], 4);
  }
  if (i < n) {
    uint32_t v = (uint32_t) src[i] << 16;
    if (n - i == 2) v |= (uint32_t) src[i + 1] << 8;
    put_quad(o, v, n - i + 1);
    o += 4;
  }
  return (size_t) (o - dst);
}

void mg_base64_encode(const unsigned char *src, int src_len, char *dst) {
  size_t n = src_len > 0 ? encode(src, (size_t) src_len, dst) : 0;
  dst[n] = '\0';
}

/* The offset of `p` in the mbuf's storage, or SIZE_MAX when it points elsewhere.
 * Compared as integers: relational operators on unrelated pointers are undefined. */
static size_t offset_in(const struct mbuf *mbuf, const void *p) {
  uintptr_t a = (uintptr_t) p, b = (uintptr_t) mbuf->buf;
  return mbuf->buf != NULL && a >= b && a - b < mbuf->size ? (size_t) (a - b) : SIZE_MAX;
}

void mg_mbuf_append_base64(struct mbuf *mbuf, const void *data, size_t len) {
  if (len == 0) return;
  size_t groups = len / 3 + (len % 3 != 0);
  /* `data` may be bytes of this very mbuf, which the reserve below can move. */
  size_t self = offset_in(mbuf, data);
  if (groups > SIZE_MAX / 4 || !mbuf_reserve(mbuf, groups * 4)) return;
  if (self != SIZE_MAX) data = mbuf->buf + self;
  /* Reserve-then-commit: encode straight into the spare room, then count it. */
  mbuf->len += encode((const unsigned char *) data, len, mbuf->buf + mbuf->len);
}

/* Finishes decoding at the group `s[0 .. r)` (r <= 4) that is not four alphabet
 * characters: 2 or 3 leading alphabet characters are decoded, together with the padding
 * that completes them ("xx==", "xxx="); a lone character is not. Writes the bytes and the
 * final NUL at `out`; returns the characters consumed. */
static size_t decode_last_group(const unsigned char *s, size_t r, unsigned char *out) {
  size_t k = 0;
  while (k < r && k < 3 && decode_table[s[k]] < 64) k++;
  if (k < 2) {
    out[0] = '\0';
    return 0;
  }
  /* Everything is read before anything is written, so `out` may overlap `s`. */
  size_t used = r == 4 && (k == 3 || s[2] == '=') && s[3] == '=' ? 4 : k;
  uint32_t v = (uint32_t) decode_table[s[0]] << 18 | (uint32_t) decode_table[s[1]] << 12;
  if (k == 3) v |= (uint32_t) decode_table[s[2]] << 6;
  out[0] = (unsigned char) (v >> 16);
  out[1] = (unsigned char) (v >> 8); /* overwritten by the NUL when k == 2 */
  out[k - 1] = '\0';
  return used;
}

int mg_base64_decode(const unsigned char *s, int len, char *dst) {
  unsigned char *out = (unsigned char *) dst;
  if (len <= 0) {
    out[0] = '\0';
    return 0;
  }
  /* Output trails input (3 bytes per 4 characters), so decoding in place works. */
  size_t n = (size_t) len, i = 0;
  for (; n - i >= 4; i += 4, out += 3) {
    uint32_t a = decode_table[s[i]], b = decode_table[s[i + 1]];
    uint32_t c = decode_table[s[i + 2]], d = decode_table[s[i + 3]];
    if ((a | b | c | d) >= 64) break; /* padding or an invalid character */
    uint32_t v = a << 18 | b << 12 | c << 6 | d;
    out[0] = (unsigned char) (v >> 16);
    out[1] = (unsigned char) (v >> 8);
    out[2] = (unsigned char) v;
  }
  i += decode_last_group(s + i, n - i < 4 ? n - i : 4, out);
  return (int) i; /* i <= n == len, so it fits */
}

size_t mg_base64_decoded_max(size_t len) {
  /* Each full group gives 3 bytes; a final 2 or 3 characters give 1 or 2. */
  return len / 4 * 3 + len % 4 * 3 / 4;
}
