/*
 * The HTTP/1.x message head parser (RFC 9112 sections 2-6, RFC 9110 section 5 and 8.6):
 * start line, field lines and the framing they imply, with mgio's strict rules and
 * limits (see "HTTP messages" in mgio.h).
 *
 * The head is read line by line. Each line is first delimited (its CRLF found within the
 * line and section limits), then checked as a whole, so that a verdict depends only on
 * the bytes up to the end of the line that decides it: a growing buffer gets -2 until a
 * line completes, and then the same answer the whole input would get. Semantic checks
 * that need every field (Content-Length against Transfer-Encoding, ...) run once the
 * blank line has arrived.
 */
#include <stdint.h>
#include <string.h>

#include "mgio.h"
#include "../base/ascii.h"

#define INCOMPLETE (-2)
#define MAX_LEADING_EMPTY_LINES 4

/* Byte classes: C_TOKEN an RFC 9110 tchar; C_VALUE a field-value / reason-phrase byte
 * (HTAB, SP, VCHAR, obs-text); C_TARGET a request-target byte (not a control, not SP). */
enum { C_TOKEN = 1, C_VALUE = 2, C_TARGET = 4 };

static const unsigned char char_class[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    2, 7, 6, 7, 7, 7, 7, 7, 6, 6, 7, 7, 6, 7, 7, 6,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6,
    6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
    7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 6, 7, 6, 7, 0,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
    6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6,
};

static int is_ows(unsigned char c) {
  return c == ' ' || c == '\t';
}

/* 1 when the `len` bytes at `p` equal the lower-case C string `lower`, ignoring case. */
static int equals_lower(const unsigned char *p, size_t len, const char *lower, size_t n) {
  if (len != n) return 0;
  for (size_t i = 0; i < n; i++) {
    if (mg__ascii_lower(p[i]) != (unsigned char) lower[i]) return 0;
  }
  return 1;
}

/* Delimits the line at `p`, of which `avail` bytes are in hand, in the one pass that
 * also checks its bytes: every byte before the CRLF must be HTAB, SP, VCHAR or obs-text
 * (so a NUL, a control, a bare CR or a bare LF is 400). Only the first `room` bytes may
 * belong to the head (header-section limit: the CRLF must fit too, else 431), and the
 * line without its CRLF may be at most `cap` bytes, else `cap_status`.
 * Returns 0 with *len set, INCOMPLETE, or the status of the error. */
static int delimit_line(const unsigned char *p, size_t avail, size_t room, size_t cap,
                        int cap_status, size_t *len) {
  size_t lim = avail < room ? avail : room, stop = lim < cap ? lim : cap, i = 0;
  while (i < stop && (char_class[p[i]] & C_VALUE)) i++;
  if (i == lim) return lim < avail ? 431 : INCOMPLETE;
  if (p[i] == '\r') {
    if (i + 1 >= lim) return lim < avail ? 431 : INCOMPLETE;
    if (p[i + 1] != '\n') return 400; /* bare CR */
    *len = i;
    return 0;
  }
  if (i == cap) return cap_status; /* byte number cap + 1 of the line */
  return 400;                      /* a control byte or a bare LF */
}

/* Checks "HTTP/" DIGIT "." DIGIT in exactly `len` bytes: 0 with *minor set for 1.0 and
 * 1.1 (a higher 1.x is taken as 1.1, RFC 9110 2.5), 505 for another major version, 400
 * for anything else. */
