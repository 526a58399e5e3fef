/* The library's digest nonce clock (http/auth.c, per process) run by a test. */
#ifndef MGIO_TEST_NONCE_CLOCK_H
#define MGIO_TEST_NONCE_CLOCK_H

#include <stdint.h>

/* The time nonces are made and checked at, while fake_nonce_clock is in force. */
extern uint64_t nonce_now;

/* Nonces are made and checked at nonce_now, set to `t`, until the test ends: then the
 * real clock and the default lifetime are back, however the test ended. */
void fake_nonce_clock(uint64_t t);

#endif
