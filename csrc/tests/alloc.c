/* A realloc/free pair that counts live blocks and can fail the k-th allocation, so tests
 * can check that every allocation failure leaves buffers intact and leaks nothing; and,
 * for the allocation-failure torture build (make test-allocfail), stand-ins for malloc,
 * calloc, realloc, strdup and strndup that the library's objects are relinked to, so that
 * every allocation the library makes counts towards the same k.
 * The countdowns are atomic because the resolver's threads allocate too. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "test.h"

/* A countdown of allocations: 0 never fails; k: the k-th allocation from now fails and,
 * when sticky, every later one too. Two run side by side and each allocation counts on
 * both: the one a test sets (mgio_test_alloc_fail_at) and the torture runner's, so that a
 * test checking its own failure paths can run under the torture too. */
struct countdown {
  atomic_long left;
  atomic_int sticky;
  atomic_long injected; /* failures since the countdown was set */
};

static struct countdown own, torture;
static atomic_long live_blocks;

static void set_countdown(struct countdown *cd, long k, int sticky) {
  atomic_store(&cd->sticky, sticky && k > 0);
  atomic_store(&cd->injected, 0);
  atomic_store(&cd->left, k);
}

void mgio_test_alloc_fail_at(long k) {
  set_countdown(&own, k, 0);
}

void mgio_test_alloc_fail_from(long k) {
  set_countdown(&own, k, 1);
}

void mgio_test_torture_fail(long k, int sticky) {
  set_countdown(&torture, k, sticky);
}

long mgio_test_alloc_live(void) {
  return atomic_load(&live_blocks);
}

long mgio_test_torture_injected(void) {
  return atomic_load(&torture.injected);
}

/* Counts one allocation on `cd`; 1 when it is one to fail. */
static int counts_down_to_failure(struct countdown *cd) {
  long c = atomic_load(&cd->left);
  while (c > 0) {
    long next = c == 1 && atomic_load(&cd->sticky) ? 1 : c - 1;
    if (atomic_compare_exchange_weak(&cd->left, &c, next)) {
      if (c != 1) return 0;
      atomic_fetch_add(&cd->injected, 1);
      return 1;
    }
  }
  return 0;
}

static int should_fail(void) {
  int failed = counts_down_to_failure(&own);
  return counts_down_to_failure(&torture) || failed;
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
