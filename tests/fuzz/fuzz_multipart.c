/*
 * libFuzzer target: the streaming multipart parser (csrc/proto/multipart.c) and
 * mg_parse_multipart.
 * Input: a settings byte (bit 0: small header and part limits from the next two bytes),
 * the boundary (a length byte, then up to 80 bytes: invalid ones too), a four-byte split
 * seed, then the body. The body is parsed whole (at_end from the start) and again fed in
 * pieces the way a connection feeds it (unconsumed bytes handed in again with the next
 * piece), where the caller sometimes takes only part of a PART_DATA offer.
 * Invariants: both feeds report the same events (PART_DATA pieces merged) and end the
 * same way; every view lies in the buffer of its call; every call but NEED_MORE moves
 * on; NEED_MORE never comes with at_end; an error is sticky; the bytes held back stay
 * within the documented bound. mg_parse_multipart walks the body part by part inside it.
 */
#include <stdlib.h>
#include <string.h>

#include "../../csrc/proto/multipart.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The events of one feed: data runs merged, each field length-prefixed. */
struct mp_log {
  struct fuzz_buf events;
  struct fuzz_buf data; /* the PART_DATA bytes not yet flushed into events */
  int last;             /* the final event type */
  int err;
};

static void add_field(struct fuzz_buf *b, struct mg_str s) {
  size_t len = s.p == NULL ? (size_t) -1 : s.len;
  fuzz_buf_add(b, &len, sizeof(len));
  if (s.p != NULL) fuzz_buf_add(b, s.p, s.len);
}

static void flush_data(struct mp_log *log) {
  if (log->data.len == 0) return;
  fuzz_buf_addc(&log->events, 'D');
  add_field(&log->events, mg_mk_str_n(log->data.p, log->data.len));
  log->data.len = 0;
}

/* Records event `ev` of a call on buf[0 .. n) that consumed `used` bytes, of which the
 * caller takes `take` (less than used only for PART_DATA). */
static void record(struct mp_log *log, const struct mg__mp_event *ev, const char *buf,
                   size_t n, size_t used, size_t take) {
  FUZZ_CHECK(used <= n && take <= used);
  FUZZ_CHECK(fuzz_view_in(ev->name, buf, n) && fuzz_view_in(ev->filename, buf, n));
  FUZZ_CHECK(fuzz_view_in(ev->content_type, buf, n) && fuzz_view_in(ev->headers, buf, n));
  FUZZ_CHECK(fuzz_view_in(ev->data, buf, n));
  log->last = ev->type;
  switch (ev->type) {
    case MG__MP_PART_DATA:
      FUZZ_CHECK(ev->data.len > 0 && ev->data.p + ev->data.len == buf + used);
      fuzz_buf_add(&log->data, ev->data.p, ev->data.len - (used - take));
      return;
    case MG__MP_PART_BEGIN:
      FUZZ_CHECK(ev->name.p != NULL && used > 0);
      FUZZ_CHECK(mg__mp_unquote(ev->name, NULL) <= ev->name.len);
      flush_data(log);
      fuzz_buf_addc(&log->events, 'B');
      add_field(&log->events, ev->name);
      add_field(&log->events, ev->filename);
      add_field(&log->events, ev->content_type);
      add_field(&log->events, ev->headers);
      return;
    case MG__MP_PART_END:
      FUZZ_CHECK(used > 0);
      flush_data(log);
      fuzz_buf_addc(&log->events, 'E');
      return;
    case MG__MP_ERROR:
      FUZZ_CHECK(ev->err != MG__MP_OK && mg__mp_strerror(ev->err) != NULL);
      log->err = ev->err;
      break;
    case MG__MP_NEED_MORE:
      return; /* a data run may go on after it */
    default:
      break;
  }
  flush_data(log);
}

/* Calls the parser on pending bytes until it needs more or ends; drops what it took.
 * Returns 1 when the stream ended (DONE or ERROR). */
