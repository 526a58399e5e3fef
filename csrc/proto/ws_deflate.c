/*
 * permessage-deflate (RFC 7692): negotiation of the Sec-WebSocket-Extensions values and
 * the two raw-DEFLATE streams of a connection; see ws.h.
 *
 * zlib (Debian zlib1g) allocates through z_alloc / z_free below, which use the mbuf
 * allocator hooks (MBUF_REALLOC / MBUF_FREE, libc by default), so a build that routes
 * mbuf storage elsewhere (Python's raw allocator, the tests' failing allocator) sees
 * zlib's memory too. Streams are set up lazily, on the first message in their
 * direction: a connection that only receives never pays for a compressor (about 256 KiB
 * at windowBits 15, memLevel 8).
 */
#define ZLIB_CONST
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "ws.h"

#include "../base/alloc.h"

/* ---- negotiation ----------------------------------------------------------------------- */

#define PMD_NAME "permessage-deflate"

/* Parameter bits, in the order the response lists them. */
#define P_SNCT 1u /* server_no_context_takeover */
#define P_CNCT 2u /* client_no_context_takeover */
#define P_SMWB 4u /* server_max_window_bits */
#define P_CMWB 8u /* client_max_window_bits */

/* One element of an extension list, as parsed (RFC 6455 9.1, RFC 7692 7.1). */
struct ext {
  struct mg_str name;
  unsigned seen;      /* P_* bits of the permessage-deflate parameters present */
  unsigned char smwb; /* server_max_window_bits value when P_SMWB is seen */
  unsigned char cmwb; /* client_max_window_bits value, 0 when given without one */
  int bad;            /* an unknown or repeated parameter, or a bad value */
};

struct cursor {
  const char *p, *end;
};

/* tchar (RFC 9110 5.6.2). */
static int is_tchar(unsigned char c) {
  if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) return 1;
  return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static void skip_ows(struct cursor *c) {
  while (c->p < c->end && (*c->p == ' ' || *c->p == '\t')) c->p++;
}

/* A token at the cursor into *t; 0 when there is none. */
static int take_token(struct cursor *c, struct mg_str *t) {
  const char *s = c->p;
  while (c->p < c->end && is_tchar((unsigned char) *c->p)) c->p++;
  t->p = s;
  t->len = (size_t) (c->p - s);
  return t->len > 0;
}

/* A parameter value, a token or a quoted-string (unescaped), into v[0 .. *vlen); values
 * longer than vcap are cut there with *vlen = vcap + 1 (no parameter accepts them).
 * Returns 0 on a syntax error. RFC 6455 9.1: an unescaped quoted value must itself be a
 * token. */
static int take_value(struct cursor *c, char *v, size_t vcap, size_t *vlen) {
  size_t k = 0;
  int ok = 1;
  if (c->p < c->end && *c->p == '"') {
    c->p++;
    for (;;) {
      if (c->p >= c->end) return 0;
      unsigned char ch = (unsigned char) *c->p++;
      if (ch == '"') break;
      if (ch == '\\') {
        if (c->p >= c->end) return 0;
        ch = (unsigned char) *c->p++;
      }
      if (!is_tchar(ch)) ok = 0; /* still consumed: the element's syntax holds */
      if (k < vcap) v[k] = (char) ch;
      if (k <= vcap) k++;
    }
    if (!ok || k == 0) k = vcap + 1; /* not a token after unescaping: a bad value */
  } else {
    struct mg_str t;
    if (!take_token(c, &t)) return 0;
    k = t.len <= vcap ? t.len : vcap + 1;
    memcpy(v, t.p, k <= vcap ? k : vcap);
  }
  *vlen = k;
  return 1;
}

/* A window-bits value: 8..15 in decimal without leading zeros (RFC 7692 7.1.2); 0 when
 * it is anything else. */
static unsigned char window_bits(const char *v, size_t n) {
  if (n == 1 && v[0] >= '8' && v[0] <= '9') return (unsigned char) (v[0] - '0');
  if (n == 2 && v[0] == '1' && v[1] >= '0' && v[1] <= '5') {
    return (unsigned char) (10 + v[1] - '0');
  }
  return 0;
}

