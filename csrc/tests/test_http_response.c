/* The HTTP response helpers (http/response.c): the exact bytes each one queues on a
 * timer-only connection, for every status code, chunk sizes, escaping, and the
 * refusal of extra headers that would make a head malformed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgio.h"
#include "test.h"

struct fixture {
  struct mg_mgr mgr;
  struct mg_connection *c;
};

static void teardown(struct fixture *f) {
  test_mgr_free(&f->mgr);
}

/* Declares a fixture torn down when the test returns (see TEST_MGR). */
#define FIXTURE(f) struct fixture f __attribute__((cleanup(teardown)))

static int setup(struct fixture *f) {
  test_mgr_init(&f->mgr, NULL);
  f->c = mg_add_sock(&f->mgr, INVALID_SOCKET, NULL);
  return f->c != NULL;
}

/* 1 when the connection's send buffer holds exactly `exp` (n bytes); then empties it. */
static int sent_n(struct mg_connection *c, const char *exp, size_t n) {
  int ok = c->send_mbuf.len == n && (n == 0 || memcmp(c->send_mbuf.buf, exp, n) == 0);
  if (!ok) {
    fprintf(stderr, "queued %zu bytes: \"%.*s\"\nexpected %zu: \"%.*s\"\n",
            c->send_mbuf.len, (int) c->send_mbuf.len,
            c->send_mbuf.buf ? c->send_mbuf.buf : "", n, (int) n, exp);
  }
  mbuf_clear(&c->send_mbuf);
  return ok;
}

static int sent(struct mg_connection *c, const char *exp) {
  return sent_n(c, exp, strlen(exp));
}

#define SRV "Server: mgio\r\n"

TEST(response_line_every_status_code) {
  FIXTURE(f);
  CHECK(setup(&f));
  char exp[128];
  for (int code = 100; code <= 599; code++) {
    snprintf(exp, sizeof(exp), "HTTP/1.1 %d %s\r\n" SRV, code, mg_status_message(code));
    mg_send_response_line(f.c, code, NULL);
    CHECK(sent(f.c, exp));
    CHECK(code == 200 || strcmp(mg_status_message(code), "OK") != 0);
  }
  mg_send_response_line(f.c, 418, "");
  CHECK(sent(f.c, "HTTP/1.1 418 Unknown\r\n" SRV));
  mg_send_response_line(f.c, 999, NULL);
  CHECK(sent(f.c, "HTTP/1.1 999 Unknown\r\n" SRV));
  teardown(&f);
}

TEST(response_line_clamps_out_of_range_codes) {
  FIXTURE(f);
  CHECK(setup(&f));
  static const int bad[] = {-1, 0, 1, 99, 1000, 12345, -2147483647 - 1, 2147483647};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    mg_send_response_line(f.c, bad[i], NULL);
    CHECK(sent(f.c, "HTTP/1.1 500 Internal Server Error\r\n" SRV));
  }
  mg_send_head(f.c, 42, 0, NULL);
  CHECK(sent(f.c, "HTTP/1.1 500 Internal Server Error\r\n" SRV "Content-Length: 0\r\n\r\n"));
  CHECK(!(f.c->flags & MG_F_CLOSE_IMMEDIATELY));
  teardown(&f);
}

