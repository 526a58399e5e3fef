/* A test's own digest nonce clock; see nonce_clock.h. */
#include "nonce_clock.h"

#include "../http/auth.h"
#include "mgio.h"
#include "test.h"

uint64_t nonce_now;

static uint64_t fake_clock(void) {
  return nonce_now;
}

static void real_nonce_clock(void *unused) {
  (void) unused;
  mg__auth_set_clock(NULL);
  mg_http_set_digest_nonce_lifetime(0);
}

void fake_nonce_clock(uint64_t t) {
  nonce_now = t;
  mg__auth_set_clock(fake_clock);
  test_defer(real_nonce_clock, NULL);
}
