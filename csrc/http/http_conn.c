/*
 * The HTTP/1.1 protocol layer of a connection (mg_set_protocol_http_websocket): turns
 * the bytes in recv_mbuf into MG_EV_HTTP_CHUNK and MG_EV_HTTP_REQUEST / _REPLY events,
 * message after message, and applies the server's rules (statuses for bad input,
 * 100-continue, keep-alive, the body limit). See the "HTTP connections" section of
 * mgio.h for the contract.
 *
 * Per message the connection goes HEAD -> BODY -> HEAD ..., or to DRAIN when no further
 * message may be read. While a body arrives, the head stays at the front of recv_mbuf
 * and the body bytes kept so far follow it, contiguous (chunk framing is cut out as it is
 * decoded); whatever follows them is the next message. The head is parsed again for each
 * event (about 0.4 us for a browser request) instead of keeping a 3 KiB http_message per
 * connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "../base/ascii.h"
#include "../net/internal.h"
#include "auth.h"
#include "http_internal.h"

static void http_handler(struct mg_connection *c, int ev, void *ev_data);

/* ---- state -------------------------------------------------------------------------- */

struct mg__http *mg__http_state(struct mg_connection *c) {
  if (c == NULL || c->proto_handler != http_handler) return NULL;
  return (struct mg__http *) c->proto_data;
}

static void end_stream(struct mg__http *h) {
  struct mg__http_stream s = h->stream;
  memset(&h->stream, 0, sizeof(h->stream));
  if (s.cleanup != NULL) s.cleanup(s.ctx);
}

static void free_state(void *p) {
  struct mg__http *h = (struct mg__http *) p;
  if (h == NULL) return;
  end_stream(h);
  mg__ws_free(&h->ws);
  mg__mp_free(h);
  mg__http_free_endpoints(h->endpoints);
  free(h);
}

static void set_limits(struct mg__http *h, const struct mg_http_limits *lim) {
  h->limits = lim != NULL ? *lim : mg_http_default_limits();
  if (h->limits.max_headers > MG_MAX_HTTP_HEADERS - 1)
    h->limits.max_headers = MG_MAX_HTTP_HEADERS - 1;
}

/* Gives `c` a fresh HTTP state with `lim` (NULL: defaults); 0, or -1 out of memory. */
static int attach_state(struct mg_connection *c, const struct mg_http_limits *lim) {
  struct mg__http *h = (struct mg__http *) calloc(1, sizeof(*h));
  if (h == NULL) return -1;
  set_limits(h, lim);
  mg__chunked_init(&h->chunked);
  if (!(c->flags & MG_F_LISTENING) && c->listener == NULL) h->flags |= MG__H_CLIENT;
  if (c->proto_data_destructor != NULL) c->proto_data_destructor(c->proto_data);
  c->proto_data = h;
  c->proto_data_destructor = free_state;
  c->proto_handler = http_handler;
  return 0;
}

void mg_set_protocol_http_websocket(struct mg_connection *nc) {
  if (nc == NULL || mg__http_state(nc) != NULL) return;
  if (attach_state(nc, NULL) != 0) mg__mark_closing(nc, ENOMEM);
}

int mg_http_set_limits(struct mg_connection *nc, const struct mg_http_limits *limits) {
  struct mg__http *h = mg__http_state(nc);
  if (h == NULL) return -1;
  set_limits(h, limits);
  return 0;
}

void *mg_http_endpoint_user_data(struct mg_connection *nc) {
  struct mg__http *h = mg__http_state(nc);
  return h != NULL ? h->ep_user_data : NULL;
}

/* ---- small buffer helpers ------------------------------------------------------------ */

void mg__mbuf_cut(struct mbuf *io, size_t off, size_t n) {
  if (n == 0) return;
  memmove(io->buf + off, io->buf + off + n, io->len - off - n);
  io->len -= n;
}

/* Where a head may end at or after `from`: the first line end followed by an empty line
 * ("\n\r\n", or "\n\n" so that a head of bare-LF lines is judged, and refused, as soon
 * as it is complete, whatever the reads), or io->len when there is none. */
