/* The streaming multipart parser (proto/multipart.c): vectors fed whole, byte by byte, at
 * every split point and every pair of split points, also by a caller that consumes
 * only part of each data offer; boundaries across splits, empty parts and values,
 * 1000 and 1001 parts, data holding the boundary text, LF-only delimiters, a missing
 * close delimiter, header sections at and over the limit, preamble and epilogue, quoted
 * names with escapes; random bodies against a simple whole-buffer model; and
 * mg_parse_multipart. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../proto/multipart.h"
#include "mgio.h"
#include "test.h"

/* ---- an event log: the same for every way of feeding a body ------------------------ */

struct log {
  char *p;
  size_t len, cap;
};

static void log_add(struct log *l, const char *s, size_t n) {
  if (l->len + n + 1 > l->cap) {
    size_t cap = (l->len + n + 1) * 2;
    char *p = (char *) realloc(l->p, cap);
    if (p == NULL) abort();
    l->p = p;
    l->cap = cap;
  }
  memcpy(l->p + l->len, s, n);
  l->len += n;
  l->p[l->len] = '\0';
}

static void log_str(struct log *l, const char *s) {
  log_add(l, s, strlen(s));
}

/* "{name|filename|content-type}" ('~' for an absent one), the data bytes, "$" for a
 * part's end, "." for done, "!<err>" for an error. */
static void log_begin(struct log *l, struct mg_str name, struct mg_str file, struct mg_str ct) {
  char *tmp = (char *) test_malloc(name.len + file.len + 1);
  if (tmp == NULL) abort();
  log_str(l, "{");
  log_add(l, tmp, mg__mp_unquote(name, tmp));
  log_str(l, "|");
  if (file.p == NULL) {
    log_str(l, "~");
  } else {
    log_add(l, tmp, mg__mp_unquote(file, tmp));
  }
  log_str(l, "|");
  if (ct.p == NULL) {
    log_str(l, "~");
  } else {
    log_add(l, ct.p, ct.len);
  }
  log_str(l, "}");
  test_free(tmp);
}

static void log_error(struct log *l, int err) {
  char s[8];
  snprintf(s, sizeof(s), "!%d", err);
  log_str(l, s);
}

/* ---- the feeder ---------------------------------------------------------------------- */

/* Feeds body[0 .. n) to a parser with boundary `b` in pieces of the sizes pieces[0 ..
 * npieces) (npieces 0: whole), as a connection would: unconsumed bytes stay at the front
 * of a pending buffer and the next piece is appended. Each call sees an exact-size heap
 * copy, so sanitizers catch over-reads. With `stingy`, only half of each data offer
 * (rounded up) is consumed. Returns the log (the caller frees l->p). */
static struct log feed(const char *b, const char *body, size_t n, const size_t *pieces,
                       size_t npieces, int stingy, const struct mg__mp_limits *lim) {
  struct log l = {NULL, 0, 0};
  struct mg__mp st;
  char *pend = (char *) test_malloc(n + 1);
  size_t plen = 0, given = 0;
  if (pend == NULL) abort();
  log_str(&l, "");
  if (mg__mp_init(&st, mg_mk_str(b), lim) != 0) {
    log_error(&l, st.err);
    test_free(pend);
    return l;
  }
  for (size_t k = 0; k < (npieces > 0 ? npieces : 1); k++) {
    size_t piece = npieces > 0 ? pieces[k] : n;
    memcpy(pend + plen, body + given, piece);
    plen += piece;
    given += piece;
    int at_end = k + 1 == (npieces > 0 ? npieces : 1);
    for (int guard = 0;; guard++) {
      struct mg__mp_event ev;
      char *copy = (char *) test_malloc(plen > 0 ? plen : 1);
      if (copy == NULL || guard > 100000) abort();
      memcpy(copy, pend, plen);
      size_t used = mg__mp_parse(&st, plen > 0 ? copy : NULL, plen, at_end, &ev);
      if (used > plen) abort();
      int stop = 0;
      switch (ev.type) {
        case MG__MP_PART_BEGIN:
          log_begin(&l, ev.name, ev.filename, ev.content_type);
          break;
        case MG__MP_PART_DATA:
        {
          size_t take = stingy ? (ev.data.len + 1) / 2 : ev.data.len;
          if (ev.data.p != copy + used - ev.data.len || ev.data.len == 0) abort();
          log_add(&l, ev.data.p, take);
          used -= ev.data.len - take;
          break;
        }
        case MG__MP_PART_END:
          log_str(&l, "$");
          break;
        case MG__MP_DONE:
          if (used != plen) abort();
          if (at_end) log_str(&l, ".");
          stop = 1;
          break;
        case MG__MP_ERROR:
          log_error(&l, ev.err);
          stop = 2;
          break;
        default:
          if (at_end) abort(); /* never NEED_MORE at the end */
          stop = 1;
          break;
      }
      test_free(copy);
      memmove(pend, pend + used, plen - used);
      plen -= used;
      if (stop == 2) {
        test_free(pend);
        return l;
      }
      if (stop) break;
    }
  }
  test_free(pend);
  return l;
}

/* Every way: whole, byte by byte, split in two at every point, in three at every pair
 * of points (short bodies), whole and byte by byte consuming half of each offer. The
 * logs must all equal `want`. */
static int all_ways(const char *b, const char *body, size_t n, const char *want, size_t want_len,
                    const struct mg__mp_limits *lim) {
  size_t *ones = (size_t *) test_malloc((n > 0 ? n : 1) * sizeof(size_t));
  int ok = 1;
  if (ones == NULL) return 0;
  for (size_t i = 0; i < n; i++) ones[i] = 1;
  for (int way = 0; ok && way < 4; way++) {
    struct log l = feed(b, body, n, way & 1 ? ones : NULL, way & 1 ? n : 0, way >= 2, lim);
    ok = l.len == want_len && memcmp(l.p, want, want_len) == 0;
    if (!ok) fprintf(stderr, "way %d: got [%s] want [%s]\n", way, l.p, want);
    test_free(l.p);
  }
  for (size_t i = 0; ok && i <= n; i++) {
    size_t two[2] = {i, n - i};
    struct log l = feed(b, body, n, two, 2, 0, lim);
    ok = l.len == want_len && memcmp(l.p, want, want_len) == 0;
    if (!ok) fprintf(stderr, "split %zu: got [%s] want [%s]\n", i, l.p, want);
    test_free(l.p);
    for (size_t j = i; ok && n <= 160 && j <= n; j++) {
      size_t three[3] = {i, j - i, n - j};
      l = feed(b, body, n, three, 3, 0, lim);
      ok = l.len == want_len && memcmp(l.p, want, want_len) == 0;
      if (!ok) fprintf(stderr, "splits %zu %zu: got [%s] want [%s]\n", i, j, l.p, want);
      test_free(l.p);
    }
  }
  test_free(ones);
  return ok;
}

