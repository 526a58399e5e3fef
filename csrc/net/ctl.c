/*
 * The control channel: a datagram socket pair per manager. Other threads write to ctl[0]
 * (broadcasts, wakeups, resolver results); the poll loop reads ctl[1]. Datagrams keep
 * each message whole, so any number of writers may send at once.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

#include "ctl.h"

/* Runs a broadcast callback for every connection, as the poll loop does. */
static void run_broadcast(struct mg_mgr *mgr, mg_event_handler_t cb, void *data) {
  struct mg_connection *c, *next;
  for (c = mgr->active_connections; c != NULL; c = next) {
    next = c->next;
    mg__call(c, cb, MG_EV_POLL, data);
  }
}

void mg__ctl_drain(struct mg_mgr *mgr) {
  union {
    struct mg__ctl_msg msg;
    char bytes[sizeof(struct mg__ctl_msg) + MG_CTL_MSG_MESSAGE_SIZE];
  } in;
  for (;;) {
    ssize_t n = recv(mgr->ctl[1], &in, sizeof(in), MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < (ssize_t) sizeof(in.msg)) return; /* EAGAIN, or nothing we sent */
    struct mg__ctl_msg *m = &in.msg;
    if (m->type == MG__CTL_BROADCAST) {
      run_broadcast(mgr, m->cb, in.bytes + sizeof(*m));
      char ack = 1;
      while (send(mgr->ctl[1], &ack, 1, MSG_NOSIGNAL) < 0 && errno == EINTR) {
      }
    } else if (m->type == MG__CTL_RESOLVED) {
      mg__resolve_done(mgr, m->id, m->status, &m->sa, m->sock_type);
    } /* MG__CTL_WAKE: waking up was the whole point */
  }
}

int mg__ctl_send(sock_t fd, const void *msg, size_t len, int wait) {
  for (;;) {
    if (send(fd, msg, len, MSG_NOSIGNAL | MSG_DONTWAIT) >= 0) return 0;
    if (errno == EINTR) continue;
    if (!wait || (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS)) return -1;
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    poll(&p, 1, 100); /* the loop is busy; give it a moment */
  }
}

/* Blocks until the poll loop acknowledges one broadcast. */
static void wait_ack(sock_t fd) {
  for (;;) {
    char ack;
    ssize_t n = recv(fd, &ack, 1, MSG_DONTWAIT);
    if (n == 1) return;
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return;
    struct pollfd p = {.fd = fd, .events = POLLIN};
    poll(&p, 1, -1);
  }
}

void mg_broadcast(struct mg_mgr *mgr, mg_event_handler_t cb, void *data, size_t len) {
  if (data == NULL || len >= MG_CTL_MSG_MESSAGE_SIZE || mgr->ctl[0] == INVALID_SOCKET) return;
  if (mg__polling_mgr == mgr) {
    run_broadcast(mgr, cb, data); /* from a handler: waiting for the loop would deadlock */
    return;
  }
  union {
    struct mg__ctl_msg msg;
    char bytes[sizeof(struct mg__ctl_msg) + MG_CTL_MSG_MESSAGE_SIZE];
  } out;
  memset(&out.msg, 0, sizeof(out.msg));
  out.msg.type = MG__CTL_BROADCAST;
  out.msg.cb = cb;
  memcpy(out.bytes + sizeof(out.msg), data, len);
  if (mg__ctl_send(mgr->ctl[0], &out, sizeof(out.msg) + len, 1) == 0) wait_ack(mgr->ctl[0]);
}

void mg_mgr_wakeup(struct mg_mgr *mgr) {
  struct mg__ctl_msg msg;
  if (mgr->ctl[0] == INVALID_SOCKET) return;
  memset(&msg, 0, sizeof(msg));
  msg.type = MG__CTL_WAKE;
  /* A full socket means the loop has messages to read already: it will wake anyway. */
  mg__ctl_send(mgr->ctl[0], &msg, sizeof(msg), 0);
}
