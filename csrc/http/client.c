/*
 * The HTTP client: mg_connect_http and friends parse a URL, connect, make the connection
 * speak HTTP and queue one request (sent once the connection is up).
 */
#include <stdlib.h>
#include <string.h>

#include "http_internal.h"

static void set_error(struct mg_connect_opts *opts, const char *msg) {
  if (opts->error_string != NULL) *opts->error_string = msg;
}

/* A request-target byte: visible ASCII (no space, no control, no DEL) or obs-text. */
static int target_bytes_ok(struct mg_str s) {
  for (size_t i = 0; i < s.len; i++) {
    unsigned char ch = (unsigned char) s.p[i];
    if (ch <= 0x20 || ch == 0x7f) return 0;
  }
  return 1;
}

const char *mg__http_parse_target(const char *url, const char *plain, const char *tls,
                                  struct mg__target *t) {
  struct mg_str scheme;
  memset(t, 0, sizeof(*t));
  if (url == NULL ||
      mg_parse_uri(mg_mk_str(url), &scheme, &t->user_info, &t->host, &t->port, &t->path,
                   &t->query, NULL) != 0 ||
      t->host.len == 0 || !target_bytes_ok(t->host) || !target_bytes_ok(t->path) ||
      !target_bytes_ok(t->query) || !target_bytes_ok(t->user_info))
    return "cannot parse url";
  if (scheme.len == 0 || mg_vcasecmp(&scheme, plain) == 0) return NULL;
  if (mg_vcasecmp(&scheme, tls) == 0) return "ssl is disabled";
  return "unsupported url scheme";
}

char *mg__http_target_address(const struct mg__target *t) {
  char *address = NULL;
  if (mg_asprintf(&address, 0, "tcp://%.*s:%u", (int) t->host.len, t->host.p,
                  t->port != 0 ? t->port : 80) < 0)
    return NULL;
  return address;
}

static int is_token(const char *s) {
  if (s == NULL || *s == '\0') return 0;
  for (; *s != '\0'; s++) {
    unsigned char c = (unsigned char) *s;
    int alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && strchr("!#$%&'*+-.^_`|~", c) == NULL) return 0;
  }
  return 1;
}

#define MAX_USER_INFO 1024

/* Base64 of the percent-decoded user_info "user:pass" into `out` ("" when there is
 * none). Returns 0, or -1 when it is too long or badly escaped. */
static int basic_credentials(struct mg_str user_info, char out[4 * ((MAX_USER_INFO + 2) / 3) + 1]) {
  char plain[MAX_USER_INFO + 1];
  out[0] = '\0';
  if (user_info.len == 0) return 0;
  if (user_info.len > MAX_USER_INFO) return -1;
  int n = mg_url_decode(user_info.p, (int) user_info.len, plain, (int) sizeof(plain), 0);
  if (n < 0) return -1;
  mg_base64_encode((const unsigned char *) plain, n, out);
  return 0;
}

/* Queues the request on `c`; `credentials` is base64 for Basic auth, or "". */
static void send_request(struct mg_connection *c, const char *method, const struct mg__target *t,
                         const char *credentials, struct mg_str extra, const void *body,
                         size_t body_len) {
  const char *path = t->path.len > 0 ? t->path.p : "/";
  int path_len = t->path.len > 0 ? (int) t->path.len : 1;
  mg_printf(c, "%s %.*s%s%.*s HTTP/1.1\r\nHost: %.*s", method, path_len, path,
            t->query.p != NULL ? "?" : "", (int) t->query.len, t->query.p != NULL ? t->query.p : "",
            (int) t->host.len, t->host.p);
  if (t->port != 0) mg_printf(c, ":%u", t->port);
  mg_send(c, "\r\n", 2);
  int needs_length = body_len > 0 || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
  if (needs_length) mg_printf(c, "Content-Length: %zu\r\n", body_len);
  if (*credentials != '\0') mg_printf(c, "Authorization: Basic %s\r\n", credentials);
  if (extra.len > 0) {
    mg_send(c, extra.p, (int) extra.len);
    mg_send(c, "\r\n", 2);
  }
  mg_send(c, "\r\n", 2);
  for (size_t off = 0; off < body_len;) {
    size_t piece = body_len - off > 0x40000000 ? 0x40000000 : body_len - off;
    mg_send(c, (const char *) body + off, (int) piece);
    off += piece;
  }
}

struct mg_connection *mg_connect_http_method(struct mg_mgr *mgr, mg_event_handler_t ev_handler,
                                             struct mg_connect_opts opts, const char *method,
                                             const char *url, const char *extra_headers,
                                             const void *body, size_t body_len) {
  struct mg__target t;
  char credentials[4 * ((MAX_USER_INFO + 2) / 3) + 1];
  const char *err = mg__http_parse_target(url, "http", "https", &t);
  if (err == NULL && basic_credentials(t.user_info, credentials) != 0) err = "cannot parse url";
  struct mg_str extra = mg_mk_str(extra_headers);
  long extra_len = mg__http_check_extra_headers(extra);
  if (err == NULL && !is_token(method)) err = "invalid method";
  if (err == NULL && extra_len < 0) err = "invalid extra headers";
  if (err == NULL && body == NULL && body_len > 0) err = "invalid body";
  if (err != NULL) {
    set_error(&opts, err);
    return NULL;
  }
  extra.len = (size_t) extra_len;
  char *address = mg__http_target_address(&t);
  if (address == NULL) {
    set_error(&opts, "out of memory");
    return NULL;
  }
  struct mg_connection *c = mg_connect_opt(mgr, address, ev_handler, opts);
  free(address);
  if (c == NULL) return NULL;
  mg_set_protocol_http_websocket(c);
  struct mg__http *h = mg__http_state(c);
  if (h != NULL && strcmp(method, "HEAD") == 0) h->flags |= MG__H_EXPECT_HEAD;
  send_request(c, method, &t, credentials, extra, body, body_len);
  return c;
}

struct mg_connection *mg_connect_http_opt(struct mg_mgr *mgr, mg_event_handler_t ev_handler,
                                          struct mg_connect_opts opts, const char *url,
                                          const char *extra_headers, const char *post_data) {
  size_t n = post_data != NULL ? strlen(post_data) : 0;
  return mg_connect_http_method(mgr, ev_handler, opts, n > 0 ? "POST" : "GET", url,
                                extra_headers, post_data, n);
}

struct mg_connection *mg_connect_http(struct mg_mgr *mgr, mg_event_handler_t event_handler,
                                      const char *url, const char *extra_headers,
                                      const char *post_data) {
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  return mg_connect_http_opt(mgr, event_handler, opts, url, extra_headers, post_data);
}
