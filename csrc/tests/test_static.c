/* The pure parts of static file serving (http/static_rules.c, http/static_mime.c):
 * MIME lookup, HTTP dates, entity tags, Range parsing, request target to path, hidden
 * names and root confinement. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../http/static_internal.h"
#include "mgio.h"
#include "test.h"

static struct mg_str S(const char *s) {
  return mg_mk_str(s);
}

static int mime_is(const char *path, const char *custom, const char *exp) {
  struct mg_str t = mg__static_mime_type(S(path), S(custom));
  int ok = t.len == strlen(exp) && memcmp(t.p, exp, t.len) == 0;
  if (!ok) fprintf(stderr, "mime(%s, %s) = %.*s, want %s\n", path, custom ? custom : "NULL",
                   (int) t.len, t.p, exp);
  return ok;
}

TEST(static_mime_builtin) {
  CHECK(mime_is("/a/index.html", NULL, "text/html"));
  CHECK(mime_is("INDEX.HTM", NULL, "text/html"));
  CHECK(mime_is("x.CSS", NULL, "text/css"));
  CHECK(mime_is("app.js", NULL, "text/javascript"));
  CHECK(mime_is("p.PNG", NULL, "image/png"));
  CHECK(mime_is("v.webmanifest", NULL, "application/manifest+json"));
  CHECK(mime_is("a.tar.gz", NULL, "application/gzip"));
  CHECK(mime_is("f.zst", NULL, "application/zstd"));
  CHECK(mime_is("f.7z", NULL, "application/x-7z-compressed"));
  /* every entry of the table is reachable, which also proves it is sorted */
  const char *exts[] = {"7z", "aac", "json", "svg", "txt", "woff2", "xml", "zip", "mjs"};
  for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++) {
    char name[32];
    snprintf(name, sizeof(name), "f.%s", exts[i]);
    CHECK(strcmp(mg__static_mime_type(S(name), S(NULL)).p, "text/plain") != 0 ||
          strcmp(exts[i], "txt") == 0);
  }
}

TEST(static_mime_unknown_is_text_plain) {
  CHECK(mime_is("README", NULL, "text/plain"));
  CHECK(mime_is("file.unknownext", NULL, "text/plain"));
  CHECK(mime_is("file.", NULL, "text/plain"));
  CHECK(mime_is("/dir.html/file", NULL, "text/plain")); /* the dot is in a folder name */
  CHECK(mime_is("", NULL, "text/plain"));
  CHECK(mime_is("x.averyveryverylongextension", NULL, "text/plain"));
  struct mg_str t = mg__static_mime_type(mg_mk_str_n(NULL, 5), mg_mk_str_n(NULL, 3));
  CHECK(t.len == 10);
}

TEST(static_mime_custom_first) {
  const char *c = ".txt=text/x-mine,.tar.gz=application/x-tgz,dat=application/x-dat";
  CHECK(mime_is("a.txt", c, "text/x-mine"));
  CHECK(mime_is("A.TXT", c, "text/x-mine"));
  CHECK(mime_is("b.tar.gz", c, "application/x-tgz"));
  CHECK(mime_is("c.gz", c, "application/gzip"));
  CHECK(mime_is("d.dat", c, "application/x-dat"));
  CHECK(mime_is("ddat", c, "text/plain")); /* "dat" must follow a '.' */
  CHECK(mime_is("dat", c, "application/x-dat"));
  CHECK(mime_is("x/Makefile", "Makefile=text/x-make", "text/x-make"));
  CHECK(mime_is("x/NotMakefile", "Makefile=text/x-make", "text/plain"));
  /* broken entries are skipped, later ones still apply */
  CHECK(mime_is("a.foo", ",=x,.foo=,.foo=bad\r\nX: y,.foo=app/foo", "app/foo"));
  CHECK(mime_is("a.foo", ".foo", "text/plain"));
}

static int date_is(int64_t t, const char *exp) {
  char buf[MG__HTTP_DATE_LEN + 1];
  mg__http_format_date(buf, t);
  if (strcmp(buf, exp) != 0) fprintf(stderr, "date(%lld) = %s\n", (long long) t, buf);
  return strcmp(buf, exp) == 0;
}

