/*
 * mgio.Manager: a struct mg_mgr driven from Python. poll() releases the GIL only while
 * the backend waits; every handler runs on the polling thread with the GIL held.
 *
 * Errors: the first exception a handler raises is kept and its connection is closed (its
 * handler still gets EV_CLOSE, last); the iteration goes on for the other connections,
 * whose events would otherwise be lost (a skipped EV_RECV leaves its bytes unanswered in
 * recv_buf, a skipped EV_CLOSE leaks the handler's bookkeeping), and poll() re-raises the
 * exception when it ends. A later exception in the same poll goes to sys.unraisablehook.
 */
#include "pyext.h"

/* ---- event dispatch ------------------------------------------------------------- */

static ManagerObject *manager_of(struct mg_connection *nc) {
  return (ManagerObject *) nc->mgr->user_data;
}

/* The current exception, normalized, with its traceback attached; the error is cleared. */
static PyObject *fetch_exception(void) {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  PyErr_NormalizeException(&type, &value, &tb);
  if (tb != NULL && value != NULL) PyException_SetTraceback(value, tb);
  Py_XDECREF(type);
  Py_XDECREF(tb);
  return value;
}

/* Hands `e` (a stolen reference) to sys.unraisablehook, naming `where`. */
static void report_unraisable(PyObject *e, PyObject *where) {
  PyErr_SetObject((PyObject *) Py_TYPE(e), e);
  Py_DECREF(e);
  PyErr_WriteUnraisable(where);
}

/* Keeps the first exception of this poll for poll() to raise, and closes the connection
 * whose handler raised. Later ones are reported as unraisable, except that Ctrl-C or
 * SystemExit (not an Exception) displaces an ordinary error: it must not be swallowed. */
static void handler_failed(ManagerObject *m, struct mg_connection *nc) {
  PyObject *e = fetch_exception();
  PyObject *where = nc != NULL ? (PyObject *) nc->user_data : NULL;
  if (e == NULL) {
    /* nothing was raised after all */
  } else if (m->error == NULL) {
    m->error = e;
  } else if (!PyObject_TypeCheck(e, (PyTypeObject *) PyExc_Exception) &&
             PyObject_TypeCheck(m->error, (PyTypeObject *) PyExc_Exception)) {
    report_unraisable(m->error, NULL); /* raised elsewhere: `where` is not its place */
    m->error = e;
  } else {
    report_unraisable(e, where);
  }
  if (nc != NULL) nc->flags |= MG_F_CLOSE_IMMEDIATELY;
}

/* The Python value of an event's ev_data. */
static PyObject *event_data(int ev, void *ev_data) {
  switch (ev) {
    case MG_EV_POLL:
      return PyLong_FromLongLong((long long) *(time_t *) ev_data);
    case MG_EV_ACCEPT:
      return mgio_address_tuple((union socket_address *) ev_data);
    case MG_EV_CONNECT:
    case MG_EV_RECV:
    case MG_EV_SEND:
      return PyLong_FromLong(*(int *) ev_data);
    case MG_EV_TIMER:
      return PyFloat_FromDouble(*(double *) ev_data);
    default:
      Py_RETURN_NONE;
  }
}

/* Restores `exc` (a normalized exception or NULL) as the current one. */
static void restore_exception(PyObject *exc) {
  if (exc != NULL) PyErr_SetObject((PyObject *) Py_TYPE(exc), exc);
  Py_XDECREF(exc);
}

/* What an event's data is shown as. */
enum { DATA_PLAIN, DATA_HTTP, DATA_WS, DATA_PART };

static int data_kind(int ev) {
  switch (ev) {
    case MG_EV_HTTP_REQUEST:
    case MG_EV_HTTP_REPLY:
    case MG_EV_HTTP_CHUNK:
    case MG_EV_WEBSOCKET_HANDSHAKE_REQUEST:
    case MG_EV_WEBSOCKET_HANDSHAKE_DONE:
    case MG_EV_HTTP_MULTIPART_REQUEST:
      return DATA_HTTP;
    case MG_EV_HTTP_PART_BEGIN:
    case MG_EV_HTTP_PART_DATA:
    case MG_EV_HTTP_PART_END:
    case MG_EV_HTTP_MULTIPART_REQUEST_END:
      return DATA_PART;
    case MG_EV_WEBSOCKET_FRAME:
    case MG_EV_WEBSOCKET_CONTROL_FRAME:
      return DATA_WS;
    default:
      return DATA_PLAIN;
  }
}

/* Calls handler(conn, ev, data) for `co`. HTTP and WebSocket-handshake events get an
 * HttpMessage, WebSocket frames a WebSocketMessage; either is detached (copied out of
 * the connection's buffers) when it outlives the call. A server handler that raises for
 * EV_HTTP_REQUEST, EV_HTTP_CHUNK, EV_WEBSOCKET_HANDSHAKE_REQUEST or a multipart event
 * (EV_HTTP_MULTIPART_REQUEST .. EV_HTTP_MULTIPART_REQUEST_END) before queueing
 * anything leaves the connection answering 500 and closing (rather than closing
 * silently); one that raises on an open WebSocket closes it with Close 1011. */
