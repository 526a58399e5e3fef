/*
 * epoll(7) backend, level-triggered: the registration of each socket follows what its
 * connection wants (read unless back-pressured, write while output is queued), updated
 * only when that changes. The epoll descriptor itself is what mg_mgr_fileno() returns.
 */
#if defined(__linux__) && !defined(MG_ENABLE_POLL_BACKEND)
#include <errno.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "internal.h"

#define MAX_EVENTS 256

static uint32_t epoll_bits(unsigned int want) {
  return ((want & MG__IO_READ) ? EPOLLIN : 0u) | ((want & MG__IO_WRITE) ? EPOLLOUT : 0u);
}

int mg__backend_init(struct mg_mgr *mgr) {
  mgr->backend_fd = epoll_create1(EPOLL_CLOEXEC);
  if (mgr->backend_fd < 0) return -1;
  struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(mgr->backend_fd, EPOLL_CTL_ADD, mgr->ctl[1], &ev) != 0) {
    close(mgr->backend_fd);
    mgr->backend_fd = -1;
    return -1;
  }
  return 0;
}

void mg__backend_free(struct mg_mgr *mgr) {
  if (mgr->backend_fd >= 0) close(mgr->backend_fd);
  mgr->backend_fd = -1;
}

void mg__backend_forget(struct mg_mgr *mgr, struct mg_connection *c) {
  if (c->io_interest & MG__IO_REGISTERED)
    epoll_ctl(mgr->backend_fd, EPOLL_CTL_DEL, c->sock, NULL);
  c->io_interest = 0;
}

/* Registers, changes or drops the socket of `c` to match what it wants now. */
static void update(struct mg_mgr *mgr, struct mg_connection *c) {
  unsigned int want = mg__io_wanted(c);
  unsigned int have = c->io_interest;
  if ((have & MG__IO_REGISTERED) && (have & ~MG__IO_REGISTERED) == want) return;
  if (want == 0) {
    mg__backend_forget(mgr, c); /* not even EPOLLHUP then: no busy loop on a full buffer */
    return;
  }
  struct epoll_event ev = {.events = epoll_bits(want), .data.ptr = c};
  int op = (have & MG__IO_REGISTERED) ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  if (epoll_ctl(mgr->backend_fd, op, c->sock, &ev) != 0) {
    mg__mark_closing(c, errno);
    return;
  }
  c->io_interest = want | MG__IO_REGISTERED;
}

struct epoll_args {
  int fd;
  struct epoll_event *events;
  int ms;
};

static int call_epoll_wait(void *arg) {
  struct epoll_args *a = (struct epoll_args *) arg;
  return epoll_wait(a->fd, a->events, MAX_EVENTS, a->ms);
}

void mg__backend_sync(struct mg_mgr *mgr) {
  for (struct mg_connection *c = mgr->active_connections; c != NULL; c = c->next)
    update(mgr, c);
}

int mg__backend_wait(struct mg_mgr *mgr, int ms, int *ctl_ready) {
  mg__backend_sync(mgr);
  struct epoll_event events[MAX_EVENTS];
  struct epoll_args args = {mgr->backend_fd, events, ms};
  int n = mg__blocking_call(mgr, call_epoll_wait, &args);
  if (n < 0) return -1;
  for (int i = 0; i < n; i++) {
    struct mg_connection *c = (struct mg_connection *) events[i].data.ptr;
    uint32_t e = events[i].events;
    if (c == NULL) {
      *ctl_ready = 1;
      continue;
    }
    c->io_ready |= ((e & EPOLLIN) ? MG__IO_READ : 0u) | ((e & EPOLLOUT) ? MG__IO_WRITE : 0u) |
                   ((e & (EPOLLERR | EPOLLHUP)) ? MG__IO_ERROR : 0u);
  }
  return 0;
}
#else
typedef int mg__no_epoll_here; /* ISO C wants something in every file */
#endif