static size_t find_blank_line(const struct mbuf *io, size_t from) {
  for (size_t i = from; i + 1 < io->len; i++) {
    const char *p = (const char *) memchr(io->buf + i, '\n', io->len - i);
    if (p == NULL) break;
    i = (size_t) (p - io->buf);
    if (i + 1 < io->len && p[1] == '\n') return i;
    if (i + 2 < io->len && p[1] == '\r' && p[2] == '\n') return i;
  }
  return io->len;
}

/* ---- closing ------------------------------------------------------------------------------ */

/* A server connection that ends after its answer is not simply closed: the client may
 * still be sending (the rest of a refused body, pipelined requests), and closing a
 * socket with unread input makes the kernel send a reset that can destroy the answer
 * before the client reads it. So, as RFC 9112 9.6 advises, the answer is sent, the
 * sending side shut down, and input read and dropped until the client closes or
 * MG__HTTP_LINGER_S seconds pass. A client that has already shut its side is closed
 * the ordinary way. */
#define MG__HTTP_LINGER_S 2.0

static void linger_step(struct mg_connection *c, struct mg__http *h) {
  if (!(h->flags & MG__H_LINGER) || c->send_mbuf.len > 0) return;
  if (!(h->flags & MG__H_SHUT)) {
    h->flags |= MG__H_SHUT;
    h->linger_until = mg_time() + MG__HTTP_LINGER_S;
    if (shutdown(c->sock, SHUT_WR) != 0) mg__mark_closing(c, 0);
  } else if (c->mgr->now > h->linger_until) {
    mg__mark_closing(c, 0);
  }
}

/* Takes over a close-after-send the handler (or an error answer) asked for. */
static void adopt_close(struct mg_connection *c, struct mg__http *h) {
  if ((h->flags & MG__H_CLIENT) || !(c->flags & MG_F_SEND_AND_CLOSE)) return;
  if (c->internal_flags & MG__C_EOF) return;
  c->flags &= ~(unsigned long) MG_F_SEND_AND_CLOSE;
  h->flags |= MG__H_LINGER | MG__H_LAST;
  h->phase = MG__HTTP_DRAIN;
  linger_step(c, h);
}

/* ---- answers ---------------------------------------------------------------------------- */

/* Every byte ever queued on `c`, sent or not: it grows exactly when output is queued. */
static unsigned long long queued_total(const struct mg_connection *c) {
  return c->bytes_sent + c->send_mbuf.len;
}

/* Server: whether the current request has its whole answer queued: something was queued
 * for it (a handler may answer later than its event), and no chunked answer or body
 * stream is still open. Until then the next pipelined request is not parsed, so answers
 * leave in request order and each is framed for its own request; and a client that shut
 * its side is not closed (the net layer's EOF close is held). */
static int answer_complete(const struct mg__http *h) {
  return !(h->flags & (MG__H_UNANSWERED | MG__H_CHUNKED_REPLY)) && h->stream.pump == NULL;
}

static void update_hold(struct mg_connection *c, const struct mg__http *h) {
  if (!(h->flags & MG__H_CLIENT) && !answer_complete(h)) {
    c->internal_flags |= MG__C_HOLD;
  } else {
    c->internal_flags &= ~MG__C_HOLD;
  }
}

static void set_unanswered(struct mg_connection *c, struct mg__http *h, int waiting) {
  if (waiting) {
    h->flags |= MG__H_UNANSWERED;
  } else {
    h->flags &= ~MG__H_UNANSWERED;
  }
  update_hold(c, h);
}

/* Notes output queued for the current request; a last request's connection closes once
 * its whole answer is queued. */
static void check_answer(struct mg_connection *c, struct mg__http *h) {
  set_unanswered(c, h, (h->flags & MG__H_UNANSWERED) && queued_total(c) == h->answer_mark);
  if (!(h->flags & MG__H_ANSWER_PENDING) || !answer_complete(h)) return;
  h->flags &= ~MG__H_ANSWER_PENDING;
  c->flags |= MG_F_SEND_AND_CLOSE;
  adopt_close(c, h);
}

void mg__http_answered(struct mg_connection *c) {
  struct mg__http *h = mg__http_state(c);
  if (h != NULL) check_answer(c, h);
}

/* No more messages: later input is dropped. */
static void stop_reading(struct mg_connection *c, struct mg__http *h) {
  h->flags |= MG__H_LAST;
  h->phase = MG__HTTP_DRAIN;
  c->recv_mbuf.len = 0;
}

