/* Tests of mg_str and the C-string helpers: exact return values, views that are not
 * NUL-terminated, embedded NULs, bytes >= 0x80 (unsigned order) and ownership. */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "mgio.h"
#include "test.h"

/* A view of the first `n` bytes of a literal that may hold NULs. */
#define V(lit, n) mg_mk_str_n((lit), (n))
#define S(cstr) mg_mk_str(cstr)

static int view_is(struct mg_str s, const char *p, size_t n) {
  return s.len == n && (n == 0 || memcmp(s.p, p, n) == 0);
}

TEST(str_mk_and_macros) {
  struct mg_str s = mg_mk_str(NULL);
  CHECK(s.p == NULL && s.len == 0);
  const char *text = "hello";
  s = mg_mk_str(text);
  CHECK(s.p == text && s.len == 5);
  s = mg_mk_str("");
  CHECK(s.p != NULL && s.len == 0);
  s = mg_mk_str_n(text, 3);
  CHECK(s.p == text && s.len == 3);
  s = mg_mk_str_n(NULL, 0);
  CHECK(s.p == NULL && s.len == 0);
  struct mg_str lit = MG_MK_STR("abc");
  CHECK(view_is(lit, "abc", 3));
  struct mg_str withnul = MG_MK_STR("a\0b");
  CHECK(withnul.len == 3);
  struct mg_str n = MG_MK_STR_N("abcdef", 2);
  CHECK(view_is(n, "ab", 2));
  struct mg_str null = MG_NULL_STR;
  CHECK(null.p == NULL && null.len == 0);
}

TEST(str_vcmp) {
  struct mg_str s = S("aa");
  CHECK(mg_vcmp(&s, "abb") < 0); /* the reference example */
  CHECK(mg_vcmp(&s, "aa") == 0);
  CHECK(mg_vcmp(&s, "a") == 1); /* prefix equal: the length difference */
  CHECK(mg_vcmp(&s, "aaaa") == -2);
  CHECK(mg_vcmp(&s, "") == 2);
  CHECK(mg_vcmp(&s, "ab") < 0);
  CHECK(mg_vcmp(&s, "a`") > 0);
  s = S("abb");
  CHECK(mg_vcmp(&s, "aa") > 0);
  s = V("abcdef", 3); /* not NUL-terminated at len */
  CHECK(mg_vcmp(&s, "abc") == 0);
  CHECK(mg_vcmp(&s, "abcd") == -1);
  CHECK(mg_vcmp(&s, "abd") < 0);
  s = mg_mk_str(NULL);
  CHECK(mg_vcmp(&s, "") == 0);
  CHECK(mg_vcmp(&s, "xyz") == -3);
  s = S("");
  CHECK(mg_vcmp(&s, "") == 0);
  /* bytes >= 0x80 sort after ASCII */
  s = S("\x80");
  CHECK(mg_vcmp(&s, "a") > 0);
  s = S("a");
  CHECK(mg_vcmp(&s, "\xff") < 0);
  /* an embedded NUL in the view is an ordinary byte, below any other */
  s = V("a\0", 2);
  CHECK(mg_vcmp(&s, "a") == 1);
  CHECK(mg_vcmp(&s, "ab") < 0);
  /* case matters */
  s = S("ABC");
  CHECK(mg_vcmp(&s, "abc") < 0);
}

