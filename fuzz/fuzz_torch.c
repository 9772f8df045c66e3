/* The PyTorch state_dict reader (legacy pickles and zip archives) on arbitrary bytes. */
#include "import/import_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  scl__imp_set set = {0};
  if (scl__torch_read(data, size, "fuzz.pth", &set) == SCL_OK) scl__imp_set_free(&set);
  return 0;
}