void mg__http_reject(struct mg_connection *c, struct mg__http *h, int status,
                     const char *extra) {
  /* a head refused (or timed out) is not the earlier HEAD request's: the error's body
   * must go out, as its Content-Length says */
  if (h->phase == MG__HTTP_HEAD) h->flags &= ~MG__H_HEAD_REQUEST;
  if (h->flags & MG__H_CLIENT) {
    mg__mark_closing(c, status == 413 ? EMSGSIZE : EPROTO);
  } else if (extra == NULL) {
    mg_http_send_error(c, status, NULL);
  } else {
    const char *text = mg_status_message(status);
    char fields[256];
    snprintf(fields, sizeof(fields), "%s\r\nContent-Type: text/plain\r\nConnection: close",
             extra);
    mg_send_head(c, status, (int64_t) strlen(text), fields);
    mg_send(c, text, (int) strlen(text));
    c->flags |= MG_F_SEND_AND_CLOSE;
  }
  if (!(h->flags & MG__H_CLIENT)) adopt_close(c, h);
  h->flags &= ~(MG__H_ANSWER_PENDING | MG__H_CHUNKED_REPLY);
  stop_reading(c, h);
}

/* ---- streams ------------------------------------------------------------------------------ */

static void process(struct mg_connection *c, struct mg__http *h);

/* Lets the stream queue output up to the high-water mark. Returns 1 when it ended. */
static int pump(struct mg_connection *c, struct mg__http *h) {
  while (h->stream.pump != NULL && c->send_mbuf.len < MG__HTTP_SEND_HIGH) {
    if (c->flags & MG_F_CLOSE_IMMEDIATELY) return 0;
    size_t before = c->send_mbuf.len;
    if (!h->stream.pump(c, h->stream.ctx)) {
      end_stream(h);
      check_answer(c, h);
      return 1;
    }
    if (c->send_mbuf.len == before) break; /* nothing now: try when the socket drains */
  }
  return 0;
}

int mg__http_start_stream(struct mg_connection *c, const struct mg__http_stream *stream) {
  struct mg__http *h = mg__http_state(c);
  if (h == NULL || h->stream.pump != NULL || stream->pump == NULL) {
    if (stream->cleanup != NULL) stream->cleanup(stream->ctx);
    return -1;
  }
  h->stream = *stream;
  pump(c, h);
  return 0;
}

/* ---- heads --------------------------------------------------------------------------------- */

/* RFC 9112 3.2: an HTTP/1.1 request has exactly one Host field, any request at most one,
 * and its value is a uri-host with an optional port (checked for its alphabet). */
/* Whether `v` is uri-host [":" port] (RFC 9112 3.2, RFC 3986 3.2.2): an IP literal in
 * brackets, or reg-name / IPv4 characters; then only digits after the colon. */
static int host_value_ok(const struct mg_str *v) {
  size_t i = 0;
  if (v->len > 0 && v->p[0] == '[') {
    for (i = 1; i < v->len && v->p[i] != ']'; i++) {
      unsigned char ch = (unsigned char) v->p[i];
      if (mg__hex_value(ch) < 0 && ch != ':' && ch != '.') return 0;
    }
    if (i == v->len) return 0; /* no closing bracket */
    i++;
  } else {
    for (; i < v->len && v->p[i] != ':'; i++) {
      unsigned char ch = (unsigned char) v->p[i];
      int alnum = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
      if (!alnum && (ch == 0 || strchr("-._~%!$&'()*+,;=", ch) == NULL)) return 0;
    }
  }
  if (i < v->len && v->p[i++] != ':') return 0;
  for (; i < v->len; i++)
    if (v->p[i] < '0' || v->p[i] > '9') return 0;
  return 1;
}

static int host_ok(const struct http_message *hm) {
  size_t count = 0;
  for (size_t i = 0; i < hm->num_headers; i++) {
    if (mg_vcasecmp(&hm->header_names[i], "host") != 0) continue;
    if (++count > 1 || !host_value_ok(&hm->header_values[i])) return 0;
  }
  return count == 1 || (count == 0 && hm->http_minor == 0);
}

