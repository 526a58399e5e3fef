/*
 * Static files (Mongoose 6 section 3.7): mg_http_serve_file answers a request with one
 * file (conditional requests, a single byte range, HEAD), and mg_serve_http maps a
 * request to a file or folder under a document root.
 *
 * Bodies are never read whole: up to MG__HTTP_SEND_HIGH bytes are read straight into
 * the send buffer, and a larger file is streamed by the HTTP layer's pump as the socket
 * drains (http_internal.h). Heads are assembled in one buffer and queued at once.
 *
 * Confinement: the request target is decoded and normalised first (no ".." survives),
 * then the file's canonical path (realpath: no symlink, "." or "..") must lie inside
 * the canonical document root, and it is opened with O_NOFOLLOW, so a symlink inside
 * the root is followed only when it resolves inside the root.
 */
#define _XOPEN_SOURCE 700 /* realpath (XSI), pread, O_NOFOLLOW, O_CLOEXEC */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../net/internal.h"
#include "auth.h"
#include "http_internal.h"
#include "static_internal.h"

/* ---- response heads -------------------------------------------------------------------- */

/* Appends "<name>: <IMF-fixdate of t>\r\n". */
static void head_date(struct mg__out *h, const char *name, int64_t t) {
  char date[MG__HTTP_DATE_LEN + 1];
  mg__http_format_date(date, t);
  mg__out_str(h, name);
  mg__out_add(h, date, MG__HTTP_DATE_LEN);
  mg__out_add(h, "\r\n", 2);
}

void mg__static_head_begin(struct mg__out *h, const struct mg__static_req *r,
                           int code) {
  mg__out_init(h);
  mg__out_str(h, "HTTP/1.1 ");
  mg__out_u64(h, (uint64_t) code);
  mg__out_add(h, " ", 1);
  mg__out_str(h, mg_status_message(code));
  mg__out_str(h, "\r\n" MG_SERVER_HEADER);
  if (r->extra.len > 0) {
    mg__out_add(h, r->extra.p, r->extra.len);
    mg__out_add(h, "\r\n", 2);
  }
  head_date(h, "Date: ", (int64_t) time(NULL));
}

void mg__static_head_connection(struct mg__out *h, const struct mg__static_req *r) {
  mg__out_str(h, r->keep_alive ? "Connection: keep-alive\r\n" : "Connection: close\r\n");
}

void mg__static_head_send(struct mg__out *h, const struct mg__static_req *r,
                          const char *body, size_t body_len) {
  mg__out_add(h, "\r\n", 2);
  if (!r->head_only) mg__out_add(h, body, body_len);
  mg__out_send(r->nc, h);
}

void mg__static_send_status(const struct mg__static_req *r, int code, const char *fields,
                            const char *body) {
  struct mg__static_req rr = *r;
  struct mg__out h;
  /* After a malformed request or a server failure the connection is not trusted to
   * stay in step with the client: close it once the answer is out. */
  int closing = code == 400 || code >= 500;
  if (closing) rr.keep_alive = 0;
  if (body == NULL) body = mg_status_message(code);
  size_t body_len = code == 304 ? 0 : strlen(body);
  mg__static_head_begin(&h, &rr, code);
  if (fields != NULL) mg__out_str(&h, fields);
  if (code != 304) {
    mg__out_str(&h, "Content-Type: text/plain\r\nContent-Length: ");
    mg__out_u64(&h, body_len);
    mg__out_add(&h, "\r\n", 2);
  }
  mg__static_head_connection(&h, &rr);
  mg__static_head_send(&h, &rr, body, body_len);
  if (closing) rr.nc->flags |= MG_F_SEND_AND_CLOSE;
  mg__http_answered(rr.nc);
}

int mg__static_errno_status(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      return 404;
    case EACCES:
    case EPERM:
    case ELOOP: /* O_NOFOLLOW met a symlink: refused, not missing */
      return 403;
    default:
      return 500;
  }
}

