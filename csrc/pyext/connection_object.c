/*
 * mgio.Connection: one C connection, as long as it lives, then a closed husk that still
 * answers `closed`, `user_data` and its last addresses. Methods that need the socket
 * raise ConnectionError once it is closed.
 */
#include "pyext.h"

#include <limits.h>
#include <arpa/inet.h>

/* Flags Python code may change, as a C user handler may (net/internal.h keeps the
 * authoritative list; this layer must not include it). */
#define USER_FLAGS                                                                    \
  (MG_F_USER_1 | MG_F_USER_2 | MG_F_USER_3 | MG_F_USER_4 | MG_F_USER_5 | MG_F_USER_6 | \
   MG_F_WEBSOCKET_NO_DEFRAG | MG_F_SEND_AND_CLOSE | MG_F_CLOSE_IMMEDIATELY |          \
   MG_F_IS_WEBSOCKET | MG_F_DELETE_CHUNK)

PyObject *mgio_address_tuple(const union socket_address *sa) {
  char host[INET6_ADDRSTRLEN];
  if (sa->sa.sa_family == AF_INET) {
    inet_ntop(AF_INET, &sa->sin.sin_addr, host, sizeof(host));
    return Py_BuildValue("(si)", host, ntohs(sa->sin.sin_port));
  }
  if (sa->sa.sa_family == AF_INET6) {
    inet_ntop(AF_INET6, &sa->sin6.sin6_addr, host, sizeof(host));
    return Py_BuildValue("(si)", host, ntohs(sa->sin6.sin6_port));
  }
  Py_RETURN_NONE;
}

/* The events `handler` takes: its _mgio_events bit mask (mgio.Handler sets one for the
 * on_* methods a class defines, so unhandled events cost no Python call), else all. */
unsigned int mgio_wanted_events(const mgio_state *st, PyObject *handler) {
  if (handler == NULL || handler == Py_None) return 0;
  PyObject *mask = PyObject_GetAttr(handler, st->events_name);
  if (mask == NULL) {
    PyErr_Clear();
    return ~0u;
  }
  unsigned long v = PyLong_AsUnsignedLongMask(mask);
  Py_DECREF(mask);
  if (v == (unsigned long) -1 && PyErr_Occurred()) {
    PyErr_Clear();
    return ~0u;
  }
  return (unsigned int) v;
}

void mgio_update_multipart_mode(ConnectionObject *co) {
  if (co->nc == NULL) return;
  unsigned long wanted = co->wanted;
  Py_ssize_t n = co->endpoints != NULL ? PyList_GET_SIZE(co->endpoints) : 0;
  for (Py_ssize_t i = 0; i < n; i++) {
    PyObject *entry = PyList_GET_ITEM(co->endpoints, i);
    wanted |= PyLong_AsUnsignedLongMask(PyTuple_GET_ITEM(entry, 1));
  }
  if (wanted & MGIO_MULTIPART_EVENTS) {
    co->nc->flags &= ~(unsigned long) MG_F_NO_MULTIPART_STREAMING;
  } else {
    co->nc->flags |= MG_F_NO_MULTIPART_STREAMING;
  }
}

PyObject *mgio_direct_table(const mgio_state *st, PyObject *handler, unsigned int wanted) {
  /* only an mgio.Handler (it declares _mgio_events) has one: a plain callable is not
   * asked (a failed lookup costs an exception, and on 3.10 memory tracemalloc sees) */
  if (handler == NULL || handler == Py_None || wanted == ~0u) return NULL;
  PyObject *table = PyObject_GetAttr(handler, st->direct_name);
  if (table == NULL) PyErr_Clear();
  if (table != NULL && !PyTuple_Check(table)) Py_CLEAR(table); /* None: no table */
  return table;
}

ConnectionObject *mgio_connection_attach(ManagerObject *m, struct mg_connection *nc,
                                         PyObject *handler, const ConnectionObject *from) {
  PyTypeObject *type = m->state->connection_type;
  ConnectionObject *co = (ConnectionObject *) type->tp_alloc(type, 0);
  if (co == NULL) return NULL;
  co->nc = nc;
  co->manager = (ManagerObject *) Py_NewRef(m);
  co->handler = Py_NewRef(handler != NULL ? handler : Py_None);
  if (from != NULL && from->handler == co->handler) { /* read once, on the listener */
    co->wanted = from->wanted;
    co->direct = Py_XNewRef(from->direct);
  } else {
    co->wanted = mgio_wanted_events(m->state, co->handler);
    co->direct = mgio_direct_table(m->state, co->handler, co->wanted);
  }
  co->user_data = Py_NewRef(Py_None);
  co->endpoints = NULL;
  co->live_msg = NULL;
  co->recv_slot = &nc->recv_mbuf;
  co->send_slot = &nc->send_mbuf;
  nc->user_data = co; /* owns the reference tp_alloc returned */
  nc->handler = mgio_dispatch;
  return co;
}

void mgio_connection_detach(ConnectionObject *co) {
  if (co->nc == NULL) return;
  co->nc->user_data = NULL;
  co->nc = NULL;
  co->recv_slot = &co->dead_recv;
  co->send_slot = &co->dead_send;
  Py_DECREF(co);
}

int mgio_connection_buffer_changing(PyObject *owner, struct mbuf **slot) {
  ConnectionObject *co = (ConnectionObject *) owner;
  if (slot != &co->recv_slot || co->live_msg == NULL) return 0;
  if (mgio_ws_message_check(co->manager->state, co->live_msg))
    return mgio_ws_message_detach(co->live_msg);
  if (Py_IS_TYPE(co->live_msg, co->manager->state->multipart_part_type))
    return mgio_multipart_part_detach(co->live_msg);
  return mgio_http_message_detach(co->live_msg);
}

void mgio_connection_touch(PyObject *conn) {
  ConnectionObject *co = (ConnectionObject *) conn;
  if (co->nc != NULL) mgio_manager_touch(co->manager);
}

/* The live C connection, or NULL with ConnectionError. */
static struct mg_connection *open_conn(ConnectionObject *co) {
  if (co->nc == NULL) PyErr_SetString(PyExc_ConnectionError, "connection is closed");
  return co->nc;
}

/* Queues n bytes at p (mg_send takes an int: larger buffers go in pieces). 0, or -1
 * with MemoryError when the queue could not grow. */
static int queue_bytes(ConnectionObject *co, const char *p, size_t n) {
  struct mg_connection *nc = co->nc;
  size_t before = nc->send_mbuf.len;
  for (size_t off = 0; off < n;) {
    size_t piece = n - off < 0x40000000 ? n - off : 0x40000000;
    mg_send(nc, p + off, (int) piece);
    off += piece;
  }
  mgio_manager_touch(co->manager);
  if (nc->send_mbuf.len - before != n) {
    PyErr_NoMemory();
    return -1;
  }
  return 0;
}

