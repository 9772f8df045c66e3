/* Networks: construction, Caffe initialisation, learning, save/load, exact resumption. */
#include "net/net_internal.h"
#include "testkit/testkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A small network that trains in seconds on PoCL. */
static scl_net_config tiny_config(int depth, int c, int h, int w, int classes) {
  scl_net_config cfg;
  scl_net_config_default(&cfg);
  cfg.depth = depth;
  cfg.in_channels = c, cfg.in_height = h, cfg.in_width = w;
  cfg.widths[0] = 4, cfg.widths[1] = 8, cfg.widths[2] = 8, cfg.widths[3] = 16;
  cfg.embed_dim = 8;
  cfg.num_classes = classes;
  cfg.seed = 7;
  return cfg;
}

static void structure(scl_context ctx) {
  /* Parameters per depth: each stage has conv.w, conv.b, conv.prelu (3), each unit 2 convs with
     w + prelu (4); then fc5.w, fc5.b, margin.w. */
  const int depths[5] = {4, 10, 20, 36, 64}, units[5] = {0, 3, 8, 16, 30};
  for (int i = 0; i < 5; i++) {
    scl_net_config cfg = tiny_config(depths[i], 3, 20, 17, 5);
    scl_net net = NULL;
    TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
    TK_CHECK_MSG(net->nparams == 4 * 3 + units[i] * 4 + 3, "depth %d: %d params", depths[i], net->nparams);
    /* 20x17 -> 10x9 -> 5x5 -> 3x3 -> 2x2: fc5 sees 16*2*2 inputs. */
    int fc = scl__net_find_param(net, "fc5.w");
    TK_CHECK(fc >= 0 && scl_tensor_dim(net->params[fc].value, 1) == 16 * 2 * 2);
    TK_CHECK(scl_net_iteration(net) == 0 && isnan(scl_net_threshold(net)));
    TK_CHECK(scl_net_get_config(net)->depth == depths[i] && scl_net_context(net) == ctx);
    scl_net_release(net);
  }
  /* The reference shapes: SphereFace-20 on 3x112x96 has fc5 over 512x7x6 = 21504 inputs. */
  scl_net_config cfg;
  scl_net_config_default(&cfg);
  cfg.num_classes = 10;
  scl_net net = NULL;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
  int fc = scl__net_find_param(net, "fc5.w");
  TK_CHECK(scl_tensor_dim(net->params[fc].value, 1) == 21504 && scl_tensor_dim(net->params[fc].value, 0) == 512);
  TK_CHECK(net->nparams == 4 * 3 + 8 * 4 + 3);
  scl_net_release(net);
}

static void bad_configs(scl_context ctx) {
  scl_net net = (scl_net)(uintptr_t)1;
  scl_net_config good = tiny_config(4, 1, 28, 28, 10), cfg;
#define EXPECT_BAD(stmt, needle)                                                                   \
  cfg = good;                                                                                      \
  stmt;                                                                                            \
  TK_STATUS(ctx, scl_net_create(ctx, &cfg, &net), SCL_ERR_INVALID_ARGUMENT);                       \
  TK_CHECK_MSG(strstr(scl_context_error(ctx), needle) != NULL, "%s", scl_context_error(ctx));
  EXPECT_BAD(cfg.depth = 5, "depth");
  EXPECT_BAD(cfg.widths[2] = 0, "widths[2]");
  EXPECT_BAD(cfg.embed_dim = 0, "embed_dim");
  EXPECT_BAD(cfg.num_classes = 1, "num_classes");
  EXPECT_BAD(cfg.in_channels = 0, "in_channels");
  EXPECT_BAD(cfg.margin.m = 5, "margin.m");
  EXPECT_BAD(cfg.margin.type = (scl_margin_type)9, "margin.type");
  EXPECT_BAD(cfg.momentum = 1.0f, "momentum");
  EXPECT_BAD(cfg.lr = NAN, "lr");
  EXPECT_BAD((cfg.margin.type = SCL_MARGIN_COMBINED, cfg.margin.s = 0), "s > 0");
  EXPECT_BAD(cfg.input.order = (scl_channel_order)3, "input.order");
  EXPECT_BAD(cfg.input.scale = 0, "input.scale");
  EXPECT_BAD(cfg.input.mean = INFINITY, "input.mean");
  EXPECT_BAD((cfg.input.crop_height = 27, cfg.input.crop_width = 30), "input crop 27x30");
  EXPECT_BAD((cfg.input.crop_height = 30, cfg.input.crop_width = 0), "input crop 30x0");
#undef EXPECT_BAD
  TK_CHECK(net == (scl_net)(uintptr_t)1);
  TK_STATUS(ctx, scl_net_create(ctx, NULL, &net), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_net_create(NULL, &good, &net), SCL_ERR_INVALID_ARGUMENT);
}

