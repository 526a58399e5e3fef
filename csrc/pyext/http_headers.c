/*
 * Header fields given by Python code (Connection.reply, send_head, redirect,
 * Manager.connect_http): checked and formatted as "Name: value\r\n" lines before any byte
 * is queued, so that no argument can split a head (response splitting).
 */
#include "pyext.h"

/* RFC 9110 tchar */
static int is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

int mgio_is_token(const char *p, size_t n) {
  if (n == 0) return 0;
  for (size_t i = 0; i < n; i++)
    if (!is_tchar((unsigned char) p[i])) return 0;
  return 1;
}

int mgio_check_field_value(const char *p, size_t n, const char *what) {
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char) p[i];
    if ((c < 0x20 && c != '\t') || c == 0x7f) {
      PyErr_Format(PyExc_ValueError, "%s contains a control character (%s)", what,
                   c == '\r'   ? "CR"
                   : c == '\n' ? "LF"
                   : c == 0    ? "NUL"
                               : "not allowed in a header field");
      return -1;
    }
  }
  return 0;
}

/* `obj` as a bytes object (new reference): str is encoded Latin-1 (the octets of a
 * field), bytes-likes are copied, and for a value an int is written in decimal. */
static PyObject *field_bytes(PyObject *obj, int is_value) {
  if (PyBytes_Check(obj)) return Py_NewRef(obj);
  if (PyUnicode_Check(obj)) return PyUnicode_AsLatin1String(obj);
  if (is_value && PyLong_Check(obj) && !PyBool_Check(obj)) {
    PyObject *s = PyObject_Str(obj);
    PyObject *b = s != NULL ? PyUnicode_AsASCIIString(s) : NULL;
    Py_XDECREF(s);
    return b;
  }
  if (PyObject_CheckBuffer(obj)) return PyBytes_FromObject(obj);
  return PyErr_Format(PyExc_TypeError, "header %s must be str or bytes%s, not %.100s",
                      is_value ? "value" : "name", is_value ? " or int" : "",
                      Py_TYPE(obj)->tp_name);
}

static int name_is(const char *p, size_t n, const char *lower) {
  return strlen(lower) == n && mg_ncasecmp(p, lower, n) == 0;
}

/* Checks and appends one field. 0, or -1 with an exception. */
static int add_field(PyObject *pair, struct mbuf *out, int flags, int *has_ctype) {
  PyObject *seq = PySequence_Fast(pair, "each header must be a (name, value) pair");
  if (seq == NULL) return -1;
  int rc = -1;
  PyObject *name = NULL, *value = NULL;
  if (PySequence_Fast_GET_SIZE(seq) != 2) {
    PyErr_SetString(PyExc_ValueError, "each header must be a (name, value) pair");
    goto done;
  }
  name = field_bytes(PySequence_Fast_GET_ITEM(seq, 0), 0);
  value = name != NULL ? field_bytes(PySequence_Fast_GET_ITEM(seq, 1), 1) : NULL;
  if (value == NULL) goto done;
  const char *np = PyBytes_AS_STRING(name), *vp = PyBytes_AS_STRING(value);
  size_t nn = (size_t) PyBytes_GET_SIZE(name), vn = (size_t) PyBytes_GET_SIZE(value);
  if (!mgio_is_token(np, nn)) {
    PyErr_Format(PyExc_ValueError, "invalid header name %R (a token: not empty, no "
                                   "spaces, colons, CR/LF or other separators)",
                 PySequence_Fast_GET_ITEM(seq, 0));
    goto done;
  }
  if (mgio_check_field_value(vp, vn, "header value") < 0) goto done;
  if ((flags & MGIO_HDR_WEBSOCKET) &&
      (name_is(np, nn, "content-length") || name_is(np, nn, "transfer-encoding") ||
       name_is(np, nn, "host") || name_is(np, nn, "upgrade") ||
       name_is(np, nn, "connection") ||
       (nn >= 14 && mg_ncasecmp(np, "sec-websocket-", 14) == 0))) {
    PyErr_Format(PyExc_ValueError,
                 "%R is part of the WebSocket handshake that connect_ws sends itself "
                 "(give a subprotocol with protocol=)",
                 PySequence_Fast_GET_ITEM(seq, 0));
    goto done;
  }
  if ((flags & (MGIO_HDR_NO_FRAMING | MGIO_HDR_REQUEST)) &&
      (name_is(np, nn, "content-length") || name_is(np, nn, "transfer-encoding"))) {
    PyErr_Format(PyExc_ValueError,
                 (flags & MGIO_HDR_REQUEST)
                     ? "%R is set from the body by connect_http itself"
                     : "%R is set by the response method itself (use send_head(status, "
                       "length) for a body sent separately)",
                 PySequence_Fast_GET_ITEM(seq, 0));
    goto done;
  }
  if ((flags & MGIO_HDR_REQUEST) && name_is(np, nn, "host")) {
    PyErr_SetString(PyExc_ValueError, "the Host field is sent from the URL by connect_http");
    goto done;
  }
  if (has_ctype != NULL && name_is(np, nn, "content-type")) *has_ctype = 1;
  if (mbuf_append(out, np, nn) != nn || mbuf_append(out, ": ", 2) != 2 ||
      (vn > 0 && mbuf_append(out, vp, vn) != vn) || mbuf_append(out, "\r\n", 2) != 2) {
    PyErr_NoMemory();
    goto done;
  }
  rc = 0;
done:
  Py_XDECREF(name);
  Py_XDECREF(value);
  Py_DECREF(seq);
  return rc;
}

