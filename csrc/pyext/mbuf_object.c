/*
 * mgio.Mbuf: the C mbuf as a Python object with a writable buffer export.
 *
 * Safety rule (as bytearray): while any buffer view is exported, nothing may change the
 * length or the storage; such calls raise BufferError. Writes that keep the length (item
 * and equal-length slice assignment) stay allowed.
 */
#include "pyext.h"

typedef struct {
  PyObject_HEAD
  /* The buffer this object shows is *mbp. A standalone Mbuf points it at `own` (through
   * own_ptr); a view of a connection's buffer points it at a slot of its owner, which
   * the owner re-points to an empty mbuf when the connection goes away. */
  struct mbuf **mbp;
  struct mbuf *own_ptr;
  PyObject *owner;     /* keeps *mbp valid for a view; NULL for a standalone Mbuf */
  struct mbuf own;     /* storage of a standalone Mbuf; see slide_front */
  size_t head;         /* bytes consumed from the front of `own` and not yet moved out */
  Py_ssize_t exports;  /* buffer views handed out and not yet released */
} MbufObject;

#define MB(self) (*(self)->mbp)
#define MBUF_LEN(self) ((Py_ssize_t) MB(self)->len)

/* mbuf->buf is NULL while nothing is allocated; views and memcmp want a real pointer. */
static char empty_storage[1];

static char *storage(MbufObject *self) {
  return MB(self)->buf != NULL ? MB(self)->buf : empty_storage;
}

/* Every edit that changes the length passes here first. For a connection's buffer that
 * is also the moment to tell its manager: draining recv_buf may resume reading, and
 * filling send_buf needs writing (the wakeup is read by the next poll, after the edit). */
static int check_resizable(MbufObject *self) {
  if (self->exports > 0) {
    PyErr_SetString(PyExc_BufferError,
                    "Existing exports of data: object cannot be re-sized");
    return -1;
  }
  if (self->owner != NULL) {
    /* An HttpMessage being shown to a handler points into recv_buf: it copies first. */
    if (mgio_connection_buffer_changing(self->owner, self->mbp) < 0) return -1;
    mgio_connection_touch(self->owner);
  }
  return 0;
}

/* ---- O(1) front removal -----------------------------------------------------------
 *
 * Removing from the front of a C mbuf moves the rest of the data down, which makes
 * draining a large buffer in small pieces quadratic (17x slower than bytearray on a
 * 256 KiB buffer in 256-byte pieces). A standalone Mbuf instead slides its window: `own`
 * stays a valid struct mbuf over the live part of the allocation, whose real start is
 * own.buf - head. The data moves back to the start (unslide) only when the dead space
 * exceeds the live data, which bounds the bytes moved by the bytes removed, and before
 * anything reallocates or frees the storage. Buffers owned by C (connection views) keep
 * the plain mbuf_remove. */

static void unslide(MbufObject *self) {
  if (self->head == 0) return;
  char *start = self->own.buf - self->head;
  if (self->own.len > 0) memmove(start, self->own.buf, self->own.len);
  self->own.buf = start;
  self->own.size += self->head;
  self->head = 0;
}

static void slide_front(MbufObject *self, size_t n) {
  self->own.buf += n;
  self->own.len -= n;
  self->own.size -= n;
  self->head += n;
  if (self->head > self->own.len) unslide(self);
}

/* ---- bytes-like arguments ------------------------------------------------------- */

/* The bytes of a bytes-like argument. bytes objects are read directly (the common case,
 * and measurably cheaper than a buffer acquisition per append). */
typedef struct {
  Py_buffer view;
  PyObject *copy; /* set when the argument was this Mbuf itself and had to be copied */
  const char *p;
  size_t n;
  int has_view;
} bytes_arg;

static int bytes_arg_get(MbufObject *self, PyObject *obj, bytes_arg *a) {
  a->has_view = 0;
  a->copy = NULL;
  if (obj == (PyObject *) self) {
    /* m.append(m): take a snapshot first, since the source is about to change. */
    obj = a->copy = PyBytes_FromStringAndSize(storage(self), MBUF_LEN(self));
    if (obj == NULL) return -1;
  }
  if (PyBytes_CheckExact(obj)) {
    a->p = PyBytes_AS_STRING(obj);
    a->n = (size_t) PyBytes_GET_SIZE(obj);
    return 0;
  }
  if (PyObject_GetBuffer(obj, &a->view, PyBUF_SIMPLE) < 0) return -1;
  a->has_view = 1;
  a->p = (const char *) a->view.buf;
  a->n = (size_t) a->view.len;
  return 0;
}

