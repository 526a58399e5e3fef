/*
 * Digest server nonces that verify themselves (a time, a serial number and a MAC under
 * a key the caller holds), and the table that refuses a replayed nc. See proto/auth.h.
 */
#include <string.h>

#include "auth.h"

#define MAC_BYTES 16

static void put_be64(unsigned char *out, uint64_t v) {
  for (int i = 7; i >= 0; i--) {
    out[i] = (unsigned char) (v & 0xff);
    v >>= 8;
  }
}

/* HMAC-SHA1(key, t || serial || realm), truncated to MAC_BYTES. */
static void nonce_mac(unsigned char mac[MAC_BYTES], const unsigned char key[MG__NONCE_KEY_LEN],
                      uint64_t t, uint64_t serial, struct mg_str realm) {
  unsigned char text[16 + MG__DIGEST_MAX_REALM], digest[20];
  size_t rlen = realm.p != NULL ? realm.len : 0;
  put_be64(text, t);
  put_be64(text + 8, serial);
  if (rlen <= MG__DIGEST_MAX_REALM) {
    memcpy(text + 16, realm.p, rlen);
  } else { /* a long realm is bound through its hash (the checker does the same) */
    unsigned char h[20];
    cs_sha1_ctx ctx;
    cs_sha1_init(&ctx);
    cs_sha1_update(&ctx, (const unsigned char *) realm.p, rlen);
    cs_sha1_final(h, &ctx);
    memcpy(text + 16, h, sizeof(h));
    rlen = sizeof(h);
  }
  cs_hmac_sha1(key, MG__NONCE_KEY_LEN, text, 16 + rlen, digest);
  memcpy(mac, digest, MAC_BYTES);
}

void mg__nonce_make(char out[MG__NONCE_LEN + 1], const unsigned char key[MG__NONCE_KEY_LEN],
                    uint64_t t, uint64_t serial, struct mg_str realm) {
  unsigned char head[16], mac[MAC_BYTES];
  put_be64(head, t);
  put_be64(head + 8, serial);
  nonce_mac(mac, key, t, serial, realm);
  cs_to_hex(out, head, sizeof(head));
  cs_to_hex(out + 32, mac, sizeof(mac));
}

/* 16 lower-case hex digits at p as a number; 0 when one is not such a digit. */
static int hex64(const char *p, uint64_t *v) {
  uint64_t x = 0;
  for (int i = 0; i < 16; i++) {
    unsigned char ch = (unsigned char) p[i];
    unsigned int d;
    if (ch >= '0' && ch <= '9') {
      d = ch - '0';
    } else if (ch >= 'a' && ch <= 'f') {
      d = ch - 'a' + 10u;
    } else {
      return 0;
    }
    x = x << 4 | d;
  }
  *v = x;
  return 1;
}

int mg__nonce_check(struct mg_str nonce, const unsigned char key[MG__NONCE_KEY_LEN],
                    struct mg_str realm, uint64_t now, uint64_t lifetime, uint64_t *serial) {
  uint64_t t, sn;
  char want[MG__NONCE_LEN + 1];
  if (nonce.p == NULL || nonce.len != MG__NONCE_LEN) return MG__NONCE_BAD;
  if (!hex64(nonce.p, &t) || !hex64(nonce.p + 16, &sn)) return MG__NONCE_BAD;
  mg__nonce_make(want, key, t, sn, realm);
  /* the MAC digits must be lower-case hex as made: a case-folded compare would let an
   * upper-cased copy of a nonce pass as a different string, so compare exactly */
  unsigned int diff = 0;
  for (size_t i = 32; i < MG__NONCE_LEN; i++) diff |= (unsigned char) (nonce.p[i] ^ want[i]);
  if (diff != 0) return MG__NONCE_BAD;
  *serial = sn;
  if (t > now + 1 || now - t > lifetime) return MG__NONCE_STALE;
  return MG__NONCE_OK;
}

int mg__nonce_table_use(struct mg__nonce_table *t, uint64_t serial, uint32_t nc) {
  if (serial < t->floor) return MG__NC_FORGOTTEN;
  size_t oldest = 0;
  for (size_t i = 0; i < t->used; i++) {
    if (t->slot[i].serial == serial) {
      if (nc <= t->slot[i].nc) return MG__NC_REPLAY;
      t->slot[i].nc = nc;
      return MG__NC_OK;
    }
    if (t->slot[i].serial < t->slot[oldest].serial) oldest = i;
  }
  if (nc == 0) return MG__NC_REPLAY;
  size_t at = t->used;
  if (at == MG__NONCE_TABLE_SIZE) { /* full: forget the oldest nonce, and all below it */
    if (serial < t->slot[oldest].serial) return MG__NC_FORGOTTEN; /* no room for older */
    at = oldest;
    t->floor = t->slot[oldest].serial + 1;
  } else {
    t->used++;
  }
  t->slot[at].serial = serial;
  t->slot[at].nc = nc;
  return MG__NC_OK;
}
