/*
 * Glob patterns (mg_match_prefix*) and comma-separated lists (mg_next_comma_list_entry*).
 *
 * The matcher never backtracks: it runs the pattern over the set of string positions
 * reachable so far (one byte per position, in[j] != 0 when the pattern read so far can
 * match str[0 .. j)), one pattern element at a time. That is O(pattern * string) time
 * for any pattern, where a backtracking matcher is exponential on patterns such as
 * "*a*a*a*a*b" against "aaaa...".
 */
#include <stdlib.h>
#include <string.h>

#include "mgio.h"
#include "ascii.h"

#define GLOB_STACK_POSITIONS 257

/* The longest prefix of `str` that the alternative pattern [p, p + n) matches, or 0. */
static size_t match_alternative(const char *p, size_t n, const struct mg_str str,
                                unsigned char *reach) {
  size_t s = str.len, lo = 0, hi = 0, i = 0, j; /* reachable positions lie in [lo, hi] */
  int anchored = 0;
  if (n > 0 && p[n - 1] == '$') {
    anchored = 1;
    n--;
  }
  memset(reach, 0, s + 1);
  reach[0] = 1;
  while (i < n) {
    char c = p[i];
    if (c == '*' && i + 1 < n && p[i + 1] == '*') {
      /* "**": everything from the first reachable position on */
      while (i < n && p[i] == '*') i++; /* "***" and longer behave like "**" */
      for (j = lo; j <= s; j++) reach[j] = 1;
      hi = s;
      continue;
    }
    if (c == '*') {
      /* one or more runs of non-'/' bytes: propagate forward */
      size_t new_hi = hi;
      for (j = lo + 1; j <= s; j++) {
        if (!reach[j] && reach[j - 1] && str.p[j - 1] != '/') reach[j] = 1;
        if (reach[j]) new_hi = j;
        else if (j > hi) break;
      }
      hi = new_hi;
      i++;
      continue;
    }
    /* one byte: '?' (not '/') or a literal; shift the set right by one */
    {
      size_t new_lo = (size_t) -1, new_hi = 0;
      int lc = mg__ascii_lower((unsigned char) c);
      if (hi == s) {
        reach[s] = 0;
        if (hi == lo) return 0;
        hi--;
      }
      for (j = hi + 1; j > lo; j--) {
        int ok = reach[j - 1] &&
                 (c == '?' ? str.p[j - 1] != '/'
                           : mg__ascii_lower((unsigned char) str.p[j - 1]) == lc);
        reach[j] = (unsigned char) ok;
        if (ok) {
          if (new_lo == (size_t) -1) new_hi = j;
          new_lo = j;
        }
      }
      reach[lo] = 0;
      if (new_lo == (size_t) -1) return 0;
      lo = new_lo;
      hi = new_hi;
      i++;
    }
  }
  if (anchored) return reach[s] ? s : 0;
  for (j = hi + 1; j > lo; j--) {
    if (reach[j - 1]) return j - 1;
  }
  return 0;
}

size_t mg_match_prefix_n(const struct mg_str pattern, const struct mg_str str) {
  unsigned char stack_reach[GLOB_STACK_POSITIONS], *reach = stack_reach;
  const char *p = pattern.p, *end = pattern.p + pattern.len;
  size_t result = 0;
  if (pattern.p == NULL || (str.p == NULL && str.len > 0)) return 0;
  if (str.len >= GLOB_STACK_POSITIONS) {
    if (str.len == (size_t) -1) return 0;
    reach = (unsigned char *) malloc(str.len + 1);
    if (reach == NULL) return 0;
  }
  for (;;) {
    const char *q = p;
    while (q < end && *q != '|' && *q != ',') q++;
    result = match_alternative(p, (size_t) (q - p), str, reach);
    if (result > 0 || q == end) break;
    p = q + 1;
  }
  if (reach != stack_reach) free(reach);
  return result;
}

size_t mg_match_prefix(const char *pattern, int pattern_len, const char *str) {
  struct mg_str pat;
  if (pattern == NULL || str == NULL) return 0;
  pat.p = pattern;
  pat.len = pattern_len < 0 ? strlen(pattern) : (size_t) pattern_len;
  return mg_match_prefix_n(pat, mg_mk_str(str));
}

struct mg_str mg_next_comma_list_entry_n(struct mg_str list, struct mg_str *val,
                                         struct mg_str *eq_val) {
  struct mg_str rest = {NULL, 0}, v;
  const char *comma, *eq;
  if (list.p == NULL || list.len == 0) return rest;
  comma = (const char *) memchr(list.p, ',', list.len);
  v.p = list.p;
  if (comma != NULL) {
    v.len = (size_t) (comma - list.p);
    rest.p = comma + 1;
    rest.len = list.len - v.len - 1;
  } else {
    v.len = list.len;
    rest.p = list.p + list.len;
    rest.len = 0;
  }
  if (eq_val != NULL) {
    eq = (const char *) memchr(v.p, '=', v.len);
    if (eq != NULL) {
      eq_val->p = eq + 1;
      eq_val->len = v.len - (size_t) (eq - v.p) - 1;
      v.len = (size_t) (eq - v.p);
    } else {
      eq_val->p = NULL;
      eq_val->len = 0;
    }
  }
  if (val != NULL) *val = v;
  return rest;
}

const char *mg_next_comma_list_entry(const char *list, struct mg_str *val,
                                     struct mg_str *eq_val) {
  return mg_next_comma_list_entry_n(mg_mk_str(list), val, eq_val).p;
}
