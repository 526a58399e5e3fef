/* Basic and Digest authentication: the codecs (proto/auth*.c) and the checks of
 * http/auth.c on parsed requests and htdigest files. The over-loopback tests are in
 * test_auth_conn.c. */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fdopen */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../http/auth.h"
#include "../proto/auth.h"
#include "mgio.h"
#include "nonce_clock.h"
#include "test.h"

/* ---- helpers ------------------------------------------------------------------------- */

/* mg_parse_http_basic_auth on a copy of `value` placed in a heap block of exactly its
 * length (ASan catches any read past it). */
static int basic(const char *value, char *user, size_t ul, char *pass, size_t pl) {
  size_t n = strlen(value);
  char *copy = (char *) test_malloc(n > 0 ? n : 1);
  if (copy == NULL) return -9;
  memcpy(copy, value, n);
  struct mg_str hdr = mg_mk_str_n(copy, n);
  int r = mg_parse_http_basic_auth(&hdr, user, ul, pass, pl);
  test_free(copy);
  return r;
}

/* The Basic value for the raw credentials raw[0 .. n). */
static void basic_value(char *out, const char *raw, size_t n) {
  memcpy(out, "Basic ", 6);
  mg_base64_encode((const unsigned char *) raw, (int) n, out + 6);
}

/* A temporary file holding `text` (n bytes); its name is written to `path`. */
static int temp_file(char path[64], const char *text, size_t n) {
  snprintf(path, 64, "/tmp/mgio_auth_XXXXXX");
  int fd = mkstemp(path);
  if (fd < 0) return 0;
  test_temp(path);
  FILE *f = fdopen(fd, "wb");
  if (f == NULL) {
    test_close(fd);
    return 0;
  }
  int ok = fwrite(text, 1, n, f) == n;
  return fclose(f) == 0 && ok;
}

/* The nonce in a challenge field (64 characters) copied to `out`; 0 when none. */
static int nonce_of(const char *challenge, char out[65]) {
  const char *p = challenge != NULL ? strstr(challenge, "nonce=\"") : NULL;
  if (p == NULL || strlen(p + 7) < 65 || p[7 + 64] != '"') return 0;
  memcpy(out, p + 7, 64);
  out[64] = '\0';
  return 1;
}

/* A fresh server nonce for `realm`. */
static int fresh_nonce(const char *realm, char out[65]) {
  char *ch = mg__auth_challenge(realm, 0);
  int ok = nonce_of(ch, out);
  test_free(ch);
  return ok;
}

/* A Digest field value answering with the given parameters; `extra` (may be "") is
 * appended as more parameters. */
static void digest_value(char *out, size_t cap, const char *user, const char *realm,
                         const char *pass, const char *method, const char *uri,
                         const char *nonce, const char *nc, const char *cnonce,
                         const char *extra) {
  char ha1[33], resp[33];
  mg__digest_ha1(ha1, mg_mk_str(user), mg_mk_str(realm), mg_mk_str(pass));
  mg__digest_response(resp, ha1, mg_mk_str(method), mg_mk_str(uri), mg_mk_str(nonce),
                      mg_mk_str(nc), mg_mk_str(cnonce), mg_mk_str("auth"));
  snprintf(out, cap,
           "Digest username=\"%s\", realm=\"%s\", nonce=\"%s\", uri=\"%s\", qop=auth, "
           "nc=%s, cnonce=\"%s\", response=\"%s\"%s",
           user, realm, nonce, uri, nc, cnonce, resp, extra);
}

/* Parses "<method> <target> HTTP/1.1" with Host and the Authorization `value` (none
 * when NULL) into `hm`, using `buf` for the bytes (field lines up to 64 KiB). */
static int request(char *buf, size_t cap, struct http_message *hm, const char *method,
                   const char *target, const char *value) {
  int n = value != NULL
              ? snprintf(buf, cap, "%s %s HTTP/1.1\r\nHost: h\r\nAuthorization: %s\r\n\r\n",
                         method, target, value)
              : snprintf(buf, cap, "%s %s HTTP/1.1\r\nHost: h\r\n\r\n", method, target);
  if (n < 0 || (size_t) n >= cap) return 0;
  struct mg_http_limits lim = mg_http_default_limits();
  lim.field_line = lim.header_section = 1 << 16;
  return mg_http_parse_head(buf, (size_t) n, hm, 1, &lim, NULL) == n;
}

static char s_htdigest[64];

/* The htdigest file of the tests: user "joe" (password "pw") and Mufasa of RFC 2617 in
 * realm "r", plus lines that must be skipped. */
static int htdigest(void) {
  char ha1_joe[33], text[512];
  mg__digest_ha1(ha1_joe, mg_mk_str("joe"), mg_mk_str("r"), mg_mk_str("pw"));
  int n = snprintf(text, sizeof(text),
                   "# comment\n\nbroken line\nann:other:%s\njoe:r:%s\r\n"
                   "Mufasa:testrealm@host.com:939e7578ed9e3c518a452acee763bce9\n"
                   "colon:a:b:r:%s",
                   ha1_joe, ha1_joe, ha1_joe);
  return temp_file(s_htdigest, text, (size_t) n);
}

/* mg_http_check_digest_auth2 of `hm` against `path` for `realm`; -1 when the file does
 * not open. */
static int check_file(struct http_message *hm, const char *realm, const char *path,
                      int *stale) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL) return -1;
  int r = mg_http_check_digest_auth2(hm, realm, fp, stale);
  fclose(fp);
  return r;
}

/* ---- Basic ------------------------------------------------------------------------- */

TEST(auth_basic_parse_good) {
  char u[64], p[64];
  CHECK(basic("Basic Zm9vOmJhcg==", u, sizeof(u), p, sizeof(p)) == 0);
  CHECK(strcmp(u, "foo") == 0 && strcmp(p, "bar") == 0);
  /* the scheme in any case, several spaces, surrounding whitespace */
  CHECK(basic("bAsIc   Zm9vOmJhcg==", u, sizeof(u), p, sizeof(p)) == 0 && strcmp(u, "foo") == 0);
  CHECK(basic(" BASIC\tZm9vOmJhcg== ", u, sizeof(u), p, sizeof(p)) == 0 && strcmp(p, "bar") == 0);
  /* a password with ':' (split at the first), an empty password */
  char v[128];
  basic_value(v, "foo:bar:baz", 11);
  CHECK(basic(v, u, sizeof(u), p, sizeof(p)) == 0);
  CHECK(strcmp(u, "foo") == 0 && strcmp(p, "bar:baz") == 0);
  basic_value(v, "foo:", 4);
  strcpy(p, "junk");
  CHECK(basic(v, u, sizeof(u), p, sizeof(p)) == 0 && strcmp(u, "foo") == 0 && p[0] == '\0');
  /* every padding form: user lengths 1..6 */
  for (size_t n = 1; n <= 6; n++) {
    char raw[16] = "abcdef";
    raw[n] = ':';
    raw[n + 1] = 'x';
    basic_value(v, raw, n + 2);
    CHECK(basic(v, u, sizeof(u), p, sizeof(p)) == 0 && strlen(u) == n && strcmp(p, "x") == 0);
  }
  /* bytes >= 0x80 (UTF-8) are fine */
  basic_value(v, "j\xc3\xb6rg:p\xc3\xa4ss", 11);
  CHECK(basic(v, u, sizeof(u), p, sizeof(p)) == 0 && strcmp(u, "j\xc3\xb6rg") == 0);
  /* exactly fitting buffers */
  CHECK(basic("Basic Zm9vOmJhcg==", u, 4, p, 4) == 0 && strcmp(u, "foo") == 0);
}