/* Caffe's fillers: xavier U(±sqrt(3/fan_in)) (variance 1/fan_in), gaussian σ = 0.01, PReLU 0.25,
   biases 0. */
static void initialisation(scl_context ctx) {
  scl_net_config cfg = tiny_config(10, 3, 24, 20, 50);
  cfg.widths[0] = 16, cfg.widths[1] = 32, cfg.widths[2] = 32, cfg.widths[3] = 32, cfg.embed_dim = 64;
  scl_net net = NULL;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
  for (int i = 0; i < net->nparams; i++) {
    scl_param *p = &net->params[i];
    float *v = tk_read(p->value);
    size_t n = scl_tensor_count(p->value), fan_in = n / scl_tensor_dim(p->value, 0);
    double sum = 0, sq = 0, maxabs = 0;
    for (size_t k = 0; k < n; k++) sum += v[k], sq += (double)v[k] * v[k], maxabs = fmax(maxabs, fabs(v[k]));
    double mean = sum / n, sd = sqrt(sq / n - mean * mean);
    if (strstr(p->name, ".prelu")) TK_CHECK_MSG(mean == 0.25 && sd < 1e-7, "%s", p->name);
    else if (strstr(p->name, ".b")) TK_CHECK_MSG(maxabs == 0, "%s", p->name);
    else if (strstr(p->name, ".unit")) TK_CHECK_MSG(fabs(sd - 0.01) < 0.0015 && fabs(mean) < 0.002, "%s sd %g", p->name, sd);
    else {
      double bound = sqrt(3.0 / fan_in), want = sqrt(1.0 / fan_in);
      TK_CHECK_MSG(maxabs <= bound && maxabs > 0.9 * bound, "%s max %g bound %g", p->name, maxabs, bound);
      TK_CHECK_MSG(fabs(sd - want) < 0.15 * want, "%s sd %g want %g", p->name, sd, want);
    }
    TK_CHECK_MSG(p->lr_mult == (strstr(p->name, ".b") ? 2.0f : 1.0f), "%s lr_mult", p->name);
    TK_CHECK_MSG(p->decay_mult == (strstr(p->name, ".b") ? 0.0f : 1.0f), "%s decay_mult", p->name);
    free(v);
  }
  /* The same seed gives the same weights; another seed does not. */
  scl_net b = NULL, c = NULL;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &b));
  cfg.seed++;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &c));
  float *w0 = tk_read(net->params[0].value), *w1 = tk_read(b->params[0].value), *w2 = tk_read(c->params[0].value);
  size_t n0 = scl_tensor_count(net->params[0].value) * 4;
  TK_CHECK(memcmp(w0, w1, n0) == 0 && memcmp(w0, w2, n0) != 0);
  free(w0), free(w1), free(w2);
  scl_net_release(net), scl_net_release(b), scl_net_release(c);
}

/* ---- a learnable problem ----------------------------------------------------------------------- */

/* Synthetic classes: each has a fixed random prototype image; samples add noise. */
typedef struct {
  int classes, h, w;
  float *proto;
} toy;

static toy toy_make(int classes, int h, int w, uint64_t seed) {
  toy t = {classes, h, w, malloc((size_t)classes * h * w * sizeof(float))};
  tk_rng r = tk_rng_make(seed);
  tk_fill_uniform(&r, t.proto, (size_t)classes * h * w, -1, 1);
  return t;
}

