/*
 * UTF-8 validation (RFC 3629 section 4), resumable at any byte.
 *
 * The state between calls is the number of continuation bytes the current character
 * still needs and the range [lo, hi] its next byte must fall in. RFC 3629 narrows that
 * range only for the byte right after the lead (E0 A0-BF, ED 80-9F, F0 90-BF, F4 80-8F);
 * checking that byte against [lo, hi] rejects overlongs, surrogates and code points above
 * U+10FFFF at the first byte that makes them impossible, which is what lets a WebSocket
 * endpoint fail a text message as early as possible, whatever the fragmentation.
 */
#include <stdint.h>
#include <string.h>

#include "mgio.h"

#define ERROR_NEED 0xff
#define CONT_LO 0x80
#define CONT_HI 0xbf

/* Every byte of a word with its top bit set, to test 8 bytes for ASCII at once. */
#define HIGH_BITS UINT64_C(0x8080808080808080)

/* lo and hi only matter while need > 0, so a zero-filled state is a start as well. */
void mg_utf8_init(struct mg_utf8_state *st) {
  st->need = 0;
  st->lo = CONT_LO;
  st->hi = CONT_HI;
}

/* The index of the lowest-addressed byte of `w` (as loaded from memory) that is not 0. */
static unsigned first_set_byte(uint64_t w) {
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  return (unsigned) __builtin_ctzll(w) / 8;
#else
  unsigned char b[8];
  unsigned i = 0;
  memcpy(b, &w, 8);
  while (b[i] == 0) i++;
  return i;
#endif
}

/* The first byte in [p, end) that is not ASCII, or end. Most text on the wire is ASCII,
 * so whole words are tested first; memcpy keeps the load legal at any alignment and
 * compiles to a single move. */
static const unsigned char *skip_ascii(const unsigned char *p, const unsigned char *end) {
  while (end - p >= 8) {
    uint64_t w;
    memcpy(&w, p, 8);
    w &= HIGH_BITS;
    if (w != 0) return p + first_set_byte(w);
    p += 8;
  }
  while (p < end && *p < 0x80) p++;
  return p;
}

/* Starts a multi-byte character at lead byte `c` (>= 0x80). Returns 0 when `c` cannot
 * start one: a continuation byte (80-BF), an overlong lead (C0, C1) or a lead beyond
 * U+10FFFF (F5-FF). */
static int start_char(struct mg_utf8_state *s, unsigned char c) {
  if (c < 0xc2 || c > 0xf4) return 0;
  s->lo = CONT_LO;
  s->hi = CONT_HI;
  if (c < 0xe0) {
    s->need = 1;
  } else if (c < 0xf0) {
    s->need = 2;
    if (c == 0xe0) s->lo = 0xa0; /* below: overlong, U+0000..U+07FF */
    if (c == 0xed) s->hi = 0x9f; /* above: surrogates, U+D800..U+DFFF */
  } else {
    s->need = 3;
    if (c == 0xf0) s->lo = 0x90; /* below: overlong, U+0000..U+FFFF */
    if (c == 0xf4) s->hi = 0x8f; /* above: beyond U+10FFFF */
  }
  return 1;
}

static int fail(struct mg_utf8_state *st) {
  st->need = ERROR_NEED;
  st->lo = st->hi = 0;
  return MG_UTF8_INVALID;
}

static int is_cont(unsigned char c) {
  return (c & 0xc0) == 0x80;
}

/* Checks a character whose lead at p[0] set `s` and whose bytes are all in the buffer.
 * Returns the byte after it, or NULL. Each length has its own branch with a constant
 * step, so on text of one script the branch is predicted and the CPU runs ahead instead
 * of waiting for the lead byte to know where the next character starts. */
static const unsigned char *whole_char(const struct mg_utf8_state *s,
                                       const unsigned char *p) {
  if (p[1] < s->lo || p[1] > s->hi) return NULL;
  switch (s->need) {
    case 1:
      return p + 2;
    case 2:
      return is_cont(p[2]) ? p + 3 : NULL;
    default:
      return is_cont(p[2]) && is_cont(p[3]) ? p + 4 : NULL;
  }
}

/* Consumes continuation bytes of the character in progress, one at a time: the path for
 * a character split between calls. Returns where it stopped, or NULL on a bad byte. */
static const unsigned char *continue_char(struct mg_utf8_state *s, const unsigned char *p,
                                          const unsigned char *end) {
  for (; s->need > 0 && p < end; p++) {
    if (*p < s->lo || *p > s->hi) return NULL;
    s->need--;
    s->lo = CONT_LO;
    s->hi = CONT_HI;
  }
  return p;
}

int mg_utf8_feed(struct mg_utf8_state *st, const void *data, size_t len) {
  if (st->need == ERROR_NEED) return MG_UTF8_INVALID;
  if (len == 0) return st->need ? MG_UTF8_INCOMPLETE : MG_UTF8_COMPLETE;
  const unsigned char *p = (const unsigned char *) data, *end = p + len;
  struct mg_utf8_state s = *st; /* a local copy stays in registers */
  p = continue_char(&s, p, end);
  while (p != NULL && p < end) {
    if (*p < 0x80) {
      p = skip_ascii(p, end);
    } else if (!start_char(&s, *p)) {
      p = NULL;
    } else if ((size_t) (end - p) > s.need) {
      p = whole_char(&s, p);
      s.need = 0;
    } else {
      p = continue_char(&s, p + 1, end); /* the text ends inside this character */
    }
  }
  if (p == NULL) return fail(st);
  *st = s;
  return s.need ? MG_UTF8_INCOMPLETE : MG_UTF8_COMPLETE;
}

int mg_utf8_valid(const void *data, size_t len) {
  struct mg_utf8_state st;
  mg_utf8_init(&st);
  return mg_utf8_feed(&st, data, len) == MG_UTF8_COMPLETE;
}
