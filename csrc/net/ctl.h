/* Messages of the control channel (ctl.c), shared with the resolver (resolve.c). */
#ifndef MGIO_NET_CTL_H
#define MGIO_NET_CTL_H

#include "internal.h"

#define MG__CTL_WAKE 1      /* no payload */
#define MG__CTL_BROADCAST 2 /* cb, then the data as payload */
#define MG__CTL_RESOLVED 3  /* id, status, sa, sock_type */

struct mg__ctl_msg {
  int type;
  int status;
  int sock_type;
  mg_event_handler_t cb;
  unsigned long long id;
  union socket_address sa;
};

/* Sends one message on `fd` (never SIGPIPE). With `wait`, retries while the socket is
 * full; without, gives up at once. 0 when sent, -1 otherwise. */
int mg__ctl_send(sock_t fd, const void *msg, size_t len, int wait);

#endif
