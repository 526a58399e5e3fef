/*
 * libFuzzer target: WebSocket frames (csrc/proto/ws_frame.c) and the resumable UTF-8
 * validator (csrc/base/utf8.c).
 * Input: a four-byte split seed, then a stream of frames as a peer sends them.
 * For each frame header: a prefix never contradicts the whole (shorter than the header
 * it is -2; before a -1 it is -2 or -1); a parsed header is 2 to 14 bytes and building a
 * header from its fields gives back the same bytes (lengths are minimal). Payloads:
 * unmasking in pieces at any offsets equals unmasking whole, and twice is identity.
 * Close payloads: the verdict agrees with the code and the reason's UTF-8. The text of
 * text and continuation frames is validated whole and in pieces: both agree with the
 * reference checker, and the piece holding the first bad byte is the one that fails.
 */
#include <stdlib.h>
#include <string.h>

#include "../../csrc/proto/ws.h"
#include "fuzz_common.h"
#include "utf8_ref.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_header_prefixes(const uint8_t *p, size_t n, int r, struct fuzz_splitter *sp) {
  size_t k = fuzz_next_piece(sp, n < 16 ? n : 16) - 1;
  uint8_t *copy = (uint8_t *) fuzz_dup(p, k);
  struct mg__ws_header h;
  int rk = mg__ws_parse_header(copy, k, &h);
  if (r > 0 && k < (size_t) r) FUZZ_CHECK(rk == -2);
  if (r > 0 && k >= (size_t) r) FUZZ_CHECK(rk == r);
  if (r == -1) FUZZ_CHECK(rk == -2 || rk == -1);
  if (r == -2) FUZZ_CHECK(rk == -2);
  free(copy);
}

static void check_rebuild(const uint8_t *p, int r, const struct mg__ws_header *h) {
  unsigned char out[MG__WS_MAX_HEADER];
  FUZZ_CHECK(r >= 2 && r <= MG__WS_MAX_HEADER);
  FUZZ_CHECK(h->fin == (h->first >> 7) && h->opcode == (h->first & 0x0f));
  size_t n = mg__ws_build_header(out, h->first, h->len, h->masked ? h->mask : NULL);
  FUZZ_CHECK(n == (size_t) r && memcmp(out, p, n) == 0);
}

/* Unmasks payload p[0 .. n) whole and in pieces; returns the unmasked heap copy. */
static uint8_t *unmask(const uint8_t *p, size_t n, const struct mg__ws_header *h,
                       struct fuzz_splitter *sp) {
  uint8_t *whole = (uint8_t *) fuzz_dup(p, n), *split = (uint8_t *) fuzz_dup(p, n);
  mg__ws_mask(whole, n, h->mask, 0);
  for (size_t off = 0; off < n;) {
    size_t piece = fuzz_next_piece(sp, n - off);
    uint8_t *part = (uint8_t *) fuzz_dup(split + off, piece);
    mg__ws_mask(part, piece, h->mask, off);
    memcpy(split + off, part, piece);
    free(part);
    off += piece;
  }
  FUZZ_CHECK(n == 0 || memcmp(whole, split, n) == 0);
  mg__ws_mask(split, n, h->mask, 0);
  FUZZ_CHECK(n == 0 || memcmp(split, p, n) == 0);
  free(split);
  return whole;
}

static void check_close(const uint8_t *p, size_t n) {
  int code = -1;
  size_t reason = 99;
  int r = mg__ws_check_close(p, n, &code, &reason);
  if (n == 0) FUZZ_CHECK(r == 0 && code == 1005 && reason == 0);
  if (n == 1) FUZZ_CHECK(r == 1002 && code == 0 && reason == 0);
  if (n >= 2) {
    int ok = mg__ws_close_code_ok(code);
    FUZZ_CHECK(code == (p[0] << 8 | p[1]) && reason == 2);
    FUZZ_CHECK(r == (!ok ? 1002 : mg_utf8_valid(p + 2, n - 2) ? 0 : 1007));
  }
}

/* Feeds text to the validator in pieces; the piece holding the first bad byte (per the
 * reference) is the first to fail, and the end state agrees with the reference. */
static void check_text(const uint8_t *s, size_t n, struct fuzz_splitter *sp) {
  int need, verdict = MG_UTF8_COMPLETE;
  size_t bad = utf8_ref_first_bad(s, n, &need);
  struct mg_utf8_state st;
  mg_utf8_init(&st);
  for (size_t off = 0; off < n;) {
    size_t piece = fuzz_next_piece(sp, n - off);
    uint8_t *part = (uint8_t *) fuzz_dup(s + off, piece);
    verdict = mg_utf8_feed(&st, part, piece);
    free(part);
    off += piece;
    FUZZ_CHECK((verdict == MG_UTF8_INVALID) == (bad < off));
  }
  if (bad == n) FUZZ_CHECK(verdict == (need ? MG_UTF8_INCOMPLETE : MG_UTF8_COMPLETE));
  FUZZ_CHECK(mg_utf8_valid(s, n) == (bad == n && need == 0));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_input in = {data, size};
  struct fuzz_splitter sp;
  struct fuzz_buf text = {NULL, 0, 0};
  fuzz_splitter_init(&sp, fuzz_take_seed(&in));
  while (in.n > 0) {
    struct mg__ws_header h;
    int r = mg__ws_parse_header(in.p, in.n, &h);
    check_header_prefixes(in.p, in.n, r, &sp);
    if (r < 0) break;
    check_rebuild(in.p, r, &h);
    fuzz_take(&in, (size_t) r);
    struct mg_str payload = fuzz_take(&in, h.len < in.n ? (size_t) h.len : in.n);
    uint8_t *plain = unmask((const uint8_t *) payload.p, payload.len, &h, &sp);
    if (h.opcode == 8) check_close(plain, payload.len);
    if (h.opcode == 0 || h.opcode == 1) fuzz_buf_add(&text, plain, payload.len);
    free(plain);
  }
  check_text((const uint8_t *) text.p, text.len, &sp);
  fuzz_buf_free(&text);
  return 0;
}
