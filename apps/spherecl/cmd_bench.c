/* spherecl bench: benchmarks, one sub-benchmark per row of the table below.
     ops    GFLOP/s of conv2d forward, backward-data and backward-filter at the SphereFace-20 layer
            shapes (batch 16, 3×112×96 input) and of fc5 as a linear layer, each also as a fraction
            of a 1024³ SGEMM on the same device, timed right before each run of the pass (a shared
            machine's speed drifts within seconds: paired_time).
     train  images/s of whole training steps of SphereFace-20 (batch 16, 10572 classes).
   Every figure is the median of --reps timed runs after one warm-up run (which pays for kernel
   compilation), with scl_context_finish before the clock is read. bench/README.md explains how to
   read the output. */
#include "cli_common.h"
#include "commands.h"
#include "internal.h"
#include "ops/conv2d.h"
#include "sf20_layers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

#define GEMM_FLOPS (2.0 * GEMM_SIZE * GEMM_SIZE * GEMM_SIZE)

static scl_status gemm_make(scl_context ctx, gemm_args *g) {
  const size_t dims[2] = {GEMM_SIZE, GEMM_SIZE};
  *g = (gemm_args){NULL, NULL, NULL};
  scl_status st = sf20_tensor(ctx, 2, dims, &g->a);
  if (st == SCL_OK) st = sf20_tensor(ctx, 2, dims, &g->b);
  return st ? st : sf20_tensor(ctx, 2, dims, &g->c);
}

static void gemm_free(gemm_args *g) { scl_tensor_release(g->a), scl_tensor_release(g->b), scl_tensor_release(g->c); }

static scl_status gemm_rate(scl_context ctx, int reps, double *gflops) {
  gemm_args g;
  double t = 0;
  scl_status st = gemm_make(ctx, &g);
  if (st == SCL_OK) st = sf20_median_time(ctx, run_gemm, &g, reps, &t);
  if (st == SCL_OK) *gflops = GEMM_FLOPS / t * 1e-9;
  gemm_free(&g);
  return st;
}

/* One pass of a layer against the SGEMM, in pairs: each timed run of the pass right after a timed
   SGEMM, *x the median of the pairs' rate ratios, *seconds the pass's median time; gemm_t[0..reps)
   receives the SGEMM's times. On a shared 2-core VM whose speed drifts within seconds, an SGEMM
   timed once before a layer's passes put conv1.1's filter gradient at 0.22-0.81 of it in rounds
   of one harness, where perf's samples of the two kernels in one process gave 0.59-0.64. */
static scl_status paired_time(scl_context ctx, const gemm_args *g, layer_run *r, int reps, double *seconds, double *x,
                              double *gemm_t) {
  double pass_t[64], ratio[64], warm;
  scl_status st = sf20_time_once(ctx, run_gemm, g, &warm);
  if (st == SCL_OK) st = sf20_time_once(ctx, sf20_run_pass, r, &warm);
  for (int i = 0; i < reps && st == SCL_OK; i++) {
    if ((st = sf20_time_once(ctx, run_gemm, g, &gemm_t[i])) == SCL_OK)
      st = sf20_time_once(ctx, sf20_run_pass, r, &pass_t[i]);
    if (st == SCL_OK) ratio[i] = sf20_flops(r->l) / GEMM_FLOPS * gemm_t[i] / pass_t[i];
  }
  if (st != SCL_OK) return st;
  *x = sf20_median(ratio, reps);
  *seconds = sf20_median(pass_t, reps);
  return SCL_OK;
}

