/*
 * The WebSocket codecs (proto/ws.h): frame headers in every length form, fed whole and
 * at every prefix against a guard page and as exact-size heap copies; build/parse round
 * trips; masking in pieces; Close payloads; handshake keys. permessage-deflate:
 * negotiation of offers and responses, round trips with and without context takeover at
 * every window size, a decompression bomb against the output limit, invalid data, a
 * peer's BFINAL block, and every allocation failure.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <zlib.h>

#include "../proto/ws.h"
#include "mgio.h"
#include "test.h"

/* ---- helpers ----------------------------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rnd(void) { /* xorshift64* */
  rng_state ^= rng_state >> 12;
  rng_state ^= rng_state << 25;
  rng_state ^= rng_state >> 27;
  return rng_state * 0x2545f4914f6cdd1du;
}

static size_t rnd_below(size_t n) {
  return n == 0 ? 0 : (size_t) (rnd() % n);
}

/* Two pages, the second inaccessible: guard_copy() places bytes so that they end where
 * the second page begins, and any read past them faults. */
static unsigned char *guard_base;
static size_t guard_page;

static unsigned char *guard_copy(const void *data, size_t n) {
  if (guard_base == NULL) {
    guard_page = (size_t) sysconf(_SC_PAGESIZE);
    void *p = mmap(NULL, 2 * guard_page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    if (mprotect((unsigned char *) p + guard_page, guard_page, PROT_NONE) != 0) return NULL;
    guard_base = (unsigned char *) p;
  }
  if (n > guard_page) return NULL;
  unsigned char *at = guard_base + guard_page - n;
  if (n > 0) memcpy(at, data, n);
  return at;
}

/* Parses buf[0 .. n) three ways: in place, as an exact-size heap copy (sanitizers see
 * an over-read) and against the guard page (a fault); all three must agree. Returns
 * the result, or -100 when they disagree. */
static int parse3(const unsigned char *buf, size_t n, struct mg__ws_header *h) {
  struct mg__ws_header a, b, c;
  memset(&a, 0, sizeof(a));
  memset(&b, 0, sizeof(b));
  memset(&c, 0, sizeof(c));
  int ra = mg__ws_parse_header(buf, n, &a);
  unsigned char *copy = (unsigned char *) test_malloc(n > 0 ? n : 1);
  if (copy == NULL) return -100;
  if (n > 0) memcpy(copy, buf, n);
  int rb = mg__ws_parse_header(n > 0 ? copy : NULL, n, &b);
  test_free(copy);
  unsigned char *g = guard_copy(buf, n);
  if (g == NULL) return -100;
  int rc = mg__ws_parse_header(g, n, &c);
  if (ra != rb || ra != rc) return -100;
  if (ra > 0 && (memcmp(&a, &b, sizeof(a)) != 0 || memcmp(&a, &c, sizeof(a)) != 0)) {
    return -100;
  }
  if (h != NULL) *h = a;
  return ra;
}

/* Every proper prefix of buf[0 .. n) must parse as -2, except that a malformed header
 * may say -1 from the point where its length is in hand (bad_from, 0 for none). */
static int prefixes_ok(const unsigned char *buf, size_t n, size_t bad_from) {
  for (size_t k = 0; k < n; k++) {
    int r = parse3(buf, k, NULL);
    int want = bad_from != 0 && k >= bad_from ? -1 : -2;
    if (r != want) {
      fprintf(stderr, "prefix %zu of %zu: %d, want %d\n", k, n, r, want);
      return 0;
    }
  }
  return 1;
}

/* ---- frame headers ----------------------------------------------------------------- */

static const uint64_t lengths[] = {0,     1,     125,         126,         127,
                                   65535, 65536, 65537,       UINT64_C(1) << 32,
                                   UINT64_C(0x7fffffffffffffff)};

static size_t form_len(uint64_t len) {
  return len < 126 ? 2 : len <= 0xffff ? 4 : 10;
}

TEST(ws_header_every_length_form) {
  static const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  for (size_t i = 0; i < sizeof(lengths) / sizeof(lengths[0]); i++) {
    for (int masked = 0; masked < 2; masked++) {
      unsigned char out[MG__WS_MAX_HEADER];
      uint64_t len = lengths[i];
      size_t hl = mg__ws_build_header(out, 0x82, len, masked ? key : NULL);
      CHECK(hl == form_len(len) + (masked ? 4 : 0));
      CHECK(out[0] == 0x82);
      CHECK((out[1] & 0x80) == (masked ? 0x80 : 0));
      unsigned code = out[1] & 0x7fu;
      CHECK(code == (len < 126 ? len : len <= 0xffff ? 126 : 127));
      struct mg__ws_header h;
      CHECK(parse3(out, hl, &h) == (int) hl);
      CHECK(h.len == len && h.first == 0x82 && h.fin == 1 && h.rsv == 0 && h.opcode == 2);
      CHECK(h.masked == masked);
      CHECK(!masked || memcmp(h.mask, key, 4) == 0);
      CHECK(prefixes_ok(out, hl, 0));
      /* Bytes after the header (the payload) change nothing. */
      unsigned char more[MG__WS_MAX_HEADER + 3];
      memcpy(more, out, hl);
      memset(more + hl, 0xee, 3);
      struct mg__ws_header h2;
      CHECK(parse3(more, hl + 3, &h2) == (int) hl);
      CHECK(memcmp(&h, &h2, sizeof(h)) == 0);
    }
  }
}

TEST(ws_header_exact_bytes) {
  unsigned char out[MG__WS_MAX_HEADER];
  static const unsigned char k[4] = {1, 2, 3, 4};
  CHECK(mg__ws_build_header(out, 0x81, 5, NULL) == 2);
  CHECK(memcmp(out, "\x81\x05", 2) == 0);
  CHECK(mg__ws_build_header(out, 0x81, 125, k) == 6);
  CHECK(memcmp(out, "\x81\xfd\x01\x02\x03\x04", 6) == 0);
  CHECK(mg__ws_build_header(out, 0x02, 126, NULL) == 4);
  CHECK(memcmp(out, "\x02\x7e\x00\x7e", 4) == 0);
  /* 65535 takes the 16-bit form (Mongoose 6 used 64 bits). */
  CHECK(mg__ws_build_header(out, 0x82, 65535, NULL) == 4);
  CHECK(memcmp(out, "\x82\x7e\xff\xff", 4) == 0);
  CHECK(mg__ws_build_header(out, 0x82, 65536, NULL) == 10);
  CHECK(memcmp(out, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10) == 0);
  CHECK(mg__ws_build_header(out, 0x82, UINT64_C(0x0102030405060708), k) == 14);
  CHECK(memcmp(out, "\x82\xff\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03\x04", 14) == 0);
  /* The RFC 6455 5.7 examples. */
  struct mg__ws_header h;
  CHECK(parse3((const unsigned char *) "\x81\x05Hello", 7, &h) == 2);
  CHECK(h.len == 5 && h.fin && h.opcode == 1 && !h.masked);
  CHECK(parse3((const unsigned char *) "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11,
               &h) == 6);
  CHECK(h.len == 5 && h.masked && memcmp(h.mask, "\x37\xfa\x21\x3d", 4) == 0);
  CHECK(parse3((const unsigned char *) "\x01\x03Hel", 5, &h) == 2);
  CHECK(!h.fin && h.opcode == 1);
  CHECK(parse3((const unsigned char *) "\x80\x02lo", 4, &h) == 2);
  CHECK(h.fin && h.opcode == 0);
  /* Opcode, RSV bits and masking are reported, not judged. */
  CHECK(parse3((const unsigned char *) "\x7b\x00", 2, &h) == 2);
  CHECK(h.fin == 0 && h.rsv == 0x70 && h.opcode == 0x0b && h.first == 0x7b);
}

TEST(ws_header_non_minimal_and_msb_rejected) {
  unsigned char b[14];
  /* 126 introducing 0..125. */
  for (unsigned v = 0; v < 126; v++) {
    b[0] = 0x82;
    b[1] = 126;
    b[2] = 0;
    b[3] = (unsigned char) v;
    CHECK(parse3(b, 4, NULL) == -1);
    CHECK(prefixes_ok(b, 4, 4));
    b[1] = 0x80 | 126; /* masked: judged before the key arrives */
    memset(b + 4, 0x11, 4);
    CHECK(parse3(b, 8, NULL) == -1);
    CHECK(prefixes_ok(b, 8, 4));
  }
  b[1] = 126;
  b[3] = 126;
  CHECK(parse3(b, 4, NULL) == 4);
  /* 127 introducing values under 65536, and values with the top bit set. */
  static const uint64_t bad[] = {0, 1, 125, 126, 65535, UINT64_C(1) << 63,
                                 UINT64_C(0x8000000000010000), UINT64_MAX};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    for (int masked = 0; masked < 2; masked++) {
      b[0] = 0x02;
      b[1] = (unsigned char) (127 | (masked ? 0x80 : 0));
      for (int j = 0; j < 8; j++) b[2 + j] = (unsigned char) (bad[i] >> (56 - 8 * j));
      memset(b + 10, 0x22, 4);
      size_t n = masked ? 14 : 10;
      CHECK(parse3(b, n, NULL) == -1);
      CHECK(prefixes_ok(b, n, 10));
    }
  }
  for (int j = 0; j < 8; j++) b[2 + j] = (unsigned char) (UINT64_C(65536) >> (56 - 8 * j));
  b[1] = 127;
  CHECK(parse3(b, 10, NULL) == 10);
}