TEST(static_date_format) {
  CHECK(date_is(0, "Thu, 01 Jan 1970 00:00:00 GMT"));
  CHECK(date_is(784111777, "Sun, 06 Nov 1994 08:49:37 GMT"));
  CHECK(date_is(951782400, "Tue, 29 Feb 2000 00:00:00 GMT"));
  CHECK(date_is(1709164800, "Thu, 29 Feb 2024 00:00:00 GMT"));
  CHECK(date_is(4133980799, "Fri, 31 Dec 2100 23:59:59 GMT"));
  CHECK(date_is(-5, "Thu, 01 Jan 1970 00:00:00 GMT"));
  CHECK(date_is(INT64_MAX, "Fri, 31 Dec 9999 23:59:59 GMT"));
}

static int parses_to(const char *s, int64_t exp) {
  int64_t t = -1;
  int ok = mg__http_parse_date(S(s), &t) == 0 && t == exp;
  if (!ok) fprintf(stderr, "parse(%s) = %lld\n", s, (long long) t);
  return ok;
}

static int rejects(const char *s) {
  int64_t t;
  return mg__http_parse_date(S(s), &t) == -1;
}

TEST(static_date_parse_three_forms) {
  CHECK(parses_to("Sun, 06 Nov 1994 08:49:37 GMT", 784111777));
  CHECK(parses_to("Sunday, 06-Nov-94 08:49:37 GMT", 784111777));
  CHECK(parses_to("Sun Nov  6 08:49:37 1994", 784111777));
  CHECK(parses_to("Sun Nov 16 08:49:37 1994", 784111777 + 10 * 86400));
  CHECK(parses_to("Thursday, 01-Jan-70 00:00:00 GMT", 0));
  CHECK(parses_to("Tuesday, 29-Feb-00 00:00:00 GMT", 951782400));
  CHECK(parses_to("Thu, 29 Feb 2024 00:00:00 GMT", 1709164800));
  CHECK(parses_to("Fri, 31 Dec 9999 23:59:59 GMT", INT64_C(253402300799)));
}

TEST(static_date_parse_rejects) {
  CHECK(rejects(""));
  CHECK(rejects("Sun, 06 Nov 1994 08:49:37 GMT "));
  CHECK(rejects(" Sun, 06 Nov 1994 08:49:37 GMT"));
  CHECK(rejects("Sun, 06 nov 1994 08:49:37 GMT")); /* HTTP-date is case-sensitive */
  CHECK(rejects("Sun, 6 Nov 1994 08:49:37 GMT"));
  CHECK(rejects("Sun, 06 Nov 1994 08:49:37 UTC"));
  CHECK(rejects("Sun, 06 Nov 1994 24:00:00 GMT"));
  CHECK(rejects("Sun, 06 Nov 1994 08:60:00 GMT"));
  CHECK(rejects("Sun, 30 Feb 2024 00:00:00 GMT"));
  CHECK(rejects("Sun, 29 Feb 2100 00:00:00 GMT"));
  CHECK(rejects("Sun, 00 Jan 2000 00:00:00 GMT"));
  CHECK(rejects("Sun, 31 Dec 1969 23:59:59 GMT"));
  CHECK(rejects("Xyz, 06 Nov 1994 08:49:37 GMT"));
  CHECK(rejects("Sun, 06 Nov 1994 08:49:37"));
  CHECK(rejects("Sun Nov 06 08:49:37 1994 GMT"));
  CHECK(rejects("1994-11-06T08:49:37Z"));
  int64_t t;
  CHECK(mg__http_parse_date(mg_mk_str_n(NULL, 0), &t) == -1);
  /* every prefix of a valid date is invalid (no read past the given length) */
  const char *d = "Sun, 06 Nov 1994 08:49:37 GMT";
  for (size_t n = 0; n < strlen(d); n++) {
    char *copy = test_malloc(n + 1);
    CHECK(copy != NULL);
    memcpy(copy, d, n);
    int r = mg__http_parse_date(mg_mk_str_n(copy, n), &t);
    test_free(copy);
    CHECK(r == -1);
  }
}

TEST(static_date_round_trip) {
  uint64_t x = 88172645463325252ull;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    int64_t t = (int64_t) (x % UINT64_C(253402300800));
    char buf[MG__HTTP_DATE_LEN + 1];
    int64_t back = -1;
    mg__http_format_date(buf, t);
    CHECK(strlen(buf) == MG__HTTP_DATE_LEN);
    CHECK(mg__http_parse_date(S(buf), &back) == 0);
    CHECK(back == t);
  }
}

