/*
 * WebSocket on HTTP connections (RFC 6455, RFC 7692): the server's upgrade, the client's
 * handshake, frames in and out. See the "WebSocket" section of mgio.h for the contract.
 *
 * Receiving: frames are read from recv_mbuf as they arrive. A message being reassembled
 * sits at the front of recv_mbuf (msg_len bytes, its frame headers cut out); the frame
 * being received follows it. Payload bytes are unmasked and, for uncompressed text,
 * validated as UTF-8 the moment they arrive, so a bad byte fails the connection at once,
 * not when its frame or message ends. Control frames between fragments are handled and
 * cut out without disturbing the message.
 */
#define _DEFAULT_SOURCE /* getrandom */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "../net/internal.h"
#include "http_internal.h"

/* ---- small helpers ------------------------------------------------------------------ */

/* Whether the comma list `value` holds `token` (ASCII case-insensitive, OWS trimmed). */
static int list_has(const struct mg_str *value, const char *token) {
  struct mg_str list, v;
  if (value == NULL) return 0;
  list = *value;
  while ((list = mg_next_comma_list_entry_n(list, &v, NULL)).p != NULL) {
    v = mg_strstrip(v);
    if (mg_vcasecmp(&v, token) == 0) return 1;
  }
  return 0;
}

/* Fills buf with n bytes from the OS CSPRNG; 0, or -1. */
static int random_bytes(void *buf, size_t n) {
  unsigned char *p = (unsigned char *) buf;
  while (n > 0) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t) r;
  }
  return 0;
}

/* A fresh mask key, from a small per-connection pool refilled from the CSPRNG (one
 * system call per eight frames instead of one per frame). */
static int mask_key(struct mg__ws *w, unsigned char key[4]) {
  if (w->rnd_left < 4) {
    if (random_bytes(w->rnd, sizeof(w->rnd)) != 0) return -1;
    w->rnd_left = sizeof(w->rnd);
  }
  memcpy(key, w->rnd + sizeof(w->rnd) - w->rnd_left, 4);
  w->rnd_left = (unsigned char) (w->rnd_left - 4);
  return 0;
}

void mg__ws_free(struct mg__ws *w) {
  mg__ws_deflate_free(w->deflate);
  w->deflate = NULL;
  free(w->offered_protocols);
  w->offered_protocols = NULL;
  free(w->chosen_protocol);
  w->chosen_protocol = NULL;
}

/* ---- sending ---------------------------------------------------------------------------- */

/* Queues one frame: header (masked by a client), then the pieces. Returns 0, or -1 when
 * memory or randomness ran out (the connection is then closed). */
static int queue_frame(struct mg_connection *c, struct mg__http *h, unsigned char first,
                       const struct mg_str *parts, int n, size_t total) {
  unsigned char hdr[MG__WS_MAX_HEADER], key[4];
  int masked = (h->flags & MG__H_CLIENT) != 0;
  if ((masked && mask_key(&h->ws, key) != 0) ||
      total > SIZE_MAX - MG__WS_MAX_HEADER ||
      !mbuf_reserve(&c->send_mbuf, MG__WS_MAX_HEADER + total)) {
    mg__mark_closing(c, ENOMEM);
    return -1;
  }
  size_t hlen = mg__ws_build_header(hdr, first, total, masked ? key : NULL);
  mbuf_append(&c->send_mbuf, hdr, hlen);
  size_t start = c->send_mbuf.len;
  for (int i = 0; i < n; i++) mbuf_append(&c->send_mbuf, parts[i].p, parts[i].len);
  if (masked) mg__ws_mask((unsigned char *) c->send_mbuf.buf + start, total, key, 0);
  c->last_io_time = time(NULL);
  return 0;
}

/* Messages this short are not worth compressing. */
#define MG__WS_DEFLATE_MIN 64

/* Queues a whole message compressed (RSV1). Returns 0, or -1 to send it plainly. */
static int queue_deflated(struct mg_connection *c, struct mg__http *h, unsigned char first,
                          const struct mg_str *parts, int n, size_t total) {
  struct mbuf plain, packed;
  const char *data = n == 1 ? parts[0].p : NULL;
  mbuf_init(&plain, 0);
  mbuf_init(&packed, 0);
  if (data == NULL) { /* several pieces: the compressor takes one buffer */
    for (int i = 0; i < n; i++) {
      if (mbuf_append(&plain, parts[i].p, parts[i].len) != parts[i].len) {
        mbuf_free(&plain);
        return -1;
      }
    }
    data = plain.buf;
  }
  int rc = mg__ws_deflate_message(h->ws.deflate, data, total, &packed);
  if (rc == 0) {
    struct mg_str piece = mg_mk_str_n(packed.buf, packed.len);
    queue_frame(c, h, (unsigned char) (first | MG__WS_RSV1), &piece, 1, packed.len);
  } else {
    mg__mark_closing(c, ENOMEM); /* the compression context is lost: so is the stream */
  }
  mbuf_free(&plain);
  mbuf_free(&packed);
  return 0;
}

