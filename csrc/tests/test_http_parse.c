/* The HTTP message head parser: fields, framing, rejections with their statuses, limits
 * at and around their edges. Every input is also parsed at each proper prefix (which must
 * give -2, or for a rejected input the same rejection), each time from an exact-size heap
 * copy so that the sanitizer build catches any read past the end. */
#include <stdlib.h>
#include <string.h>

#include "mgio.h"
#include "test.h"

/* Parses the first `n` bytes of `s` from an exact-size heap copy. */
static int parse_copy(const char *s, size_t n, struct http_message *hm, int is_req,
                      const struct mg_http_limits *lim, int *status) {
  char *copy = test_malloc(n ? n : 1);
  int r;
  if (copy == NULL) return -100;
  memcpy(copy, s, n);
  r = mg_http_parse_head(copy, n, hm, is_req, lim, status);
  test_free(copy);
  return r;
}

/* Whole input gives `want` (> 0 head length, or -1 with `want_status`); every proper
 * prefix gives -2, or -1 with the same status when the input is rejected. */
static int verdict(const char *s, size_t n, int is_req, const struct mg_http_limits *lim,
                   int want, int want_status) {
  struct http_message hm;
  int status = 0, r;
  /* long inputs: a sample of prefixes (every 61st and the last 64) keeps this fast */
  size_t step = n > 4096 ? 61 : 1;
  for (size_t k = 0; k < n; k += (k + 64 >= n ? 1 : step)) {
    r = parse_copy(s, k, &hm, is_req, lim, &status);
    if (r == -2 && status == -2) continue;
    if (want == -1 && r == -1 && status == want_status) continue;
    return 0;
  }
  r = parse_copy(s, n, &hm, is_req, lim, &status);
  if (want == -1) return r == -1 && status == want_status;
  return r == want && status == 0;
}

#define REQ_OK(s) verdict(s, sizeof(s) - 1, 1, NULL, (int) sizeof(s) - 1, 0)
#define REQ_BAD(s, st) verdict(s, sizeof(s) - 1, 1, NULL, -1, st)
#define RESP_OK(s) verdict(s, sizeof(s) - 1, 0, NULL, (int) sizeof(s) - 1, 0)
#define RESP_BAD(s, st) verdict(s, sizeof(s) - 1, 0, NULL, -1, st)

static int is(struct mg_str v, const char *want) {
  return v.len == strlen(want) && memcmp(v.p, want, v.len) == 0;
}

TEST(http_parse_simple_get) {
  static const char req[] = "GET /a/b?x=1&y=2?z HTTP/1.1\r\nHost: example.com\r\n"
                            "Accept:  */*  \r\nX-Empty:\r\n\r\n";
  struct http_message hm;
  int r = mg_parse_http(req, (int) sizeof(req) - 1, &hm, 1);
  CHECK(r == (int) sizeof(req) - 1);
  CHECK(is(hm.method, "GET"));
  CHECK(is(hm.uri, "/a/b"));
  CHECK(is(hm.query_string, "x=1&y=2?z"));
  CHECK(is(hm.proto, "HTTP/1.1"));
  CHECK(hm.resp_code == 0);
  CHECK(hm.num_headers == 3);
  CHECK(is(hm.header_names[1], "Accept") && is(hm.header_values[1], "*/*"));
  CHECK(is(hm.header_values[2], ""));
  CHECK(hm.header_names[3].p == NULL && hm.header_names[3].len == 0);
  CHECK(hm.content_length == 0 && hm.body.len == 0);
  CHECK(hm.message.p == req && hm.message.len == sizeof(req) - 1);
  CHECK(hm.flags == MG_HTTP_F_KEEP_ALIVE);
  CHECK(REQ_OK("GET /a/b?x=1&y=2?z HTTP/1.1\r\nHost: example.com\r\n\r\n"));
  CHECK(mg_parse_http(req, 10, &hm, 1) == 0);
  CHECK(mg_parse_http(req, -1, &hm, 1) == -1);
}