TEST(auth_basic_parse_bad) {
  char u[64], p[64], v[256];
  static const char *const bad[] = {
      "Basic Zm9vOmJhcg=",     /* length not a multiple of 4 */
      "Basic Zm9vOmJhcg",      /* padding missing */
      "Basic Zm9v!mJhcg==",    /* outside the alphabet */
      "Basic Zm9vOmJh cg==",   /* inner space */
      "Basic Zm9vOmJhcg==x",   /* after the padding */
      "Basic Zm9vOmJhcg==Zm9v",
      "Basic Zm=vOmJhcg==",    /* '=' inside */
      "Basic Zm9vOmJhch==",    /* non-zero pad bits */
      "Basic Zm9vOmJhcmE=x===",
      "Basic Zm9vOmJhcmF=",    /* non-zero pad bits (one '=') */
      "Basic ====",
      "Basic ",                /* no credentials */
      "Basic",
      "Basicx Zm9vOmJhcg==",   /* another scheme */
      "Bearer Zm9vOmJhcg==",
      "Digest Zm9vOmJhcg==",
      "Zm9vOmJhcg==",
      "",
      "Basic Zm9v",            /* "foo": no colon */
      "Basic OmJhcg==",        /* ":bar": empty user */
      "Basic Og==",            /* ":" */
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    strcpy(u, "junk");
    strcpy(p, "junk");
    CHECK(basic(bad[i], u, sizeof(u), p, sizeof(p)) == -1);
    CHECK(u[0] == '\0' && p[0] == '\0'); /* always written */
  }
  /* control bytes in either part (RFC 7617 2) */
  static const char *const ctl[] = {"fo\no:bar", "foo:b\r\nX: y", "fo\0o:bar", "foo:ba\x7fr",
                                    "foo:\tbar"};
  static const size_t ctl_len[] = {8, 11, 8, 8, 8};
  for (size_t i = 0; i < sizeof(ctl) / sizeof(ctl[0]); i++) {
    basic_value(v, ctl[i], ctl_len[i]);
    CHECK(basic(v, u, sizeof(u), p, sizeof(p)) == -1 && u[0] == '\0' && p[0] == '\0');
  }
  /* too long for a buffer: refused, never truncated ("administrator" is not "admin") */
  basic_value(v, "administrator:pw", 16);
  CHECK(basic(v, u, 6, p, sizeof(p)) == -1 && u[0] == '\0' && p[0] == '\0');
  CHECK(basic(v, u, 13, p, sizeof(p)) == -1);
  CHECK(basic(v, u, 14, p, sizeof(p)) == 0 && strcmp(u, "administrator") == 0);
  CHECK(basic(v, u, sizeof(u), p, 2) == -1 && p[0] == '\0');
  /* NULL and empty buffers */
  struct mg_str h = mg_mk_str("Basic Zm9vOmJhcg==");
  CHECK(mg_parse_http_basic_auth(&h, NULL, 0, p, sizeof(p)) == -1 && p[0] == '\0');
  CHECK(mg_parse_http_basic_auth(&h, u, sizeof(u), NULL, 0) == -1 && u[0] == '\0');
  CHECK(mg_parse_http_basic_auth(&h, u, 0, p, sizeof(p)) == -1);
  CHECK(mg_parse_http_basic_auth(NULL, u, sizeof(u), p, sizeof(p)) == -1 && u[0] == '\0');
  struct mg_str null_str = {NULL, 5};
  CHECK(mg_parse_http_basic_auth(&null_str, u, sizeof(u), p, sizeof(p)) == -1);
}

TEST(auth_basic_parse_long_inputs) {
  size_t n = 6000;
  char *raw = (char *) test_malloc(n), *v = (char *) test_malloc(6 + (n + 2) / 3 * 4 + 1);
  char *u = (char *) test_malloc(n), *p = (char *) test_malloc(n);
  CHECK(raw != NULL && v != NULL && u != NULL && p != NULL);
  memset(raw, 'u', n);
  raw[3000] = ':';
  basic_value(v, raw, n);
  CHECK(basic(v, u, n, p, n) == 0 && strlen(u) == 3000 && strlen(p) == n - 3001);
  CHECK(basic(v, u, 3000, p, n) == -1 && u[0] == '\0'); /* one byte short */
  CHECK(basic(v, u, 64, p, 64) == -1);
  /* a long value with an early error, and one that is all padding */
  v[100] = '*';
  CHECK(basic(v, u, n, p, n) == -1);
  memset(v + 6, '=', 4000);
  v[4006] = '\0';
  CHECK(basic(v, u, n, p, n) == -1);
  /* every length of a truncated valid value: no over-read, never accepted wrongly */
  char w[64];
  basic_value(w, "user:secret", 11);
  for (size_t len = 0; len < strlen(w); len++) {
    char cut[64];
    memcpy(cut, w, len);
    cut[len] = '\0';
    int r = basic(cut, u, 64, p, 64);
    CHECK(r == -1 || (strcmp(u, "user") == 0 && strncmp("secret", p, strlen(p)) == 0));
  }
  test_free(raw);
  test_free(v);
  test_free(u);
  test_free(p);
}

TEST(auth_basic_from_request) {
  char buf[256], u[32], p[32];
  struct http_message hm;
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/", "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="));
  CHECK(mg_get_http_basic_auth(&hm, u, sizeof(u), p, sizeof(p)) == 0);
  CHECK(strcmp(u, "Aladdin") == 0 && strcmp(p, "open sesame") == 0);
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/", NULL));
  strcpy(u, "x");
  strcpy(p, "x");
  CHECK(mg_get_http_basic_auth(&hm, u, sizeof(u), p, sizeof(p)) == -1 && !u[0] && !p[0]);
  CHECK(mg_get_http_basic_auth(NULL, u, sizeof(u), p, sizeof(p)) == -1);
}

TEST(auth_basic_header) {
  TEST_MBUF(mb);
  mbuf_init(&mb, 0);
  mg_basic_auth_header(mg_mk_str("foo"), mg_mk_str("bar"), &mb);
  CHECK(mb.len == 35 && memcmp(mb.buf, "Authorization: Basic Zm9vOmJhcg==\r\n", 35) == 0);
  /* appends; an empty password encodes the user alone (it may be "user:pass") */
  mg_basic_auth_header(mg_mk_str("foo:bar"), mg_mk_str(""), &mb);
  CHECK(mb.len == 70 && memcmp(mb.buf + 35, mb.buf, 35) == 0);
  /* every padding length, against mg_base64_encode */
  for (size_t ul = 0; ul <= 5; ul++) {
    for (size_t pl = 1; pl <= 4; pl++) {
      char raw[16], enc[32], want[64];
      memcpy(raw, "abcde", ul);
      raw[ul] = ':';
      memcpy(raw + ul + 1, "wxyz", pl);
      mg_base64_encode((const unsigned char *) raw, (int) (ul + 1 + pl), enc);
      int n = snprintf(want, sizeof(want), "Authorization: Basic %s\r\n", enc);
      mbuf_clear(&mb);
      mg_basic_auth_header(mg_mk_str_n("abcde", ul), mg_mk_str_n("wxyz", pl), &mb);
      CHECK(mb.len == (size_t) n && memcmp(mb.buf, want, mb.len) == 0);
    }
  }
  /* round trip through the parser */
  char u[16], p[16];
  struct mg_str hdr = mg_mk_str_n(mb.buf + 15, mb.len - 17);
  CHECK(mg_parse_http_basic_auth(&hdr, u, sizeof(u), p, sizeof(p)) == 0);
  CHECK(strcmp(u, "abcde") == 0 && strcmp(p, "wxyz") == 0);
  /* invalid views append nothing */
  size_t before = mb.len;
  struct mg_str bad = {NULL, 3};
  mg_basic_auth_header(bad, mg_mk_str("x"), &mb);
  mg_basic_auth_header(mg_mk_str("x"), bad, &mb);
  CHECK(mb.len == before);
  mg_basic_auth_header(mg_mk_str("x"), mg_mk_str("y"), NULL);
  /* an allocation failure leaves the mbuf unchanged */
  mbuf_trim(&mb);
  before = mb.len;
  mgio_test_alloc_fail_from(1);
  mg_basic_auth_header(mg_mk_str("foo"), mg_mk_str("bar"), &mb);
  mgio_test_alloc_fail_from(0);
  CHECK(mb.len == before);
  mbuf_free(&mb);
}

