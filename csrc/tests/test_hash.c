/* MD5, SHA-1 and HMAC-SHA1: the RFC 1321, FIPS 180 and RFC 2202 vectors, every length
 * around the block boundaries, every way of splitting the updates, and the helpers. */
#include <stdint.h>
#include <string.h>

#include "mgio.h"
#include "test.h"

/* One interface over both hashes, so each property is written once. */
enum algo { MD5, SHA1 };
struct hasher {
  enum algo algo;
  union {
    cs_md5_ctx md5;
    cs_sha1_ctx sha1;
  } u;
};

static void h_init(struct hasher *h, enum algo algo) {
  h->algo = algo;
  if (algo == MD5) cs_md5_init(&h->u.md5);
  else cs_sha1_init(&h->u.sha1);
}

static void h_update(struct hasher *h, const void *p, size_t n) {
  if (h->algo == MD5) cs_md5_update(&h->u.md5, (const unsigned char *) p, n);
  else cs_sha1_update(&h->u.sha1, (const unsigned char *) p, n);
}

/* Writes the digest; returns its size. */
static size_t h_final(struct hasher *h, unsigned char *digest) {
  if (h->algo == MD5) cs_md5_final(digest, &h->u.md5);
  else cs_sha1_final(digest, &h->u.sha1);
  return h->algo == MD5 ? 16 : 20;
}

/* The hex digest of `n` bytes fed in one update, into `hex` (41 bytes). */
static const char *hex_digest(enum algo algo, const void *p, size_t n, char *hex) {
  struct hasher h;
  unsigned char d[20];
  h_init(&h, algo);
  h_update(&h, p, n);
  cs_to_hex(hex, d, h_final(&h, d));
  return hex;
}

