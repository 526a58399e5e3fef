#include "mgio.h"
#include "test.h"
TEST(smoke) { CHECK(1); }
