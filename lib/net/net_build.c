/* SphereFace-N: the layer list of SPEC §6 and Caffe's initialisation. */
#include "net_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void scl_net_config_default(scl_net_config *cfg) {
  if (!cfg) return;
  memset(cfg, 0, sizeof *cfg);
  cfg->depth = 20;
  cfg->in_channels = 3, cfg->in_height = 112, cfg->in_width = 96;
  cfg->widths[0] = 64, cfg->widths[1] = 128, cfg->widths[2] = 256, cfg->widths[3] = 512;
  cfg->embed_dim = 512;
  cfg->num_classes = 10572;
  cfg->margin.type = SCL_MARGIN_ASOFTMAX;
  cfg->margin.m = 4;
  cfg->margin.grad = SCL_GRAD_CAFFE;
  cfg->margin.s = 64.0f, cfg->margin.m1 = 1.0f;
  cfg->lambda_base = 1000.0f, cfg->lambda_gamma = 0.12f, cfg->lambda_power = 1.0f, cfg->lambda_min = 5.0f;
  cfg->lr = 0.1f, cfg->momentum = 0.9f, cfg->weight_decay = 5e-4f;
  cfg->lr_gamma = 0.1f;
  cfg->lr_steps[0] = 16000, cfg->lr_steps[1] = 24000;
  cfg->seed = 1;
  cfg->input.order = SCL_CHANNELS_RGB;
  cfg->input.mean = 127.5f, cfg->input.scale = 1.0f / 128.0f;
}

/* Residual units per stage (SPEC §6). */
static int units_for_depth(int depth, int units[4]) {
  static const int table[5][5] = {
      {4, 0, 0, 0, 0}, {10, 0, 1, 2, 0}, {20, 1, 2, 4, 1}, {36, 2, 4, 8, 2}, {64, 3, 8, 16, 3}};
  for (int i = 0; i < 5; i++)
    if (table[i][0] == depth) {
      memcpy(units, &table[i][1], 4 * sizeof(int));
      return 1;
    }
  return 0;
}

static int out_size(int in) { return (in + 2 - 3) / 2 + 1; } /* 3x3, stride 2, pad 1 */

scl_status scl__net_check_config(const scl_net_config *c, char *why, size_t size) {
  int units[4];
#define BAD(...) return (snprintf(why, size, __VA_ARGS__), SCL_ERR_INVALID_ARGUMENT)
  if (!units_for_depth(c->depth, units)) BAD("depth %d is not one of 4, 10, 20, 36, 64", c->depth);
  if (c->in_channels < 1 || c->in_channels > 4096) BAD("in_channels %d is outside 1..4096", c->in_channels);
  if (c->in_height < 1 || c->in_width < 1 || c->in_height > 16384 || c->in_width > 16384)
    BAD("input size %dx%d is outside 1..16384", c->in_height, c->in_width);
  for (int i = 0; i < 4; i++)
    if (c->widths[i] < 1 || c->widths[i] > 65536) BAD("widths[%d] = %d is outside 1..65536", i, c->widths[i]);
  if (c->embed_dim < 1 || c->embed_dim > 65536) BAD("embed_dim %d is outside 1..65536", c->embed_dim);
  if (c->num_classes < 2 || c->num_classes > 10000000) BAD("num_classes %d is outside 2..10^7", c->num_classes);
  const scl_input_format *in = &c->input;
  if (c->unit_bias != 0 && c->unit_bias != 1) BAD("unit_bias %d is not 0 or 1", c->unit_bias);
  if (in->order != SCL_CHANNELS_RGB && in->order != SCL_CHANNELS_BGR) BAD("input.order %d is unknown", (int)in->order);
  if (!isfinite(in->mean) || !isfinite(in->scale) || in->scale == 0)
    BAD("input.mean %g and input.scale %g must be finite, scale non-zero", (double)in->mean, (double)in->scale);
  if ((in->crop_height || in->crop_width) &&
      (in->crop_height < c->in_height || in->crop_width < c->in_width || in->crop_height > 16384 ||
       in->crop_width > 16384))
    BAD("input crop %dx%d must be 0x0 or at least the input size %dx%d (and at most 16384)", in->crop_height,
        in->crop_width, c->in_height, c->in_width);
  const scl_margin_params *m = &c->margin;
  if (m->type != SCL_MARGIN_NONE && m->type != SCL_MARGIN_ASOFTMAX && m->type != SCL_MARGIN_COMBINED)
    BAD("margin.type %d is unknown", (int)m->type);
  if (m->type == SCL_MARGIN_ASOFTMAX && (m->m < 1 || m->m > 4)) BAD("margin.m %d is outside 1..4", m->m);
  if (m->grad != SCL_GRAD_CAFFE && m->grad != SCL_GRAD_EXACT) BAD("margin.grad %d is unknown", (int)m->grad);
  if (m->type == SCL_MARGIN_COMBINED && !(m->s > 0 && isfinite(m->s) && isfinite(m->m1) && isfinite(m->m2) &&
                                          isfinite(m->m3)))
    BAD("combined margin needs s > 0 and finite m1, m2, m3");
  if (!(c->lambda_base >= 0 && c->lambda_gamma >= 0 && c->lambda_power >= 0 && c->lambda_min >= 0) ||
      !isfinite(c->lambda_base) || !isfinite(c->lambda_min))
    BAD("the lambda schedule needs base, gamma, power, min >= 0 and finite");
  if (!(c->lr >= 0 && isfinite(c->lr))) BAD("lr %g must be >= 0", (double)c->lr);
  if (!(c->momentum >= 0 && c->momentum < 1)) BAD("momentum %g is outside [0, 1)", (double)c->momentum);
  if (!(c->weight_decay >= 0 && isfinite(c->weight_decay))) BAD("weight_decay must be >= 0");
  if (!(c->lr_gamma > 0 && isfinite(c->lr_gamma))) BAD("lr_gamma must be > 0");
  for (int i = 0; i < 4; i++)
    if (c->lr_steps[i] < 0) BAD("lr_steps[%d] is negative", i);
#undef BAD
  return SCL_OK;
}