TEST(ws_header_random_round_trips) {
  for (int i = 0; i < 20000; i++) {
    unsigned char first = (unsigned char) rnd();
    uint64_t len;
    switch (rnd() % 3) {
      case 0: len = rnd() % 126; break;
      case 1: len = 126 + rnd() % (65536 - 126); break;
      default: len = 65536 + rnd() % (UINT64_C(0x7fffffffffffffff) - 65535); break;
    }
    unsigned char key[4];
    uint64_t kv = rnd();
    memcpy(key, &kv, 4);
    int masked = (int) (rnd() & 1);
    unsigned char out[MG__WS_MAX_HEADER];
    size_t hl = mg__ws_build_header(out, first, len, masked ? key : NULL);
    struct mg__ws_header h;
    CHECK(hl == form_len(len) + (masked ? 4u : 0u));
    CHECK(mg__ws_parse_header(out, hl, &h) == (int) hl);
    CHECK(h.len == len && h.first == first && h.fin == (first >> 7) &&
          h.rsv == (first & 0x70) && h.opcode == (first & 0x0f) && h.masked == masked);
    CHECK(!masked || memcmp(h.mask, key, 4) == 0);
    if (i < 300) CHECK(prefixes_ok(out, hl, 0));
  }
}

/* ---- masking ------------------------------------------------------------------------ */

static void mask_ref(unsigned char *d, size_t n, const unsigned char m[4], uint64_t off) {
  for (size_t i = 0; i < n; i++) d[i] ^= m[(off + i) % 4];
}

TEST(ws_mask_matches_reference_at_every_alignment) {
  unsigned char src[300], a[310], b[310];
  static const unsigned char key[4] = {0xa5, 0x01, 0x7e, 0xc3};
  for (size_t i = 0; i < sizeof(src); i++) src[i] = (unsigned char) rnd();
  static const uint64_t offs[] = {0, 1, 2, 3, 5, 7, 8, 13, (UINT64_C(1) << 40) + 3,
                                  UINT64_MAX - 2};
  for (size_t start = 0; start < 8; start++) {
    for (size_t n = 0; n <= 300; n += (n < 80 ? 1 : 37)) {
      for (size_t o = 0; o < sizeof(offs) / sizeof(offs[0]); o++) {
        memcpy(a + start, src, n);
        memcpy(b + start, src, n);
        mg__ws_mask(a + start, n, key, offs[o]);
        mask_ref(b + start, n, key, offs[o]);
        CHECK(memcmp(a + start, b + start, n) == 0);
        mg__ws_mask(a + start, n, key, offs[o]);
        CHECK(memcmp(a + start, src, n) == 0); /* masking twice restores */
      }
    }
  }
}