/* Sets up `r` for answering `hm` on `nc` with the extra header lines `extra`. Returns
 * 0 when `extra` is malformed: then the connection is closed at once (as the response
 * helpers do) and nothing may be sent. */
static int req_init(struct mg__static_req *r, struct mg_connection *nc,
                    struct http_message *hm, struct mg_str extra) {
  long n = mg__http_check_extra_headers(extra);
  if (n < 0) {
    mg__mark_closing(nc, EINVAL);
    return 0;
  }
  r->nc = nc;
  r->hm = hm;
  r->extra = mg_mk_str_n(extra.p, (size_t) n);
  r->head_only = mg_vcmp(&hm->method, "HEAD") == 0;
  r->keep_alive = (hm->flags & MG_HTTP_F_KEEP_ALIVE) != 0;
  return 1;
}

/* ---- file bodies ----------------------------------------------------------------------- */

struct file_body {
  int fd;
  uint64_t off;  /* next byte of the file to send */
  uint64_t left; /* bytes still to send */
};

/* Reads the file into nc->send_mbuf until it holds `high` bytes or the body is done.
 * Returns 0 on a read error or when the file ended early (it shrank): the head already
 * promised the length, so the caller must close the connection. */
static int fill_body(struct mg_connection *nc, struct file_body *fb, size_t high) {
  struct mbuf *m = &nc->send_mbuf;
  while (fb->left > 0 && m->len < high) {
    size_t room = high - m->len;
    size_t want = fb->left < (uint64_t) room ? (size_t) fb->left : room;
    if (fb->off > (uint64_t) INT64_MAX || !mbuf_reserve(m, want)) return 0;
    ssize_t n = pread(fb->fd, m->buf + m->len, want, (off_t) fb->off);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) errno = EIO; /* the file ended before the promised length */
    if (n <= 0) return 0;
    m->len += (size_t) n;
    fb->off += (uint64_t) n;
    fb->left -= (uint64_t) n;
  }
  return 1;
}

static int pump_body(struct mg_connection *c, void *ctx) {
  struct file_body *fb = ctx;
  if (!fill_body(c, fb, MG__HTTP_SEND_HIGH)) {
    mg__mark_closing(c, errno);
    return 0;
  }
  return fb->left > 0;
}

static void cleanup_body(void *ctx) {
  struct file_body *fb = ctx;
  close(fb->fd);
  free(fb);
}

/* Sends `len` bytes of `fd` from `off` after the queued head; takes ownership of fd. A
 * body that fits under the high-water mark is read at once; a larger one is streamed. */
static void send_body(const struct mg__static_req *r, int fd, uint64_t off, uint64_t len) {
  struct file_body small = {fd, off, len};
  if (r->head_only || len == 0 || len <= MG__HTTP_SEND_HIGH) {
    if (!r->head_only && !fill_body(r->nc, &small, r->nc->send_mbuf.len + (size_t) len)) {
      mg__mark_closing(r->nc, EIO);
    }
    close(fd);
    mg__http_answered(r->nc);
    return;
  }
  struct file_body *fb = malloc(sizeof(*fb));
  if (fb == NULL) {
    close(fd);
    mg__mark_closing(r->nc, ENOMEM);
    return;
  }
  *fb = small;
  struct mg__http_stream stream = {pump_body, cleanup_body, fb};
  /* The stream's cleanup closes fd, also when the stream cannot start (the connection
   * does not speak HTTP, or a stream already runs): the head is out, so close then. */
  if (mg__http_start_stream(r->nc, &stream) != 0) mg__mark_closing(r->nc, EINVAL);
}

/* ---- one file -------------------------------------------------------------------------- */

/* What the validators and the head say about the open file. */
struct file_meta {
  uint64_t size;
  int64_t mtime;
  char etag[MG__ETAG_SIZE];
  size_t etag_len;
};

/* 1 when a GET or HEAD may be answered 304 (RFC 9110 13.2.2: If-None-Match decides
 * when present, else If-Modified-Since). */
