/* The tuning-file parser, applied to a real context (CLBlast checks the names it is given): one
   context for the whole run, created on the first input. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static scl_context ctx;
  if (!ctx && scl_context_create(NULL, &ctx) != SCL_OK) abort();
  char *text = malloc(size + 1);
  if (!text) return 0;
  memcpy(text, data, size);
  text[size] = 0;
  int applied;
  scl__tuning_apply_text(ctx, text, "fuzz.tuning", &applied);
  free(text);
  return 0;
}
