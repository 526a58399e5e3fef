/*
 * HTTP response helpers (Mongoose 6 interface): status line and head, errors, redirects,
 * chunks. Each head is formatted in one buffer and queued with one mg_send.
 *
 * mgio fixes over Mongoose 6 (see the "HTTP responses" section of mgio.h):
 * - the status line carries the RFC 9110 reason phrase (mg_status_message), never "OK"
 *   for another code; a code outside 100..999 is sent as 500;
 * - extra headers are checked: trailing CRLFs are dropped, and a value that would make
 *   the head malformed (bare CR or LF, an empty line, a line that is not a field,
 *   control bytes) queues nothing and closes the connection at once;
 * - 1xx and 204 heads carry no Content-Length or Transfer-Encoding (RFC 9110 8.6,
 *   RFC 9112 6.1);
 * - the redirect body HTML-escapes the location; mg_printf_html_escape escapes all of
 *   & < > " ' and sends an HTTP chunk.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../net/internal.h"
#include "http_internal.h"

/* ---- checks ---------------------------------------------------------------------------- */

static int clamp_status(int code) {
  return code < 100 || code > 999 ? 500 : code;
}

/* 1xx and 204 responses carry no framing fields and no body. */
static int no_framing(int code) {
  return code < 200 || code == 204;
}

/* RFC 9110 tchar. */
static int is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A field-value byte: visible ASCII, SP, HTAB or obs-text (no other control). */
static int is_value_byte(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* The extra headers in `*h` with trailing CRLFs dropped. Returns 1 when what is left is
 * empty or one or more field lines "name: value" separated by CRLF, each with a token
 * name, then ':', then value bytes only; 0 otherwise (bare CR or LF, an empty line, a
 * line starting with whitespace or lacking a colon, control bytes). */
static int clean_headers(struct mg_str *h) {
  if (h->p == NULL) h->len = 0;
  while (h->len >= 2 && h->p[h->len - 2] == '\r' && h->p[h->len - 1] == '\n') h->len -= 2;
  size_t i = 0, n = h->len;
  const unsigned char *s = (const unsigned char *) h->p;
  while (i < n) {
    size_t name = i;
    while (i < n && is_tchar(s[i])) i++;
    if (i == name || i == n || s[i] != ':') return 0;
    for (i++; i < n && is_value_byte(s[i]); i++) {
    }
    if (i == n) break;
    /* the only other byte allowed is the CR of a CRLF followed by another line */
    if (s[i] != '\r' || i + 2 >= n || s[i + 1] != '\n') return 0;
    i += 2;
  }
  return 1;
}

long mg__http_check_extra_headers(struct mg_str extra) {
  return clean_headers(&extra) ? (long) extra.len : -1;
}

/* Whether bodies are left out: the request being answered is HEAD. */
static int head_only(struct mg_connection *nc) {
  const struct mg__http *h = mg__http_state(nc);
  return h != NULL && (h->flags & MG__H_HEAD_REQUEST);
}

/* Records whether a chunked answer is open (so a last request's connection waits for
 * its last chunk before closing). */
static void set_chunked_reply(struct mg_connection *nc, int open) {
  struct mg__http *h = mg__http_state(nc);
  if (h == NULL) return;
  if (open) {
    h->flags |= MG__H_CHUNKED_REPLY;
  } else if (h->flags & MG__H_CHUNKED_REPLY) {
    h->flags &= ~MG__H_CHUNKED_REPLY;
    mg__http_answered(nc);
  }
}

/* Whether the (cleaned) field lines `extra` include the field `name` (lowercase). */
static int has_field(struct mg_str extra, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; i + n < extra.len;) {
    if (extra.p[i + n] == ':' && mg_ncasecmp(extra.p + i, name, n) == 0) return 1;
    const char *eol = c_strnstr(extra.p + i, "\r\n", extra.len - i);
    if (eol == NULL) break;
    i = (size_t) (eol - extra.p) + 2;
  }
  return 0;
}

/* The Connection field the request being answered calls for, unless `extra` has one:
 * "close" when it is the last (RFC 9112 9.6), "keep-alive" for a persistent HTTP/1.0
 * one (which would otherwise be taken as closing). */