static int not_modified(struct http_message *hm, const struct file_meta *fm) {
  struct mg_str *inm = mg_get_http_header(hm, "If-None-Match");
  if (inm != NULL) return mg__static_etag_matches(*inm, mg_mk_str_n(fm->etag, fm->etag_len));
  struct mg_str *ims = mg_get_http_header(hm, "If-Modified-Since");
  int64_t since;
  return ims != NULL && mg__http_parse_date(*ims, &since) == 0 && fm->mtime <= since;
}

/* 1 when Range applies: no If-Range, or one naming the current ETag or Last-Modified
 * date exactly (RFC 9110 13.1.5); otherwise the whole file is sent. */
static int if_range_holds(struct http_message *hm, const struct file_meta *fm) {
  struct mg_str *ir = mg_get_http_header(hm, "If-Range");
  if (ir == NULL) return 1;
  if (ir->len > 0 && ir->p[0] == '"') {
    return ir->len == fm->etag_len && memcmp(ir->p, fm->etag, ir->len) == 0;
  }
  int64_t t;
  return mg__http_parse_date(*ir, &t) == 0 && t == fm->mtime;
}

/* Appends the fields every file answer shares, up to and including Connection. */
static void head_file_fields(struct mg__out *h, const struct mg__static_req *r,
                             const struct file_meta *fm, struct mg_str mime) {
  head_date(h, "Last-Modified: ", fm->mtime);
  mg__out_str(h, "Accept-Ranges: bytes\r\nContent-Type: ");
  mg__out_add(h, mime.p, mime.len);
  mg__out_add(h, "\r\n", 2);
  mg__static_head_connection(h, r);
}

static void head_etag(struct mg__out *h, const struct file_meta *fm) {
  mg__out_str(h, "ETag: ");
  mg__out_add(h, fm->etag, fm->etag_len);
  mg__out_add(h, "\r\n", 2);
}

static void send_not_modified(const struct mg__static_req *r, const struct file_meta *fm) {
  struct mg__out h;
  mg__static_head_begin(&h, r, 304);
  head_date(&h, "Last-Modified: ", fm->mtime);
  head_etag(&h, fm);
  mg__static_head_connection(&h, r);
  mg__static_head_send(&h, r, NULL, 0);
  mg__http_answered(r->nc);
}

static void send_unsatisfiable(const struct mg__static_req *r, const struct file_meta *fm,
                               struct mg_str mime) {
  struct mg__out h;
  mg__static_head_begin(&h, r, 416);
  head_file_fields(&h, r, fm, mime);
  mg__out_str(&h, "Content-Length: 0\r\nContent-Range: bytes */");
  mg__out_u64(&h, fm->size);
  mg__out_add(&h, "\r\n", 2);
  head_etag(&h, fm);
  mg__static_head_send(&h, r, NULL, 0);
  mg__http_answered(r->nc);
}

/* Queues the 200 or 206 head for `len` bytes from `start`. */
static void send_file_head(const struct mg__static_req *r, const struct file_meta *fm,
                           struct mg_str mime, int partial, uint64_t start, uint64_t len) {
  struct mg__out h;
  mg__static_head_begin(&h, r, partial ? 206 : 200);
  head_file_fields(&h, r, fm, mime);
  mg__out_str(&h, "Content-Length: ");
  mg__out_u64(&h, len);
  mg__out_add(&h, "\r\n", 2);
  if (partial) {
    mg__out_str(&h, "Content-Range: bytes ");
    mg__out_u64(&h, start);
    mg__out_add(&h, "-", 1);
    mg__out_u64(&h, start + len - 1);
    mg__out_add(&h, "/", 1);
    mg__out_u64(&h, fm->size);
    mg__out_add(&h, "\r\n", 2);
  }
  head_etag(&h, fm);
  mg__static_head_send(&h, r, NULL, 0);
}

