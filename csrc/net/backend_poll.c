/*
 * poll(2) backend, for systems without epoll or when built with MG_ENABLE_POLL_BACKEND:
 * the descriptor array is rebuilt from the connection list on every wait. No single
 * descriptor stands for the manager, so mg_mgr_fileno() returns -1.
 */
#if !defined(__linux__) || defined(MG_ENABLE_POLL_BACKEND)
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <stdlib.h>

#include "internal.h"

/* Parallel arrays: pfds[i] watches the socket of conns[i] (NULL: the control socket). */
struct poll_state {
  size_t cap;
  struct pollfd *pfds;
  struct mg_connection **conns;
};

int mg__backend_init(struct mg_mgr *mgr) {
  mgr->backend_fd = -1;
  mgr->backend_state = calloc(1, sizeof(struct poll_state));
  return mgr->backend_state == NULL ? -1 : 0;
}

void mg__backend_free(struct mg_mgr *mgr) {
  struct poll_state *st = (struct poll_state *) mgr->backend_state;
  if (st != NULL) {
    free(st->pfds);
    free(st->conns);
    free(st);
  }
  mgr->backend_state = NULL;
}

void mg__backend_forget(struct mg_mgr *mgr, struct mg_connection *c) {
  (void) mgr;
  c->io_interest = 0;
}

void mg__backend_sync(struct mg_mgr *mgr) {
  (void) mgr; /* the array is rebuilt on every wait */
}

/* Room for n descriptors; 0 or -1. */
static int reserve(struct poll_state *st, size_t n) {
  if (n <= st->cap) return 0;
  size_t cap = n * 2;
  struct pollfd *p = (struct pollfd *) realloc(st->pfds, cap * sizeof(*p));
  if (p == NULL) return -1;
  st->pfds = p;
  struct mg_connection **c = (struct mg_connection **) realloc(st->conns, cap * sizeof(*c));
  if (c == NULL) return -1;
  st->conns = c;
  st->cap = cap;
  return 0;
}

struct poll_args {
  struct pollfd *pfds;
  nfds_t n;
  int ms;
};

static int call_poll(void *arg) {
  struct poll_args *a = (struct poll_args *) arg;
  return poll(a->pfds, a->n, a->ms);
}

static void watch(struct poll_state *st, nfds_t i, sock_t fd, unsigned int want,
                  struct mg_connection *c) {
  st->pfds[i].fd = fd;
  st->pfds[i].events =
      (short) (((want & MG__IO_READ) ? POLLIN : 0) | ((want & MG__IO_WRITE) ? POLLOUT : 0));
  st->pfds[i].revents = 0;
  st->conns[i] = c;
}

int mg__backend_wait(struct mg_mgr *mgr, int ms, int *ctl_ready) {
  struct poll_state *st = (struct poll_state *) mgr->backend_state;
  size_t n = 1;
  for (struct mg_connection *c = mgr->active_connections; c != NULL; c = c->next) n++;
  if (reserve(st, n) != 0) {
    errno = ENOMEM;
    return -1;
  }
  nfds_t used = 0;
  watch(st, used++, mgr->ctl[1], MG__IO_READ, NULL);
  for (struct mg_connection *c = mgr->active_connections; c != NULL; c = c->next) {
    unsigned int want = mg__io_wanted(c);
    c->io_interest = want;
    if (want != 0) watch(st, used++, c->sock, want, c);
  }
  struct poll_args args = {st->pfds, used, ms};
  int rc = mg__blocking_call(mgr, call_poll, &args);
  for (nfds_t i = 0; rc > 0 && i < used; i++) {
    short r = st->pfds[i].revents;
    if (r == 0) continue;
    if (st->conns[i] == NULL) {
      *ctl_ready = 1;
      continue;
    }
    st->conns[i]->io_ready |= ((r & POLLIN) ? MG__IO_READ : 0u) |
                              ((r & POLLOUT) ? MG__IO_WRITE : 0u) |
                              ((r & (POLLERR | POLLHUP | POLLNVAL)) ? MG__IO_ERROR : 0u);
  }
  return rc < 0 ? -1 : 0;
}
#else
typedef int mg__no_poll_backend_here; /* ISO C wants something in every file */
#endif
