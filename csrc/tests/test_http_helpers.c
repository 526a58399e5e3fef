/* HTTP helpers: status reason phrases, URI parsing / assembling / normalizing, mg_skip,
 * query and header parameters, glob matching and comma lists. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mgio.h"
#include "test.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static int str_is(struct mg_str s, const char *want) {
  if (want == NULL) return s.p == NULL && s.len == 0;
  return s.p != NULL && s.len == strlen(want) && memcmp(s.p, want, s.len) == 0;
}

/* ---- mg_status_message ------------------------------------------------------------ */

TEST(status_message_known) {
  CHECK(strcmp(mg_status_message(200), "OK") == 0);
  CHECK(strcmp(mg_status_message(101), "Switching Protocols") == 0);
  CHECK(strcmp(mg_status_message(206), "Partial Content") == 0);
  CHECK(strcmp(mg_status_message(308), "Permanent Redirect") == 0);
  CHECK(strcmp(mg_status_message(413), "Content Too Large") == 0);
  CHECK(strcmp(mg_status_message(414), "URI Too Long") == 0);
  CHECK(strcmp(mg_status_message(416), "Range Not Satisfiable") == 0);
  CHECK(strcmp(mg_status_message(422), "Unprocessable Content") == 0);
  CHECK(strcmp(mg_status_message(426), "Upgrade Required") == 0);
  CHECK(strcmp(mg_status_message(431), "Request Header Fields Too Large") == 0);
  CHECK(strcmp(mg_status_message(451), "Unavailable For Legal Reasons") == 0);
  CHECK(strcmp(mg_status_message(505), "HTTP Version Not Supported") == 0);
  CHECK(strcmp(mg_status_message(511), "Network Authentication Required") == 0);
}

TEST(status_message_never_ok_for_others) {
  for (int c = -5; c < 1000; c++) {
    const char *m = mg_status_message(c);
    CHECK(m != NULL && m[0] != '\0');
    if (c != 200) CHECK(strcmp(m, "OK") != 0);
  }
  CHECK(strcmp(mg_status_message(306), "Unknown") == 0);
  CHECK(strcmp(mg_status_message(418), "Unknown") == 0);
  CHECK(strcmp(mg_status_message(0), "Unknown") == 0);
  CHECK(strcmp(mg_status_message(-1), "Unknown") == 0);
  CHECK(strcmp(mg_status_message(999), "Unknown") == 0);
}

/* ---- mg_parse_uri ----------------------------------------------------------------- */

struct uri_parts {
  struct mg_str scheme, user, host, path, query, frag;
  unsigned int port;
};

static int parse(const char *s, struct uri_parts *u) {
  /* copy to an exact-size heap block so that ASan / valgrind catch over-reads */
  size_t n = strlen(s);
  char *copy = (char *) test_malloc(n ? n : 1);
  int r;
  memcpy(copy, s, n);
  memset(u, 0x55, sizeof(*u));
  r = mg_parse_uri(mg_mk_str_n(copy, n), &u->scheme, &u->user, &u->host, &u->port, &u->path,
                   &u->query, &u->frag);
  /* rebase the views onto `s` so that they survive the free */
#define REBASE(f) if (u->f.p != NULL) u->f.p = s + (u->f.p - copy)
  if (r == 0) {
    REBASE(scheme); REBASE(user); REBASE(host); REBASE(path); REBASE(query); REBASE(frag);
  }
#undef REBASE
  test_free(copy);
  return r;
}

TEST(parse_uri_full) {
  struct uri_parts u;
  CHECK(parse("http://user:pw@example.com:8080/a/b?x=1&y#frag", &u) == 0);
  CHECK(str_is(u.scheme, "http") && str_is(u.user, "user:pw") &&
        str_is(u.host, "example.com") && u.port == 8080 && str_is(u.path, "/a/b") &&
        str_is(u.query, "x=1&y") && str_is(u.frag, "frag"));
}

