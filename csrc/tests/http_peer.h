/*
 * Test helpers for the HTTP connection tests: a manager with an HTTP listener on
 * 127.0.0.1, and a raw client socket that sends bytes in pieces of any size (polling
 * the manager between pieces) and collects what comes back. Every wait is bounded.
 */
#ifndef MGIO_TEST_HTTP_PEER_H
#define MGIO_TEST_HTTP_PEER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mgio.h"

/* What the test server saw, and how it behaves. */
struct srv {
  struct mg_mgr mgr;
  struct mg_connection *lc;
  char addr[64];            /* "127.0.0.1:PORT" */
  /* behaviour */
  int stream;               /* set MG_F_DELETE_CHUNK on every chunk */
  int answer_in_chunk;      /* answer 403 in the first MG_EV_HTTP_CHUNK */
  int chunked_answer;       /* answer requests with a chunked body */
  int answer_later;         /* queue no answer in MG_EV_HTTP_REQUEST */
  /* observations */
  int requests, chunks, closes;
  size_t streamed;          /* bytes seen in chunks that were deleted */
  uint32_t checksum;        /* FNV-1a of the streamed bytes, in order */
  size_t max_recv_size;     /* largest recv_mbuf.size seen in a chunk event */
  char body[1 << 16];       /* the last request's body (truncated to fit) */
  size_t body_len;          /* its full length */
  char log[512];            /* one letter per event: c chunk, R request, X close */
  size_t log_len;
};

/* Starts `s` (zeroed by the caller, behaviour fields set) listening on 127.0.0.1:0 with
 * the HTTP protocol and the test handler. Returns 0 or -1; srv_stop is needed either
 * way, and does nothing for a server already stopped or never started. */
int srv_start(struct srv *s);
void srv_stop(struct srv *s);
/* Declares `struct srv name`, zeroed, stopped when the test returns (see TEST_MGR). */
#define TEST_SRV(name)                                                    \
  struct srv name __attribute__((cleanup(srv_stop)));                    \
  memset(&name, 0, sizeof(name))

/* The answer of the test handler to a request: "<METHOD> <uri>?<query> <body-len>". */

/* A blocking-connected, then non-blocking client socket to `s`, closed after the test
 * unless test_close closed it; -1 on failure. */
int peer_connect(struct srv *s);

/* Sends `n` bytes in pieces of `step` bytes (0: all at once), polling the manager after
 * each piece. Returns 0, or -1 when the socket refused (the server closed). */
int peer_send(struct srv *s, int fd, const void *data, size_t n, size_t step);

/* Polls and reads until `responses` complete responses (interim 1xx ones count) are in
 * `out`, or the server closed, or 5 s passed. Returns the bytes read; *closed tells
 * whether the server closed the connection. `out` is NUL-terminated. */
size_t peer_collect(struct srv *s, int fd, char *out, size_t cap, int responses, int *closed);

/* Sends `req` in pieces of `step` to a fresh connection of `s` (collecting even when the
 * server closes early), waits for `responses` responses (0: for the close) into `out`,
 * closes. Returns the bytes received; *closed as peer_collect. */
size_t peer_exchange(struct srv *s, const void *req, size_t len, size_t step, int responses,
                     char *out, size_t cap, int *closed);

/* Complete responses at the start of buf[0 .. len). */
int count_responses(const char *buf, size_t len);

/* Polls the manager `n` times with a 1 ms wait. */
void srv_poll(struct srv *s, int n);

/* FNV-1a over data, continuing from h (start with 2166136261u). */
uint32_t fnv1a(uint32_t h, const void *data, size_t n);

#endif
