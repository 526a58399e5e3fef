/*
 * Making connections: wrapped sockets, listeners, outbound connects; queueing output.
 */
#define _GNU_SOURCE /* accept4, SOCK_NONBLOCK, SOCK_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"

int mg__set_nonblocking(sock_t sock) {
  int fl = fcntl(sock, F_GETFL, 0);
  if (fl < 0 || fcntl(sock, F_SETFL, fl | O_NONBLOCK) < 0) return -1;
  return fcntl(sock, F_SETFD, FD_CLOEXEC) < 0 ? -1 : 0;
}

struct mg_connection *mg__new_conn(struct mg_mgr *mgr, sock_t sock,
                                   mg_event_handler_t handler) {
  struct mg_connection *c = (struct mg_connection *) calloc(1, sizeof(*c));
  if (c == NULL) return NULL;
  c->mgr = mgr;
  c->sock = sock;
  c->handler = handler;
  c->recv_mbuf_limit = (size_t) -1;
  c->last_io_time = time(NULL);
  c->id = ++mgr->next_id;
  c->next = mgr->active_connections;
  if (c->next != NULL) c->next->prev = c;
  mgr->active_connections = c;
  return c;
}

static void set_error(const char **error_string, const char *text) {
  if (error_string != NULL) *error_string = text;
}

struct mg_connection *mg_add_sock_opt(struct mg_mgr *mgr, sock_t sock,
                                      mg_event_handler_t handler,
                                      struct mg_add_sock_opts opts) {
  if (sock != INVALID_SOCKET && mg__set_nonblocking(sock) != 0) {
    set_error(opts.error_string, "cannot make the socket non-blocking");
    return NULL;
  }
  struct mg_connection *c = mg__new_conn(mgr, sock, handler);
  if (c == NULL) {
    set_error(opts.error_string, "out of memory");
    return NULL;
  }
  c->user_data = opts.user_data;
  c->flags |= opts.flags & MG__CREATION_FLAGS;
  if (sock != INVALID_SOCKET) {
    socklen_t len = sizeof(c->sa);
    if (getpeername(sock, &c->sa.sa, &len) != 0) memset(&c->sa, 0, sizeof(c->sa));
    c->io_interest = 0; /* registered by the next backend wait */
  }
  return c;
}

struct mg_connection *mg_add_sock(struct mg_mgr *mgr, sock_t sock,
                                  mg_event_handler_t handler) {
  struct mg_add_sock_opts opts;
  memset(&opts, 0, sizeof(opts));
  return mg_add_sock_opt(mgr, sock, handler, opts);
}

/* The address of a name, resolved now (listeners are set up outside the hot loop). */
static int resolve_now(const char *host, int sock_type, union socket_address *sa) {
  struct addrinfo hints, *res = NULL;
  memset(&hints, 0, sizeof(hints));
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = sock_type;
  if (getaddrinfo(host, NULL, &hints, &res) != 0 || res == NULL) return -1;
  unsigned short port = sa->sin.sin_port; /* the parser put the port in sin_port */
  memset(sa, 0, sizeof(*sa));
  memcpy(sa, res->ai_addr, res->ai_addrlen <= sizeof(*sa) ? res->ai_addrlen : sizeof(*sa));
  if (sa->sa.sa_family == AF_INET6)
    sa->sin6.sin6_port = port;
  else
    sa->sin.sin_port = port;
  freeaddrinfo(res);
  return 0;
}