TEST(str_vcasecmp) {
  struct mg_str s = S("HeLLo");
  CHECK(mg_vcasecmp(&s, "hello") == 0);
  CHECK(mg_vcasecmp(&s, "HELLO") == 0);
  CHECK(mg_vcasecmp(&s, "HELL") == 1);
  CHECK(mg_vcasecmp(&s, "hello!") == -1);
  CHECK(mg_vcasecmp(&s, "help") < 0);
  s = S("aa");
  CHECK(mg_vcasecmp(&s, "ABB") < 0);
  CHECK(mg_vcasecmp(&s, "AA") == 0);
  s = S("ABB");
  CHECK(mg_vcasecmp(&s, "aa") > 0);
  /* folding is to lower case: '_' (0x5f) sorts before 'a' (0x61) */
  s = S("_");
  CHECK(mg_vcasecmp(&s, "A") < 0);
  CHECK(mg_vcasecmp(&s, "a") < 0);
  /* only ASCII letters fold; high bytes compare unsigned */
  s = S("\xc4");
  CHECK(mg_vcasecmp(&s, "\xe4") < 0);
  CHECK(mg_vcasecmp(&s, "z") > 0);
  s = mg_mk_str(NULL);
  CHECK(mg_vcasecmp(&s, "") == 0);
  CHECK(mg_vcasecmp(&s, "Q") == -1);
  s = V("Content-Length: 5", 14);
  CHECK(mg_vcasecmp(&s, "content-length") == 0);
  CHECK(mg_vcasecmp(&s, "content-lengthx") == -1);
}

TEST(str_strcmp_exact_values) {
  CHECK(mg_strcmp(S("a"), S("b")) == -1);
  CHECK(mg_strcmp(S("b"), S("a")) == 1);
  CHECK(mg_strcmp(S("a"), S("z")) == -1); /* not the byte difference */
  CHECK(mg_strcmp(S("z"), S("a")) == 1);
  CHECK(mg_strcmp(S("abc"), S("abc")) == 0);
  CHECK(mg_strcmp(S("ab"), S("abc")) == -1); /* a proper prefix sorts first */
  CHECK(mg_strcmp(S("abc"), S("ab")) == 1);
  CHECK(mg_strcmp(S(""), S("")) == 0);
  CHECK(mg_strcmp(mg_mk_str(NULL), S("")) == 0);
  CHECK(mg_strcmp(mg_mk_str(NULL), mg_mk_str(NULL)) == 0);
  CHECK(mg_strcmp(mg_mk_str(NULL), S("a")) == -1);
  CHECK(mg_strcmp(S("a"), mg_mk_str(NULL)) == 1);
  CHECK(mg_strcmp(S("\x80"), S("\x7f")) == 1); /* unsigned */
  CHECK(mg_strcmp(S("z"), S("\xff")) == -1);
  CHECK(mg_strcmp(S("\xff"), S("\xfe")) == 1);
  CHECK(mg_strcmp(V("a\0b", 3), V("a\0c", 3)) == -1); /* NUL is an ordinary byte */
  CHECK(mg_strcmp(V("a\0", 2), S("a")) == 1);
  CHECK(mg_strcmp(V("abcdef", 3), V("abcxyz", 3)) == 0);
  CHECK(mg_strcmp(S("ABC"), S("abc")) == -1);
}

TEST(str_strcasecmp_exact_values) {
  CHECK(mg_strcasecmp(S("ABC"), S("abc")) == 0);
  CHECK(mg_strcasecmp(S("abc"), S("ABD")) == -1);
  CHECK(mg_strcasecmp(S("ABD"), S("abc")) == 1);
  CHECK(mg_strcasecmp(S("ABCD"), S("abc")) == 1);
  CHECK(mg_strcasecmp(S("abc"), S("ABCD")) == -1);
  CHECK(mg_strcasecmp(S("_"), S("A")) == -1); /* lower-case folding */
  CHECK(mg_strcasecmp(S("["), S("a")) == -1);
  CHECK(mg_strcasecmp(S("@"), S("`")) == -1); /* not letters: not folded */
  CHECK(mg_strcasecmp(S("\xc4"), S("\xe4")) == -1);
  CHECK(mg_strcasecmp(S("\xe4"), S("Z")) == 1);
  CHECK(mg_strcasecmp(mg_mk_str(NULL), S("")) == 0);
  CHECK(mg_strcasecmp(S(""), S("a")) == -1);
  CHECK(mg_strcasecmp(S("Keep-Alive"), S("keep-alive")) == 0);
}