TEST(response_line_extra_headers) {
  FIXTURE(f);
  CHECK(setup(&f));
  mg_send_response_line(f.c, 200, "X-A: b");
  CHECK(sent(f.c, "HTTP/1.1 200 OK\r\n" SRV "X-A: b\r\n"));
  mg_send_response_line(f.c, 200, "X-A: b\r\nX-C:d");
  CHECK(sent(f.c, "HTTP/1.1 200 OK\r\n" SRV "X-A: b\r\nX-C:d\r\n"));
  /* trailing CRLFs are dropped */
  mg_send_response_line(f.c, 200, "X-A: b\r\n");
  CHECK(sent(f.c, "HTTP/1.1 200 OK\r\n" SRV "X-A: b\r\n"));
  mg_send_response_line(f.c, 200, "X-A: b\r\n\r\n\r\n");
  CHECK(sent(f.c, "HTTP/1.1 200 OK\r\n" SRV "X-A: b\r\n"));
  mg_send_response_line(f.c, 200, "\r\n");
  CHECK(sent(f.c, "HTTP/1.1 200 OK\r\n" SRV));
  /* HTAB, obs-text and an empty value are fine */
  mg_send_response_line(f.c, 200, "X-A:\tb\xc3\xa9\r\nX-E:");
  CHECK(sent(f.c, "HTTP/1.1 200 OK\r\n" SRV "X-A:\tb\xc3\xa9\r\nX-E:\r\n"));
  /* the view form: not NUL-terminated, NULL view */
  struct mg_str s = mg_mk_str_n("X-A: bXYZ", 6);
  mg_send_response_line_s(f.c, 201, s);
  CHECK(sent(f.c, "HTTP/1.1 201 Created\r\n" SRV "X-A: b\r\n"));
  struct mg_str none = MG_NULL_STR;
  mg_send_response_line_s(f.c, 204, none);
  CHECK(sent(f.c, "HTTP/1.1 204 No Content\r\n" SRV));
  CHECK(!(f.c->flags & MG_F_CLOSE_IMMEDIATELY));
  teardown(&f);
}

/* Each malformed extra-header value queues nothing and closes the connection. */
TEST(response_line_refuses_malformed_extra_headers) {
  static const char *const bad[] = {
      "X-A: b\nX-C: d",        /* bare LF */
      "X-A: b\rX-C: d",        /* bare CR */
      "X-A: b\n",              /* trailing bare LF */
      "X-A: b\r",              /* trailing bare CR */
      "X-A: b\r\n\r\nbody",    /* an empty line: would end the head */
      "\r\nX-A: b",            /* leading empty line */
      "X-A: b\r\n folded",     /* obs-fold */
      " X-A: b",               /* leading whitespace */
      "X-A b",                 /* no colon */
      ": b",                   /* empty name */
      "X A: b",                /* space in the name */
      "X-A : b",               /* whitespace before the colon */
      "X-A: b\x01",            /* control byte */
      "X-A: b\x7f",            /* DEL */
      "Set-Cookie: a\r\n\r\nHTTP/1.1 200 OK", /* response splitting */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    FIXTURE(f);
    CHECK(setup(&f));
    mg_send_response_line(f.c, 200, bad[i]);
    CHECK(sent(f.c, ""));
    CHECK(f.c->flags & MG_F_CLOSE_IMMEDIATELY);
    CHECK(f.c->err == EINVAL);
    teardown(&f);

    CHECK(setup(&f));
    mg_send_head(f.c, 200, 5, bad[i]);
    CHECK(sent(f.c, ""));
    CHECK(f.c->flags & MG_F_CLOSE_IMMEDIATELY);
    teardown(&f);

    CHECK(setup(&f));
    mg_http_send_redirect(f.c, 302, mg_mk_str("/x"), mg_mk_str(bad[i]));
    CHECK(sent(f.c, ""));
    CHECK(f.c->flags & MG_F_CLOSE_IMMEDIATELY);
    teardown(&f);
  }
  /* a NUL inside a view */
  FIXTURE(f);
  CHECK(setup(&f));
  mg_send_response_line_s(f.c, 200, mg_mk_str_n("X-A: b\0c", 8));
  CHECK(sent(f.c, ""));
  CHECK(f.c->flags & MG_F_CLOSE_IMMEDIATELY);
  teardown(&f);
}