/* The closing handshake: after a Close went out, nothing more is sent; the connection
 * ends once the peer's Close is in (at once when it already is), or at the deadline. */
static void after_close_sent(struct mg_connection *c, struct mg__http *h) {
  h->ws.close_sent = 1;
  if (h->ws.close_received || h->ws.failed) {
    c->flags |= MG_F_SEND_AND_CLOSE;
  } else {
    h->ws.close_deadline = mg_time() + h->limits.ws_close_ms / 1000.0;
  }
}

static void send_framev(struct mg_connection *c, int op_and_flags, const struct mg_str *parts,
                        int n) {
  struct mg__http *h = mg__http_state(c);
  int op = op_and_flags & 0x0f, fin = !(op_and_flags & WEBSOCKET_DONT_FIN);
  size_t total = 0;
  if (h == NULL || !(c->flags & MG_F_IS_WEBSOCKET) || h->ws.close_sent || n < 0) return;
  for (int i = 0; i < n; i++) {
    if (parts[i].p == NULL && parts[i].len > 0) return;
    if (parts[i].len > SIZE_MAX - total) return;
    total += parts[i].len;
  }
  if (op >= WEBSOCKET_OP_CLOSE) {
    if (total > 125 || !fin) return; /* control frames: short and whole (RFC 6455 5.5) */
  } else if (op == WEBSOCKET_OP_CONTINUE ? h->ws.send_op == 0 : h->ws.send_op != 0) {
    return; /* a continuation needs a message in progress; a new message, none */
  }
  unsigned char first = (unsigned char) ((fin ? MG__WS_FIN : 0) | op);
  if (op == WEBSOCKET_OP_TEXT || op == WEBSOCKET_OP_BINARY) {
    if (!fin) {
      h->ws.send_op = (unsigned char) op; /* fragments go uncompressed */
    } else if (h->ws.deflate != NULL && total >= MG__WS_DEFLATE_MIN &&
               queue_deflated(c, h, first, parts, n, total) == 0) {
      return;
    }
  } else if (op == WEBSOCKET_OP_CONTINUE && fin) {
    h->ws.send_op = 0;
  }
  if (queue_frame(c, h, first, parts, n, total) == 0 && op == WEBSOCKET_OP_CLOSE)
    after_close_sent(c, h);
}

void mg_send_websocket_framev(struct mg_connection *nc, int op_and_flags,
                              const struct mg_str *strings, int num_strings) {
  if (nc == NULL || (strings == NULL && num_strings > 0)) return;
  send_framev(nc, op_and_flags, strings, num_strings);
}

void mg_send_websocket_frame(struct mg_connection *nc, int op_and_flags, const void *data,
                             size_t data_len) {
  struct mg_str piece = mg_mk_str_n((const char *) data, data_len);
  if (nc == NULL) return;
  send_framev(nc, op_and_flags, &piece, 1);
}

void mg_printf_websocket_frame(struct mg_connection *nc, int op_and_flags, const char *fmt,
                               ...) {
  char stack[256], *buf = stack;
  va_list ap;
  if (nc == NULL || fmt == NULL) return;
  va_start(ap, fmt);
  int len = mg_avprintf(&buf, sizeof(stack), fmt, ap);
  va_end(ap);
  if (len > 0) mg_send_websocket_frame(nc, op_and_flags, buf, (size_t) len);
  if (buf != stack) free(buf);
}

/* Queues a Close with `code` (0: none) and up to 123 bytes of `reason`. */
static void send_close(struct mg_connection *c, int code, const char *reason, size_t len) {
  unsigned char payload[125];
  size_t n = 0;
  if (code != 0) {
    payload[0] = (unsigned char) (code >> 8);
    payload[1] = (unsigned char) code;
    n = 2;
    if (len > 123) len = 123;
    /* cut at a character boundary: never in the middle of a UTF-8 sequence */
    while (len > 0 && len < strlen(reason) && ((unsigned char) reason[len] & 0xc0) == 0x80)
      len--;
    memcpy(payload + 2, reason, len);
    n += len;
  }
  mg_send_websocket_frame(c, WEBSOCKET_OP_CLOSE, payload, n);
}

void mg_websocket_close(struct mg_connection *nc, int code, const char *reason) {
  if (nc == NULL || (code != 0 && !mg__ws_close_code_ok(code))) return;
  if (reason == NULL) reason = "";
  send_close(nc, code, reason, strlen(reason));
}

/* Fails the connection: a Close with `code` (unless one went out), then the close.
 * Input is no longer read. */
static void fail(struct mg_connection *c, struct mg__http *h, int code, const char *reason) {
  h->ws.failed = 1;
  if (!h->ws.close_sent) send_close(c, code, reason, strlen(reason));
  c->flags |= MG_F_SEND_AND_CLOSE;
  c->recv_mbuf.len = 0;
  h->ws.msg_len = 0;
  h->ws.hdr_len = 0;
}

/* ---- receiving ------------------------------------------------------------------------ */

