/*
 * The allocator behind mbuf storage and other long-lived buffers (zlib streams): the
 * build-time hooks MBUF_REALLOC / MBUF_FREE (see mgio.h), else realloc / free.
 * Internal to mgio.
 */
#ifndef MGIO_BASE_ALLOC_H
#define MGIO_BASE_ALLOC_H

#include <stddef.h>
#include <stdlib.h>

#ifdef MBUF_REALLOC
void *MBUF_REALLOC(void *p, size_t n);
void MBUF_FREE(void *p);
#else
#define MBUF_REALLOC realloc
#define MBUF_FREE free
#endif

#endif