TEST(send_head) {
  FIXTURE(f);
  CHECK(setup(&f));
  mg_send_head(f.c, 200, 5, NULL);
  CHECK(sent(f.c, "HTTP/1.1 200 OK\r\n" SRV "Content-Length: 5\r\n\r\n"));
  mg_send_head(f.c, 200, 0, "");
  CHECK(sent(f.c, "HTTP/1.1 200 OK\r\n" SRV "Content-Length: 0\r\n\r\n"));
  mg_send_head(f.c, 200, -1, "Content-Type: text/plain");
  CHECK(sent(f.c, "HTTP/1.1 200 OK\r\n" SRV "Content-Type: text/plain\r\n"
                  "Transfer-Encoding: chunked\r\n\r\n"));
  mg_send_head(f.c, 404, INT64_MAX, "X-A: b\r\n");
  CHECK(sent(f.c, "HTTP/1.1 404 Not Found\r\n" SRV "X-A: b\r\n"
                  "Content-Length: 9223372036854775807\r\n\r\n"));
  mg_send_head(f.c, 206, 4294967296LL, NULL);
  CHECK(sent(f.c, "HTTP/1.1 206 Partial Content\r\n" SRV "Content-Length: 4294967296\r\n\r\n"));
  /* 1xx and 204: no framing fields */
  mg_send_head(f.c, 204, 0, NULL);
  CHECK(sent(f.c, "HTTP/1.1 204 No Content\r\n" SRV "\r\n"));
  mg_send_head(f.c, 204, -1, NULL);
  CHECK(sent(f.c, "HTTP/1.1 204 No Content\r\n" SRV "\r\n"));
  mg_send_head(f.c, 103, 10, "Link: </a.css>; rel=preload");
  CHECK(sent(f.c, "HTTP/1.1 103 Early Hints\r\n" SRV "Link: </a.css>; rel=preload\r\n\r\n"));
  /* 304 keeps its Content-Length (RFC 9110 8.6 allows it) */
  mg_send_head(f.c, 304, 12, NULL);
  CHECK(sent(f.c, "HTTP/1.1 304 Not Modified\r\n" SRV "Content-Length: 12\r\n\r\n"));
  mg_send_head(NULL, 200, 0, NULL); /* no crash */
  CHECK(!(f.c->flags & (MG_F_CLOSE_IMMEDIATELY | MG_F_SEND_AND_CLOSE)));
  teardown(&f);
}

TEST(send_error) {
  FIXTURE(f);
  CHECK(setup(&f));
  mg_http_send_error(f.c, 404, NULL);
  CHECK(sent(f.c, "HTTP/1.1 404 Not Found\r\n" SRV "Content-Type: text/plain\r\n"
                  "Connection: close\r\nContent-Length: 9\r\n\r\nNot Found"));
  CHECK(f.c->flags & MG_F_SEND_AND_CLOSE);
  CHECK(!(f.c->flags & MG_F_CLOSE_IMMEDIATELY));
  teardown(&f);

  CHECK(setup(&f));
  /* the status line keeps the code's phrase; the custom reason is the body */
  mg_http_send_error(f.c, 403, "Go away\r\n<now>");
  CHECK(sent(f.c, "HTTP/1.1 403 Forbidden\r\n" SRV "Content-Type: text/plain\r\n"
                  "Connection: close\r\nContent-Length: 14\r\n\r\nGo away\r\n<now>"));
  CHECK(f.c->flags & MG_F_SEND_AND_CLOSE);
  mg_http_send_error(f.c, 500, "");
  CHECK(sent(f.c, "HTTP/1.1 500 Internal Server Error\r\n" SRV "Content-Type: text/plain\r\n"
                  "Connection: close\r\nContent-Length: 0\r\n\r\n"));
  mg_http_send_error(f.c, 7, NULL);
  CHECK(sent(f.c, "HTTP/1.1 500 Internal Server Error\r\n" SRV "Content-Type: text/plain\r\n"
                  "Connection: close\r\nContent-Length: 21\r\n\r\nInternal Server Error"));
  mg_http_send_error(f.c, 599, NULL);
  CHECK(sent(f.c, "HTTP/1.1 599 Unknown\r\n" SRV "Content-Type: text/plain\r\n"
                  "Connection: close\r\nContent-Length: 7\r\n\r\nUnknown"));
  /* codes without a body */
  mg_http_send_error(f.c, 204, "x");
  CHECK(sent(f.c, "HTTP/1.1 204 No Content\r\n" SRV "Content-Type: text/plain\r\n"
                  "Connection: close\r\n\r\n"));
  mg_http_send_error(f.c, 304, "x");
  CHECK(sent(f.c, "HTTP/1.1 304 Not Modified\r\n" SRV "Content-Type: text/plain\r\n"
                  "Connection: close\r\nContent-Length: 0\r\n\r\n"));
  teardown(&f);
}