#define CD "Content-Disposition: form-data; "
#define TRUNC "!2"
#define PAD "!3"
#define HDR "!4"
#define HSIZE "!5"
#define DISP "!6"
#define NONAME "!7"
#define MANY "!8"

struct vec {
  const char *boundary, *body, *want;
};

static const struct vec vecs[] = {
    /* the simplest bodies */
    {"b", "--b\r\n" CD "name=a\r\n\r\nxyz\r\n--b--\r\n", "{a|~|~}xyz$."},
    {"b", "--b\r\n" CD "name=\"a\"\r\n\r\nxyz\r\n--b--", "{a|~|~}xyz$."},
    {"b", "--b--", "."},
    {"b", "--b--\r\n", "."},
    {"b", "\r\n--b--\r\n", "."},
    {"xyz",
     "--xyz\r\n" CD "name=\"f\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n"
     "hello\r\n--xyz\r\n" CD "name=\"g\"\r\n\r\nworld\r\n--xyz--\r\n",
     "{f|a.txt|text/plain}hello${g|~|~}world$."},
    /* empty parts and empty values */
    {"b", "--b\r\n" CD "name=a\r\n\r\n\r\n--b\r\n" CD "name=\"\"\r\n\r\n\r\n--b--\r\n",
     "{a|~|~}${|~|~}$."},
    {"b", "--b\r\n" CD "name=a; filename=\"\"\r\n\r\n\r\n--b--", "{a||~}$."},
    /* preamble and epilogue */
    {"b", "preamble\r\n--b\r\n" CD "name=a\r\n\r\n1\r\n--b--\r\nepilogue --b\r\n",
     "{a|~|~}1$."},
    {"b", "x--b\r\n--b\r\n" CD "name=a\r\n\r\n1\r\n--b--", "{a|~|~}1$."},
    {"b", "\r\n\r\n--b\r\n" CD "name=a\r\n\r\n1\r\n--b--junk", "{a|~|~}1$."},
    {"b", "--bx\r\n--b\r\n" CD "name=a\r\n\r\n1\r\n--b--", "{a|~|~}1$."},
    /* transport padding */
    {"b", "--b \t \r\n" CD "name=a\r\n\r\n1\r\n--b\t\r\n" CD "name=b\r\n\r\n2\r\n--b--  \r\n",
     "{a|~|~}1${b|~|~}2$."},
    {"b",
     "--b\r\n" CD "name=a\r\n\r\n1\r\n--b"
     "                                                                \r\n" CD
     "name=b\r\n\r\n2\r\n--b--",
     "{a|~|~}1${b|~|~}2$."},
    {"b",
     "--b\r\n" CD "name=a\r\n\r\n1\r\n--b"
     "                                                                 \r\n" CD
     "name=b\r\n\r\n2\r\n--b--",
     "{a|~|~}1" PAD},
    /* data holding the boundary text stays data */
    {"b", "--b\r\n" CD "name=a\r\n\r\n--b\r\n--b--", "{a|~|~}--b$."},
    {"b", "--b\r\n" CD "name=a\r\n\r\nx--b\r\ny\r\n--b--", "{a|~|~}x--b\r\ny$."},
    {"b", "--b\r\n" CD "name=a\r\n\r\n\r\n--bx\r\n--b -\r\n--b-x\r\n--b\r\r\n--b--",
     "{a|~|~}\r\n--bx\r\n--b -\r\n--b-x\r\n--b\r$."},
    {"b", "--b\r\n" CD "name=a\r\n\r\n\n--b\r\n\r--b\r\n--b--", "{a|~|~}\n--b\r\n\r--b$."},
    {"bound", "--bound\r\n" CD "name=a\r\n\r\n\r\n--boun\r\n--bounds\r\n--bound--",
     "{a|~|~}\r\n--boun\r\n--bounds$."},
    /* boundaries with dashes overlapping the delimiter's own */
    {"-", "---\r\n" CD "name=a\r\n\r\n-\r\n--\r\n---x\r\n---\r\n" CD "name=b\r\n\r\n\r\n-----",
     "{a|~|~}-\r\n--\r\n---x${b|~|~}$."},
    {"--x", "----x\r\n" CD "name=a\r\n\r\n\r\n----\r\n----x--", "{a|~|~}\r\n----$."},
    {"a b", "--a b\r\n" CD "name=a\r\n\r\n1\r\n--a b--", "{a|~|~}1$."},
    /* quoted names */
    {"b", "--b\r\n" CD "name=\"a\\\"b\"; filename=\"c\\\\d\\e\"\r\n\r\n\r\n--b--",
     "{a\"b|c\\d\\e|~}$."},
    {"b", "--b\r\n" CD "name=\"a;b=c\" ; filename = \"x y\" ;\r\n\r\n\r\n--b--", "{a;b=c|x y|~}$."},
    {"b", "--b\r\nCONTENT-disposition:Form-Data;NAME=n;FileName=f;other=\"x\";\r\n\r\n\r\n--b--",
     "{n|f|~}$."},
    {"b", "--b\r\nContent-Disposition: attachment; name=n\r\n\r\n\r\n--b--", DISP},
    {"b", "--b\r\n" CD "filename*=UTF-8''a%20b; name=\"\xc3\xa9\"\r\n\r\n\r\n--b--",
     "{\xc3\xa9|~|~}$."},
    {"b", "--b\r\nContent-Type:  text/x \t\r\nX-Other: 1\r\n" CD "name=a\r\n\r\n\r\n--b--",
     "{a|~|text/x}$."},
    /* malformed part headers */
    {"b", "--b\r\n\r\n\r\n--b--", NONAME},
    {"b", "--b\r\nContent-Type: text/plain\r\n\r\n\r\n--b--", NONAME},
    {"b", "--b\r\n" CD "filename=a\r\n\r\n\r\n--b--", NONAME},
    {"b", "--b\r\n" CD "name=a\r\n" CD "name=b\r\n\r\n\r\n--b--", HDR},
    {"b", "--b\r\n" CD "name=a\r\nContent-Type: a\r\nContent-Type: b\r\n\r\n\r\n--b--", HDR},
    {"b", "--b\r\n" CD "name=a; name=b\r\n\r\n\r\n--b--", DISP},
    {"b", "--b\r\n" CD "name=\"a\r\n\r\n\r\n--b--", DISP},
    {"b", "--b\r\n" CD "name=\"a\\\"\r\n\r\n\r\n--b--", DISP},
    {"b", "--b\r\n" CD "name=a b\r\n\r\n\r\n--b--", DISP},
    {"b", "--b\r\n" CD "name=\r\n\r\n\r\n--b--", DISP},
    {"b", "--b\r\n" CD "=a\r\n\r\n\r\n--b--", DISP},
    {"b", "--b\r\nContent-Disposition: ; name=a\r\n\r\n\r\n--b--", DISP},
    {"b", "--b\r\n" CD "name=\"a\"x\r\n\r\n\r\n--b--", DISP},
    {"b", "--b\r\n" CD "name=\xc3\xa9\r\n\r\n\r\n--b--", DISP},
    {"b", "--b\r\nContent-Disposition : form-data; name=a\r\n\r\n\r\n--b--", HDR},
    {"b", "--b\r\n" CD "name=a\r\n folded\r\n\r\n\r\n--b--", HDR},
    {"b", "--b\r\n" CD "name=\"a\x01\"\r\n\r\n\r\n--b--", HDR},
    {"b", "--b\r\n" CD "name=a\x7f\r\n\r\n\r\n--b--", HDR},
    {"b", "--b\r\nNoColon\r\n" CD "name=a\r\n\r\n\r\n--b--", HDR},
    /* line ends */
    {"b", "--b\r\n" CD "name=a\n\r\n\r\n--b--", HDR},
    {"b", "--b\r\n" CD "name=a\r\n\n\r\n--b--", HDR},
    {"b", "--b\r\n" CD "name=a\r\r\n\r\n--b--", HDR},
    {"b", "--b\r\n\n", HDR},
    {"b", "--b\n" CD "name=a\n\nx\n--b--\n", TRUNC},
    {"b", "--b\r\n" CD "name=a\r\n\r\nx\n--b--\n", "{a|~|~}x\n--b--\n" TRUNC},
    /* missing or late close delimiter */
    {"b", "", TRUNC},
    {"b", "--b", TRUNC},
    {"b", "--b\r\n", TRUNC},
    {"b", "--b\r\n" CD "name=a\r\n", TRUNC},
    {"b", "--b\r\n" CD "name=a\r\n\r\nxyz", "{a|~|~}xyz" TRUNC},
    {"b", "--b\r\n" CD "name=a\r\n\r\nxyz\r\n--b", "{a|~|~}xyz\r\n--b" TRUNC},
    {"b", "--b\r\n" CD "name=a\r\n\r\nxyz\r\n--b-", "{a|~|~}xyz\r\n--b-" TRUNC},
    {"b", "--b\r\n" CD "name=a\r\n\r\nxyz\r\n--b\r\n", "{a|~|~}xyz$" TRUNC},
    {"b", "no delimiter at all", TRUNC},
};