static void call_handler(ManagerObject *m, ConnectionObject *co, PyObject *handler,
                         PyObject *direct, int ev, void *ev_data) {
  struct mg_connection *nc = co->nc;
  int kind = data_kind(ev);
  PyObject *data = kind == DATA_HTTP
                       ? mgio_http_message_new(m->state, (struct http_message *) ev_data)
                   : kind == DATA_WS
                       ? mgio_ws_message_new(m->state, (struct websocket_message *) ev_data)
                   : kind == DATA_PART
                       ? mgio_multipart_part_new(m->state, ev,
                                                 (struct mg_http_multipart_part *) ev_data)
                       : event_data(ev, ev_data);
  PyObject *evo = data != NULL ? PyLong_FromLong(ev) : NULL;
  PyObject *r = NULL;
  size_t queued = nc->send_mbuf.len;
  unsigned long flags = nc->flags;
  if (evo != NULL) {
    PyObject *args[3] = {(PyObject *) co, evo, data};
    PyObject *outer = co->live_msg;
    if (kind != DATA_PLAIN) co->live_msg = data;
    /* An mgio.Handler's on_* function is called as method(handler, conn, data) without
     * going through Handler.__call__ (see _mgio_direct in handler.py). */
    PyObject *method = direct != NULL && ev < PyTuple_GET_SIZE(direct)
                           ? PyTuple_GET_ITEM(direct, ev)
                           : Py_None;
    PyObject *callee = method != Py_None ? method : handler;
    if (method != Py_None) {
      args[0] = handler;
      args[1] = (PyObject *) co;
    }
    Py_INCREF(co); /* the handler may drop every other reference (conn.close(), ...) */
    Py_INCREF(handler); /* ... and replace itself (and its class's table) */
    Py_INCREF(callee);
    r = PyObject_Vectorcall(callee, args, 3, NULL);
    Py_DECREF(callee);
    Py_DECREF(handler);
    co->live_msg = outer;
    Py_DECREF(co);
  }
  Py_XDECREF(evo);
  if (kind != DATA_PLAIN && data != NULL) {
    int (*release)(PyObject *) =
        kind == DATA_HTTP  ? mgio_http_message_release
        : kind == DATA_WS ? mgio_ws_message_release
                          : mgio_multipart_part_release;
    if (r == NULL) {
      PyObject *exc = fetch_exception();
      if (release(data) < 0) PyErr_Clear();
      restore_exception(exc);
    } else if (release(data) < 0) {
      Py_CLEAR(r);
    }
  }
  Py_XDECREF(data);
  if (r != NULL) {
    Py_DECREF(r);
    return;
  }
  const unsigned long closing = MG_F_SEND_AND_CLOSE | MG_F_CLOSE_IMMEDIATELY;
  /* a request (complete, or its body arriving) that nothing was queued for yet */
  int answer = (ev == MG_EV_HTTP_REQUEST || ev == MG_EV_WEBSOCKET_HANDSHAKE_REQUEST ||
                (ev == MG_EV_HTTP_CHUNK && ((struct http_message *) ev_data)->resp_code == 0) ||
                (ev >= MG_EV_HTTP_MULTIPART_REQUEST && ev <= MG_EV_HTTP_MULTIPART_REQUEST_END)) &&
               nc->send_mbuf.len == queued && !(flags & closing) && !(nc->flags & closing);
  int ws_open = (nc->flags & MG_F_IS_WEBSOCKET) && !(flags & closing) &&
                !(nc->flags & closing);
  handler_failed(m, nc);
  if (answer) {
    nc->flags &= ~(unsigned long) MG_F_CLOSE_IMMEDIATELY;
    mg_http_send_error(nc, 500, NULL); /* sets MG_F_SEND_AND_CLOSE */
    nc->flags |= MG_F_SEND_AND_CLOSE;
  } else if (ws_open) {
    nc->flags &= ~(unsigned long) MG_F_CLOSE_IMMEDIATELY;
    mg_websocket_close(nc, 1011, "handler error"); /* nothing when a Close went out */
    nc->flags |= MG_F_SEND_AND_CLOSE;
  }
}

/* A WebSocket upgrade to a handler that takes no WebSocket event is refused (404), not
 * accepted for nobody to read. */
static void refuse_upgrade(struct mg_connection *nc, unsigned long wanted) {
  if (!(wanted & MGIO_WEBSOCKET_EVENTS)) mg_http_send_error(nc, 404, "No WebSocket here");
}

void mgio_dispatch(struct mg_connection *nc, int ev, void *ev_data) {
  ManagerObject *m = manager_of(nc);
  ConnectionObject *co = (ConnectionObject *) nc->user_data;
  if (ev == MG_EV_ACCEPT) {
    /* A new connection inherited its listener's user_data: give it its own object, with
     * the listener's handler and endpoints. */
    PyObject *handler = co != NULL ? co->handler : NULL;
    PyObject *endpoints = co != NULL ? co->endpoints : NULL;
    co = mgio_connection_attach(m, nc, handler, (ConnectionObject *) nc->user_data);
    if (co == NULL) {
      nc->user_data = NULL; /* borrowed from the listener: its EV_CLOSE must not detach it */
      handler_failed(m, nc);
      return;
    }
    co->endpoints = Py_XNewRef(endpoints);
    mgio_update_multipart_mode(co);
    if (nc->listener != NULL && nc->listener->user_data != NULL) {
      /* the C layer gave it the listener's limits: remember them for limits/set_limits */
      ConnectionObject *lco = (ConnectionObject *) nc->listener->user_data;
      co->limits = lco->limits;
      co->has_limits = lco->has_limits;
    }
  }
  if (co == NULL) return;
  if (ev == MG_EV_POLL && !m->poll_events) return;
  if (ev == MG_EV_HTTP_REQUEST)
    co->head_request = (char) mgio_http_message_is_head((struct http_message *) ev_data);
  if (!m->quiet && co->handler != NULL && (co->wanted & mgio_event_bit(ev)))
    call_handler(m, co, co->handler, co->direct, ev, ev_data);
  else if (!m->quiet && ev == MG_EV_WEBSOCKET_HANDSHAKE_REQUEST)
    refuse_upgrade(nc, co->wanted);
  if (ev == MG_EV_HTTP_MULTIPART_REQUEST_END) mgio_multipart_stream_end(ev_data);
  if (ev == MG_EV_CLOSE) mgio_connection_detach(co);
}

