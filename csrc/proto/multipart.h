/*
 * multipart.h - a resumable, pull-style streaming parser of multipart bodies
 * (RFC 2046 section 5.1, RFC 7578 multipart/form-data). Internal to mgio: the HTTP layer
 * (streaming multipart events) and mg_parse_multipart use it; nothing here is public.
 *
 * Pull style: the caller hands the parser the bytes it has, the parser reports ONE event
 * and how many of those bytes it consumed. Bytes not consumed must be handed in again,
 * at the start of the next call, followed by whatever arrived meanwhile. The parser keeps
 * no pointer into the caller's buffer and copies nothing: the views it reports point
 * into the buffer of the call that reported them, valid until the caller changes that
 * buffer. Unconsumed bytes are bounded: at most a delimiter prefix (4 + boundary + 64
 * bytes of transport padding + 1) while in data, at most the part-header limit while a
 * part's header section arrives. Whatever the split of the input, the events are the
 * same, except that data may be reported in more or fewer PART_DATA pieces.
 *
 * Grammar accepted (B is the boundary; SP/HTAB runs are "transport padding"):
 *   body       = preamble first-delim *( part delim ) part close-delim epilogue
 *              | preamble close-delim epilogue            (a form with no part)
 *   first-delim = ( "--" B  at the very start of the body | CRLF "--" B ) pad CRLF
 *   delim      = CRLF "--" B pad CRLF
 *   close-delim = CRLF "--" B "--"   ("--" B "--" at the very start for no part)
 *   part       = header-section data
 *   pad        = 0 to 64 SP / HTAB (more: MG__MP_EPADDING)
 * - The delimiter is CRLF "--" B, never a mere substring: "--B" inside data without the
 *   CR LF before it, or CRLF "--" B followed by anything but pad CRLF or "--", is data.
 * - The preamble (before the first delimiter) and the epilogue (everything after the
 *   close delimiter, padding and CRLF included) are skipped.
 * - Line ends are CRLF: LF-only delimiters are not delimiters (so such a body ends
 *   without its close delimiter: MG__MP_ETRUNCATED); a bare CR or LF in a part's header
 *   section is MG__MP_EHEADER.
 * - Header section: field lines `token ":" OWS value OWS CRLF` then an empty line; no
 *   obs-fold, no whitespace before the colon, values of HTAB, SP, VCHAR and obs-text.
 *   Its size, CRLFs and the empty line included, is at most max_header bytes.
 * - Content-Disposition (name matched ASCII case-insensitively; exactly one) is
 *   `disposition-type *( OWS ";" OWS param )` with param = token OWS "=" OWS ( token /
 *   quoted-string ); empty parameters (";;", a final ";") are allowed. The parameters
 *   `name` and `filename` (case-insensitive, each at most once) are reported; others
 *   are ignored. A part without Content-Disposition or without `name` is malformed.
 *   At most one Content-Type field per part.
 * - Quoted strings may hold HTAB, SP, VCHAR and obs-text; a backslash takes the next
 *   byte into the string (so \" does not end it). The reported views hold the bytes
 *   between the quotes as sent; mg__mp_unquote turns \" into " and \\ into \ and keeps
 *   any other backslash (browsers send Windows paths raw).
 * - At most max_parts parts: the delimiter that would start one more is
 *   MG__MP_ETOOMANYPARTS.
 */
#ifndef MGIO_PROTO_MULTIPART_H
#define MGIO_PROTO_MULTIPART_H

#include <stddef.h>
#include <stdint.h>

#include "mgio.h"

/* Default limits (inclusive). Each can be lowered per parser through
 * struct mg__mp_limits; 0 there means the default. */
#define MG__MP_MAX_BOUNDARY 70  /* boundary characters (RFC 2046: 1 to 70); cap 70 */
#define MG__MP_MAX_HEADER 8192  /* bytes of one part's header section */
#define MG__MP_MAX_PARTS 1000   /* parts of one body */
#define MG__MP_MAX_PADDING 64   /* SP / HTAB between a boundary and its CRLF */

struct mg__mp_limits {
  size_t boundary; /* longest boundary accepted (capped at MG__MP_MAX_BOUNDARY) */
  size_t header;   /* bytes of a part's header section */
  size_t parts;    /* parts of a body */
};

/* What one call reports. */
enum mg__mp_event_type {
  MG__MP_NEED_MORE = 0, /* nothing to report until more bytes come */
  MG__MP_PART_BEGIN,    /* a part's header section was read: name, filename, ... */
  MG__MP_PART_DATA,     /* bytes of the current part's data (never empty) */
  MG__MP_PART_END,      /* the current part ended at a delimiter */
  MG__MP_DONE,          /* the close delimiter was read; the rest is epilogue */
  MG__MP_ERROR          /* malformed or over a limit (sticky); see err */
};