/* The batch of iteration `it` (a pure function of it, so runs can be replayed). */
static void toy_batch(const toy *t, long it, size_t n, float *x, int *y) {
  tk_rng r = tk_rng_make(1000 + (uint64_t)it);
  size_t img = (size_t)t->h * t->w;
  for (size_t i = 0; i < n; i++) {
    y[i] = (int)(tk_uniform(&r, 0, t->classes));
    if (y[i] >= t->classes) y[i] = t->classes - 1;
    for (size_t k = 0; k < img; k++) x[i * img + k] = t->proto[y[i] * img + k] + (float)(0.5 * tk_normal(&r));
  }
}

static double toy_accuracy(scl_net net, const toy *t, size_t n) {
  size_t img = (size_t)t->h * t->w, m = (size_t)t->classes;
  float *x = malloc(n * img * sizeof *x), *logits = malloc(n * m * sizeof *logits);
  int *y = malloc(n * sizeof *y);
  toy_batch(t, -1, n, x, y); /* a batch never used for training */
  double acc = -1;
  if (scl_net_logits(net, x, n, logits) == SCL_OK) {
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
      size_t best = 0;
      for (size_t j = 1; j < m; j++)
        if (logits[i * m + j] > logits[i * m + best]) best = j;
      correct += best == (size_t)y[i];
    }
    acc = (double)correct / n;
  }
  free(x), free(logits), free(y);
  return acc;
}

static scl_status train(scl_net net, const toy *t, long until, size_t batch, scl_train_stats *last) {
  size_t img = (size_t)t->h * t->w;
  float *x = malloc(batch * img * sizeof *x);
  int *y = malloc(batch * sizeof *y);
  scl_status st = SCL_OK;
  while (st == SCL_OK && scl_net_iteration(net) < until) {
    toy_batch(t, scl_net_iteration(net) + 1, batch, x, y);
    st = scl_net_train_step(net, x, y, batch, last);
  }
  free(x), free(y);
  return st;
}

/* A tiny SphereFace learns the toy problem far above chance (1/6), in both gradient modes and with a
   combined margin; the loss falls. */
static void learns(scl_context ctx) {
  if (tk_small("learns (four trainings of hundreds of steps; the other cases still train)")) return;
  const toy t = toy_make(6, 16, 12, 3);
  const struct { scl_margin_type type; scl_grad_mode grad; float lr; } runs[] = {
      {SCL_MARGIN_ASOFTMAX, SCL_GRAD_CAFFE, 0.05f}, {SCL_MARGIN_ASOFTMAX, SCL_GRAD_EXACT, 0.05f},
      {SCL_MARGIN_COMBINED, SCL_GRAD_CAFFE, 0.05f}, {SCL_MARGIN_NONE, SCL_GRAD_CAFFE, 0.01f}};
  /* (Plain softmax has unnormalised class weights and diverges at 0.05 on this toy: the NaN guard
     reports it as SCL_ERR_NUMERIC, see bad_steps.) */
  for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
    scl_net_config cfg = tiny_config(10, 1, 16, 12, 6);
    cfg.margin.type = runs[r].type, cfg.margin.grad = runs[r].grad, cfg.lr = runs[r].lr;
    if (runs[r].type == SCL_MARGIN_COMBINED) cfg.margin.s = 8, cfg.margin.m3 = 0.2f; /* CosFace */
    cfg.lr_steps[0] = cfg.lr_steps[1] = 0;
    cfg.lambda_gamma = 0.5f;
    scl_net net = NULL;
    TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
    double before = toy_accuracy(net, &t, 120);
    scl_train_stats first = {0}, last = {0};
    TK_OK(ctx, train(net, &t, 1, 24, &first));
    TK_OK(ctx, train(net, &t, 120, 24, &last));
    double after = toy_accuracy(net, &t, 120);
    printf("    margin %d grad %d: loss %.3f -> %.3f, accuracy %.3f -> %.3f (chance 0.167)\n", runs[r].type, runs[r].grad,
           first.loss, last.loss, before, after);
    TK_CHECK_MSG(after >= 0.8, "run %zu: accuracy %.3f after 120 steps", r, after);
    TK_CHECK_MSG(last.loss < first.loss, "run %zu: loss %.3f -> %.3f", r, first.loss, last.loss);
    TK_CHECK(last.iteration == 120 && scl_net_iteration(net) == 120);
    if (runs[r].type == SCL_MARGIN_ASOFTMAX) {
      TK_CHECK(fabsf(first.lambda - scl_asoftmax_lambda(1000, 0.5f, 1, 5, 1)) < 1e-3f);
      TK_CHECK(last.lambda == scl_asoftmax_lambda(1000, 0.5f, 1, 5, 120));
    }
    scl_net_release(net);
  }
  free(t.proto);
}

