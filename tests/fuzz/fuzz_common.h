/*
 * Shared by the libFuzzer targets in this folder: a check that aborts with a message
 * (so libFuzzer keeps the input), a reader that takes settings from the front of an
 * input, a splitter that cuts the rest into pieces at points the fuzzer chooses, and
 * exact-size heap copies (so ASan sees a read one byte past a piece).
 */
#ifndef MGIO_FUZZ_COMMON_H
#define MGIO_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

#include "mgio.h"

void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* Unlike assert, never compiled out. */
#define FUZZ_CHECK(cond)                                \
  do {                                                  \
    if (!(cond)) fuzz_fail(__FILE__, __LINE__, #cond);  \
  } while (0)

/* The unread rest of a fuzzer input. */
struct fuzz_input {
  const uint8_t *p;
  size_t n;
};

/* The next byte (0 once the input is used up). */
uint8_t fuzz_take_byte(struct fuzz_input *in);

/* A view of the next `len` bytes, or of what is left when fewer remain. */
struct mg_str fuzz_take(struct fuzz_input *in, size_t len);

/* A length byte (taken modulo max + 1), then that many bytes. */
struct mg_str fuzz_take_sized(struct fuzz_input *in, size_t max);

/* Cuts a length into pieces, from a seed the fuzzer chose: mostly small pieces (1 to 8
 * bytes, where resumable parsers break), sometimes large ones. */
struct fuzz_splitter {
  uint32_t state;
};

void fuzz_splitter_init(struct fuzz_splitter *s, uint32_t seed);

/* The size of the next piece when `remaining` (> 0) bytes are left: 1 .. remaining. */
size_t fuzz_next_piece(struct fuzz_splitter *s, size_t remaining);

/* A 32-bit seed from the next four bytes of the input. */
uint32_t fuzz_take_seed(struct fuzz_input *in);

/* A heap copy of exactly `n` bytes (one byte allocated when n is 0); never NULL. */
void *fuzz_dup(const void *p, size_t n);

/* 1 when the view `v` lies inside [base, base + n) (an empty view may sit at the end;
 * a {NULL, 0} view counts as inside). */
int fuzz_view_in(struct mg_str v, const void *base, size_t n);

/* A growable byte string for collecting what a parser reported. */
struct fuzz_buf {
  char *p;
  size_t len, cap;
};

void fuzz_buf_add(struct fuzz_buf *b, const void *data, size_t n);
void fuzz_buf_addc(struct fuzz_buf *b, char c);
void fuzz_buf_free(struct fuzz_buf *b);
int fuzz_buf_equal(const struct fuzz_buf *a, const struct fuzz_buf *b);

#endif