/* The direct table of an endpoint entry (handler, events mask, table or None). */
static PyObject *endpoint_direct(PyObject *entry) {
  PyObject *direct = PyTuple_GET_ITEM(entry, 2);
  return direct != Py_None ? direct : NULL;
}

void mgio_endpoint_dispatch(struct mg_connection *nc, int ev, void *ev_data) {
  ManagerObject *m = manager_of(nc);
  ConnectionObject *co = (ConnectionObject *) nc->user_data;
  PyObject *entry = (PyObject *) mg_http_endpoint_user_data(nc);
  if (co == NULL || entry == NULL) return;
  if (ev == MG_EV_HTTP_REQUEST)
    co->head_request = (char) mgio_http_message_is_head((struct http_message *) ev_data);
  unsigned long wanted = PyLong_AsUnsignedLong(PyTuple_GET_ITEM(entry, 1));
  if (!m->quiet && (wanted & mgio_event_bit(ev)))
    call_handler(m, co, PyTuple_GET_ITEM(entry, 0), endpoint_direct(entry), ev, ev_data);
  else if (!m->quiet && ev == MG_EV_WEBSOCKET_HANDSHAKE_REQUEST)
    refuse_upgrade(nc, wanted);
  if (ev == MG_EV_HTTP_MULTIPART_REQUEST_END) mgio_multipart_stream_end(ev_data);
}

/* ---- GIL release around the wait ------------------------------------------------- */

static void release_gil(struct mg_mgr *mgr) {
  ((ManagerObject *) mgr->user_data)->waiting = PyEval_SaveThread();
}

static void take_gil(struct mg_mgr *mgr) {
  ManagerObject *m = (ManagerObject *) mgr->user_data;
  PyEval_RestoreThread(m->waiting);
  m->waiting = NULL;
  /* A signal that cut the wait short (Ctrl-C) is raised here, before any handler runs:
   * left pending, it would surface inside the next handler and close that connection.
   * Not while the collector frees the manager: the exception would be dropped there. */
  if (!m->quiet && PyErr_CheckSignals() < 0) handler_failed(m, NULL);
}

/* ---- construction and lifetime -------------------------------------------------- */

static PyObject *Manager_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"poll_events", NULL};
  int poll_events = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|$p:Manager", kwlist, &poll_events))
    return NULL;
  ManagerObject *m = (ManagerObject *) type->tp_alloc(type, 0);
  if (m == NULL) return NULL;
  m->state = (mgio_state *) PyType_GetModuleState(type);
  m->broadcasts = PyList_New(0);
  if (m->state == NULL || m->broadcasts == NULL) {
    Py_DECREF(m);
    return NULL;
  }
  m->poll_events = (char) poll_events;
  mg_mgr_init(&m->mgr, m);
  m->mgr.before_wait = release_gil;
  m->mgr.after_wait = take_gil;
  m->open = 1;
  if (m->mgr.ctl[1] == INVALID_SOCKET) {
    Py_DECREF(m);
    return PyErr_SetFromErrno(PyExc_OSError);
  }
  return (PyObject *) m;
}

/* Frees the C manager: every connection gets EV_CLOSE (handlers run unless
 * `quietly`) and is detached from its Python object. */
static void free_manager(ManagerObject *m, int quietly) {
  if (!m->open) return;
  m->open = 0;
  if (quietly) m->quiet = 1;
  m->polling++;
  mg_mgr_free(&m->mgr);
  m->polling--;
}

static int Manager_traverse(ManagerObject *m, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(m));
  Py_VISIT(m->error);
  Py_VISIT(m->broadcasts);
  if (m->open) {
    for (struct mg_connection *c = m->mgr.active_connections; c != NULL; c = c->next)
      Py_VISIT((PyObject *) c->user_data);
  }
  return 0;
}

static int Manager_clear(ManagerObject *m) {
  free_manager(m, 1);
  Py_CLEAR(m->error);
  Py_CLEAR(m->broadcasts);
  return 0;
}

static void Manager_dealloc(ManagerObject *m) {
  PyTypeObject *type = Py_TYPE(m);
  PyObject_GC_UnTrack(m);
  if (m->weakrefs != NULL) PyObject_ClearWeakRefs((PyObject *) m);
  Manager_clear(m);
  type->tp_free(m);
  Py_DECREF(type);
}

/* ---- methods -------------------------------------------------------------------- */

static int check_open(ManagerObject *m) {
  if (!m->open) {
    PyErr_SetString(PyExc_RuntimeError, "the manager is closed");
    return -1;
  }
  return 0;
}

void mgio_manager_touch(ManagerObject *m) {
  if (!m->watched || !m->open || m->polling || m->woken) return;
  m->woken = 1; /* one queued wakeup is enough until the next poll reads it */
  mg_mgr_wakeup(&m->mgr);
}

/* The Connection object of a connection just made from Python (it owns the new
 * reference); on failure the connection is closed. */