TEST(parse_uri_reference_examples) {
  struct uri_parts u;
  CHECK(parse("foo.com:80", &u) == 0);
  CHECK(str_is(u.scheme, NULL) && str_is(u.host, "foo.com") && u.port == 80 &&
        str_is(u.path, NULL));
  CHECK(parse("tcp://[::1]:8080/x", &u) == 0);
  CHECK(str_is(u.scheme, "tcp") && str_is(u.host, "[::1]") && u.port == 8080 &&
        str_is(u.path, "/x"));
  CHECK(parse("[::1]", &u) == 0 && str_is(u.host, "[::1]") && u.port == 0);
  CHECK(parse("tcp://[::1", &u) == -1);
  CHECK(parse("[::1", &u) == -1);
  CHECK(parse("http://host", &u) == 0 && str_is(u.host, "host") && u.port == 0 &&
        str_is(u.path, NULL) && str_is(u.query, NULL) && str_is(u.frag, NULL));
  CHECK(parse("/just/a/path?q", &u) == 0 && str_is(u.host, "") && str_is(u.path, "/just/a/path") &&
        str_is(u.query, "q"));
  CHECK(parse("file:///etc/passwd", &u) == 0 && str_is(u.scheme, "file") &&
        str_is(u.host, "") && str_is(u.path, "/etc/passwd"));
  CHECK(parse("", &u) == 0 && str_is(u.host, "") && u.port == 0);
}

TEST(parse_uri_authority_ends_at_query) {
  struct uri_parts u;
  CHECK(parse("http://h?x=1#f", &u) == 0 && str_is(u.host, "h") && str_is(u.path, NULL) &&
        str_is(u.query, "x=1") && str_is(u.frag, "f"));
  CHECK(parse("http://h:81#f?x", &u) == 0 && u.port == 81 && str_is(u.query, NULL) &&
        str_is(u.frag, "f?x"));
  CHECK(parse("http://h/?", &u) == 0 && str_is(u.query, "") && str_is(u.frag, NULL));
  CHECK(parse("http://a@b@h/", &u) == 0 && str_is(u.user, "a@b") && str_is(u.host, "h"));
  CHECK(parse("http://u@[::1]:1/", &u) == 0 && str_is(u.user, "u") &&
        str_is(u.host, "[::1]") && u.port == 1);
}

TEST(parse_uri_port_validation) {
  struct uri_parts u;
  CHECK(parse("h:65535", &u) == 0 && u.port == 65535);
  CHECK(parse("h:0", &u) == 0 && u.port == 0);
  CHECK(parse("h:", &u) == 0 && u.port == 0 && str_is(u.host, "h"));
  CHECK(parse("h:000080/", &u) == 0 && u.port == 80);
  CHECK(parse("h:65536", &u) == -1);
  CHECK(parse("h:99999999999999999999", &u) == -1);
  CHECK(parse("h:8x", &u) == -1);
  CHECK(parse("h:-1", &u) == -1);
  CHECK(parse("h:+1", &u) == -1);
  CHECK(parse("h: 1", &u) == -1);
  CHECK(parse("a:b:c", &u) == -1);
  CHECK(parse("http://[::1]x/", &u) == -1);
  CHECK(parse("http://[::1]:70000/", &u) == -1);
}

TEST(parse_uri_null_outputs_and_failure_leaves_outputs) {
  struct mg_str host = {"keep", 4};
  unsigned int port = 7;
  CHECK(mg_parse_uri(mg_mk_str("http://x:1/p"), NULL, NULL, &host, NULL, NULL, NULL,
                     NULL) == 0);
  CHECK(str_is(host, "x"));
  host = mg_mk_str("keep");
  CHECK(mg_parse_uri(mg_mk_str("http://x:1z/p"), NULL, NULL, &host, &port, NULL, NULL,
                     NULL) == -1);
  CHECK(str_is(host, "keep") && port == 7);
  CHECK(mg_parse_uri(mg_mk_str_n(NULL, 0), NULL, NULL, &host, &port, NULL, NULL, NULL) == 0);
  CHECK(host.len == 0 && port == 0);
}

