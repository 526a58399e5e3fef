/* C-string utilities of the Mongoose 6 API: case-folding compares, bounded search and
 * printf into a caller buffer with heap fallback. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mgio.h"
#include "ascii.h"

int mg_ncasecmp(const char *s1, const char *s2, size_t len) {
  for (size_t i = 0; i < len; i++) {
    int a = mg__ascii_lower((unsigned char) s1[i]);
    int b = mg__ascii_lower((unsigned char) s2[i]);
    if (a != b || a == 0) return a - b;
  }
  return 0;
}

int mg_casecmp(const char *s1, const char *s2) {
  return mg_ncasecmp(s1, s2, SIZE_MAX);
}

const char *c_strnstr(const char *s, const char *find, size_t slen) {
  /* A C string: the search ends at a NUL within the bound (memchr, not strnlen, which
   * needs POSIX feature macros the embedding program may not define). */
  const char *nul = (const char *) memchr(s, '\0', slen);
  struct mg_str hay = mg_mk_str_n(s, nul != NULL ? (size_t) (nul - s) : slen);
  return mg_strstr(hay, mg_mk_str(find));
}

int mg_avprintf(char **buf, size_t size, const char *fmt, va_list ap) {
  va_list again;
  va_copy(again, ap);
  int len = vsnprintf(size > 0 ? *buf : NULL, size > 0 ? size : 0, fmt, ap);
  if (len >= 0 && (size_t) len >= size) {
    /* Did not fit: format again into a heap block of the exact size. */
    char *p = (char *) malloc((size_t) len + 1);
    if (p == NULL) {
      len = -1;
    } else {
      vsnprintf(p, (size_t) len + 1, fmt, again);
      *buf = p;
    }
  }
  va_end(again);
  return len;
}

int mg_asprintf(char **buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int len = mg_avprintf(buf, size, fmt, ap);
  va_end(ap);
  return len;
}
