/* scl_net_import / scl_net_export: the published models' tensor names onto a net's parameters. One
   naming table (external_name) serves both directions. */
#include "import/import_internal.h"
#include "net/net_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void scl_import_options_default(scl_import_options *opt) {
  if (!opt) return;
  memset(opt, 0, sizeof *opt);
  opt->in_height = 112, opt->in_width = 96;
  opt->input.order = SCL_CHANNELS_BGR;
  opt->input.mean = 127.5f, opt->input.scale = 1.0f / 128.0f;
}

/* Our parameter name to the file's: "stage2.unit1.conv2.w" -> "conv2_3.weight", "stage1.conv.prelu"
   -> "relu1_1.weight", "fc5.b" -> "fc5.bias", "margin.w" -> "fc6.weight". 0 for an unknown name. */
static int external_name(const char *ours, char *out, size_t size) {
  int s, u, j, k, n = 0;
  char kind[16];
  if (!strcmp(ours, "fc5.w")) return snprintf(out, size, "fc5.weight"), 1;
  if (!strcmp(ours, "fc5.b")) return snprintf(out, size, "fc5.bias"), 1;
  if (!strcmp(ours, "margin.w")) return snprintf(out, size, "fc6.weight"), 1;
  if (sscanf(ours, "stage%d.unit%d.conv%d.%15s%n", &s, &u, &j, kind, &n) == 4 && !ours[n])
    k = 2 * u + j - 1;
  else if (sscanf(ours, "stage%d.conv.%15s%n", &s, kind, &n) == 2 && !ours[n])
    k = 1;
  else
    return 0;
  if (!strcmp(kind, "prelu")) return snprintf(out, size, "relu%d_%d.weight", s, k), 1;
  return snprintf(out, size, "conv%d_%d.%s", s, k, !strcmp(kind, "w") ? "weight" : "bias"), 1;
}

/* Shapes equal once leading 1s are dropped from both (Caffe's legacy blobs are always 4-d:
   1x1x1xC for a bias, 1x1xOUTxIN for an InnerProduct weight). */
static int same_shape(const size_t *a, int na, const size_t *b, int nb) {
  while (na > 1 && a[0] == 1) a++, na--;
  while (nb > 1 && b[0] == 1) b++, nb--;
  if (na != nb) return 0;
  for (int i = 0; i < na; i++)
    if (a[i] != b[i]) return 0;
  return 1;
}

/* The last `want` dims of t (its leading 1s dropped), or 0 if it has more. */
static int trailing_dims(const scl__imp_tensor *t, int want, size_t *dims) {
  int n = t->ndim, skip = 0;
  while (n - skip > want && t->dims[skip] == 1) skip++;
  if (n - skip != want) return 0;
  for (int i = 0; i < want; i++) dims[i] = t->dims[skip + i];
  return 1;
}

static scl_status missing(scl_context ctx, const char *path, const char *name, const char *why) {
  return scl__fail(ctx, SCL_ERR_FORMAT, "%s: no tensor \"%s\"%s", path, name, why);
}

static int out_size(int in) { return (in + 2 - 3) / 2 + 1; } /* 3x3, stride 2, pad 1 */

