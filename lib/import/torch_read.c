/* torch.save's legacy format (torch 0.1.10 to today with _use_new_zipfile_serialization=False):
 *
 *   pickle 1  the magic number 0x1950a86a20f9469cfc6c (a LONG1)
 *   pickle 2  the protocol version, 1001
 *   pickle 3  sys_info: {'protocol_version', 'little_endian', 'type_sizes'}
 *   pickle 4  the object: here a state_dict, an OrderedDict of name -> tensor, each tensor a call of
 *             torch._utils._rebuild_tensor(storage, offset, size, stride) (torch < 1.0) or
 *             _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]),
 *             where storage is a persistent id ('storage', torch[.cuda].FloatStorage, key, location,
 *             numel, view) and view, when not None, is (view_key, offset, numel) into the root storage
 *   pickle 5  the storage keys, in the order their data follows
 *   then      per key: i64 little-endian element count, then the elements, little-endian
 *
 * The zip format (torch >= 1.6's default) holds the same object pickle as ARCHIVE/data.pkl, with
 * storage ids ('storage', type, key, location, numel), and each storage's raw elements as the
 * uncompressed entry ARCHIVE/data/KEY.
 *
 * Nothing is executed: the calls are recognised by name. A {"state_dict": {...}} wrapper (training
 * checkpoints) is looked through. */
#include "import/import_internal.h"
#include "import/pickle.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum { DT_FLOAT, DT_DOUBLE, DT_HALF, DT_OTHER } dtype;

typedef struct {
  const char *key; /* into the arena */
  dtype dt;
  const char *type_name;
  size_t elem;
  size_t data_off, numel;
  int have_data;
} storage_ref;

typedef struct {
  const char *name;
  int storage;
  size_t offset; /* elements, including a view's offset */
  int ndim;
  size_t size[SCL_IMP_MAX_DIMS], stride[SCL_IMP_MAX_DIMS];
} tensor_ref;

typedef struct {
  const char *path;
  storage_ref *st;
  size_t nst, cap;
} reader;

static const struct {
  const char *name;
  dtype dt;
  size_t elem;
} storage_types[] = {
    {"FloatStorage", DT_FLOAT, 4}, {"DoubleStorage", DT_DOUBLE, 8}, {"HalfStorage", DT_HALF, 2},
    {"BFloat16Storage", DT_OTHER, 2}, {"LongStorage", DT_OTHER, 8}, {"IntStorage", DT_OTHER, 4},
    {"ShortStorage", DT_OTHER, 2}, {"CharStorage", DT_OTHER, 1}, {"ByteStorage", DT_OTHER, 1},
    {"BoolStorage", DT_OTHER, 1},
};

static int as_size(const pk_value *v, size_t *out) {
  if (!v || v->kind != PK_INT || !v->fits || v->i < 0) return 0;
  *out = (size_t)v->i;
  return 1;
}

static scl_status not_tensor(reader *r, const char *name, const char *why) {
  return scl__fail_noctx(SCL_ERR_FORMAT, "%s: entry \"%s\" is not a tensor torch.save writes: %s", r->path, name, why);
}

/* The persistent id of a storage: finds or adds its storage_ref. */
static scl_status storage_of(reader *r, const char *name, const pk_value *pid, int *index, size_t *view_offset) {
  if (!pid || pid->kind != PK_PERSID || pid->items[0]->kind != PK_TUPLE) return not_tensor(r, name, "no storage id");
  const pk_value *t = pid->items[0];
  if (t->n < 5 || t->items[0]->kind != PK_STR || strcmp(t->items[0]->str, "storage"))
    return not_tensor(r, name, "its storage id is not ('storage', type, key, location, size, ...)");
  const pk_value *type = t->items[1], *key = t->items[2];
  if (type->kind != PK_GLOBAL || (strcmp(type->str, "torch") && strcmp(type->str, "torch.cuda")) || key->kind != PK_STR)
    return not_tensor(r, name, "its storage type is not torch.<Type>Storage");
  *view_offset = 0;
  if (t->n >= 6 && t->items[5]->kind == PK_TUPLE) { /* a view: (view_key, offset, size) */
    const pk_value *view = t->items[5];
    if (view->n < 2 || !as_size(view->items[1], view_offset)) return not_tensor(r, name, "a malformed storage view");
  }
  for (size_t i = 0; i < r->nst; i++)
    if (!strcmp(r->st[i].key, key->str)) {
      *index = (int)i;
      return SCL_OK;
    }
  size_t k = 0, ntypes = sizeof storage_types / sizeof storage_types[0];
  while (k < ntypes && strcmp(storage_types[k].name, type->str2)) k++;
  if (k == ntypes)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: entry \"%s\" has a storage of unknown type %s.%s", r->path, name,
                           type->str, type->str2);
  if (r->nst == r->cap) {
    size_t cap = r->cap ? 2 * r->cap : 64;
    storage_ref *s = realloc(r->st, cap * sizeof *s);
    if (!s) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "%s: out of host memory", r->path);
    r->st = s, r->cap = cap;
  }
  storage_ref *s = &r->st[r->nst];
  memset(s, 0, sizeof *s);
  s->key = key->str, s->dt = storage_types[k].dt, s->elem = storage_types[k].elem, s->type_name = type->str2;
  *index = (int)r->nst++;
  return SCL_OK;
}

