/*
 * mgio.Connection: one C connection, as long as it lives, then a closed husk that still
 * answers `closed`, `user_data` and its last addresses. Methods that need the socket
 * raise ConnectionError once it is closed.
 */
#include "pyext.h"

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
static unsigned int wanted_events(PyObject *handler) {
  if (handler == NULL || handler == Py_None) return 0;
  PyObject *mask = PyObject_GetAttrString(handler, "_mgio_events");
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

ConnectionObject *mgio_connection_attach(ManagerObject *m, struct mg_connection *nc,
                                         PyObject *handler) {
  PyTypeObject *type = m->state->connection_type;
  ConnectionObject *co = (ConnectionObject *) type->tp_alloc(type, 0);
  if (co == NULL) return NULL;
  co->nc = nc;
  co->manager = (ManagerObject *) Py_NewRef(m);
  co->handler = Py_NewRef(handler != NULL ? handler : Py_None);
  co->wanted = wanted_events(co->handler);
  co->user_data = Py_NewRef(Py_None);
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
  co->wanted = wanted_events(value);
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
  Py_VISIT(co->user_data);
  return 0;
}

static int Connection_clear(ConnectionObject *co) {
  Py_CLEAR(co->handler);
  Py_CLEAR(co->user_data);
  return 0; /* the manager stays: it is needed to close the connection */
}

static void Connection_dealloc(ConnectionObject *co) {
  PyTypeObject *type = Py_TYPE(co);
  PyObject_GC_UnTrack(co);
  if (co->weakrefs != NULL) PyObject_ClearWeakRefs((PyObject *) co);
  mbuf_free(&co->dead_recv);
  mbuf_free(&co->dead_send);
  Connection_clear(co);
  Py_CLEAR(co->manager);
  type->tp_free(co);
  Py_DECREF(type);
}

static PyMethodDef Connection_methods[] = {
    {"send", (PyCFunction) Connection_send, METH_O,
     "send(data, /)\n--\n\nQueue bytes for sending; they leave during the next poll."},
    {"close", (PyCFunction) (void (*)(void)) Connection_close, METH_VARARGS | METH_KEYWORDS,
     "close(*, immediately=False)\n--\n\nClose after the queued output is sent (or at once "
     "with immediately=True). The handler still gets EV_CLOSE, last."},
    {"set_timer", (PyCFunction) Connection_set_timer, METH_O,
     "set_timer(when, /)\n--\n\nArm the one-shot EV_TIMER at the absolute time `when` "
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
