/* scl_weightnorm_forward / backward against the double reference (odd shapes, rows shorter and
   longer than a work-group, zero rows), in place (wn is w, or a view of the same memory), against
   central finite differences of the reference forward, and every bad input refused untouched. */
#include "ref/ref_elementwise.h"
#include "testkit/testkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Random w [m,k] in [-1,1]; rows listed by zero_every (every that-many-th row, 0: none) are zero. */
static float *random_w(size_t m, size_t k, size_t zero_every, uint64_t seed) {
  tk_rng r = tk_rng_make(seed);
  float *w = malloc(m * k * sizeof *w);
  tk_fill_uniform(&r, w, m * k, -1, 1);
  for (size_t i = 0; zero_every && i < m; i += zero_every) memset(w + i * k, 0, k * sizeof *w);
  return w;
}

/* Rows are read 4 columns at a time (kernels/weightnorm.cl): k covers every remainder mod 4, and
   rows shorter and longer than a group's 4·64 columns. */
static const size_t shapes[][3] = {/* m, k, zero_every */ {7, 13, 3}, {2, 3, 0},   {1, 1, 0},
                                   {5, 300, 2},          {33, 64, 0}, {3, 6, 0}, {4, 1031, 0}};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static void wn_forward_shapes(scl_context ctx) {
  for (size_t s = 0; s < NSHAPES; s++) {
    size_t m = shapes[s][0], k = shapes[s][1];
    float *w = random_w(m, k, shapes[s][2], 600 + s);
    double *wd = ref_widen(w, m * k), *ref = malloc(m * k * sizeof *ref), *rnorm = malloc(m * sizeof *rnorm);
    ref_weightnorm_forward(m, k, wd, ref, rnorm);
    scl_tensor W = tk_tensor(ctx, w, m, k, 0, 0), WN = tk_tensor(ctx, NULL, m, k, 0, 0);
    scl_tensor NORMS = tk_tensor(ctx, NULL, m, 0, 0, 0), WN2 = tk_tensor(ctx, NULL, m, k, 0, 0);
    TK_OK(ctx, scl_weightnorm_forward(ctx, W, WN, NORMS));
    TK_OK(ctx, scl_weightnorm_forward(ctx, W, WN2, NULL));
    char what[64];
    snprintf(what, sizeof what, "wn [%zu,%zu]", m, k);
    tk_expect_tensor(what, WN, ref, TK_TOL_ELEMENTWISE);
    snprintf(what, sizeof what, "wn [%zu,%zu] without norms", m, k);
    tk_expect_tensor(what, WN2, ref, TK_TOL_ELEMENTWISE);
    snprintf(what, sizeof what, "norms [%zu,%zu]", m, k);
    tk_expect_tensor(what, NORMS, rnorm, TK_TOL_ELEMENTWISE);
    free(w), free(wd), free(ref), free(rnorm);
    scl_tensor_release(W), scl_tensor_release(WN), scl_tensor_release(NORMS), scl_tensor_release(WN2);
  }
}

/* wn is w (the same handle), then a second handle on the same memory at an offset; zero rows included. */
static void wn_in_place(scl_context ctx) {
  const size_t m = 9, k = 70, off = 5;
  float *w = random_w(m, k, 4, 700);
  double *wd = ref_widen(w, m * k), *ref = malloc(m * k * sizeof *ref);
  ref_weightnorm_forward(m, k, wd, ref, NULL);
  scl_tensor W = tk_tensor(ctx, w, m, k, 0, 0);
  TK_OK(ctx, scl_weightnorm_forward(ctx, W, W, NULL));
  tk_expect_tensor("in place, same handle", W, ref, TK_TOL_ELEMENTWISE);

  float *host = malloc((off + m * k) * sizeof *host);
  for (size_t i = 0; i < off; i++) host[i] = 42.0f;
  memcpy(host + off, w, m * k * sizeof *w);
  scl_tensor ALL = tk_tensor(ctx, host, off + m * k, 0, 0, 0), A = NULL, B = NULL;
  size_t dims[2] = {m, k};
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, dims, scl_tensor_buffer(ALL), off * sizeof(float), &A));
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, dims, scl_tensor_buffer(ALL), off * sizeof(float), &B));
  TK_OK(ctx, scl_weightnorm_forward(ctx, A, B, NULL));
  float *got = tk_read(ALL);
  tk_expect_close("in place, two handles at an offset", got + off, ref, m * k, TK_TOL_ELEMENTWISE);
  for (size_t i = 0; i < off; i++) TK_CHECK(got[i] == 42.0f);
  free(got), free(host), free(w), free(wd), free(ref);
  scl_tensor_release(W), scl_tensor_release(A), scl_tensor_release(B), scl_tensor_release(ALL);
}

