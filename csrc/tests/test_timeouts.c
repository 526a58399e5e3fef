/* Timeouts and per-connection limits over loopback (http/timeouts.c): the header
 * timeout (from the accept, then from a request's first byte; 408 and close), the body
 * idle timeout (408; a trickle within it is served), the send timeout (a peer that never
 * reads), keep-alive idle (quiet close), max_requests (Connection: close on the last
 * answer; 1000 by default), the client's reply and WebSocket handshake timeouts, the
 * wake-ups reaching mg_mgr_next_timer, and the manager's connection cap. Timeouts are
 * 150 ms or so, every wait is bounded, and each test checks that a fresh connection is
 * served afterwards. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http_peer.h"
#include "mgio.h"
#include "test.h"

#define SHORT_MS test_ms(150) /* 30 ms under the torture, which runs each test many times */
#define SHORT_S (SHORT_MS / 1000.0)

static char resp[1 << 18];

/* Starts `s` with every timeout off except those the caller sets next. */
static int start(struct srv *s, struct mg_http_limits *lim) {
  memset(s, 0, sizeof(*s));
  if (srv_start(s) != 0) return -1;
  *lim = mg_http_default_limits();
  lim->header_ms = lim->body_ms = lim->send_ms = lim->idle_ms = 0;
  return 0;
}

static void apply(struct srv *s, const struct mg_http_limits *lim) {
  mg_http_set_limits(s->lc, lim);
}

/* Polls (bounded) until the server holds `n` connections (not counting listeners). */
static void connections_become(struct srv *s, size_t n) {
  for (int i = 0; i < 1000 && s->mgr.num_connections != n; i++) mg_mgr_poll(&s->mgr, 5);
}

static int serves_fresh_connection(struct srv *s) {
  static const char get[] = "GET /fresh HTTP/1.1\r\nHost: a\r\n\r\n";
  int closed;
  peer_exchange(s, get, sizeof(get) - 1, 0, 1, resp, sizeof(resp), &closed);
  return strstr(resp, "200 OK") != NULL && strstr(resp, "GET /fresh? 0") != NULL;
}

/* Polls (1 ms waits) for `seconds`, reading what the server sends on `fd` into resp.
 * Returns 1 when the server closed the connection meanwhile. */