static void out_connection(struct mg__out *o, struct mg_connection *nc, struct mg_str extra) {
  struct mg__http *h = mg__http_state(nc);
  if (h == NULL || (h->flags & MG__H_CLIENT)) return;
  h->flags |= MG__H_ANSWER_BEGUN; /* a body timeout then closes instead of a second head */
  if (has_field(extra, "connection")) return;
  if (h->flags & MG__H_REQ_LAST) {
    mg__out_str(o, "Connection: close\r\n");
  } else if (h->flags & MG__H_REQ_KEEP_10) {
    mg__out_str(o, "Connection: keep-alive\r\n");
  }
}

/* Refuses a head that would be malformed: nothing more reaches the peer. */
static void refuse(struct mg_connection *nc) {
  mg__mark_closing(nc, EINVAL);
}

/* Appends "HTTP/1.1 <code> <reason>\r\n" and the server line; `code` is clamped. */
static void out_status_line(struct mg__out *o, int code) {
  mg__out_str(o, "HTTP/1.1 ");
  mg__out_u64(o, (uint64_t) code);
  mg__out_add(o, " ", 1);
  mg__out_str(o, mg_status_message(code));
  mg__out_str(o, "\r\n" MG_SERVER_HEADER);
}

/* Appends the field lines of `extra` (already cleaned) with their CRLF, if any. */
static void out_extra(struct mg__out *o, struct mg_str extra) {
  if (extra.len == 0) return;
  mg__out_add(o, extra.p, extra.len);
  mg__out_add(o, "\r\n", 2);
}

/* Appends a whole head: status line, server, extra, framing field, blank line. */
static void out_head(struct mg__out *o, struct mg_connection *nc, int code,
                     int64_t content_length, struct mg_str extra) {
  out_status_line(o, code);
  out_extra(o, extra);
  out_connection(o, nc, extra);
  if (!no_framing(code)) {
    if (content_length < 0) {
      mg__out_str(o, "Transfer-Encoding: chunked\r\n");
    } else {
      mg__out_str(o, "Content-Length: ");
      mg__out_u64(o, (uint64_t) content_length);
      mg__out_add(o, "\r\n", 2);
    }
  }
  mg__out_add(o, "\r\n", 2);
}

/* Starts a head: checks (and trims) `extra` and readies `o`. Returns 0 when the head is
 * refused, in which case the connection is already closed and nothing was queued. */
static int begin_head(struct mg_connection *nc, struct mg_str *extra, struct mg__out *o) {
  if (nc == NULL) return 0;
  if (!clean_headers(extra)) {
    refuse(nc);
    return 0;
  }
  mg__out_init(o);
  return 1;
}

/* ---- the API ---------------------------------------------------------------------------- */

void mg_send_response_line_s(struct mg_connection *nc, int status_code,
                             const struct mg_str extra_headers) {
  struct mg_str extra = extra_headers;
  struct mg__out o;
  if (!begin_head(nc, &extra, &o)) return;
  out_status_line(&o, clamp_status(status_code));
  out_extra(&o, extra);
  mg__out_send(nc, &o);
}

void mg_send_response_line(struct mg_connection *nc, int status_code,
                           const char *extra_headers) {
  mg_send_response_line_s(nc, status_code, mg_mk_str(extra_headers));
}

void mg_send_head(struct mg_connection *nc, int status_code, int64_t content_length,
                  const char *extra_headers) {
  struct mg_str extra = mg_mk_str(extra_headers);
  struct mg__out o;
  if (!begin_head(nc, &extra, &o)) return;
  status_code = clamp_status(status_code);
  out_head(&o, nc, status_code, content_length, extra);
  mg__out_send(nc, &o);
  if (content_length < 0 && !no_framing(status_code)) set_chunked_reply(nc, 1);
}

void mg_http_send_error(struct mg_connection *nc, int code, const char *reason) {
  struct mg__out o;
  if (nc == NULL) return;
  code = clamp_status(code);
  if (reason == NULL) reason = mg_status_message(code);
  /* 1xx, 204 and 304 responses never have a body (RFC 9110 6.4.1). */
  size_t body_len = no_framing(code) || code == 304 ? 0 : strlen(reason);
  mg__out_init(&o);
  out_head(&o, nc, code, (int64_t) body_len,
           mg_mk_str("Content-Type: text/plain\r\nConnection: close"));
  if (!head_only(nc)) mg__out_add(&o, reason, body_len);
  mg__out_send(nc, &o);
  nc->flags |= MG_F_SEND_AND_CLOSE;
}