/* All-zero input: zeros out (no NaN), zero norms, zero gradients, exactly. */
static void wn_zero_rows(scl_context ctx) {
  const size_t m = 3, k = 11;
  float zeros[33] = {0}, ones[33];
  for (size_t i = 0; i < m * k; i++) ones[i] = 1.0f;
  scl_tensor W = tk_tensor(ctx, zeros, m, k, 0, 0), WN = tk_tensor(ctx, NULL, m, k, 0, 0);
  scl_tensor NORMS = tk_tensor(ctx, NULL, m, 0, 0, 0), DWN = tk_tensor(ctx, ones, m, k, 0, 0);
  scl_tensor DW = tk_tensor(ctx, NULL, m, k, 0, 0);
  TK_OK(ctx, scl_weightnorm_forward(ctx, W, WN, NORMS));
  TK_OK(ctx, scl_weightnorm_backward(ctx, W, DWN, DW));
  float *wn = tk_read(WN), *norms = tk_read(NORMS), *dw = tk_read(DW);
  for (size_t i = 0; i < m * k; i++)
    TK_CHECK_MSG(wn[i] == 0.0f && dw[i] == 0.0f, "[%zu]: wn %g dw %g", i, wn[i], dw[i]);
  for (size_t i = 0; i < m; i++) TK_CHECK(norms[i] == 0.0f);
  free(wn), free(norms), free(dw);
  scl_tensor_release(W), scl_tensor_release(WN), scl_tensor_release(NORMS), scl_tensor_release(DWN),
      scl_tensor_release(DW);
}

static void wn_backward_shapes(scl_context ctx) {
  for (size_t s = 0; s < NSHAPES; s++) {
    size_t m = shapes[s][0], k = shapes[s][1];
    float *w = random_w(m, k, shapes[s][2], 800 + s), *g = random_w(m, k, 0, 900 + s);
    double *wd = ref_widen(w, m * k), *gd = ref_widen(g, m * k), *ref = malloc(m * k * sizeof *ref);
    ref_weightnorm_backward(m, k, wd, gd, ref);
    scl_tensor W = tk_tensor(ctx, w, m, k, 0, 0), DWN = tk_tensor(ctx, g, m, k, 0, 0);
    scl_tensor DW = tk_tensor(ctx, NULL, m, k, 0, 0);
    TK_OK(ctx, scl_weightnorm_backward(ctx, W, DWN, DW));
    char what[64];
    snprintf(what, sizeof what, "dw [%zu,%zu]", m, k);
    tk_expect_tensor(what, DW, ref, TK_TOL_ELEMENTWISE);
    free(w), free(g), free(wd), free(gd), free(ref);
    scl_tensor_release(W), scl_tensor_release(DWN), scl_tensor_release(DW);
  }
}

/* L = Σ wn·dwn in double, for w [m,k] and dwn. */
typedef struct {
  size_t m, k;
  const double *w, *dwn;
} wn_loss_args;

static double wn_loss(const void *p) {
  const wn_loss_args *a = p;
  double *wn = malloc(a->m * a->k * sizeof *wn), l = 0;
  ref_weightnorm_forward(a->m, a->k, a->w, wn, NULL);
  for (size_t i = 0; i < a->m * a->k; i++) l += wn[i] * a->dwn[i];
  free(wn);
  return l;
}

static void wn_gradcheck(scl_context ctx) {
  const size_t m = 6, k = 17;
  float *w = random_w(m, k, 0, 1000), *g = random_w(m, k, 0, 1001);
  double *wd = ref_widen(w, m * k), *gd = ref_widen(g, m * k), *fd = malloc(m * k * sizeof *fd);
  const wn_loss_args args = {m, k, wd, gd};
  tk_central_differences(wn_loss, &args, wd, m * k, 1e-5, fd);
  scl_tensor W = tk_tensor(ctx, w, m, k, 0, 0), DWN = tk_tensor(ctx, g, m, k, 0, 0);
  scl_tensor DW = tk_tensor(ctx, NULL, m, k, 0, 0);
  TK_OK(ctx, scl_weightnorm_backward(ctx, W, DWN, DW));
  tk_expect_tensor("dw vs finite differences", DW, fd, TK_TOL_ELEMENTWISE);
  free(w), free(g), free(wd), free(gd), free(fd);
  scl_tensor_release(W), scl_tensor_release(DWN), scl_tensor_release(DW);
}

