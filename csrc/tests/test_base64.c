/* base64: RFC 4648 vectors, the decoder's stopping rules, every length around the group
 * size, and the mbuf append path including allocation failure and size overflow. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mgio.h"
#include "test.h"

/* Decodes `n` bytes from an exact-size heap copy (so ASan sees any over-read) into `out`,
 * which is filled with 0xAA first so a missing NUL shows. */
static int decode_exact(const void *in, size_t n, char *out, size_t out_size) {
  unsigned char *copy = (unsigned char *) memset(test_malloc(n), 0, n > 0 ? n : 1);
  if (copy == NULL) return -100;
  memcpy(copy, in, n);
  memset(out, 0xAA, out_size);
  int r = mg_base64_decode(copy, (int) n, out);
  test_free(copy);
  return r;
}

/* 1 when `out` holds exactly the `n` bytes of `want` followed by a NUL. */
static int decoded_is(const char *out, const void *want, size_t n) {
  return memcmp(out, want, n) == 0 && out[n] == '\0';
}

static const char *const rfc4648[][2] = {
    {"", ""},         {"f", "Zg=="},         {"fo", "Zm8="},         {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="}, {"fooba", "Zm9vYmE="}, {"foobar", "Zm9vYmFy"},
};

TEST(base64_rfc4648_vectors) {
  char enc[16], dec[16];
  for (size_t i = 0; i < sizeof(rfc4648) / sizeof(rfc4648[0]); i++) {
    const char *plain = rfc4648[i][0], *b64 = rfc4648[i][1];
    mg_base64_encode((const unsigned char *) plain, (int) strlen(plain), enc);
    CHECK(strcmp(enc, b64) == 0);
    CHECK(decode_exact(b64, strlen(b64), dec, sizeof(dec)) == (int) strlen(b64));
    CHECK(decoded_is(dec, plain, strlen(plain)));
  }
}

TEST(base64_encode_empty_and_negative) {
  char enc[8] = "xxxxxxx";
  mg_base64_encode(NULL, 0, enc);
  CHECK(enc[0] == '\0');
  memcpy(enc, "xxxxxxx", 8);
  mg_base64_encode((const unsigned char *) "abc", -1, enc);
  CHECK(enc[0] == '\0');
}

TEST(base64_decode_reference_examples) {
  char dec[32];
  CHECK(decode_exact("Q2VzYW50YQ==", 12, dec, sizeof(dec)) == 12);
  CHECK(decoded_is(dec, "Cesanta", 7));
  CHECK(decode_exact("AAAA----", 8, dec, sizeof(dec)) == 4);
  CHECK(decoded_is(dec, "\0\0\0", 3));
  CHECK(decode_exact("\xc3\xa9t\xc3\xa9", 6, dec, sizeof(dec)) == 0);
  CHECK(dec[0] == '\0');
}

TEST(base64_decode_empty_and_negative_length) {
  char dec[8];
  CHECK(decode_exact("Zm9v", 0, dec, sizeof(dec)) == 0 && dec[0] == '\0');
  memset(dec, 0xAA, sizeof(dec));
  CHECK(mg_base64_decode((const unsigned char *) "Zm9v", -4, dec) == 0 && dec[0] == '\0');
  memset(dec, 0xAA, sizeof(dec));
  CHECK(mg_base64_decode(NULL, 0, dec) == 0 && dec[0] == '\0');
}

/* Padding, unpadded tails, and where decoding stops. */
static const struct {
  const char *in;
  int consumed;
  const char *out;
  size_t out_len;
} stops[] = {
    {"Zg==", 4, "f", 1},          {"Zm8=", 4, "fo", 2},       {"Zg", 2, "f", 1},
    {"Zm8", 3, "fo", 2},          {"Z", 0, "", 0},            {"Zm9vY", 4, "foo", 3},
    {"Zg=", 2, "f", 1},           {"Zg=A", 2, "f", 1},        {"Zm8=Zg==", 4, "fo", 2},
    {"Zg==Zg==", 4, "f", 1},      {"Z===", 0, "", 0},         {"====", 0, "", 0},
    {"=Zg=", 0, "", 0},           {"Zm9v-", 4, "foo", 3},     {"Zm9vZg-A", 6, "foof", 4},
    {"Zm9vZ-", 4, "foo", 3},      {"Zm9vZm8-", 7, "foofo", 5}, {"Zm 9v", 2, "f", 1},
    {"Zm9v\r\n", 4, "foo", 3},    {"Zh==", 4, "f", 1},        {"Zm9=", 4, "fo", 2},
    {"Zm9vYmFy=", 8, "foobar", 6}, {"Zm9vYmFy==", 8, "foobar", 6},
};

TEST(base64_decode_stops) {
  char dec[32];
  for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
    CHECK(decode_exact(stops[i].in, strlen(stops[i].in), dec, sizeof(dec)) ==
          stops[i].consumed);
    CHECK(decoded_is(dec, stops[i].out, stops[i].out_len));
  }
}

