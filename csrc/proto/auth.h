/*
 * HTTP authentication codecs: the pure parts of Basic (RFC 7617) and Digest (RFC 7616,
 * in the RFC 2617 MD5 form with qop=auth that htdigest files hold). No I/O, no globals:
 * the per-process state Digest needs (the nonce key, the replay table and its lock, the
 * clock) lives in the http layer (http/auth.c), which passes it in. Not public: names
 * carry the mg__ prefix.
 */
#ifndef MGIO_PROTO_AUTH_H
#define MGIO_PROTO_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "mgio.h"

/* ---- Digest Authorization parameters (auth_digest.c) ---------------------------------- */

/* Upper bounds, in bytes after unquoting, of the parameters mgio reads. A longer value
 * makes the whole field malformed. */
#define MG__DIGEST_MAX_USER 256
#define MG__DIGEST_MAX_REALM 256
#define MG__DIGEST_MAX_NONCE 128
#define MG__DIGEST_MAX_URI 16384
#define MG__DIGEST_MAX_CNONCE 256
#define MG__DIGEST_MAX_OPAQUE 256
#define MG__DIGEST_MAX_SHORT 64 /* response, qop, nc, algorithm, userhash */

/* The parameters of an Authorization: Digest field. An absent one is {NULL, 0}; a
 * present one has p != NULL, even when empty. */
struct mg__digest_params {
  struct mg_str username, realm, nonce, uri, response, qop, nc, cnonce, algorithm, opaque,
      userhash;
};

/* Parses the field value `v` = "Digest" 1*(SP / HTAB) then a comma list of
 * `name = token / quoted-string` (RFC 7235 2.1; empty list elements and optional
 * whitespace around ',' and '=' allowed). The scheme and the names are matched ASCII
 * case-insensitively; unknown parameters are skipped. Quoted values are unescaped
 * (quoted-pair) into `store` (`cap` bytes; v.len bytes always suffice) and the fields of
 * `p` are views into it. Returns 0, or -1 (p then unspecified) when `v` is not Digest,
 * is malformed (an unterminated quote, a control byte other than HTAB in a value, an
 * empty unquoted value, a missing '='), repeats a parameter mgio reads, holds a value
 * over its bound, or when `store` is too small. Reads only v.p[0 .. v.len). */
int mg__digest_parse(struct mg_str v, struct mg__digest_params *p, char *store, size_t cap);

/* 1 when `s` is exactly `n` hex digits (either case), else 0. */
int mg__digest_is_hex(struct mg_str s, size_t n);

/* 1 when the `n` bytes at `a` and `b` are equal with ASCII letters compared
 * case-insensitively, else 0. The time taken depends on `n` only, never on the bytes. */
int mg__ct_equal_nocase(const char *a, const char *b, size_t n);

/* HA1 = MD5(user ":" realm ":" password) in 32 lower-case hex digits and a NUL. */
void mg__digest_ha1(char out[33], struct mg_str user, struct mg_str realm, struct mg_str pass);

/* The request-digest of RFC 7616 3.4.1 (RFC 2617 3.2.2.1) with a qop:
 * MD5(HA1 ":" nonce ":" nc ":" cnonce ":" qop ":" MD5(method ":" uri)), in 32 lower-case
 * hex digits and a NUL. `ha1` is 32 hex digits, in either case (hashed lower-cased). */
void mg__digest_response(char out[33], const char ha1[32], struct mg_str method,
                         struct mg_str uri, struct mg_str nonce, struct mg_str nc,
                         struct mg_str cnonce, struct mg_str qop);

/* Splits one line of an htdigest file, "user:realm:HA1" (without its line end; a final
 * CR is ignored), into views: `user` up to the first ':' (not empty), `ha1` after the
 * last ':' (exactly 32 hex digits), `realm` in between (it may hold ':'). Returns 0, or
 * -1 for any other line (comments, blanks, garbage). */
int mg__htdigest_line(struct mg_str line, struct mg_str *user, struct mg_str *realm,
                      struct mg_str *ha1);

/* ---- server nonces (auth_nonce.c) ----------------------------------------------------- */

#define MG__NONCE_KEY_LEN 32
#define MG__NONCE_LEN 64 /* hex digits: 16 time, 16 serial, 32 MAC */

/* Writes the nonce issued at time `t` (seconds, any clock the checker shares) with the
 * serial number `serial`, for `realm`: 16 lower-case hex digits of t, 16 of serial,
 * then 32 of the first 16 bytes of HMAC-SHA1(key, t || serial || realm) with t and
 * serial as 8-byte big-endian numbers; and a NUL. */
void mg__nonce_make(char out[MG__NONCE_LEN + 1], const unsigned char key[MG__NONCE_KEY_LEN],
                    uint64_t t, uint64_t serial, struct mg_str realm);

#define MG__NONCE_BAD (-1) /* not a nonce made under this key for this realm */
#define MG__NONCE_OK 0     /* authentic and fresh */
#define MG__NONCE_STALE 1  /* authentic, but older than `lifetime` (or from the future) */

/* Verifies `nonce` (as made by mg__nonce_make) for `realm` at time `now`: the form, then
 * the MAC (compared in constant time), then the age. A nonce is fresh while
 * now - t <= lifetime; one issued more than a second after `now` (a clock that went
 * back) is stale too. Returns MG__NONCE_*, with *serial set unless the result is
 * MG__NONCE_BAD. */
int mg__nonce_check(struct mg_str nonce, const unsigned char key[MG__NONCE_KEY_LEN],
                    struct mg_str realm, uint64_t now, uint64_t lifetime, uint64_t *serial);

/* ---- nc replay table (auth_nonce.c) ----------------------------------------------------- */

#define MG__NONCE_TABLE_SIZE 1024

/* The highest nc accepted for each of the most recently used nonces (by serial). When it
 * is full, the entry of the oldest nonce (lowest serial) is dropped and `floor` rises
 * past it: a nonce below the floor is no longer remembered, so it is refused (its
 * client gets a fresh one through stale=true) rather than accepted again. A zeroed
 * struct is an empty table. Not locked: the caller serializes access. */
struct mg__nonce_table {
  struct {
    uint64_t serial;
    uint32_t nc;
  } slot[MG__NONCE_TABLE_SIZE];
  size_t used;
  uint64_t floor;
};

#define MG__NC_OK 0        /* first use of this nc, higher than every earlier one */
#define MG__NC_REPLAY 1    /* nc not above the highest one seen for this nonce */
#define MG__NC_FORGOTTEN 2 /* the nonce is below the floor */

/* Records the use of `nc` (> 0) with the nonce `serial`: MG__NC_OK when nc is higher
 * than any accepted before for that nonce (then it becomes the highest), else
 * MG__NC_REPLAY or MG__NC_FORGOTTEN (nothing recorded). */
int mg__nonce_table_use(struct mg__nonce_table *t, uint64_t serial, uint32_t nc);

#endif
