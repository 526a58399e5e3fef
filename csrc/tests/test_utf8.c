/*
 * UTF-8 validation: hand-written RFC 3629 cases, then every 1- and 2-byte text and a grid
 * of 3- and 4-byte texts against a reference that decodes code points arithmetically
 * (independent of the lead-byte table in utf8.c). Every text is fed whole, one byte at a
 * time and split in two at every point, and the byte where MG_UTF8_INVALID first appears
 * must be the first byte after which no valid continuation exists.
 */
#include <string.h>

#include "mgio.h"
#include "test.h"

/* ---- reference ---- */

/* 1 when s[0..n) is a complete valid text, by decoding each code point. */
static int ref_valid(const unsigned char *s, size_t n) {
  size_t i = 0;
  while (i < n) {
    unsigned c = s[i], len, cp, min;
    if (c < 0x80) {
      i++;
      continue;
    }
    if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f, min = 0x80;
    else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f, min = 0x800;
    else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07, min = 0x10000;
    else return 0;
    if (n - i < len) return 0;
    for (unsigned k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return 0;
      cp = cp << 6 | (s[i + k] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    i += len;
  }
  return 1;
}

/* What a validator must say after s[0..n). A prefix is extendable when some completion
 * exists; trying continuation bytes that are all 80 or all BF is enough, since each
 * restricted second-byte range (E0 A0-BF, ED 80-9F, F0 90-BF, F4 80-8F) holds one. */
static int ref_status(const unsigned char *s, size_t n) {
  unsigned char buf[64];
  if (ref_valid(s, n)) return MG_UTF8_COMPLETE;
  if (n > sizeof(buf) - 3) return -99; /* only short texts come here; fails any check */
  for (size_t k = 1; k <= 3; k++) {
    memcpy(buf, s, n);
    memset(buf + n, 0x80, k);
    if (ref_valid(buf, n + k)) return MG_UTF8_INCOMPLETE;
    memset(buf + n, 0xbf, k);
    if (ref_valid(buf, n + k)) return MG_UTF8_INCOMPLETE;
  }
  return MG_UTF8_INVALID;
}

/* ---- checks ---- */

static int feed_parts(const void *s, size_t n, size_t split, int *first) {
  struct mg_utf8_state st;
  mg_utf8_init(&st);
  *first = mg_utf8_feed(&st, s, split);
  return mg_utf8_feed(&st, (const char *) s + split, n - split);
}

/* Feeds one byte at a time; returns the index of the byte that first gave INVALID (-1 if
 * none), and 0 from `ok` if a later byte forgot the error. */
static long invalid_at_byte(const unsigned char *s, size_t n, int *ok) {
  struct mg_utf8_state st = {0, 0, 0}; /* a zero-filled state is a valid start */
  long at = -1;
  *ok = 1;
  for (size_t i = 0; i < n; i++) {
    int r = mg_utf8_feed(&st, s + i, 1);
    if (r == MG_UTF8_INVALID && at < 0) at = (long) i;
    if (at >= 0 && (r != MG_UTF8_INVALID || st.need != 0xff)) *ok = 0;
  }
  return at;
}

/* Every check on one text whose expected outcome is `status`, first failing at byte
 * `bad` (-1 for none). Returns 0 on the first disagreement. */
static int check_text(const unsigned char *s, size_t n, int status, long bad) {
  int first, ok;
  if (feed_parts(s, n, n, &first) != status) return 0; /* whole, then an empty feed */
  if (mg_utf8_valid(s, n) != (status == MG_UTF8_COMPLETE)) return 0;
  if (invalid_at_byte(s, n, &ok) != bad || !ok) return 0;
  for (size_t k = 0; k <= n; k++) {
    if (feed_parts(s, n, k, &first) != status) return 0;
    /* The first part fails exactly when it holds the bad byte. */
    if ((first == MG_UTF8_INVALID) != (bad >= 0 && (size_t) bad < k)) return 0;
  }
  return 1;
}

/* check_text with the expected outcome taken from the reference. */
static int check_against_ref(const unsigned char *s, size_t n) {
  long bad = -1;
  for (size_t k = 1; k <= n && bad < 0; k++) {
    if (ref_status(s, k) == MG_UTF8_INVALID) bad = (long) k - 1;
  }
  return check_text(s, n, ref_status(s, n), bad);
}

/* ---- hand-written cases ---- */

struct utf8_case {
  const char *s;
  size_t n;
  int status;
  long bad; /* the first byte that makes the text impossible, or -1 */
};

#define OK(lit) {lit, sizeof(lit) - 1, MG_UTF8_COMPLETE, -1}
#define PART(lit) {lit, sizeof(lit) - 1, MG_UTF8_INCOMPLETE, -1}
#define BAD(lit, at) {lit, sizeof(lit) - 1, MG_UTF8_INVALID, at}

static const struct utf8_case cases[] = {
    OK(""), OK("a"), OK("\x00"), OK("hello, world"),
    OK("\x7f"),                 /* U+007F, last 1-byte */
    OK("\xc2\x80"),             /* U+0080, first 2-byte */
    OK("\xdf\xbf"),             /* U+07FF, last 2-byte */
    OK("\xe0\xa0\x80"),         /* U+0800, first 3-byte */
    OK("\xed\x9f\xbf"),         /* U+D7FF, below the surrogates */
    OK("\xee\x80\x80"),         /* U+E000, above the surrogates */
    OK("\xef\xbf\xbf"),         /* U+FFFF, last 3-byte */
    OK("\xf0\x90\x80\x80"),     /* U+10000, first 4-byte */
    OK("\xf4\x8f\xbf\xbf"),     /* U+10FFFF, the last code point */
    OK("\xef\xbb\xbf"),         /* BOM */
    OK("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), /* Greek "kosme" */
    OK("a\xc3\xa9z\xe4\xb8\xad\xf0\x9f\x98\x80!"),
    PART("\xc2"), PART("\xe0"), PART("\xe0\xa0"), PART("\xed\x9f"), PART("\xf0"),
    PART("\xf0\x90"), PART("\xf0\x90\x80"), PART("\xf4\x8f\xbf"), PART("ab\xe4\xb8"),
    BAD("\x80", 0), BAD("\xbf", 0), BAD("a\x80", 1),      /* stray continuations */
    BAD("\xe4\xb8\xad\x80", 3), BAD("\xc3\xa9\xbf", 2),
    BAD("\xc0\x80", 0), BAD("\xc1\xbf", 0),               /* overlong 2-byte leads */
    BAD("\xe0\x80\x80", 1), BAD("\xe0\x9f\xbf", 1),       /* overlong 3-byte */
    BAD("\xf0\x80\x80\x80", 1), BAD("\xf0\x8f\xbf\xbf", 1), /* overlong 4-byte */
    BAD("\xed\xa0\x80", 1), BAD("\xed\xbf\xbf", 1),       /* U+D800, U+DFFF */
    BAD("\xed\xa0", 1), BAD("ok\xed\xb0\x80", 3),
    BAD("\xf4\x90\x80\x80", 1), BAD("\xf4\xbf", 1),       /* above U+10FFFF */
    BAD("\xf5\x80\x80\x80", 0), BAD("\xf7\xbf\xbf\xbf", 0),
    BAD("\xf8\x88\x80\x80\x80", 0), BAD("\xfc\x84\x80\x80\x80\x80", 0),
    BAD("\xfe", 0), BAD("\xff", 0),
    BAD("\xc2\x41", 1), BAD("\xe4\xb8\x41", 2), BAD("\xf0\x90\x80\x41", 3), /* cut short */
    BAD("\xc2\xc2\x80", 1), BAD("\xe4\xe4\xb8\xad", 1),
    BAD("\xc3\xa9\xff\xc3\xa9", 2),
};

TEST(utf8_rfc3629_cases) {
  for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
    const struct utf8_case *c = &cases[i];
    const unsigned char *s = (const unsigned char *) c->s;
    CHECK(check_text(s, c->n, c->status, c->bad));
    CHECK(check_against_ref(s, c->n)); /* the reference agrees with the table */
  }
}

TEST(utf8_error_is_sticky) {
  struct mg_utf8_state st;
  mg_utf8_init(&st);
  CHECK(mg_utf8_feed(&st, "\xc3", 1) == MG_UTF8_INCOMPLETE);
  CHECK(mg_utf8_feed(&st, "(", 1) == MG_UTF8_INVALID);
  CHECK(st.need == 0xff);
  CHECK(mg_utf8_feed(&st, "ok", 2) == MG_UTF8_INVALID);
  CHECK(mg_utf8_feed(&st, NULL, 0) == MG_UTF8_INVALID);
  mg_utf8_init(&st); /* init starts a new text */
  CHECK(mg_utf8_feed(&st, "ok", 2) == MG_UTF8_COMPLETE);
}

TEST(utf8_empty_feeds) {
  struct mg_utf8_state st;
  mg_utf8_init(&st);
  CHECK(mg_utf8_feed(&st, NULL, 0) == MG_UTF8_COMPLETE);
  CHECK(mg_utf8_valid(NULL, 0) == 1);
  CHECK(mg_utf8_feed(&st, "\xf0\x9f", 2) == MG_UTF8_INCOMPLETE);
  CHECK(mg_utf8_feed(&st, NULL, 0) == MG_UTF8_INCOMPLETE);
  CHECK(mg_utf8_feed(&st, "\x98", 1) == MG_UTF8_INCOMPLETE);
  CHECK(mg_utf8_feed(&st, "\x80", 1) == MG_UTF8_COMPLETE);
}

/* ---- systematic ---- */

TEST(utf8_every_1_and_2_byte_text) {
  unsigned char s[2];
  for (unsigned a = 0; a < 256; a++) {
    s[0] = (unsigned char) a;
    CHECK(check_against_ref(s, 1));
    for (unsigned b = 0; b < 256; b++) {
      s[1] = (unsigned char) b;
      CHECK(check_against_ref(s, 2));
    }
  }
}

/* Byte values at the edges of every range RFC 3629 distinguishes. */
static const unsigned char edges[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
                                      0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xed, 0xef,
                                      0xf0, 0xf4, 0xf5, 0xff};
#define NUM_EDGES (sizeof(edges) / sizeof(edges[0]))

TEST(utf8_3_byte_texts_every_lead_and_second_byte) {
  unsigned char s[3];
  for (unsigned a = 0x80; a < 256; a++) {
    for (unsigned b = 0; b < 256; b++) {
      for (size_t k = 0; k < NUM_EDGES; k++) {
        s[0] = (unsigned char) a, s[1] = (unsigned char) b, s[2] = edges[k];
        CHECK(check_against_ref(s, 3));
      }
    }
  }
}

TEST(utf8_4_byte_texts_around_the_4_byte_leads) {
  static const unsigned char leads[] = {0xc2, 0xe0, 0xed, 0xef, 0xf0, 0xf1,
                                        0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xff};
  /* After a 4-byte lead and its second byte, what matters is continuation or not. */
  static const unsigned char tail[] = {0x00, 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xf0, 0xff};
  unsigned char s[4];
  for (size_t a = 0; a < sizeof(leads); a++) {
    for (unsigned b = 0; b < 256; b++) {
      for (size_t c = 0; c < sizeof(tail); c++) {
        for (size_t d = 0; d < sizeof(tail); d++) {
          s[0] = leads[a], s[1] = (unsigned char) b, s[2] = tail[c], s[3] = tail[d];
          CHECK(check_against_ref(s, 4));
        }
      }
    }
  }
}

/* The word-at-a-time ASCII path: a character at every offset of a long ASCII run, at
 * every alignment, so that each byte lane and the byte-wise tail are exercised. */
TEST(utf8_ascii_fast_path_finds_every_position) {
  unsigned char buf[80];
  for (size_t start = 0; start < 8; start++) {
    for (size_t pos = start; pos + 2 <= sizeof(buf); pos++) {
      memset(buf, 'x', sizeof(buf));
      buf[pos] = 0xc3, buf[pos + 1] = 0xa9; /* U+00E9 */
      CHECK(mg_utf8_valid(buf + start, sizeof(buf) - start) == 1);
      CHECK(mg_utf8_valid(buf + start, pos + 1 - start) == 0);
      buf[pos + 1] = 'x'; /* the lead now has no continuation */
      CHECK(check_text(buf + start, sizeof(buf) - start, MG_UTF8_INVALID,
                       (long) (pos + 1 - start)));
      buf[pos] = 0x80; /* a stray continuation in the ASCII run */
      CHECK(check_text(buf + start, sizeof(buf) - start, MG_UTF8_INVALID,
                       (long) (pos - start)));
    }
  }
}

TEST(utf8_every_code_point_encodes_valid) {
  unsigned char s[4];
  for (unsigned long cp = 0; cp <= 0x10ffff; cp++) {
    size_t n;
    if (cp < 0x80) {
      s[0] = (unsigned char) cp, n = 1;
    } else if (cp < 0x800) {
      s[0] = (unsigned char) (0xc0 | cp >> 6), n = 2;
    } else if (cp < 0x10000) {
      s[0] = (unsigned char) (0xe0 | cp >> 12), n = 3;
    } else {
      s[0] = (unsigned char) (0xf0 | cp >> 18), n = 4;
    }
    for (size_t k = 1; k < n; k++) {
      s[k] = (unsigned char) (0x80 | ((cp >> (6 * (n - 1 - k))) & 0x3f));
    }
    int surrogate = cp >= 0xd800 && cp <= 0xdfff;
    CHECK(mg_utf8_valid(s, n) == !surrogate);
  }
}