static int same_ci(struct mg_str a, const char *b) {
  size_t n = strlen(b);
  if (a.len != n) return 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char x = (unsigned char) a.p[i], y = (unsigned char) b[i];
    if (x >= 'A' && x <= 'Z') x = (unsigned char) (x + 32);
    if (x != y) return 0;
  }
  return 1;
}

/* Records parameter `name` (with value v[0 .. vlen) when has_value) in e. */
static void add_param(struct ext *e, struct mg_str name, int has_value, const char *v,
                      size_t vlen) {
  unsigned bit;
  if (same_ci(name, "server_no_context_takeover")) bit = P_SNCT;
  else if (same_ci(name, "client_no_context_takeover")) bit = P_CNCT;
  else if (same_ci(name, "server_max_window_bits")) bit = P_SMWB;
  else if (same_ci(name, "client_max_window_bits")) bit = P_CMWB;
  else bit = 0;
  if (bit == 0 || (e->seen & bit)) {
    e->bad = 1; /* unknown or repeated (RFC 7692 5.1) */
    return;
  }
  e->seen |= bit;
  if (bit == P_SNCT || bit == P_CNCT) {
    if (has_value) e->bad = 1; /* these take no value */
  } else if (bit == P_SMWB) {
    e->smwb = has_value ? window_bits(v, vlen) : 0;
    if (e->smwb == 0) e->bad = 1; /* a value is required */
  } else {
    e->cmwb = has_value ? window_bits(v, vlen) : 0;
    if (has_value && e->cmwb == 0) e->bad = 1;
  }
}

/* Moves past the current element: to just after the next ',' outside a quoted-string,
 * or to the end. */
static void skip_element(struct cursor *c) {
  int quoted = 0;
  while (c->p < c->end) {
    char ch = *c->p++;
    if (quoted && ch == '\\') {
      if (c->p < c->end) c->p++;
    } else if (ch == '"') {
      quoted = !quoted;
    } else if (ch == ',' && !quoted) {
      return;
    }
  }
}

/* Parses the next list element into *e and moves past it (and its ','):
 *   element = extension-token *( OWS ";" OWS param ), param = token [ OWS "=" OWS value ]
 * Returns 1 for an element, 0 for an empty element (RFC 9110 5.6.1 lets a list hold
 * them), -1 for one that breaks the grammar, 2 at the end of the list. */
static int next_element(struct cursor *c, struct ext *e) {
  memset(e, 0, sizeof(*e));
  skip_ows(c);
  if (c->p >= c->end) return 2;
  if (*c->p == ',') {
    c->p++;
    return 0;
  }
  if (!take_token(c, &e->name)) goto bad;
  for (;;) {
    skip_ows(c);
    if (c->p >= c->end) return 1;
    if (*c->p == ',') {
      c->p++;
      return 1;
    }
    if (*c->p != ';') goto bad;
    c->p++;
    skip_ows(c);
    struct mg_str pname;
    char v[8];
    size_t vlen = 0;
    int has_value = 0;
    if (!take_token(c, &pname)) goto bad;
    skip_ows(c);
    if (c->p < c->end && *c->p == '=') {
      c->p++;
      skip_ows(c);
      if (!take_value(c, v, sizeof(v), &vlen)) goto bad;
      has_value = 1;
    }
    add_param(e, pname, has_value, v, vlen);
  }
bad:
  skip_element(c);
  return -1;
}

/* Appends s to resp[0 .. *k) if it fits with a NUL; returns 0 when it does not. */
static int put(char *resp, size_t resp_len, size_t *k, const char *s) {
  size_t n = strlen(s);
  if (resp_len == 0 || n >= resp_len - *k) return 0;
  memcpy(resp + *k, s, n + 1);
  *k += n;
  return 1;
}

