/* Digest authentication over loopback (http_peer helpers): endpoints registered with an
 * auth_file (401, then success with the right header; nothing reaches the endpoint on
 * failure) and mg_serve_http's global and per-directory password files. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, symlink */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../http/auth.h"
#include "../proto/auth.h"
#include "http_peer.h"
#include "mgio.h"
#include "nonce_clock.h"
#include "test.h"

static char s_resp[1 << 16];
static int s_closed;

/* Sends `req` on a new connection and collects `responses` answers (0: until close). */
static size_t talk(struct srv *s, const char *req, int responses) {
  int fd = peer_connect(s);
  if (fd < 0) return 0;
  peer_send(s, fd, req, strlen(req), 0);
  size_t n = peer_collect(s, fd, s_resp, sizeof(s_resp), responses, &s_closed);
  test_close(fd);
  srv_poll(s, 3);
  return n;
}

static int status_is(int code) {
  char want[16];
  snprintf(want, sizeof(want), "HTTP/1.1 %d ", code);
  return strncmp(s_resp, want, strlen(want)) == 0;
}

static const char *body_of(void) {
  const char *p = strstr(s_resp, "\r\n\r\n");
  return p != NULL ? p + 4 : "";
}

/* The nonce of the challenge in s_resp. */
static int challenge_nonce(char out[65]) {
  const char *p = strstr(s_resp, "\r\nWWW-Authenticate: Digest realm=\"");
  if (p == NULL) return 0;
  p = strstr(p, "nonce=\"");
  if (p == NULL || strlen(p) < 7 + 65 || p[7 + 64] != '"') return 0;
  memcpy(out, p + 7, 64);
  out[64] = '\0';
  return 1;
}

/* "<method> <target> HTTP/1.1" with Host, the Digest answer of user:pass to `nonce` (none
 * when nonce is NULL), `extra` field lines and a body. */
static void build(char *out, size_t cap, const char *method, const char *target,
                  const char *nonce, const char *user, const char *pass, const char *extra,
                  const char *body) {
  char auth[1024] = "";
  if (nonce != NULL &&
      mg_http_create_digest_auth_header(auth, sizeof(auth), method, target, "r", user, pass,
                                        nonce) <= 0) {
    auth[0] = '\0';
  }
  snprintf(out, cap, "%s %s HTTP/1.1\r\nHost: h\r\n%s%s\r\n%s", method, target, auth, extra,
           body);
}

/* An htdigest file in `path` with the user joe (password "pw") and ann ("ann-pw") in realm
 * "r" (`which`: 1 joe, 2 ann, 3 both). */
static int write_htdigest(const char *path, int which) {
  char a[33], b[33];
  mg__digest_ha1(a, mg_mk_str("joe"), mg_mk_str("r"), mg_mk_str("pw"));
  mg__digest_ha1(b, mg_mk_str("ann"), mg_mk_str("r"), mg_mk_str("ann-pw"));
  FILE *f = fopen(path, "wb");
  if (f == NULL) return 0;
  if (which & 1) fprintf(f, "joe:r:%s\n", a);
  if (which & 2) fprintf(f, "ann:r:%s\n", b);
  return fclose(f) == 0;
}

/* ---- endpoints ---------------------------------------------------------------------- */

static int ep_requests, ep_chunks, ep_other;

static void guarded_ep(struct mg_connection *c, int ev, void *ev_data) {
  (void) ev_data;
  if (ev == MG_EV_HTTP_REQUEST) {
    ep_requests++;
    mg_send_head(c, 200, 6, "Content-Type: text/plain");
    mg_send(c, "inside", 6);
  } else if (ev == MG_EV_HTTP_CHUNK) {
    ep_chunks++;
  } else if (ev != MG_EV_CLOSE && ev != MG_EV_POLL) {
    ep_other++;
    if (ev == MG_EV_HTTP_MULTIPART_REQUEST_END) {
      mg_send_head(c, 200, 5, "Content-Type: text/plain");
      mg_send(c, "parts", 5);
    }
  }
}

