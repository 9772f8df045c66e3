/* The MNIST IDX reader: the first byte splits the input into the images file and the labels file. */
#include "data/data_internal.h"
#include "fuzz_file.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t cut = 1 + (size - 1) * data[0] / 255;
  const char *images = fuzz_file("t10k-images-idx3-ubyte", data + 1, cut - 1);
  const char *labels = fuzz_file("t10k-labels-idx1-ubyte", data + cut, size - cut);
  if (!images || !labels) return 0;
  char dir[512];
  snprintf(dir, sizeof dir, "%s", labels);
  *strrchr(dir, '/') = 0;
  size_t count;
  int rows, cols;
  unsigned char *pixels = NULL, *lab = NULL;
  if (scl__mnist_read(dir, 0, &count, &rows, &cols, &pixels, &lab) == SCL_OK) free(pixels), free(lab);
  return 0;
}
