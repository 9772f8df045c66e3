/* scl_conv2d_forward / scl_conv2d_backward against the naive double reference (tests/ref/ref_conv.c)
   and against central finite differences of that reference; NULL gradients; every bad input
   (status AND untouched outputs); tensors wrapped at byte offsets; a batch that runs in chunks;
   the layout padded to the tuned tile, and no CLBlast helper kernel at SphereFace-20's shapes. */
#include "internal.h"
#include "ops/conv2d.h"
#include "ref/ref_conv.h"
#include "testkit/tk_layer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  ref_conv_shape g; /* n c h w  k r s  sh sw ph pw */
} conv_case;

static const conv_case CASES[] = {
    {"3x3 stride 2 pad 1", {3, 5, 7, 9, 4, 3, 3, 2, 2, 1, 1}},
    {"1x1 stride 1 pad 0", {3, 5, 7, 9, 4, 1, 1, 1, 1, 0, 0}},
    {"5x5 stride 1 pad 2 on 11x6", {2, 3, 11, 6, 5, 5, 5, 1, 1, 2, 2}},
    {"3x3 stride 2 pad 0", {3, 5, 7, 9, 4, 3, 3, 2, 2, 0, 0}},
    {"2x3 stride 2x1 pad 0x1, one image", {1, 2, 5, 8, 3, 2, 3, 2, 1, 0, 1}},
    {"3x3 stride 1 pad 1 on 7x9", {3, 5, 7, 9, 4, 3, 3, 1, 1, 1, 1}},
    {"3x3 stride 1 pad 0 on 6x5", {2, 3, 6, 5, 6, 3, 3, 1, 1, 0, 0}},
    {"3x3 stride 1 pad 2 on 4x4", {2, 4, 4, 4, 3, 3, 3, 1, 1, 2, 2}},
};
#define NCASES (sizeof CASES / sizeof CASES[0])

/* One convolution with random inputs (tk_layer_data: float for the device, the same values in double). */
typedef struct {
  ref_conv_shape g;
  scl_conv2d_params p;
  tk_layer_data d;
} problem;

static problem make_problem(const ref_conv_shape *g, uint64_t seed) {
  problem pr = {.g = *g, .p = {g->sh, g->sw, g->ph, g->pw}};
  const tk_layer_shape shape = {
      {g->n, g->c, g->h, g->w}, {g->k, g->c, g->r, g->s}, {g->n, g->k, ref_conv_p(g), ref_conv_q(g)}, g->k};
  pr.d = tk_layer_data_make(&shape, seed);
  return pr;
}

static void free_problem(problem *pr) { tk_layer_data_free(&pr->d); }

/* The double reference forward of the layer described by arg (a ref_conv_shape). */
static void reference_forward(const void *arg, const tk_layer_data *d, double *y) {
  ref_conv2d_forward(arg, d->xd, d->wd, d->bd, y);
}

static void forward_matches_reference(scl_context ctx) {
  for (size_t c = 0; c < NCASES; c++)
    for (int with_bias = 0; with_bias < 2; with_bias++) {
      problem pr = make_problem(&CASES[c].g, 100 + c);
      tk_layer_tensors t = tk_layer_tensors_make(ctx, &pr.d);
      double *ref = malloc(pr.d.ny * sizeof *ref);
      ref_conv2d_forward(&pr.g, pr.d.xd, pr.d.wd, with_bias ? pr.d.bd : NULL, ref);
      TK_STATUS(ctx, scl_conv2d_forward(ctx, &pr.p, t.x, t.w, with_bias ? t.b : NULL, t.y), SCL_OK);
      tk_layer_expect(CASES[c].name, with_bias ? "y with bias" : "y without bias", t.y, ref);
      free(ref);
      tk_layer_tensors_release(&t);
      free_problem(&pr);
    }
}

/* The analytic double reference of a problem's backward. */
static tk_layer_grads reference_grads(const problem *pr) {
  tk_layer_grads r = tk_layer_grads_alloc(&pr->d);
  ref_conv2d_backward(&pr->g, pr->d.xd, pr->d.wd, pr->d.dyd, r.dx, r.dw, r.db);
  return r;
}

static void backward_matches_reference(scl_context ctx) {
  for (size_t c = 0; c < NCASES; c++) {
    problem pr = make_problem(&CASES[c].g, 200 + c);
    tk_layer_tensors t = tk_layer_tensors_make(ctx, &pr.d);
    tk_layer_grads ref = reference_grads(&pr);
    TK_STATUS(ctx, scl_conv2d_backward(ctx, &pr.p, t.x, t.w, t.dy, t.dx, t.dw, t.db), SCL_OK);
    tk_layer_expect_grads(CASES[c].name, t.dx, t.dw, t.db, &ref, "");
    tk_layer_grads_free(&ref);
    tk_layer_tensors_release(&t);
    free_problem(&pr);
  }
}