/* Answers `r` from the open regular file `fd` (taking ownership of it). */
static void serve_fd(const struct mg__static_req *r, int fd, const struct stat *st,
                     struct mg_str mime) {
  struct file_meta fm;
  fm.size = (uint64_t) st->st_size;
  fm.mtime = (int64_t) st->st_mtime;
  fm.etag_len = mg__static_etag(fm.etag, fm.mtime, fm.size);
  int is_get = mg_vcmp(&r->hm->method, "GET") == 0;
  uint64_t start = 0, len = fm.size;
  int range = MG__RANGE_NONE;
  if ((is_get || r->head_only) && not_modified(r->hm, &fm)) {
    close(fd);
    send_not_modified(r, &fm);
    return;
  }
  struct mg_str *rh = mg_get_http_header(r->hm, "Range");
  /* Range is defined for GET only (RFC 9110 14.2); HEAD gets the 200 head. */
  if (is_get && rh != NULL && if_range_holds(r->hm, &fm)) {
    range = mg__static_parse_range(*rh, fm.size, &start, &len);
  }
  if (range == MG__RANGE_BAD) {
    close(fd);
    send_unsatisfiable(r, &fm, mime);
    return;
  }
  if (range == MG__RANGE_NONE) {
    start = 0;
    len = fm.size;
  }
  send_file_head(r, &fm, mime, range == MG__RANGE_ONE, start, len);
  send_body(r, fd, start, len);
}

/* Text copied into a field value (a media type, a query): no control byte but HTAB. */
static int field_value_ok(struct mg_str v) {
  for (size_t i = 0; i < v.len; i++) {
    unsigned char c = (unsigned char) v.p[i];
    if (c != '\t' && (c < 0x20 || c == 0x7f)) return 0;
  }
  return 1;
}

/* Opens `path` (with the extra open flags `oflags`) and answers `r` from it. */
static void serve_path(const struct mg__static_req *r, const char *path, struct mg_str mime,
                       int oflags) {
  /* O_NONBLOCK: opening a FIFO must not wait for a writer (it is refused below);
   * regular files ignore the flag when read. */
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | oflags);
  struct stat st;
  if (fd < 0) {
    mg__static_send_status(r, mg__static_errno_status(errno), NULL, NULL);
    return;
  }
  int stat_failed = fstat(fd, &st) != 0;
  if (stat_failed || !S_ISREG(st.st_mode)) {
    int code = stat_failed ? 500 : 403; /* 403: folders, devices, FIFOs, sockets */
    close(fd);
    mg__static_send_status(r, code, NULL, NULL);
    return;
  }
  serve_fd(r, fd, &st, mime);
}

void mg_http_serve_file(struct mg_connection *nc, struct http_message *hm, const char *path,
                        const struct mg_str mime_type, const struct mg_str extra_headers) {
  struct mg__static_req r;
  struct mg_str mime = mime_type;
  if (nc == NULL || hm == NULL || path == NULL) return;
  if (mime.p == NULL) mime.len = 0;
  if (!field_value_ok(mime)) {
    mg__mark_closing(nc, EINVAL);
    return;
  }
  if (!req_init(&r, nc, hm, extra_headers)) return;
  if (mime.len == 0) mime = mg__static_mime_type(mg_mk_str(path), mg_mk_str_n(NULL, 0));
  serve_path(&r, path, mime, 0);
}

/* ---- a document root ------------------------------------------------------------------- */

/* mg_serve_http's options with the defaults filled in. */
struct serve_conf {
  const char *root;
  const char *index_files;
  const char *auth_file; /* per-directory auth file name, always hidden */
  const char *hidden;
  struct mg_str custom_mime;
  int listing;
};