static PyObject *Connection_send(ConnectionObject *co, PyObject *data) {
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL) return NULL;
  struct mbuf *mb;
  int rc;
  /* An Mbuf (say another connection's recv_buf) is read in place: exporting a view would
   * make a snapshot copy first. Its own send buffer is the one case that must copy. */
  if (mgio_mbuf_peek(co->manager->state, data, &mb) && mb != &nc->send_mbuf) {
    rc = queue_bytes(co, mb->buf, mb->len);
  } else {
    Py_buffer view;
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return NULL;
    rc = queue_bytes(co, (const char *) view.buf, (size_t) view.len);
    PyBuffer_Release(&view);
  }
  if (rc < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *Connection_close(ConnectionObject *co, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"immediately", NULL};
  int immediately = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$p:close", kwlist, &immediately))
    return NULL;
  if (co->nc != NULL)
    co->nc->flags |= immediately ? MG_F_CLOSE_IMMEDIATELY : MG_F_SEND_AND_CLOSE;
  mgio_connection_touch((PyObject *) co);
  Py_RETURN_NONE;
}

static PyObject *Connection_set_timer(ConnectionObject *co, PyObject *arg) {
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL) return NULL;
  double when = PyFloat_AsDouble(arg);
  if (when == -1.0 && PyErr_Occurred()) return NULL;
  mgio_manager_touch(co->manager); /* an event loop may be sleeping until the old time */
  return PyFloat_FromDouble(mg_set_timer(nc, when));
}

/* ---- HTTP responses ------------------------------------------------------------- */

/* A status code argument: 100..999, else ValueError. */
static int check_status(int status) {
  if (status < 100 || status > 999) {
    PyErr_Format(PyExc_ValueError, "status must be in 100..999, not %d", status);
    return -1;
  }
  return 0;
}

/* Statuses whose responses never carry a body (RFC 9110 6.4.1). */
static int status_has_no_body(int status) {
  return status < 200 || status == 204 || status == 304;
}

/* Formats `headers` into *hb (NUL-terminated); with a str body and no Content-Type,
 * adds the text one. 0, or -1 with an exception (hb freed). */
static int head_fields(PyObject *headers, struct mbuf *hb, int flags, int text_body) {
  int has_ctype = 0;
  mbuf_init(hb, 0);
  if (mgio_format_headers(headers, hb, flags, &has_ctype) < 0) goto fail;
  if (text_body && !has_ctype &&
      mbuf_append(hb, MGIO_TEXT_CTYPE, sizeof(MGIO_TEXT_CTYPE) - 1) !=
          sizeof(MGIO_TEXT_CTYPE) - 1) {
    PyErr_NoMemory();
    goto fail;
  }
  if (mbuf_append(hb, "", 1) != 1) {
    PyErr_NoMemory();
    goto fail;
  }
  return 0;
fail:
  mbuf_free(hb);
  return -1;
}

/* After a response helper: the C layer refuses malformed input by closing at once.
 * Arguments are checked here first, so that means memory ran out. */
static int check_refused(ConnectionObject *co, unsigned long flags_before) {
  mgio_manager_touch(co->manager);
  if (!(flags_before & MG_F_CLOSE_IMMEDIATELY) && (co->nc->flags & MG_F_CLOSE_IMMEDIATELY)) {
    PyErr_SetString(PyExc_ConnectionError,
                    "the response could not be queued; the connection is closing");
    return -1;
  }
  return 0;
}

static PyObject *Connection_reply(ConnectionObject *co, PyObject *const *args,
                                  Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"status", "body", "headers", NULL};
  PyObject *a[3];
  int status = 200;
  if (mgio_bind_args("reply", names, 0, 3, args, nargs, kwnames, a) < 0 ||
      (a[0] != NULL && mgio_int_arg(a[0], &status) < 0))
    return NULL;
  PyObject *body = a[1], *headers = a[2] != NULL ? a[2] : Py_None;
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL || check_status(status) < 0) return NULL;
  mgio_body b;
  if (mgio_body_get(body, &b) < 0) return NULL;
  PyObject *result = NULL;
  struct mbuf hb;
  if (status_has_no_body(status) && b.n > 0) {
    PyErr_Format(PyExc_ValueError, "a %d response has no body", status);
    goto done_body;
  }
  if (head_fields(headers, &hb, MGIO_HDR_NO_FRAMING, b.is_text && b.n > 0) < 0)
    goto done_body;
  unsigned long flags = nc->flags;
  mg_send_head(nc, status, (int64_t) b.n, hb.len > 1 ? hb.buf : NULL);
  if (check_refused(co, flags) == 0 &&
      (co->head_request || b.n == 0 || queue_bytes(co, b.p, b.n) == 0))
    result = Py_NewRef(Py_None);
  mbuf_free(&hb);
done_body:
  mgio_body_release(&b);
  return result;
}

static PyObject *Connection_send_head(ConnectionObject *co, PyObject *const *args,
                                      Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"status", "length", "headers", NULL};
  PyObject *a[3];
  int status;
  long long length = -1;
  if (mgio_bind_args("send_head", names, 1, 3, args, nargs, kwnames, a) < 0 ||
      mgio_int_arg(a[0], &status) < 0)
    return NULL;
  if (a[1] != NULL && (length = PyLong_AsLongLong(a[1])) == -1 && PyErr_Occurred())
    return NULL;
  PyObject *headers = a[2] != NULL ? a[2] : Py_None;
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL || check_status(status) < 0) return NULL;
  if (length < -1) return PyErr_Format(PyExc_ValueError, "length must be >= -1");
  struct mbuf hb;
  if (head_fields(headers, &hb, MGIO_HDR_NO_FRAMING, 0) < 0) return NULL;
  unsigned long flags = nc->flags;
  mg_send_head(nc, status, (int64_t) length, hb.len > 1 ? hb.buf : NULL);
  mbuf_free(&hb);
  if (check_refused(co, flags) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *Connection_send_chunk(ConnectionObject *co, PyObject *data) {
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL) return NULL;
  mgio_body b;
  if (data == Py_None) return PyErr_Format(PyExc_TypeError, "send_chunk() needs bytes or str");
  if (mgio_body_get(data, &b) < 0) return NULL;
  unsigned long flags = nc->flags;
  mg_send_http_chunk(nc, b.p, b.n);
  mgio_body_release(&b);
  if (check_refused(co, flags) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *Connection_send_error(ConnectionObject *co, PyObject *const *args,
                                       Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"code", "reason", NULL};
  PyObject *a[2];
  int code;
  if (mgio_bind_args("send_error", names, 1, 2, args, nargs, kwnames, a) < 0 ||
      mgio_int_arg(a[0], &code) < 0)
    return NULL;
  PyObject *reason = a[1] != NULL ? a[1] : Py_None;
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL || check_status(code) < 0) return NULL;
  mgio_body b;
  if (mgio_body_get(reason, &b) < 0) return NULL;
  PyObject *result = NULL;
  if (memchr(b.p, 0, b.n) != NULL) {
    PyErr_SetString(PyExc_ValueError, "reason contains a NUL character");
  } else {
    /* mg_http_send_error takes a C string: copy (a bytes-like need not end in NUL) */
    char *text = reason == Py_None ? NULL : PyMem_Malloc(b.n + 1);
    if (reason != Py_None && text == NULL) {
      PyErr_NoMemory();
    } else {
      if (text != NULL) {
        memcpy(text, b.p, b.n);
        text[b.n] = '\0';
      }
      unsigned long flags = nc->flags;
      mg_http_send_error(nc, code, text);
      PyMem_Free(text);
      if (check_refused(co, flags) == 0) result = Py_NewRef(Py_None);
    }
  }
  mgio_body_release(&b);
  return result;
}

