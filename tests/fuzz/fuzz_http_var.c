/*
 * libFuzzer target: mg_get_http_var (csrc/proto/http_vars.c).
 * Input: a size byte for the output buffer, the variable name (a length byte, up to 16
 * bytes), then the query string or form body. Invariants: the result is a decoded length
 * or one of -1, -3, -4 (documented); dst holds a NUL-terminated string inside its size,
 * "" after an error; a found value equals what a plain search of the entries, decoded
 * with mg_url_decode, gives.
 */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The value of the first entry "name=..." (ASCII case-insensitive), found the plain
 * way; *found tells whether there is one. */
static struct mg_str find_entry(struct mg_str buf, const char *name, int *found) {
  size_t n = strlen(name), start = 0;
  *found = 0;
  while (start <= buf.len) {
    const char *amp = (const char *) memchr(buf.p + start, '&', buf.len - start);
    size_t end = amp != NULL ? (size_t) (amp - buf.p) : buf.len;
    if (end - start > n && buf.p[start + n] == '=' &&
        mg_ncasecmp(buf.p + start, name, n) == 0) {
      *found = 1;
      return mg_mk_str_n(buf.p + start + n + 1, end - start - n - 1);
    }
    if (amp == NULL) break;
    start = end + 1;
  }
  return mg_mk_str_n(NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_input in = {data, size};
  size_t dst_len = 1 + fuzz_take_byte(&in);
  struct mg_str raw_name = fuzz_take_sized(&in, 16);
  char name[17];
  memcpy(name, raw_name.p, raw_name.len);
  name[raw_name.len] = '\0'; /* a NUL inside the name shortens it, as for any C caller */
  struct mg_str rest = fuzz_take(&in, in.n);
  struct mg_str buf = mg_mk_str_n((const char *) fuzz_dup(rest.p, rest.len), rest.len);
  char *dst = (char *) malloc(dst_len), *ref = (char *) malloc(buf.len + 1);
  FUZZ_CHECK(dst != NULL && ref != NULL);
  int r = mg_get_http_var(&buf, name, dst, dst_len);
  FUZZ_CHECK(r == -1 || r == -3 || r == -4 || (r >= 0 && (size_t) r < dst_len));
  FUZZ_CHECK(memchr(dst, '\0', dst_len) != NULL);
  if (r < 0) FUZZ_CHECK(dst[0] == '\0');
  if (buf.len == 0) FUZZ_CHECK(r == -1);
  if (buf.len > 0) {
    int found;
    struct mg_str v = find_entry(buf, name, &found);
    int d = found ? mg_url_decode(v.p, (int) v.len, ref, (int) buf.len + 1, 1) : -4;
    if (r >= 0) FUZZ_CHECK(d == r && memcmp(dst, ref, (size_t) r + 1) == 0);
    if (r == -4) FUZZ_CHECK(!found);
    if (r == -3) FUZZ_CHECK(found && (d < 0 || (size_t) d >= dst_len));
  }
  free(dst);
  free(ref);
  free((void *) buf.p);
  return 0;
}