/* Parses the head at the front of recv_mbuf into `hm`; its length, -2, or -1 (*status). */
static int parse(struct mg_connection *c, struct mg__http *h, struct http_message *hm,
                 int *status) {
  int is_req = !(h->flags & MG__H_CLIENT);
  return mg_http_parse_head(c->recv_mbuf.buf, c->recv_mbuf.len, hm, is_req, &h->limits,
                            status);
}

/* Whether to parse the head now (HEAD_FOUND / HEAD_DUE) or wait (0). Only bytes not yet
 * searched are searched for the blank line, so a head arriving byte by byte costs linear
 * time, not quadratic. A full parse also runs when the buffer has doubled since the last
 * one or passed the header limit, so bad input is refused early, in linear total time. */
enum { HEAD_WAIT, HEAD_FOUND, HEAD_DUE };
static int head_worth_parsing(struct mg_connection *c, struct mg__http *h) {
  const struct mbuf *io = &c->recv_mbuf;
  size_t at = find_blank_line(io, h->scanned);
  if (at < io->len) {
    h->scanned = at + 1; /* if this is not the end (leading empty lines), look further */
    return HEAD_FOUND;
  }
  h->scanned = io->len > 3 ? io->len - 3 : 0;
  if (io->len >= 2 * h->parsed_at || io->len > h->limits.header_section) {
    h->parsed_at = io->len;
    return HEAD_DUE;
  }
  return HEAD_WAIT;
}

/* A request that is the last only by max_requests is shown to the handler as one
 * without keep-alive (hm is parsed again for each event, so this is applied each time). */
static void last_by_count(const struct mg__http *h, struct http_message *hm) {
  if (h->flags & MG__H_REQ_LAST) hm->flags &= ~(unsigned int) MG_HTTP_F_KEEP_ALIVE;
}

/* Sets the per-message state for a head of `len` bytes; a request is routed to the
 * endpoint matching its URI, which then gets its events. */
static void begin_body(struct mg_connection *c, struct mg__http *h, struct http_message *hm,
                       size_t len) {
  if (!(h->flags & MG__H_CLIENT)) {
    const struct mg__http_endpoint *ep = mg__http_find_endpoint(c->listener, hm->uri);
    h->ep_handler = ep != NULL ? ep->handler : NULL;
    h->ep_user_data = ep != NULL ? ep->opts.user_data : NULL;
    h->ep_auth_file = ep != NULL && ep->opts.auth_file != NULL;
  }
  h->head_len = len;
  h->kept = h->offered = 0;
  h->received = 0;
  h->answer_mark = queued_total(c); /* what is queued from now on answers this message */
  h->head_since = 0; /* the head is in: the next one's clock starts afresh */
  h->flags &= ~(MG__H_STREAMING | MG__H_CONTINUE_SENT | MG__H_HEAD_REQUEST | MG__H_OFFERED |
                MG__H_REQ_LAST | MG__H_REQ_KEEP_10 | MG__H_ANSWER_BEGUN);
  if (hm->method.len == 4 && memcmp(hm->method.p, "HEAD", 4) == 0)
    h->flags |= MG__H_HEAD_REQUEST;
  if (!(hm->flags & MG_HTTP_F_KEEP_ALIVE)) {
    h->flags |= MG__H_REQ_LAST;
  } else if (hm->http_minor == 0) {
    h->flags |= MG__H_REQ_KEEP_10;
  }
  if (!(h->flags & MG__H_CLIENT)) mg__http_count_request(h);
  last_by_count(h, hm);
  mg__chunked_init(&h->chunked);
  h->phase = MG__HTTP_BODY;
}

static int read_body(struct mg_connection *c, struct mg__http *h, int at_close,
                     struct http_message *hm);

/* HEAD phase: takes a head and goes on with its body; returns 1 when a whole message
 * was handled (the next may follow), else 0. */
