/*
 * The protocol rules of static file serving, as pure functions: HTTP dates (RFC 9110
 * 5.6.7), entity tags and If-None-Match (RFC 9110 8.8.3, 13.1.2), byte ranges (RFC 9110
 * 14), and turning a request target into a path that cannot leave the document root.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/ascii.h"
#include "static_internal.h"

/* ---- calendar arithmetic (proleptic Gregorian, days since 1970-01-01) ----------------- */

static const char day_names[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const long_day_names[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                              "Thursday", "Friday", "Saturday"};
static const char month_names[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* 9999-12-31T23:59:59Z: the last instant a four-digit year can show. */
#define MAX_DATE_TIME INT64_C(253402300799)

static int is_leap(int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
  static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* Days from 1970-01-01 to y-m-d (y >= 0). Counting from March makes the leap day the
 * last day of the year, so a 400-year era has a fixed layout. */
static int64_t days_from_civil(int64_t y, int m, int d) {
  if (m <= 2) y--;
  int64_t era = y / 400, yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

/* The inverse of days_from_civil for z >= 0. */
static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
  z += 719468;
  int64_t era = z / 146097, doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = (int) (doy - (153 * mp + 2) / 5 + 1);
  *m = (int) (mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* ---- formatting ------------------------------------------------------------------------ */

/* Writes v (0 <= v < 10^width) as `width` decimal digits. */
static char *put_digits(char *o, int64_t v, int width) {
  for (int i = width - 1; i >= 0; i--) {
    o[i] = (char) ('0' + v % 10);
    v /= 10;
  }
  return o + width;
}

static char *put_text(char *o, const char *s) {
  size_t n = strlen(s);
  memcpy(o, s, n);
  return o + n;
}

void mg__http_format_date(char buf[MG__HTTP_DATE_LEN + 1], int64_t t) {
  if (t < 0) t = 0;
  if (t > MAX_DATE_TIME) t = MAX_DATE_TIME;
  int64_t days = t / 86400, secs = t % 86400, y;
  int m, d;
  civil_from_days(days, &y, &m, &d);
  char *o = buf;
  o = put_text(o, day_names[(days + 4) % 7]); /* 1970-01-01 was a Thursday */
  o = put_text(o, ", ");
  o = put_digits(o, d, 2);
  *o++ = ' ';
  o = put_text(o, month_names[m - 1]);
  *o++ = ' ';
  o = put_digits(o, y, 4);
  *o++ = ' ';
  o = put_digits(o, secs / 3600, 2);
  *o++ = ':';
  o = put_digits(o, secs / 60 % 60, 2);
  *o++ = ':';
  o = put_digits(o, secs % 60, 2);
  o = put_text(o, " GMT");
  *o = '\0';
}

/* ---- parsing dates --------------------------------------------------------------------- */

/* A cursor over the bytes of a field value. */
struct cursor {
  const char *p;
  size_t n;
};

/* Consumes the exact text `s`; 1 on success. */
static int take_text(struct cursor *c, const char *s) {
  size_t k = strlen(s);
  if (c->n < k || memcmp(c->p, s, k) != 0) return 0;
  c->p += k;
  c->n -= k;
  return 1;
}

/* Consumes exactly `width` decimal digits into *v; 1 on success. */
static int take_digits(struct cursor *c, int width, int *v) {
  if (c->n < (size_t) width) return 0;
  *v = 0;
  for (int i = 0; i < width; i++) {
    if (c->p[i] < '0' || c->p[i] > '9') return 0;
    *v = *v * 10 + (c->p[i] - '0');
  }
  c->p += width;
  c->n -= (size_t) width;
  return 1;
}

/* Consumes a month name (case-sensitive, as HTTP-date is); *m is 1..12. */
static int take_month(struct cursor *c, int *m) {
  for (int i = 0; i < 12; i++) {
    if (take_text(c, month_names[i])) {
      *m = i + 1;
      return 1;
    }
  }
  return 0;
}

/* Consumes a weekday name, short ("Sun") or long ("Sunday"). */
static int take_day_name(struct cursor *c, int long_form) {
  for (int i = 0; i < 7; i++) {
    if (take_text(c, long_form ? long_day_names[i] : day_names[i])) return 1;
  }
  return 0;
}

/* Consumes "HH:MM:SS" into seconds of the day (a leap second 60 is allowed). */
static int take_time(struct cursor *c, int64_t *secs) {
  int h, mi, s;
  if (!take_digits(c, 2, &h) || !take_text(c, ":") || !take_digits(c, 2, &mi) ||
      !take_text(c, ":") || !take_digits(c, 2, &s)) {
    return 0;
  }
  if (h > 23 || mi > 59 || s > 60) return 0;
  *secs = h * 3600 + mi * 60 + s;
  return 1;
}

/* Checks the date fields and combines them into *t. */
static int make_time(int64_t y, int m, int d, int64_t secs, int64_t *t) {
  if (y < 1970 || d < 1 || d > days_in_month(y, m)) return -1;
  *t = days_from_civil(y, m, d) * 86400 + secs;
  return 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT" */
static int parse_imf_fixdate(struct cursor c, int64_t *t) {
  int d, m, y;
  int64_t secs;
  if (!take_day_name(&c, 0) || !take_text(&c, ", ") || !take_digits(&c, 2, &d) ||
      !take_text(&c, " ") || !take_month(&c, &m) || !take_text(&c, " ") ||
      !take_digits(&c, 4, &y) || !take_text(&c, " ") || !take_time(&c, &secs) ||
      !take_text(&c, " GMT") || c.n != 0) {
    return -1;
  }
  return make_time(y, m, d, secs, t);
}

/* "Sunday, 06-Nov-94 08:49:37 GMT" */
static int parse_rfc850(struct cursor c, int64_t *t) {
  int d, m, yy;
  int64_t secs;
  if (!take_day_name(&c, 1) || !take_text(&c, ", ") || !take_digits(&c, 2, &d) ||
      !take_text(&c, "-") || !take_month(&c, &m) || !take_text(&c, "-") ||
      !take_digits(&c, 2, &yy) || !take_text(&c, " ") || !take_time(&c, &secs) ||
      !take_text(&c, " GMT") || c.n != 0) {
    return -1;
  }
  return make_time(yy < 70 ? 2000 + yy : 1900 + yy, m, d, secs, t);
}

/* "Sun Nov  6 08:49:37 1994" (the day is space-padded) */
static int parse_asctime(struct cursor c, int64_t *t) {
  int d, m, y;
  int64_t secs;
  if (!take_day_name(&c, 0) || !take_text(&c, " ") || !take_month(&c, &m) ||
      !take_text(&c, " ")) {
    return -1;
  }
  if (c.n > 0 && c.p[0] == ' ') {
    c.p++;
    c.n--;
    if (!take_digits(&c, 1, &d)) return -1;
  } else if (!take_digits(&c, 2, &d)) {
    return -1;
  }
  if (!take_text(&c, " ") || !take_time(&c, &secs) || !take_text(&c, " ") ||
      !take_digits(&c, 4, &y) || c.n != 0) {
    return -1;
  }
  return make_time(y, m, d, secs, t);
}

int mg__http_parse_date(struct mg_str s, int64_t *t) {
  struct cursor c = {s.p, s.p == NULL ? 0 : s.len};
  if (parse_imf_fixdate(c, t) == 0 || parse_rfc850(c, t) == 0 || parse_asctime(c, t) == 0) {
    return 0;
  }
  return -1;
}

/* ---- entity tags ----------------------------------------------------------------------- */

size_t mg__static_etag(char buf[MG__ETAG_SIZE], int64_t mtime, uint64_t size) {
  int n = snprintf(buf, MG__ETAG_SIZE, "\"%llx.%llu\"", (unsigned long long) (uint64_t) mtime,
                   (unsigned long long) size);
  return n < 0 ? 0 : (size_t) n;
}

static int is_ows(char c) {
  return c == ' ' || c == '\t';
}

static struct mg_str trim_ows(struct mg_str s) {
  while (s.len > 0 && is_ows(s.p[0])) s.p++, s.len--;
  while (s.len > 0 && is_ows(s.p[s.len - 1])) s.len--;
  return s;
}

int mg__static_etag_matches(struct mg_str list, struct mg_str etag) {
  if (list.p == NULL) return 0;
  list = trim_ows(list);
  if (list.len == 1 && list.p[0] == '*') return 1;
  size_t i = 0;
  while (i < list.len) {
    while (i < list.len && (is_ows(list.p[i]) || list.p[i] == ',')) i++;
    if (list.len - i >= 2 && list.p[i] == 'W' && list.p[i + 1] == '/') i += 2;
    if (i < list.len && list.p[i] == '"') {
      const char *close = memchr(list.p + i + 1, '"', list.len - i - 1);
      if (close == NULL) return 0; /* an unterminated tag ends the list */
      size_t tag_len = (size_t) (close - (list.p + i)) + 1;
      if (tag_len == etag.len && memcmp(list.p + i, etag.p, tag_len) == 0) return 1;
      i += tag_len;
    }
    while (i < list.len && list.p[i] != ',') i++; /* skip to the next member */
  }
  return 0;
}

/* ---- Range ----------------------------------------------------------------------------- */

/* Consumes 1*DIGIT into *v, saturating at UINT64_MAX; 0 when no digit is there. */
static int take_number(struct cursor *c, uint64_t *v) {
  size_t k = 0;
  *v = 0;
  for (; k < c->n && c->p[k] >= '0' && c->p[k] <= '9'; k++) {
    unsigned d = (unsigned) (c->p[k] - '0');
    *v = *v > (UINT64_MAX - d) / 10 ? UINT64_MAX : *v * 10 + d;
  }
  c->p += k;
  c->n -= k;
  return k > 0;
}

/* "-n": the last n bytes. */
static int suffix_range(struct cursor c, uint64_t size, uint64_t *start, uint64_t *len) {
  uint64_t n;
  if (!take_number(&c, &n) || c.n != 0 || n == 0) return MG__RANGE_BAD;
  /* An empty file has no last bytes to send; RFC 9110 14.1.1 counts the range as
   * satisfiable, so the honest answer is the whole (empty) file. */
  if (size == 0) return MG__RANGE_NONE;
  *len = n < size ? n : size;
  *start = size - *len;
  return MG__RANGE_ONE;
}

/* "a-" or "a-b". */
static int first_last_range(struct cursor c, uint64_t size, uint64_t *start, uint64_t *len) {
  uint64_t first, last = UINT64_MAX;
  if (!take_number(&c, &first) || !take_text(&c, "-")) return MG__RANGE_BAD;
  if (c.n > 0 && (!take_number(&c, &last) || c.n != 0)) return MG__RANGE_BAD;
  if (last < first || first >= size) return MG__RANGE_BAD;
  if (last >= size) last = size - 1;
  *start = first;
  *len = last - first + 1;
  return MG__RANGE_ONE;
}

int mg__static_parse_range(struct mg_str value, uint64_t size, uint64_t *start,
                           uint64_t *len) {
  if (value.p == NULL) return MG__RANGE_NONE;
  value = trim_ows(value);
  const char *eq = memchr(value.p, '=', value.len);
  if (eq == NULL) return value.len == 0 ? MG__RANGE_NONE : MG__RANGE_BAD;
  struct mg_str unit = mg_mk_str_n(value.p, (size_t) (eq - value.p));
  if (mg_vcasecmp(&unit, "bytes") != 0) return MG__RANGE_NONE;
  struct mg_str set = mg_mk_str_n(eq + 1, value.len - unit.len - 1);
  if (memchr(set.p, ',', set.len) != NULL) return MG__RANGE_NONE; /* several: send all */
  set = trim_ows(set);
  struct cursor c = {set.p, set.len};
  if (c.n == 0) return MG__RANGE_BAD;
  if (c.p[0] == '-') {
    c.p++;
    c.n--;
    return suffix_range(c, size, start, len);
  }
  return first_last_range(c, size, start, len);
}

/* ---- request target to path -------------------------------------------------------------- */

/* The path of an absolute-form target ("http://host/a" -> "/a", "http://host" -> "/"),
 * or {NULL, 0} when `uri` is not an http(s) URI with a host. */
static struct mg_str absolute_form_path(struct mg_str uri) {
  struct mg_str scheme = MG_NULL_STR, host = MG_NULL_STR, path = MG_NULL_STR;
  struct mg_str none = MG_NULL_STR;
  if (mg_parse_uri(uri, &scheme, NULL, &host, NULL, &path, NULL, NULL) != 0) return none;
  if (scheme.p == NULL || host.len == 0) return none;
  if (mg_vcasecmp(&scheme, "http") != 0 && mg_vcasecmp(&scheme, "https") != 0) return none;
  return path.len > 0 ? path : mg_mk_str("/");
}

/* 1 when `s` holds "%2f" in either case: a '/' that would be decoded inside a name. */
static int has_encoded_slash(struct mg_str s) {
  for (size_t i = 0; i + 2 < s.len; i++) {
    if (s.p[i] == '%' && s.p[i + 1] == '2' && mg__ascii_lower((unsigned char) s.p[i + 2]) == 'f') {
      return 1;
    }
  }
  return 0;
}

int mg__static_target_path(struct mg_str uri, char **out, size_t *out_len) {
  if (uri.p == NULL || uri.len == 0) return 400;
  if (uri.p[0] != '/') {
    uri = absolute_form_path(uri);
    if (uri.p == NULL || uri.p[0] != '/') return 400;
  }
  if (has_encoded_slash(uri)) return 404;
  if (uri.len >= (size_t) INT_MAX) return 400; /* mg_url_decode takes int lengths */
  char *buf = malloc(uri.len + 1);
  if (buf == NULL) return 500;
  int n = mg_url_decode(uri.p, (int) uri.len, buf, (int) uri.len + 1, 0);
  if (n < 0) {
    free(buf);
    return 400;
  }
  if (memchr(buf, '\0', (size_t) n) != NULL) {
    free(buf);
    return 404;
  }
  /* The first byte is the target's own '/', so normalising cannot fail; it is done
   * after decoding so that "%2e%2e" is a ".." segment and is resolved here too. */
  struct mg_str in = mg_mk_str_n(buf, (size_t) n), norm = mg_mk_str_n(buf, 0);
  mg_normalize_uri_path(&in, &norm);
  buf[norm.len] = '\0';
  *out = buf;
  *out_len = norm.len;
  return 0;
}

/* ---- hidden names and confinement -------------------------------------------------------- */

int mg__static_name_hidden(struct mg_str name, const char *hidden_pattern,
                           const char *auth_file) {
  if (name.p == NULL || name.len == 0) return 0;
  if (auth_file != NULL && auth_file[0] != '\0' && mg_vcasecmp(&name, auth_file) == 0) {
    return 1;
  }
  if (hidden_pattern != NULL && hidden_pattern[0] != '\0' &&
      mg_match_prefix_n(mg_mk_str(hidden_pattern), name) > 0) {
    return 1;
  }
  return 0;
}

int mg__static_path_hidden(struct mg_str path, const char *hidden_pattern,
                           const char *auth_file) {
  size_t i = 0;
  while (path.p != NULL && i < path.len) {
    size_t j = i;
    while (j < path.len && path.p[j] != '/') j++;
    if (mg__static_name_hidden(mg_mk_str_n(path.p + i, j - i), hidden_pattern, auth_file)) {
      return 1;
    }
    i = j + 1;
  }
  return 0;
}

int mg__static_path_within(const char *root, const char *path) {
  size_t n = strlen(root);
  if (n == 1 && root[0] == '/') return path[0] == '/';
  return strncmp(root, path, n) == 0 && (path[n] == '\0' || path[n] == '/');
}
