/* libFuzzer target: the HTTP request head parser (see http_head_check.c). */
#include "http_head_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  fuzz_http_head(data, size, 1);
  return 0;
}
