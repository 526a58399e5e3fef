/*
 * mbuf: a growable byte buffer. Growth is integer arithmetic with every addition checked
 * before it is made, no allocation is ever asked to exceed PTRDIFF_MAX bytes, and a
 * failed allocation never changes the buffer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "mgio.h"

#include "alloc.h"

/* The largest allocation ever requested. No object may exceed PTRDIFF_MAX bytes (glibc
 * refuses such sizes, sanitizers abort on them, and pointer differences would overflow),
 * so larger requests fail at once, without calling the allocator. */
#define MBUF_MAX_ALLOC ((size_t) PTRDIFF_MAX)

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
  if (new_size < mbuf->len) return;
  if (new_size == 0) {
    mbuf_free(mbuf);
    return;
  }
  if (new_size == mbuf->size || new_size > MBUF_MAX_ALLOC) return;
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

/* The allocation to ask for when `needed` (<= MBUF_MAX_ALLOC) bytes must fit: half as
 * much again as headroom, capped at MBUF_SIZE_MAX_HEADROOM as Mongoose 6 does, but never
 * below needed / 8. That floor keeps growth geometric for large buffers: with the cap
 * alone, appending 4 KiB pieces up to 64 MiB reallocated every other append and ran 5x
 * slower than bytearray. It changes nothing below 64 KiB (needed / 8 <= 8192). */
static size_t grown_size(size_t needed) {
  size_t headroom = needed / 2;
  if (headroom > MBUF_SIZE_MAX_HEADROOM) {
    headroom = needed / 8 > MBUF_SIZE_MAX_HEADROOM ? needed / 8 : MBUF_SIZE_MAX_HEADROOM;
  }
  if (headroom > MBUF_MAX_ALLOC - needed) headroom = MBUF_MAX_ALLOC - needed;
  return needed + headroom;
}

int mbuf_reserve(struct mbuf *mbuf, size_t extra) {
  /* len > MBUF_MAX_ALLOC only after adopting an absurd block; refuse to grow then. */
  if (mbuf->len > MBUF_MAX_ALLOC || extra > MBUF_MAX_ALLOC - mbuf->len) return 0;
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

/* Reverses the `n` bytes at `p` in place. */
static void reverse_bytes(char *p, size_t n) {
  for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
    char t = p[i];
    p[i] = p[j - 1];
    p[j - 1] = t;
  }
}

size_t mbuf_insert(struct mbuf *mbuf, size_t off, const void *data, size_t len) {
  if (off > mbuf->len || len == 0) return 0;
  /* `data` may point into this buffer (inserting a part of itself). Growing can move the
   * storage, so remember the offset; realloc keeps all `size` old bytes. Comparing as
   * integers avoids relational operators on unrelated pointers. */
  uintptr_t d = (uintptr_t) data, b = (uintptr_t) mbuf->buf;
  int inside = data != NULL && mbuf->buf != NULL && d >= b && d - b < mbuf->size;
  size_t src = inside ? (size_t) (d - b) : 0;
  if (!mbuf_reserve(mbuf, len)) return 0;
  char *at = mbuf->buf + off;
  if (inside) {
    /* Copy to the end first (memmove copes with any overlap), then rotate the copy
     * into place: shifting the tail first could overwrite the source. Rare, so the
     * O(n) byte rotation is fine. */
    char *end = mbuf->buf + mbuf->len;
    memmove(end, mbuf->buf + src, len);
    if (off < mbuf->len) {
      reverse_bytes(at, mbuf->len - off);
      reverse_bytes(end, len);
      reverse_bytes(at, mbuf->len - off + len);
    }
  } else {
    if (off < mbuf->len) memmove(at + len, at, mbuf->len - off);
    if (data != NULL) memcpy(at, data, len);
  }
  mbuf->len += len;
  return len;
}

size_t mbuf_append(struct mbuf *mbuf, const void *data, size_t data_size) {
  return mbuf_insert(mbuf, mbuf->len, data, data_size);
}

size_t mbuf_append_and_free(struct mbuf *mbuf, void *data, size_t data_size) {
  size_t added;
  if (data_size == 0) {
    /* Nothing to add; adopting a zero-length block would leave buf != NULL, size 0. */
    if (data != NULL) MBUF_FREE(data);
    return 0;
  }
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
  if (from == to) return; /* zeroing `from` would lose the storage */
  *to = *from;
  from->buf = NULL;
  from->len = 0;
  from->size = 0;
}
