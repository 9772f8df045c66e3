/* Whole files into memory, for the parsers of outside input (images, imported models). */
#include "internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

scl_status scl__read_file(const char *path, const char *what, size_t max_bytes, unsigned char **data, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) return scl__fail_noctx(SCL_ERR_IO, "cannot open %s %s: %s", what, path, strerror(errno));
  struct stat st;
  if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
    fclose(f);
    return scl__fail_noctx(SCL_ERR_IO, "cannot read %s %s: not a regular file", what, path);
  }
  if ((uint64_t)st.st_size > max_bytes) {
    fclose(f);
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s %s is %lld bytes, more than this reader accepts (%zu)", what, path,
                           (long long)st.st_size, max_bytes);
  }
  size_t n = (size_t)st.st_size;
  unsigned char *buf = malloc(n ? n : 1);
  if (!buf) {
    fclose(f);
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory reading %s %s", what, path);
  }
  size_t got = fread(buf, 1, n, f);
  int err = ferror(f) ? errno : 0;
  fclose(f);
  if (got != n) {
    free(buf);
    return scl__fail_noctx(SCL_ERR_IO, "cannot read %s %s: %s", what, path, err ? strerror(err) : "short read");
  }
  *data = buf;
  *size = n;
  return SCL_OK;
}
