/* mgio._core: multi-phase initialisation; every type is a heap type in module state. */
#include "pyext.h"

static int core_exec(PyObject *module) {
  mgio_state *st = (mgio_state *) PyModule_GetState(module);
  if (mgio_mbuf_type_add(module, st) < 0 || mgio_connection_type_add(module, st) < 0 ||
      mgio_manager_type_add(module, st) < 0 || mgio_http_message_type_add(module, st) < 0 ||
      mgio_ws_message_type_add(module, st) < 0 ||
      mgio_multipart_part_type_add(module, st) < 0)
    return -1;
  /* looked up on every handler a connection gets: made once, not per lookup */
  st->events_name = PyUnicode_InternFromString("_mgio_events");
  st->direct_name = PyUnicode_InternFromString("_mgio_direct");
  if (st->events_name == NULL || st->direct_name == NULL) return -1;
  return PyModule_AddStringConstant(module, "__version__", MGIO_VERSION);
}

static int core_traverse(PyObject *module, visitproc visit, void *arg) {
  mgio_state *st = (mgio_state *) PyModule_GetState(module);
  Py_VISIT(st->mbuf_type);
  Py_VISIT(st->manager_type);
  Py_VISIT(st->connection_type);
  Py_VISIT(st->http_message_type);
  Py_VISIT(st->ws_message_type);
  Py_VISIT(st->multipart_part_type);
  Py_VISIT(st->headers_class);
  Py_VISIT(st->ws_ops);
  Py_VISIT(st->ws_error_class);
  Py_VISIT(st->events_name);
  Py_VISIT(st->direct_name);
  return 0;
}

static int core_clear(PyObject *module) {
  mgio_state *st = (mgio_state *) PyModule_GetState(module);
  Py_CLEAR(st->mbuf_type);
  Py_CLEAR(st->manager_type);
  Py_CLEAR(st->connection_type);
  Py_CLEAR(st->http_message_type);
  Py_CLEAR(st->ws_message_type);
  Py_CLEAR(st->multipart_part_type);
  Py_CLEAR(st->headers_class);
  Py_CLEAR(st->ws_ops);
  Py_CLEAR(st->ws_error_class);
  Py_CLEAR(st->events_name);
  Py_CLEAR(st->direct_name);
  return 0;
}

static void core_free(void *module) {
  core_clear((PyObject *) module);
}

static PyModuleDef_Slot core_slots[] = {
    {Py_mod_exec, core_exec},
    {0, NULL},
};

static PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "mgio._core",
    .m_doc = "The C core of mgio. Use the mgio package, which re-exports it.",
    .m_size = sizeof(mgio_state),
    .m_slots = core_slots,
    .m_traverse = core_traverse,
    .m_clear = core_clear,
    .m_free = core_free,
};

PyMODINIT_FUNC PyInit__core(void) {
  return PyModuleDef_Init(&core_module);
}
