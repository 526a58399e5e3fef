/*
 * URI helpers (RFC 3986): splitting a URI into its parts, assembling one from parts,
 * removing dot segments from a path, and a small delimiter tokenizer. Inputs are views
 * and are read strictly within their length.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mgio.h"

static const struct mg_str no_str = {NULL, 0};

/* The first byte in [p, end) that is one of the `n` bytes of `set`, or `end`. */
static const char *find_any(const char *p, const char *end, const char *set, size_t n) {
  for (; p < end; p++) {
    if (memchr(set, (unsigned char) *p, n) != NULL) break;
  }
  return p;
}

/* Parses 0..5 digits (value <= 65535) spanning [p, end); -1 when anything else. */
static long parse_port(const char *p, const char *end) {
  long v = 0;
  for (; p < end; p++) {
    if (*p < '0' || *p > '9') return -1;
    v = v * 10 + (*p - '0');
    if (v > 65535) return -1;
  }
  return v;
}

int mg_parse_uri(const struct mg_str uri, struct mg_str *scheme, struct mg_str *user_info,
                 struct mg_str *host, unsigned int *port, struct mg_str *path,
                 struct mg_str *query, struct mg_str *fragment) {
  struct mg_str rscheme = no_str, ruser = no_str, rhost = no_str, rpath = no_str,
                rquery = no_str, rfrag = no_str;
  const char *p = uri.p, *end = uri.p == NULL ? NULL : uri.p + uri.len;
  const char *auth_end, *host_end, *stop;
  long rport = 0;

  if (p == NULL) end = p = "";
  /* scheme: text before a "://" that comes before any of "/?#[@" */
  stop = find_any(p, end, ":/?#[@", 6);
  if (stop < end && *stop == ':' && end - stop >= 3 && stop[1] == '/' && stop[2] == '/') {
    rscheme.p = p;
    rscheme.len = (size_t) (stop - p);
    p = stop + 3;
    auth_end = find_any(p, end, "/?#", 3);
    /* user_info: up to the last '@' of the authority */
    for (stop = auth_end; stop > p; stop--) {
      if (stop[-1] == '@') break;
    }
    if (stop > p) {
      ruser.p = p;
      ruser.len = (size_t) (stop - 1 - p);
      p = stop;
    }
  } else {
    auth_end = find_any(p, end, "/?#", 3);
  }

  /* host */
  rhost.p = p;
  if (p < auth_end && *p == '[') {
    const char *rb = memchr(p, ']', (size_t) (auth_end - p));
    if (rb == NULL) return -1;
    host_end = rb + 1;
    if (host_end < auth_end && *host_end != ':') return -1;
  } else {
    host_end = find_any(p, auth_end, ":", 1);
  }
  rhost.len = (size_t) (host_end - p);
  if (host_end < auth_end) { /* *host_end == ':' */
    rport = parse_port(host_end + 1, auth_end);
    if (rport < 0) return -1;
  }

  /* path, query, fragment */
  p = auth_end;
  stop = find_any(p, end, "?#", 2);
  if (stop > p) {
    rpath.p = p;
    rpath.len = (size_t) (stop - p);
  }
  p = stop;
  if (p < end && *p == '?') {
    stop = find_any(p + 1, end, "#", 1);
    rquery.p = p + 1;
    rquery.len = (size_t) (stop - p - 1);
    p = stop;
  }
  if (p < end && *p == '#') {
    rfrag.p = p + 1;
    rfrag.len = (size_t) (end - p - 1);
  }

  if (scheme != NULL) *scheme = rscheme;
  if (user_info != NULL) *user_info = ruser;
  if (host != NULL) *host = rhost;
  if (port != NULL) *port = (unsigned int) rport;
  if (path != NULL) *path = rpath;
  if (query != NULL) *query = rquery;
  if (fragment != NULL) *fragment = rfrag;
  return 0;
}