TEST(auth_endpoint_over_loopback) {
  TEST_SRV(s);
  char file[64], req[4096], nonce[65];
  memset(&s, 0, sizeof(s));
  mg__auth_set_clock(NULL);
  snprintf(file, sizeof(file), "/tmp/mgio_ep_XXXXXX");
  int fd = mkstemp(file);
  CHECK(fd >= 0);
  test_temp(file);
  test_close(fd);
  CHECK(write_htdigest(file, 1));
  CHECK(srv_start(&s) == 0);
  struct mg_http_endpoint_opts o;
  memset(&o, 0, sizeof(o));
  o.auth_domain = "r";
  o.auth_file = file;
  mg_register_http_endpoint_opt(s.lc, "/secret", guarded_ep, o);
  ep_requests = ep_chunks = ep_other = 0;

  /* no credentials: 401 with the challenge, the connection closes, nobody hears of it */
  build(req, sizeof(req), "GET", "/secret/x?y=1", NULL, NULL, NULL, "", "");
  talk(&s, req, 0); /* until the server closes */
  CHECK(status_is(401) && s_closed);
  CHECK(strstr(s_resp, "\r\nWWW-Authenticate: Digest realm=\"r\", qop=\"auth\", nonce=\"") != NULL);
  CHECK(strstr(s_resp, "\", algorithm=MD5\r\n") != NULL && strstr(s_resp, "stale") == NULL);
  CHECK(strstr(s_resp, "\r\nConnection: close\r\n") != NULL);
  CHECK(strstr(s_resp, "\r\nContent-Length: 0\r\n") != NULL);
  CHECK(challenge_nonce(nonce));
  CHECK(ep_requests == 0 && ep_chunks == 0 && s.requests == 0 && s.chunks == 0);

  /* the right answer: the endpoint gets the request */
  build(req, sizeof(req), "GET", "/secret/x?y=1", nonce, "joe", "pw", "", "");
  talk(&s, req, 1);
  CHECK(status_is(200) && strcmp(body_of(), "inside") == 0);
  CHECK(ep_requests == 1 && s.requests == 0);

  /* the same request again: nc replayed -> 401 stale=true */
  talk(&s, req, 1);
  CHECK(status_is(401) && strstr(s_resp, ", stale=true\r\n") != NULL && ep_requests == 1);

  /* a wrong password (fresh nonce): 401, no stale, nothing delivered, body included */
  char fresh[65];
  CHECK(challenge_nonce(fresh) && strcmp(fresh, nonce) != 0);
  build(req, sizeof(req), "POST", "/secret", fresh, "joe", "nope", "Content-Length: 10\r\n",
        "0123456789");
  talk(&s, req, 0);
  CHECK(status_is(401) && strstr(s_resp, "stale") == NULL && s_closed);
  CHECK(ep_requests == 1 && ep_chunks == 1 && ep_other == 0 && s.requests == 0 && s.chunks == 0);

  /* an unknown user, a uri that is not the target, a pipelined request behind a refused
   * one: all 401, and nothing after the refusal is read */
  build(req, sizeof(req), "GET", "/secret", fresh, "bob", "pw", "", "");
  talk(&s, req, 1);
  CHECK(status_is(401));
  char a[1024];
  CHECK(mg_http_create_digest_auth_header(a, sizeof(a), "GET", "/secret/other", "r", "joe", "pw",
                                          fresh) > 0);
  snprintf(req, sizeof(req), "GET /secret HTTP/1.1\r\nHost: h\r\n%s\r\nGET /open HTTP/1.1\r\n"
           "Host: h\r\n\r\n", a);
  talk(&s, req, 0);
  CHECK(status_is(401) && count_responses(s_resp, strlen(s_resp)) == 1 && s_closed);
  CHECK(ep_requests == 1 && s.requests == 0);

  /* Expect: 100-continue is answered 401 without a 100; a HEAD gets the head only */
  build(req, sizeof(req), "PUT", "/secret", NULL, NULL, NULL,
        "Content-Length: 5\r\nExpect: 100-continue\r\n", "");
  talk(&s, req, 1);
  CHECK(status_is(401) && strstr(s_resp, "100 Continue") == NULL);
  build(req, sizeof(req), "HEAD", "/secret", NULL, NULL, NULL, "", "");
  talk(&s, req, 0);
  CHECK(status_is(401) && body_of()[0] == '\0');

  /* a WebSocket upgrade is refused before any handshake event */
  build(req, sizeof(req), "GET", "/secret/ws", NULL, NULL, NULL,
        "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
        "");
  talk(&s, req, 1);
  CHECK(status_is(401) && ep_other == 0);

  /* a multipart upload: 401, and no multipart or part event reaches anyone */
  build(req, sizeof(req), "POST", "/secret/up", NULL, NULL, NULL,
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 63\r\n",
        "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nvalue\r\n--b--\r\n");
  talk(&s, req, 0);
  CHECK(status_is(401) && s_closed && ep_other == 0 && ep_chunks == 1 && s.requests == 0);
  CHECK(challenge_nonce(fresh));
  build(req, sizeof(req), "POST", "/secret/up", fresh, "joe", "pw",
        "Content-Type: multipart/form-data; boundary=b\r\nContent-Length: 63\r\n",
        "--b\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nvalue\r\n--b--\r\n");
  talk(&s, req, 1); /* with the right answer the parts arrive */
  CHECK(status_is(200) && strcmp(body_of(), "parts") == 0 && ep_other >= 4);
  ep_other = 0;

  /* an expired nonce with the right password: 401 with stale=true */
  fake_nonce_clock(5000);
  build(req, sizeof(req), "GET", "/secret", NULL, NULL, NULL, "", "");
  talk(&s, req, 1);
  CHECK(challenge_nonce(nonce));
  nonce_now += MG_DIGEST_NONCE_LIFETIME + 1;
  build(req, sizeof(req), "GET", "/secret", nonce, "joe", "pw", "", "");
  talk(&s, req, 1);
  CHECK(status_is(401) && strstr(s_resp, ", stale=true\r\n") != NULL);
  /* and the fresh nonce of that answer works */
  CHECK(challenge_nonce(nonce));
  build(req, sizeof(req), "GET", "/secret", nonce, "joe", "pw", "", "");
  talk(&s, req, 1);
  CHECK(status_is(200) && ep_requests == 2);
  mg__auth_set_clock(NULL);

  /* other paths are not guarded */
  build(req, sizeof(req), "GET", "/open", NULL, NULL, NULL, "", "");
  talk(&s, req, 1);
  CHECK(status_is(200) && s.requests == 1);

  /* a missing password file lets nobody in */
  o.auth_file = "/nonexistent/htdigest";
  mg_register_http_endpoint_opt(s.lc, "/gone", guarded_ep, o);
  build(req, sizeof(req), "GET", "/gone", NULL, NULL, NULL, "", "");
  talk(&s, req, 1);
  CHECK(challenge_nonce(nonce));
  build(req, sizeof(req), "GET", "/gone", nonce, "joe", "pw", "", "");
  talk(&s, req, 1);
  CHECK(status_is(401) && ep_requests == 2);
  srv_stop(&s);
  unlink(file);
}

