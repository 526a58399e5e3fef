/*
 * mgio.HttpMessage: an HTTP request or response as a handler sees it (the C struct
 * http_message of an MG_EV_HTTP_REQUEST / REPLY / CHUNK event).
 *
 * Lifetime (DESIGN "Lifetimes"): the C views point into the connection's recv_mbuf and
 * are valid only while the handler runs. The common path copies nothing up front: each
 * attribute makes its Python value on first access (then caches it). When the handler
 * returns and the object escaped (its reference count shows another holder: a list, a
 * closure, a traceback), the message is detached - the bytes of its views are copied
 * into one block it owns and its body into a bytes object - so a message kept for later
 * never reads memory that was freed or reused. A handler that shrinks or frees
 * conn.recv_buf while it holds a message triggers the same copy first.
 */
#include "pyext.h"

typedef struct {
  PyObject_HEAD
  mgio_state *st;
  struct http_message *hm; /* the live ev_data, then `owned`; NULL once invalidated */
  struct http_message *owned; /* after detach: a copy followed by the bytes of its views */
  int live;                /* hm points at the event's views (into recv_mbuf) */
  /* values made on first access */
  PyObject *method, *uri, *query_string, *proto, *status_text, *headers, *body;
} HttpMessageObject;

int mgio_http_message_is_head(const struct http_message *hm) {
  return hm->method.len == 4 && memcmp(hm->method.p, "HEAD", 4) == 0;
}

PyObject *mgio_http_message_new(mgio_state *st, struct http_message *hm) {
  HttpMessageObject *m =
      (HttpMessageObject *) st->http_message_type->tp_alloc(st->http_message_type, 0);
  if (m == NULL) return NULL;
  m->st = st;
  m->hm = hm;
  m->live = 1;
  return (PyObject *) m;
}

int mgio_http_message_check(mgio_state *st, PyObject *obj) {
  return Py_IS_TYPE(obj, st->http_message_type);
}

/* ---- detaching ------------------------------------------------------------------- */

static const char empty_text[1] = "";

/* The header fields in use: num_headers, bounded by the array and the NULL entry. */
static size_t field_count(const struct http_message *hm) {
  size_t n = hm->num_headers < MG_MAX_HTTP_HEADERS - 1 ? hm->num_headers
                                                       : MG_MAX_HTTP_HEADERS - 1;
  for (size_t i = 0; i < n; i++)
    if (hm->header_names[i].p == NULL) return i;
  return n;
}

/* Copies the bytes of *v to *w and re-points *v there (empty views point at ""). */
static void move_view(struct mg_str *v, char **w) {
  if (v->len == 0 || v->p == NULL) {
    v->p = empty_text;
    v->len = 0;
    return;
  }
  memcpy(*w, v->p, v->len);
  v->p = *w;
  *w += v->len;
}

static void invalidate(HttpMessageObject *m) {
  m->hm = NULL;
  m->live = 0;
}

int mgio_http_message_detach(PyObject *obj) {
  HttpMessageObject *m = (HttpMessageObject *) obj;
  if (!m->live) return 0;
  const struct http_message *src = m->hm;
  if (m->body == NULL) {
    m->body = PyBytes_FromStringAndSize(src->body.p != NULL ? src->body.p : empty_text,
                                        (Py_ssize_t) src->body.len);
    if (m->body == NULL) {
      invalidate(m);
      return -1;
    }
  }
  /* Copy view by view (not the span they cover): they need not be contiguous. */
  size_t fields = field_count(src);
  size_t total = src->method.len + src->uri.len + src->proto.len +
                 src->resp_status_msg.len + src->query_string.len;
  for (size_t i = 0; i < fields; i++)
    total += src->header_names[i].len + src->header_values[i].len;
  struct http_message *own = PyMem_Malloc(sizeof(*own) + total);
  if (own == NULL) {
    invalidate(m);
    PyErr_NoMemory();
    return -1;
  }
  memcpy(own, src, sizeof(*own));
  char *w = (char *) (own + 1);
  move_view(&own->method, &w);
  move_view(&own->uri, &w);
  move_view(&own->proto, &w);
  move_view(&own->resp_status_msg, &w);
  move_view(&own->query_string, &w);
  for (size_t i = 0; i < fields; i++) {
    move_view(&own->header_names[i], &w);
    move_view(&own->header_values[i], &w);
  }
  for (size_t i = fields; i < MG_MAX_HTTP_HEADERS; i++) {
    own->header_names[i] = (struct mg_str) {NULL, 0};
    own->header_values[i] = (struct mg_str) {NULL, 0};
  }
  own->num_headers = fields;
  own->body = mg_mk_str_n(PyBytes_AS_STRING(m->body), (size_t) PyBytes_GET_SIZE(m->body));
  own->message = (struct mg_str) {NULL, 0}; /* the raw message is not kept */
  m->owned = own;
  m->hm = own;
  m->live = 0;
  return 0;
}

