/*
 * Shared declarations of the mgio._core extension module: the per-module state and the
 * entry points of each type's file. This is the only part of mgio that includes Python.h.
 */
#ifndef MGIO_PYEXT_H
#define MGIO_PYEXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include "mgio.h"

/* Everything the module owns lives here, never in C globals, so that two interpreters
 * (or a reloaded module) never share objects. */
typedef struct {
  PyTypeObject *mbuf_type;
  PyTypeObject *manager_type;
  PyTypeObject *connection_type;
  PyTypeObject *http_message_type;
  PyTypeObject *ws_message_type;
  PyTypeObject *multipart_part_type;
  PyObject *headers_class;  /* mgio.headers.Headers, imported on first use */
  PyObject *ws_ops;         /* mgio.WsOp members by opcode (16), made on first use */
  PyObject *ws_error_class; /* mgio.websocket.WebSocketError, imported on first use */
  PyObject *events_name;    /* "_mgio_events", interned */
  PyObject *direct_name;    /* "_mgio_direct", interned */
} mgio_state;

/* The bit that stands for event `ev` in a handler's _mgio_events mask. Event numbers go
 * past 31 (HTTP events are 100 and up), so they map to bit positions; mgio/events.py
 * (_EVENT_BITS) keeps the same table. Unlisted events share bit 31. */
static inline unsigned int mgio_event_bit(int ev) {
  if (ev >= 0 && ev <= 6) return 1u << ev;
  switch (ev) {
    case 100: return 1u << 7;
    case 101: return 1u << 8;
    case 102: return 1u << 9;
    case 105: return 1u << 10;
    case 106: return 1u << 11;
    case 111: return 1u << 12;
    case 112: return 1u << 13;
    case 113: return 1u << 14;
    case 114: return 1u << 15;
    case 121: return 1u << 16;
    case 122: return 1u << 17;
    case 123: return 1u << 18;
    case 124: return 1u << 19;
    case 125: return 1u << 20;
    default: return 1u << 31;
  }
}

typedef struct ManagerObject ManagerObject;

/* mgio.Connection: the Python face of one C connection. While the C connection lives,
 * nc->user_data holds a strong reference to this object; on MG_EV_CLOSE the two are
 * detached and the object stays usable as a closed connection. */
typedef struct {
  PyObject_HEAD
  struct mg_connection *nc; /* NULL once closed */
  ManagerObject *manager;   /* strong */
  PyObject *handler;        /* callable(conn, ev, data) or None */
  unsigned int wanted;      /* mgio_event_bit(ev) of each event the handler takes
                               (_mgio_events) */
  PyObject *direct;         /* the handler class's _mgio_direct table (the on_* function
                               of each event number), or NULL: call the handler */
  PyObject *user_data;      /* anything the user likes; None by default */
  struct mbuf *recv_slot;   /* &nc->recv_mbuf while open, then &dead_recv */
  struct mbuf *send_slot;   /* &nc->send_mbuf while open, then &dead_send */
  struct mbuf dead_recv;    /* what the buffers show after close: empty, and separate */
  struct mbuf dead_send;
  PyObject *endpoints;      /* list of (handler, events mask, direct table or None)
                               entries the C endpoints point at, kept alive here;
                               shared by a listener with the connections it accepts;
                               or NULL */
  PyObject *live_msg;       /* borrowed: the HttpMessage or WebSocketMessage a handler is
                               being shown now, whose views point into recv_mbuf; NULL
                               otherwise */
  struct mg_http_limits limits; /* what set_limits() gave the C layer last (valid when
                                   has_limits; else the C defaults apply) */
  char has_limits;
  unsigned char ws_send_op; /* opcode of a fragmented message being sent; 0: none */
  char head_request;        /* the last request dispatched on it was HEAD */
  PyObject *weakrefs;
} ConnectionObject;