static void bytes_arg_release(bytes_arg *a) {
  if (a->has_view) PyBuffer_Release(&a->view);
  Py_XDECREF(a->copy);
}

/* ---- core edits, shared by methods and operators -------------------------------- */

/* Inserts n bytes at off (off <= len). 0 on success, -1 with an exception. */
static int insert_bytes(MbufObject *self, size_t off, const char *p, size_t n) {
  if (n == 0) return 0;
  if (check_resizable(self) < 0) return -1;
  if (n > MB(self)->size - MB(self)->len) unslide(self); /* before mbuf_insert reallocates */
  if (n > (size_t) PY_SSIZE_T_MAX - MB(self)->len || mbuf_insert(MB(self), off, p, n) != n) {
    PyErr_NoMemory();
    return -1;
  }
  return 0;
}

/* Inserts the bytes of obj at off (negative counts from the end; NULL off appends). The
 * offset is resolved only after the argument's buffer is held: acquiring it may run Python
 * code (__buffer__, 3.12+) that changes this Mbuf, and a length read before would be stale. */
static int insert_object(MbufObject *self, const Py_ssize_t *off, PyObject *obj) {
  bytes_arg a;
  if (bytes_arg_get(self, obj, &a) < 0) return -1;
  Py_ssize_t at = off == NULL ? MBUF_LEN(self) : *off;
  if (at < 0) at += MBUF_LEN(self);
  int rc = -1;
  if (at < 0 || at > MBUF_LEN(self))
    PyErr_Format(PyExc_IndexError, "insert offset out of range (length is %zd)",
                 MBUF_LEN(self));
  else
    rc = insert_bytes(self, (size_t) at, a.p, a.n);
  bytes_arg_release(&a);
  return rc;
}

/* Replaces bytes [start, start + old_n) with n bytes from p. */
static int replace_range(MbufObject *self, size_t start, size_t old_n, const char *p, size_t n) {
  if (n == old_n) {
    if (n > 0) memmove(storage(self) + start, p, n); /* p may point into this buffer */
    return 0;
  }
  if (check_resizable(self) < 0) return -1;
  if (start == 0 && n == 0 && MB(self) == &self->own) {
    slide_front(self, old_n); /* del m[:k] is a front removal */
    return 0;
  }
  if (n > old_n) {
    if (insert_bytes(self, start + old_n, NULL, n - old_n) < 0) return -1;
  } else {
    char *tail = MB(self)->buf + start + old_n;
    memmove(tail - (old_n - n), tail, MB(self)->len - start - old_n);
    MB(self)->len -= old_n - n;
  }
  if (n > 0) memcpy(MB(self)->buf + start, p, n);
  return 0;
}

/* A non-negative size argument as size_t, or -1 with an exception. */
static int size_arg(PyObject *obj, const char *what, size_t *out) {
  Py_ssize_t v = PyNumber_AsSsize_t(obj, PyExc_OverflowError);
  if (v == -1 && PyErr_Occurred()) return -1;
  if (v < 0) {
    PyErr_Format(PyExc_ValueError, "%s must be >= 0, not %zd", what, v);
    return -1;
  }
  *out = (size_t) v;
  return 0;
}

/* A byte (0..255) from an int-like object. Out of range is ValueError even when the int
 * does not fit a C long, as bytearray does (not OverflowError). */
static int byte_value(PyObject *obj, int *out) {
  int overflow;
  long v = PyLong_AsLongAndOverflow(obj, &overflow);
  if (v == -1 && PyErr_Occurred()) return -1;
  if (overflow != 0 || v < 0 || v > 255) {
    PyErr_SetString(PyExc_ValueError, "byte must be in range(0, 256)");
    return -1;
  }
  *out = (int) v;
  return 0;
}

/* ---- construction and lifetime -------------------------------------------------- */