TEST(str_strncmp) {
  CHECK(mg_strncmp(S("abc"), S("xyz"), 0) == 0);
  CHECK(mg_strncmp(S("abcdef"), S("abcxyz"), 3) == 0);
  CHECK(mg_strncmp(S("abcdef"), S("abcxyz"), 4) == -1);
  CHECK(mg_strncmp(S("abcxyz"), S("abcdef"), 4) == 1);
  CHECK(mg_strncmp(S("ab"), S("abc"), 2) == 0);
  CHECK(mg_strncmp(S("ab"), S("abc"), 3) == -1); /* truncated, then compared */
  CHECK(mg_strncmp(S("abc"), S("ab"), 3) == 1);
  CHECK(mg_strncmp(S("abc"), S("abc"), 100) == 0);
  CHECK(mg_strncmp(S("abc"), S("abd"), SIZE_MAX) == -1);
  CHECK(mg_strncmp(S("\x80x"), S("\x7fx"), 1) == 1);
  CHECK(mg_strncmp(mg_mk_str(NULL), S("a"), 1) == -1);
  CHECK(mg_strncmp(mg_mk_str(NULL), S("a"), 0) == 0);
}

TEST(str_strdup_and_free) {
  const char *text = "hello world";
  struct mg_str src = mg_mk_str_n(text, 5);
  struct mg_str d = mg_strdup(src);
  CHECK(d.p != NULL && d.p != text && view_is(d, "hello", 5));
  mg_strfree(&d);
  CHECK(d.p == NULL && d.len == 0);
  mg_strfree(&d); /* freeing an empty string is harmless */
  CHECK(d.p == NULL && d.len == 0);

  d = mg_strdup_nul(src);
  CHECK(d.p != NULL && view_is(d, "hello", 5) && d.p[5] == '\0');
  mg_strfree(&d);

  d = mg_strdup(V("a\0b", 3)); /* embedded NUL copied */
  CHECK(view_is(d, "a\0b", 3));
  mg_strfree(&d);
  d = mg_strdup_nul(V("a\0b", 3));
  CHECK(view_is(d, "a\0b", 3) && d.p[3] == '\0');
  mg_strfree(&d);

  /* empty or NULL input: {NULL, 0}, nothing to free */
  d = mg_strdup(S(""));
  CHECK(d.p == NULL && d.len == 0);
  d = mg_strdup(mg_mk_str(NULL));
  CHECK(d.p == NULL && d.len == 0);
  d = mg_strdup_nul(S(""));
  CHECK(d.p == NULL && d.len == 0);
  d = mg_strdup_nul(mg_mk_str(NULL));
  CHECK(d.p == NULL && d.len == 0);
  mg_strfree(&d);
  CHECK(d.p == NULL && d.len == 0);
}

TEST(str_strchr) {
  const char *t = "hello";
  CHECK(mg_strchr(S(t), 'l') == t + 2);
  CHECK(mg_strchr(S(t), 'h') == t);
  CHECK(mg_strchr(S(t), 'o') == t + 4);
  CHECK(mg_strchr(S(t), 'z') == NULL);
  CHECK(mg_strchr(mg_mk_str_n(t, 4), 'o') == NULL); /* the bound is respected */
  CHECK(mg_strchr(S(""), 'a') == NULL);
  CHECK(mg_strchr(mg_mk_str(NULL), 'a') == NULL);
  CHECK(mg_strchr(S(t), '\0') == NULL); /* the terminator is outside the view */
  const char *b = "a\0b\x80" "c";
  CHECK(mg_strchr(V(b, 5), '\0') == b + 1);
  CHECK(mg_strchr(V(b, 5), 0x80) == b + 3);
  CHECK(mg_strchr(V(b, 5), (char) 0x80) == b + 3); /* a negative char finds it too */
  CHECK(mg_strchr(V(b, 5), 'c') == b + 4);
}