/* ---- graph construction ------------------------------------------------------------------------ */

typedef struct {
  scl_net net;
  scl_status st;
} builder;

static int add_param(builder *b, const char *name, int ndim, const size_t *dims, float lr_mult, float decay_mult) {
  scl_net net = b->net;
  if (b->st != SCL_OK) return -1;
  if (net->nparams == SCL_NET_MAX_PARAMS) {
    b->st = scl__fail(net->ctx, SCL_ERR_UNSUPPORTED, "scl_net_create: more than %d parameters", SCL_NET_MAX_PARAMS);
    return -1;
  }
  scl_param *p = &net->params[net->nparams];
  snprintf(p->name, sizeof p->name, "%s", name);
  p->lr_mult = lr_mult, p->decay_mult = decay_mult;
  if ((b->st = scl_tensor_create(net->ctx, SCL_F32, ndim, dims, &p->value)) != SCL_OK ||
      (b->st = scl_tensor_create(net->ctx, SCL_F32, ndim, dims, &p->grad)) != SCL_OK ||
      (b->st = scl_tensor_create(net->ctx, SCL_F32, ndim, dims, &p->history)) != SCL_OK ||
      (b->st = scl_tensor_fill(p->history, 0.0f)) != SCL_OK)
    return -1;
  return net->nparams++;
}

static int new_act(builder *b, int ndim, size_t c, size_t h, size_t w) {
  scl_net net = b->net;
  scl_act_shape *s = &net->shapes[net->nacts];
  s->ndim = ndim;
  s->dims[0] = 0, s->dims[1] = c, s->dims[2] = h, s->dims[3] = w;
  return net->nacts++;
}

static void add_layer(builder *b, scl_layer_kind kind, int in, int in2, int out, int w, int bias, int stride,
                      int pad) {
  scl_net net = b->net;
  if (b->st != SCL_OK) return;
  if (net->nlayers == SCL_NET_MAX_LAYERS) {
    b->st = scl__fail(net->ctx, SCL_ERR_UNSUPPORTED, "scl_net_create: more than %d layers", SCL_NET_MAX_LAYERS);
    return;
  }
  scl_layer *l = &net->layers[net->nlayers++];
  l->kind = kind, l->in = in, l->in2 = in2, l->out = out, l->w = w, l->b = bias;
  l->conv.stride_h = l->conv.stride_w = stride;
  l->conv.pad_h = l->conv.pad_w = pad;
}