static int read_head(struct mg_connection *c, struct mg__http *h) {
  struct http_message hm;
  int status = 0, n;
  for (;;) {
    int why = c->recv_mbuf.len > 0 ? head_worth_parsing(c, h) : HEAD_WAIT;
    if (why == HEAD_WAIT) return 0;
    n = parse(c, h, &hm, &status);
    if (n != -2) break;
    if (why == HEAD_DUE) return 0;
  }
  if (n < 0) {
    mg__http_reject(c, h, status, NULL);
    return 0;
  }
  h->scanned = h->parsed_at = 0;
  if (h->flags & MG__H_CLIENT) {
    if (hm.resp_code < 200 && hm.resp_code != 101) { /* interim: the final one follows */
      mbuf_remove(&c->recv_mbuf, (size_t) n);
      return 1;
    }
  } else if (!host_ok(&hm)) {
    mg__http_reject(c, h, 400, NULL);
    return 0;
  } else if (hm.flags & MG_HTTP_F_EXPECT_OTHER) {
    mg__http_reject(c, h, 417, NULL);
    return 0;
  }
  begin_body(c, h, &hm, (size_t) n);
  if (h->ep_auth_file) { /* Digest auth (auth.c): refused -> 401 or 500, then close */
    const struct mg__http_endpoint *ep = mg__http_find_endpoint(c->listener, hm.uri);
    if (ep == NULL || !mg__auth_endpoint(c, &hm, ep->opts.auth_domain, ep->opts.auth_file)) {
      if (ep == NULL) mg_http_send_error(c, 500, NULL);
      h->ep_handler = NULL; /* the endpoint never hears of the request */
      adopt_close(c, h);
      h->flags &= ~(MG__H_ANSWER_PENDING | MG__H_CHUNKED_REPLY);
      stop_reading(c, h);
      return 0;
    }
  }
  int mp = mg__mp_begin(c, h, &hm);
  if (mp < 0) return 0; /* refused: the glue answered */
  if (mp > 0) h->flags |= MG__H_MULTIPART | MG__H_STREAMING;
  return read_body(c, h, 0, &hm); /* with the head just parsed: not parsed twice */
}

/* ---- bodies ---------------------------------------------------------------------------- */

enum { BODY_MORE, BODY_DONE, BODY_BAD };

/* The body's framing as this side sees it: a client's reply to HEAD has no body. */
static int64_t body_length(const struct mg__http *h, const struct http_message *hm) {
  if ((h->flags & MG__H_EXPECT_HEAD) && hm->resp_code != 0) return 0;
  return hm->content_length;
}

/* Takes the new body bytes that follow the kept ones (decoding chunks in place). */
static int take_body(struct mg_connection *c, struct mg__http *h,
                     const struct http_message *hm, int at_close) {
  struct mbuf *io = &c->recv_mbuf;
  size_t start = h->head_len + h->kept, avail = io->len - start;
  int64_t length = body_length(h, hm);
  if (length >= 0) {
    uint64_t need = (uint64_t) length - h->received;
    size_t take = (uint64_t) avail < need ? avail : (size_t) need;
    h->kept += take;
    h->received += take;
    return h->received == (uint64_t) length ? BODY_DONE : BODY_MORE;
  }
  if (!(hm->flags & MG_HTTP_F_CHUNKED)) { /* a reply that ends when the server closes */
    h->kept += avail;
    h->received += avail;
    return at_close ? BODY_DONE : BODY_MORE;
  }
  size_t decoded = avail;
  long long r = mg__chunked_decode(&h->chunked, io->buf + start, &decoded);
  if (r == -1) return BODY_BAD;
  size_t rest = r >= 0 ? (size_t) r : 0;
  mg__mbuf_cut(io, start + decoded, avail - decoded - rest); /* the framing just read */
  h->kept += decoded;
  h->received += decoded;
  return r >= 0 ? BODY_DONE : BODY_MORE;
}

/* Who gets the message events: the request's endpoint, else the connection's handler. */
mg_event_handler_t mg__http_handler_for(struct mg_connection *c, const struct mg__http *h) {
  return h->ep_handler != NULL && !(h->flags & MG__H_CLIENT) ? h->ep_handler : c->handler;
}

/* Fills hm's body and message views for the bytes kept after the head. */
static void set_views(struct mg_connection *c, struct mg__http *h, struct http_message *hm) {
  hm->body = mg_mk_str_n(c->recv_mbuf.buf + h->head_len, h->kept);
  hm->message.len = (size_t) (hm->body.p + hm->body.len - hm->message.p);
  if (!(h->flags & MG__H_CLIENT)) last_by_count(h, hm);
}