int mg__ws_deflate_negotiate(struct mg_str offers, struct mg__ws_deflate_params *p,
                             char *resp, size_t resp_len) {
  struct cursor c = {offers.p, offers.p + (offers.p != NULL ? offers.len : 0)};
  struct ext e;
  int r;
  if (resp_len > 0) resp[0] = '\0';
  while ((r = next_element(&c, &e)) != 2) {
    if (r != 1 || e.bad || !same_ci(e.name, PMD_NAME)) continue;
    /* Accept this offer: take over each no_context_takeover the client named (echoing
     * client_no_context_takeover lets this side's inflater reset per message) and the
     * server window it asked for. A client_max_window_bits hint is not echoed: the
     * client may then use up to 15 bits, which this side's inflater allows. */
    char num[8];
    size_t k = 0;
    int ok = put(resp, resp_len, &k, PMD_NAME);
    if (e.seen & P_SNCT) ok = ok && put(resp, resp_len, &k, "; server_no_context_takeover");
    if (e.seen & P_CNCT) ok = ok && put(resp, resp_len, &k, "; client_no_context_takeover");
    if (e.seen & P_SMWB) {
      num[0] = '=';
      num[1] = e.smwb >= 10 ? '1' : (char) ('0' + e.smwb);
      num[2] = e.smwb >= 10 ? (char) ('0' + e.smwb - 10) : '\0';
      num[3] = '\0';
      ok = ok && put(resp, resp_len, &k, "; server_max_window_bits") &&
           put(resp, resp_len, &k, num);
    }
    if (!ok) {
      if (resp_len > 0) resp[0] = '\0';
      return 0;
    }
    p->server_no_context_takeover = (e.seen & P_SNCT) ? 1 : 0;
    p->client_no_context_takeover = (e.seen & P_CNCT) ? 1 : 0;
    p->server_max_window_bits = (e.seen & P_SMWB) ? e.smwb : 15;
    p->client_max_window_bits = 15;
    return 1;
  }
  return 0;
}

const char *mg__ws_deflate_offer(void) {
  return PMD_NAME "; client_max_window_bits";
}

int mg__ws_deflate_accept(struct mg_str value, struct mg__ws_deflate_params *p) {
  struct cursor c = {value.p, value.p + (value.p != NULL ? value.len : 0)};
  struct ext e, got;
  int r, count = 0;
  memset(&got, 0, sizeof(got));
  while ((r = next_element(&c, &e)) != 2) {
    if (r == 0) continue;
    /* Only the one extension offered may come back, once, with parameters valid in a
     * response: client_max_window_bits then needs a value (RFC 7692 7.1.2.2). */
    if (r < 0 || e.bad || !same_ci(e.name, PMD_NAME) || ++count > 1) return -1;
    if ((e.seen & P_CMWB) && e.cmwb == 0) return -1;
    got = e;
  }
  if (count == 0) return 0;
  p->server_no_context_takeover = (got.seen & P_SNCT) ? 1 : 0;
  p->client_no_context_takeover = (got.seen & P_CNCT) ? 1 : 0;
  p->server_max_window_bits = (got.seen & P_SMWB) ? got.smwb : 15;
  p->client_max_window_bits = (got.seen & P_CMWB) ? got.cmwb : 15;
  return 1;
}

/* ---- compression state ----------------------------------------------------------------- */

/* One direction of a connection. */
struct half {
  z_stream z;
  int bits;            /* negotiated window bits (8..15) */
  unsigned char reset; /* no context takeover: a fresh context per message */
  unsigned char ready; /* z is initialised */
  unsigned char dead;  /* a call failed; every later call fails */
  unsigned char ended; /* inflate: the peer ended its stream (a BFINAL block) */
};

struct mg__ws_deflate {
  struct half tx; /* this side's compressor */
  struct half rx; /* the peer's data, decompressed */
};

/* zlib's allocator hooks, routed to the mbuf allocator. */
static void *z_alloc(void *opaque, unsigned items, unsigned size) {
  (void) opaque;
  if (size != 0 && items > SIZE_MAX / size) return NULL;
  return MBUF_REALLOC(NULL, (size_t) items * size);
}

static void z_free(void *opaque, void *p) {
  (void) opaque;
  if (p != NULL) MBUF_FREE(p);
}

struct mg__ws_deflate *mg__ws_deflate_new(const struct mg__ws_deflate_params *p,
                                          int is_server) {
  struct mg__ws_deflate *d = (struct mg__ws_deflate *) MBUF_REALLOC(NULL, sizeof(*d));
  if (d == NULL) return NULL;
  memset(d, 0, sizeof(*d));
  int server_bits = p->server_max_window_bits, client_bits = p->client_max_window_bits;
  if (server_bits < 8 || server_bits > 15) server_bits = 15;
  if (client_bits < 8 || client_bits > 15) client_bits = 15;
  d->tx.bits = is_server ? server_bits : client_bits;
  d->rx.bits = is_server ? client_bits : server_bits;
  d->tx.reset = is_server ? p->server_no_context_takeover : p->client_no_context_takeover;
  d->rx.reset = is_server ? p->client_no_context_takeover : p->server_no_context_takeover;
  return d;
}