/* Depth, widths, classes and the rest, from the tensors present. */
static scl_status infer_config(scl_context ctx, const char *path, scl_model_format format, scl__imp_set *set,
                               const scl_import_options *opt, scl_net_config *cfg) {
  static const int table[5][5] = {
      {4, 0, 0, 0, 0}, {10, 0, 1, 2, 0}, {20, 1, 2, 4, 1}, {36, 2, 4, 8, 2}, {64, 3, 8, 16, 3}};
  scl_net_config_default(cfg);
  char name[64], dims[160];
  int units[4];
  for (int s = 1; s <= 4; s++) {
    snprintf(name, sizeof name, "conv%d_1.weight", s);
    const scl__imp_tensor *t = scl__imp_set_find(set, name);
    size_t d[4];
    if (!t) return missing(ctx, path, name, ": not a SphereFace network (stage convs conv1_1 ... conv4_1)");
    if (!trailing_dims(t, 4, d) || d[2] != 3 || d[3] != 3) {
      scl__imp_dims_string(t->dims, t->ndim, dims, sizeof dims);
      return scl__fail(ctx, SCL_ERR_FORMAT, "%s: tensor \"%s\" has shape %s, not [out, in, 3, 3]", path, name, dims);
    }
    cfg->widths[s - 1] = (int)d[0];
    if (s == 1) cfg->in_channels = (int)d[1];
    int k = 2;
    for (;; k++) {
      snprintf(name, sizeof name, "conv%d_%d.weight", s, k);
      if (!scl__imp_set_find(set, name)) break;
    }
    if ((k - 2) % 2)
      return missing(ctx, path, name, ": a residual unit has one conv, not two (conv{S}_{2U} and conv{S}_{2U+1})");
    units[s - 1] = (k - 2) / 2;
  }
  cfg->depth = 0;
  for (int i = 0; i < 5; i++)
    if (!memcmp(&table[i][1], units, sizeof units)) cfg->depth = table[i][0];
  if (!cfg->depth)
    return scl__fail(ctx, SCL_ERR_FORMAT,
                     "%s: %d/%d/%d/%d residual units per stage match no SphereFace depth (4, 10, 20, 36, 64)", path,
                     units[0], units[1], units[2], units[3]);
  const scl__imp_tensor *fc5 = scl__imp_set_find(set, "fc5.weight");
  size_t f[2];
  if (!fc5) return missing(ctx, path, "fc5.weight", ": the embedding layer fc5 is required");
  if (!trailing_dims(fc5, 2, f)) return scl__fail(ctx, SCL_ERR_FORMAT, "%s: tensor \"fc5.weight\" is not a matrix", path);
  cfg->embed_dim = (int)f[0];
  cfg->in_height = opt->in_height, cfg->in_width = opt->in_width;
  int h = opt->in_height, w = opt->in_width;
  for (int s = 0; s < 4; s++) h = out_size(h), w = out_size(w);
  size_t flat = (size_t)cfg->widths[3] * (size_t)(h > 0 ? h : 0) * (size_t)(w > 0 ? w : 0);
  if (f[1] != flat)
    return scl__fail(ctx, SCL_ERR_FORMAT,
                     "%s: fc5.weight has %zu inputs, but a %dx%d input (height x width) gives %d channels x %dx%d = "
                     "%zu: the model was trained on another input size (give it in the import options)",
                     path, f[1], opt->in_height, opt->in_width, cfg->widths[3], h, w, flat);
  const scl__imp_tensor *fc6 = scl__imp_set_find(set, "fc6.weight");
  cfg->num_classes = 2;
  if (fc6) {
    size_t c[2];
    if (!trailing_dims(fc6, 2, c))
      return scl__fail(ctx, SCL_ERR_FORMAT, "%s: tensor \"fc6.weight\" is not a matrix", path);
    cfg->num_classes = (int)(format == SCL_MODEL_PYTORCH ? c[1] : c[0]);
  }
  /* Unit biases all present or all absent: the first unit's decides, take_param checks the rest. */
  cfg->unit_bias = 0;
  for (int s = 1; s <= 4; s++)
    if (units[s - 1]) {
      snprintf(name, sizeof name, "conv%d_2.bias", s);
      cfg->unit_bias = scl__imp_set_find(set, name) != NULL;
      break;
    }
  cfg->input = opt->input;
  return SCL_OK;
}