TEST(send_redirect) {
  FIXTURE(f);
  CHECK(setup(&f));
  mg_http_send_redirect(f.c, 302, mg_mk_str("/login"), mg_mk_str(NULL));
  CHECK(sent(f.c, "HTTP/1.1 302 Found\r\n" SRV "Location: /login\r\nContent-Type: text/html\r\n"
                  "Content-Length: 37\r\nCache-Control: no-cache\r\n\r\n"
                  "<p>Moved <a href='/login'>here</a>.\r\n"));
  mg_http_send_redirect(f.c, 301, mg_mk_str("http://h/"), mg_mk_str("Set-Cookie: a=1\r\n"));
  CHECK(sent(f.c, "HTTP/1.1 301 Moved Permanently\r\n" SRV "Location: http://h/\r\n"
                  "Content-Type: text/html\r\nContent-Length: 40\r\nCache-Control: no-cache\r\n"
                  "Set-Cookie: a=1\r\n\r\n<p>Moved <a href='http://h/'>here</a>.\r\n"));
  /* the body escapes the location; the field keeps it verbatim */
  mg_http_send_redirect(f.c, 307, mg_mk_str("/a?x=1&y='><script>"), mg_mk_str(""));
  CHECK(sent(f.c, "HTTP/1.1 307 Temporary Redirect\r\n" SRV
                  "Location: /a?x=1&y='><script>\r\nContent-Type: text/html\r\n"
                  "Content-Length: 67\r\nCache-Control: no-cache\r\n\r\n"
                  "<p>Moved <a href='/a?x=1&amp;y=&#39;&gt;&lt;script&gt;'>here</a>.\r\n"));
  /* an empty location (NULL view) */
  struct mg_str none = MG_NULL_STR;
  mg_http_send_redirect(f.c, 303, none, none);
  CHECK(sent(f.c, "HTTP/1.1 303 See Other\r\n" SRV "Location: \r\nContent-Type: text/html\r\n"
                  "Content-Length: 31\r\nCache-Control: no-cache\r\n\r\n"
                  "<p>Moved <a href=''>here</a>.\r\n"));
  CHECK(!(f.c->flags & (MG_F_CLOSE_IMMEDIATELY | MG_F_SEND_AND_CLOSE)));
  teardown(&f);

  /* a location with CR/LF would split the response: refused */
  static const char *const bad[] = {"/a\r\nSet-Cookie: x", "/a\n", "/a\r", "/\x00"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    CHECK(setup(&f));
    mg_http_send_redirect(f.c, 302, mg_mk_str_n(bad[i], i == 3 ? 2 : strlen(bad[i])),
                          mg_mk_str(NULL));
    CHECK(sent(f.c, ""));
    CHECK(f.c->flags & MG_F_CLOSE_IMMEDIATELY);
    CHECK(f.c->err == EINVAL);
    teardown(&f);
  }
}

