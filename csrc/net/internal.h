/*
 * Declarations shared inside the net layer, and by the http layer above it. Not public:
 * names carry the mg__ prefix.
 */
#ifndef MGIO_NET_INTERNAL_H
#define MGIO_NET_INTERNAL_H

#include "mgio.h"

/* ---- addresses (addr.c) -------------------------------------------------------------- */

#define MG__PARSE_NUMERIC 0 /* *sa holds the address */
#define MG__PARSE_NAME 1    /* the host is a name to resolve, copied into host */
#define MG__PARSE_ERROR (-1)

/* Parses "[tcp://|udp://][HOST]:PORT" or "[:]PORT". HOST may be empty (any address,
 * 0.0.0.0), an IPv4 literal, a bracketed IPv6 literal ("[::1]") or a name; "localhost" is
 * taken as 127.0.0.1 without resolving. PORT is 1-5 decimal digits, at most 65535.
 * Sets *sock_type to SOCK_STREAM (tcp://, or no scheme) or SOCK_DGRAM (udp://), and the
 * port in *sa (network order) in every non-error case. Returns MG__PARSE_NUMERIC,
 * MG__PARSE_NAME (the name, NUL-terminated, in host[0 .. host_len), and sa's family is
 * AF_INET with the port set), or MG__PARSE_ERROR (also when the name does not fit). */
int mg__parse_address(const char *str, union socket_address *sa, int *sock_type, char *host,
                      size_t host_len);

/* The length of the sockaddr inside `sa` for its family (sizeof sin or sin6). */
unsigned int mg__sa_len(const union socket_address *sa);

/* ---- connections and dispatch (mgr.c, conn.c, io.c) ---------------------------------- */

/* io_interest / io_ready bits */
#define MG__IO_READ 1u
#define MG__IO_WRITE 2u
#define MG__IO_ERROR 4u   /* io_ready only: error or hang-up reported */
#define MG__IO_PENDING 8u /* io_ready only: work to do without I/O (a connect result) */
#define MG__IO_REGISTERED 16u /* io_interest only: the backend watches the socket */

/* internal_flags bits */
#define MG__C_COUNTED 1u   /* counts against mgr->max_connections */
#define MG__C_UDP_CHILD 2u /* a peer of a UDP listener; shares the listener's socket */
#define MG__C_EOF 4u       /* the peer shut down its side: read no more, flush, close */
#define MG__C_HOLD 8u      /* a protocol layer still owes the peer an answer: the close
                              after the peer's EOF waits until this is cleared */

/* Flags a user handler may change; other changes are reverted when it returns. */
#define MG__USER_MUTABLE_FLAGS                                                       \
  (MG_F_USER_1 | MG_F_USER_2 | MG_F_USER_3 | MG_F_USER_4 | MG_F_USER_5 | MG_F_USER_6 | \
   MG_F_WEBSOCKET_NO_DEFRAG | MG_F_SEND_AND_CLOSE | MG_F_CLOSE_IMMEDIATELY |          \
   MG_F_IS_WEBSOCKET | MG_F_DELETE_CHUNK | MG_F_NO_MULTIPART_STREAMING)
/* Flags honoured in opts.flags when a connection is created. */
#define MG__CREATION_FLAGS                                                           \
  (MG_F_USER_1 | MG_F_USER_2 | MG_F_USER_3 | MG_F_USER_4 | MG_F_USER_5 | MG_F_USER_6 | \
   MG_F_WEBSOCKET_NO_DEFRAG | MG_F_ENABLE_BROADCAST)

/* Calls handler `h` (NULL: the protocol handler if set, else the user's) for `ev`.
 * Counts the call in mgr->num_calls unless ev is MG_EV_POLL, and when the user's handler
 * ran, reverts its changes to flags it may not change. */
void mg__call(struct mg_connection *c, mg_event_handler_t h, int ev, void *ev_data);

/* A new connection with `sock` (may be INVALID_SOCKET), linked into the manager; NULL on
 * allocation failure. */
struct mg_connection *mg__new_conn(struct mg_mgr *mgr, sock_t sock, mg_event_handler_t handler);

/* Marks `c` for closing at the end of this poll iteration; records `err` if nonzero. */
void mg__mark_closing(struct mg_connection *c, int err);

/* Starts a non-blocking connect of `c` to c->sa (sock_type SOCK_STREAM or SOCK_DGRAM).
 * The outcome is reported as MG_EV_CONNECT by the poll loop. */
void mg__start_connect(struct mg_connection *c, int sock_type);

/* The readiness `c` waits for now (MG__IO_READ / MG__IO_WRITE), 0 for none. */
unsigned int mg__io_wanted(const struct mg_connection *c);

/* Does the I/O the backend reported for `c` (accept, connect completion, reads, writes),
 * dispatching the matching events. */
void mg__do_io(struct mg_connection *c);

/* Turns Nagle off on a TCP socket: small writes go out at once, since mgio already
 * batches its own output into one send per iteration. */
void mg__set_nodelay(sock_t s);

/* Sets a descriptor non-blocking and close-on-exec; 0 or -1. */
int mg__set_nonblocking(sock_t sock);

/* The manager whose mg_mgr_poll runs on this thread, or NULL. */
extern _Thread_local struct mg_mgr *mg__polling_mgr;

/* ---- poll backends (backend_epoll.c, backend_poll.c) ----------------------------------- */

/* Sets up mgr->backend_fd / backend_state and watches mgr->ctl[1]; 0 or -1. */
int mg__backend_init(struct mg_mgr *mgr);
void mg__backend_free(struct mg_mgr *mgr);
/* Stops watching c->sock; call before closing it. */
void mg__backend_forget(struct mg_mgr *mgr, struct mg_connection *c);
/* Brings the backend's registrations in line with what each connection wants now. Run
 * at the end of every poll too, so that mg_mgr_fileno() reflects connections made during
 * it (an external loop waits on that descriptor alone). */
void mg__backend_sync(struct mg_mgr *mgr);
/* Calls the manager's wait hooks around a blocking system call; keeps its errno. */
int mg__blocking_call(struct mg_mgr *mgr, int (*call)(void *arg), void *arg);
/* Syncs registrations (as mg__backend_sync), waits up to `ms` (through mg__blocking_call)
 * (-1: no limit), and sets io_ready on the connections that are ready. Sets *ctl_ready
 * when the control socket has messages. Returns -1 on failure (errno set), else 0. */
int mg__backend_wait(struct mg_mgr *mgr, int ms, int *ctl_ready);

/* ---- control channel (ctl.c) and resolver (resolve.c) ---------------------------------- */

/* Reads and handles every message waiting on mgr->ctl[1] (broadcasts, wakeups, resolver
 * results). */
void mg__ctl_drain(struct mg_mgr *mgr);

/* Starts resolving `host` for connection `c` on a helper thread; the result arrives
 * through the control channel. Returns 0, or -1 when no thread could be started. */
int mg__resolve_start(struct mg_mgr *mgr, struct mg_connection *c, const char *host,
                      int sock_type);
/* Applies a resolver result to the connection with `id`, if it still exists. */
void mg__resolve_done(struct mg_mgr *mgr, unsigned long long id, int status,
                      const union socket_address *sa, int sock_type);
/* Drops the manager's reference to its resolver channel (mg_mgr_free). */
void mg__resolver_release(struct mg_mgr *mgr);

#endif