/* The handler's MG_EV_HTTP_CHUNK; drops the offered bytes if it set MG_F_DELETE_CHUNK.
 * Returns 1 when the handler answered (queued output or asked to close) in it. */
static int offer_chunk(struct mg_connection *c, struct mg__http *h, struct http_message *hm) {
  size_t queued = c->send_mbuf.len;
  unsigned long closing = c->flags & (MG_F_SEND_AND_CLOSE | MG_F_CLOSE_IMMEDIATELY);
  set_views(c, h, hm);
  c->flags &= ~(unsigned long) MG_F_DELETE_CHUNK;
  mg__call(c, mg__http_handler_for(c, h), MG_EV_HTTP_CHUNK, hm);
  if (c->flags & MG_F_DELETE_CHUNK) {
    c->flags &= ~(unsigned long) MG_F_DELETE_CHUNK;
    mg__mbuf_cut(&c->recv_mbuf, h->head_len, h->kept);
    h->kept = 0;
    h->flags |= MG__H_STREAMING;
  }
  h->offered = h->kept;
  h->flags |= MG__H_OFFERED;
  return c->send_mbuf.len != queued ||
         (c->flags & (MG_F_SEND_AND_CLOSE | MG_F_CLOSE_IMMEDIATELY)) != closing;
}