TEST(multipart_vectors_every_split) {
  for (size_t i = 0; i < sizeof(vecs) / sizeof(vecs[0]); i++) {
    const struct vec *v = &vecs[i];
    if (!all_ways(v->boundary, v->body, strlen(v->body), v->want, strlen(v->want), NULL)) {
      mgio_test_fail(__FILE__, (int) i, v->body); /* line number = vector index */
      return;
    }
  }
}

TEST(multipart_binary_data_every_split) {
  static const char body[] =
      "--B\r\n" CD "name=bin; filename=x.bin\r\nContent-Type: application/octet-stream\r\n\r\n"
      "\0\xff--B\r\n\r\n--B\x00\r\n--B-\r\n--BB\r\n\r\r\n--\r\n-\0\r\n"
      "\r\n--B\r\n" CD "name=z\r\n\r\n\0\r\n--B--\r\n";
  static const char want[] =
      "{bin|x.bin|application/octet-stream}"
      "\0\xff--B\r\n\r\n--B\x00\r\n--B-\r\n--BB\r\n\r\r\n--\r\n-\0\r\n"
      "${z|~|~}\0$.";
  CHECK(all_ways("B", body, sizeof(body) - 1, want, sizeof(want) - 1, NULL));
}

TEST(multipart_boundary_validation) {
  struct mg__mp st;
  char b71[72];
  memset(b71, 'a', 71);
  b71[71] = '\0';
  CHECK(mg__mp_init(&st, mg_mk_str_n(b71, 70), NULL) == 0);
  CHECK(st.delim_len == 74);
  CHECK(mg__mp_init(&st, mg_mk_str_n(b71, 71), NULL) == -1);
  CHECK(st.err == MG__MP_EBOUNDARY);
  struct mg__mp_event ev;
  CHECK(mg__mp_parse(&st, "--", 2, 1, &ev) == 0 && ev.type == MG__MP_ERROR &&
        ev.err == MG__MP_EBOUNDARY);
  CHECK(mg__mp_init(&st, mg_mk_str(""), NULL) == -1);
  CHECK(mg__mp_init(&st, mg_mk_str_n(NULL, 0), NULL) == -1);
  CHECK(mg__mp_init(&st, mg_mk_str("ab "), NULL) == -1);
  CHECK(mg__mp_init(&st, mg_mk_str(" ab"), NULL) == 0);
  CHECK(mg__mp_init(&st, mg_mk_str("a\"b"), NULL) == -1);
  CHECK(mg__mp_init(&st, mg_mk_str("a;b"), NULL) == -1);
  CHECK(mg__mp_init(&st, mg_mk_str_n("a\0b", 3), NULL) == -1);
  CHECK(mg__mp_init(&st, mg_mk_str("a\r"), NULL) == -1);
  CHECK(mg__mp_init(&st, mg_mk_str("'()+_,-./:=?09azAZ"), NULL) == 0);
  struct mg__mp_limits lim = {5, 0, 0};
  CHECK(mg__mp_init(&st, mg_mk_str("abcde"), &lim) == 0);
  CHECK(mg__mp_init(&st, mg_mk_str("abcdef"), &lim) == -1);
  lim.boundary = 1000; /* capped at 70 */
  CHECK(mg__mp_init(&st, mg_mk_str_n(b71, 71), &lim) == -1);
  CHECK(strcmp(mg__mp_strerror(MG__MP_ENONAME), "part without a Content-Disposition name") == 0);
  CHECK(strcmp(mg__mp_strerror(99), "unknown error") == 0);
}

