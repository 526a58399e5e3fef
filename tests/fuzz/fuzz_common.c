/* Helpers shared by the fuzz targets; see fuzz_common.h. */
#include "fuzz_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fuzz_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  abort();
}

uint8_t fuzz_take_byte(struct fuzz_input *in) {
  if (in->n == 0) return 0;
  in->n--;
  return *in->p++;
}

struct mg_str fuzz_take(struct fuzz_input *in, size_t len) {
  struct mg_str s;
  if (len > in->n) len = in->n;
  s.p = (const char *) in->p;
  s.len = len;
  in->p += len;
  in->n -= len;
  return s;
}

struct mg_str fuzz_take_sized(struct fuzz_input *in, size_t max) {
  size_t len = fuzz_take_byte(in) % (max + 1);
  return fuzz_take(in, len);
}

uint32_t fuzz_take_seed(struct fuzz_input *in) {
  uint32_t seed = 0;
  for (int i = 0; i < 4; i++) seed = seed << 8 | fuzz_take_byte(in);
  return seed;
}

void fuzz_splitter_init(struct fuzz_splitter *s, uint32_t seed) {
  s->state = seed | 1u; /* xorshift32 must not start at 0 */
}

static uint32_t next_random(struct fuzz_splitter *s) {
  uint32_t x = s->state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  s->state = x;
  return x;
}

size_t fuzz_next_piece(struct fuzz_splitter *s, size_t remaining) {
  uint32_t r = next_random(s);
  size_t cap = (r & 3) == 0 ? remaining : 8;
  if (cap > remaining) cap = remaining;
  return 1 + (size_t) (r >> 2) % cap;
}

void *fuzz_dup(const void *p, size_t n) {
  void *q = malloc(n > 0 ? n : 1);
  FUZZ_CHECK(q != NULL);
  if (n > 0) memcpy(q, p, n);
  return q;
}

int fuzz_view_in(struct mg_str v, const void *base, size_t n) {
  const char *b = (const char *) base;
  if (v.p == NULL) return v.len == 0;
  return v.p >= b && v.p <= b + n && v.len <= (size_t) (b + n - v.p);
}

void fuzz_buf_add(struct fuzz_buf *b, const void *data, size_t n) {
  if (n == 0) return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap * 2 + n + 64;
    char *p = (char *) realloc(b->p, cap);
    FUZZ_CHECK(p != NULL);
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
}

void fuzz_buf_addc(struct fuzz_buf *b, char c) {
  fuzz_buf_add(b, &c, 1);
}

void fuzz_buf_free(struct fuzz_buf *b) {
  free(b->p);
  memset(b, 0, sizeof(*b));
}

int fuzz_buf_equal(const struct fuzz_buf *a, const struct fuzz_buf *b) {
  return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}
