/* scl_sgd_update: two steps worked out by hand with Caffe's rule, two steps against the double
   reference on odd shapes (dw left unchanged), and every bad input refused with w and history
   untouched. */
#include "ref/ref_elementwise.h"
#include "testkit/testkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* lr 0.1, momentum 0.9, decay 0.01, the same dw both steps, history starting at 0 and at 1:
     w = 1, dw = 0.5, h = 0:  g = 0.51     h = 0.051                      w = 0.949
                              g = 0.50949  h = 0.9·0.051 + 0.050949 = 0.096849     w = 0.852151
     w = −2, dw = 0, h = 1:   g = −0.02    h = 0.9 − 0.002 = 0.898         w = −2.898
                              g = −0.02898 h = 0.8082 − 0.002898 = 0.805302       w = −3.703302 */
static void sgd_by_hand(scl_context ctx) {
  const float w[2] = {1, -2}, dw[2] = {0.5f, 0}, h[2] = {0, 1};
  const double want_w[2][2] = {{0.949, -2.898}, {0.852151, -3.703302}};
  const double want_h[2][2] = {{0.051, 0.898}, {0.096849, 0.805302}};
  scl_tensor W = tk_tensor(ctx, w, 2, 0, 0, 0), DW = tk_tensor(ctx, dw, 2, 0, 0, 0), H = tk_tensor(ctx, h, 2, 0, 0, 0);
  const scl_sgd_params p = {0.1f, 0.9f, 0.01f};
  for (int step = 0; step < 2; step++) {
    TK_OK(ctx, scl_sgd_update(ctx, &p, W, DW, H));
    char what[32];
    snprintf(what, sizeof what, "w after step %d", step + 1);
    tk_expect_tensor(what, W, want_w[step], TK_TOL_ELEMENTWISE);
    snprintf(what, sizeof what, "history after step %d", step + 1);
    tk_expect_tensor(what, H, want_h[step], TK_TOL_ELEMENTWISE);
  }
  tk_expect_unchanged("dw", DW, dw);
  scl_tensor_release(W), scl_tensor_release(DW), scl_tensor_release(H);
}

static void check_sgd(scl_context ctx, const size_t d[4], uint64_t seed) {
  tk_rng r = tk_rng_make(seed);
  scl_tensor W = tk_tensor(ctx, NULL, d[0], d[1], d[2], d[3]);
  size_t n = scl_tensor_count(W);
  float *w = malloc(n * sizeof *w), *dw = malloc(n * sizeof *dw), *h = malloc(n * sizeof *h);
  tk_fill_uniform(&r, w, n, -1, 1);
  tk_fill_uniform(&r, dw, n, -1, 1);
  tk_fill_uniform(&r, h, n, -0.1, 0.1);
  TK_OK(ctx, scl_tensor_write(W, w, n * sizeof *w));
  scl_tensor DW = tk_tensor(ctx, dw, d[0], d[1], d[2], d[3]), H = tk_tensor(ctx, h, d[0], d[1], d[2], d[3]);
  double *rw = ref_widen(w, n), *rdw = ref_widen(dw, n), *rh = ref_widen(h, n);
  const scl_sgd_params p = {0.05f, 0.9f, 5e-4f};
  for (int step = 0; step < 2; step++) {
    TK_OK(ctx, scl_sgd_update(ctx, &p, W, DW, H));
    ref_sgd_step(n, p.lr, p.momentum, p.weight_decay, rw, rdw, rh);
  }
  char what[64];
  snprintf(what, sizeof what, "w [%zu,%zu,%zu,%zu]", d[0], d[1], d[2], d[3]);
  tk_expect_tensor(what, W, rw, TK_TOL_ELEMENTWISE);
  snprintf(what, sizeof what, "history [%zu,%zu,%zu,%zu]", d[0], d[1], d[2], d[3]);
  tk_expect_tensor(what, H, rh, TK_TOL_ELEMENTWISE);
  tk_expect_unchanged("dw", DW, dw);
  free(w), free(dw), free(h), free(rw), free(rdw), free(rh);
  scl_tensor_release(W), scl_tensor_release(DW), scl_tensor_release(H);
}

