/* Runs every registered C test; exits 1 when any fails. */
#include <stdio.h>
#include <stdlib.h>

#include "test.h"

#define MAX_TESTS 512

static struct {
  const char *name;
  mgio_test_fn fn;
} tests[MAX_TESTS];
static int num_tests;
static int current_failed;

void mgio_test_register(const char *name, mgio_test_fn fn) {
  if (num_tests == MAX_TESTS) {
    fprintf(stderr, "too many tests; raise MAX_TESTS\n");
    exit(2);
  }
  tests[num_tests].name = name;
  tests[num_tests].fn = fn;
  num_tests++;
}

void mgio_test_fail(const char *file, int line, const char *what) {
  fprintf(stderr, "%s:%d: check failed: %s\n", file, line, what);
  current_failed = 1;
}

int main(void) {
  int failed = 0;
  for (int i = 0; i < num_tests; i++) {
    current_failed = 0;
    mgio_test_alloc_fail_at(0);
    long live_before = mgio_test_alloc_live();
    tests[i].fn();
    if (!current_failed && mgio_test_alloc_live() != live_before) {
      fprintf(stderr, "%s: %ld mbuf blocks leaked\n", tests[i].name,
              mgio_test_alloc_live() - live_before);
      current_failed = 1;
    }
    if (current_failed) {
      fprintf(stderr, "FAIL %s\n", tests[i].name);
      failed++;
    }
  }
  printf("%d C tests, %d failed\n", num_tests, failed);
  return failed ? 1 : 0;
}
