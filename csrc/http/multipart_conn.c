/*
 * Streaming multipart on HTTP connections (MG_EV_HTTP_MULTIPART_REQUEST, PART_BEGIN,
 * PART_DATA, PART_END, MULTIPART_REQUEST_END). PLACEHOLDER: no request is treated as
 * multipart yet; the multipart parser and these events are being written (issue 6).
 */
#include "http_internal.h"

int mg__mp_begin(struct mg_connection *c, struct mg__http *h, struct http_message *hm) {
  (void) c;
  (void) h;
  (void) hm;
  return 0;
}

size_t mg__mp_feed(struct mg_connection *c, struct mg__http *h, const char *data, size_t n,
                   int final) {
  (void) c;
  (void) h;
  (void) data;
  (void) final;
  return n;
}

void mg__mp_abort(struct mg_connection *c, struct mg__http *h) {
  (void) c;
  (void) h;
}

void mg__mp_free(struct mg__http *h) {
  (void) h;
}
