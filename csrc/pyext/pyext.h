/*
 * Shared declarations of the mgio._core extension module: the per-module state and the
 * entry points of each type's file. This is the only part of mgio that includes Python.h.
 */
#ifndef MGIO_PYEXT_H
#define MGIO_PYEXT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include "mgio.h"

/* Everything the module owns lives here, never in C globals, so that two interpreters
 * (or a reloaded module) never share objects. */
typedef struct {
  PyTypeObject *mbuf_type;
  PyTypeObject *manager_type;
  PyTypeObject *connection_type;
} mgio_state;

typedef struct ManagerObject ManagerObject;

/* mgio.Connection: the Python face of one C connection. While the C connection lives,
 * nc->user_data holds a strong reference to this object; on MG_EV_CLOSE the two are
 * detached and the object stays usable as a closed connection. */
typedef struct {
  PyObject_HEAD
  struct mg_connection *nc; /* NULL once closed */
  ManagerObject *manager;   /* strong */
  PyObject *handler;        /* callable(conn, ev, data) or None */
  unsigned int wanted;      /* 1 << ev for each event the handler takes (_mgio_events) */
  PyObject *user_data;      /* anything the user likes; None by default */
  struct mbuf *recv_slot;   /* &nc->recv_mbuf while open, then &dead_recv */
  struct mbuf *send_slot;   /* &nc->send_mbuf while open, then &dead_send */
  struct mbuf dead_recv;    /* what the buffers show after close: empty, and separate */
  struct mbuf dead_send;
  PyObject *weakrefs;
} ConnectionObject;

/* mgio.Manager: owns a struct mg_mgr and dispatches its events to Python handlers. */
struct ManagerObject {
  PyObject_HEAD
  struct mg_mgr mgr;
  mgio_state *state;
  int open;                 /* mg_mgr_init ran and mg_mgr_free has not */
  int polling;              /* inside poll(): a second poll() raises */
  int quiet;                /* being freed by the collector: no Python handler runs */
  int watched;              /* fileno() was handed out: an event loop may wait on it */
  int woken;                /* a wakeup is queued since the last poll (see touch) */
  int stopped;              /* stop() was called: run() returns */
  char poll_events;         /* deliver MG_EV_POLL to handlers (a T_BOOL member) */
  PyObject *error;          /* the first exception a handler raised, until re-raised */
  PyObject *broadcasts;     /* list of (func, args) queued by broadcast() */
  PyThreadState *waiting;   /* saved while the poll wait runs without the GIL */
  PyObject *weakrefs;
};

/* A new Mbuf showing *slot (a connection's buffer). It keeps `owner` alive; the owner
 * keeps *slot pointing at a valid mbuf for as long as it lives. New reference. */
PyObject *mgio_mbuf_view(mgio_state *st, PyObject *owner, struct mbuf **slot);

/* If `obj` is an Mbuf (or a view), sets *out to the mbuf it shows and returns 1; else 0.
 * The pointer is valid until Python code next runs. */
int mgio_mbuf_peek(mgio_state *st, PyObject *obj, struct mbuf **out);

/* Create each type and add it to `module`; 0 on success, -1 with an exception. */
int mgio_mbuf_type_add(PyObject *module, mgio_state *st);
int mgio_connection_type_add(PyObject *module, mgio_state *st);
int mgio_manager_type_add(PyObject *module, mgio_state *st);

/* A new Connection for `nc` (registered in nc->user_data, which owns the returned
 * reference), with `handler`. NULL with an exception on failure. Borrowed reference. */
ConnectionObject *mgio_connection_attach(ManagerObject *m, struct mg_connection *nc,
                                         PyObject *handler);

/* Separates `co` from its C connection (on MG_EV_CLOSE) and drops the C side's
 * reference. */
void mgio_connection_detach(ConnectionObject *co);

/* Call after a change made outside poll() that the backend must see (a new connection,
 * output queued, a timer moved, a buffer drained): once fileno() has been handed out,
 * wakes the manager, so that the descriptor turns readable and the event loop waiting on
 * it polls. Otherwise nothing is needed: poll() brings the registrations up to date
 * before it waits (and on its way out). */
void mgio_manager_touch(ManagerObject *m);

/* mgio_manager_touch for the manager of `conn` (a Connection), if it is still open. */
void mgio_connection_touch(PyObject *conn);

/* The C handler of every connection made from Python: turns events into calls of the
 * connection's Python handler. */
void mgio_dispatch(struct mg_connection *nc, int ev, void *ev_data);

/* An address as Python's socket module writes it: (host, port); None if unset. */
PyObject *mgio_address_tuple(const union socket_address *sa);

#endif
