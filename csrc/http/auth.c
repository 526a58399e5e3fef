/*
 * HTTP Digest authentication on connections (RFC 7616 with MD5 and qop=auth, the RFC 2617
 * form htdigest files hold): the client's Authorization field, the server's challenge
 * and check, htdigest files, mg_http_is_authorized. The pure parts (parameter parsing,
 * digests, nonces, the replay table) are in proto/auth*.c; this file holds the
 * per-process state they need. See the "Authentication" section of mgio.h.
 *
 * Per-process state, behind one mutex: the nonce key (32 bytes from the OS CSPRNG, made
 * on first use and again in a forked child, so that two processes never share nonces
 * or replay tables), the serial number of the last nonce issued, the nonce lifetime,
 * and the table of the highest nc seen per recently used nonce.
 */
#define _DEFAULT_SOURCE /* getrandom, flockfile, getc_unlocked */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "../proto/auth.h"
#include "auth.h"
#include "http_internal.h"

/* ---- per-process state -------------------------------------------------------------- */

static pthread_mutex_t s_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t s_once = PTHREAD_ONCE_INIT;
static unsigned char s_key[MG__NONCE_KEY_LEN];
static int s_key_ok;          /* s_key holds CSPRNG bytes */
static uint64_t s_serial;     /* of the last nonce issued */
static unsigned int s_lifetime = MG_DIGEST_NONCE_LIFETIME;
static uint64_t (*s_clock)(void);
static struct mg__nonce_table s_table;

/* Fills buf with n bytes from the OS CSPRNG (getrandom, else /dev/urandom); 0 or -1. */
static int random_bytes(void *buf, size_t n) {
  unsigned char *p = (unsigned char *) buf;
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && errno == ENOSYS) break;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t) r;
  }
  if (n == 0) return 0;
  int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  while (n > 0) {
    ssize_t r = read(fd, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    p += r;
    n -= (size_t) r;
  }
  close(fd);
  return n == 0 ? 0 : -1;
}

static void new_key(void) {
  s_key_ok = random_bytes(s_key, sizeof(s_key)) == 0;
  s_serial = 0;
  memset(&s_table, 0, sizeof(s_table));
}

static void before_fork(void) {
  pthread_mutex_lock(&s_lock);
}

static void after_fork_parent(void) {
  pthread_mutex_unlock(&s_lock);
}

/* The child gets its own key: nonces of the parent fail there, and a replay table is
 * never split between two processes. */
static void after_fork_child(void) {
  new_key();
  pthread_mutex_unlock(&s_lock);
}

static void init_once(void) {
  new_key();
  pthread_atfork(before_fork, after_fork_parent, after_fork_child);
}

/* 1 when the key is ready (made on first use). */
static int have_key(void) {
  pthread_once(&s_once, init_once);
  return s_key_ok;
}

static uint64_t monotonic_seconds(void) {
  struct timespec ts;
  if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
  return (uint64_t) ts.tv_sec;
}

/* The current time on the nonce clock; call with s_lock held. */
static uint64_t now_locked(void) {
  return s_clock != NULL ? s_clock() : monotonic_seconds();
}

void mg__auth_set_clock(uint64_t (*now)(void)) {
  pthread_mutex_lock(&s_lock);
  s_clock = now;
  pthread_mutex_unlock(&s_lock);
}

unsigned int mg_http_set_digest_nonce_lifetime(unsigned int seconds) {
  pthread_mutex_lock(&s_lock);
  unsigned int old = s_lifetime;
  s_lifetime = seconds != 0 ? seconds : MG_DIGEST_NONCE_LIFETIME;
  pthread_mutex_unlock(&s_lock);
  return old;
}

int mg__auth_make_nonce(char out[65], const char *realm, uint64_t t) {
  if (!have_key()) return -1;
  pthread_mutex_lock(&s_lock);
  uint64_t serial = ++s_serial;
  pthread_mutex_unlock(&s_lock);
  mg__nonce_make(out, s_key, t, serial, mg_mk_str(realm));
  return 0;
}