int mgio_http_message_release(PyObject *obj) {
  HttpMessageObject *m = (HttpMessageObject *) obj;
  if (!m->live) return 0;
  if (Py_REFCNT(obj) > 1) return mgio_http_message_detach(obj);
  return 0;
}

struct http_message *mgio_http_message_get(mgio_state *st, PyObject *obj) {
  if (!mgio_http_message_check(st, obj)) {
    PyErr_Format(PyExc_TypeError, "expected an mgio.HttpMessage, not %.100s",
                 Py_TYPE(obj)->tp_name);
    return NULL;
  }
  HttpMessageObject *m = (HttpMessageObject *) obj;
  if (m->hm == NULL)
    PyErr_SetString(PyExc_RuntimeError, "this HttpMessage is no longer available");
  return m->hm;
}

/* ---- attributes ------------------------------------------------------------------ */

/* The message, or NULL with RuntimeError when it was invalidated. */
static const struct http_message *msg_of(HttpMessageObject *m) {
  if (m->hm == NULL)
    PyErr_SetString(PyExc_RuntimeError,
                    "this HttpMessage is no longer available (copying it out of the "
                    "connection's buffer failed)");
  return m->hm;
}

static PyObject *latin1(struct mg_str s) {
  return PyUnicode_DecodeLatin1(s.p != NULL ? s.p : empty_text, (Py_ssize_t) s.len, NULL);
}

/* The request target is UTF-8 with undecodable bytes kept as surrogates (os.fsdecode
 * style), so that .encode("utf-8", "surrogateescape") gives the bytes sent. */
static PyObject *target_text(struct mg_str s) {
  return PyUnicode_DecodeUTF8(s.p != NULL ? s.p : empty_text, (Py_ssize_t) s.len,
                              "surrogateescape");
}

/* Returns the cached value in *slot, making it with make(view) first. */
static PyObject *cached(PyObject **slot, PyObject *(*make)(struct mg_str), struct mg_str v) {
  if (*slot == NULL) {
    *slot = make(v);
    if (*slot == NULL) return NULL;
  }
  return Py_NewRef(*slot);
}

static PyObject *HttpMessage_get_method(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  return hm == NULL ? NULL : cached(&m->method, latin1, hm->method);
}

static PyObject *HttpMessage_get_uri(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  return hm == NULL ? NULL : cached(&m->uri, target_text, hm->uri);
}

static PyObject *HttpMessage_get_query_string(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  return hm == NULL ? NULL : cached(&m->query_string, target_text, hm->query_string);
}

static PyObject *HttpMessage_get_proto(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  return hm == NULL ? NULL : cached(&m->proto, latin1, hm->proto);
}

static PyObject *HttpMessage_get_status_text(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  return hm == NULL ? NULL : cached(&m->status_text, latin1, hm->resp_status_msg);
}

static PyObject *HttpMessage_get_status(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  return hm == NULL ? NULL : PyLong_FromLong(hm->resp_code);
}

static PyObject *HttpMessage_get_flags(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  return hm == NULL ? NULL : PyLong_FromUnsignedLong(hm->flags);
}

static PyObject *HttpMessage_get_keep_alive(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  return hm == NULL ? NULL : PyBool_FromLong((hm->flags & MG_HTTP_F_KEEP_ALIVE) != 0);
}

static PyObject *HttpMessage_get_chunked(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  return hm == NULL ? NULL : PyBool_FromLong((hm->flags & MG_HTTP_F_CHUNKED) != 0);
}

