/*
 * Query-string / form variables (mg_get_http_var) and header parameters
 * (mg_http_parse_header2, mg_http_parse_header). Every input is a view read strictly
 * within its length.
 */
#include "params.h"
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mgio.h"
#include "../base/ascii.h"

/* 1 when the `n` bytes at `a` and `b` are equal ASCII case-insensitively. */
static int same_nocase(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (mg__ascii_lower((unsigned char) a[i]) != mg__ascii_lower((unsigned char) b[i])) {
      return 0;
    }
  }
  return 1;
}

int mg_get_http_var(const struct mg_str *buf, const char *name, char *dst, size_t dst_len) {
  const char *p, *end;
  size_t name_len;
  if (dst == NULL || dst_len == 0) return -2;
  dst[0] = '\0';
  if (buf == NULL || buf->p == NULL || buf->len == 0 || name == NULL) return -1;
  name_len = strlen(name);
  p = buf->p;
  end = buf->p + buf->len;
  /* Entry by entry: each starts at the beginning or right after a '&'. */
  while (p < end) {
    const char *amp = (const char *) memchr(p, '&', (size_t) (end - p));
    const char *entry_end = amp == NULL ? end : amp;
    size_t entry_len = (size_t) (entry_end - p);
    if (entry_len > name_len && p[name_len] == '=' && same_nocase(p, name, name_len)) {
      const char *v = p + name_len + 1;
      size_t vlen = (size_t) (entry_end - v);
      int r;
      if (vlen > INT_MAX) {
        return -3;
      }
      r = mg_url_decode(v, (int) vlen, dst, dst_len > INT_MAX ? INT_MAX : (int) dst_len, 1);
      if (r < 0) {
        dst[0] = '\0';
        return -3;
      }
      return r;
    }
    if (amp == NULL) break;
    p = amp + 1;
  }
  return -4;
}

/* Where a header parameter's value lies. */
struct param_value {
  const char *p; /* first byte of the value (after the opening quote if quoted) */
  size_t raw;    /* bytes from p to the end of the value (before the closing quote) */
  char quote;    /* the quote character, or 0 for an unquoted value */
  int found;     /* the parameter is present */
};

static int is_param_sep(char c) {
  return c == ' ' || c == ',' || c == ';';
}

/* From `p` just after an opening `quote`, the closing one (a backslash escapes the next
 * byte while scanning), or NULL when it never comes before `end`. */
static const char *closing_quote(const char *p, const char *end, char quote) {
  while (p < end) {
    if (*p == '\\' && end - p >= 2) {
      p += 2;
    } else if (*p == quote) {
      return p;
    } else {
      p++;
    }
  }
  return NULL;
}

static struct param_value find_param(const struct mg_str *hdr, const char *name,
                                     int fold_case) {
  struct param_value r = {NULL, 0, 0, 0};
  size_t n = strlen(name);
  const char *s = hdr->p, *end = hdr->p + hdr->len, *p = s;
  while (p < end) {
    if ((p == s || is_param_sep(p[-1])) && (size_t) (end - p) > n && p[n] == '=' &&
        (fold_case ? mg_ncasecmp(p, name, n) : memcmp(p, name, n)) == 0) {
      const char *v = p + n + 1;
      r.found = 1;
      if (v < end && (*v == '"' || *v == '\'')) {
        const char *q = closing_quote(v + 1, end, *v);
        if (q != NULL) {
          r.quote = *v;
          r.p = v + 1;
          r.raw = (size_t) (q - r.p);
        } else {
          r.p = v; /* unterminated: an empty value */
        }
      } else {
        const char *e = v;
        while (e < end && !is_param_sep(*e)) e++;
        r.p = v;
        r.raw = (size_t) (e - v);
      }
      return r;
    }
    if ((*p == '"' || *p == '\'') && p > s && p[-1] == '=') {
      /* skip a quoted value, so that its contents are never taken for a name */
      const char *q = closing_quote(p + 1, end, *p);
      if (q == NULL) break;
      p = q + 1;
    } else {
      p++;
    }
  }
  return r;
}

/* Copies the value to `out` (when not NULL) with its escapes removed; returns the
 * unescaped length. */
static size_t unescape_value(const struct param_value *v, char *out) {
  size_t i = 0, n = 0;
  while (i < v->raw) {
    char c = v->p[i];
    if (v->quote && c == '\\' && i + 1 < v->raw &&
        (v->p[i + 1] == v->quote || v->p[i + 1] == '\\')) {
      c = v->p[i + 1];
      i++;
    }
    if (out != NULL) out[n] = c;
    n++;
    i++;
  }
  return n;
}

static int parse_param(struct mg_str *hdr, const char *var_name, int fold_case, char **buf,
                       size_t buf_size) {
  struct param_value v;
  size_t len;
  char *dst;
  if (buf == NULL) return 0;
  if (*buf != NULL && buf_size > 0) (*buf)[0] = '\0';
  if (hdr == NULL || hdr->p == NULL || var_name == NULL) return 0;
  v = find_param(hdr, var_name, fold_case);
  if (!v.found) return 0;
  len = unescape_value(&v, NULL);
  if (len > INT_MAX) return 0;
  dst = *buf;
  if (dst == NULL || len >= buf_size) {
    dst = (char *) malloc(len + 1);
    if (dst == NULL) return 0;
    *buf = dst;
  }
  unescape_value(&v, dst);
  dst[len] = '\0';
  return (int) len;
}

int mg_http_parse_header2(struct mg_str *hdr, const char *var_name, char **buf,
                          size_t buf_size) {
  return parse_param(hdr, var_name, 0, buf, buf_size); /* names case-sensitive, as in 6.x */
}

int mg__http_header_param(struct mg_str *hdr, const char *name, char **buf, size_t buf_size) {
  return parse_param(hdr, name, 1, buf, buf_size);
}

int mg_http_parse_header(struct mg_str *hdr, const char *var_name, char *buf,
                         size_t buf_size) {
  struct param_value v;
  size_t len;
  if (buf != NULL && buf_size > 0) buf[0] = '\0';
  if (buf == NULL || hdr == NULL || hdr->p == NULL || var_name == NULL) return 0;
  v = find_param(hdr, var_name, 0);
  if (!v.found) return 0;
  len = unescape_value(&v, NULL);
  if (len >= buf_size || len > INT_MAX) return 0;
  unescape_value(&v, buf);
  buf[len] = '\0';
  return (int) len;
}