TEST(parse_uri_respects_length) {
  struct uri_parts u;
  const char *s = "http://h:80/abc?q#f";
  /* cut inside the port: "http://h:8" */
  CHECK(mg_parse_uri(mg_mk_str_n(s, 10), &u.scheme, &u.user, &u.host, &u.port, &u.path,
                     &u.query, &u.frag) == 0);
  CHECK(u.port == 8 && str_is(u.path, NULL));
  CHECK(mg_parse_uri(mg_mk_str_n(s, 14), &u.scheme, &u.user, &u.host, &u.port, &u.path,
                     &u.query, &u.frag) == 0);
  CHECK(str_is(u.path, "/ab") && str_is(u.query, NULL));
}

/* ---- mg_normalize_uri_path -------------------------------------------------------- */

static int normalizes(const char *in, const char *want) {
  char buf[256], inplace[256];
  size_t n = strlen(in);
  struct mg_str i = mg_mk_str_n(in, n), o = {buf, 0};
  if (!mg_normalize_uri_path(&i, &o) || !str_is(o, want)) return 0;
  /* in place */
  memcpy(inplace, in, n);
  i.p = inplace;
  o.p = inplace;
  o.len = 0;
  return mg_normalize_uri_path(&i, &o) && o.len == strlen(want) &&
         memcmp(inplace, want, o.len) == 0;
}

TEST(normalize_uri_path) {
  CHECK(normalizes("/foo/.././bar/baz", "/bar/baz"));
  CHECK(normalizes("/", "/"));
  CHECK(normalizes("/a/b/c", "/a/b/c"));
  CHECK(normalizes("/a/./b/../c", "/a/c"));
  CHECK(normalizes("/..", "/"));
  CHECK(normalizes("/../../x", "/x"));
  CHECK(normalizes("/a/b/..", "/a/"));
  CHECK(normalizes("/a/b/.", "/a/b/"));
  CHECK(normalizes("/a/.", "/a/"));
  CHECK(normalizes("/.", "/"));
  CHECK(normalizes("/a//b", "/a//b"));
  CHECK(normalizes("/a//..", "/a/"));
  CHECK(normalizes("/...", "/..."));
  CHECK(normalizes("/..a/.b/a..", "/..a/.b/a.."));
  CHECK(normalizes("/a/%2e%2e/b", "/a/%2e%2e/b"));
  CHECK(normalizes("/a/b/", "/a/b/"));
}

TEST(normalize_uri_path_rejects) {
  char buf[16];
  struct mg_str o = {buf, 99};
  struct mg_str in = mg_mk_str("a/b");
  CHECK(mg_normalize_uri_path(&in, &o) == 0 && o.len == 99);
  in = mg_mk_str("");
  CHECK(mg_normalize_uri_path(&in, &o) == 0);
  in = mg_mk_str_n(NULL, 0);
  CHECK(mg_normalize_uri_path(&in, &o) == 0);
}

/* ---- mg_assemble_uri -------------------------------------------------------------- */

TEST(assemble_uri_reference_example) {
  struct mg_str scheme = mg_mk_str("file"), path = mg_mk_str("/foo/.././bar/baz"), out;
  CHECK(mg_assemble_uri(&scheme, NULL, NULL, 0, &path, NULL, NULL, 1, &out) == 0);
  CHECK(str_is(out, "file:///bar/baz") && out.p[out.len] == '\0');
  test_free((void *) out.p);
  CHECK(mg_assemble_uri(&scheme, NULL, NULL, 0, &path, NULL, NULL, 0, &out) == 0);
  CHECK(str_is(out, "file:///foo/.././bar/baz"));
  test_free((void *) out.p);
  CHECK(mg_assemble_uri(NULL, NULL, NULL, 0, NULL, NULL, NULL, 0, &out) == 0);
  CHECK(out.p != NULL && out.len == 0 && out.p[0] == '\0');
  test_free((void *) out.p);
}

