/*
 * libFuzzer target: a whole manager serving one connection over a socket pair, with the
 * HTTP server, WebSocket and streaming multipart on it (csrc/net, csrc/http).
 * Input: a settings byte (bit 0: delete every chunk, bit 1: small limits, bit 2: take
 * only part of each multipart data offer, bit 3: answer WebSocket messages), then the
 * bytes the peer sends. The byte 0xFE splits them into writes (0xFE 0xFE is one 0xFE
 * byte); the manager is polled a bounded number of times after each write, what it
 * sends back is read and dropped, then the peer closes. The server connection believes
 * it was accepted by a real HTTP listener, so endpoints apply: /upload gets multipart
 * events, /static/ is served from a small folder, anything else is answered with its
 * body length; a WebSocket upgrade anywhere is accepted and echoed.
 * Invariants: no sanitizer report, no memory leak (libFuzzer's leak check per input)
 * and no descriptor left open after mg_mgr_free.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MARKER 0xfe
#define POLLS_PER_WRITE 3
#define SETTLE_POLLS 6

struct run {
  unsigned settings;
  char root[64]; /* the static folder */
};

static struct run g_run;

static int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  FUZZ_CHECK(d != NULL);
  while (readdir(d) != NULL) n++;
  closedir(d);
  return n;
}

static void remove_root(void) {
  char path[96];
  snprintf(path, sizeof(path), "%s/a.txt", g_run.root);
  unlink(path);
  rmdir(g_run.root);
}

/* A folder with one file, made once per process. */
static void make_root(void) {
  char path[96];
  if (g_run.root[0] != '\0') return;
  snprintf(g_run.root, sizeof(g_run.root), "/tmp/mgio-fuzz-XXXXXX");
  FUZZ_CHECK(mkdtemp(g_run.root) != NULL);
  snprintf(path, sizeof(path), "%s/a.txt", g_run.root);
  FILE *f = fopen(path, "w");
  FUZZ_CHECK(f != NULL);
  fputs("static file\n", f);
  fclose(f);
  atexit(remove_root);
}

static void on_part(struct mg_connection *c, int ev, void *ev_data) {
  struct mg_http_multipart_part *mp = (struct mg_http_multipart_part *) ev_data;
  if (ev == MG_EV_HTTP_PART_DATA && (g_run.settings & 4) && mp->data.len > 1) {
    mp->num_data_consumed = mp->data.len / 2;
  }
  if (ev == MG_EV_HTTP_MULTIPART_REQUEST_END) {
    mg_send_head(c, mp->status == 0 ? 200 : 400, 0, NULL);
  }
}

static void upload_endpoint(struct mg_connection *c, int ev, void *ev_data) {
  if (ev >= MG_EV_HTTP_PART_BEGIN && ev <= MG_EV_HTTP_MULTIPART_REQUEST_END) {
    on_part(c, ev, ev_data);
  } else if (ev == MG_EV_HTTP_REQUEST) {
    mg_http_send_error(c, 405, NULL);
  }
}

static void on_request(struct mg_connection *c, struct http_message *hm) {
  if (hm->uri.len >= 8 && memcmp(hm->uri.p, "/static/", 8) == 0) {
    struct mg_serve_http_opts opts;
    memset(&opts, 0, sizeof(opts));
    opts.document_root = g_run.root;
    opts.enable_directory_listing = "yes";
    mg_serve_http(c, hm, opts);
    return;
  }
  mg_send_head(c, 200, (int64_t) hm->body.len, "Content-Type: text/plain");
  mg_send(c, hm->body.p, (int) hm->body.len);
}

static void server(struct mg_connection *c, int ev, void *ev_data) {
  switch (ev) {
    case MG_EV_HTTP_REQUEST:
      on_request(c, (struct http_message *) ev_data);
      break;
    case MG_EV_HTTP_CHUNK:
      if (g_run.settings & 1) c->flags |= MG_F_DELETE_CHUNK;
      break;
    case MG_EV_WEBSOCKET_FRAME:
      if (g_run.settings & 8) {
        struct websocket_message *wm = (struct websocket_message *) ev_data;
        mg_send_websocket_frame(c, wm->flags & 0x0f, wm->data, wm->size);
      }
      break;
    default:
      if (ev >= MG_EV_HTTP_PART_BEGIN && ev <= MG_EV_HTTP_MULTIPART_REQUEST_END)
        on_part(c, ev, ev_data);
      break;
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
  FUZZ_CHECK(mg_http_set_limits(c, &lim) == 0);
}

/* Reads and drops what the server sent. */
static void drain(int fd) {
  char buf[4096];
  while (recv(fd, buf, sizeof(buf), MSG_DONTWAIT) > 0) {
  }
}

static void poll_some(struct mg_mgr *mgr, int fd, int times) {
  for (int i = 0; i < times; i++) {
    mg_mgr_poll(mgr, 0);
    drain(fd);
  }
}

/* Sends p[0 .. n) (polling while the pair is full); 0, or -1 once the server closed. */
static int send_piece(struct mg_mgr *mgr, int fd, const uint8_t *p, size_t n) {
  for (int tries = 0; n > 0 && tries < 64; tries++) {
    ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return -1;
    if (w > 0) {
      p += w;
      n -= (size_t) w;
    }
    poll_some(mgr, fd, 1);
  }
  poll_some(mgr, fd, POLLS_PER_WRITE);
  return 0;
}

/* The next write: bytes up to a lone marker, with doubled markers made single. */
static size_t next_write(struct fuzz_input *in, uint8_t *out) {
  size_t k = 0;
  while (in->n > 0) {
    uint8_t c = fuzz_take_byte(in);
    if (c == MARKER) {
      if (in->n == 0 || in->p[0] != MARKER) break;
      fuzz_take_byte(in);
    }
    out[k++] = c;
  }
  return k;
}

static struct mg_connection *serve_pair(struct mg_mgr *mgr, int sock) {
  struct mg_connection *lc = mg_bind(mgr, "tcp://127.0.0.1:0", server);
  FUZZ_CHECK(lc != NULL);
  mg_set_protocol_http_websocket(lc);
  mg_register_http_endpoint(lc, "/upload", upload_endpoint);
  struct mg_connection *c = mg_add_sock(mgr, sock, server);
  FUZZ_CHECK(c != NULL);
  c->listener = lc; /* as if accepted by lc: a server connection that sees its endpoints */
  mg_set_protocol_http_websocket(c);
  if (g_run.settings & 2) small_limits(c);
  return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_input in = {data, size};
  struct mg_mgr mgr;
  sock_t sp[2];
  make_root();
  int fds_before = count_fds();
  g_run.settings = fuzz_take_byte(&in);
  mg_mgr_init(&mgr, NULL);
  FUZZ_CHECK(mg_socketpair(sp, SOCK_STREAM) == 1);
  serve_pair(&mgr, sp[0]);
  uint8_t *piece = (uint8_t *) malloc(in.n + 1);
  FUZZ_CHECK(piece != NULL);
  while (in.n > 0) {
    size_t n = next_write(&in, piece);
    if (send_piece(&mgr, sp[1], piece, n) != 0) break;
  }
  free(piece);
  shutdown(sp[1], SHUT_WR); /* the peer is done sending: the server sees EOF */
  poll_some(&mgr, sp[1], SETTLE_POLLS);
  close(sp[1]);
  poll_some(&mgr, -1, 2);
  mg_mgr_free(&mgr);
  FUZZ_CHECK(count_fds() == fds_before);
  return 0;
}
