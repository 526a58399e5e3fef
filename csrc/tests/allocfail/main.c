/*
 * The allocation-failure torture (make test-allocfail): runs C tests again and again,
 * making allocation number k of the library fail, for k = 1, 2, ... until a run
 * completes without reaching k - once with only that allocation failing, once with it
 * and every later one failing (the paths that clean up after a failure) - and checks that no run crashes (ASan/UBSan), leaks
 * memory (LSan, after each test's runs) or mbuf blocks, or leaves a descriptor open.
 * A test's own checks may fail while an allocation fails (it did not get what it
 * asked for); the last run, where nothing failed, must pass them.
 *   test_allocfail [-v] [NAME...]   the named tests (default: the scenarios, af_*)
 * Built instead of tests/main.c, with every test file, so the tests register here.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <sanitizer/lsan_interface.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc_fail.h"
#include "test.h"

#define MAX_TESTS 512
#define MAX_K 100000 /* a test making more allocations than this is cut short, and said */

static struct {
  const char *name;
  mgio_test_fn fn;
} tests[MAX_TESTS];
static int num_tests;
static int check_failed;
static int broken; /* an ALWAYS property failed in this test's runs */
static int verbose;

void mgio_test_register(const char *name, mgio_test_fn fn) {
  if (num_tests == MAX_TESTS) {
    fprintf(stderr, "too many tests; raise MAX_TESTS\n");
    exit(2);
  }
  tests[num_tests].name = name;
  tests[num_tests].fn = fn;
  num_tests++;
}

/* Silent: under injected failures, failed checks are expected. */
void mgio_test_fail(const char *file, int line, const char *what) {
  if (verbose) fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, what);
  check_failed = 1;
}

void mgio_allocfail_broken(const char *file, int line, const char *what) {
  fprintf(stderr, "  %s:%d: broken: %s\n", file, line, what);
  broken = 1;
}

static int count_fds(void) {
  int n = 0;
  DIR *d = opendir("/proc/self/fd");
  if (d == NULL) return -1;
  while (readdir(d) != NULL) n++;
  closedir(d);
  return n;
}

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* One run with allocation k failing (0: none), and with `sticky` every one after it.
 * Returns 0, or -1 after printing what it left behind. Sets *reached when the k-th
 * allocation happened. */
static int run_once(int t, long k, int sticky, int *reached) {
  int fds = count_fds();
  long live = mgio_test_alloc_live();
  check_failed = 0;
  if (sticky) {
    mgio_test_alloc_fail_from(k);
  } else {
    mgio_test_alloc_fail_at(k);
  }
  tests[t].fn();
  *reached = mgio_test_alloc_injected() > 0;
  mgio_test_alloc_fail_at(0);
  if (count_fds() != fds) {
    fprintf(stderr, "%s: k=%ld%s: %d descriptors left open\n", tests[t].name, k,
            sticky ? "+" : "", count_fds() - fds);
    return -1;
  }
  if (mgio_test_alloc_live() != live) {
    fprintf(stderr, "%s: k=%ld%s: %ld mbuf blocks leaked\n", tests[t].name, k,
            sticky ? "+" : "", mgio_test_alloc_live() - live);
    return -1;
  }
  return 0;
}

/* Every k for test t; 0 when all runs were clean. */
static int torture(int t) {
  double start = now();
  int reached = 1, bad = 0;
  long k;
  broken = 0;
  for (k = 1; reached && k <= MAX_K; k++) {
    int reached_sticky;
    if (verbose) fprintf(stderr, "%s: k=%ld\n", tests[t].name, k);
    if (run_once(t, k, 1, &reached_sticky) != 0) bad = 1;
    if (run_once(t, k, 0, &reached) != 0) bad = 1;
  }
  if (reached) {
    fprintf(stderr, "%s: still allocating at k=%d; stopped\n", tests[t].name, MAX_K);
    bad = 1;
  } else if (check_failed) {
    fprintf(stderr, "%s: fails its checks with no allocation failing\n", tests[t].name);
    bad = 1;
  }
  if (broken) bad = 1;
  if (__lsan_do_recoverable_leak_check() != 0) {
    fprintf(stderr, "%s: memory leaked (LSan report above)\n", tests[t].name);
    bad = 1;
  }
  printf("%-55s %6ld allocations %7.2f s %s\n", tests[t].name, k - 2, now() - start,
         bad ? "FAIL" : "ok");
  fflush(stdout);
  return bad;
}

static int find(const char *name) {
  for (int i = 0; i < num_tests; i++) {
    if (strcmp(tests[i].name, name) == 0) return i;
  }
  fprintf(stderr, "no test named %s\n", name);
  exit(2);
}

int main(int argc, char **argv) {
  int failed = 0, ran = 0, a = 1;
  if (a < argc && strcmp(argv[a], "-v") == 0) {
    verbose = 1;
    a++;
  }
  for (int i = a < argc ? a : 0; a < argc ? i < argc : i < num_tests; i++) {
    if (a == argc && strncmp(tests[i].name, "af_", 3) != 0) continue;
    failed += torture(a < argc ? find(argv[i]) : i);
    ran++;
  }
  printf("%d passed, %d failed\n", ran - failed, failed);
  return failed ? 1 : 0;
}