/* mgio.Manager: owns a struct mg_mgr and dispatches its events to Python handlers. */
struct ManagerObject {
  PyObject_HEAD
  struct mg_mgr mgr;
  mgio_state *state;
  int open;                 /* mg_mgr_init ran and mg_mgr_free has not */
  int polling;              /* inside poll(): a second poll() raises */
  int quiet;                /* being freed by the collector: no Python handler runs */
  int watched;              /* fileno() was handed out: an event loop may wait on it */
  int woken;                /* a wakeup is queued since the last poll (see touch) */
  int stopped;              /* stop() was called: run() returns */
  char poll_events;         /* deliver MG_EV_POLL to handlers (a T_BOOL member) */
  PyObject *error;          /* the first exception a handler raised, until re-raised */
  PyObject *broadcasts;     /* list of (func, args) queued by broadcast() */
  PyThreadState *waiting;   /* saved while the poll wait runs without the GIL */
  PyObject *weakrefs;
};

/* A new Mbuf showing *slot (a connection's buffer). It keeps `owner` alive; the owner
 * keeps *slot pointing at a valid mbuf for as long as it lives. New reference. */
PyObject *mgio_mbuf_view(mgio_state *st, PyObject *owner, struct mbuf **slot);

/* If `obj` is an Mbuf (or a view), sets *out to the mbuf it shows and returns 1; else 0.
 * The pointer is valid until Python code next runs. */
int mgio_mbuf_peek(mgio_state *st, PyObject *obj, struct mbuf **out);

/* Create each type and add it to `module`; 0 on success, -1 with an exception. */
int mgio_mbuf_type_add(PyObject *module, mgio_state *st);
int mgio_connection_type_add(PyObject *module, mgio_state *st);
int mgio_manager_type_add(PyObject *module, mgio_state *st);
int mgio_http_message_type_add(PyObject *module, mgio_state *st);
int mgio_ws_message_type_add(PyObject *module, mgio_state *st);
int mgio_multipart_part_type_add(PyObject *module, mgio_state *st);

/* The events `handler` takes: its _mgio_events mask (mgio_event_bit of each), else all. */
unsigned int mgio_wanted_events(const mgio_state *st, PyObject *handler);

/* The multipart and WebSocket events (a mask of mgio_event_bit). */
#define MGIO_MULTIPART_EVENTS                                                          \
  (mgio_event_bit(MG_EV_HTTP_MULTIPART_REQUEST) | mgio_event_bit(MG_EV_HTTP_PART_BEGIN) | \
   mgio_event_bit(MG_EV_HTTP_PART_DATA) | mgio_event_bit(MG_EV_HTTP_PART_END) |          \
   mgio_event_bit(MG_EV_HTTP_MULTIPART_REQUEST_END))
#define MGIO_WEBSOCKET_EVENTS                                                        \
  (mgio_event_bit(MG_EV_WEBSOCKET_HANDSHAKE_REQUEST) |                               \
   mgio_event_bit(MG_EV_WEBSOCKET_HANDSHAKE_DONE) | mgio_event_bit(MG_EV_WEBSOCKET_FRAME) | \
   mgio_event_bit(MG_EV_WEBSOCKET_CONTROL_FRAME))

/* Multipart bodies stream as part events only to a connection whose handlers (its own
 * and its listener's endpoints') take one of them; others get them whole, as
 * EV_HTTP_REQUEST (MG_F_NO_MULTIPART_STREAMING), rather than to nobody. */
void mgio_update_multipart_mode(ConnectionObject *co);

/* A new reference to the _mgio_direct tuple of `handler`'s class (an mgio.Handler
 * subclass that keeps Handler.__call__), or NULL (no error set) when it has none;
 * `wanted` is mgio_wanted_events(handler) (~0u, a plain callable: not looked up). */
PyObject *mgio_direct_table(const mgio_state *st, PyObject *handler, unsigned int wanted);

/* A new Connection for `nc` (registered in nc->user_data, which owns the returned
 * reference), with `handler`; what is read from the handler is copied from `from` (the
 * listener of an accepted connection, or NULL) when it has the same one. NULL with an
 * exception on failure. Borrowed reference. */
ConnectionObject *mgio_connection_attach(ManagerObject *m, struct mg_connection *nc,
                                         PyObject *handler, const ConnectionObject *from);

