/*
 * Declarations shared inside the http layer (connection state machine, responses,
 * endpoints, client, static files). Not public: names carry the mg__ prefix.
 */
#ifndef MGIO_HTTP_INTERNAL_H
#define MGIO_HTTP_INTERNAL_H

#include <stdint.h>

#include "../proto/chunked.h"
#include "../proto/ws.h"
#include "mgio.h"

/* An outgoing body produced over time (a static file): `pump` is called whenever the
 * connection's send_mbuf holds less than MG__HTTP_SEND_HIGH bytes, to queue more. It
 * returns 1 while there is more to come, 0 when the body is complete (or on an error,
 * after closing the connection). `cleanup` releases `ctx` when the stream ends or the
 * connection closes; it may be NULL. */
struct mg__http_stream {
  int (*pump)(struct mg_connection *c, void *ctx);
  void (*cleanup)(void *ctx);
  void *ctx;
};

/* Bytes a stream keeps queued ahead of the socket. 32 KiB rather than 64: the file is
 * read and sent in pieces that stay in the CPU cache (bench_static, 1 MiB files: 28%
 * less CPU per request, 455 -> 327 us, about nginx's 314). */
#define MG__HTTP_SEND_HIGH (32 * 1024)

struct mg__http_endpoint {
  struct mg__http_endpoint *next;
  struct mg_str pattern; /* heap copy, NUL-terminated */
  mg_event_handler_t handler;
  struct mg_http_endpoint_opts opts; /* strings are heap copies */
};

/* Bits of mg__http.flags */
#define MG__H_CLIENT 1u           /* parse responses (an outbound connection) */
#define MG__H_HEAD_REQUEST 2u     /* server: the request being answered is HEAD */
#define MG__H_LAST 4u             /* no more messages on this connection */
#define MG__H_CHUNKED_REPLY 8u    /* server: a chunked answer is open (no last chunk yet) */
#define MG__H_STREAMING 16u       /* the handler deleted a chunk of the current body */
#define MG__H_CONTINUE_SENT 32u   /* 100 Continue answered for the current request */
#define MG__H_EXPECT_HEAD 64u     /* client: the reply is to a HEAD request */
#define MG__H_ANSWER_PENDING 128u /* server: a last request waits for its answer */
#define MG__H_DISPATCHING 256u    /* inside the message loop (no re-entry) */
#define MG__H_OFFERED 512u        /* a MG_EV_HTTP_CHUNK went out for the current message */
#define MG__H_LINGER 1024u        /* server: close once the answer is sent (lingering) */
#define MG__H_SHUT 2048u          /* server: the sending side is shut down */
#define MG__H_UNANSWERED 4096u    /* server: nothing queued for the current request yet */
#define MG__H_REQ_LAST 8192u      /* server: the request being answered is the last */
#define MG__H_REQ_KEEP_10 16384u  /* server: it is HTTP/1.0 with keep-alive */
#define MG__H_MULTIPART 32768u    /* server: the body goes to the multipart parser */
#define MG__H_ANSWER_BEGUN 65536u /* server: a head was queued since the request began */
#define MG__H_SENT 131072u        /* output left since the last MG_EV_POLL (send clock) */

/* Where the connection is in the current message. */
enum mg__http_phase {
  MG__HTTP_HEAD = 0, /* waiting for a complete head */
  MG__HTTP_BODY,     /* head parsed, body (Content-Length, chunked or until close) */
  MG__HTTP_DRAIN     /* reading is over: input is dropped */
};

/* WebSocket state of a connection (websocket.c). */
struct mg__ws {
  struct mg__ws_deflate *deflate; /* permessage-deflate in use; NULL: none */
  struct mg_utf8_state utf8;      /* the text message being received */
  struct mg__ws_header hdr;       /* the frame being received (when hdr_len > 0) */
  uint64_t done;                  /* its payload bytes already unmasked and checked */
  uint64_t msg_size;              /* wire bytes of the message being received */
  size_t msg_len;                 /* its reassembled bytes at the front of recv_mbuf */
  size_t fragments;               /* its frames so far */
  double close_deadline;          /* after our Close: when to stop waiting for theirs */
  double last_input;              /* when frames last arrived (for the idle Ping), or
                                     when that Ping was sent (ping_sent) */
  char *offered_protocols;        /* client: Sec-WebSocket-Protocol sent (heap), or NULL */
  char *chosen_protocol;          /* server: mg_websocket_select_protocol's (heap), or NULL */
  unsigned char protocol_chosen;  /* server: mg_websocket_select_protocol was called */
  unsigned char hdr_len;          /* header length of the frame being received; 0: none */
  unsigned char msg_op;           /* opcode of the message being received; 0: none */
  unsigned char msg_deflated;     /* it is compressed (RSV1 on its first frame) */
  unsigned char send_op;          /* opcode of a fragmented message being sent; 0: none */
  unsigned char close_sent, close_received, failed;
  unsigned char ping_sent;        /* the idle Ping is out and nothing has arrived since */
  unsigned char awaiting;         /* client: the upgrade request is out, no 101 yet */
  unsigned char offered_deflate;  /* client: the request offered permessage-deflate */
  unsigned char rnd_left;         /* unused bytes at the end of rnd */
  unsigned char rnd[32];          /* CSPRNG bytes for mask keys */
  char key[25];                   /* client: the Sec-WebSocket-Key sent */
};

