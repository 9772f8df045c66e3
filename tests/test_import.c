/* Importing SphereFace models: small Caffe and PyTorch files written here byte by byte, with known
   values, read back parameter by parameter; every kind of bad file; and the PyTorch export read back.
   (Parity of whole networks with real PyTorch is tests/cli_parity.sh.) */
#include "import/import_internal.h"
#include "net/net_internal.h"
#include "testkit/testkit.h"
#include "testkit/tk_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the model: SphereFace-10 (units 0/1/2/0), widths 2/3/2/3, 3x16x16 input, 5-d embedding ------ */

#define MAXT 64
typedef struct {
  char name[64];
  int ndim;
  size_t dims[4], count;
  float *data;
} tensor;
typedef struct {
  tensor t[MAXT];
  int n;
} model;

static const int widths[4] = {2, 3, 2, 3}, units[4] = {0, 1, 2, 0};
#define EMBED 5
#define CLASSES 4

static tensor *add(model *m, const char *name, int ndim, size_t d0, size_t d1, size_t d2, size_t d3) {
  tensor *t = &m->t[m->n++];
  snprintf(t->name, sizeof t->name, "%s", name);
  t->ndim = ndim;
  size_t d[4] = {d0, d1, d2, d3};
  t->count = 1;
  for (int i = 0; i < ndim; i++) t->dims[i] = d[i], t->count *= d[i];
  t->data = malloc(t->count * sizeof *t->data);
  for (size_t i = 0; i < t->count; i++) t->data[i] = (float)m->n + 0.001f * (float)i; /* unique per tensor */
  return t;
}

/* The port's names and shapes (fc6 as [D, classes]); unit_bias: the unit convs have biases. */
static void make_model(model *m, int unit_bias) {
  memset(m, 0, sizeof *m);
  char name[64];
  size_t cin = 3;
  for (int s = 1; s <= 4; s++) {
    size_t w = (size_t)widths[s - 1];
    for (int k = 1; k <= 1 + 2 * units[s - 1]; k++) {
      snprintf(name, sizeof name, "conv%d_%d.weight", s, k);
      add(m, name, 4, w, k == 1 ? cin : w, 3, 3);
      if (k == 1 || unit_bias) {
        snprintf(name, sizeof name, "conv%d_%d.bias", s, k);
        add(m, name, 1, w, 0, 0, 0);
      }
      snprintf(name, sizeof name, "relu%d_%d.weight", s, k);
      add(m, name, 1, w, 0, 0, 0);
    }
    cin = w;
  }
  add(m, "fc5.weight", 2, EMBED, 3 * 1 * 1, 0, 0); /* 16 -> 8 -> 4 -> 2 -> 1 */
  add(m, "fc5.bias", 1, EMBED, 0, 0, 0);
  add(m, "fc6.weight", 2, EMBED, CLASSES, 0, 0);
}

static void free_model(model *m) {
  for (int i = 0; i < m->n; i++) free(m->t[i].data);
}

static tensor *find(model *m, const char *name) {
  for (int i = 0; i < m->n; i++)
    if (!strcmp(m->t[i].name, name)) return &m->t[i];
  return NULL;
}

/* ---- a growing byte buffer ------------------------------------------------------------------------ */
typedef struct {
  unsigned char *b;
  size_t n, cap;
} buf;
static void put(buf *o, const void *p, size_t n) {
  if (o->n + n > o->cap) {
    o->cap = (o->n + n) * 2 + 256;
    o->b = realloc(o->b, o->cap);
  }
  memcpy(o->b + o->n, p, n);
  o->n += n;
}
static void put_byte(buf *o, unsigned v) {
  unsigned char c = (unsigned char)v;
  put(o, &c, 1);
}
static void put_le(buf *o, uint64_t v, int n) {
  for (int i = 0; i < n; i++) put_byte(o, (unsigned)(v >> (8 * i)) & 255);
}