/* ---- Digest codec ------------------------------------------------------------------ */

TEST(auth_digest_rfc_vectors) {
  char ha1[33], resp[33];
  /* RFC 2617 3.5 */
  mg__digest_ha1(ha1, mg_mk_str("Mufasa"), mg_mk_str("testrealm@host.com"),
                 mg_mk_str("Circle Of Life"));
  CHECK(strcmp(ha1, "939e7578ed9e3c518a452acee763bce9") == 0);
  mg__digest_response(resp, ha1, mg_mk_str("GET"), mg_mk_str("/dir/index.html"),
                      mg_mk_str("dcd98b7102dd2f0e8b11d0f600bfb0c093"), mg_mk_str("00000001"),
                      mg_mk_str("0a4f113b"), mg_mk_str("auth"));
  CHECK(strcmp(resp, "6629fae49393a05397450978507c4ef1") == 0);
  /* an upper-case HA1 (as some files hold) gives the same response */
  mg__digest_response(resp, "939E7578ED9E3C518A452ACEE763BCE9", mg_mk_str("GET"),
                      mg_mk_str("/dir/index.html"),
                      mg_mk_str("dcd98b7102dd2f0e8b11d0f600bfb0c093"), mg_mk_str("00000001"),
                      mg_mk_str("0a4f113b"), mg_mk_str("auth"));
  CHECK(strcmp(resp, "6629fae49393a05397450978507c4ef1") == 0);
  /* RFC 7616 3.9.1 (MD5) */
  mg__digest_ha1(ha1, mg_mk_str("Mufasa"), mg_mk_str("http-auth@example.org"),
                 mg_mk_str("Circle of Life"));
  mg__digest_response(resp, ha1, mg_mk_str("GET"), mg_mk_str("/dir/index.html"),
                      mg_mk_str("7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v"),
                      mg_mk_str("00000001"),
                      mg_mk_str("f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ"),
                      mg_mk_str("auth"));
  CHECK(strcmp(resp, "8ca523f5e9506fed4657c9700eebdbec") == 0);
}

TEST(auth_digest_parse_fields) {
  struct mg__digest_params p;
  char store[1024];
  /* curl's form */
  const char *curl =
      "Digest username=\"joe\", realm=\"r\", nonce=\"abc\", uri=\"/x?y=1\", "
      "cnonce=\"NzA4\", nc=00000001, qop=auth, response=\"0123\", algorithm=MD5";
  CHECK(mg__digest_parse(mg_mk_str(curl), &p, store, sizeof(store)) == 0);
  CHECK(mg_vcmp(&p.username, "joe") == 0 && mg_vcmp(&p.realm, "r") == 0);
  CHECK(mg_vcmp(&p.nonce, "abc") == 0 && mg_vcmp(&p.uri, "/x?y=1") == 0);
  CHECK(mg_vcmp(&p.cnonce, "NzA4") == 0 && mg_vcmp(&p.nc, "00000001") == 0);
  CHECK(mg_vcmp(&p.qop, "auth") == 0 && mg_vcmp(&p.response, "0123") == 0);
  CHECK(mg_vcmp(&p.algorithm, "MD5") == 0 && p.opaque.p == NULL);
  /* requests' form: quoted qop and algorithm, opaque; odd spacing and empty elements */
  const char *req =
      "digest  username = \"a\\\"b\\\\c\" ,, REALM=\"r, x=1\",nonce=\"n\",uri=\"/\","
      "response=\"f\",opaque=\"o\",algorithm=\"MD5\",qop=\"auth\",nc=00000002,"
      "cnonce=\"c\", future=\"x\\\"y\", other=tok ,";
  CHECK(mg__digest_parse(mg_mk_str(req), &p, store, sizeof(store)) == 0);
  CHECK(mg_vcmp(&p.username, "a\"b\\c") == 0 && mg_vcmp(&p.realm, "r, x=1") == 0);
  CHECK(mg_vcmp(&p.opaque, "o") == 0 && mg_vcmp(&p.qop, "auth") == 0);
  /* an empty quoted value is present and empty */
  CHECK(mg__digest_parse(mg_mk_str("Digest username=\"\""), &p, store, sizeof(store)) == 0);
  CHECK(p.username.p != NULL && p.username.len == 0 && p.realm.p == NULL);
  CHECK(mg__digest_parse(mg_mk_str("Digest x"), &p, store, sizeof(store)) == -1);
  static const char *const bad[] = {
      "Digestusername=\"a\"",       "Basic username=\"a\"",
      "Digest",                     "Digest username",
      "Digest username=",           "Digest username=\"a",
      "Digest username=\"a\\",      "Digest username=a b",
      "Digest username=\"a\" b",    "Digest =a",
      "Digest username=\"a\nb\"",   "Digest username=\"a\x01\"",
      "Digest username=\"a\", username=\"b\"", /* repeated */
      "Digest nc=1, NC=2",          "Digest username=@",
      "Digest username=\"a\";realm=\"b\"",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    CHECK(mg__digest_parse(mg_mk_str(bad[i]), &p, store, sizeof(store)) == -1);
  }
  /* bounds: 256 bytes of user pass, 257 do not; unknown parameters are not bounded */
  char big[20000];
  memset(big, 0, sizeof(big));
  strcpy(big, "Digest username=\"");
  memset(big + 17, 'u', 256);
  strcat(big, "\"");
  CHECK(mg__digest_parse(mg_mk_str(big), &p, store, sizeof(store)) == 0 && p.username.len == 256);
  big[17 + 256] = 'u';
  big[17 + 257] = '"';
  CHECK(mg__digest_parse(mg_mk_str(big), &p, store, sizeof(store)) == -1);
  strcpy(big, "Digest x-long=\"");
  memset(big + 15, 'x', 10000);
  strcpy(big + 15 + 10000, "\", nc=00000001");
  CHECK(mg__digest_parse(mg_mk_str(big), &p, store, sizeof(store)) == 0 && p.nc.len == 8);
  /* a store too small fails cleanly */
  CHECK(mg__digest_parse(mg_mk_str(curl), &p, store, 10) == -1);
  /* every prefix of a valid value: no over-read (heap copies of exact length) */
  size_t n = strlen(curl);
  for (size_t len = 0; len <= n; len++) {
    char *copy = (char *) test_malloc(len > 0 ? len : 1);
    CHECK(copy != NULL);
    memcpy(copy, curl, len);
    int r = mg__digest_parse(mg_mk_str_n(copy, len), &p, store, sizeof(store));
    test_free(copy);
    CHECK(r == 0 || r == -1);
  }
}

