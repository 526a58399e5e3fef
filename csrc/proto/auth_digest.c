/*
 * Digest authentication codec (RFC 7616 with MD5 and qop=auth, the RFC 2617 form):
 * parsing an Authorization: Digest field with a bound on every parameter, the
 * request-digest, htdigest lines and a constant-time comparison. See proto/auth.h.
 */
#include <string.h>

#include "auth.h"

/* ---- small helpers ------------------------------------------------------------------- */

static int is_ows(char ch) {
  return ch == ' ' || ch == '\t';
}

/* RFC 9110 5.6.2 tchar. */
static int is_tchar(unsigned char ch) {
  if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9'))
    return 1;
  return ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL;
}

static int is_hex(unsigned char ch) {
  return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F');
}

static unsigned char lower(unsigned char ch) {
  return ch >= 'A' && ch <= 'Z' ? (unsigned char) (ch + 32) : ch;
}

/* ASCII case-insensitive equality of `n` bytes at `a` with the lower-case `b`. */
static int eq_nocase(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (lower((unsigned char) a[i]) != (unsigned char) b[i]) return 0;
  }
  return 1;
}

int mg__digest_is_hex(struct mg_str s, size_t n) {
  if (s.p == NULL || s.len != n) return 0;
  for (size_t i = 0; i < n; i++) {
    if (!is_hex((unsigned char) s.p[i])) return 0;
  }
  return 1;
}

int mg__ct_equal_nocase(const char *a, const char *b, size_t n) {
  unsigned int diff = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned int x = (unsigned char) a[i], y = (unsigned char) b[i];
    /* fold A-Z to a-z without a data-dependent branch: 0x20 when 'A' <= x <= 'Z' */
    x |= ((x - 'A') < 26u) << 5;
    y |= ((y - 'A') < 26u) << 5;
    diff |= x ^ y;
  }
  return diff == 0;
}

/* ---- the Authorization field ---------------------------------------------------------- */

/* The slot of `p` for the parameter named name[0 .. n) and its bound, or NULL. */
static struct mg_str *param_slot(struct mg__digest_params *p, const char *name, size_t n,
                                 size_t *max) {
  static const struct {
    const char *name;
    size_t offset, max;
  } known[] = {
      {"username", offsetof(struct mg__digest_params, username), MG__DIGEST_MAX_USER},
      {"realm", offsetof(struct mg__digest_params, realm), MG__DIGEST_MAX_REALM},
      {"nonce", offsetof(struct mg__digest_params, nonce), MG__DIGEST_MAX_NONCE},
      {"uri", offsetof(struct mg__digest_params, uri), MG__DIGEST_MAX_URI},
      {"response", offsetof(struct mg__digest_params, response), MG__DIGEST_MAX_SHORT},
      {"qop", offsetof(struct mg__digest_params, qop), MG__DIGEST_MAX_SHORT},
      {"nc", offsetof(struct mg__digest_params, nc), MG__DIGEST_MAX_SHORT},
      {"cnonce", offsetof(struct mg__digest_params, cnonce), MG__DIGEST_MAX_CNONCE},
      {"algorithm", offsetof(struct mg__digest_params, algorithm), MG__DIGEST_MAX_SHORT},
      {"opaque", offsetof(struct mg__digest_params, opaque), MG__DIGEST_MAX_OPAQUE},
      {"userhash", offsetof(struct mg__digest_params, userhash), MG__DIGEST_MAX_SHORT},
  };
  for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
    if (strlen(known[i].name) == n && eq_nocase(name, known[i].name, n)) {
      *max = known[i].max;
      return (struct mg_str *) (void *) ((char *) p + known[i].offset);
    }
  }
  return NULL;
}

/* Reads one value at *s (a token or a quoted-string), copying it to `out` when `out` is
 * not NULL (at most `max` bytes). Returns its length, or -1. */
static long read_value(const char **s, const char *e, char *out, size_t max) {
  const char *q = *s;
  size_t n = 0;
  if (q < e && *q == '"') {
    q++;
    for (;;) {
      if (q == e) return -1; /* unterminated */
      unsigned char ch = (unsigned char) *q++;
      if (ch == '"') break;
      if (ch == '\\') {
        if (q == e) return -1;
        ch = (unsigned char) *q++;
      }
      if ((ch < 0x20 && ch != '\t') || ch == 0x7f) return -1;
      if (out != NULL) {
        if (n >= max) return -1;
        out[n] = (char) ch;
      }
      n++;
    }
  } else {
    while (q < e && is_tchar((unsigned char) *q)) {
      if (out != NULL) {
        if (n >= max) return -1;
        out[n] = *q;
      }
      n++;
      q++;
    }
    if (n == 0) return -1; /* an unquoted value is a non-empty token */
  }
  *s = q;
  return (long) n;
}

