/*
 * A tiny test harness for the C tests: TEST(name) defines a test that registers itself,
 * CHECK(cond) fails the current test and returns from it. Run by main.c (plain,
 * sanitizer and valgrind builds) and by the allocation-failure torture
 * (allocfail/main.c), which runs each test once per allocation it makes, with that
 * allocation failing: a CHECK may then return from anywhere, so whatever a test holds
 * is given to the harness, which releases it (harness.c):
 *   TEST_MGR(mgr, user_data)  a manager freed when the test returns, early or not
 *   test_fd, test_malloc, test_defer   released after the test, by the runner
 * and every CHECK on a connection comes before its use.
 */
#ifndef MGIO_TEST_H
#define MGIO_TEST_H

#include <stddef.h>

struct mg_mgr;
typedef void (*mgio_test_fn)(void);

void mgio_test_register(const char *name, mgio_test_fn fn);
void mgio_test_fail(const char *file, int line, const char *what);

/* The counting allocator that MBUF_REALLOC / MBUF_FREE point to in test builds. */
void *mgio_test_realloc(void *p, size_t n);
void mgio_test_free(void *p);
/* Makes the k-th allocation from now fail (k >= 1); 0 turns failures off. */
void mgio_test_alloc_fail_at(long k);
/* Makes the k-th allocation from now and every later one fail; 0 turns failures off. */
void mgio_test_alloc_fail_from(long k);
/* Blocks allocated through the test allocator and not yet freed. */
long mgio_test_alloc_live(void);

#define TEST(name)                                                       \
  static void name(void);                                                \
  __attribute__((constructor)) static void register_##name(void) {       \
    mgio_test_register(#name, name);                                     \
  }                                                                      \
  static void name(void)

#define CHECK(cond)                                        \
  do {                                                     \
    if (!(cond)) {                                         \
      mgio_test_fail(__FILE__, __LINE__, #cond);           \
      return;                                              \
    }                                                      \
  } while (0)

/* ---- what a test gives the harness to release ---------------------------------------- */

/* Declares `struct mg_mgr name` and initialises it; it is freed when the test returns
 * (a cleanup attribute), unless test_mgr_free freed it before: its handlers may still
 * write to the test's locals then, which exist until the return completes. Declare the
 * locals that handlers use before it. */
#define TEST_MGR(name, user_data)                                         \
  struct mg_mgr name __attribute__((cleanup(test_mgr_free)));            \
  test_mgr_init(&name, user_data)
/* mg_mgr_init and mg_mgr_free for managers the harness frees at the latest after the
 * test (test_mgr_free does nothing for one already freed or never started). */
void test_mgr_init(struct mg_mgr *mgr, void *user_data);
void test_mgr_free(struct mg_mgr *mgr);

/* Declares `struct mbuf name`, empty, freed when the test returns (mbuf_free leaves an
 * mbuf empty, so freeing it before is fine). */
#define TEST_MBUF(name) struct mbuf name __attribute__((cleanup(mbuf_free))) = {NULL, 0, 0}

/* fn(arg) runs after the test, in reverse order of registration; test_release runs it
 * at once instead (and forgets it). */
void test_defer(void (*fn)(void *), void *arg);
void test_release(void (*fn)(void *), void *arg);
/* Closes fd after the test (nothing when fd < 0); returns fd. test_close closes it at
 * once and forgets it (any descriptor may be given). */
int test_fd(int fd);
void test_close(int fd);
/* Removes `path` (a file, or a folder and all under it; symlinks are not followed) after
 * the test: for the temporary files a test makes. test_remove_tree removes it at once. */
void test_temp(const char *path);
void test_remove_tree(const char *path);
/* chdir, the working folder set back after the test; 0 or -1. */
int test_chdir(const char *dir);
/* malloc, the block freed after the test unless test_free freed it before. Aborts when
 * out of memory (only the library's allocations are made to fail). */
void *test_malloc(size_t n);
void test_free(void *p);

/* Whether a wait that began at `since` (mg_time()) for at most `seconds` is over. Under
 * the torture, once an allocation has failed a wait lasts 30 ms at most: what it waits
 * for may never come, and the test runs again for the next allocation. */
int test_timed_out(double since, double seconds);
/* 1 under the torture runner: tests that wait on purpose wait less (see test_ms). */
int test_torture(void);
/* `ms`, or a fifth of it under the torture: the timeouts that tests set and wait out. */
unsigned int test_ms(unsigned int ms);
/* `n`, or a tenth of it (at least 1) under the torture: the rounds of a loop that repeats
 * one exercise enough to take seconds, when the torture reruns it for every allocation. */
int test_rounds(int n);

/* ---- for the runners ------------------------------------------------------------------ */
int mgio_test_count(void);
const char *mgio_test_name(int i);
int mgio_test_find(const char *name); /* -1 when there is none */
/* Runs test i, then releases what it left to the harness and turns the test's own
 * allocation failures off. */
void mgio_test_run(int i);
void mgio_test_set_torture(int on);

#endif