static const char *const md5_vectors[][2] = {
    {"", "d41d8cd98f00b204e9800998ecf8427e"},
    {"a", "0cc175b9c0f1b6a831c399e269772661"},
    {"abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"message digest", "f96b697d7cb7938d525a2f31aaf161d0"},
    {"abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"},
    {"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
     "d174ab98d277d9f5a5611c2c9f419d9f"},
    {"1234567890123456789012345678901234567890123456789012345678901234567890123456"
     "7890",
     "57edf4a22be3c955ac49da2e2107b67a"},
};

static const char *const sha1_vectors[][2] = {
    {"", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {"abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", /* 448 bits */
     "84983e441c3bd26ebaae4aa1f95129e5e54670f1"},
};

TEST(md5_rfc1321_vectors) {
  char hex[41], via_cs_md5[33];
  for (size_t i = 0; i < sizeof(md5_vectors) / sizeof(md5_vectors[0]); i++) {
    const char *msg = md5_vectors[i][0];
    CHECK(strcmp(hex_digest(MD5, msg, strlen(msg), hex), md5_vectors[i][1]) == 0);
    CHECK(cs_md5(via_cs_md5, msg, strlen(msg), NULL) == via_cs_md5);
    CHECK(strcmp(via_cs_md5, md5_vectors[i][1]) == 0);
  }
}

TEST(sha1_fips180_vectors) {
  char hex[41];
  for (size_t i = 0; i < sizeof(sha1_vectors) / sizeof(sha1_vectors[0]); i++) {
    const char *msg = sha1_vectors[i][0];
    CHECK(strcmp(hex_digest(SHA1, msg, strlen(msg), hex), sha1_vectors[i][1]) == 0);
  }
}

/* A million 'a' fed in pieces of sizes that land on every offset within a block. */
static const char *million_a(enum algo algo, char *hex) {
  static const size_t steps[] = {1, 7, 55, 56, 63, 64, 65, 127, 1000, 4099};
  unsigned char a[4099], d[20];
  struct hasher h;
  memset(a, 'a', sizeof(a));
  h_init(&h, algo);
  for (size_t left = 1000000, i = 0; left > 0; i++) {
    size_t n = steps[i % (sizeof(steps) / sizeof(steps[0]))];
    if (n > left) n = left;
    h_update(&h, a, n);
    left -= n;
  }
  cs_to_hex(hex, d, h_final(&h, d));
  return hex;
}

TEST(hash_million_a_in_odd_updates) {
  char hex[41];
  CHECK(strcmp(million_a(MD5, hex), "7707d6ae4e027c70eea2a935c2296f21") == 0);
  CHECK(strcmp(million_a(SHA1, hex), "34aa973cd4c4daa4f61eeb2bdbad27316534016f") == 0);
}

static unsigned char pattern[131];

static void fill_pattern(void) {
  for (size_t i = 0; i < sizeof(pattern); i++) pattern[i] = (unsigned char) (i * 167 + 13);
}

/* Every length 0..130 (across the 55/56 padding edge and the 63/64/65 block edge, twice):
 * the hash of the concatenated digests, computed with Python's hashlib. */
static const char *length_sweep(enum algo algo, char *hex) {
  unsigned char d[20];
  struct hasher all;
  fill_pattern();
  h_init(&all, algo);
  for (size_t n = 0; n < sizeof(pattern); n++) {
    struct hasher one;
    h_init(&one, algo);
    h_update(&one, pattern, n);
    h_update(&all, d, h_final(&one, d));
  }
  cs_to_hex(hex, d, h_final(&all, d));
  return hex;
}

TEST(hash_every_length_to_130) {
  char hex[41];
  CHECK(strcmp(length_sweep(MD5, hex), "0c606b29877490668339464f8719ccc4") == 0);
  CHECK(strcmp(length_sweep(SHA1, hex), "f7732bfece7a85354b1a7fd890a8aa0f2478a794") == 0);
}

/* Splitting the input anywhere, or feeding it byte by byte, changes nothing. */
TEST(hash_split_anywhere) {
  char whole[41], hex[41];
  unsigned char d[20];
  fill_pattern();
  for (int algo = MD5; algo <= SHA1; algo++) {
    hex_digest((enum algo) algo, pattern, sizeof(pattern), whole);
    for (size_t p = 0; p <= sizeof(pattern); p++) {
      struct hasher h;
      h_init(&h, (enum algo) algo);
      h_update(&h, pattern, p);
      h_update(&h, NULL, 0);
      h_update(&h, pattern + p, sizeof(pattern) - p);
      cs_to_hex(hex, d, h_final(&h, d));
      CHECK(strcmp(hex, whole) == 0);
    }
    struct hasher h;
    h_init(&h, (enum algo) algo);
    for (size_t i = 0; i < sizeof(pattern); i++) h_update(&h, pattern + i, 1);
    cs_to_hex(hex, d, h_final(&h, d));
    CHECK(strcmp(hex, whole) == 0);
  }
}

TEST(hash_final_wipes_context) {
  static const unsigned char zero[sizeof(struct hasher)];
  unsigned char d[20];
  for (int algo = MD5; algo <= SHA1; algo++) {
    struct hasher h;
    h_init(&h, (enum algo) algo);
    h_update(&h, "secret", 6);
    h_final(&h, d);
    CHECK(memcmp(&h.u, zero, algo == MD5 ? sizeof(h.u.md5) : sizeof(h.u.sha1)) == 0);
  }
}

TEST(hash_v_concatenates_messages) {
  const uint8_t *msgs[] = {(const uint8_t *) "user", (const uint8_t *) ":", NULL,
                           (const uint8_t *) "realm"};
  const size_t lens[] = {4, 1, 0, 5};
  unsigned char d[20];
  char hex[41], want[41];
  mg_hash_md5_v(4, msgs, lens, d);
  cs_to_hex(hex, d, 16);
  CHECK(strcmp(hex, hex_digest(MD5, "user:realm", 10, want)) == 0);
  mg_hash_sha1_v(4, msgs, lens, d);
  cs_to_hex(hex, d, 20);
  CHECK(strcmp(hex, hex_digest(SHA1, "user:realm", 10, want)) == 0);
  mg_hash_sha1_v(0, NULL, NULL, d);
  cs_to_hex(hex, d, 20);
  CHECK(strcmp(hex, sha1_vectors[0][1]) == 0);
}

TEST(cs_md5_argument_pairs) {
  char hex[33];
  cs_md5(hex, "user", (size_t) 4, ":", (size_t) 1, "realm", (size_t) 5, ":", (size_t) 1,
         "pass", (size_t) 4, NULL);
  CHECK(strcmp(hex, "8493fbc53ba582fb4c044c456bdc40eb") == 0); /* MD5("user:realm:pass") */
  cs_md5(hex, "user:realm:passXYZ", (size_t) 15, NULL); /* only `len` bytes count */
  CHECK(strcmp(hex, "8493fbc53ba582fb4c044c456bdc40eb") == 0);
  cs_md5(hex, NULL);
  CHECK(strcmp(hex, md5_vectors[0][1]) == 0);
}

/* RFC 2202 section 3. */
static const struct {
  unsigned char key_byte; /* 0: the key is `key` */
  size_t key_len;
  const char *key;
  unsigned char data_byte; /* 0: the data is `data` */
  size_t data_len;
  const char *data, *want;
} rfc2202[] = {
    {0x0b, 20, NULL, 0, 8, "Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"},
    {0, 4, "Jefe", 0, 28, "what do ya want for nothing?",
     "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"},
    {0xaa, 20, NULL, 0xdd, 50, NULL, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"},
    {0, 25, "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12"
            "\x13\x14\x15\x16\x17\x18\x19",
     0xcd, 50, NULL, "4c9007f4026250c6bc8414f9bf50c86c2d7235da"},
    {0x0c, 20, NULL, 0, 20, "Test With Truncation",
     "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"},
    {0xaa, 80, NULL, 0, 54, "Test Using Larger Than Block-Size Key - Hash Key First",
     "aa4ae5e15272d00e95705637ce8a3b55ed402112"},
    {0xaa, 80, NULL, 0, 73,
     "Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
     "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"},
};

/* `n` bytes of `text`, or `n` copies of `byte` when text is NULL, into `out`. */
static const unsigned char *bytes_of(const char *text, unsigned char byte, size_t n,
                                     unsigned char *out) {
  if (text != NULL) memcpy(out, text, n);
  else memset(out, byte, n);
  return out;
}

TEST(hmac_sha1_rfc2202) {
  unsigned char key[80], data[80], d[20];
  char hex[41];
  for (size_t i = 0; i < sizeof(rfc2202) / sizeof(rfc2202[0]); i++) {
    cs_hmac_sha1(bytes_of(rfc2202[i].key, rfc2202[i].key_byte, rfc2202[i].key_len, key),
                 rfc2202[i].key_len,
                 bytes_of(rfc2202[i].data, rfc2202[i].data_byte, rfc2202[i].data_len, data),
                 rfc2202[i].data_len, d);
    cs_to_hex(hex, d, 20);
    CHECK(strcmp(hex, rfc2202[i].want) == 0);
  }
}

/* Keys one short of, exactly, and one over the block size (values from Python's hmac). */
TEST(hmac_sha1_key_at_block_size) {
  static const char *const want[] = {
      "be95f8f06fa2df07121d141a2eea511fed8aa977",
      "60352685d64607cc66cd51aaf4a136ba84e057c0",
      "75990e151b58e77b2f49f5bab8ae3d8e310cd523",
  };
  unsigned char key[65], d[20];
  char hex[41];
  for (size_t i = 0; i < sizeof(key); i++) key[i] = (unsigned char) (i * 31 + 7);
  for (size_t n = 63; n <= 65; n++) {
    cs_hmac_sha1(key, n, (const unsigned char *) "message", 7, d);
    cs_to_hex(hex, d, 20);
    CHECK(strcmp(hex, want[n - 63]) == 0);
  }
}

TEST(cs_to_hex_bytes) {
  static const unsigned char bytes[] = {0x00, 0x0f, 0xa5, 0xf0, 0xff};
  char hex[11];
  cs_to_hex(hex, bytes, sizeof(bytes));
  CHECK(strcmp(hex, "000fa5f0ff") == 0);
  cs_to_hex(hex, bytes, 0);
  CHECK(hex[0] == '\0');
}
