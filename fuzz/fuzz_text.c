/* The text formats: LFW pairs files and landmark files (the first byte picks which). */
#include "fuzz_file.h"
#include "spherecl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  const char *path = fuzz_file("list.txt", data + 1, size - 1);
  if (!path) return 0;
  if (data[0] & 1) {
    scl_pair *pairs = NULL;
    size_t n;
    int folds;
    if (scl_pairs_read(path, &pairs, &n, &folds) == SCL_OK) free(pairs);
  } else {
    scl_landmarks *lm = NULL;
    size_t n;
    if (scl_landmarks_read(path, &lm, &n) == SCL_OK) free(lm);
  }
  return 0;
}