/* A state_dict value: _rebuild_tensor[_v2](storage, offset, size, stride, ...), possibly inside
   _rebuild_parameter(tensor, requires_grad, hooks). */
static scl_status tensor_of(reader *r, const char *name, const pk_value *v, tensor_ref *out) {
  if (v && v->kind == PK_CALL && scl__pk_is_global(v->items[0], "torch._utils", "_rebuild_parameter") &&
      v->items[1]->kind == PK_TUPLE && v->items[1]->n >= 1)
    v = v->items[1]->items[0];
  if (!v || v->kind != PK_CALL) return not_tensor(r, name, "not a tensor rebuilt by a call");
  const pk_value *fn = v->items[0], *args = v->items[1];
  if (!scl__pk_is_global(fn, "torch._utils", "_rebuild_tensor") &&
      !scl__pk_is_global(fn, "torch._utils", "_rebuild_tensor_v2")) {
    char why[160];
    snprintf(why, sizeof why, "it is built by %.60s.%.60s", fn->kind == PK_GLOBAL ? fn->str : "?",
             fn->kind == PK_GLOBAL ? fn->str2 : "?");
    return not_tensor(r, name, why);
  }
  if (args->kind != PK_TUPLE || args->n < 4) return not_tensor(r, name, "too few arguments to _rebuild_tensor");
  memset(out, 0, sizeof *out);
  out->name = name;
  size_t view = 0, off;
  scl_status st = storage_of(r, name, args->items[0], &out->storage, &view);
  if (st != SCL_OK) return st;
  const pk_value *size = args->items[2], *stride = args->items[3];
  if (!as_size(args->items[1], &off) || size->kind != PK_TUPLE || stride->kind != PK_TUPLE || size->n != stride->n)
    return not_tensor(r, name, "its offset, size or stride is malformed");
  if (size->n > SCL_IMP_MAX_DIMS)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: tensor \"%s\" has %zu dimensions (at most %d)", r->path, name, size->n,
                           SCL_IMP_MAX_DIMS);
  if (off > SIZE_MAX / 2 - view) return not_tensor(r, name, "its offset is absurd");
  out->offset = view + off, out->ndim = (int)size->n;
  for (size_t i = 0; i < size->n; i++)
    if (!as_size(size->items[i], &out->size[i]) || !as_size(stride->items[i], &out->stride[i]))
      return not_tensor(r, name, "a size or stride is not a non-negative integer");
  return SCL_OK;
}

/* The storages' data after the pickles: per key, an i64 count and the elements. */
static scl_status locate_storages(reader *r, const unsigned char *buf, size_t size, size_t pos, const pk_value *keys) {
  if (!keys || keys->kind != PK_LIST)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: the storage key list (the fifth pickle) is missing", r->path);
  for (size_t i = 0; i < keys->n; i++) {
    const pk_value *k = keys->items[i];
    storage_ref *s = NULL;
    for (size_t j = 0; k->kind == PK_STR && j < r->nst && !s; j++)
      if (!strcmp(r->st[j].key, k->str)) s = &r->st[j];
    if (!s)
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s: storage %zu of the key list is used by no tensor", r->path, i);
    if (size - pos < 8)
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s: the file ends at byte %zu, in storage \"%s\"'s header (truncated)",
                             r->path, size, s->key);
    uint64_t n = scl__le(buf + pos, 8);
    pos += 8;
    if (n > (size - pos) / s->elem)
      return scl__fail_noctx(SCL_ERR_FORMAT,
                             "%s: storage \"%s\" at byte %zu claims %llu elements, more than the %zu bytes left "
                             "(truncated)",
                             r->path, s->key, pos - 8, (unsigned long long)n, size - pos);
    s->data_off = pos, s->numel = (size_t)n, s->have_data = 1;
    pos += (size_t)n * s->elem;
  }
  if (pos != size)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: %zu unexpected bytes after the last storage (at byte %zu)", r->path,
                           size - pos, pos);
  return SCL_OK;
}

