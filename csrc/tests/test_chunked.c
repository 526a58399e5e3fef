/* The chunked decoder: vectors fed whole, byte by byte, at every split point and at every
 * pair of split points, in reassembly and streaming modes; rejections with their reasons;
 * limits at, below and above; random payloads under random chunkings and random reads;
 * pipelined bytes left untouched; a 64 MiB body streamed through a fixed buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/chunked.h"
#include "chunked_feed.h"
#include "mgio.h"
#include "test.h"

#define DONE 0       /* complete; `rest` bytes follow */
#define MORE (-2)    /* needs more input */
#define BAD (-1)     /* malformed */

struct vec {
  const char *in;
  size_t n; /* 0: strlen(in) */
  int want; /* DONE, MORE or BAD */
  const char *body;
  const char *rest;
  int err; /* expected st.err */
};

#define OK(in, body, rest) {in, 0, DONE, body, rest, MG__CHUNKED_OK}
#define PART(in, body) {in, 0, MORE, body, "", MG__CHUNKED_OK}
#define REJ(in, err) {in, 0, BAD, NULL, NULL, err}

static const struct vec vecs[] = {
    OK("0\r\n\r\n", "", ""),
    OK("000\r\n\r\n", "", ""),
    OK("5\r\nhello\r\n0\r\n\r\n", "hello", ""),
    OK("5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world", ""),
    OK("a\r\n0123456789\r\nA\r\nabcdefghij\r\n0\r\n\r\n", "0123456789abcdefghij", ""),
    OK("0000000000000003\r\nabc\r\n0\r\n\r\n", "abc", ""),
    OK("1\r\n\r\r\n1\r\n\n\r\n0\r\n\r\n", "\r\n", ""),
    OK("3\r\n0\r\n\r\n0\r\n\r\n", "0\r\n", ""),
    OK("5\r\nhello\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n", "hello", "GET / HTTP/1.1\r\n\r\n"),
    OK("0\r\n\r\n0\r\n\r\n", "", "0\r\n\r\n"),
    OK("0\r\n\r\n\r\n", "", "\r\n"),
    /* extensions */
    OK("1;a\r\nx\r\n0\r\n\r\n", "x", ""),
    OK("1;a=b\r\nx\r\n0;last\r\n\r\n", "x", ""),
    OK("1 ; a = b ; c\t=\t\"q \\\" \\\\ x\" ;d\r\nx\r\n0\r\n\r\n", "x", ""),
    OK("1;a;b;c=\"\"\r\nx\r\n0\r\n\r\n", "x", ""),
    OK("1;n=\"\x80\xff\t;=\"\r\nx\r\n0\r\n\r\n", "x", ""),
    OK("1;!#$%&'*+-.^_`|~09azAZ=!#$%&'*+-.^_`|~\r\nx\r\n0\r\n\r\n", "x", ""),
    OK("1;a=\"x\" ;b\r\nx\r\n0\r\n\r\n", "x", ""),
    /* trailers */
    OK("0\r\nA: b\r\n\r\n", "", ""),
    OK("1\r\nx\r\n0\r\nA:b \t\r\nEmpty:\r\nObs: \x80\xff\r\n\r\nNEXT", "x", "NEXT"),
    OK("0\r\nx-!#$%&'*+-.^_`|~:v\r\n\r\n", "", ""),
    /* incomplete: data is delivered before its chunk ends */
    PART("", ""),
    PART("5", ""),
    PART("5\r\nhel", "hel"),
    PART("5\r\nhello", "hello"),
    PART("5\r\nhello\r", "hello"),
    PART("5\r\nhello\r\n0\r\n", "hello"),
    PART("0\r\nA: b\r\n", ""),
    PART("0\r\n\r", ""),
    PART("1;a=\"x", ""),
    PART("7fffffffffffffff\r\nabc", "abc"),
    /* chunk-size */
    REJ("\r\n", MG__CHUNKED_EBADSIZE),
    REJ(";a\r\n", MG__CHUNKED_EBADSIZE),
    REJ("g\r\n", MG__CHUNKED_EBADSIZE),
    REJ("-1\r\n", MG__CHUNKED_EBADSIZE),
    REJ("+1\r\n", MG__CHUNKED_EBADSIZE),
    REJ(" 1\r\n", MG__CHUNKED_EBADSIZE),
    REJ("0x1\r\n", MG__CHUNKED_EBADSIZE),
    REJ("1g\r\n", MG__CHUNKED_EBADSIZE),
    {"1\x00\r\n", 4, BAD, NULL, NULL, MG__CHUNKED_EBADSIZE},
    REJ("00000000000000001\r\n", MG__CHUNKED_ESIZETOOBIG),
    REJ("8000000000000000\r\n", MG__CHUNKED_ESIZETOOBIG),
    REJ("ffffffffffffffff\r\n", MG__CHUNKED_ESIZETOOBIG),
    REJ("10000000000000000\r\n", MG__CHUNKED_ESIZETOOBIG),
    /* line ends */
    REJ("1\nx\r\n0\r\n\r\n", MG__CHUNKED_EBADLINE),
    REJ("1\r\rx\r\n", MG__CHUNKED_EBADLINE),
    REJ("1\r\nx\n0\r\n\r\n", MG__CHUNKED_EBADLINE),
    REJ("1\r\nx\r0\r\n\r\n", MG__CHUNKED_EBADLINE),
    REJ("1\r\nxy\r\n0\r\n\r\n", MG__CHUNKED_EBADLINE),
    REJ("5\r\nhello world\r\n0\r\n\r\n", MG__CHUNKED_EBADLINE),
    REJ("0\n\r\n", MG__CHUNKED_EBADLINE),
    /* extensions */
    REJ("1 \r\nx\r\n0\r\n\r\n", MG__CHUNKED_EBADEXT),
    REJ("1\t\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;\r\n", MG__CHUNKED_EBADEXT),
    REJ("1; \r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a \r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a=\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a= \r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a=b \r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a=b c\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a=\"x\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a=\"x\"y\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a=\"\x7f\"\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a=\"\x01\"\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a=\"\\\x01\"\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a@b\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a\x01\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a\n", MG__CHUNKED_EBADEXT),
    REJ("1;a=b\n", MG__CHUNKED_EBADEXT),
    REJ("1;=b\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a==b\r\n", MG__CHUNKED_EBADEXT),
    REJ("1;a=\"b\"\"c\"\r\n", MG__CHUNKED_EBADEXT),
    REJ("1,a\r\n", MG__CHUNKED_EBADSIZE),
    /* trailers */
    REJ("0\r\nA : b\r\n\r\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\n A: b\r\n\r\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\nA: b\r\n c\r\n\r\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\nA: b\r\n\tc\r\n\r\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\nA: b\nC: d\r\n\r\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\nA: b\rC: d\r\n\r\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\nA: b\x7f\r\n\r\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\nA: b\x01\r\n\r\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\nA\r\n\r\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\n:b\r\n\r\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\nA@: b\r\n\r\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\n\r\r", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\n\n", MG__CHUNKED_EBADTRAILER),
    REJ("0\r\n\rX", MG__CHUNKED_EBADTRAILER),
};

/* An input with an embedded NUL, which strlen-based vectors cannot hold. */
static const char nul_value[] = "0\r\nA: b\0c\r\n\r\n";
static const char nul_data[] = "3\r\na\0b\r\n0\r\n\r\nX";

/* Runs one feeding of `v` and checks verdict, reason, body and rest. */
static int run_one(const char *in, size_t n, int want, const char *body, size_t body_len,
                   const char *rest, size_t rest_len, int want_err, const size_t *pieces,
                   size_t npieces, int keep) {
  char *out = (char *) test_malloc(n > 0 ? n : 1);
  size_t out_len = 0;
  int err = -1;
  if (out == NULL) return 0;
  long long r = mgio_test_chunked_feed(in, n, pieces, npieces, keep, NULL, out, &out_len, &err);
  int ok = err == want_err;
  if (want == DONE) {
    ok = ok && r == (long long) rest_len && out_len == body_len &&
         memcmp(out, body, body_len) == 0 && memcmp(out + body_len, rest, rest_len) == 0;
  } else if (want == MORE) {
    ok = ok && r == -2 && out_len == body_len && memcmp(out, body, body_len) == 0;
  } else {
    ok = ok && r == -1;
  }
  test_free(out);
  return ok;
}

/* Every feeding: whole, one byte at a time, split once at every point, and (for short
 * inputs) split twice at every pair of points; both modes. */
static int run_all_splits(const char *in, size_t n, int want, const char *body,
                          size_t body_len, const char *rest, size_t rest_len, int want_err) {
  size_t *ones = (size_t *) test_malloc((n > 0 ? n : 1) * sizeof(size_t));
  int ok = ones != NULL;
  for (size_t i = 0; ok && i < n; i++) ones[i] = 1;
  for (int keep = 0; ok && keep < 2; keep++) {
    ok = run_one(in, n, want, body, body_len, rest, rest_len, want_err, NULL, 0, keep) &&
         run_one(in, n, want, body, body_len, rest, rest_len, want_err, ones, n, keep);
    for (size_t i = 0; ok && i <= n; i++) {
      size_t two[2] = {i, n - i};
      ok = run_one(in, n, want, body, body_len, rest, rest_len, want_err, two, 2, keep);
      for (size_t j = i; ok && n <= 64 && j <= n; j++) {
        size_t three[3] = {i, j - i, n - j};
        ok = run_one(in, n, want, body, body_len, rest, rest_len, want_err, three, 3, keep);
      }
    }
  }
  test_free(ones);
  return ok;
}

TEST(chunked_vectors_every_split) {
  for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
    const struct vec *v = &vecs[i];
    size_t n = v->n ? v->n : strlen(v->in);
    const char *body = v->body ? v->body : "";
    const char *rest = v->rest ? v->rest : "";
    if (!run_all_splits(v->in, n, v->want, body, strlen(body), rest, strlen(rest), v->err)) {
      mgio_test_fail(__FILE__, (int) i, v->in); /* line number = vector index */
      return;
    }
  }
}