/* ---- Caffe: protobuf wire format by hand ---------------------------------------------------------- */
static void varint(buf *o, uint64_t v) {
  do {
    put_byte(o, (unsigned)(v & 127) | (v > 127 ? 128 : 0));
    v >>= 7;
  } while (v);
}
static void key(buf *o, unsigned field, unsigned type) { varint(o, (uint64_t)field << 3 | type); }
static void len_field(buf *o, unsigned field, const buf *sub) {
  key(o, field, 2), varint(o, sub->n), put(o, sub->b, sub->n);
}
static void str_field(buf *o, unsigned field, const char *s) {
  key(o, field, 2), varint(o, strlen(s)), put(o, s, strlen(s));
}
static void float_bits(buf *o, float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  put_le(o, u, 4);
}

/* A blob: new style (shape 7, packed data 5) or V1 style (num/channels/height/width, data as single
   fixed32 fields). `as` gives the dims to write (Caffe's order), data the values in that order. */
static void blob(buf *o, unsigned field, int v1, const size_t *dims, int ndim, const float *data, size_t count) {
  buf b = {0}, sh = {0}, packed = {0};
  if (v1) {
    size_t legacy[4] = {1, 1, 1, 1};
    for (int i = 0; i < ndim; i++) legacy[4 - ndim + i] = dims[i];
    for (int i = 0; i < 4; i++) key(&b, (unsigned)i + 1, 0), varint(&b, legacy[i]);
    for (size_t i = 0; i < count; i++) key(&b, 5, 5), float_bits(&b, data[i]);
  } else {
    for (size_t i = 0; i < count; i++) float_bits(&packed, data[i]);
    len_field(&b, 5, &packed);
    buf dimsb = {0};
    for (int i = 0; i < ndim; i++) varint(&dimsb, dims[i]);
    len_field(&sh, 1, &dimsb);
    len_field(&b, 7, &sh);
    free(dimsb.b);
  }
  len_field(o, field, &b);
  free(b.b), free(sh.b), free(packed.b);
}

/* One layer holding the blobs "<layer>.weight" and, if present, "<layer>.bias" of m. */
static void caffe_layer(buf *net, int v1, model *m, const char *layer, const char *type) {
  buf l = {0};
  char name[80];
  if (!v1) str_field(&l, 1, layer), str_field(&l, 2, type), str_field(&l, 3, "bottom_blob"); /* bottom: skipped */
  for (int b = 0; b < 2; b++) {
    snprintf(name, sizeof name, "%s.%s", layer, b ? "bias" : "weight");
    tensor *t = find(m, name);
    if (!t) continue;
    if (!strcmp(layer, "fc6")) { /* Caffe keeps the class weights as [classes, D] */
      float *tr = malloc(t->count * sizeof *tr);
      for (size_t r = 0; r < CLASSES; r++)
        for (size_t c = 0; c < EMBED; c++) tr[r * EMBED + c] = t->data[c * CLASSES + r];
      const size_t dims[2] = {CLASSES, EMBED};
      blob(&l, v1 ? 6 : 7, v1, dims, 2, tr, t->count);
      free(tr);
    } else {
      blob(&l, v1 ? 6 : 7, v1, t->dims, t->ndim, t->data, t->count);
    }
  }
  if (v1) str_field(&l, 4, layer), key(&l, 5, 0), varint(&l, 4); /* the name after the blobs; type enum */
  len_field(net, v1 ? 2 : 100, &l);
  free(l.b);
}

static void write_caffe(buf *o, model *m, int v1) {
  char layer[32];
  str_field(o, 1, "sphereface");
  buf data = {0};
  str_field(&data, 1, "data"), str_field(&data, 2, "Input"); /* a layer with no blobs */
  if (!v1) len_field(o, 100, &data);
  free(data.b);
  for (int s = 1; s <= 4; s++)
    for (int k = 1; k <= 1 + 2 * units[s - 1]; k++) {
      snprintf(layer, sizeof layer, "conv%d_%d", s, k);
      caffe_layer(o, v1, m, layer, "Convolution");
      snprintf(layer, sizeof layer, "relu%d_%d", s, k);
      caffe_layer(o, v1, m, layer, "PReLU");
    }
  caffe_layer(o, v1, m, "fc5", "InnerProduct");
  caffe_layer(o, v1, m, "fc6", "MarginInnerProduct");
}