/* What the context's CLBlast parameters are: "the tuning cache", "SPHERECL_TUNING=FILE" or CLBlast's own. */
static void tuning_name(scl_context ctx, char *buf, size_t size) {
  const char *env = getenv("SPHERECL_TUNING");
  switch (scl_context_tuning(ctx)) {
  case SCL_TUNING_CACHE: snprintf(buf, size, "the device's tuning cache (spherecl tune)"); break;
  case SCL_TUNING_FILE: snprintf(buf, size, "SPHERECL_TUNING=%s", env); break;
  default: snprintf(buf, size, "CLBlast's own choice (untuned: run spherecl tune)"); break;
  }
  size_t used = strlen(buf);
  if (ctx->gemm_own && used < size)
    snprintf(buf + used, size - used, "; GEMMs with an untransposed B by spherecl's %s kernel",
             scl__gemm_own_label(ctx->gemm_own));
  /* which method runs which convolutions (lib/ops/conv2d*.c) */
  const int direct = scl__conv_direct_on(ctx);
  const size_t min_c = direct ? ctx->winograd_min_c : 0;
  used = strlen(buf);
  if (ctx->winograd && used < size)
    snprintf(buf + used, size - used, "; 3x3 stride-1 convolutions of %zu+ input channels by Winograd F(%d,3)", min_c,
             ctx->winograd);
  used = strlen(buf);
  if (used < size) snprintf(buf + used, size - used, "; %s by %s", ctx->winograd ? "the others" : "convolutions",
                            direct ? "implicit GEMMs" : "im2col + GEMM");
}

/* What bench gemm and bench ops share: [--device SELECTOR] [--reps N] (1..63) and the context.
   Returns -1 when the benchmark should run, else the exit code (usage printed by usage_fn). */
static int bench_start(int argc, char **argv, const char *name, int (*usage_fn)(FILE *, int), int *reps,
                       scl_context *ctx) {
  const char *selector = NULL;
  *reps = 5;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) selector = argv[++i];
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) *reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--help")) return usage_fn(stdout, 0);
    else {
      fprintf(stderr, "spherecl bench %s: unknown option \"%s\"\n", name, argv[i]);
      return usage_fn(stderr, 2);
    }
  }
  if (*reps < 1 || *reps > 63) {
    fprintf(stderr, "spherecl bench %s: --reps must be 1..63\n", name);
    return 2;
  }
  char cmd[32];
  snprintf(cmd, sizeof cmd, "bench %s", name);
  return (*ctx = cli_context(cmd, selector)) ? -1 : 1;
}

/* ---- bench gemm: the device's 1024^3 SGEMM rate ------------------------------------------------ */

static int gemm_usage(FILE *f, int code) {
  fprintf(f, "usage: spherecl bench gemm [--device SELECTOR] [--reps N]\n"
             "The %d^3 SGEMM rate (row-major, untransposed) with this device's tuning: CLBlast's kernel,\n"
             "or spherecl's own where the tuning chose it (SPHERECL_GEMM=RxC or clblast forces one).\n",
          GEMM_SIZE);
  return code;
}

static int bench_gemm(int argc, char **argv) {
  int reps;
  scl_context ctx;
  int code = bench_start(argc, argv, "gemm", gemm_usage, &reps, &ctx);
  if (code >= 0) return code;
  char tuning[512];
  tuning_name(ctx, tuning, sizeof tuning);
  double gemm = 0;
  scl_status st = gemm_rate(ctx, reps, &gemm);
  if (st == SCL_OK)
    printf("device: %s\ntuning: %s\n%d^3 SGEMM: %.1f GFLOP/s\n", ctx->device_label, tuning, GEMM_SIZE, gemm);
  else fprintf(stderr, "spherecl bench gemm: %s\n", scl_context_error(ctx));
  scl_context_release(ctx);
  return st == SCL_OK ? 0 : 1;
}

/* ---- bench ops: SphereFace-20's convolutions and fc5 ------------------------------------------- */

static int ops_usage(FILE *f, int code) {
  fprintf(f, "usage: spherecl bench ops [--device SELECTOR] [--reps N]\n"
             "GFLOP/s of conv2d forward, backward-data and backward-filter at the SphereFace-20 layer shapes\n"
             "(batch %d, 3x112x96 input, 3x3 pad 1) and of fc5 as a linear layer, each also as a fraction\n"
             "of a %d^3 SGEMM on the same device, timed right before each run of the pass (x: the median\n"
             "of those ratios). --reps: timed runs per figure (median; default 5, max 63).\n"
             "The device's tuning applies (spherecl tune; SPHERECL_TUNING, SPHERECL_WINOGRAD: bench/README.md).\n",
          SF20_BATCH, GEMM_SIZE);
  return code;
}