void mg__ws_deflate_free(struct mg__ws_deflate *d) {
  if (d == NULL) return;
  if (d->tx.ready) deflateEnd(&d->tx.z);
  if (d->rx.ready) inflateEnd(&d->rx.z);
  MBUF_FREE(d);
}

/* Makes sure out has at least some free room, asking for about `want` bytes. */
static int room(struct mbuf *out, size_t want) {
  if (out->size - out->len >= 64) return 1;
  return mbuf_reserve(out, want < 256 ? 256 : want);
}

static unsigned clamp_uint(size_t n) {
  return n > UINT_MAX ? UINT_MAX : (unsigned) n;
}

/* The compressor: windowBits as negotiated, except that zlib's raw deflate refuses 8.
 * Then it runs at 9 with the Z_RLE strategy, whose matches all have distance 1: a
 * stream that never reaches back further than one byte fits a 256-byte window, so the
 * peer's limit holds (merely declaring 9 would let matches reach 512 bytes back). */
static int tx_setup(struct half *h) {
  int bits = h->bits, strategy = Z_DEFAULT_STRATEGY;
  if (bits == 8) {
    bits = 9;
    strategy = Z_RLE;
  }
  h->z.zalloc = z_alloc;
  h->z.zfree = z_free;
  h->z.opaque = NULL;
  if (deflateInit2(&h->z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -bits, 8, strategy) != Z_OK) {
    return 0;
  }
  h->ready = 1;
  return 1;
}

int mg__ws_deflate_message(struct mg__ws_deflate *d, const void *data, size_t n,
                           struct mbuf *out) {
  struct half *h = &d->tx;
  const unsigned char *in = (const unsigned char *) data;
  size_t left = n, start = out->len;
  if (h->dead) return -1;
  if (!h->ready) {
    if (!tx_setup(h)) goto fail;
  } else if (h->reset && deflateReset(&h->z) != Z_OK) {
    goto fail;
  }
  do {
    unsigned take = clamp_uint(left);
    h->z.next_in = in;
    h->z.avail_in = take;
    in += take;
    left -= take;
    int flush = left == 0 ? Z_SYNC_FLUSH : Z_NO_FLUSH;
    do {
      /* Room for about half the input still to compress, but no more at a time than
       * 64 KiB or the output so far (so large outputs grow geometrically). */
      size_t want = (left + h->z.avail_in) / 2, step = out->len - start;
      if (step < 65536) step = 65536;
      if (!room(out, want < step ? want : step)) goto fail;
      unsigned avail = clamp_uint(out->size - out->len);
      h->z.next_out = (unsigned char *) out->buf + out->len;
      h->z.avail_out = avail;
      int ret = deflate(&h->z, flush);
      if (ret != Z_OK && ret != Z_BUF_ERROR) goto fail;
      out->len += avail - h->z.avail_out;
    } while (h->z.avail_out == 0);
  } while (left > 0);
  /* A sync flush ends with an empty stored block, 00 00 FF FF; RFC 7692 7.2.1 drops
   * those 4 bytes, and the receiver puts them back. */
  static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};
  if (out->len - start >= 4 && memcmp(out->buf + out->len - 4, tail, 4) == 0) {
    out->len -= 4;
  }
  /* An empty message right after a flush makes no output at all. An empty payload would
   * leave a receiver that appends 00 00 FF FF inside a stored block header, so send the
   * byte 00 instead: with the 4 bytes put back, an empty stored block. */
  if (out->len == start && mbuf_append(out, "", 1) != 1) goto fail;
  return 0;
fail:
  h->dead = 1;
  return -1;
}

/* When the peer ended its DEFLATE stream with a BFINAL block (RFC 7692 permits it), the
 * next message starts a new stream; with context takeover it may still refer to the
 * bytes of earlier messages, so the window is carried over as the new stream's
 * dictionary. Returns 0, or -3 out of memory, -1 on a zlib failure. */
