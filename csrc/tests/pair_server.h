/*
 * An HTTP server connection driven over a Unix socket pair, for the fuzz target that
 * drives a whole manager (tests/fuzz/fuzz_manager.c) and the allocation-failure
 * scenarios (tests/allocfail/scenarios.c): no port, no connect race, no TIME_WAIT.
 * The server end is wrapped with mg_add_sock and made to look accepted by a real HTTP
 * listener (127.0.0.1, port 0, never connected to), so the listener's endpoints apply:
 *   /upload     multipart events (answered 200 at the end; a failed stream is answered
 *               by the library)
 *   /static/... mg_serve_http from `root` (with directory listing), when root is set
 *   anything else: 200 with the request body echoed; WebSocket frames are echoed
 *   (PAIR_WS_ECHO). The peer end is a plain descriptor the caller writes to.
 * Every wait is a bounded number of mg_mgr_poll(mgr, 0) calls.
 */
#ifndef MGIO_TEST_PAIR_SERVER_H
#define MGIO_TEST_PAIR_SERVER_H

#include <stddef.h>

#include "mgio.h"

#define PAIR_DELETE_CHUNKS 1u /* the handler sets MG_F_DELETE_CHUNK on every chunk */
#define PAIR_SMALL_LIMITS 2u  /* tiny mg_http_limits, so limits are reached */
#define PAIR_PARTIAL_PARTS 4u /* multipart data offers are taken only in half */
#define PAIR_WS_ECHO 8u       /* WebSocket messages are sent back */

struct pair_server {
  struct mg_mgr mgr;
  struct mg_connection *lc, *c;
  int peer;           /* the peer's end; -1 once closed */
  int server_sock;    /* the server's end until the manager owns it; -1 after */
  unsigned settings;  /* PAIR_* */
  const char *root;   /* the static folder, or NULL */
  /* observations */
  int requests, parts_ended, ws_frames;
};

/* Sets `s` (zeroed by the caller, settings and root set) up. Returns 0, or -1 when a
 * step failed (out of memory, descriptors); pair_server_stop is needed either way. */
int pair_server_start(struct pair_server *s);

/* Sends n bytes from the peer, polling the manager after each send (a bounded number
 * of times while the pair is full); what the server answers is left unread. Returns 0,
 * or -1 when the server end is gone or would not take the bytes. */
int pair_server_send(struct pair_server *s, const void *data, size_t n);

/* Polls `times` times, reading what the server sent into out[*len .. cap) (dropped
 * when out is NULL, then len may be NULL too, or when out is full). */
void pair_server_poll(struct pair_server *s, int times, char *out, size_t cap, size_t *len);

/* The peer shuts down its sending side, the manager is polled a few times, the peer
 * closes, and the manager is freed with every descriptor. */
void pair_server_stop(struct pair_server *s);

#endif