static PyObject *Mbuf_new(PyTypeObject *type, PyObject *args, PyObject *kwargs) {
  static char *kwlist[] = {"data", "capacity", NULL};
  PyObject *data = NULL;
  Py_ssize_t capacity = 0;
  if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|On:Mbuf", kwlist, &data, &capacity))
    return NULL;
  if (capacity < 0) return PyErr_Format(PyExc_ValueError, "capacity must be >= 0");
  MbufObject *self = (MbufObject *) type->tp_alloc(type, 0);
  if (self == NULL) return NULL;
  self->own_ptr = &self->own;
  self->mbp = &self->own_ptr;
  bytes_arg a = {.n = 0};
  if (data != NULL && bytes_arg_get(self, data, &a) < 0) goto fail;
  /* Allocate once: the data fits in exactly max(capacity, len(data)) bytes. */
  size_t want = (size_t) capacity > a.n ? (size_t) capacity : a.n;
  mbuf_init(MB(self), want);
  if (MB(self)->size != want) {
    PyErr_NoMemory();
  } else if (insert_bytes(self, 0, a.p, a.n) == 0) {
    if (data != NULL) bytes_arg_release(&a);
    return (PyObject *) self;
  }
  if (data != NULL) bytes_arg_release(&a);
fail:
  Py_DECREF(self);
  return NULL;
}

static void Mbuf_dealloc(MbufObject *self) {
  PyTypeObject *type = Py_TYPE(self);
  PyObject_GC_UnTrack(self);
  unslide(self);
  mbuf_free(&self->own);
  Py_CLEAR(self->owner);
  type->tp_free(self);
  Py_DECREF(type);
}

/* A view keeps its owner (a Connection) alive, and the owner may reach the view again
 * through user data: the collector must see that edge. */
static int Mbuf_traverse(MbufObject *self, visitproc visit, void *arg) {
  Py_VISIT(Py_TYPE(self));
  Py_VISIT(self->owner);
  return 0;
}

static int Mbuf_clear_refs(MbufObject *self) {
  /* Keep *mbp valid for as long as this object lives: point it at our own empty mbuf. */
  self->own_ptr = &self->own;
  self->mbp = &self->own_ptr;
  Py_CLEAR(self->owner);
  return 0;
}

PyObject *mgio_mbuf_view(mgio_state *st, PyObject *owner, struct mbuf **slot) {
  MbufObject *self = (MbufObject *) st->mbuf_type->tp_alloc(st->mbuf_type, 0);
  if (self == NULL) return NULL;
  self->mbp = slot;
  self->owner = Py_NewRef(owner);
  return (PyObject *) self;
}

/* ---- methods -------------------------------------------------------------------- */