static int parse_version(const unsigned char *p, size_t len, int *minor) {
  if (len != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.') return 400;
  if (p[5] < '0' || p[5] > '9' || p[7] < '0' || p[7] > '9') return 400;
  if (p[5] != '1') return 505;
  *minor = p[7] == '0' ? 0 : 1;
  return 0;
}

static struct mg_str view(const unsigned char *p, size_t len) {
  struct mg_str s = {(const char *) p, len};
  return s;
}

static int parse_request_line(const unsigned char *p, size_t len, struct http_message *hm) {
  size_t i = 0, t;
  while (i < len && (char_class[p[i]] & C_TOKEN)) i++;
  if (i == 0 || i == len || p[i] != ' ') return 400;
  hm->method = view(p, i);
  t = ++i;
  while (i < len && (char_class[p[i]] & C_TARGET)) i++;
  if (i == t || i == len || p[i] != ' ') return 400;
  const unsigned char *q = memchr(p + t, '?', i - t);
  if (q == NULL) {
    hm->uri = view(p + t, i - t);
    hm->query_string = view(p + i, 0);
  } else {
    hm->uri = view(p + t, (size_t) (q - (p + t)));
    hm->query_string = view(q + 1, (size_t) (p + i - (q + 1)));
  }
  i++;
  hm->proto = view(p + i, len - i);
  return parse_version(p + i, len - i, &hm->http_minor);
}

static int parse_status_line(const unsigned char *p, size_t len, struct http_message *hm) {
  if (len < 12 || p[8] != ' ') return 400;
  hm->proto = view(p, 8);
  for (size_t i = 9; i < 12; i++) {
    if (p[i] < '0' || p[i] > '9') return 400;
  }
  if (p[9] == '0') return 400;
  hm->resp_code = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
  if (len > 12) {
    if (p[12] != ' ') return 400;
    hm->resp_status_msg = view(p + 13, len - 13);
  } else {
    hm->resp_status_msg = view(p + 12, 0);
  }
  return parse_version(p, 8, &hm->http_minor);
}

/* What the fields say about framing and the connection, gathered line by line and
 * judged once the head is complete. */
struct framing {
  int cl_seen, cl_bad;
  uint64_t cl;
  int te_seen, te_bad, te_chunked_count, te_last_chunked, te_unknown;
  int conn_close, conn_keep_alive, conn_upgrade, upgrade_seen;
  int expect_continue, expect_other;
};

/* Calls `fn` on each non-empty element of a comma-separated list, OWS trimmed; returns
 * the number of empty elements. */
typedef void (*list_fn)(struct framing *fr, const unsigned char *p, size_t len);

static size_t for_each_element(struct framing *fr, const unsigned char *p, size_t len,
                               list_fn fn) {
  size_t empty = 0, i = 0;
  for (;;) {
    size_t b = i, e;
    while (i < len && p[i] != ',') i++;
    e = i;
    while (b < e && is_ows(p[b])) b++;
    while (e > b && is_ows(p[e - 1])) e--;
    if (e == b) {
      empty++;
    } else {
      fn(fr, p + b, e - b);
    }
    if (i == len) break;
    i++; /* the comma */
  }
  return empty;
}

static void content_length_element(struct framing *fr, const unsigned char *p, size_t len) {
  uint64_t v = 0;
  for (size_t i = 0; i < len; i++) {
    if (p[i] < '0' || p[i] > '9') {
      fr->cl_bad = 1;
      return;
    }
    unsigned d = (unsigned) (p[i] - '0');
    if (v > ((uint64_t) INT64_MAX - d) / 10) {
      fr->cl_bad = 1;
      return;
    }
    v = v * 10 + d;
  }
  if (fr->cl_seen && fr->cl != v) fr->cl_bad = 1;
  fr->cl_seen = 1;
  fr->cl = v;
}

static void coding_element(struct framing *fr, const unsigned char *p, size_t len) {
  size_t i = 0;
  while (i < len && (char_class[p[i]] & C_TOKEN)) i++;
  if (i == 0) {
    fr->te_bad = 1;
    return;
  }
  if (i < len) {
    /* parameters: only syntax-checked loosely (OWS ";" ...), never for chunked */
    size_t j = i;
    while (j < len && is_ows(p[j])) j++;
    if (j == len || p[j] != ';') {
      fr->te_bad = 1;
      return;
    }
    for (; j < len; j++) {
      if (!(char_class[p[j]] & C_VALUE)) fr->te_bad = 1;
    }
  }
  if (equals_lower(p, i, "chunked", 7)) {
    if (i < len) fr->te_bad = 1; /* chunked takes no parameters */
    fr->te_chunked_count++;
    fr->te_last_chunked = 1;
  } else {
    fr->te_unknown = 1;
    fr->te_last_chunked = 0;
  }
}

static void connection_element(struct framing *fr, const unsigned char *p, size_t len) {
  if (equals_lower(p, len, "close", 5)) fr->conn_close = 1;
  if (equals_lower(p, len, "keep-alive", 10)) fr->conn_keep_alive = 1;
  if (equals_lower(p, len, "upgrade", 7)) fr->conn_upgrade = 1;
}

/* Expect is a list (RFC 9110 10.1.1): empty elements are nothing, "100-continue" is the
 * one expectation known, anything else is another (417). */
static void expect_element(struct framing *fr, const unsigned char *p, size_t len) {
  if (equals_lower(p, len, "100-continue", 12)) {
    fr->expect_continue = 1;
  } else {
    fr->expect_other = 1;
  }
}

static void note_field(struct framing *fr, const unsigned char *name, size_t nlen,
                       const unsigned char *value, size_t vlen) {
  switch (nlen) {
    case 6:
      if (equals_lower(name, nlen, "expect", 6)) {
        for_each_element(fr, value, vlen, expect_element);
      }
      break;
    case 7:
      if (equals_lower(name, nlen, "upgrade", 7)) fr->upgrade_seen = 1;
      break;
    case 10:
      if (equals_lower(name, nlen, "connection", 10)) {
        for_each_element(fr, value, vlen, connection_element);
      }
      break;
    case 14:
      if (equals_lower(name, nlen, "content-length", 14)) {
        if (for_each_element(fr, value, vlen, content_length_element) > 0) fr->cl_bad = 1;
      }
      break;
    case 17:
      if (equals_lower(name, nlen, "transfer-encoding", 17)) {
        fr->te_seen = 1;
        for_each_element(fr, value, vlen, coding_element);
      }
      break;
    default:
      break;
  }
}

/* Checks one field line of `len` bytes and stores it as field number hm->num_headers. */
static int parse_field_line(const unsigned char *p, size_t len, struct http_message *hm,
                            struct framing *fr) {
  size_t i = 0, b, e;
  while (i < len && (char_class[p[i]] & C_TOKEN)) i++;
  if (i == 0 || i == len || p[i] != ':') return 400;
  b = i + 1;
  while (b < len && is_ows(p[b])) b++;
  e = len; /* delimit_line checked the value's bytes */
  while (e > b && is_ows(p[e - 1])) e--;
  hm->header_names[hm->num_headers] = view(p, i);
  hm->header_values[hm->num_headers] = view(p + b, e - b);
  hm->num_headers++;
  note_field(fr, p, i, p + b, e - b);
  return 0;
}

/* Sets content_length and flags from the gathered fields; 0 or an error status. */
static int judge_framing(const struct framing *fr, struct http_message *hm, int is_req) {
  int keep;
  if (fr->cl_seen && fr->te_seen) return 400;
  if (fr->cl_bad) return 400;
  hm->content_length = fr->cl_seen ? (int64_t) fr->cl : (is_req ? 0 : -1);
  if (fr->te_seen) {
    hm->content_length = -1;
    if (fr->te_bad || (fr->te_chunked_count == 0 && fr->te_unknown == 0)) return 400;
    /* RFC 9112 6.1: Transfer-Encoding in HTTP/1.0 is faulty framing */
    if (hm->http_minor == 0) return 400;
    if (fr->te_chunked_count > 1) return 400;
    if (is_req) {
      if (!fr->te_last_chunked) return 400;
      if (fr->te_unknown) return 501;
    }
    if (fr->te_last_chunked) hm->flags |= MG_HTTP_F_CHUNKED;
  }
  if (!is_req) {
    if (hm->resp_code < 200 || hm->resp_code == 204 || hm->resp_code == 304) {
      hm->flags |= MG_HTTP_F_NO_BODY;
      hm->flags &= ~(unsigned) MG_HTTP_F_CHUNKED;
      hm->content_length = 0;
    } else if (hm->content_length < 0 && !(hm->flags & MG_HTTP_F_CHUNKED)) {
      hm->flags |= MG_HTTP_F_CLOSE_DELIMITED;
    }
  }
  keep = hm->http_minor >= 1 ? !fr->conn_close : fr->conn_keep_alive && !fr->conn_close;
  if (keep && !(hm->flags & MG_HTTP_F_CLOSE_DELIMITED)) hm->flags |= MG_HTTP_F_KEEP_ALIVE;
  /* HTTP/1.0 has no Upgrade (RFC 9110 7.8: a server ignores it there) */
  if (fr->conn_upgrade && fr->upgrade_seen && hm->http_minor >= 1) {
    hm->flags |= MG_HTTP_F_UPGRADE;
  }
  if (is_req && fr->expect_other) hm->flags |= MG_HTTP_F_EXPECT_OTHER;
  if (is_req && fr->expect_continue && hm->http_minor >= 1) {
    hm->flags |= MG_HTTP_F_EXPECT_CONTINUE;
  }
  return 0;
}

struct mg_http_limits mg_http_default_limits(void) {
  struct mg_http_limits l = MG_HTTP_LIMITS_DEFAULT;
  return l;
}

/* The parse proper: the head length, INCOMPLETE, or -(status). */
static long parse_head(const unsigned char *s, size_t n, struct http_message *hm,
                       int is_req, const struct mg_http_limits *lim) {
  struct framing fr;
  size_t pos = 0, start, len, max_headers = lim->max_headers;
  int rc;
  if (max_headers > MG_MAX_HTTP_HEADERS - 1) max_headers = MG_MAX_HTTP_HEADERS - 1;
  memset(&fr, 0, sizeof(fr));
  hm->method = hm->uri = hm->proto = hm->resp_status_msg = hm->query_string = view(s, 0);
  hm->resp_code = 0;
  hm->flags = 0;
  hm->http_minor = 0;
  hm->num_headers = 0;
  hm->content_length = -1;

  /* Empty lines before a request line (RFC 9112 2.2). */
  for (int skipped = 0; is_req && pos < n && s[pos] == '\r'; skipped++) {
    if (pos + 1 == n) return INCOMPLETE;
    if (s[pos + 1] != '\n') return -400;
    if (skipped == MAX_LEADING_EMPTY_LINES) return -400;
    pos += 2;
  }
  start = pos;

  rc = delimit_line(s + pos, n - pos, lim->header_section, lim->request_line, 414, &len);
  if (rc != 0) return rc == INCOMPLETE ? INCOMPLETE : -rc;
  rc = is_req ? parse_request_line(s + pos, len, hm) : parse_status_line(s + pos, len, hm);
  if (rc != 0) return -rc;
  pos += len + 2;

  for (;;) {
    size_t used = pos - start, room = lim->header_section - used;
    if (pos < n && s[pos] != '\r' && s[pos] != '\n') {
      if (room == 0) return -431;
      if (is_ows(s[pos])) return -400; /* obs-fold, or space before the first field */
      if (hm->num_headers >= max_headers) return -431;
    }
    rc = delimit_line(s + pos, n - pos, room, lim->field_line, 431, &len);
    if (rc != 0) return rc == INCOMPLETE ? INCOMPLETE : -rc;
    if (len == 0) {
      pos += 2;
      break;
    }
    rc = parse_field_line(s + pos, len, hm, &fr);
    if (rc != 0) return -rc;
    pos += len + 2;
  }
  hm->header_names[hm->num_headers] = view(NULL, 0);
  hm->header_values[hm->num_headers] = view(NULL, 0);

  rc = judge_framing(&fr, hm, is_req);
  if (rc != 0) return -rc;

  hm->body = view(s + pos, 0);
  if (hm->content_length > 0) {
    size_t avail = n - pos;
    if ((uint64_t) hm->content_length < (uint64_t) avail) {
      avail = (size_t) hm->content_length;
    }
    hm->body.len = avail;
  }
  hm->message = view(s + start, pos - start + hm->body.len);
  return (long) pos;
}

int mg_http_parse_head(const char *s, size_t n, struct http_message *hm, int is_req,
                       const struct mg_http_limits *limits, int *status) {
  struct mg_http_limits lim = MG_HTTP_LIMITS_DEFAULT;
  long r;
  if (status != NULL) *status = 0;
  if (hm == NULL || (s == NULL && n > 0)) {
    if (status != NULL) *status = 400;
    return -1;
  }
  if (n == 0) {
    if (status != NULL) *status = INCOMPLETE;
    return INCOMPLETE;
  }
  if (limits != NULL) lim = *limits;
  /* The head length must fit the int return (with the skipped empty lines). */
  if (lim.header_section > INT32_MAX - 64) lim.header_section = INT32_MAX - 64;
  r = parse_head((const unsigned char *) s, n, hm, is_req, &lim);
  if (r == INCOMPLETE) {
    if (status != NULL) *status = INCOMPLETE;
    return INCOMPLETE;
  }
  if (r < 0) {
    if (status != NULL) *status = (int) -r;
    return -1;
  }
  return (int) r;
}

int mg_parse_http(const char *s, int n, struct http_message *hm, int is_req) {
  int r;
  if (n < 0) return -1;
  r = mg_http_parse_head(s, (size_t) n, hm, is_req, NULL, NULL);
  return r == INCOMPLETE ? 0 : r;
}

struct mg_str *mg_get_http_header(struct http_message *hm, const char *name) {
  size_t n;
  if (hm == NULL || name == NULL) return NULL;
  n = strlen(name);
  for (size_t i = 0; i < MG_MAX_HTTP_HEADERS && hm->header_names[i].len > 0; i++) {
    const struct mg_str *h = &hm->header_names[i];
    size_t k = 0;
    if (h->len != n) continue;
    while (k < n && mg__ascii_lower((unsigned char) h->p[k]) ==
                        mg__ascii_lower((unsigned char) name[k])) {
      k++;
    }
    if (k == n) return &hm->header_values[i];
  }
  return NULL;
}