/* Multistep lr: ×gamma once iteration − 1 reaches each step (Caffe counts updates from 0). */
static void lr_schedule(scl_context ctx) {
  const toy t = toy_make(3, 8, 8, 4);
  scl_net_config cfg = tiny_config(4, 1, 8, 8, 3);
  cfg.lr = 0.01f, cfg.lr_steps[0] = 2, cfg.lr_steps[1] = 3, cfg.lr_gamma = 0.5f;
  scl_net net = NULL;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
  const float want[4] = {0.01f, 0.01f, 0.005f, 0.0025f};
  for (long it = 1; it <= 4; it++) {
    scl_train_stats s;
    TK_OK(ctx, train(net, &t, it, 4, &s));
    TK_CHECK_MSG(fabsf(s.lr - want[it - 1]) < 1e-9f, "iteration %ld: lr %g", it, s.lr);
  }
  scl_net_release(net);
  free(t.proto);
}

static const char *tmp_path(const char *tag) {
  static char buf[4][128];
  static int k;
  k = (k + 1) % 4;
  snprintf(buf[k], sizeof buf[k], "/tmp/spherecl_test_net_%d_%s.scl", (int)getpid(), tag);
  return buf[k];
}

static unsigned char *slurp(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  *n = (size_t)ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc(*n ? *n : 1);
  if (fread(b, 1, *n, f) != *n) *n = 0;
  fclose(f);
  return b;
}

/* save → load gives identical logits and embeddings; the threshold and iteration travel along. */
static void save_load(scl_context ctx) {
  const toy t = toy_make(4, 12, 10, 5);
  scl_net_config cfg = tiny_config(10, 1, 12, 10, 4);
  cfg.margin.grad = SCL_GRAD_EXACT;
  /* The input format travels with the model (stored images 14x12 around the 12x10 input). */
  cfg.input.order = SCL_CHANNELS_BGR, cfg.input.mean = 100.0f, cfg.input.scale = 0.01f;
  cfg.input.crop_height = 14, cfg.input.crop_width = 12;
  scl_net net = NULL, back = NULL;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
  TK_OK(ctx, train(net, &t, 5, 8, NULL));
  scl_net_set_threshold(net, 0.375f);
  const char *path = tmp_path("saveload");
  TK_OK(ctx, scl_net_save(net, path, 0));
  TK_OK(ctx, scl_net_load(ctx, path, &back));
  TK_CHECK(scl_net_iteration(back) == 5 && scl_net_threshold(back) == 0.375f);
  TK_CHECK(memcmp(scl_net_get_config(back), scl_net_get_config(net), sizeof cfg) == 0);
  float x[3 * 120], a[3 * 4], b[3 * 4], ea[3 * 8], eb[3 * 8];
  int y[3];
  toy_batch(&t, 99, 3, x, y);
  TK_OK(ctx, scl_net_logits(net, x, 3, a));
  TK_OK(ctx, scl_net_logits(back, x, 3, b));
  TK_CHECK(memcmp(a, b, sizeof a) == 0);
  TK_OK(ctx, scl_net_embed(net, x, 3, ea));
  TK_OK(ctx, scl_net_embed(back, x, 3, eb));
  TK_CHECK(memcmp(ea, eb, sizeof ea) == 0);
  /* Bad files: missing, and a truncated copy. */
  scl_net bad = (scl_net)(uintptr_t)1;
  TK_STATUS(ctx, scl_net_load(ctx, "/nonexistent/model.scl", &bad), SCL_ERR_IO);
  size_t n = 0;
  unsigned char *bytes = slurp(path, &n);
  const char *cut = tmp_path("truncated");
  FILE *f = fopen(cut, "wb");
  fwrite(bytes, 1, n / 2, f);
  fclose(f);
  TK_STATUS(ctx, scl_net_load(ctx, cut, &bad), SCL_ERR_FORMAT);
  TK_CHECK(strstr(scl_context_error(ctx), cut) != NULL);
  TK_CHECK(bad == (scl_net)(uintptr_t)1);
  free(bytes);
  unlink(path), unlink(cut);
  scl_net_release(net), scl_net_release(back);
  free(t.proto);
}