static PyObject *HttpMessage_get_content_length(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  return hm == NULL ? NULL : PyLong_FromLongLong((long long) hm->content_length);
}

static PyObject *HttpMessage_get_body(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  if (hm == NULL) return NULL;
  if (m->body == NULL) {
    m->body = PyBytes_FromStringAndSize(hm->body.p != NULL ? hm->body.p : empty_text,
                                        (Py_ssize_t) hm->body.len);
    if (m->body == NULL) return NULL;
  }
  return Py_NewRef(m->body);
}

/* mgio.headers.Headers, imported once per module. Borrowed reference. */
static PyObject *headers_class(mgio_state *st) {
  if (st->headers_class == NULL) {
    PyObject *mod = PyImport_ImportModule("mgio.headers");
    if (mod == NULL) return NULL;
    st->headers_class = PyObject_GetAttrString(mod, "Headers");
    Py_DECREF(mod);
  }
  return st->headers_class;
}

static PyObject *HttpMessage_get_headers(HttpMessageObject *m, void *closure) {
  (void) closure;
  const struct http_message *hm = msg_of(m);
  if (hm == NULL) return NULL;
  if (m->headers != NULL) return Py_NewRef(m->headers);
  PyObject *cls = headers_class(m->st);
  if (cls == NULL) return NULL;
  size_t n = field_count(hm);
  PyObject *items = PyList_New((Py_ssize_t) n);
  if (items == NULL) return NULL;
  for (size_t i = 0; i < n; i++) {
    PyObject *name = latin1(hm->header_names[i]);
    PyObject *value = name != NULL ? latin1(hm->header_values[i]) : NULL;
    PyObject *pair = value != NULL ? PyTuple_Pack(2, name, value) : NULL;
    Py_XDECREF(name);
    Py_XDECREF(value);
    if (pair == NULL) {
      Py_DECREF(items);
      return NULL;
    }
    PyList_SET_ITEM(items, (Py_ssize_t) i, pair);
  }
  m->headers = PyObject_CallMethod(cls, "_from_items", "O", items);
  Py_DECREF(items);
  return m->headers != NULL ? Py_NewRef(m->headers) : NULL;
}

/* ---- methods --------------------------------------------------------------------- */

/* A name argument (str) as UTF-8 without NUL bytes. */
static const char *name_arg(PyObject *name, const char *what) {
  if (!PyUnicode_Check(name)) {
    PyErr_Format(PyExc_TypeError, "%s must be str, not %.100s", what, Py_TYPE(name)->tp_name);
    return NULL;
  }
  Py_ssize_t n;
  const char *s = PyUnicode_AsUTF8AndSize(name, &n);
  if (s != NULL && strlen(s) != (size_t) n) {
    PyErr_Format(PyExc_ValueError, "%s contains a NUL character", what);
    return NULL;
  }
  return s;
}

static PyObject *HttpMessage_header(HttpMessageObject *m, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"name", "default", NULL};
  PyObject *name, *dflt = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:header", kwlist, &name, &dflt))
    return NULL;
  const char *s = name_arg(name, "name");
  struct http_message *hm = (struct http_message *) msg_of(m);
  if (s == NULL || hm == NULL) return NULL;
  struct mg_str *v = mg_get_http_header(hm, s);
  return v != NULL ? latin1(*v) : Py_NewRef(dflt);
}

/* The variable `name` of the form-encoded text `buf`: 1 with *out set (a new str), 0
 * when absent or malformed, -1 with an exception. */
static int find_var(const struct mg_str *buf, const char *name, PyObject **out) {
  char small[1024];
  char *dst = small;
  size_t cap = sizeof(small);
  int n = mg_get_http_var(buf, name, dst, cap);
  if (n == -3 && buf->len + 1 > cap) {
    /* too small, or malformed: retry with room for any value (decoding never grows) */
    if (buf->len >= (size_t) INT_MAX) return 0;
    cap = buf->len + 1;
    dst = PyMem_Malloc(cap);
    if (dst == NULL) {
      PyErr_NoMemory();
      return -1;
    }
    n = mg_get_http_var(buf, name, dst, cap);
  }
  int found = 0;
  if (n >= 0) {
    *out = PyUnicode_DecodeUTF8(dst, n, "replace");
    found = *out != NULL ? 1 : -1;
  }
  if (dst != small) PyMem_Free(dst);
  return found;
}

