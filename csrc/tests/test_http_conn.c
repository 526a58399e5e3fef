/* The HTTP connection layer over loopback: event flow, bodies fed whole, byte by byte and
 * at every split, chunked reassembly, streaming with MG_F_DELETE_CHUNK, pipelining, the
 * statuses of bad input (then a fresh connection is served), limits, 100-continue,
 * keep-alive and close rules, HEAD, endpoints. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_peer.h"
#include "mgio.h"
#include "test.h"

static char resp[1 << 17];

/* peer_exchange into the shared `resp` buffer. */
static size_t exchange(struct srv *s, const char *req, size_t len, size_t step, int responses,
                       int *closed) {
  return peer_exchange(s, req, len, step, responses, resp, sizeof(resp), closed);
}

/* The server still answers a plain GET on a new connection. */
static int serves_fresh_connection(struct srv *s) {
  static const char get[] = "GET /fresh HTTP/1.1\r\nHost: a\r\n\r\n";
  int closed;
  exchange(s, get, sizeof(get) - 1, 0, 1, &closed);
  return strstr(resp, "200 OK") != NULL && strstr(resp, "GET /fresh? 0") != NULL;
}

TEST(http_get_gives_chunk_then_request) {
  TEST_SRV(s);
  CHECK(srv_start(&s) == 0);
  static const char req[] = "GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\n\r\n";
  int closed;
  exchange(&s, req, sizeof(req) - 1, 0, 1, &closed);
  CHECK(strncmp(resp, "HTTP/1.1 200 OK\r\n", 17) == 0);
  CHECK(strstr(resp, "\r\n\r\nGET /a/b?x=1 0") != NULL);
  CHECK(!closed);
  CHECK(strncmp(s.log, "cRX", 3) == 0);
  srv_stop(&s);
}

/* A body with Content-Length, and the same body chunked with extensions and trailers,
 * reach the handler intact fed whole, byte by byte and split at every point. */
TEST(http_bodies_survive_every_split) {
  static const char cl[] = "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world";
  static const char te[] =
      "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5;ext=1\r\nhello\r\n1\r\n \r\n005\r\nworld\r\n0\r\nTrailer: x\r\n\r\n";
  const char *reqs[] = {cl, te};
  size_t lens[] = {sizeof(cl) - 1, sizeof(te) - 1};
  for (int r = 0; r < 2; r++) {
    for (size_t step = 0; step <= lens[r]; step += step < 3 ? 1 : 7) {
      TEST_SRV(s);
      CHECK(srv_start(&s) == 0);
      int closed;
      exchange(&s, reqs[r], lens[r], step, 1, &closed);
      CHECK(s.requests == 1);
      CHECK(s.body_len == 11 && memcmp(s.body, "hello world", 11) == 0);
      CHECK(strstr(resp, "POST /p? 11") != NULL);
      srv_stop(&s);
    }
  }
}

/* Two writes split at every point of a chunked request followed by a pipelined GET. */
TEST(http_chunked_then_pipelined_split_everywhere) {
  static const char req[] =
      "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n0\r\n\r\nGET /next HTTP/1.1\r\nHost: h\r\n\r\n";
  size_t n = sizeof(req) - 1;
  TEST_SRV(s);
  CHECK(srv_start(&s) == 0);
  for (size_t split = 1; split < n; split++) {
    int fd = peer_connect(&s), closed;
    CHECK(fd >= 0);
    CHECK(peer_send(&s, fd, req, split, 0) == 0);
    CHECK(peer_send(&s, fd, req + split, n - split, 0) == 0);
    peer_collect(&s, fd, resp, sizeof(resp), 2, &closed);
    test_close(fd);
    CHECK(count_responses(resp, strlen(resp)) == 2);
    char *first = strstr(resp, "PUT /c? 3"), *second = strstr(resp, "GET /next? 0");
    CHECK(first != NULL && second != NULL && first < second);
  }
  srv_stop(&s);
}