static PyObject *adopt(ManagerObject *m, struct mg_connection *nc, PyObject *handler) {
  mgio_manager_touch(m); /* the backend learns of it at the next poll */
  ConnectionObject *co = mgio_connection_attach(m, nc, handler, NULL);
  if (co == NULL) {
    nc->flags |= MG_F_CLOSE_IMMEDIATELY;
    return NULL;
  }
  return Py_NewRef(co);
}

static int check_handler(PyObject *handler) {
  if (handler != Py_None && !PyCallable_Check(handler)) {
    PyErr_Format(PyExc_TypeError, "handler must be callable or None");
    return -1;
  }
  return 0;
}

/* The exception for a failed mg_bind / mg_connect*: ValueError for an argument the
 * library could not parse or does not support, else OSError. */
static PyObject *connect_error(const char *err, const char *address) {
  int bad_arg = err != NULL && (strstr(err, "parse") != NULL || strstr(err, "scheme") != NULL ||
                                strstr(err, "ssl") != NULL || strstr(err, "invalid") != NULL);
  return PyErr_Format(bad_arg ? PyExc_ValueError : PyExc_OSError, "%s: %s",
                      err != NULL ? err : "failed", address);
}

/* Makes a listener or an outbound connection and its Connection object. */
static PyObject *make_connection(ManagerObject *m, PyObject *args, PyObject *kwargs,
                                 int listen) {
  static char *bind_kw[] = {"address", "handler", "http", "reuse_port", NULL};
  static char *connect_kw[] = {"address", "handler", "http", NULL};
  const char *address;
  PyObject *handler = Py_None;
  int http = 0, reuse_port = 0;
  if (!(listen ? PyArg_ParseTupleAndKeywords(args, kwargs, "s|Op$p:bind", bind_kw, &address,
                                             &handler, &http, &reuse_port)
               : PyArg_ParseTupleAndKeywords(args, kwargs, "s|Op:connect", connect_kw,
                                             &address, &handler, &http)) ||
      check_open(m) < 0 || check_handler(handler) < 0)
    return NULL;
  const char *err = NULL;
  struct mg_connection *nc;
  if (listen) {
    struct mg_bind_opts o = {.error_string = &err,
                             .flags = reuse_port ? MG_F_REUSE_PORT : 0};
    nc = mg_bind_opt(&m->mgr, address, mgio_dispatch, o);
  } else {
    struct mg_connect_opts o = {.error_string = &err};
    nc = mg_connect_opt(&m->mgr, address, mgio_dispatch, o);
  }
  if (nc == NULL) return connect_error(err, address);
  if (http && (nc->flags & MG_F_UDP)) {
    nc->flags |= MG_F_CLOSE_IMMEDIATELY;
    mgio_manager_touch(m);
    return PyErr_Format(PyExc_ValueError, "HTTP needs a TCP address, not %s", address);
  }
  if (http) mg_set_protocol_http_websocket(nc);
  PyObject *conn = adopt(m, nc, handler);
  /* An HTTP listener's endpoint list exists from the start, so that every connection it
   * accepts shares it (and keeps alive the handlers its requests may be routed to). */
  if (conn != NULL && http && listen &&
      (((ConnectionObject *) conn)->endpoints = PyList_New(0)) == NULL)
    Py_CLEAR(conn);
  return conn;
}

static PyObject *Manager_bind(ManagerObject *m, PyObject *args, PyObject *kwargs) {
  return make_connection(m, args, kwargs, 1);
}

static PyObject *Manager_connect(ManagerObject *m, PyObject *args, PyObject *kwargs) {
  return make_connection(m, args, kwargs, 0);
}

static PyObject *Manager_connect_http(ManagerObject *m, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"url", "handler", "method", "headers", "body", NULL};
  const char *url, *method = "GET";
  PyObject *handler = Py_None, *headers = Py_None, *body = Py_None, *method_obj = NULL;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|OUOO:connect_http", kwlist, &url,
                                   &handler, &method_obj, &headers, &body) ||
      check_open(m) < 0 || check_handler(handler) < 0)
    return NULL;
  if (method_obj != NULL) {
    Py_ssize_t n;
    method = PyUnicode_AsUTF8AndSize(method_obj, &n);
    if (method == NULL) return NULL;
    if (!mgio_is_token(method, (size_t) n) || strlen(method) != (size_t) n)
      return PyErr_Format(PyExc_ValueError, "invalid method %R (it must be a token)",
                          method_obj);
  }
  struct mbuf hb;
  mbuf_init(&hb, 0);
  mgio_body b;
  int has_ctype = 0;
  if (mgio_format_headers(headers, &hb, MGIO_HDR_REQUEST, &has_ctype) < 0) {
    mbuf_free(&hb);
    return NULL;
  }
  if (mgio_body_get(body, &b) < 0) {
    mbuf_free(&hb);
    return NULL;
  }
  PyObject *result = NULL;
  if ((b.is_text && b.n > 0 && !has_ctype &&
       mbuf_append(&hb, MGIO_TEXT_CTYPE, sizeof(MGIO_TEXT_CTYPE) - 1) !=
           sizeof(MGIO_TEXT_CTYPE) - 1) ||
      mbuf_append(&hb, "", 1) != 1) {
    PyErr_NoMemory();
    goto done;
  }
  const char *err = NULL;
  struct mg_connect_opts o = {.error_string = &err};
  struct mg_connection *nc =
      mg_connect_http_method(&m->mgr, mgio_dispatch, o, method, url,
                             hb.len > 1 ? hb.buf : NULL, b.p, b.n);
  if (nc == NULL)
    connect_error(err, url);
  else
    result = adopt(m, nc, handler);