TEST(multipart_boundary_of_70_across_splits) {
  char b[71], body[512], want[128];
  for (int i = 0; i < 70; i++) b[i] = (char) ('a' + i % 26);
  b[70] = '\0';
  snprintf(body, sizeof(body),
           "--%s\r\n" CD "name=a\r\n\r\n\r\n--%.69s\r\n--%s\r\n" CD
           "name=b\r\n\r\n\r\n--%s--",
           b, b, b, b);
  snprintf(want, sizeof(want), "{a|~|~}\r\n--%.69s${b|~|~}$.", b);
  CHECK(all_ways(b, body, strlen(body), want, strlen(want), NULL));
}

/* A body of `parts` empty-valued parts. */
static char *many_parts(size_t parts, size_t *len) {
  static const char part[] = "--b\r\n" CD "name=p\r\n\r\nv\r\n";
  size_t n = parts * (sizeof(part) - 1) + 7;
  char *body = (char *) test_malloc(n + 1);
  if (body == NULL) abort();
  for (size_t i = 0; i < parts; i++) memcpy(body + i * (sizeof(part) - 1), part, sizeof(part) - 1);
  memcpy(body + parts * (sizeof(part) - 1), "--b--\r\n", 8);
  *len = n;
  return body;
}

TEST(multipart_part_count_limit) {
  size_t n;
  char *body = many_parts(1000, &n);
  struct log l = feed("b", body, n, NULL, 0, 0, NULL);
  struct log want = {NULL, 0, 0};
  for (int i = 0; i < 1000; i++) log_str(&want, "{p|~|~}v$");
  log_str(&want, ".");
  int ok = l.len == want.len && memcmp(l.p, want.p, want.len) == 0;
  test_free(l.p);
  test_free(body);
  body = many_parts(1001, &n);
  l = feed("b", body, n, NULL, 0, 0, NULL);
  want.len = want.len - 2; /* the 1000th part ends in the error, without its "$" */
  log_str(&want, MANY);
  ok = ok && l.len == want.len && memcmp(l.p, want.p, want.len) == 0;
  test_free(l.p);
  test_free(want.p);
  test_free(body);
  CHECK(ok);
  /* a lower limit, every split */
  struct mg__mp_limits lim = {0, 0, 2};
  static const char three[] =
      "--b\r\n" CD "name=1\r\n\r\n\r\n--b\r\n" CD "name=2\r\n\r\n\r\n--b\r\n" CD "name=3\r\n\r\n\r\n--b--";
  static const char two_then_error[] = "{1|~|~}${2|~|~}" MANY;
  static const char three_parts[] = "{1|~|~}${2|~|~}${3|~|~}$.";
  CHECK(all_ways("b", three, strlen(three), two_then_error, strlen(two_then_error), &lim));
  lim.parts = 3;
  CHECK(all_ways("b", three, strlen(three), three_parts, strlen(three_parts), &lim));
}

/* A header section of exactly `size` bytes (CRLFs and the empty line included). */
static char *header_body(size_t size, size_t *len) {
  static const char head[] = CD "name=a\r\nX-Pad: ";
  size_t pad = size - (sizeof(head) - 1) - 4;
  char *body = (char *) test_malloc(size + 64);
  if (body == NULL) abort();
  size_t n = 0;
  memcpy(body, "--b\r\n", 5);
  n = 5;
  memcpy(body + n, head, sizeof(head) - 1);
  n += sizeof(head) - 1;
  memset(body + n, 'x', pad);
  n += pad;
  memcpy(body + n, "\r\n\r\nD\r\n--b--", 12);
  n += 12;
  *len = n;
  return body;
}

TEST(multipart_header_section_limit) {
  size_t n;
  for (size_t size = 8190; size <= 8194; size++) {
    char *body = header_body(size, &n);
    const char *want = size <= 8192 ? "{a|~|~}D$." : HSIZE;
    size_t pieces[3] = {100, 8000, n - 8100};
    struct log whole = feed("b", body, n, NULL, 0, 0, NULL);
    struct log split = feed("b", body, n, pieces, 3, 0, NULL);
    int ok = strcmp(whole.p, want) == 0 && strcmp(split.p, want) == 0;
    test_free(whole.p);
    test_free(split.p);
    test_free(body);
    CHECK(ok);
  }
  /* the error comes as soon as the limit is passed, without waiting for the end */
  struct mg__mp st;
  struct mg__mp_event ev;
  char *body = header_body(9000, &n);
  CHECK(mg__mp_init(&st, mg_mk_str("b"), NULL) == 0);
  CHECK(mg__mp_parse(&st, body, 5, 0, &ev) == 5 && ev.type == MG__MP_NEED_MORE);
  CHECK(mg__mp_parse(&st, body + 5, 8192, 0, &ev) == 0 && ev.type == MG__MP_NEED_MORE);
  CHECK(mg__mp_parse(&st, body + 5, 8193, 0, &ev) == 0 && ev.type == MG__MP_ERROR &&
        ev.err == MG__MP_EHEADERSIZE);
  test_free(body);
  /* a lower limit, every split */
  struct mg__mp_limits lim = {0, strlen(CD "name=abc\r\n\r\n"), 0};
  static const char fits[] = "--b\r\n" CD "name=abc\r\n\r\nv\r\n--b--";
  static const char over[] = "--b\r\n" CD "name=abcd\r\n\r\nv\r\n--b--";
  CHECK(all_ways("b", fits, strlen(fits), "{abc|~|~}v$.", 12, &lim));
  CHECK(all_ways("b", over, strlen(over), HSIZE, 2, &lim));
}