TEST(http_pipelined_requests_answered_in_order) {
  static const char req[] =
      "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nxyz"
      "GET /3 HTTP/1.1\r\nHost: h\r\n\r\n";
  TEST_SRV(s);
  s.chunked_answer = 1;
  CHECK(srv_start(&s) == 0);
  int closed;
  exchange(&s, req, sizeof(req) - 1, 0, 3, &closed);
  char *a = strstr(resp, "GET /1? 0"), *b = strstr(resp, "POST /2? 3"), *c = strstr(resp, "GET /3? 0");
  CHECK(a != NULL && b != NULL && c != NULL && a < b && b < c);
  CHECK(s.requests == 3);
  srv_stop(&s);
}

/* A handler that deletes every chunk streams 3 MiB with Content-Length and chunked
 * coding in bounded memory, and sees every byte in order. */
static void stream_body(int chunked) {
  const size_t total = 3u << 20, piece = 65536;
  char *data = (char *) test_malloc(piece + 32);
  if (data == NULL) return;
  TEST_SRV(s);
  s.stream = 1;
  s.checksum = 2166136261u;
  if (srv_start(&s) != 0) goto out;
  int fd = peer_connect(&s), closed;
  char head[160];
  int hn = chunked ? snprintf(head, sizeof(head),
                              "POST /up HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n")
                   : snprintf(head, sizeof(head),
                              "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: %zu\r\n\r\n", total);
  peer_send(&s, fd, head, (size_t) hn, 0);
  uint32_t sum = 2166136261u;
  for (size_t off = 0; off < total; off += piece) {
    for (size_t i = 0; i < piece; i++) data[i] = (char) ((off + i) * 7 % 251);
    sum = fnv1a(sum, data, piece);
    if (chunked) {
      char line[32];
      int ln = snprintf(line, sizeof(line), "%zx\r\n", piece);
      peer_send(&s, fd, line, (size_t) ln, 0);
      peer_send(&s, fd, data, piece, 0);
      peer_send(&s, fd, "\r\n", 2, 0);
    } else {
      peer_send(&s, fd, data, piece, 0);
    }
  }
  if (chunked) peer_send(&s, fd, "0\r\n\r\n", 5, 0);
  peer_collect(&s, fd, resp, sizeof(resp), 1, &closed);
  test_close(fd);
  if (s.requests != 1 || s.streamed != total || s.checksum != sum ||
      s.max_recv_size > 512 * 1024 || strstr(resp, "POST /up? 0") == NULL)
    mgio_test_fail(__FILE__, __LINE__, "streamed body");
  srv_stop(&s);
out:
  test_free(data);
}

TEST(http_stream_content_length_body) { stream_body(0); }
TEST(http_stream_chunked_body) { stream_body(1); }

struct bad_case {
  const char *req;
  const char *status;
};

/* Each bad request gets its status with Connection: close, then the close; the next
 * connection is served. Sent whole and byte by byte. */
TEST(http_bad_requests_get_status_then_close) {
  static char long_line[8300], big_field[8400];
  snprintf(long_line, sizeof(long_line), "GET /%08190d HTTP/1.1\r\nHost: h\r\n\r\n", 0);
  snprintf(big_field, sizeof(big_field), "GET / HTTP/1.1\r\nHost: h\r\nX: %08200d\r\n\r\n", 0);
  const struct bad_case cases[] = {
      {"GET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\n", "400 Bad Request"},
      {"GET / HTTP/1.1\nHost: h\n\n", "400 Bad Request"},
      {"GET / HTTP/1.1\r\n\r\n", "400 Bad Request"},                      /* no Host */
      {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "400 Bad Request"}, /* two */
      {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "400 Bad Request"},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
       "400 Bad Request"},
      {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
       "400 Bad Request"},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "400 Bad Request"},
      {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
       "501 Not Implemented"},
      {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", "505 HTTP Version Not Supported"},
      {"GET / HTTP/1.1\r\nHost: h\r\nExpect: teapot\r\n\r\n", "417 Expectation Failed"},
      {long_line, "414 URI Too Long"},
      {big_field, "431 Request Header Fields Too Large"},
  };
  TEST_SRV(s);
  CHECK(srv_start(&s) == 0);
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    for (size_t step = 0; step <= 1; step++) {
      int closed;
      exchange(&s, cases[i].req, strlen(cases[i].req), step == 1 && strlen(cases[i].req) < 200 ? 1 : 0,
               0, &closed);
      if (strstr(resp, cases[i].status) == NULL || !closed ||
          strstr(resp, "Connection: close\r\n") == NULL) {
        fprintf(stderr, "case %zu step %zu (%s): closed %d got %.80s\n", i, step, cases[i].status, closed, resp);
        CHECK(0);
      }
      CHECK(serves_fresh_connection(&s));
    }
  }
  CHECK(s.requests == 26); /* only the fresh GETs were dispatched */
  srv_stop(&s);
}