/* ---- PyTorch: the legacy torch.save format as torch 0.3 under Python 2 wrote it ------------------- */
static void pk_str(buf *o, const char *s) { put_byte(o, 'U'), put_byte(o, (unsigned)strlen(s)), put(o, s, strlen(s)); }
static void pk_global(buf *o, const char *mod, const char *name) {
  put_byte(o, 'c'), put(o, mod, strlen(mod)), put_byte(o, '\n'), put(o, name, strlen(name)), put_byte(o, '\n');
}
static void pk_int(buf *o, size_t v) { put_byte(o, 'J'), put_le(o, v, 4); }

/* A tensor's storage elements: fc6 as its [classes, D] transpose. */
static void storage_bytes(buf *o, const tensor *t) {
  int fc6 = !strcmp(t->name, "fc6.weight");
  for (size_t r = 0; r < (fc6 ? CLASSES : 1); r++)
    for (size_t c = 0; c < (fc6 ? EMBED : t->count); c++) float_bits(o, fc6 ? t->data[c * CLASSES + r] : t->data[c]);
}

/* Every tensor in its own FloatStorage, except fc6: a transposed view (strides 1, EMBED) of a storage
   holding its [classes, D] transpose (legacy: after 7 other floats, as a view of the root storage).
   The _rebuild_tensor global is memoised once and fetched with BINGET after that. `storage_type` lets
   a test put in another dtype. zip: only the object pickle, with the zip format's storage ids. */
