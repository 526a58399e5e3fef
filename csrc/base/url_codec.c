/* STUB — to be replaced */
#include "mgio.h"
struct mg_str mg_url_encode_opt(const struct mg_str src, const struct mg_str safe, unsigned int flags) { (void) src; (void) safe; (void) flags; return mg_mk_str(NULL); }
struct mg_str mg_url_encode(const struct mg_str src) { (void) src; return mg_mk_str(NULL); }
int mg_url_decode(const char *src, int src_len, char *dst, int dst_len, int is_form_url_encoded) { (void) src; (void) src_len; (void) dst; (void) dst_len; (void) is_form_url_encoded; return -1; }