TEST(http_parse_header_lookup) {
  static const char req[] = "POST /u HTTP/1.0\r\nContent-Type: text/plain\r\n"
                            "content-length: 5\r\nX-A: 1\r\nx-a: 2\r\n\r\nhelloEXTRA";
  struct http_message hm;
  struct mg_str *v;
  int r = mg_parse_http(req, (int) sizeof(req) - 1, &hm, 1);
  CHECK(r == (int) sizeof(req) - 1 - 10);
  CHECK((v = mg_get_http_header(&hm, "CONTENT-LENGTH")) != NULL && is(*v, "5"));
  CHECK((v = mg_get_http_header(&hm, "content-type")) != NULL && is(*v, "text/plain"));
  CHECK((v = mg_get_http_header(&hm, "x-A")) != NULL && is(*v, "1"));
  CHECK(mg_get_http_header(&hm, "Content") == NULL);
  CHECK(mg_get_http_header(&hm, "") == NULL);
  CHECK(mg_get_http_header(&hm, NULL) == NULL);
  CHECK(mg_get_http_header(NULL, "x") == NULL);
  CHECK(is(hm.body, "hello"));
  CHECK(hm.content_length == 5);
  CHECK(hm.message.len == (size_t) r + 5);
  CHECK(hm.flags == 0); /* HTTP/1.0 without keep-alive */
  /* a partial body: min(available, Content-Length) */
  CHECK(mg_parse_http(req, r + 2, &hm, 1) == r && is(hm.body, "he"));
}