static float half_to_float(uint16_t h) {
  int e = (h >> 10) & 31, m = h & 1023;
  float v = e == 0 ? ldexpf((float)m, -24) : e == 31 ? (m ? NAN : INFINITY) : ldexpf((float)(m | 1024), e - 25);
  return (h & 0x8000) ? -v : v;
}

static float element(const unsigned char *p, dtype dt) {
  if (dt == DT_HALF) return half_to_float((uint16_t)scl__le(p, 2));
  if (dt == DT_DOUBLE) return (float)scl__f64_bits(scl__le(p, 8));
  return scl__f32_bits((uint32_t)scl__le(p, 4));
}

/* Copies a strided tensor out of its storage, after checking that every element lies inside it. */
static scl_status gather(reader *r, const unsigned char *buf, const tensor_ref *t, scl__imp_set *out) {
  const storage_ref *s = &r->st[t->storage];
  if (s->dt == DT_OTHER)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: tensor \"%s\" holds %s, not floating-point numbers", r->path, t->name,
                           s->type_name);
  if (!s->have_data)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: tensor \"%s\"'s storage has no data in the file", r->path, t->name);
  size_t last = t->offset, count = 1;
  for (int i = 0; i < t->ndim; i++) {
    if (t->size[i] == 0)
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s: tensor \"%s\" is empty (dimension %d is 0)", r->path, t->name, i);
    if (t->stride[i] && t->size[i] - 1 > (SIZE_MAX / 4 - last) / t->stride[i])
      return not_tensor(r, t->name, "its strides reach beyond any storage");
    last += (t->size[i] - 1) * t->stride[i];
    count *= t->size[i];
  }
  if (last >= s->numel)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: tensor \"%s\" reaches element %zu of a storage of %zu", r->path,
                           t->name, last, s->numel);
  float *data;
  scl_status st = scl__imp_set_add(out, r->path, t->name, t->ndim, t->size, &data);
  if (st != SCL_OK) return st;
  size_t idx[SCL_IMP_MAX_DIMS] = {0};
  for (size_t k = 0; k < count; k++) {
    size_t at = t->offset;
    for (int i = 0; i < t->ndim; i++) at += idx[i] * t->stride[i];
    data[k] = element(buf + s->data_off + at * s->elem, s->dt);
    for (int i = t->ndim - 1; i >= 0 && ++idx[i] == t->size[i]; i--) idx[i] = 0;
  }
  return SCL_OK;
}

static const unsigned char torch_magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};

/* The state_dict's entries as tensor references (*tensors malloc'd, *n of them). */
static scl_status state_dict(reader *r, pk_value *root, tensor_ref **tensors, size_t *n) {
  const pk_value *inner = scl__pk_dict_get(root, "state_dict");
  if (inner && inner->kind == PK_DICT) root = (pk_value *)inner;
  if (root->kind != PK_DICT)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s holds no state_dict (a dict of tensors): save model.state_dict()", r->path);
  *n = root->n / 2;
  *tensors = calloc(*n ? *n : 1, sizeof **tensors);
  if (!*tensors) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "%s: out of host memory", r->path);
  for (size_t i = 0; i < *n; i++) {
    const pk_value *k = root->items[2 * i];
    if (k->kind != PK_STR)
      return scl__fail_noctx(SCL_ERR_FORMAT, "%s: entry %zu of the state_dict has a key that is not a string", r->path, i);
    scl_status st = tensor_of(r, k->str, root->items[2 * i + 1], &(*tensors)[i]);
    if (st != SCL_OK) return st;
  }
  return SCL_OK;
}

/* The legacy format: five pickles, then the storages. */
static scl_status read_legacy(reader *r, pk_arena *arena, const unsigned char *buf, size_t size, tensor_ref **tensors,
                              size_t *n) {
  size_t pos = 0;
  pk_value *magic, *version, *info, *root, *keys;
  scl_status st = scl__pickle_load(arena, buf, size, &pos, r->path, &magic);
  if (st != SCL_OK) return st;
  if (magic->kind != PK_INT || magic->len != sizeof torch_magic || memcmp(magic->str, torch_magic, sizeof torch_magic))
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s is a pickle but not a torch.save file (no torch magic number)", r->path);
  if ((st = scl__pickle_load(arena, buf, size, &pos, r->path, &version)) != SCL_OK) return st;
  if (version->kind != PK_INT || !version->fits || version->i != 1001)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s: torch serialization protocol %lld, spherecl reads 1001", r->path,
                           version->kind == PK_INT ? version->i : -1LL);
  if ((st = scl__pickle_load(arena, buf, size, &pos, r->path, &info)) != SCL_OK) return st;
  const pk_value *little = scl__pk_dict_get(info, "little_endian");
  if (little && little->kind == PK_BOOL && !little->i)
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s was saved on a big-endian machine, which spherecl does not read", r->path);
  if ((st = scl__pickle_load(arena, buf, size, &pos, r->path, &root)) != SCL_OK) return st;
  if ((st = state_dict(r, root, tensors, n)) != SCL_OK) return st;
  if ((st = scl__pickle_load(arena, buf, size, &pos, r->path, &keys)) != SCL_OK) return st;
  return locate_storages(r, buf, size, pos, keys);
}