/* The proto_data of a connection (or listener) speaking HTTP. */
struct mg__http {
  struct mg_http_limits limits;
  struct mg__http_endpoint *endpoints; /* a listener's endpoints */
  mg_event_handler_t ep_handler; /* endpoint of the current request (gets MG_EV_CLOSE) */
  void *ep_user_data;            /* its opts.user_data */
  int ep_auth_file;              /* it has an auth file (not served yet: 500) */
  struct mg__http_stream stream;       /* pump != NULL while a body is being streamed */
  struct mg__chunked chunked;          /* chunked body decoder */
  size_t scanned;   /* head phase: bytes already searched for the blank line */
  size_t parsed_at; /* head phase: buffer length at the last full parse */
  size_t head_len;  /* body phase: the head's length at the front of recv_mbuf */
  size_t kept;      /* body phase: body bytes kept after the head (decoded) */
  size_t offered;   /* body phase: of `kept`, the bytes already shown in a CHUNK event */
  uint64_t received; /* body phase: body bytes received (kept + deleted) */
  double linger_until; /* when a lingering close gives up waiting for the client */
  unsigned long long answer_mark; /* server: bytes_sent + send_mbuf.len when the current
                                     request was dispatched; output past it answers it */
  /* timeout clocks (timeouts.c): when each started, 0 while it does not run */
  double head_since;   /* the head of a request (server) or reply (client) is awaited */
  double body_since;   /* the last byte of the body being read arrived */
  double send_since;   /* output is queued: the last time some of it left */
  double idle_since;   /* server: keep-alive, waiting for the next request */
  unsigned int requests; /* server: requests begun on this connection (saturating) */
  unsigned int flags; /* MG__H_* */
  unsigned char phase; /* enum mg__http_phase */
  struct mg__ws ws;    /* used once MG_F_IS_WEBSOCKET is set (or a client awaits it) */
  struct mg__mp_conn *mp; /* the multipart stream of the current request, or NULL */
};

/* The HTTP state of `c`, or NULL when `c` does not speak HTTP. */
struct mg__http *mg__http_state(struct mg_connection *c);

/* Starts streaming a body on `c` (which speaks HTTP): no later request is parsed until
 * it ends, and the pump is called at once and then as the socket drains. Returns 0, or
 * -1 (cleanup called) when `c` does not speak HTTP or a stream is already running. */
int mg__http_start_stream(struct mg_connection *c, const struct mg__http_stream *stream);

/* Says that a complete answer has been queued on `c` (used by response helpers and
 * streams): a last request's connection closes once it is sent. */
void mg__http_answered(struct mg_connection *c);

/* The handler of the current message's events: its endpoint's, else the connection's. */
mg_event_handler_t mg__http_handler_for(struct mg_connection *c, const struct mg__http *h);

/* Refuses the request with `status` and the extra header lines `extra` (NULL: none)
 * then closes (server); a client closes with EPROTO. No later message is read. */
void mg__http_reject(struct mg_connection *c, struct mg__http *h, int status,
                     const char *extra);

/* Removes n bytes at offset `off` of `io` (off + n <= io->len). */
void mg__mbuf_cut(struct mbuf *io, size_t off, size_t n);

/* ---- WebSocket glue (websocket.c) ---- */

/* Whether the complete request `hm` asks for a WebSocket upgrade (an Upgrade field
 * naming websocket, or a Sec-WebSocket-Key). */
int mg__ws_is_upgrade(const struct http_message *hm);

/* Server: handles the upgrade request `hm` (head and body are the first `len` bytes of
 * recv_mbuf): refuses it (400/426), or runs the handshake events and the 101, removes
 * the request and turns the connection into a WebSocket. */
void mg__ws_server_upgrade(struct mg_connection *c, struct mg__http *h,
                           struct http_message *hm, size_t len);

/* Client: handles the reply `hm` (`len` bytes) to the upgrade request. */
void mg__ws_client_reply(struct mg_connection *c, struct mg__http *h, struct http_message *hm,
                         size_t len);

/* Reads the frames in recv_mbuf of a WebSocket connection. */
void mg__ws_recv(struct mg_connection *c, struct mg__http *h);

/* Idle ping and the close wait, on MG_EV_POLL. */
void mg__ws_poll(struct mg_connection *c, struct mg__http *h);

/* When mg__ws_poll next has work (a Ping or the end of the close wait), or 0. */
double mg__ws_deadline(const struct mg__http *h);