/* A request after a bad one in the same packet is never dispatched. */
TEST(http_nothing_parsed_after_an_error) {
  static const char req[] = "GET / HTTP/1.1\r\nHost: h\r\nX:\x01\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
  TEST_SRV(s);
  CHECK(srv_start(&s) == 0);
  int closed;
  exchange(&s, req, sizeof(req) - 1, 0, 0, &closed);
  CHECK(closed && strstr(resp, "400 Bad Request") != NULL && s.requests == 0);
  CHECK(count_responses(resp, strlen(resp)) == 1);
  srv_stop(&s);
}

static void limit_case(size_t body_limit, const char *req, const char *want, int want_close) {
  TEST_SRV(s);
  if (srv_start(&s) != 0) return;
  struct mg_http_limits lim = mg_http_default_limits();
  lim.body = body_limit;
  mg_http_set_limits(s.lc, &lim);
  int closed;
  exchange(&s, req, strlen(req), 0, want_close ? 0 : 1, &closed);
  if (strstr(resp, want) == NULL || closed != want_close) {
    fprintf(stderr, "limit %zu: got %.60s closed=%d\n", body_limit, resp, closed);
    mgio_test_fail(__FILE__, __LINE__, "body limit");
  }
  srv_stop(&s);
}

/* The buffered-body limit at, below and above its value, with both framings. */
TEST(http_body_limit_413) {
  limit_case(4, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", "200 OK", 0);
  limit_case(4, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd", "200 OK", 0);
  limit_case(4, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nabcde",
             "413 Content Too Large", 1);
  limit_case(4, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n0\r\n\r\n",
             "200 OK", 0);
  limit_case(4, "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
             "413 Content Too Large", 1);
}

/* Expect: 100-continue gets the interim answer before the body is sent, unless the
 * body is refused (413, no 100). */
TEST(http_expect_continue) {
  TEST_SRV(s);
  CHECK(srv_start(&s) == 0);
  static const char head[] =
      "POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
  int fd = peer_connect(&s), closed;
  CHECK(peer_send(&s, fd, head, sizeof(head) - 1, 0) == 0);
  peer_collect(&s, fd, resp, sizeof(resp), 1, &closed);
  CHECK(strcmp(resp, "HTTP/1.1 100 Continue\r\n\r\n") == 0);
  CHECK(peer_send(&s, fd, "body", 4, 0) == 0);
  peer_collect(&s, fd, resp, sizeof(resp), 1, &closed);
  CHECK(strstr(resp, "200 OK") != NULL && strstr(resp, "POST /e? 4") != NULL);
  test_close(fd);
  srv_stop(&s);
  /* too large: 413 at once, no 100 */
  limit_case(2, "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n",
             "413", 1);
  /* a handler that answers in the first chunk: its answer, no 100, then close */
  memset(&s, 0, sizeof(s));
  s.answer_in_chunk = 1;
  CHECK(srv_start(&s) == 0);
  exchange(&s, head, sizeof(head) - 1, 0, 0, &closed);
  CHECK(strncmp(resp, "HTTP/1.1 403 Forbidden", 22) == 0 && closed && s.requests == 0);
  srv_stop(&s);
}

/* Connection: close and HTTP/1.0: answered, then closed; later requests ignored. */
TEST(http_last_request_closes_after_answer) {
  const char *reqs[] = {
      "GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n",
      "GET /1 HTTP/1.0\r\n\r\nGET /2 HTTP/1.0\r\n\r\n",
  };
  for (int chunked = 0; chunked <= 1; chunked++) {
    for (int i = 0; i < 2; i++) {
      TEST_SRV(s);
      s.chunked_answer = chunked;
      CHECK(srv_start(&s) == 0);
      int closed;
      exchange(&s, reqs[i], strlen(reqs[i]), 0, 0, &closed);
      CHECK(closed && s.requests == 1 && count_responses(resp, strlen(resp)) == 1);
      CHECK(strstr(resp, "GET /1? 0") != NULL);
      CHECK(strstr(resp, "\r\nConnection: close\r\n") != NULL); /* said so (RFC 9112 9.6) */
      srv_stop(&s);
    }
  }
  /* HTTP/1.0 with keep-alive stays open */
  TEST_SRV(s);
  CHECK(srv_start(&s) == 0);
  static const char ka[] = "GET /1 HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
  int closed;
  exchange(&s, ka, sizeof(ka) - 1, 0, 1, &closed);
  CHECK(!closed && s.requests == 1);
  CHECK(strstr(resp, "\r\nConnection: keep-alive\r\n") != NULL);
  srv_stop(&s);
}

/* The accepted connection of `s` (its only one). */
static struct mg_connection *accepted(struct srv *s) {
  struct mg_connection *c = NULL;
  for (c = mg_next(&s->mgr, NULL); c != NULL && c == s->lc; c = mg_next(&s->mgr, c)) {
  }
  return c;
}

/* A last request answered later: the connection waits for the answer, then closes. */
TEST(http_last_request_answered_later) {
  TEST_SRV(s);
  s.answer_later = 1;
  CHECK(srv_start(&s) == 0);
  static const char req[] = "GET /late HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  int fd = peer_connect(&s), closed;
  CHECK(peer_send(&s, fd, req, sizeof(req) - 1, 0) == 0);
  srv_poll(&s, 5);
  struct mg_connection *c = accepted(&s);
  CHECK(c != NULL);
  mg_send_head(c, 204, 0, NULL);
  peer_collect(&s, fd, resp, sizeof(resp), 0, &closed);
  CHECK(closed && strncmp(resp, "HTTP/1.1 204 No Content\r\n", 25) == 0);
  test_close(fd);
  srv_stop(&s);
}

/* A client that shuts its side after the request still gets a later answer. */
TEST(http_half_closed_client_gets_late_answer) {
  TEST_SRV(s);
  s.answer_later = 1;
  CHECK(srv_start(&s) == 0);
  static const char req[] = "GET /late HTTP/1.1\r\nHost: h\r\n\r\n";
  int fd = peer_connect(&s), closed;
  CHECK(peer_send(&s, fd, req, sizeof(req) - 1, 0) == 0);
  shutdown(fd, SHUT_WR);
  srv_poll(&s, 10);
  CHECK(s.requests == 1 && s.closes == 0);
  struct mg_connection *c = accepted(&s);
  CHECK(c != NULL);
  mg_send_head(c, 200, 2, NULL);
  mg_send(c, "ok", 2);
  peer_collect(&s, fd, resp, sizeof(resp), 0, &closed);
  CHECK(closed && strstr(resp, "\r\n\r\nok") != NULL);
  test_close(fd);
  srv_poll(&s, 3);
  CHECK(s.closes == 1);
  srv_stop(&s);
}

/* Pipelined requests wait for the answer before them, however late it comes (a chunked
 * one until its last chunk): answers leave in order, each framed for its own request. */
TEST(http_pipelined_requests_wait_for_a_late_answer) {
  TEST_SRV(s);
  s.answer_later = 1;
  CHECK(srv_start(&s) == 0);
  static const char reqs[] = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n"
                             "GET /2 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
  int fd = peer_connect(&s), closed;
  CHECK(peer_send(&s, fd, reqs, sizeof(reqs) - 1, 0) == 0);
  srv_poll(&s, 10);
  CHECK(s.requests == 1); /* /2 waits */
  struct mg_connection *c = accepted(&s);
  CHECK(c != NULL);
  mg_send_head(c, 200, -1, NULL); /* a chunked answer, still open */
  mg_send_http_chunk(c, "one", 3);
  srv_poll(&s, 10);
  CHECK(s.requests == 1);
  CHECK((c = accepted(&s)) != NULL); /* still open (a failed allocation closes it) */
  mg_send_http_chunk(c, "", 0);
  srv_poll(&s, 10);
  CHECK(s.requests == 2); /* now /2 */
  CHECK((c = accepted(&s)) != NULL);
  mg_send_head(c, 200, 3, NULL);
  mg_send(c, "two", 3);
  peer_collect(&s, fd, resp, sizeof(resp), 0, &closed);
  CHECK(closed && count_responses(resp, strlen(resp)) == 2);
  const char *second = strstr(resp + 1, "HTTP/1.1 200");
  CHECK(second != NULL && strstr(resp, "3\r\none\r\n0\r\n\r\n") < second);
  CHECK(strstr(resp, "Connection: close") > second); /* only the last answer closes */
  CHECK(strstr(second, "\r\n\r\ntwo") != NULL);
  test_close(fd);
  srv_stop(&s);
}

static void head_error_handler(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_HTTP_REQUEST) mg_http_send_error(c, 404, NULL);
}

/* After HEAD, an error answer carries its Content-Length but no body. */
TEST(http_head_answers_have_no_body) {
  TEST_SRV(s);
  CHECK(srv_start(&s) == 0);
  s.lc->handler = head_error_handler;
  static const char req[] = "HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n";
  int closed;
  exchange(&s, req, sizeof(req) - 1, 0, 0, &closed);
  const char *end = strstr(resp, "Content-Length: 9\r\n\r\n");
  CHECK(end != NULL && end[strlen("Content-Length: 9\r\n\r\n")] == '\0');
  srv_stop(&s);
}

/* ---- endpoints ---------------------------------------------------------------------- */

static int ep_closes;

static void endpoint_a(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_HTTP_REQUEST) {
    const char *tag = (const char *) mg_http_endpoint_user_data(c);
    mg_send_head(c, 200, (int64_t) strlen(tag), NULL);
    mg_printf(c, "%s", tag);
  }
  if (ev == MG_EV_CLOSE) ep_closes++;
}