/* Inference never changes the model: in Caffe mode the class weights are normalised in place only
   by training, so a model saved after scl_net_logits is byte-identical to one saved before. */
static void inference_is_read_only(scl_context ctx) {
  const toy t = toy_make(4, 12, 10, 8);
  scl_net_config cfg = tiny_config(4, 1, 12, 10, 4);
  scl_net net = NULL;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
  TK_OK(ctx, train(net, &t, 3, 8, NULL));
  const char *before = tmp_path("before"), *after = tmp_path("after");
  TK_OK(ctx, scl_net_save(net, before, 0));
  float x[2 * 120], logits[2 * 4], emb[2 * 8];
  int y[2];
  toy_batch(&t, 50, 2, x, y);
  TK_OK(ctx, scl_net_logits(net, x, 2, logits));
  TK_OK(ctx, scl_net_embed(net, x, 2, emb));
  TK_OK(ctx, scl_net_save(net, after, 0));
  size_t na = 0, nb = 0;
  unsigned char *a = slurp(before, &na), *b = slurp(after, &nb);
  TK_CHECK(na == nb && na > 0 && memcmp(a, b, na) == 0);
  free(a), free(b);
  unlink(before), unlink(after);
  scl_net_release(net);
  free(t.proto);
}

/* A run interrupted at iteration 4 and resumed from its checkpoint ends with exactly the weights of
   the uninterrupted run (same seed, same device): the saved models are byte-identical. */
static void resume_is_exact(scl_context ctx) {
  const toy t = toy_make(5, 10, 10, 6);
  for (int mode = 0; mode < 2; mode++) {
    scl_net_config cfg = tiny_config(10, 1, 10, 10, 5);
    cfg.margin.grad = mode ? SCL_GRAD_EXACT : SCL_GRAD_CAFFE;
    cfg.lr_steps[0] = 5, cfg.lr_steps[1] = 7; /* the schedule crosses a step after the resume */
    scl_net whole = NULL, first = NULL, resumed = NULL;
    TK_OK(ctx, scl_net_create(ctx, &cfg, &whole));
    TK_OK(ctx, train(whole, &t, 9, 6, NULL));
    TK_OK(ctx, scl_net_create(ctx, &cfg, &first));
    TK_OK(ctx, train(first, &t, 4, 6, NULL));
    const char *ckpt = tmp_path("ckpt"), *pa = tmp_path("whole"), *pb = tmp_path("resumed");
    TK_OK(ctx, scl_net_save(first, ckpt, 1));
    scl_net_release(first);
    TK_OK(ctx, scl_net_load(ctx, ckpt, &resumed));
    TK_CHECK(scl_net_iteration(resumed) == 4);
    TK_OK(ctx, train(resumed, &t, 9, 6, NULL));
    TK_OK(ctx, scl_net_save(whole, pa, 1));
    TK_OK(ctx, scl_net_save(resumed, pb, 1));
    size_t na = 0, nb = 0;
    unsigned char *a = slurp(pa, &na), *b = slurp(pb, &nb);
    TK_CHECK_MSG(na == nb && na > 0 && memcmp(a, b, na) == 0, "mode %d: resumed run differs from the whole run", mode);
    /* Without the optimizer state the momentum is lost and the runs differ: the test can fail. */
    TK_OK(ctx, scl_net_create(ctx, &cfg, &first));
    TK_OK(ctx, train(first, &t, 4, 6, NULL));
    TK_OK(ctx, scl_net_save(first, ckpt, 0));
    scl_net_release(first), scl_net_release(resumed);
    TK_OK(ctx, scl_net_load(ctx, ckpt, &resumed));
    TK_OK(ctx, train(resumed, &t, 9, 6, NULL));
    TK_OK(ctx, scl_net_save(resumed, pb, 1));
    free(b);
    b = slurp(pb, &nb);
    TK_CHECK(na == nb && memcmp(a, b, na) != 0);
    free(a), free(b);
    unlink(ckpt), unlink(pa), unlink(pb);
    scl_net_release(whole), scl_net_release(resumed);
  }
  free(t.proto);
}

