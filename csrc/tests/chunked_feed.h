/* Test-only driver of the chunked decoder (chunked_feed.c), shared by the C tests and
 * the cffi tests (declared in tests/c/cbuild.py). */
#ifndef MGIO_TESTS_CHUNKED_FEED_H
#define MGIO_TESTS_CHUNKED_FEED_H

#include <stddef.h>

/*
 * Feeds in[0 .. n) to a fresh decoder the way a connection would: in pieces of the sizes
 * pieces[0 .. npieces) (they must add up to n; npieces 0 means whole), appending each to a
 * receive buffer and decoding in place. keep != 0 keeps the decoded body at the front of
 * the buffer (reassembly); keep == 0 moves each call's output to `out` and drops all
 * consumed bytes (streaming, MG_F_DELETE_CHUNK). Each decode call sees an exact-size heap
 * copy of its input, so sanitizers catch any over-read. `limits`, when not NULL, gives
 * max_size_digits, max_ext_len, max_trailer_len, max_trailer_fields (0 = default).
 *
 * Writes the decoded body to out[0 .. *out_len) followed by the bytes left after the
 * message (the pipelined rest); `out` must hold n bytes. *err gets the decoder's error.
 * Returns -1 malformed, -2 incomplete after all input, or the count of rest bytes when
 * complete. -3 when the driver itself fails (bad pieces, allocation, a rest that differs
 * from the input's tail, or a decoder writing where it must not).
 */
long long mgio_test_chunked_feed(const char *in, size_t n, const size_t *pieces,
                                 size_t npieces, int keep, const size_t *limits, char *out,
                                 size_t *out_len, int *err);

#endif