done:
  mgio_body_release(&b);
  mbuf_free(&hb);
  return result;
}

/* The protocol= argument of connect_ws: None, a str (one token, or a comma list of
 * them) or an iterable of str tokens, as "a, b" in *out (NUL-terminated; empty for
 * None). 0, or -1 with an exception (out freed). */
static int ws_protocols(PyObject *protocol, struct mbuf *out) {
  mbuf_init(out, 0);
  if (protocol != Py_None) {
    PyObject *items = NULL;
    if (PyUnicode_Check(protocol)) {
      /* "a, b": split on commas; blanks around each name are dropped */
      PyObject *comma = PyUnicode_FromString(",");
      items = comma != NULL ? PyUnicode_Split(protocol, comma, -1) : NULL;
      Py_XDECREF(comma);
    } else if (PyBytes_Check(protocol) || PyByteArray_Check(protocol)) {
      PyErr_SetString(PyExc_TypeError, "protocol must be str or an iterable of str");
    } else {
      items = PySequence_List(protocol);
    }
    if (items == NULL) goto fail;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(items); i++) {
      PyObject *item = PyList_GET_ITEM(items, i);
      if (!PyUnicode_Check(item)) {
        PyErr_Format(PyExc_TypeError, "protocol names must be str, not %.100s",
                     Py_TYPE(item)->tp_name);
        Py_DECREF(items);
        goto fail;
      }
      PyObject *name = PyObject_CallMethod(item, "strip", "s", " \t");
      Py_ssize_t n = 0;
      const char *p = name != NULL ? PyUnicode_AsUTF8AndSize(name, &n) : NULL;
      if (p != NULL && !mgio_is_token(p, (size_t) n)) {
        PyErr_Format(PyExc_ValueError,
                     "invalid WebSocket subprotocol %R (a token: not empty, no spaces, "
                     "commas or other separators)",
                     item);
        p = NULL;
      }
      if (p != NULL && ((out->len > 0 && mbuf_append(out, ", ", 2) != 2) ||
                        mbuf_append(out, p, (size_t) n) != (size_t) n)) {
        PyErr_NoMemory();
        p = NULL;
      }
      Py_XDECREF(name);
      if (p == NULL) {
        Py_DECREF(items);
        goto fail;
      }
    }
    Py_DECREF(items);
  }
  if (mbuf_append(out, "", 1) == 1) return 0;
  PyErr_NoMemory();
fail:
  mbuf_free(out);
  return -1;
}

static PyObject *Manager_connect_ws(ManagerObject *m, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"url", "handler", "protocol", "headers", "deflate", NULL};
  const char *url;
  PyObject *handler = Py_None, *protocol = Py_None, *headers = Py_None;
  int deflate = 1;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "s|OOO$p:connect_ws", kwlist, &url,
                                   &handler, &protocol, &headers, &deflate) ||
      check_open(m) < 0 || check_handler(handler) < 0)
    return NULL;
  struct mbuf hb, pb;
  mbuf_init(&hb, 0);
  if (ws_protocols(protocol, &pb) < 0) return NULL;
  if (mgio_format_headers(headers, &hb, MGIO_HDR_WEBSOCKET, NULL) < 0 ||
      mbuf_append(&hb, "", 1) != 1) {
    if (!PyErr_Occurred()) PyErr_NoMemory();
    mbuf_free(&hb);
    mbuf_free(&pb);
    return NULL;
  }
  const char *err = NULL;
  /* Without deflate: the handshake is made with MG_F_WEBSOCKET_NO_DEFRAG, which is what
   * makes mg_send_websocket_handshake* leave permessage-deflate out of the offer (the
   * offer goes out before the caller could change the connection's limits); the flag is
   * taken off again before any frame can arrive. */
  struct mg_connect_opts o = {.error_string = &err,
                              .flags = deflate ? 0 : MG_F_WEBSOCKET_NO_DEFRAG};
  struct mg_connection *nc = mg_connect_ws_opt(&m->mgr, mgio_dispatch, o, url,
                                               pb.len > 1 ? pb.buf : NULL,
                                               hb.len > 1 ? hb.buf : NULL);
  mbuf_free(&hb);
  mbuf_free(&pb);
  if (nc == NULL) return connect_error(err, url);
  nc->flags &= ~(unsigned long) MG_F_WEBSOCKET_NO_DEFRAG;
  PyObject *conn = adopt(m, nc, handler);
  if (conn != NULL && !deflate) {
    ConnectionObject *co = (ConnectionObject *) conn;
    co->limits = mg_http_default_limits();
    co->limits.ws_deflate = 0;
    co->has_limits = 1;
    mg_http_set_limits(nc, &co->limits);
  }
  return conn;
}

static PyObject *Manager_add_timer(ManagerObject *m, PyObject *handler) {
  if (check_open(m) < 0) return NULL;
  struct mg_connection *nc = mg_add_sock(&m->mgr, INVALID_SOCKET, mgio_dispatch);
  if (nc == NULL) return PyErr_NoMemory();
  mgio_manager_touch(m);
  ConnectionObject *co = mgio_connection_attach(m, nc, handler, NULL);
  if (co == NULL) {
    nc->flags |= MG_F_CLOSE_IMMEDIATELY;
    return NULL;
  }
  return Py_NewRef(co);
}

/* func(conn, *args) for every live connection. A call that raises closes its connection,
 * as a handler's would; the others still get theirs (each call reaches each connection). */