static void backward_matches_finite_differences(scl_context ctx) {
  for (size_t c = 0; c < NCASES; c++) {
    problem pr = make_problem(&CASES[c].g, 300 + c);
    tk_layer_tensors t = tk_layer_tensors_make(ctx, &pr.d);
    TK_STATUS(ctx, scl_conv2d_backward(ctx, &pr.p, t.x, t.w, t.dy, t.dx, t.dw, t.db), SCL_OK);
    tk_layer_grads fd = tk_layer_finite_differences(&pr.d, reference_forward, &pr.g);
    tk_layer_expect_grads(CASES[c].name, t.dx, t.dw, t.db, &fd, " vs finite differences");
    tk_layer_grads_free(&fd);
    tk_layer_tensors_release(&t);
    free_problem(&pr);
  }
}

/* Every subset of {dx, dw, db}: the requested ones are right, the others are not needed. */
static void null_gradients(scl_context ctx) {
  problem pr = make_problem(&CASES[0].g, 400);
  tk_layer_grads ref = reference_grads(&pr);
  for (int mask = 0; mask < 8; mask++) {
    tk_layer_tensors t = tk_layer_tensors_make(ctx, &pr.d);
    scl_tensor dx = mask & 1 ? t.dx : NULL, dw = mask & 2 ? t.dw : NULL, db = mask & 4 ? t.db : NULL;
    TK_STATUS(ctx, scl_conv2d_backward(ctx, &pr.p, t.x, t.w, t.dy, dx, dw, db), SCL_OK);
    char name[64];
    snprintf(name, sizeof name, "only%s%s%s", dx ? " dx" : "", dw ? " dw" : "", db ? " db" : "");
    tk_layer_expect_grads(name, dx, dw, db, &ref, "");
    tk_layer_tensors_release(&t);
  }
  tk_layer_grads_free(&ref);
  free_problem(&pr);
}

/* ---- bad inputs --------------------------------------------------------------------------------- */

/* A forward call that must fail with `want` and leave y alone; the message must contain `needle`
   (NULL: not checked). */
static void refuse_forward(scl_context ctx, const char *what, const scl_conv2d_params *p, scl_tensor x, scl_tensor w,
                           scl_tensor b, scl_tensor y, scl_status want, const char *needle) {
  tk_expect_refused(ctx, what, scl_conv2d_forward(ctx, p, x, w, b, y), want, needle, y, NULL, NULL);
}

