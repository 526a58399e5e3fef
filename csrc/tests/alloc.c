/* A realloc/free pair that counts live blocks and can fail the k-th allocation, so tests
 * can check that every allocation failure leaves buffers intact and leaks nothing. */
#include <stdlib.h>

#include "test.h"

static long fail_countdown; /* 0: never fail; k: the k-th allocation from now fails */
static int fail_sticky;     /* after the k-th, every later allocation fails too */
static long live_blocks;

void mgio_test_alloc_fail_at(long k) {
  fail_countdown = k;
  fail_sticky = 0;
}

void mgio_test_alloc_fail_from(long k) {
  fail_countdown = k;
  fail_sticky = k > 0;
}

long mgio_test_alloc_live(void) {
  return live_blocks;
}

void *mgio_test_realloc(void *p, size_t n) {
  if (fail_countdown > 0 && --fail_countdown == 0) {
    if (fail_sticky) fail_countdown = 1;
    return NULL;
  }
  void *q = realloc(p, n);
  if (q != NULL && p == NULL) live_blocks++;
  return q;
}

void mgio_test_free(void *p) {
  if (p != NULL) live_blocks--;
  free(p);
}