static PyObject *Mbuf_append(MbufObject *self, PyObject *data) {
  if (insert_object(self, NULL, data) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *Mbuf_insert(MbufObject *self, PyObject *const *args, Py_ssize_t nargs) {
  if (nargs != 2)
    return PyErr_Format(PyExc_TypeError, "insert() takes 2 arguments (%zd given)", nargs);
  Py_ssize_t off = PyNumber_AsSsize_t(args[0], PyExc_IndexError);
  if (off == -1 && PyErr_Occurred()) return NULL;
  if (insert_object(self, &off, args[1]) < 0) return NULL;
  Py_RETURN_NONE;
}

static PyObject *Mbuf_remove(MbufObject *self, PyObject *arg) {
  size_t n;
  if (size_arg(arg, "count", &n) < 0) return NULL;
  if (n > MB(self)->len)
    return PyErr_Format(PyExc_ValueError, "cannot remove %zu bytes from %zu", n,
                        MB(self)->len);
  if (n == 0) Py_RETURN_NONE;
  if (check_resizable(self) < 0) return NULL;
  if (MB(self) == &self->own)
    slide_front(self, n);
  else
    mbuf_remove(MB(self), n);
  Py_RETURN_NONE;
}

static PyObject *Mbuf_clear(MbufObject *self, PyObject *unused) {
  (void) unused;
  if (check_resizable(self) < 0) return NULL;
  mbuf_clear(MB(self));
  unslide(self);
  Py_RETURN_NONE;
}

static PyObject *Mbuf_resize(MbufObject *self, PyObject *arg) {
  size_t n;
  if (size_arg(arg, "size", &n) < 0) return NULL;
  if (n < MB(self)->len)
    return PyErr_Format(PyExc_ValueError, "size %zu is below the length %zu", n,
                        MB(self)->len);
  if (check_resizable(self) < 0) return NULL;
  unslide(self);
  mbuf_resize(MB(self), n);
  if (MB(self)->size != n) return PyErr_NoMemory();
  Py_RETURN_NONE;
}

static PyObject *Mbuf_trim(MbufObject *self, PyObject *unused) {
  (void) unused;
  if (check_resizable(self) < 0) return NULL;
  unslide(self);
  mbuf_trim(MB(self));
  Py_RETURN_NONE;
}

static PyObject *Mbuf_free(MbufObject *self, PyObject *unused) {
  (void) unused;
  if (check_resizable(self) < 0) return NULL;
  unslide(self);
  mbuf_free(MB(self));
  Py_RETURN_NONE;
}

/* bytes(m): one copy of the data (without this, bytes() of a connection's buffer took a
 * snapshot export and copied that again). */
static PyObject *Mbuf_bytes(MbufObject *self, PyObject *unused) {
  (void) unused;
  return PyBytes_FromStringAndSize(storage(self), MBUF_LEN(self));
}

int mgio_mbuf_peek(mgio_state *st, PyObject *obj, struct mbuf **out) {
  if (!PyObject_TypeCheck(obj, st->mbuf_type)) return 0;
  *out = MB((MbufObject *) obj);
  return 1;
}

static PyObject *Mbuf_get_size(MbufObject *self, void *closure) {
  (void) closure;
  return PyLong_FromSize_t(MB(self)->size + self->head);
}

static PyObject *Mbuf_repr(MbufObject *self) {
  enum { SHOWN = 64 };
  Py_ssize_t n = MBUF_LEN(self) < SHOWN ? MBUF_LEN(self) : SHOWN;
  PyObject *head = PyBytes_FromStringAndSize(storage(self), n);
  if (head == NULL) return NULL;
  PyObject *r;
  if (n == MBUF_LEN(self))
    r = PyUnicode_FromFormat("Mbuf(%R, capacity=%zu)", head, MB(self)->size + self->head);
  else
    r = PyUnicode_FromFormat("<Mbuf len=%zu size=%zu %R...>", MB(self)->len,
                             MB(self)->size + self->head, head);
  Py_DECREF(head);
  return r;
}

/* ---- sequence and mapping protocols --------------------------------------------- */

static Py_ssize_t Mbuf_length(MbufObject *self) {
  return MBUF_LEN(self);
}

static PyObject *Mbuf_item(MbufObject *self, Py_ssize_t i) {
  if (i < 0 || i >= MBUF_LEN(self)) {
    PyErr_SetString(PyExc_IndexError, "Mbuf index out of range");
    return NULL;
  }
  return PyLong_FromLong((unsigned char) MB(self)->buf[i]);
}

static PyObject *Mbuf_subscript(MbufObject *self, PyObject *key) {
  if (PyIndex_Check(key)) {
    Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred()) return NULL;
    return Mbuf_item(self, i < 0 ? i + MBUF_LEN(self) : i);
  }
  if (!PySlice_Check(key))
    return PyErr_Format(PyExc_TypeError, "Mbuf indices must be integers or slices, not %.200s",
                        Py_TYPE(key)->tp_name);
  Py_ssize_t start, stop, step;
  if (PySlice_Unpack(key, &start, &stop, &step) < 0) return NULL;
  Py_ssize_t n = PySlice_AdjustIndices(MBUF_LEN(self), &start, &stop, step);
  if (step == 1) return PyBytes_FromStringAndSize(storage(self) + start, n);
  PyObject *r = PyBytes_FromStringAndSize(NULL, n);
  if (r == NULL) return NULL;
  char *out = PyBytes_AS_STRING(r);
  for (Py_ssize_t k = 0; k < n; k++, start += step) out[k] = MB(self)->buf[start];
  return r;
}

static int assign_item(MbufObject *self, PyObject *key, PyObject *value) {
  Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
  if (i == -1 && PyErr_Occurred()) return -1;
  /* The value before the bounds check: its __index__ may shrink or free this Mbuf, and
   * the write must not land past the new end (bytearray had this bug: gh-91153). */
  int byte = 0;
  if (value != NULL && byte_value(value, &byte) < 0) return -1;
  if (i < 0) i += MBUF_LEN(self);
  if (i < 0 || i >= MBUF_LEN(self)) {
    PyErr_SetString(PyExc_IndexError, "Mbuf index out of range");
    return -1;
  }
  if (value == NULL) return replace_range(self, (size_t) i, 1, NULL, 0);
  MB(self)->buf[i] = (char) byte;
  return 0;
}

static int assign_extended_slice(MbufObject *self, Py_ssize_t start, Py_ssize_t step,
                                 Py_ssize_t n, const bytes_arg *a) {
  if ((size_t) n != a->n) {
    PyErr_Format(PyExc_ValueError,
                 "attempt to assign bytes of size %zu to extended slice of size %zd", a->n, n);
    return -1;
  }
  for (Py_ssize_t k = 0; k < n; k++, start += step) MB(self)->buf[start] = a->p[k];
  return 0;
}

/* Assigns a (NULL: deletes) to the slice key, resolved against the current length. */
static int assign_slice(MbufObject *self, PyObject *key, const bytes_arg *a) {
  Py_ssize_t start, stop, step;
  if (PySlice_Unpack(key, &start, &stop, &step) < 0) return -1;
  Py_ssize_t n = PySlice_AdjustIndices(MBUF_LEN(self), &start, &stop, step);
  if (step == 1)
    return replace_range(self, (size_t) start, (size_t) n, a ? a->p : NULL, a ? a->n : 0);
  if (a == NULL) {
    PyErr_SetString(PyExc_ValueError, "Mbuf does not delete extended slices");
    return -1;
  }
  return assign_extended_slice(self, start, step, n, a);
}

static int Mbuf_ass_subscript(MbufObject *self, PyObject *key, PyObject *value) {
  if (PyIndex_Check(key)) return assign_item(self, key, value);
  if (!PySlice_Check(key)) {
    PyErr_Format(PyExc_TypeError, "Mbuf indices must be integers or slices, not %.200s",
                 Py_TYPE(key)->tp_name);
    return -1;
  }
  /* The value first, the slice after: acquiring the value (__buffer__, 3.12+) or the
   * slice's __index__ may change this Mbuf, so the range is fitted to the final length. */
  bytes_arg a = {.n = 0};
  if (value != NULL && bytes_arg_get(self, value, &a) < 0) return -1;
  int rc = assign_slice(self, key, value != NULL ? &a : NULL);
  if (value != NULL) bytes_arg_release(&a);
  return rc;
}

static PyObject *Mbuf_inplace_concat(MbufObject *self, PyObject *other) {
  if (insert_object(self, NULL, other) < 0) return NULL;
  return Py_NewRef(self);
}

/* The haystack is taken only after the needle is converted: its __index__ or __buffer__
 * may change or free this Mbuf's storage. */
static int Mbuf_contains(MbufObject *self, PyObject *needle) {
  if (PyIndex_Check(needle)) {
    int byte;
    if (byte_value(needle, &byte) < 0) return -1;
    return mg_strchr(mg_mk_str_n(storage(self), MB(self)->len), byte) != NULL;
  }
  bytes_arg a;
  if (bytes_arg_get(self, needle, &a) < 0) return -1;
  struct mg_str hay = mg_mk_str_n(storage(self), MB(self)->len);
  int found = mg_strstr(hay, mg_mk_str_n(a.p, a.n)) != NULL;
  bytes_arg_release(&a);
  return found;
}

/* ---- comparison ----------------------------------------------------------------- */

static PyObject *Mbuf_richcompare(MbufObject *self, PyObject *other, int op) {
  Py_buffer view;
  if (PyObject_GetBuffer(other, &view, PyBUF_SIMPLE) < 0) {
    PyErr_Clear();
    Py_RETURN_NOTIMPLEMENTED;
  }
  int c = mg_strcmp(mg_mk_str_n(storage(self), MB(self)->len),
                    mg_mk_str_n((const char *) view.buf, (size_t) view.len));
  PyBuffer_Release(&view);
  Py_RETURN_RICHCOMPARE(c, 0, op);
}

/* ---- buffer protocol ------------------------------------------------------------ */

/* A connection's buffers change under the poll loop (reads append, and appending may
 * move the storage), so an export of a view is a read-only snapshot, never the live
 * memory: copy on escape, as DESIGN allows. */
static int snapshot_buffer(MbufObject *self, Py_buffer *view, int flags) {
  if (flags & PyBUF_WRITABLE) {
    PyErr_SetString(PyExc_BufferError,
                    "a connection's buffer exports read-only snapshots; use bytes() or its "
                    "methods to change it");
    return -1;
  }
  PyObject *copy = PyBytes_FromStringAndSize(storage(self), MBUF_LEN(self));
  if (copy == NULL) return -1;
  int rc = PyBuffer_FillInfo(view, copy, PyBytes_AS_STRING(copy), MBUF_LEN(self), 1, flags);
  Py_DECREF(copy); /* the view holds its own reference */
  return rc;
}

static int Mbuf_getbuffer(MbufObject *self, Py_buffer *view, int flags) {
  if (self->owner != NULL) return snapshot_buffer(self, view, flags);
  if (PyBuffer_FillInfo(view, (PyObject *) self, storage(self), MBUF_LEN(self), 0, flags) < 0)
    return -1;
  self->exports++;
  return 0;
}

static void Mbuf_releasebuffer(MbufObject *self, Py_buffer *view) {
  (void) view;
  self->exports--;
}

/* ---- type ----------------------------------------------------------------------- */

static PyMethodDef Mbuf_methods[] = {
    {"append", (PyCFunction) Mbuf_append, METH_O,
     "append($self, data, /)\n--\n\nAppend the bytes of a bytes-like object."},
    {"insert", (PyCFunction) (void (*)(void)) Mbuf_insert, METH_FASTCALL,
     "insert($self, offset, data, /)\n--\n\nInsert bytes at offset (0 <= offset <= len; negative "
     "counts from the end). IndexError when out of range."},
    {"remove", (PyCFunction) Mbuf_remove, METH_O,
     "remove($self, count, /)\n--\n\nDrop count bytes from the front. ValueError when count > len."},
    {"clear", (PyCFunction) Mbuf_clear, METH_NOARGS,
     "clear($self)\n--\n\nEmpty the data and keep the allocation."},
    {"resize", (PyCFunction) Mbuf_resize, METH_O,
     "resize($self, size, /)\n--\n\nSet the allocation to exactly size bytes (size >= len)."},
    {"trim", (PyCFunction) Mbuf_trim, METH_NOARGS,
     "trim($self)\n--\n\nShrink the allocation to the data length."},
    {"__bytes__", (PyCFunction) Mbuf_bytes, METH_NOARGS, "A bytes copy of the data."},
    {"free", (PyCFunction) Mbuf_free, METH_NOARGS,
     "free($self)\n--\n\nRelease the storage; the Mbuf becomes empty with size 0."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Mbuf_getset[] = {
    {"size", (getter) Mbuf_get_size, NULL, "Bytes allocated (the capacity); >= len.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyDoc_STRVAR(Mbuf_doc,
             "Mbuf(data=b'', capacity=0)\n--\n\n"
             "A growable byte buffer (the C mbuf of mgio).\n\n"
             "len() is the data length and .size the allocation. It supports indexing, "
             "slicing (slices are bytes), comparison with bytes-like objects, `in`, `+=`, "
             "and exports a writable buffer (memoryview, socket.recv_into, struct.pack_into). "
             "While a view is exported, operations that change the length or the storage "
             "raise BufferError, as bytearray does.");

static PyType_Slot Mbuf_slots[] = {
    {Py_tp_doc, (void *) Mbuf_doc},
    {Py_tp_new, Mbuf_new},
    {Py_tp_dealloc, Mbuf_dealloc},
    {Py_tp_traverse, Mbuf_traverse},
    {Py_tp_clear, Mbuf_clear_refs},
    {Py_tp_repr, Mbuf_repr},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_richcompare, Mbuf_richcompare},
    {Py_tp_methods, Mbuf_methods},
    {Py_tp_getset, Mbuf_getset},
    {Py_sq_length, Mbuf_length},
    {Py_sq_item, Mbuf_item},
    {Py_sq_contains, Mbuf_contains},
    {Py_sq_inplace_concat, Mbuf_inplace_concat},
    {Py_mp_length, Mbuf_length},
    {Py_mp_subscript, Mbuf_subscript},
    {Py_mp_ass_subscript, Mbuf_ass_subscript},
    {Py_bf_getbuffer, Mbuf_getbuffer},
    {Py_bf_releasebuffer, Mbuf_releasebuffer},
    {0, NULL},
};

static PyType_Spec Mbuf_spec = {
    .name = "mgio.Mbuf",
    .basicsize = sizeof(MbufObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE | Py_TPFLAGS_HAVE_GC,
    .slots = Mbuf_slots,
};

int mgio_mbuf_type_add(PyObject *module, mgio_state *st) {
  st->mbuf_type = (PyTypeObject *) PyType_FromModuleAndSpec(module, &Mbuf_spec, NULL);
  if (st->mbuf_type == NULL) return -1;
  return PyModule_AddType(module, st->mbuf_type);
}