int mg__digest_parse(struct mg_str v, struct mg__digest_params *p, char *store, size_t cap) {
  memset(p, 0, sizeof(*p));
  if (v.p == NULL || store == NULL) return -1;
  const char *s = v.p, *e = v.p + v.len;
  while (s < e && is_ows(*s)) s++;
  if ((size_t) (e - s) < 7 || !eq_nocase(s, "digest", 6) || !is_ows(s[6])) return -1;
  s += 7;
  size_t used = 0;
  for (;;) {
    while (s < e && (is_ows(*s) || *s == ',')) s++;
    if (s == e) break;
    const char *name = s;
    while (s < e && is_tchar((unsigned char) *s)) s++;
    size_t name_len = (size_t) (s - name);
    while (s < e && is_ows(*s)) s++;
    if (name_len == 0 || s == e || *s != '=') return -1;
    s++;
    while (s < e && is_ows(*s)) s++;
    size_t max = 0;
    struct mg_str *slot = param_slot(p, name, name_len, &max);
    if (slot != NULL && slot->p != NULL) return -1; /* a repeated parameter: ambiguous */
    char *out = slot != NULL ? store + used : NULL;
    if (slot != NULL && cap - used < max) max = cap - used;
    long n = read_value(&s, e, out, max);
    if (n < 0) return -1;
    if (slot != NULL) {
      *slot = mg_mk_str_n(out, (size_t) n);
      used += (size_t) n;
    }
    while (s < e && is_ows(*s)) s++;
    if (s < e && *s != ',') return -1;
  }
  return 0;
}

/* ---- digests ------------------------------------------------------------------------ */

void mg__digest_ha1(char out[33], struct mg_str user, struct mg_str realm, struct mg_str pass) {
  cs_md5(out, user.p != NULL ? user.p : "", user.len, ":", (size_t) 1,
         realm.p != NULL ? realm.p : "", realm.len, ":", (size_t) 1,
         pass.p != NULL ? pass.p : "", pass.len, (const char *) NULL);
}

/* A view that is never NULL, for cs_md5's argument list. */
static const char *ptr(struct mg_str s) {
  return s.p != NULL ? s.p : "";
}

void mg__digest_response(char out[33], const char ha1[32], struct mg_str method,
                         struct mg_str uri, struct mg_str nonce, struct mg_str nc,
                         struct mg_str cnonce, struct mg_str qop) {
  char ha2[33], h1[32];
  for (size_t i = 0; i < 32; i++) h1[i] = (char) lower((unsigned char) ha1[i]);
  cs_md5(ha2, ptr(method), method.len, ":", (size_t) 1, ptr(uri), uri.len,
         (const char *) NULL);
  cs_md5(out, h1, (size_t) 32, ":", (size_t) 1, ptr(nonce), nonce.len, ":", (size_t) 1,
         ptr(nc), nc.len, ":", (size_t) 1, ptr(cnonce), cnonce.len, ":", (size_t) 1,
         ptr(qop), qop.len, ":", (size_t) 1, ha2, (size_t) 32, (const char *) NULL);
}

/* ---- htdigest files ------------------------------------------------------------------- */

int mg__htdigest_line(struct mg_str line, struct mg_str *user, struct mg_str *realm,
                      struct mg_str *ha1) {
  if (line.p == NULL) return -1;
  if (line.len > 0 && line.p[line.len - 1] == '\r') line.len--;
  const char *first = memchr(line.p, ':', line.len);
  if (first == NULL || first == line.p) return -1;
  size_t last = line.len;
  while (last > 0 && line.p[last - 1] != ':') last--;
  if (last == 0 || line.p + last - 1 == first) return -1; /* one ':' only */
  *user = mg_mk_str_n(line.p, (size_t) (first - line.p));
  *realm = mg_mk_str_n(first + 1, (size_t) (line.p + last - 1 - (first + 1)));
  *ha1 = mg_mk_str_n(line.p + last, line.len - last);
  return mg__digest_is_hex(*ha1, 32) ? 0 : -1;
}