/* ---- building fields ---------------------------------------------------------------- */

/* Appends `s` as a quoted-string (RFC 9110 5.6.4: '"' and '\' escaped). 0 when it holds
 * a control byte (CR, LF, NUL ...), which no quoted-string may carry. */
static int add_quoted(struct mg__out *o, const char *s) {
  mg__out_add(o, "\"", 1);
  for (const char *p = s; *p != '\0'; p++) {
    unsigned char ch = (unsigned char) *p;
    if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return 0;
    if (ch == '"' || ch == '\\') mg__out_add(o, "\\", 1);
    mg__out_add(o, p, 1);
  }
  mg__out_add(o, "\"", 1);
  return 1;
}

/* A heap, NUL-terminated copy of what `o` holds (then freed), or NULL. */
static char *out_string(struct mg__out *o) {
  char *s = NULL;
  mg__out_add(o, "", 1);
  if (!o->failed && (s = (char *) malloc(o->len)) != NULL) memcpy(s, o->p, o->len);
  mg__out_free(o);
  return s;
}

char *mg__auth_challenge(const char *realm, int stale) {
  char nonce[MG__NONCE_LEN + 1];
  struct mg__out o;
  if (realm == NULL || strlen(realm) > MG__DIGEST_MAX_REALM || !have_key()) return NULL;
  pthread_mutex_lock(&s_lock);
  uint64_t serial = ++s_serial, t = now_locked();
  pthread_mutex_unlock(&s_lock);
  mg__nonce_make(nonce, s_key, t, serial, mg_mk_str(realm));
  mg__out_init(&o);
  mg__out_str(&o, "WWW-Authenticate: Digest realm=");
  if (!add_quoted(&o, realm)) {
    mg__out_free(&o);
    return NULL;
  }
  mg__out_str(&o, ", qop=\"auth\", nonce=\"");
  mg__out_str(&o, nonce);
  mg__out_str(&o, "\", algorithm=MD5");
  if (stale) mg__out_str(&o, ", stale=true");
  mg__out_str(&o, "\r\n");
  return out_string(&o);
}

void mg_http_send_digest_auth_request2(struct mg_connection *c, const char *domain,
                                       int stale) {
  if (c == NULL) return;
  char *field = mg__auth_challenge(domain, stale);
  if (field == NULL) {
    mg_http_send_error(c, 500, "auth not available");
    return;
  }
  mg_send_head(c, 401, 0, field);
  free(field);
}

void mg_http_send_digest_auth_request(struct mg_connection *c, const char *domain) {
  mg_http_send_digest_auth_request2(c, domain, 0);
}

int mg__auth_endpoint(struct mg_connection *c, struct http_message *hm, const char *realm,
                      const char *file) {
  int stale = 0;
  if (realm != NULL && file != NULL && mg__auth_check_file(hm, realm, file, &stale) == 1)
    return 1;
  char *field = mg__auth_challenge(realm, stale);
  if (field == NULL) {
    mg_http_send_error(c, 500, "auth not available");
    return 0;
  }
  struct mg__out o;
  mg__out_init(&o);
  mg__out_str(&o, field);
  mg__out_str(&o, "Connection: close");
  free(field);
  field = out_string(&o);
  if (field == NULL) {
    mg_http_send_error(c, 500, NULL);
    return 0;
  }
  mg_send_head(c, 401, 0, field);
  free(field);
  c->flags |= MG_F_SEND_AND_CLOSE;
  return 0;
}

/* ---- the client ------------------------------------------------------------------- */