static void forward_refuses_bad_input(scl_context ctx) {
  const scl_conv2d_params p = {2, 2, 1, 1};
  scl_tensor x = tk_sentinel(ctx, SCL_F32, 3, 5, 7, 9), w = tk_sentinel(ctx, SCL_F32, 4, 5, 3, 3);
  scl_tensor b = tk_sentinel(ctx, SCL_F32, 4, 0, 0, 0), y = tk_sentinel(ctx, SCL_F32, 3, 4, 4, 5);
  scl_tensor xi = tk_sentinel(ctx, SCL_I32, 3, 5, 7, 9), yi = tk_sentinel(ctx, SCL_I32, 3, 4, 4, 5);
  size_t four = 4;
  scl_tensor bi = NULL;
  scl_tensor_create(ctx, SCL_I32, 1, &four, &bi);
  scl_tensor w_c6 = tk_sentinel(ctx, SCL_F32, 4, 6, 3, 3), y_bad = tk_sentinel(ctx, SCL_F32, 3, 4, 4, 6);
  scl_tensor b_bad = tk_sentinel(ctx, SCL_F32, 5, 0, 0, 0), x3d = tk_sentinel(ctx, SCL_F32, 5, 7, 9, 0);
  scl_tensor w_big = tk_sentinel(ctx, SCL_F32, 4, 5, 11, 3);

  TK_CHECK(scl_conv2d_forward(NULL, &p, x, w, b, y) == SCL_ERR_INVALID_ARGUMENT);
  tk_expect_sentinel("NULL ctx", y);
  refuse_forward(ctx, "NULL params", NULL, x, w, b, y, SCL_ERR_INVALID_ARGUMENT, "params");
  refuse_forward(ctx, "NULL x", &p, NULL, w, b, y, SCL_ERR_INVALID_ARGUMENT, "x is NULL");
  refuse_forward(ctx, "NULL w", &p, x, NULL, b, y, SCL_ERR_INVALID_ARGUMENT, "w is NULL");
  refuse_forward(ctx, "NULL y", &p, x, w, b, NULL, SCL_ERR_INVALID_ARGUMENT, "y is NULL");
  refuse_forward(ctx, "I32 x", &p, xi, w, b, y, SCL_ERR_DTYPE, "x");
  refuse_forward(ctx, "I32 b", &p, x, w, bi, y, SCL_ERR_DTYPE, "b");
  refuse_forward(ctx, "I32 y", &p, x, w, b, yi, SCL_ERR_DTYPE, "y");
  const scl_conv2d_params zero_h = {0, 2, 1, 1}, zero_w = {2, 0, 1, 1}, neg_h = {2, 2, -1, 1}, neg_w = {2, 2, 1, -1};
  refuse_forward(ctx, "stride_h 0", &zero_h, x, w, b, y, SCL_ERR_INVALID_ARGUMENT, "stride");
  refuse_forward(ctx, "stride_w 0", &zero_w, x, w, b, y, SCL_ERR_INVALID_ARGUMENT, "stride");
  refuse_forward(ctx, "pad_h -1", &neg_h, x, w, b, y, SCL_ERR_INVALID_ARGUMENT, "pad");
  refuse_forward(ctx, "pad_w -1", &neg_w, x, w, b, y, SCL_ERR_INVALID_ARGUMENT, "pad");
  refuse_forward(ctx, "channels differ", &p, x, w_c6, b, y, SCL_ERR_SHAPE, "[4,6,3,3]");
  refuse_forward(ctx, "wrong y", &p, x, w, b, y_bad, SCL_ERR_SHAPE, "[3,4,4,5]");
  refuse_forward(ctx, "wrong b", &p, x, w, b_bad, y, SCL_ERR_SHAPE, "b");
  refuse_forward(ctx, "3-D x", &p, x3d, w, b, y, SCL_ERR_SHAPE, "[5,7,9]");
  /* 11 rows of filter on 7 + 2·1 padded rows: P < 1, and the message names both shapes. */
  refuse_forward(ctx, "P < 1", &p, x, w_big, b, y, SCL_ERR_SHAPE, "[4,5,11,3]");
  TK_CHECK(strstr(scl_context_error(ctx), "[3,5,7,9]") != NULL);

  /* y overlapping x: two views of one buffer. */
  size_t ydims[4] = {3, 4, 4, 5};
  scl_tensor yx = NULL;
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 4, ydims, scl_tensor_buffer(x), 4 * 10, &yx));
  refuse_forward(ctx, "y overlaps x", &p, x, w, b, yx, SCL_ERR_INVALID_ARGUMENT, "overlaps");
  tk_expect_sentinel("x under an overlapping y", x);

  /* A tensor of another context. */
  scl_context other = NULL;
  if (scl_context_create(NULL, &other) == SCL_OK) {
    scl_tensor wo = NULL;
    size_t wdims[4] = {4, 5, 3, 3};
    if (scl_tensor_create(other, SCL_F32, 4, wdims, &wo) == SCL_OK)
      refuse_forward(ctx, "w of another context", &p, x, wo, b, y, SCL_ERR_INVALID_ARGUMENT, "context");
    scl_tensor_release(wo);
    scl_context_release(other);
  }

  scl_tensor all[] = {x, w, b, y, xi, yi, bi, w_c6, y_bad, b_bad, x3d, w_big, yx};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

/* A backward call that must fail with `want` and leave dx, dw and db alone. */
static void refuse_backward(scl_context ctx, const char *what, const scl_conv2d_params *p, scl_tensor x,
                            scl_tensor w, scl_tensor dy, scl_tensor dx, scl_tensor dw, scl_tensor db, scl_status want) {
  tk_expect_refused(ctx, what, scl_conv2d_backward(ctx, p, x, w, dy, dx, dw, db), want, NULL, dx, dw, db);
}

