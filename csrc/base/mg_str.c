/* mg_str: (pointer, length) string views and the few helpers that own memory. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "mgio.h"
#include "ascii.h"

struct mg_str mg_mk_str(const char *s) {
  struct mg_str r = {s, s == NULL ? 0 : strlen(s)};
  return r;
}

struct mg_str mg_mk_str_n(const char *s, size_t len) {
  struct mg_str r = {s, len};
  return r;
}

/* Shared body of mg_vcmp and mg_vcasecmp: compare over the common prefix, then by length. */
static int compare_view_with_cstr(const struct mg_str *v, const char *s, int fold) {
  size_t n = strlen(s);
  size_t common = v->len < n ? v->len : n;
  for (size_t i = 0; i < common; i++) {
    int a = (unsigned char) v->p[i], b = (unsigned char) s[i];
    if (fold) a = mg__ascii_lower(a), b = mg__ascii_lower(b);
    if (a != b) return a - b;
  }
  /* The length difference, as Mongoose 6 returns it, clamped to int. */
  if (v->len >= n) return v->len - n > INT_MAX ? INT_MAX : (int) (v->len - n);
  return n - v->len > INT_MAX ? -INT_MAX : -(int) (n - v->len);
}

int mg_vcmp(const struct mg_str *str2, const char *str1) {
  return compare_view_with_cstr(str2, str1, 0);
}

int mg_vcasecmp(const struct mg_str *str2, const char *str1) {
  return compare_view_with_cstr(str2, str1, 1);
}

static struct mg_str duplicate(const struct mg_str s, size_t nul) {
  struct mg_str r = {NULL, 0};
  if (s.len == 0 || s.p == NULL || s.len > SIZE_MAX - nul) return r;
  char *p = (char *) malloc(s.len + nul);
  if (p == NULL) return r;
  memcpy(p, s.p, s.len);
  if (nul) p[s.len] = '\0';
  r.p = p;
  r.len = s.len;
  return r;
}

struct mg_str mg_strdup(const struct mg_str s) {
  return duplicate(s, 0);
}

struct mg_str mg_strdup_nul(const struct mg_str s) {
  return duplicate(s, 1);
}

void mg_strfree(struct mg_str *s) {
  free((void *) s->p);
  s->p = NULL;
  s->len = 0;
}

const char *mg_strchr(const struct mg_str s, int c) {
  if (s.len == 0) return NULL;
  return (const char *) memchr(s.p, c, s.len);
}

/* Shared body of the mg_str comparisons: -1, 0 or 1, a proper prefix first. */
static int compare_views(struct mg_str a, struct mg_str b, int fold) {
  size_t common = a.len < b.len ? a.len : b.len;
  for (size_t i = 0; i < common; i++) {
    int x = (unsigned char) a.p[i], y = (unsigned char) b.p[i];
    if (fold) x = mg__ascii_lower(x), y = mg__ascii_lower(y);
    if (x != y) return x < y ? -1 : 1;
  }
  if (a.len == b.len) return 0;
  return a.len < b.len ? -1 : 1;
}

int mg_strcmp(const struct mg_str str1, const struct mg_str str2) {
  return compare_views(str1, str2, 0);
}

int mg_strcasecmp(const struct mg_str str1, const struct mg_str str2) {
  return compare_views(str1, str2, 1);
}

int mg_strncmp(const struct mg_str str1, const struct mg_str str2, size_t n) {
  struct mg_str a = str1, b = str2;
  if (a.len > n) a.len = n;
  if (b.len > n) b.len = n;
  return compare_views(a, b, 0);
}

const char *mg_strstr(const struct mg_str haystack, const struct mg_str needle) {
  if (needle.len == 0) return haystack.p;
  if (needle.len > haystack.len) return NULL;
  const char *end = haystack.p + (haystack.len - needle.len);
  for (const char *p = haystack.p; p <= end; p++) {
    p = (const char *) memchr(p, needle.p[0], (size_t) (end - p) + 1);
    if (p == NULL) return NULL;
    if (memcmp(p, needle.p, needle.len) == 0) return p;
  }
  return NULL;
}

struct mg_str mg_strstrip(struct mg_str s) {
  while (s.len > 0 && mg__ascii_space(s.p[0])) s.p++, s.len--;
  while (s.len > 0 && mg__ascii_space(s.p[s.len - 1])) s.len--;
  return s;
}

int mg_str_starts_with(struct mg_str s, struct mg_str prefix) {
  return s.len >= prefix.len && (prefix.len == 0 || memcmp(s.p, prefix.p, prefix.len) == 0);
}