TEST(str_strstr) {
  const char *h = "hello world";
  struct mg_str hs = S(h);
  CHECK(mg_strstr(hs, S("")) == h); /* empty needle: the start */
  CHECK(mg_strstr(hs, mg_mk_str(NULL)) == h);
  CHECK(mg_strstr(hs, S("hello")) == h);
  CHECK(mg_strstr(hs, S("world")) == h + 6); /* at the very end */
  CHECK(mg_strstr(hs, S("d")) == h + 10);
  CHECK(mg_strstr(hs, S("o w")) == h + 4);
  CHECK(mg_strstr(hs, S("hello world")) == h); /* equal */
  CHECK(mg_strstr(hs, S("hello world!")) == NULL); /* needle longer */
  CHECK(mg_strstr(hs, S("worlds")) == NULL); /* partial match at the end */
  CHECK(mg_strstr(hs, S("xyz")) == NULL);
  CHECK(mg_strstr(hs, S("World")) == NULL);
  CHECK(mg_strstr(S(""), S("a")) == NULL);
  CHECK(mg_strstr(mg_mk_str(NULL), S("a")) == NULL);
  const char *e = "";
  CHECK(mg_strstr(S(e), S("")) == e);
  /* overlapping prefixes */
  const char *a = "aaab";
  CHECK(mg_strstr(S(a), S("aab")) == a + 1);
  CHECK(mg_strstr(S(a), S("ab")) == a + 2);
  CHECK(mg_strstr(S(a), S("aaab")) == a);
  CHECK(mg_strstr(S(a), S("aaaa")) == NULL);
  const char *ab = "abababc";
  CHECK(mg_strstr(S(ab), S("ababc")) == ab + 2);
  /* the haystack bound is respected */
  CHECK(mg_strstr(mg_mk_str_n(h, 10), S("world")) == NULL);
  CHECK(mg_strstr(mg_mk_str_n(h, 10), S("worl")) == h + 6);
  /* NULs and high bytes are ordinary bytes */
  const char *z = "a\0b\0c\xff";
  CHECK(mg_strstr(V(z, 6), V("\0c", 2)) == z + 3);
  CHECK(mg_strstr(V(z, 6), S("\xff")) == z + 5);
  CHECK(mg_strstr(V(z, 6), V("b\0c\xff", 4)) == z + 2);
}

TEST(str_strstrip) {
  const char *t = " \t\r\n\v\fabc d \n\t";
  struct mg_str s = mg_strstrip(S(t));
  CHECK(s.p == t + 6 && view_is(s, "abc d", 5));
  s = mg_strstrip(S("abc"));
  CHECK(view_is(s, "abc", 3));
  const char *sp = "   \t\n";
  s = mg_strstrip(S(sp));
  CHECK(s.len == 0);
  s = mg_strstrip(S(""));
  CHECK(s.len == 0);
  s = mg_strstrip(mg_mk_str(NULL));
  CHECK(s.p == NULL && s.len == 0);
  s = mg_strstrip(S("  x"));
  CHECK(view_is(s, "x", 1));
  s = mg_strstrip(S("x  "));
  CHECK(view_is(s, "x", 1));
  /* only ASCII whitespace: a NUL, 0xa0 and 0x85 are kept */
  s = mg_strstrip(S("\xa0x\x85"));
  CHECK(view_is(s, "\xa0x\x85", 3));
  s = mg_strstrip(V(" \0 ", 3));
  CHECK(view_is(s, "\0", 1));
  /* the view's bound is respected: spaces after len are not looked at */
  s = mg_strstrip(mg_mk_str_n(" ab  cd", 4));
  CHECK(view_is(s, "ab", 2));
}