static PyObject *Connection_redirect(ConnectionObject *co, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"location", "status", "headers", NULL};
  PyObject *location, *headers = Py_None;
  int status = 302;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|iO:redirect", kwlist, &location, &status,
                                   &headers))
    return NULL;
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL || check_status(status) < 0) return NULL;
  PyObject *loc = PyUnicode_Check(location) ? PyUnicode_AsUTF8String(location)
                  : PyBytes_Check(location) ? Py_NewRef(location)
                                            : NULL;
  if (loc == NULL) {
    if (!PyErr_Occurred())
      PyErr_Format(PyExc_TypeError, "location must be str or bytes, not %.100s",
                   Py_TYPE(location)->tp_name);
    return NULL;
  }
  PyObject *result = NULL;
  struct mbuf hb;
  const char *lp = PyBytes_AS_STRING(loc);
  size_t ln = (size_t) PyBytes_GET_SIZE(loc);
  if (mgio_check_field_value(lp, ln, "location") == 0 &&
      head_fields(headers, &hb, MGIO_HDR_NO_FRAMING, 0) == 0) {
    unsigned long flags = nc->flags;
    mg_http_send_redirect(nc, status, mg_mk_str_n(lp, ln), mg_mk_str_n(hb.buf, hb.len - 1));
    mbuf_free(&hb);
    if (check_refused(co, flags) == 0) result = Py_NewRef(Py_None);
  }
  Py_DECREF(loc);
  return result;
}

static PyObject *Connection_delete_chunk(ConnectionObject *co, PyObject *unused) {
  (void) unused;
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL) return NULL;
  nc->flags |= MG_F_DELETE_CHUNK;
  Py_RETURN_NONE;
}

static PyObject *Connection_register_endpoint(ConnectionObject *co, PyObject *args,
                                              PyObject *kwargs) {
  static char *kwlist[] = {"pattern", "handler", NULL};
  PyObject *pattern, *handler;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "UO:register_endpoint", kwlist, &pattern,
                                   &handler))
    return NULL;
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL) return NULL;
  if (!PyCallable_Check(handler))
    return PyErr_Format(PyExc_TypeError, "handler must be callable");
  if (!(nc->flags & MG_F_LISTENING) || (nc->flags & MG_F_UDP))
    return PyErr_Format(PyExc_ValueError,
                        "register_endpoint() needs a TCP listener (from Manager.bind)");
  Py_ssize_t n;
  const char *p = PyUnicode_AsUTF8AndSize(pattern, &n);
  if (p == NULL) return NULL;
  if (n == 0 || strlen(p) != (size_t) n)
    return PyErr_Format(PyExc_ValueError, "pattern must be non-empty, without NUL");
  /* The C endpoint points at an entry (handler, events mask) that the list keeps alive,
   * shared with the accepted connections: an entry is never dropped, even when the
   * pattern is registered again, since a connection that was routed to it may still
   * call it (its EV_CLOSE). */
  if (co->endpoints == NULL && (co->endpoints = PyList_New(0)) == NULL) return NULL;
  unsigned long wanted = mgio_wanted_events(co->manager->state, handler);
  PyObject *direct = mgio_direct_table(co->manager->state, handler, (unsigned int) wanted);
  PyObject *entry = Py_BuildValue("(OkO)", handler, wanted, direct != NULL ? direct : Py_None);
  Py_XDECREF(direct);
  if (entry == NULL) return NULL;
  int rc = PyList_Append(co->endpoints, entry);
  Py_DECREF(entry);
  if (rc < 0) return NULL;
  struct mg_http_endpoint_opts opts = {.user_data = entry};
  mg_register_http_endpoint_opt(nc, p, mgio_endpoint_dispatch, opts);
  Py_RETURN_NONE;
}

/* ---- WebSocket ------------------------------------------------------------------- */

/* mgio.websocket.WebSocketError, imported once per module. Borrowed reference. */
static PyObject *ws_error(mgio_state *st) {
  if (st->ws_error_class == NULL) {
    PyObject *mod = PyImport_ImportModule("mgio.websocket");
    if (mod == NULL) return NULL;
    st->ws_error_class = PyObject_GetAttrString(mod, "WebSocketError");
    Py_DECREF(mod);
  }
  return st->ws_error_class;
}

/* Raises WebSocketError(message). Returns NULL. */
static PyObject *raise_ws_error(ConnectionObject *co, const char *message) {
  PyObject *cls = ws_error(co->manager->state);
  if (cls != NULL) PyErr_SetString(cls, message);
  return NULL;
}

/* The live C connection when it is an open WebSocket, else NULL with ConnectionError
 * (closed) or WebSocketError (not upgraded). */
static struct mg_connection *open_ws(ConnectionObject *co, const char *what) {
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL) return NULL;
  if (!(nc->flags & MG_F_IS_WEBSOCKET)) {
    PyObject *cls = ws_error(co->manager->state);
    if (cls != NULL)
      PyErr_Format(cls, "%s needs an open WebSocket (after EV_WEBSOCKET_HANDSHAKE_DONE)",
                   what);
    return NULL;
  }
  return nc;
}

static int valid_op(long op) {
  return op == WEBSOCKET_OP_CONTINUE || op == WEBSOCKET_OP_TEXT ||
         op == WEBSOCKET_OP_BINARY || op == WEBSOCKET_OP_PING || op == WEBSOCKET_OP_PONG ||
         op == WEBSOCKET_OP_CLOSE;
}