static void backward_refuses_bad_input(scl_context ctx) {
  const scl_conv2d_params p = {2, 2, 1, 1};
  scl_tensor x = tk_sentinel(ctx, SCL_F32, 3, 5, 7, 9), w = tk_sentinel(ctx, SCL_F32, 4, 5, 3, 3);
  scl_tensor dy = tk_sentinel(ctx, SCL_F32, 3, 4, 4, 5), dx = tk_sentinel(ctx, SCL_F32, 3, 5, 7, 9);
  scl_tensor dw = tk_sentinel(ctx, SCL_F32, 4, 5, 3, 3), db = tk_sentinel(ctx, SCL_F32, 4, 0, 0, 0);
  scl_tensor dy_bad = tk_sentinel(ctx, SCL_F32, 3, 4, 5, 5), dx_bad = tk_sentinel(ctx, SCL_F32, 3, 5, 7, 8);
  scl_tensor dw_bad = tk_sentinel(ctx, SCL_F32, 4, 5, 3, 1), db_bad = tk_sentinel(ctx, SCL_F32, 3, 0, 0, 0);
  scl_tensor dyi = tk_sentinel(ctx, SCL_I32, 3, 4, 4, 5), dwi = tk_sentinel(ctx, SCL_I32, 4, 5, 3, 3);
  const scl_conv2d_params zero = {1, 0, 1, 1}, neg = {1, 1, 0, -2};

  TK_CHECK(scl_conv2d_backward(NULL, &p, x, w, dy, dx, dw, db) == SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "NULL params", NULL, x, w, dy, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "NULL x", &p, NULL, w, dy, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "NULL w", &p, x, NULL, dy, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "NULL dy", &p, x, w, NULL, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "I32 dy", &p, x, w, dyi, dx, dw, db, SCL_ERR_DTYPE);
  refuse_backward(ctx, "I32 dw", &p, x, w, dy, dx, dwi, db, SCL_ERR_DTYPE);
  refuse_backward(ctx, "stride 0", &zero, x, w, dy, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "negative pad", &neg, x, w, dy, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "wrong dy", &p, x, w, dy_bad, dx, dw, db, SCL_ERR_SHAPE);
  refuse_backward(ctx, "wrong dx", &p, x, w, dy, dx_bad, dw, db, SCL_ERR_SHAPE);
  refuse_backward(ctx, "wrong dw", &p, x, w, dy, dx, dw_bad, db, SCL_ERR_SHAPE);
  refuse_backward(ctx, "wrong db", &p, x, w, dy, dx, dw, db_bad, SCL_ERR_SHAPE);
  /* Outputs overlapping an input (w passed as dw) or each other (db inside dx). */
  refuse_backward(ctx, "dw is w", &p, x, w, dy, dx, w, db, SCL_ERR_INVALID_ARGUMENT);
  size_t four = 4;
  scl_tensor db_in_dx = NULL;
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 1, &four, scl_tensor_buffer(dx), 4 * 8, &db_in_dx));
  refuse_backward(ctx, "db overlaps dx", &p, x, w, dy, dx, dw, db_in_dx, SCL_ERR_INVALID_ARGUMENT);
  scl_tensor_release(db_in_dx);

  scl_tensor all[] = {x, w, dy, dx, dw, db, dy_bad, dx_bad, dw_bad, db_bad, dyi, dwi};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

/* ---- tensors at byte offsets ------------------------------------------------------------------- */

/* Every argument is a view into one buffer at an odd element offset, with gaps between the views
   that must keep their sentinel. */
static void wrapped_offsets(scl_context ctx) {
  problem pr = make_problem(&CASES[0].g, 500);
  tk_layer_packed p = tk_layer_pack(ctx, &pr.d, 3, 5);
  TK_OK(ctx, scl_conv2d_forward(ctx, &pr.p, p.t.x, p.t.w, p.t.b, p.t.y));
  TK_OK(ctx, scl_conv2d_backward(ctx, &pr.p, p.t.x, p.t.w, p.t.dy, p.t.dx, p.t.dw, p.t.db));
  double *y = malloc(pr.d.ny * sizeof *y);
  ref_conv2d_forward(&pr.g, pr.d.xd, pr.d.wd, pr.d.bd, y);
  tk_layer_grads ref = reference_grads(&pr);
  float *out = tk_layer_packed_check(ctx, &p, y, &ref);
  /* The inputs unchanged too. */
  TK_CHECK(memcmp(out + p.off[0], pr.d.x, pr.d.nx * 4) == 0 && memcmp(out + p.off[1], pr.d.w, pr.d.nw * 4) == 0);
  TK_CHECK(memcmp(out + p.off[3], pr.d.dy, pr.d.ny * 4) == 0);
  tk_layer_packed_release(&p);
  free(out), free(y);
  tk_layer_grads_free(&ref);
  free_problem(&pr);
}

/* A batch whose im2col columns exceed the 256 MiB workspace cap (about 100 MB per image): it runs
   in chunks of 2 + 1 images, so dw sums over chunks and the single-image path runs too. */
/* Runs forward (with bias) and backward (every gradient) of g on ctx and compares y, dx, dw and db
   with the double reference at the usual 1e-4; err (may be NULL) receives the relative L2 errors of
   y, dx and dw. */
static void check_passes(scl_context ctx, const ref_conv_shape *g, uint64_t seed, const char *name,
                         const char *suffix, double err[3]) {
  problem pr = make_problem(g, seed);
  tk_layer_tensors t = tk_layer_tensors_make(ctx, &pr.d);
  double *y = malloc(pr.d.ny * sizeof *y);
  ref_conv2d_forward(&pr.g, pr.d.xd, pr.d.wd, pr.d.bd, y);
  tk_layer_grads ref = reference_grads(&pr);
  TK_STATUS(ctx, scl_conv2d_forward(ctx, &pr.p, t.x, t.w, t.b, t.y), SCL_OK);
  TK_STATUS(ctx, scl_conv2d_backward(ctx, &pr.p, t.x, t.w, t.dy, t.dx, t.dw, t.db), SCL_OK);
  char what[64];
  snprintf(what, sizeof what, "y%s", suffix);
  tk_layer_expect(name, what, t.y, y);
  tk_layer_expect_grads(name, t.dx, t.dw, t.db, &ref, suffix);
  if (err) {
    float *gy = tk_read(t.y), *gdx = tk_read(t.dx), *gdw = tk_read(t.dw);
    err[0] = tk_rel_l2(gy, y, pr.d.ny), err[1] = tk_rel_l2(gdx, ref.dx, pr.d.nx);
    err[2] = tk_rel_l2(gdw, ref.dw, pr.d.nw);
    free(gy), free(gdx), free(gdw);
  }
  free(y);
  tk_layer_grads_free(&ref);
  tk_layer_tensors_release(&t);
  free_problem(&pr);
}