static int idle_for(struct srv *s, int fd, double seconds, size_t *len) {
  double end = mg_time() + seconds;
  while (mg_time() < end) {
    mg_mgr_poll(&s->mgr, 1);
    ssize_t r = recv(fd, resp + *len, sizeof(resp) - 1 - *len, MSG_DONTWAIT);
    if (r == 0 || (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) return 1;
    if (r > 0) *len += (size_t) r;
    resp[*len] = '\0';
  }
  return 0;
}

/* Waits (bounded: 5 s) for the server to close `fd`; the time it took, in seconds. */
static double time_to_close(struct srv *s, int fd, int *closed) {
  double t0 = mg_time();
  peer_collect(s, fd, resp, sizeof(resp), 0, closed);
  return mg_time() - t0;
}

TEST(timeout_header_408_after_the_limit) {
  TEST_SRV(s);
  struct mg_http_limits lim;
  CHECK(start(&s, &lim) == 0);
  lim.header_ms = SHORT_MS;
  apply(&s, &lim);
  /* a head that stops half-way */
  int fd = peer_connect(&s), closed;
  CHECK(fd >= 0);
  double t0 = mg_time();
  peer_send(&s, fd, "GET / HTTP/1.1\r\nHo", 18, 0);
  peer_collect(&s, fd, resp, sizeof(resp), 0, &closed);
  double took = mg_time() - t0;
  test_close(fd);
  CHECK(strncmp(resp, "HTTP/1.1 408 Request Timeout\r\n", 30) == 0);
  CHECK(strstr(resp, "Connection: close") != NULL && closed);
  CHECK(took >= SHORT_S - 0.05 && took < 3);
  CHECK(s.requests == 0);
  /* a silent new connection: its first head counts from the accept */
  fd = peer_connect(&s);
  CHECK(fd >= 0);
  took = time_to_close(&s, fd, &closed);
  test_close(fd);
  CHECK(strncmp(resp, "HTTP/1.1 408 ", 13) == 0 && closed && took < 3);
  CHECK(serves_fresh_connection(&s));
  srv_stop(&s);
}

/* After a HEAD request, the 408 of the next (timed-out) head still has its body: the
 * HEAD rule applies to HEAD's own answer only. */
TEST(timeout_header_408_after_head_request_has_body) {
  TEST_SRV(s);
  struct mg_http_limits lim;
  CHECK(start(&s, &lim) == 0);
  lim.header_ms = SHORT_MS;
  apply(&s, &lim);
  int fd = peer_connect(&s), closed;
  CHECK(fd >= 0);
  peer_send(&s, fd, "HEAD /h HTTP/1.1\r\nHost: a\r\n\r\nGET", 32, 0);
  peer_collect(&s, fd, resp, sizeof(resp), 0, &closed);
  test_close(fd);
  const char *second = strstr(resp, "HTTP/1.1 408 ");
  CHECK(strncmp(resp, "HTTP/1.1 200 ", 13) == 0 && second != NULL && closed);
  CHECK(strstr(second, "\r\n\r\nRequest Timeout") != NULL);
  srv_stop(&s);
}

/* A head that arrives slowly but within the limit is served. */
TEST(timeout_header_slow_head_within_limit_served) {
  TEST_SRV(s);
  struct mg_http_limits lim;
  CHECK(start(&s, &lim) == 0);
  lim.header_ms = 3 * SHORT_MS;
  apply(&s, &lim);
  int fd = peer_connect(&s), closed;
  size_t len = 0;
  CHECK(fd >= 0);
  peer_send(&s, fd, "GET /slow HTTP/1.1\r\n", 20, 0);
  CHECK(!idle_for(&s, fd, SHORT_S, &len) && len == 0);
  peer_send(&s, fd, "Host: a\r\n\r\n", 11, 0);
  peer_collect(&s, fd, resp, sizeof(resp), 1, &closed);
  CHECK(strstr(resp, "200 OK") != NULL && strstr(resp, "GET /slow? 0") != NULL);
  test_close(fd);
  srv_stop(&s);
}

/* Keep-alive: between requests the header clock does not run (idle_ms governs); it
 * starts with the next request's first byte. */
TEST(timeout_header_counts_from_first_byte_on_keep_alive) {
  TEST_SRV(s);
  struct mg_http_limits lim;
  CHECK(start(&s, &lim) == 0);
  lim.header_ms = SHORT_MS;
  apply(&s, &lim);
  int fd = peer_connect(&s), closed;
  size_t len = 0;
  CHECK(fd >= 0);
  peer_send(&s, fd, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n", 28, 0);
  peer_collect(&s, fd, resp, sizeof(resp), 1, &closed);
  CHECK(strstr(resp, "GET /1? 0") != NULL && !closed);
  CHECK(!idle_for(&s, fd, 2 * SHORT_S, &len)); /* longer than header_ms: still open */
  peer_send(&s, fd, "GET /2 HTTP/1.1\r\n", 17, 0);
  double took = time_to_close(&s, fd, &closed);
  test_close(fd);
  CHECK(strncmp(resp, "HTTP/1.1 408 ", 13) == 0 && closed);
  CHECK(took >= SHORT_S - 0.05 && took < 3);
  CHECK(s.requests == 1);
  srv_stop(&s);
}

TEST(timeout_keep_alive_idle_closes_quietly) {
  TEST_SRV(s);
  struct mg_http_limits lim;
  CHECK(start(&s, &lim) == 0);
  lim.idle_ms = SHORT_MS;
  apply(&s, &lim);
  int fd = peer_connect(&s), closed;
  CHECK(fd >= 0);
  peer_send(&s, fd, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n", 28, 0);
  peer_collect(&s, fd, resp, sizeof(resp), 1, &closed);
  CHECK(strstr(resp, "GET /1? 0") != NULL && !closed);
  double took = time_to_close(&s, fd, &closed);
  test_close(fd);
  CHECK(closed && resp[0] == '\0'); /* nothing sent: a quiet close */
  CHECK(took >= SHORT_S - 0.05 && took < 3);
  /* a second request within idle_ms is served on the same connection */
  fd = peer_connect(&s);
  CHECK(fd >= 0);
  size_t len = 0;
  peer_send(&s, fd, "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n", 28, 0);
  CHECK(!idle_for(&s, fd, SHORT_S / 3, &len) && strstr(resp, "GET /1? 0") != NULL);
  peer_send(&s, fd, "GET /2 HTTP/1.1\r\nHost: a\r\n\r\n", 28, 0);
  peer_collect(&s, fd, resp, sizeof(resp), 1, &closed);
  CHECK(strstr(resp, "GET /2? 0") != NULL && !closed);
  test_close(fd);
  CHECK(serves_fresh_connection(&s));
  srv_stop(&s);
}

TEST(timeout_body_idle_408_and_trickle_served) {
  TEST_SRV(s);
  struct mg_http_limits lim;
  CHECK(start(&s, &lim) == 0);
  lim.body_ms = SHORT_MS;
  apply(&s, &lim);
  static const char head[] = "POST /b HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\n";
  int fd = peer_connect(&s), closed;
  CHECK(fd >= 0);
  peer_send(&s, fd, head, sizeof(head) - 1, 0);
  peer_send(&s, fd, "ab", 2, 0);
  double took = time_to_close(&s, fd, &closed);
  test_close(fd);
  CHECK(strncmp(resp, "HTTP/1.1 408 ", 13) == 0 && strstr(resp, "Connection: close") && closed);
  CHECK(took >= SHORT_S - 0.05 && took < 3);
  CHECK(s.requests == 0 && s.chunks >= 1);
  /* one byte every half timeout: longer in total than body_ms, never idle that long */
  fd = peer_connect(&s);
  CHECK(fd >= 0);
  size_t len = 0;
  peer_send(&s, fd, head, sizeof(head) - 1, 0);
  for (int i = 0; i < 5; i++) {
    CHECK(!idle_for(&s, fd, SHORT_S / 2, &len));
    peer_send(&s, fd, "x", 1, 0);
  }
  peer_collect(&s, fd, resp, sizeof(resp), 1, &closed);
  test_close(fd);
  CHECK(strstr(resp, "200 OK") != NULL && strstr(resp, "POST /b? 5") != NULL);
  CHECK(serves_fresh_connection(&s));
  srv_stop(&s);
}

/* Answers GET /big with 8 MiB, more than the socket buffers hold (the client's receive
 * buffer is made small). */
static void big_handler(struct mg_connection *c, int ev, void *ev_data) {
  struct srv *s = (struct srv *) c->user_data;
  struct http_message *hm = (struct http_message *) ev_data;
  if (ev == MG_EV_HTTP_REQUEST && mg_vcmp(&hm->uri, "/big") == 0) {
    static char block[1 << 16];
    mg_send_head(c, 200, (int64_t) 128 * sizeof(block), NULL);
    for (int i = 0; i < 128; i++) mg_send(c, block, (int) sizeof(block));
    s->requests++;
    return;
  }
  if (ev == MG_EV_CLOSE && c != s->lc) {
    s->closes++;
    if (c->err == ETIMEDOUT) s->chunks++; /* counts closes for the send timeout */
    return;
  }
  if (ev == MG_EV_HTTP_REQUEST) mg_http_send_error(c, 200, "fresh");
}

TEST(timeout_send_closes_a_peer_that_never_reads) {
  TEST_SRV(s);
  struct mg_http_limits lim;
  CHECK(start(&s, &lim) == 0);
  s.lc->handler = big_handler;
  lim.send_ms = SHORT_MS;
  apply(&s, &lim);
  int fd = peer_connect(&s), small = 4096;
  CHECK(fd >= 0);
  setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  double t0 = mg_time();
  peer_send(&s, fd, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n", 30, 0);
  while (s.closes == 0 && !test_timed_out(t0, 5)) mg_mgr_poll(&s.mgr, 50);
  double took = mg_time() - t0;
  if (!(took >= SHORT_S - 0.05 && took < 3)) fprintf(stderr, "send timeout took %f\n", took);
  test_close(fd);
  CHECK(s.requests == 1 && s.closes == 1 && s.chunks == 1); /* closed with ETIMEDOUT */
  CHECK(took >= SHORT_S - 0.05 && took < 3);
  /* a reader that takes all of it in time keeps the connection */
  fd = peer_connect(&s);
  CHECK(fd >= 0);
  peer_send(&s, fd, "GET /big HTTP/1.1\r\nHost: a\r\n\r\n", 30, 0);
  size_t total = 0;
  t0 = mg_time();
  while (total < (size_t) 8 << 20 && !test_timed_out(t0, 10)) {
    mg_mgr_poll(&s.mgr, 1);
    ssize_t r;
    while ((r = recv(fd, resp, sizeof(resp), MSG_DONTWAIT)) > 0) total += (size_t) r;
  }
  test_close(fd);
  if (total <= (size_t) 8 << 20 || s.closes != 1) fprintf(stderr, "got %zu, %d closes\n", total, s.closes);
  CHECK(total > (size_t) 8 << 20 && s.closes == 1);
  srv_poll(&s, 3);
  int closed;
  peer_exchange(&s, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 27, 0, 1, resp, sizeof(resp), &closed);
  CHECK(strstr(resp, "fresh") != NULL);
  srv_stop(&s);
}

/* `n` pipelined requests "GET /<i>" in one buffer (heap); *len its length. */
static char *pipelined(int n, size_t *len) {
  char *buf = (char *) test_malloc((size_t) n * 40 + 1);
  size_t at = 0;
  if (buf == NULL) abort();
  for (int i = 1; i <= n; i++)
    at += (size_t) snprintf(buf + at, 40, "GET /%d HTTP/1.1\r\nHost: a\r\n\r\n", i);
  *len = at;
  return buf;
}

/* The response to request `i` in resp, or NULL. */
static const char *answer_to(int i) {
  char want[32];
  snprintf(want, sizeof(want), "GET /%d? 0", i);
  return strstr(resp, want);
}

/* Whether the head of the response that carries request `i`'s answer says close. */
static int says_close(int i) {
  const char *body = answer_to(i), *head = body;
  while (head != NULL && head > resp && strncmp(head, "HTTP/1.1 ", 9) != 0) head--;
  if (head == NULL || body == NULL) return -1;
  const char *close_field = c_strnstr(head, "Connection: close", (size_t) (body - head));
  return close_field != NULL;
}

static void max_requests_case(struct srv *s, unsigned int max, int sent) {
  size_t len;
  int closed;
  char *req = pipelined(sent, &len);
  memset(resp, 0, 64);
  /* past the limit, wait for the close (a response that never comes) */
  int wait = (unsigned int) sent >= max ? sent + 1 : sent;
  peer_exchange(s, req, len, 0, wait, resp, sizeof(resp), &closed);
  test_free(req);
  int answered = (unsigned int) sent < max ? sent : (int) max;
  CHECK(count_responses(resp, strlen(resp)) == answered);
  CHECK(answer_to(answered) != NULL && answer_to(answered + 1) == NULL);
  CHECK(says_close(answered) == ((unsigned int) sent >= max));
  if (answered > 1) CHECK(says_close(answered - 1) == 0);
  CHECK(closed == ((unsigned int) sent >= max));
}

TEST(limit_max_requests_below_at_above) {
  TEST_SRV(s);
  struct mg_http_limits lim;
  CHECK(start(&s, &lim) == 0);
  lim.max_requests = 3;
  apply(&s, &lim);
  max_requests_case(&s, 3, 2);
  max_requests_case(&s, 3, 3);
  max_requests_case(&s, 3, 4);
  lim.max_requests = 1;
  apply(&s, &lim);
  max_requests_case(&s, 1, 2);
  CHECK(serves_fresh_connection(&s));
  srv_stop(&s);
}

TEST(limit_max_requests_default_1000) {
  TEST_SRV(s);
  struct mg_http_limits lim;
  CHECK(start(&s, &lim) == 0);
  CHECK(lim.max_requests == 1000);
  apply(&s, &lim);
  max_requests_case(&s, 1000, 1001);
  CHECK(s.requests == 1000);
  srv_stop(&s);
}

/* The client's timeouts, against a listener that accepts and never answers. */
struct client_log {
  int replies, done, closes, done_code, err;
};

static void client_handler(struct mg_connection *c, int ev, void *ev_data) {
  struct client_log *l = (struct client_log *) c->user_data;
  if (ev == MG_EV_HTTP_REPLY) l->replies++;
  if (ev == MG_EV_WEBSOCKET_HANDSHAKE_DONE) {
    l->done++;
    l->done_code = ((struct http_message *) ev_data)->resp_code;
  }
  if (ev == MG_EV_CLOSE) {
    l->closes++;
    l->err = c->err;
  }
}

static void silent_handler(struct mg_connection *c, int ev, void *ev_data) {
  (void) c;
  (void) ev;
  (void) ev_data;
}

static double run_client(struct mg_mgr *mgr, struct mg_connection *c, struct client_log *l,
                         unsigned int ms, int ws) {
  struct mg_http_limits lim = mg_http_default_limits();
  if (ws) {
    lim.ws_handshake_ms = ms;
  } else {
    lim.header_ms = ms;
  }
  mg_http_set_limits(c, &lim);
  double t0 = mg_time();
  while (l->closes == 0 && !test_timed_out(t0, 5)) mg_mgr_poll(mgr, 1000);
  return mg_time() - t0;
}

TEST(timeout_client_reply_and_ws_handshake) {
  char addr[80], url[100];
  TEST_MGR(mgr, NULL);
  struct mg_connection *lc = mg_bind(&mgr, "tcp://127.0.0.1:0", silent_handler);
  CHECK(lc != NULL);
  mg_sock_addr_to_str(&lc->sa, addr, sizeof(addr), MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT);
  snprintf(url, sizeof(url), "http://%s/", addr);
  struct client_log l;
  memset(&l, 0, sizeof(l));
  struct mg_connection *c = mg_connect_http(&mgr, client_handler, url, NULL, NULL);
  CHECK(c != NULL);
  c->user_data = &l;
  double took = run_client(&mgr, c, &l, SHORT_MS, 0);
  CHECK(l.closes == 1 && l.replies == 0 && l.err == ETIMEDOUT);
  CHECK(took >= SHORT_S - 0.05 && took < 3); /* the 1 s poll wait was cut short */
  snprintf(url, sizeof(url), "ws://%s/", addr);
  memset(&l, 0, sizeof(l));
  c = mg_connect_ws(&mgr, client_handler, url, NULL, NULL);
  CHECK(c != NULL);
  c->user_data = &l;
  took = run_client(&mgr, c, &l, SHORT_MS, 1);
  CHECK(l.done == 1 && l.done_code == 0 && l.closes == 1 && l.err == ETIMEDOUT);
  CHECK(took >= SHORT_S - 0.05 && took < 3);
  test_mgr_free(&mgr);
}

/* Each running timeout reaches mg_mgr_next_timer; with all off there is no wake-up,
 * and a listener never has one. */
TEST(timeout_deadline_reaches_next_timer) {
  TEST_SRV(s);
  struct mg_http_limits lim;
  CHECK(start(&s, &lim) == 0);
  apply(&s, &lim);
  int fd = peer_connect(&s);
  CHECK(fd >= 0);
  connections_become(&s, 1);
  CHECK(mg_mgr_next_timer(&s.mgr) == 0);
  test_close(fd);
  connections_become(&s, 0);
  lim.header_ms = 10000;
  apply(&s, &lim);
  srv_poll(&s, 3);
  CHECK(mg_mgr_next_timer(&s.mgr) == 0); /* the listener itself has no clock */
  fd = peer_connect(&s);
  CHECK(fd >= 0);
  connections_become(&s, 1);
  double next = mg_mgr_next_timer(&s.mgr), now = mg_time();
  CHECK(next > now + 9 && next < now + 10.01);
  test_close(fd);
  srv_stop(&s);
}

/* The manager's cap: a connection accepted over it is closed before any event; one
 * that fits after a close is served. */
TEST(limit_connection_cap_at_and_above) {
  TEST_SRV(s);
  struct mg_http_limits lim;
  CHECK(start(&s, &lim) == 0);
  s.mgr.max_connections = 2;
  int a = peer_connect(&s), b = peer_connect(&s), c = peer_connect(&s), closed;
  CHECK(a >= 0 && b >= 0 && c >= 0);
  connections_become(&s, 2);
  srv_poll(&s, 3); /* the third is accepted (and closed) too */
  CHECK(s.mgr.num_connections == 2);
  peer_collect(&s, c, resp, sizeof(resp), 0, &closed);
  CHECK(closed && resp[0] == '\0');
  peer_send(&s, b, "GET /b HTTP/1.1\r\nHost: a\r\n\r\n", 28, 0);
  peer_collect(&s, b, resp, sizeof(resp), 1, &closed);
  CHECK(strstr(resp, "GET /b? 0") != NULL);
  test_close(a);
  test_close(b);
  test_close(c);
  connections_become(&s, 0);
  CHECK(s.mgr.num_connections == 0 && s.closes == 2);
  CHECK(serves_fresh_connection(&s));
  srv_stop(&s);
}