static void deliver(struct mg_connection *c, struct mg__http *h, int ev, unsigned char *data,
                    size_t size, unsigned char flags) {
  struct websocket_message wm;
  wm.data = data;
  wm.size = size;
  wm.flags = flags;
  mg__call(c, mg__http_handler_for(c, h), ev, &wm);
}

/* The most wire bytes a message may take: ws_message, and for a compressed one (whose
 * limit is on the inflated size) room for deflate's worst case on incompressible data,
 * a few bytes per 16 KiB block. */
static uint64_t wire_limit(const struct mg__http *h) {
  uint64_t limit = h->limits.ws_message;
  return h->ws.msg_deflated ? limit + limit / 256 + 1024 : limit;
}

/* Judges a new frame header (RFC 6455 5.2-5.5, RFC 7692 6); 0 or the close code, with
 * the reason in *why. Starts the message state for the first frame of a message. */
static int judge_header(struct mg__http *h, const char **why) {
  struct mg__ws *w = &h->ws;
  const struct mg__ws_header *f = &w->hdr;
  int control = (f->opcode & 8) != 0;
  int is_server = !(h->flags & MG__H_CLIENT);
  *why = "protocol error";
  if (f->rsv & (MG__WS_RSV2 | MG__WS_RSV3)) return 1002;
  if ((f->rsv & MG__WS_RSV1) &&
      (w->deflate == NULL || control || f->opcode == WEBSOCKET_OP_CONTINUE))
    return 1002;
  if (f->opcode > WEBSOCKET_OP_PONG || (f->opcode > WEBSOCKET_OP_BINARY && !control)) {
    *why = "reserved opcode";
    return 1002;
  }
  if (f->masked != is_server) {
    *why = is_server ? "unmasked frame" : "masked frame";
    return 1002;
  }
  if (control) {
    if (!f->fin || f->len > 125) {
      *why = "fragmented or oversized control frame";
      return 1002;
    }
    return 0;
  }
  if ((f->opcode == WEBSOCKET_OP_CONTINUE) != (w->msg_op != 0)) {
    *why = w->msg_op != 0 ? "new message inside a fragmented one" : "continuation without a message";
    return 1002;
  }
  if (f->opcode != WEBSOCKET_OP_CONTINUE) {
    w->msg_op = f->opcode;
    w->msg_deflated = (f->rsv & MG__WS_RSV1) != 0;
    w->msg_size = 0;
    w->fragments = 0;
    mg_utf8_init(&w->utf8);
  }
  *why = "message too big";
  if (++w->fragments > h->limits.ws_fragments) return 1009;
  if (f->len > wire_limit(h) - w->msg_size) return 1009;
  w->msg_size += f->len;
  return 0;
}

/* Unmasks the payload bytes of the current frame that arrived since the last call and
 * checks uncompressed text as it comes. Returns 0, or 1007. */
static int take_payload(struct mg_connection *c, struct mg__ws *w, size_t at) {
  size_t have = c->recv_mbuf.len - at;
  uint64_t upto = have < w->hdr.len ? have : w->hdr.len;
  if (upto <= w->done) return 0;
  unsigned char *p = (unsigned char *) c->recv_mbuf.buf + at + w->done;
  size_t n = (size_t) (upto - w->done);
  if (w->hdr.masked) mg__ws_mask(p, n, w->hdr.mask, w->done);
  w->done = upto;
  int text = (w->hdr.opcode & 8) == 0 && w->msg_op == WEBSOCKET_OP_TEXT && !w->msg_deflated;
  return text && mg_utf8_feed(&w->utf8, p, n) == MG_UTF8_INVALID ? 1007 : 0;
}

/* A complete control frame at `p`. */
static void on_control(struct mg_connection *c, struct mg__http *h, unsigned char *p,
                       size_t n) {
  struct mg__ws *w = &h->ws;
  unsigned char first = w->hdr.first;
  if (w->hdr.opcode == WEBSOCKET_OP_PING) {
    mg_send_websocket_frame(c, WEBSOCKET_OP_PONG, p, n); /* before the handler hears */
  } else if (w->hdr.opcode == WEBSOCKET_OP_CLOSE) {
    int code;
    size_t reason;
    int bad = mg__ws_check_close(p, n, &code, &reason);
    if (bad != 0) {
      fail(c, h, bad, bad == 1007 ? "invalid close reason" : "invalid close code");
      return;
    }
    w->close_received = 1;
    deliver(c, h, MG_EV_WEBSOCKET_CONTROL_FRAME, p, n, first);
    if (!w->close_sent) send_close(c, code == 1005 ? 0 : code, "", 0); /* echo the code */
    c->flags |= MG_F_SEND_AND_CLOSE;
    return;
  }
  deliver(c, h, MG_EV_WEBSOCKET_CONTROL_FRAME, p, n, first);
}

