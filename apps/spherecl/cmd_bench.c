/* spherecl bench: benchmarks, one sub-benchmark per row of the table below.
     ops    GFLOP/s of conv2d forward, backward-data and backward-filter at the SphereFace-20 layer
            shapes (batch 16, 3×112×96 input) and of fc5 as a linear layer, each also as a fraction
            of a 1024³ SGEMM measured on the same device in the same run.
     train  images/s of whole training steps of SphereFace-20 (batch 16, 10572 classes).
   Every figure is the median of --reps timed runs after one warm-up run (which pays for kernel
   compilation), with scl_context_finish before the clock is read. bench/README.md explains how to
   read the output. */
#include "commands.h"
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- timing ------------------------------------------------------------------------------------ */

typedef scl_status (*timed_fn)(scl_context ctx, const void *arg);

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* Median seconds of `reps` runs of fn after one warm-up run. */
static scl_status median_time(scl_context ctx, timed_fn fn, const void *arg, int reps, double *seconds) {
  double t[64];
  scl_status st = fn(ctx, arg);
  if (st == SCL_OK) st = scl_context_finish(ctx);
  for (int i = 0; i < reps && st == SCL_OK; i++) {
    double t0 = now();
    st = fn(ctx, arg);
    if (st == SCL_OK) st = scl_context_finish(ctx);
    t[i] = now() - t0;
  }
  if (st != SCL_OK) return st;
  qsort(t, (size_t)reps, sizeof t[0], by_value);
  *seconds = reps % 2 ? t[reps / 2] : (t[reps / 2 - 1] + t[reps / 2]) / 2;
  return SCL_OK;
}

/* ---- the device's SGEMM rate ------------------------------------------------------------------- */

#define GEMM_SIZE 1024

typedef struct {
  scl_tensor a, b, c;
} gemm_args;

static scl_status run_gemm(scl_context ctx, const void *arg) {
  const gemm_args *g = arg;
  const size_t n = GEMM_SIZE;
  return scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, n, n, n, 1.0f, g->a->buffer, g->a->offset, n, g->b->buffer,
                   g->b->offset, n, 0.0f, g->c->buffer, g->c->offset, n);
}

/* A new F32 tensor filled with a small constant (uninitialised memory may hold denormals or NaN,
   which change a CPU's speed). */
static scl_status bench_tensor(scl_context ctx, int ndim, const size_t *dims, scl_tensor *t) {
  scl_status st = scl_tensor_create(ctx, SCL_F32, ndim, dims, t);
  return st ? st : scl_tensor_fill(*t, 0.01f);
}

static scl_status gemm_rate(scl_context ctx, int reps, double *gflops) {
  const size_t dims[2] = {GEMM_SIZE, GEMM_SIZE};
  gemm_args g = {NULL, NULL, NULL};
  double t = 0;
  scl_status st = bench_tensor(ctx, 2, dims, &g.a);
  if (st == SCL_OK) st = bench_tensor(ctx, 2, dims, &g.b);
  if (st == SCL_OK) st = bench_tensor(ctx, 2, dims, &g.c);
  if (st == SCL_OK) st = median_time(ctx, run_gemm, &g, reps, &t);
  if (st == SCL_OK) *gflops = 2.0 * GEMM_SIZE * GEMM_SIZE * GEMM_SIZE / t * 1e-9;
  scl_tensor_release(g.a), scl_tensor_release(g.b), scl_tensor_release(g.c);
  return st;
}

/* ---- bench ops: SphereFace-20's convolutions and fc5 ------------------------------------------- */

#define BATCH 16

/* One layer shape: a 3x3 pad-1 convolution, or (c > 0, h = w = 1, linear = 1) fc5 with c inputs.
   count: how many layers of this shape SphereFace-20 has (for the per-step total). */
typedef struct {
  const char *name;
  size_t c, h, w, k;
  int stride, linear, count;
} layer;

static const layer LAYERS[] = {
    {"conv1.1 3->64 /2", 3, 112, 96, 64, 2, 0, 1},
    {"conv1.x 64->64", 64, 56, 48, 64, 1, 0, 2},
    {"conv2.1 64->128 /2", 64, 56, 48, 128, 2, 0, 1},
    {"conv2.x 128->128", 128, 28, 24, 128, 1, 0, 4},
    {"conv3.1 128->256 /2", 128, 28, 24, 256, 2, 0, 1},
    {"conv3.x 256->256", 256, 14, 12, 256, 1, 0, 8},
    {"conv4.1 256->512 /2", 256, 14, 12, 512, 2, 0, 1},
    {"conv4.x 512->512", 512, 7, 6, 512, 1, 0, 2},
    {"fc5 21504->512", 512 * 7 * 6, 1, 1, 512, 1, 1, 1},
};

