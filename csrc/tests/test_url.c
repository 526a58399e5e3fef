/* URL percent-encoding and decoding: exact outputs, error returns, and that mg_url_decode
 * never writes past dst_len. */
#include <stdlib.h>
#include <string.h>

#include "mgio.h"
#include "test.h"

/* Encodes `src` and compares with `expect`; frees the result. */
static int encodes_to(const char *src, const char *safe, unsigned flags, const char *expect) {
  struct mg_str r = mg_url_encode_opt(mg_mk_str(src), mg_mk_str(safe), flags);
  int ok = r.p != NULL && r.len == strlen(expect) && memcmp(r.p, expect, r.len) == 0 &&
           r.p[r.len] == '\0';
  test_free((void *) r.p);
  return ok;
}

TEST(url_encode_default_safe_set) {
  struct mg_str r = mg_url_encode(mg_mk_str("a b/c?d=\xc3\xa9&x._-$,;~()"));
  CHECK(r.p != NULL);
  CHECK(strcmp(r.p, "a%20b/c%3fd%3d%c3%a9%26x._-$,;~()") == 0);
  CHECK(r.len == strlen(r.p));
  mg_strfree(&r);
  CHECK(r.p == NULL);
}

TEST(url_encode_opt_flags) {
  CHECK(encodes_to("a b+c", "", 0, "a%20b%2bc"));
  CHECK(encodes_to("a b+c", "", MG_URL_ENCODE_F_UPPERCASE_HEX, "a%20b%2Bc"));
  CHECK(encodes_to("a b+c", "", MG_URL_ENCODE_F_SPACE_AS_PLUS, "a+b%2bc"));
  CHECK(encodes_to("a b", " ", MG_URL_ENCODE_F_SPACE_AS_PLUS, "a b")); /* safe wins */
  CHECK(encodes_to("\xff\x00", "", MG_URL_ENCODE_F_UPPERCASE_HEX, "%FF"));
  CHECK(encodes_to("AZaz09", "", 0, "AZaz09"));
  CHECK(encodes_to("/%:", "%", 0, "%2f%%3a")); /* any byte can be made safe */
}

TEST(url_encode_every_byte) {
  static const char hex[] = "0123456789ABCDEF";
  char src[256], expect[3 * 256 + 1], *o = expect;
  for (int i = 0; i < 256; i++) {
    src[i] = (char) i;
    if ((i >= '0' && i <= '9') || (i >= 'a' && i <= 'z') || (i >= 'A' && i <= 'Z')) {
      *o++ = (char) i;
    } else {
      *o++ = '%';
      *o++ = hex[i >> 4];
      *o++ = hex[i & 15];
    }
  }
  *o = '\0';
  struct mg_str r = mg_url_encode_opt(mg_mk_str_n(src, 256), mg_mk_str_n(NULL, 0),
                                      MG_URL_ENCODE_F_UPPERCASE_HEX);
  CHECK(r.p != NULL && r.len == strlen(expect) && strcmp(r.p, expect) == 0);
  char back[257];
  CHECK(mg_url_decode(r.p, (int) r.len, back, (int) sizeof(back), 0) == 256);
  CHECK(memcmp(back, src, 256) == 0);
  mg_strfree(&r);
}

/* Documented choice: an empty input gives an allocated "", so NULL always means failure. */
TEST(url_encode_empty_is_allocated_empty_string) {
  struct mg_str r = mg_url_encode(mg_mk_str(""));
  CHECK(r.p != NULL && r.len == 0 && r.p[0] == '\0');
  mg_strfree(&r);
  r = mg_url_encode(mg_mk_str_n(NULL, 0));
  CHECK(r.p != NULL && r.len == 0);
  mg_strfree(&r);
}

/* Decodes `src` into a guarded buffer of dst_len bytes; checks the return value, the
 * output with its NUL, and that nothing past dst_len was touched. */
