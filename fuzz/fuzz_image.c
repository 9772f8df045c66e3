/* The image loaders (PGM/PPM, PNG and JPEG through libpng and libjpeg), recognised by content. */
#include "data/data_internal.h"
#include "fuzz_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *path = fuzz_file("image", data, size);
  scl_image img;
  if (path && scl__image_decode(path, &img) == SCL_OK) scl__image_free(&img);
  return 0;
}