TEST(http_chunks) {
  FIXTURE(f);
  CHECK(setup(&f));
  static const size_t sizes[] = {1, 15, 16, 255, 4096};
  static const char *const hex[] = {"1", "F", "10", "FF", "1000"};
  char *data = test_malloc(4096), *exp = test_malloc(4096 + 16);
  CHECK(data != NULL && exp != NULL);
  for (size_t i = 0; i < 4096; i++) data[i] = (char) ('a' + i % 26);
  for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
    size_t n = (size_t) sprintf(exp, "%s\r\n", hex[k]);
    memcpy(exp + n, data, sizes[k]);
    memcpy(exp + n + sizes[k], "\r\n", 2);
    mg_send_http_chunk(f.c, data, sizes[k]);
    if (!sent_n(f.c, exp, n + sizes[k] + 2)) {
      test_free(data);
      test_free(exp);
      CHECK(0);
    }
  }
  test_free(data);
  test_free(exp);
  mg_send_http_chunk(f.c, "", 0);
  CHECK(sent(f.c, "0\r\n\r\n"));
  mg_send_http_chunk(f.c, NULL, 0);
  CHECK(sent(f.c, "0\r\n\r\n"));
  mg_send_http_chunk(f.c, NULL, 5); /* nothing */
  CHECK(sent(f.c, ""));
  mg_send_http_chunk(f.c, "a\0b", 3); /* binary data */
  CHECK(sent_n(f.c, "3\r\na\0b\r\n", 8));

  mg_printf_http_chunk(f.c, "%d %s", 123, ":-)");
  CHECK(sent(f.c, "7\r\n123 :-)\r\n"));
  mg_printf_http_chunk(f.c, "%s", ""); /* empty: no accidental last chunk */
  CHECK(sent(f.c, ""));
  char big[1000];
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  mg_printf_http_chunk(f.c, "%s!", big); /* longer than the formatting stack buffer */
  CHECK(f.c->send_mbuf.len == 5 + 1000 + 2);
  CHECK(memcmp(f.c->send_mbuf.buf, "3E8\r\nxx", 7) == 0);
  CHECK(memcmp(f.c->send_mbuf.buf + 5 + 998, "x!\r\n", 4) == 0);
  mbuf_clear(&f.c->send_mbuf);

  /* a whole chunked response */
  mg_send_head(f.c, 200, -1, NULL);
  mg_printf_http_chunk(f.c, "hello");
  mg_send_http_chunk(f.c, "", 0);
  CHECK(sent(f.c, "HTTP/1.1 200 OK\r\n" SRV "Transfer-Encoding: chunked\r\n\r\n"
                  "5\r\nhello\r\n0\r\n\r\n"));
  teardown(&f);
}

TEST(html_escape) {
  FIXTURE(f);
  CHECK(setup(&f));
  mg_printf_html_escape(f.c, "<%s>", "a&b");
  CHECK(sent(f.c, "F\r\n&lt;a&amp;b&gt;\r\n"));
  mg_printf_html_escape(f.c, "%s", "\"'");
  CHECK(sent(f.c, "B\r\n&quot;&#39;\r\n"));
  mg_printf_html_escape(f.c, "plain %d", 7);
  CHECK(sent(f.c, "7\r\nplain 7\r\n"));
  mg_printf_html_escape(f.c, "%s", "");
  CHECK(sent(f.c, ""));
  /* every escape, long enough to leave the stack buffers */
  char in[601], exp[3000];
  size_t n = 0;
  for (int i = 0; i < 120; i++) {
    memcpy(in + i * 5, "<>&\"'", 5);
  }
  in[600] = '\0';
  n = (size_t) sprintf(exp, "%X\r\n", 120 * (4 + 4 + 5 + 6 + 5));
  for (int i = 0; i < 120; i++) {
    memcpy(exp + n, "&lt;&gt;&amp;&quot;&#39;", 24);
    n += 24;
  }
  memcpy(exp + n, "\r\n", 2);
  mg_printf_html_escape(f.c, "%s", in);
  CHECK(sent_n(f.c, exp, n + 2));
  teardown(&f);
}

TEST(response_server_header_is_one_line) {
  /* MG_SERVER_HEADER is empty or one complete field line */
  const char *h = MG_SERVER_HEADER;
  size_t n = strlen(h);
  CHECK(n == 0 || (n >= 2 && h[n - 2] == '\r' && h[n - 1] == '\n'));
  CHECK(strcmp(h, SRV) == 0);
}

/* Out of memory: the connection closes instead of queueing part of a head. */
TEST(response_out_of_memory_closes) {
  FIXTURE(f);
  CHECK(setup(&f));
  mgio_test_alloc_fail_from(1);
  mg_send_head(f.c, 200, 0, NULL);
  mgio_test_alloc_fail_at(0);
  CHECK(f.c->send_mbuf.len == 0);
  CHECK(f.c->flags & MG_F_CLOSE_IMMEDIATELY);
  CHECK(f.c->err == ENOMEM);
  teardown(&f);

  CHECK(setup(&f));
  mgio_test_alloc_fail_from(1);
  mg_send_http_chunk(f.c, "abc", 3);
  mgio_test_alloc_fail_at(0);
  CHECK(f.c->send_mbuf.len == 0);
  CHECK(f.c->flags & MG_F_CLOSE_IMMEDIATELY);
  CHECK(f.c->err == ENOMEM);
  teardown(&f);
}
