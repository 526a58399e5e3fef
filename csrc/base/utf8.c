/* STUB — to be replaced */
#include "mgio.h"
void mg_utf8_init(struct mg_utf8_state *st) { st->need = 0; st->lo = 0; st->hi = 0; }
int mg_utf8_feed(struct mg_utf8_state *st, const void *data, size_t len) { (void) st; (void) data; (void) len; return 0; }
int mg_utf8_valid(const void *data, size_t len) { (void) data; (void) len; return 1; }