static PyObject *Connection_send_ws(ConnectionObject *co, PyObject *const *args,
                                    Py_ssize_t nargs, PyObject *kwnames) {
  static const char *const names[] = {"data", "op", "fin", NULL};
  PyObject *a[3];
  if (mgio_bind_args("send_ws", names, 1, 2, args, nargs, kwnames, a) < 0) return NULL;
  PyObject *data = a[0], *op_obj = a[1] != NULL ? a[1] : Py_None;
  int fin = a[2] != NULL ? PyObject_IsTrue(a[2]) : 1;
  if (fin < 0) return NULL;
  long op = -1;
  if (op_obj != Py_None) {
    op = PyLong_AsLong(op_obj);
    if (op == -1 && PyErr_Occurred()) return NULL;
    if (!valid_op(op))
      return PyErr_Format(PyExc_ValueError,
                          "op must be a WsOp (CONTINUE 0, TEXT 1, BINARY 2, PING 9, PONG "
                          "10), not %ld",
                          op);
  }
  struct mg_connection *nc = open_ws(co, "send_ws()");
  if (nc == NULL) return NULL;
  mgio_state *st = co->manager->state;
  const void *p;
  size_t n;
  Py_buffer view;
  int has_view = 0, text = 0;
  if (mgio_ws_message_check(st, data)) {
    int flags;
    if (mgio_ws_message_payload(data, &p, &n, &flags) < 0) return NULL;
    if (op < 0) op = flags & 0x0f;
  } else if (PyUnicode_Check(data)) {
    Py_ssize_t len;
    p = PyUnicode_AsUTF8AndSize(data, &len);
    if (p == NULL) return NULL;
    n = (size_t) len;
    text = 1;
    if (op < 0) op = WEBSOCKET_OP_TEXT;
  } else {
    if (PyObject_GetBuffer(data, &view, PyBUF_SIMPLE) < 0) return NULL;
    has_view = 1;
    p = view.buf;
    n = (size_t) view.len;
    if (op < 0) op = WEBSOCKET_OP_BINARY;
  }
  PyObject *result = NULL;
  int control = (op & 8) != 0;
  if (op == WEBSOCKET_OP_CLOSE) {
    PyErr_SetString(PyExc_ValueError, "use ws_close(code, reason) to send a Close frame");
  } else if (control && n > 125) {
    PyErr_Format(PyExc_ValueError,
                 "a control frame's payload is at most 125 bytes, not %zu (RFC 6455 5.5)", n);
  } else if (control && !fin) {
    PyErr_SetString(PyExc_ValueError, "a control frame cannot be fragmented (fin=False)");
  } else if (op == WEBSOCKET_OP_CONTINUE && co->ws_send_op == 0) {
    PyErr_SetString(PyExc_ValueError,
                    "a CONTINUE frame needs a fragmented message in progress (start one "
                    "with fin=False)");
  } else if ((op == WEBSOCKET_OP_TEXT || op == WEBSOCKET_OP_BINARY) && co->ws_send_op != 0) {
    PyErr_SetString(PyExc_ValueError,
                    "a fragmented message is in progress: send its rest as CONTINUE frames "
                    "(the last with fin=True) first");
  } else if (op == WEBSOCKET_OP_TEXT && fin && !text && !mg_utf8_valid(p, n)) {
    PyErr_SetString(PyExc_ValueError, "a text message must be valid UTF-8");
  } else {
    size_t before = nc->send_mbuf.len;
    mg_send_websocket_frame(nc, (int) op | (fin ? 0 : WEBSOCKET_DONT_FIN), p, n);
    mgio_manager_touch(co->manager);
    if (nc->send_mbuf.len == before) {
      /* refused: a Close went out already (ours, the peer's echoed, or a failure's) */
      if (nc->flags & MG_F_CLOSE_IMMEDIATELY)
        PyErr_SetString(PyExc_ConnectionError, "the connection is closing");
      else
        raise_ws_error(co, "the WebSocket is closing: no frame is sent after a Close");
    } else {
      if (op == WEBSOCKET_OP_TEXT || op == WEBSOCKET_OP_BINARY) {
        if (!fin) co->ws_send_op = (unsigned char) op;
      } else if (op == WEBSOCKET_OP_CONTINUE && fin) {
        co->ws_send_op = 0;
      }
      result = Py_NewRef(Py_None);
    }
  }
  if (has_view) PyBuffer_Release(&view);
  return result;
}

/* RFC 6455 7.4: the codes an endpoint may send. */
static int close_code_ok(long code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

static PyObject *Connection_ws_close(ConnectionObject *co, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"code", "reason", NULL};
  PyObject *code_obj = NULL, *reason = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|OU:ws_close", kwlist, &code_obj, &reason))
    return NULL;
  long code = 1000;
  if (code_obj == Py_None) {
    code = 0;
  } else if (code_obj != NULL) {
    code = PyLong_AsLong(code_obj);
    if (code == -1 && PyErr_Occurred()) return NULL;
    if (!close_code_ok(code))
      return PyErr_Format(PyExc_ValueError,
                          "invalid close code %ld (1000-1003, 1007-1014 or 3000-4999)", code);
  }
  Py_ssize_t n = 0;
  const char *text = reason != NULL ? PyUnicode_AsUTF8AndSize(reason, &n) : "";
  if (text == NULL) return NULL;
  if (n > 123)
    return PyErr_Format(PyExc_ValueError,
                        "a close reason is at most 123 bytes of UTF-8, not %zd", n);
  if (strlen(text) != (size_t) n)
    return PyErr_Format(PyExc_ValueError, "the close reason contains a NUL character");
  if (code == 0 && n > 0)
    return PyErr_Format(PyExc_ValueError, "a close reason needs a code");
  struct mg_connection *nc = open_ws(co, "ws_close()");
  if (nc == NULL) return NULL;
  mg_websocket_close(nc, (int) code, text); /* nothing when a Close went out already */
  mgio_manager_touch(co->manager);
  Py_RETURN_NONE;
}

static PyObject *Connection_ws_select_protocol(ConnectionObject *co, PyObject *name) {
  const char *text = NULL;
  if (name != Py_None) {
    Py_ssize_t n;
    if (!PyUnicode_Check(name))
      return PyErr_Format(PyExc_TypeError, "a subprotocol is a str or None, not %.100s",
                          Py_TYPE(name)->tp_name);
    text = PyUnicode_AsUTF8AndSize(name, &n);
    if (text == NULL) return NULL;
    if (strlen(text) != (size_t) n)
      return PyErr_Format(PyExc_ValueError, "the subprotocol contains a NUL character");
  }
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL) return NULL;
  mg_websocket_select_protocol(nc, text);
  Py_RETURN_NONE;
}

static PyObject *Connection_get_is_websocket(ConnectionObject *co, void *closure) {
  (void) closure;
  return PyBool_FromLong(co->nc != NULL && (co->nc->flags & MG_F_IS_WEBSOCKET));
}

/* ---- limits ------------------------------------------------------------------------ */

enum { LIM_SIZE, LIM_SECONDS, LIM_BOOL, LIM_COUNT };

static const struct {
  const char *name;
  size_t offset;
  int kind;
} limit_fields[] = {
    {"request_line", offsetof(struct mg_http_limits, request_line), LIM_SIZE},
    {"header_section", offsetof(struct mg_http_limits, header_section), LIM_SIZE},
    {"max_headers", offsetof(struct mg_http_limits, max_headers), LIM_SIZE},
    {"field_line", offsetof(struct mg_http_limits, field_line), LIM_SIZE},
    {"body", offsetof(struct mg_http_limits, body), LIM_SIZE},
    {"ws_max_message", offsetof(struct mg_http_limits, ws_message), LIM_SIZE},
    {"ws_max_fragments", offsetof(struct mg_http_limits, ws_fragments), LIM_SIZE},
    {"ws_ping_interval", offsetof(struct mg_http_limits, ws_ping_ms), LIM_SECONDS},
    {"ws_close_timeout", offsetof(struct mg_http_limits, ws_close_ms), LIM_SECONDS},
    {"ws_ping_timeout", offsetof(struct mg_http_limits, ws_pong_ms), LIM_SECONDS},
    {"ws_deflate", offsetof(struct mg_http_limits, ws_deflate), LIM_BOOL},
    {"multipart_max_header", offsetof(struct mg_http_limits, mp_header), LIM_SIZE},
    {"multipart_max_parts", offsetof(struct mg_http_limits, mp_parts), LIM_SIZE},
    {"header_timeout", offsetof(struct mg_http_limits, header_ms), LIM_SECONDS},
    {"body_timeout", offsetof(struct mg_http_limits, body_ms), LIM_SECONDS},
    {"send_timeout", offsetof(struct mg_http_limits, send_ms), LIM_SECONDS},
    {"keep_alive_timeout", offsetof(struct mg_http_limits, idle_ms), LIM_SECONDS},
    {"max_requests", offsetof(struct mg_http_limits, max_requests), LIM_COUNT},
    {"ws_handshake_timeout", offsetof(struct mg_http_limits, ws_handshake_ms), LIM_SECONDS},
};
#define N_LIMIT_FIELDS (sizeof(limit_fields) / sizeof(limit_fields[0]))

static struct mg_http_limits current_limits(ConnectionObject *co) {
  return co->has_limits ? co->limits : mg_http_default_limits();
}

