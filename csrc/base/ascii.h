/* Locale-free ASCII classification for the codecs: HTTP and URLs are ASCII protocols,
 * and <ctype.h> depends on the C locale and is undefined for negative chars. */
#ifndef MGIO_BASE_ASCII_H
#define MGIO_BASE_ASCII_H

static inline int mg__ascii_lower(int c) {
  return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* isspace() in the C locale: space, \t, \n, \v, \f, \r. */
static inline int mg__ascii_space(int c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

/* The value of a hex digit, or -1. */
static inline int mg__hex_value(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  c = mg__ascii_lower(c);
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

#endif