int mg_http_create_digest_auth_header(char *buf, size_t buf_len, const char *method,
                                      const char *uri, const char *auth_domain,
                                      const char *user, const char *passwd,
                                      const char *nonce) {
  unsigned char rnd[16];
  char cnonce[33], ha1[33], resp[33];
  struct mg__out o;
  if (buf != NULL && buf_len > 0) buf[0] = '\0';
  if (buf == NULL || method == NULL || uri == NULL || auth_domain == NULL || user == NULL ||
      passwd == NULL || nonce == NULL || method[0] == '\0' || random_bytes(rnd, sizeof(rnd)) != 0) {
    return -1;
  }
  for (const char *m = method; *m != '\0'; m++) {
    if ((unsigned char) *m <= ' ' || *m == 0x7f) return -1; /* a method is a token */
  }
  cs_to_hex(cnonce, rnd, sizeof(rnd));
  mg__digest_ha1(ha1, mg_mk_str(user), mg_mk_str(auth_domain), mg_mk_str(passwd));
  mg__digest_response(resp, ha1, mg_mk_str(method), mg_mk_str(uri), mg_mk_str(nonce),
                      mg_mk_str("00000001"), mg_mk_str(cnonce), mg_mk_str("auth"));
  mg__out_init(&o);
  mg__out_str(&o, "Authorization: Digest username=");
  int ok = add_quoted(&o, user);
  mg__out_str(&o, ", realm=");
  ok = ok && add_quoted(&o, auth_domain);
  mg__out_str(&o, ", nonce=");
  ok = ok && add_quoted(&o, nonce);
  mg__out_str(&o, ", uri=");
  ok = ok && add_quoted(&o, uri);
  mg__out_str(&o, ", qop=auth, nc=00000001, cnonce=\"");
  mg__out_str(&o, cnonce);
  mg__out_str(&o, "\", response=\"");
  mg__out_str(&o, resp);
  mg__out_str(&o, "\", algorithm=MD5\r\n");
  if (!ok || o.failed || o.len > (size_t) INT32_MAX) {
    mg__out_free(&o);
    return -1;
  }
  int n = (int) o.len;
  if (o.len < buf_len) {
    memcpy(buf, o.p, o.len);
    buf[o.len] = '\0';
  }
  mg__out_free(&o);
  return n;
}

/* ---- the server's check ------------------------------------------------------------- */

/* Reads the next line of `fp` into line[0 .. cap) without its LF. Returns its length,
 * cap + 1 for a longer line (skipped to its end), or -1 at the end of the file. */
static long read_line(FILE *fp, char *line, size_t cap) {
  size_t n = 0;
  int ch, any = 0, too_long = 0;
  while ((ch = getc_unlocked(fp)) != EOF) {
    any = 1;
    if (ch == '\n') break;
    if (n < cap) {
      line[n++] = (char) ch;
    } else {
      too_long = 1;
    }
  }
  if (!any) return -1;
  return too_long ? (long) cap + 1 : (long) n;
}

static int is_auth(struct mg_str qop) {
  return qop.len == 4 && mg_ncasecmp(qop.p, "auth", 4) == 0;
}

/* 1 when `s` is set, not empty and at most `max` bytes long. */
static int bounded(struct mg_str s, size_t max) {
  return s.p != NULL && s.len > 0 && s.len <= max;
}

int mg_check_digest_auth(struct mg_str method, struct mg_str uri, struct mg_str username,
                         struct mg_str cnonce, struct mg_str response, struct mg_str qop,
                         struct mg_str nc, struct mg_str nonce, struct mg_str auth_domain,
                         FILE *fp) {
  /* user (256) + realm (256) + HA1 (32) + 2 colons + CR fit; a longer line can match no
   * user and realm that passed the bounds below, so it is skipped whole */
  char line[600], ha1[32], want[33];
  int found = 0;
  if (fp == NULL || !bounded(method, MG__DIGEST_MAX_SHORT) || !bounded(uri, MG__DIGEST_MAX_URI) ||
      !bounded(username, MG__DIGEST_MAX_USER) || !bounded(cnonce, MG__DIGEST_MAX_CNONCE) ||
      !bounded(nonce, MG__DIGEST_MAX_NONCE) || !mg__digest_is_hex(response, 32) ||
      !mg__digest_is_hex(nc, 8) || !is_auth(qop) ||
      (auth_domain.p == NULL && auth_domain.len > 0) ||
      auth_domain.len > MG__DIGEST_MAX_REALM) {
    return 0;
  }
  memset(ha1, '0', sizeof(ha1));
  flockfile(fp);
  for (;;) {
    long n = read_line(fp, line, sizeof(line));
    if (n < 0) break;
    struct mg_str u, r, h;
    if ((size_t) n > sizeof(line) || found ||
        mg__htdigest_line(mg_mk_str_n(line, (size_t) n), &u, &r, &h) != 0) {
      continue; /* the whole file is read either way: no timing hint of where a user is */
    }
    if (mg_strcmp(u, username) == 0 && mg_strcmp(r, auth_domain) == 0) {
      memcpy(ha1, h.p, sizeof(ha1));
      found = 1;
    }
  }
  funlockfile(fp);
  /* the digest is computed and compared for an unknown user too (with a dummy HA1) */
  mg__digest_response(want, ha1, method, uri, nonce, nc, cnonce, qop);
  int same = mg__ct_equal_nocase(want, response.p, 32);
  return found & same;
}