static void conf_init(struct serve_conf *c, const struct mg_serve_http_opts *o) {
  c->root = o->document_root != NULL && o->document_root[0] != '\0' ? o->document_root : ".";
  c->index_files = o->index_files != NULL ? o->index_files : "index.html,index.htm";
  c->auth_file = o->per_directory_auth_file != NULL && o->per_directory_auth_file[0] != '\0'
                     ? o->per_directory_auth_file
                     : ".htpasswd";
  c->hidden = o->hidden_file_pattern;
  c->custom_mime = mg_mk_str(o->custom_mime_types);
  c->listing = o->enable_directory_listing == NULL ||
               mg_casecmp(o->enable_directory_listing, "yes") == 0;
}

#define ALLOW_FIELD "Allow: GET, HEAD, OPTIONS\r\n"

/* Methods with a meaning elsewhere (RFC 9110, PATCH, WebDAV) that a static server does
 * not carry out: 405. Any other token than these, GET, HEAD and OPTIONS is 501. */
static int known_unsupported(const struct mg_str *m) {
  static const char *const names[] = {
      "POST",     "PUT",       "DELETE", "PATCH", "CONNECT", "TRACE",  "PROPFIND",
      "PROPPATCH", "MKCOL",    "COPY",   "MOVE",  "LOCK",    "UNLOCK", "SEARCH",
      "REPORT",   "MKCALENDAR",
  };
  for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
    if (mg_vcmp(m, names[i]) == 0) return 1;
  }
  return 0;
}

/* The IPv4 address of the peer (host order) when it has one (IPv4, or IPv4-mapped
 * IPv6); 0 otherwise. */
static int peer_ipv4(const union socket_address *sa, uint32_t *ip) {
  const unsigned char *b;
  if (sa->sa.sa_family == AF_INET) {
    b = (const unsigned char *) &sa->sin.sin_addr.s_addr;
  } else if (sa->sa.sa_family == AF_INET6) {
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    b = sa->sin6.sin6_addr.s6_addr;
    if (memcmp(b, mapped, sizeof(mapped)) != 0) return 0;
    b += 12;
  } else {
    return 0;
  }
  *ip = (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3];
  return 1;
}

/* 0 when the peer passes opts.ip_acl, else the status to answer: 403 denied (also an
 * IPv6 peer, which the IPv4-only ACL cannot describe: fail closed), 500 malformed. */
static int acl_status(struct mg_connection *nc, const char *acl) {
  uint32_t ip;
  if (acl == NULL || acl[0] == '\0') return 0;
  if (!peer_ipv4(&nc->sa, &ip)) return 403;
  int ok = mg_check_ip_acl(acl, ip);
  return ok == 1 ? 0 : ok == 0 ? 403 : 500;
}

/* A new heap string "<a><b>". NULL on overflow or allocation failure. */
static char *concat(const char *a, const char *b) {
  size_t na = strlen(a), nb = strlen(b);
  if (nb > SIZE_MAX - 1 - na) return NULL;
  char *s = malloc(na + nb + 1);
  if (s == NULL) return NULL;
  memcpy(s, a, na);
  memcpy(s + na, b, nb + 1);
  return s;
}

/* The canonical path of `root` + `rel` in *real when it exists, lies inside the
 * canonical root and is not hidden there; else the status (404 outside the root,
 * hidden or missing, 403, 500). The hidden check is repeated on the canonical path so
 * that a symlink cannot reach an auth file or a hidden name under another name. */
static int resolve_within(const struct serve_conf *c, const char *real_root,
                          const char *root, const char *rel, char **real) {
  char *joined = concat(root, rel);
  if (joined == NULL) return 500;
  *real = realpath(joined, NULL);
  int err = errno;
  free(joined);
  if (*real == NULL) return err == ENOMEM ? 500 : mg__static_errno_status(err);
  /* only a path inside the root is longer than it: check that before taking its tail */
  if (!mg__static_path_within(real_root, *real) ||
      mg__static_path_hidden(mg_mk_str(*real + strlen(real_root)), c->hidden, c->auth_file)) {
    free(*real);
    *real = NULL;
    return 404; /* a symlink out of the root: as if it did not exist */
  }
  return 0;
}