static void batch_in_chunks(scl_context ctx) {
  const ref_conv_shape g = {3, 32, 208, 208, 2, 3, 3, 1, 1, 1, 1};
  if (tk_small("batch_in_chunks (3x32x208x208)")) return;
  const int saved = ctx->conv_direct;
  ctx->conv_direct = 0; /* the implicit GEMMs need no workspace for the columns, so no chunks */
  check_passes(ctx, &g, 600, "chunks", "", NULL);
  ctx->conv_direct = saved;
}

/* With spherecl's GEMM kernel (every tile, whatever the tuning chose), im2col and Winograd:
   every case, and a layer whose GEMM rows would be a multiple of 4 KiB apart (1024 output pixels
   per image: scl__gemm_ld pads them), forward and backward against the double reference. */
static void own_gemm_kernel(scl_context ctx) {
  const int saved_own = ctx->gemm_own, saved_wino = ctx->winograd, saved_direct = ctx->conv_direct;
  ctx->conv_direct = 0; /* im2col + GEMM: direct_convolution has the implicit GEMMs */
  const ref_conv_shape aliasing = {2, 3, 32, 32, 8, 3, 3, 1, 1, 1, 1}; /* 32x32 outputs */
  for (int t = 1; t <= scl__gemm_own_count(); t++) {
    ctx->gemm_own = t;
    for (int wino = 0; wino <= 4; wino += 4) {
      ctx->winograd = wino;
      const char *suffix = wino ? " (own GEMM, Winograd)" : " (own GEMM)";
      for (size_t c = 0; c < NCASES; c++) check_passes(ctx, &CASES[c].g, 900 + c, CASES[c].name, suffix, NULL);
      check_passes(ctx, &aliasing, 950, "32x32 outputs", suffix, NULL);
    }
  }
  TK_CHECK(scl__gemm_ld(ctx, 2048) % 1024 != 0 && scl__gemm_ld(ctx, 2048) >= 2048);
  ctx->gemm_own = saved_own, ctx->winograd = saved_wino, ctx->conv_direct = saved_direct;
}

/* Convolutions as implicit GEMMs (kernels/conv_direct.cl), every tile, on any device: every case
   (channel counts below a vector and below a tile's rows, odd sizes, strides 2 and 2x1, pads 0-2),
   whole and partial channel strips, and a stride-2 layer of 64 channels whose pixels fill the 6x64
   tile and whose filter gradient runs in three slices of one image (2688 output pixels: a strip of
   32 channels is 344 KB, over half the 512 KB slice), forward and backward against the double
   reference. */
static void direct_convolution(scl_context ctx) {
  const int saved_direct = ctx->conv_direct, saved_wino = ctx->winograd;
  const ref_conv_shape wide = {3, 8, 112, 96, 64, 3, 3, 2, 2, 1, 1};
  /* 40 input and 36 output channels: a whole strip and a partial one in every pass (the stores
     of a whole strip take an unrolled path, SCL_TILE_STORE) */
  const ref_conv_shape strips = {2, 40, 9, 11, 36, 3, 3, 2, 2, 1, 1};
  const char *tiles[] = {"8x32", "6x64", "12x32"};
  ctx->conv_direct = 1, ctx->winograd = 0;
  for (int t = 0; t < 3; t++) {
    setenv("SPHERECL_CONV_TILE", tiles[t], 1);
    char suffix[32];
    snprintf(suffix, sizeof suffix, " (direct %s)", tiles[t]);
    for (size_t c = 0; c < NCASES; c++) check_passes(ctx, &CASES[c].g, 1000 + c, CASES[c].name, suffix, NULL);
    check_passes(ctx, &strips, 1040, "40 -> 36 channels stride 2", suffix, NULL);
    if (!tk_small("the 64-channel stride-2 layer")) check_passes(ctx, &wide, 1050, "64 channels stride 2", suffix, NULL);
  }
  unsetenv("SPHERECL_CONV_TILE");
  ctx->conv_direct = saved_direct, ctx->winograd = saved_wino;
}

