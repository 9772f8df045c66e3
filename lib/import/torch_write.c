/* A state_dict in torch.save's legacy format (the layout is described in torch_read.c), as torch 1.x
 * writes it with _use_new_zipfile_serialization=False: pickle protocol 2, tensors rebuilt by
 * torch._utils._rebuild_tensor_v2 from torch.FloatStorage storages keyed "0", "1", ... . No memo is
 * used (every value is written once), which any unpickler accepts. */
#include "import/import_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  FILE *f;
  int err;
} out_file;

static void put(out_file *o, const void *p, size_t n) {
  if (!o->err && fwrite(p, 1, n, o->f) != n) o->err = errno ? errno : EIO;
}
static void op(out_file *o, unsigned char c) { put(o, &c, 1); }
static void le(out_file *o, uint64_t v, int n) {
  unsigned char b[8];
  scl__put_le(b, v, n);
  put(o, b, (size_t)n);
}
static void str(out_file *o, const char *s) { /* BINUNICODE */
  op(o, 'X');
  le(o, strlen(s), 4);
  put(o, s, strlen(s));
}
static void global(out_file *o, const char *module, const char *name) {
  op(o, 'c');
  put(o, module, strlen(module)), op(o, '\n');
  put(o, name, strlen(name)), op(o, '\n');
}
static void integer(out_file *o, uint64_t v) { /* BININT (all sizes here fit in 31 bits) or LONG1 */
  if (v < 0x80000000u) {
    op(o, 'J'), le(o, v, 4);
  } else {
    op(o, 0x8a), op(o, 9), le(o, v, 8), op(o, 0); /* 9 bytes: positive */
  }
}
static void begin(out_file *o) { op(o, 0x80), op(o, 2); }
static void stop(out_file *o) { op(o, '.'); }
static void empty_ordered_dict(out_file *o) { global(o, "collections", "OrderedDict"), op(o, ')'), op(o, 'R'); }

static void tensor(out_file *o, const scl__imp_tensor *t, size_t key) {
  char k[32];
  snprintf(k, sizeof k, "%zu", key);
  global(o, "torch._utils", "_rebuild_tensor_v2");
  op(o, '(');
  op(o, '('), str(o, "storage"), global(o, "torch", "FloatStorage"), str(o, k), str(o, "cpu"), integer(o, t->count),
      op(o, 'N'), op(o, 't'), op(o, 'Q'); /* the storage's persistent id */
  integer(o, 0);                           /* storage offset */
  op(o, '(');
  for (int i = 0; i < t->ndim; i++) integer(o, t->dims[i]);
  op(o, 't');
  op(o, '(');
  size_t stride = 1, strides[SCL_IMP_MAX_DIMS];
  for (int i = t->ndim - 1; i >= 0; i--) strides[i] = stride, stride *= t->dims[i];
  for (int i = 0; i < t->ndim; i++) integer(o, strides[i]);
  op(o, 't');
  op(o, 0x89); /* requires_grad False */
  empty_ordered_dict(o);
  op(o, 't'), op(o, 'R');
}

static void write_all(out_file *o, const scl__imp_set *set) {
  static const unsigned char magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  begin(o), op(o, 0x8a), op(o, sizeof magic), put(o, magic, sizeof magic), stop(o);
  begin(o), op(o, 'M'), le(o, 1001, 2), stop(o);
  begin(o), op(o, '}'), op(o, '(');
  str(o, "protocol_version"), op(o, 'M'), le(o, 1001, 2);
  str(o, "little_endian"), op(o, 0x88);
  str(o, "type_sizes"), op(o, '}'), op(o, '(');
  str(o, "short"), op(o, 'K'), op(o, 2), str(o, "int"), op(o, 'K'), op(o, 4), str(o, "long"), op(o, 'K'), op(o, 4);
  op(o, 'u'), op(o, 'u'), stop(o);
  begin(o), empty_ordered_dict(o), op(o, '(');
  for (size_t i = 0; i < set->n; i++) str(o, set->t[i].name), tensor(o, &set->t[i], i);
  op(o, 'u'), stop(o);
  begin(o), op(o, ']'), op(o, '(');
  for (size_t i = 0; i < set->n; i++) {
    char k[32];
    snprintf(k, sizeof k, "%zu", i);
    str(o, k);
  }
  op(o, 'e'), stop(o);
  for (size_t i = 0; i < set->n; i++) {
    const scl__imp_tensor *t = &set->t[i];
    le(o, t->count, 8);
    for (size_t j = 0; j < t->count; j++) {
      uint32_t u;
      memcpy(&u, &t->data[j], 4);
      le(o, u, 4);
    }
  }
}

scl_status scl__torch_write(const char *path, const scl__imp_set *set) {
  scl__atomic_file af;
  scl_status st = scl__atomic_open(&af, path, "exporting a PyTorch state_dict");
  if (st != SCL_OK) return st;
  out_file o = {af.f, 0};
  errno = 0;
  write_all(&o, set);
  if (o.err) {
    scl__atomic_abort(&af);
    return scl__fail_noctx(SCL_ERR_IO, "cannot write %s: %s", path, strerror(o.err));
  }
  return scl__atomic_commit(&af, "exporting a PyTorch state_dict");
}
