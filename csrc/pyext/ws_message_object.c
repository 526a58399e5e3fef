/*
 * mgio.WebSocketMessage: a WebSocket message or control frame as a handler sees it (the
 * C struct websocket_message of an MG_EV_WEBSOCKET_FRAME / CONTROL_FRAME event).
 *
 * Lifetime (DESIGN "Lifetimes"): the C payload points into the connection's buffers (or
 * the inflated copy of a compressed message) and is valid only while the handler runs.
 * Nothing is copied up front ("live"): `data` makes a bytes object on first access (one
 * copy, then cached); `text` decodes straight from the payload; `len()`, `opcode`, `fin`
 * and `Connection.send_ws(msg)` (an echo) read it in place without any copy. When the
 * handler returns and the object escaped (another holder: a list, a queue, a closure),
 * it is detached: the payload is copied into a bytes object (the one `data` already made,
 * if any - never a second copy) and the message reads from there from then on. A handler
 * that edits conn.recv_buf while it holds a live message triggers the same copy first.
 *
 * Measured (an echo server handler over loopback, deflate off, time spent inside the
 * handler per message; the whole poll round trip per message in brackets):
 *              send_ws(msg)   send_ws(msg.data)   msg.data + send_ws(msg) ("eager")
 *   64 B         0.26 us        0.53 us             0.53 us     [~2.2 us]
 *   64 KiB       6.7 us         9.2 us              7.8 us      [~60 us]
 *   1 MiB       59 us         123 us              119 us        [~830 us]
 * So the payload is copied lazily: a handler that echoes in place, counts, or drops
 * messages never pays for the bytes object, and an eager copy would cost every message
 * what the `data` column shows.
 */
#include "pyext.h"

typedef struct {
  PyObject_HEAD
  mgio_state *st;
  const unsigned char *p; /* the live payload, then the bytes of `data`; NULL: invalid */
  size_t size;
  unsigned char flags; /* FIN | opcode (| RSV bits of a fragment's first byte) */
  char live;           /* p points at the event's payload */
  PyObject *data;      /* bytes, made on first access or at detach */
  PyObject *text;      /* str, made on first access */
} WsMessageObject;

static const unsigned char empty_payload[1] = {0};

PyObject *mgio_ws_message_new(mgio_state *st, const struct websocket_message *wm) {
  WsMessageObject *m =
      (WsMessageObject *) st->ws_message_type->tp_alloc(st->ws_message_type, 0);
  if (m == NULL) return NULL;
  m->st = st;
  m->p = wm->data != NULL ? wm->data : empty_payload;
  m->size = wm->data != NULL ? wm->size : 0;
  m->flags = wm->flags;
  m->live = 1;
  return (PyObject *) m;
}

int mgio_ws_message_check(mgio_state *st, PyObject *obj) {
  return Py_IS_TYPE(obj, st->ws_message_type);
}

int mgio_ws_message_detach(PyObject *obj) {
  WsMessageObject *m = (WsMessageObject *) obj;
  if (!m->live) return 0;
  m->live = 0;
  if (m->data == NULL) {
    m->data = PyBytes_FromStringAndSize((const char *) m->p, (Py_ssize_t) m->size);
    if (m->data == NULL) {
      m->p = NULL; /* invalidated: its attributes raise from now on */
      return -1;
    }
  }
  m->p = (const unsigned char *) PyBytes_AS_STRING(m->data);
  return 0;
}

int mgio_ws_message_release(PyObject *obj) {
  WsMessageObject *m = (WsMessageObject *) obj;
  if (!m->live) return 0;
  if (Py_REFCNT(obj) > 1) return mgio_ws_message_detach(obj);
  m->live = 0; /* the last reference goes away with the caller's */
  m->p = NULL;
  return 0;
}

int mgio_ws_message_payload(PyObject *obj, const void **p, size_t *n, int *flags) {
  WsMessageObject *m = (WsMessageObject *) obj;
  if (m->p == NULL) {
    PyErr_SetString(PyExc_RuntimeError, "this WebSocketMessage is no longer available");
    return -1;
  }
  *p = m->p;
  *n = m->size;
  *flags = m->flags;
  return 0;
}

/* ---- attributes ------------------------------------------------------------------ */

static int usable(WsMessageObject *m) {
  if (m->p != NULL) return 1;
  PyErr_SetString(PyExc_RuntimeError,
                  "this WebSocketMessage is no longer available (copying it out of the "
                  "connection's buffer failed)");
  return 0;
}

static int opcode_of(WsMessageObject *m) {
  return m->flags & 0x0f;
}