/* A complete message of `n` bytes at the front of recv_mbuf. */
static void on_message(struct mg_connection *c, struct mg__http *h, size_t n) {
  struct mg__ws *w = &h->ws;
  unsigned char flags = (unsigned char) (MG__WS_FIN | w->msg_op);
  int text = w->msg_op == WEBSOCKET_OP_TEXT;
  if (w->msg_deflated) {
    struct mbuf out;
    mbuf_init(&out, 0);
    int rc = mg__ws_inflate_message(w->deflate, c->recv_mbuf.buf, n, h->limits.ws_message,
                                    &out);
    if (rc == 0 && text && !mg_utf8_valid(out.buf, out.len)) rc = -4;
    if (rc == 0) {
      deliver(c, h, MG_EV_WEBSOCKET_FRAME, (unsigned char *) out.buf, out.len, flags);
    } else {
      static const int codes[] = {1007, 1009, 1011, 1007};
      static const char *const why[] = {"invalid compressed data", "message too big",
                                        "out of memory", "invalid UTF-8"};
      fail(c, h, codes[-rc - 1], why[-rc - 1]);
    }
    mbuf_free(&out);
    if (rc != 0) return;
  } else if (text && w->utf8.need != 0) {
    fail(c, h, 1007, "invalid UTF-8"); /* ends inside a character */
    return;
  } else {
    deliver(c, h, MG_EV_WEBSOCKET_FRAME, (unsigned char *) c->recv_mbuf.buf, n, flags);
  }
  if (c->recv_mbuf.len >= n) mbuf_remove(&c->recv_mbuf, n);
  w->msg_len = 0;
  w->msg_op = 0;
}

/* The current frame is complete at recv_mbuf[at ..]; its header is hdr_len bytes
 * before `at`. */
static void on_frame(struct mg_connection *c, struct mg__http *h, size_t at) {
  struct mg__ws *w = &h->ws;
  size_t n = (size_t) w->hdr.len, start = at - w->hdr_len;
  unsigned char *p = (unsigned char *) c->recv_mbuf.buf + at;
  w->hdr_len = 0;
  if (w->hdr.opcode & 8) {
    on_control(c, h, p, n);
    if (!w->failed) mg__mbuf_cut(&c->recv_mbuf, start, (size_t) (at - start) + n);
  } else if (c->flags & MG_F_WEBSOCKET_NO_DEFRAG) {
    if (w->hdr.fin && w->msg_op == WEBSOCKET_OP_TEXT && w->utf8.need != 0) {
      fail(c, h, 1007, "invalid UTF-8"); /* the message ends inside a character */
      return;
    }
    deliver(c, h, MG_EV_WEBSOCKET_FRAME, p, n, w->hdr.first);
    mg__mbuf_cut(&c->recv_mbuf, start, (size_t) (at - start) + n);
    if (w->hdr.fin) w->msg_op = 0;
  } else {
    mg__mbuf_cut(&c->recv_mbuf, start, (size_t) (at - start)); /* join the message */
    w->msg_len += n;
    if (w->hdr.fin) on_message(c, h, w->msg_len);
  }
}

void mg__ws_recv(struct mg_connection *c, struct mg__http *h) {
  struct mg__ws *w = &h->ws;
  w->last_input = c->mgr->now; /* this iteration's time: the clock is read once per poll */
  w->ping_sent = 0;
  while (!(c->flags & MG_F_CLOSE_IMMEDIATELY)) {
    if (w->failed || w->close_received) {
      c->recv_mbuf.len = 0; /* nothing after a Close counts (RFC 6455 5.5.1) */
      break;
    }
    size_t at = w->msg_len;
    if (w->hdr_len == 0) {
      const char *why;
      int n = mg__ws_parse_header((const unsigned char *) c->recv_mbuf.buf + at,
                                  c->recv_mbuf.len - at, &w->hdr);
      if (n == -2) break;
      int code = n < 0 ? 1002 : judge_header(h, &why);
      if (code != 0) {
        fail(c, h, code, n < 0 ? "bad frame length" : why);
        break;
      }
      w->hdr_len = (unsigned char) n;
      w->done = 0;
    }
    at += w->hdr_len;
    if (take_payload(c, w, at) != 0) {
      fail(c, h, 1007, "invalid UTF-8");
      break;
    }
    if (w->done < w->hdr.len) break; /* the rest of the frame is still on its way */
    on_frame(c, h, at);
  }
}

/* The idle Ping is out, and its answer has a deadline. */
static int awaiting_pong(const struct mg__http *h) {
  return h->ws.ping_sent && h->limits.ws_pong_ms > 0;
}

/* How long after last_input the next Ping or the Pong deadline is due (s); 0: never. */
static double quiet_allowed(const struct mg__http *h) {
  return (awaiting_pong(h) ? h->limits.ws_pong_ms : h->limits.ws_ping_ms) / 1000.0;
}

double mg__ws_deadline(const struct mg__http *h) {
  const struct mg__ws *w = &h->ws;
  if (w->close_sent) return w->close_received ? 0 : w->close_deadline;
  double quiet = quiet_allowed(h);
  return quiet > 0 ? w->last_input + quiet : 0;
}

