/* The entries of a zip archive, from its central directory: enough for torch.save's zip format
   (torch >= 1.6), whose entries are stored uncompressed. Every offset and size is checked against
   the file; zip64 archives (over 4 GB) are refused. */
#include "import/import_internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint32_t u16(const unsigned char *p) { return (uint32_t)scl__le(p, 2); }
static uint32_t u32(const unsigned char *p) { return (uint32_t)scl__le(p, 4); }

static scl_status bad(const char *path, size_t at, const char *what) {
  return scl__fail_noctx(SCL_ERR_FORMAT, "%s: damaged zip archive at byte %zu: %s", path, at, what);
}

scl_status scl__zip_entries(const unsigned char *buf, size_t size, const char *path, scl__zip_entry **out, size_t *count) {
  /* The end-of-central-directory record: 22 bytes plus a comment of up to 65535, at the end. */
  size_t eocd = SIZE_MAX;
  for (size_t back = 22; back <= size && back <= 22 + 65535 && eocd == SIZE_MAX; back++)
    if (u32(buf + size - back) == 0x06054b50u) eocd = size - back;
  if (eocd == SIZE_MAX) return bad(path, size, "no end-of-central-directory record");
  size_t n = u16(buf + eocd + 10), cd_size = u32(buf + eocd + 12), cd = u32(buf + eocd + 16);
  if (n == 0xffff || cd == 0xffffffffu || cd_size == 0xffffffffu)
    return bad(path, eocd, "a zip64 archive (over 4 GB or 65535 entries), which spherecl does not read");
  if (cd > eocd || cd_size > eocd - cd) return bad(path, eocd, "the central directory lies outside the file");
  scl__zip_entry *e = calloc(n ? n : 1, sizeof *e);
  if (!e) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "%s: out of host memory", path);
  size_t at = cd;
  for (size_t i = 0; i < n; i++) {
    if (at > eocd || eocd - at < 46 || u32(buf + at) != 0x02014b50u) {
      free(e);
      return bad(path, at, "a central directory entry is missing");
    }
    size_t name_len = u16(buf + at + 28), extra = u16(buf + at + 30), comment = u16(buf + at + 32);
    size_t local = u32(buf + at + 42), csize = u32(buf + at + 20), usize = u32(buf + at + 24);
    if (46 + name_len + extra + comment > eocd - at) {
      free(e);
      return bad(path, at, "a central directory entry runs past the directory");
    }
    e[i].name = (const char *)buf + at + 46, e[i].name_len = name_len;
    e[i].stored = u16(buf + at + 10) == 0 && csize == usize;
    e[i].size = csize;
    /* The data follows the local header, whose name and extra field may differ in length. */
    if (local > size || size - local < 30 || u32(buf + local) != 0x04034b50u) {
      free(e);
      return bad(path, local, "an entry's local header is missing");
    }
    size_t data = local + 30 + u16(buf + local + 26) + u16(buf + local + 28);
    if (data > size || csize > size - data) {
      free(e);
      return bad(path, local, "an entry's data runs past the end of the file (truncated?)");
    }
    e[i].data_off = data;
    at += 46 + name_len + extra + comment;
  }
  *out = e, *count = n;
  return SCL_OK;
}
