/*
 * Basic authentication (RFC 7617): reading the credentials of an Authorization field and
 * writing one. The credentials are decoded straight into the caller's two buffers, a
 * base64 group at a time, so any input length costs no memory and no byte outside the
 * field is read. See the "Authentication" section of mgio.h.
 */
#include <string.h>

#include "auth.h"

static const char b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* The 6-bit value of a base64 character, or -1. */
static int b64_value(unsigned char ch) {
  if (ch >= 'A' && ch <= 'Z') return ch - 'A';
  if (ch >= 'a' && ch <= 'z') return ch - 'a' + 26;
  if (ch >= '0' && ch <= '9') return ch - '0' + 52;
  if (ch == '+') return 62;
  if (ch == '/') return 63;
  return -1;
}

/* Where decoded bytes go: the user up to the first ':', then the password. */
struct sink {
  char *user, *pass;
  size_t user_cap, pass_cap, user_len, pass_len;
  int in_pass;
};

/* Takes one decoded byte; 0 when it is refused (a control byte, or no room). */
static int sink_put(struct sink *k, unsigned char ch) {
  if (ch < 0x20 || ch == 0x7f) return 0; /* RFC 7617 2: no CTL in user-id or password */
  if (!k->in_pass && ch == ':') {
    k->in_pass = 1;
    return 1;
  }
  char *buf = k->in_pass ? k->pass : k->user;
  size_t *len = k->in_pass ? &k->pass_len : &k->user_len;
  size_t cap = k->in_pass ? k->pass_cap : k->user_cap;
  if (*len + 1 >= cap) return 0; /* the NUL must fit too: never truncate */
  buf[(*len)++] = (char) ch;
  return 1;
}

/* Decodes the strict base64 text s[0 .. n) (RFC 4648 4: length a multiple of 4, '='
 * only as final padding, zero pad bits) into the sink. 0 on any error. */
static int decode_into(const char *s, size_t n, struct sink *k) {
  if (n == 0 || n % 4 != 0) return 0;
  for (size_t i = 0; i < n; i += 4) {
    int v[4], pad = 0;
    for (int j = 0; j < 4; j++) {
      unsigned char ch = (unsigned char) s[i + (size_t) j];
      if (ch == '=' && i + 4 == n && j >= 2) {
        v[j] = 0;
        pad++;
        continue;
      }
      if (pad > 0) return 0; /* a character after '=' */
      v[j] = b64_value(ch);
      if (v[j] < 0) return 0;
    }
    unsigned int bits = (unsigned int) (v[0] << 18 | v[1] << 12 | v[2] << 6 | v[3]);
    if (pad == 2 && (bits & 0xffff) != 0) return 0;
    if (pad == 1 && (bits & 0xff) != 0) return 0;
    if (!sink_put(k, (unsigned char) (bits >> 16))) return 0;
    if (pad < 2 && !sink_put(k, (unsigned char) (bits >> 8))) return 0;
    if (pad < 1 && !sink_put(k, (unsigned char) bits)) return 0;
  }
  return 1;
}

int mg_parse_http_basic_auth(struct mg_str *hdr, char *user, size_t user_len, char *pass,
                             size_t pass_len) {
  if (user != NULL && user_len > 0) user[0] = '\0';
  if (pass != NULL && pass_len > 0) pass[0] = '\0';
  if (hdr == NULL || hdr->p == NULL || user == NULL || user_len == 0 || pass == NULL ||
      pass_len == 0) {
    return -1;
  }
  struct mg_str v = mg_strstrip(*hdr);
  const char *s = v.p, *e = v.p + v.len;
  static const char scheme[] = "basic";
  for (size_t i = 0; i < 5; i++) {
    if (s + i == e || (s[i] | 0x20) != scheme[i]) return -1;
  }
  s += 5;
  if (s == e || (*s != ' ' && *s != '\t')) return -1;
  while (s < e && (*s == ' ' || *s == '\t')) s++;
  struct sink k = {user, pass, user_len, pass_len, 0, 0, 0};
  int ok = decode_into(s, (size_t) (e - s), &k) && k.in_pass && k.user_len > 0;
  user[ok ? k.user_len : 0] = '\0';
  pass[ok ? k.pass_len : 0] = '\0';
  return ok ? 0 : -1;
}

int mg_get_http_basic_auth(struct http_message *hm, char *user, size_t user_len, char *pass,
                           size_t pass_len) {
  struct mg_str *hdr = hm != NULL ? mg_get_http_header(hm, "Authorization") : NULL;
  if (hdr == NULL) {
    if (user != NULL && user_len > 0) user[0] = '\0';
    if (pass != NULL && pass_len > 0) pass[0] = '\0';
    return -1;
  }
  return mg_parse_http_basic_auth(hdr, user, user_len, pass, pass_len);
}

/* Encodes the bytes of `parts` as one base64 text at `out` (4 characters per 3 bytes,
 * padded). */
static void encode_parts(const struct mg_str *parts, size_t num, char *out) {
  unsigned int acc = 0;
  int have = 0;
  for (size_t i = 0; i < num; i++) {
    for (size_t j = 0; j < parts[i].len; j++) {
      acc = acc << 8 | (unsigned char) parts[i].p[j];
      if (++have == 3) {
        *out++ = b64_alphabet[(acc >> 18) & 63];
        *out++ = b64_alphabet[(acc >> 12) & 63];
        *out++ = b64_alphabet[(acc >> 6) & 63];
        *out++ = b64_alphabet[acc & 63];
        acc = 0;
        have = 0;
      }
    }
  }
  if (have > 0) {
    acc <<= 8 * (3 - have);
    *out++ = b64_alphabet[(acc >> 18) & 63];
    *out++ = b64_alphabet[(acc >> 12) & 63];
    *out++ = have == 2 ? b64_alphabet[(acc >> 6) & 63] : '=';
    *out = '=';
  }
}

void mg_basic_auth_header(const struct mg_str user, const struct mg_str pass,
                          struct mbuf *buf) {
  static const char prefix[] = "Authorization: Basic ";
  if (buf == NULL || (user.p == NULL && user.len > 0) || (pass.p == NULL && pass.len > 0))
    return;
  struct mg_str parts[3] = {user, mg_mk_str_n(":", 1), pass};
  size_t num = pass.len > 0 ? 3 : 1, raw = user.len;
  if (num == 3) {
    if (pass.len > SIZE_MAX - 1 - raw) return;
    raw += 1 + pass.len;
  }
  if (raw / 3 >= (SIZE_MAX - sizeof(prefix) - 2) / 4 - 1) return;
  size_t enc = (raw + 2) / 3 * 4, total = sizeof(prefix) - 1 + enc + 2;
  if (!mbuf_reserve(buf, total)) return;
  char *at = buf->buf + buf->len;
  memcpy(at, prefix, sizeof(prefix) - 1);
  encode_parts(parts, num, at + sizeof(prefix) - 1);
  memcpy(at + sizeof(prefix) - 1 + enc, "\r\n", 2);
  buf->len += total;
}