/* Whether the body is a form: application/x-www-form-urlencoded, or no Content-Type. */
static int body_is_form(struct http_message *hm) {
  struct mg_str *ct = mg_get_http_header(hm, "Content-Type");
  if (ct == NULL) return 1;
  static const char form[] = "application/x-www-form-urlencoded";
  size_t n = sizeof(form) - 1;
  return ct->len >= n && mg_ncasecmp(ct->p, form, n) == 0 &&
         (ct->len == n || ct->p[n] == ';' || ct->p[n] == ' ' || ct->p[n] == '\t');
}

static PyObject *HttpMessage_var(HttpMessageObject *m, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"name", "default", NULL};
  PyObject *name, *dflt = Py_None;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O|O:var", kwlist, &name, &dflt))
    return NULL;
  const char *s = name_arg(name, "name");
  struct http_message *hm = (struct http_message *) msg_of(m);
  if (s == NULL || hm == NULL) return NULL;
  PyObject *value = NULL;
  int r = hm->query_string.len > 0 ? find_var(&hm->query_string, s, &value) : 0;
  if (r == 0 && hm->body.len > 0 && body_is_form(hm)) r = find_var(&hm->body, s, &value);
  if (r < 0) return NULL;
  return r > 0 ? value : Py_NewRef(dflt);
}

static PyObject *HttpMessage_basic_auth(HttpMessageObject *m, PyObject *unused) {
  (void) unused;
  struct http_message *hm = (struct http_message *) msg_of(m);
  if (hm == NULL) return NULL;
  struct mg_str *field = mg_get_http_header(hm, "Authorization");
  if (field == NULL) Py_RETURN_NONE;
  /* the decoded credentials are shorter than the field: one size fits both parts */
  size_t cap = field->len + 1;
  char *user = PyMem_Malloc(cap), *pass = PyMem_Malloc(cap);
  PyObject *result = NULL;
  if (user == NULL || pass == NULL) {
    PyErr_NoMemory();
  } else if (mg_get_http_basic_auth(hm, user, cap, pass, cap) != 0) {
    result = Py_NewRef(Py_None);
  } else {
    result = Py_BuildValue("(s#s#)", user, (Py_ssize_t) strlen(user), pass,
                           (Py_ssize_t) strlen(pass));
    if (result == NULL && PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) {
      PyErr_Clear(); /* RFC 7617 credentials are UTF-8: anything else is no credential */
      result = Py_NewRef(Py_None);
    }
  }
  PyMem_Free(user);
  PyMem_Free(pass);
  return result;
}

static PyObject *HttpMessage_repr(HttpMessageObject *m) {
  const struct http_message *hm = m->hm;
  if (hm == NULL) return PyUnicode_FromString("<mgio.HttpMessage (released)>");
  PyObject *a, *b;
  if (hm->resp_code != 0) {
    a = PyLong_FromLong(hm->resp_code);
    b = latin1(hm->resp_status_msg);
  } else {
    a = latin1(hm->method);
    b = target_text(hm->uri);
  }
  PyObject *r = NULL;
  if (a != NULL && b != NULL)
    r = PyUnicode_FromFormat("<mgio.HttpMessage %S %R body=%zu bytes%s>", a, b,
                             hm->body.len, m->live ? "" : " (copy)");
  Py_XDECREF(a);
  Py_XDECREF(b);
  return r;
}

/* ---- type ------------------------------------------------------------------------ */

/* Not a GC type: it refers only to str, bytes and Headers objects, never to anything
 * that could refer back to it. */
static void HttpMessage_dealloc(HttpMessageObject *m) {
  PyTypeObject *type = Py_TYPE(m);
  Py_CLEAR(m->headers);
  Py_CLEAR(m->method);
  Py_CLEAR(m->uri);
  Py_CLEAR(m->query_string);
  Py_CLEAR(m->proto);
  Py_CLEAR(m->status_text);
  Py_CLEAR(m->body);
  PyMem_Free(m->owned);
  type->tp_free(m);
  Py_DECREF(type);
}

