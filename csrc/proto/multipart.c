/* The streaming multipart parser (RFC 2046 5.1, RFC 7578; see multipart.h) and
 * mg_parse_multipart, its whole-buffer form from the Mongoose 6 API. */
#include "multipart.h"

#include <string.h>

#include "../base/ascii.h"

enum {
  ST_PREAMBLE = 0, /* before the first delimiter (zero so a zeroed struct starts here) */
  ST_HEADERS,      /* a part's header section */
  ST_DATA,         /* a part's data */
  ST_EPILOGUE,     /* after the close delimiter */
  ST_ERROR         /* malformed; see err */
};

/* What lies at a position of the input (match_delimiter). */
enum {
  M_NOT,   /* no delimiter starts here */
  M_NEED,  /* one may start here: more bytes decide */
  M_DELIM, /* a delimiter line, CRLF included */
  M_CLOSE, /* the close delimiter */
  M_PAD    /* a delimiter with too much transport padding (malformed) */
};

/* tchar (RFC 9110 5.6.2). */
static int is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* bchars (RFC 2046 5.1.1): DIGIT ALPHA ' ( ) + _ , - . / : = ? and space. */
static int is_bchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  return c != '\0' && strchr("'()+_,-./:=? ", c) != NULL;
}

/* Bytes of a field value: HTAB, SP, VCHAR, obs-text. */
static int is_field_byte(unsigned char c) {
  return c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f);
}

static int is_pad(char c) {
  return c == ' ' || c == '\t';
}

static size_t limit_or(size_t v, size_t dflt) {
  return v != 0 && v < dflt ? v : dflt;
}

/* `n` bytes at `a` equal the lower-case NUL-terminated `lower`, ASCII case-insensitively. */
static int name_is(const char *a, size_t n, const char *lower) {
  if (strlen(lower) != n) return 0;
  for (size_t i = 0; i < n; i++) {
    if (mg__ascii_lower((unsigned char) a[i]) != (unsigned char) lower[i]) return 0;
  }
  return 1;
}

int mg__mp_init(struct mg__mp *st, struct mg_str boundary, const struct mg__mp_limits *limits) {
  memset(st, 0, sizeof(*st));
  st->limits.boundary = limit_or(limits != NULL ? limits->boundary : 0, MG__MP_MAX_BOUNDARY);
  st->limits.header = limits != NULL && limits->header != 0 ? limits->header : MG__MP_MAX_HEADER;
  st->limits.parts = limits != NULL && limits->parts != 0 ? limits->parts : MG__MP_MAX_PARTS;
  int ok = boundary.p != NULL && boundary.len > 0 && boundary.len <= st->limits.boundary;
  for (size_t i = 0; ok && i < boundary.len; i++) ok = is_bchar((unsigned char) boundary.p[i]);
  if (!ok || boundary.p[boundary.len - 1] == ' ') {
    st->state = ST_ERROR;
    st->err = MG__MP_EBOUNDARY;
    return -1;
  }
  memcpy(st->delim, "\r\n--", 4);
  memcpy(st->delim + 4, boundary.p, boundary.len);
  st->delim_len = (unsigned char) (4 + boundary.len);
  return 0;
}

/* Whether a delimiter starts at p[0 .. avail): CRLF "--" B, or with skip = 2 the "--" B
 * that may open the body. For M_DELIM and M_CLOSE, *len gets its length (pad and CRLF
 * included for M_DELIM). With at_end, what would need more bytes is no delimiter. */
static int match_delimiter(const struct mg__mp *st, const char *p, size_t avail, size_t skip,
                           int at_end, size_t *len) {
  size_t dl = st->delim_len - skip, i = dl, pad = 0;
  if (avail == 0) return at_end ? M_NOT : M_NEED;
  if (memcmp(p, st->delim + skip, avail < dl ? avail : dl) != 0) return M_NOT;
  if (avail <= dl) return at_end ? M_NOT : M_NEED;
  if (p[i] == '-') {
    if (i + 1 == avail) return at_end ? M_NOT : M_NEED;
    if (p[i + 1] != '-') return M_NOT;
    *len = i + 2;
    return M_CLOSE;
  }
  for (; i < avail && is_pad(p[i]); i++) {
    if (++pad > MG__MP_MAX_PADDING) return M_PAD;
  }
  if (i == avail) return at_end ? M_NOT : M_NEED;
  if (p[i] != '\r') return M_NOT;
  if (i + 1 == avail) return at_end ? M_NOT : M_NEED;
  if (p[i + 1] != '\n') return M_NOT;
  *len = i + 2;
  return M_DELIM;
}