TEST(auth_digest_helpers) {
  CHECK(mg__digest_is_hex(mg_mk_str("00000001"), 8));
  CHECK(mg__digest_is_hex(mg_mk_str("DeadBeef"), 8));
  CHECK(!mg__digest_is_hex(mg_mk_str("0000001"), 8));
  CHECK(!mg__digest_is_hex(mg_mk_str("000000001"), 8));
  CHECK(!mg__digest_is_hex(mg_mk_str("0000000g"), 8));
  CHECK(!mg__digest_is_hex(mg_mk_str_n(NULL, 0), 0));
  CHECK(mg__ct_equal_nocase("abcDEF12", "ABCdef12", 8));
  CHECK(!mg__ct_equal_nocase("abcdef12", "abcdef13", 8));
  CHECK(!mg__ct_equal_nocase("@", "`", 1)); /* only letters fold */
  CHECK(!mg__ct_equal_nocase("[", "{", 1));
  struct mg_str u, r, h;
  CHECK(mg__htdigest_line(mg_mk_str("joe:r:0123456789abcdef0123456789ABCDEF"), &u, &r, &h) == 0);
  CHECK(mg_vcmp(&u, "joe") == 0 && mg_vcmp(&r, "r") == 0 && h.len == 32);
  CHECK(mg__htdigest_line(mg_mk_str("joe:a:b:0123456789abcdef0123456789abcdef\r"), &u, &r,
                          &h) == 0);
  CHECK(mg_vcmp(&r, "a:b") == 0 && h.len == 32);
  CHECK(mg__htdigest_line(mg_mk_str("joe::0123456789abcdef0123456789abcdef"), &u, &r, &h) == 0);
  CHECK(r.len == 0);
  static const char *const bad[] = {"", "joe", "joe:r", ":r:0123456789abcdef0123456789abcdef",
                                    "joe:0123456789abcdef0123456789abcdef",
                                    "joe:r:0123456789abcdef0123456789abcde",
                                    "joe:r:0123456789abcdef0123456789abcdefa",
                                    "joe:r:0123456789abcdef0123456789abcdeg"};
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    CHECK(mg__htdigest_line(mg_mk_str(bad[i]), &u, &r, &h) == -1);
  }
}

