/* The test registry and what tests hand over to be released (test.h), shared by both
 * runners (main.c, allocfail/main.c). */
#define _XOPEN_SOURCE 500 /* nftw */
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alloc_fail.h"
#include "mgio.h"
#include "test.h"

#define MAX_TESTS 512
#define MAX_DEFERRED 4096 /* a test registers one per descriptor or block it keeps */
#define MAX_MGRS 16
#define FAILED_WAIT_S 0.03

static struct {
  const char *name;
  mgio_test_fn fn;
} tests[MAX_TESTS];
static int num_tests;

static struct {
  void (*fn)(void *);
  void *arg;
} deferred[MAX_DEFERRED];
static int num_deferred;

static struct mg_mgr *live_mgrs[MAX_MGRS];
static int torture;

void mgio_test_register(const char *name, mgio_test_fn fn) {
  if (num_tests == MAX_TESTS) {
    fprintf(stderr, "too many tests; raise MAX_TESTS\n");
    exit(2);
  }
  tests[num_tests].name = name;
  tests[num_tests].fn = fn;
  num_tests++;
}

int mgio_test_count(void) {
  return num_tests;
}

const char *mgio_test_name(int i) {
  return tests[i].name;
}

int mgio_test_find(const char *name) {
  for (int i = 0; i < num_tests; i++) {
    if (strcmp(tests[i].name, name) == 0) return i;
  }
  return -1;
}

void test_defer(void (*fn)(void *), void *arg) {
  if (num_deferred == MAX_DEFERRED) {
    fprintf(stderr, "too many deferred releases; raise MAX_DEFERRED\n");
    abort();
  }
  deferred[num_deferred].fn = fn;
  deferred[num_deferred].arg = arg;
  num_deferred++;
}

/* Drops the latest registration of fn(arg), so that it does not run after all. */
static void forget(void (*fn)(void *), void *arg) {
  for (int i = num_deferred - 1; i >= 0; i--) {
    if (deferred[i].fn == fn && deferred[i].arg == arg) {
      deferred[i].fn = NULL;
      break;
    }
  }
  /* released in the reverse order of their registration, the usual one: the list shrinks */
  while (num_deferred > 0 && deferred[num_deferred - 1].fn == NULL) num_deferred--;
}

void test_release(void (*fn)(void *), void *arg) {
  forget(fn, arg);
  fn(arg);
}

static void close_fd(void *arg) {
  close((int) (intptr_t) arg);
}

int test_fd(int fd) {
  if (fd >= 0) test_defer(close_fd, (void *) (intptr_t) fd);
  return fd;
}

void test_close(int fd) {
  test_release(close_fd, (void *) (intptr_t) fd);
}

void *test_malloc(size_t n) {
  void *p = malloc(n > 0 ? n : 1);
  if (p == NULL) abort();
  test_defer(free, p);
  return p;
}

void test_free(void *p) {
  test_release(free, p);
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  (void) st;
  (void) type;
  (void) ftw;
  remove(path);
  return 0;
}

void test_remove_tree(const char *path) {
  nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void remove_and_free(void *path) {
  test_remove_tree((const char *) path);
  free(path);
}

void test_temp(const char *path) {
  char *copy = strdup(path); /* the caller's buffer is gone after the test */
  if (copy == NULL) abort();
  test_defer(remove_and_free, copy);
}

static void chdir_back(void *dir) {
  if (chdir((const char *) dir) != 0) perror("chdir back");
}

int test_chdir(const char *dir) {
  char *cwd = getcwd(NULL, 0);
  if (cwd == NULL) return -1;
  test_defer(free, cwd);
  test_defer(chdir_back, cwd);
  return chdir(dir);
}

void test_mgr_init(struct mg_mgr *mgr, void *user_data) {
  for (int i = 0; i < MAX_MGRS; i++) {
    if (live_mgrs[i] == NULL) {
      mg_mgr_init(mgr, user_data);
      live_mgrs[i] = mgr;
      return;
    }
  }
  fprintf(stderr, "too many managers at once; raise MAX_MGRS\n");
  abort();
}

void test_mgr_free(struct mg_mgr *mgr) {
  for (int i = 0; i < MAX_MGRS; i++) {
    if (live_mgrs[i] == mgr) {
      live_mgrs[i] = NULL;
      mg_mgr_free(mgr);
      return;
    }
  }
}

/* Managers the test did not free (a static one, after an early return), then the rest,
 * latest first. */
static void release_all(void) {
  for (int i = MAX_MGRS - 1; i >= 0; i--) {
    if (live_mgrs[i] != NULL) test_mgr_free(live_mgrs[i]);
  }
  while (num_deferred > 0) {
    num_deferred--;
    void (*fn)(void *) = deferred[num_deferred].fn;
    if (fn != NULL) fn(deferred[num_deferred].arg);
  }
}

void mgio_test_run(int i) {
  tests[i].fn();
  mgio_test_alloc_fail_at(0);
  release_all();
}

void mgio_test_set_torture(int on) {
  torture = on;
}

int test_torture(void) {
  return torture;
}

unsigned int test_ms(unsigned int ms) {
  return torture ? ms / 5 : ms;
}

int test_rounds(int n) {
  return torture && n >= 10 ? n / 10 : n;
}

int test_timed_out(double since, double seconds) {
  double waited = mg_time() - since;
  return waited > seconds || (mgio_test_torture_injected() > 0 && waited > FAILED_WAIT_S);
}