static PyObject *Connection_get_limits(ConnectionObject *co, void *closure) {
  (void) closure;
  struct mg_http_limits lim = current_limits(co);
  PyObject *d = PyDict_New();
  for (size_t i = 0; d != NULL && i < N_LIMIT_FIELDS; i++) {
    const char *at = (const char *) &lim + limit_fields[i].offset;
    PyObject *v;
    if (limit_fields[i].kind == LIM_SIZE)
      v = PyLong_FromSize_t(*(const size_t *) at);
    else if (limit_fields[i].kind == LIM_SECONDS)
      v = PyFloat_FromDouble(*(const unsigned int *) at / 1000.0);
    else if (limit_fields[i].kind == LIM_COUNT)
      v = PyLong_FromUnsignedLong(*(const unsigned int *) at);
    else
      v = PyBool_FromLong(*(const int *) at != 0);
    if (v == NULL || PyDict_SetItemString(d, limit_fields[i].name, v) < 0) Py_CLEAR(d);
    Py_XDECREF(v);
  }
  return d;
}

/* Limits that 0 would not switch off: at least 1 (the C layer takes 0 as the default
 * for the multipart ones, which `limits` would misreport). */
static int positive_only(const char *name) {
  return strcmp(name, "ws_max_fragments") == 0 || strcmp(name, "multipart_max_header") == 0 ||
         strcmp(name, "multipart_max_parts") == 0;
}

/* Stores the int `value` into the size_t (LIM_SIZE) or unsigned int (LIM_COUNT) at
 * `at`; 0, or -1 with an exception. */
static int set_limit_int(const char *name, PyObject *value, int kind, char *at) {
  if (!PyLong_Check(value) || PyBool_Check(value)) {
    PyErr_Format(PyExc_TypeError, "%s must be an int", name);
    return -1;
  }
  size_t v = PyLong_AsSize_t(value);
  if (v == (size_t) -1 && PyErr_Occurred()) {
    if (PyErr_ExceptionMatches(PyExc_OverflowError))
      PyErr_Format(PyExc_ValueError, "%s must be a size >= 0", name);
    return -1;
  }
  if (v == 0 && positive_only(name)) {
    PyErr_Format(PyExc_ValueError, "%s must be >= 1", name);
    return -1;
  }
  if (kind == LIM_COUNT) {
    if (v > UINT_MAX) {
      PyErr_Format(PyExc_ValueError, "%s must be at most %u", name, UINT_MAX);
      return -1;
    }
    *(unsigned int *) at = (unsigned int) v;
  } else {
    *(size_t *) at = v;
  }
  return 0;
}

static PyObject *Connection_set_limits(ConnectionObject *co, PyObject *args, PyObject *kwargs) {
  if (PyTuple_GET_SIZE(args) != 0)
    return PyErr_Format(PyExc_TypeError, "set_limits() takes keyword arguments only");
  struct mg_connection *nc = open_conn(co);
  if (nc == NULL) return NULL;
  struct mg_http_limits lim = current_limits(co);
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (kwargs != NULL && PyDict_Next(kwargs, &pos, &key, &value)) {
    const char *name = PyUnicode_AsUTF8(key);
    if (name == NULL) return NULL;
    size_t i;
    for (i = 0; i < N_LIMIT_FIELDS && strcmp(name, limit_fields[i].name) != 0; i++) {
    }
    if (i == N_LIMIT_FIELDS)
      return PyErr_Format(PyExc_TypeError, "set_limits() got an unexpected keyword argument %R",
                          key);
    char *at = (char *) &lim + limit_fields[i].offset;
    if (limit_fields[i].kind == LIM_SIZE || limit_fields[i].kind == LIM_COUNT) {
      if (set_limit_int(name, value, limit_fields[i].kind, at) < 0) return NULL;
    } else if (limit_fields[i].kind == LIM_SECONDS) {
      double v = value == Py_None ? 0.0 : PyFloat_AsDouble(value);
      if (v == -1.0 && PyErr_Occurred()) return NULL;
      if (!(v >= 0.0 && v <= 4294967.0))
        return PyErr_Format(PyExc_ValueError, "%s must be seconds in 0..4294967", name);
      unsigned int ms = (unsigned int) (v * 1000.0 + 0.5);
      if (ms == 0 && v > 0) ms = 1;
      *(unsigned int *) at = ms;
    } else {
      int v = PyObject_IsTrue(value);
      if (v < 0) return NULL;
      *(int *) at = v;
    }
  }
  if (mg_http_set_limits(nc, &lim) != 0)
    return PyErr_Format(PyExc_ValueError,
                        "set_limits() needs a connection that speaks HTTP (bind or connect "
                        "with http=True, connect_http, connect_ws)");
  co->limits = lim;
  co->has_limits = 1;
  mgio_manager_touch(co->manager);
  Py_RETURN_NONE;
}

/* ---- static files ---------------------------------------------------------------- */

/* `headers` as extra header lines for the static-file helpers: no final CRLF, NUL-
 * terminated (hb must be freed). 0, or -1 with an exception. */
static int extra_lines(PyObject *headers, struct mbuf *hb) {
  if (head_fields(headers, hb, MGIO_HDR_NO_FRAMING, 0) < 0) return -1;
  if (hb->len >= 3) { /* "...\r\n\0": drop the last CRLF */
    hb->len -= 3;
    hb->buf[hb->len++] = '\0';
  }
  return 0;
}

static PyObject *Connection_serve_file(ConnectionObject *co, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"msg", "path", "mime", "headers", NULL};
  PyObject *msg, *path = NULL, *mime = Py_None, *headers = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO&|OO:serve_file", kwlist, &msg,
                                   PyUnicode_FSConverter, &path, &mime, &headers))
    return NULL;
  PyObject *result = NULL;
  struct mbuf hb;
  mbuf_init(&hb, 0);
  struct mg_connection *nc = open_conn(co);
  struct http_message *hm = nc != NULL ? mgio_http_message_get(co->manager->state, msg) : NULL;
  if (hm == NULL) goto done;
  const char *mp = NULL;
  Py_ssize_t mn = 0;
  if (mime != Py_None) {
    if (!PyUnicode_Check(mime)) {
      PyErr_SetString(PyExc_TypeError, "mime must be a str or None");
      goto done;
    }
    mp = PyUnicode_AsUTF8AndSize(mime, &mn);
    if (mp == NULL || mgio_check_field_value(mp, (size_t) mn, "mime") < 0) goto done;
  }
  if (extra_lines(headers, &hb) < 0) goto done;
  unsigned long flags = nc->flags;
  mg_http_serve_file(nc, hm, PyBytes_AS_STRING(path), mg_mk_str_n(mp, (size_t) mn),
                     mg_mk_str_n(hb.buf, hb.len - 1));
  if (check_refused(co, flags) == 0) result = Py_NewRef(Py_None);
done:
  mbuf_free(&hb);
  Py_XDECREF(path);
  return result;
}

