/*
 * mgio.MultipartPart: the Python face of struct mg_http_multipart_part, given to a
 * handler for EV_HTTP_PART_BEGIN, EV_HTTP_PART_DATA, EV_HTTP_PART_END and
 * EV_HTTP_MULTIPART_REQUEST_END. Like WebSocketMessage, `data` is made on first access
 * and a part kept after the handler returns is copied then ("copy on escape").
 *
 * user_data: the C part's user_data slot holds a strong reference to a Python object
 * for the whole request; mgio_multipart_stream_end drops it after REQUEST_END.
 */
#include "pyext.h"

typedef struct {
  PyObject_HEAD
  mgio_state *st;
  struct mg_http_multipart_part *part; /* live C part; NULL once released/detached */
  int ev;
  int status;
  const char *p; /* live data, then the bytes of `data` */
  size_t size;
  PyObject *var_name;  /* str */
  PyObject *file_name; /* str */
  PyObject *data;      /* bytes, made on first access or at detach */
  PyObject *user_data; /* snapshot taken at detach */
} PartObject;

static PyObject *name_str(const char *s) {
  if (s == NULL) s = "";
  return PyUnicode_DecodeUTF8(s, (Py_ssize_t) strlen(s), "replace");
}

PyObject *mgio_multipart_part_new(mgio_state *st, int ev, struct mg_http_multipart_part *mp) {
  PartObject *o = (PartObject *) st->multipart_part_type->tp_alloc(st->multipart_part_type, 0);
  if (o == NULL) return NULL;
  o->st = st;
  o->part = mp;
  o->ev = ev;
  o->status = mp->status;
  o->p = mp->data.p != NULL ? mp->data.p : "";
  o->size = mp->data.p != NULL ? mp->data.len : 0;
  o->var_name = name_str(mp->var_name);
  o->file_name = o->var_name != NULL ? name_str(mp->file_name) : NULL;
  if (o->file_name == NULL) {
    Py_DECREF(o);
    return NULL;
  }
  return (PyObject *) o;
}

int mgio_multipart_part_detach(PyObject *obj) {
  PartObject *o = (PartObject *) obj;
  if (o->part == NULL) return 0;
  PyObject *ud = (PyObject *) o->part->user_data;
  o->user_data = Py_NewRef(ud != NULL ? ud : Py_None);
  o->part = NULL;
  if (o->data == NULL) {
    o->data = PyBytes_FromStringAndSize(o->p, (Py_ssize_t) o->size);
    if (o->data == NULL) {
      o->p = NULL;
      return -1;
    }
  }
  o->p = PyBytes_AS_STRING(o->data);
  return 0;
}

int mgio_multipart_part_release(PyObject *obj) {
  PartObject *o = (PartObject *) obj;
  if (o->part == NULL) return 0;
  if (Py_REFCNT(obj) > 1) return mgio_multipart_part_detach(obj);
  o->part = NULL;
  o->p = NULL;
  return 0;
}

void mgio_multipart_stream_end(void *ev_data) {
  struct mg_http_multipart_part *mp = (struct mg_http_multipart_part *) ev_data;
  if (mp == NULL || mp->user_data == NULL) return;
  PyObject *ud = (PyObject *) mp->user_data;
  mp->user_data = NULL;
  Py_DECREF(ud);
}

static PyObject *Part_get_data(PartObject *o, void *closure) {
  (void) closure;
  if (o->data == NULL) {
    if (o->p == NULL) {
      PyErr_SetString(PyExc_RuntimeError, "this MultipartPart is no longer available");
      return NULL;
    }
    o->data = PyBytes_FromStringAndSize(o->p, (Py_ssize_t) o->size);
    if (o->data == NULL) return NULL;
  }
  return Py_NewRef(o->data);
}

static PyObject *Part_get_var_name(PartObject *o, void *closure) {
  (void) closure;
  return Py_NewRef(o->var_name);
}

static PyObject *Part_get_file_name(PartObject *o, void *closure) {
  (void) closure;
  return Py_NewRef(o->file_name);
}

static PyObject *Part_get_status(PartObject *o, void *closure) {
  (void) closure;
  return PyLong_FromLong(o->status);
}

static PyObject *Part_get_user_data(PartObject *o, void *closure) {
  (void) closure;
  if (o->part != NULL) {
    PyObject *ud = (PyObject *) o->part->user_data;
    return Py_NewRef(ud != NULL ? ud : Py_None);
  }
  return Py_NewRef(o->user_data != NULL ? o->user_data : Py_None);
}

static int Part_set_user_data(PartObject *o, PyObject *value, void *closure) {
  (void) closure;
  if (value == NULL) value = Py_None;
  if (o->part == NULL) {
    PyErr_SetString(PyExc_RuntimeError,
                    "user_data can only be set during the handler call that got this part");
    return -1;
  }
  PyObject *old = (PyObject *) o->part->user_data;
  o->part->user_data = value == Py_None ? NULL : Py_NewRef(value);
  Py_XDECREF(old);
  return 0;
}

