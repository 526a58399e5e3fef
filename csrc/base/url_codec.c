/*
 * Percent-encoding (RFC 3986 section 2.1) and the HTML form variant, where a space is
 * written '+' (application/x-www-form-urlencoded).
 */
#include <stdint.h>
#include <stdlib.h>

#include "mgio.h"
#include "ascii.h"

/* A set of byte values, one bit each, so that testing a byte costs the same whatever
 * the size of the caller's safe set. */
struct byte_set {
  uint32_t bits[8];
};

static void set_add(struct byte_set *set, unsigned char c) {
  set->bits[c >> 5] |= UINT32_C(1) << (c & 31);
}

static int set_has(const struct byte_set *set, unsigned char c) {
  return (int) ((set->bits[c >> 5] >> (c & 31)) & 1);
}

/* The bytes written as themselves: ASCII letters and digits, and those of `safe`. */
static void make_keep_set(struct byte_set *keep, struct mg_str safe) {
  *keep = (struct byte_set){{0}};
  for (unsigned char c = '0'; c <= '9'; c++) set_add(keep, c);
  for (unsigned char c = 'a'; c <= 'z'; c++) {
    set_add(keep, c);
    set_add(keep, (unsigned char) (c - 'a' + 'A'));
  }
  for (size_t i = 0; safe.p != NULL && i < safe.len; i++) {
    set_add(keep, (unsigned char) safe.p[i]);
  }
}

/* The encoded length of `n` bytes at `s`, without the NUL. Returns 0 when that length
 * plus the NUL would not fit in size_t (each escape turns one byte into three). */
static int encoded_length(const unsigned char *s, size_t n, const struct byte_set *keep,
                          size_t *out) {
  size_t escapes = 0;
  for (size_t i = 0; i < n; i++) escapes += !set_has(keep, s[i]);
  if (n > SIZE_MAX - 1 || escapes > (SIZE_MAX - 1 - n) / 2) return 0;
  *out = n + 2 * escapes;
  return 1;
}

/* Writes the encoding of `n` bytes at `s` and a NUL to `o`, which has room for them. */
static void write_encoded(char *o, const unsigned char *s, size_t n,
                          const struct byte_set *keep, int plus, const char *hex) {
  for (size_t i = 0; i < n; i++) {
    if (plus && s[i] == ' ') {
      *o++ = '+';
    } else if (set_has(keep, s[i])) {
      *o++ = (char) s[i];
    } else {
      *o++ = '%';
      *o++ = hex[s[i] >> 4];
      *o++ = hex[s[i] & 15];
    }
  }
  *o = '\0';
}

struct mg_str mg_url_encode_opt(const struct mg_str src, const struct mg_str safe,
                                unsigned int flags) {
  const char *hex = (flags & MG_URL_ENCODE_F_UPPERCASE_HEX) ? "0123456789ABCDEF"
                                                            : "0123456789abcdef";
  const unsigned char *s = (const unsigned char *) src.p;
  size_t n = s == NULL ? 0 : src.len, out_len;
  struct mg_str result = {NULL, 0};
  struct byte_set keep;

  make_keep_set(&keep, safe);
  /* A safe space stays a space; otherwise the form flag writes it as a single '+'. */
  int plus = (flags & MG_URL_ENCODE_F_SPACE_AS_PLUS) && !set_has(&keep, ' ');
  if (plus) set_add(&keep, ' ');
  if (!encoded_length(s, n, &keep, &out_len)) return result;
  char *out = (char *) malloc(out_len + 1);
  if (out == NULL) return result;
  write_encoded(out, s, n, &keep, plus, hex);
  result.p = out;
  result.len = out_len;
  return result;
}

struct mg_str mg_url_encode(const struct mg_str src) {
  return mg_url_encode_opt(src, mg_mk_str("._-$,;~()/"), 0);
}

/* The byte that the two hex digits at `p` (with `avail` bytes left) encode, or -1 when
 * they are missing or not hex. */
static int escape_value(const char *p, size_t avail) {
  if (avail < 2) return -1;
  int hi = mg__hex_value((unsigned char) p[0]), lo = mg__hex_value((unsigned char) p[1]);
  return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

int mg_url_decode(const char *src, int src_len, char *dst, int dst_len,
                  int is_form_url_encoded) {
  if (dst == NULL || dst_len <= 0) return -1;
  dst[0] = '\0'; /* a caller that ignores -1 still reads a string */
  if (src_len < 0 || (src == NULL && src_len > 0)) return -1;
  size_t n = (size_t) src_len;
  size_t room = (size_t) dst_len - 1; /* one byte stays for the NUL */
  size_t i = 0, j = 0;
  while (i < n && j < room) {
    int c = (unsigned char) src[i];
    if (c == '%') {
      c = escape_value(src + i + 1, n - i - 1);
      if (c < 0) break;
      i += 3;
    } else {
      if (c == '+' && is_form_url_encoded) c = ' ';
      i++;
    }
    dst[j++] = (char) c;
  }
  dst[j] = '\0';
  /* Stopping early means a bad escape or a full dst; either way the caller gets -1 and
   * the bytes decoded so far. */
  return i == n ? (int) j : -1;
}