/* The string options of mg_serve_http that serve_dir takes as keywords. */
static const struct {
  const char *name;
  size_t offset;
  int is_path;
} serve_options[] = {
    {"index_files", offsetof(struct mg_serve_http_opts, index_files), 0},
    {"per_directory_auth_file", offsetof(struct mg_serve_http_opts, per_directory_auth_file),
     0},
    {"auth_domain", offsetof(struct mg_serve_http_opts, auth_domain), 0},
    {"global_auth_file", offsetof(struct mg_serve_http_opts, global_auth_file), 1},
    {"enable_directory_listing", offsetof(struct mg_serve_http_opts, enable_directory_listing),
     0},
    {"ssi_pattern", offsetof(struct mg_serve_http_opts, ssi_pattern), 0},
    {"ip_acl", offsetof(struct mg_serve_http_opts, ip_acl), 0},
    {"url_rewrites", offsetof(struct mg_serve_http_opts, url_rewrites), 0},
    {"dav_document_root", offsetof(struct mg_serve_http_opts, dav_document_root), 1},
    {"dav_auth_file", offsetof(struct mg_serve_http_opts, dav_auth_file), 1},
    {"hidden_file_pattern", offsetof(struct mg_serve_http_opts, hidden_file_pattern), 0},
    {"cgi_file_pattern", offsetof(struct mg_serve_http_opts, cgi_file_pattern), 0},
    {"cgi_interpreter", offsetof(struct mg_serve_http_opts, cgi_interpreter), 1},
    {"custom_mime_types", offsetof(struct mg_serve_http_opts, custom_mime_types), 0},
};

/* One serve_dir option into *out: bool for enable_directory_listing, else str (or a
 * path for file options). The bytes are kept alive by `keep`. 0, or -1. */
static int serve_option(const char *name, int is_path, PyObject *value, PyObject *keep,
                        const char **out) {
  if (value == Py_None) return 0;
  if (strcmp(name, "enable_directory_listing") == 0 && PyBool_Check(value)) {
    *out = value == Py_True ? "yes" : "no";
    return 0;
  }
  PyObject *b = NULL;
  if (is_path) {
    if (!PyUnicode_FSConverter(value, &b)) return -1;
  } else if (PyUnicode_Check(value)) {
    b = PyUnicode_AsUTF8String(value);
  } else {
    PyErr_Format(PyExc_TypeError, "serve_dir(): %s must be a str, not %.100s", name,
                 Py_TYPE(value)->tp_name);
    return -1;
  }
  if (b == NULL) return -1;
  int rc = PyList_Append(keep, b);
  Py_DECREF(b);
  if (rc < 0) return -1;
  if ((size_t) PyBytes_GET_SIZE(b) != strlen(PyBytes_AS_STRING(b))) {
    PyErr_Format(PyExc_ValueError, "serve_dir(): %s contains a NUL character", name);
    return -1;
  }
  *out = PyBytes_AS_STRING(b);
  return 0;
}

static PyObject *Connection_serve_dir(ConnectionObject *co, PyObject *args, PyObject *kwargs) {
  PyObject *msg, *root = NULL;
  if (!PyArg_ParseTuple(args, "OO&:serve_dir", &msg, PyUnicode_FSConverter, &root))
    return NULL;
  PyObject *result = NULL, *keep = PyList_New(0);
  struct mbuf hb;
  mbuf_init(&hb, 0);
  struct mg_serve_http_opts opts;
  memset(&opts, 0, sizeof(opts));
  opts.document_root = PyBytes_AS_STRING(root);
  struct mg_connection *nc = open_conn(co);
  struct http_message *hm =
      nc != NULL && keep != NULL ? mgio_http_message_get(co->manager->state, msg) : NULL;
  if (hm == NULL) goto done;
  PyObject *key, *value;
  Py_ssize_t pos = 0;
  while (kwargs != NULL && PyDict_Next(kwargs, &pos, &key, &value)) {
    const char *name = PyUnicode_AsUTF8(key);
    if (name == NULL) goto done;
    if (strcmp(name, "headers") == 0 || strcmp(name, "extra_headers") == 0) {
      mbuf_free(&hb);
      if (extra_lines(value, &hb) < 0) goto done;
      opts.extra_headers = hb.len > 1 ? hb.buf : NULL;
      continue;
    }
    size_t i, n = sizeof(serve_options) / sizeof(serve_options[0]);
    for (i = 0; i < n && strcmp(name, serve_options[i].name) != 0; i++) {
    }
    if (i == n) {
      PyErr_Format(PyExc_TypeError, "serve_dir() got an unexpected keyword argument %R", key);
      goto done;
    }
    const char **slot = (const char **) ((char *) &opts + serve_options[i].offset);
    if (serve_option(name, serve_options[i].is_path, value, keep, slot) < 0) goto done;
  }
  unsigned long flags = nc->flags;
  mg_serve_http(nc, hm, opts);
  if (check_refused(co, flags) == 0) result = Py_NewRef(Py_None);
done:
  mbuf_free(&hb);
  Py_XDECREF(keep);
  Py_XDECREF(root);
  return result;
}

static PyObject *Connection_get_flags(ConnectionObject *co, void *closure) {
  (void) closure;
  return PyLong_FromUnsignedLong(co->nc != NULL ? co->nc->flags : 0);
}

static int Connection_set_flags(ConnectionObject *co, PyObject *value, void *closure) {
  (void) closure;
  if (value == NULL || open_conn(co) == NULL) {
    if (value == NULL) PyErr_SetString(PyExc_AttributeError, "flags cannot be deleted");
    return -1;
  }
  unsigned long v = PyLong_AsUnsignedLong(value);
  if (v == (unsigned long) -1 && PyErr_Occurred()) return -1;
  unsigned long fixed = co->nc->flags & ~(unsigned long) USER_FLAGS;
  if ((v & ~(unsigned long) USER_FLAGS) != fixed) {
    PyErr_SetString(PyExc_ValueError, "only the MG_F_USER_*, SEND_AND_CLOSE, "
                                      "CLOSE_IMMEDIATELY and protocol user flags may change");
    return -1;
  }
  co->nc->flags = fixed | (v & USER_FLAGS);
  mgio_manager_touch(co->manager);
  return 0;
}

static PyObject *Connection_get_recv_buf(ConnectionObject *co, void *closure) {
  (void) closure;
  return mgio_mbuf_view(co->manager->state, (PyObject *) co, &co->recv_slot);
}

static PyObject *Connection_get_send_buf(ConnectionObject *co, void *closure) {
  (void) closure;
  return mgio_mbuf_view(co->manager->state, (PyObject *) co, &co->send_slot);
}

static PyObject *Connection_get_handler(ConnectionObject *co, void *closure) {
  (void) closure;
  return Py_NewRef(co->handler != NULL ? co->handler : Py_None);
}

static int Connection_set_handler(ConnectionObject *co, PyObject *value, void *closure) {
  (void) closure;
  if (value == NULL) value = Py_None;
  if (value != Py_None && !PyCallable_Check(value)) {
    PyErr_SetString(PyExc_TypeError, "handler must be callable or None");
    return -1;
  }
  Py_XSETREF(co->handler, Py_NewRef(value));
  co->wanted = mgio_wanted_events(co->manager->state, value);
  mgio_update_multipart_mode(co);
  Py_XSETREF(co->direct, mgio_direct_table(co->manager->state, value, co->wanted));
  return 0;
}

static PyObject *Connection_get_closed(ConnectionObject *co, void *closure) {
  (void) closure;
  return PyBool_FromLong(co->nc == NULL);
}

static PyObject *Connection_get_remote_address(ConnectionObject *co, void *closure) {
  (void) closure;
  if (co->nc == NULL) Py_RETURN_NONE;
  return mgio_address_tuple(&co->nc->sa);
}