/* The first position in buf[from .. n) where match_delimiter gives anything but M_NOT
 * (its verdict in *kind), or n (*kind = M_NOT) when there is none. */
static size_t find_delimiter(const struct mg__mp *st, const char *buf, size_t n, size_t from,
                             int at_end, int *kind, size_t *len) {
  for (size_t i = from; i < n; i++) {
    const char *cr = (const char *) memchr(buf + i, '\r', n - i);
    if (cr == NULL) break;
    i = (size_t) (cr - buf);
    /* Binary data holds a CR every 256 bytes, rarely followed by LF: skipping those
     * without the call and its memcmp took a 1 MiB binary part (in cache, 64 KiB
     * chunks, benchmarks/multipart_parse.c) from 79 to 59 us; text is unchanged. */
    if (i + 1 < n && cr[1] != '\n') continue;
    *kind = match_delimiter(st, cr, n - i, 0, at_end, len);
    if (*kind != M_NOT) return i;
  }
  *kind = M_NOT;
  return n;
}

static size_t fail(struct mg__mp *st, struct mg__mp_event *ev, int err, size_t consumed) {
  st->state = ST_ERROR;
  st->err = (unsigned char) err;
  ev->type = MG__MP_ERROR;
  ev->err = err;
  return consumed;
}

/* Looks for the end of the header section at h[0 .. n), checking line ends on the way
 * (only bytes not checked by an earlier call). Returns the section's length, blank line
 * included, 0 when more bytes are needed, or -error. */
static long scan_headers(struct mg__mp *st, const char *h, size_t n) {
  size_t max = st->limits.header, end = n < max ? n : max, i = st->scanned;
  for (; i < end; i++) {
    if (i > 0 && h[i - 1] == '\r' && h[i] != '\n') return -MG__MP_EHEADER; /* bare CR */
    if (h[i] != '\n') continue;
    if (i == 0 || h[i - 1] != '\r') return -MG__MP_EHEADER; /* bare LF */
    if (i - 1 == st->line_start) return (long) (i + 1);   /* the empty line */
    st->line_start = i + 1;
  }
  st->scanned = i;
  return n > max ? -MG__MP_EHEADERSIZE : 0;
}

/* Skips OWS in v[*i .. n). */
static void skip_ows(const char *v, size_t n, size_t *i) {
  while (*i < n && is_pad(v[*i])) (*i)++;
}

/* Parses a Content-Disposition value (its bytes already checked as field bytes): the
 * disposition type and its parameters, keeping name and filename. 0 or -error. */
static int parse_disposition(const char *v, size_t n, struct mg__mp_event *ev) {
  size_t i = 0;
  while (i < n && is_tchar((unsigned char) v[i])) i++;
  /* RFC 7578 4.2: the disposition type of a form's part MUST be form-data */
  if (!name_is(v, i, "form-data")) return -MG__MP_EDISPOSITION;
  for (;;) {
    skip_ows(v, n, &i);
    if (i == n) return 0;
    if (v[i] != ';') return -MG__MP_EDISPOSITION;
    i++;
    skip_ows(v, n, &i);
    if (i == n || v[i] == ';') continue; /* an empty parameter */
    size_t name = i;
    while (i < n && is_tchar((unsigned char) v[i])) i++;
    size_t name_len = i - name;
    if (name_len == 0) return -MG__MP_EDISPOSITION;
    skip_ows(v, n, &i);
    if (i == n || v[i] != '=') return -MG__MP_EDISPOSITION;
    i++;
    skip_ows(v, n, &i);
    struct mg_str value;
    if (i < n && v[i] == '"') {
      size_t j = i + 1;
      while (j < n && v[j] != '"') j += v[j] == '\\' ? 2 : 1;
      if (j >= n) return -MG__MP_EDISPOSITION; /* unterminated */
      value = mg_mk_str_n(v + i + 1, j - i - 1);
      i = j + 1;
    } else {
      size_t j = i;
      while (j < n && is_tchar((unsigned char) v[j])) j++;
      if (j == i) return -MG__MP_EDISPOSITION;
      value = mg_mk_str_n(v + i, j - i);
      i = j;
    }
    struct mg_str *slot = NULL;
    if (name_is(v + name, name_len, "name")) slot = &ev->name;
    if (name_is(v + name, name_len, "filename")) slot = &ev->filename;
    if (slot != NULL) {
      if (slot->p != NULL) return -MG__MP_EDISPOSITION; /* given twice */
      *slot = value;
    }
  }
}