TEST(str_starts_with) {
  CHECK(mg_str_starts_with(S("hello"), S("he")) == 1);
  CHECK(mg_str_starts_with(S("hello"), S("hello")) == 1);
  CHECK(mg_str_starts_with(S("he"), S("hello")) == 0);
  CHECK(mg_str_starts_with(S("hello"), S("")) == 1);
  CHECK(mg_str_starts_with(S(""), S("")) == 1);
  CHECK(mg_str_starts_with(mg_mk_str(NULL), mg_mk_str(NULL)) == 1);
  CHECK(mg_str_starts_with(mg_mk_str(NULL), S("a")) == 0);
  CHECK(mg_str_starts_with(S("hello"), S("hex")) == 0);
  CHECK(mg_str_starts_with(S("Hello"), S("he")) == 0); /* case-sensitive */
  CHECK(mg_str_starts_with(V("a\0b", 3), V("a\0", 2)) == 1);
  CHECK(mg_str_starts_with(mg_mk_str_n("abc", 2), S("abc")) == 0);
}

TEST(str_ncasecmp_and_casecmp) {
  CHECK(mg_ncasecmp("Hello", "hELLo", 5) == 0);
  CHECK(mg_ncasecmp("abc", "abd", 2) == 0);
  CHECK(mg_ncasecmp("abc", "abd", 3) < 0);
  CHECK(mg_ncasecmp("abd", "ABC", 3) > 0);
  CHECK(mg_ncasecmp("abc", "ab", 3) > 0); /* the NUL sorts first */
  CHECK(mg_ncasecmp("ab", "abc", 3) < 0);
  CHECK(mg_ncasecmp("ab", "AB", 100) == 0); /* stops at the NULs */
  CHECK(mg_ncasecmp("x", "y", 0) == 0);
  CHECK(mg_ncasecmp("\x80", "a", 1) > 0); /* unsigned */
  CHECK(mg_ncasecmp("a", "\xff", 1) < 0);
  CHECK(mg_ncasecmp("_", "A", 1) < 0); /* lower-case folding */
  CHECK(mg_ncasecmp("\xc4", "\xe4", 1) < 0); /* no folding beyond ASCII */
  /* does not read past the NUL of a short string (ASan/valgrind check this) */
  char *heap = (char *) test_malloc(2);
  CHECK(heap != NULL);
  heap[0] = 'A';
  heap[1] = '\0';
  int r = mg_ncasecmp(heap, "a", SIZE_MAX);
  test_free(heap);
  CHECK(r == 0);

  CHECK(mg_casecmp("HTTP/1.1", "http/1.1") == 0);
  CHECK(mg_casecmp("", "") == 0);
  CHECK(mg_casecmp("a", "b") < 0);
  CHECK(mg_casecmp("b", "A") > 0);
  CHECK(mg_casecmp("abc", "ab") > 0);
  CHECK(mg_casecmp("ab", "abc") < 0);
  CHECK(mg_casecmp("\xe4", "\xc4") > 0);
}

TEST(str_c_strnstr) {
  const char *s = "hello world";
  CHECK(c_strnstr(s, "world", 11) == s + 6);
  CHECK(c_strnstr(s, "world", 100) == s + 6); /* stops at the NUL of a C string */
  CHECK(c_strnstr(s, "world", 10) == NULL);    /* a match crossing the bound */
  CHECK(c_strnstr(s, "worl", 10) == s + 6);
  CHECK(c_strnstr(s, "hello", 5) == s);
  CHECK(c_strnstr(s, "hello", 4) == NULL);
  CHECK(c_strnstr(s, "", 11) == s);
  CHECK(c_strnstr(s, "", 0) == s);
  CHECK(c_strnstr(s, "h", 0) == NULL);
  CHECK(c_strnstr(s, "xyz", 11) == NULL);
  CHECK(c_strnstr(s, "hello world!", 11) == NULL);
  const char *a = "aaab";
  CHECK(c_strnstr(a, "aab", 4) == a + 1);
  /* s need not be NUL-terminated: a heap block of exactly slen bytes */
  char *blk = (char *) test_malloc(4);
  CHECK(blk != NULL);
  memcpy(blk, "abcd", 4);
  int r1 = c_strnstr(blk, "cd", 4) == blk + 2;
  int r2 = c_strnstr(blk, "d", 3) == NULL;
  int r3 = c_strnstr(blk, "de", 4) == NULL;
  test_free(blk);
  CHECK(r1 && r2 && r3);
  /* s is a C string: a NUL within the bound ends the search (like BSD strnstr) */
  const char *bin = "ab\0cd\0";
  CHECK(c_strnstr(bin, "b", 6) == bin + 1);
  CHECK(c_strnstr(bin, "cd", 6) == NULL);
  CHECK(c_strnstr(bin, "b\0c", 6) == bin + 1); /* find is a C string too: "b" */
  CHECK(c_strnstr(s, "world", 100) == s + 6); /* nothing read past the NUL */
}

