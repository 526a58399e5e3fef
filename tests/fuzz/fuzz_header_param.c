/*
 * libFuzzer target: header parameters, mg_http_parse_header2 and mg_http_parse_header
 * (csrc/proto/http_vars.c).
 * Input: a size byte for the caller's buffer, the parameter name (a length byte, up to
 * 16 bytes), then the header value. Invariants: the value is never longer than the
 * header; it is NUL-terminated in whichever buffer holds it; the caller's buffer is kept
 * exactly when the value fits in it, and a new one is allocated otherwise; the
 * non-allocating form gives the same value when it fits and "" / 0 when it does not;
 * the result does not depend on the caller's buffer size.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* mg_http_parse_header is deprecated for users, but it is API and must stay correct. */
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

/* mg_http_parse_header2 with a caller buffer of `cap` bytes; returns the value (heap,
 * NUL-terminated) and its length in *len. */
static char *value_with_buffer(struct mg_str *hdr, const char *name, size_t cap, int *len) {
  char *mine = cap > 0 ? (char *) malloc(cap) : NULL, *buf = mine;
  FUZZ_CHECK(cap == 0 || mine != NULL);
  *len = mg_http_parse_header2(hdr, name, &buf, cap);
  FUZZ_CHECK(*len >= 0 && (size_t) *len <= hdr->len);
  if ((size_t) *len < cap) {
    FUZZ_CHECK(buf == mine); /* it fits: no allocation */
  } else if (*len > 0) {
    FUZZ_CHECK(buf != mine && buf != NULL);
  }
  if (buf != NULL) FUZZ_CHECK(buf[*len] == '\0');
  char *copy = (char *) fuzz_dup(buf != NULL ? buf : "", (size_t) *len + 1);
  if (buf != mine) free(buf);
  free(mine);
  return copy;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_input in = {data, size};
  size_t cap = fuzz_take_byte(&in);
  struct mg_str raw_name = fuzz_take_sized(&in, 16);
  char name[17];
  memcpy(name, raw_name.p, raw_name.len);
  name[raw_name.len] = '\0';
  struct mg_str rest = fuzz_take(&in, in.n);
  struct mg_str hdr = mg_mk_str_n((const char *) fuzz_dup(rest.p, rest.len), rest.len);
  int small_len, big_len;
  char *small = value_with_buffer(&hdr, name, cap, &small_len);
  char *big = value_with_buffer(&hdr, name, hdr.len + 1, &big_len);
  FUZZ_CHECK(small_len == big_len && memcmp(small, big, (size_t) big_len + 1) == 0);
  char *fixed = (char *) malloc(cap > 0 ? cap : 1);
  FUZZ_CHECK(fixed != NULL);
  int r = mg_http_parse_header(&hdr, name, fixed, cap);
  if ((size_t) big_len < cap) {
    FUZZ_CHECK(r == big_len && memcmp(fixed, big, (size_t) r + 1) == 0);
  } else {
    FUZZ_CHECK(r == 0 && (cap == 0 || fixed[0] == '\0'));
  }
  free(fixed);
  free(small);
  free(big);
  free((void *) hdr.p);
  return 0;
}