/* Separates `co` from its C connection (on MG_EV_CLOSE) and drops the C side's
 * reference. */
void mgio_connection_detach(ConnectionObject *co);

/* Call after a change made outside poll() that the backend must see (a new connection,
 * output queued, a timer moved, a buffer drained): once fileno() has been handed out,
 * wakes the manager, so that the descriptor turns readable and the event loop waiting on
 * it polls. Otherwise nothing is needed: poll() brings the registrations up to date
 * before it waits (and on its way out). */
void mgio_manager_touch(ManagerObject *m);

/* mgio_manager_touch for the manager of `conn` (a Connection), if it is still open. */
void mgio_connection_touch(PyObject *conn);

/* The C handler of every connection made from Python: turns events into calls of the
 * connection's Python handler. */
void mgio_dispatch(struct mg_connection *nc, int ev, void *ev_data);

/* The C handler of every HTTP endpoint registered from Python: calls the Python handler
 * of the (handler, events mask) entry in the endpoint's user data
 * (mg_http_endpoint_user_data) for the events the C layer routes to the endpoint
 * (EV_HTTP_CHUNK, EV_HTTP_REQUEST, and EV_CLOSE after one). */
void mgio_endpoint_dispatch(struct mg_connection *nc, int ev, void *ev_data);

/* Before a length change of a connection's buffer through an Mbuf view (`slot` is the
 * view's slot): when it is the receive buffer and a handler is being shown an
 * HttpMessage whose views point into it, the message copies what it shows first.
 * 0, or -1 with an exception (then the edit must not happen). */
int mgio_connection_buffer_changing(PyObject *owner, struct mbuf **slot);

/* ---- HttpMessage (http_message_object.c) ---------------------------------------- */

/* A new HttpMessage showing *hm, whose views stay valid only during the current handler
 * call ("live"). New reference, or NULL with an exception. */
PyObject *mgio_http_message_new(mgio_state *st, struct http_message *hm);

/* 1 when `obj` is an HttpMessage. */
int mgio_http_message_check(mgio_state *st, PyObject *obj);

/* Makes a live message self-contained: copies the bytes of its views (start line,
 * header fields) into memory it owns and the body into a bytes object, so that it stays
 * readable after the handler returns. Nothing happens for a message already detached.
 * On failure the message is invalidated (its attributes then raise) and -1 is returned
 * with an exception set. */
int mgio_http_message_detach(PyObject *msg);

/* Call when the handler that was shown `msg` has returned, before dropping the caller's
 * reference: when the message escaped (someone else holds a reference) it is detached;
 * otherwise it is left as is (the caller's reference is the last). 0, or -1 with an
 * exception. */
int mgio_http_message_release(PyObject *msg);

/* The C message `obj` (an HttpMessage) shows: its live views during the handler call,
 * or its own copy after. NULL with TypeError (not an HttpMessage) or RuntimeError
 * (invalidated). */
struct http_message *mgio_http_message_get(mgio_state *st, PyObject *obj);

/* 1 when the message is a HEAD request. */
int mgio_http_message_is_head(const struct http_message *hm);

/* ---- WebSocketMessage (ws_message_object.c) ------------------------------------- */

/* A new WebSocketMessage showing *wm, whose payload stays valid only during the current
 * handler call ("live"). New reference, or NULL with an exception. */
PyObject *mgio_ws_message_new(mgio_state *st, const struct websocket_message *wm);

/* 1 when `obj` is a WebSocketMessage. */
int mgio_ws_message_check(mgio_state *st, PyObject *obj);

/* Makes a live message self-contained (its payload copied into a bytes object, the one
 * `data` made if any). On failure the message is invalidated and -1 is returned with an
 * exception set. Nothing happens for a message already detached. */
int mgio_ws_message_detach(PyObject *msg);

/* As mgio_http_message_release, for a WebSocketMessage. 0, or -1 with an exception. */
int mgio_ws_message_release(PyObject *msg);

/* The payload and FIN|opcode flags of a WebSocketMessage (live or detached); valid until
 * Python code next runs. 0, or -1 with RuntimeError (invalidated). */
