/* The chunked transfer-coding decoder (RFC 9112 section 7.1); see chunked.h. */
#include "chunked.h"

#include <limits.h>
#include <string.h>

enum {
  ST_SIZE = 0,     /* chunk-size digits (zero so a zeroed struct starts here) */
  ST_EXT_WS,       /* BWS after the size or after an extension: only ";" may follow */
  ST_EXT_PRE_NAME, /* after ";": BWS then the extension name */
  ST_EXT_NAME,     /* in the name */
  ST_EXT_POST_NAME,/* BWS after the name: "=" or ";" */
  ST_EXT_PRE_VAL,  /* after "=": BWS then a token or a quoted-string */
  ST_EXT_TOKEN,    /* in a token value */
  ST_EXT_QUOTED,   /* in a quoted-string value */
  ST_EXT_QPAIR,    /* after a backslash in a quoted-string */
  ST_EXT_POST_VAL, /* right after a quoted-string's closing quote */
  ST_SIZE_LF,      /* the LF of the size line */
  ST_DATA,         /* chunk-data */
  ST_DATA_CR,      /* the CR after chunk-data */
  ST_DATA_LF,      /* the LF after chunk-data */
  ST_TRL_START,    /* start of a trailer line, or the CR of the final CRLF */
  ST_TRL_NAME,     /* in a trailer field name */
  ST_TRL_VALUE,    /* in a trailer field value */
  ST_TRL_LF,       /* the LF ending a trailer field line */
  ST_FINAL_LF,     /* the LF of the final CRLF */
  ST_DONE,         /* the message is complete */
  ST_ERROR         /* malformed; see err */
};

/* tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" /
 * "|" / "~" / DIGIT / ALPHA (RFC 9110 5.6.2). */
static int is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Value of a hex digit, or -1. */
static int hex_value(unsigned char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Bytes allowed in a quoted-string besides '"' and '\\': HTAB, SP, VCHAR, obs-text. */
static int is_qdtext(unsigned char c) {
  return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f && c != '"' && c != '\\');
}

/* Bytes allowed in a field value: HTAB, SP, VCHAR, obs-text. */
static int is_field_byte(unsigned char c) {
  return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f);
}

static size_t limit_or(size_t v, size_t dflt) {
  return v != 0 ? v : dflt;
}

void mg__chunked_init(struct mg__chunked *st) {
  memset(st, 0, sizeof(*st));
}

int mg__chunked_done(const struct mg__chunked *st) {
  return st->state == ST_DONE;
}

const char *mg__chunked_strerror(int err) {
  switch (err) {
    case MG__CHUNKED_OK: return "no error";
    case MG__CHUNKED_EBADSIZE: return "invalid chunk size";
    case MG__CHUNKED_ESIZETOOBIG: return "chunk size too large";
    case MG__CHUNKED_EBADEXT: return "invalid chunk extension";
    case MG__CHUNKED_EEXTTOOLONG: return "chunk extension too long";
    case MG__CHUNKED_EBADLINE: return "missing CRLF in chunk framing";
    case MG__CHUNKED_EBADTRAILER: return "invalid trailer section";
    case MG__CHUNKED_ETRAILERTOOLONG: return "trailer section too large";
    case MG__CHUNKED_ETOOMANYTRAILERS: return "too many trailer fields";
    default: return "unknown chunked decoder error";
  }
}

/* One byte of a size line after its digits (the extension states and ST_SIZE_LF's
 * predecessors). Returns the next state, or ST_ERROR with st->err set. */
static unsigned char ext_byte(struct mg__chunked *st, unsigned char c) {
  if (c != '\r') {
    if (st->ext_len >= limit_or(st->max_ext_len, MG__CHUNKED_MAX_EXT_LEN)) {
      st->err = MG__CHUNKED_EEXTTOOLONG;
      return ST_ERROR;
    }
    st->ext_len++;
  }
  int ws = c == ' ' || c == '\t';
  switch (st->state) {
    case ST_EXT_WS:
      if (ws) return ST_EXT_WS;
      if (c == ';') return ST_EXT_PRE_NAME;
      break;
    case ST_EXT_PRE_NAME:
      if (ws) return ST_EXT_PRE_NAME;
      if (is_tchar(c)) return ST_EXT_NAME;
      break;
    case ST_EXT_NAME:
      if (is_tchar(c)) return ST_EXT_NAME;
      if (ws) return ST_EXT_POST_NAME;
      if (c == '=') return ST_EXT_PRE_VAL;
      if (c == ';') return ST_EXT_PRE_NAME;
      if (c == '\r') return ST_SIZE_LF;
      break;
    case ST_EXT_POST_NAME:
      if (ws) return ST_EXT_POST_NAME;
      if (c == '=') return ST_EXT_PRE_VAL;
      if (c == ';') return ST_EXT_PRE_NAME;
      break;
    case ST_EXT_PRE_VAL:
      if (ws) return ST_EXT_PRE_VAL;
      if (c == '"') return ST_EXT_QUOTED;
      if (is_tchar(c)) return ST_EXT_TOKEN;
      break;
    case ST_EXT_TOKEN:
      if (is_tchar(c)) return ST_EXT_TOKEN;
      /* the token ended: what may follow is what may follow a closing quote */
      /* fallthrough */
    case ST_EXT_POST_VAL:
      if (ws) return ST_EXT_WS;
      if (c == ';') return ST_EXT_PRE_NAME;
      if (c == '\r') return ST_SIZE_LF;
      break;
    case ST_EXT_QUOTED:
      if (c == '"') return ST_EXT_POST_VAL;
      if (c == '\\') return ST_EXT_QPAIR;
      if (is_qdtext(c)) return ST_EXT_QUOTED;
      break;
    case ST_EXT_QPAIR:
      if (c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f)) return ST_EXT_QUOTED;
      break;
    default:
      break;
  }
  st->err = MG__CHUNKED_EBADEXT;
  return ST_ERROR;
}