/* Client: no 101 came in time (ws_handshake_ms): MG_EV_WEBSOCKET_HANDSHAKE_DONE with an
 * empty message (resp_code 0), then the connection closes with ETIMEDOUT. */
void mg__ws_handshake_expired(struct mg_connection *c, struct mg__http *h);

/* Releases what the WebSocket state holds. */
void mg__ws_free(struct mg__ws *w);

/* ---- timeouts (timeouts.c) ---- */

/* Brings the timeout clocks of `c` up to date after event `ev` (at mgr->now). */
void mg__http_track(struct mg_connection *c, struct mg__http *h, int ev);

/* The earliest deadline of the running timeout clocks, or 0 when none runs. */
double mg__http_deadline(const struct mg__http *h);

/* On MG_EV_POLL: acts on a timeout that has run out (408, a close, or the WebSocket
 * handshake's failure), the first due in the order send, head, body, idle. */
void mg__http_expire(struct mg_connection *c, struct mg__http *h);

/* Server: counts a request that begins; the max_requests-th is marked the last. */
void mg__http_count_request(struct mg__http *h);

/* ---- streaming multipart (multipart_conn.c) ---- */

struct mg__mp_conn; /* the multipart state of one request */

/* Server, when the head `hm` is complete (endpoint routed, auth passed): when its
 * Content-Type is multipart/... and MG_ENABLE_HTTP_STREAMING_MULTIPART, starts the
 * stream (h->mp, MG_EV_HTTP_MULTIPART_REQUEST) and returns 1; returns 0 for any other
 * request; -1 when it refused the request (a 400 was sent, the connection ends). */
int mg__mp_begin(struct mg_connection *c, struct mg__http *h, struct http_message *hm);

/* Feeds the n body bytes at `data` (de-chunked; the first ones are those left
 * unconsumed last time) to the stream, delivering MG_EV_HTTP_PART_* events. `final`
 * says the body is complete: then MG_EV_HTTP_MULTIPART_REQUEST_END follows (status -1,
 * and a 400 answer, when the final boundary was missing or the body malformed).
 * Returns how many bytes were consumed; the rest is offered again with more. */
size_t mg__mp_feed(struct mg_connection *c, struct mg__http *h, const char *data, size_t n,
                   int final);

/* The connection closes mid-stream: PART_END and MULTIPART_REQUEST_END with status -1. */
void mg__mp_abort(struct mg_connection *c, struct mg__http *h);

/* Whether the handler left data of the stream's last PART_DATA unconsumed (it is
 * offered again on the next MG_EV_POLL when no byte arrives meanwhile). */
int mg__mp_paused(const struct mg__http *h);

/* Releases h->mp (NULL allowed). */
void mg__mp_free(struct mg__http *h);

/* The parts of an http:// or ws:// URL a request needs (client.c). */
struct mg__target {
  struct mg_str host, path, query, user_info;
  unsigned int port; /* 0 when the URL gives none */
};

/* Parses `url` with the schemes `plain` ("http" or "ws"; no scheme is plain too) and
 * refuses `tls` ("https" or "wss": "ssl is disabled"). NULL, or the error text. */
const char *mg__http_parse_target(const char *url, const char *plain, const char *tls,
                                  struct mg__target *t);

/* "tcp://host:port" for `t` (port 80 when none) in a heap string, or NULL. */
char *mg__http_target_address(const struct mg__target *t);

/* The endpoint of listener `lc` whose pattern matches `uri` best, or NULL. */
const struct mg__http_endpoint *mg__http_find_endpoint(struct mg_connection *lc,
                                                       struct mg_str uri);

/* Frees a listener's endpoint list. */
void mg__http_free_endpoints(struct mg__http_endpoint *list);

/* An output buffer (out.c): bytes are appended, then queued with one mg_send. It lives
 * on the stack while it holds up to 512 bytes; a failed allocation, or growth past
 * INT_MAX (mg_send's limit), is remembered in `failed` and later appends do nothing.
 * Not to be copied (p may point into the struct). */
struct mg__out {
  char *p;
  size_t len, cap;
  int failed;
  char stack[512];
};

void mg__out_init(struct mg__out *o);
void mg__out_free(struct mg__out *o);                              /* and re-inits */
void mg__out_add(struct mg__out *o, const void *data, size_t n);
void mg__out_str(struct mg__out *o, const char *s);
void mg__out_u64(struct mg__out *o, uint64_t v);                   /* decimal */
void mg__out_html_escaped(struct mg__out *o, const char *s, size_t n); /* & < > " ' */

/* Queues the bytes on `nc` with one mg_send and frees the buffer; a failed buffer
 * closes `nc` (ENOMEM) instead, so that output is never truncated silently. */
void mg__out_send(struct mg_connection *nc, struct mg__out *o);

/* Validates extra header lines as the response helpers do: returns the length to send
 * (trailing CRLFs dropped), or -1 when they are malformed. Empty or NULL gives 0. */
long mg__http_check_extra_headers(struct mg_str extra);

#endif