TEST(assemble_uri_all_parts_round_trip) {
  const char *uris[] = {"http://user:pw@example.com:8080/a/b?x=1&y#frag",
                        "tcp://[::1]:65535", "http://h/?", "http://h#", "/p?q#f",
                        "h:1", "file:///x", "", "http://@h/"};
  for (size_t k = 0; k < sizeof(uris) / sizeof(uris[0]); k++) {
    struct uri_parts u;
    struct mg_str out;
    CHECK(parse(uris[k], &u) == 0);
    CHECK(mg_assemble_uri(&u.scheme, &u.user, &u.host, u.port, &u.path, &u.query, &u.frag, 0,
                          &out) == 0);
    CHECK(str_is(out, uris[k]));
    test_free((void *) out.p);
  }
}

TEST(assemble_uri_bad_path) {
  struct mg_str path = mg_mk_str("rel/../x"), out = {"x", 1};
  CHECK(mg_assemble_uri(NULL, NULL, NULL, 0, &path, NULL, NULL, 1, &out) == -1);
  CHECK(out.p == NULL && out.len == 0);
  CHECK(mg_assemble_uri(NULL, NULL, NULL, 0, &path, NULL, NULL, 0, &out) == 0);
  CHECK(str_is(out, "rel/../x"));
  test_free((void *) out.p);
  CHECK(mg_assemble_uri(NULL, NULL, NULL, 0, NULL, NULL, NULL, 0, NULL) == -1);
}

/* ---- mg_skip ---------------------------------------------------------------------- */

TEST(skip_tokens) {
  const char *s = "a, b,,c";
  const char *end = s + strlen(s);
  struct mg_str v;
  const char *p = mg_skip(s, end, ", ", &v);
  CHECK(str_is(v, "a") && p == s + 3);
  p = mg_skip(p, end, ", ", &v);
  CHECK(str_is(v, "b") && p == s + 6);
  p = mg_skip(p, end, ", ", &v);
  CHECK(str_is(v, "c") && p == end);
  p = mg_skip(p, end, ", ", &v);
  CHECK(v.p == end && v.len == 0 && p == end);
  /* end_string bounds the scan: "a, b" cut at 2 -> v "a", stops at end */
  p = mg_skip(s, s + 2, ", ", &v);
  CHECK(str_is(v, "a") && p == s + 2);
  /* a NUL inside the range is not a delimiter */
  p = mg_skip("x\0y z", "x\0y z" + 5, " ", &v);
  CHECK(v.len == 3 && p != NULL);
}

/* ---- mg_get_http_var -------------------------------------------------------------- */

/* Calls mg_get_http_var on an exact-size heap copy of `s`. */
static int get_var(const char *s, const char *name, char *dst, size_t dst_len) {
  size_t n = strlen(s);
  char *copy = (char *) test_malloc(n ? n : 1);
  struct mg_str b;
  int r;
  memcpy(copy, s, n);
  b = mg_mk_str_n(copy, n);
  r = mg_get_http_var(&b, name, dst, dst_len);
  test_free(copy);
  return r;
}

