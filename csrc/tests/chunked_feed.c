/* The test driver of the chunked decoder; see chunked_feed.h. */
#include "chunked_feed.h"

#include <stdlib.h>
#include <string.h>

#include "../proto/chunked.h"

/* One decode call on an exact-size copy of buf[0 .. *len); the copy is written back. */
static long long decode_exact(struct mg__chunked *st, char *buf, size_t *len) {
  size_t n = *len;
  char *copy = (char *) malloc(n > 0 ? n : 1);
  if (copy == NULL) return -3;
  memcpy(copy, buf, n);
  long long r = mg__chunked_decode(st, n > 0 ? copy : NULL, len);
  size_t untouched = r >= 0 ? (size_t) r : 0;
  /* The rest after a complete message must be exactly the input's bytes. */
  if (r >= 0 && (untouched > n || memcmp(copy + n - untouched, buf + n - untouched,
                                          untouched) != 0)) {
    r = -3;
  }
  if (*len > n) r = -3;
  memcpy(buf, copy, n);
  free(copy);
  return r;
}

long long mgio_test_chunked_feed(const char *in, size_t n, const size_t *pieces,
                                 size_t npieces, int keep, const size_t *limits, char *out,
                                 size_t *out_len, int *err) {
  struct mg__chunked st;
  mg__chunked_init(&st);
  if (limits != NULL) {
    st.max_size_digits = limits[0];
    st.max_ext_len = limits[1];
    st.max_trailer_len = limits[2];
    st.max_trailer_fields = limits[3];
  }
  char *b = (char *) malloc(n > 0 ? n : 1); /* the receive buffer */
  if (b == NULL) return -3;
  size_t blen = 0;   /* bytes in b */
  size_t dec = 0;    /* keep mode: decoded body bytes at the front of b */
  size_t olen = 0;   /* streaming mode: bytes moved to out */
  size_t fed = 0;
  long long verdict = -2;
  size_t whole = n;
  if (npieces == 0) {
    pieces = &whole;
    npieces = 1;
  }
  for (size_t i = 0; i < npieces && verdict != -3; i++) {
    size_t p = pieces[i];
    if (p > n - fed) {
      verdict = -3;
      break;
    }
    memcpy(b + blen, in + fed, p);
    blen += p;
    fed += p;
    if (verdict >= 0 || verdict == -1) continue; /* done or failed: bytes just pile up */
    size_t l = blen - dec, raw = l;
    long long r = decode_exact(&st, b + dec, &l);
    if (r == -3) {
      verdict = -3;
      break;
    }
    size_t consumed = r >= 0 ? raw - (size_t) r : raw;
    if (keep) {
      /* Drop the framing between the new data and the unconsumed rest. */
      memmove(b + dec + l, b + dec + consumed, raw - consumed);
      dec += l;
      blen = dec + (raw - consumed);
    } else {
      memcpy(out + olen, b, l);
      olen += l;
      memmove(b, b + consumed, raw - consumed);
      blen = raw - consumed;
    }
    verdict = r;
  }
  if (fed != n && verdict != -3) verdict = -3;
  if (verdict >= 0) {
    size_t rest = keep ? blen - dec : blen;
    /* The rest is the input's tail, byte for byte. */
    if (rest > n || memcmp((keep ? b + dec : b), in + n - rest, rest) != 0) verdict = -3;
    else verdict = (long long) rest;
  }
  if (verdict != -3) {
    if (keep) {
      memcpy(out, b, dec);
      olen = dec;
    }
    if (verdict >= 0) memcpy(out + olen, in + n - (size_t) verdict, (size_t) verdict);
    *out_len = olen;
  }
  *err = st.err;
  free(b);
  return verdict;
}