/* Layers of fewer than 16 input channels with the vectors along the output pixels
   (kernels/conv_narrow.cl), where the implicit GEMMs run by default: they take every case (2-5
   channels; the dx by col2im), SphereFace's first layer (2 images), a row of 70 outputs (two
   forward vectors of 48, a ragged end of 6 in the filter gradient) on 7 channels (a block of 3
   that repeats the last), stride 3x2 with a 3x2 filter (six phase planes), forward and backward
   against the double reference; the 5x5 case has more taps than the kernels take and runs as
   before. How the rows are split between work-items follows the compute units, so the test sets
   them: with 1 unit, 70 output rows of one image go to items of 9 rows (the last of 7), the first
   layer's 56 to items of 14, and 8 images to an item each (a whole image, padding rows at both
   ends); with 1000 units every item has one row. SPHERECL_CONV=direct (conv_direct = 1) and 16
   channels do not take them. */
static void narrow_convolution(scl_context ctx) {
  const int saved_direct = ctx->conv_direct, saved_wino = ctx->winograd, saved_own = ctx->gemm_own;
  const unsigned saved_units = ctx->compute_units;
  static const conv_case narrow[] = {
      {"first layer 3x112x96 -> 64, stride 2", {2, 3, 112, 96, 64, 3, 3, 2, 2, 1, 1}},
      {"70 columns, 7 channels", {2, 7, 9, 70, 10, 3, 3, 1, 1, 1, 1}},
      {"3x2 stride 3x2 pad 1x0", {2, 4, 10, 11, 5, 3, 2, 3, 2, 1, 0}},
      {"70 rows", {1, 2, 70, 20, 3, 3, 3, 1, 1, 1, 1}},
      {"8 images, stride 2", {8, 3, 9, 10, 4, 3, 3, 2, 2, 1, 1}},
      {"stride 2, 32 columns", {1, 3, 6, 32, 4, 3, 3, 2, 2, 1, 1}},
      /* phase planes of 16 columns copied as vectors: one that ends on x's last float, and without
         padding, blocks from column 0 and a last block moved back */
      {"stride 2, 33 columns", {1, 3, 6, 33, 4, 3, 3, 2, 2, 1, 1}},
      {"stride 2 pad 0, 70 columns", {1, 2, 5, 70, 3, 3, 3, 2, 2, 0, 0}},
      /* rows of whole vectors, chunks of 8 and 2 rows, the next tile's dy fetched */
      {"32 columns, 40 rows, 20 filters", {2, 3, 40, 32, 20, 3, 3, 1, 1, 1, 1}},
  };
  ctx->conv_direct = -1, ctx->winograd = 0;
  if (!ctx->gemm_own) ctx->gemm_own = 1; /* implicit GEMMs by default: they follow spherecl's GEMM kernel */
  conv_shape first = {.n = 2, .c = 3, .h = 112, .w = 96, .k = 64, .r = 3, .s = 3, .sh = 2, .sw = 2, .ph = 1, .pw = 1,
                      .p = 56, .q = 48};
  first.crs = 27, first.pq = first.p * first.q, first.chw = 3 * 112 * 96;
  conv_shape wide = first;
  wide.c = 16;
  TK_CHECK_MSG(scl__conv_narrow_applies(ctx, &first) && !scl__conv_narrow_applies(ctx, &wide),
               "3 channels by the narrow kernels %d, 16 channels %d", scl__conv_narrow_applies(ctx, &first),
               scl__conv_narrow_applies(ctx, &wide));
  for (size_t c = 0; c < NCASES; c++) check_passes(ctx, &CASES[c].g, 1200 + c, CASES[c].name, " (narrow)", NULL);
  ctx->compute_units = 1;
  for (size_t c = 0; c < sizeof narrow / sizeof narrow[0]; c++)
    if (c > 0 || !tk_small("the first layer at 112x96 (narrow)"))
      check_passes(ctx, &narrow[c].g, 1250 + c, narrow[c].name, " (narrow)", NULL);
  ctx->compute_units = 1000;
  for (size_t c = 1; c < sizeof narrow / sizeof narrow[0]; c++)
    check_passes(ctx, &narrow[c].g, 1270 + c, narrow[c].name, " (narrow, an item per row)", NULL);
  ctx->conv_direct = 1;
  TK_CHECK_MSG(!scl__conv_narrow_applies(ctx, &first), "SPHERECL_CONV=direct must force the implicit GEMMs");
  ctx->conv_direct = saved_direct, ctx->winograd = saved_wino, ctx->gemm_own = saved_own;
  ctx->compute_units = saved_units;
}

/* The Conv2dDirect entry (ctx->winograd_min_c): with implicit GEMMs on, Winograd keeps only the
   3x3 stride-1 layers with that many input channels or more, and the others still match the
   reference; with implicit GEMMs off, Winograd takes every layer it can. */
