/*
 * What MD5 and SHA-1 share: both hash 64-byte blocks with a compression function,
 * buffer a partial block between updates, and end with the same padding (0x80, zeros,
 * then the message length in bits in the last 8 bytes); they differ only in byte order.
 * Words are loaded and stored byte by byte, so the code does not depend on the host's
 * endianness or alignment (compilers turn these into single loads and stores).
 */
#ifndef MGIO_BASE_HASH_BLOCK_H
#define MGIO_BASE_HASH_BLOCK_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Mixes one 64-byte block into the chaining state. */
typedef void (*mg__hash_compress_fn)(uint32_t *state, const unsigned char *block);

static inline uint32_t mg__rol32(uint32_t x, unsigned n) {
  return x << n | x >> (32 - n);
}

static inline uint32_t mg__load_le32(const unsigned char *p) {
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
         (uint32_t) p[3] << 24;
}

static inline uint32_t mg__load_be32(const unsigned char *p) {
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 |
         (uint32_t) p[3];
}

/* Stores `n` words of `w` to `out`, little- or big-endian. */
static inline void mg__store32s(unsigned char *out, const uint32_t *w, size_t n, int big) {
  for (size_t i = 0; i < 4 * n; i++) {
    unsigned shift = big ? 24 - 8 * (unsigned) (i & 3) : 8 * (unsigned) (i & 3);
    out[i] = (unsigned char) (w[i / 4] >> shift);
  }
}

/* Clears secrets in a way the compiler may not drop as a dead store. */
static inline void mg__wipe(void *p, size_t n) {
  volatile unsigned char *v = (volatile unsigned char *) p;
  while (n-- > 0) *v++ = 0;
}

/* Feeds `len` bytes: completes the buffered partial block first, compresses whole
 * blocks straight from `data`, and buffers what is left. `bytes` counts everything fed,
 * so `*bytes % 64` is how much of `block` is in use. */
static inline void mg__hash_update(uint32_t *state, uint64_t *bytes, unsigned char *block,
                                   const unsigned char *data, size_t len,
                                   mg__hash_compress_fn compress) {
  size_t used = (size_t) (*bytes & 63);
  if (len == 0) return; /* data may be NULL */
  *bytes += len;
  if (used > 0) {
    size_t take = 64 - used;
    if (len < take) {
      memcpy(block + used, data, len);
      return;
    }
    memcpy(block + used, data, take);
    compress(state, block);
    data += take;
    len -= take;
  }
  for (; len >= 64; data += 64, len -= 64) compress(state, data);
  if (len > 0) memcpy(block, data, len);
}

/* Appends the padding and the bit length (big- or little-endian) and compresses the
 * final block or two. */
static inline void mg__hash_pad(uint32_t *state, uint64_t bytes, unsigned char *block,
                                mg__hash_compress_fn compress, int big) {
  size_t used = (size_t) (bytes & 63);
  uint64_t bits = bytes << 3; /* the length modulo 2^64 bits, as RFC 1321 specifies */
  block[used++] = 0x80;
  if (used > 56) { /* no room left for the length: it goes in one more block */
    memset(block + used, 0, 64 - used);
    compress(state, block);
    used = 0;
  }
  memset(block + used, 0, 56 - used);
  for (unsigned i = 0; i < 8; i++) {
    block[56 + i] = (unsigned char) (bits >> (big ? 56 - 8 * i : 8 * i));
  }
  compress(state, block);
}

#endif