/* Parses the complete header section h[0 .. len) into *ev. 0 or -error. */
static int parse_headers(const char *h, size_t len, struct mg__mp_event *ev) {
  int have_disposition = 0;
  size_t end = len - 2; /* without the empty line */
  ev->headers = mg_mk_str_n(h, end);
  for (size_t i = 0; i < end;) {
    const char *eol = (const char *) memchr(h + i, '\r', end - i); /* checked: CR LF */
    size_t line_end = (size_t) (eol - h), k = i;
    while (k < line_end && is_tchar((unsigned char) h[k])) k++;
    if (k == i || k == line_end || h[k] != ':') return -MG__MP_EHEADER;
    size_t name = i, name_len = k - i, v = k + 1, ve = line_end;
    for (size_t j = v; j < ve; j++) {
      if (!is_field_byte((unsigned char) h[j])) return -MG__MP_EHEADER;
    }
    while (v < ve && is_pad(h[v])) v++;
    while (ve > v && is_pad(h[ve - 1])) ve--;
    if (name_is(h + name, name_len, "content-disposition")) {
      if (have_disposition) return -MG__MP_EHEADER;
      have_disposition = 1;
      int r = parse_disposition(h + v, ve - v, ev);
      if (r < 0) return r;
    } else if (name_is(h + name, name_len, "content-type")) {
      if (ev->content_type.p != NULL) return -MG__MP_EHEADER;
      ev->content_type = mg_mk_str_n(h + v, ve - v);
    }
    i = line_end + 2;
  }
  return have_disposition && ev->name.p != NULL ? 0 : -MG__MP_ENONAME;
}

size_t mg__mp_parse(struct mg__mp *st, const char *buf, size_t n, int at_end,
                    struct mg__mp_event *ev) {
  size_t off = 0, len = 0, at;
  int kind;
  static const char nothing[1] = {0};
  memset(ev, 0, sizeof(*ev));
  if (buf == NULL) { /* no pointer arithmetic on NULL below */
    buf = nothing;
    n = 0;
  }
  for (;;) {
    switch (st->state) {
      case ST_PREAMBLE:
        kind = M_NOT;
        at = off;
        if (!st->started) kind = match_delimiter(st, buf, n, 2, at_end, &len);
        if (kind == M_NOT) at = find_delimiter(st, buf, n, off, at_end, &kind, &len);
        if (at > 0) st->started = 1; /* the preamble before `at` is skipped */
        off = at;
        if (kind == M_NEED || (kind == M_NOT && !at_end)) {
          ev->type = MG__MP_NEED_MORE;
          return off;
        }
        if (kind == M_NOT) return fail(st, ev, MG__MP_ETRUNCATED, off);
        if (kind == M_PAD) return fail(st, ev, MG__MP_EPADDING, off);
        if (kind == M_DELIM && st->parts >= st->limits.parts)
          return fail(st, ev, MG__MP_ETOOMANYPARTS, off);
        st->started = 1;
        off += len;
        if (kind == M_CLOSE) {
          st->state = ST_EPILOGUE;
        } else {
          st->parts++;
          st->state = ST_HEADERS;
        }
        break;
      case ST_HEADERS: {
        long r = scan_headers(st, buf + off, n - off);
        if (r == 0 && !at_end) {
          ev->type = MG__MP_NEED_MORE;
          return off;
        }
        if (r == 0) return fail(st, ev, MG__MP_ETRUNCATED, off);
        if (r < 0) return fail(st, ev, (int) -r, off);
        int e = parse_headers(buf + off, (size_t) r, ev);
        if (e < 0) {
          memset(ev, 0, sizeof(*ev));
          return fail(st, ev, -e, off);
        }
        st->scanned = st->line_start = 0;
        st->state = ST_DATA;
        ev->type = MG__MP_PART_BEGIN;
        return off + (size_t) r;
      }
      case ST_DATA:
        at = find_delimiter(st, buf, n, off, at_end, &kind, &len);
        if (at > off) {
          ev->type = MG__MP_PART_DATA;
          ev->data = mg_mk_str_n(buf + off, at - off);
          return at;
        }
        if (kind == M_NEED || (kind == M_NOT && !at_end)) {
          ev->type = MG__MP_NEED_MORE;
          return off;
        }
        if (kind == M_NOT) return fail(st, ev, MG__MP_ETRUNCATED, off);
        if (kind == M_PAD) return fail(st, ev, MG__MP_EPADDING, off);
        if (kind == M_DELIM && st->parts >= st->limits.parts)
          return fail(st, ev, MG__MP_ETOOMANYPARTS, off);
        if (kind == M_CLOSE) {
          st->state = ST_EPILOGUE;
        } else {
          st->parts++;
          st->state = ST_HEADERS;
        }
        ev->type = MG__MP_PART_END;
        return off + len;
      case ST_EPILOGUE:
        ev->type = MG__MP_DONE;
        return n;
      default:
        ev->type = MG__MP_ERROR;
        ev->err = st->err;
        return off;
    }
  }
}

