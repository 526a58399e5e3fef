/*
 * Allocation-heavy scenarios for the torture runner (tests/allocfail/main.c): each
 * cleans up whatever failed, checks with ALWAYS what must hold even when an allocation
 * failed, and with CHECK, after its cleanup, that it really did its work when nothing
 * failed. Only built into test_allocfail (a subfolder, outside test_c's wildcard).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "alloc_fail.h"
#include "http_peer.h"
#include "pair_server.h"
#include "test.h"

#define COLLECT_POLLS 20

static char out[1 << 16];

/* mbuf: growth in odd steps, inserts, resize and trim; a failed call changes nothing. */
TEST(af_mbuf_growth) {
  static char piece[700];
  struct mbuf m;
  int all_ok = 1;
  memset(piece, 'x', sizeof(piece));
  mbuf_init(&m, 0);
  for (size_t i = 0; i < 24; i++) {
    size_t n = 1 + i * 97 % sizeof(piece), before = m.len;
    size_t r = i % 3 == 0 ? mbuf_insert(&m, before / 2, piece, n) : mbuf_append(&m, piece, n);
    ALWAYS(r == n || (r == 0 && m.len == before));
    all_ok &= r == n;
  }
  size_t len = m.len;
  mbuf_resize(&m, len + 5000);
  ALWAYS(m.len == len);
  mbuf_trim(&m);
  ALWAYS(m.len == len && (len == 0 || memchr(m.buf, 'x', 1) != NULL));
  mbuf_free(&m);
  CHECK(all_ok);
}

/* Sends `req` and collects what comes back into `out`; returns its length. */
static size_t exchange(struct pair_server *s, const char *req, size_t n) {
  size_t len = 0;
  if (pair_server_send(s, req, n) == 0) pair_server_poll(s, COLLECT_POLLS, out, sizeof(out) - 1, &len);
  out[len] = '\0';
  return len;
}

/* Every answer is a whole response (a connection may close early, never mid-head). */
static int well_formed(const char *buf, size_t len) {
  return len == 0 || strncmp(buf, "HTTP/1.1 ", 9) == 0;
}

static void http_requests(unsigned settings, int *answers) {
  static const char req[] =
      "GET /a?x=1 HTTP/1.1\r\nHost: h\r\n\r\n"
      "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world"
      "PUT /c HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;e=1\r\nhello\r\n0\r\nT: x\r\n\r\n"
      "POST /e HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc"
      "GET /bad HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n";
  struct pair_server s;
  memset(&s, 0, sizeof(s));
  s.settings = settings;
  size_t len = pair_server_start(&s) == 0 ? exchange(&s, req, sizeof(req) - 1) : 0;
  ALWAYS(well_formed(out, len));
  *answers = count_responses(out, len);
  pair_server_stop(&s);
}

/* Pipelined requests with both body framings, 100-continue and a bad request (400). */
TEST(af_http_requests) {
  int kept, streamed;
  http_requests(0, &kept);
  http_requests(PAIR_DELETE_CHUNKS, &streamed);
  CHECK(kept == 5 && streamed == 5); /* no 100 Continue: the body came with the head */
}

/* Bodies large enough to grow the buffers many times: 200 KB with Content-Length and
 * chunked, kept whole and streamed. */
static void big_body(unsigned settings, int chunked, int *ok) {
  const size_t n = 200000;
  char *req = (char *) malloc(n + 256);
  struct pair_server s;
  size_t len = 0, k = 0;
  *ok = 0;
  memset(&s, 0, sizeof(s));
  s.settings = settings;
  if (req == NULL) return;
  k = (size_t) sprintf(req, chunked ? "POST /b HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked"
                                      "\r\n\r\n%zx\r\n" : "POST /b HTTP/1.1\r\nHost: h\r\n"
                                      "Content-Length: %zu\r\n\r\n", n);
  memset(req + k, 'z', n);
  k += n;
  if (chunked) k += (size_t) sprintf(req + k, "\r\n0\r\n\r\n");
  if (pair_server_start(&s) == 0 && pair_server_send(&s, req, k) == 0)
    pair_server_poll(&s, COLLECT_POLLS, out, sizeof(out) - 1, &len);
  out[len] = '\0';
  ALWAYS(well_formed(out, len));
  *ok = strncmp(out, "HTTP/1.1 200 OK", 15) == 0 && s.requests == 1; /* the echo overflows out */
  pair_server_stop(&s);
  free(req);
}

TEST(af_http_big_bodies) {
  int ok[4];
  for (int i = 0; i < 4; i++) big_body(i & 1 ? PAIR_DELETE_CHUNKS : 0, i >> 1, &ok[i]);
  CHECK(ok[0] && ok[1] && ok[2] && ok[3]);
}