TEST(http_endpoints_longest_match_wins) {
  TEST_SRV(s);
  CHECK(srv_start(&s) == 0);
  struct mg_http_endpoint_opts o1, o2, o3;
  memset(&o1, 0, sizeof(o1));
  o2 = o3 = o1;
  o1.user_data = (void *) "api";
  o2.user_data = (void *) "api-v2";
  o3.user_data = (void *) "files";
  mg_register_http_endpoint_opt(s.lc, "/api", endpoint_a, o1);
  mg_register_http_endpoint_opt(s.lc, "/api/v2", endpoint_a, o2);
  mg_register_http_endpoint_opt(s.lc, "/files/*.txt$", endpoint_a, o3);
  struct {
    const char *uri, *want;
  } cases[] = {{"/api/x", "\r\n\r\napi"},       {"/api/v2/y", "\r\n\r\napi-v2"},
               {"/files/a.txt", "\r\n\r\nfiles"}, {"/files/a.txt.gz", "? 0"},
               {"/other", "? 0"}};
  ep_closes = 0;
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char req[128];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\n\r\n", cases[i].uri);
    int closed;
    exchange(&s, req, (size_t) n, 0, 1, &closed);
    CHECK(strstr(resp, cases[i].want) != NULL);
  }
  CHECK(ep_closes == 3);
  /* a guarded endpoint is refused until Digest auth exists, never served unguarded */
  struct mg_http_endpoint_opts guarded;
  memset(&guarded, 0, sizeof(guarded));
  guarded.auth_file = "/nonexistent/htdigest";
  guarded.user_data = (void *) "secret";
  mg_register_http_endpoint_opt(s.lc, "/secret", endpoint_a, guarded);
  static const char sec[] = "GET /secret HTTP/1.1\r\nHost: h\r\n\r\n";
  int closed;
  exchange(&s, sec, sizeof(sec) - 1, 0, 0, &closed);
  CHECK(strstr(resp, "500 Internal Server Error") != NULL && strstr(resp, "secret") == NULL);
  CHECK(s.requests == 2); /* the unmatched ones reached the connection's handler */
  CHECK(ep_closes == 3);
  srv_stop(&s);
}