int mgio_format_headers(PyObject *headers, struct mbuf *out, int flags, int *has_ctype) {
  if (has_ctype != NULL) *has_ctype = 0;
  if (headers == NULL || headers == Py_None) return 0;
  if (PyUnicode_Check(headers) || PyBytes_Check(headers) || PyByteArray_Check(headers)) {
    PyErr_SetString(PyExc_TypeError,
                    "headers must be a mapping or (name, value) pairs, not a string");
    return -1;
  }
  size_t start = out->len;
  PyObject *items;
  if (PyDict_Check(headers)) {
    items = PyDict_Items(headers);
  } else if (PyObject_HasAttrString(headers, "items")) {
    items = PyObject_CallMethod(headers, "items", NULL);
  } else {
    items = Py_NewRef(headers);
  }
  if (items == NULL) return -1;
  PyObject *it = PyObject_GetIter(items);
  Py_DECREF(items);
  if (it == NULL) return -1;
  PyObject *pair;
  int rc = 0;
  while ((pair = PyIter_Next(it)) != NULL) {
    rc = add_field(pair, out, flags, has_ctype);
    Py_DECREF(pair);
    if (rc < 0) break;
  }
  Py_DECREF(it);
  if (rc == 0 && PyErr_Occurred()) rc = -1;
  if (rc < 0) out->len = start; /* nothing of a refused set is kept */
  return rc;
}

int mgio_body_get(PyObject *body, mgio_body *b) {
  b->has_view = 0;
  b->is_text = 0;
  b->p = "";
  b->n = 0;
  if (body == NULL || body == Py_None) return 0;
  if (PyUnicode_Check(body)) {
    Py_ssize_t n;
    b->p = PyUnicode_AsUTF8AndSize(body, &n);
    if (b->p == NULL) return -1;
    b->n = (size_t) n;
    b->is_text = 1;
    return 0;
  }
  if (PyObject_GetBuffer(body, &b->view, PyBUF_SIMPLE) < 0) return -1;
  b->has_view = 1;
  b->p = (const char *) b->view.buf;
  b->n = (size_t) b->view.len;
  return 0;
}

void mgio_body_release(mgio_body *b) {
  if (b->has_view) PyBuffer_Release(&b->view);
  b->has_view = 0;
}