int mgio_ws_message_payload(PyObject *msg, const void **p, size_t *n, int *flags);

/* The mgio.WsOp member for opcode `op` (0..15; a reserved one is a plain int). New
 * reference, or NULL with an exception. */
PyObject *mgio_ws_op(mgio_state *st, int op);

/* ---- MultipartPart (multipart_part_object.c) ------------------------------------ */

/* A new MultipartPart showing *mp for event `ev` (122-125), live during the handler
 * call. New reference, or NULL with an exception. */
PyObject *mgio_multipart_part_new(mgio_state *st, int ev, struct mg_http_multipart_part *mp);

/* As mgio_ws_message_detach / _release, for a MultipartPart. */
int mgio_multipart_part_detach(PyObject *obj);
int mgio_multipart_part_release(PyObject *obj);

/* After EV_HTTP_MULTIPART_REQUEST_END (ev_data): drops the Python object the part's
 * user_data slot holds. */
void mgio_multipart_stream_end(void *ev_data);

/* ---- header fields given by Python code (http_headers.c) ------------------------ */

#define MGIO_HDR_NO_FRAMING 1 /* refuse Content-Length and Transfer-Encoding */
#define MGIO_HDR_REQUEST 2    /* connect_http: refuse those and Host (set from the URL) */
#define MGIO_HDR_WEBSOCKET 4  /* connect_ws: as MGIO_HDR_REQUEST, and the handshake's own
                                 fields (Upgrade, Connection, Sec-WebSocket-*) */

/* Appends "Name: value\r\n" for each field of `headers` (None, a mapping - anything
 * with items() - or an iterable of (name, value) pairs) to `out`. Names must be RFC 9110
 * tokens; values (str, encoded Latin-1, or bytes-like, or int) may hold no control byte
 * but HTAB, so CR and LF can never split a head. Raises ValueError (TypeError for wrong
 * types) before anything is appended when a field is malformed; with
 * MGIO_HDR_NO_FRAMING, also for Content-Length and Transfer-Encoding; with
 * MGIO_HDR_REQUEST, for those and Host. *has_ctype (when
 * not NULL) is set to 1 if a Content-Type field is among them. 0, or -1. */
int mgio_format_headers(PyObject *headers, struct mbuf *out, int flags, int *has_ctype);

/* 1 when the `n` bytes at `p` are an RFC 9110 token (a method, a field name). */
int mgio_is_token(const char *p, size_t n);

/* Checks that the `n` bytes at `p` may be a field value (no control byte but HTAB).
 * 0, or -1 with ValueError naming `what`. */
int mgio_check_field_value(const char *p, size_t n, const char *what);

/* A body argument: None (empty), str (UTF-8) or a bytes-like object. */
typedef struct {
  Py_buffer view;
  int has_view;
  int is_text; /* it was a str */
  const char *p;
  size_t n;
} mgio_body;

/* Reads `body` into *b: 0 (release with mgio_body_release), or -1 with an exception. */
int mgio_body_get(PyObject *body, mgio_body *b);
void mgio_body_release(mgio_body *b);

/* Added for a str body when no Content-Type was given. */
#define MGIO_TEXT_CTYPE "Content-Type: text/plain; charset=utf-8\r\n"

/* Binds the arguments of a METH_FASTCALL | METH_KEYWORDS call to `names` (NULL-ended):
 * out[i] is the object given for names[i] (borrowed) or NULL. The first `positional`
 * names may be given by position, the first `required` must be given. Returns 0, or -1
 * with a TypeError worded as Python's own. */
int mgio_bind_args(const char *fname, const char *const *names, Py_ssize_t required,
                   Py_ssize_t positional, PyObject *const *args, Py_ssize_t nargs,
                   PyObject *kwnames, PyObject **out);

/* Converts an integer argument to a C int (TypeError, OverflowError); 0 or -1. */
int mgio_int_arg(PyObject *obj, int *out);

/* An address as Python's socket module writes it: (host, port); None if unset. */
PyObject *mgio_address_tuple(const union socket_address *sa);

#endif
