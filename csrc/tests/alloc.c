/* A realloc/free pair that counts live blocks and can fail the k-th allocation, so tests
 * can check that every allocation failure leaves buffers intact and leaks nothing; and,
 * for the allocation-failure torture build (make test-allocfail), stand-ins for malloc,
 * calloc, realloc, strdup and strndup that the library's objects are relinked to, so that
 * every allocation the library makes counts towards the same k.
 * The countdown is atomic because the resolver's threads allocate too. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "test.h"

static atomic_long fail_countdown; /* 0: never fail; k: the k-th allocation from now fails */
static atomic_int fail_sticky;     /* after the k-th, every later allocation fails too */
static atomic_long injected;       /* failures injected since the last fail_at / fail_from */
static atomic_long live_blocks;

void mgio_test_alloc_fail_at(long k) {
  atomic_store(&fail_sticky, 0);
  atomic_store(&injected, 0);
  atomic_store(&fail_countdown, k);
}

void mgio_test_alloc_fail_from(long k) {
  atomic_store(&fail_sticky, k > 0);
  atomic_store(&injected, 0);
  atomic_store(&fail_countdown, k);
}

long mgio_test_alloc_live(void) {
  return atomic_load(&live_blocks);
}

long mgio_test_alloc_injected(void) {
  return atomic_load(&injected);
}

/* Counts one allocation; 1 when it is the one to fail. */
static int should_fail(void) {
  long c = atomic_load(&fail_countdown);
  while (c > 0) {
    long next = c == 1 && atomic_load(&fail_sticky) ? 1 : c - 1;
    if (atomic_compare_exchange_weak(&fail_countdown, &c, next)) {
      if (c != 1) return 0;
      atomic_fetch_add(&injected, 1);
      return 1;
    }
  }
  return 0;
}

void *mgio_test_realloc(void *p, size_t n) {
  if (should_fail()) return NULL;
  void *q = realloc(p, n);
  if (q != NULL && p == NULL) atomic_fetch_add(&live_blocks, 1);
  return q;
}

void mgio_test_free(void *p) {
  if (p != NULL) atomic_fetch_sub(&live_blocks, 1);
  free(p);
}

void *mgio_fail_malloc(size_t n) {
  return should_fail() ? NULL : malloc(n);
}

void *mgio_fail_calloc(size_t count, size_t n) {
  return should_fail() ? NULL : calloc(count, n);
}

void *mgio_fail_realloc(void *p, size_t n) {
  return should_fail() ? NULL : realloc(p, n);
}

char *mgio_fail_strdup(const char *s) {
  return mgio_fail_strndup(s, strlen(s));
}

char *mgio_fail_strndup(const char *s, size_t n) {
  size_t len = 0;
  while (len < n && s[len] != '\0') len++;
  char *p = (char *) mgio_fail_malloc(len + 1);
  if (p == NULL) return NULL;
  memcpy(p, s, len);
  p[len] = '\0';
  return p;
}