/* conv 3x3 (+ optional bias) then PReLU; returns the PReLU's output activation. */
static int conv_prelu(builder *b, const char *prefix, int in, size_t cin, size_t cout, int stride, int with_bias) {
  scl_net net = b->net;
  char name[64];
  const size_t wd[4] = {cout, cin, 3, 3}, bd[1] = {cout};
  snprintf(name, sizeof name, "%s.w", prefix);
  int w = add_param(b, name, 4, wd, 1.0f, 1.0f);
  int bias = -1;
  if (with_bias) { /* Caffe: the stage convs' biases learn at 2x lr with no decay */
    snprintf(name, sizeof name, "%s.b", prefix);
    bias = add_param(b, name, 1, bd, 2.0f, 0.0f);
  }
  snprintf(name, sizeof name, "%s.prelu", prefix);
  int slope = add_param(b, name, 1, bd, 1.0f, 1.0f);
  size_t h = net->shapes[in].dims[2], wi = net->shapes[in].dims[3];
  if (stride == 2) h = (size_t)out_size((int)h), wi = (size_t)out_size((int)wi);
  int conv_out = new_act(b, 4, cout, h, wi);
  add_layer(b, SCL_LAYER_CONV, in, -1, conv_out, w, bias, stride, 1);
  int prelu_out = new_act(b, 4, cout, h, wi);
  add_layer(b, SCL_LAYER_PRELU, conv_out, -1, prelu_out, slope, -1, 0, 0);
  return prelu_out;
}

scl_status scl__net_build(scl_context ctx, const scl_net_config *cfg, scl_net *out) {
  scl_net net = calloc(1, sizeof *net);
  if (!net) return scl__fail(ctx, SCL_ERR_OUT_OF_MEMORY, "scl_net_create: out of host memory");
  net->ctx = ctx;
  net->cfg = *cfg;
  net->threshold = NAN;
  builder b = {net, SCL_OK};
  int units[4];
  units_for_depth(cfg->depth, units);
  int x = new_act(&b, 4, (size_t)cfg->in_channels, (size_t)cfg->in_height, (size_t)cfg->in_width);
  size_t cin = (size_t)cfg->in_channels;
  for (int s = 0; s < 4 && b.st == SCL_OK; s++) {
    char prefix[48];
    size_t width = (size_t)cfg->widths[s];
    snprintf(prefix, sizeof prefix, "stage%d.conv", s + 1);
    x = conv_prelu(&b, prefix, x, cin, width, 2, 1);
    for (int u = 0; u < units[s] && b.st == SCL_OK; u++) {
      /* x + PReLU(conv(PReLU(conv(x)))); the unit convs' biases are fixed at 0 in the reference,
         which is the same as having none; imported models (the PyTorch port) may have trained ones. */
      snprintf(prefix, sizeof prefix, "stage%d.unit%d.conv1", s + 1, u + 1);
      int y = conv_prelu(&b, prefix, x, width, width, 1, cfg->unit_bias);
      snprintf(prefix, sizeof prefix, "stage%d.unit%d.conv2", s + 1, u + 1);
      y = conv_prelu(&b, prefix, y, width, width, 1, cfg->unit_bias);
      int sum = new_act(&b, 4, width, net->shapes[x].dims[2], net->shapes[x].dims[3]);
      add_layer(&b, SCL_LAYER_ADD, y, x, sum, -1, -1, 0, 0);
      x = sum;
    }
    cin = width;
  }
  /* fc5: the embedding, no activation. */
  size_t flat = net->shapes[x].dims[1] * net->shapes[x].dims[2] * net->shapes[x].dims[3];
  const size_t fw[2] = {(size_t)cfg->embed_dim, flat}, fb[1] = {(size_t)cfg->embed_dim};
  int w = add_param(&b, "fc5.w", 2, fw, 1.0f, 1.0f);
  int bias = add_param(&b, "fc5.b", 1, fb, 2.0f, 0.0f);
  int emb = new_act(&b, 2, (size_t)cfg->embed_dim, 0, 0);
  add_layer(&b, SCL_LAYER_LINEAR, x, -1, emb, w, bias, 0, 0);
  const size_t cw[2] = {(size_t)cfg->num_classes, (size_t)cfg->embed_dim};
  net->class_w = add_param(&b, "margin.w", 2, cw, 1.0f, 1.0f);
  if (b.st != SCL_OK) {
    scl_net_release(net);
    return b.st;
  }
  *out = net;
  return SCL_OK;
}

/* ---- initialisation ------------------------------------------------------------------------------ */

static scl_status init_tensor(scl_net net, scl_tensor t, scl_rng *rng, int kind, double scale) {
  size_t n = scl_tensor_count(t);
  float *h = malloc(n * sizeof *h);
  if (!h) return scl__fail(net->ctx, SCL_ERR_OUT_OF_MEMORY, "scl_net_create: out of host memory");
  for (size_t i = 0; i < n; i++)
    h[i] = kind == 0 ? (float)scl__rng_uniform(rng, -scale, scale) : (float)(scl__rng_normal(rng) * scale);
  scl_status st = scl_tensor_write(t, h, n * sizeof *h);
  free(h);
  return st;
}

