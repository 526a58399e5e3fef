/* libFuzzer target: the HTTP response head parser (see http_head_check.c). */
#include "http_head_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_http_head(data, size, 0);
  return 0;
}