/* An invalid character at position p stops decoding there; a lone character before it
 * is not consumed. */
TEST(base64_decode_invalid_at_each_position) {
  static const char bad[] = {'-', '=', ' ', '\0', '\x80', '\xff', '.', '_'};
  char in[13] = "Zm9vYmFyYmF6", dec[16];
  for (size_t b = 0; b < sizeof(bad); b++) {
    for (size_t p = 0; p < 12; p++) {
      in[p] = bad[b];
      size_t tail = p % 4 >= 2 ? p % 4 : 0, consumed = p / 4 * 4 + tail;
      size_t out_len = p / 4 * 3 + (tail > 0 ? tail - 1 : 0);
      if (bad[b] == '=' && p % 4 == 3) consumed = p + 1; /* "xxx=" is a valid end */
      CHECK(decode_exact(in, 12, dec, sizeof(dec)) == (int) consumed);
      CHECK(decoded_is(dec, "foobarbaz", out_len));
      in[p] = "Zm9vYmFyYmF6"[p];
    }
  }
}

/* Every length 0..130 (around the 3-byte and 4-character groups and beyond 64): the
 * encoded size, the round trip, and the round trip without padding. */
TEST(base64_roundtrip_lengths) {
  unsigned char data[131];
  char enc[4 * 44 + 1], dec[3 * 44 + 3];
  for (size_t i = 0; i < sizeof(data); i++) data[i] = (unsigned char) (i * 167 + 13);
  for (size_t n = 0; n <= 130; n++) {
    size_t want = 4 * ((n + 2) / 3), bare = want - (n % 3 == 0 ? 0 : 3 - n % 3);
    mg_base64_encode(data, (int) n, enc);
    CHECK(strlen(enc) == want);
    CHECK(decode_exact(enc, want, dec, sizeof(dec)) == (int) want);
    CHECK(decoded_is(dec, data, n));
    CHECK(decode_exact(enc, bare, dec, sizeof(dec)) == (int) bare);
    CHECK(decoded_is(dec, data, n));
    CHECK(mg_base64_decoded_max(bare) == n && mg_base64_decoded_max(want) >= n);
  }
}

/* The output trails the input, so `dst` may be the input itself. */
TEST(base64_decode_in_place) {
  char buf[32];
  for (size_t i = 0; i < sizeof(stops) / sizeof(stops[0]); i++) {
    size_t n = strlen(stops[i].in);
    memcpy(buf, stops[i].in, n);
    CHECK(mg_base64_decode((const unsigned char *) buf, (int) n, buf) == stops[i].consumed);
    CHECK(decoded_is(buf, stops[i].out, stops[i].out_len));
  }
}

TEST(base64_every_byte_value) {
  unsigned char data[256];
  char enc[4 * 86 + 1], dec[256 + 3];
  for (size_t i = 0; i < 256; i++) data[i] = (unsigned char) i;
  mg_base64_encode(data, 256, enc);
  CHECK(strncmp(enc, "AAECAwQFBgcICQoL", 16) == 0);
  CHECK(strcmp(enc + strlen(enc) - 8, "/P3+/w==") == 0);
  CHECK(decode_exact(enc, strlen(enc), dec, sizeof(dec)) == (int) strlen(enc));
  CHECK(decoded_is(dec, data, 256));
}

