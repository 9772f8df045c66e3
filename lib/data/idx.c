/* MNIST IDX files (LeCun's format): a big-endian header — magic 0x00000803 (2051) then count, rows,
   cols for images; magic 0x00000801 (2049) then count for labels — followed by exactly the uint8
   data the header promises. Files may be raw or gzip-compressed: zlib's gzread reads both, so there
   is one code path; a raw file is preferred when both exist. */
#include "data/data_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#define IDX_IMAGES_MAGIC 2051u
#define IDX_LABELS_MAGIC 2049u
/* Far above any MNIST-like set; guards the size arithmetic against a corrupt header. */
#define IDX_MAX_BYTES ((uint64_t)1 << 34)
#define IDX_CHUNK ((size_t)1 << 24)

typedef struct {
  const char *path;
  gzFile f;
} idx_file;

/* Reads up to n bytes; returns how many were read (fewer at the end of the data), or fails with
   SCL_ERR_FORMAT when zlib reports corrupt compressed data. */
static scl_status idx_read(idx_file *x, unsigned char *buf, size_t n, size_t *got) {
  size_t done = 0;
  while (done < n) {
    size_t want = n - done < IDX_CHUNK ? n - done : IDX_CHUNK;
    int r = gzread(x->f, buf + done, (unsigned)want);
    if (r < 0) {
      int code;
      const char *msg = gzerror(x->f, &code);
      return scl__fail_noctx(code == Z_ERRNO ? SCL_ERR_IO : SCL_ERR_FORMAT, "%s: %s", x->path,
                             code == Z_ERRNO ? strerror(errno) : msg);
    }
    if (r == 0) break;
    done += (size_t)r;
  }
  *got = done;
  return SCL_OK;
}

static uint32_t be32(const unsigned char *p) {
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

/* Reads the header (magic + ndim dimensions), then exactly the bytes it promises and checks that
   nothing follows. The data buffer grows as bytes actually arrive, so a lying header cannot make us
   allocate more than the file holds (plus one chunk). */
static scl_status idx_load(const char *path, uint32_t magic, int ndim, uint32_t *dims, unsigned char **data) {
  errno = 0;
  idx_file x = {path, gzopen(path, "rb")};
  if (!x.f) return scl__fail_noctx(SCL_ERR_IO, "cannot open %s: %s", path, errno ? strerror(errno) : "out of memory");
  const char *what = magic == IDX_IMAGES_MAGIC ? "images" : "labels";
  unsigned char head[16], *buf = NULL;
  size_t hlen = 4 + 4 * (size_t)ndim, got = 0;
  scl_status st = idx_read(&x, head, hlen, &got);
  if (st == SCL_OK && got < hlen)
    st = scl__fail_noctx(SCL_ERR_FORMAT, "%s is truncated: %zu bytes, shorter than an IDX header", path, got);
  if (st == SCL_OK && be32(head) != magic)
    st = scl__fail_noctx(SCL_ERR_FORMAT, "%s is not an IDX %s file: magic number %u, expected %u", path, what,
                         be32(head), magic);
  uint64_t total = 1;
  for (int i = 0; st == SCL_OK && i < ndim; i++) {
    dims[i] = be32(head + 4 + 4 * i);
    total *= dims[i];
    if (dims[i] == 0 || total > IDX_MAX_BYTES)
      st = scl__fail_noctx(SCL_ERR_FORMAT, "%s: implausible IDX dimension %d: %u", path, i, dims[i]);
  }
  size_t have = 0, cap = 0;
  while (st == SCL_OK && have < total) {
    size_t want = total - have < IDX_CHUNK ? (size_t)(total - have) : IDX_CHUNK;
    if (have + want > cap) {
      size_t ncap = cap ? cap * 2 : want;
      if (ncap > total || ncap < have + want) ncap = (size_t)total;
      unsigned char *nb = realloc(buf, ncap);
      if (!nb) {
        st = scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory reading %s", path);
        break;
      }
      buf = nb, cap = ncap;
    }
    st = idx_read(&x, buf + have, want, &got);
    have += got;
    if (st == SCL_OK && got < want)
      st = scl__fail_noctx(SCL_ERR_FORMAT, "%s is truncated: its header promises %llu bytes of %s, the file holds %zu",
                           path, (unsigned long long)total, what, have);
  }
  unsigned char extra;
  if (st == SCL_OK) st = idx_read(&x, &extra, 1, &got);
  if (st == SCL_OK && got)
    st = scl__fail_noctx(SCL_ERR_FORMAT, "%s has trailing data after the %llu bytes of %s its header promises", path,
                         (unsigned long long)total, what);
  gzclose(x.f);
  if (st != SCL_OK) {
    free(buf);
    return st;
  }
  *data = buf;
  return SCL_OK;
}

/* dir/name if it exists, else dir/name.gz; SCL_ERR_IO when neither does. */
static scl_status idx_find(const char *dir, const char *name, char *path, size_t size) {
  struct stat st;
  snprintf(path, size, "%s/%s", dir, name);
  if (stat(path, &st) == 0) return SCL_OK;
  snprintf(path, size, "%s/%s.gz", dir, name);
  if (stat(path, &st) == 0) return SCL_OK;
  return scl__fail_noctx(SCL_ERR_IO, "MNIST folder %s has neither %s nor %s.gz", dir, name, name);
}

scl_status scl__mnist_read(const char *dir, int train, size_t *count, int *rows, int *cols, unsigned char **pixels,
                           unsigned char **labels) {
  const char *prefix = train ? "train" : "t10k";
  char name[64], ipath[4096], lpath[4096];
  snprintf(name, sizeof name, "%s-images-idx3-ubyte", prefix);
  scl_status st = idx_find(dir, name, ipath, sizeof ipath);
  if (st != SCL_OK) return st;
  snprintf(name, sizeof name, "%s-labels-idx1-ubyte", prefix);
  if ((st = idx_find(dir, name, lpath, sizeof lpath)) != SCL_OK) return st;

  uint32_t idims[3], ldims[1];
  unsigned char *px = NULL, *lb = NULL;
  if ((st = idx_load(ipath, IDX_IMAGES_MAGIC, 3, idims, &px)) != SCL_OK) return st;
  if ((st = idx_load(lpath, IDX_LABELS_MAGIC, 1, ldims, &lb)) != SCL_OK) {
    free(px);
    return st;
  }
  if (idims[1] > 32768 || idims[2] > 32768)
    st = scl__fail_noctx(SCL_ERR_FORMAT, "%s: images of %ux%u pixels are implausible", ipath, idims[1], idims[2]);
  else if (idims[0] != ldims[0])
    st = scl__fail_noctx(SCL_ERR_FORMAT, "%s holds %u images but %s holds %u labels", ipath, idims[0], lpath, ldims[0]);
  for (uint32_t i = 0; st == SCL_OK && i < ldims[0]; i++)
    if (lb[i] > 9) st = scl__fail_noctx(SCL_ERR_FORMAT, "%s: label %u is %d, not a digit 0..9", lpath, i, lb[i]);
  if (st != SCL_OK) {
    free(px), free(lb);
    return st;
  }
  *count = idims[0];
  *rows = (int)idims[1];
  *cols = (int)idims[2];
  *pixels = px;
  *labels = lb;
  return SCL_OK;
}