static void write_torch_as(buf *o, model *m, const char *storage_type, int zip) {
  const size_t skip = zip ? 0 : 7;
  static const unsigned char magic[10] = {0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  if (!zip) {
    put_byte(o, 0x80), put_byte(o, 2), put_byte(o, 0x8a), put_byte(o, 10), put(o, magic, 10), put_byte(o, '.');
    put_byte(o, 0x80), put_byte(o, 2), put_byte(o, 'M'), put_le(o, 1001, 2), put_byte(o, '.');
    put_byte(o, 0x80), put_byte(o, 2), put_byte(o, '}'), put_byte(o, '(');
    pk_str(o, "protocol_version"), put_byte(o, 'M'), put_le(o, 1001, 2);
    pk_str(o, "little_endian"), put_byte(o, 0x88), put_byte(o, 'u'), put_byte(o, '.');
  }
  /* the state dict */
  put_byte(o, 0x80), put_byte(o, 2);
  pk_global(o, "collections", "OrderedDict"), put_byte(o, ')'), put_byte(o, 'R'), put_byte(o, 'q'), put_byte(o, 0);
  put_byte(o, '(');
  for (int i = 0; i < m->n; i++) {
    tensor *t = &m->t[i];
    int fc6 = !strcmp(t->name, "fc6.weight");
    char k[16];
    snprintf(k, sizeof k, "%d", i);
    pk_str(o, t->name);
    if (i == 0)
      pk_global(o, "torch._utils", "_rebuild_tensor"), put_byte(o, 'q'), put_byte(o, 1);
    else
      put_byte(o, 'h'), put_byte(o, 1);
    put_byte(o, '(');
    put_byte(o, '('), pk_str(o, "storage"), pk_global(o, "torch.cuda", storage_type), pk_str(o, k), pk_str(o, "cuda:0");
    pk_int(o, t->count + (fc6 ? skip : 0));
    if (zip)
      ;
    else if (fc6)
      put_byte(o, '('), pk_str(o, "view"), pk_int(o, 7), pk_int(o, t->count), put_byte(o, 't');
    else
      put_byte(o, 'N');
    put_byte(o, 't'), put_byte(o, 'Q');
    pk_int(o, 0);
    put_byte(o, '(');
    for (int d = 0; d < t->ndim; d++) pk_int(o, t->dims[d]);
    put_byte(o, 't'), put_byte(o, '(');
    size_t stride = 1, strides[4];
    for (int d = t->ndim - 1; d >= 0; d--) strides[d] = stride, stride *= t->dims[d];
    if (fc6) strides[0] = 1, strides[1] = EMBED;
    for (int d = 0; d < t->ndim; d++) pk_int(o, strides[d]);
    put_byte(o, 't'), put_byte(o, 't'), put_byte(o, 'R');
  }
  put_byte(o, 'u'), put_byte(o, '.');
  if (zip) return;
  /* the storage keys, then each storage */
  put_byte(o, 0x80), put_byte(o, 2), put_byte(o, ']'), put_byte(o, '(');
  for (int i = 0; i < m->n; i++) {
    char k[16];
    snprintf(k, sizeof k, "%d", i);
    pk_str(o, k);
  }
  put_byte(o, 'e'), put_byte(o, '.');
  for (int i = 0; i < m->n; i++) {
    tensor *t = &m->t[i];
    int fc6 = !strcmp(t->name, "fc6.weight");
    put_le(o, t->count + (fc6 ? skip : 0), 8);
    for (size_t j = 0; fc6 && j < skip; j++) float_bits(o, -1.0f);
    storage_bytes(o, t);
  }
}

static void write_torch(buf *o, model *m, const char *storage_type) { write_torch_as(o, m, storage_type, 0); }

/* torch >= 1.6's zip format: ARCHIVE/data.pkl and ARCHIVE/data/KEY, stored, with the local headers,
   the central directory and its end record. */
static void write_torch_zip(buf *o, model *m) {
  buf pkl = {0}, cd = {0};
  write_torch_as(&pkl, m, "FloatStorage", 1);
  int n = 0;
  for (int i = -1; i < m->n; i++, n++) {
    char name[32];
    buf data = {0};
    if (i < 0)
      snprintf(name, sizeof name, "archive/data.pkl"), put(&data, pkl.b, pkl.n);
    else
      snprintf(name, sizeof name, "archive/data/%d", i), storage_bytes(&data, &m->t[i]);
    size_t local = o->n, len = strlen(name);
    put_le(o, 0x04034b50u, 4), put_le(o, 0, 4), put_le(o, 0, 2), put_le(o, 0, 4), put_le(o, 0, 4); /* ver, flags, method 0, time, crc (unchecked) */
    put_le(o, data.n, 4), put_le(o, data.n, 4), put_le(o, len, 2), put_le(o, 3, 2), put(o, name, len), put(o, "pad", 3);
    put(o, data.b, data.n);
    put_le(&cd, 0x02014b50u, 4), put_le(&cd, 0, 4), put_le(&cd, 0, 4), put_le(&cd, 0, 4), put_le(&cd, 0, 4);
    put_le(&cd, data.n, 4), put_le(&cd, data.n, 4), put_le(&cd, len, 2), put_le(&cd, 0, 2), put_le(&cd, 0, 2);
    put_le(&cd, 0, 4), put_le(&cd, 0, 4), put_le(&cd, local, 4), put(&cd, name, len);
    free(data.b);
  }
  size_t cd_at = o->n;
  put(o, cd.b, cd.n);
  put_le(o, 0x06054b50u, 4), put_le(o, 0, 4), put_le(o, (uint64_t)n, 2), put_le(o, (uint64_t)n, 2);
  put_le(o, cd.n, 4), put_le(o, cd_at, 4), put_le(o, 0, 2);
  free(pkl.b), free(cd.b);
}

/* ---- checks --------------------------------------------------------------------------------------- */

static char dir_path[4096];

static const char *write_temp(const char *name, const buf *b) {
  static char path[4200];
  tk_join(path, sizeof path, dir_path, name);
  tk_write_file(path, b->b, b->n);
  return path;
}

/* Every parameter of net equals the model's tensor it was imported from. */
static void expect_params(scl_net net, model *m, int unit_bias) {
  const scl_net_config *c = scl_net_get_config(net);
  TK_CHECK(c->depth == 10 && c->in_channels == 3 && c->in_height == 16 && c->in_width == 16);
  for (int i = 0; i < 4; i++) TK_CHECK(c->widths[i] == widths[i]);
  TK_CHECK(c->embed_dim == EMBED && c->num_classes == CLASSES && c->unit_bias == unit_bias);
  TK_CHECK(c->input.order == SCL_CHANNELS_BGR && c->input.mean == 127.5f && c->input.scale == 1.0f / 128.0f);
  int checked = 0;
  for (int i = 0; i < net->nparams; i++) {
    scl_param *p = &net->params[i];
    float *v = tk_read(p->value);
    char name[64];
    int s, u, j, nn = 0;
    char kind[16];
    if (!strcmp(p->name, "fc5.w") || !strcmp(p->name, "fc5.b") || !strcmp(p->name, "margin.w"))
      snprintf(name, sizeof name, "%s", !strcmp(p->name, "fc5.w") ? "fc5.weight" : !strcmp(p->name, "fc5.b") ? "fc5.bias" : "fc6.weight");
    else if (sscanf(p->name, "stage%d.unit%d.conv%d.%15s%n", &s, &u, &j, kind, &nn) == 4)
      snprintf(name, sizeof name, !strcmp(kind, "prelu") ? "relu%d_%d.weight" : !strcmp(kind, "w") ? "conv%d_%d.weight" : "conv%d_%d.bias", s, 2 * u + j - 1);
    else if (sscanf(p->name, "stage%d.conv.%15s", &s, kind) == 2)
      snprintf(name, sizeof name, !strcmp(kind, "prelu") ? "relu%d_1.weight" : !strcmp(kind, "w") ? "conv%d_1.weight" : "conv%d_1.bias", s);
    tensor *t = find(m, name);
    TK_CHECK_MSG(t != NULL, "parameter %s (%s) has no source tensor", p->name, name);
    if (!t || !v) continue;
    int same = scl_tensor_count(p->value) == t->count;
    for (size_t k = 0; same && k < t->count; k++) {
      size_t r = k / EMBED, col = k % EMBED; /* ours [classes, D]; the source [D, classes] */
      float want = !strcmp(name, "fc6.weight") ? t->data[col * CLASSES + r] : t->data[k];
      same = v[k] == want;
    }
    TK_CHECK_MSG(same, "parameter %s differs from %s", p->name, t->name);
    checked++;
    free(v);
  }
  TK_CHECK(checked == m->n);
}

static scl_import_options options16(void) {
  scl_import_options o;
  scl_import_options_default(&o);
  o.in_height = 16, o.in_width = 16;
  return o;
}

static void import_ok(scl_context ctx, scl_model_format f, const char *path, model *m, int unit_bias) {
  scl_import_options o = options16();
  scl_net net = NULL;
  TK_OK(ctx, scl_net_import(ctx, f, path, &o, &net));
  expect_params(net, m, unit_bias);
  scl_net_release(net);
}

static void expect_import_fails(scl_context ctx, scl_model_format f, const char *path, const char *needle) {
  scl_import_options o = options16();
  scl_net net = NULL;
  scl_status st = scl_net_import(ctx, f, path, &o, &net);
  TK_CHECK_MSG(st == SCL_ERR_FORMAT, "%s: status %d, not SCL_ERR_FORMAT", path, st);
  TK_CHECK_MSG(!needle || strstr(scl_context_error(ctx), needle), "message \"%s\" lacks \"%s\"",
               scl_context_error(ctx), needle);
  TK_CHECK(net == NULL);
}

static void caffe_files(scl_context ctx) {
  for (int v1 = 0; v1 < 2; v1++) {
    model m;
    make_model(&m, 1); /* the authors' file has unit biases (fixed at 0; any values here) */
    buf b = {0};
    write_caffe(&b, &m, v1);
    import_ok(ctx, SCL_MODEL_CAFFE, write_temp(v1 ? "v1.caffemodel" : "new.caffemodel", &b), &m, 1);
    free(b.b), free_model(&m);
  }
}

static void pytorch_files(scl_context ctx) {
  for (int unit_bias = 0; unit_bias < 2; unit_bias++) {
    model m;
    make_model(&m, unit_bias);
    buf b = {0};
    write_torch(&b, &m, "FloatStorage");
    import_ok(ctx, SCL_MODEL_PYTORCH, write_temp("m.pth", &b), &m, unit_bias);
    b.n = 0;
    write_torch_zip(&b, &m);
    import_ok(ctx, SCL_MODEL_PYTORCH, write_temp("zip.pth", &b), &m, unit_bias);
    free(b.b), free_model(&m);
  }
}

/* Export, then import the export: the same parameters, and zeros for the unit biases a net without
   them gets in the port's layout. */
static void export_roundtrip(scl_context ctx) {
  model m;
  make_model(&m, 0);
  buf b = {0};
  write_torch(&b, &m, "FloatStorage");
  scl_import_options o = options16();
  scl_net net = NULL, back = NULL;
  TK_OK(ctx, scl_net_import(ctx, SCL_MODEL_PYTORCH, write_temp("m.pth", &b), &o, &net));
  char out[4200];
  tk_join(out, sizeof out, dir_path, "export.pth");
  TK_OK(ctx, scl_net_export(net, SCL_MODEL_PYTORCH, out));
  TK_OK(ctx, scl_net_import(ctx, SCL_MODEL_PYTORCH, out, &o, &back));
  model with_zeros;
  make_model(&with_zeros, 1);
  for (int i = 0; i < with_zeros.n; i++) {
    tensor *t = &with_zeros.t[i], *src = find(&m, t->name);
    if (src) memcpy(t->data, src->data, t->count * sizeof *t->data);
    else memset(t->data, 0, t->count * sizeof *t->data);
  }
  expect_params(back, &with_zeros, 1);
  TK_STATUS(ctx, scl_net_export(net, SCL_MODEL_CAFFE, out), SCL_ERR_UNSUPPORTED);
  scl_net_release(net), scl_net_release(back);
  free(b.b), free_model(&m), free_model(&with_zeros);
}

/* A set of tensors changed one way, written as PyTorch: import must fail naming `needle`. */
static void expect_bad_model(scl_context ctx, model *m, const char *needle) {
  buf b = {0};
  write_torch(&b, m, "FloatStorage");
  expect_import_fails(ctx, SCL_MODEL_PYTORCH, write_temp("bad.pth", &b), needle);
  free(b.b);
}

static void wrong_tensors(scl_context ctx) {
  model m;
  make_model(&m, 1);
  /* missing: the last tensor moved out of the count */
  tensor *bias = find(&m, "conv3_4.bias");
  char saved[64];
  memcpy(saved, bias->name, sizeof saved);
  snprintf(bias->name, sizeof bias->name, "conv9_9.weight");
  expect_bad_model(ctx, &m, "conv3_4.bias"); /* the missing one is named first */
  memcpy(bias->name, saved, sizeof saved);
  /* extra */
  add(&m, "fc7.weight", 2, 2, 2, 0, 0);
  expect_bad_model(ctx, &m, "unexpected tensor \"fc7.weight\" [2, 2]");
  free(m.t[--m.n].data);
  /* wrong shape */
  tensor *fb = find(&m, "fc5.bias");
  fb->dims[0] = fb->count = EMBED - 1;
  expect_bad_model(ctx, &m, "\"fc5.bias\" has shape [4]");
  fb->dims[0] = fb->count = EMBED;
  /* a residual unit with one conv */
  tensor *c = find(&m, "conv3_5.weight");
  snprintf(c->name, sizeof c->name, "conv5_5.weight");
  expect_bad_model(ctx, &m, "conv3_5.weight");
  snprintf(c->name, sizeof c->name, "conv3_5.weight");
  /* not SphereFace at all */
  tensor *s4 = find(&m, "conv4_1.weight");
  snprintf(s4->name, sizeof s4->name, "convX.weight");
  expect_bad_model(ctx, &m, "conv4_1.weight");
  snprintf(s4->name, sizeof s4->name, "conv4_1.weight");
  /* an input size that does not give fc5's inputs */
  buf b = {0};
  write_torch(&b, &m, "FloatStorage");
  scl_import_options o;
  scl_import_options_default(&o); /* 112x96: 3 channels x 7x6 = 126, not 3 */
  scl_net net = NULL;
  TK_STATUS(ctx, scl_net_import(ctx, SCL_MODEL_PYTORCH, write_temp("m.pth", &b), &o, &net), SCL_ERR_FORMAT);
  TK_CHECK(strstr(scl_context_error(ctx), "fc5.weight has 3 inputs") && net == NULL);
  /* another dtype */
  free(b.b);
  b = (buf){0};
  write_torch(&b, &m, "IntStorage"); /* 4-byte elements, as the floats written */
  expect_import_fails(ctx, SCL_MODEL_PYTORCH, write_temp("int.pth", &b), "holds IntStorage");
  free(b.b), free_model(&m);
}

/* Every prefix of a good file is refused with SCL_ERR_FORMAT (never a crash), and so is every
   single-byte change that the reader can see (the others must import or fail cleanly). */
static void damaged_files(scl_context ctx) {
  (void)ctx;
  model m;
  make_model(&m, 1);
  for (int format = 0; format < 3; format++) { /* torch legacy, Caffe, torch zip */
    int caffe = format == 1;
    buf b = {0};
    if (caffe) write_caffe(&b, &m, 0);
    else if (format == 2) write_torch_zip(&b, &m);
    else write_torch(&b, &m, "FloatStorage");
    int bad_prefix = 0;
    for (size_t n = 0; n < b.n; n++) {
      scl__imp_set set = {0};
      scl_status st = caffe ? scl__caffe_read(b.b, n, "x", &set) : scl__torch_read(b.b, n, "x", &set);
      if (caffe && st == SCL_OK) { /* a cut between layers is a valid, shorter net: the mapping refuses it */
        int complete = scl__imp_set_find(&set, "fc6.weight") != NULL;
        st = complete ? SCL_OK : SCL_ERR_FORMAT;
      }
      if (st != SCL_ERR_FORMAT) bad_prefix++;
      scl__imp_set_free(&set);
    }
    TK_CHECK_MSG(bad_prefix == 0, "format %d: %d prefixes not refused", format, bad_prefix);
    tk_rng r = tk_rng_make(7);
    for (int k = 0; k < 3000; k++) {
      unsigned char *c = malloc(b.n);
      memcpy(c, b.b, b.n);
      size_t at = (size_t)tk_uniform(&r, 0, (double)b.n);
      c[at < b.n ? at : b.n - 1] ^= (unsigned char)(1u << (k % 8));
      scl__imp_set set = {0};
      scl_status st = caffe ? scl__caffe_read(c, b.n, "x", &set) : scl__torch_read(c, b.n, "x", &set);
      TK_CHECK(st == SCL_OK || st == SCL_ERR_FORMAT || st == SCL_ERR_OUT_OF_MEMORY);
      scl__imp_set_free(&set);
      free(c);
    }
    free(b.b);
  }
  free_model(&m);
}

static void foreign_files(scl_context ctx) {
  buf b = {0};
  put(&b, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  const char *png = write_temp("face.png", &b);
  expect_import_fails(ctx, SCL_MODEL_PYTORCH, png, "not a PyTorch file");
  expect_import_fails(ctx, SCL_MODEL_CAFFE, png, "not a valid Caffe model at byte");
  b.n = 0;
  put(&b, "PK\x03\x04 rest of a zip", 19);
  expect_import_fails(ctx, SCL_MODEL_PYTORCH, write_temp("zip.pth", &b), "damaged zip archive");
  b.n = 0;
  put(&b, "\x80\x02K\x05.", 5); /* a pickle of 5, not torch's magic */
  expect_import_fails(ctx, SCL_MODEL_PYTORCH, write_temp("five.pth", &b), "no torch magic number");
  b.n = 0;
  expect_import_fails(ctx, SCL_MODEL_CAFFE, write_temp("empty.caffemodel", &b), "no Caffe layers");
  scl_net net = NULL;
  char missing[4200];
  tk_join(missing, sizeof missing, dir_path, "absent.pth");
  TK_STATUS(ctx, scl_net_import(ctx, SCL_MODEL_PYTORCH, missing, NULL, &net), SCL_ERR_IO);
  TK_STATUS(ctx, scl_net_import(ctx, (scl_model_format)9, missing, NULL, &net), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_net_import(ctx, SCL_MODEL_CAFFE, NULL, NULL, &net), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_net_import(NULL, SCL_MODEL_CAFFE, missing, NULL, &net), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_net_export(NULL, SCL_MODEL_PYTORCH, missing), SCL_ERR_INVALID_ARGUMENT);
  free(b.b);
}

int main(int argc, char **argv) {
  char *dir = tk_temp_dir("import");
  if (!dir) return 1;
  snprintf(dir_path, sizeof dir_path, "%s", dir);
  const tk_case cases[] = {{"caffe_files", caffe_files},         {"pytorch_files", pytorch_files},
                           {"export_roundtrip", export_roundtrip}, {"wrong_tensors", wrong_tensors},
                           {"damaged_files", damaged_files},     {"foreign_files", foreign_files}};
  int rc = tk_main(argc, argv, cases, sizeof cases / sizeof *cases);
  tk_temp_dir_remove(dir);
  return rc;
}