static PyObject *Connection_get_local_address(ConnectionObject *co, void *closure) {
  (void) closure;
  union socket_address sa;
  socklen_t len = sizeof(sa);
  if (co->nc == NULL || co->nc->sock == INVALID_SOCKET ||
      getsockname(co->nc->sock, &sa.sa, &len) != 0)
    Py_RETURN_NONE;
  return mgio_address_tuple(&sa);
}

static PyObject *Connection_get_recv_limit(ConnectionObject *co, void *closure) {
  (void) closure;
  if (open_conn(co) == NULL) return NULL;
  return PyLong_FromSize_t(co->nc->recv_mbuf_limit);
}

static int Connection_set_recv_limit(ConnectionObject *co, PyObject *value, void *closure) {
  (void) closure;
  if (value == NULL || open_conn(co) == NULL) {
    if (value == NULL) PyErr_SetString(PyExc_AttributeError, "recv_limit cannot be deleted");
    return -1;
  }
  size_t v = PyLong_AsSize_t(value);
  if (v == (size_t) -1 && PyErr_Occurred()) return -1;
  co->nc->recv_mbuf_limit = v;
  mgio_manager_touch(co->manager);
  return 0;
}

static PyObject *Connection_get_manager(ConnectionObject *co, void *closure) {
  (void) closure;
  return Py_NewRef(co->manager);
}

static PyObject *Connection_repr(ConnectionObject *co) {
  if (co->nc == NULL) return PyUnicode_FromFormat("<mgio.Connection closed>");
  PyObject *peer = mgio_address_tuple(&co->nc->sa);
  if (peer == NULL) return NULL;
  PyObject *r = PyUnicode_FromFormat("<mgio.Connection id=%llu flags=%lu peer=%R>",
                                     co->nc->id, co->nc->flags, peer);
  Py_DECREF(peer);
  return r;
}

static int Connection_traverse(ConnectionObject *co, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(co));
  Py_VISIT(co->manager);
  Py_VISIT(co->handler);
  Py_VISIT(co->direct);
  Py_VISIT(co->user_data);
  Py_VISIT(co->endpoints);
  return 0;
}

static int Connection_clear(ConnectionObject *co) {
  Py_CLEAR(co->handler);
  Py_CLEAR(co->direct);
  Py_CLEAR(co->user_data);
  /* Endpoint handlers stay while the C connection lives: its endpoints still point at
   * them (the collector clears only unreachable objects; a live connection is reachable
   * through its manager, so this runs for closed ones). */
  if (co->nc == NULL) Py_CLEAR(co->endpoints);
  return 0; /* the manager stays: it is needed to close the connection */
}

static void Connection_dealloc(ConnectionObject *co) {
  PyTypeObject *type = Py_TYPE(co);
  PyObject_GC_UnTrack(co);
  if (co->weakrefs != NULL) PyObject_ClearWeakRefs((PyObject *) co);
  mbuf_free(&co->dead_recv);
  mbuf_free(&co->dead_send);
  Connection_clear(co);
  Py_CLEAR(co->endpoints);
  Py_CLEAR(co->manager);
  type->tp_free(co);
  Py_DECREF(type);
}