TEST(auth_nonce_codec) {
  unsigned char key[MG__NONCE_KEY_LEN], other[MG__NONCE_KEY_LEN];
  char n[MG__NONCE_LEN + 1];
  uint64_t serial = 0;
  for (size_t i = 0; i < sizeof(key); i++) {
    key[i] = (unsigned char) i;
    other[i] = (unsigned char) (i + 1);
  }
  struct mg_str realm = mg_mk_str("r");
  mg__nonce_make(n, key, 1000, 77, realm);
  CHECK(strlen(n) == 64 && strncmp(n, "00000000000003e8000000000000004d", 32) == 0);
  CHECK(mg__nonce_check(mg_mk_str(n), key, realm, 1000, 300, &serial) == MG__NONCE_OK);
  CHECK(serial == 77);
  CHECK(mg__nonce_check(mg_mk_str(n), key, realm, 1300, 300, &serial) == MG__NONCE_OK);
  CHECK(mg__nonce_check(mg_mk_str(n), key, realm, 1301, 300, &serial) == MG__NONCE_STALE);
  CHECK(mg__nonce_check(mg_mk_str(n), key, realm, 1001, 300, &serial) == MG__NONCE_OK);
  CHECK(mg__nonce_check(mg_mk_str(n), key, realm, 998, 300, &serial) == MG__NONCE_STALE);
  /* forged: another key, another realm, any changed character (also the time digits) */
  CHECK(mg__nonce_check(mg_mk_str(n), other, realm, 1000, 300, &serial) == MG__NONCE_BAD);
  CHECK(mg__nonce_check(mg_mk_str(n), key, mg_mk_str("r2"), 1000, 300, &serial) ==
        MG__NONCE_BAD);
  for (size_t i = 0; i < 64; i++) {
    for (int bit = 0; bit < 4; bit++) {
      char f[65];
      memcpy(f, n, sizeof(f));
      f[i] = (char) (f[i] ^ (1 << bit));
      CHECK(mg__nonce_check(mg_mk_str(f), key, realm, 1000, 300, &serial) == MG__NONCE_BAD);
    }
    char f[65];
    memcpy(f, n, sizeof(f));
    if (f[i] >= 'a' && f[i] <= 'f') {
      f[i] = (char) (f[i] - 32); /* upper case is another string */
      CHECK(mg__nonce_check(mg_mk_str(f), key, realm, 1000, 300, &serial) == MG__NONCE_BAD);
    }
  }
  /* lengths */
  CHECK(mg__nonce_check(mg_mk_str_n(n, 63), key, realm, 1000, 300, &serial) == MG__NONCE_BAD);
  char longer[70];
  snprintf(longer, sizeof(longer), "%s0", n);
  CHECK(mg__nonce_check(mg_mk_str(longer), key, realm, 1000, 300, &serial) == MG__NONCE_BAD);
  CHECK(mg__nonce_check(mg_mk_str(""), key, realm, 1000, 300, &serial) == MG__NONCE_BAD);
  /* the time stamp of a huge realm is bound too */
  char big[1000];
  memset(big, 'R', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  mg__nonce_make(n, key, 5, 6, mg_mk_str(big));
  CHECK(mg__nonce_check(mg_mk_str(n), key, mg_mk_str(big), 5, 300, &serial) == MG__NONCE_OK);
  big[500] = 'S';
  CHECK(mg__nonce_check(mg_mk_str(n), key, mg_mk_str(big), 5, 300, &serial) == MG__NONCE_BAD);
}

TEST(auth_nonce_table) {
  static struct mg__nonce_table t;
  memset(&t, 0, sizeof(t));
  CHECK(mg__nonce_table_use(&t, 1, 1) == MG__NC_OK);
  CHECK(mg__nonce_table_use(&t, 1, 1) == MG__NC_REPLAY);
  CHECK(mg__nonce_table_use(&t, 1, 3) == MG__NC_OK);
  CHECK(mg__nonce_table_use(&t, 1, 2) == MG__NC_REPLAY); /* out of order */
  CHECK(mg__nonce_table_use(&t, 2, 1) == MG__NC_OK);      /* per nonce */
  CHECK(mg__nonce_table_use(&t, 3, 0) == MG__NC_REPLAY);  /* nc 0 never */
  CHECK(mg__nonce_table_use(&t, 1, 0xffffffffu) == MG__NC_OK);
  CHECK(mg__nonce_table_use(&t, 1, 0xffffffffu) == MG__NC_REPLAY);
  /* fill it: the oldest nonces are forgotten, and refused from then on */
  for (uint64_t s = 10; s < 10 + MG__NONCE_TABLE_SIZE; s++) {
    CHECK(mg__nonce_table_use(&t, s, 1) == MG__NC_OK);
  }
  CHECK(t.used == MG__NONCE_TABLE_SIZE);
  CHECK(mg__nonce_table_use(&t, 1, 0xffffffffu) == MG__NC_FORGOTTEN);
  CHECK(mg__nonce_table_use(&t, 2, 5) == MG__NC_FORGOTTEN);
  CHECK(mg__nonce_table_use(&t, 9, 1) == MG__NC_FORGOTTEN);
  CHECK(mg__nonce_table_use(&t, 10 + MG__NONCE_TABLE_SIZE - 1, 1) == MG__NC_REPLAY);
  CHECK(mg__nonce_table_use(&t, 10 + MG__NONCE_TABLE_SIZE - 1, 2) == MG__NC_OK);
  CHECK(t.used == MG__NONCE_TABLE_SIZE);
}

/* ---- Digest checks ----------------------------------------------------------------- */

TEST(auth_check_digest_file) {
  CHECK(htdigest());
  struct mg_str m = mg_mk_str("GET"), uri = mg_mk_str("/dir/index.html"),
                user = mg_mk_str("Mufasa"), cn = mg_mk_str("0a4f113b"), qop = mg_mk_str("auth"),
                nc = mg_mk_str("00000001"), nonce = mg_mk_str("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
                realm = mg_mk_str("testrealm@host.com");
  struct {
    const char *response;
    int want;
  } cases[] = {
      {"6629fae49393a05397450978507c4ef1", 1},
      {"6629FAE49393A05397450978507C4EF1", 1},
      {"6629fae49393a05397450978507c4ef0", 0},
      {"6629fae49393a05397450978507c4ef", 0},  /* truncated */
      {"6", 0},                                /* Mongoose 6's bypass: one digit */
      {"", 0},
      {"6629fae49393a05397450978507c4ef1a", 0},
      {"6629fae49393a05397450978507c4efg", 0},
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    FILE *fp = fopen(s_htdigest, "rb");
    CHECK(fp != NULL);
    int r = mg_check_digest_auth(m, uri, user, cn, mg_mk_str(cases[i].response), qop, nc, nonce,
                                 realm, fp);
    fclose(fp);
    CHECK(r == cases[i].want);
  }
  /* wrong realm, unknown user, other qop or nc forms, a NULL file */
  const char *good = "6629fae49393a05397450978507c4ef1";
  FILE *fp = fopen(s_htdigest, "rb");
  CHECK(fp != NULL);
  CHECK(!mg_check_digest_auth(m, uri, user, cn, mg_mk_str(good), qop, nc, nonce, mg_mk_str("r"),
                              fp));
  rewind(fp);
  CHECK(!mg_check_digest_auth(m, uri, mg_mk_str("mufasa"), cn, mg_mk_str(good), qop, nc, nonce,
                              realm, fp));
  rewind(fp);
  CHECK(!mg_check_digest_auth(m, uri, user, cn, mg_mk_str(good), mg_mk_str("auth-int"), nc, nonce,
                              realm, fp));
  rewind(fp);
  CHECK(!mg_check_digest_auth(m, uri, user, cn, mg_mk_str(good), qop, mg_mk_str("1"), nonce, realm,
                              fp));
  rewind(fp);
  CHECK(mg_check_digest_auth(m, uri, user, cn, mg_mk_str(good), mg_mk_str("AUTH"), nc, nonce, realm,
                             fp) == 0); /* the digest covers qop as sent: "AUTH" differs */
  rewind(fp);
  CHECK(mg_check_digest_auth(m, uri, user, cn, mg_mk_str(good), qop, nc, nonce, realm, fp) == 1);
  fclose(fp);
  CHECK(!mg_check_digest_auth(m, uri, user, cn, mg_mk_str(good), qop, nc, nonce, realm, NULL));
  unlink(s_htdigest);
}

/* Appends `n` bytes of `c` then `line` and a LF to text at *len. */
static void add_line(char *text, size_t *len, char c, size_t n, const char *line) {
  memset(text + *len, c, n);
  *len += n;
  *len += (size_t) sprintf(text + *len, "%s\n", line);
}

TEST(auth_check_digest_file_garbage) {
  /* long lines (around and far over any buffer size) that end with the right entry must
   * not match; NUL bytes, CRLF, a final line without LF are read safely */
  static char text[80000];
  static const size_t junk[] = {1, 127, 128, 511, 512, 599, 600, 1023, 1024, 4095, 4096, 8191};
  const char *ok_line = "Mufasa:testrealm@host.com:939e7578ed9e3c518a452acee763bce9";
  size_t n = 0;
  for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
    add_line(text, &n, 'x', junk[i], ok_line);
    add_line(text, &n, ':', junk[i], ok_line);
  }
  static const char with_nul[] = "Muf\0asa:testrealm@host.com:939e7578ed9e3c518a452acee763bce9\n";
  memcpy(text + n, with_nul, sizeof(with_nul) - 1);
  n += sizeof(with_nul) - 1;
  add_line(text, &n, '\0', 700, ok_line);
  struct mg_str m = mg_mk_str("GET"), uri = mg_mk_str("/dir/index.html"),
                cn = mg_mk_str("0a4f113b"), qop = mg_mk_str("auth"), nc = mg_mk_str("00000001"),
                nonce = mg_mk_str("dcd98b7102dd2f0e8b11d0f600bfb0c093"),
                realm = mg_mk_str("testrealm@host.com"),
                good = mg_mk_str("6629fae49393a05397450978507c4ef1"), user = mg_mk_str("Mufasa");
  for (int variant = 0; variant < 3; variant++) {
    size_t len = n;
    char path[64];
    if (variant == 1) len += (size_t) sprintf(text + len, "%s\r\n", ok_line); /* CRLF */
    if (variant == 2) {
      len += (size_t) sprintf(text + len, "%s", ok_line); /* the last line, without LF */
    } else {
      memset(text + len, 'z', 20000); /* an unterminated long last line */
      len += 20000;
    }
    CHECK(temp_file(path, text, len));
    FILE *fp = fopen(path, "rb");
    CHECK(fp != NULL);
    int r = mg_check_digest_auth(m, uri, user, cn, good, qop, nc, nonce, realm, fp);
    fclose(fp);
    unlink(path);
    CHECK(r == (variant == 0 ? 0 : 1));
  }
  /* an empty file, and a folder (reads fail) */
  char path[64];
  CHECK(temp_file(path, "", 0));
  FILE *fp = fopen(path, "rb");
  CHECK(fp != NULL);
  CHECK(mg_check_digest_auth(m, uri, user, cn, good, qop, nc, nonce, realm, fp) == 0);
  fclose(fp);
  unlink(path);
  fp = fopen("/tmp", "rb");
  if (fp != NULL) {
    CHECK(mg_check_digest_auth(m, uri, user, cn, good, qop, nc, nonce, realm, fp) == 0);
    fclose(fp);
  }
}

TEST(auth_digest_round_trip) {
  char nonce[65], hdr[1024], buf[2048];
  struct http_message hm;
  int stale = -1;
  mg__auth_set_clock(NULL);
  CHECK(htdigest());
  CHECK(fresh_nonce("r", nonce));
  /* the client's header, as mgio writes it, is accepted once */
  int n = mg_http_create_digest_auth_header(hdr, sizeof(hdr), "GET", "/a/b?x=1&y", "r", "joe",
                                            "pw", nonce);
  CHECK(n > 0 && (size_t) n == strlen(hdr));
  static const char head[] = "Authorization: Digest username=\"joe\", realm=\"r\", nonce=\"";
  CHECK(strncmp(hdr, head, sizeof(head) - 1) == 0);
  CHECK(strncmp(hdr + sizeof(head) - 1, nonce, 64) == 0);
  CHECK(strstr(hdr, ", uri=\"/a/b?x=1&y\", qop=auth, nc=00000001, cnonce=\"") != NULL);
  CHECK(strstr(hdr, "\", algorithm=MD5\r\n") != NULL);
  char value[1024];
  snprintf(value, sizeof(value), "%.*s", (int) (strlen(hdr) - 17), hdr + 15);
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/a/b?x=1&y", value));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 1 && stale == 0);
  CHECK(mg_http_check_digest_auth(&hm, "r", NULL) == 0);
  /* the same again: nc replayed (right credentials, so stale) */
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 1);
  /* a higher nc with the same nonce passes, a lower one does not */
  digest_value(value, sizeof(value), "joe", "r", "pw", "GET", "/a/b?x=1&y", nonce, "00000003",
               "c1", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/a/b?x=1&y", value));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 1);
  digest_value(value, sizeof(value), "joe", "r", "pw", "GET", "/a/b?x=1&y", nonce, "00000002",
               "c1", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/a/b?x=1&y", value));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 1);
  /* two cnonces, two nonces: independent */
  char nonce2[65];
  CHECK(fresh_nonce("r", nonce2) && strcmp(nonce, nonce2) != 0);
  digest_value(value, sizeof(value), "joe", "r", "pw", "GET", "/", nonce2, "00000001", "c2", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/", value));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 1);
  /* a target with an empty query keeps its '?' */
  digest_value(value, sizeof(value), "joe", "r", "pw", "GET", "/e?", nonce2, "00000002", "c2", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/e?", value));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 1);
  /* the plain API and the quoted/extra forms of requests */
  CHECK(fresh_nonce("r", nonce2));
  digest_value(value, sizeof(value), "joe", "r", "pw", "POST", "/p", nonce2, "00000001", "c3",
               ", algorithm=\"MD5\", opaque=\"x\", qop=\"auth\"");
  /* qop repeated: refused (ambiguous) */
  CHECK(request(buf, sizeof(buf), &hm, "POST", "/p", value));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 0);
  digest_value(value, sizeof(value), "joe", "r", "pw", "POST", "/p", nonce2, "00000001", "c3",
               ", algorithm=\"md5\", opaque=\"x\", userhash=false");
  CHECK(request(buf, sizeof(buf), &hm, "POST", "/p", value));
  FILE *fp = fopen(s_htdigest, "rb");
  CHECK(fp != NULL);
  CHECK(mg_http_check_digest_auth(&hm, "r", fp) == 1);
  fclose(fp);
  unlink(s_htdigest);
}

TEST(auth_digest_client_header) {
  char buf[512];
  /* quotes and backslashes are escaped, and the digest is over the raw values */
  int n = mg_http_create_digest_auth_header(buf, sizeof(buf), "GET", "/", "r\"x", "a\\b", "p",
                                            "n");
  CHECK(n > 0 && strstr(buf, "username=\"a\\\\b\", realm=\"r\\\"x\"") != NULL);
  struct mg__digest_params p;
  char store[512];
  struct mg_str v = mg_mk_str_n(buf + 15, (size_t) n - 17);
  CHECK(mg__digest_parse(v, &p, store, sizeof(store)) == 0);
  CHECK(mg_vcmp(&p.username, "a\\b") == 0 && mg_vcmp(&p.realm, "r\"x") == 0);
  char ha1[33], want[33];
  mg__digest_ha1(ha1, mg_mk_str("a\\b"), mg_mk_str("r\"x"), mg_mk_str("p"));
  mg__digest_response(want, ha1, mg_mk_str("GET"), mg_mk_str("/"), p.nonce, p.nc, p.cnonce, p.qop);
  CHECK(mg_vcmp(&p.response, want) == 0);
  CHECK(p.cnonce.len == 32 && mg__digest_is_hex(p.cnonce, 32));
  /* a fresh cnonce each time */
  char buf2[512];
  CHECK(mg_http_create_digest_auth_header(buf2, sizeof(buf2), "GET", "/", "r\"x", "a\\b", "p",
                                          "n") == n);
  CHECK(strcmp(buf, buf2) != 0);
  /* too small: "" and the length it needs; exactly fitting works */
  char small[16] = "junk";
  CHECK(mg_http_create_digest_auth_header(small, sizeof(small), "GET", "/", "r", "u", "p", "n") >
            (int) sizeof(small) &&
        small[0] == '\0');
  n = mg_http_create_digest_auth_header(buf, sizeof(buf), "GET", "/", "r", "u", "p", "n");
  CHECK(mg_http_create_digest_auth_header(buf, (size_t) n, "GET", "/", "r", "u", "p", "n") == n &&
        buf[0] == '\0');
  CHECK(mg_http_create_digest_auth_header(buf, (size_t) n + 1, "GET", "/", "r", "u", "p", "n") ==
            n &&
        (int) strlen(buf) == n);
  /* no header injection, no NULLs */
  CHECK(mg_http_create_digest_auth_header(buf, sizeof(buf), "GET", "/\r\nX: y", "r", "u", "p",
                                          "n") == -1 &&
        buf[0] == '\0');
  CHECK(mg_http_create_digest_auth_header(buf, sizeof(buf), "GET", "/", "r", "u\n", "p", "n") ==
        -1);
  CHECK(mg_http_create_digest_auth_header(buf, sizeof(buf), "GET", "/", "r", "u", "p", "n\"\r") ==
        -1);
  CHECK(mg_http_create_digest_auth_header(buf, sizeof(buf), "G T", "/", "r", "u", "p", "n") == -1);
  CHECK(mg_http_create_digest_auth_header(buf, sizeof(buf), "", "/", "r", "u", "p", "n") == -1);
  CHECK(mg_http_create_digest_auth_header(buf, sizeof(buf), "GET", "/", "r", "u", "p", NULL) == -1);
  CHECK(mg_http_create_digest_auth_header(buf, sizeof(buf), NULL, "/", "r", "u", "p", "n") == -1);
  CHECK(mg_http_create_digest_auth_header(NULL, 0, "GET", "/", "r", "u", "p", "n") == -1);
}

/* Each hostile Authorization value is refused, and never as stale. */
TEST(auth_digest_hostile) {
  char nonce[65], value[40000], buf[41000];
  struct http_message hm;
  int stale;
  mg__auth_set_clock(NULL);
  CHECK(htdigest());
  CHECK(fresh_nonce("r", nonce));
  const char *uri = "/a?q=1";
  const char *resp_field = NULL;
  char good[1024];
  digest_value(good, sizeof(good), "joe", "r", "pw", "GET", uri, nonce, "00000001", "cn", "");
  resp_field = strstr(good, "response=\"");
  CHECK(resp_field != NULL);
  char resp[33];
  memcpy(resp, resp_field + 10, 32);
  resp[32] = '\0';
  char fmt_nonce[100];
  snprintf(fmt_nonce, sizeof(fmt_nonce), "nonce=\"%s\"", nonce);
  /* missing fields, one at a time */
  static const char *const fields[] = {"username", "realm", "nonce", "uri", "qop",
                                       "nc",       "cnonce", "response"};
  for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
    char v[1024] = "Digest ";
    const char *all[] = {"username=\"joe\"", "realm=\"r\"", fmt_nonce, "uri=\"/a?q=1\"",
                         "qop=auth", "nc=00000001", "cnonce=\"cn\"", NULL};
    char rf[64];
    snprintf(rf, sizeof(rf), "response=\"%s\"", resp);
    all[7] = rf;
    for (size_t j = 0; j < 8; j++) {
      if (j == i) continue;
      strcat(v, all[j]);
      strcat(v, ", ");
    }
    CHECK(request(buf, sizeof(buf), &hm, "GET", uri, v));
    CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 0);
  }
  /* variations of a valid answer */
  struct {
    const char *user, *realm, *pass, *method, *uri, *nc, *cnonce, *extra, *target;
  } cases[] = {
      {"joe", "r", "wrong", "GET", "/a?q=1", "00000001", "cn", "", "/a?q=1"},  /* password */
      {"bob", "r", "pw", "GET", "/a?q=1", "00000001", "cn", "", "/a?q=1"},     /* unknown user */
      {"ann", "other", "pw", "GET", "/a?q=1", "00000001", "cn", "", "/a?q=1"}, /* realm */
      {"joe", "R", "pw", "GET", "/a?q=1", "00000001", "cn", "", "/a?q=1"},     /* realm case */
      {"joe", "r", "pw", "GET", "/a", "00000001", "cn", "", "/a?q=1"},          /* uri: no query */
      {"joe", "r", "pw", "GET", "/b?q=1", "00000001", "cn", "", "/a?q=1"},      /* other uri */
      {"joe", "r", "pw", "GET", "/a?q=1", "00000001", "cn", "", "/a?q=2"},      /* other query */
      {"joe", "r", "pw", "GET", "/a?", "00000001", "cn", "", "/a"},
      {"joe", "r", "pw", "GET", "/a", "00000001", "cn", "", "/a?"},
      {"joe", "r", "pw", "POST", "/a?q=1", "00000001", "cn", "", "/a?q=1"},     /* method */
      {"joe", "r", "pw", "GET", "/a?q=1", "1", "cn", "", "/a?q=1"},             /* nc forms */
      {"joe", "r", "pw", "GET", "/a?q=1", "0000001", "cn", "", "/a?q=1"},
      {"joe", "r", "pw", "GET", "/a?q=1", "000000001", "cn", "", "/a?q=1"},
      {"joe", "r", "pw", "GET", "/a?q=1", "0000000g", "cn", "", "/a?q=1"},
      {"joe", "r", "pw", "GET", "/a?q=1", "00000000", "cn", "", "/a?q=1"},
      {"joe", "r", "pw", "GET", "/a?q=1", "00000001", "", "", "/a?q=1"},        /* empty cnonce */
      {"joe", "r", "pw", "GET", "/a?q=1", "00000001", "cn", ", algorithm=MD5-sess", "/a?q=1"},
      {"joe", "r", "pw", "GET", "/a?q=1", "00000001", "cn", ", algorithm=SHA-256", "/a?q=1"},
      {"joe", "r", "pw", "GET", "/a?q=1", "00000001", "cn", ", userhash=true", "/a?q=1"},
      {"joe", "r", "pw", "GET", "/a?q=1", "00000001", "cn", ", qop=auth", "/a?q=1"}, /* twice */
      {"joe", "r", "pw", "GET", "/a?q=1", "00000001", "cn", ", username=\"x\"", "/a?q=1"},
      {"", "r", "pw", "GET", "/a?q=1", "00000001", "cn", "", "/a?q=1"},          /* empty user */
  };
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    char v[2048];
    digest_value(v, sizeof(v), cases[i].user, cases[i].realm, cases[i].pass, cases[i].method,
                 cases[i].uri, nonce, cases[i].nc, cases[i].cnonce, cases[i].extra);
    CHECK(request(buf, sizeof(buf), &hm, "GET", cases[i].target, v));
    stale = -1;
    if (check_file(&hm, "r", s_htdigest, &stale) != 0 || stale != 0) {
      fprintf(stderr, "hostile case %zu accepted\n", i);
      CHECK(0);
    }
  }
  /* the response: truncated, empty, a prefix, another case is fine */
  static const size_t lens[] = {0, 1, 16, 31};
  for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
    char v[1024];
    snprintf(v, sizeof(v),
             "Digest username=\"joe\", realm=\"r\", %s, uri=\"/a?q=1\", qop=auth, nc=00000001, "
             "cnonce=\"cn\", response=\"%.*s\"",
             fmt_nonce, (int) lens[i], resp);
    CHECK(request(buf, sizeof(buf), &hm, "GET", uri, v));
    CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 0);
  }
  /* forged nonces: flipped bits, another key's, another realm's, an RFC example's */
  static const char *const forged_base = "0123456789abcdef";
  for (size_t i = 0; i < 64; i += 7) {
    char f[65], v[1024];
    memcpy(f, nonce, sizeof(f));
    f[i] = forged_base[(strchr(forged_base, f[i]) - forged_base + 1) % 16];
    digest_value(v, sizeof(v), "joe", "r", "pw", "GET", uri, f, "00000001", "cn", "");
    CHECK(request(buf, sizeof(buf), &hm, "GET", uri, v));
    CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 0);
  }
  unsigned char zero_key[MG__NONCE_KEY_LEN];
  memset(zero_key, 0, sizeof(zero_key));
  char other[65], v[1024];
  mg__nonce_make(other, zero_key, 1, 1, mg_mk_str("r"));
  digest_value(v, sizeof(v), "joe", "r", "pw", "GET", uri, other, "00000001", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", uri, v));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 0);
  CHECK(fresh_nonce("other", other));
  digest_value(v, sizeof(v), "joe", "r", "pw", "GET", uri, other, "00000001", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", uri, v));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 0);
  digest_value(v, sizeof(v), "joe", "r", "pw", "GET", uri, "dcd98b7102dd2f0e8b11d0f600bfb0c093",
               "00000001", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", uri, v));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 0);
  /* huge values: a 20000-byte username, uri, cnonce; a long unknown parameter is fine */
  static const char *const huge_name[] = {"username", "cnonce", "opaque", "nonce"};
  for (size_t i = 0; i < sizeof(huge_name) / sizeof(huge_name[0]); i++) {
    int n = snprintf(value, sizeof(value), "%s, %s=\"", good, huge_name[i]);
    memset(value + n, 'h', 20000);
    strcpy(value + n + 20000, "\"");
    CHECK(request(buf, sizeof(buf), &hm, "GET", uri, value));
    CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 0);
  }
  /* two Authorization fields */
  int n = snprintf(buf, sizeof(buf),
                   "GET %s HTTP/1.1\r\nHost: h\r\nAuthorization: %s\r\nAuthorization: %s\r\n\r\n",
                   uri, good, good);
  CHECK(mg_parse_http(buf, n, &hm, 1) == n);
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0);
  /* another scheme, none at all, NULL arguments */
  CHECK(request(buf, sizeof(buf), &hm, "GET", uri, "Basic am9lOnB3"));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0);
  CHECK(request(buf, sizeof(buf), &hm, "GET", uri, NULL));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0);
  CHECK(request(buf, sizeof(buf), &hm, "GET", uri, good));
  CHECK(check_file(&hm, NULL, s_htdigest, &stale) == 0);
  CHECK(mg_http_check_digest_auth2(NULL, "r", NULL, &stale) == 0 && stale == 0);
  /* and after all that, the good answer still passes (nothing above used the nonce) */
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 1);
  unlink(s_htdigest);
}