TEST(static_etag) {
  char e[MG__ETAG_SIZE];
  CHECK(mg__static_etag(e, 0x5f5e100, 1234) == 14 && strcmp(e, "\"5f5e100.1234\"") == 0);
  CHECK(mg__static_etag(e, -1, UINT64_MAX) == 39);
  CHECK(strcmp(e, "\"ffffffffffffffff.18446744073709551615\"") == 0);
  struct mg_str tag = S("\"abc.12\"");
  CHECK(mg__static_etag_matches(S("\"abc.12\""), tag));
  CHECK(mg__static_etag_matches(S("W/\"abc.12\""), tag));
  CHECK(mg__static_etag_matches(S("  *  "), tag));
  CHECK(mg__static_etag_matches(S("\"x\", \"abc.12\""), tag));
  CHECK(mg__static_etag_matches(S("\"x\",W/\"abc.12\",\"y\""), tag));
  CHECK(mg__static_etag_matches(S("junk, \"abc.12\""), tag));
  CHECK(!mg__static_etag_matches(S("\"abc.1\""), tag));
  CHECK(!mg__static_etag_matches(S("abc.12"), tag));
  CHECK(!mg__static_etag_matches(S("\"abc.12"), tag));
  CHECK(!mg__static_etag_matches(S("\"a,b\", \"abc.13\""), tag));
  CHECK(!mg__static_etag_matches(S("*, \"x\""), tag));
  CHECK(!mg__static_etag_matches(S(""), tag));
  CHECK(!mg__static_etag_matches(mg_mk_str_n(NULL, 0), tag));
}

static int range_is(const char *v, uint64_t size, int exp, uint64_t s, uint64_t l) {
  uint64_t start = 77, len = 77;
  int r = mg__static_parse_range(S(v), size, &start, &len);
  int ok = r == exp && (r != MG__RANGE_ONE || (start == s && len == l));
  if (!ok) fprintf(stderr, "range(%s, %llu) = %d %llu %llu\n", v, (unsigned long long) size,
                   r, (unsigned long long) start, (unsigned long long) len);
  return ok;
}

TEST(static_range_single) {
  CHECK(range_is("bytes=0-0", 10, MG__RANGE_ONE, 0, 1));
  CHECK(range_is("bytes=2-5", 10, MG__RANGE_ONE, 2, 4));
  CHECK(range_is("bytes=2-", 10, MG__RANGE_ONE, 2, 8));
  CHECK(range_is("bytes=2-100", 10, MG__RANGE_ONE, 2, 8));
  CHECK(range_is("bytes=9-9", 10, MG__RANGE_ONE, 9, 1));
  CHECK(range_is("bytes=-3", 10, MG__RANGE_ONE, 7, 3));
  CHECK(range_is("bytes=-10", 10, MG__RANGE_ONE, 0, 10));
  CHECK(range_is("bytes=-1000", 10, MG__RANGE_ONE, 0, 10));
  CHECK(range_is("BYTES=1-2", 10, MG__RANGE_ONE, 1, 2));
  CHECK(range_is("  bytes= 1-2 ", 10, MG__RANGE_ONE, 1, 2));
  CHECK(range_is("bytes=0-99999999999999999999999", 10, MG__RANGE_ONE, 0, 10));
  CHECK(range_is("bytes=-99999999999999999999999", 10, MG__RANGE_ONE, 0, 10));
  CHECK(range_is("bytes=0-", UINT64_MAX, MG__RANGE_ONE, 0, UINT64_MAX));
}

TEST(static_range_unsatisfiable_or_malformed) {
  CHECK(range_is("bytes=10-", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=10-20", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=99999999999999999999999-", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=5-4", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=-0", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=0-", 0, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=-", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=a-b", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=+1-2", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=1-2x", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=1 -2", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=1--2", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes=--2", 10, MG__RANGE_BAD, 0, 0));
  CHECK(range_is("bytes", 10, MG__RANGE_BAD, 0, 0));
}

TEST(static_range_ignored) {
  CHECK(range_is("", 10, MG__RANGE_NONE, 0, 0));
  CHECK(range_is("bytes=0-1,3-4", 10, MG__RANGE_NONE, 0, 0));
  CHECK(range_is("bytes=0-1, 99-", 10, MG__RANGE_NONE, 0, 0));
  CHECK(range_is("items=0-1", 10, MG__RANGE_NONE, 0, 0));
  CHECK(range_is("=0-1", 10, MG__RANGE_NONE, 0, 0));
  CHECK(range_is("bytes=-5", 0, MG__RANGE_NONE, 0, 0));
  uint64_t s, l;
  CHECK(mg__static_parse_range(mg_mk_str_n(NULL, 0), 10, &s, &l) == MG__RANGE_NONE);
}