TEST(get_http_var_basic) {
  char dst[32];
  CHECK(get_var("a=1&b=hello+world&c=%41%42", "b", dst, sizeof(dst)) == 11 &&
        strcmp(dst, "hello world") == 0);
  CHECK(get_var("a=1&b=2&c=%41%42", "C", dst, sizeof(dst)) == 2 && strcmp(dst, "AB") == 0);
  CHECK(get_var("a=1&b=2", "a", dst, sizeof(dst)) == 1 && strcmp(dst, "1") == 0);
  CHECK(get_var("a=&b=2", "a", dst, sizeof(dst)) == 0 && dst[0] == '\0');
  CHECK(get_var("a=1&a=2", "a", dst, sizeof(dst)) == 1 && strcmp(dst, "1") == 0);
  CHECK(get_var("xa=1&a=2", "a", dst, sizeof(dst)) == 1 && strcmp(dst, "2") == 0);
  CHECK(get_var("b=a=1", "a", dst, sizeof(dst)) == -4 && dst[0] == '\0');
  CHECK(get_var("a", "a", dst, sizeof(dst)) == -4);
  CHECK(get_var("ab=1", "a", dst, sizeof(dst)) == -4);
  CHECK(get_var("a=1", "ab", dst, sizeof(dst)) == -4);
  CHECK(get_var("&&a=x%26y&", "a", dst, sizeof(dst)) == 3 && strcmp(dst, "x&y") == 0);
  CHECK(get_var("a=b=c", "a", dst, sizeof(dst)) == 3 && strcmp(dst, "b=c") == 0);
}

TEST(get_http_var_errors) {
  char dst[4] = "zzz";
  struct mg_str empty = {"", 0}, nul = {NULL, 0};
  struct mg_str b = mg_mk_str("a=1");
  CHECK(mg_get_http_var(&b, "a", NULL, 4) == -2);
  CHECK(mg_get_http_var(&b, "a", dst, 0) == -2 && dst[0] == 'z');
  CHECK(mg_get_http_var(NULL, "a", NULL, 0) == -2);
  CHECK(mg_get_http_var(&empty, "a", dst, sizeof(dst)) == -1 && dst[0] == '\0');
  dst[0] = 'z';
  CHECK(mg_get_http_var(&nul, "a", dst, sizeof(dst)) == -1 && dst[0] == '\0');
  dst[0] = 'z';
  CHECK(mg_get_http_var(NULL, "a", dst, sizeof(dst)) == -1 && dst[0] == '\0');
  dst[0] = 'z';
  CHECK(mg_get_http_var(&b, NULL, dst, sizeof(dst)) == -1 && dst[0] == '\0');
  CHECK(get_var("a=%2", "a", dst, sizeof(dst)) == -3 && dst[0] == '\0');
  CHECK(get_var("a=%zz", "a", dst, sizeof(dst)) == -3 && dst[0] == '\0');
  CHECK(get_var("a=1234", "a", dst, sizeof(dst)) == -3 && dst[0] == '\0');
  CHECK(get_var("a=123", "a", dst, sizeof(dst)) == 3 && strcmp(dst, "123") == 0);
  CHECK(get_var("b=1", "a", dst, sizeof(dst)) == -4 && dst[0] == '\0');
}

TEST(get_http_var_respects_length) {
  char dst[16];
  struct mg_str b = mg_mk_str_n("a=12&b=3", 3); /* "a=1" */
  CHECK(mg_get_http_var(&b, "a", dst, sizeof(dst)) == 1 && strcmp(dst, "1") == 0);
  b = mg_mk_str_n("a=%41", 4); /* "a=%4": truncated escape */
  CHECK(mg_get_http_var(&b, "a", dst, sizeof(dst)) == -3);
  b = mg_mk_str_n("ab=1", 1); /* "a": no '=' within the view */
  CHECK(mg_get_http_var(&b, "a", dst, sizeof(dst)) == -4);
}

/* ---- mg_http_parse_header(2) ------------------------------------------------------ */

static int header_param(const char *h, const char *name, char *dst, size_t size) {
  size_t n = strlen(h);
  char *copy = (char *) test_malloc(n ? n : 1);
  struct mg_str s;
  int r;
  memcpy(copy, h, n);
  s = mg_mk_str_n(copy, n);
  r = mg_http_parse_header(&s, name, dst, size);
  test_free(copy);
  return r;
}

