/*
 * The allocation-failure torture (make test-allocfail): the library's objects are
 * relinked so that their malloc, calloc, realloc, strdup and strndup calls go to these
 * stand-ins, which count down with the mbuf hooks (tests/alloc.c). free stays free:
 * blocks from libc (realpath) are freed by the library too.
 */
#ifndef MGIO_TEST_ALLOC_FAIL_H
#define MGIO_TEST_ALLOC_FAIL_H

#include <stddef.h>

void *mgio_fail_malloc(size_t n);
void *mgio_fail_calloc(size_t count, size_t n);
void *mgio_fail_realloc(void *p, size_t n);
char *mgio_fail_strdup(const char *s);
char *mgio_fail_strndup(const char *s, size_t n);

/* The torture runner's countdown, beside the test's own (mgio_test_alloc_fail_at, which
 * tests set to check their failure paths): allocation k from now fails (0: none), and
 * with `sticky` every later one too. Each allocation counts on both. */
void mgio_test_torture_fail(long k, int sticky);
/* Failures the torture's countdown injected since it was set. */
long mgio_test_torture_injected(void);

/* For the torture scenarios (tests/allocfail/): a property that must hold whether or
 * not an allocation failed (contents kept, answers well-formed). Defined by the torture
 * runner, which fails the scenario. */
void mgio_allocfail_broken(const char *file, int line, const char *what);
#define ALWAYS(cond) \
  do { \
    if (!(cond)) mgio_allocfail_broken(__FILE__, __LINE__, #cond); \
  } while (0)

#endif