enum { FORWARD, BACKWARD_DATA, BACKWARD_FILTER, PASSES };

/* The tensors of one layer and the pass to run. */
typedef struct {
  const layer *l;
  scl_conv2d_params p;
  scl_tensor x, w, b, y, dy, dx, dw;
  int pass;
} layer_run;

static scl_status run_pass(scl_context ctx, const void *arg) {
  const layer_run *r = arg;
  scl_tensor dx = r->pass == BACKWARD_DATA ? r->dx : NULL, dw = r->pass == BACKWARD_FILTER ? r->dw : NULL;
  if (r->l->linear)
    return r->pass == FORWARD ? scl_linear_forward(ctx, r->x, r->w, r->b, r->y)
                              : scl_linear_backward(ctx, r->x, r->w, r->dy, dx, dw, NULL);
  return r->pass == FORWARD ? scl_conv2d_forward(ctx, &r->p, r->x, r->w, r->b, r->y)
                            : scl_conv2d_backward(ctx, &r->p, r->x, r->w, r->dy, dx, dw, NULL);
}

/* Output height and width of a layer (3x3, pad 1). */
static size_t out_dim(size_t in, int stride) { return (in + 2 - 3) / (size_t)stride + 1; }

/* The FLOPs of one pass (every pass is one GEMM's worth: 2·N·K·C·R·S·P·Q, or 2·N·M·K). */
static double layer_flops(const layer *l) {
  if (l->linear) return 2.0 * BATCH * l->k * l->c;
  return 2.0 * BATCH * l->k * l->c * 9 * out_dim(l->h, l->stride) * out_dim(l->w, l->stride);
}

static scl_status make_layer(scl_context ctx, const layer *l, layer_run *r) {
  memset(r, 0, sizeof *r);
  r->l = l;
  r->p = (scl_conv2d_params){l->stride, l->stride, 1, 1};
  size_t p = out_dim(l->h, l->stride), q = out_dim(l->w, l->stride);
  size_t xd[4] = {BATCH, l->c, l->h, l->w}, wd[4] = {l->k, l->c, 3, 3}, yd[4] = {BATCH, l->k, p, q};
  int nd = 4;
  if (l->linear) xd[1] = l->c, wd[1] = l->c, yd[1] = l->k, nd = 2;
  scl_status st;
  if ((st = bench_tensor(ctx, nd, xd, &r->x)) || (st = bench_tensor(ctx, nd, wd, &r->w)) ||
      (st = bench_tensor(ctx, 1, &l->k, &r->b)) || (st = bench_tensor(ctx, nd, yd, &r->y)) ||
      (st = bench_tensor(ctx, nd, yd, &r->dy)) || (st = bench_tensor(ctx, nd, xd, &r->dx)) ||
      (st = bench_tensor(ctx, nd, wd, &r->dw)))
    return st;
  return SCL_OK;
}