TEST(http_parse_header_values) {
  char b[64];
  const char *auth = "Digest username=\"joe\", realm=\"r, x=1\", nc=00000001,"
                     "uri='/a b', qop=auth;opaque=\"q\\\"t\\\\\"";
  CHECK(header_param(auth, "username", b, sizeof(b)) == 3 && strcmp(b, "joe") == 0);
  CHECK(header_param(auth, "realm", b, sizeof(b)) == 6 && strcmp(b, "r, x=1") == 0);
  CHECK(header_param(auth, "nc", b, sizeof(b)) == 8 && strcmp(b, "00000001") == 0);
  CHECK(header_param(auth, "uri", b, sizeof(b)) == 4 && strcmp(b, "/a b") == 0);
  CHECK(header_param(auth, "qop", b, sizeof(b)) == 4 && strcmp(b, "auth") == 0);
  CHECK(header_param(auth, "opaque", b, sizeof(b)) == 4 && strcmp(b, "q\"t\\") == 0);
  /* inside a quoted value is not a parameter (mgio fix) */
  CHECK(header_param(auth, "x", b, sizeof(b)) == 0 && b[0] == '\0');
  /* case-sensitive names; a name must start a parameter */
  CHECK(header_param(auth, "Realm", b, sizeof(b)) == 0);
  CHECK(header_param(auth, "name", b, sizeof(b)) == 0);
  CHECK(header_param("form-data; name=\"f\"; filename=\"C:\\tmp\\a.txt\"", "filename", b,
                     sizeof(b)) == 12 && strcmp(b, "C:\\tmp\\a.txt") == 0);
  CHECK(header_param("form-data; name=\"f\"; filename=\"a.txt\"", "name", b, sizeof(b)) == 1 &&
        strcmp(b, "f") == 0);
  CHECK(header_param("a=\"unterminated", "a", b, sizeof(b)) == 0 && b[0] == '\0');
  CHECK(header_param("a=", "a", b, sizeof(b)) == 0 && b[0] == '\0');
  CHECK(header_param("a", "a", b, sizeof(b)) == 0);
  CHECK(header_param("a=\"\"", "a", b, sizeof(b)) == 0 && b[0] == '\0');
  CHECK(header_param("a=x\"y", "a", b, sizeof(b)) == 3 && strcmp(b, "x\"y") == 0);
}

TEST(http_parse_header_no_room) {
  char b[4] = "zzz";
  CHECK(header_param("a=1234", "a", b, sizeof(b)) == 0 && b[0] == '\0');
  CHECK(header_param("a=123", "a", b, sizeof(b)) == 3 && strcmp(b, "123") == 0);
  b[0] = 'z';
  CHECK(header_param("a=1", "a", b, 0) == 0 && b[0] == 'z');
  CHECK(mg_http_parse_header(NULL, "a", b, sizeof(b)) == 0 && b[0] == '\0');
}

TEST(http_parse_header2_allocates) {
  char small[4], *buf = small;
  struct mg_str h = mg_mk_str("a=hello, b=hi");
  CHECK(mg_http_parse_header2(&h, "b", &buf, sizeof(small)) == 2 && buf == small &&
        strcmp(small, "hi") == 0);
  CHECK(mg_http_parse_header2(&h, "a", &buf, sizeof(small)) == 5 && buf != small &&
        strcmp(buf, "hello") == 0);
  test_free(buf);
  buf = small;
  CHECK(mg_http_parse_header2(&h, "zz", &buf, sizeof(small)) == 0 && buf == small &&
        small[0] == '\0');
  buf = NULL;
  CHECK(mg_http_parse_header2(&h, "b", &buf, 0) == 2 && buf != NULL && strcmp(buf, "hi") == 0);
  test_free(buf);
  buf = NULL;
  CHECK(mg_http_parse_header2(&h, "zz", &buf, 0) == 0 && buf == NULL);
  CHECK(mg_http_parse_header2(NULL, "a", &buf, 0) == 0 && buf == NULL);
  CHECK(mg_http_parse_header2(&h, "a", NULL, 0) == 0);
}