/* Appends n bytes; 1 on success (an empty append always succeeds). */
static int append(struct mbuf *m, const void *p, size_t n) {
  return n == 0 || mbuf_append(m, p, n) == n;
}

/* Answers 301 to the folder's URI with a '/' added. The Location is built from the
 * normalised path (re-encoded, repeated slashes collapsed) so it is always a local
 * path and never "//host" (an open redirect). The query is kept. */
static void redirect_to_folder(const struct mg__static_req *r, const char *rel) {
  struct mbuf path, field;
  int ok = 1;
  mbuf_init(&path, 0);
  for (const char *p = rel; *p != '\0'; p++) {
    if (!(p[0] == '/' && p[1] == '/')) ok &= append(&path, p, 1);
  }
  struct mg_str enc = mg_url_encode(mg_mk_str_n(path.buf, path.len));
  struct mg_str q = r->hm->query_string;
  mbuf_free(&path);
  mbuf_init(&field, 0);
  ok &= enc.p != NULL && append(&field, "Location: ", 10) && append(&field, enc.p, enc.len) &&
        append(&field, "/", 1);
  if (q.p != NULL && q.len > 0 && field_value_ok(q)) {
    ok &= append(&field, "?", 1) && append(&field, q.p, q.len);
  }
  ok &= append(&field, "\r\n", 3); /* with the NUL */
  mg_strfree(&enc);
  mg__static_send_status(r, ok ? 301 : 500, ok ? field.buf : NULL, NULL);
  mbuf_free(&field);
}

/* Looks for the index file `name` (NUL-terminated) in the canonical folder `dir`.
 * Returns 0 with its canonical path in *real (the caller frees it) when it is a
 * regular file that may be served; else the status, 404 meaning "try the next one". */
static int find_index(const struct serve_conf *c, const char *real_root, const char *dir,
                      struct mg_str name, char **real) {
  if (memchr(name.p, '/', name.len) != NULL ||
      mg__static_name_hidden(name, c->hidden, c->auth_file)) {
    return 404;
  }
  char *rel = concat("/", name.p);
  if (rel == NULL) return 500;
  int status = resolve_within(c, real_root, dir, rel, real);
  free(rel);
  struct stat st;
  if (status == 0 && (stat(*real, &st) != 0 || !S_ISREG(st.st_mode))) {
    free(*real);
    *real = NULL;
    status = 404;
  }
  return status;
}

/* Serves the folder `dir` (canonical) requested as `rel`: its first index file that
 * exists, else a listing, else 403. An index that exists but cannot be read gets its
 * error rather than a listing that would reveal what it was meant to cover. */
static void serve_folder(const struct mg__static_req *r, const struct serve_conf *c,
                         const char *real_root, const char *dir, const char *rel) {
  struct mg_str name, list = mg_mk_str(c->index_files);
  while ((list = mg_next_comma_list_entry_n(list, &name, NULL)).p != NULL) {
    struct mg_str n = mg_strdup_nul(name); /* {NULL, 0} for an empty entry */
    char *real = NULL;
    int status = n.p == NULL ? 404 : find_index(c, real_root, dir, n, &real);
    if (status == 0) {
      serve_path(r, real, mg__static_mime_type(n, c->custom_mime), O_NOFOLLOW);
    } else if (status != 404) {
      mg__static_send_status(r, status, NULL, NULL);
    }
    free(real);
    mg_strfree(&n);
    if (status != 404) return;
  }
  if (!c->listing) {
    mg__static_send_status(r, 403, NULL, NULL);
    return;
  }
  mg__static_send_listing(r, real_root, dir, mg_mk_str(rel), c->hidden, c->auth_file);
}

/* ---- Digest authentication (auth.c) ----------------------------------------------- */

/* The realm, or NULL when auth_domain is not set. */
static const char *realm_of(const struct mg_serve_http_opts *o) {
  return o->auth_domain != NULL && o->auth_domain[0] != '\0' ? o->auth_domain : NULL;
}

