/*
 * SHA-1 (FIPS 180-4 section 6.1) and HMAC-SHA1 (RFC 2104). Used by the WebSocket
 * handshake; not for new security designs.
 */
#include "hash_block.h"
#include "mgio.h"

/* The round functions of FIPS 180-4 section 4.1.1; Ch and Maj in forms with fewer
 * operations and the same truth tables. */
#define CH(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define PARITY(x, y, z) ((x) ^ (y) ^ (z))
#define MAJ(x, y, z) (((x) & (y)) | ((z) & ((x) | (y))))

/* The message schedule kept in a ring of 16 words: word t >= 16 replaces word t - 16.
 * Expanding it inside the rounds, rather than into an 80-word array first, keeps it out
 * of the reach of auto-vectorisation, whose overlapping stores and loads stall. */
static inline uint32_t next_word(uint32_t *w, unsigned t) {
  uint32_t x = w[(t + 13) & 15] ^ w[(t + 8) & 15] ^ w[(t + 2) & 15] ^ w[t & 15];
  return w[t & 15] = mg__rol32(x, 1);
}
#define W(t) ((t) < 16 ? w[t] : next_word(w, t))

/* One step: T = (a <<< 5) + f(b, c, d) + e + K + W[t] becomes the new a, and b turns
 * into the new c. Computing T into e in place and letting the caller rename the roles
 * saves the five moves per step. */
#define STEP(f, k, a, b, c, d, e, t)                   \
  (e) += mg__rol32(a, 5) + f(b, c, d) + (k) + W(t);    \
  (b) = mg__rol32(b, 30)

/* Twenty steps with one function and constant, five at a time so the roles of a..e
 * come back to where they started. */
#define ROUND(f, k, r)                                      \
  for (unsigned t = 20 * (r); t < 20 * (r) + 20; t += 5) {  \
    STEP(f, k, a, b, c, d, e, t);                           \
    STEP(f, k, e, a, b, c, d, t + 1);                       \
    STEP(f, k, d, e, a, b, c, t + 2);                       \
    STEP(f, k, c, d, e, a, b, t + 3);                       \
    STEP(f, k, b, c, d, e, a, t + 4);                       \
  }

static void sha1_compress(uint32_t *state, const unsigned char *block) {
  uint32_t w[16];
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3], e = state[4];
  for (unsigned t = 0; t < 16; t++) w[t] = mg__load_be32(block + 4 * t);
  ROUND(CH, 0x5a827999, 0);
  ROUND(PARITY, 0x6ed9eba1, 1);
  ROUND(MAJ, 0x8f1bbcdc, 2);
  ROUND(PARITY, 0xca62c1d6, 3);
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
}

void cs_sha1_init(cs_sha1_ctx *ctx) {
  ctx->state[0] = 0x67452301;
  ctx->state[1] = 0xefcdab89;
  ctx->state[2] = 0x98badcfe;
  ctx->state[3] = 0x10325476;
  ctx->state[4] = 0xc3d2e1f0;
  ctx->bytes = 0;
}

void cs_sha1_update(cs_sha1_ctx *ctx, const unsigned char *data, size_t len) {
  mg__hash_update(ctx->state, &ctx->bytes, ctx->block, data, len, sha1_compress);
}

void cs_sha1_final(unsigned char digest[20], cs_sha1_ctx *ctx) {
  mg__hash_pad(ctx->state, ctx->bytes, ctx->block, sha1_compress, 1);
  mg__store32s(digest, ctx->state, 5, 1);
  mg__wipe(ctx, sizeof(*ctx));
}

void mg_hash_sha1_v(size_t num_msgs, const uint8_t *msgs[], const size_t *msg_lens,
                    uint8_t *digest) {
  cs_sha1_ctx ctx;
  cs_sha1_init(&ctx);
  for (size_t i = 0; i < num_msgs; i++) cs_sha1_update(&ctx, msgs[i], msg_lens[i]);
  cs_sha1_final(digest, &ctx);
}

/* SHA-1 over (key XOR pad) followed by `len` bytes of `text`. */
static void sha1_padded_key(const unsigned char key[64], unsigned char pad,
                            const unsigned char *text, size_t len,
                            unsigned char digest[20]) {
  unsigned char block[64];
  cs_sha1_ctx ctx;
  for (size_t i = 0; i < 64; i++) block[i] = key[i] ^ pad;
  cs_sha1_init(&ctx);
  cs_sha1_update(&ctx, block, sizeof(block));
  cs_sha1_update(&ctx, text, len);
  cs_sha1_final(digest, &ctx);
  mg__wipe(block, sizeof(block));
}

void cs_hmac_sha1(const unsigned char *key, size_t key_len, const unsigned char *text,
                  size_t text_len, unsigned char digest[20]) {
  unsigned char k[64] = {0}, inner[20];
  /* RFC 2104 section 2: a key longer than the block is replaced by its hash, and any key
   * is zero-padded to the block size. */
  if (key_len > sizeof(k)) {
    const uint8_t *msgs[1] = {key};
    mg_hash_sha1_v(1, msgs, &key_len, k);
  } else if (key_len > 0) {
    memcpy(k, key, key_len);
  }
  sha1_padded_key(k, 0x36, text, text_len, inner);
  sha1_padded_key(k, 0x5c, inner, sizeof(inner), digest);
  mg__wipe(k, sizeof(k));
  mg__wipe(inner, sizeof(inner));
}