void mg_http_send_redirect(struct mg_connection *nc, int status_code,
                           const struct mg_str location, const struct mg_str extra_headers) {
  struct mg_str extra = extra_headers;
  struct mg__out o, body;
  if (nc == NULL) return;
  if (location.p == NULL && location.len != 0) {
    refuse(nc);
    return;
  }
  for (size_t i = 0; i < location.len; i++) {
    if (!is_value_byte((unsigned char) location.p[i])) {
      refuse(nc);
      return;
    }
  }
  if (!begin_head(nc, &extra, &o)) return;
  mg__out_init(&body);
  mg__out_str(&body, "<p>Moved <a href='");
  mg__out_html_escaped(&body, location.p, location.len);
  mg__out_str(&body, "'>here</a>.\r\n");

  out_status_line(&o, clamp_status(status_code));
  mg__out_str(&o, "Location: ");
  mg__out_add(&o, location.p, location.len);
  mg__out_str(&o, "\r\nContent-Type: text/html\r\nContent-Length: ");
  mg__out_u64(&o, (uint64_t) body.len);
  mg__out_str(&o, "\r\nCache-Control: no-cache\r\n");
  out_extra(&o, extra);
  out_connection(&o, nc, extra);
  mg__out_add(&o, "\r\n", 2);
  if (!head_only(nc)) mg__out_add(&o, body.p, body.len);
  if (body.failed) o.failed = 1;
  mg__out_free(&body);
  mg__out_send(nc, &o);
}

void mg_send_http_chunk(struct mg_connection *nc, const char *buf, size_t len) {
  static const char hex[] = "0123456789ABCDEF";
  char size_line[2 * sizeof(size_t) + 2];
  size_t i = sizeof(size_line) - 2, n = len;
  if (nc == NULL || (buf == NULL && len != 0)) return;
  if (len == 0) set_chunked_reply(nc, 0);
  if (head_only(nc)) return;
  do {
    size_line[--i] = hex[n & 15];
    n >>= 4;
  } while (n != 0);
  size_line[sizeof(size_line) - 2] = '\r';
  size_line[sizeof(size_line) - 1] = '\n';
  size_t line_len = sizeof(size_line) - i;
  if (len > SIZE_MAX - line_len - 2) {
    mg__mark_closing(nc, ENOMEM);
    return;
  }
  /* Reserve everything first, so that the three pieces are queued whole or not at all
   * (and the data is copied once, straight into the send buffer). */
  if (!mbuf_reserve(&nc->send_mbuf, line_len + len + 2)) {
    mg__mark_closing(nc, ENOMEM);
    return;
  }
  mg_send(nc, size_line + i, (int) line_len);
  for (size_t off = 0; off < len;) {
    size_t piece = len - off > (size_t) INT_MAX ? (size_t) INT_MAX : len - off;
    mg_send(nc, buf + off, (int) piece);
    off += piece;
  }
  mg_send(nc, "\r\n", 2);
}

void mg_printf_http_chunk(struct mg_connection *nc, const char *fmt, ...) {
  char stack[256], *buf = stack;
  va_list ap;
  if (nc == NULL || fmt == NULL) return;
  va_start(ap, fmt);
  int len = mg_avprintf(&buf, sizeof(stack), fmt, ap);
  va_end(ap);
  /* Empty output sends nothing: a zero-size chunk would end the body. */
  if (len > 0) mg_send_http_chunk(nc, buf, (size_t) len);
  if (buf != stack) free(buf);
}

void mg_printf_html_escape(struct mg_connection *nc, const char *fmt, ...) {
  char stack[256], *buf = stack;
  struct mg__out o;
  va_list ap;
  if (nc == NULL || fmt == NULL) return;
  va_start(ap, fmt);
  int len = mg_avprintf(&buf, sizeof(stack), fmt, ap);
  va_end(ap);
  if (len > 0) {
    mg__out_init(&o);
    mg__out_html_escaped(&o, buf, (size_t) len);
    if (o.failed) {
      mg__mark_closing(nc, ENOMEM);
    } else {
      mg_send_http_chunk(nc, o.p, o.len);
    }
    mg__out_free(&o);
  }
  if (buf != stack) free(buf);
}