static void wn_bad_inputs(scl_context ctx) {
  const size_t m = 4, k = 6;
  float *w = random_w(m, k, 0, 1100);
  scl_tensor W = tk_tensor(ctx, w, m, k, 0, 0), WN = tk_tensor(ctx, w, m, k, 0, 0);
  scl_tensor NORMS = tk_tensor(ctx, w, m, 0, 0, 0), DWN = tk_tensor(ctx, w, m, k, 0, 0);
  scl_tensor DW = tk_tensor(ctx, w, m, k, 0, 0), W1 = tk_tensor(ctx, w, m * k, 0, 0, 0);
  scl_tensor WT = tk_tensor(ctx, w, k, m, 0, 0), N5 = tk_tensor(ctx, w, m + 1, 0, 0, 0);
  scl_tensor W3 = tk_tensor(ctx, w, m, k, 1, 0);
  size_t dims[2] = {m, k}, nm = m;
  scl_tensor WI = NULL, NORMS_IN_WN = NULL, BIG = tk_tensor(ctx, NULL, (m + 1) * k, 0, 0, 0), LO = NULL, HI = NULL;
  TK_OK(ctx, scl_tensor_create(ctx, SCL_I32, 2, dims, &WI));
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 1, &nm, scl_tensor_buffer(WN), 3 * sizeof(float), &NORMS_IN_WN));
  /* two [m,k] views of one buffer, the second one row further: they share all but one row */
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, dims, scl_tensor_buffer(BIG), 0, &LO));
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, dims, scl_tensor_buffer(BIG), k * sizeof(float), &HI));
  TK_OK(ctx, scl_tensor_fill(BIG, 2.0f));
  float *wn0 = tk_read(WN), *norms0 = tk_read(NORMS), *dw0 = tk_read(DW), *big0 = tk_read(BIG);

  TK_STATUS(ctx, scl_weightnorm_forward(NULL, W, WN, NORMS), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_weightnorm_forward(ctx, NULL, WN, NORMS), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_weightnorm_forward(ctx, W, NULL, NORMS), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_weightnorm_forward(ctx, WI, WN, NORMS), SCL_ERR_DTYPE);
  TK_STATUS(ctx, scl_weightnorm_forward(ctx, W1, W1, NULL), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_weightnorm_forward(ctx, W3, W3, NULL), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_weightnorm_forward(ctx, W, WT, NORMS), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_weightnorm_forward(ctx, W, WN, N5), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_weightnorm_forward(ctx, W, WN, NORMS_IN_WN), SCL_ERR_INVALID_ARGUMENT);
  tk_expect_unchanged("bad forward wn", WN, wn0);
  tk_expect_unchanged("bad forward norms", NORMS, norms0);
  TK_STATUS(ctx, scl_weightnorm_forward(ctx, LO, HI, NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_weightnorm_forward(ctx, HI, LO, NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK(strstr(scl_context_error(ctx), "partly overlaps") != NULL);
  tk_expect_unchanged("partial overlap", BIG, big0);

  TK_STATUS(ctx, scl_weightnorm_backward(NULL, W, DWN, DW), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_weightnorm_backward(ctx, W, NULL, DW), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_weightnorm_backward(ctx, W, WT, DW), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_weightnorm_backward(ctx, W, DWN, WT), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_weightnorm_backward(ctx, W, DWN, WI), SCL_ERR_DTYPE);
  TK_STATUS(ctx, scl_weightnorm_backward(ctx, W, DW, DW), SCL_ERR_INVALID_ARGUMENT); /* dw is dwn */
  TK_STATUS(ctx, scl_weightnorm_backward(ctx, DW, DWN, DW), SCL_ERR_INVALID_ARGUMENT); /* dw is w */
  TK_STATUS(ctx, scl_weightnorm_backward(ctx, LO, DWN, HI), SCL_ERR_INVALID_ARGUMENT);
  tk_expect_unchanged("bad backward dw", DW, dw0);
  TK_OK(ctx, scl_weightnorm_backward(ctx, W, DWN, NULL)); /* nothing asked */

  free(w), free(wn0), free(norms0), free(dw0), free(big0);
  scl_tensor ts[] = {W, WN, NORMS, DWN, DW, W1, WT, N5, W3, WI, NORMS_IN_WN, LO, HI, BIG};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) scl_tensor_release(ts[i]);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"wn_forward_shapes", wn_forward_shapes}, {"wn_in_place", wn_in_place},
                           {"wn_zero_rows", wn_zero_rows},           {"wn_backward_shapes", wn_backward_shapes},
                           {"wn_gradcheck", wn_gradcheck},           {"wn_bad_inputs", wn_bad_inputs}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
