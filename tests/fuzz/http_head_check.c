/*
 * Invariants of mg_http_parse_head / mg_parse_http on any input:
 * - every result is a head length (> 0, within the input, status 0), -2 (status -2) or
 *   -1 with one of the documented statuses;
 * - on success every view lies inside the input, the field list is terminated, the
 *   flags and content_length agree, and mg_get_http_header finds the first field of
 *   each name;
 * - a prefix never gets a verdict the whole input contradicts: shorter than the head it
 *   is -2, at least the head it is the same head; before an error it is -2 or the same
 *   error (the parser decides on whole lines, so a verdict depends on the bytes so far);
 * - mg_parse_http says the same, with 0 for incomplete.
 */
#include "http_head_check.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

static int documented_status(int status) {
  return status == 400 || status == 414 || status == 431 || status == 501 || status == 505;
}

static struct mg_http_limits take_limits(struct fuzz_input *in) {
  struct mg_http_limits lim = mg_http_default_limits();
  if (fuzz_take_byte(in) & 1) {
    lim.request_line = 1 + (size_t) fuzz_take_byte(in);
    lim.header_section = 1 + (size_t) fuzz_take_byte(in) * 64;
    lim.max_headers = fuzz_take_byte(in) % MG_MAX_HTTP_HEADERS;
    lim.field_line = 1 + (size_t) fuzz_take_byte(in) * 32;
  }
  return lim;
}

/* mg_get_http_header returns the value of the first field named like field i. */
static void check_lookup(struct http_message *hm, size_t i) {
  struct mg_str name = hm->header_names[i];
  char *z = (char *) fuzz_dup(name.p, name.len + 1);
  z[name.len] = '\0';
  struct mg_str *v = mg_get_http_header(hm, z);
  FUZZ_CHECK(v != NULL);
  size_t k = (size_t) (v - hm->header_values);
  FUZZ_CHECK(k <= i && mg_ncasecmp(hm->header_names[k].p, z, name.len) == 0);
  free(z);
}

static void check_success(struct http_message *hm, const char *s, size_t n, int r,
                          int is_req, const struct mg_http_limits *lim) {
  FUZZ_CHECK(r > 0 && (size_t) r <= n);
  FUZZ_CHECK(fuzz_view_in(hm->message, s, n) && fuzz_view_in(hm->body, s, n));
  FUZZ_CHECK(fuzz_view_in(hm->method, s, n) && fuzz_view_in(hm->uri, s, n));
  FUZZ_CHECK(fuzz_view_in(hm->proto, s, n) && fuzz_view_in(hm->query_string, s, n));
  FUZZ_CHECK(fuzz_view_in(hm->resp_status_msg, s, n));
  FUZZ_CHECK(hm->body.p == s + r && hm->body.len <= n - (size_t) r);
  FUZZ_CHECK(hm->message.p + hm->message.len == hm->body.p + hm->body.len);
  FUZZ_CHECK(hm->num_headers <= lim->max_headers && hm->num_headers < MG_MAX_HTTP_HEADERS);
  FUZZ_CHECK(hm->header_names[hm->num_headers].p == NULL);
  FUZZ_CHECK(hm->http_minor == 0 || hm->http_minor == 1);
  FUZZ_CHECK(hm->content_length >= -1);
  if (hm->content_length >= 0) FUZZ_CHECK(hm->body.len <= (uint64_t) hm->content_length);
  if (hm->content_length < 0) FUZZ_CHECK(hm->body.len == 0);
  if (hm->flags & MG_HTTP_F_CHUNKED) FUZZ_CHECK(hm->content_length == -1);
  if (hm->flags & MG_HTTP_F_NO_BODY) FUZZ_CHECK(hm->content_length == 0 && !is_req);
  if (is_req) {
    FUZZ_CHECK(hm->method.len > 0 && hm->resp_code == 0 && hm->content_length >= -1);
    FUZZ_CHECK(!(hm->flags & MG_HTTP_F_CLOSE_DELIMITED));
  } else {
    FUZZ_CHECK(hm->resp_code >= 100 && hm->resp_code <= 999 && hm->method.len == 0);
  }
  for (size_t i = 0; i < hm->num_headers; i++) {
    FUZZ_CHECK(hm->header_names[i].len > 0);
    FUZZ_CHECK(fuzz_view_in(hm->header_names[i], s, n));
    FUZZ_CHECK(fuzz_view_in(hm->header_values[i], s, n));
    check_lookup(hm, i);
  }
}

/* The prefix of k bytes (k < n) agrees with the verdict r / status on all n bytes. */
static void check_prefix(const char *s, size_t k, int r, int status, int is_req,
                         const struct mg_http_limits *lim) {
  struct http_message hm;
  char *copy = (char *) fuzz_dup(s, k);
  int st, rk = mg_http_parse_head(k > 0 ? copy : NULL, k, &hm, is_req, lim, &st);
  if (r > 0 && k < (size_t) r) FUZZ_CHECK(rk == -2 && st == -2);
  if (r > 0 && k >= (size_t) r) FUZZ_CHECK(rk == r && st == 0);
  if (r == -2) FUZZ_CHECK(rk == -2);
  if (r == -1) FUZZ_CHECK(rk == -2 || (rk == -1 && st == status));
  free(copy);
}

void fuzz_http_head(const uint8_t *data, size_t size, int is_req) {
  struct fuzz_input in = {data, size};
  struct mg_http_limits lim = take_limits(&in);
  struct fuzz_splitter sp;
  fuzz_splitter_init(&sp, fuzz_take_seed(&in));
  struct mg_str msg = fuzz_take(&in, in.n);
  char *s = (char *) fuzz_dup(msg.p, msg.len);
  struct http_message hm;
  int status = 12345;
  int r = mg_http_parse_head(msg.len > 0 ? s : NULL, msg.len, &hm, is_req, &lim, &status);
  if (r == -2) {
    FUZZ_CHECK(status == -2);
  } else if (r == -1) {
    FUZZ_CHECK(documented_status(status));
  } else {
    FUZZ_CHECK(status == 0);
    check_success(&hm, s, msg.len, r, is_req, &lim);
  }
  for (int i = 0; i < 3 && msg.len > 0; i++) {
    check_prefix(s, fuzz_next_piece(&sp, msg.len) - 1, r, status, is_req, &lim);
  }
  if (msg.len <= 0x7fffffff && lim.request_line == 8192 && lim.header_section == 32768 &&
      lim.max_headers == 100 && lim.field_line == 8192) {
    int m = mg_parse_http(s, (int) msg.len, &hm, is_req);
    FUZZ_CHECK(m == (r == -2 ? 0 : r));
  }
  free(s);
}
