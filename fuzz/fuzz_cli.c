/* The command line's number, list, size, range and margin parsers on one NUL-terminated string. */
#include "cli_common.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  char *s = malloc(size + 1);
  if (!s) return 0;
  memcpy(s, data, size);
  s[size] = 0;
  long l;
  float f, fs[8];
  int a, b;
  scl_margin_params m;
  char err[256];
  cli_parse_long(s, &l), cli_parse_float(s, &f), cli_parse_floats(s, fs, 8);
  cli_parse_size(s, &a, &b), cli_parse_range(s, &a, &b);
  memset(&m, 0, sizeof m);
  cli_parse_margin(s, &m, err, sizeof err);
  free(s);
  return 0;
}