static PyMethodDef HttpMessage_methods[] = {
    {"header", (PyCFunction) (void (*)(void)) HttpMessage_header,
     METH_VARARGS | METH_KEYWORDS,
     "header($self, name, default=None)\n--\n\nThe value of the first field called `name` (any "
     "case), or `default`."},
    {"var", (PyCFunction) (void (*)(void)) HttpMessage_var, METH_VARARGS | METH_KEYWORDS,
     "var($self, name, default=None)\n--\n\nThe form variable `name` (any case), decoded: from "
     "the query string, else from a form body (Content-Type "
     "application/x-www-form-urlencoded, or none). `default` when it is absent or its "
     "value has a malformed %-escape. Bytes that are not UTF-8 become U+FFFD."},
    {"basic_auth", (PyCFunction) HttpMessage_basic_auth, METH_NOARGS,
     "basic_auth($self)\n--\n\nThe (user, password) of a Basic Authorization field (RFC "
     "7617, UTF-8), or None when there is none or it is malformed (another scheme, not "
     "strict base64, no colon, an empty user, control characters)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef HttpMessage_getset[] = {
    {"method", (getter) HttpMessage_get_method, NULL,
     "The request method (\"GET\"); \"\" for a response.", NULL},
    {"uri", (getter) HttpMessage_get_uri, NULL,
     "The request target up to the first '?', as sent (not %-decoded); \"\" for a "
     "response. Bytes that are not UTF-8 are kept as surrogate escapes.",
     NULL},
    {"query_string", (getter) HttpMessage_get_query_string, NULL,
     "The request target after the first '?' (\"\" when none), as sent.", NULL},
    {"proto", (getter) HttpMessage_get_proto, NULL, "\"HTTP/1.1\" or \"HTTP/1.0\".", NULL},
    {"status", (getter) HttpMessage_get_status, NULL,
     "The status code of a response; 0 for a request.", NULL},
    {"status_text", (getter) HttpMessage_get_status_text, NULL,
     "The reason phrase of a response (may be \"\").", NULL},
    {"headers", (getter) HttpMessage_get_headers, NULL,
     "The header fields: an mgio.Headers (case-insensitive, ordered, duplicates kept); "
     "values are Latin-1 decoded.",
     NULL},
    {"body", (getter) HttpMessage_get_body, NULL,
     "The body bytes (de-chunked). In EV_HTTP_CHUNK: the bytes received so far and not "
     "deleted.",
     NULL},
    {"flags", (getter) HttpMessage_get_flags, NULL, "The MG_HTTP_F_* bits (mgio.HttpFlag).",
     NULL},
    {"keep_alive", (getter) HttpMessage_get_keep_alive, NULL,
     "True when the connection persists after this message.", NULL},
    {"chunked", (getter) HttpMessage_get_chunked, NULL,
     "True when the body uses the chunked transfer coding.", NULL},
    {"content_length", (getter) HttpMessage_get_content_length, NULL,
     "The body length announced; -1 when unknown (chunked or close-delimited).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot HttpMessage_slots[] = {
    {Py_tp_doc, (void *) "An HTTP request or response, as given to a handler for "
                         "EV_HTTP_REQUEST, EV_HTTP_REPLY and EV_HTTP_CHUNK.\n\n"
                         "Attributes are made on first access. A message kept after the "
                         "handler returns is copied out of the connection's buffer at "
                         "that moment, so it stays valid and unchanged."},
    {Py_tp_dealloc, HttpMessage_dealloc},
    {Py_tp_repr, HttpMessage_repr},
    {Py_tp_methods, HttpMessage_methods},
    {Py_tp_getset, HttpMessage_getset},
    {0, NULL},
};

static PyType_Spec HttpMessage_spec = {
    .name = "mgio.HttpMessage",
    .basicsize = sizeof(HttpMessageObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = HttpMessage_slots,
};

int mgio_http_message_type_add(PyObject *module, mgio_state *st) {
  st->http_message_type =
      (PyTypeObject *) PyType_FromModuleAndSpec(module, &HttpMessage_spec, NULL);
  if (st->http_message_type == NULL) return -1;
  return PyModule_AddType(module, st->http_message_type);
}