static int avprintf_wrap(char **buf, size_t size, const char *fmt, ...)
    MG_PRINTF_LIKE(3, 4);
static int avprintf_wrap(char **buf, size_t size, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = mg_avprintf(buf, size, fmt, ap);
  va_end(ap);
  return r;
}

TEST(str_asprintf) {
  char mem[5];
  char *p = mem;
  /* the reference example */
  CHECK(mg_asprintf(&p, sizeof(mem), "%d", 123) == 3);
  CHECK(p == mem && strcmp(p, "123") == 0);
  CHECK(mg_asprintf(&p, sizeof(mem), "%d", 123456789) == 9);
  CHECK(p != mem && p != NULL);
  int ok = strcmp(p, "123456789") == 0;
  test_free(p);
  CHECK(ok);
  /* exactly fitting (4 chars + NUL in 5 bytes) and one too long */
  p = mem;
  CHECK(mg_asprintf(&p, sizeof(mem), "%s", "abcd") == 4);
  CHECK(p == mem && strcmp(mem, "abcd") == 0);
  CHECK(mg_asprintf(&p, sizeof(mem), "%s", "abcde") == 5);
  CHECK(p != mem);
  ok = strcmp(p, "abcde") == 0;
  test_free(p);
  CHECK(ok);
  /* empty output */
  p = mem;
  CHECK(mg_asprintf(&p, sizeof(mem), "%s", "") == 0);
  CHECK(p == mem && mem[0] == '\0');
  /* no caller buffer at all: always the heap */
  p = NULL;
  CHECK(mg_asprintf(&p, 0, "x=%d", 7) == 3);
  CHECK(p != NULL);
  ok = strcmp(p, "x=7") == 0;
  test_free(p);
  CHECK(ok);
  p = NULL;
  CHECK(mg_asprintf(&p, 0, "%s", "") == 0);
  CHECK(p != NULL && p[0] == '\0');
  test_free(p);
  /* a long output */
  p = mem;
  CHECK(mg_asprintf(&p, sizeof(mem), "%1000d|%s", 5, "end") == 1004);
  CHECK(p != mem);
  ok = strlen(p) == 1004 && p[998] == ' ' && p[999] == '5' && strcmp(p + 1000, "|end") == 0;
  test_free(p);
  CHECK(ok);
  /* the va_list form, with several arguments */
  p = mem;
  CHECK(avprintf_wrap(&p, sizeof(mem), "%c%c", 'o', 'k') == 2);
  CHECK(p == mem && strcmp(mem, "ok") == 0);
  CHECK(avprintf_wrap(&p, sizeof(mem), "%s-%d-%s", "ab", 42, "cd") == 8);
  CHECK(p != mem);
  ok = strcmp(p, "ab-42-cd") == 0;
  test_free(p);
  CHECK(ok);
  /* a format error: -1 and *buf unchanged (a lone surrogate has no multibyte form in
   * the C locale nor in a UTF-8 one) */
  static const wchar_t wide[] = {(wchar_t) 0xD800, 0};
  p = mem;
  CHECK(mg_asprintf(&p, sizeof(mem), "%ls", wide) == -1);
  CHECK(p == mem);
  p = NULL;
  CHECK(mg_asprintf(&p, 0, "%ls", wide) == -1);
  CHECK(p == NULL);
}