static void broadcast_one(ManagerObject *m, PyObject *func, PyObject *args) {
  for (struct mg_connection *c = m->mgr.active_connections; c != NULL; c = c->next) {
    ConnectionObject *co = (ConnectionObject *) c->user_data;
    if (co == NULL || (c->flags & MG_F_CLOSE_IMMEDIATELY)) continue;
    PyObject *call_args = PyTuple_New(PyTuple_GET_SIZE(args) + 1);
    if (call_args == NULL) {
      handler_failed(m, NULL);
      return;
    }
    PyTuple_SET_ITEM(call_args, 0, Py_NewRef(co));
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(args); i++)
      PyTuple_SET_ITEM(call_args, i + 1, Py_NewRef(PyTuple_GET_ITEM(args, i)));
    /* nothing is freed before the next mg_mgr_poll, so `c` outlives the call */
    PyObject *r = PyObject_Call(func, call_args, NULL);
    Py_DECREF(call_args);
    if (r == NULL)
      handler_failed(m, c);
    else
      Py_DECREF(r);
  }
}

/* Runs the broadcasts queued since the last poll, oldest first (including any queued
 * meanwhile by the calls themselves). */
static void run_broadcasts(ManagerObject *m) {
  while (PyList_GET_SIZE(m->broadcasts) > 0) {
    PyObject *item = Py_NewRef(PyList_GET_ITEM(m->broadcasts, 0));
    if (PySequence_DelItem(m->broadcasts, 0) < 0) {
      Py_DECREF(item);
      handler_failed(m, NULL);
      return;
    }
    broadcast_one(m, PyTuple_GET_ITEM(item, 0), PyTuple_GET_ITEM(item, 1));
    Py_DECREF(item);
  }
}

/* The pending handler exception as the current one, or a pending signal's. -1 if any. */
static int raise_pending(ManagerObject *m) {
  if (m->error != NULL) {
    PyObject *e = m->error;
    m->error = NULL;
    PyErr_SetObject((PyObject *) Py_TYPE(e), e);
    Py_DECREF(e);
    return -1;
  }
  return PyErr_CheckSignals();
}

/* One mg_mgr_poll and the queued broadcasts; the handlers' first exception, if any. */
static PyObject *poll_once(ManagerObject *m, int timeout_ms) {
  if (check_open(m) < 0) return NULL;
  if (m->polling) {
    PyErr_SetString(PyExc_RuntimeError,
                    "poll() is already running for this manager (from a handler or "
                    "another thread); use wakeup() or broadcast() to reach it");
    return NULL;
  }
  m->polling = 1;
  m->woken = 0; /* this poll reads any queued wakeup */
  int calls = mg_mgr_poll(&m->mgr, timeout_ms);
  run_broadcasts(m);
  m->polling = 0;
  if (raise_pending(m) < 0) return NULL;
  return PyLong_FromLong(calls);
}

/* poll(timeout_ms=0), parsed by hand: it runs once per loop iteration, and keyword
 * parsing was a tenth of an idle poll's cost. */
static PyObject *Manager_poll(ManagerObject *m, PyObject *const *args, Py_ssize_t nargs,
                              PyObject *kwnames) {
  Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
  PyObject *arg = NULL;
  if (nargs + nkw > 1)
    return PyErr_Format(PyExc_TypeError, "poll() takes at most 1 argument");
  if (nargs == 1) arg = args[0];
  if (nkw == 1) {
    if (!PyUnicode_Check(PyTuple_GET_ITEM(kwnames, 0)) ||
        PyUnicode_CompareWithASCIIString(PyTuple_GET_ITEM(kwnames, 0), "timeout_ms") != 0)
      return PyErr_Format(PyExc_TypeError, "poll() got an unexpected keyword argument %R",
                          PyTuple_GET_ITEM(kwnames, 0));
    arg = args[0];
  }
  long timeout_ms = 0;
  if (arg != NULL) {
    timeout_ms = PyLong_AsLong(arg);
    if (timeout_ms == -1 && PyErr_Occurred()) return NULL;
    if (timeout_ms < INT_MIN || timeout_ms > INT_MAX)
      return PyErr_Format(PyExc_OverflowError, "timeout_ms out of range");
  }
  return poll_once(m, (int) timeout_ms);
}

static PyObject *Manager_run(ManagerObject *m, PyObject *unused) {
  (void) unused;
  if (check_open(m) < 0) return NULL;
  /* A stop() that came before run() (say from another thread) still counts; it is used
   * up when run() returns for it. */
  while (!m->stopped && m->open) {
    PyObject *r = poll_once(m, 1000); /* stop() and signals wake it sooner */
    if (r == NULL) return NULL;
    Py_DECREF(r);
    if (!m->stopped && m->open && m->mgr.active_connections == NULL) break; /* nothing left */
  }
  m->stopped = 0;
  Py_RETURN_NONE;
}

static PyObject *Manager_stop(ManagerObject *m, PyObject *unused) {
  (void) unused;
  m->stopped = 1;
  if (m->open) mg_mgr_wakeup(&m->mgr);
  Py_RETURN_NONE;
}

static PyObject *Manager_wakeup(ManagerObject *m, PyObject *unused) {
  (void) unused;
  if (m->open) mg_mgr_wakeup(&m->mgr);
  Py_RETURN_NONE;
}