static void winograd_keeps_wide_layers(scl_context ctx) {
  const int saved_direct = ctx->conv_direct, saved_wino = ctx->winograd;
  const size_t saved_min = ctx->winograd_min_c;
  conv_shape narrow = {.n = 2, .c = 5, .h = 7, .w = 9, .k = 4, .r = 3, .s = 3, .sh = 1, .sw = 1, .ph = 1, .pw = 1};
  conv_shape wide = narrow;
  wide.c = 6;
  ctx->winograd = 4, ctx->winograd_min_c = 6, ctx->conv_direct = 1;
  TK_CHECK_MSG(!scl__winograd_applies(ctx, &narrow) && scl__winograd_applies(ctx, &wide),
               "with BELOW_CHANNELS=6: 5 channels by Winograd %d, 6 channels %d", scl__winograd_applies(ctx, &narrow),
               scl__winograd_applies(ctx, &wide));
  check_passes(ctx, &CASES[5].g, 1100, CASES[5].name, " (5 channels, below the Winograd threshold)", NULL);
  ctx->conv_direct = 0;
  TK_CHECK_MSG(scl__winograd_applies(ctx, &narrow), "without implicit GEMMs the threshold must not apply");
  ctx->conv_direct = saved_direct, ctx->winograd = saved_wino, ctx->winograd_min_c = saved_min;
}

/* Winograd F(2x2,3x3) and F(4x4,3x3) (SPHERECL_WINOGRAD=2 or 4, tuning entry Conv2d WINOGRAD=2/4)
   against the double reference: every case (the 3x3 stride-1 ones run by Winograd, odd sizes
   leaving partial tiles; F(2,3) even when 4 is asked, their outputs being under 8x8), and a
   SphereFace-sized layer (64 channels, batch 3, 14x13, partial tiles both ways) whose sums are
   long. The documented float32 errors, as relative L2 errors of y, dx and dw: below 1e-5 for F(2,3)
   (the direct method's are ~1e-7) and below 5e-5 for F(4,3); the cases must also pass the usual
   1e-4. */
static void winograd_matches_reference(scl_context ctx) {
  int saved = ctx->winograd;
  const ref_conv_shape big = {3, 64, 14, 13, 32, 3, 3, 1, 1, 1, 1}; /* partial tiles both ways */
  for (int m = 2; m <= 4; m += 2) {
    ctx->winograd = m;
    double bound = m == 2 ? 1e-5 : 5e-5;
    for (size_t c = 0; c <= NCASES; c++) {
      const ref_conv_shape *g = c < NCASES ? &CASES[c].g : &big;
      const char *name = c < NCASES ? CASES[c].name : "64 channels 14x13";
      double e[3];
      check_passes(ctx, g, 800 + c, name, m == 2 ? " (Winograd F2)" : " (Winograd F4)", e);
      TK_CHECK_MSG(e[0] < bound && e[1] < bound && e[2] < bound,
                   "F(%d,3), %s: relative L2 error y %.3g, dx %.3g, dw %.3g", m, name, e[0], e[1], e[2]);
      if (c == NCASES)
        printf("     Winograd F(%dx%d,3x3), %s: relative L2 error y %.2g, dx %.2g, dw %.2g\n", m, m, name, e[0],
               e[1], e[2]);
    }
  }
  ctx->winograd = saved;
}

/* With the tuner's default set (GEMMK=1, 64-wide tiles: the first entry of lib/blas/tune_space.c)
   conv2d pads its GEMM operands to whole tiles. On a fresh context with that set: every case still
   matches the reference, forward and backward, and at SphereFace-20's layer shapes (batch 2) no
   GEMM needs CLBlast's copy or transpose kernels, by im2col or by Winograd. */
