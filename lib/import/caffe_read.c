/* Caffe's binary NetParameter, read straight from the protobuf wire format (no Caffe, no protobuf
 * library): only the fields that hold weights are looked at, everything else is skipped by its wire
 * type. Field numbers are caffe.proto's:
 *   NetParameter      layer 100 (LayerParameter), layers 2 (V1LayerParameter, files before 2015)
 *   LayerParameter    name 1, type 2, blobs 7
 *   V1LayerParameter  name 4, blobs 6
 *   BlobProto         num 1, channels 2, height 3, width 4 (the legacy 4-d shape), data 5 (float),
 *                     shape 7 (BlobShape: dim 1, int64), double_data 8
 * Repeated numbers may come packed (one length-delimited field) or one by one; both are read. */
#include "import/import_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const unsigned char *p, *end, *start; /* start: the file's first byte, for offsets in messages */
  const char *path;
} wire;

enum { WT_VARINT = 0, WT_FIXED64 = 1, WT_LEN = 2, WT_FIXED32 = 5 };

static size_t offset_of(const wire *w) { return (size_t)(w->p - w->start); }

static scl_status wire_bad(const wire *w, const char *what) {
  return scl__fail_noctx(SCL_ERR_FORMAT, "%s: not a valid Caffe model at byte %zu: %s", w->path, offset_of(w), what);
}

static int varint(wire *w, uint64_t *v) {
  uint64_t x = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (w->p == w->end) return 0;
    unsigned char b = *w->p++;
    x |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80)) {
      *v = x;
      return 1;
    }
  }
  return 0;
}

/* One field: its number, wire type, and value (num for numbers, sub for WT_LEN contents). */
typedef struct {
  uint32_t number;
  int type;
  wire sub;
  uint64_t num;
} field;

/* Reads the next field of w into f (w moves past it). Returns 1, 0 at the end of w, or -1 on
   damage with *st set. */
static int next_field(wire *w, field *f, scl_status *st) {
  if (w->p == w->end) return 0;
  uint64_t key;
  if (!varint(w, &key)) return *st = wire_bad(w, "a field key runs past its message"), -1;
  f->number = (uint32_t)(key >> 3), f->type = (int)(key & 7);
  if (f->number == 0) return *st = wire_bad(w, "field number 0"), -1;
  switch (f->type) {
  case WT_VARINT:
    if (!varint(w, &f->num)) return *st = wire_bad(w, "a number runs past its message"), -1;
    return 1;
  case WT_FIXED64:
  case WT_FIXED32: {
    size_t n = f->type == WT_FIXED64 ? 8 : 4;
    if ((size_t)(w->end - w->p) < n) return *st = wire_bad(w, "a fixed-size number runs past its message"), -1;
    f->num = scl__le(w->p, (int)n);
    w->p += n;
    return 1;
  }
  case WT_LEN: {
    uint64_t len;
    if (!varint(w, &len) || len > (uint64_t)(w->end - w->p))
      return *st = wire_bad(w, "a length-delimited field runs past its message (truncated?)"), -1;
    f->sub = (wire){w->p, w->p + len, w->start, w->path};
    w->p += len;
    return 1;
  }
  default: return *st = wire_bad(w, "an unknown wire type (groups are not used by caffe.proto)"), -1;
  }
}


/* One blob: its shape and values, collected before they are checked against each other. */
typedef struct {
  size_t dims[SCL_IMP_MAX_DIMS];
  int ndim, has_shape, has_legacy;
  size_t legacy[4];
  float *data;
  size_t n, cap;
  size_t at; /* its offset, for messages */
} blob;

static int blob_push(blob *b, float v) {
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 1024;
    float *d = realloc(b->data, cap * sizeof *d);
    if (!d) return 0;
    b->data = d, b->cap = cap;
  }
  b->data[b->n++] = v;
  return 1;
}

/* Values of `data` (field 5, floats) or `double_data` (8): packed or one per field. */
static scl_status blob_values(wire *w, blob *b, field *f) {
  const int is_double = f->number == 8;
  const size_t size = is_double ? 8 : 4;
  wire *sub = &f->sub;
  if (f->type == (is_double ? WT_FIXED64 : WT_FIXED32))
    return blob_push(b, is_double ? (float)scl__f64_bits(f->num) : scl__f32_bits((uint32_t)f->num))
               ? SCL_OK
               : wire_bad(w, "out of memory");
  if (f->type != WT_LEN) return wire_bad(w, "blob data of the wrong wire type");
  size_t count = (size_t)(sub->end - sub->p);
  if (count % size) return wire_bad(sub, "packed blob data whose length is not a multiple of the value size");
  if (b->n + count / size > b->cap) {
    size_t cap = b->n + count / size;
    float *d = realloc(b->data, (cap ? cap : 1) * sizeof *d);
    if (!d) return wire_bad(w, "out of host memory for blob data");
    b->data = d, b->cap = cap;
  }
  for (const unsigned char *p = sub->p; p < sub->end; p += size) {
    uint64_t v = scl__le(p, (int)size);
    b->data[b->n++] = is_double ? (float)scl__f64_bits(v) : scl__f32_bits((uint32_t)v);
  }
  return SCL_OK;
}

