/*
 * MD5 (RFC 1321). Used by HTTP Digest auth; not for new security designs.
 */
#include <stdarg.h>

#include "hash_block.h"
#include "mgio.h"

/* T[i] = floor(2^32 * |sin(i + 1)|), RFC 1321 section 3.4. */
static const uint32_t T[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
    0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
    0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
    0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
    0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
    0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* The four auxiliary functions; F and G in forms with one operation fewer than the
 * RFC's, with the same truth tables. */
#define F(x, y, z) ((z) ^ ((x) & ((y) ^ (z))))
#define G(x, y, z) ((y) ^ ((z) & ((x) ^ (y))))
#define H(x, y, z) ((x) ^ (y) ^ (z))
#define I(x, y, z) ((y) ^ ((x) | ~(z)))

#define STEP(f, a, b, c, d, x, t, s) (a) = (b) + mg__rol32((a) + f(b, c, d) + (x) + (t), s)

/* One round: 16 steps, four at a time so that the roles of a, b, c, d rotate by renaming
 * rather than by moving values. Step j (0..63 over the block) uses message word
 * (m * j + o) mod 16, which is the RFC's order for each round. */
#define ROUND(f, m, o, s1, s2, s3, s4, r)                            \
  for (unsigned j = 16 * (r); j < 16 * (r) + 16; j += 4) {           \
    STEP(f, a, b, c, d, x[((m) * j + (o)) & 15], T[j], s1);          \
    STEP(f, d, a, b, c, x[((m) * (j + 1) + (o)) & 15], T[j + 1], s2); \
    STEP(f, c, d, a, b, x[((m) * (j + 2) + (o)) & 15], T[j + 2], s3); \
    STEP(f, b, c, d, a, x[((m) * (j + 3) + (o)) & 15], T[j + 3], s4); \
  }

static void md5_compress(uint32_t *state, const unsigned char *block) {
  uint32_t x[16], a = state[0], b = state[1], c = state[2], d = state[3];
  for (unsigned i = 0; i < 16; i++) x[i] = mg__load_le32(block + 4 * i);
  ROUND(F, 1, 0, 7, 12, 17, 22, 0);
  ROUND(G, 5, 1, 5, 9, 14, 20, 1);
  ROUND(H, 3, 5, 4, 11, 16, 23, 2);
  ROUND(I, 7, 0, 6, 10, 15, 21, 3);
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
}

void cs_md5_init(cs_md5_ctx *ctx) {
  ctx->state[0] = 0x67452301;
  ctx->state[1] = 0xefcdab89;
  ctx->state[2] = 0x98badcfe;
  ctx->state[3] = 0x10325476;
  ctx->bytes = 0;
}

void cs_md5_update(cs_md5_ctx *ctx, const unsigned char *data, size_t len) {
  mg__hash_update(ctx->state, &ctx->bytes, ctx->block, data, len, md5_compress);
}

void cs_md5_final(unsigned char digest[16], cs_md5_ctx *ctx) {
  mg__hash_pad(ctx->state, ctx->bytes, ctx->block, md5_compress, 0);
  mg__store32s(digest, ctx->state, 4, 0);
  mg__wipe(ctx, sizeof(*ctx));
}

void mg_hash_md5_v(size_t num_msgs, const uint8_t *msgs[], const size_t *msg_lens,
                   uint8_t *digest) {
  cs_md5_ctx ctx;
  cs_md5_init(&ctx);
  for (size_t i = 0; i < num_msgs; i++) cs_md5_update(&ctx, msgs[i], msg_lens[i]);
  cs_md5_final(digest, &ctx);
}

char *cs_md5(char buf[33], ...) {
  unsigned char digest[16];
  cs_md5_ctx ctx;
  const char *p;
  va_list ap;
  cs_md5_init(&ctx);
  va_start(ap, buf);
  while ((p = va_arg(ap, const char *)) != NULL) {
    size_t len = va_arg(ap, size_t);
    cs_md5_update(&ctx, (const unsigned char *) p, len);
  }
  va_end(ap);
  cs_md5_final(digest, &ctx);
  cs_to_hex(buf, digest, sizeof(digest));
  return buf;
}