/* 100 Continue, when the client waits for it and the body is going to be read. */
static void maybe_continue(struct mg_connection *c, struct mg__http *h,
                           const struct http_message *hm) {
  if ((h->flags & (MG__H_CLIENT | MG__H_CONTINUE_SENT)) || h->received > 0) return;
  if (!(hm->flags & MG_HTTP_F_EXPECT_CONTINUE)) return;
  h->flags |= MG__H_CONTINUE_SENT;
  mg_send(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
  h->answer_mark = queued_total(c); /* an interim response answers nothing */
}

/* Delivers the complete message, removes it from recv_mbuf, readies the next one. */
static void finish(struct mg_connection *c, struct mg__http *h, struct http_message *hm) {
  int ev = h->flags & MG__H_CLIENT ? MG_EV_HTTP_REPLY : MG_EV_HTTP_REQUEST;
  int last = (h->flags & MG__H_REQ_LAST) != 0;
  set_views(c, h, hm);
  /* the reply to a client's upgrade request, or a server's upgrade request */
  if ((h->flags & MG__H_CLIENT) ? h->ws.awaiting : mg__ws_is_upgrade(hm)) {
    size_t len = h->head_len + h->kept;
    h->phase = MG__HTTP_HEAD;
    h->head_len = h->kept = h->offered = 0;
    if (h->flags & MG__H_CLIENT) {
      mg__ws_client_reply(c, h, hm, len);
    } else {
      mg__ws_server_upgrade(c, h, hm, len);
    }
    return;
  }
  mg__call(c, mg__http_handler_for(c, h), ev, hm);
  h->flags &= ~MG__H_EXPECT_HEAD;
  set_unanswered(c, h, ev == MG_EV_HTTP_REQUEST && queued_total(c) == h->answer_mark &&
                           h->stream.pump == NULL);
  h->phase = MG__HTTP_HEAD;
  if (c->recv_mbuf.len >= h->head_len + h->kept) {
    mbuf_remove(&c->recv_mbuf, h->head_len + h->kept);
  } else {
    c->recv_mbuf.len = 0; /* the handler consumed the buffer itself */
  }
  h->head_len = h->kept = h->offered = 0;
  if (last) {
    stop_reading(c, h);
    if (!(h->flags & MG__H_CLIENT)) {
      h->flags |= MG__H_ANSWER_PENDING;
      check_answer(c, h);
    }
  }
}

static int closing(const struct mg_connection *c);

/* A multipart body: the new bytes go to the parser; what it consumed leaves the buffer.
 * Returns 1 when the request is complete (the next may follow), else 0. */
static int feed_multipart(struct mg_connection *c, struct mg__http *h, struct http_message *hm,
                          int state) {
  size_t used = mg__mp_feed(c, h, c->recv_mbuf.buf + h->head_len, h->kept, state == BODY_DONE);
  if (used > h->kept) used = h->kept;
  mg__mbuf_cut(&c->recv_mbuf, h->head_len, used);
  h->kept -= used;
  if (closing(c) || h->phase == MG__HTTP_DRAIN) return 0; /* not for a client's EOF */
  if (state != BODY_DONE) {
    if (h->kept > h->limits.body) { /* the handler leaves data unconsumed: bounded */
      mg__http_reject(c, h, 413, NULL);
      return 0;
    }
    maybe_continue(c, h, hm);
    return 0;
  }
  h->flags &= ~MG__H_MULTIPART;
  mg__mp_free(h);
  int last = (h->flags & MG__H_REQ_LAST) != 0;
  mbuf_remove(&c->recv_mbuf, h->head_len + h->kept);
  h->head_len = h->kept = h->offered = 0;
  h->phase = MG__HTTP_HEAD;
  set_unanswered(c, h, queued_total(c) == h->answer_mark && h->stream.pump == NULL);
  if (last) {
    stop_reading(c, h);
    h->flags |= MG__H_ANSWER_PENDING;
    check_answer(c, h);
  }
  return 1;
}

/* Whether the body kept (or, unless the handler streams, announced) exceeds the limit. */
static int over_limit(const struct mg__http *h, const struct http_message *hm) {
  int64_t length = body_length(h, hm);
  if (h->kept > h->limits.body) return 1;
  return length >= 0 && (uint64_t) length > h->limits.body && !(h->flags & MG__H_STREAMING);
}

/* BODY phase: returns 1 when a message was completed (the next may follow), else 0. */
static int read_body(struct mg_connection *c, struct mg__http *h, int at_close,
                     struct http_message *hm) {
  struct http_message own;
  int status = 0;
  if (hm == NULL) { /* parse the head again: the buffer may have moved since */
    hm = &own;
    if (c->recv_mbuf.len < h->head_len + h->kept || parse(c, h, hm, &status) <= 0) {
      stop_reading(c, h); /* the handler took bytes from under the parser */
      return 0;
    }
  }
  size_t kept_before = h->kept;
  int state = take_body(c, h, hm, at_close);
  if (state == BODY_BAD) {
    mg__http_reject(c, h, 400, NULL);
    return 0;
  }
  if (h->flags & MG__H_MULTIPART) return feed_multipart(c, h, hm, state);
  if (state == BODY_MORE && (h->flags & MG__H_OFFERED) && h->kept == kept_before) return 0;
  unsigned long was_closing = c->flags & MG_F_CLOSE_IMMEDIATELY; /* set at close time */
  if ((h->flags & MG__H_CLIENT) && h->ws.awaiting && state == BODY_DONE) {
    finish(c, h, hm); /* the upgrade's answer: straight to MG_EV_WEBSOCKET_HANDSHAKE_DONE */
    return 1;
  }
  int answered = offer_chunk(c, h, hm);
  if ((c->flags & MG_F_CLOSE_IMMEDIATELY) && !was_closing) return 0;
  if (over_limit(h, hm)) {
    mg__http_reject(c, h, 413, NULL);
    return 0;
  }
  if (state == BODY_DONE) {
    finish(c, h, hm);
    return 1;
  }
  if (answered && !(h->flags & MG__H_CLIENT)) { /* answered before the body: no more */
    stop_reading(c, h);
    h->flags |= MG__H_ANSWER_PENDING;
    check_answer(c, h);
    return 0;
  }
  maybe_continue(c, h, hm);
  return 0;
}

/* ---- the message loop ---------------------------------------------------------------------- */

/* Whether the handler (not the peer's EOF) asked for the connection to end. */
static int closing(const struct mg_connection *c) {
  if (c->flags & MG_F_CLOSE_IMMEDIATELY) return 1;
  return (c->flags & MG_F_SEND_AND_CLOSE) && !(c->internal_flags & MG__C_EOF);
}

static void process(struct mg_connection *c, struct mg__http *h) {
  if (h->flags & MG__H_DISPATCHING) return;
  h->flags |= MG__H_DISPATCHING;
  for (;;) {
    if (closing(c)) {
      if (!(c->flags & MG_F_CLOSE_IMMEDIATELY)) stop_reading(c, h);
      break;
    }
    if (h->phase == MG__HTTP_HEAD && !(h->flags & MG__H_CLIENT) && !answer_complete(h))
      break; /* the next request waits for this one's answer (a stream, a late reply) */
    if (h->phase == MG__HTTP_DRAIN) {
      c->recv_mbuf.len = 0;
      break;
    }
    if (c->flags & MG_F_IS_WEBSOCKET) {
      mg__ws_recv(c, h);
      break;
    }
    int more = h->phase == MG__HTTP_HEAD ? read_head(c, h) : read_body(c, h, 0, NULL);
    if (!more) break;
  }
  h->flags &= ~MG__H_DISPATCHING;
}

/* After an event that may have completed an answer (given late by the handler, or the
 * end of a stream): requests already received that waited for it go on. */
static void resume(struct mg_connection *c, struct mg__http *h) {
  check_answer(c, h);
  if (h->phase == MG__HTTP_HEAD && c->recv_mbuf.len > 0 && !(h->flags & MG__H_CLIENT) &&
      !(c->flags & MG_F_IS_WEBSOCKET) && answer_complete(h))
    process(c, h);
}

/* On close: a reply that runs until the server closes is complete now. */
static void finish_at_close(struct mg_connection *c, struct mg__http *h) {
  if (!(h->flags & MG__H_CLIENT) || h->phase != MG__HTTP_BODY) return;
  h->flags |= MG__H_DISPATCHING;
  read_body(c, h, 1, NULL);
  h->flags &= ~MG__H_DISPATCHING;
}

/* The next deadline this layer checks on MG_EV_POLL (the end of a lingering close, a
 * WebSocket's idle Ping or close wait, a timeout), so that mg_mgr_poll (and an event
 * loop asking mg_mgr_next_timer) does not sleep past it. */
static void schedule_wake(struct mg_connection *c, const struct mg__http *h) {
  double at = mg__http_deadline(h);
  if ((h->flags & MG__H_SHUT) && (at == 0 || h->linger_until < at)) at = h->linger_until;
  if (c->flags & MG_F_IS_WEBSOCKET) {
    double ws = mg__ws_deadline(h);
    if (ws > 0 && (at == 0 || ws < at)) at = ws;
  }
  c->wake_at = at;
}

/* MG_EV_POLL: what is due by the clock, and data a multipart handler left is offered
 * again (once per iteration: a handler that keeps taking nothing costs no busy loop). */
static void on_poll(struct mg_connection *c, struct mg__http *h) {
  if (c->wake_at > 0 && c->mgr->now >= c->wake_at) {
    mg__http_expire(c, h);
    if ((c->flags & (MG_F_IS_WEBSOCKET | MG_F_CLOSE_IMMEDIATELY)) == MG_F_IS_WEBSOCKET)
      mg__ws_poll(c, h);
  }
  if ((h->flags & MG__H_MULTIPART) && mg__mp_paused(h)) process(c, h);
}

static void http_handler(struct mg_connection *c, int ev, void *ev_data) {
  struct mg__http *h = (struct mg__http *) c->proto_data;
  if (ev == MG_EV_ACCEPT && h == NULL) {
    struct mg__http *lh = mg__http_state(c->listener);
    if (attach_state(c, lh != NULL ? &lh->limits : NULL) != 0) {
      mg__mark_closing(c, ENOMEM);
      return;
    }
    h = (struct mg__http *) c->proto_data;
  }
  if (h == NULL || ev == MG_EV_CLOSE) {
    if (h != NULL) {
      finish_at_close(c, h);
      if (h->flags & MG__H_MULTIPART) mg__mp_abort(c, h);
      end_stream(h);
      if (h->ep_handler != NULL && h->ep_handler != c->handler)
        mg__call(c, h->ep_handler, ev, ev_data);
    }
    mg__call(c, c->handler, ev, ev_data);
    return;
  }
  mg__call(c, c->handler, ev, ev_data);
  switch (ev) {
    case MG_EV_RECV:
      process(c, h);
      break;
    case MG_EV_SEND:
    case MG_EV_POLL:
      if (h->stream.pump != NULL) pump(c, h);
      if (ev == MG_EV_POLL) on_poll(c, h);
      resume(c, h);
      break;
    default:
      resume(c, h); /* an answer may have been given late (a timer, another connection) */
      break;
  }
  adopt_close(c, h);
  linger_step(c, h);
  mg__http_track(c, h, ev);
  schedule_wake(c, h);
}