static int path_is(const char *uri, int exp_status, const char *exp) {
  char *out = NULL;
  size_t n = 0;
  int st = mg__static_target_path(S(uri), &out, &n);
  int ok = st == exp_status &&
           (st != 0 || (out != NULL && n == strlen(exp) && strcmp(out, exp) == 0));
  if (!ok) fprintf(stderr, "path(%s) = %d %s\n", uri, st, st == 0 ? out : "-");
  test_free(out);
  return ok;
}

TEST(static_target_path) {
  CHECK(path_is("/", 0, "/"));
  CHECK(path_is("/a/b.txt", 0, "/a/b.txt"));
  CHECK(path_is("/a%20b/%3Cb%3E%26x.txt", 0, "/a b/<b>&x.txt"));
  CHECK(path_is("/a+b", 0, "/a+b")); /* '+' is not a space in a path */
  CHECK(path_is("/dir/", 0, "/dir/"));
  CHECK(path_is("/dir/.", 0, "/dir/"));
  CHECK(path_is("/a/../b", 0, "/b"));
  CHECK(path_is("/../../etc/passwd", 0, "/etc/passwd"));
  CHECK(path_is("/%2e%2e/%2E%2E/etc/passwd", 0, "/etc/passwd"));
  CHECK(path_is("/a/%2e%2e", 0, "/"));
  CHECK(path_is("/..%5c..%5cetc", 0, "/..\\..\\etc")); /* a plain name on POSIX */
  CHECK(path_is("http://example.com/x/../y", 0, "/y"));
  CHECK(path_is("HTTP://example.com", 0, "/"));
}

TEST(static_target_path_refused) {
  CHECK(path_is("", 400, NULL));
  CHECK(path_is("*", 400, NULL));
  CHECK(path_is("a/b", 400, NULL));
  CHECK(path_is("ftp://h/x", 400, NULL));
  CHECK(path_is("http:///x", 400, NULL));
  CHECK(path_is("/a%zz", 400, NULL));
  CHECK(path_is("/a%2", 400, NULL));
  CHECK(path_is("/a%", 400, NULL));
  CHECK(path_is("/a%00b", 404, NULL));
  CHECK(path_is("/a.txt%00.html", 404, NULL));
  CHECK(path_is("/a%2fb", 404, NULL));
  CHECK(path_is("/..%2F..%2Fetc", 404, NULL));
  char *out = NULL;
  size_t n;
  CHECK(mg__static_target_path(mg_mk_str_n(NULL, 3), &out, &n) == 400 && out == NULL);
}

TEST(static_hidden_names) {
  CHECK(mg__static_name_hidden(S(".htpasswd"), NULL, ".htpasswd"));
  CHECK(mg__static_name_hidden(S(".HTPasswd"), NULL, ".htpasswd"));
  CHECK(!mg__static_name_hidden(S(".htpasswd2"), NULL, ".htpasswd"));
  CHECK(!mg__static_name_hidden(S("x"), NULL, NULL));
  CHECK(!mg__static_name_hidden(S(""), "**", ".htpasswd"));
  CHECK(mg__static_name_hidden(S("secret.txt"), "secret", NULL));
  CHECK(mg__static_name_hidden(S("a.bak"), "**.bak$|.git$", NULL));
  CHECK(!mg__static_name_hidden(S("a.bak.txt"), "**.bak$|.git$", NULL));
  CHECK(mg__static_name_hidden(S(".GIT"), "**.bak$|.git$", NULL));
  CHECK(!mg__static_name_hidden(S("public"), "**.bak$|.git$", ""));
  CHECK(mg__static_path_hidden(S("/.git/config"), ".git$", NULL));
  CHECK(mg__static_path_hidden(S("/a/b/.htpasswd"), NULL, ".htpasswd"));
  CHECK(mg__static_path_hidden(S("/a/.HTPASSWD/"), NULL, ".htpasswd"));
  CHECK(!mg__static_path_hidden(S("/a/b/c.txt"), ".git$", ".htpasswd"));
  CHECK(!mg__static_path_hidden(S("/"), "x", ".htpasswd"));
}

TEST(static_path_within) {
  CHECK(mg__static_path_within("/srv/www", "/srv/www"));
  CHECK(mg__static_path_within("/srv/www", "/srv/www/a"));
  CHECK(!mg__static_path_within("/srv/www", "/srv/www2"));
  CHECK(!mg__static_path_within("/srv/www", "/srv/ww"));
  CHECK(!mg__static_path_within("/srv/www", "/etc/passwd"));
  CHECK(mg__static_path_within("/", "/etc/passwd"));
  CHECK(mg__static_path_within("/", "/"));
}