static int bench_ops(int argc, char **argv) {
  int reps;
  scl_context ctx;
  int code = bench_start(argc, argv, "ops", ops_usage, &reps, &ctx);
  if (code >= 0) return code;
  char tuning[512];
  tuning_name(ctx, tuning, sizeof tuning);
  printf("device: %s\ntuning: %s\nbatch %d, median of %d runs after a warm-up\n\n", ctx->device_label, tuning,
         SF20_BATCH, reps);
  fflush(stdout);

  double gemm_sum = 0, gemm_lo = 1e30, gemm_hi = 0, step = 0, step_flops = 0;
  int layers = 0;
  printf("x = the median over the runs of the layer's rate / the rate of a %d^3 SGEMM timed right before\n"
         "that run (column SGEMM: that SGEMM's median rate)\n\n",
         GEMM_SIZE);
  printf("%-20s %-32s %6s %6s  %-13s %-13s %-13s\n", "layer", "shape", "GFLOP", "SGEMM", "forward", "bwd-data",
         "bwd-filter");
  printf("%-20s %-32s %6s %6s  %-13s %-13s %-13s\n", "", "", "", "GFLOP/s", "GFLOP/s    x", "GFLOP/s    x",
         "GFLOP/s    x");
  gemm_args g;
  scl_status st = gemm_make(ctx, &g);
  for (size_t i = 0; i < sizeof SF20_LAYERS / sizeof SF20_LAYERS[0] && st == SCL_OK; i++) {
    const layer *l = &SF20_LAYERS[i];
    layer_run r;
    char shape[64], cells[PASSES][32];
    double flops = sf20_flops(l), gemm_t[PASSES * 64];
    sf20_shape(l, shape, sizeof shape);
    if ((st = sf20_make_layer(ctx, l, &r)) == SCL_OK)
      for (r.pass = 0; r.pass < PASSES && st == SCL_OK; r.pass++) {
        double t = 0, x = 0;
        if ((st = paired_time(ctx, &g, &r, reps, &t, &x, gemm_t + r.pass * reps))) break;
        snprintf(cells[r.pass], sizeof cells[r.pass], "  %7.1f %5.2f", flops / t * 1e-9, x);
        /* A training step needs no input gradient of the first layer. */
        if (!(i == 0 && r.pass == BACKWARD_DATA)) step += l->count * t, step_flops += l->count * flops;
      }
    sf20_free_layer(&r);
    if (st != SCL_OK) break;
    const double gemm = GEMM_FLOPS / sf20_median(gemm_t, PASSES * reps) * 1e-9;
    gemm_sum += gemm, layers++;
    gemm_lo = gemm < gemm_lo ? gemm : gemm_lo, gemm_hi = gemm > gemm_hi ? gemm : gemm_hi;
    printf("%-20s %-32s %6.3f %7.1f%s%s%s\n", l->name, shape, flops * 1e-9, gemm, cells[0], cells[1], cells[2]);
    fflush(stdout);
  }
  gemm_free(&g);
  if (st == SCL_OK)
    printf("\nSphereFace-20 step, these passes only (each row x its count in the net, conv1.1 without\n"
           "bwd-data): %.3f s for %.1f GFLOP = %.1f GFLOP/s (x %.2f of the mean SGEMM rate, %.1f;\n"
           "it ranged %.1f-%.1f)\n",
           step, step_flops * 1e-9, step_flops / step * 1e-9, step_flops / step * 1e-9 / (gemm_sum / layers),
           gemm_sum / layers, gemm_lo, gemm_hi);
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
    st = sf20_median_time(ctx, run_step, &a, reps, &t);
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
    {"gemm", bench_gemm, "the device's 1024^3 SGEMM rate with its tuning"},
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