/* ---- the client -------------------------------------------------------------------- */

struct client_log {
  int replies, chunks, closes, status;
  char body[256];
  size_t body_len;
  int err;
};

static void client_handler(struct mg_connection *c, int ev, void *ev_data) {
  struct client_log *cl = (struct client_log *) c->user_data;
  struct http_message *hm = (struct http_message *) ev_data;
  if (ev == MG_EV_HTTP_CHUNK) cl->chunks++;
  if (ev == MG_EV_HTTP_REPLY) {
    cl->replies++;
    cl->status = hm->resp_code;
    cl->body_len = hm->body.len;
    memcpy(cl->body, hm->body.p, hm->body.len < sizeof(cl->body) ? hm->body.len : sizeof(cl->body));
    c->flags |= MG_F_CLOSE_IMMEDIATELY;
  }
  if (ev == MG_EV_CLOSE) {
    cl->closes++;
    cl->err = c->err;
  }
}

/* A raw server socket answering one connection with canned bytes, then closing. */
struct canned {
  int lfd;
  char url[96];
};

static int canned_listen(struct canned *k) {
  k->lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(sa);
  if (k->lfd < 0 || bind(k->lfd, (struct sockaddr *) &sa, len) != 0 || listen(k->lfd, 4) != 0 ||
      getsockname(k->lfd, (struct sockaddr *) &sa, &len) != 0)
    return -1;
  snprintf(k->url, sizeof(k->url), "http://127.0.0.1:%d/path?q=1", ntohs(sa.sin_port));
  return 0;
}

