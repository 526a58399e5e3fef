/* The reference UTF-8 checker; see utf8_ref.h. */
#include "utf8_ref.h"

/* For lead byte c: the continuation bytes it needs (-1: not a lead), and the range of
 * the byte right after it (RFC 3629: E0 A0-BF, ED 80-9F, F0 90-BF, F4 80-8F). */
static int lead(uint8_t c, uint8_t *lo, uint8_t *hi) {
  *lo = 0x80;
  *hi = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) return 1;
  if (c >= 0xe0 && c <= 0xef) {
    if (c == 0xe0) *lo = 0xa0;
    if (c == 0xed) *hi = 0x9f;
    return 2;
  }
  if (c >= 0xf0 && c <= 0xf4) {
    if (c == 0xf0) *lo = 0x90;
    if (c == 0xf4) *hi = 0x8f;
    return 3;
  }
  return -1;
}

size_t utf8_ref_first_bad(const uint8_t *s, size_t n, int *need) {
  size_t i = 0;
  *need = 0;
  while (i < n) {
    uint8_t lo, hi;
    if (s[i] < 0x80) {
      i++;
      continue;
    }
    int k = lead(s[i], &lo, &hi);
    if (k < 0) return i;
    for (int j = 1; j <= k; j++) {
      if (i + (size_t) j == n) {
        *need = k - j + 1;
        return n;
      }
      uint8_t d = s[i + (size_t) j];
      if (d < lo || d > hi) return i + (size_t) j;
      lo = 0x80;
      hi = 0xbf;
    }
    i += (size_t) k + 1;
  }
  return n;
}