TEST(chunked_nul_bytes) {
  CHECK(run_all_splits(nul_value, sizeof(nul_value) - 1, BAD, "", 0, "", 0,
                       MG__CHUNKED_EBADTRAILER));
  CHECK(run_all_splits(nul_data, sizeof(nul_data) - 1, DONE, "a\0b", 3, "X", 1,
                       MG__CHUNKED_OK));
}

TEST(chunked_zeroed_struct_equals_init) {
  struct mg__chunked a, b;
  memset(&a, 0, sizeof(a));
  memset(&b, 0x5a, sizeof(b));
  mg__chunked_init(&b);
  CHECK(memcmp(&a, &b, sizeof(a)) == 0);
  char buf[] = "3\r\nabc\r\n0\r\n\r\nZ";
  size_t len = sizeof(buf) - 1;
  CHECK(mg__chunked_decode(&a, buf, &len) == 1);
  CHECK(len == 3 && memcmp(buf, "abc", 3) == 0 && buf[sizeof(buf) - 2] == 'Z');
  CHECK(mg__chunked_done(&a) && !mg__chunked_done(&b));
}

TEST(chunked_sticky_error_and_done) {
  struct mg__chunked st = {0};
  char bad[] = "x";
  size_t len = 1;
  CHECK(mg__chunked_decode(&st, bad, &len) == -1 && len == 0);
  CHECK(st.err == MG__CHUNKED_EBADSIZE);
  char good[] = "0\r\n\r\n";
  len = 5;
  CHECK(mg__chunked_decode(&st, good, &len) == -1 && len == 0);
  CHECK(strcmp(mg__chunked_strerror(st.err), "invalid chunk size") == 0);
  CHECK(mg__chunked_strerror(999) != NULL);

  struct mg__chunked d = {0};
  len = 5;
  CHECK(mg__chunked_decode(&d, good, &len) == 0 && len == 0 && mg__chunked_done(&d));
  char more[] = "GET";
  len = 3;
  CHECK(mg__chunked_decode(&d, more, &len) == 3 && len == 0);
  CHECK(memcmp(more, "GET", 3) == 0);
  len = 0;
  CHECK(mg__chunked_decode(&d, NULL, &len) == 0);
  struct mg__chunked e = {0};
  len = 0;
  CHECK(mg__chunked_decode(&e, NULL, &len) == -2 && len == 0);
}