TEST(ws_mask_in_pieces_equals_whole) {
  unsigned char src[200], whole[200], parts[200];
  for (size_t i = 0; i < sizeof(src); i++) src[i] = (unsigned char) rnd();
  for (int t = 0; t < 8; t++) {
    unsigned char key[4];
    uint64_t kv = rnd();
    memcpy(key, &kv, 4);
    size_t n = t == 0 ? sizeof(src) : 1 + rnd_below(sizeof(src));
    memcpy(whole, src, n);
    mg__ws_mask(whole, n, key, 0);
    for (size_t i = 0; i <= n; i++) {
      memcpy(parts, src, n);
      mg__ws_mask(parts, i, key, 0);
      mg__ws_mask(parts + i, n - i, key, i);
      CHECK(memcmp(parts, whole, n) == 0);
    }
    /* Three pieces at random points, and one byte at a time. */
    for (int r = 0; r < 200; r++) {
      size_t i = rnd_below(n + 1), j = i + rnd_below(n - i + 1);
      memcpy(parts, src, n);
      mg__ws_mask(parts, i, key, 0);
      mg__ws_mask(parts + i, j - i, key, i);
      mg__ws_mask(parts + j, n - j, key, j);
      CHECK(memcmp(parts, whole, n) == 0);
    }
    memcpy(parts, src, n);
    for (size_t i = 0; i < n; i++) mg__ws_mask(parts + i, 1, key, i);
    CHECK(memcmp(parts, whole, n) == 0);
  }
}

/* ---- Close payloads ------------------------------------------------------------------- */

TEST(ws_close_codes) {
  static const struct {
    int code, ok;
  } v[] = {{0, 0},    {999, 0},  {1000, 1}, {1001, 1}, {1002, 1}, {1003, 1},
           {1004, 0}, {1005, 0}, {1006, 0}, {1007, 1}, {1010, 1}, {1011, 1},
           {1012, 1}, {1013, 1}, {1014, 1}, {1015, 0}, {1016, 0}, {2000, 0},
           {2999, 0}, {3000, 1}, {3999, 1}, {4000, 1}, {4999, 1}, {5000, 0},
           {65535, 0}, {-1, 0}};
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    CHECK(mg__ws_close_code_ok(v[i].code) == v[i].ok);
  }
  for (int c = 0; c < 70000; c++) {
    int want = (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) ||
               (c >= 3000 && c <= 4999);
    CHECK(mg__ws_close_code_ok(c) == want);
  }
}

/* Checks payload p[0 .. n) (also against the guard page). */
static int close_check(const char *p, size_t n, int want, int want_code) {
  int code = -7;
  size_t reason = 99;
  int r = mg__ws_check_close((const unsigned char *) p, n, &code, &reason);
  const unsigned char *g = guard_copy(p, n);
  int code2 = -7;
  size_t reason2 = 99;
  int r2 = g != NULL ? mg__ws_check_close(g, n, &code2, &reason2) : -100;
  if (r != want || r2 != r || code2 != code || reason2 != reason) return 0;
  if (want == 0 && (code != want_code || reason != (n == 0 ? 0u : 2u))) return 0;
  if (want == 0 || n >= 2) return want_code < 0 || code == want_code;
  return 1;
}

TEST(ws_close_payloads) {
  CHECK(close_check("", 0, 0, 1005));
  CHECK(close_check("\x03", 1, 1002, -1));
  CHECK(close_check("\x03\xe8", 2, 0, 1000));
  CHECK(close_check("\x03\xe8" "bye", 5, 0, 1000));
  CHECK(close_check("\x03\xe7", 2, 1002, 999));
  CHECK(close_check("\x03\xeb", 2, 0, 1003));
  CHECK(close_check("\x03\xec", 2, 1002, 1004));
  CHECK(close_check("\x03\xed", 2, 1002, 1005));
  CHECK(close_check("\x03\xee", 2, 1002, 1006));
  CHECK(close_check("\x03\xef", 2, 0, 1007));
  CHECK(close_check("\x03\xf3", 2, 0, 1011));
  CHECK(close_check("\x03\xf6", 2, 0, 1014));
  CHECK(close_check("\x03\xf7", 2, 1002, 1015));
  CHECK(close_check("\x0b\xb7", 2, 1002, 2999));
  CHECK(close_check("\x0b\xb8", 2, 0, 3000));
  CHECK(close_check("\x13\x87", 2, 0, 4999));
  CHECK(close_check("\x13\x88", 2, 1002, 5000));
  CHECK(close_check("\x00\x00", 2, 1002, 0));
  CHECK(close_check("\xff\xff", 2, 1002, 65535));
  /* An invalid code wins over an invalid reason. */
  CHECK(close_check("\x03\xed\xff", 3, 1002, 1005));
  /* Reasons. */
  CHECK(close_check("\x03\xe8\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", 13, 0, 1000));
  CHECK(close_check("\x03\xe8\xf0\x9f\x98\x80", 6, 0, 1000));  /* U+1F600 */
  CHECK(close_check("\x03\xe8\xf4\x8f\xbf\xbf", 6, 0, 1000));  /* U+10FFFF */
  CHECK(close_check("\x03\xe8\x00", 3, 0, 1000));              /* NUL is UTF-8 */
  CHECK(close_check("\x03\xe8\xff", 3, 1007, 1000));           /* never valid */
  CHECK(close_check("\x03\xe8\x80", 3, 1007, 1000));           /* lone continuation */
  CHECK(close_check("\x03\xe8\xc0\xaf", 4, 1007, 1000));       /* overlong '/' */
  CHECK(close_check("\x03\xe8\xe0\x80\xaf", 5, 1007, 1000));   /* overlong, 3 bytes */
  CHECK(close_check("\x03\xe8\xed\xa0\x80", 5, 1007, 1000));   /* surrogate D800 */
  CHECK(close_check("\x03\xe8\xed\xbf\xbf", 5, 1007, 1000));   /* surrogate DFFF */
  CHECK(close_check("\x03\xe8\xf4\x90\x80\x80", 6, 1007, 1000)); /* above U+10FFFF */
  CHECK(close_check("\x03\xe8" "ab\xe2\x82", 6, 1007, 1000));  /* truncated */
  CHECK(close_check("\x03\xe8\xf0\x9f\x98", 5, 1007, 1000));   /* truncated 4-byte */
  /* A 125-byte payload (the control-frame maximum) with a valid reason. */
  char big[125];
  big[0] = 0x0f;
  big[1] = (char) 0xa0; /* 4000 */
  memset(big + 2, 'r', sizeof(big) - 2);
  CHECK(close_check(big, sizeof(big), 0, 4000));
}

/* ---- handshake keys ------------------------------------------------------------------- */

