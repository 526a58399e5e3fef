/* mg_serve_http and mg_http_serve_file over loopback (http_peer helpers): the exact head
 * of a file answer, HEAD, 304, 206/416, a body larger than the send window streamed with
 * a pipelined request behind it, listings, redirects, confinement, methods, and the
 * refusal of malformed extra headers. Runs under the sanitizer build too. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, symlink */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http_peer.h"
#include "mgio.h"
#include "test.h"

#define BIG_LEN (200u * 1024u) /* over the stream window (MG__HTTP_SEND_HIGH) */

static struct srv s_srv;
static char s_resp[1 << 19];
static char s_root[64];
static struct mg_serve_http_opts s_opts;
/* When s_file is set, requests go to mg_http_serve_file instead of mg_serve_http. */
static const char *s_file;
static struct mg_str s_file_mime, s_file_extra;

static void static_handler(struct mg_connection *c, int ev, void *ev_data) {
  if (ev != MG_EV_HTTP_REQUEST) return;
  struct http_message *hm = (struct http_message *) ev_data;
  if (s_file != NULL) {
    mg_http_serve_file(c, hm, s_file, s_file_mime, s_file_extra);
  } else {
    mg_serve_http(c, hm, s_opts);
  }
}

static int write_file(const char *rel, const void *data, size_t n) {
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", s_root, rel);
  FILE *f = fopen(path, "wb");
  if (f == NULL) return 0;
  int ok = fwrite(data, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

static unsigned char big_byte(size_t i) {
  return (unsigned char) (i * 7 % 251);
}

static int make_tree(void) {
  static unsigned char big[BIG_LEN];
  char path[256];
  snprintf(s_root, sizeof(s_root), "/tmp/mgio_static_XXXXXX");
  if (mkdtemp(s_root) == NULL) return 0;
  test_temp(s_root);
  for (size_t i = 0; i < BIG_LEN; i++) big[i] = big_byte(i);
  snprintf(path, sizeof(path), "%s/d", s_root);
  if (mkdir(path, 0755) != 0) return 0;
  snprintf(path, sizeof(path), "%s/d/sub", s_root);
  if (mkdir(path, 0755) != 0) return 0;
  snprintf(path, sizeof(path), "%s/d/out", s_root);
  if (symlink("/etc", path) != 0) return 0;
  return write_file("a.txt", "hello world\n", 12) && write_file("big.bin", big, BIG_LEN) &&
         write_file("d/<b>&x.txt", "x", 1) && write_file("d/.htpasswd", "u:r:h\n", 6);
}

static void teardown(void) {
  srv_stop(&s_srv);
  if (s_root[0] != '\0') test_remove_tree(s_root);
  s_root[0] = '\0';
}

static void deferred_teardown(void *unused) {
  (void) unused;
  teardown();
}

/* Starts the server over a fresh tree with default options; torn down after the test
 * at the latest. */
static int setup(void) {
  test_defer(deferred_teardown, NULL);
  memset(&s_srv, 0, sizeof(s_srv));
  memset(&s_opts, 0, sizeof(s_opts));
  s_file = NULL;
  if (!make_tree() || srv_start(&s_srv) != 0) return 0;
  s_srv.lc->handler = static_handler;
  s_opts.document_root = s_root;
  return 1;
}

/* Sends `req` on a new connection and collects `responses` answers (0: until close). */
static size_t ask(const char *req, int responses, int *closed) {
  int fd = peer_connect(&s_srv);
  if (fd < 0) return 0;
  peer_send(&s_srv, fd, req, strlen(req), 0);
  size_t n = peer_collect(&s_srv, fd, s_resp, sizeof(s_resp), responses, closed);
  test_close(fd);
  srv_poll(&s_srv, 3);
  return n;
}

/* The answer to "GET <target>" with Connection: close. */
static size_t get(const char *method, const char *target, const char *fields) {
  char req[512];
  int closed;
  snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: h\r\n%sConnection: close\r\n\r\n",
           method, target, fields);
  return ask(req, 0, &closed);
}

static int status_is(int code) {
  char want[16];
  snprintf(want, sizeof(want), "HTTP/1.1 %d ", code);
  int ok = strncmp(s_resp, want, strlen(want)) == 0;
  if (!ok) fprintf(stderr, "want %d, got: %.80s\n", code, s_resp);
  return ok;
}

/* 1 when the answer is 404 or 400 (both refuse a target; which one depends on why). */
static int refused(void) {
  return strncmp(s_resp, "HTTP/1.1 404 ", 13) == 0 || strncmp(s_resp, "HTTP/1.1 400 ", 13) == 0;
}

/* The body after the blank line. */
static const char *body_of(void) {
  const char *p = strstr(s_resp, "\r\n\r\n");
  return p == NULL ? "" : p + 4;
}

TEST(static_serve_file_head_fields) {
  CHECK(setup());
  size_t n = get("GET", "/a.txt", "");
  CHECK(status_is(200));
  const char *order[] = {"\r\nServer: mgio\r\nDate: ", "\r\nLast-Modified: ",
                         ("\r\nAccept-Ranges: bytes\r\nContent-Type: text/plain\r\n"
                          "Connection: close\r\nContent-Length: 12\r\nETag: \"")};
  const char *at = s_resp;
  for (size_t i = 0; i < 3; i++) {
    const char *p = strstr(at, order[i]);
    CHECK(p != NULL);
    at = p;
  }
  CHECK(n > 12 && memcmp(s_resp + n - 16, "\r\n\r\nhello world\n", 16) == 0);
  teardown();
}

TEST(static_serve_head_and_not_modified) {
  CHECK(setup());
  get("HEAD", "/a.txt", "");
  CHECK(status_is(200));
  CHECK(strstr(s_resp, "Content-Length: 12\r\n") != NULL);
  CHECK(*body_of() == '\0');
  char etag[64], fields[128];
  const char *e = strstr(s_resp, "ETag: ");
  CHECK(e != NULL && sscanf(e, "ETag: %63s", etag) == 1);
  snprintf(fields, sizeof(fields), "If-None-Match: %s\r\n", etag);
  get("GET", "/a.txt", fields);
  CHECK(status_is(304));
  CHECK(strstr(s_resp, "Content-Length") == NULL && *body_of() == '\0');
  get("GET", "/a.txt", "If-Modified-Since: Fri, 31 Dec 9999 23:59:59 GMT\r\n");
  CHECK(status_is(304));
  get("GET", "/a.txt", "If-Modified-Since: Thu, 01 Jan 1970 00:00:00 GMT\r\n");
  CHECK(status_is(200));
  teardown();
}

TEST(static_serve_ranges) {
  CHECK(setup());
  get("GET", "/a.txt", "Range: bytes=6-\r\n");
  CHECK(status_is(206));
  CHECK(strstr(s_resp, "Content-Range: bytes 6-11/12\r\n") != NULL);
  CHECK(strcmp(body_of(), "world\n") == 0);
  get("GET", "/a.txt", "Range: bytes=12-\r\n");
  CHECK(status_is(416));
  CHECK(strstr(s_resp, "Content-Range: bytes */12\r\n") != NULL);
  CHECK(strstr(s_resp, "Content-Length: 0\r\n") != NULL && *body_of() == '\0');
  get("HEAD", "/a.txt", "Range: bytes=0-1\r\n"); /* Range is for GET only */
  CHECK(status_is(200));
  teardown();
}

/* A body larger than the window is pumped as the socket drains; the pipelined request
 * behind it waits and is answered after it, in order. */
TEST(static_serve_streams_then_pipelined) {
  CHECK(setup());
  int closed;
  size_t n = ask("GET /big.bin HTTP/1.1\r\nHost: h\r\n\r\n"
                 "GET /a.txt HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n",
                 2, &closed);
  const char *body = body_of();
  CHECK(status_is(200));
  size_t off = (size_t) (body - s_resp);
  CHECK(n > off + BIG_LEN);
  for (size_t i = 0; i < BIG_LEN; i++) CHECK((unsigned char) body[i] == big_byte(i));
  CHECK(strncmp(body + BIG_LEN, "HTTP/1.1 200 OK\r\n", 17) == 0);
  CHECK(memcmp(s_resp + n - 12, "hello world\n", 12) == 0);
  teardown();
}

TEST(static_serve_listing_and_redirect) {
  CHECK(setup());
  get("GET", "/d/", "");
  CHECK(status_is(200));
  CHECK(strstr(s_resp, "Transfer-Encoding: chunked\r\n") != NULL);
  CHECK(strstr(s_resp, "&lt;b&gt;&amp;x.txt") != NULL);
  CHECK(strstr(s_resp, "<b>&x") == NULL);
  CHECK(strstr(s_resp, "href=\"sub/\"") != NULL);
  CHECK(strstr(s_resp, "htpasswd") == NULL);
  CHECK(strstr(s_resp, "href=\"out/\"") == NULL); /* a symlink out of the root */
  CHECK(strstr(s_resp, "\r\n0\r\n\r\n") != NULL);
  get("GET", "/d?q=1", "");
  CHECK(status_is(301));
  CHECK(strstr(s_resp, "\r\nLocation: /d/?q=1\r\n") != NULL);
  s_opts.enable_directory_listing = "no";
  get("GET", "/d/", "");
  CHECK(status_is(403));
  teardown();
}

TEST(static_serve_confinement) {
  CHECK(setup());
  const char *targets[] = {"/../a.txt", "/%2e%2e/%2e%2e/etc/passwd", "/d/out/passwd",
                           "/d/..%2f..%2fetc", "/a.txt%00", "/d/.htpasswd", "/d/.HtPasswd",
                           "/nope", "/a%zz"};
  for (size_t i = 0; i < sizeof(targets) / sizeof(targets[0]); i++) {
    get("GET", targets[i], "");
    /* "/../a.txt" is "/a.txt" once normalised: inside the root, so served */
    CHECK(i == 0 ? status_is(200) : refused());
  }
  s_opts.hidden_file_pattern = "a.t*$";
  get("GET", "/a.txt", "");
  CHECK(status_is(404));
  teardown();
}

TEST(static_serve_methods) {
  CHECK(setup());
  get("POST", "/a.txt", "Content-Length: 0\r\n");
  CHECK(status_is(405));
  CHECK(strstr(s_resp, "\r\nAllow: GET, HEAD, OPTIONS\r\n") != NULL);
  get("BREW", "/a.txt", "");
  CHECK(status_is(501));
  get("OPTIONS", "/a.txt", "");
  CHECK(status_is(200));
  CHECK(strstr(s_resp, "\r\nAllow: GET, HEAD, OPTIONS\r\n") != NULL);
  s_opts.global_auth_file = "/nonexistent";
  get("GET", "/a.txt", "");
  CHECK(status_is(500) && strcmp(body_of(), "auth not available") == 0);
  teardown();
}

TEST(static_serve_file_api) {
  CHECK(setup());
  char path[128];
  snprintf(path, sizeof(path), "%s/a.txt", s_root);
  s_file = path;
  s_file_mime = mg_mk_str("application/x-test");
  s_file_extra = mg_mk_str("X-A: b\r\n");
  get("GET", "/whatever", "");
  CHECK(status_is(200));
  CHECK(strstr(s_resp, "\r\nServer: mgio\r\nX-A: b\r\nDate: ") != NULL);
  CHECK(strstr(s_resp, "\r\nContent-Type: application/x-test\r\n") != NULL);
  s_file_mime = mg_mk_str_n(NULL, 0); /* empty: by extension */
  get("GET", "/whatever", "");
  CHECK(strstr(s_resp, "\r\nContent-Type: text/plain\r\n") != NULL);
  snprintf(path, sizeof(path), "%s/missing", s_root);
  get("GET", "/", "");
  CHECK(status_is(404) && strstr(s_resp, "\r\nX-A: b\r\n") != NULL);
  snprintf(path, sizeof(path), "%s/d", s_root);
  get("GET", "/", "");
  CHECK(status_is(403));
  /* malformed extra headers: nothing is sent, the connection closes */
  snprintf(path, sizeof(path), "%s/a.txt", s_root);
  s_file_extra = mg_mk_str("X-A: b\r\n\r\nHTTP/1.1 200 OK");
  size_t n = get("GET", "/", "");
  CHECK(n == 0);
  s_file_extra = mg_mk_str("X-A: b");
  s_file_mime = mg_mk_str("text/plain\r\nX-Evil: 1");
  n = get("GET", "/", "");
  CHECK(n == 0);
  teardown();
}