static PyObject *Manager_broadcast(ManagerObject *m, PyObject *args) {
  if (PyTuple_GET_SIZE(args) < 1 || !PyCallable_Check(PyTuple_GET_ITEM(args, 0)))
    return PyErr_Format(PyExc_TypeError, "broadcast(func, *args): func must be callable");
  if (check_open(m) < 0) return NULL;
  PyObject *rest = PyTuple_GetSlice(args, 1, PyTuple_GET_SIZE(args));
  PyObject *item = rest != NULL ? PyTuple_Pack(2, PyTuple_GET_ITEM(args, 0), rest) : NULL;
  Py_XDECREF(rest);
  if (item == NULL) return NULL;
  /* list.append is atomic under the GIL: any thread may queue while another polls */
  int rc = PyList_Append(m->broadcasts, item);
  Py_DECREF(item);
  if (rc < 0) return NULL;
  mg_mgr_wakeup(&m->mgr);
  Py_RETURN_NONE;
}

static PyObject *Manager_fileno(ManagerObject *m, PyObject *unused) {
  (void) unused;
  if (check_open(m) < 0) return NULL;
  m->watched = 1; /* from now on, changes between polls wake the descriptor */
  return PyLong_FromLong(mg_mgr_fileno(&m->mgr));
}

static PyObject *Manager_next_timer(ManagerObject *m, PyObject *unused) {
  (void) unused;
  if (check_open(m) < 0) return NULL;
  if (PyList_GET_SIZE(m->broadcasts) > 0) return PyFloat_FromDouble(1); /* due now */
  return PyFloat_FromDouble(mg_mgr_next_timer(&m->mgr));
}

