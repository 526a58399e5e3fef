/*
 * libFuzzer target: the chunked decoder (csrc/proto/chunked.c).
 * Input: a settings byte (bit 0: small limits from the next four bytes), a four-byte
 * split seed, then the chunked body. The body is decoded whole and again in pieces cut
 * at the seed's points (each piece its own exact-size heap block). Invariants: both give
 * the same decoded bytes, the same verdict (-1 with the same error, -2, or complete with
 * the same number of bytes left after the message); no call writes more bytes than it
 * was given; an error is sticky and a complete message leaves later input unread.
 */
#include <stdlib.h>
#include <string.h>

#include "../../csrc/proto/chunked.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct outcome {
  struct fuzz_buf decoded;
  long long verdict; /* -1, -2, or the bytes after the message */
  int err;
};

static void take_limits(struct fuzz_input *in, struct mg__chunked *st) {
  mg__chunked_init(st);
  if (fuzz_take_byte(in) & 1) {
    st->max_size_digits = fuzz_take_byte(in) % 20;
    st->max_ext_len = fuzz_take_byte(in);
    st->max_trailer_len = fuzz_take_byte(in);
    st->max_trailer_fields = fuzz_take_byte(in) % 8;
  }
}

/* One decode call on a private copy of p[0 .. n); returns its result. */
static long long feed(struct mg__chunked *st, const char *p, size_t n, struct outcome *o) {
  char *copy = (char *) fuzz_dup(p, n);
  size_t len = n;
  long long r = mg__chunked_decode(st, n > 0 ? copy : NULL, &len);
  FUZZ_CHECK(len <= n);
  FUZZ_CHECK(r == -1 || r == -2 || (r >= 0 && (size_t) r <= n));
  if (r >= 0) FUZZ_CHECK(len + (size_t) r <= n);
  fuzz_buf_add(&o->decoded, copy, len);
  free(copy);
  return r;
}

static void run(const struct mg__chunked *limits, struct mg_str body,
                struct fuzz_splitter *sp, struct outcome *o) {
  struct mg__chunked st = *limits;
  int done = 0;
  o->verdict = -2;
  for (size_t off = 0; off < body.len;) {
    size_t piece = sp != NULL ? fuzz_next_piece(sp, body.len - off) : body.len;
    long long r = feed(&st, body.p + off, piece, o);
    if (o->verdict == -1) FUZZ_CHECK(r == -1); /* sticky */
    if (done) FUZZ_CHECK(r == (long long) piece && r >= 0);
    if (r == -1) o->verdict = -1;
    if (r >= 0) {
      o->verdict = done ? o->verdict + r : r;
      done = 1;
    }
    off += piece;
  }
  FUZZ_CHECK(mg__chunked_done(&st) == done);
  FUZZ_CHECK(st.total == o->decoded.len);
  o->err = st.err;
  FUZZ_CHECK((o->verdict == -1) == (st.err != MG__CHUNKED_OK));
  FUZZ_CHECK(mg__chunked_strerror(st.err) != NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_input in = {data, size};
  struct mg__chunked limits;
  struct fuzz_splitter sp;
  take_limits(&in, &limits);
  fuzz_splitter_init(&sp, fuzz_take_seed(&in));
  struct mg_str body = fuzz_take(&in, in.n);
  struct outcome whole, split;
  memset(&whole, 0, sizeof(whole));
  memset(&split, 0, sizeof(split));
  run(&limits, body, NULL, &whole);
  run(&limits, body, &sp, &split);
  FUZZ_CHECK(whole.decoded.len <= body.len);
  FUZZ_CHECK(fuzz_buf_equal(&whole.decoded, &split.decoded));
  FUZZ_CHECK(whole.verdict == split.verdict && whole.err == split.err);
  fuzz_buf_free(&whole.decoded);
  fuzz_buf_free(&split.decoded);
  return 0;
}