/* Runs a client against canned `reply` bytes; returns what the server received. */
static void run_client(const char *method, const char *reply, size_t reply_len,
                       struct client_log *cl, char *got, size_t got_cap) {
  struct canned k;
  memset(cl, 0, sizeof(*cl));
  got[0] = '\0';
  if (canned_listen(&k) != 0) return;
  TEST_MGR(mgr, NULL);
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.user_data = cl;
  struct mg_connection *c =
      mg_connect_http_method(&mgr, client_handler, opts, method, k.url, "X-T: 1", "ab", 2);
  if (c != NULL) {
    int fd = -1;
    double since = mg_time();
    size_t n = 0;
    while (fd < 0 && !test_timed_out(since, 5)) {
      mg_mgr_poll(&mgr, 1);
      fd = accept(k.lfd, NULL, NULL);
    }
    while (fd >= 0 && !test_timed_out(since, 5) && strstr(got, "\r\n\r\nab") == NULL) {
      mg_mgr_poll(&mgr, 1);
      ssize_t r = recv(fd, got + n, got_cap - 1 - n, MSG_DONTWAIT);
      if (r > 0) n += (size_t) r;
      got[n] = '\0';
    }
    if (fd >= 0) {
      send(fd, reply, reply_len, MSG_NOSIGNAL);
      test_close(fd);
    }
    while (cl->closes == 0 && !test_timed_out(since, 5)) mg_mgr_poll(&mgr, 1);
  }
  test_mgr_free(&mgr);
  test_close(k.lfd);
}

