/*
 * WebSocket framing (RFC 6455 section 5): frame headers, payload masking, Close payload
 * checks and the opening-handshake keys; see ws.h.
 */
#include <string.h>

#include "ws.h"

/* RFC 6455 1.3: the GUID appended to Sec-WebSocket-Key before hashing. */
static const char WS_GUID[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

int mg__ws_parse_header(const unsigned char *buf, size_t n, struct mg__ws_header *h) {
  if (n < 2) return -2;
  unsigned char b0 = buf[0], b1 = buf[1];
  unsigned code = b1 & 0x7fu;
  size_t ext = code == 126 ? 2 : code == 127 ? 8 : 0; /* extended length bytes */
  size_t mask_len = (b1 & 0x80u) ? 4 : 0;
  if (n < 2 + ext) return -2;
  uint64_t len = code;
  if (ext > 0) {
    len = 0;
    for (size_t i = 0; i < ext; i++) len = len << 8 | buf[2 + i];
    /* RFC 6455 5.2: the minimal number of bytes must be used, and the most significant
     * bit of the 64-bit form must be 0. Judged as soon as the length is in hand. */
    if (ext == 2 && len < 126) return -1;
    if (ext == 8 && (len < 65536 || (len >> 63) != 0)) return -1;
  }
  size_t total = 2 + ext + mask_len;
  if (n < total) return -2;
  h->len = len;
  h->first = b0;
  h->fin = (b0 & MG__WS_FIN) ? 1 : 0;
  h->rsv = (unsigned char) (b0 & (MG__WS_RSV1 | MG__WS_RSV2 | MG__WS_RSV3));
  h->opcode = (unsigned char) (b0 & 0x0f);
  h->masked = mask_len ? 1 : 0;
  if (mask_len) {
    memcpy(h->mask, buf + 2 + ext, 4);
  } else {
    memset(h->mask, 0, sizeof(h->mask));
  }
  return (int) total;
}

size_t mg__ws_build_header(unsigned char out[MG__WS_MAX_HEADER], unsigned char first,
                           uint64_t len, const unsigned char *mask) {
  size_t k = 2;
  unsigned char mbit = mask != NULL ? 0x80 : 0;
  out[0] = first;
  if (len < 126) {
    out[1] = (unsigned char) (mbit | len);
  } else if (len <= 0xffff) {
    out[1] = (unsigned char) (mbit | 126);
    out[2] = (unsigned char) (len >> 8);
    out[3] = (unsigned char) len;
    k = 4;
  } else {
    out[1] = (unsigned char) (mbit | 127);
    for (int i = 0; i < 8; i++) out[2 + i] = (unsigned char) (len >> (56 - 8 * i));
    k = 10;
  }
  if (mask != NULL) {
    memcpy(out + k, mask, 4);
    k += 4;
  }
  return k;
}

/* The 8-byte XOR word for a run starting at payload offset `offset`: the key repeated
 * in memory order from the right phase, so it is right whatever the host's byte order. */
static uint64_t mask_word(const unsigned char mask[4], uint64_t offset) {
  unsigned char m[12];
  uint64_t w;
  memcpy(m, mask, 4);
  memcpy(m + 4, mask, 4);
  memcpy(m + 8, mask, 4);
  memcpy(&w, m + (offset & 3), sizeof(w));
  return w;
}

void mg__ws_mask(unsigned char *data, size_t n, const unsigned char mask[4], uint64_t offset) {
  size_t i = 0;
  /* Whole 8-byte words through memcpy loads and stores (plain moves once compiled, and
   * free of aliasing and alignment traps), four per round so that the compiler can use
   * wide registers; then the tail one byte at a time. An 8-byte word keeps the mask's
   * phase, so one XOR word serves the whole run. */
  if (n >= 8) {
    uint64_t w = mask_word(mask, offset);
    while (n - i >= 32) {
      uint64_t a, b, c, d;
      memcpy(&a, data + i, 8);
      memcpy(&b, data + i + 8, 8);
      memcpy(&c, data + i + 16, 8);
      memcpy(&d, data + i + 24, 8);
      a ^= w;
      b ^= w;
      c ^= w;
      d ^= w;
      memcpy(data + i, &a, 8);
      memcpy(data + i + 8, &b, 8);
      memcpy(data + i + 16, &c, 8);
      memcpy(data + i + 24, &d, 8);
      i += 32;
    }
    while (n - i >= 8) {
      uint64_t a;
      memcpy(&a, data + i, 8);
      a ^= w;
      memcpy(data + i, &a, 8);
      i += 8;
    }
  }
  for (; i < n; i++) data[i] ^= mask[(offset + i) & 3];
}

int mg__ws_close_code_ok(int code) {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

int mg__ws_check_close(const unsigned char *p, size_t n, int *code, size_t *reason) {
  *reason = 0;
  if (n == 0) {
    *code = 1005; /* "no status received" (RFC 6455 7.1.5); never sent on the wire */
    return 0;
  }
  if (n == 1) {
    *code = 0;
    return 1002;
  }
  *code = p[0] << 8 | p[1];
  *reason = 2;
  if (!mg__ws_close_code_ok(*code)) return 1002;
  return mg_utf8_valid(p + 2, n - 2) ? 0 : 1007;
}

void mg__ws_accept_key(const char *key, size_t key_len, char out[29]) {
  unsigned char digest[20];
  cs_sha1_ctx ctx;
  cs_sha1_init(&ctx);
  cs_sha1_update(&ctx, (const unsigned char *) key, key_len);
  cs_sha1_update(&ctx, (const unsigned char *) WS_GUID, sizeof(WS_GUID) - 1);
  cs_sha1_final(digest, &ctx);
  mg_base64_encode(digest, (int) sizeof(digest), out);
}

static int is_b64_char(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '+' || c == '/';
}

int mg__ws_key_ok(struct mg_str key) {
  if (key.len != 24 || key.p == NULL) return 0;
  for (size_t i = 0; i < 22; i++) {
    if (!is_b64_char((unsigned char) key.p[i])) return 0;
  }
  return key.p[22] == '=' && key.p[23] == '=';
}