scl_status scl__net_init_params(scl_net net) {
  scl_rng rng = scl__rng_make(net->cfg.seed);
  for (int i = 0; i < net->nparams; i++) {
    scl_param *p = &net->params[i];
    const char *suffix = strrchr(p->name, '.');
    scl_status st;
    size_t fan_in = scl_tensor_count(p->value) / scl_tensor_dim(p->value, 0);
    if (!strcmp(suffix, ".prelu")) st = scl_tensor_fill(p->value, 0.25f);
    else if (!strcmp(suffix, ".b")) st = scl_tensor_fill(p->value, 0.0f);
    else if (strstr(p->name, ".unit")) st = init_tensor(net, p->value, &rng, 1, 0.01); /* gaussian σ=0.01 */
    else st = init_tensor(net, p->value, &rng, 0, sqrt(3.0 / (double)fan_in));           /* xavier */
    if (st != SCL_OK) return st;
  }
  return SCL_OK;
}

int scl__net_find_param(scl_net net, const char *name) {
  for (int i = 0; i < net->nparams; i++)
    if (!strcmp(net->params[i].name, name)) return i;
  return -1;
}

scl_status scl_net_create(scl_context ctx, const scl_net_config *cfg, scl_net *out) {
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  if (!cfg || !out) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "scl_net_create: %s is NULL", !cfg ? "cfg" : "net");
  char why[256];
  scl_status st = scl__net_check_config(cfg, why, sizeof why);
  if (st != SCL_OK) return scl__fail(ctx, st, "scl_net_create: %s", why);
  scl_net net = NULL;
  st = scl__net_build(ctx, cfg, &net);
  if (st == SCL_OK) st = scl__net_init_params(net);
  if (st != SCL_OK) {
    scl_net_release(net);
    return st;
  }
  *out = net;
  return SCL_OK;
}

static void release_batch_buffers(scl_net net) {
  for (int i = 0; i < SCL_NET_MAX_ACTS; i++) {
    scl_tensor_release(net->acts[i]), scl_tensor_release(net->grads[i]), scl_tensor_release(net->scratch[i]);
    net->acts[i] = net->grads[i] = net->scratch[i] = NULL;
  }
  scl_tensor_release(net->labels), scl_tensor_release(net->logits), scl_tensor_release(net->dlogits);
  net->labels = net->logits = net->dlogits = NULL;
  net->batch = 0;
}

void scl__net_release_batch(scl_net net) { release_batch_buffers(net); }

void scl_net_release(scl_net net) {
  if (!net) return;
  scl_context_finish(net->ctx);
  release_batch_buffers(net);
  scl_tensor_release(net->wn);
  scl_tensor_release(net->dwn);
  for (int i = 0; i < net->nparams; i++) {
    scl_tensor_release(net->params[i].value);
    scl_tensor_release(net->params[i].grad);
    scl_tensor_release(net->params[i].history);
  }
  free(net);
}

const scl_net_config *scl_net_get_config(scl_net net) { return net ? &net->cfg : NULL; }
scl_context scl_net_context(scl_net net) { return net ? net->ctx : NULL; }
long scl_net_iteration(scl_net net) { return net ? net->iteration : 0; }
float scl_net_threshold(scl_net net) { return net ? net->threshold : NAN; }
void scl_net_set_threshold(scl_net net, float threshold) {
  if (net) net->threshold = threshold;
}

void scl_net_set_grad_hook(scl_net net, scl_grad_hook hook, void *user) {
  if (net) net->grad_hook = hook, net->grad_hook_user = user;
}
void scl_net_set_grad_ready_hook(scl_net net, scl_grad_ready_hook ready, void *user) {
  if (net) net->ready_hook = ready, net->ready_hook_user = user;
}
int scl_net_param_count(scl_net net) { return net ? net->nparams : 0; }
static int param_ok(scl_net net, int i) { return net && i >= 0 && i < net->nparams; }
const char *scl_net_param_name(scl_net net, int i) { return param_ok(net, i) ? net->params[i].name : NULL; }
scl_tensor scl_net_param_value(scl_net net, int i) { return param_ok(net, i) ? net->params[i].value : NULL; }
scl_tensor scl_net_param_grad(scl_net net, int i) { return param_ok(net, i) ? net->params[i].grad : NULL; }