TEST(base64_decoded_max) {
  static const size_t want[] = {0, 0, 1, 2, 3, 3, 4, 5, 6};
  for (size_t n = 0; n < sizeof(want) / sizeof(want[0]); n++) {
    CHECK(mg_base64_decoded_max(n) == want[n]);
  }
  CHECK(mg_base64_decoded_max(SIZE_MAX) == SIZE_MAX / 4 * 3 + 2); /* no overflow */
}

/* 1 when the mbuf holds exactly the C string `s`. */
static int mbuf_is(const struct mbuf *m, const char *s) {
  return m->len == strlen(s) && m->len <= m->size && memcmp(m->buf, s, m->len) == 0;
}

TEST(base64_mbuf_append) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  mg_mbuf_append_base64(&m, NULL, 0);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  mg_mbuf_append_base64(&m, "foob", 4);
  CHECK(mbuf_is(&m, "Zm9vYg=="));
  mg_mbuf_append_base64(&m, "foobar", 6);
  CHECK(mbuf_is(&m, "Zm9vYg==Zm9vYmFy"));
  mg_mbuf_append_base64(&m, "fo", 2);
  CHECK(mbuf_is(&m, "Zm9vYg==Zm9vYmFyZm8="));
  mbuf_free(&m);
}

TEST(base64_mbuf_append_into_spare_room) {
  TEST_MBUF(m);
  mbuf_init(&m, 16);
  char *before = m.buf;
  mbuf_append(&m, "x:", 2);
  mgio_test_alloc_fail_at(1); /* the room is there: nothing may be allocated */
  mg_mbuf_append_base64(&m, "foobar", 6);
  CHECK(m.buf == before && m.size == 16 && mbuf_is(&m, "x:Zm9vYmFy"));
  mgio_test_alloc_fail_at(0);
  mbuf_free(&m);
}

/* With one injected failure the preferred size fails and mbuf_reserve retries for the
 * exact size: the append still succeeds, and exactly fills the buffer. */
TEST(base64_mbuf_append_allocation_retry) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  mbuf_append(&m, "x:", 2);
  mbuf_trim(&m);
  mgio_test_alloc_fail_at(1);
  mg_mbuf_append_base64(&m, "foobar", 6);
  CHECK(mbuf_is(&m, "x:Zm9vYmFy") && m.size == m.len);
  mgio_test_alloc_fail_at(0);
  mbuf_free(&m);
}

/* Sizes that would overflow fail before touching the data or the buffer. */
TEST(base64_mbuf_append_overflow_unchanged) {
  static const char data[4] = "abc";
  TEST_MBUF(m);
  mg_mbuf_append_base64(&m, data, SIZE_MAX); /* 4 * ceil(SIZE_MAX / 3) overflows */
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
  /* 4 * ceil(n / 3) fits in size_t but exceeds any allocation mbuf makes */
  mg_mbuf_append_base64(&m, data, (size_t) PTRDIFF_MAX);
  CHECK(m.buf == NULL && m.len == 0 && m.size == 0);
}

/* Appending the encoding of the mbuf's own bytes, with and without a reallocation. */
TEST(base64_mbuf_append_from_itself) {
  for (size_t capacity = 6; capacity <= 64; capacity += 58) {
    TEST_MBUF(m);
    mbuf_init(&m, capacity);
    mbuf_append(&m, "foobar", 6);
    mg_mbuf_append_base64(&m, m.buf, m.len);
    CHECK(mbuf_is(&m, "foobarZm9vYmFy"));
    mg_mbuf_append_base64(&m, m.buf + 3, 3);
    CHECK(mbuf_is(&m, "foobarZm9vYmFyYmFy"));
    mbuf_free(&m);
  }
}

/* An append that cannot get memory appends nothing and leaves the mbuf as it was. */
TEST(base64_mbuf_append_out_of_memory_appends_nothing) {
  TEST_MBUF(m);
  mbuf_init(&m, 0);
  CHECK(mbuf_append(&m, "ab", 2) == 2);
  char *before = m.buf;
  size_t size_before = m.size;
  mgio_test_alloc_fail_from(1);
  mg_mbuf_append_base64(&m, "0123456789", 10);
  mgio_test_alloc_fail_at(0);
  int same = m.buf == before && m.len == 2 && m.size == size_before &&
             memcmp(m.buf, "ab", 2) == 0;
  mbuf_free(&m);
  CHECK(same);
}