/* Why a parser failed (sticky; `err` of the state and of the event). */
enum mg__mp_error {
  MG__MP_OK = 0,
  MG__MP_EBOUNDARY,      /* mg__mp_init: boundary empty, too long or not bchars */
  MG__MP_ETRUNCATED,     /* the body ended before the close delimiter */
  MG__MP_EPADDING,       /* more than 64 bytes of padding after a boundary */
  MG__MP_EHEADER,        /* malformed part header field, line end, or duplicate field */
  MG__MP_EHEADERSIZE,    /* part header section over the limit */
  MG__MP_EDISPOSITION,   /* malformed Content-Disposition, or a duplicate parameter */
  MG__MP_ENONAME,        /* no Content-Disposition, or no name parameter */
  MG__MP_ETOOMANYPARTS   /* more parts than the limit */
};

/* One event. Views point into the buffer of the call that returned it. */
struct mg__mp_event {
  int type;                   /* enum mg__mp_event_type */
  int err;                    /* MG__MP_ERROR: enum mg__mp_error; else 0 */
  struct mg_str data;         /* PART_DATA: the bytes; else {NULL, 0} */
  struct mg_str name;         /* PART_BEGIN: the name parameter as sent (unquoted view
                                 of a quoted-string: escapes kept, see mg__mp_unquote) */
  struct mg_str filename;     /* PART_BEGIN: the filename parameter likewise; p is NULL
                                 when the part has none */
  struct mg_str content_type; /* PART_BEGIN: the Content-Type value (OWS trimmed); p is
                                 NULL when the part has none */
  struct mg_str headers;      /* PART_BEGIN: the header field lines with their CRLFs,
                                 without the empty line that ends them */
};

/*
 * Parser state. Set up with mg__mp_init; the limit fields are read-only afterwards, the
 * progress fields are read-only for the caller. About 130 bytes, no allocation.
 */
struct mg__mp {
  struct mg__mp_limits limits;
  size_t parts;         /* parts started so far */
  size_t scanned;       /* header phase: bytes of the pending section already checked */
  size_t line_start;    /* header phase: where the line being checked starts */
  unsigned char started; /* a byte of the body was consumed (no more "--B" at start) */
  unsigned char state;  /* internal */
  unsigned char err;    /* enum mg__mp_error, sticky once set */
  unsigned char delim_len;        /* 4 + boundary length */
  char delim[4 + MG__MP_MAX_BOUNDARY]; /* CR LF "--" boundary */
};

/* Sets `st` up for a body whose boundary is `boundary` (the Content-Type parameter,
 * unquoted), with `limits` (NULL: the defaults; zero fields: their default). Returns 0,
 * or -1 (st->err = MG__MP_EBOUNDARY, every parse call then fails) when the boundary is
 * empty, longer than the limit, holds a byte outside RFC 2046 bchars (DIGIT ALPHA
 * ' ( ) + _ , - . / : = ? and space) or ends with a space. */
int mg__mp_init(struct mg__mp *st, struct mg_str boundary, const struct mg__mp_limits *limits);

/*
 * Parses from buf[0 .. n) and reports one event in *ev. `at_end` says no byte follows
 * buf[n - 1] in the body (the body is complete): then nothing is held back and
 * MG__MP_NEED_MORE is never reported (a body that stops early is MG__MP_ETRUNCATED).
 *
 * Returns the bytes consumed (<= n); the caller drops them and hands the rest in again
 * at the start of the next call. By event:
 *   NEED_MORE   the consumed bytes (preamble, a delimiter line) need no report; the rest
 *               is a possible delimiter or an incomplete part header section.
 *   PART_BEGIN  the header section was consumed; ev->name, filename, content_type and
 *               headers are filled.
 *   PART_DATA   ev->data is buf[consumed - data.len .. consumed). A caller that cannot
 *               take all of it may consume fewer bytes than returned: handing the rest
 *               in again continues correctly (data bytes are data whatever precedes).
 *   PART_END    the delimiter line (or close delimiter) was consumed.
 *   DONE        the close delimiter had been read; everything given is consumed (the
 *               epilogue). Every later call reports DONE again.
 *   ERROR       ev->err says why; every later call reports the same error, consuming
 *               nothing. The data reported before it may be incomplete.
 * `buf` may be NULL only when n is 0. Reads no byte outside buf[0 .. n).
 */
size_t mg__mp_parse(struct mg__mp *st, const char *buf, size_t n, int at_end,
                    struct mg__mp_event *ev);

/* Decodes a name or filename view as reported (the bytes between the quotes): \" gives
 * ", \\ gives \, any other byte (another backslash included) is kept. Writes the result
 * to `dst` when not NULL (room for raw.len bytes is always enough; no NUL is added) and
 * returns its length. Token (unquoted) values never hold a backslash and come out as
 * they are. */
size_t mg__mp_unquote(struct mg_str raw, char *dst);

/* A short, static English description of `err` (an enum mg__mp_error). */
const char *mg__mp_strerror(int err);

#endif
