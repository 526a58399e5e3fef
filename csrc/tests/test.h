/*
 * A tiny test harness for the C tests: TEST(name) defines a test that registers itself,
 * CHECK(cond) fails the current test. Run by main.c, under plain, sanitizer and valgrind
 * builds alike.
 */
#ifndef MGIO_TEST_H
#define MGIO_TEST_H

#include <stddef.h>

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

#endif