TEST(chunked_error_reports_data_before_it) {
  struct mg__chunked st = {0};
  char buf[] = "3\r\nabcX";
  size_t len = sizeof(buf) - 1;
  CHECK(mg__chunked_decode(&st, buf, &len) == -1);
  CHECK(len == 3 && memcmp(buf, "abc", 3) == 0 && st.err == MG__CHUNKED_EBADLINE);
  CHECK(st.total == 3);
}

/* Feeds `in` whole with limits; returns the verdict and sets *err. */
static long long with_limits(const char *in, size_t n, const size_t limits[4], int *err) {
  char *out = (char *) test_malloc(n > 0 ? n : 1);
  size_t out_len = 0;
  if (out == NULL) return -3;
  long long r = mgio_test_chunked_feed(in, n, NULL, 0, 1, limits, out, &out_len, err);
  test_free(out);
  return r;
}

/* "1;<name of ext_len - 1 bytes>\r\nx\r\n0\r\n\r\n": ext_len bytes of extension. */
static char *ext_message(size_t ext_len, size_t *n) {
  char *m = (char *) test_malloc(ext_len + 32);
  if (m == NULL) return NULL;
  size_t p = 0;
  m[p++] = '1';
  m[p++] = ';';
  memset(m + p, 'e', ext_len - 1);
  p += ext_len - 1;
  memcpy(m + p, "\r\nx\r\n0\r\n\r\n", 10);
  *n = p + 10;
  return m;
}