TEST(http_parse_responses) {
  struct http_message hm;
  static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
  CHECK(mg_parse_http(ok, (int) sizeof(ok) - 1, &hm, 0) == (int) sizeof(ok) - 4);
  CHECK(hm.resp_code == 200 && is(hm.resp_status_msg, "OK") && is(hm.proto, "HTTP/1.1"));
  CHECK(is(hm.body, "abc") && hm.flags == MG_HTTP_F_KEEP_ALIVE);
  CHECK(RESP_OK("HTTP/1.1 404 Not  Found\t!\r\n\r\n"));
  CHECK(RESP_OK("HTTP/1.1 200 \r\n\r\n"));
  CHECK(RESP_OK("HTTP/1.0 999\r\n\r\n"));
  CHECK(RESP_BAD("HTTP/1.1 099 X\r\n\r\n", 400));
  CHECK(RESP_BAD("HTTP/1.1 20 X\r\n\r\n", 400));
  CHECK(RESP_BAD("HTTP/1.1 2000 X\r\n\r\n", 400));
  CHECK(RESP_BAD("HTTP/1.1  200 X\r\n\r\n", 400));
  CHECK(RESP_BAD("HTTP/1.1 200 X\x01\r\n\r\n", 400));
  CHECK(RESP_BAD("HTTP/2.0 200 X\r\n\r\n", 505));
  CHECK(RESP_BAD("\r\nHTTP/1.1 200 X\r\n\r\n", 400));
  static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
  CHECK(mg_parse_http(cont, (int) sizeof(cont) - 1, &hm, 0) > 0);
  CHECK(hm.flags == (MG_HTTP_F_NO_BODY | MG_HTTP_F_KEEP_ALIVE) && hm.content_length == 0);
  static const char nc[] = "HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n";
  CHECK(mg_parse_http(nc, (int) sizeof(nc) - 1, &hm, 0) > 0);
  CHECK((hm.flags & MG_HTTP_F_NO_BODY) && hm.content_length == 0 && hm.body.len == 0);
  static const char cd[] = "HTTP/1.1 200 OK\r\n\r\nrest";
  CHECK(mg_parse_http(cd, (int) sizeof(cd) - 1, &hm, 0) == (int) sizeof(cd) - 5);
  CHECK(hm.flags == MG_HTTP_F_CLOSE_DELIMITED && hm.content_length == -1);
  static const char gz[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n";
  CHECK(mg_parse_http(gz, (int) sizeof(gz) - 1, &hm, 0) > 0);
  CHECK(hm.flags == MG_HTTP_F_CLOSE_DELIMITED);
  static const char ch[] = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n";
  CHECK(mg_parse_http(ch, (int) sizeof(ch) - 1, &hm, 0) > 0);
  CHECK(hm.flags == (MG_HTTP_F_CHUNKED | MG_HTTP_F_KEEP_ALIVE));
}

TEST(http_parse_request_line_rejections) {
  CHECK(REQ_BAD("get / http/1.1\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / http/1.1\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / HTTP/2.0\r\n\r\n", 505));
  CHECK(REQ_BAD("GET / HTTP/2.1\r\n\r\n", 505));
  CHECK(REQ_BAD("GET / HTTP/0.9\r\n\r\n", 505));
  CHECK(REQ_BAD("GET / HTTP/1.10\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / HTTP/1\r\n\r\n", 400));
  CHECK(REQ_BAD("GET /\r\n\r\n", 400));
  CHECK(REQ_BAD("GET  / HTTP/1.1\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / HTTP/1.1 \r\n\r\n", 400));
  CHECK(REQ_BAD("G(T / HTTP/1.1\r\n\r\n", 400));
  CHECK(REQ_BAD(" GET / HTTP/1.1\r\n\r\n", 400));
  CHECK(REQ_BAD("GET /\x7f HTTP/1.1\r\n\r\n", 400));
  CHECK(REQ_BAD("GET /\ta HTTP/1.1\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / HTTP/1.1\n\n", 400));
  CHECK(REQ_BAD("GET / HTTP/1.1\rX", 400));
  CHECK(REQ_OK("\r\n\r\nGET / HTTP/1.1\r\n\r\n"));
  CHECK(REQ_OK("\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"));
  CHECK(REQ_BAD("\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n", 400));
  CHECK(REQ_OK("M-SEARCH * HTTP/1.1\r\n\r\n"));
  CHECK(REQ_OK("GET /\x80\xff HTTP/1.0\r\n\r\n"));
}

TEST(http_parse_field_rejections) {
  CHECK(REQ_BAD("GET / HTTP/1.1\r\nContent-Length : 5\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", 400));       /* obs-fold */
  CHECK(REQ_BAD("GET / HTTP/1.1\r\n A: b\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", 400));          /* bare CR */
  CHECK(REQ_BAD("GET / HTTP/1.1\r\nA: b\nB: c\r\n\r\n", 400));       /* bare LF */
  CHECK(REQ_BAD("GET / HTTP/1.1\r\nA: b\x00\r\n\r\n", 400));         /* NUL */
  CHECK(REQ_BAD("GET / HTTP/1.1\r\nA: \x1b[0m\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / HTTP/1.1\r\nA: \x7f\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / HTTP/1.1\r\n: b\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / HTTP/1.1\r\nA(: b\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400));
  CHECK(REQ_BAD("GET / HTTP/1.1\r\nA: b\r\n\r\r", 400));
  CHECK(REQ_OK("GET / HTTP/1.1\r\nA: b\tc\x80\r\nContent-Lengthx: 5\r\n\r\n"));
}

TEST(http_parse_content_length) {
  struct http_message hm;
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nContent-Length: 5, 6\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nContent-Length: +5\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nContent-Length: 5 5\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nContent-Length: 0x5\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nContent-Length: 5,\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nContent-Length: 9223372036854775808\r\n\r\n", 400));
  CHECK(REQ_OK("POST / HTTP/1.1\r\nContent-Length: 9223372036854775807\r\n\r\n"));
  CHECK(REQ_OK("POST / HTTP/1.1\r\nContent-Length:  5 \r\n\r\n"));
  CHECK(REQ_OK("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n"));
  static const char dup[] = "POST / HTTP/1.1\r\nContent-Length: 5, 5,005\r\n\r\n12345";
  CHECK(mg_parse_http(dup, (int) sizeof(dup) - 1, &hm, 1) == (int) sizeof(dup) - 6);
  CHECK(hm.content_length == 5 && is(hm.body, "12345"));
}

TEST(http_parse_transfer_encoding) {
  struct http_message hm;
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
                400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n",
                400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
                "Transfer-Encoding: chunked\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nTransfer-Encoding: identity\r\n"
                "Transfer-Encoding: chunked\r\n\r\n", 501));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nTransfer-Encoding: chunked;a=b\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.1\r\nTransfer-Encoding: \"chunked\"\r\n\r\n", 400));
  CHECK(REQ_BAD("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400));
  CHECK(REQ_OK("POST / HTTP/1.1\r\nTransfer-Encoding: CHUNKED\r\n\r\n"));
  static const char te[] = "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n";
  CHECK(mg_parse_http(te, (int) sizeof(te) - 1, &hm, 1) == (int) sizeof(te) - 4);
  CHECK(hm.content_length == -1 && hm.body.len == 0);
  CHECK(hm.flags == (MG_HTTP_F_CHUNKED | MG_HTTP_F_KEEP_ALIVE));
}

TEST(http_parse_connection_flags) {
  struct http_message hm;
  static const char a[] = "GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\n"
                          "Upgrade: websocket\r\nExpect: 100-Continue\r\n\r\n";
  CHECK(mg_parse_http(a, (int) sizeof(a) - 1, &hm, 1) > 0);
  CHECK(hm.flags == (MG_HTTP_F_KEEP_ALIVE | MG_HTTP_F_UPGRADE | MG_HTTP_F_EXPECT_CONTINUE));
  static const char b[] = "GET / HTTP/1.1\r\nConnection: close\r\nExpect: x\r\n\r\n";
  CHECK(mg_parse_http(b, (int) sizeof(b) - 1, &hm, 1) > 0);
  CHECK(hm.flags == MG_HTTP_F_EXPECT_OTHER);
  static const char c[] = "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n";
  CHECK(mg_parse_http(c, (int) sizeof(c) - 1, &hm, 1) > 0);
  CHECK(hm.flags == MG_HTTP_F_KEEP_ALIVE && hm.http_minor == 0);
}

/* A request whose line, field line, section or field count sits at `at` + delta. */
static char *build(size_t line_len, size_t field_len, size_t nfields, size_t *n) {
  size_t cap = line_len + 2 + nfields * (field_len + 2) + 2, pos = 0;
  char *s = test_malloc(cap);
  if (s == NULL) return NULL;
  memcpy(s, "GET /", 5);
  memset(s + 5, 'a', line_len - 14);
  memcpy(s + line_len - 9, " HTTP/1.1\r\n", 11);
  pos = line_len + 2;
  for (size_t i = 0; i < nfields; i++) {
    memcpy(s + pos, "X:", 2);
    memset(s + pos + 2, 'v', field_len - 2);
    memcpy(s + pos + field_len, "\r\n", 2);
    pos += field_len + 2;
  }
  memcpy(s + pos, "\r\n", 2);
  *n = pos + 2;
  return s;
}

static int check_built(size_t line_len, size_t field_len, size_t nfields, int want_status) {
  size_t n;
  char *s = build(line_len, field_len, nfields, &n);
  int ok;
  if (s == NULL) return 0;
  ok = verdict(s, n, 1, NULL, want_status ? -1 : (int) n, want_status);
  test_free(s);
  return ok;
}

TEST(http_parse_limits) {
  CHECK(check_built(8191, 10, 1, 0));
  CHECK(check_built(8192, 10, 1, 0));
  CHECK(check_built(8193, 10, 1, 414));
  CHECK(check_built(100, 8191, 1, 0));
  CHECK(check_built(100, 8192, 1, 0));
  CHECK(check_built(100, 8193, 1, 431));
  CHECK(check_built(100, 10, 99, 0));
  CHECK(check_built(100, 10, 100, 0));
  CHECK(check_built(100, 10, 101, 431));
  /* the section: 100 + 2 + 4 * (8164 + 2) + 2 = 32768 exactly, then one byte more */
  CHECK(check_built(100, 8164, 4, 0));
  CHECK(check_built(101, 8164, 4, 431));
  CHECK(check_built(100, 8165, 4, 431));
}

TEST(http_parse_section_limit_edges) {
  /* A tighter section limit makes the edges cheap to hit exactly. */
  struct mg_http_limits lim = mg_http_default_limits();
  static const char req[] = "GET / HTTP/1.1\r\nA: 1\r\n\r\n"; /* 24 bytes */
  CHECK(lim.request_line == 8192 && lim.header_section == 32768);
  CHECK(lim.max_headers == 100 && lim.field_line == 8192);
  lim.header_section = 24;
  CHECK(verdict(req, 24, 1, &lim, 24, 0));
  lim.header_section = 23;
  CHECK(verdict(req, 24, 1, &lim, -1, 431));
  lim.header_section = 16;
  CHECK(verdict(req, 24, 1, &lim, -1, 431));
  lim.header_section = 15;
  CHECK(verdict(req, 24, 1, &lim, -1, 431));
  lim = mg_http_default_limits();
  lim.max_headers = 0;
  CHECK(verdict(req, 24, 1, &lim, -1, 431));
  lim.max_headers = 1;
  CHECK(verdict(req, 24, 1, &lim, 24, 0));
  lim.request_line = 14;
  CHECK(verdict(req, 24, 1, &lim, 24, 0));
  lim.request_line = 13;
  CHECK(verdict(req, 24, 1, &lim, -1, 414));
  lim = mg_http_default_limits();
  lim.field_line = 4;
  CHECK(verdict(req, 24, 1, &lim, 24, 0));
  lim.field_line = 3;
  CHECK(verdict(req, 24, 1, &lim, -1, 431));
}

TEST(http_parse_limit_rejected_early) {
  /* An unterminated request line over the limit is rejected without its end. */
  size_t n = 8200;
  char *s = test_malloc(n);
  struct http_message hm;
  int status;
  CHECK(s != NULL);
  memcpy(s, "GET /", 5);
  memset(s + 5, 'a', n - 5);
  CHECK(mg_http_parse_head(s, 8192, &hm, 1, NULL, &status) == -2 && status == -2);
  CHECK(mg_http_parse_head(s, 8193, &hm, 1, NULL, &status) == -1 && status == 414);
  test_free(s);
}