/* Whether the `uri` parameter is the request target of `hm`: its path and, when the
 * target had a '?', the '?' and the query. */
static int uri_is_target(struct mg_str given, const struct http_message *hm) {
  struct mg_str path = hm->uri, q = hm->query_string;
  int has_q = q.len > 0 || (q.p != NULL && path.p != NULL && q.p == path.p + path.len + 1 &&
                            path.p[path.len] == '?');
  if (path.len == 0 || path.p == NULL) return 0;
  size_t want = path.len + (has_q ? 1 + q.len : 0);
  if (given.len != want || memcmp(given.p, path.p, path.len) != 0) return 0;
  return !has_q || (given.p[path.len] == '?' &&
                    (q.len == 0 || memcmp(given.p + path.len + 1, q.p, q.len) == 0));
}

/* The nc parameter (8 hex digits, checked) as a number. */
static uint32_t nc_value(struct mg_str nc) {
  uint32_t v = 0;
  for (size_t i = 0; i < 8; i++) {
    unsigned char ch = (unsigned char) nc.p[i];
    unsigned int d = ch <= '9' ? (unsigned int) (ch - '0') : (ch | 0x20u) - 'a' + 10u;
    v = v << 4 | d;
  }
  return v;
}

/* The checks that need no secret; 1 when the parameters are all there and well formed
 * for `hm` and `realm`. */
static int params_ok(const struct mg__digest_params *p, const struct http_message *hm,
                     const char *realm) {
  return bounded(p->username, MG__DIGEST_MAX_USER) && p->realm.p != NULL &&
         mg_vcmp(&p->realm, realm) == 0 && bounded(p->nonce, MG__DIGEST_MAX_NONCE) &&
         bounded(p->uri, MG__DIGEST_MAX_URI) && uri_is_target(p->uri, hm) &&
         mg__digest_is_hex(p->response, 32) && p->qop.p != NULL && is_auth(p->qop) &&
         mg__digest_is_hex(p->nc, 8) && nc_value(p->nc) > 0 &&
         bounded(p->cnonce, MG__DIGEST_MAX_CNONCE) &&
         (p->algorithm.p == NULL || mg_vcasecmp(&p->algorithm, "MD5") == 0) &&
         (p->userhash.p == NULL || mg_vcasecmp(&p->userhash, "false") == 0);
}