static PyMethodDef Connection_methods[] = {
    {"send", (PyCFunction) Connection_send, METH_O,
     "send($self, data, /)\n--\n\nQueue bytes for sending; they leave during the next poll."},
    {"close", (PyCFunction) (void (*)(void)) Connection_close, METH_VARARGS | METH_KEYWORDS,
     "close($self, *, immediately=False)\n--\n\nClose after the queued output is sent (or at once "
     "with immediately=True). The handler still gets EV_CLOSE, last."},
    {"reply", (PyCFunction) (void (*)(void)) Connection_reply, METH_FASTCALL | METH_KEYWORDS,
     "reply($self, status=200, body=b\"\", headers=None)\n--\n\nQueue a complete HTTP response: "
     "the status line, `headers` (a mapping or (name, value) pairs), Content-Length and "
     "the body (bytes-like, or str sent as UTF-8 text/plain unless a Content-Type is "
     "given). The body is left out after a HEAD request. After a request that is not "
     "keep-alive the connection closes once the response is sent. ValueError for a "
     "status outside 100..999, a body with 1xx/204/304, a header with CR, LF or another "
     "control character, or a Content-Length/Transfer-Encoding header."},
    {"send_head", (PyCFunction) (void (*)(void)) Connection_send_head,
     METH_FASTCALL | METH_KEYWORDS,
     "send_head($self, status, length=-1, headers=None)\n--\n\nQueue a response head: "
     "Content-Length: length, or with length=-1 Transfer-Encoding: chunked (then send the "
     "body with send_chunk() and end it with send_chunk(b\"\")). With a length, send the "
     "body with send()."},
    {"send_chunk", (PyCFunction) Connection_send_chunk, METH_O,
     "send_chunk($self, data, /)\n--\n\nQueue one chunk of a chunked body (bytes-like, or str as "
     "UTF-8); an empty one ends the body."},
    {"send_error", (PyCFunction) (void (*)(void)) Connection_send_error,
     METH_FASTCALL | METH_KEYWORDS,
     "send_error($self, code, reason=None)\n--\n\nQueue a complete text/plain error response "
     "whose body is `reason` (default: the status's reason phrase) and close the "
     "connection once it is sent."},
    {"redirect", (PyCFunction) (void (*)(void)) Connection_redirect,
     METH_VARARGS | METH_KEYWORDS,
     "redirect($self, location, status=302, headers=None)\n--\n\nQueue a redirect to `location` "
     "(a Location field and a small HTML body). The connection stays open."},
    {"delete_chunk", (PyCFunction) Connection_delete_chunk, METH_NOARGS,
     "delete_chunk($self)\n--\n\nIn an EV_HTTP_CHUNK handler: drop the body bytes just shown "
     "(msg.body), so that a large body streams through in bounded memory (sets "
     "Flag.DELETE_CHUNK)."},
    {"register_endpoint", (PyCFunction) (void (*)(void)) Connection_register_endpoint,
     METH_VARARGS | METH_KEYWORDS,
     "register_endpoint($self, pattern, handler)\n--\n\nOn an HTTP listener: route requests "
     "whose URI matches the glob `pattern` (\"/api\", \"/files/**\", \"/x$\"; the "
     "longest match wins) to handler(conn, EV_HTTP_REQUEST, msg) instead of the "
     "connection's handler, which still gets every other event. Registering a pattern "
     "again replaces its handler."},
    {"serve_file", (PyCFunction) (void (*)(void)) Connection_serve_file,
     METH_VARARGS | METH_KEYWORDS,
     "serve_file($self, msg, path, mime=None, headers=None)\n--\n\nAnswer request `msg` with the "
     "file at `path` (conditional requests, a byte range, HEAD; larger files stream as "
     "the socket drains). `mime` defaults to one guessed from the extension; `headers` "
     "are added to the response."},
    {"serve_dir", (PyCFunction) (void (*)(void)) Connection_serve_dir,
     METH_VARARGS | METH_KEYWORDS,
     "serve_dir($self, msg, root, /, **options)\n--\n\nAnswer request `msg` from the folder `root` "
     "(mg_serve_http). Options: index_files (\"index.html,index.htm\"), "
     "enable_directory_listing (bool), hidden_file_pattern, custom_mime_types "
     "(\".ext=type,...\"), ip_acl, url_rewrites, per_directory_auth_file, auth_domain, "
     "global_auth_file, headers (a mapping or pairs added to every response), and the "
     "other mg_serve_http_opts fields by name."},
    {"send_ws", (PyCFunction) (void (*)(void)) Connection_send_ws,
     METH_FASTCALL | METH_KEYWORDS,
     "send_ws($self, data, op=None, *, fin=True)\n--\n\nQueue one WebSocket frame. A str is "
     "sent as a text frame (UTF-8), a bytes-like object as a binary one, a "
     "WebSocketMessage with its own opcode (an echo that copies nothing into Python), "
     "unless `op` (a WsOp: TEXT, BINARY, CONTINUE, PING, PONG) says otherwise. "
     "fin=False starts (or continues) a fragmented message: send its rest as "
     "WsOp.CONTINUE frames, the last with fin=True. A whole text or binary message is "
     "compressed when permessage-deflate is on. Raises ValueError for a control payload "
     "over 125 bytes, a fragmented control frame, a Close (use ws_close), a whole text "
     "message given as bytes that are not UTF-8, or a fragment out of order; WebSocketError when the "
     "connection is not an open WebSocket or its closing handshake has started; "
     "ConnectionError once it is closed."},
    {"ws_select_protocol", (PyCFunction) Connection_ws_select_protocol, METH_O,
     "ws_select_protocol($self, name, /)\n--\n\nIn on_ws_handshake_request: the subprotocol the "
     "101 answer names - one the client offered; None (or one it did not offer) names "
     "none. Without a call the 101 names the client's first offer."},
    {"ws_close", (PyCFunction) (void (*)(void)) Connection_ws_close,
     METH_VARARGS | METH_KEYWORDS,
     "ws_close($self, code=1000, reason=\"\")\n--\n\nStart the WebSocket closing handshake: "
     "send a Close with `code` (1000-1003, 1007-1014, 3000-4999; None for a Close "
     "without a code) and `reason` (at most 123 bytes of UTF-8), then wait (the "
     "ws_close_timeout limit, 5 s by default) for the peer's Close and close; the "
     "handler gets EV_WEBSOCKET_CONTROL_FRAME with the peer's Close, then EV_CLOSE. "
     "Nothing more is sent after it. A second call does nothing. ValueError for an "
     "invalid code or reason, WebSocketError when the connection is not a WebSocket."},
    {"set_limits", (PyCFunction) (void (*)(void)) Connection_set_limits,
     METH_VARARGS | METH_KEYWORDS,
     "set_limits($self, **limits)\n--\n\nChange the HTTP and WebSocket limits of an HTTP "
     "connection (mg_http_set_limits); keywords left out keep their value (see the "
     "`limits` property). On a listener they pass to the connections accepted after the "
     "call. HTTP: request_line (8192), header_section (32768), max_headers (100), "
     "field_line (8192), body (1048576) - bytes, inclusive. WebSocket: ws_max_message "
     "(bytes of one message after inflating; 1048576; larger -> Close 1009), "
     "ws_max_fragments (frames of one message; 1024; more -> 1009), ws_ping_interval "
     "(seconds without input before a Ping; 20.0; 0 off), ws_ping_timeout (seconds "
     "without input after that Ping before Close 1011 and closing; 20.0; 0 waits for "
     "ever), ws_close_timeout (seconds to "
     "wait for the peer's Close after ours; 5.0), ws_deflate (accept permessage-deflate "
     "in the upgrades that follow; True; a client chooses with connect_ws(deflate=)). "
     "Multipart: multipart_max_header (bytes of one part's header section; 8192; more "
     "-> 413), multipart_max_parts (1000; more -> 413). Timeouts in seconds, 0 or None "
     "off: header_timeout (a request head, whole; 30.0; 408), body_timeout (no byte of "
     "a body being read; 30.0; 408 or close), send_timeout (no output leaving while "
     "some is queued; 60.0; close), keep_alive_timeout (no next request; 75.0; quiet "
     "close), ws_handshake_timeout (client: no 101; 30.0). max_requests (per "
     "connection; 1000, 0 no limit; the last answer says Connection: close). "
     "ValueError when the connection does not speak HTTP."},
    {"set_timer", (PyCFunction) Connection_set_timer, METH_O,
     "set_timer($self, when, /)\n--\n\nArm the one-shot EV_TIMER at the absolute time `when` "
     "(mgio.time() scale; 0 disarms). Returns the previous value."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Connection_members[] = {
    {"user_data", T_OBJECT, offsetof(ConnectionObject, user_data), 0,
     "Anything you like to keep with the connection."},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ConnectionObject, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef Connection_getset[] = {
    {"flags", (getter) Connection_get_flags, (setter) Connection_set_flags,
     "The MG_F_* flags; only the user-changeable ones may be set.", NULL},
    {"recv_buf", (getter) Connection_get_recv_buf, NULL,
     "Received bytes not yet consumed (an Mbuf view; remove() what you have handled).",
     NULL},
    {"send_buf", (getter) Connection_get_send_buf, NULL, "Bytes queued for sending.", NULL},
    {"handler", (getter) Connection_get_handler, (setter) Connection_set_handler,
     "The callable that receives this connection's events: handler(conn, ev, data).",
     NULL},
    {"closed", (getter) Connection_get_closed, NULL, "True once EV_CLOSE was delivered.",
     NULL},
    {"remote_address", (getter) Connection_get_remote_address, NULL,
     "The peer's (host, port), or None.", NULL},
    {"local_address", (getter) Connection_get_local_address, NULL,
     "This end's (host, port), or None.", NULL},
    {"recv_limit", (getter) Connection_get_recv_limit, (setter) Connection_set_recv_limit,
     "Reading pauses while recv_buf holds this many bytes (back-pressure).", NULL},
    {"manager", (getter) Connection_get_manager, NULL, "The owning Manager.", NULL},
    {"is_websocket", (getter) Connection_get_is_websocket, NULL,
     "True while the connection is an open WebSocket (the handshake completed; it stays "
     "True during the closing handshake).",
     NULL},
    {"limits", (getter) Connection_get_limits, NULL,
     "The limits set_limits() works on, as a dict (a fresh copy; change them with "
     "set_limits).",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Connection_slots[] = {
    {Py_tp_doc, (void *) "A connection of an mgio.Manager; made by bind(), connect() or an "
                         "accepted client, never directly."},
    {Py_tp_dealloc, Connection_dealloc},
    {Py_tp_traverse, Connection_traverse},
    {Py_tp_clear, Connection_clear},
    {Py_tp_repr, Connection_repr},
    {Py_tp_methods, Connection_methods},
    {Py_tp_members, Connection_members},
    {Py_tp_getset, Connection_getset},
    {0, NULL},
};

static PyType_Spec Connection_spec = {
    .name = "mgio.Connection",
    .basicsize = sizeof(ConnectionObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = Connection_slots,
};

int mgio_connection_type_add(PyObject *module, mgio_state *st) {
  st->connection_type =
      (PyTypeObject *) PyType_FromModuleAndSpec(module, &Connection_spec, NULL);
  if (st->connection_type == NULL) return -1;
  return PyModule_AddType(module, st->connection_type);
}