/* SO_REUSEPORT when asked for (MG_F_REUSE_PORT); 0, or -1 where it is unavailable. */
static int set_reuse_port(sock_t s, unsigned int flags) {
  if (!(flags & MG_F_REUSE_PORT)) return 0;
#ifdef SO_REUSEPORT
  int on = 1;
  return setsockopt(s, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
#else
  (void) s;
  return -1;
#endif
}

/* A bound (and for TCP listening) non-blocking socket, or INVALID_SOCKET. */
static sock_t open_listener(union socket_address *sa, int sock_type, unsigned int flags) {
  sock_t s = socket(sa->sa.sa_family, sock_type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s == INVALID_SOCKET) return s;
  int on = 1;
  socklen_t len = mg__sa_len(sa);
  if ((sock_type == SOCK_STREAM &&
       setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0) ||
      set_reuse_port(s, flags) != 0 ||
      bind(s, &sa->sa, len) != 0 ||
      (sock_type == SOCK_STREAM && listen(s, MG_LISTEN_BACKLOG) != 0) ||
      getsockname(s, &sa->sa, &len) != 0) {
    close(s);
    return INVALID_SOCKET;
  }
  return s;
}

/* Parses `address` for a new connection of `mgr` (see mg__parse_address); on
 * MG__PARSE_ERROR *error_string says why. */
static int parse_for(struct mg_mgr *mgr, const char *address, union socket_address *sa,
                     int *sock_type, char host[256], const char **error_string) {
  if (mgr->ctl[1] == INVALID_SOCKET) {
    set_error(error_string, "the manager could not be initialised");
    return MG__PARSE_ERROR;
  }
  int kind = mg__parse_address(address, sa, sock_type, host, 256);
  if (kind == MG__PARSE_ERROR) set_error(error_string, "cannot parse address");
  return kind;
}

struct mg_connection *mg_bind_opt(struct mg_mgr *mgr, const char *address,
                                  mg_event_handler_t handler, struct mg_bind_opts opts) {
  union socket_address sa;
  int sock_type;
  char host[256];
  int kind = parse_for(mgr, address, &sa, &sock_type, host, opts.error_string);
  if (kind == MG__PARSE_ERROR) return NULL;
  if (kind == MG__PARSE_NAME && resolve_now(host, sock_type, &sa) != 0) {
    set_error(opts.error_string, "cannot resolve address");
    return NULL;
  }
  sock_t s = open_listener(&sa, sock_type, opts.flags);
  if (s == INVALID_SOCKET) {
    set_error(opts.error_string, "failed to open listener");
    return NULL;
  }
  struct mg_connection *c = mg__new_conn(mgr, s, handler);
  if (c == NULL) {
    close(s);
    set_error(opts.error_string, "out of memory");
    return NULL;
  }
  c->sa = sa;
  c->user_data = opts.user_data;
  c->flags |= MG_F_LISTENING | (sock_type == SOCK_DGRAM ? MG_F_UDP : 0) |
              (opts.flags & MG__CREATION_FLAGS);
  return c;
}

struct mg_connection *mg_bind(struct mg_mgr *mgr, const char *address,
                              mg_event_handler_t handler) {
  struct mg_bind_opts opts;
  memset(&opts, 0, sizeof(opts));
  return mg_bind_opt(mgr, address, handler, opts);
}

void mg__set_nodelay(sock_t s) {
  int on = 1;
  setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

void mg__start_connect(struct mg_connection *c, int sock_type) {
  c->flags &= ~(unsigned long) MG_F_RESOLVING;
  c->flags |= MG_F_CONNECTING | (sock_type == SOCK_DGRAM ? MG_F_UDP : 0);
  c->sock = socket(c->sa.sa.sa_family, sock_type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (c->sock == INVALID_SOCKET) {
    c->err = errno;
    c->io_ready |= MG__IO_PENDING;
    return;
  }
  if (sock_type == SOCK_STREAM) mg__set_nodelay(c->sock);
  if (connect(c->sock, &c->sa.sa, mg__sa_len(&c->sa)) == 0) {
    c->io_ready |= MG__IO_PENDING; /* connected already (UDP, or a fast loopback) */
  } else if (errno != EINPROGRESS) {
    c->err = errno;
    c->io_ready |= MG__IO_PENDING;
  }
}

struct mg_connection *mg_connect_opt(struct mg_mgr *mgr, const char *address,
                                     mg_event_handler_t handler,
                                     struct mg_connect_opts opts) {
  union socket_address sa;
  int sock_type;
  char host[256];
  int kind = parse_for(mgr, address, &sa, &sock_type, host, opts.error_string);
  if (kind == MG__PARSE_ERROR) return NULL;
  if (mgr->num_connections >= mgr->max_connections) {
    set_error(opts.error_string, "too many connections");
    return NULL;
  }
  struct mg_connection *c = mg__new_conn(mgr, INVALID_SOCKET, handler);
  if (c == NULL) {
    set_error(opts.error_string, "out of memory");
    return NULL;
  }
  c->sa = sa;
  c->user_data = opts.user_data;
  c->flags |= opts.flags & MG__CREATION_FLAGS;
  c->internal_flags |= MG__C_COUNTED;
  mgr->num_connections++;
  if (kind == MG__PARSE_NUMERIC) {
    mg__start_connect(c, sock_type);
  } else {
    c->flags |= MG_F_RESOLVING | (sock_type == SOCK_DGRAM ? MG_F_UDP : 0);
    if (mg__resolve_start(mgr, c, host, sock_type) != 0) {
      c->err = -1;
      c->flags |= MG_F_CONNECTING;
      c->io_ready |= MG__IO_PENDING;
    }
  }
  return c;
}

struct mg_connection *mg_connect(struct mg_mgr *mgr, const char *address,
                                 mg_event_handler_t handler) {
  struct mg_connect_opts opts;
  memset(&opts, 0, sizeof(opts));
  return mg_connect_opt(mgr, address, handler, opts);
}

void mg_send(struct mg_connection *nc, const void *buf, int len) {
  /* time(), not mg_time(): whole seconds are all last_io_time holds, and time() reads
   * the kernel's cached value (mg_time here cost 8% of a pipelined C server's CPU). */
  nc->last_io_time = time(NULL);
  if (len <= 0) return;
  /* Losing output silently would corrupt the stream: close instead. */
  if (mbuf_append(&nc->send_mbuf, buf, (size_t) len) != (size_t) len)
    mg__mark_closing(nc, ENOMEM);
}

int mg_vprintf(struct mg_connection *nc, const char *fmt, va_list ap) {
  char stack[256], *buf = stack;
  int len = mg_avprintf(&buf, sizeof(stack), fmt, ap);
  if (len > 0) mg_send(nc, buf, len);
  if (buf != stack) free(buf);
  return len;
}

int mg_printf(struct mg_connection *nc, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = mg_vprintf(nc, fmt, ap);
  va_end(ap);
  return len;
}