TEST(http_client_request_and_replies) {
  struct client_log cl;
  char got[1024];
  static const char cl_reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
  run_client("POST", cl_reply, sizeof(cl_reply) - 1, &cl, got, sizeof(got));
  CHECK(strstr(got, "POST /path?q=1 HTTP/1.1\r\nHost: 127.0.0.1:") == got);
  CHECK(strstr(got, "\r\nContent-Length: 2\r\nX-T: 1\r\n\r\nab") != NULL);
  CHECK(cl.replies == 1 && cl.status == 200 && cl.body_len == 5 && memcmp(cl.body, "hello", 5) == 0);
  CHECK(cl.chunks >= 1);

  static const char chunked[] =
      "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
  run_client("PUT", chunked, sizeof(chunked) - 1, &cl, got, sizeof(got));
  CHECK(cl.replies == 1 && cl.status == 201 && cl.body_len == 5 && memcmp(cl.body, "abcde", 5) == 0);

  static const char until_close[] = "HTTP/1.1 200 OK\r\n\r\nall of it";
  run_client("GET", until_close, sizeof(until_close) - 1, &cl, got, sizeof(got));
  CHECK(cl.replies == 1 && cl.body_len == 9 && memcmp(cl.body, "all of it", 9) == 0);

  static const char head_reply[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n";
  run_client("HEAD", head_reply, sizeof(head_reply) - 1, &cl, got, sizeof(got));
  CHECK(cl.replies == 1 && cl.body_len == 0);

  static const char truncated[] = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort";
  run_client("GET", truncated, sizeof(truncated) - 1, &cl, got, sizeof(got));
  CHECK(cl.replies == 0 && cl.closes == 1);

  static const char malformed[] = "HTTP/1.1 200 OK\r\nBad Header\r\n\r\n";
  run_client("GET", malformed, sizeof(malformed) - 1, &cl, got, sizeof(got));
  CHECK(cl.replies == 0 && cl.closes == 1 && cl.err != 0);
}

TEST(http_client_url_errors) {
  TEST_MGR(mgr, NULL);
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  const char *err = NULL;
  opts.error_string = &err;
  CHECK(mg_connect_http_opt(&mgr, client_handler, opts, "https://127.0.0.1/", NULL, NULL) == NULL);
  CHECK(err != NULL && strcmp(err, "ssl is disabled") == 0);
  CHECK(mg_connect_http_opt(&mgr, client_handler, opts, "ftp://h/", NULL, NULL) == NULL);
  CHECK(mg_connect_http_opt(&mgr, client_handler, opts, "http://h/a b", NULL, NULL) == NULL);
  CHECK(mg_connect_http_opt(&mgr, client_handler, opts, "http://:80/", NULL, NULL) == NULL);
  CHECK(mg_connect_http_opt(&mgr, client_handler, opts, "http://h/", "Bad\r\nX", NULL) == NULL);
  CHECK(mg_connect_http_method(&mgr, client_handler, opts, "GE T", "http://h/", NULL, NULL, 0) ==
        NULL);
  CHECK(mg_connect_http(&mgr, client_handler, NULL, NULL, NULL) == NULL);
  test_mgr_free(&mgr);
}

/* The client through mgio's own server: Basic credentials from the URL reach it. */
static void auth_echo(struct mg_connection *c, int ev, void *ev_data) {
  struct http_message *hm = (struct http_message *) ev_data;
  if (ev != MG_EV_HTTP_REQUEST) return;
  struct mg_str *a = mg_get_http_header(hm, "Authorization");
  mg_send_head(c, 200, a != NULL ? (int64_t) a->len : 0, NULL);
  if (a != NULL) mg_send(c, a->p, (int) a->len);
}

TEST(http_client_against_own_server) {
  TEST_SRV(s);
  CHECK(srv_start(&s) == 0);
  s.lc->handler = auth_echo;
  char url[128];
  snprintf(url, sizeof(url), "http://Aladdin:open%%20sesame@%s/", s.addr);
  struct client_log cl;
  memset(&cl, 0, sizeof(cl));
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.user_data = &cl;
  CHECK(mg_connect_http_opt(&s.mgr, client_handler, opts, url, NULL, NULL) != NULL);
  double since = mg_time();
  while (cl.closes == 0 && !test_timed_out(since, 5)) mg_mgr_poll(&s.mgr, 1);
  CHECK(cl.replies == 1 && cl.status == 200);
  CHECK(cl.body_len == 34 && memcmp(cl.body, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==", 34) == 0);
  srv_stop(&s);
}