static void bad_steps(scl_context ctx) {
  scl_net_config cfg = tiny_config(4, 1, 8, 8, 3);
  scl_net net = NULL;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
  float x[2 * 64] = {0}, out[2 * 8];
  int y[2] = {0, 3};
  TK_STATUS(ctx, scl_net_train_step(net, x, y, 2, NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK(strstr(scl_context_error(ctx), "label 3") != NULL);
  y[1] = -1;
  TK_STATUS(ctx, scl_net_train_step(net, x, y, 2, NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_net_train_step(net, NULL, y, 2, NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_net_train_step(net, x, NULL, 2, NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_net_train_step(net, x, y, 0, NULL), SCL_ERR_SHAPE);
  TK_CHECK(scl_net_iteration(net) == 0); /* nothing happened */
  TK_STATUS(ctx, scl_net_embed(net, x, 2, NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_net_logits(NULL, x, 2, out), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_net_save(net, "", 0), SCL_ERR_INVALID_ARGUMENT);
  /* A huge learning rate blows up: reported as SCL_ERR_NUMERIC, not a silent NaN model. */
  scl_net_release(net);
  cfg.lr = 1e30f;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
  const toy t = toy_make(3, 8, 8, 9);
  scl_status st = SCL_OK;
  for (int i = 0; i < 5 && st == SCL_OK; i++) st = train(net, &t, i + 1, 2, NULL);
  TK_STATUS(ctx, st, SCL_ERR_NUMERIC);
  scl_net_release(net);
  /* Weights holding a NaN (what a diverged step leaves): saving is refused, a file already there kept. */
  TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
  float *w = tk_read(net->params[1].value);
  TK_CHECK(w != NULL);
  if (w) {
    w[0] = NAN;
    TK_STATUS(ctx, scl_tensor_write(net->params[1].value, w, scl_tensor_count(net->params[1].value) * 4), SCL_OK);
  }
  free(w);
  char path[] = "/tmp/scl_test_diverged_XXXXXX";
  int fd = mkstemp(path);
  TK_CHECK(fd >= 0 && write(fd, "old", 3) == 3);
  close(fd);
  TK_STATUS(ctx, scl_net_save(net, path, 1), SCL_ERR_NUMERIC);
  TK_CHECK(strstr(scl_context_error(ctx), "diverged") != NULL);
  FILE *f = fopen(path, "rb");
  char back[8] = {0};
  TK_CHECK(f && fread(back, 1, sizeof back, f) == 3 && !memcmp(back, "old", 3));
  if (f) fclose(f);
  unlink(path);
  scl_net_release(net);
  scl_net_release(NULL);
  free(t.proto);
}

/* The gradient hook runs after backward and before the update: zeroed gradients leave only the
   weight decay (w ← w − lr·lr_mult·decay·decay_mult·w, the momentum history being 0 at the first
   step); the gradients it sees are the ones the step would have used; a failing hook stops the step. */
static int hook_calls;
static scl_status zero_grads(scl_net net, void *user) {
  hook_calls++;
  int *nonzero = user;
  for (int i = 0; i < scl_net_param_count(net); i++) {
    scl_tensor g = scl_net_param_grad(net, i);
    float *v = tk_read(g);
    for (size_t k = 0; v && k < scl_tensor_count(g); k++) *nonzero += v[k] != 0;
    free(v);
    scl_status st = scl_tensor_fill(g, 0.0f);
    if (st != SCL_OK) return st;
  }
  return SCL_OK;
}
static scl_status failing_hook(scl_net net, void *user) {
  (void)net, (void)user;
  return SCL_ERR_NUMERIC;
}

static void grad_hook(scl_context ctx) {
  scl_net_config cfg = tiny_config(4, 1, 8, 8, 3);
  cfg.weight_decay = 0.01f, cfg.lr = 0.5f;
  cfg.margin.grad = SCL_GRAD_EXACT; /* Caffe mode would also normalise the class weights in place */
  scl_net net = NULL;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
  const toy t = toy_make(3, 8, 8, 9);
  const int np = scl_net_param_count(net);
  TK_CHECK(np == net->nparams && scl_net_param_count(NULL) == 0 && scl_net_param_grad(net, np) == NULL &&
           scl_net_param_value(net, -1) == NULL && !strcmp(scl_net_param_name(net, 0), net->params[0].name));
  float *before[SCL_NET_MAX_PARAMS];
  for (int i = 0; i < np; i++) before[i] = tk_read(scl_net_param_value(net, i));
  int nonzero = 0;
  hook_calls = 0;
  scl_net_set_grad_hook(net, zero_grads, &nonzero);
  TK_OK(ctx, train(net, &t, 1, 4, NULL));
  TK_CHECK(hook_calls == 1 && nonzero > 0); /* it saw the real gradients */
  for (int i = 0; i < np; i++) {
    const scl_param *p = &net->params[i];
    float *after = tk_read(p->value);
    const double keep = 1.0 - (double)cfg.lr * p->lr_mult * cfg.weight_decay * p->decay_mult;
    int same = 1;
    for (size_t k = 0; after && before[i] && k < scl_tensor_count(p->value); k++)
      same &= fabs(after[k] - keep * before[i][k]) <= 1e-6 * (fabs(before[i][k]) + 1e-6);
    TK_CHECK_MSG(same, "%s is not just decayed", p->name);
    free(after), free(before[i]);
  }
  scl_net_set_grad_hook(net, failing_hook, NULL);
  TK_STATUS(ctx, train(net, &t, 2, 4, NULL), SCL_ERR_NUMERIC);
  TK_CHECK(scl_net_iteration(net) == 1);
  scl_net_set_grad_hook(net, NULL, NULL);
  TK_OK(ctx, train(net, &t, 2, 4, NULL));
  scl_net_release(net);
  free(t.proto);
}

/* The ready hook runs during backward, once per parameter and step, as each gradient is complete:
   what it reads then is bit for bit what the grad hook reads after the whole backward pass; the
   order is the class weights, then from the embedding layer down to the first convolution (whose
   weight and bias come last, after its PReLU slope); a failing ready hook stops the step. */
typedef struct {
  int order[SCL_NET_MAX_PARAMS], seen, np, complete, exact;
  float *at_ready[SCL_NET_MAX_PARAMS];
} ready_log;
static scl_status log_ready(scl_net net, int i, void *user) {
  ready_log *r = user;
  if (r->seen < SCL_NET_MAX_PARAMS) r->order[r->seen] = i;
  r->seen++;
  free(r->at_ready[i]);
  r->at_ready[i] = tk_read(scl_net_param_grad(net, i));
  return SCL_OK;
}
static scl_status compare_after_backward(scl_net net, void *user) {
  ready_log *r = user;
  int once = r->seen == r->np;
  for (int i = 0; i < r->np; i++) {
    int n = 0;
    for (int k = 0; k < r->seen && k < SCL_NET_MAX_PARAMS; k++) n += r->order[k] == i;
    once &= n == 1;
    scl_tensor g = scl_net_param_grad(net, i);
    float *now = tk_read(g);
    r->exact &= now && r->at_ready[i] && !memcmp(now, r->at_ready[i], scl_tensor_count(g) * sizeof(float));
    free(now);
  }
  r->complete &= once;
  return SCL_OK;
}
static scl_status failing_ready(scl_net net, int i, void *user) {
  (void)user;
  return i == scl_net_param_count(net) / 2 ? SCL_ERR_NUMERIC : SCL_OK;
}

static void grad_ready_hook(scl_context ctx) {
  scl_net_config cfg = tiny_config(10, 1, 12, 12, 3);
  scl_net net = NULL;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
  const toy t = toy_make(3, 12, 12, 9);
  ready_log r = {.np = scl_net_param_count(net), .complete = 1, .exact = 1};
  scl_net_set_grad_ready_hook(net, log_ready, &r);
  scl_net_set_grad_hook(net, compare_after_backward, &r);
  for (int step = 1; step <= 2; step++) {
    r.seen = 0;
    TK_OK(ctx, train(net, &t, step, 6, NULL));
  }
  TK_CHECK_MSG(r.complete, "each parameter once per step: %d calls for %d parameters", r.seen, r.np);
  TK_CHECK_MSG(r.exact, "a gradient read in the ready hook differs from the one after backward");
  TK_CHECK(r.np > 3 && !strcmp(net->params[r.order[0]].name, "margin.w") &&
           !strcmp(net->params[r.order[1]].name, "fc5.w") && r.order[r.np - 1] == net->layers[0].b &&
           r.order[r.np - 2] == net->layers[0].w && r.order[r.np - 3] == net->layers[1].w);
  for (int i = 0; i < r.np; i++) free(r.at_ready[i]);

  /* A failing ready hook: the step fails and nothing is updated. */
  float *before = tk_read(net->params[0].value);
  scl_net_set_grad_hook(net, NULL, NULL);
  scl_net_set_grad_ready_hook(net, failing_ready, NULL);
  TK_STATUS(ctx, train(net, &t, 3, 6, NULL), SCL_ERR_NUMERIC);
  float *after = tk_read(net->params[0].value);
  TK_CHECK(scl_net_iteration(net) == 2 && before && after &&
           !memcmp(before, after, scl_tensor_count(net->params[0].value) * sizeof(float)));
  free(before), free(after);
  scl_net_set_grad_ready_hook(net, NULL, NULL);
  TK_OK(ctx, train(net, &t, 3, 6, NULL));
  TK_CHECK(scl_net_iteration(net) == 3);
  scl_net_release(net);
  free(t.proto);
}

/* A batch whose largest activation exceeds the device's largest buffer: SCL_ERR_OUT_OF_MEMORY with
   the sizes, no crash, nothing left half-allocated, and the net still works at a batch that fits.
   (ctest runs this test with POCL_MEMORY_LIMIT=1: a 1 GiB PoCL device, 256 MiB buffers at most.) */
static void too_large_batch(scl_context ctx) {
  scl_net_config cfg = tiny_config(4, 1, 64, 64, 3);
  cfg.widths[0] = 64; /* the first conv's output: 64 x 32 x 32 floats, 256 KiB per image */
  cl_ulong max_alloc = 0;
  clGetDeviceInfo(scl_context_device(ctx), CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL);
  const size_t per_image = 64 * 32 * 32 * 4, n = (size_t)(max_alloc / per_image) + 1;
  if (n * 64 * 64 * sizeof(float) > ((size_t)1 << 30)) {
    printf("    note: the device's largest buffer (%llu bytes) needs more than 1 GiB of input: not checked\n",
           (unsigned long long)max_alloc);
    return;
  }
  scl_net net = NULL;
  TK_OK(ctx, scl_net_create(ctx, &cfg, &net));
  float *x = calloc(n * 64 * 64, sizeof *x), out[2 * 8];
  TK_CHECK(x != NULL);
  if (x) {
    TK_STATUS(ctx, scl_net_embed(net, x, n, NULL), SCL_ERR_INVALID_ARGUMENT);
    float *emb = malloc(n * 8 * sizeof *emb);
    TK_STATUS(ctx, scl_net_embed(net, x, n, emb), SCL_ERR_OUT_OF_MEMORY);
    const char *msg = scl_context_error(ctx);
    char want[64];
    snprintf(want, sizeof want, "a batch of %zu images", n);
    TK_CHECK_MSG(strstr(msg, want) && strstr(msg, "CL_DEVICE_MAX_MEM_ALLOC_SIZE") && strstr(msg, "smaller batch"),
                 "message: %s", msg);
    free(emb);
    TK_OK(ctx, scl_net_embed(net, x, 2, out)); /* and a batch that fits still runs */
    for (int i = 0; i < 16; i++) TK_CHECK(isfinite(out[i]));
  }
  free(x);
  scl_net_release(net);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"structure", structure},       {"bad_configs", bad_configs},
                           {"initialisation", initialisation}, {"learns", learns},
                           {"lr_schedule", lr_schedule},   {"save_load", save_load},
                           {"resume_is_exact", resume_is_exact},
                           {"inference_is_read_only", inference_is_read_only}, {"bad_steps", bad_steps},
                           {"too_large_batch", too_large_batch}, {"grad_hook", grad_hook},
                           {"grad_ready_hook", grad_ready_hook}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