/* Copies the file's tensor for parameter p into the net, transposed for the port's fc6. */
static scl_status take_param(scl_net net, const char *path, scl_model_format format, scl__imp_set *set, scl_param *p) {
  char name[64], want[160], have[160];
  if (!external_name(p->name, name, sizeof name))
    return scl__fail(net->ctx, SCL_ERR_UNSUPPORTED, "%s: no external name for parameter %s", path, p->name);
  int is_fc6 = !strcmp(name, "fc6.weight");
  scl__imp_tensor *t = scl__imp_set_find(set, name);
  if (!t) {
    if (is_fc6) return SCL_OK; /* optional: placeholder classes */
    return missing(net->ctx, path, name, !strcmp(p->name + strlen(p->name) - 2, ".b") && strstr(p->name, ".unit")
                                             ? " (other residual-unit convs have biases; this one must too)"
                                             : "");
  }
  size_t dims[4] = {0, 0, 0, 0}, expect[4];
  int nd = scl_tensor_ndim(p->value);
  for (int i = 0; i < nd; i++) dims[i] = scl_tensor_dim(p->value, i);
  memcpy(expect, dims, sizeof dims);
  if (is_fc6 && format == SCL_MODEL_PYTORCH) expect[0] = dims[1], expect[1] = dims[0];
  if (!same_shape(t->dims, t->ndim, expect, nd)) {
    scl__imp_dims_string(t->dims, t->ndim, have, sizeof have);
    scl__imp_dims_string(expect, nd, want, sizeof want);
    return scl__fail(net->ctx, SCL_ERR_FORMAT, "%s: tensor \"%s\" has shape %s; SphereFace-%d needs %s here", path,
                     name, have, net->cfg.depth, want);
  }
  t->used = 1;
  for (size_t i = 0; i < t->count; i++)
    if (!isfinite(t->data[i]))
      return scl__fail(net->ctx, SCL_ERR_FORMAT, "%s: tensor \"%s\" holds a non-finite value at index %zu", path, name,
                       i);
  if (!(is_fc6 && format == SCL_MODEL_PYTORCH)) return scl_tensor_write(p->value, t->data, t->count * sizeof(float));
  float *tr = malloc(t->count * sizeof *tr);
  if (!tr) return scl__fail(net->ctx, SCL_ERR_OUT_OF_MEMORY, "%s: out of host memory", path);
  size_t rows = dims[0], cols = dims[1]; /* ours [classes, D] from the port's [D, classes] */
  for (size_t r = 0; r < rows; r++)
    for (size_t c = 0; c < cols; c++) tr[r * cols + c] = t->data[c * rows + r];
  scl_status st = scl_tensor_write(p->value, tr, t->count * sizeof(float));
  free(tr);
  return st;
}

static scl_status import_set(scl_context ctx, scl_model_format format, const char *path, scl__imp_set *set,
                             const scl_import_options *opt, scl_net *out) {
  scl_net_config cfg;
  scl_status st = infer_config(ctx, path, format, set, opt, &cfg);
  if (st != SCL_OK) return st;
  char why[256];
  if ((st = scl__net_check_config(&cfg, why, sizeof why)) != SCL_OK)
    return scl__fail(ctx, SCL_ERR_FORMAT, "%s: the network it describes is invalid: %s", path, why);
  scl_net net = NULL;
  if ((st = scl_net_create(ctx, &cfg, &net)) != SCL_OK) return st;
  for (int i = 0; st == SCL_OK && i < net->nparams; i++) st = take_param(net, path, format, set, &net->params[i]);
  for (size_t i = 0; st == SCL_OK && i < set->n; i++)
    if (!set->t[i].used) {
      char dims[160];
      scl__imp_dims_string(set->t[i].dims, set->t[i].ndim, dims, sizeof dims);
      st = scl__fail(ctx, SCL_ERR_FORMAT, "%s: unexpected tensor \"%s\" %s: not part of SphereFace-%d as read", path,
                     set->t[i].name, dims, cfg.depth);
    }
  if (st == SCL_OK) st = scl_context_finish(ctx);
  if (st != SCL_OK) {
    scl_net_release(net);
    return st;
  }
  *out = net;
  return SCL_OK;
}