static PyObject *Manager_close(ManagerObject *m, PyObject *unused) {
  (void) unused;
  if (m->polling) {
    PyErr_SetString(PyExc_RuntimeError, "close() while poll() runs; call stop() instead");
    return NULL;
  }
  free_manager(m, 0);
  if (raise_pending(m) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *Manager_enter(ManagerObject *m, PyObject *unused) {
  (void) unused;
  return Py_NewRef(m);
}

static PyObject *Manager_exit(ManagerObject *m, PyObject *args) {
  (void) args;
  return Manager_close(m, NULL);
}

static PyObject *Manager_get_connections(ManagerObject *m, void *closure) {
  (void) closure;
  PyObject *list = PyList_New(0);
  if (list == NULL || !m->open) return list;
  for (struct mg_connection *c = m->mgr.active_connections; c != NULL; c = c->next) {
    if (c->user_data != NULL && PyList_Append(list, (PyObject *) c->user_data) < 0) {
      Py_DECREF(list);
      return NULL;
    }
  }
  return list;
}

static PyObject *Manager_get_closed(ManagerObject *m, void *closure) {
  (void) closure;
  return PyBool_FromLong(!m->open);
}

static PyObject *Manager_get_max_connections(ManagerObject *m, void *closure) {
  (void) closure;
  return PyLong_FromSize_t(m->mgr.max_connections);
}

static int Manager_set_max_connections(ManagerObject *m, PyObject *v, void *closure) {
  (void) closure;
  size_t n = v != NULL ? PyLong_AsSize_t(v) : 0;
  if (v == NULL || (n == (size_t) -1 && PyErr_Occurred())) {
    if (v == NULL) PyErr_SetString(PyExc_AttributeError, "cannot delete max_connections");
    return -1;
  }
  m->mgr.max_connections = n;
  return 0;
}

static PyObject *mgio_time(PyObject *cls, PyObject *unused) {
  (void) cls;
  (void) unused;
  return PyFloat_FromDouble(mg_time());
}

static PyMethodDef Manager_methods[] = {
    {"bind", (PyCFunction) (void (*)(void)) Manager_bind, METH_VARARGS | METH_KEYWORDS,
     "bind($self, address, handler=None, http=False, *, reuse_port=False)\n--\n\nListen on "
     "\"[tcp://|udp://][host]:port\"; port 0 picks a free one (see local_address). "
     "Accepted connections share the handler. With http=True they speak HTTP/1.1: the "
     "handler gets EV_HTTP_REQUEST (and EV_HTTP_CHUNK) with an HttpMessage; WebSocket "
     "upgrades are accepted too (EV_WEBSOCKET_HANDSHAKE_REQUEST, _DONE, then "
     "EV_WEBSOCKET_FRAME / _CONTROL_FRAME with a WebSocketMessage; answer with "
     "send_ws). Connection.set_limits() on the listener sets the limits of the "
     "connections it accepts. reuse_port=True sets SO_REUSEPORT: several processes may "
     "then listen on the port, and the kernel spreads the connections between them."},
    {"connect", (PyCFunction) (void (*)(void)) Manager_connect, METH_VARARGS | METH_KEYWORDS,
     "connect($self, address, handler=None, http=False)\n--\n\nConnect without blocking; the "
     "handler gets EV_CONNECT with 0 or an error number first (-1: the name did not "
     "resolve). With http=True, responses to the requests you send are parsed "
     "(EV_HTTP_REPLY)."},
    {"connect_http", (PyCFunction) (void (*)(void)) Manager_connect_http,
     METH_VARARGS | METH_KEYWORDS,
     "connect_http($self, url, handler=None, method=\"GET\", headers=None, body=None)\n--\n\n"
     "Connect to an http:// URL and send one request: Host, Content-Length when there is "
     "a body (or for POST and PUT), Authorization: Basic for user:pass@ in the URL, and "
     "`headers` (a mapping or (name, value) pairs; CR/LF and other control characters "
     "are refused with ValueError). `body` is bytes-like or str (UTF-8, sent as "
     "text/plain unless a Content-Type is given). The handler gets EV_CONNECT, then "
     "EV_HTTP_CHUNK and EV_HTTP_REPLY with an HttpMessage. ValueError for a URL that "
     "does not parse or is not http://."},
    {"connect_ws", (PyCFunction) (void (*)(void)) Manager_connect_ws,
     METH_VARARGS | METH_KEYWORDS,
     "connect_ws($self, url, handler=None, protocol=None, headers=None, *, deflate=True)\n--\n\n"
     "Connect to a ws:// (or http://) URL and send the WebSocket upgrade request: Host, a "
     "fresh Sec-WebSocket-Key, Sec-WebSocket-Protocol when `protocol` (a name, \"a, b\", "
     "or a list of names) is given, an offer of permessage-deflate unless deflate=False, "
     "Authorization: Basic for user:pass@ in the URL, and `headers` (a mapping or (name, "
     "value) pairs; the handshake's own fields and control characters are refused with "
     "ValueError). The handler gets EV_CONNECT, then EV_WEBSOCKET_HANDSHAKE_DONE with the "
     "response (an HttpMessage: status 101 when the WebSocket is open - the reply's "
     "Sec-WebSocket-Accept, Upgrade and subprotocol were checked; any other status, or 0 "
     "for an invalid 101, and the connection closes), then EV_WEBSOCKET_FRAME and "
     "EV_WEBSOCKET_CONTROL_FRAME with WebSocketMessages. ValueError for a URL that does "
     "not parse or is wss://."},
    {"add_timer", (PyCFunction) Manager_add_timer, METH_O,
     "add_timer($self, handler, /)\n--\n\nA connection without a socket, for EV_TIMER events."},
    {"poll", (PyCFunction) (void (*)(void)) Manager_poll, METH_FASTCALL | METH_KEYWORDS,
     "poll($self, timeout_ms=0)\n--\n\nOne iteration; returns the number of events delivered. "
     "Re-raises the first exception a handler raised (its connection is closed)."},
    {"run", (PyCFunction) Manager_run, METH_NOARGS,
     "run($self)\n--\n\nPoll until stop() is called, the manager is closed or has no "
     "connections left. Handler exceptions and KeyboardInterrupt propagate."},
    {"stop", (PyCFunction) Manager_stop, METH_NOARGS,
     "stop($self)\n--\n\nMake run() return after the current iteration. Safe from any thread "
     "and from handlers."},
    {"wakeup", (PyCFunction) Manager_wakeup, METH_NOARGS,
     "wakeup($self)\n--\n\nMake a running poll() return soon. Safe from any thread."},
    {"broadcast", (PyCFunction) Manager_broadcast, METH_VARARGS,
     "broadcast($self, func, /, *args)\n--\n\nCall func(conn, *args) for every connection on the "
     "polling thread, during the next poll(). Safe from any thread."},
    {"fileno", (PyCFunction) Manager_fileno, METH_NOARGS,
     "fileno($self)\n--\n\nA descriptor that becomes readable when poll() has I/O to do."},
    {"next_timer", (PyCFunction) Manager_next_timer, METH_NOARGS,
     "next_timer($self)\n--\n\nWhen poll() must run next without I/O (mgio.time() scale); "
     "0.0 if nothing is scheduled."},
    {"close", (PyCFunction) Manager_close, METH_NOARGS,
     "close($self)\n--\n\nClose every connection (handlers get EV_CLOSE) and release the "
     "manager."},
    {"__enter__", (PyCFunction) Manager_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction) Manager_exit, METH_VARARGS, NULL},
    {"time", (PyCFunction) mgio_time, METH_NOARGS | METH_STATIC,
     "time()\n--\n\nSeconds since the epoch, as the manager's timers count them."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Manager_members[] = {
    {"poll_events", T_BOOL, offsetof(ManagerObject, poll_events), 0,
     "Deliver EV_POLL (every connection, every poll) to handlers; off by default."},
    {"__weaklistoffset__", T_PYSSIZET, offsetof(ManagerObject, weakrefs), READONLY, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef Manager_getset[] = {
    {"connections", (getter) Manager_get_connections, NULL,
     "The live connections, listeners included, newest first.", NULL},
    {"closed", (getter) Manager_get_closed, NULL, "True after close().", NULL},
    {"max_connections", (getter) Manager_get_max_connections,
     (setter) Manager_set_max_connections,
     "Accepted plus outbound connections allowed at once (default 1024).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Manager_slots[] = {
    {Py_tp_doc, (void *) "Manager(*, poll_events=False)\n--\n\n"
                         "An event manager: owns connections and turns their I/O into "
                         "handler calls. Use from one thread; wakeup() and broadcast() "
                         "may be called from any."},
    {Py_tp_new, Manager_new},
    {Py_tp_dealloc, Manager_dealloc},
    {Py_tp_traverse, Manager_traverse},
    {Py_tp_clear, Manager_clear},
    {Py_tp_methods, Manager_methods},
    {Py_tp_members, Manager_members},
    {Py_tp_getset, Manager_getset},
    {0, NULL},
};

static PyType_Spec Manager_spec = {
    .name = "mgio.Manager",
    .basicsize = sizeof(ManagerObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Manager_slots,
};

int mgio_manager_type_add(PyObject *module, mgio_state *st) {
  st->manager_type = (PyTypeObject *) PyType_FromModuleAndSpec(module, &Manager_spec, NULL);
  if (st->manager_type == NULL) return -1;
  return PyModule_AddType(module, st->manager_type);
}
