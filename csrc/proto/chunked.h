/*
 * chunked.h - an in-place, resumable decoder of the chunked transfer coding
 * (RFC 9112 section 7.1). Internal to mgio: the HTTP layer uses it for request and
 * response bodies; nothing here is part of the public API.
 *
 * The decoder is a byte-driven state machine whose whole state lives in
 * `struct mg__chunked`. Every byte handed to it is either consumed or, once the message
 * is complete, left alone, so results never depend on how the input was split: feeding a
 * body whole, one byte at a time or at any split gives the same decoded bytes and the
 * same verdict. It allocates nothing and keeps no pointer into the caller's buffer.
 *
 * Wire grammar accepted (strict):
 *   chunked-body = *chunk last-chunk trailer-section CRLF
 *   chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
 *   chunk-size   = 1*HEXDIG          at most max_size_digits digits, leading zeros
 *                                    included; the value must be <= INT64_MAX
 *   last-chunk   = 1*("0") [ chunk-ext ] CRLF
 *   chunk-ext    = *( BWS ";" BWS name [ BWS "=" BWS ( token / quoted-string ) ] )
 *   trailer-section = *( field-name ":" field-value CRLF )
 * Line ends are CRLF only: a bare LF, a bare CR, or anything but CRLF right after
 * chunk-data (which is how data longer than its declared size shows) is malformed.
 * Whitespace after the size or after an extension must be followed by ";" (BWS exists
 * only before ";" and "="). Trailer fields are validated and skipped: no whitespace before
 * the colon, no obs-fold (a line starting with SP/HTAB), and values of HTAB, SP, VCHAR
 * and obs-text only (no NUL, CR, LF, DEL or other controls). Trailers are not reported;
 * `trailer_fields` counts them.
 */
#ifndef MGIO_PROTO_CHUNKED_H
#define MGIO_PROTO_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

/* Default limits (all inclusive: a value equal to the limit is accepted). Each can be
 * overridden per decoder through the matching struct field; 0 there means the default. */
#ifndef MG__CHUNKED_MAX_SIZE_DIGITS
#define MG__CHUNKED_MAX_SIZE_DIGITS 16 /* hex digits of chunk-size, zeros too; cap 16 */
#endif
#ifndef MG__CHUNKED_MAX_EXT_LEN
#define MG__CHUNKED_MAX_EXT_LEN 4096 /* bytes between chunk-size and CR on one line */
#endif
#ifndef MG__CHUNKED_MAX_TRAILER_LEN
#define MG__CHUNKED_MAX_TRAILER_LEN 8192 /* trailer section incl. all CRLFs and the last */
#endif
#ifndef MG__CHUNKED_MAX_TRAILER_FIELDS
#define MG__CHUNKED_MAX_TRAILER_FIELDS 100 /* trailer field lines */
#endif

/* Why a decoder failed (sticky; `err` of the struct). */
enum mg__chunked_error {
  MG__CHUNKED_OK = 0,
  MG__CHUNKED_EBADSIZE,        /* empty or non-hex chunk-size */
  MG__CHUNKED_ESIZETOOBIG,     /* more digits than allowed, or value > INT64_MAX */
  MG__CHUNKED_EBADEXT,         /* malformed chunk extension */
  MG__CHUNKED_EEXTTOOLONG,     /* chunk extension over max_ext_len */
  MG__CHUNKED_EBADLINE,        /* CRLF missing after a size line or after chunk-data */
  MG__CHUNKED_EBADTRAILER,     /* malformed trailer field or section end */
  MG__CHUNKED_ETRAILERTOOLONG, /* trailer section over max_trailer_len */
  MG__CHUNKED_ETOOMANYTRAILERS /* more than max_trailer_fields trailer fields */
};

/*
 * Decoder state. A zero-filled struct is a valid start state with the default limits
 * (`struct mg__chunked st = {0};` or memset); mg__chunked_init does the same explicitly.
 * The limit fields may be set after zeroing and before the first call; the others are
 * read-only for the caller.
 */
struct mg__chunked {
  /* limits: 0 means the default macro above */
  size_t max_size_digits;    /* capped at 16 whatever is set */
  size_t max_ext_len;        /* chunk-ext bytes per size line */
  size_t max_trailer_len;    /* bytes of the trailer section, CRLFs included */
  size_t max_trailer_fields; /* trailer field lines */
  /* progress (read-only) */
  uint64_t remaining;     /* chunk-data bytes still expected in the current chunk */
  uint64_t total;         /* decoded body bytes produced so far (saturates) */
  size_t digits;          /* hex digits seen on the current size line */
  size_t ext_len;         /* extension bytes seen on the current size line */
  size_t trailer_len;     /* trailer-section bytes seen so far */
  size_t trailer_fields;  /* trailer field lines seen so far */
  unsigned char state;    /* internal state; 0 = expecting the first chunk-size digit */
  unsigned char err;      /* enum mg__chunked_error, sticky once set */
};

/* Resets `st` to the start state with the default limits. */
void mg__chunked_init(struct mg__chunked *st);

/*
 * Decodes the chunked bytes buf[0 .. *len) in place.
 *
 * Decoded body bytes are written to the front of `buf` (over the framing already read,
 * never past it), continuing across calls: each call decodes only the bytes it is given
 * and reports only the data it produced itself.
 *
 * Returns:
 *   -2  more input is needed. Every input byte was consumed; *len is set to the number
 *       of decoded bytes now at buf[0 .. *len), which may be delivered at once (data is
 *       produced as it arrives, not when its chunk ends). The next call passes only new
 *       raw bytes.
 *   -1  malformed or over a limit; `st->err` says why. Sticky: later calls return -1
 *       again. *len is set to the decoded bytes produced by this call before the error;
 *       the caller must reject the whole message anyway.
 *  >=0  the message is complete (last chunk, trailers and final CRLF all read). *len is
 *       set to the decoded bytes of this call at buf[0 .. *len); the return value r is
 *       the count of bytes after the message, which sit untouched at
 *       buf[in_len - r .. in_len) (in_len being *len on entry): the start of a pipelined
 *       next message. Later calls return their whole input as unread, with *len = 0.
 *
 * Between buf[*len] and buf[in_len - r] (r = 0 for -2) lies framing the caller drops,
 * e.g. with mbuf_remove-style moves. So a caller that keeps a body (reassembly) removes
 * that gap and next passes buf + decoded_so_far; a streaming caller (MG_F_DELETE_CHUNK)
 * delivers buf[0 .. *len) and then removes all consumed bytes, so memory stays bounded by
 * one read.
 *
 * `buf` may be NULL only when *len is 0. *len must not exceed LLONG_MAX (otherwise -1,
 * with err MG__CHUNKED_EBADSIZE, sticky like any error).
 * Ownership: `buf` stays the caller's; the decoder keeps no pointer into it.
 */
long long mg__chunked_decode(struct mg__chunked *st, char *buf, size_t *len);

/* 1 when the message has been fully decoded (a call returned >= 0), else 0. */
int mg__chunked_done(const struct mg__chunked *st);

/* A short, static English description of `err` (an enum mg__chunked_error). */
const char *mg__chunked_strerror(int err);

#endif
