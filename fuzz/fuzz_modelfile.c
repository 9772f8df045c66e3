/* The model-file loader (the container; what scl_net_load reads first). The file's CRC-32 would stop
   almost every mutation at the checksum, so the harness recomputes it over the mutated bytes: the
   structure checks behind it are what is fuzzed (the CRC check itself is test_modelfile's). */
#include "fuzz_file.h"
#include "net/modelfile.h"

#include <string.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  uint8_t *copy = malloc(size ? size : 1);
  if (!copy) return 0;
  memcpy(copy, data, size);
  if (size >= 4) {
    uLong crc = crc32(0L, Z_NULL, 0);
    crc = crc32(crc, copy, (uInt)(size - 4));
    for (int i = 0; i < 4; i++) copy[size - 4 + i] = (uint8_t)(crc >> (8 * i));
  }
  const char *path = fuzz_file("model.scl", copy, size);
  free(copy);
  scl_mf_model m;
  if (path && scl__modelfile_load(path, &m) == SCL_OK) scl__modelfile_free(&m);
  return 0;
}