/* mg_http_send_digest_auth_request(2) from a handler keeps the connection. */
static void challenger(struct mg_connection *c, int ev, void *ev_data) {
  struct http_message *hm = (struct http_message *) ev_data;
  if (ev != MG_EV_HTTP_REQUEST) return;
  if (mg_vcmp(&hm->uri, "/stale") == 0) {
    mg_http_send_digest_auth_request2(c, "my realm", 1);
  } else if (mg_vcmp(&hm->uri, "/bad") == 0) {
    mg_http_send_digest_auth_request(c, "bad\nrealm");
  } else {
    mg_http_send_digest_auth_request(c, "my realm");
  }
}

TEST(auth_send_digest_auth_request) {
  TEST_SRV(s);
  CHECK(srv_start(&s) == 0);
  s.lc->handler = challenger;
  talk(&s, "GET / HTTP/1.1\r\nHost: h\r\n\r\nGET /stale HTTP/1.1\r\nHost: h\r\n\r\n", 2);
  CHECK(status_is(401) && !s_closed && count_responses(s_resp, strlen(s_resp)) == 2);
  CHECK(strstr(s_resp, "\r\nWWW-Authenticate: Digest realm=\"my realm\", qop=\"auth\", nonce=\"") !=
        NULL);
  const char *second = strstr(s_resp + 1, "HTTP/1.1 401");
  CHECK(second != NULL && strstr(second, "algorithm=MD5, stale=true\r\n") != NULL);
  CHECK(strstr(s_resp, "algorithm=MD5\r\n") != NULL);
  talk(&s, "GET /bad HTTP/1.1\r\nHost: h\r\n\r\n", 1);
  CHECK(status_is(500) && strcmp(body_of(), "auth not available") == 0);
  srv_stop(&s);
}