void mg__ws_poll(struct mg_connection *c, struct mg__http *h) {
  struct mg__ws *w = &h->ws;
  double now = c->mgr->now;
  if (c->wake_at == 0 || now < c->wake_at) return; /* nothing due (see mg__ws_deadline) */
  if (w->close_sent) {
    if (!w->close_received && now > w->close_deadline) mg__mark_closing(c, ETIMEDOUT);
    return;
  }
  double quiet = quiet_allowed(h);
  if (quiet <= 0 || now - w->last_input < quiet) return; /* no Ping or Pong deadline due */
  if (awaiting_pong(h)) {
    /* the peer (or the path to it) is gone; the Close says why to one that is not */
    fail(c, h, 1011, "keepalive ping timeout");
    if (c->err == 0) c->err = ETIMEDOUT;
  } else {
    mg_send_websocket_frame(c, WEBSOCKET_OP_PING, "", 0);
    w->last_input = now; /* the Pong wait (or, with none, the next Ping) counts from here */
    w->ping_sent = 1;
  }
}

/* ---- the server's handshake ------------------------------------------------------------ */

int mg__ws_is_upgrade(const struct http_message *hm) {
  struct http_message *m = (struct http_message *) hm;
  return list_has(mg_get_http_header(m, "Upgrade"), "websocket") ||
         mg_get_http_header(m, "Sec-WebSocket-Key") != NULL;
}

/* 0 when `hm` is a valid upgrade request (RFC 6455 4.2.1), else its status. */
/* How many fields called `name` the request has. */
static size_t field_count(const struct http_message *hm, const char *name) {
  size_t n = 0;
  for (size_t i = 0; i < hm->num_headers; i++)
    if (mg_vcasecmp(&hm->header_names[i], name) == 0) n++;
  return n;
}

static int upgrade_status(struct http_message *hm) {
  struct mg_str *key = mg_get_http_header(hm, "Sec-WebSocket-Key");
  struct mg_str *version = mg_get_http_header(hm, "Sec-WebSocket-Version");
  /* RFC 6455 11.3.1: the key MUST NOT be repeated (the combined value is no key) */
  if (mg_vcmp(&hm->method, "GET") != 0 || hm->http_minor < 1 ||
      !(hm->flags & MG_HTTP_F_UPGRADE) ||
      !list_has(mg_get_http_header(hm, "Upgrade"), "websocket") || key == NULL ||
      !mg__ws_key_ok(*key) || field_count(hm, "Sec-WebSocket-Key") > 1 || version == NULL ||
      hm->content_length != 0)
    return 400;
  /* repeated version fields combine into a list ("13, 8"), which is not 13 */
  return mg_vcmp(version, "13") == 0 && field_count(hm, "Sec-WebSocket-Version") == 1 ? 0 : 426;
}