static PyObject *Part_consume(PartObject *o, PyObject *arg) {
  Py_ssize_t n = PyNumber_AsSsize_t(arg, PyExc_OverflowError);
  if (n == -1 && PyErr_Occurred()) return NULL;
  if (o->part == NULL || o->ev != MG_EV_HTTP_PART_DATA) {
    PyErr_SetString(PyExc_RuntimeError,
                    "consume() works only during the on_http_part_data call that got "
                    "this part");
    return NULL;
  }
  if (n < 0 || (size_t) n > o->size) {
    PyErr_Format(PyExc_ValueError, "consume(n): n must be 0..%zu", o->size);
    return NULL;
  }
  o->part->num_data_consumed = (size_t) n;
  Py_RETURN_NONE;
}

static Py_ssize_t Part_len(PartObject *o) {
  return (Py_ssize_t) o->size;
}

static PyObject *Part_repr(PartObject *o) {
  return PyUnicode_FromFormat("<mgio.MultipartPart var_name=%R file_name=%R %zu bytes "
                              "status=%d%s>",
                              o->var_name, o->file_name, o->size, o->status,
                              o->part != NULL ? "" : o->p == NULL ? " (released)" : " (copy)");
}

static int Part_traverse(PartObject *o, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(o));
  Py_VISIT(o->user_data);
  return 0;
}

static int Part_clear(PartObject *o) {
  Py_CLEAR(o->user_data);
  return 0;
}

static void Part_dealloc(PartObject *o) {
  PyTypeObject *type = Py_TYPE(o);
  PyObject_GC_UnTrack(o);
  Py_CLEAR(o->var_name);
  Py_CLEAR(o->file_name);
  Py_CLEAR(o->data);
  Py_CLEAR(o->user_data);
  type->tp_free(o);
  Py_DECREF(type);
}

static PyMethodDef Part_methods[] = {
    {"consume", (PyCFunction) Part_consume, METH_O,
     "consume(n): during on_http_part_data, take only the first n bytes of data; the "
     "rest is offered again (with what follows) when more of the body arrives, or at "
     "once when the body is complete (then take something each time: an offer taken "
     "nothing of is dropped). By default all of data is taken."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Part_getset[] = {
    {"var_name", (getter) Part_get_var_name, NULL,
     "The part's Content-Disposition name (str; \"\" when absent, and for "
     "EV_HTTP_MULTIPART_REQUEST_END).",
     NULL},
    {"file_name", (getter) Part_get_file_name, NULL,
     "The part's Content-Disposition filename as the client sent it (str; \"\" when "
     "absent). Never use it as a path as is: see mgio.safe_filename.",
     NULL},
    {"data", (getter) Part_get_data, NULL,
     "EV_HTTP_PART_DATA: the bytes of this event (b\"\" for the other events). Made on "
     "first access; a part kept after the handler returns is copied then.",
     NULL},
    {"status", (getter) Part_get_status, NULL,
     "0, or negative on EV_HTTP_PART_END / EV_HTTP_MULTIPART_REQUEST_END when the "
     "stream did not complete (connection cut, malformed body).",
     NULL},
    {"user_data", (getter) Part_get_user_data, (setter) Part_set_user_data,
     "Any object, kept over the whole multipart request (every part and "
     "EV_HTTP_MULTIPART_REQUEST_END), then dropped. None at first.",
     NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot Part_slots[] = {
    {Py_tp_doc, (void *) "One event of a streaming multipart request (EV_HTTP_PART_BEGIN, "
                         "EV_HTTP_PART_DATA, EV_HTTP_PART_END, "
                         "EV_HTTP_MULTIPART_REQUEST_END).\n\nlen(part) is len(part.data)."},
    {Py_tp_dealloc, Part_dealloc},
    {Py_tp_traverse, Part_traverse},
    {Py_tp_clear, Part_clear},
    {Py_tp_repr, Part_repr},
    {Py_tp_methods, Part_methods},
    {Py_tp_getset, Part_getset},
    {Py_sq_length, Part_len},
    {0, NULL},
};

static PyType_Spec Part_spec = {
    .name = "mgio.MultipartPart",
    .basicsize = sizeof(PartObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = Part_slots,
};

int mgio_multipart_part_type_add(PyObject *module, mgio_state *st) {
  st->multipart_part_type =
      (PyTypeObject *) PyType_FromModuleAndSpec(module, &Part_spec, NULL);
  if (st->multipart_part_type == NULL) return -1;
  return PyModule_AddType(module, st->multipart_part_type);
}