TEST(http_parse_header_respects_length) {
  char b[16];
  struct mg_str h = mg_mk_str_n("a=\"xy\" b=1", 5); /* a="xy : unterminated */
  CHECK(mg_http_parse_header(&h, "a", b, sizeof(b)) == 0 && b[0] == '\0');
  h = mg_mk_str_n("a=12345", 4);
  CHECK(mg_http_parse_header(&h, "a", b, sizeof(b)) == 2 && strcmp(b, "12") == 0);
  h = mg_mk_str_n("a=\"x\\\"", 5); /* a="x\ : backslash at the end */
  CHECK(mg_http_parse_header(&h, "a", b, sizeof(b)) == 0);
}

/* ---- mg_match_prefix(_n) ---------------------------------------------------------- */

static size_t match(const char *pattern, const char *str) {
  /* exact-size heap copies: no NUL after either */
  size_t pn = strlen(pattern), sn = strlen(str), r;
  char *pc = (char *) test_malloc(pn ? pn : 1), *sc = (char *) test_malloc(sn ? sn : 1);
  memcpy(pc, pattern, pn);
  memcpy(sc, str, sn);
  r = mg_match_prefix_n(mg_mk_str_n(pc, pn), mg_mk_str_n(sc, sn));
  test_free(pc);
  test_free(sc);
  return r;
}

TEST(match_prefix_reference_examples) {
  CHECK(match("a*f", "abcdefgh") == 6);
  CHECK(match("a*f", "abcdexgh") == 0);
  CHECK(match("a*f|de*,xy", "defgh") == 5);
  CHECK(match("a*f|de*,xy", "xyz") == 2);
  CHECK(match("?*", "abc") == 3);
  CHECK(match("?*", "") == 0);
  CHECK(mg_match_prefix("a*f", 3, "abcdefgh") == 6);
  CHECK(mg_match_prefix("a*f|de*,xy", -1, "defgh") == 5);
  CHECK(mg_match_prefix("a*f|zz", 3, "zz") == 0);
  CHECK(mg_match_prefix(NULL, 3, "zz") == 0 && mg_match_prefix("z", 1, NULL) == 0);
}

TEST(match_prefix_rules) {
  CHECK(match("/api/*", "/api/users/1") == 10);
  CHECK(match("/api/**", "/api/users/1") == 12);
  CHECK(match("**.php$", "/a/b/x.php") == 10);
  CHECK(match("**.php$", "/a/b/x.php.txt") == 0);
  CHECK(match("**.php", "/a/b/x.php.txt") == 10);
  CHECK(match("*.cgi$|*.php$", "x.php") == 5);
  CHECK(match("ABC", "abcd") == 3);
  CHECK(match("abc", "ABC") == 3);
  CHECK(match("a?c", "abc") == 3);
  CHECK(match("a?c", "a/c") == 0);
  CHECK(match("a*c", "a/c") == 0);
  CHECK(match("a**c", "a/c") == 3);
  CHECK(match("*", "/x") == 0);
  CHECK(match("**", "") == 0);
  CHECK(match("a$", "a") == 1);
  CHECK(match("a$", "ab") == 0);
  CHECK(match("a$b", "a$bc") == 3); /* '$' inside an alternative is literal */
  CHECK(match("a*$", "ab/c") == 0);
  CHECK(match("a*", "ab/c") == 2);
  CHECK(match("", "abc") == 0);
  CHECK(match(",,a", "abc") == 1);
  CHECK(match("x|", "abc") == 0);
  CHECK(match("*b", "abab") == 4); /* longest */
  CHECK(match("a*b*c", "abbbcxc") == 7);
  CHECK(match("/.*|**/.*", "/a/.hidden") == 10);
  CHECK(match("**/.*", "/a/.hidden") == 10);
}

