/* STUB — to be replaced */
#include "mgio.h"
void mg_base64_encode(const unsigned char *src, int src_len, char *dst) { (void) src; (void) src_len; dst[0] = 0; }
int mg_base64_decode(const unsigned char *s, int len, char *dst) { (void) s; (void) len; dst[0] = 0; return 0; }
void mg_mbuf_append_base64(struct mbuf *mbuf, const void *data, size_t len) { (void) mbuf; (void) data; (void) len; }
size_t mg_base64_decoded_max(size_t len) { return len; }