TEST(ws_accept_key) {
  char out[29];
  memset(out, 'x', sizeof(out));
  mg__ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==", 24, out); /* RFC 6455 1.3 */
  CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
  /* Only key_len bytes count. */
  mg__ws_accept_key("dGhlIHNhbXBsZSBub25jZQ==garbage", 24, out);
  CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
  mg__ws_accept_key("", 0, out);
  CHECK(strlen(out) == 28 && out[27] == '=');
  /* Fed from the guard page. */
  const unsigned char *g = guard_copy("dGhlIHNhbXBsZSBub25jZQ==", 24);
  CHECK(g != NULL);
  mg__ws_accept_key((const char *) g, 24, out);
  CHECK(strcmp(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") == 0);
}

TEST(ws_key_ok) {
  static const struct {
    const char *key;
    int ok;
  } v[] = {
      {"dGhlIHNhbXBsZSBub25jZQ==", 1},
      {"AAAAAAAAAAAAAAAAAAAAAA==", 1},
      {"/////////////////////w==", 1},
      {"++++++++++++++++++++++==", 1}, /* nonzero pad bits: still 16 bytes */
      {"dGhlIHNhbXBsZSBub25jZQ=", 0},
      {"dGhlIHNhbXBsZSBub25jZQ===", 0},
      {"dGhlIHNhbXBsZSBub25jZ===", 0},
      {"dGhlIHNhbXBsZSBub25jZQ", 0},
      {"dGhlIHNhbXBsZSBub25jZQAA", 0},
      {"dGhlIHNhbXBsZSBub25jZ-==", 0},
      {"dGhlIHNhbXBsZSBub25jZ_==", 0},
      {"dGhlIHNhbXBsZSBub25j Q==", 0},
      {" dGhlIHNhbXBsZSBub25jZQ==", 0},
      {"dGhlIHNhbXBsZSBub25jZQ== ", 0},
      {"dGhlIHNhbXBs=SBub25jZQ==", 0},
      {"dGhlIHNhbXBsZSBub25jZQ=A", 0},
      {"dGhlIHNhbXBsZSBub25jZQ=\x00", 0},
      {"MTIzNDU2Nzg5MDEyMzQ1Njc4OTA=", 0}, /* 20 bytes */
      {"MTIzNDU2Nzg5MDEyMzQ1Ng", 0},
      {"", 0},
  };
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    size_t n = strlen(v[i].key);
    if (i == sizeof(v) / sizeof(v[0]) - 4) n = 24; /* the embedded NUL case */
    struct mg_str k = mg_mk_str_n(v[i].key, n);
    CHECK(mg__ws_key_ok(k) == v[i].ok);
    const unsigned char *g = guard_copy(v[i].key, n);
    CHECK(g != NULL);
    CHECK(mg__ws_key_ok(mg_mk_str_n((const char *) g, n)) == v[i].ok);
  }
  CHECK(mg__ws_key_ok(mg_mk_str_n(NULL, 0)) == 0);
}

/* ---- permessage-deflate negotiation --------------------------------------------------- */

struct nego {
  const char *offers;
  int ok;
  const char *resp;
  int snct, cnct, smwb, cmwb;
};

static const struct nego negos[] = {
    {"permessage-deflate", 1, "permessage-deflate", 0, 0, 15, 15},
    {"permessage-deflate; client_max_window_bits", 1, "permessage-deflate", 0, 0, 15, 15},
    {"permessage-deflate; client_max_window_bits=10", 1, "permessage-deflate", 0, 0, 15, 15},
    {"permessage-deflate; server_no_context_takeover", 1,
     "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15},
    {"permessage-deflate; client_no_context_takeover", 1,
     "permessage-deflate; client_no_context_takeover", 0, 1, 15, 15},
    {"permessage-deflate; server_max_window_bits=8", 1,
     "permessage-deflate; server_max_window_bits=8", 0, 0, 8, 15},
    {"permessage-deflate; server_max_window_bits=10", 1,
     "permessage-deflate; server_max_window_bits=10", 0, 0, 10, 15},
    {"permessage-deflate; server_max_window_bits=15", 1,
     "permessage-deflate; server_max_window_bits=15", 0, 0, 15, 15},
    {"permessage-deflate; client_max_window_bits; server_max_window_bits=12; "
     "client_no_context_takeover; server_no_context_takeover",
     1,
     "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
     "server_max_window_bits=12",
     1, 1, 12, 15},
    /* quoted values (RFC 7692 7.1: a quoted-string whose unescaped value is a token) */
    {"permessage-deflate; server_max_window_bits=\"9\"", 1,
     "permessage-deflate; server_max_window_bits=9", 0, 0, 9, 15},
    {"permessage-deflate; server_max_window_bits=\"1\\3\"", 1,
     "permessage-deflate; server_max_window_bits=13", 0, 0, 13, 15},
    {"permessage-deflate; client_max_window_bits=\"11\"", 1, "permessage-deflate", 0, 0, 15,
     15},
    {"permessage-deflate; server_max_window_bits=\"\"", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=\"1 0\"", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=\"10", 0, "", 0, 0, 0, 0},
    /* spaces and tabs around the separators, case-insensitive names */
    {"  permessage-deflate ;server_max_window_bits = 11 ;\tclient_no_context_takeover  ", 1,
     "permessage-deflate; client_no_context_takeover; server_max_window_bits=11", 0, 1, 11,
     15},
    {"PerMessage-Deflate; Server_No_Context_Takeover", 1,
     "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15},
    /* bad values */
    {"permessage-deflate; server_max_window_bits", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=7", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=16", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=08", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=010", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=+9", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=9a", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=99999999999999999999", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; client_max_window_bits=7", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; client_max_window_bits=16", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_no_context_takeover=1", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; client_no_context_takeover=\"\"", 0, "", 0, 0, 0, 0},
    /* repeated and unknown parameters */
    {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", 0, "", 0,
     0, 0, 0},
    {"permessage-deflate; client_max_window_bits; client_max_window_bits=10", 0, "", 0, 0, 0,
     0},
    {"permessage-deflate; server_max_window_bits=10; server_max_window_bits=10", 0, "", 0, 0,
     0, 0},
    {"permessage-deflate; x", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; mux=1", 0, "", 0, 0, 0, 0},
    /* syntax */
    {"permessage-deflate;", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; ; server_no_context_takeover", 0, "", 0, 0, 0, 0},
    {"permessage-deflate server_no_context_takeover", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; server_max_window_bits=10 11", 0, "", 0, 0, 0, 0},
    {"permessage-deflate; =10", 0, "", 0, 0, 0, 0},
    {"\"permessage-deflate\"", 0, "", 0, 0, 0, 0},
    /* other extensions, none, empty elements */
    {"", 0, "", 0, 0, 0, 0},
    {"   ", 0, "", 0, 0, 0, 0},
    {",,", 0, "", 0, 0, 0, 0},
    {"x-webkit-deflate-frame", 0, "", 0, 0, 0, 0},
    {"permessage-deflatex", 0, "", 0, 0, 0, 0},
    {"deflate-frame, x-webkit-deflate-frame", 0, "", 0, 0, 0, 0},
    {"x-webkit-deflate-frame, permessage-deflate", 1, "permessage-deflate", 0, 0, 15, 15},
    {" , ,permessage-deflate,", 1, "permessage-deflate", 0, 0, 15, 15},
    /* several offers: the first acceptable wins */
    {"permessage-deflate; server_max_window_bits=7, permessage-deflate; "
     "server_max_window_bits=9",
     1, "permessage-deflate; server_max_window_bits=9", 0, 0, 9, 15},
    {"permessage-deflate; foo, permessage-deflate; client_no_context_takeover", 1,
     "permessage-deflate; client_no_context_takeover", 0, 1, 15, 15},
    {"permessage-deflate; server_max_window_bits=10, permessage-deflate", 1,
     "permessage-deflate; server_max_window_bits=10", 0, 0, 10, 15},
    {"permessage-deflate; x=\"a,b\", permessage-deflate; server_no_context_takeover", 1,
     "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15},
    {"permessage-deflate; bad@, permessage-deflate; server_no_context_takeover", 1,
     "permessage-deflate; server_no_context_takeover", 1, 0, 15, 15},
    {"permessage-deflate; client_max_window_bits=20, permessage-deflate", 1,
     "permessage-deflate", 0, 0, 15, 15},
};

TEST(ws_deflate_negotiate_offers) {
  for (size_t i = 0; i < sizeof(negos) / sizeof(negos[0]); i++) {
    const struct nego *v = &negos[i];
    struct mg__ws_deflate_params p;
    char resp[128];
    memset(&p, 0, sizeof(p));
    memset(resp, 'x', sizeof(resp));
    size_t n = strlen(v->offers);
    const char *g = (const char *) guard_copy(v->offers, n);
    CHECK(g != NULL);
    int r = mg__ws_deflate_negotiate(mg_mk_str_n(g, n), &p, resp, sizeof(resp));
    if (r != v->ok || strcmp(resp, v->resp) != 0) {
      fprintf(stderr, "offer %zu '%s': %d '%s'\n", i, v->offers, r, resp);
      CHECK(0);
    }
    if (v->ok) {
      CHECK(p.server_no_context_takeover == v->snct && p.client_no_context_takeover == v->cnct);
      CHECK(p.server_max_window_bits == v->smwb && p.client_max_window_bits == v->cmwb);
      /* The response is a valid response for a client that made the offer. */
      struct mg__ws_deflate_params q;
      CHECK(mg__ws_deflate_accept(mg_mk_str(resp), &q) == 1);
      CHECK(q.server_no_context_takeover == p.server_no_context_takeover);
      CHECK(q.client_no_context_takeover == p.client_no_context_takeover);
      CHECK(q.server_max_window_bits == p.server_max_window_bits);
      CHECK(q.client_max_window_bits == p.client_max_window_bits);
    }
  }
}

TEST(ws_deflate_negotiate_small_buffers) {
  struct mg__ws_deflate_params p;
  char resp[200];
  const char *all = "permessage-deflate; server_no_context_takeover; "
                    "client_no_context_takeover; server_max_window_bits=15; "
                    "client_max_window_bits=15";
  CHECK(mg__ws_deflate_negotiate(mg_mk_str(all), &p, resp, 128) == 1);
  size_t need = strlen(resp) + 1;
  CHECK(need == 102); /* the longest response */
  for (size_t len = 0; len < need; len++) {
    memset(resp, 'x', sizeof(resp));
    CHECK(mg__ws_deflate_negotiate(mg_mk_str(all), &p, resp, len) == 0);
    CHECK(len == 0 || resp[0] == '\0');
    CHECK(resp[len] == 'x');
  }
  CHECK(mg__ws_deflate_negotiate(mg_mk_str(all), &p, resp, need) == 1);
  CHECK(mg__ws_deflate_negotiate(mg_mk_str_n(NULL, 0), &p, resp, sizeof(resp)) == 0);
}

TEST(ws_deflate_client_accept) {
  static const struct {
    const char *value;
    int r, snct, cnct, smwb, cmwb;
  } v[] = {
      {"", 0, 0, 0, 0, 0},
      {"  ", 0, 0, 0, 0, 0},
      {",", 0, 0, 0, 0, 0},
      {"permessage-deflate", 1, 0, 0, 15, 15},
      {"permessage-deflate; server_no_context_takeover", 1, 1, 0, 15, 15},
      {"permessage-deflate; client_no_context_takeover", 1, 0, 1, 15, 15},
      {"permessage-deflate; server_max_window_bits=9", 1, 0, 0, 9, 15},
      {"permessage-deflate; client_max_window_bits=8", 1, 0, 0, 15, 8},
      {"permessage-deflate;client_max_window_bits=\"12\";server_max_window_bits=13", 1, 0, 0,
       13, 12},
      {"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
       "server_max_window_bits=10; client_max_window_bits=11",
       1, 1, 1, 10, 11},
      {" permessage-deflate , ", 1, 0, 0, 15, 15},
      /* a response's client_max_window_bits needs a value */
      {"permessage-deflate; client_max_window_bits", -1, 0, 0, 0, 0},
      {"permessage-deflate; server_max_window_bits", -1, 0, 0, 0, 0},
      {"permessage-deflate; server_max_window_bits=16", -1, 0, 0, 0, 0},
      {"permessage-deflate; client_max_window_bits=7", -1, 0, 0, 0, 0},
      {"permessage-deflate; server_no_context_takeover; server_no_context_takeover", -1, 0,
       0, 0, 0},
      {"permessage-deflate; unknown", -1, 0, 0, 0, 0},
      {"permessage-deflate; server_no_context_takeover=1", -1, 0, 0, 0, 0},
      {"permessage-deflate, permessage-deflate", -1, 0, 0, 0, 0},
      {"x-webkit-deflate-frame", -1, 0, 0, 0, 0},
      {"permessage-deflate, x-other", -1, 0, 0, 0, 0},
      {"permessage-deflate;", -1, 0, 0, 0, 0},
      {"permessage-deflate; server_max_window_bits=\"9", -1, 0, 0, 0, 0},
  };
  for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
    struct mg__ws_deflate_params p;
    memset(&p, 0, sizeof(p));
    size_t n = strlen(v[i].value);
    const char *g = (const char *) guard_copy(v[i].value, n);
    CHECK(g != NULL);
    int r = mg__ws_deflate_accept(mg_mk_str_n(g, n), &p);
    if (r != v[i].r) fprintf(stderr, "response '%s': %d\n", v[i].value, r);
    CHECK(r == v[i].r);
    if (r == 1) {
      CHECK(p.server_no_context_takeover == v[i].snct);
      CHECK(p.client_no_context_takeover == v[i].cnct);
      CHECK(p.server_max_window_bits == v[i].smwb);
      CHECK(p.client_max_window_bits == v[i].cmwb);
    }
  }
  CHECK(strcmp(mg__ws_deflate_offer(), "permessage-deflate; client_max_window_bits") == 0);
  /* The client's own offer is acceptable to the server. */
  struct mg__ws_deflate_params p;
  char resp[128];
  CHECK(mg__ws_deflate_negotiate(mg_mk_str(mg__ws_deflate_offer()), &p, resp, 128) == 1);
}

/* ---- permessage-deflate data ------------------------------------------------------------ */

/* A message of n bytes that compresses somewhat: runs of words from a small vocabulary,
 * some random bytes, and repeats of earlier stretches (which context takeover helps). */
static void fill_message(unsigned char *m, size_t n) {
  static const char *words[] = {"alpha ", "beta ", "gamma ", "{\"id\":", "0123456789",
                                "\r\n", "websocket ", "deflate "};
  size_t i = 0;
  while (i < n) {
    size_t kind = rnd_below(10);
    if (kind < 6) {
      const char *w = words[rnd_below(8)];
      for (size_t k = 0; w[k] != '\0' && i < n; k++) m[i++] = (unsigned char) w[k];
    } else if (kind < 8) {
      size_t run = 1 + rnd_below(16);
      for (size_t k = 0; k < run && i < n; k++) m[i++] = (unsigned char) rnd();
    } else if (i > 0) {
      size_t back = 1 + rnd_below(i), len = 3 + rnd_below(64);
      for (size_t k = 0; k < len && i < n; k++, i++) m[i] = m[i - back];
    }
  }
}

/* The length of the next random message: 0, 1 and (when `big`) 1 MiB among them, else
 * log-uniform up to 16 KiB. */
static size_t message_len(int i, int big) {
  if (i == 0) return 0;
  if (i == 1) return 1;
  if (i == 2 && big) return test_torture() ? 1 << 17 : 1 << 20; /* rerun per allocation */
  return rnd_below((size_t) 1 << rnd_below(15));
}

/* Sends `count` random messages from `from` to `to` (each compressed, then inflated),
 * checking each arrives intact. Returns 1 when all do. */
static int round_trips(struct mg__ws_deflate *from, struct mg__ws_deflate *to, int count,
                       int big) {
  size_t cap = (size_t) 1 << 20;
  unsigned char *msg = (unsigned char *) test_malloc(cap);
  TEST_MBUF(z);
  TEST_MBUF(back);
  int ok = msg != NULL;
  mbuf_init(&z, 0);
  mbuf_init(&back, 0);
  for (int i = 0; ok && i < count; i++) {
    size_t n = message_len(i, big);
    fill_message(msg, n);
    z.len = back.len = 0;
    ok = mg__ws_deflate_message(from, msg, n, &z) == 0 && z.len > 0;
    ok = ok && mg__ws_inflate_message(to, z.buf, z.len, n, &back) == 0;
    ok = ok && back.len == n && (n == 0 || memcmp(back.buf, msg, n) == 0);
    if (!ok) fprintf(stderr, "message %d of %zu bytes failed\n", i, n);
  }
  mbuf_free(&z);
  mbuf_free(&back);
  test_free(msg);
  return ok;
}

static void free_deflate(void *d) {
  mg__ws_deflate_free((struct mg__ws_deflate *) d);
}

/* mg__ws_deflate_new, the state freed after the test unless test_release(free_deflate)
 * freed it before. */
static struct mg__ws_deflate *new_deflate(const struct mg__ws_deflate_params *p, int server) {
  struct mg__ws_deflate *d = mg__ws_deflate_new(p, server);
  if (d != NULL) test_defer(free_deflate, d);
  return d;
}

/* Both directions between a server state and a client state with params p. */
static int converse(const struct mg__ws_deflate_params *p, int count, int big) {
  struct mg__ws_deflate *s = new_deflate(p, 1), *c = new_deflate(p, 0);
  int ok = s != NULL && c != NULL && round_trips(s, c, count, big) &&
           round_trips(c, s, count, big);
  test_release(free_deflate, s);
  test_release(free_deflate, c);
  return ok;
}

TEST(ws_deflate_round_trips_context_takeover_both_ways) {
  struct mg__ws_deflate_params p = {0, 0, 15, 15};
  CHECK(converse(&p, test_rounds(1000), 1));
}

TEST(ws_deflate_round_trips_no_context_takeover) {
  struct mg__ws_deflate_params p = {1, 1, 15, 15};
  CHECK(converse(&p, test_rounds(1000), 1));
  struct mg__ws_deflate_params q = {1, 0, 12, 15};
  CHECK(converse(&q, test_rounds(1000), 1));
  struct mg__ws_deflate_params r = {0, 1, 15, 10};
  CHECK(converse(&r, test_rounds(1000), 1));
}

TEST(ws_deflate_round_trips_every_window) {
  for (unsigned char sb = 8; sb <= 15; sb++) {
    for (unsigned char cb = 8; cb <= 15; cb += 7) {
      struct mg__ws_deflate_params p = {0, 0, sb, cb};
      CHECK(converse(&p, test_rounds(60), 0));
      struct mg__ws_deflate_params q = {1, 1, cb, sb};
      CHECK(converse(&q, test_rounds(30), 0));
    }
  }
}

/* The compressed form of `n` zero bytes as a message payload (raw DEFLATE, sync flush,
 * 00 00 FF FF removed), built with zlib directly in 64 KiB steps. */
static int zeros_compressed(size_t n, struct mbuf *out) {
  static unsigned char zeros[65536];
  z_stream z;
  memset(&z, 0, sizeof(z));
  if (deflateInit2(&z, 1, Z_DEFLATED, -15, 9, Z_RLE) != Z_OK) return 0;
  int ok = 1;
  while (ok) {
    size_t take = n < sizeof(zeros) ? n : sizeof(zeros);
    n -= take;
    z.next_in = zeros;
    z.avail_in = (unsigned) take;
    int flush = n == 0 ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    do {
      if (!mbuf_reserve(out, 65536)) ok = 0;
      if (!ok) break;
      z.next_out = (unsigned char *) out->buf + out->len;
      z.avail_out = 65536;
      if (deflate(&z, flush) == Z_STREAM_ERROR) ok = 0;
      out->len += 65536 - z.avail_out;
    } while (z.avail_out == 0);
    if (n == 0) break;
  }
  deflateEnd(&z);
  if (ok && out->len >= 4 && memcmp(out->buf + out->len - 4, "\0\0\xff\xff", 4) == 0) {
    out->len -= 4;
  }
  return ok;
}

TEST(ws_inflate_bomb_stops_at_the_limit) {
  TEST_MBUF(bomb);
  TEST_MBUF(out);
  mbuf_init(&bomb, 0);
  mbuf_init(&out, 0);
  CHECK(zeros_compressed((size_t) 100 << 20, &bomb));
  /* deflate cannot beat about 1032:1, so 100 MiB of zeros is still ~100 KiB. */
  CHECK(bomb.len < (size_t) 200 << 10);
  struct mg__ws_deflate_params p = {0, 0, 15, 15};
  struct mg__ws_deflate *d = new_deflate(&p, 1);
  CHECK(d != NULL);
  size_t max = (size_t) 1 << 20;
  int r = mg__ws_inflate_message(d, bomb.buf, bomb.len, max, &out);
  int dead = mg__ws_inflate_message(d, bomb.buf, bomb.len, max, &out);
  test_release(free_deflate, d);
  size_t out_len = out.len, out_size = out.size;
  mbuf_free(&out);
  mbuf_free(&bomb);
  CHECK(r == -2);
  CHECK(dead == -1); /* a failed state stays failed */
  /* Output stopped one byte past the limit, and the buffer never grew much beyond. */
  CHECK(out_len == max + 1);
  CHECK(out_size <= max + max / 4 + 65536);
}

TEST(ws_inflate_limits_exact) {
  unsigned char msg[5000];
  fill_message(msg, sizeof(msg));
  struct mg__ws_deflate_params p = {1, 1, 15, 15};
  struct mg__ws_deflate *s = new_deflate(&p, 1);
  TEST_MBUF(z);
  TEST_MBUF(out);
  mbuf_init(&z, 0);
  mbuf_init(&out, 0);
  CHECK(s != NULL && mg__ws_deflate_message(s, msg, sizeof(msg), &z) == 0);
  test_release(free_deflate, s);
  static const size_t maxes[] = {0, 1, 4999, 5000, 5001, SIZE_MAX};
  for (size_t i = 0; i < sizeof(maxes) / sizeof(maxes[0]); i++) {
    struct mg__ws_deflate *c = new_deflate(&p, 0);
    CHECK(c != NULL);
    out.len = 0;
    int r = mg__ws_inflate_message(c, z.buf, z.len, maxes[i], &out);
    test_release(free_deflate, c);
    CHECK(r == (maxes[i] >= sizeof(msg) ? 0 : -2));
    if (r == 0) CHECK(out.len == sizeof(msg) && memcmp(out.buf, msg, sizeof(msg)) == 0);
    if (r == -2) CHECK(out.len == maxes[i] + 1);
  }
  mbuf_free(&z);
  mbuf_free(&out);
}

/* Inflates `n` bytes at `data` in a fresh client state with server window `bits`. */
static int inflate_fresh(const void *data, size_t n, int bits, struct mbuf *out) {
  struct mg__ws_deflate_params p = {0, 0, (unsigned char) bits, 15};
  struct mg__ws_deflate *d = new_deflate(&p, 0);
  if (d == NULL) return -100;
  int r = mg__ws_inflate_message(d, data, n, (size_t) 1 << 20, out);
  test_release(free_deflate, d);
  return r;
}

TEST(ws_inflate_invalid_data) {
  TEST_MBUF(out);
  mbuf_init(&out, 0);
  /* BTYPE 11 is reserved. */
  CHECK(inflate_fresh("\xff\xff\xff", 3, 15, &out) == -1);
  CHECK(inflate_fresh("\x07", 1, 15, &out) == -1);
  /* A stored block whose LEN and NLEN disagree. */
  CHECK(inflate_fresh("\x00\x05\x00\x00\x00hello", 10, 15, &out) == -1);
  /* The empty payload is an empty message. */
  out.len = 0;
  CHECK(inflate_fresh("", 0, 15, &out) == 0 && out.len == 0);
  /* "Hello" (RFC 7692 7.2.3.1), then cut short: not at a block boundary. */
  out.len = 0;
  CHECK(inflate_fresh("\xf2\x48\xcd\xc9\xc9\x07\x00", 7, 15, &out) == 0);
  CHECK(out.len == 5 && memcmp(out.buf, "Hello", 5) == 0);
  for (size_t cut = 1; cut < 7; cut++) {
    CHECK(inflate_fresh("\xf2\x48\xcd\xc9\xc9\x07\x00", cut, 15, &out) == -1);
  }
  mbuf_free(&out);
}

/* The peer's window bits bound what this side keeps between messages: a second message
 * that repeats a first of 300 bytes refers 300 bytes back, beyond a 256-byte window
 * (zlib checks distances against the bytes it holds: this message's output so far and
 * the window kept from earlier calls). */
TEST(ws_inflate_window_bits_enforced_across_messages) {
  unsigned char msg[300];
  for (size_t i = 0; i < sizeof(msg); i++) msg[i] = (unsigned char) rnd();
  struct mg__ws_deflate_params p = {0, 0, 15, 15};
  struct mg__ws_deflate *s = new_deflate(&p, 1);
  TEST_MBUF(z1);
  TEST_MBUF(z2);
  TEST_MBUF(out);
  mbuf_init(&z1, 0);
  mbuf_init(&z2, 0);
  mbuf_init(&out, 0);
  CHECK(s != NULL);
  CHECK(mg__ws_deflate_message(s, msg, sizeof(msg), &z1) == 0);
  CHECK(mg__ws_deflate_message(s, msg, sizeof(msg), &z2) == 0);
  test_release(free_deflate, s);
  CHECK(z2.len < 20); /* one match */
  for (unsigned char bits = 8; bits <= 10; bits++) {
    struct mg__ws_deflate_params q = {0, 0, bits, 15};
    struct mg__ws_deflate *c = new_deflate(&q, 0);
    CHECK(c != NULL);
    out.len = 0;
    int r1 = mg__ws_inflate_message(c, z1.buf, z1.len, 1000, &out);
    int r2 = mg__ws_inflate_message(c, z2.buf, z2.len, 1000, &out);
    test_release(free_deflate, c);
    CHECK(r1 == 0);
    CHECK(r2 == (bits == 8 ? -1 : 0));
    if (r2 == 0) CHECK(out.len == 600 && memcmp(out.buf + 300, msg, 300) == 0);
  }
  mbuf_free(&z1);
  mbuf_free(&z2);
  mbuf_free(&out);
}

/* Messages that each end their DEFLATE stream with a BFINAL block (RFC 7692 permits
 * it), then one 00 byte (what is left of the empty block a sender appends); the next
 * message starts a new stream that may still refer to the earlier messages. */
TEST(ws_inflate_bfinal_blocks) {
  struct mg__ws_deflate_params p = {0, 0, 15, 15};
  struct mg__ws_deflate *d = new_deflate(&p, 0);
  TEST_MBUF(out);
  mbuf_init(&out, 0);
  CHECK(d != NULL);
  /* The RFC's own example. */
  CHECK(mg__ws_inflate_message(d, "\xf3\x48\xcd\xc9\xc9\x07\x00\x00", 8, 100, &out) == 0);
  CHECK(out.len == 5 && memcmp(out.buf, "Hello", 5) == 0);
  unsigned char hist[1 << 15], msg[3000], comp[4096];
  size_t hist_len = 5;
  memcpy(hist, "Hello", 5);
  for (int i = 0; i < 20; i++) {
    fill_message(msg, sizeof(msg));
    size_t back = hist_len < 500 ? hist_len : 500;
    memcpy(msg + 1000, hist + hist_len - back, back); /* refers to earlier messages */
    z_stream z;
    memset(&z, 0, sizeof(z));
    CHECK(deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    CHECK(deflateSetDictionary(&z, hist, (unsigned) hist_len) == Z_OK);
    z.next_in = msg;
    z.avail_in = sizeof(msg);
    z.next_out = comp;
    z.avail_out = sizeof(comp) - 1;
    CHECK(deflate(&z, Z_FINISH) == Z_STREAM_END);
    size_t clen = sizeof(comp) - 1 - z.avail_out;
    deflateEnd(&z);
    comp[clen++] = 0;
    out.len = 0;
    CHECK(mg__ws_inflate_message(d, comp, clen, sizeof(msg), &out) == 0);
    CHECK(out.len == sizeof(msg) && memcmp(out.buf, msg, sizeof(msg)) == 0);
    if (hist_len + sizeof(msg) > sizeof(hist)) {
      memmove(hist, hist + hist_len - 4096, 4096);
      hist_len = 4096;
    }
    memcpy(hist + hist_len, msg, sizeof(msg));
    hist_len += sizeof(msg);
  }
  mbuf_free(&out);
  test_release(free_deflate, d);
}

/* Every allocation of a state's life (the state, each zlib stream, the output buffer)
 * failing in turn, and every one after it: the call reports it and nothing leaks. zlib
 * allocates through the mbuf hooks, so the test allocator sees its blocks too. */
TEST(ws_deflate_allocation_failures) {
  unsigned char msg[20000];
  fill_message(msg, sizeof(msg));
  struct mg__ws_deflate_params p = {0, 0, 15, 15};
  int done = 0, saw_state = 0, saw_deflate = 0, saw_inflate = 0;
  for (long k = 1; !done && k < 1000; k++) {
    long live = mgio_test_alloc_live();
    TEST_MBUF(z);
    TEST_MBUF(back);
    mbuf_init(&z, 0);
    mbuf_init(&back, 0);
    mgio_test_alloc_fail_from(k); /* the k-th allocation and all later ones fail */
    struct mg__ws_deflate *s = new_deflate(&p, 1);
    struct mg__ws_deflate *c = s != NULL ? new_deflate(&p, 0) : NULL;
    int rd = c != NULL ? mg__ws_deflate_message(s, msg, sizeof(msg), &z) : 1;
    int ri = rd == 0 ? mg__ws_inflate_message(c, z.buf, z.len, sizeof(msg), &back) : 1;
    int rd2 = ri == 0 ? mg__ws_deflate_message(s, msg, 100, &z) : 1;
    mgio_test_alloc_fail_at(0);
    if (s == NULL || c == NULL) {
      saw_state++; /* the state itself */
    } else if (rd != 0) {
      saw_deflate++;
      CHECK(rd == -1);
      CHECK(mg__ws_deflate_message(s, msg, 10, &z) == -1); /* stays failed */
    } else if (ri != 0) {
      saw_inflate++;
      CHECK(ri == -3);
      CHECK(mg__ws_inflate_message(c, z.buf, z.len, sizeof(msg), &back) == -1);
    } else if (rd2 != 0) {
      CHECK(rd2 == -1);
    } else {
      CHECK(back.len == sizeof(msg) && memcmp(back.buf, msg, sizeof(msg)) == 0);
      done = 1;
    }
    test_release(free_deflate, s);
    test_release(free_deflate, c);
    mbuf_free(&z);
    mbuf_free(&back);
    CHECK(mgio_test_alloc_live() == live);
  }
  CHECK(done);
  /* Both states, the compressor's zlib setup and output, the inflater's likewise. */
  CHECK(saw_state == 2 && saw_deflate >= 3 && saw_inflate >= 3);
}