TEST(match_prefix_long_string_and_no_overread) {
  size_t n = 5000;
  char *s = (char *) test_malloc(n);
  memset(s, 'a', n);
  CHECK(mg_match_prefix_n(mg_mk_str("a*"), mg_mk_str_n(s, n)) == n);
  CHECK(mg_match_prefix_n(mg_mk_str("**a$"), mg_mk_str_n(s, n)) == n);
  CHECK(mg_match_prefix_n(mg_mk_str("**b"), mg_mk_str_n(s, n)) == 0);
  s[n - 1] = '/';
  CHECK(mg_match_prefix_n(mg_mk_str("*"), mg_mk_str_n(s, n)) == n - 1);
  test_free(s);
}

TEST(match_prefix_pathological_is_fast) {
  size_t n = 10 * 1024;
  char pattern[128];
  char *s = (char *) test_malloc(n);
  clock_t t0 = clock();
  memset(s, 'a', n);
  /* 30 single stars separated by 'a', ending in a byte that never matches */
  size_t k = 0;
  for (int i = 0; i < 30; i++) {
    pattern[k++] = '*';
    pattern[k++] = 'a';
  }
  pattern[k++] = 'b';
  CHECK(mg_match_prefix_n(mg_mk_str_n(pattern, k), mg_mk_str_n(s, n)) == 0);
  memset(pattern, '*', 30);
  pattern[30] = 'b';
  CHECK(mg_match_prefix_n(mg_mk_str_n(pattern, 31), mg_mk_str_n(s, n)) == 0);
  for (int i = 0; i < 30; i++) {
    pattern[2 * i] = '*';
    pattern[2 * i + 1] = '?';
  }
  pattern[60] = 'b';
  CHECK(mg_match_prefix_n(mg_mk_str_n(pattern, 61), mg_mk_str_n(s, n)) == 0);
  CHECK(mg_match_prefix_n(mg_mk_str_n(pattern, 60), mg_mk_str_n(s, n)) == n);
  test_free(s);
  CHECK((double) (clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

/* ---- mg_next_comma_list_entry(_n) ------------------------------------------------- */

TEST(comma_list_entries) {
  struct mg_str v, eq;
  const char *list = "a=1,b,c=,=d";
  list = mg_next_comma_list_entry(list, &v, &eq);
  CHECK(list != NULL && str_is(v, "a") && str_is(eq, "1"));
  list = mg_next_comma_list_entry(list, &v, &eq);
  CHECK(list != NULL && str_is(v, "b") && eq.p == NULL && eq.len == 0);
  list = mg_next_comma_list_entry(list, &v, &eq);
  CHECK(list != NULL && str_is(v, "c") && str_is(eq, ""));
  list = mg_next_comma_list_entry(list, &v, &eq);
  CHECK(list != NULL && *list == '\0' && str_is(v, "") && str_is(eq, "d"));
  CHECK(mg_next_comma_list_entry(list, &v, &eq) == NULL);
  CHECK(mg_next_comma_list_entry(NULL, &v, &eq) == NULL);
  list = mg_next_comma_list_entry("x=1,y", &v, NULL);
  CHECK(str_is(v, "x=1") && strcmp(list, "y") == 0);
}

TEST(comma_list_entries_n_loop) {
  const char *text = "a,b=2,,c,IGNORED"; /* the view stops before ",IGNORED" */
  struct mg_str list = mg_mk_str_n(text, 8), v, eq;
  const char *want_v[] = {"a", "b", "", "c"};
  const char *want_eq[] = {NULL, "2", NULL, NULL};
  int k = 0;
  while ((list = mg_next_comma_list_entry_n(list, &v, &eq)).p != NULL) {
    CHECK(k < 4);
    CHECK(str_is(v, want_v[k]) && str_is(eq, want_eq[k]));
    k++;
  }
  CHECK(k == 4);
  list = mg_mk_str(",");
  list = mg_next_comma_list_entry_n(list, &v, NULL);
  CHECK(list.p != NULL && list.len == 0 && v.len == 0);
}