static PyObject *WsMessage_get_data(WsMessageObject *m, void *closure) {
  (void) closure;
  if (!usable(m)) return NULL;
  if (m->data == NULL) {
    m->data = PyBytes_FromStringAndSize((const char *) m->p, (Py_ssize_t) m->size);
    if (m->data == NULL) return NULL;
  }
  return Py_NewRef(m->data);
}

static PyObject *WsMessage_get_text(WsMessageObject *m, void *closure) {
  (void) closure;
  if (!usable(m)) return NULL;
  if (m->text == NULL) {
    m->text = PyUnicode_DecodeUTF8((const char *) m->p, (Py_ssize_t) m->size, "strict");
    if (m->text == NULL) return NULL;
  }
  return Py_NewRef(m->text);
}

/* mgio.WsOp members by opcode (a tuple of 16; a reserved opcode is its plain int), made
 * once per module. Borrowed reference. */
static PyObject *ws_ops(mgio_state *st) {
  if (st->ws_ops != NULL) return st->ws_ops;
  PyObject *mod = PyImport_ImportModule("mgio.events");
  PyObject *cls = mod != NULL ? PyObject_GetAttrString(mod, "WsOp") : NULL;
  Py_XDECREF(mod);
  if (cls == NULL) return NULL;
  PyObject *ops = PyTuple_New(16);
  for (int i = 0; ops != NULL && i < 16; i++) {
    PyObject *v = PyObject_CallFunction(cls, "i", i);
    if (v == NULL && PyErr_ExceptionMatches(PyExc_ValueError)) {
      PyErr_Clear();
      v = PyLong_FromLong(i);
    }
    if (v == NULL) Py_CLEAR(ops);
    else PyTuple_SET_ITEM(ops, i, v);
  }
  Py_DECREF(cls);
  st->ws_ops = ops;
  return ops;
}

PyObject *mgio_ws_op(mgio_state *st, int op) {
  PyObject *ops = ws_ops(st);
  if (ops == NULL) return NULL;
  return Py_NewRef(PyTuple_GET_ITEM(ops, op & 0x0f));
}

static PyObject *WsMessage_get_opcode(WsMessageObject *m, void *closure) {
  (void) closure;
  return mgio_ws_op(m->st, opcode_of(m));
}

static PyObject *WsMessage_get_fin(WsMessageObject *m, void *closure) {
  (void) closure;
  return PyBool_FromLong((m->flags & 0x80) != 0);
}

static PyObject *WsMessage_get_is_text(WsMessageObject *m, void *closure) {
  (void) closure;
  return PyBool_FromLong(opcode_of(m) == WEBSOCKET_OP_TEXT);
}

static PyObject *WsMessage_get_is_binary(WsMessageObject *m, void *closure) {
  (void) closure;
  return PyBool_FromLong(opcode_of(m) == WEBSOCKET_OP_BINARY);
}

static PyObject *WsMessage_get_is_control(WsMessageObject *m, void *closure) {
  (void) closure;
  return PyBool_FromLong((opcode_of(m) & 8) != 0);
}

static PyObject *WsMessage_get_close_code(WsMessageObject *m, void *closure) {
  (void) closure;
  if (opcode_of(m) != WEBSOCKET_OP_CLOSE) Py_RETURN_NONE;
  if (!usable(m)) return NULL;
  if (m->size < 2) return PyLong_FromLong(1005); /* "no status received" (RFC 6455 7.1.5) */
  return PyLong_FromLong((m->p[0] << 8) | m->p[1]);
}

static PyObject *WsMessage_get_close_reason(WsMessageObject *m, void *closure) {
  (void) closure;
  if (opcode_of(m) != WEBSOCKET_OP_CLOSE) Py_RETURN_NONE;
  if (!usable(m)) return NULL;
  if (m->size <= 2) return PyUnicode_FromStringAndSize("", 0);
  /* the C layer has checked it is UTF-8 (1007 otherwise) */
  return PyUnicode_DecodeUTF8((const char *) m->p + 2, (Py_ssize_t) (m->size - 2), "replace");
}

static Py_ssize_t WsMessage_len(WsMessageObject *m) {
  return (Py_ssize_t) m->size;
}

static PyObject *WsMessage_bytes(WsMessageObject *m, PyObject *unused) {
  (void) unused;
  return WsMessage_get_data(m, NULL);
}