static void tiled_layout_needs_no_helpers(scl_context unused) {
  (void)unused;
  scl_context ctx = NULL;
  TK_OK(NULL, scl_context_create(getenv("SPHERECL_TEST_DEVICE"), &ctx));
  size_t count = 0;
  char entries[1024];
  snprintf(entries, sizeof entries, "%s\nGemmRoutine 32 XGEMM_MIN_INDIRECT_SIZE=576\n",
           scl__tune_space(SCL_TUNE_XGEMM, &count)[0]);
  TK_OK(ctx, scl_tuning_apply(ctx, entries));
  ctx->gemm_own = 0, ctx->conv_direct = 0; /* CLBlast's kernel, even where the tuning or SPHERECL_GEMM chose spherecl's */
  TK_CHECK_MSG(ctx->gemm_tile == 64, "tile %zu", ctx->gemm_tile);
  for (size_t c = 0; c < NCASES; c++) check_passes(ctx, &CASES[c].g, 700 + c, CASES[c].name, " (tiled)", NULL);
  /* SphereFace-20's convolutions: c, h, w, k, stride (3x3, pad 1) */
  static const size_t sf20[][5] = {{3, 112, 96, 64, 2},  {64, 56, 48, 64, 1},   {64, 56, 48, 128, 2},
                                   {128, 28, 24, 128, 1}, {128, 28, 24, 256, 2}, {256, 14, 12, 256, 1},
                                   {256, 14, 12, 512, 2}, {512, 7, 6, 512, 1}};
  unsigned long before = ctx->gemm_helper_calls;
  for (size_t i = 0; i < (tk_small("the SphereFace-20 layer shapes") ? 0 : 3 * 8); i++) { /* im2col, then Winograd F(2,3) and F(4,3) where they apply */
    ctx->winograd = (int)(i / 8) * 2;
    size_t n = 2, c = sf20[i % 8][0], h = sf20[i % 8][1], w = sf20[i % 8][2], k = sf20[i % 8][3], st = sf20[i % 8][4];
    size_t p = (h - 1) / st + 1, q = (w - 1) / st + 1;
    scl_conv2d_params prm = {(int)st, (int)st, 1, 1};
    scl_tensor x = tk_tensor(ctx, NULL, n, c, h, w), wt = tk_tensor(ctx, NULL, k, c, 3, 3),
               y = tk_tensor(ctx, NULL, n, k, p, q), dx = tk_tensor(ctx, NULL, n, c, h, w),
               dw = tk_tensor(ctx, NULL, k, c, 3, 3);
    scl_tensor all[] = {x, wt, y, dx, dw};
    for (size_t j = 0; j < 5; j++) TK_OK(ctx, scl_tensor_fill(all[j], 0.01f));
    TK_OK(ctx, scl_conv2d_forward(ctx, &prm, x, wt, NULL, y));
    TK_OK(ctx, scl_conv2d_backward(ctx, &prm, x, wt, y, dx, dw, NULL));
    TK_CHECK_MSG(ctx->gemm_helper_calls == before, "layer %zu%s (%zu->%zu, %zux%zu): %lu GEMMs needed a helper kernel",
                 i % 8, ctx->winograd ? " (Winograd)" : "", c, k, h, w, ctx->gemm_helper_calls - before);
    before = ctx->gemm_helper_calls;
    for (size_t j = 0; j < 5; j++) scl_tensor_release(all[j]);
  }
  /* The count can move: a transposed operand needs a helper. */
  scl_tensor a = tk_tensor(ctx, NULL, 640, 640, 0, 0), cm = tk_tensor(ctx, NULL, 640, 640, 0, 0);
  TK_OK(ctx, scl__gemm(ctx, SCL_TRANS, SCL_NO_TRANS, 640, 640, 640, 1.0f, a->buffer, 0, 640, a->buffer, 0, 640, 0.0f,
                       cm->buffer, 0, 640));
  TK_CHECK_MSG(ctx->gemm_helper_calls == before + 1, "a transposed A was not counted");
  scl_tensor_release(a), scl_tensor_release(cm);
  scl_context_release(ctx);
}

/* The comparison must be able to fail: y computed without its bias does not pass as y with it. */
static void wrong_result_is_caught(scl_context ctx) {
  problem pr = make_problem(&CASES[1].g, 700); /* 1x1 stride 1 */
  tk_layer_tensors t = tk_layer_tensors_make(ctx, &pr.d);
  double *ref = malloc(pr.d.ny * sizeof *ref);
  ref_conv2d_forward(&pr.g, pr.d.xd, pr.d.wd, pr.d.bd, ref);
  TK_OK(ctx, scl_conv2d_forward(ctx, &pr.p, t.x, t.w, NULL, t.y)); /* bias left out on purpose */
  tk_layer_expect_differs("y without its bias", t.y, ref);
  free(ref);
  tk_layer_tensors_release(&t);
  free_problem(&pr);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {
      {"forward_matches_reference", forward_matches_reference},
      {"backward_matches_reference", backward_matches_reference},
      {"backward_matches_finite_differences", backward_matches_finite_differences},
      {"null_gradients", null_gradients},
      {"forward_refuses_bad_input", forward_refuses_bad_input},
      {"backward_refuses_bad_input", backward_refuses_bad_input},
      {"wrapped_offsets", wrapped_offsets},
      {"batch_in_chunks", batch_in_chunks},
      {"wrong_result_is_caught", wrong_result_is_caught},
      {"winograd_matches_reference", winograd_matches_reference},
      {"own_gemm_kernel", own_gemm_kernel},
      {"direct_convolution", direct_convolution},
      {"narrow_convolution", narrow_convolution},
      {"winograd_keeps_wide_layers", winograd_keeps_wide_layers},
      {"tiled_layout_needs_no_helpers", tiled_layout_needs_no_helpers},
  };
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