/* ---- mg_serve_http ------------------------------------------------------------------- */

static struct mg_serve_http_opts s_opts;
static char s_root[64];

static void serve(struct mg_connection *c, int ev, void *ev_data) {
  if (ev == MG_EV_HTTP_REQUEST) mg_serve_http(c, (struct http_message *) ev_data, s_opts);
}

static int put(const char *rel, const char *text) {
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", s_root, rel);
  FILE *f = fopen(path, "wb");
  if (f == NULL) return 0;
  fputs(text, f);
  return fclose(f) == 0;
}

static int sub(const char *rel) {
  char path[256];
  snprintf(path, sizeof(path), "%s/%s", s_root, rel);
  return mkdir(path, 0755) == 0;
}

/* GET `target` without credentials (status in *first), then with user:pass answering the
 * challenge; s_resp holds the second answer. Returns its status, or 0. */
static int get_as(struct srv *s, const char *target, const char *user, const char *pass,
                  int *first) {
  char req[2048], nonce[65];
  build(req, sizeof(req), "GET", target, NULL, NULL, NULL, "", "");
  talk(s, req, 1);
  *first = atoi(s_resp + 9);
  if (!challenge_nonce(nonce)) return 0;
  build(req, sizeof(req), "GET", target, nonce, user, pass, "", "");
  talk(s, req, 1);
  return atoi(s_resp + 9);
}

static int get_status(struct srv *s, const char *target) {
  char req[1024];
  build(req, sizeof(req), "GET", target, NULL, NULL, NULL, "", "");
  talk(s, req, 1);
  return atoi(s_resp + 9);
}