/* One byte of chunk-size. Returns the next state, or ST_ERROR with st->err set. */
static unsigned char size_byte(struct mg__chunked *st, unsigned char c) {
  int v = hex_value(c);
  if (v >= 0) {
    size_t max_digits = limit_or(st->max_size_digits, MG__CHUNKED_MAX_SIZE_DIGITS);
    if (max_digits > 16) max_digits = 16;
    /* Cap the digit count, then check the value before multiplying. */
    if (st->digits >= max_digits ||
        st->remaining > ((uint64_t) INT64_MAX - (uint64_t) v) / 16) {
      st->err = MG__CHUNKED_ESIZETOOBIG;
      return ST_ERROR;
    }
    st->remaining = st->remaining * 16 + (uint64_t) v;
    st->digits++;
    return ST_SIZE;
  }
  if (st->digits == 0) {
    st->err = MG__CHUNKED_EBADSIZE;
    return ST_ERROR;
  }
  if (c == '\r') return ST_SIZE_LF;
  if (c == '\n') {
    st->err = MG__CHUNKED_EBADLINE; /* bare LF: strict, CRLF only */
    return ST_ERROR;
  }
  if (c == ' ' || c == '\t' || c == ';') {
    st->state = ST_EXT_WS;
    return ext_byte(st, c);
  }
  st->err = MG__CHUNKED_EBADSIZE;
  return ST_ERROR;
}

/* One byte of the trailer section. Returns the next state, or ST_ERROR. */
static unsigned char trailer_byte(struct mg__chunked *st, unsigned char c) {
  if (st->trailer_len >= limit_or(st->max_trailer_len, MG__CHUNKED_MAX_TRAILER_LEN)) {
    st->err = MG__CHUNKED_ETRAILERTOOLONG;
    return ST_ERROR;
  }
  st->trailer_len++;
  switch (st->state) {
    case ST_TRL_START:
      if (c == '\r') return ST_FINAL_LF;
      if (!is_tchar(c)) break; /* also rejects obs-fold and leading whitespace */
      if (st->trailer_fields >=
          limit_or(st->max_trailer_fields, MG__CHUNKED_MAX_TRAILER_FIELDS)) {
        st->err = MG__CHUNKED_ETOOMANYTRAILERS;
        return ST_ERROR;
      }
      st->trailer_fields++;
      return ST_TRL_NAME;
    case ST_TRL_NAME:
      if (is_tchar(c)) return ST_TRL_NAME;
      if (c == ':') return ST_TRL_VALUE;
      break;
    case ST_TRL_VALUE:
      if (c == '\r') return ST_TRL_LF;
      if (is_field_byte(c)) return ST_TRL_VALUE;
      break;
    case ST_TRL_LF:
      if (c == '\n') return ST_TRL_START;
      break;
    case ST_FINAL_LF:
      if (c == '\n') return ST_DONE;
      break;
    default:
      break;
  }
  st->err = MG__CHUNKED_EBADTRAILER;
  return ST_ERROR;
}

long long mg__chunked_decode(struct mg__chunked *st, char *buf, size_t *len) {
  size_t n = *len, src = 0, dst = 0;
  long long ret = -2;

  *len = 0;
  if (st->state == ST_ERROR) return -1;
  if (st->state == ST_DONE) return (long long) n;
  if (n > (unsigned long long) LLONG_MAX) {
    st->err = MG__CHUNKED_EBADSIZE;
    st->state = ST_ERROR;
    return -1;
  }

  while (src < n && ret == -2) {
    unsigned char c = (unsigned char) buf[src];
    switch (st->state) {
      case ST_SIZE:
        st->state = size_byte(st, c);
        src++;
        break;
      case ST_SIZE_LF:
        src++;
        if (c != '\n') {
          st->err = MG__CHUNKED_EBADLINE;
          st->state = ST_ERROR;
        } else if (st->remaining == 0) {
          st->state = ST_TRL_START; /* last-chunk */
        } else {
          st->state = ST_DATA;
        }
        break;
      case ST_DATA: {
        size_t avail = n - src;
        size_t take = st->remaining < (uint64_t) avail ? (size_t) st->remaining : avail;
        if (dst != src) memmove(buf + dst, buf + src, take);
        dst += take;
        src += take;
        st->remaining -= take;
        st->total = st->total > UINT64_MAX - take ? UINT64_MAX : st->total + take;
        if (st->remaining == 0) st->state = ST_DATA_CR;
        break;
      }
      case ST_DATA_CR:
      case ST_DATA_LF:
        src++;
        if (c != (st->state == ST_DATA_CR ? '\r' : '\n')) {
          st->err = MG__CHUNKED_EBADLINE;
          st->state = ST_ERROR;
        } else if (st->state == ST_DATA_CR) {
          st->state = ST_DATA_LF;
        } else {
          st->state = ST_SIZE; /* next size line: fresh digit and extension counts */
          st->digits = 0;
          st->ext_len = 0;
        }
        break;
      case ST_TRL_START:
      case ST_TRL_NAME:
      case ST_TRL_VALUE:
      case ST_TRL_LF:
      case ST_FINAL_LF:
        st->state = trailer_byte(st, c);
        src++;
        if (st->state == ST_DONE) ret = (long long) (n - src);
        break;
      case ST_ERROR:
        ret = -1;
        break;
      default: /* the extension states */
        st->state = ext_byte(st, c);
        src++;
        break;
    }
    if (st->state == ST_ERROR) ret = -1;
  }
  *len = dst;
  return ret;
}