/* Answers a refused request: 401 with a challenge (stale=true when the nonce expired),
 * or 500 when no challenge can be made (no realm, or one that cannot be sent). */
static void refuse(const struct mg__static_req *r, const char *realm, int stale) {
  char *field = mg__auth_challenge(realm, stale);
  if (field == NULL) {
    mg__static_send_status(r, 500, NULL, "auth not available");
  } else {
    mg__static_send_status(r, 401, field, NULL);
  }
  free(field);
}

/* global_auth_file guards every request (a missing or unreadable file refuses all).
 * Returns 1 when it answered. */
static int global_auth(const struct mg__static_req *r, const struct mg_serve_http_opts *o) {
  int stale = 0;
  if (o->global_auth_file == NULL) return 0;
  if (realm_of(o) != NULL &&
      mg__auth_check_file(r->hm, realm_of(o), o->global_auth_file, &stale) == 1) {
    return 0;
  }
  refuse(r, realm_of(o), stale);
  return 1;
}

/* The canonical folder whose password files guard the target `rel`: the target itself
 * when it is a folder inside the root, else the folder holding it; for a target that
 * does not exist (or leads out of the root), its deepest existing ancestor inside the
 * root. A heap string, or NULL when memory runs out. */
static char *guarded_folder(const char *root, const char *real_root, const char *rel,
                            size_t rel_len) {
  size_t n = rel_len;
  for (;;) {
    char *part = strdup(rel);
    if (part == NULL) return NULL;
    part[n] = '\0';
    char *joined = concat(root, part);
    free(part);
    if (joined == NULL) return NULL;
    char *real = realpath(joined, NULL);
    free(joined);
    struct stat st;
    if (real != NULL && mg__static_path_within(real_root, real) && stat(real, &st) == 0) {
      if (!S_ISDIR(st.st_mode)) *strrchr(real, '/') = '\0'; /* within the root: not "/" */
      if (real[0] == '\0') strcpy(real, "/");
      return real;
    }
    free(real);
    if (n <= 1) return strdup(real_root);
    while (n > 1 && rel[n - 1] == '/') n--; /* drop the last segment */
    while (n > 1 && rel[n - 1] != '/') n--;
  }
}

/* The per-directory password file: the nearest one found in the target's canonical
 * folder or any folder above it, up to the root (so a file guards its folder's whole
 * subtree; Mongoose 6 looked in the target's own folder only). Without auth_domain,
 * the default ".htpasswd" guards nothing (Mongoose 6: no realm, no check; the file
 * stays hidden), while an explicitly named file that exists refuses with 500. Returns
 * 1 when it answered. */
static int folder_auth(const struct mg__static_req *r, const struct serve_conf *c,
                       const struct mg_serve_http_opts *o, const char *real_root,
                       const char *rel, size_t rel_len) {
  const char *realm = realm_of(o);
  int explicit_file = o->per_directory_auth_file != NULL && o->per_directory_auth_file[0];
  if (realm == NULL && !explicit_file) return 0;
  char *dir = guarded_folder(c->root, real_root, rel, rel_len);
  int answered = 1;
  if (dir == NULL) {
    mg__static_send_status(r, 500, NULL, NULL);
    return 1;
  }
  for (;;) {
    char *file = concat(dir, "/");
    char *path = file != NULL ? concat(file, c->auth_file) : NULL;
    free(file);
    if (path == NULL) {
      mg__static_send_status(r, 500, NULL, NULL);
      break;
    }
    int stale = 0, ok = mg__auth_check_file(r->hm, realm, path, &stale);
    free(path);
    if (ok == 1) {
      answered = 0;
      break;
    }
    if (ok != MG__AUTH_MISSING) { /* refused, or a file that cannot be read */
      refuse(r, realm, stale);
      break;
    }
    if (strcmp(dir, real_root) == 0) {
      answered = 0; /* no password file anywhere up to the root */
      break;
    }
    char *slash = strrchr(dir, '/');
    if (slash == dir) slash++; /* the parent is "/" */
    *slash = '\0';
  }
  free(dir);
  return answered;
}