static scl_status blob_shape(wire *w, blob *b) {
  field f;
  int r;
  scl_status st = SCL_OK;
  b->has_shape = 1;
  while ((r = next_field(w, &f, &st)) > 0) {
    if (f.number != 1) continue;
    if (f.type == WT_LEN) { /* packed dims */
      while (f.sub.p < f.sub.end) {
        if (!varint(&f.sub, &f.num)) return wire_bad(&f.sub, "a packed dimension runs past its field");
        if (b->ndim == SCL_IMP_MAX_DIMS) return wire_bad(w, "a blob with more than 8 dimensions");
        b->dims[b->ndim++] = (size_t)f.num;
      }
    } else if (f.type == WT_VARINT) {
      if (b->ndim == SCL_IMP_MAX_DIMS) return wire_bad(w, "a blob with more than 8 dimensions");
      b->dims[b->ndim++] = (size_t)f.num;
    } else {
      return wire_bad(w, "a blob dimension of the wrong wire type");
    }
  }
  return r < 0 ? st : SCL_OK;
}

static scl_status read_blob(wire *w, blob *b) {
  field f;
  scl_status st = SCL_OK;
  while (st == SCL_OK && next_field(w, &f, &st) > 0) {
    if (f.number >= 1 && f.number <= 4 && f.type == WT_VARINT)
      b->legacy[f.number - 1] = (size_t)(uint32_t)f.num, b->has_legacy = 1;
    else if (f.number == 5 || f.number == 8)
      st = blob_values(w, b, &f);
    else if (f.number == 7 && f.type == WT_LEN)
      st = blob_shape(&f.sub, b);
  }
  return st;
}

/* Adds a finished blob to the set as "<layer>.<suffix>" after checking its shape against its data. */
static scl_status add_blob(const char *path, const char *layer, int index, blob *b, scl__imp_set *out) {
  char name[SCL_IMP_NAME_MAX + 32];
  const char *suffix = index == 0 ? "weight" : index == 1 ? "bias" : NULL;
  if (suffix)
    snprintf(name, sizeof name, "%s.%s", layer, suffix);
  else
    snprintf(name, sizeof name, "%s.blob%d", layer, index);
  if (!b->has_shape && b->has_legacy) {
    b->ndim = 4;
    memcpy(b->dims, b->legacy, sizeof b->legacy);
  }
  if (!b->has_shape && !b->has_legacy)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: blob %d of layer \"%s\" (byte %zu) has no shape", path, index, layer,
                           b->at);
  size_t count = 1;
  for (int i = 0; i < b->ndim; i++) {
    if (b->dims[i] && count > SIZE_MAX / 8 / b->dims[i])
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s: blob \"%s\" has an absurd shape", path, name);
    count *= b->dims[i];
  }
  if (count != b->n) {
    char dims[160];
    scl__imp_dims_string(b->dims, b->ndim, dims, sizeof dims);
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: blob \"%s\" (byte %zu) has shape %s, %zu values, but holds %zu (truncated?)",
                           path, name, b->at, dims, count, b->n);
  }
  float *data;
  scl_status st = scl__imp_set_add(out, path, name, b->ndim, b->dims, &data);
  if (st == SCL_OK && count) memcpy(data, b->data, count * sizeof *data);
  return st;
}

/* One layer (new or V1 numbering): its name, then its blobs in order. */
static scl_status read_layer(wire *w, int v1, scl__imp_set *out) {
  const uint32_t name_field = v1 ? 4 : 1, blobs_field = v1 ? 6 : 7;
  char name[SCL_IMP_NAME_MAX + 1] = "";
  size_t at = offset_of(w);
  field f;
  int r, nblobs = 0;
  scl_status st = SCL_OK;
  /* The name may come after the blobs (any field order is valid): find it first. */
  wire scan = *w;
  while ((r = next_field(&scan, &f, &st)) > 0)
    if (f.number == name_field && f.type == WT_LEN) {
      size_t n = (size_t)(f.sub.end - f.sub.p);
      if (n == 0 || n > SCL_IMP_NAME_MAX || memchr(f.sub.p, 0, n))
        return scl__fail_noctx(SCL_ERR_FORMAT, "%s: the layer at byte %zu has an empty, NUL-holding or over-long name",
                               w->path, at);
      memcpy(name, f.sub.p, n);
      name[n] = 0;
    }
  if (r < 0) return st;
  while (st == SCL_OK && next_field(w, &f, &st) > 0) {
    if (f.number != blobs_field || f.type != WT_LEN) continue;
    if (!*name) return scl__fail_noctx(SCL_ERR_FORMAT, "%s: the layer at byte %zu has blobs but no name", w->path, at);
    blob b;
    memset(&b, 0, sizeof b);
    b.at = offset_of(&f.sub);
    st = read_blob(&f.sub, &b);
    if (st == SCL_OK) st = add_blob(w->path, name, nblobs++, &b, out);
    free(b.data);
  }
  return st;
}

scl_status scl__caffe_read(const unsigned char *buf, size_t size, const char *path, scl__imp_set *out) {
  wire w = {buf, buf + size, buf, path};
  scl__imp_set set = {NULL, 0, 0};
  field f;
  int layers = 0;
  scl_status st = SCL_OK;
  while (st == SCL_OK && next_field(&w, &f, &st) > 0)
    if ((f.number == 100 || f.number == 2) && f.type == WT_LEN) {
      st = read_layer(&f.sub, f.number == 2, &set);
      layers++;
    }
  if (st == SCL_OK && set.n == 0)
    st = scl__fail_noctx(SCL_ERR_FORMAT, "%s holds no Caffe layers with weights (%d layers): not a .caffemodel?", path,
                         layers);
  if (st != SCL_OK) {
    scl__imp_set_free(&set);
    return st;
  }
  *out = set;
  return SCL_OK;
}
