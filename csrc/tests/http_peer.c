/* Test helpers for the HTTP connection tests (see http_peer.h). */
#define _POSIX_C_SOURCE 200809L
#include "http_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

uint32_t fnv1a(uint32_t h, const void *data, size_t n) {
  const unsigned char *p = (const unsigned char *) data;
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
  return h;
}

static void note(struct srv *s, char letter) {
  if (s->log_len + 1 < sizeof(s->log)) {
    s->log[s->log_len++] = letter;
    s->log[s->log_len] = '\0';
  }
}

static void on_chunk(struct mg_connection *c, struct srv *s, struct http_message *hm) {
  note(s, 'c');
  s->chunks++;
  if (c->recv_mbuf.size > s->max_recv_size) s->max_recv_size = c->recv_mbuf.size;
  if (s->answer_in_chunk) {
    mg_http_send_error(c, 403, NULL);
    return;
  }
  if (s->stream) {
    s->streamed += hm->body.len;
    s->checksum = fnv1a(s->checksum, hm->body.p, hm->body.len);
    c->flags |= MG_F_DELETE_CHUNK;
  }
}

static void answer(struct mg_connection *c, struct srv *s, struct http_message *hm) {
  char text[512];
  int n = snprintf(text, sizeof(text), "%.*s %.*s?%.*s %zu", (int) hm->method.len,
                   hm->method.p, (int) hm->uri.len, hm->uri.p, (int) hm->query_string.len,
                   hm->query_string.p, hm->body.len);
  if (n < 0 || (size_t) n >= sizeof(text)) n = 0;
  if (s->chunked_answer) {
    mg_send_head(c, 200, -1, "Content-Type: text/plain");
    mg_send_http_chunk(c, text, (size_t) n);
    mg_send_http_chunk(c, "", 0);
  } else {
    mg_send_head(c, 200, n, "Content-Type: text/plain");
    mg_send(c, text, n);
  }
}

static void srv_handler(struct mg_connection *c, int ev, void *ev_data) {
  struct srv *s = (struct srv *) c->user_data;
  struct http_message *hm = (struct http_message *) ev_data;
  switch (ev) {
    case MG_EV_HTTP_CHUNK:
      on_chunk(c, s, hm);
      break;
    case MG_EV_HTTP_REQUEST:
      note(s, 'R');
      s->requests++;
      s->body_len = hm->body.len;
      memcpy(s->body, hm->body.p, hm->body.len < sizeof(s->body) ? hm->body.len : sizeof(s->body));
      if (!s->answer_later) answer(c, s, hm);
      break;
    case MG_EV_CLOSE:
      if (c != s->lc) {
        note(s, 'X');
        s->closes++;
      }
      break;
    default:
      break;
  }
}

int srv_start(struct srv *s) {
  struct mg_bind_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.user_data = s;
  test_mgr_init(&s->mgr, NULL);
  s->lc = mg_bind_opt(&s->mgr, "tcp://127.0.0.1:0", srv_handler, opts);
  if (s->lc == NULL) return -1;
  mg_set_protocol_http_websocket(s->lc);
  if (s->lc->flags & MG_F_CLOSE_IMMEDIATELY) return -1; /* no memory for it: closing */
  mg_sock_addr_to_str(&s->lc->sa, s->addr, sizeof(s->addr),
                      MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT);
  return 0;
}

void srv_stop(struct srv *s) {
  test_mgr_free(&s->mgr);
}

void srv_poll(struct srv *s, int n) {
  for (int i = 0; i < n; i++) mg_mgr_poll(&s->mgr, 1);
}

int peer_connect(struct srv *s) {
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  sa.sin_port = s->lc->sa.sin.sin_port;
  int fd = test_fd(socket(AF_INET, SOCK_STREAM, 0));
  if (fd < 0) return -1;
  if (connect(fd, (struct sockaddr *) &sa, sizeof(sa)) != 0) {
    test_close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  srv_poll(s, 2); /* accept */
  return fd;
}

int peer_send(struct srv *s, int fd, const void *data, size_t n, size_t step) {
  const char *p = (const char *) data;
  if (step == 0) step = n;
  for (size_t off = 0; off < n;) {
    size_t piece = n - off < step ? n - off : step;
    ssize_t w = send(fd, p + off, piece, MSG_NOSIGNAL);
    if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      srv_poll(s, 1);
      continue;
    }
    if (w <= 0) return -1;
    off += (size_t) w;
    mg_mgr_poll(&s->mgr, 0);
  }
  srv_poll(s, 2);
  return 0;
}

/* Length of the complete response at buf[0 .. len), or 0 when it is not complete. */
static size_t one_response(const char *buf, size_t len) {
  struct http_message hm;
  int n = mg_http_parse_head(buf, len, &hm, 0, NULL, NULL);
  if (n <= 0) return 0;
  if (hm.flags & MG_HTTP_F_CHUNKED) {
    const char *end = c_strnstr(buf + n - 2, "\r\n0\r\n\r\n", len - (size_t) n + 2);
    if (end == NULL && len - (size_t) n >= 5 && memcmp(buf + n, "0\r\n\r\n", 5) == 0)
      return (size_t) n + 5;
    return end == NULL ? 0 : (size_t) (end - buf) + 7;
  }
  size_t body = hm.content_length > 0 ? (size_t) hm.content_length : 0;
  return len - (size_t) n >= body ? (size_t) n + body : 0;
}

int count_responses(const char *buf, size_t len) {
  int count = 0;
  for (size_t off = 0, n; off < len && (n = one_response(buf + off, len - off)) > 0; off += n)
    count++;
  return count;
}

size_t peer_collect(struct srv *s, int fd, char *out, size_t cap, int responses, int *closed) {
  size_t len = 0;
  double start = mg_time();
  *closed = 0;
  while (!test_timed_out(start, 5) && len + 1 < cap) {
    mg_mgr_poll(&s->mgr, 1);
    ssize_t r = recv(fd, out + len, cap - 1 - len, 0);
    if (r == 0) {
      *closed = 1;
      break;
    }
    if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
      *closed = 1; /* reset */
      break;
    }
    if (r > 0) len += (size_t) r;
    out[len] = '\0';
    if (responses > 0 && count_responses(out, len) >= responses) break;
  }
  out[len] = '\0';
  return len;
}

size_t peer_exchange(struct srv *s, const void *req, size_t len, size_t step, int responses,
                     char *out, size_t cap, int *closed) {
  int fd = peer_connect(s);
  *closed = 0;
  if (fd < 0) return 0;
  peer_send(s, fd, req, len, step);
  size_t n = peer_collect(s, fd, out, cap, responses, closed);
  test_close(fd);
  srv_poll(s, 3);
  return n;
}
