/*
 * Asynchronous name resolution: getaddrinfo() on a detached helper thread per lookup,
 * the result sent back through the control channel and applied by the poll loop.
 *
 * The threads write to a duplicate of the channel's sending end, shared through a
 * reference-counted struct: a manager freed while lookups run never has its descriptors
 * closed under them (or reused for something else) - the last reference closes it.
 */
#define _POSIX_C_SOURCE 200809L
#include <netdb.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

struct mg__resolver {
  pthread_mutex_t lock;
  int refs;
  sock_t fd; /* dup of mgr->ctl[0] */
};

struct lookup {
  struct mg__resolver *r;
  unsigned long long id;
  int sock_type;
  unsigned short port; /* network order */
  char host[256];
};

static void release(struct mg__resolver *r) {
  pthread_mutex_lock(&r->lock);
  int last = --r->refs == 0;
  pthread_mutex_unlock(&r->lock);
  if (!last) return;
  close(r->fd);
  pthread_mutex_destroy(&r->lock);
  free(r);
}

void mg__resolver_release(struct mg_mgr *mgr) {
  if (mgr->resolver != NULL) release(mgr->resolver);
  mgr->resolver = NULL;
}

/* The first address getaddrinfo() offers (its order follows RFC 6724), with the port. */
static int lookup_address(const struct lookup *l, union socket_address *sa) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = l->sock_type;
  if (getaddrinfo(l->host, NULL, &hints, &res) != 0 || res == NULL) return -1;
  memset(sa, 0, sizeof(*sa));
  memcpy(sa, res->ai_addr, res->ai_addrlen <= sizeof(*sa) ? res->ai_addrlen : sizeof(*sa));
  freeaddrinfo(res);
  if (sa->sa.sa_family == AF_INET6)
    sa->sin6.sin6_port = l->port;
  else
    sa->sin.sin_port = l->port;
  return 0;
}

static void *lookup_thread(void *arg) {
  struct lookup *l = (struct lookup *) arg;
  struct mg__ctl_msg msg;
  memset(&msg, 0, sizeof(msg));
  msg.type = MG__CTL_RESOLVED;
  msg.id = l->id;
  msg.sock_type = l->sock_type;
  msg.status = lookup_address(l, &msg.sa);
  mg__ctl_send(l->r->fd, &msg, sizeof(msg), 1);
  release(l->r);
  free(l);
  return NULL;
}

static struct mg__resolver *resolver_of(struct mg_mgr *mgr) {
  if (mgr->resolver != NULL) return mgr->resolver;
  struct mg__resolver *r = (struct mg__resolver *) calloc(1, sizeof(*r));
  if (r == NULL) return NULL;
  r->fd = dup(mgr->ctl[0]);
  if (r->fd < 0 || pthread_mutex_init(&r->lock, NULL) != 0) {
    if (r->fd >= 0) close(r->fd);
    free(r);
    return NULL;
  }
  r->refs = 1;
  mgr->resolver = r;
  return r;
}

int mg__resolve_start(struct mg_mgr *mgr, struct mg_connection *c, const char *host,
                      int sock_type) {
  struct mg__resolver *r = resolver_of(mgr);
  struct lookup *l = (struct lookup *) calloc(1, sizeof(*l));
  if (r == NULL || l == NULL || strlen(host) >= sizeof(l->host)) {
    free(l);
    return -1;
  }
  strcpy(l->host, host);
  l->r = r;
  l->id = c->id;
  l->sock_type = sock_type;
  l->port = c->sa.sin.sin_port; /* the parser stored the port there */
  pthread_mutex_lock(&r->lock);
  r->refs++;
  pthread_mutex_unlock(&r->lock);
  pthread_attr_t attr;
  pthread_t t;
  int ok = pthread_attr_init(&attr) == 0;
  ok = ok && pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED) == 0;
  ok = ok && pthread_create(&t, &attr, lookup_thread, l) == 0;
  pthread_attr_destroy(&attr);
  if (!ok) {
    release(r);
    free(l);
    return -1;
  }
  return 0;
}

void mg__resolve_done(struct mg_mgr *mgr, unsigned long long id, int status,
                      const union socket_address *sa, int sock_type) {
  for (struct mg_connection *c = mgr->active_connections; c != NULL; c = c->next) {
    if (c->id != id) continue;
    if (!(c->flags & MG_F_RESOLVING) || (c->flags & MG_F_CLOSE_IMMEDIATELY)) return;
    if (status != 0) {
      c->flags &= ~(unsigned long) MG_F_RESOLVING;
      c->flags |= MG_F_CONNECTING;
      c->err = -1; /* MG_EV_CONNECT reports -1 for a failed lookup */
      c->io_ready |= MG__IO_PENDING;
      return;
    }
    c->sa = *sa;
    mg__start_connect(c, sock_type);
    return;
  }
}