int mg_http_check_digest_auth2(struct http_message *hm, const char *auth_domain, FILE *fp,
                               int *stale) {
  struct mg__digest_params p;
  struct mg_str *hdr = NULL;
  char stack[1024], *store = stack;
  int ok = 0, nonce_state = MG__NONCE_BAD;
  uint64_t serial = 0;
  if (stale != NULL) *stale = 0;
  if (hm == NULL || auth_domain == NULL || fp == NULL || !have_key()) return 0;
  for (size_t i = 0; i < hm->num_headers && i < MG_MAX_HTTP_HEADERS; i++) {
    if (mg_vcasecmp(&hm->header_names[i], "Authorization") != 0) continue;
    if (hdr != NULL) return 0; /* two Authorization fields: ambiguous */
    hdr = &hm->header_values[i];
  }
  if (hdr == NULL) return 0;
  if (hdr->len > sizeof(stack) && (store = (char *) malloc(hdr->len)) == NULL) return 0;
  if (mg__digest_parse(*hdr, &p, store, hdr->len > sizeof(stack) ? hdr->len : sizeof(stack)) ==
          0 &&
      params_ok(&p, hm, auth_domain)) {
    pthread_mutex_lock(&s_lock);
    uint64_t now = now_locked(), lifetime = s_lifetime;
    pthread_mutex_unlock(&s_lock);
    nonce_state = mg__nonce_check(p.nonce, s_key, mg_mk_str(auth_domain), now, lifetime,
                                  &serial);
  }
  if (nonce_state != MG__NONCE_BAD &&
      mg_check_digest_auth(hm->method, p.uri, p.username, p.cnonce, p.response, p.qop, p.nc,
                           p.nonce, mg_mk_str(auth_domain), fp)) {
    /* the credentials are right: refuse an old nonce or a used nc with stale=true, so
     * that the client retries with a fresh nonce instead of asking its user again */
    int used = MG__NC_REPLAY;
    if (nonce_state == MG__NONCE_OK) {
      pthread_mutex_lock(&s_lock);
      used = mg__nonce_table_use(&s_table, serial, nc_value(p.nc));
      pthread_mutex_unlock(&s_lock);
    }
    ok = used == MG__NC_OK;
    if (!ok && stale != NULL) *stale = 1;
  }
  if (store != stack) free(store);
  return ok;
}

int mg_http_check_digest_auth(struct http_message *hm, const char *auth_domain, FILE *fp) {
  return mg_http_check_digest_auth2(hm, auth_domain, fp, NULL);
}

/* ---- password files ----------------------------------------------------------------- */

int mg__auth_check_file(struct http_message *hm, const char *realm, const char *path,
                        int *stale) {
  *stale = 0;
  FILE *fp = fopen(path, "re");
  if (fp == NULL) {
    return errno == ENOENT || errno == ENOTDIR ? MG__AUTH_MISSING : MG__AUTH_UNREADABLE;
  }
  int ok = realm != NULL && mg_http_check_digest_auth2(hm, realm, fp, stale);
  fclose(fp);
  return ok;
}

int mg_http_is_authorized(struct http_message *hm, struct mg_str path, const char *domain,
                          const char *passwords_file, int flags) {
  if (passwords_file == NULL) return 1;
  if (domain == NULL || hm == NULL || (path.p == NULL && path.len > 0)) return 0;
  /* the file: as given, in the folder `path`, or in the folder holding `path` */
  size_t dir_len = 0;
  int sep = 0;
  if (!(flags & MG_AUTH_FLAG_IS_GLOBAL_PASS_FILE)) {
    if (flags & MG_AUTH_FLAG_IS_DIRECTORY) {
      dir_len = path.len;
      sep = dir_len > 0 && path.p[dir_len - 1] != '/';
    } else {
      for (dir_len = path.len; dir_len > 0 && path.p[dir_len - 1] != '/';) dir_len--;
    }
  }
  size_t flen = strlen(passwords_file);
  if (dir_len > SIZE_MAX - 2 - flen) return 0;
  char *file = (char *) malloc(dir_len + (size_t) sep + flen + 1);
  if (file == NULL) return 0;
  if (dir_len > 0) memcpy(file, path.p, dir_len);
  if (sep) file[dir_len] = '/';
  memcpy(file + dir_len + sep, passwords_file, flen + 1);
  int stale, r = mg__auth_check_file(hm, domain, file, &stale);
  free(file);
  if (r == MG__AUTH_MISSING && (flags & MG_AUTH_FLAG_ALLOW_MISSING_FILE)) return 1;
  return r == 1;
}
