/*
 * The output buffer of the http layer: heads, pages and error bodies are assembled here
 * and queued with one mg_send. Small outputs (nearly every head) stay on the stack.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "../net/internal.h"
#include "http_internal.h"

void mg__out_init(struct mg__out *o) {
  o->p = o->stack;
  o->len = 0;
  o->cap = sizeof(o->stack);
  o->failed = 0;
}

void mg__out_free(struct mg__out *o) {
  if (o->p != o->stack) free(o->p);
  mg__out_init(o);
}

void mg__out_add(struct mg__out *o, const void *data, size_t n) {
  if (o->failed || n == 0) return;
  if (n > SIZE_MAX - o->len || o->len + n > (size_t) INT_MAX) {
    o->failed = 1; /* mg_send takes an int length */
    return;
  }
  if (o->len + n > o->cap) {
    size_t cap = o->cap * 2 > o->len + n ? o->cap * 2 : o->len + n;
    char *p = (char *) (o->p == o->stack ? malloc(cap) : realloc(o->p, cap));
    if (p == NULL) {
      o->failed = 1;
      return;
    }
    if (o->p == o->stack) memcpy(p, o->stack, o->len);
    o->p = p;
    o->cap = cap;
  }
  memcpy(o->p + o->len, data, n);
  o->len += n;
}

void mg__out_str(struct mg__out *o, const char *s) {
  mg__out_add(o, s, strlen(s));
}

void mg__out_u64(struct mg__out *o, uint64_t v) {
  char tmp[24];
  size_t i = sizeof(tmp);
  do {
    tmp[--i] = (char) ('0' + v % 10);
    v /= 10;
  } while (v != 0);
  mg__out_add(o, tmp + i, sizeof(tmp) - i);
}

void mg__out_html_escaped(struct mg__out *o, const char *s, size_t n) {
  size_t start = 0; /* s[start .. i) is not yet copied */
  for (size_t i = 0; i < n; i++) {
    const char *ref;
    switch (s[i]) {
      case '&': ref = "&amp;"; break;
      case '<': ref = "&lt;"; break;
      case '>': ref = "&gt;"; break;
      case '"': ref = "&quot;"; break;
      case '\'': ref = "&#39;"; break;
      default: continue;
    }
    mg__out_add(o, s + start, i - start);
    mg__out_str(o, ref);
    start = i + 1;
  }
  mg__out_add(o, s + start, n - start);
}

void mg__out_send(struct mg_connection *nc, struct mg__out *o) {
  if (o->failed) {
    mg__mark_closing(nc, ENOMEM); /* output must not be lost or truncated silently */
  } else {
    mg_send(nc, o->p, (int) o->len);
  }
  mg__out_free(o);
}