static void sgd_shapes(scl_context ctx) {
  static const size_t shapes[][4] = {{3, 5, 7, 9}, {2, 3, 0, 0}, {1, 1, 0, 0}, {10572, 0, 0, 0}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check_sgd(ctx, shapes[i], 1800 + i);
}

/* w, dw and history at odd element offsets of their buffers. */
static void sgd_offsets(scl_context ctx) {
  enum { N = 23 };
  const size_t n = N;
  float w[N], dw[N], h[N];
  tk_rng r = tk_rng_make(1850);
  tk_fill_uniform(&r, w, N, -1, 1);
  tk_fill_uniform(&r, dw, N, -1, 1);
  tk_fill_uniform(&r, h, N, -1, 1);
  scl_tensor b[3];
  scl_tensor W = tk_tensor_at_offset(ctx, w, 1, &n, 3, &b[0]);
  scl_tensor DW = tk_tensor_at_offset(ctx, dw, 1, &n, 1, &b[1]);
  scl_tensor H = tk_tensor_at_offset(ctx, h, 1, &n, 6, &b[2]);
  const scl_sgd_params p = {0.2f, 0.5f, 0.1f};
  TK_OK(ctx, scl_sgd_update(ctx, &p, W, DW, H));
  double *rw = ref_widen(w, n), *rdw = ref_widen(dw, n), *rh = ref_widen(h, n);
  ref_sgd_step(n, p.lr, p.momentum, p.weight_decay, rw, rdw, rh);
  tk_expect_tensor("w at an offset", W, rw, TK_TOL_ELEMENTWISE);
  tk_expect_tensor("history at an offset", H, rh, TK_TOL_ELEMENTWISE);
  free(rw), free(rdw), free(rh);
  scl_tensor ts[] = {W, DW, H};
  for (int i = 0; i < 3; i++) scl_tensor_release(ts[i]), scl_tensor_release(b[i]);
}

static void sgd_bad_inputs(scl_context ctx) {
  float v[12];
  for (int i = 0; i < 12; i++) v[i] = (float)i;
  scl_tensor W = tk_tensor(ctx, v, 3, 4, 0, 0), DW = tk_tensor(ctx, v, 3, 4, 0, 0), H = tk_tensor(ctx, v, 3, 4, 0, 0);
  scl_tensor T = tk_tensor(ctx, v, 4, 3, 0, 0), HI = NULL, HW = NULL;
  size_t dims[2] = {3, 4};
  TK_OK(ctx, scl_tensor_create(ctx, SCL_I32, 2, dims, &HI));
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, dims, scl_tensor_buffer(W), 0, &HW)); /* history on w's memory */
  float *w0 = tk_read(W), *h0 = tk_read(H);
  const scl_sgd_params p = {0.1f, 0.9f, 5e-4f}, nan_lr = {NAN, 0.9f, 0}, inf_decay = {0.1f, 0.9f, INFINITY};

  TK_STATUS(ctx, scl_sgd_update(NULL, &p, W, DW, H), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_sgd_update(ctx, NULL, W, DW, H), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_sgd_update(ctx, &nan_lr, W, DW, H), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_sgd_update(ctx, &inf_decay, W, DW, H), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_sgd_update(ctx, &p, NULL, DW, H), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_sgd_update(ctx, &p, W, NULL, H), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_sgd_update(ctx, &p, W, DW, NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_sgd_update(ctx, &p, W, DW, HI), SCL_ERR_DTYPE);
  TK_STATUS(ctx, scl_sgd_update(ctx, &p, W, T, H), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_sgd_update(ctx, &p, W, DW, T), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_sgd_update(ctx, &p, W, DW, HW), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_sgd_update(ctx, &p, W, W, H), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_sgd_update(ctx, &p, W, H, H), SCL_ERR_INVALID_ARGUMENT);
  tk_expect_unchanged("bad sgd w", W, w0);
  tk_expect_unchanged("bad sgd history", H, h0);
  free(w0), free(h0);
  scl_tensor_release(W), scl_tensor_release(DW), scl_tensor_release(H), scl_tensor_release(T);
  scl_tensor_release(HI), scl_tensor_release(HW);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {
      {"sgd_by_hand", sgd_by_hand}, {"sgd_shapes", sgd_shapes}, {"sgd_offsets", sgd_offsets},
      {"sgd_bad_inputs", sgd_bad_inputs}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