/* Data is held back only while it may still be a delimiter: one byte at a time, every
 * byte that cannot start one is delivered at once. */
TEST(multipart_holds_back_only_a_delimiter_prefix) {
  static const char body[] = "--b\r\n" CD "name=a\r\n\r\nab\r\n-x\r\n--b--";
  struct mg__mp st;
  struct mg__mp_event ev;
  size_t head = strlen("--b\r\n" CD "name=a\r\n\r\n");
  CHECK(mg__mp_init(&st, mg_mk_str("b"), NULL) == 0);
  CHECK(mg__mp_parse(&st, body, head, 0, &ev) == head && ev.type == MG__MP_PART_BEGIN);
  CHECK(mg__mp_parse(&st, body + head, 2, 0, &ev) == 2 && ev.type == MG__MP_PART_DATA);
  CHECK(mg__mp_parse(&st, body + head + 2, 1, 0, &ev) == 0 && ev.type == MG__MP_NEED_MORE);
  CHECK(mg__mp_parse(&st, body + head + 2, 3, 0, &ev) == 0 && ev.type == MG__MP_NEED_MORE);
  CHECK(mg__mp_parse(&st, body + head + 2, 4, 0, &ev) == 4 && ev.type == MG__MP_PART_DATA &&
        ev.data.len == 4);
  /* "\r\n--b" then padding: held back until the CRLF comes */
  CHECK(mg__mp_parse(&st, "x\r\n--b   ", 9, 0, &ev) == 1 && ev.type == MG__MP_PART_DATA);
  CHECK(mg__mp_parse(&st, "\r\n--b   ", 8, 0, &ev) == 0 && ev.type == MG__MP_NEED_MORE);
  CHECK(mg__mp_parse(&st, "\r\n--b   \r\n", 10, 0, &ev) == 10 && ev.type == MG__MP_PART_END);
  CHECK(st.parts == 2);
}

TEST(multipart_epilogue_and_done_repeat) {
  struct mg__mp st;
  struct mg__mp_event ev;
  CHECK(mg__mp_init(&st, mg_mk_str("b"), NULL) == 0);
  CHECK(mg__mp_parse(&st, "--b--\r\nxx", 9, 0, &ev) == 9 && ev.type == MG__MP_DONE);
  CHECK(mg__mp_parse(&st, "\r\nxx", 4, 0, &ev) == 4 && ev.type == MG__MP_DONE);
  CHECK(mg__mp_parse(&st, NULL, 0, 1, &ev) == 0 && ev.type == MG__MP_DONE);
  /* an error is sticky and consumes nothing */
  CHECK(mg__mp_init(&st, mg_mk_str("b"), NULL) == 0);
  CHECK(mg__mp_parse(&st, "--b\r\n\n", 6, 0, &ev) == 5 && ev.type == MG__MP_ERROR &&
        ev.err == MG__MP_EHEADER);
  CHECK(mg__mp_parse(&st, "\r\n", 2, 0, &ev) == 0 && ev.type == MG__MP_ERROR &&
        ev.err == MG__MP_EHEADER);
}

TEST(multipart_unquote) {
  char out[32];
  CHECK(mg__mp_unquote(mg_mk_str("a\\\"b"), out) == 3 && memcmp(out, "a\"b", 3) == 0);
  CHECK(mg__mp_unquote(mg_mk_str("C:\\dir\\x"), out) == 8 && memcmp(out, "C:\\dir\\x", 8) == 0);
  CHECK(mg__mp_unquote(mg_mk_str("\\\\\\\""), out) == 2 && memcmp(out, "\\\"", 2) == 0);
  CHECK(mg__mp_unquote(mg_mk_str("\\"), out) == 1 && out[0] == '\\');
  CHECK(mg__mp_unquote(mg_mk_str("token"), NULL) == 5);
  CHECK(mg__mp_unquote(mg_mk_str_n(NULL, 0), NULL) == 0);
}

/* ---- random bodies against a whole-buffer model ---------------------------------------- */

enum { K_NOT, K_DELIM, K_CLOSE, K_PAD };

