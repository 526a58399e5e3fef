/* Lower-case hex rendering of digests and other bytes. */
#include "mgio.h"

void cs_to_hex(char *to, const unsigned char *p, size_t len) {
  static const char digits[] = "0123456789abcdef";
  for (size_t i = 0; i < len; i++) {
    *to++ = digits[p[i] >> 4];
    *to++ = digits[p[i] & 15];
  }
  *to = '\0';
}