static void free_layer(layer_run *r) {
  scl_tensor all[] = {r->x, r->w, r->b, r->y, r->dy, r->dx, r->dw};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

static void shape_of(const layer *l, char *buf, size_t size) {
  if (l->linear) snprintf(buf, size, "%dx%zu -> %dx%zu", BATCH, l->c, BATCH, l->k);
  else
    snprintf(buf, size, "%dx%zux%zux%zu -> %dx%zux%zux%zu", BATCH, l->c, l->h, l->w, BATCH, l->k,
             out_dim(l->h, l->stride), out_dim(l->w, l->stride));
}

static int ops_usage(FILE *f, int code) {
  fprintf(f, "usage: spherecl bench ops [--device SELECTOR] [--reps N]\n"
             "GFLOP/s of conv2d forward, backward-data and backward-filter at the SphereFace-20 layer shapes\n"
             "(batch %d, 3x112x96 input, 3x3 pad 1) and of fc5 as a linear layer, each also as a fraction\n"
             "of a %d^3 SGEMM on the same device. --reps: timed runs per figure (median; default 5, max 63).\n"
             "SPHERECL_TUNING names a CLBlast parameter file (see bench/README.md).\n",
          BATCH, GEMM_SIZE);
  return code;
}

static int bench_ops(int argc, char **argv) {
  const char *selector = NULL;
  int reps = 5;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) selector = argv[++i];
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--help")) return ops_usage(stdout, 0);
    else {
      fprintf(stderr, "spherecl bench ops: unknown option \"%s\"\n", argv[i]);
      return ops_usage(stderr, 2);
    }
  }
  if (reps < 1 || reps > 63) {
    fprintf(stderr, "spherecl bench ops: --reps must be 1..63\n");
    return 2;
  }
  scl_context ctx;
  if (scl_context_create(selector, &ctx) != SCL_OK) {
    fprintf(stderr, "spherecl: %s\n", scl_context_error(NULL));
    return 1;
  }
  const char *tuning = getenv("SPHERECL_TUNING");
  printf("device: %s\ntuning: %s\nbatch %d, median of %d runs after a warm-up\n\n", ctx->device_label,
         tuning && *tuning ? tuning : "CLBlast's defaults (SPHERECL_TUNING unset)", BATCH, reps);
  fflush(stdout);

  double gemm = 0, step = 0, step_flops = 0;
  scl_status st = gemm_rate(ctx, reps, &gemm);
  if (st == SCL_OK) {
    printf("%d^3 SGEMM: %.1f GFLOP/s (x = rate / this rate)\n\n", GEMM_SIZE, gemm);
    printf("%-20s %-32s %6s  %-13s %-13s %-13s\n", "layer", "shape", "GFLOP", "forward", "bwd-data", "bwd-filter");
    printf("%-20s %-32s %6s  %-13s %-13s %-13s\n", "", "", "", "GFLOP/s    x", "GFLOP/s    x", "GFLOP/s    x");
  }
  for (size_t i = 0; i < sizeof LAYERS / sizeof LAYERS[0] && st == SCL_OK; i++) {
    const layer *l = &LAYERS[i];
    layer_run r;
    char shape[64];
    shape_of(l, shape, sizeof shape);
    double flops = layer_flops(l);
    printf("%-20s %-32s %6.3f", l->name, shape, flops * 1e-9);
    if ((st = make_layer(ctx, l, &r)) == SCL_OK)
      for (r.pass = 0; r.pass < PASSES && st == SCL_OK; r.pass++) {
        double t = 0;
        if ((st = median_time(ctx, run_pass, &r, reps, &t))) break;
        printf("  %7.1f %5.2f", flops / t * 1e-9, flops / t * 1e-9 / gemm);
        fflush(stdout);
        /* A training step needs no input gradient of the first layer. */
        if (!(i == 0 && r.pass == BACKWARD_DATA)) step += l->count * t, step_flops += l->count * flops;
      }
    printf("\n");
    free_layer(&r);
  }
  if (st == SCL_OK)
    printf("\nSphereFace-20 step, these passes only (each row x its count in the net, conv1.1 without\n"
           "bwd-data): %.3f s for %.1f GFLOP = %.1f GFLOP/s (x %.2f)\n",
           step, step_flops * 1e-9, step_flops / step * 1e-9, step_flops / step * 1e-9 / gemm);
  else
    fprintf(stderr, "\nspherecl bench ops: %s\n", scl_context_error(ctx));
  scl_context_release(ctx);
  return st == SCL_OK ? 0 : 1;
}

/* ---- a whole training step ---------------------------------------------------------------------- */

typedef struct {
  scl_net net;
  const float *images;
  const int *labels;
  size_t batch;
} train_args;

static scl_status run_step(scl_context ctx, const void *arg) {
  (void)ctx;
  const train_args *a = arg;
  return scl_net_train_step(a->net, a->images, a->labels, a->batch, NULL);
}

static int train_usage(FILE *f, int code) {
  fprintf(f, "usage: spherecl bench train [--device SELECTOR] [--net sphereface-N] [--batch B] [--classes M]\n"
             "                            [--reps N]\n"
             "Images/s of whole SphereFace training steps (forward, A-Softmax m=4, loss, backward, SGD) on\n"
             "random 3x112x96 images; defaults: sphereface-20, batch 16, 10572 classes (CASIA-WebFace), 5 reps.\n"
             "Compare with the PyTorch peer: /usr/bin/python3 bench/pytorch_sphereface20.py --threads 2\n");
  return code;
}