int mg_normalize_uri_path(const struct mg_str *in, struct mg_str *out) {
  const char *src;
  char *dst;
  size_t n, i = 0, o = 0;
  if (in == NULL || out == NULL || in->p == NULL || in->len == 0 || in->p[0] != '/') {
    return 0;
  }
  src = in->p;
  n = in->len;
  dst = (char *) out->p;
  /* Invariant: o <= i, so writing dst[o..] never clobbers unread input in place. */
  while (i < n) {
    size_t j = i + 1, seg_len;
    int last;
    while (j < n && src[j] != '/') j++;
    seg_len = j - i - 1;
    last = j == n;
    if (seg_len == 1 && src[i + 1] == '.') {
      if (last) dst[o++] = '/';
    } else if (seg_len == 2 && src[i + 1] == '.' && src[i + 2] == '.') {
      /* drop the last output segment with its '/'; dst[0] is always '/' */
      if (o > 0) {
        do {
          o--;
        } while (dst[o] != '/');
      }
      if (last) dst[o++] = '/';
    } else {
      memmove(dst + o, src + i, j - i);
      o += j - i;
    }
    i = j;
  }
  out->len = o;
  return 1;
}

/* Adds `len` bytes to the output, or only counts them when out is NULL; sets *overflow
 * instead when the count would exceed SIZE_MAX - 1 (room for the NUL). */
static void put(char *out, size_t *pos, const char *s, size_t len, int *overflow) {
  if (len > SIZE_MAX - 1 - *pos) {
    *overflow = 1;
    return;
  }
  if (out != NULL && len > 0) memcpy(out + *pos, s, len);
  *pos += len;
}

static int present(const struct mg_str *s) {
  return s != NULL && s->p != NULL;
}

int mg_assemble_uri(const struct mg_str *scheme, const struct mg_str *user_info,
                    const struct mg_str *host, unsigned int port, const struct mg_str *path,
                    const struct mg_str *query, const struct mg_str *fragment,
                    int normalize_path, struct mg_str *uri) {
  char port_buf[16];
  size_t port_len = 0, total = 0, pos;
  char *npath = NULL, *out = NULL;
  struct mg_str p = no_str;
  int pass;

  if (uri == NULL) return -1;
  *uri = no_str;
  if (present(path)) {
    p = *path;
    if (normalize_path) {
      struct mg_str np;
      npath = (char *) malloc(path->len + 1);
      if (npath == NULL) return -1;
      np.p = npath;
      if (!mg_normalize_uri_path(path, &np)) {
        free(npath);
        return -1;
      }
      p = np;
    }
  }
  if (port != 0) {
    unsigned int v = port;
    char tmp[16];
    size_t k = 0;
    while (v > 0) {
      tmp[k++] = (char) ('0' + v % 10);
      v /= 10;
    }
    port_buf[port_len++] = ':';
    while (k > 0) port_buf[port_len++] = tmp[--k];
  }
  /* The first pass measures, the second writes. */
  for (pass = 0; pass < 2; pass++) {
    int of = 0;
    pos = 0;
    if (present(scheme)) {
      put(out, &pos, scheme->p, scheme->len, &of);
      put(out, &pos, "://", 3, &of);
    }
    if (present(user_info)) {
      put(out, &pos, user_info->p, user_info->len, &of);
      put(out, &pos, "@", 1, &of);
    }
    if (present(host)) put(out, &pos, host->p, host->len, &of);
    put(out, &pos, port_buf, port_len, &of);
    if (p.p != NULL) put(out, &pos, p.p, p.len, &of);
    if (present(query)) {
      put(out, &pos, "?", 1, &of);
      put(out, &pos, query->p, query->len, &of);
    }
    if (present(fragment)) {
      put(out, &pos, "#", 1, &of);
      put(out, &pos, fragment->p, fragment->len, &of);
    }
    if (pass == 0) {
      total = pos;
      out = of ? NULL : (char *) malloc(total + 1);
      if (out == NULL) {
        free(npath);
        return -1;
      }
    }
  }
  out[total] = '\0';
  free(npath);
  uri->p = out;
  uri->len = total;
  return 0;
}

const char *mg_skip(const char *s, const char *end_string, const char *delimiters,
                    struct mg_str *v) {
  size_t nd = delimiters == NULL ? 0 : strlen(delimiters);
  const char *p = s;
  if (s == NULL || end_string == NULL || end_string < s) {
    if (v != NULL) {
      v->p = s;
      v->len = 0;
    }
    return s;
  }
  while (p < end_string && (nd == 0 || memchr(delimiters, (unsigned char) *p, nd) == NULL)) p++;
  if (v != NULL) {
    v->p = s;
    v->len = (size_t) (p - s);
  }
  while (p < end_string && nd > 0 && memchr(delimiters, (unsigned char) *p, nd) != NULL) p++;
  return p;
}