static int rx_restart(struct half *h) {
  if (h->reset) return inflateReset(&h->z) == Z_OK ? 0 : -1;
  size_t cap = (size_t) 1 << h->bits;
  unsigned char *win = (unsigned char *) MBUF_REALLOC(NULL, cap);
  unsigned len = 0;
  int r = -1;
  if (win == NULL) return -3;
  if (inflateGetDictionary(&h->z, win, &len) == Z_OK && len <= cap &&
      inflateReset(&h->z) == Z_OK &&
      (len == 0 || inflateSetDictionary(&h->z, win, len) == Z_OK)) {
    r = 0;
  }
  MBUF_FREE(win);
  return r;
}

/* Inflates the `n` bytes at `in` into out, counting into *produced; -2 once *produced
 * would pass max. Stops early, with h->ended set, at the end of a BFINAL block. */
static int rx_feed(struct half *h, const unsigned char *in, size_t n, size_t max,
                   size_t *produced, struct mbuf *out) {
  while (n > 0 && !h->ended) {
    unsigned take = clamp_uint(n);
    h->z.next_in = in;
    h->z.avail_in = take;
    for (;;) {
      /* At most one byte past the limit may come out: that byte proves the excess. */
      size_t allowed = max - *produced;
      if (allowed < SIZE_MAX) allowed++;
      /* 64 KiB or the output so far, whichever is more (geometric growth), never more
       * than the limit allows. */
      size_t step = *produced > 65536 ? *produced : 65536;
      size_t want = allowed < step ? allowed : step;
      if (out->size - out->len < want && !mbuf_reserve(out, want)) return -3;
      size_t free_room = out->size - out->len;
      unsigned avail = clamp_uint(free_room < allowed ? free_room : allowed);
      h->z.next_out = (unsigned char *) out->buf + out->len;
      h->z.avail_out = avail;
      int ret = inflate(&h->z, Z_SYNC_FLUSH);
      size_t got = avail - h->z.avail_out;
      out->len += got;
      *produced += got;
      if (*produced > max) return -2;
      if (ret == Z_STREAM_END) {
        h->ended = 1; /* whatever follows the final block is ignored */
        break;
      }
      if (ret == Z_MEM_ERROR) return -3;
      if (ret != Z_OK && ret != Z_BUF_ERROR) return -1; /* Z_DATA_ERROR, Z_NEED_DICT */
      if (h->z.avail_in == 0 && h->z.avail_out != 0) break;
      if (ret == Z_BUF_ERROR && h->z.avail_out != 0) return -1; /* no progress */
    }
    in += take;
    n -= take;
  }
  return 0;
}

int mg__ws_inflate_message(struct mg__ws_deflate *d, const void *data, size_t n, size_t max,
                           struct mbuf *out) {
  static const unsigned char tail[4] = {0x00, 0x00, 0xff, 0xff};
  struct half *h = &d->rx;
  size_t produced = 0;
  int r;
  if (h->dead) return -1;
  /* An empty payload carries no DEFLATE data at all (a conforming sender emits at
   * least one byte); it is taken as an empty message and leaves the context alone. */
  if (n == 0) return 0;
  if (!h->ready) {
    h->z.zalloc = z_alloc;
    h->z.zfree = z_free;
    h->z.opaque = NULL;
    h->z.next_in = NULL;
    h->z.avail_in = 0;
    r = inflateInit2(&h->z, -h->bits);
    if (r != Z_OK) {
      r = r == Z_MEM_ERROR ? -3 : -1;
      goto fail;
    }
    h->ready = 1;
  } else if (h->ended || h->reset) {
    r = h->ended ? rx_restart(h) : (inflateReset(&h->z) == Z_OK ? 0 : -1);
    if (r != 0) goto fail;
    h->ended = 0;
  }
  r = rx_feed(h, (const unsigned char *) data, n, max, &produced, out);
  if (r == 0) r = rx_feed(h, tail, sizeof(tail), max, &produced, out);
  /* Unless the stream ended, the message must stop at a block boundary once the empty
   * stored block is put back (zlib sets bit 128 of data_type there): anything else is
   * a truncated or malformed payload, and the next message would decode wrongly. */
  if (r == 0 && !h->ended && (h->z.data_type & 128) == 0) r = -1;
  if (r == 0) return 0;
fail:
  h->dead = 1;
  return r;
}