TEST(chunked_limit_ext_len) {
  size_t def[4] = {0, 0, 0, 0}, small[4] = {0, 10, 0, 0};
  size_t sizes[][2] = {{MG__CHUNKED_MAX_EXT_LEN - 1, 0}, {MG__CHUNKED_MAX_EXT_LEN, 0},
                       {MG__CHUNKED_MAX_EXT_LEN + 1, 1}};
  for (size_t i = 0; i < 3; i++) {
    size_t n;
    int err;
    char *m = ext_message(sizes[i][0], &n);
    CHECK(m != NULL);
    long long r = with_limits(m, n, def, &err);
    test_free(m);
    CHECK(sizes[i][1] ? (r == -1 && err == MG__CHUNKED_EEXTTOOLONG) : r == 0);
  }
  for (size_t len = 9; len <= 11; len++) {
    size_t n;
    int err;
    char *m = ext_message(len, &n);
    CHECK(m != NULL);
    long long r = with_limits(m, n, small, &err);
    test_free(m);
    CHECK(len <= 10 ? r == 0 : (r == -1 && err == MG__CHUNKED_EEXTTOOLONG));
  }
  /* The count restarts on every size line; whitespace before ";" counts. */
  int err;
  const char *two = "1;eeeeeeeee\r\nx\r\n1  ;eeeeeee\r\ny\r\n0;eeeeeeeee\r\n\r\n";
  CHECK(with_limits(two, strlen(two), small, &err) == 0);
  const char *ws = "1   ;eeeeeee\r\nx\r\n0\r\n\r\n";
  CHECK(with_limits(ws, strlen(ws), small, &err) == -1 && err == MG__CHUNKED_EEXTTOOLONG);
}