/* The base helpers that allocate: URL encoding, URI assembly, mg_asprintf past its
 * buffer, mg_strdup, header parameters past the caller's buffer, a glob over a long
 * string. Each failure must come back as the documented failure value. */
TEST(af_base_helpers) {
  static char long_str[600];
  char small[4], *buf = small, *p = small;
  int ok = 1;
  struct mg_str e = mg_url_encode(mg_mk_str("a b/c?d"));
  ALWAYS(e.p != NULL || e.len == 0);
  ok &= e.p != NULL && strcmp(e.p, "a%20b/c%3fd") == 0;
  free((void *) e.p);
  struct mg_str scheme = mg_mk_str("http"), host = mg_mk_str("h"), path = mg_mk_str("/a/../b"), uri;
  int r = mg_assemble_uri(&scheme, NULL, &host, 80, &path, NULL, NULL, 1, &uri);
  ALWAYS(r == 0 || (r == -1 && uri.p == NULL));
  ok &= r == 0 && strcmp(uri.p, "http://h:80/b") == 0;
  free((void *) uri.p);
  r = mg_asprintf(&p, sizeof(small), "%s-%d", "longer than four", 42);
  ALWAYS(r == -1 || p != small);
  ok &= r == 19;
  if (p != small) free(p);
  struct mg_str d = mg_strdup_nul(mg_mk_str("dup"));
  ok &= d.p != NULL;
  mg_strfree(&d);
  struct mg_str hdr = mg_mk_str("form-data; name=\"a long name\"");
  r = mg_http_parse_header2(&hdr, "name", &buf, sizeof(small));
  ALWAYS(r == 0 || buf != small);
  ok &= r == 11;
  if (buf != small) free(buf);
  memset(long_str, 'a', sizeof(long_str) - 1);
  ok &= mg_match_prefix_n(mg_mk_str("**a$"), mg_mk_str(long_str)) == sizeof(long_str) - 1;
  CHECK(ok);
}

/* A masked client frame of `n` payload bytes into f; returns its length. */
static size_t client_frame(unsigned char *f, int first, const void *payload, size_t n) {
  static const unsigned char mask[4] = {1, 2, 3, 4};
  size_t k = 0;
  f[k++] = (unsigned char) first;
  if (n < 126) {
    f[k++] = (unsigned char) (0x80 | n);
  } else {
    f[k++] = 0x80 | 126;
    f[k++] = (unsigned char) (n >> 8);
    f[k++] = (unsigned char) n;
  }
  memcpy(f + k, mask, 4);
  k += 4;
  for (size_t i = 0; i < n; i++) f[k + i] = ((const unsigned char *) payload)[i] ^ mask[i & 3];
  return k + n;
}

