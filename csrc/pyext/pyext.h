/*
 * Shared declarations of the mgio._core extension module: the per-module state and the
 * entry points of each type's file. This is the only part of mgio that includes Python.h.
 */
#ifndef MGIO_PYEXT_H
#define MGIO_PYEXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "mgio.h"

/* Everything the module owns lives here, never in C globals, so that two interpreters
 * (or a reloaded module) never share objects. */
typedef struct {
  PyTypeObject *mbuf_type;
} mgio_state;

/* Creates the Mbuf type and adds it to `module`; 0 on success, -1 with an exception. */
int mgio_mbuf_type_add(PyObject *module, mgio_state *st);

#endif