/* "0\r\n" + `fields` trailer lines + CRLF whose section is exactly `total` bytes. */
static char *trailer_message(size_t fields, size_t total, size_t *n) {
  char *m = (char *) test_malloc(total + 16);
  if (m == NULL) return NULL;
  size_t p = 0, left = total - 2; /* the final CRLF */
  memcpy(m, "0\r\n", 3);
  p = 3;
  for (size_t f = 0; f < fields; f++) {
    size_t line = f + 1 < fields ? left / (fields - f) : left; /* incl. CRLF, >= 4 */
    m[p++] = 'T';
    m[p++] = ':';
    memset(m + p, 'v', line - 4);
    p += line - 4;
    m[p++] = '\r';
    m[p++] = '\n';
    left -= line;
  }
  memcpy(m + p, "\r\n", 2);
  *n = p + 2;
  return m;
}

TEST(chunked_limit_trailer_len_and_fields) {
  size_t def[4] = {0, 0, 0, 0};
  int err;
  size_t n;
  char *m;
  size_t max = MG__CHUNKED_MAX_TRAILER_LEN;
  for (size_t total = max - 1; total <= max + 1; total++) {
    m = trailer_message(3, total, &n);
    CHECK(m != NULL);
    long long r = with_limits(m, n, def, &err);
    test_free(m);
    CHECK(total <= max ? r == 0 : (r == -1 && err == MG__CHUNKED_ETRAILERTOOLONG));
  }
  size_t fmax = MG__CHUNKED_MAX_TRAILER_FIELDS;
  for (size_t fields = fmax - 1; fields <= fmax + 1; fields++) {
    m = trailer_message(fields, fields * 4 + 2, &n);
    CHECK(m != NULL);
    long long r = with_limits(m, n, def, &err);
    test_free(m);
    CHECK(fields <= fmax ? r == 0 : (r == -1 && err == MG__CHUNKED_ETOOMANYTRAILERS));
  }
  size_t small[4] = {0, 0, 12, 2};
  m = trailer_message(2, 12, &n);
  CHECK(m != NULL && with_limits(m, n, small, &err) == 0);
  test_free(m);
  m = trailer_message(2, 13, &n);
  CHECK(m != NULL && with_limits(m, n, small, &err) == -1);
  CHECK(err == MG__CHUNKED_ETRAILERTOOLONG);
  test_free(m);
  m = trailer_message(3, 12 + 2, &n);
  CHECK(m != NULL && with_limits(m, n, small, &err) == -1);
  CHECK(err == MG__CHUNKED_ETOOMANYTRAILERS);
  test_free(m);
  /* An empty trailer section is 2 bytes: a limit of 1 rejects even that. */
  size_t one[4] = {0, 0, 1, 0};
  CHECK(with_limits("0\r\n\r\n", 5, one, &err) == -1 && err == MG__CHUNKED_ETRAILERTOOLONG);
}

TEST(chunked_limit_size_digits) {
  size_t def[4] = {0, 0, 0, 0}, four[4] = {4, 0, 0, 0}, huge[4] = {99, 0, 0, 0};
  int err;
  CHECK(with_limits("000000000000000\r\n\r\n", 19, def, &err) == 0);  /* 15 zeros */
  CHECK(with_limits("0000000000000000\r\n\r\n", 20, def, &err) == 0); /* 16 */
  CHECK(with_limits("00000000000000000\r\n\r\n", 21, def, &err) == -1);
  CHECK(err == MG__CHUNKED_ESIZETOOBIG);
  CHECK(with_limits("7fffffffffffffff\r\n", 18, def, &err) == -2);
  CHECK(with_limits("7FFFFFFFFFFFFFFF\r\n", 18, def, &err) == -2);
  CHECK(with_limits("8000000000000000\r\n", 18, def, &err) == -1);
  CHECK(with_limits("0000\r\n\r\n", 8, four, &err) == 0);
  CHECK(with_limits("ffff\r\n", 6, four, &err) == -2);
  CHECK(with_limits("00000\r\n", 7, four, &err) == -1 && err == MG__CHUNKED_ESIZETOOBIG);
  /* More than 16 can never be configured. */
  CHECK(with_limits("00000000000000000\r\n\r\n", 21, huge, &err) == -1);
}