static int bench_train(int argc, char **argv) {
  const char *selector = NULL;
  int reps = 5, depth = 20;
  long batch = 16, classes = 10572;
  for (int i = 1; i < argc; i++) {
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (!strcmp(argv[i], "--help")) return train_usage(stdout, 0);
    if (!v) return train_usage(stderr, 2);
    i++;
    if (!strcmp(argv[i - 1], "--device")) selector = v;
    else if (!strcmp(argv[i - 1], "--reps")) reps = atoi(v);
    else if (!strcmp(argv[i - 1], "--batch")) batch = atol(v);
    else if (!strcmp(argv[i - 1], "--classes")) classes = atol(v);
    else if (!strcmp(argv[i - 1], "--net") && !strncmp(v, "sphereface-", 11)) depth = atoi(v + 11);
    else return train_usage(stderr, 2);
  }
  if (reps < 1 || reps > 63 || batch < 1 || batch > 4096 || classes < 2 || classes > 1000000) return train_usage(stderr, 2);
  scl_context ctx;
  if (scl_context_create(selector, &ctx) != SCL_OK) {
    fprintf(stderr, "spherecl: %s\n", scl_context_error(NULL));
    return 1;
  }
  scl_net_config cfg;
  scl_net_config_default(&cfg);
  cfg.depth = depth;
  cfg.num_classes = (int)classes;
  cfg.lr = 0.001f; /* small: the weights stay finite over the timed steps */
  scl_net net = NULL;
  size_t img = (size_t)cfg.in_channels * cfg.in_height * cfg.in_width;
  float *images = malloc((size_t)batch * img * sizeof *images);
  int *labels = malloc((size_t)batch * sizeof *labels);
  scl_rng rng = scl__rng_make(1);
  for (size_t i = 0; images && i < (size_t)batch * img; i++) images[i] = (float)scl__rng_uniform(&rng, -1, 1);
  for (long i = 0; labels && i < batch; i++) labels[i] = (int)scl__rng_below(&rng, (size_t)classes);
  scl_status st = images && labels ? scl_net_create(ctx, &cfg, &net) : SCL_ERR_OUT_OF_MEMORY;
  double t = 0;
  printf("device: %s\nSphereFace-%d, 3x112x96, batch %ld, %ld classes, A-Softmax m=4; median of %d steps after a warm-up\n",
         ctx->device_label, depth, batch, classes, reps);
  fflush(stdout);
  if (st == SCL_OK) {
    train_args a = {net, images, labels, (size_t)batch};
    st = median_time(ctx, run_step, &a, reps, &t);
  }
  if (st == SCL_OK)
    printf("spherecl: %.2f images/s (%.0f ms/step)\n", (double)batch / t, t * 1e3);
  else
    fprintf(stderr, "spherecl bench train: %s\n", scl_context_error(ctx));
  scl_net_release(net);
  scl_context_release(ctx);
  free(images), free(labels);
  return st == SCL_OK ? 0 : 1;
}

/* ---- the table of benchmarks ------------------------------------------------------------------- */

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} BENCHES[] = {
    {"ops", bench_ops, "conv2d/linear GFLOP/s at SphereFace-20 shapes, against the device's SGEMM rate"},
    {"train", bench_train, "images/s of whole SphereFace training steps (peer: bench/pytorch_sphereface20.py)"},
};

static int usage(FILE *f, int code) {
  fprintf(f, "usage: spherecl bench NAME [options]   (spherecl bench NAME --help for its options)\n\nbenchmarks:\n");
  for (size_t i = 0; i < sizeof BENCHES / sizeof BENCHES[0]; i++)
    fprintf(f, "  %-8s %s\n", BENCHES[i].name, BENCHES[i].summary);
  return code;
}

int cmd_bench(int argc, char **argv) {
  if (argc < 2) return usage(stderr, 2);
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) return usage(stdout, 0);
  for (size_t i = 0; i < sizeof BENCHES / sizeof BENCHES[0]; i++)
    if (!strcmp(argv[1], BENCHES[i].name)) return BENCHES[i].run(argc - 1, argv + 1);
  fprintf(stderr, "spherecl bench: unknown benchmark \"%s\"\n\n", argv[1]);
  return usage(stderr, 2);
}