static int pull(struct mg__mp *st, struct fuzz_buf *pending, int at_end,
                struct fuzz_splitter *sp, struct mp_log *log) {
  size_t max_held = 4 + 70 + 64 + 2;
  size_t max_rounds = pending->len + 2; /* every event but the last consumes a byte */
  if (st->limits.header > max_held) max_held = st->limits.header;
  for (size_t rounds = 0;; rounds++) {
    FUZZ_CHECK(rounds < max_rounds);
    struct mg__mp_event ev;
    char *copy = (char *) fuzz_dup(pending->p, pending->len);
    size_t used = mg__mp_parse(st, pending->len > 0 ? copy : NULL, pending->len, at_end, &ev);
    size_t take = used;
    if (ev.type == MG__MP_PART_DATA && sp != NULL && (sp->state & 7) == 0) {
      take = used - ev.data.len + fuzz_next_piece(sp, ev.data.len);
    }
    record(log, &ev, copy, pending->len, used, take);
    free(copy);
    if (take > 0) memmove(pending->p, pending->p + take, pending->len - take);
    pending->len -= take;
    if (ev.type == MG__MP_NEED_MORE) {
      FUZZ_CHECK(!at_end && pending->len <= max_held);
      return 0;
    }
    if (ev.type == MG__MP_DONE || ev.type == MG__MP_ERROR) return 1;
  }
}

static void run(struct mg_str boundary, const struct mg__mp_limits *lim, struct mg_str body,
                struct fuzz_splitter *sp, struct mp_log *log) {
  struct mg__mp st;
  struct fuzz_buf pending = {NULL, 0, 0};
  int init = mg__mp_init(&st, boundary, lim), ended = 0;
  FUZZ_CHECK(init == 0 || st.err == MG__MP_EBOUNDARY);
  for (size_t off = 0; !ended && (off < body.len || off == 0);) {
    size_t piece = sp != NULL && body.len > 0 ? fuzz_next_piece(sp, body.len - off)
                                              : body.len - off;
    fuzz_buf_add(&pending, body.p + off, piece);
    off += piece;
    ended = pull(&st, &pending, off == body.len, sp, log);
  }
  FUZZ_CHECK(ended);
  if (log->last == MG__MP_ERROR) { /* sticky: the same error, nothing consumed */
    struct mg__mp_event ev;
    FUZZ_CHECK(mg__mp_parse(&st, body.p, body.len, 1, &ev) == 0);
    FUZZ_CHECK(ev.type == MG__MP_ERROR && ev.err == log->err);
  }
  fuzz_buf_free(&pending);
}

/* mg_parse_multipart, part after part, stays inside the body. */
static void walk_parts(struct mg_str body) {
  char *copy = (char *) fuzz_dup(body.p, body.len);
  char var[16], file[16];
  const char *chunk;
  size_t off = 0, chunk_len;
  for (;;) {
    size_t r = mg_parse_multipart(copy + off, body.len - off, var, sizeof(var), file,
                                  sizeof(file), &chunk, &chunk_len);
    FUZZ_CHECK(strlen(var) < sizeof(var) && strlen(file) < sizeof(file));
    if (r == 0) {
      FUZZ_CHECK(chunk == NULL && chunk_len == 0);
      break;
    }
    FUZZ_CHECK(r <= body.len - off);
    FUZZ_CHECK(fuzz_view_in(mg_mk_str_n(chunk, chunk_len), copy + off, r));
    off += r;
  }
  free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  struct fuzz_input in = {data, size};
  struct mg__mp_limits lim = {0, 0, 0};
  struct fuzz_splitter sp;
  if (fuzz_take_byte(&in) & 1) {
    lim.header = 1 + (size_t) fuzz_take_byte(&in);
    lim.parts = 1 + fuzz_take_byte(&in) % 16;
  }
  struct mg_str boundary = fuzz_take_sized(&in, 80);
  fuzz_splitter_init(&sp, fuzz_take_seed(&in));
  struct mg_str body = fuzz_take(&in, in.n);
  struct mp_log whole, split;
  memset(&whole, 0, sizeof(whole));
  memset(&split, 0, sizeof(split));
  run(boundary, &lim, body, NULL, &whole);
  run(boundary, &lim, body, &sp, &split);
  FUZZ_CHECK(fuzz_buf_equal(&whole.events, &split.events));
  FUZZ_CHECK(whole.last == split.last && whole.err == split.err);
  walk_parts(body);
  fuzz_buf_free(&whole.events);
  fuzz_buf_free(&whole.data);
  fuzz_buf_free(&split.events);
  fuzz_buf_free(&split.data);
  return 0;
}