static int entry_is(const scl__zip_entry *e, const char *prefix, size_t prefix_len, const char *rest) {
  size_t n = strlen(rest);
  return e->name_len == prefix_len + n && !memcmp(e->name, prefix, prefix_len) && !memcmp(e->name + prefix_len, rest, n);
}

/* The zip format: ARCHIVE/data.pkl (the object; storage ids without a view) and ARCHIVE/data/KEY
   (each storage's raw elements). */
static scl_status read_zip(reader *r, pk_arena *arena, const unsigned char *buf, size_t size, tensor_ref **tensors,
                           size_t *n) {
  scl__zip_entry *e = NULL;
  size_t count = 0;
  scl_status st = scl__zip_entries(buf, size, r->path, &e, &count);
  if (st != SCL_OK) return st;
  const scl__zip_entry *pkl = NULL;
  size_t prefix_len = 0;
  for (size_t i = 0; i < count && !pkl; i++) {
    const char *slash = memchr(e[i].name, '/', e[i].name_len);
    if (slash && entry_is(&e[i], e[i].name, (size_t)(slash - e[i].name) + 1, "data.pkl"))
      pkl = &e[i], prefix_len = (size_t)(slash - e[i].name) + 1;
  }
  if (!pkl || !pkl->stored)
    st = scl__fail_noctx(SCL_ERR_FORMAT, "%s is a zip archive without %s data.pkl: not a torch.save file", r->path,
                         pkl ? "an uncompressed" : "a");
  pk_value *root = NULL;
  size_t pos = 0;
  if (st == SCL_OK) st = scl__pickle_load(arena, buf + pkl->data_off, pkl->size, &pos, r->path, &root);
  if (st == SCL_OK) st = state_dict(r, root, tensors, n);
  for (size_t i = 0; st == SCL_OK && i < r->nst; i++) {
    storage_ref *s = &r->st[i];
    char rest[300];
    snprintf(rest, sizeof rest, "data/%.280s", s->key);
    const scl__zip_entry *d = NULL;
    for (size_t j = 0; j < count && !d; j++)
      if (entry_is(&e[j], pkl->name, prefix_len, rest)) d = &e[j];
    if (!d || !d->stored || d->size % s->elem)
      st = scl__fail_noctx(SCL_ERR_FORMAT, "%s: storage \"%s\" has %s", r->path, s->key,
                           !d ? "no data entry" : !d->stored ? "compressed data" : "a size that is no whole number of elements");
    else
      s->data_off = d->data_off, s->numel = d->size / s->elem, s->have_data = 1;
  }
  free(e);
  return st;
}

static scl_status read_all(reader *r, pk_arena *arena, const unsigned char *buf, size_t size, scl__imp_set *out) {
  int zip = size >= 4 && !memcmp(buf, "PK\x03\x04", 4);
  if (!zip && (size < 2 || buf[0] != 0x80))
    return scl__fail_noctx(SCL_ERR_FORMAT, "%s is not a PyTorch file (neither a pickle nor a zip archive)", r->path);
  tensor_ref *tensors = NULL;
  size_t n = 0;
  scl_status st = zip ? read_zip(r, arena, buf, size, &tensors, &n) : read_legacy(r, arena, buf, size, &tensors, &n);
  for (size_t i = 0; st == SCL_OK && i < n; i++) st = gather(r, buf, &tensors[i], out);
  free(tensors);
  return st;
}

scl_status scl__torch_read(const unsigned char *buf, size_t size, const char *path, scl__imp_set *out) {
  reader r = {path, NULL, 0, 0};
  pk_arena arena = {NULL, 0};
  scl__imp_set set = {NULL, 0, 0};
  scl_status st = read_all(&r, &arena, buf, size, &set);
  free(r.st);
  scl__pickle_free(&arena);
  if (st != SCL_OK) {
    scl__imp_set_free(&set);
    return st;
  }
  *out = set;
  return SCL_OK;
}