TEST(auth_digest_expiry) {
  char nonce[65], v[1024], buf[2048];
  struct http_message hm;
  int stale;
  CHECK(htdigest());
  fake_nonce_clock(100000);
  CHECK(fresh_nonce("r", nonce));
  digest_value(v, sizeof(v), "joe", "r", "pw", "GET", "/", nonce, "00000001", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/", v));
  nonce_now += 301; /* expired: right credentials -> stale; wrong ones -> not */
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 1);
  nonce_now -= 1; /* exactly the lifetime: still fresh */
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 1 && stale == 0);
  nonce_now += 1000;
  digest_value(v, sizeof(v), "joe", "r", "bad", "GET", "/", nonce, "00000002", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/", v));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 0);
  /* a nonce from the future (the clock went back) is stale too */
  CHECK(fresh_nonce("r", nonce));
  nonce_now -= 10;
  digest_value(v, sizeof(v), "joe", "r", "pw", "GET", "/", nonce, "00000001", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/", v));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 1);
  /* the lifetime can be changed at run time */
  CHECK(mg_http_set_digest_nonce_lifetime(5) == MG_DIGEST_NONCE_LIFETIME);
  CHECK(fresh_nonce("r", nonce));
  nonce_now += 6;
  digest_value(v, sizeof(v), "joe", "r", "pw", "GET", "/", nonce, "00000001", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/", v));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 1);
  CHECK(mg_http_set_digest_nonce_lifetime(0) == 5);
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 1);
  /* a nonce made with the test hook at an old time */
  char old[65];
  CHECK(mg__auth_make_nonce(old, "r", nonce_now - 1000) == 0);
  digest_value(v, sizeof(v), "joe", "r", "pw", "GET", "/", old, "00000001", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/", v));
  CHECK(check_file(&hm, "r", s_htdigest, &stale) == 0 && stale == 1);
  mg__auth_set_clock(NULL);
  unlink(s_htdigest);
}

TEST(auth_challenge_field) {
  char *f = mg__auth_challenge("my \"realm\"", 0);
  static const char head[] =
      "WWW-Authenticate: Digest realm=\"my \\\"realm\\\"\", qop=\"auth\", nonce=\"";
  size_t hl = sizeof(head) - 1;
  CHECK(f != NULL && strncmp(f, head, hl) == 0);
  CHECK(strlen(f) == hl + 64 + 18 && strcmp(f + hl + 64, "\", algorithm=MD5\r\n") == 0);
  test_free(f);
  f = mg__auth_challenge("r", 1);
  CHECK(f != NULL && strstr(f, "algorithm=MD5, stale=true\r\n") != NULL);
  test_free(f);
  CHECK(mg__auth_challenge(NULL, 0) == NULL);
  CHECK(mg__auth_challenge("a\r\nX: y", 0) == NULL);
  char big[300];
  memset(big, 'r', sizeof(big) - 1);
  big[sizeof(big) - 1] = '\0';
  CHECK(mg__auth_challenge(big, 0) == NULL);
  big[256] = '\0';
  f = mg__auth_challenge(big, 0);
  CHECK(f != NULL);
  test_free(f);
}

TEST(auth_is_authorized) {
  char dir[] = "/tmp/mgio_authz_XXXXXX", path[128], buf[2048], v[1024], nonce[65];
  struct http_message hm;
  mg__auth_set_clock(NULL);
  CHECK(mkdtemp(dir) != NULL);
  test_temp(dir);
  CHECK(htdigest());
  snprintf(path, sizeof(path), "%s/.htpasswd", dir);
  CHECK(rename(s_htdigest, path) == 0);
  CHECK(fresh_nonce("r", nonce));
  digest_value(v, sizeof(v), "joe", "r", "pw", "GET", "/f", nonce, "00000001", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/f", v));
  char file_in_dir[128];
  snprintf(file_in_dir, sizeof(file_in_dir), "%s/f", dir);
  /* the file next to `path`; in the folder `path`; as given */
  CHECK(mg_http_is_authorized(&hm, mg_mk_str(file_in_dir), "r", ".htpasswd", 0) == 1);
  digest_value(v, sizeof(v), "joe", "r", "pw", "GET", "/f", nonce, "00000002", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/f", v));
  CHECK(mg_http_is_authorized(&hm, mg_mk_str(dir), "r", ".htpasswd", MG_AUTH_FLAG_IS_DIRECTORY) ==
        1);
  digest_value(v, sizeof(v), "joe", "r", "pw", "GET", "/f", nonce, "00000003", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/f", v));
  CHECK(mg_http_is_authorized(&hm, mg_mk_str("ignored"), "r", path,
                              MG_AUTH_FLAG_IS_GLOBAL_PASS_FILE) == 1);
  /* refused: a used nc, another realm, a missing file, a NULL realm */
  CHECK(mg_http_is_authorized(&hm, mg_mk_str(file_in_dir), "r", ".htpasswd", 0) == 0);
  digest_value(v, sizeof(v), "joe", "r", "pw", "GET", "/f", nonce, "00000004", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/f", v));
  CHECK(mg_http_is_authorized(&hm, mg_mk_str(file_in_dir), "x", ".htpasswd", 0) == 0);
  CHECK(mg_http_is_authorized(&hm, mg_mk_str(file_in_dir), NULL, ".htpasswd", 0) == 0);
  CHECK(mg_http_is_authorized(&hm, mg_mk_str(file_in_dir), "r", "missing", 0) == 0);
  CHECK(mg_http_is_authorized(&hm, mg_mk_str(file_in_dir), "r", "missing",
                              MG_AUTH_FLAG_ALLOW_MISSING_FILE) == 1);
  CHECK(mg_http_is_authorized(&hm, mg_mk_str("/nonexistent/x/f"), "r", ".htpasswd",
                              MG_AUTH_FLAG_ALLOW_MISSING_FILE) == 1); /* ENOTDIR/ENOENT */
  CHECK(mg_http_is_authorized(&hm, mg_mk_str(file_in_dir), "r", NULL, 0) == 1);
  /* a folder's trailing '/' is not doubled; a wrong password is refused */
  char slash[140];
  snprintf(slash, sizeof(slash), "%s/", dir);
  CHECK(mg_http_is_authorized(&hm, mg_mk_str(slash), "r", ".htpasswd", MG_AUTH_FLAG_IS_DIRECTORY) ==
        1);
  digest_value(v, sizeof(v), "joe", "r", "nope", "GET", "/f", nonce, "00000005", "cn", "");
  CHECK(request(buf, sizeof(buf), &hm, "GET", "/f", v));
  CHECK(mg_http_is_authorized(&hm, mg_mk_str(slash), "r", ".htpasswd", MG_AUTH_FLAG_IS_DIRECTORY) ==
        0);
  /* a file that exists but cannot be opened never authorizes (unless running as root) */
  if (geteuid() != 0) {
    CHECK(chmod(path, 0) == 0);
    CHECK(mg_http_is_authorized(&hm, mg_mk_str(file_in_dir), "r", ".htpasswd",
                                MG_AUTH_FLAG_ALLOW_MISSING_FILE) == 0);
  }
  unlink(path);
  rmdir(dir);
}