/* A small deterministic generator (xorshift64*). */
static uint64_t rng_next(uint64_t *s) {
  *s ^= *s >> 12;
  *s ^= *s << 25;
  *s ^= *s >> 27;
  return *s * 2685821657736338717ULL;
}

static size_t rng_below(uint64_t *s, size_t n) {
  return (size_t) (rng_next(s) % n);
}

/* Appends a random chunked encoding of payload to `w` (room checked by the caller). */
static size_t encode_random(uint64_t *s, const char *payload, size_t len, char *w) {
  static const char hex[] = "0123456789abcdef0123456789ABCDEF";
  size_t p = 0, off = 0;
  int upper = (int) rng_below(s, 2);
  while (1) {
    size_t c = off == len ? 0 : 1 + rng_below(s, len - off < 300 ? len - off : 300);
    size_t zeros = rng_below(s, 3), digits = 0;
    char tmp[20];
    size_t v = c;
    do {
      tmp[digits++] = hex[(v & 15) + (upper ? 16 : 0)];
      v >>= 4;
    } while (v != 0);
    while (zeros-- > 0) w[p++] = '0';
    while (digits > 0) w[p++] = tmp[--digits];
    switch (rng_below(s, 5)) {
      case 0: memcpy(w + p, ";a=b", 4); p += 4; break;
      case 1: memcpy(w + p, " ; q=\"x;y\"", 10); p += 10; break;
      case 2: memcpy(w + p, ";z", 2); p += 2; break;
      default: break;
    }
    w[p++] = '\r';
    w[p++] = '\n';
    if (c == 0) break;
    memcpy(w + p, payload + off, c);
    p += c;
    off += c;
    w[p++] = '\r';
    w[p++] = '\n';
  }
  if (rng_below(s, 2)) {
    memcpy(w + p, "Digest: x\r\nT:\r\n", 15);
    p += 15;
  }
  w[p++] = '\r';
  w[p++] = '\n';
  return p;
}

TEST(chunked_random_payloads_and_reads) {
  uint64_t s = 0x9e3779b97f4a7c15ULL;
  static const char tail[] = "POST /next HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int iter = 0; iter < 300; iter++) {
    size_t len = rng_below(&s, 3000);
    char *payload = (char *) test_malloc(len + 1);
    size_t cap = len * 2 + 64 * (len + 1) + sizeof(tail) + 64;
    char *wire = (char *) test_malloc(cap);
    size_t *pieces = (size_t *) test_malloc(cap * sizeof(size_t));
    CHECK(payload != NULL && wire != NULL && pieces != NULL);
    for (size_t i = 0; i < len; i++) payload[i] = (char) rng_next(&s);
    size_t n = encode_random(&s, payload, len, wire);
    size_t tail_len = iter % 2 ? sizeof(tail) - 1 : 0;
    memcpy(wire + n, tail, tail_len);
    n += tail_len;
    size_t np = 0, left = n;
    size_t maxp = 1 + rng_below(&s, iter % 3 == 0 ? 4 : 600);
    while (left > 0) {
      size_t p = 1 + rng_below(&s, maxp);
      if (p > left) p = left;
      pieces[np++] = p;
      left -= p;
    }
    for (int keep = 0; keep < 2; keep++) {
      CHECK(run_one(wire, n, DONE, payload, len, tail, tail_len, MG__CHUNKED_OK, pieces, np,
                    keep));
      CHECK(run_one(wire, n, DONE, payload, len, tail, tail_len, MG__CHUNKED_OK, NULL, 0,
                    keep));
    }
    test_free(payload);
    test_free(wire);
    test_free(pieces);
  }
}

/* --- 64 MiB through a fixed 64 KiB receive buffer, deleting as it goes ---------------- */

static unsigned char body_byte(uint64_t i) {
  return (unsigned char) ((i * 2654435761ULL) >> 13);
}