static int tchar(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* What follows a boundary at b[j ..]: "--", or padding (at most 64) and CRLF. */
static int model_tail(const char *b, size_t n, size_t j, size_t *end) {
  if (j < n && b[j] == '-') {
    if (j + 1 < n && b[j + 1] == '-') {
      *end = j + 2;
      return K_CLOSE;
    }
    return K_NOT;
  }
  size_t k = j;
  while (k < n && (b[k] == ' ' || b[k] == '\t')) {
    if (++k - j > 64) return K_PAD;
  }
  if (k + 1 < n && b[k] == '\r' && b[k + 1] == '\n') {
    *end = k + 2;
    return K_DELIM;
  }
  return K_NOT;
}

/* The first delimiter at or after `from` (n when none); its kind and end. */
static size_t model_next(const char *b, size_t n, const char *bd, size_t from, int *kind,
                         size_t *end) {
  size_t bl = strlen(bd);
  for (size_t i = from; i + 4 + bl <= n; i++) {
    if (memcmp(b + i, "\r\n--", 4) != 0 || memcmp(b + i + 4, bd, bl) != 0) continue;
    *kind = model_tail(b, n, i + 4 + bl, end);
    if (*kind != K_NOT) return i;
  }
  *kind = K_NOT;
  return n;
}

/* Content-Disposition parameters, by splitting on ';' outside quotes. */
static int model_disposition(const char *v, size_t n, struct mg_str *name, struct mg_str *file) {
  size_t i = 0, seg = 0;
  int first = 1;
  while (seg <= n) {
    /* the segment runs to the next ';' outside a quoted string */
    size_t e = seg;
    int q = 0;
    while (e < n && (q || v[e] != ';')) {
      if (q && v[e] == '\\') {
        e++;
      } else if (v[e] == '"') {
        q = !q;
      }
      e++;
    }
    if (q || e > n) return 6;
    size_t a = seg, z = e;
    while (a < z && (v[a] == ' ' || v[a] == '\t')) a++;
    while (z > a && (v[z - 1] == ' ' || v[z - 1] == '\t')) z--;
    if (first) {
      if (z - a != 9 || mg_ncasecmp(v + a, "form-data", 9) != 0) return 6; /* RFC 7578 4.2 */
      first = 0;
    } else if (a < z) {
      size_t eq = a;
      while (eq < z && v[eq] != '=') eq++;
      if (eq == z) return 6;
      size_t ne = eq, vs = eq + 1;
      while (ne > a && (v[ne - 1] == ' ' || v[ne - 1] == '\t')) ne--;
      while (vs < z && (v[vs] == ' ' || v[vs] == '\t')) vs++;
      if (ne == a) return 6;
      for (i = a; i < ne; i++) {
        if (!tchar((unsigned char) v[i])) return 6;
      }
      struct mg_str val;
      if (vs < z && v[vs] == '"') {
        if (z - vs < 2 || v[z - 1] != '"') return 6;
        /* the closing quote must be the first unescaped one */
        size_t k = vs + 1;
        while (k < z - 1 && v[k] != '"') k += v[k] == '\\' ? 2 : 1;
        if (k != z - 1) return 6;
        val = mg_mk_str_n(v + vs + 1, z - vs - 2);
      } else {
        if (vs == z) return 6;
        for (i = vs; i < z; i++) {
          if (!tchar((unsigned char) v[i])) return 6;
        }
        val = mg_mk_str_n(v + vs, z - vs);
      }
      size_t nl = ne - a;
      struct mg_str *slot = NULL;
      if (nl == 4 && mg_ncasecmp(v + a, "name", 4) == 0) slot = name;
      if (nl == 8 && mg_ncasecmp(v + a, "filename", 8) == 0) slot = file;
      if (slot != NULL) {
        if (slot->p != NULL) return 6;
        *slot = val;
      }
    }
    seg = e + 1;
  }
  return 0;
}

/* The header section at b[h .. n): its end (the index after the empty line) or an
 * error code as a negative number; 0 when the body ends first. */
static long model_header_end(const char *b, size_t n, size_t h, size_t max) {
  size_t line = h;
  for (size_t p = h; p < n; p++) {
    if (p - h >= max) return -5;
    if (p > h && b[p - 1] == '\r' && b[p] != '\n') return -4;
    if (b[p] == '\n') {
      if (p == h || b[p - 1] != '\r') return -4;
      if (p - 1 == line) return (long) (p + 1);
      line = p + 1;
    }
  }
  return 0;
}

static int model_headers(const char *b, size_t h, size_t e, struct log *l) {
  struct mg_str name = {NULL, 0}, file = {NULL, 0}, ct = {NULL, 0};
  int cd = 0;
  for (size_t p = h; p < e - 2;) {
    const char *crlf = strstr(b + p, "\r\n"); /* the section is CRLF-checked and NUL-free */
    size_t le = (size_t) (crlf - b), colon = p;
    while (colon < le && b[colon] != ':') colon++;
    if (colon == le || colon == p) return 4;
    for (size_t k = p; k < colon; k++) {
      if (!tchar((unsigned char) b[k])) return 4;
    }
    for (size_t k = colon + 1; k < le; k++) {
      unsigned char c = (unsigned char) b[k];
      if (!(c == '\t' || c == ' ' || (c >= 0x21 && c != 0x7f))) return 4;
    }
    size_t vs = colon + 1, ve = le;
    while (vs < ve && (b[vs] == ' ' || b[vs] == '\t')) vs++;
    while (ve > vs && (b[ve - 1] == ' ' || b[ve - 1] == '\t')) ve--;
    if (colon - p == 19 && mg_ncasecmp(b + p, "content-disposition", 19) == 0) {
      if (cd++) return 4;
      int r = model_disposition(b + vs, ve - vs, &name, &file);
      if (r) return r;
    } else if (colon - p == 12 && mg_ncasecmp(b + p, "content-type", 12) == 0) {
      if (ct.p != NULL) return 4;
      ct = mg_mk_str_n(b + vs, ve - vs);
    }
    p = le + 2;
  }
  if (!cd || name.p == NULL) return 7;
  log_begin(l, name, file, ct);
  return 0;
}

/* The log the parser must give for `b` (NUL-terminated, no NUL inside). */
static struct log model(const char *bd, const char *b, size_t n, size_t max_parts,
                        size_t max_header) {
  struct log l = {NULL, 0, 0};
  size_t bl = strlen(bd), end = 0, at, parts = 0;
  int kind = K_NOT;
  log_str(&l, "");
  if (n >= 2 + bl && memcmp(b, "--", 2) == 0 && memcmp(b + 2, bd, bl) == 0)
    kind = model_tail(b, n, 2 + bl, &end);
  at = 0;
  if (kind == K_NOT) at = model_next(b, n, bd, 0, &kind, &end);
  for (;;) {
    if (kind == K_NOT) {
      log_error(&l, 2);
      return l;
    }
    if (kind == K_PAD) {
      log_error(&l, 3);
      return l;
    }
    if (kind == K_DELIM && parts >= max_parts) {
      log_error(&l, 8);
      return l;
    }
    if (kind == K_CLOSE) {
      log_str(&l, ".");
      return l;
    }
    parts++;
    long he = model_header_end(b, n, end, max_header);
    if (he <= 0) {
      log_error(&l, he == 0 ? 2 : (int) -he);
      return l;
    }
    int r = model_headers(b, end, (size_t) he, &l);
    if (r) {
      log_error(&l, r);
      return l;
    }
    at = model_next(b, n, bd, (size_t) he, &kind, &end);
    log_add(&l, b + he, at - (size_t) he);
    if (kind == K_CLOSE || (kind == K_DELIM && parts < max_parts)) log_str(&l, "$");
  }
}

static uint32_t rnd_state = 12345;
static uint32_t rnd(uint32_t n) {
  rnd_state = rnd_state * 1103515245u + 12345u;
  return (rnd_state >> 8) % n;
}

/* Appends `piece` to body[0 .. *n) with each '#' replaced by the boundary. */
static void put(char *body, size_t cap, size_t *n, const char *piece, const char *bd) {
  size_t bl = strlen(bd);
  for (; *piece != '\0'; piece++) {
    if (*piece == '#' && *n + bl < cap) {
      memcpy(body + *n, bd, bl);
      *n += bl;
    } else if (*piece != '#' && *n + 1 < cap) {
      body[(*n)++] = *piece;
    }
  }
  body[*n] = '\0';
}

#define PICK(a) (a)[rnd(sizeof(a) / sizeof((a)[0]))]

TEST(multipart_random_bodies_match_model) {
  static const char *const bounds[] = {"B", "-", "a b", "xy-", "--", "0123456789"};
  static const char *const preambles[] = {"", "", "x", "\r\n", "--#x\r\n", "\r\n--#-\r\n", "\n--#\n"};
  static const char *const firsts[] = {"--#\r\n", "\r\n--#\r\n", "--# \t\r\n", "--#\n", "--#--\r\n"};
  static const char *const headers[] = {
      CD "name=a\r\n\r\n",
      CD "name=\"q\\\"\"; filename=\"f\\\\\"\r\nContent-Type: t/x\r\n\r\n",
      "Content-Type: a\r\n" CD "name=\"\"; filename=\"\"\r\n\r\n",
      "content-disposition:form-data;name=z;;\r\nX: y\r\n\r\n",
      CD "name=\"a;b\" ; FILENAME = \"c d\"\r\n\r\n",
      CD "filename=x\r\n\r\n",
      CD "name=\"a\r\n\r\n",
      CD "name=a;name=b\r\n\r\n",
      "\r\n",
      CD "name=a\n\r\n",
      "X : y\r\n" CD "name=a\r\n\r\n",
      CD "name=a\r\n" CD "name=b\r\n\r\n",
  };
  static const char *const datas[] = {
      "x", "xyz", "\r\n", "--#", "\r\n--#x", "\r\n--#-", "\r\n--# x\r\n", "\n--#\n", "\r", "-",
      " ", "\"", "\r\n--", "\r\n--#\r", "\r\n--#"
      "                                                                 \r\n",
  };
  static const char *const delims[] = {"\r\n--#\r\n", "\r\n--#\t\r\n", "\r\n--#\n", "\n--#\r\n",
                                       "\r\n--#   "};
  static const char *const closes[] = {"\r\n--#--", "\r\n--#--\r\n", "\r\n--#--\r\nepilogue",
                                       "\r\n--#-", "\r\n--#", ""};
  static const char mutants[] = "\r\n- #x\t\":;=\\";
  char body[2048];
  int begun = 0, done = 0, errs[10] = {0};
  for (int iter = 0; iter < 4000; iter++) {
    const char *bd = PICK(bounds);
    size_t n = 0, parts = rnd(5);
    body[0] = '\0';
    put(body, sizeof(body), &n, PICK(preambles), bd);
    put(body, sizeof(body), &n, rnd(4) ? firsts[rnd(2)] : PICK(firsts), bd);
    for (size_t k = 0; k < parts; k++) {
      put(body, sizeof(body), &n, rnd(3) ? headers[rnd(5)] : PICK(headers), bd);
      for (size_t d = rnd(4); d > 0; d--) put(body, sizeof(body), &n, PICK(datas), bd);
      if (k + 1 < parts) put(body, sizeof(body), &n, rnd(4) ? delims[0] : PICK(delims), bd);
    }
    put(body, sizeof(body), &n, rnd(3) ? closes[rnd(3)] : PICK(closes), bd);
    for (size_t m = rnd(3) == 0 ? 1 + rnd(3) : 0; m > 0 && n > 0; m--) {
      size_t at = rnd((uint32_t) n);
      if (rnd(3) == 0) {
        memmove(body + at, body + at + 1, n - at); /* delete */
        n--;
      } else {
        body[at] = mutants[rnd(sizeof(mutants) - 1)];
      }
    }
    size_t max_parts = 1 + rnd(5), max_header = rnd(4) ? 8192 : 20 + rnd(60);
    struct mg__mp_limits lim = {0, max_header, max_parts};
    struct log want = model(bd, body, n, max_parts, max_header);
    size_t cut = rnd((uint32_t) n + 1), cut2 = cut + rnd((uint32_t) (n - cut) + 1);
    size_t three[3] = {cut, cut2 - cut, n - cut2};
    struct log whole = feed(bd, body, n, NULL, 0, 0, &lim);
    struct log split = feed(bd, body, n, three, 3, iter & 1, &lim);
    int ok = whole.len == want.len && memcmp(whole.p, want.p, want.len) == 0 &&
             split.len == want.len && memcmp(split.p, want.p, want.len) == 0;
    if (!ok) {
      fprintf(stderr, "boundary [%s] body [%s]\nmodel [%s]\nwhole [%s]\nsplit [%s]\n", bd, body,
              want.p, whole.p, split.p);
    }
    if (strchr(want.p, '{') != NULL) begun++;
    if (want.p[want.len - 1] == '.') done++;
    const char *bang = strrchr(want.p, '!');
    if (bang != NULL && bang[1] >= '0' && bang[1] <= '9') errs[bang[1] - '0']++;
    test_free(want.p);
    test_free(whole.p);
    test_free(split.p);
    CHECK(ok);
  }
  /* the bodies reach every outcome */
  CHECK(begun > 1500 && done > 1000);
  for (int e = 2; e <= 8; e++) CHECK(errs[e] > 10);
}

/* ---- mg_parse_multipart -------------------------------------------------------------- */

TEST(multipart_parse_whole_body) {
  static const char body[] =
      "--xyz\r\n" CD "name=\"f\"; filename=\"a\\\"b.txt\"\r\nContent-Type: text/plain\r\n\r\n"
      "hello\r\n--xyzz\r\nx\r\n--xyz\r\n" CD "name=\"g\"\r\n\r\n\r\n--xyz--\r\n";
  char var[16], file[16];
  const char *chunk;
  size_t chunk_len, n = sizeof(body) - 1, off = 0;
  size_t r = mg_parse_multipart(body, n, var, sizeof(var), file, sizeof(file), &chunk, &chunk_len);
  CHECK(r > 0 && strcmp(var, "f") == 0 && strcmp(file, "a\"b.txt") == 0);
  CHECK(chunk_len == 16 && memcmp(chunk, "hello\r\n--xyzz\r\nx", 16) == 0);
  CHECK(memcmp(body + r, "--xyz\r\n" CD "name=\"g\"", 20) == 0);
  off = r;
  r = mg_parse_multipart(body + off, n - off, var, sizeof(var), file, sizeof(file), &chunk,
                         &chunk_len);
  CHECK(r > 0 && strcmp(var, "g") == 0 && strcmp(file, "") == 0 && chunk_len == 0);
  off += r;
  CHECK(strcmp(body + off, "--xyz--\r\n") == 0);
  r = mg_parse_multipart(body + off, n - off, var, sizeof(var), file, sizeof(file), &chunk,
                         &chunk_len);
  CHECK(r == 0 && var[0] == '\0' && file[0] == '\0' && chunk == NULL && chunk_len == 0);
  /* the example of mgio.h */
  static const char ex[] = "--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b--\r\n";
  r = mg_parse_multipart(ex, sizeof(ex) - 1, var, sizeof(var), file, sizeof(file), &chunk,
                         &chunk_len);
  CHECK(r == 52 && strcmp(var, "a") == 0 && chunk_len == 1 && chunk[0] == '1');
  CHECK(mg_parse_multipart(ex + r, sizeof(ex) - 1 - r, var, sizeof(var), NULL, 0, NULL, NULL) == 0);
}

TEST(multipart_parse_names_that_do_not_fit) {
  static const char body[] = "--b\r\n" CD "name=\"abcd\"; filename=\"efgh\"\r\n\r\nD\r\n--b--";
  char var[4], file[5];
  const char *chunk;
  size_t len;
  memset(var, 'x', sizeof(var));
  CHECK(mg_parse_multipart(body, sizeof(body) - 1, var, sizeof(var), file, sizeof(file), &chunk,
                           &len) > 0);
  CHECK(var[0] == '\0' && strcmp(file, "efgh") == 0 && len == 1);
  CHECK(mg_parse_multipart(body, sizeof(body) - 1, NULL, 0, NULL, 0, NULL, NULL) > 0);
}

TEST(multipart_parse_refuses_bad_input) {
  char var[16] = "junk", file[16] = "junk";
  const char *chunk = "junk";
  size_t len = 99;
  static const char *const bad[] = {
      "",
      "-",
      "--",
      "--b",
      "x--b\r\n" CD "name=a\r\n\r\n1\r\n--b--",        /* no boundary line first */
      "--b\r\n" CD "name=a\r\n\r\n1",                   /* no delimiter after the part */
      "--b\r\n" CD "name=a\r\n\r\n1\r\n--bx",           /* idem */
      "--b\r\n" CD "name=a\n\n1\n--b--",                /* LF-only */
      "--b\n" CD "name=a\n\n1\n--b--",                  /* LF-only */
      "--b\r\n" CD "filename=a\r\n\r\n1\r\n--b--",      /* no name */
      "--b;\r\n" CD "name=a\r\n\r\n1\r\n--b;--",        /* invalid boundary */
      "--\r\n" CD "name=a\r\n\r\n1\r\n----",            /* empty boundary */
      "--b--\r\n",                                      /* the close delimiter */
      "--b\r\n" CD "name=a\r\n\r\n1\r\n--b" /* padding over 64 */
      "                                                                 \r\n",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    CHECK(mg_parse_multipart(bad[i], strlen(bad[i]), var, sizeof(var), file, sizeof(file),
                             &chunk, &len) == 0);
    CHECK(var[0] == '\0' && file[0] == '\0' && chunk == NULL && len == 0);
  }
  CHECK(mg_parse_multipart(NULL, 10, var, sizeof(var), file, sizeof(file), &chunk, &len) == 0);
  /* a boundary line with padding, a boundary of 70 */
  static const char padded[] = "--b \t\r\n" CD "name=a\r\n\r\n1\r\n--b--";
  CHECK(mg_parse_multipart(padded, sizeof(padded) - 1, var, sizeof(var), NULL, 0, &chunk, &len) ==
        sizeof(padded) - 1 - 5);
  CHECK(strcmp(var, "a") == 0 && len == 1);
  char big[300];
  char b70[71];
  memset(b70, 'q', 70);
  b70[70] = '\0';
  snprintf(big, sizeof(big), "--%s\r\n" CD "name=a\r\n\r\nzz\r\n--%s--", b70, b70);
  CHECK(mg_parse_multipart(big, strlen(big), var, sizeof(var), NULL, 0, &chunk, &len) > 0);
  CHECK(len == 2);
  snprintf(big, sizeof(big), "--%sq\r\n" CD "name=a\r\n\r\nzz\r\n--%sq--", b70, b70);
  CHECK(mg_parse_multipart(big, strlen(big), var, sizeof(var), NULL, 0, &chunk, &len) == 0);
}

/* Every prefix of a body: never a read outside it, and a part only once it is whole. */
TEST(multipart_parse_every_prefix) {
  static const char body[] =
      "--b\r\n" CD "name=\"a\"; filename=\"x\"\r\n\r\nabc\r\n--b\r\n" CD "name=c\r\n\r\nd\r\n--b--";
  size_t n = sizeof(body) - 1, first_end = strlen("--b\r\n" CD "name=\"a\"; filename=\"x\"\r\n\r\nabc");
  for (size_t len = 0; len <= n; len++) {
    char *copy = (char *) test_malloc(len > 0 ? len : 1);
    char var[8], file[8];
    const char *chunk;
    size_t clen;
    CHECK(copy != NULL);
    memcpy(copy, body, len);
    size_t r = mg_parse_multipart(copy, len, var, sizeof(var), file, sizeof(file), &chunk, &clen);
    /* the delimiter's CRLF and "--b" plus one byte decide */
    int whole = len >= first_end + 2 + 3 + 2;
    test_free(copy);
    CHECK(whole ? r == first_end + 2 : r == 0);
  }
}
