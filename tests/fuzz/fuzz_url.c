/*
 * libFuzzer target: URL encoding and decoding (csrc/base/url_codec.c).
 * Input: a flags byte (bit 0 space as '+', bit 1 upper-case hex, bit 2 decode as a
 * form, bits 3-7 a small output size), a safe set (a length byte, up to 16 bytes), then
 * the text. Invariants: the encoding is at most 3 bytes per input byte, NUL-terminated,
 * made of kept bytes and well-formed escapes; decoding it gives the text back (with '%'
 * out of the safe set, and '+' too when '+' decodes as a space); decoding any input into
 * any buffer stays in it, NUL-terminated, and a success into a small buffer is the same
 * as into a big one.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The safe set without the bytes that would make decoding ambiguous. */
static struct mg_str usable_safe(struct mg_str safe, int form, char *out) {
  size_t k = 0;
  for (size_t i = 0; i < safe.len; i++) {
    char c = safe.p[i];
    if (c != '%' && !(form && c == '+')) out[k++] = c;
  }
  return mg_mk_str_n(out, k);
}

static void check_encoding(struct mg_str enc, struct mg_str x, struct mg_str safe,
                           unsigned flags) {
  FUZZ_CHECK(enc.p != NULL && enc.p[enc.len] == '\0' && enc.len <= 3 * x.len);
  for (size_t i = 0; i < enc.len; i++) {
    unsigned char c = (unsigned char) enc.p[i];
    if (c == '%') {
      FUZZ_CHECK(i + 2 < enc.len + 1 && isxdigit((unsigned char) enc.p[i + 1]) &&
                 isxdigit((unsigned char) enc.p[i + 2]));
      int upper = (flags & MG_URL_ENCODE_F_UPPERCASE_HEX) != 0;
      for (int j = 1; j <= 2; j++) {
        char d = enc.p[i + (size_t) j];
        FUZZ_CHECK(!isalpha((unsigned char) d) || (upper ? isupper(d) : islower(d)));
      }
      i += 2;
    } else {
      int kept = isalnum(c) || (safe.len > 0 && memchr(safe.p, c, safe.len) != NULL);
      FUZZ_CHECK(kept || (c == '+' && (flags & MG_URL_ENCODE_F_SPACE_AS_PLUS)));
    }
  }
}

static void check_roundtrip(struct mg_str x, struct mg_str safe, unsigned flags, int form) {
  struct mg_str enc = mg_url_encode_opt(x, safe, flags);
  check_encoding(enc, x, safe, flags);
  char *dst = (char *) malloc(enc.len + 1);
  FUZZ_CHECK(dst != NULL);
  int r = mg_url_decode(enc.p, (int) enc.len, dst, (int) enc.len + 1, form);
  FUZZ_CHECK(r == (int) x.len && (x.len == 0 || memcmp(dst, x.p, x.len) == 0));
  free(dst);
  free((void *) enc.p);
}

static void check_decode(struct mg_str x, int small, int form) {
  char *big = (char *) malloc(x.len + 1), *tiny = (char *) malloc((size_t) small);
  FUZZ_CHECK(big != NULL && tiny != NULL);
  int rb = mg_url_decode(x.p, (int) x.len, big, (int) x.len + 1, form);
  int rt = mg_url_decode(x.p, (int) x.len, tiny, small, form);
  FUZZ_CHECK(rb >= -1 && rb <= (int) x.len && rt >= -1 && rt < small);
  FUZZ_CHECK(strlen(tiny) <= (size_t) small - 1);
  if (rb >= 0) FUZZ_CHECK(big[rb] == '\0');
  if (rt >= 0) FUZZ_CHECK(rt == rb && memcmp(tiny, big, (size_t) rt + 1) == 0);
  free(big);
  free(tiny);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_input in = {data, size};
  uint8_t f = fuzz_take_byte(&in);
  unsigned flags = f & 3u;
  int form = (f & 1) || (f & 4);
  char kept[16];
  struct mg_str safe = usable_safe(fuzz_take_sized(&in, 16), form, kept);
  struct mg_str x = fuzz_take(&in, in.n);
  char *copy = (char *) fuzz_dup(x.p, x.len);
  x.p = copy;
  check_roundtrip(x, safe, flags, form);
  check_decode(x, 1 + (f >> 3), form);
  free(copy);
  return 0;
}