struct wire {
  uint64_t s;         /* generator state */
  uint64_t produced;  /* body bytes written to the wire */
  uint64_t total;     /* body bytes to write */
  size_t chunk_left;  /* body bytes left in the current chunk */
  char pending[64];   /* framing not yet handed out */
  size_t pend_len, pend_off;
  int finished;       /* the last chunk has been queued */
};

/* Hands out up to `max` wire bytes; 0 when everything (message and tail) has been read. */
static size_t wire_read(struct wire *w, char *dst, size_t max) {
  size_t n = 0;
  while (n < max) {
    if (w->pend_off < w->pend_len) {
      size_t k = w->pend_len - w->pend_off;
      if (k > max - n) k = max - n;
      memcpy(dst + n, w->pending + w->pend_off, k);
      w->pend_off += k;
      n += k;
    } else if (w->chunk_left > 0) {
      size_t k = w->chunk_left < max - n ? w->chunk_left : max - n;
      for (size_t i = 0; i < k; i++) dst[n + i] = (char) body_byte(w->produced + i);
      w->produced += k;
      w->chunk_left -= k;
      n += k;
      if (w->chunk_left == 0) {
        memcpy(w->pending, "\r\n", 2);
        w->pend_len = 2;
        w->pend_off = 0;
      }
    } else if (!w->finished) {
      uint64_t left = w->total - w->produced;
      size_t c = 1 + rng_below(&w->s, 200000);
      if ((uint64_t) c > left) c = (size_t) left;
      int len;
      if (c == 0) {
        static const char last[] = "0;end=1\r\nX-Sum: ok\r\n\r\nGET /x HTTP/1.1\r\n\r\n";
        memcpy(w->pending, last, sizeof(last) - 1);
        len = (int) sizeof(last) - 1;
        w->finished = 1;
      } else {
        static const char hex[] = "0123456789abcdef";
        char tmp[20];
        int d = 0;
        size_t v = c;
        do {
          tmp[d++] = hex[v & 15];
          v >>= 4;
        } while (v != 0);
        len = 0;
        while (d > 0) w->pending[len++] = tmp[--d];
        memcpy(w->pending + len, ";n=\"v\"\r\n", 8);
        len += 8;
      }
      w->pend_len = (size_t) len;
      w->pend_off = 0;
      w->chunk_left = c;
    } else {
      break;
    }
  }
  return n;
}

TEST(chunked_stream_64mib_bounded) {
  enum { CAP = 65536 };
  static char buf[CAP];
  struct wire w;
  memset(&w, 0, sizeof(w));
  w.s = 12345;
  w.total = 64ULL << 20;
  struct mg__chunked st = {0};
  uint64_t seen = 0;
  size_t blen = 0;
  long long r = -2;
  int mismatch = 0;
  while (r == -2) {
    size_t want = 1 + rng_below(&w.s, 16384);
    if (want > CAP - blen) want = CAP - blen;
    size_t got = wire_read(&w, buf + blen, want);
    CHECK(got > 0);
    blen += got;
    size_t len = blen;
    r = mg__chunked_decode(&st, buf, &len);
    CHECK(r != -1);
    for (size_t i = 0; i < len; i++) {
      mismatch |= (unsigned char) buf[i] != body_byte(seen + i);
    }
    seen += len;
    /* Delete the delivered data and the consumed framing: keep only the unread rest. */
    size_t rest = r >= 0 ? (size_t) r : 0;
    memmove(buf, buf + blen - rest, rest);
    blen = rest;
  }
  CHECK(!mismatch);
  CHECK(seen == w.total && st.total == w.total);
  CHECK(st.trailer_fields == 1);
  /* Whatever of the next request was read is left for the caller, byte for byte. */
  size_t more = wire_read(&w, buf + blen, CAP - blen);
  blen += more;
  CHECK(blen == 19 && memcmp(buf, "GET /x HTTP/1.1\r\n\r\n", 19) == 0);
}