size_t mg__mp_unquote(struct mg_str raw, char *dst) {
  size_t k = 0;
  for (size_t i = 0; i < raw.len; i++, k++) {
    char c = raw.p[i];
    if (c == '\\' && i + 1 < raw.len && (raw.p[i + 1] == '"' || raw.p[i + 1] == '\\')) {
      c = raw.p[++i];
    }
    if (dst != NULL) dst[k] = c;
  }
  return k;
}

const char *mg__mp_strerror(int err) {
  switch (err) {
    case MG__MP_OK: return "no error";
    case MG__MP_EBOUNDARY: return "invalid boundary";
    case MG__MP_ETRUNCATED: return "body ended before the close delimiter";
    case MG__MP_EPADDING: return "too much padding after a boundary";
    case MG__MP_EHEADER: return "malformed part header";
    case MG__MP_EHEADERSIZE: return "part header section too large";
    case MG__MP_EDISPOSITION: return "malformed Content-Disposition";
    case MG__MP_ENONAME: return "part without a Content-Disposition name";
    case MG__MP_ETOOMANYPARTS: return "too many parts";
    default: return "unknown error";
  }
}

/* ---- mg_parse_multipart -------------------------------------------------------------- */

/* Copies the decoded name `raw` NUL-terminated into dst[0 .. size) when it fits; else
 * (or when absent) dst becomes "". */
static void copy_name(struct mg_str raw, char *dst, size_t size) {
  if (dst == NULL || size == 0) return;
  dst[0] = '\0';
  if (raw.p == NULL || mg__mp_unquote(raw, NULL) >= size) return;
  dst[mg__mp_unquote(raw, dst)] = '\0';
}

static size_t no_part(char *var_name, size_t var_name_len, char *file_name,
                      size_t file_name_len, const char **chunk, size_t *chunk_len) {
  if (var_name != NULL && var_name_len > 0) var_name[0] = '\0';
  if (file_name != NULL && file_name_len > 0) file_name[0] = '\0';
  if (chunk != NULL) *chunk = NULL;
  if (chunk_len != NULL) *chunk_len = 0;
  return 0;
}

size_t mg_parse_multipart(const char *buf, size_t buf_len, char *var_name, size_t var_name_len,
                          char *file_name, size_t file_name_len, const char **chunk,
                          size_t *chunk_len) {
  struct mg__mp st;
  struct mg__mp_event ev;
  size_t eol = 2, off = 0, data = 0;
  int begun = 0;
  no_part(var_name, var_name_len, file_name, file_name_len, chunk, chunk_len);
  if (buf == NULL || buf_len < 4 || buf[0] != '-' || buf[1] != '-') return 0;
  /* The boundary is the first line's text after "--", without transport padding. */
  size_t longest = 2 + MG__MP_MAX_BOUNDARY + MG__MP_MAX_PADDING;
  while (eol < buf_len && eol <= longest && buf[eol] != '\r') eol++;
  if (eol + 1 >= buf_len || buf[eol] != '\r' || buf[eol + 1] != '\n') return 0;
  size_t b_end = eol;
  while (b_end > 2 && is_pad(buf[b_end - 1])) b_end--;
  if (mg__mp_init(&st, mg_mk_str_n(buf + 2, b_end - 2), NULL) != 0) return 0;
  for (;;) {
    size_t used = mg__mp_parse(&st, buf + off, buf_len - off, 1, &ev);
    if (ev.type == MG__MP_PART_BEGIN && !begun) {
      begun = 1;
      copy_name(ev.name, var_name, var_name_len);
      copy_name(ev.filename, file_name, file_name_len);
      data = off + used;
    } else if (ev.type == MG__MP_PART_END && begun) {
      /* The delimiter starts at buf[off] with its CRLF: the next boundary line follows. */
      if (chunk != NULL) *chunk = buf + data;
      if (chunk_len != NULL) *chunk_len = off - data;
      return off + 2;
    } else if (ev.type != MG__MP_PART_DATA) {
      return no_part(var_name, var_name_len, file_name, file_name_len, chunk, chunk_len);
    }
    off += used;
  }
}
