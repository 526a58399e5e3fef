/*
 * The allocation-failure torture (make test-allocfail): runs C tests again and again,
 * making allocation number k of the library fail, for k = 1, 2, ... until a run
 * completes without reaching k - once with only that allocation failing, once with it
 * and every later one failing (the paths that clean up after a failure) - and checks
 * that no run crashes (ASan/UBSan), leaks memory (LSan, after each test's runs) or mbuf
 * blocks, or leaves a descriptor open. A test's own checks may fail while an allocation
 * fails (it did not get what it asked for); the last run, where nothing failed, must
 * pass them. Each test runs in a process of its own, 2 at a time unless -j says.
 *   test_allocfail [-v] [-j N] [NAME...]   the named tests (default: all of them)
 * Built instead of tests/main.c, with every test file, so the tests register here.
 */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <sanitizer/lsan_interface.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alloc_fail.h"
#include "test.h"

#define MAX_K 100000 /* a test making more allocations than this is cut short, and said */
#define MAX_WORKERS 16
#define TEST_FAILED 3 /* the exit status of a test process that said why it failed */

/* Allocation points tried, over all tests: a counter shared with the test processes (an
 * anonymous shared mapping made before they fork). */
static atomic_long *points_tried;

static int check_failed;
static int broken; /* an ALWAYS property failed in this test's runs */
static int verbose;

/* Silent: under injected failures, failed checks are expected. */
void mgio_test_fail(const char *file, int line, const char *what) {
  if (verbose) fprintf(stderr, "  %s:%d: check failed: %s\n", file, line, what);
  check_failed = 1;
}

void mgio_allocfail_broken(const char *file, int line, const char *what) {
  fprintf(stderr, "  %s:%d: broken: %s\n", file, line, what);
  broken = 1;
}

/* The library is relinked to call this instead of epoll_wait (Makefile; the torture
 * builds the epoll backend): the manager never sleeps in its wait, where the runs would
 * otherwise spend most of their time (a test's idle 1 ms polls, thousands of runs over).
 * Waiting on the clock becomes polling it; every wait of the tests is bounded by it. */
int mgio_torture_epoll_wait(int fd, struct epoll_event *events, int max, int ms);

int mgio_torture_epoll_wait(int fd, struct epoll_event *events, int max, int ms) {
  (void) ms;
  return epoll_wait(fd, events, max, 0);
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
/* The descriptors open once those of the run are closed: a resolver thread still
 * looking up a name holds one until its lookup ends (net/resolve.c), so a count that
 * differs from `before` is taken again for up to a second. */
static int settled_fds(int before) {
  int n = count_fds();
  for (int i = 0; i < 100 && n != before; i++) {
    nanosleep(&(struct timespec){0, 10000000}, NULL);
    n = count_fds();
  }
  return n;
}

static int run_once(int t, long k, int sticky, int *reached) {
  int fds = count_fds();
  long live = mgio_test_alloc_live();
  check_failed = 0;
  mgio_test_torture_fail(k, sticky);
  mgio_test_run(t);
  *reached = mgio_test_torture_injected() > 0;
  mgio_test_torture_fail(0, 0);
  int left = settled_fds(fds) - fds;
  if (left != 0) {
    fprintf(stderr, "%s: k=%ld%s: %d descriptors left open\n", mgio_test_name(t), k,
            sticky ? "+" : "", left);
    return -1;
  }
  if (mgio_test_alloc_live() != live) {
    fprintf(stderr, "%s: k=%ld%s: %ld mbuf blocks leaked\n", mgio_test_name(t), k,
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
    if (verbose) fprintf(stderr, "%s: k=%ld\n", mgio_test_name(t), k);
    if (run_once(t, k, 1, &reached_sticky) != 0) bad = 1;
    if (run_once(t, k, 0, &reached) != 0) bad = 1;
  }
  if (reached) {
    fprintf(stderr, "%s: still allocating at k=%d; stopped\n", mgio_test_name(t), MAX_K);
    bad = 1;
  } else if (check_failed) {
    fprintf(stderr, "%s: fails its checks with no allocation failing\n", mgio_test_name(t));
    bad = 1;
  }
  if (broken) bad = 1;
  if (__lsan_do_recoverable_leak_check() != 0) {
    fprintf(stderr, "%s: memory leaked (LSan report above)\n", mgio_test_name(t));
    bad = 1;
  }
  atomic_fetch_add(points_tried, k - 2);
  printf("%-58s %6ld allocations %7.2f s %s\n", mgio_test_name(t), k - 2, now() - start,
         bad ? "FAIL" : "ok");
  fflush(stdout);
  return bad;
}

/* Waits for one test process; 1 when it failed (said here when it could not say so). */
static int reap(const pid_t *pids, const int *list, int n) {
  int status;
  pid_t pid = wait(&status);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return 0;
  if (WIFEXITED(status) && WEXITSTATUS(status) == TEST_FAILED) return 1;
  for (int i = 0; i < n; i++) {
    if (pids[i] == pid) printf("%s: crashed (see above) FAIL\n", mgio_test_name(list[i]));
  }
  return 1;
}

/* Tortures the tests of list[0 .. n), each in its own process (a leak, crash or stray
 * state shows in that test alone), `workers` at a time. Returns the number that failed. */
static int run_all(const int *list, int n, int workers) {
  static pid_t pids[4096];
  int running = 0, failed = 0;
  double start = now();
  points_tried = mmap(NULL, sizeof(*points_tried), PROT_READ | PROT_WRITE,
                      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (points_tried == MAP_FAILED) return n;
  for (int next = 0; next < n || running > 0;) {
    if (next < n && running < workers) {
      pids[next] = fork();
      /* _exit: LSan has checked already, after the test's runs */
      if (pids[next] == 0) _exit(torture(list[next]) ? TEST_FAILED : 0);
      if (pids[next] < 0) failed++;
      running += pids[next] > 0;
      next++;
    } else {
      failed += reap(pids, list, n);
      running--;
    }
  }
  printf("%d tests, %ld allocation points (each failed alone and from there on), "
         "%.1f s wall, %d at a time: %d passed, %d failed\n", n, atomic_load(points_tried),
         now() - start, workers, n - failed, failed);
  return failed;
}

int main(int argc, char **argv) {
  static int list[4096];
  int n = 0, a = 1, workers = 2;
  for (; a < argc && argv[a][0] == '-'; a++) {
    if (strcmp(argv[a], "-v") == 0) verbose = 1;
    if (strcmp(argv[a], "-j") == 0 && a + 1 < argc) workers = atoi(argv[++a]);
  }
  if (workers < 1 || workers > MAX_WORKERS) workers = 1;
  for (int i = a < argc ? a : 0; a < argc ? i < argc : i < mgio_test_count(); i++) {
    int t = a < argc ? mgio_test_find(argv[i]) : i;
    if (t < 0) {
      fprintf(stderr, "no test named %s\n", argv[i]);
      return 2;
    }
    if (n < (int) (sizeof(list) / sizeof(list[0]))) list[n++] = t;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  mgio_test_set_torture(1);
  return run_all(list, n, workers) ? 1 : 0;
}