/* 1 when the canonical path `real` is global_auth_file itself (never served). */
static int is_global_file(const struct mg_serve_http_opts *o, const char *real) {
  if (o->global_auth_file == NULL) return 0;
  char *g = realpath(o->global_auth_file, NULL);
  int same = g != NULL && strcmp(g, real) == 0;
  free(g);
  return same;
}

/* Checks that come before the target is looked at: ACL, auth, method. Returns 1 when
 * it answered. */
static int answer_early(const struct mg__static_req *r, const struct mg_serve_http_opts *o) {
  int acl = acl_status(r->nc, o->ip_acl);
  if (acl != 0) {
    mg__static_send_status(r, acl, NULL, NULL);
    return 1;
  }
  if (global_auth(r, o)) return 1;
  const struct mg_str *m = &r->hm->method;
  if (mg_vcmp(m, "GET") == 0 || mg_vcmp(m, "HEAD") == 0) return 0;
  if (mg_vcmp(m, "OPTIONS") == 0) {
    if (mg_vcmp(&r->hm->uri, "*") != 0) return 0; /* per resource, once it is found */
    mg__static_send_status(r, 200, ALLOW_FIELD, "");
    return 1;
  }
  if (known_unsupported(m)) {
    mg__static_send_status(r, 405, ALLOW_FIELD, NULL);
  } else {
    mg__static_send_status(r, 501, NULL, NULL);
  }
  return 1;
}

/* Answers the existing target `real` (canonical) requested as `rel`. */
static void serve_target(const struct mg__static_req *r, const struct serve_conf *c,
                         const char *real_root, const char *real, const char *rel,
                         size_t rel_len) {
  struct stat st;
  if (stat(real, &st) != 0) {
    mg__static_send_status(r, mg__static_errno_status(errno), NULL, NULL);
    return;
  }
  int is_dir = S_ISDIR(st.st_mode);
  if (is_dir && rel[rel_len - 1] != '/') {
    redirect_to_folder(r, rel);
  } else if (mg_vcmp(&r->hm->method, "OPTIONS") == 0) {
    mg__static_send_status(r, 200, ALLOW_FIELD, "");
  } else if (is_dir) {
    serve_folder(r, c, real_root, real, rel);
  } else {
    struct mg_str mime = mg__static_mime_type(mg_mk_str_n(rel, rel_len), c->custom_mime);
    serve_path(r, real, mime, O_NOFOLLOW);
  }
}

void mg_serve_http(struct mg_connection *nc, struct http_message *hm,
                   struct mg_serve_http_opts opts) {
  struct mg__static_req r;
  struct serve_conf c;
  char *rel = NULL, *real_root = NULL, *real = NULL;
  size_t rel_len = 0;
  if (nc == NULL || hm == NULL) return;
  if (!req_init(&r, nc, hm, mg_mk_str(opts.extra_headers))) return;
  if (answer_early(&r, &opts)) return;
  conf_init(&c, &opts);
  int status = mg__static_target_path(hm->uri, &rel, &rel_len);
  if (status == 0 && (real_root = realpath(c.root, NULL)) == NULL) status = 500;
  if (status == 0 && folder_auth(&r, &c, &opts, real_root, rel, rel_len)) {
    status = -1; /* answered: 401 or 500 */
  }
  if (status == 0 && mg__static_path_hidden(mg_mk_str_n(rel, rel_len), c.hidden, c.auth_file)) {
    status = 404;
  }
  if (status == 0) status = resolve_within(&c, real_root, c.root, rel, &real);
  if (status == 0 && is_global_file(&opts, real)) status = 404; /* never served */
  if (status > 0) {
    mg__static_send_status(&r, status, NULL, NULL);
  } else if (status == 0) {
    serve_target(&r, &c, real_root, real, rel, rel_len);
  }
  free(real);
  free(real_root);
  free(rel);
}