TEST(auth_serve_http_password_files) {
  TEST_SRV(s);
  char path[256], outside[64];
  int first = 0;
  memset(&s, 0, sizeof(s));
  memset(&s_opts, 0, sizeof(s_opts));
  mg__auth_set_clock(NULL);
  snprintf(s_root, sizeof(s_root), "/tmp/mgio_authroot_XXXXXX");
  CHECK(mkdtemp(s_root) != NULL);
  test_temp(s_root);
  CHECK(sub("sec") && sub("sec/sub") && sub("sec/ann") && sub("pub"));
  CHECK(put("pub.txt", "public\n") && put("sec/a.txt", "secret a\n") &&
        put("sec/sub/b.txt", "secret b\n") && put("sec/ann/c.txt", "ann's\n") &&
        put("global.pw", "x"));
  snprintf(path, sizeof(path), "%s/sec/.htpasswd", s_root);
  CHECK(write_htdigest(path, 1));
  snprintf(path, sizeof(path), "%s/sec/ann/.htpasswd", s_root);
  CHECK(write_htdigest(path, 2));
  snprintf(path, sizeof(path), "%s/pub/link", s_root);
  CHECK(symlink("../sec", path) == 0);
  CHECK(srv_start(&s) == 0);
  s.lc->handler = serve;
  s_opts.document_root = s_root;
  s_opts.auth_domain = "r";

  /* per-directory files: open folders stay open */
  CHECK(get_status(&s, "/pub.txt") == 200 && strcmp(body_of(), "public\n") == 0);
  CHECK(get_status(&s, "/") == 200 && strstr(s_resp, "htpasswd") == NULL);
  /* a guarded folder, its subtree, missing names, the folder itself without '/': all 401
   * before anything about the target shows (no 404, no 301) */
  static const char *const guarded[] = {"/sec/a.txt", "/sec/sub/b.txt", "/sec/missing",
                                        "/sec/sub/missing/deeper", "/sec", "/sec/",
                                        "/sec/.htpasswd", "/pub/link/a.txt", "/pub/link/"};
  for (size_t i = 0; i < sizeof(guarded) / sizeof(guarded[0]); i++) {
    CHECK(get_status(&s, guarded[i]) == 401 && !s_closed);
    CHECK(strstr(s_resp, "\r\nWWW-Authenticate: Digest realm=\"r\"") != NULL);
  }
  /* with the right credentials */
  CHECK(get_as(&s, "/sec/a.txt", "joe", "pw", &first) == 200 && first == 401);
  CHECK(strcmp(body_of(), "secret a\n") == 0);
  CHECK(get_as(&s, "/sec/sub/b.txt?x=1", "joe", "pw", &first) == 200);
  CHECK(get_as(&s, "/sec", "joe", "pw", &first) == 301);
  CHECK(get_as(&s, "/sec/missing", "joe", "pw", &first) == 404);
  CHECK(get_as(&s, "/sec/.htpasswd", "joe", "pw", &first) == 404); /* never served */
  CHECK(get_as(&s, "/sec/.HTPASSWD", "joe", "pw", &first) == 404);
  CHECK(get_as(&s, "/pub/link/a.txt", "joe", "pw", &first) == 200);
  CHECK(get_as(&s, "/sec/a.txt", "joe", "bad", &first) == 401);
  /* the nearest file wins: sec/ann/ has its own */
  CHECK(get_as(&s, "/sec/ann/c.txt", "joe", "pw", &first) == 401);
  CHECK(get_as(&s, "/sec/ann/c.txt", "ann", "ann-pw", &first) == 200);

  /* the global file guards everything; it is never served from inside the root */
  snprintf(outside, sizeof(outside), "/tmp/mgio_global_XXXXXX");
  int fd = mkstemp(outside);
  CHECK(fd >= 0);
  test_temp(outside);
  test_close(fd);
  CHECK(write_htdigest(outside, 3));
  s_opts.global_auth_file = outside;
  CHECK(get_status(&s, "/pub.txt") == 401);
  CHECK(get_as(&s, "/pub.txt", "ann", "ann-pw", &first) == 200);
  CHECK(get_as(&s, "/pub.txt", "ann", "wrong", &first) == 401);
  char req[256];
  build(req, sizeof(req), "OPTIONS", "*", NULL, NULL, NULL, "", "");
  talk(&s, req, 1);
  CHECK(status_is(401));
  snprintf(path, sizeof(path), "%s/global.pw", s_root);
  CHECK(write_htdigest(path, 3));
  s_opts.global_auth_file = path;
  CHECK(get_as(&s, "/global.pw", "ann", "ann-pw", &first) == 404);
  CHECK(get_as(&s, "/pub.txt", "ann", "ann-pw", &first) == 200);
  s_opts.global_auth_file = "/nonexistent/pw"; /* missing: nobody gets in */
  CHECK(get_as(&s, "/pub.txt", "ann", "ann-pw", &first) == 401);

  /* without auth_domain: the default .htpasswd guards nothing (Mongoose 6), while the
   * global file and an explicitly named per-directory file refuse with 500 */
  s_opts.global_auth_file = NULL;
  s_opts.auth_domain = NULL;
  CHECK(get_status(&s, "/sec/a.txt") == 200);
  CHECK(get_status(&s, "/sec/.htpasswd") == 404);
  s_opts.per_directory_auth_file = ".htpasswd";
  CHECK(get_status(&s, "/sec/a.txt") == 500 && strcmp(body_of(), "auth not available") == 0);
  CHECK(get_status(&s, "/pub.txt") == 200);
  s_opts.per_directory_auth_file = NULL;
  s_opts.global_auth_file = outside;
  CHECK(get_status(&s, "/pub.txt") == 500 && strcmp(body_of(), "auth not available") == 0);

  /* an unreadable password file refuses (unless running as root, who reads anything) */
  s_opts.global_auth_file = NULL;
  s_opts.auth_domain = "r";
  snprintf(path, sizeof(path), "%s/sec/.htpasswd", s_root);
  if (geteuid() != 0 && chmod(path, 0) == 0) {
    CHECK(get_as(&s, "/sec/a.txt", "joe", "pw", &first) == 401);
  }
  srv_stop(&s);
  unlink(outside);
  test_remove_tree(s_root);
}
