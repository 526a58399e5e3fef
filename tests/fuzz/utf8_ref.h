/*
 * A plain, byte-at-a-time UTF-8 checker written straight from RFC 3629 section 4, as
 * the reference the fuzz targets hold the fast validator (csrc/base/utf8.c) against.
 */
#ifndef MGIO_FUZZ_UTF8_REF_H
#define MGIO_FUZZ_UTF8_REF_H

#include <stddef.h>
#include <stdint.h>

/* The index of the first byte after which no valid text can follow, or n when there is
 * none; then *need is the continuation bytes the last character still lacks (0 when
 * the text ends on a character boundary). */
size_t utf8_ref_first_bad(const uint8_t *s, size_t n, int *need);

#endif