scl_status scl_net_import(scl_context ctx, scl_model_format format, const char *path, const scl_import_options *opt,
                          scl_net *net) {
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  if (!path || !net)
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "scl_net_import: %s is NULL", !path ? "path" : "net");
  if (format != SCL_MODEL_CAFFE && format != SCL_MODEL_PYTORCH)
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "scl_net_import: unknown format %d", (int)format);
  scl_import_options defaults;
  scl_import_options_default(&defaults);
  if (!opt) opt = &defaults;
  unsigned char *buf = NULL;
  size_t size = 0;
  scl__imp_set set = {NULL, 0, 0};
  const char *what = format == SCL_MODEL_CAFFE ? "Caffe model" : "PyTorch file";
  scl_status st = scl__read_file(path, what, SCL_IMP_MAX_FILE, &buf, &size);
  if (st == SCL_OK)
    st = format == SCL_MODEL_CAFFE ? scl__caffe_read(buf, size, path, &set) : scl__torch_read(buf, size, path, &set);
  free(buf);
  if (st != SCL_OK) return scl__fail(ctx, st, "%s", scl_context_error(NULL));
  st = import_set(ctx, format, path, &set, opt, net);
  scl__imp_set_free(&set);
  return st;
}

scl_status scl_net_export(scl_net net, scl_model_format format, const char *path) {
  if (!net) return SCL_ERR_INVALID_ARGUMENT;
  if (!path || !*path) return scl__fail(net->ctx, SCL_ERR_INVALID_ARGUMENT, "scl_net_export: path is empty");
  if (format != SCL_MODEL_PYTORCH)
    return scl__fail(net->ctx, SCL_ERR_UNSUPPORTED, "scl_net_export: only the PyTorch state_dict is written");
  scl__imp_set set = {NULL, 0, 0};
  scl_status st = SCL_OK;
  for (int i = 0; st == SCL_OK && i < net->nparams; i++) {
    scl_param *p = &net->params[i];
    char name[64];
    size_t dims[4];
    int nd = scl_tensor_ndim(p->value);
    for (int d = 0; d < nd; d++) dims[d] = scl_tensor_dim(p->value, d);
    int is_fc6 = net->class_w == i;
    if (is_fc6) dims[0] = scl_tensor_dim(p->value, 1), dims[1] = scl_tensor_dim(p->value, 0);
    external_name(p->name, name, sizeof name);
    float *data;
    if ((st = scl__imp_set_add(&set, path, name, nd, dims, &data)) != SCL_OK) break;
    if (!is_fc6) {
      st = scl_tensor_read(p->value, data, scl_tensor_count(p->value) * sizeof(float));
    } else {
      size_t rows = dims[1], cols = dims[0]; /* ours [classes, D] to the port's [D, classes] */
      float *w = malloc(rows * cols * sizeof *w);
      st = w ? scl_tensor_read(p->value, w, rows * cols * sizeof *w)
             : scl__fail(net->ctx, SCL_ERR_OUT_OF_MEMORY, "scl_net_export: out of host memory");
      for (size_t r = 0; st == SCL_OK && r < rows; r++)
        for (size_t c = 0; c < cols; c++) data[c * rows + r] = w[r * cols + c];
      free(w);
    }
    /* The port's unit convs always have a bias: zeros where this net has none. */
    size_t len = strlen(p->name);
    if (st == SCL_OK && !net->cfg.unit_bias && strstr(p->name, ".unit") && len > 2 && !strcmp(p->name + len - 2, ".w")) {
      char bias[64];
      snprintf(bias, sizeof bias, "%.*s.b", (int)(len - 2), p->name);
      external_name(bias, name, sizeof name);
      float *zeros;
      if ((st = scl__imp_set_add(&set, path, name, 1, dims, &zeros)) == SCL_OK)
        memset(zeros, 0, dims[0] * sizeof *zeros);
    }
  }
  if (st == SCL_OK) {
    st = scl__torch_write(path, &set);
    if (st != SCL_OK) scl__fail(net->ctx, st, "%s", scl_context_error(NULL));
  } else if (st == SCL_ERR_FORMAT) {
    st = scl__fail(net->ctx, SCL_ERR_INVALID_ARGUMENT, "scl_net_export: %s", scl_context_error(NULL));
  }
  scl__imp_set_free(&set);
  return st;
}
