/*
 * The manager: one poll iteration, event dispatch, deferred closing and freeing.
 *
 * A connection marked for closing stays allocated until the end of the iteration, so no
 * handler (nor the loop walking the list) ever touches freed memory; it then receives
 * MG_EV_CLOSE, its last event, and is freed.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* The manager whose mg_mgr_poll runs on this thread (mg_broadcast from a handler runs
 * its calls directly instead of waiting for an iteration that cannot come). */
_Thread_local struct mg_mgr *mg__polling_mgr;

double mg_time(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

void mg__call(struct mg_connection *c, mg_event_handler_t h, int ev, void *ev_data) {
  if (h == NULL) h = c->proto_handler != NULL ? c->proto_handler : c->handler;
  if (ev != MG_EV_POLL) c->mgr->num_calls++;
  if (h == NULL) return;
  unsigned long before = c->flags;
  int is_user = h == c->handler;
  h(c, ev, ev_data);
  if (is_user) {
    c->flags = (before & ~(unsigned long) MG__USER_MUTABLE_FLAGS) |
               (c->flags & (unsigned long) MG__USER_MUTABLE_FLAGS);
  }
}

void mg__mark_closing(struct mg_connection *c, int err) {
  if (err != 0 && c->err == 0) c->err = err;
  c->flags |= MG_F_CLOSE_IMMEDIATELY;
}

void mg_mgr_init_opt(struct mg_mgr *mgr, void *user_data, struct mg_mgr_init_opts opts) {
  memset(mgr, 0, sizeof(*mgr));
  mgr->user_data = user_data;
  mgr->nameserver = opts.nameserver;
  mgr->ctl[0] = mgr->ctl[1] = INVALID_SOCKET;
  mgr->backend_fd = -1;
  mgr->max_connections = MG_MAX_CONNECTIONS;
  /* A peer that closes early must cost an EPIPE, not the process. */
  signal(SIGPIPE, SIG_IGN);
  if (!mg_socketpair(mgr->ctl, SOCK_DGRAM)) {
    mgr->ctl[0] = mgr->ctl[1] = INVALID_SOCKET;
    return;
  }
  if (mg__backend_init(mgr) != 0) {
    close(mgr->ctl[0]);
    close(mgr->ctl[1]);
    mgr->ctl[0] = mgr->ctl[1] = INVALID_SOCKET;
  }
}

void mg_mgr_init(struct mg_mgr *mgr, void *user_data) {
  struct mg_mgr_init_opts opts;
  memset(&opts, 0, sizeof(opts));
  mg_mgr_init_opt(mgr, user_data, opts);
}

struct mg_connection *mg_next(struct mg_mgr *mgr, struct mg_connection *c) {
  return c == NULL ? mgr->active_connections : c->next;
}

double mg_set_timer(struct mg_connection *c, double timestamp) {
  if (c == NULL) return 0; /* e.g. the result of a failed mg_add_sock or mg_connect */
  double previous = c->ev_timer_time;
  c->ev_timer_time = timestamp;
  return previous;
}

int mg_mgr_fileno(struct mg_mgr *mgr) {
  return mgr->backend_fd;
}

static int close_due(const struct mg_connection *c) {
  const unsigned int held = MG__C_EOF | MG__C_HOLD;
  return (c->flags & MG_F_CLOSE_IMMEDIATELY) ||
         ((c->flags & MG_F_SEND_AND_CLOSE) && c->send_mbuf.len == 0 &&
          (c->internal_flags & held) != held);
}

/* Work the next iteration must do even if no descriptor becomes ready. */
static int has_pending_work(const struct mg_connection *c) {
  return close_due(c) || (c->io_ready & MG__IO_PENDING) ||
         ((c->internal_flags & MG__C_UDP_CHILD) && c->send_mbuf.len > 0);
}

double mg_mgr_next_timer(struct mg_mgr *mgr) {
  double next = 0;
  for (struct mg_connection *c = mgr->active_connections; c != NULL; c = c->next) {
    if (has_pending_work(c)) return 1; /* a time long past: poll now */
    if (c->ev_timer_time > 0 && (next == 0 || c->ev_timer_time < next))
      next = c->ev_timer_time;
    if (c->wake_at > 0 && (next == 0 || c->wake_at < next)) next = c->wake_at;
  }
  return next;
}

/* How long the backend may wait: `milli`, cut short by the earliest timer. */
static int wait_ms(struct mg_mgr *mgr, int milli, double now) {
  double next = mg_mgr_next_timer(mgr);
  if (next == 0) return milli;
  if (next <= now) return 0;
  double ms = (next - now) * 1000.0 + 1.0; /* round up: never wake just before it */
  return milli >= 0 && ms > (double) milli ? milli : (int) ms;
}

/* Unlinks and releases `c`; its MG_EV_CLOSE has been delivered. */
static void free_conn(struct mg_mgr *mgr, struct mg_connection *c) {
  if (c->prev != NULL) c->prev->next = c->next;
  if (c->next != NULL) c->next->prev = c->prev;
  if (mgr->active_connections == c) mgr->active_connections = c->next;
  if (c->flags & MG_F_LISTENING) {
    /* Accepted connections outlive their listener; they must not point at it. */
    for (struct mg_connection *o = mgr->active_connections; o != NULL; o = o->next)
      if (o->listener == c) o->listener = NULL;
  }
  if (c->sock != INVALID_SOCKET && !(c->internal_flags & MG__C_UDP_CHILD)) {
    mg__backend_forget(mgr, c);
    close(c->sock);
  }
  if (c->internal_flags & MG__C_COUNTED) mgr->num_connections--;
  if (c->proto_data_destructor != NULL) c->proto_data_destructor(c->proto_data);
  mbuf_free(&c->recv_mbuf);
  mbuf_free(&c->send_mbuf);
  free(c);
}

/* A UDP listener takes its peers down with it: they share its socket. */
static void mark_udp_children(struct mg_mgr *mgr, struct mg_connection *listener) {
  for (struct mg_connection *o = mgr->active_connections; o != NULL; o = o->next)
    if (o->listener == listener && (o->internal_flags & MG__C_UDP_CHILD))
      mg__mark_closing(o, 0);
}

/* Delivers MG_EV_CLOSE to every connection due to close and frees it. A CLOSE handler
 * may mark others, so repeat until none is due. Listeners go after their UDP peers. */
static void close_due_connections(struct mg_mgr *mgr, int everything) {
  int again = 1;
  while (again) {
    again = 0;
    struct mg_connection *c, *next;
    for (c = mgr->active_connections; c != NULL; c = c->next)
      if ((everything || close_due(c)) && (c->flags & MG_F_LISTENING) &&
          (c->flags & MG_F_UDP))
        mark_udp_children(mgr, c);
    for (c = mgr->active_connections; c != NULL; c = next) {
      next = c->next;
      if (!everything && !close_due(c)) continue;
      c->flags |= MG_F_CLOSE_IMMEDIATELY;
      mg__call(c, NULL, MG_EV_CLOSE, NULL);
      again = 1;
      /* the handler may have marked `next`; it stays linked until its own turn */
      next = c->next;
      free_conn(mgr, c);
    }
  }
}

int mg__blocking_call(struct mg_mgr *mgr, int (*call)(void *arg), void *arg) {
  if (mgr->before_wait != NULL) mgr->before_wait(mgr);
  int rc = call(arg);
  int saved = errno;
  if (mgr->after_wait != NULL) mgr->after_wait(mgr);
  errno = saved;
  return rc;
}

/* Timer, poll event, I/O and the UDP peers' sends of one connection. */
static void service(struct mg_connection *c, double now) {
  if (c->flags & MG_F_CLOSE_IMMEDIATELY) return;
  if (c->ev_timer_time > 0 && now >= c->ev_timer_time) {
    double due = c->ev_timer_time;
    c->ev_timer_time = 0; /* before the call, so the handler may re-arm it */
    mg__call(c, NULL, MG_EV_TIMER, &due);
  }
  time_t now_t = (time_t) now;
  mg__call(c, NULL, MG_EV_POLL, &now_t);
  if (!(c->flags & MG_F_CLOSE_IMMEDIATELY)) mg__do_io(c);
  c->io_ready = 0;
}

int mg_mgr_poll(struct mg_mgr *mgr, int milli) {
  int calls_before = mgr->num_calls;
  int ctl_ready = 0;
  if (mgr->ctl[1] == INVALID_SOCKET) return 0; /* the manager never got its sockets */
  int rc = mg__backend_wait(mgr, wait_ms(mgr, milli, mg_time()), &ctl_ready);
  if (rc != 0 && errno != EINTR) return 0; /* EINTR: a signal; service and return */
  struct mg_mgr *outer = mg__polling_mgr;
  mg__polling_mgr = mgr;
  mgr->polling++;
  if (ctl_ready) mg__ctl_drain(mgr);
  double now = mgr->now = mg_time(); /* one clock read per iteration, shared */
  /* New connections are linked at the head, so those a handler creates now wait for the
   * next iteration; `next` is safe to keep because nothing is freed before the end. */
  struct mg_connection *c, *next;
  for (c = mgr->active_connections; c != NULL; c = next) {
    next = c->next;
    service(c, now);
  }
  close_due_connections(mgr, 0);
  mg__backend_sync(mgr);
  mgr->polling--;
  mg__polling_mgr = outer;
  return mgr->num_calls - calls_before;
}

void mg_mgr_free(struct mg_mgr *mgr) {
  if (mgr == NULL) return;
  mg_mgr_poll(mgr, 0);
  close_due_connections(mgr, 1);
  mg__backend_free(mgr);
  mg__resolver_release(mgr);
  for (int i = 0; i < 2; i++) {
    if (mgr->ctl[i] != INVALID_SOCKET) close(mgr->ctl[i]);
    mgr->ctl[i] = INVALID_SOCKET;
  }
}