/* The first subprotocol the client offers (a token), or an empty string. */
static struct mg_str first_protocol(struct http_message *hm) {
  struct mg_str *offered = mg_get_http_header(hm, "Sec-WebSocket-Protocol"), v;
  struct mg_str none = mg_mk_str_n("", 0);
  if (offered == NULL || mg_next_comma_list_entry_n(*offered, &v, NULL).p == NULL) return none;
  v = mg_strstrip(v);
  for (size_t i = 0; i < v.len; i++) {
    unsigned char ch = (unsigned char) v.p[i];
    if (ch <= 0x20 || ch >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", ch) != NULL) return none;
  }
  return v;
}

/* Negotiates permessage-deflate from the request's offers into `resp`; 1 when on. */
static int server_deflate(struct mg_connection *c, struct mg__http *h, struct http_message *hm,
                          char *resp, size_t resp_len) {
  struct mg__ws_deflate_params params;
  if (!h->limits.ws_deflate || (c->flags & MG_F_WEBSOCKET_NO_DEFRAG)) return 0;
  for (size_t i = 0; i < hm->num_headers; i++) {
    if (mg_vcasecmp(&hm->header_names[i], "Sec-WebSocket-Extensions") != 0) continue;
    if (!mg__ws_deflate_negotiate(hm->header_values[i], &params, resp, resp_len)) continue;
    h->ws.deflate = mg__ws_deflate_new(&params, 1);
    return h->ws.deflate != NULL; /* out of memory: go on without compression */
  }
  return 0;
}

/* Whether the client offered `name` in its Sec-WebSocket-Protocol field(s). */
static int client_offered(struct http_message *hm, const char *name) {
  struct mg_str want = mg_mk_str(name);
  for (size_t i = 0; i < hm->num_headers; i++) {
    struct mg_str list = hm->header_values[i], v;
    if (mg_vcasecmp(&hm->header_names[i], "Sec-WebSocket-Protocol") != 0) continue;
    while ((list = mg_next_comma_list_entry_n(list, &v, NULL)).p != NULL) {
      v = mg_strstrip(v);
      if (mg_strcmp(v, want) == 0) return 1;
    }
  }
  return 0;
}

void mg_websocket_select_protocol(struct mg_connection *nc, const char *protocol) {
  struct mg__http *h = mg__http_state(nc);
  if (h == NULL || (h->flags & MG__H_CLIENT)) return;
  free(h->ws.chosen_protocol);
  h->ws.chosen_protocol = NULL;
  h->ws.protocol_chosen = 1;
  if (protocol == NULL || *protocol == '\0') return;
  size_t n = strlen(protocol) + 1;
  h->ws.chosen_protocol = (char *) malloc(n);
  if (h->ws.chosen_protocol != NULL) memcpy(h->ws.chosen_protocol, protocol, n);
}

/* The subprotocol the 101 names: the handler's valid choice, or the first offer. */
static struct mg_str answer_protocol(struct mg__http *h, struct http_message *hm) {
  const char *chosen = h->ws.chosen_protocol;
  if (!h->ws.protocol_chosen) return first_protocol(hm);
  if (chosen != NULL && client_offered(hm, chosen)) return mg_mk_str(chosen);
  return mg_mk_str_n("", 0);
}

static void send_101(struct mg_connection *c, struct mg__http *h, struct http_message *hm) {
  struct mg_str *key = mg_get_http_header(hm, "Sec-WebSocket-Key");
  struct mg_str protocol = answer_protocol(h, hm);
  char accept[29], deflate[160];
  mg__ws_accept_key(key->p, key->len, accept);
  int compress = server_deflate(c, h, hm, deflate, sizeof(deflate));
  mg_printf(c,
            "HTTP/1.1 101 Switching Protocols\r\n" MG_SERVER_HEADER
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n",
            accept);
  if (protocol.len > 0)
    mg_printf(c, "Sec-WebSocket-Protocol: %.*s\r\n", (int) protocol.len, protocol.p);
  if (compress) mg_printf(c, "Sec-WebSocket-Extensions: %s\r\n", deflate);
  mg_send(c, "\r\n", 2);
}

void mg__ws_server_upgrade(struct mg_connection *c, struct mg__http *h,
                           struct http_message *hm, size_t len) {
  int status = upgrade_status(hm);
  if (status != 0) {
    mg__http_reject(c, h, status, status == 426 ? "Sec-WebSocket-Version: 13" : NULL);
    return;
  }
  size_t queued = c->send_mbuf.len;
  unsigned long closing = MG_F_SEND_AND_CLOSE | MG_F_CLOSE_IMMEDIATELY;
  mg__call(c, mg__http_handler_for(c, h), MG_EV_WEBSOCKET_HANDSHAKE_REQUEST, hm);
  if (c->flags & closing) { /* refused */
    if (c->recv_mbuf.len >= len) mbuf_remove(&c->recv_mbuf, len);
    h->phase = MG__HTTP_DRAIN;
    return;
  }
  if (c->send_mbuf.len == queued) send_101(c, h, hm); /* unless it answered itself */
  free(h->ws.chosen_protocol);
  h->ws.chosen_protocol = NULL;
  c->flags |= MG_F_IS_WEBSOCKET;
  h->ws.last_input = mg_time();
  mg__call(c, mg__http_handler_for(c, h), MG_EV_WEBSOCKET_HANDSHAKE_DONE, hm);
  if (c->recv_mbuf.len >= len) mbuf_remove(&c->recv_mbuf, len);
}

/* ---- the client's handshake ------------------------------------------------------------ */

/* Whether `offered` (the Sec-WebSocket-Protocol the client sent) lists `chosen`. */
static int protocol_offered(const char *offered, const struct mg_str *chosen) {
  struct mg_str list, v;
  if (offered == NULL || chosen->len == 0) return 0;
  list = mg_mk_str(offered);
  while ((list = mg_next_comma_list_entry_n(list, &v, NULL)).p != NULL) {
    v = mg_strstrip(v);
    if (mg_strcmp(v, *chosen) == 0) return 1;
  }
  return 0;
}

/* 1 when the reply completes the handshake (RFC 6455 4.1), else 0. */
static int reply_ok(struct mg__http *h, struct http_message *hm) {
  struct mg__ws *w = &h->ws;
  struct mg_str *accept = mg_get_http_header(hm, "Sec-WebSocket-Accept");
  struct mg_str *protocol = mg_get_http_header(hm, "Sec-WebSocket-Protocol");
  struct mg_str *ext = mg_get_http_header(hm, "Sec-WebSocket-Extensions");
  struct mg__ws_deflate_params params;
  char want[29];
  if (hm->resp_code != 101 || accept == NULL) return 0;
  mg__ws_accept_key(w->key, strlen(w->key), want);
  if (mg_vcmp(accept, want) != 0 || !list_has(mg_get_http_header(hm, "Upgrade"), "websocket") ||
      !list_has(mg_get_http_header(hm, "Connection"), "upgrade"))
    return 0;
  if (protocol != NULL && !protocol_offered(w->offered_protocols, protocol)) return 0;
  if (ext == NULL || ext->len == 0) return 1;
  if (!w->offered_deflate || mg__ws_deflate_accept(*ext, &params) != 1) return 0;
  w->deflate = mg__ws_deflate_new(&params, 0);
  return w->deflate != NULL;
}

void mg__ws_client_reply(struct mg_connection *c, struct mg__http *h, struct http_message *hm,
                         size_t len) {
  int ok = reply_ok(h, hm);
  h->ws.awaiting = 0;
  free(h->ws.offered_protocols);
  h->ws.offered_protocols = NULL;
  if (ok) {
    c->flags |= MG_F_IS_WEBSOCKET;
    h->ws.last_input = mg_time();
  } else if (hm->resp_code == 101) {
    hm->resp_code = 0; /* a 101 that does not complete the handshake is no success */
  }
  mg__call(c, c->handler, MG_EV_WEBSOCKET_HANDSHAKE_DONE, hm);
  if (!ok) {
    mg__mark_closing(c, EPROTO);
    h->phase = MG__HTTP_DRAIN;
    c->recv_mbuf.len = 0;
    return;
  }
  if (c->recv_mbuf.len >= len) mbuf_remove(&c->recv_mbuf, len);
}

void mg__ws_handshake_expired(struct mg_connection *c, struct mg__http *h) {
  struct http_message hm;
  struct mg_str none = mg_mk_str_n("", 0);
  memset(&hm, 0, sizeof(hm));
  hm.message = hm.body = hm.method = hm.uri = hm.proto = none;
  hm.resp_status_msg = hm.query_string = none;
  h->ws.awaiting = 0;
  free(h->ws.offered_protocols);
  h->ws.offered_protocols = NULL;
  if (c->err == 0) c->err = ETIMEDOUT; /* the handler can tell a timeout from a refusal */
  mg__call(c, c->handler, MG_EV_WEBSOCKET_HANDSHAKE_DONE, &hm);
  mg__mark_closing(c, ETIMEDOUT);
  h->phase = MG__HTTP_DRAIN;
  c->recv_mbuf.len = 0;
}

static struct mg_str str_or_empty(const char *s) {
  return mg_mk_str_n(s != NULL ? s : "", s != NULL ? strlen(s) : 0);
}

/* No control bytes (no header injection through a path, host or protocol). */
static int printable(struct mg_str s) {
  for (size_t i = 0; i < s.len; i++) {
    unsigned char ch = (unsigned char) s.p[i];
    if (ch < 0x20 || ch == 0x7f) return 0;
  }
  return 1;
}

/* Queues "Authorization: Basic base64(user:pass)". 0, or -1 out of memory. */
static int send_basic(struct mg_connection *c, struct mg_str user, struct mg_str pass) {
  size_t n = user.len + 1 + pass.len;
  if (n > 0x3fffffff) return -1;
  char *plain = (char *) malloc(n), *enc = (char *) malloc(4 * ((n + 2) / 3) + 1);
  int ok = plain != NULL && enc != NULL;
  if (ok) {
    memcpy(plain, user.p, user.len);
    plain[user.len] = ':';
    memcpy(plain + user.len + 1, pass.p, pass.len);
    mg_base64_encode((const unsigned char *) plain, (int) n, enc);
    mg_printf(c, "Authorization: Basic %s\r\n", enc);
  }
  free(plain);
  free(enc);
  return ok ? 0 : -1;
}

/* Sets up the client side of the handshake: the key and what is offered. 0 or -1. */
static int start_handshake(struct mg_connection *c, struct mg__http *h, struct mg_str protocol) {
  struct mg__ws *w = &h->ws;
  unsigned char raw[16];
  if (random_bytes(raw, sizeof(raw)) != 0) return -1;
  mg_base64_encode(raw, (int) sizeof(raw), w->key);
  free(w->offered_protocols);
  w->offered_protocols = NULL;
  if (protocol.len > 0) {
    w->offered_protocols = (char *) malloc(protocol.len + 1);
    if (w->offered_protocols == NULL) return -1;
    memcpy(w->offered_protocols, protocol.p, protocol.len);
    w->offered_protocols[protocol.len] = '\0';
  }
  w->offered_deflate = h->limits.ws_deflate && !(c->flags & MG_F_WEBSOCKET_NO_DEFRAG);
  w->awaiting = 1;
  return 0;
}

void mg_send_websocket_handshake3v(struct mg_connection *nc, const struct mg_str path,
                                   const struct mg_str host, const struct mg_str protocol,
                                   const struct mg_str extra_headers, const struct mg_str user,
                                   const struct mg_str pass) {
  if (nc == NULL) return;
  mg_set_protocol_http_websocket(nc);
  struct mg__http *h = mg__http_state(nc);
  long extra_len = mg__http_check_extra_headers(extra_headers);
  if (h == NULL || extra_len < 0 || !printable(path) || !printable(host) ||
      !printable(protocol) || !printable(user) || !printable(pass) ||
      start_handshake(nc, h, protocol) != 0) {
    mg__mark_closing(nc, EINVAL);
    return;
  }
  char peer[64];
  struct mg_str to = host;
  if (to.len == 0) { /* HTTP/1.1 needs a Host: name the peer */
    mg_sock_addr_to_str(&nc->sa, peer, sizeof(peer), MG_SOCK_STRINGIFY_IP | MG_SOCK_STRINGIFY_PORT);
    to = mg_mk_str(peer);
  }
  mg_printf(nc,
            "GET %.*s HTTP/1.1\r\nHost: %.*s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\n",
            path.len > 0 ? (int) path.len : 1, path.len > 0 ? path.p : "/", (int) to.len, to.p,
            h->ws.key);
  if (protocol.len > 0)
    mg_printf(nc, "Sec-WebSocket-Protocol: %.*s\r\n", (int) protocol.len, protocol.p);
  if (h->ws.offered_deflate) mg_printf(nc, "Sec-WebSocket-Extensions: %s\r\n", mg__ws_deflate_offer());
  if (user.len > 0 && send_basic(nc, user, pass) != 0) mg__mark_closing(nc, ENOMEM);
  if (extra_len > 0) {
    mg_send(nc, extra_headers.p, (int) extra_len);
    mg_send(nc, "\r\n", 2);
  }
  mg_send(nc, "\r\n", 2);
}

void mg_send_websocket_handshake3(struct mg_connection *nc, const char *path, const char *host,
                                  const char *protocol, const char *extra_headers,
                                  const char *user, const char *pass) {
  mg_send_websocket_handshake3v(nc, str_or_empty(path), str_or_empty(host),
                                str_or_empty(protocol), str_or_empty(extra_headers),
                                str_or_empty(user), str_or_empty(pass));
}

void mg_send_websocket_handshake2(struct mg_connection *nc, const char *path, const char *host,
                                  const char *protocol, const char *extra_headers) {
  mg_send_websocket_handshake3(nc, path, host, protocol, extra_headers, NULL, NULL);
}

void mg_send_websocket_handshake(struct mg_connection *nc, const char *uri,
                                 const char *extra_headers) {
  mg_send_websocket_handshake3(nc, uri, NULL, NULL, extra_headers, NULL, NULL);
}

/* ---- connecting ------------------------------------------------------------------------- */

/* Splits the percent-decoded user_info "user:pass" into the caller's buffers. */
static int split_user_info(struct mg_str info, char *user, char *pass, size_t cap) {
  const char *colon = mg_strchr(info, ':');
  size_t ulen = colon != NULL ? (size_t) (colon - info.p) : info.len;
  size_t plen = colon != NULL ? info.len - ulen - 1 : 0;
  user[0] = pass[0] = '\0';
  if (ulen >= cap || plen >= cap) return -1;
  if (mg_url_decode(info.p, (int) ulen, user, (int) cap, 0) < 0) return -1;
  if (colon != NULL && mg_url_decode(colon + 1, (int) plen, pass, (int) cap, 0) < 0) return -1;
  return 0;
}

struct mg_connection *mg_connect_ws_opt(struct mg_mgr *mgr, mg_event_handler_t ev_handler,
                                        struct mg_connect_opts opts, const char *url,
                                        const char *protocol, const char *extra_headers) {
  struct mg__target t;
  char user[256], pass[256], *address = NULL, *path = NULL;
  const char *err = mg__http_parse_target(url, "ws", "wss", &t);
  if (err != NULL && strcmp(err, "unsupported url scheme") == 0)
    err = mg__http_parse_target(url, "http", "https", &t);
  if (err == NULL && (t.host.len > 255 || split_user_info(t.user_info, user, pass,
                                                           sizeof(user)) != 0))
    err = "cannot parse url";
  if (err == NULL && mg__http_check_extra_headers(str_or_empty(extra_headers)) < 0)
    err = "invalid extra headers";
  if (err == NULL && ((address = mg__http_target_address(&t)) == NULL ||
                      mg_asprintf(&path, 0, "%.*s%s%.*s", (int) t.path.len,
                                  t.path.len > 0 ? t.path.p : "", t.query.p != NULL ? "?" : "",
                                  (int) t.query.len, t.query.p != NULL ? t.query.p : "") < 0))
    err = "out of memory";
  struct mg_connection *c = NULL;
  if (err != NULL) {
    if (opts.error_string != NULL) *opts.error_string = err;
  } else if ((c = mg_connect_opt(mgr, address, ev_handler, opts)) != NULL) {
    char host[300]; /* the host is at most 255 bytes (checked above) */
    if (t.port != 0) {
      snprintf(host, sizeof(host), "%.*s:%u", (int) t.host.len, t.host.p, t.port);
    } else {
      snprintf(host, sizeof(host), "%.*s", (int) t.host.len, t.host.p);
    }
    mg_send_websocket_handshake3(c, path, host, protocol, extra_headers, user, pass);
  }
  free(address);
  free(path);
  return c;
}

struct mg_connection *mg_connect_ws(struct mg_mgr *mgr, mg_event_handler_t event_handler,
                                    const char *url, const char *protocol,
                                    const char *extra_headers) {
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  return mg_connect_ws_opt(mgr, event_handler, opts, url, protocol, extra_headers);
}
