/* STUB — to be replaced by md5.c and sha1.c */
#include <string.h>
#include "mgio.h"
void cs_md5_init(cs_md5_ctx *ctx) { memset(ctx, 0, sizeof(*ctx)); }
void cs_md5_update(cs_md5_ctx *ctx, const unsigned char *data, size_t len) { (void) ctx; (void) data; (void) len; }
void cs_md5_final(unsigned char digest[16], cs_md5_ctx *ctx) { (void) ctx; memset(digest, 0, 16); }
void cs_sha1_init(cs_sha1_ctx *ctx) { memset(ctx, 0, sizeof(*ctx)); }
void cs_sha1_update(cs_sha1_ctx *ctx, const unsigned char *data, size_t len) { (void) ctx; (void) data; (void) len; }
void cs_sha1_final(unsigned char digest[20], cs_sha1_ctx *ctx) { (void) ctx; memset(digest, 0, 20); }
void cs_hmac_sha1(const unsigned char *key, size_t key_len, const unsigned char *text, size_t text_len, unsigned char digest[20]) { (void) key; (void) key_len; (void) text; (void) text_len; memset(digest, 0, 20); }
void mg_hash_md5_v(size_t num_msgs, const uint8_t *msgs[], const size_t *msg_lens, uint8_t *digest) { (void) num_msgs; (void) msgs; (void) msg_lens; memset(digest, 0, 16); }
void mg_hash_sha1_v(size_t num_msgs, const uint8_t *msgs[], const size_t *msg_lens, uint8_t *digest) { (void) num_msgs; (void) msgs; (void) msg_lens; memset(digest, 0, 20); }
char *cs_md5(char buf[33], ...) { buf[0] = 0; return buf; }
void cs_to_hex(char *to, const unsigned char *p, size_t len) { (void) p; (void) len; to[0] = 0; }
