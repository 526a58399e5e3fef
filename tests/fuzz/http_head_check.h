/*
 * The checks the request and response fuzz targets share: an input is a settings byte
 * (bit 0: small limits, from the next four bytes), a four-byte seed for the prefixes to
 * try, then the message. See http_head_check.c for the invariants.
 */
#ifndef MGIO_FUZZ_HTTP_HEAD_CHECK_H
#define MGIO_FUZZ_HTTP_HEAD_CHECK_H

#include <stddef.h>
#include <stdint.h>

void fuzz_http_head(const uint8_t *data, size_t size, int is_req);

#endif