static PyObject *WsMessage_repr(WsMessageObject *m) {
  static const char *const names[16] = {"CONTINUE", "TEXT", "BINARY", "3", "4", "5",
                                        "6",        "7",    "CLOSE",  "PING", "PONG",
                                        "11",       "12",   "13",     "14",   "15"};
  const char *name = names[opcode_of(m)];
  const char *fin = (m->flags & 0x80) ? "" : " fin=False";
  const char *state = m->p == NULL ? " (released)" : m->live ? "" : " (copy)";
  if (opcode_of(m) == WEBSOCKET_OP_CLOSE && m->p != NULL) {
    PyObject *code = WsMessage_get_close_code(m, NULL);
    PyObject *reason = code != NULL ? WsMessage_get_close_reason(m, NULL) : NULL;
    PyObject *r = NULL;
    if (reason != NULL)
      r = PyUnicode_FromFormat("<mgio.WebSocketMessage CLOSE code=%S reason=%R%s>", code,
                               reason, state);
    Py_XDECREF(code);
    Py_XDECREF(reason);
    return r;
  }
  return PyUnicode_FromFormat("<mgio.WebSocketMessage %s %zu bytes%s%s>", name, m->size, fin,
                              state);
}

/* ---- type ------------------------------------------------------------------------ */

/* Not a GC type: it refers only to bytes and str objects. */
static void WsMessage_dealloc(WsMessageObject *m) {
  PyTypeObject *type = Py_TYPE(m);
  Py_CLEAR(m->data);
  Py_CLEAR(m->text);
  type->tp_free(m);
  Py_DECREF(type);
}

static PyMethodDef WsMessage_methods[] = {
    {"__bytes__", (PyCFunction) WsMessage_bytes, METH_NOARGS,
     "bytes(msg) is msg.data: the payload."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef WsMessage_getset[] = {
    {"data", (getter) WsMessage_get_data, NULL,
     "The payload as bytes (for text too: its UTF-8 bytes). Made on first access; a "
     "message kept after the handler returns is copied then.",
     NULL},
    {"text", (getter) WsMessage_get_text, NULL,
     "The payload decoded as UTF-8: a text message always decodes (mgio checked it); "
     "for other payloads UnicodeDecodeError when they are not UTF-8.",
     NULL},
    {"opcode", (getter) WsMessage_get_opcode, NULL,
     "The opcode: an mgio.WsOp (an int): TEXT or BINARY for a message (CONTINUE for a "
     "later fragment with Flag.WEBSOCKET_NO_DEFRAG), CLOSE, PING or PONG for a control "
     "frame.",
     NULL},
    {"fin", (getter) WsMessage_get_fin, NULL,
     "True for a whole message or a final fragment (always True unless "
     "Flag.WEBSOCKET_NO_DEFRAG is set).",
     NULL},
    {"is_text", (getter) WsMessage_get_is_text, NULL, "True for a text message.", NULL},
    {"is_binary", (getter) WsMessage_get_is_binary, NULL, "True for a binary message.", NULL},
    {"is_control", (getter) WsMessage_get_is_control, NULL,
     "True for a control frame (Close, Ping, Pong).", NULL},
    {"close_code", (getter) WsMessage_get_close_code, NULL,
     "For a Close frame: its status code (1005 when it carried none); None otherwise.",
     NULL},
    {"close_reason", (getter) WsMessage_get_close_reason, NULL,
     "For a Close frame: its reason (str, may be empty); None otherwise.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot WsMessage_slots[] = {
    {Py_tp_doc, (void *) "A WebSocket message or control frame, as given to a handler for "
                         "EV_WEBSOCKET_FRAME and EV_WEBSOCKET_CONTROL_FRAME.\n\n"
                         "len(msg) is the payload length. Attributes are made on first "
                         "access; a message kept after the handler returns is copied out "
                         "of the connection's buffer at that moment, so it stays valid. "
                         "conn.send_ws(msg) sends the payload again with the same opcode "
                         "without copying it into Python."},
    {Py_tp_dealloc, WsMessage_dealloc},
    {Py_tp_repr, WsMessage_repr},
    {Py_tp_methods, WsMessage_methods},
    {Py_tp_getset, WsMessage_getset},
    {Py_sq_length, WsMessage_len},
    {0, NULL},
};

static PyType_Spec WsMessage_spec = {
    .name = "mgio.WebSocketMessage",
    .basicsize = sizeof(WsMessageObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = WsMessage_slots,
};

int mgio_ws_message_type_add(PyObject *module, mgio_state *st) {
  st->ws_message_type =
      (PyTypeObject *) PyType_FromModuleAndSpec(module, &WsMessage_spec, NULL);
  if (st->ws_message_type == NULL) return -1;
  return PyModule_AddType(module, st->ws_message_type);
}
