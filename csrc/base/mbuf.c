/*
 * mbuf: a growable byte buffer. Growth is integer arithmetic with every addition checked
 * against SIZE_MAX; a failed allocation never changes the buffer.
 */
#include <stdlib.h>
#include <string.h>

#include "mgio.h"

#ifdef MBUF_REALLOC
/* A build-time allocator override; see mgio.h. */
void *MBUF_REALLOC(void *p, size_t n);
void MBUF_FREE(void *p);
#else
#define MBUF_REALLOC realloc
#define MBUF_FREE free
#endif

void mbuf_init(struct mbuf *mbuf, size_t initial_capacity) {
  mbuf->buf = NULL;
  mbuf->len = 0;
  mbuf->size = 0;
  mbuf_resize(mbuf, initial_capacity);
}

void mbuf_free(struct mbuf *mbuf) {
  if (mbuf->buf != NULL) MBUF_FREE(mbuf->buf);
  mbuf->buf = NULL;
  mbuf->len = 0;
  mbuf->size = 0;
}

void mbuf_resize(struct mbuf *mbuf, size_t new_size) {
  if (new_size < mbuf->len || new_size == mbuf->size) return;
  if (new_size == 0) {
    mbuf_free(mbuf);
    return;
  }
  char *p = (char *) MBUF_REALLOC(mbuf->buf, new_size);
  if (p == NULL) return;
  mbuf->buf = p;
  mbuf->size = new_size;
}

void mbuf_trim(struct mbuf *mbuf) {
  mbuf_resize(mbuf, mbuf->len);
}

void mbuf_clear(struct mbuf *mbuf) {
  mbuf->len = 0;
}

/* The allocation to ask for when `needed` bytes must fit: half as much again as headroom,
 * capped at MBUF_SIZE_MAX_HEADROOM and at SIZE_MAX. */
static size_t grown_size(size_t needed) {
  size_t headroom = needed / 2;
  if (headroom > MBUF_SIZE_MAX_HEADROOM) headroom = MBUF_SIZE_MAX_HEADROOM;
  if (headroom > SIZE_MAX - needed) headroom = SIZE_MAX - needed;
  return needed + headroom;
}

int mbuf_reserve(struct mbuf *mbuf, size_t extra) {
  if (extra > SIZE_MAX - mbuf->len) return 0;
  size_t needed = mbuf->len + extra;
  if (needed <= mbuf->size) return 1;
  size_t preferred = grown_size(needed);
  char *p = (char *) MBUF_REALLOC(mbuf->buf, preferred);
  if (p == NULL && preferred != needed) {
    /* The headroom is a luxury; try again for exactly what is needed. */
    preferred = needed;
    p = (char *) MBUF_REALLOC(mbuf->buf, preferred);
  }
  if (p == NULL) return 0;
  mbuf->buf = p;
  mbuf->size = preferred;
  return 1;
}

size_t mbuf_insert(struct mbuf *mbuf, size_t off, const void *data, size_t len) {
  if (off > mbuf->len || !mbuf_reserve(mbuf, len)) return 0;
  if (len == 0) return 0;
  char *at = mbuf->buf + off;
  if (off < mbuf->len) memmove(at + len, at, mbuf->len - off);
  if (data != NULL) memcpy(at, data, len);
  mbuf->len += len;
  return len;
}

size_t mbuf_append(struct mbuf *mbuf, const void *data, size_t data_size) {
  return mbuf_insert(mbuf, mbuf->len, data, data_size);
}

size_t mbuf_append_and_free(struct mbuf *mbuf, void *data, size_t data_size) {
  size_t added;
  if (mbuf->len == 0 && data != NULL) {
    /* Nothing to keep: adopt the caller's block rather than copy it. */
    mbuf_free(mbuf);
    mbuf->buf = (char *) data;
    mbuf->len = mbuf->size = data_size;
    return data_size;
  }
  added = mbuf_append(mbuf, data, data_size);
  if (data != NULL) MBUF_FREE(data);
  return added;
}

void mbuf_remove(struct mbuf *mbuf, size_t data_size) {
  if (data_size == 0 || data_size > mbuf->len) return;
  mbuf->len -= data_size;
  if (mbuf->len > 0) memmove(mbuf->buf, mbuf->buf + data_size, mbuf->len);
}

void mbuf_move(struct mbuf *from, struct mbuf *to) {
  *to = *from;
  from->buf = NULL;
  from->len = 0;
  from->size = 0;
}
