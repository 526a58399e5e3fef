/*
 * Digest authentication glue shared inside the http layer (http/auth.c): what the
 * endpoint check of the connection layer and mg_serve_http's password files use, and a
 * clock hook for the tests. Not public: names carry the mg__ prefix.
 */
#ifndef MGIO_HTTP_AUTH_H
#define MGIO_HTTP_AUTH_H

#include <stdint.h>

#include "mgio.h"

/* The challenge field line "WWW-Authenticate: Digest realm=\"<realm>\", qop=\"auth\",
 * nonce=\"<fresh nonce>\", algorithm=MD5[, stale=true]\r\n" in a new heap string (the
 * caller frees it), or NULL when `realm` is NULL, over 256 bytes or holds a control
 * byte, when no key could be had from the OS CSPRNG, or out of memory. */
char *mg__auth_challenge(const char *realm, int stale);

#define MG__AUTH_MISSING (-1)    /* the file does not exist (ENOENT, ENOTDIR) */
#define MG__AUTH_UNREADABLE (-2) /* it exists but cannot be opened */

/* Checks `hm` with mg_http_check_digest_auth2 against the htdigest file at `path`.
 * Returns 1 authorized, 0 refused (*stale set as mg_http_check_digest_auth2 sets it;
 * also when `realm` is NULL), or MG__AUTH_MISSING / MG__AUTH_UNREADABLE (the request is
 * not looked at). */
int mg__auth_check_file(struct http_message *hm, const char *realm, const char *path,
                        int *stale);

/* The guard of an endpoint registered with an auth_file (global-file semantics, no
 * allowance for a missing file). Returns 1 when `hm` may go to the endpoint. Otherwise
 * it has queued a complete answer with "Connection: close" and set
 * MG_F_SEND_AND_CLOSE - 401 with the challenge (stale=true when the nonce had
 * expired), or 500 "auth not available" when the realm is missing or unusable - and
 * returns 0; the caller then reads no more from `c`. */
int mg__auth_endpoint(struct mg_connection *c, struct http_message *hm, const char *realm,
                      const char *file);

/* Tests: replaces the clock nonces are stamped and checked with (seconds; NULL: the
 * default, CLOCK_MONOTONIC). */
void mg__auth_set_clock(uint64_t (*now)(void));

/* Tests: a nonce for `realm` stamped at time `t` under this process's key (what the
 * server would have issued at `t`), written with its NUL; 0, or -1 without a key. */
int mg__auth_make_nonce(char out[65], const char *realm, uint64_t t);

#endif
