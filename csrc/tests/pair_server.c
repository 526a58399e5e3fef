/* A server connection over a socket pair; see pair_server.h. */
#define _POSIX_C_SOURCE 200809L
#include "pair_server.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define SEND_TRIES 64
#define STOP_POLLS 6

static void on_part(struct mg_connection *c, struct pair_server *s, int ev,
                    struct mg_http_multipart_part *mp) {
  if (ev == MG_EV_HTTP_PART_DATA && (s->settings & PAIR_PARTIAL_PARTS) && mp->data.len > 1)
    mp->num_data_consumed = mp->data.len / 2;
  if (ev == MG_EV_HTTP_PART_END) s->parts_ended++;
  /* a failed stream (-1) was already answered by the library */
  if (ev == MG_EV_HTTP_MULTIPART_REQUEST_END && mp->status == 0) mg_send_head(c, 200, 0, NULL);
}

static int is_part_event(int ev) {
  return ev >= MG_EV_HTTP_PART_BEGIN && ev <= MG_EV_HTTP_MULTIPART_REQUEST_END;
}

static void upload_endpoint(struct mg_connection *c, int ev, void *ev_data) {
  struct pair_server *s = (struct pair_server *) c->user_data;
  if (is_part_event(ev)) on_part(c, s, ev, (struct mg_http_multipart_part *) ev_data);
  if (ev == MG_EV_HTTP_REQUEST) mg_http_send_error(c, 405, NULL);
}

static void on_request(struct mg_connection *c, struct pair_server *s, struct http_message *hm) {
  s->requests++;
  if (s->root != NULL && hm->uri.len >= 8 && memcmp(hm->uri.p, "/static/", 8) == 0) {
    struct mg_serve_http_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.document_root = s->root;
    opts.enable_directory_listing = "yes";
    mg_serve_http(c, hm, opts);
    return;
  }
  mg_send_head(c, 200, (int64_t) hm->body.len, "Content-Type: text/plain");
  mg_send(c, hm->body.p, (int) hm->body.len);
}

static void handler(struct mg_connection *c, int ev, void *ev_data) {
  struct pair_server *s = (struct pair_server *) c->user_data;
  if (ev == MG_EV_HTTP_REQUEST) on_request(c, s, (struct http_message *) ev_data);
  if (ev == MG_EV_HTTP_CHUNK && (s->settings & PAIR_DELETE_CHUNKS)) c->flags |= MG_F_DELETE_CHUNK;
  if (is_part_event(ev)) on_part(c, s, ev, (struct mg_http_multipart_part *) ev_data);
  if (ev == MG_EV_WEBSOCKET_FRAME) {
    struct websocket_message *wm = (struct websocket_message *) ev_data;
    s->ws_frames++;
    if (s->settings & PAIR_WS_ECHO) mg_send_websocket_frame(c, wm->flags & 0x0f, wm->data, wm->size);
  }
}

static void small_limits(struct mg_connection *c) {
  struct mg_http_limits lim = mg_http_default_limits();
  lim.request_line = 64;
  lim.header_section = 512;
  lim.max_headers = 8;
  lim.field_line = 128;
  lim.body = 256;
  lim.ws_message = 64;
  lim.ws_fragments = 4;
  mg_http_set_limits(c, &lim);
}

int pair_server_start(struct pair_server *s) {
  struct mg_bind_opts opts;
  sock_t sp[2];
  s->peer = s->server_sock = -1;
  mg_mgr_init(&s->mgr, NULL);
  memset(&opts, 0, sizeof(opts));
  opts.user_data = s;
  s->lc = mg_bind_opt(&s->mgr, "tcp://127.0.0.1:0", handler, opts);
  if (s->lc == NULL || !mg_socketpair(sp, SOCK_STREAM)) return -1;
  s->server_sock = sp[0];
  s->peer = sp[1];
  mg_set_protocol_http_websocket(s->lc);
  mg_register_http_endpoint(s->lc, "/upload", upload_endpoint);
  s->c = mg_add_sock(&s->mgr, sp[0], handler);
  if (s->c == NULL) return -1;
  s->server_sock = -1; /* the manager closes it now */
  s->c->user_data = s;
  s->c->listener = s->lc; /* as if lc accepted it: a server connection with endpoints */
  mg_set_protocol_http_websocket(s->c);
  if (s->settings & PAIR_SMALL_LIMITS) small_limits(s->c);
  return 0;
}

void pair_server_poll(struct pair_server *s, int times, char *out, size_t cap, size_t *len) {
  char scratch[4096];
  for (int i = 0; i < times; i++) {
    mg_mgr_poll(&s->mgr, 0);
    for (;;) {
      int room = out != NULL && *len < cap;
      char *to = room ? out + *len : scratch;
      ssize_t r = s->peer < 0 ? -1 : recv(s->peer, to, room ? cap - *len : sizeof(scratch), MSG_DONTWAIT);
      if (r <= 0) break;
      if (room) *len += (size_t) r;
    }
  }
}

int pair_server_send(struct pair_server *s, const void *data, size_t n) {
  const char *p = (const char *) data;
  for (int tries = 0; n > 0 && tries < SEND_TRIES; tries++) {
    ssize_t w = send(s->peer, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (w > 0) {
      p += w;
      n -= (size_t) w;
    }
    mg_mgr_poll(&s->mgr, 0); /* the server reads (and what it answers waits in the pair) */
  }
  return n == 0 ? 0 : -1;
}

void pair_server_stop(struct pair_server *s) {
  size_t none = 0;
  if (s->peer >= 0) {
    shutdown(s->peer, SHUT_WR); /* the server sees EOF and finishes */
    pair_server_poll(s, STOP_POLLS, NULL, 0, &none);
    close(s->peer);
    s->peer = -1;
  }
  if (s->server_sock >= 0) close(s->server_sock);
  s->server_sock = -1;
  mg_mgr_free(&s->mgr);
}
