/* Argument binding for METH_FASTCALL | METH_KEYWORDS methods. The methods a handler calls
 * for every request or message (reply, send_head, send_error, send_ws) take their
 * arguments from the vector the interpreter already has, rather than from the tuple and
 * dict that METH_VARARGS builds for each call, and skip the format-string walk of
 * PyArg_ParseTupleAndKeywords. */

#include <limits.h>

#include "pyext.h"

static Py_ssize_t name_index(const char *const *names, PyObject *key) {
  for (Py_ssize_t i = 0; names[i] != NULL; i++)
    if (PyUnicode_CompareWithASCIIString(key, names[i]) == 0) return i;
  return -1;
}

int mgio_bind_args(const char *fname, const char *const *names, Py_ssize_t required,
                   Py_ssize_t positional, PyObject *const *args, Py_ssize_t nargs,
                   PyObject *kwnames, PyObject **out) {
  Py_ssize_t count = 0;
  while (names[count] != NULL) out[count++] = NULL;
  if (nargs > positional) {
    PyErr_Format(PyExc_TypeError, "%s() takes at most %zd positional arguments (%zd given)",
                 fname, positional, nargs);
    return -1;
  }
  for (Py_ssize_t i = 0; i < nargs; i++) out[i] = args[i];
  Py_ssize_t nkw = kwnames != NULL ? PyTuple_GET_SIZE(kwnames) : 0;
  for (Py_ssize_t k = 0; k < nkw; k++) {
    PyObject *key = PyTuple_GET_ITEM(kwnames, k);
    Py_ssize_t i = name_index(names, key);
    if (i < 0) {
      PyErr_Format(PyExc_TypeError, "%s() got an unexpected keyword argument '%U'", fname,
                   key);
      return -1;
    }
    if (out[i] != NULL) {
      PyErr_Format(PyExc_TypeError, "%s() got multiple values for argument '%s'", fname,
                   names[i]);
      return -1;
    }
    out[i] = args[nargs + k];
  }
  for (Py_ssize_t i = 0; i < required; i++) {
    if (out[i] == NULL) {
      PyErr_Format(PyExc_TypeError, "%s() missing required argument '%s'", fname, names[i]);
      return -1;
    }
  }
  return 0;
}

int mgio_int_arg(PyObject *obj, int *out) {
  long v = PyLong_AsLong(obj);
  if (v == -1 && PyErr_Occurred()) return -1;
  if (v < INT_MIN || v > INT_MAX) {
    PyErr_SetString(PyExc_OverflowError, "integer out of range");
    return -1;
  }
  *out = (int) v;
  return 0;
}