/* `text` raw-deflated as permessage-deflate sends it (without 00 00 FF FF). */
static size_t deflated(const char *text, unsigned char *dst, size_t cap) {
  z_stream z;
  memset(&z, 0, sizeof(z));
  if (deflateInit2(&z, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
  z.next_in = (unsigned char *) (uintptr_t) text;
  z.avail_in = (uInt) strlen(text);
  z.next_out = dst;
  z.avail_out = (uInt) cap;
  deflate(&z, Z_SYNC_FLUSH);
  size_t n = cap - z.avail_out;
  deflateEnd(&z);
  return n >= 4 ? n - 4 : 0;
}

static size_t ws_session(unsigned char *buf) {
  static const char upgrade[] =
      "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n";
  static char big[300];
  unsigned char z[128];
  size_t n = sizeof(upgrade) - 1, zn = deflated("compressed hello hello hello", z, sizeof(z));
  memcpy(buf, upgrade, n);
  memset(big, 'b', sizeof(big));
  n += client_frame(buf + n, 0x81, "hello", 5);
  n += client_frame(buf + n, 0x82, big, sizeof(big));
  n += client_frame(buf + n, 0x01, "frag", 4);
  n += client_frame(buf + n, 0x89, "ping", 4);
  n += client_frame(buf + n, 0x80, "ment", 4);
  n += client_frame(buf + n, 0xc1, z, zn);
  n += client_frame(buf + n, 0x88, "\x03\xe8" "bye", 5);
  return n;
}

/* Upgrade with permessage-deflate, messages of each length form, fragments, a ping, a
 * compressed message, the closing handshake; every message echoed (compressed). */
TEST(af_websocket) {
  static unsigned char req[1024];
  struct pair_server s;
  size_t n = ws_session(req), len = 0;
  memset(&s, 0, sizeof(s));
  s.settings = PAIR_WS_ECHO;
  if (pair_server_start(&s) == 0) len = exchange(&s, (const char *) req, n);
  ALWAYS(well_formed(out, len));
  int upgraded = strstr(out, "101 Switching Protocols") != NULL;
  int frames = s.ws_frames;
  pair_server_stop(&s);
  CHECK(upgraded && frames == 4);
}

static void multipart_upload(unsigned settings, int chunked, int *ok, int *parts) {
  static const char body[] =
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nvalue one\r\n"
      "--XyZ\r\nContent-Disposition: form-data; name=\"f\"; filename=\"x.txt\"\r\n"
      "Content-Type: text/plain\r\n\r\nfile data file data\r\n--XyZ--\r\n";
  char req[1024];
  int n = chunked ? snprintf(req, sizeof(req),
                             "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; "
                             "boundary=XyZ\r\nTransfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
                             sizeof(body) - 1, body)
                  : snprintf(req, sizeof(req),
                             "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Type: multipart/form-data; "
                             "boundary=XyZ\r\nContent-Length: %zu\r\n\r\n%s",
                             sizeof(body) - 1, body);
  struct pair_server s;
  size_t len = 0;
  memset(&s, 0, sizeof(s));
  s.settings = settings;
  if (pair_server_start(&s) == 0) len = exchange(&s, req, (size_t) n);
  ALWAYS(well_formed(out, len));
  *ok = strncmp(out, "HTTP/1.1 200", 12) == 0;
  *parts = s.parts_ended;
  pair_server_stop(&s);
}

/* Streaming multipart with Content-Length and chunked bodies, data taken whole and in
 * halves. */
TEST(af_multipart) {
  int ok1, ok2, parts1, parts2;
  multipart_upload(0, 0, &ok1, &parts1);
  multipart_upload(PAIR_PARTIAL_PARTS, 1, &ok2, &parts2);
  CHECK(ok1 && ok2 && parts1 == 2 && parts2 == 2);
}

static void make_root(char *root, size_t cap) {
  char path[128];
  snprintf(root, cap, "/tmp/mgio-allocfail-XXXXXX");
  if (mkdtemp(root) == NULL) return;
  snprintf(path, sizeof(path), "%s/static", root); /* the URI path is joined whole */
  mkdir(path, 0755);
  snprintf(path, sizeof(path), "%s/static/a.txt", root);
  FILE *f = fopen(path, "w");
  if (f != NULL) {
    fputs("static file contents\n", f);
    fclose(f);
  }
  snprintf(path, sizeof(path), "%s/static/sub", root);
  mkdir(path, 0755);
}

/* Static files: a file, HEAD, a range, a conditional request, a listing, a miss. */
TEST(af_static_files) {
  static const char req[] =
      "GET /static/a.txt HTTP/1.1\r\nHost: h\r\n\r\n"
      "HEAD /static/a.txt HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /static/a.txt HTTP/1.1\r\nHost: h\r\nRange: bytes=2-5\r\n\r\n"
      "GET /static/a.txt HTTP/1.1\r\nHost: h\r\nIf-Modified-Since: Sun, 06 Nov 2033 08:49:37 GMT\r\n\r\n"
      "GET /static/ HTTP/1.1\r\nHost: h\r\n\r\n"
      "GET /static/missing HTTP/1.1\r\nHost: h\r\n\r\n";
  char root[64];
  struct pair_server s;
  size_t len = 0;
  make_root(root, sizeof(root));
  memset(&s, 0, sizeof(s));
  s.root = root;
  if (pair_server_start(&s) == 0) len = exchange(&s, req, sizeof(req) - 1);
  ALWAYS(well_formed(out, len));
  int found = strstr(out, "206 Partial") != NULL && strstr(out, "304 Not Modified") != NULL &&
              strstr(out, "404 Not Found") != NULL && strstr(out, "sub/") != NULL;
  pair_server_stop(&s);
  test_remove_tree(root);
  CHECK(found);
}

static void client_handler(struct mg_connection *c, int ev, void *ev_data) {
  int *status = (int *) c->user_data;
  if (ev == MG_EV_HTTP_REPLY) {
    *status = ((struct http_message *) ev_data)->resp_code;
    c->flags |= MG_F_CLOSE_IMMEDIATELY;
  }
}

/* The HTTP client (mg_connect_http) against the same manager's listener over TCP. */
TEST(af_http_client) {
  struct pair_server s;
  int status = 0;
  char url[96], addr[64];
  memset(&s, 0, sizeof(s));
  if (pair_server_start(&s) == 0) {
    mg_conn_addr_to_str(s.lc, addr, sizeof(addr), MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT);
    snprintf(url, sizeof(url), "http://%s/client?q=1", addr);
    struct mg_connection *c = mg_connect_http(&s.mgr, client_handler, url, "X-A: b\r\n", "body");
    if (c != NULL) c->user_data = &status;
    for (int i = 0; i < 2 * COLLECT_POLLS && status == 0 && c != NULL; i++) mg_mgr_poll(&s.mgr, 1);
  }
  pair_server_stop(&s);
  CHECK(status == 200);
}