static int decodes_to(const char *src, int dst_len, int form, int ret, const char *out) {
  char buf[64];
  memset(buf, '#', sizeof(buf));
  if (mg_url_decode(src, (int) strlen(src), buf, dst_len, form) != ret) return 0;
  size_t n = strlen(out);
  if ((int) n >= dst_len || memcmp(buf, out, n + 1) != 0) return 0;
  for (size_t i = (size_t) dst_len; i < sizeof(buf); i++) {
    if (buf[i] != '#') return 0;
  }
  return 1;
}

TEST(url_decode_basic) {
  CHECK(decodes_to("", 1, 0, 0, ""));
  CHECK(decodes_to("abc", 10, 0, 3, "abc"));
  CHECK(decodes_to("%41%6a%4A%7e", 10, 0, 4, "AjJ~"));
  CHECK(decodes_to("a+b%20c", 10, 0, 5, "a+b c"));
  CHECK(decodes_to("a+b%20c", 10, 1, 5, "a b c"));
  CHECK(decodes_to("%2b", 10, 1, 1, "+")); /* an escaped '+' stays a plus */
  CHECK(decodes_to("%c3%A9", 10, 0, 2, "\xc3\xa9"));
}

TEST(url_decode_nul_byte_counts) {
  char buf[8];
  CHECK(mg_url_decode("a%00b", 5, buf, sizeof(buf), 0) == 3);
  CHECK(memcmp(buf, "a\0b\0", 4) == 0);
}

TEST(url_decode_malformed_escapes) {
  CHECK(decodes_to("%", 10, 0, -1, ""));
  CHECK(decodes_to("%2", 10, 0, -1, ""));
  CHECK(decodes_to("%2x", 10, 0, -1, ""));
  CHECK(decodes_to("%x2", 10, 0, -1, ""));
  CHECK(decodes_to("%%41", 10, 0, -1, ""));
  CHECK(decodes_to("% 1", 10, 0, -1, ""));
  CHECK(decodes_to("ab+%41%g0cd", 10, 1, -1, "ab A")); /* the output so far is kept */
  CHECK(decodes_to("abc%4", 10, 0, -1, "abc"));
}

/* "a%41+b" decodes to 4 bytes, so it needs 5 with the NUL. */
TEST(url_decode_dst_size) {
  CHECK(decodes_to("a%41+b", 6, 1, 4, "aA b"));
  CHECK(decodes_to("a%41+b", 5, 1, 4, "aA b"));
  CHECK(decodes_to("a%41+b", 4, 1, -1, "aA "));
  CHECK(decodes_to("a%41+b", 2, 1, -1, "a"));
  CHECK(decodes_to("a%41+b", 1, 1, -1, ""));
  CHECK(decodes_to("", 1, 1, 0, ""));
}

TEST(url_decode_bad_arguments) {
  char buf[4] = "###";
  CHECK(mg_url_decode("abc", 3, buf, 0, 0) == -1); /* no room: nothing written */
  CHECK(mg_url_decode("abc", 3, buf, -5, 0) == -1);
  CHECK(strcmp(buf, "###") == 0);
  CHECK(mg_url_decode("abc", 3, NULL, 4, 0) == -1);
  CHECK(mg_url_decode("abc", -1, buf, 4, 0) == -1 && buf[0] == '\0'); /* dst is "" */
  memcpy(buf, "###", 4);
  CHECK(mg_url_decode(NULL, 3, buf, 4, 0) == -1 && buf[0] == '\0');
  memcpy(buf, "###", 4);
  CHECK(mg_url_decode(NULL, 0, buf, 4, 0) == 0 && buf[0] == '\0');
  CHECK(mg_url_decode("abc", 0, buf, 4, 0) == 0 && buf[0] == '\0');
}

/* src_len bounds the read: bytes after it are never looked at. */
TEST(url_decode_respects_src_len) {
  char buf[8];
  CHECK(mg_url_decode("ab%41", 3, buf, sizeof(buf), 0) == -1);
  CHECK(mg_url_decode("ab%41", 2, buf, sizeof(buf), 0) == 2 && strcmp(buf, "ab") == 0);
}
