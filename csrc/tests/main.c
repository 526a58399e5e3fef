/* Runs every registered C test; exits 1 when any fails. */
#include <stdio.h>
#include <stdlib.h>

#include "test.h"

static int current_failed;

void mgio_test_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
  current_failed = 1;
}

int main(void) {
  int failed = 0, n = mgio_test_count();
  for (int i = 0; i < n; i++) {
    current_failed = 0;
    mgio_test_alloc_fail_at(0);
    long live_before = mgio_test_alloc_live();
    mgio_test_run(i);
    if (!current_failed && mgio_test_alloc_live() != live_before) {
      fprintf(stderr, "%s: %ld mbuf blocks leaked\n", mgio_test_name(i),
              mgio_test_alloc_live() - live_before);
      current_failed = 1;
    }
    if (current_failed) {
      fprintf(stderr, "FAIL %s\n", mgio_test_name(i));
      failed++;
    }
  }
  printf("%d C tests, %d failed\n", n, failed);
  return failed ? 1 : 0;
}
