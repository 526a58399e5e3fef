/*
 * Timeouts of HTTP connections ("Timeouts" in the HTTP connections section of mgio.h):
 * the request head, body idle, send progress, keep-alive idle and the WebSocket client's
 * handshake.
 *
 * Each timeout has a clock: the time it started, 0 while it does not run. The
 * connection layer brings the clocks up to date after every event it handles
 * (mg__http_track) from the poll iteration's time (mgr->now, read once per iteration),
 * so a request costs a few comparisons and no clock reads. The earliest deadline goes to
 * c->wake_at, so the manager's wait ends in time, and MG_EV_POLL acts on what is due
 * (mg__http_expire).
 */
#include <errno.h>
#include <limits.h>

#include "../net/internal.h"
#include "http_internal.h"

/* When a clock started at `since` runs out after `ms`; 0 when it does not run. */
static double due(double since, unsigned int ms) {
  return since > 0 && ms > 0 ? since + ms / 1000.0 : 0;
}

/* The earlier of two deadlines, where 0 means none. */
static double earliest(double a, double b) {
  return a == 0 || (b != 0 && b < a) ? b : a;
}

static int expired(double since, unsigned int ms, double now) {
  double at = due(since, ms);
  return at > 0 && now >= at;
}

/* Server: whether an earlier request still waits for (the end of) its answer. */
static int owes_answer(const struct mg__http *h) {
  const unsigned int owed = MG__H_UNANSWERED | MG__H_CHUNKED_REPLY | MG__H_ANSWER_PENDING;
  return (h->flags & owed) != 0 || h->stream.pump != NULL;
}

/* The head clock of a server in the HEAD phase: from the accept for the first request,
 * from its first byte for a later one; between them the idle clock runs instead. */
static void track_server_head(struct mg_connection *c, struct mg__http *h, double now) {
  if (owes_answer(h)) {
    h->head_since = h->idle_since = 0;
  } else if (c->recv_mbuf.len > 0 || h->requests == 0) {
    h->idle_since = 0;
    if (h->head_since == 0) h->head_since = now;
  } else {
    h->head_since = 0;
    if (c->send_mbuf.len > 0) {
      h->idle_since = 0; /* the answer is still leaving: the send clock covers it */
    } else if (h->idle_since == 0) {
      h->idle_since = now;
    }
  }
}

void mg__http_track(struct mg_connection *c, struct mg__http *h, int ev) {
  double now = c->mgr->now;
  if (c->flags & MG_F_LISTENING) return; /* a listener only hands its limits on */
  if (ev == MG_EV_SEND) h->flags |= MG__H_SENT;
  if (c->send_mbuf.len == 0) {
    h->send_since = 0;
  } else if (h->send_since == 0 || (ev == MG_EV_POLL && (h->flags & MG__H_SENT))) {
    h->send_since = now; /* output was queued while none was, or some left */
  }
  if (ev == MG_EV_POLL) h->flags &= ~MG__H_SENT;
  if ((c->flags & MG_F_IS_WEBSOCKET) || h->phase == MG__HTTP_DRAIN) {
    h->head_since = h->body_since = h->idle_since = 0;
  } else if (h->phase == MG__HTTP_BODY) {
    h->head_since = h->idle_since = 0;
    /* reading paused by recv_mbuf_limit is our doing, not the peer's */
    if (ev == MG_EV_RECV || h->body_since == 0 || c->recv_mbuf.len >= c->recv_mbuf_limit)
      h->body_since = now;
  } else if (h->flags & MG__H_CLIENT) {
    h->body_since = h->idle_since = 0;
    /* a reply is awaited once a request is queued (or reply bytes come anyway) */
    if (h->head_since == 0 && (c->send_mbuf.len > 0 || c->recv_mbuf.len > 0))
      h->head_since = now;
  } else {
    h->body_since = 0;
    track_server_head(c, h, now);
  }
}

double mg__http_deadline(const struct mg__http *h) {
  const struct mg_http_limits *l = &h->limits;
  double at = due(h->send_since, l->send_ms);
  at = earliest(at, due(h->head_since, h->ws.awaiting ? l->ws_handshake_ms : l->header_ms));
  at = earliest(at, due(h->body_since, l->body_ms));
  return earliest(at, due(h->idle_since, l->idle_ms));
}

/* The head did not come in time. */
static void head_expired(struct mg_connection *c, struct mg__http *h) {
  if (h->ws.awaiting) {
    mg__ws_handshake_expired(c, h);
  } else if (h->flags & MG__H_CLIENT) {
    mg__mark_closing(c, ETIMEDOUT);
  } else {
    mg__http_reject(c, h, 408, NULL);
  }
}

/* The body stalled: a server answers 408 unless an answer has begun (a second head
 * would corrupt it), and a multipart stream ends with status -1. */
static void body_expired(struct mg_connection *c, struct mg__http *h) {
  if ((h->flags & (MG__H_CLIENT | MG__H_ANSWER_BEGUN)) || owes_answer(h)) {
    mg__mark_closing(c, ETIMEDOUT);
  } else {
    mg__http_reject(c, h, 408, NULL);
  }
  if (h->flags & MG__H_MULTIPART) mg__mp_abort(c, h);
}

void mg__http_expire(struct mg_connection *c, struct mg__http *h) {
  const struct mg_http_limits *l = &h->limits;
  double now = c->mgr->now;
  /* Output that left since the last iteration began is progress, however long ago the
   * iteration's clock was read (a long iteration must not look like a stalled peer). */
  if (!(h->flags & MG__H_SENT) && expired(h->send_since, l->send_ms, now)) {
    mg__mark_closing(c, ETIMEDOUT); /* nothing more can reach a peer that does not read */
  } else if (expired(h->head_since, h->ws.awaiting ? l->ws_handshake_ms : l->header_ms, now)) {
    head_expired(c, h);
  } else if (expired(h->body_since, l->body_ms, now)) {
    body_expired(c, h);
  } else if (expired(h->idle_since, l->idle_ms, now)) {
    mg__mark_closing(c, 0); /* keep-alive ends quietly */
  }
}

void mg__http_count_request(struct mg__http *h) {
  if (h->requests < UINT_MAX) h->requests++;
  if (h->limits.max_requests > 0 && h->requests >= h->limits.max_requests)
    h->flags |= MG__H_REQ_LAST;
}
