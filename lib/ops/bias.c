/* Bias add / bias gradient of conv2d and linear, and the axis swap conv2d lays batches out with.
   The kernels are in kernels/bias.cl; its row-grouped launches are explained there. */
#include "ops/bias.h"

size_t scl__row_grouped(scl_context ctx, size_t rows, size_t cols) {
  size_t ls = scl__group_size(ctx);
  return rows * ((cols + ls - 1) / ls) * ls;
}

scl_status scl__bias_add(scl_context ctx, scl_region y, scl_tensor b, size_t rows, size_t cols) {
  return SCL_LAUNCH(ctx, "bias", "bias_add", scl__row_grouped(ctx, rows, cols), 0, SCL_MEM(y.mem), SCL_UINT(y.off),
                    SCL_TENSOR(b), SCL_UINT(rows), SCL_UINT(cols));
}

scl_status scl__bias_grad(scl_context ctx, scl_tensor dy, size_t channels, scl_tensor db) {
  size_t batch = dy->dims[0], inner = dy->count / batch / channels, ls = scl__group_size(ctx);
  return SCL_LAUNCH(ctx, "bias", "bias_grad", channels * ls, 0, SCL_TENSOR(dy), SCL_TENSOR(db), SCL_UINT(batch),
                    SCL_UINT(channels), SCL_UINT(inner), SCL_LOCAL(ls * sizeof(float)));
}

scl_status scl__swap01(scl_context ctx, scl_region x, size_t x_ld, scl_region y, size_t y_ld, size_t na, size_t nb,
                       size_t nc, scl_tensor bias) {
  /* Without a bias the kernel never reads its bias argument; any buffer fills the slot. */
  scl_region b = bias ? scl__region_of(bias, 0) : x;
  return SCL_LAUNCH(ctx, "bias", "swap01", scl__row_grouped(ctx, na * nb, nc), 0, SCL_MEM(x.mem), SCL_UINT(x.off),
                    SCL_UINT(x_ld), SCL_MEM(y.mem), SCL_UINT(y.off), SCL_UINT(y_ld), SCL_UINT(na), SCL_UINT(nb),
                    SCL_UINT(nc), SCL_MEM(b.mem), SCL_UINT(b.off), SCL_UINT(bias != NULL));
}

scl_status scl__transpose(scl_context ctx, scl_region x, scl_region y, size_t y_ld, size_t rows, size_t cols) {
  int by_x = cols > rows;
  return SCL_LAUNCH(ctx, "bias", "transpose", by_x ? scl__row_grouped(ctx, rows, cols) : scl__row_grouped(ctx, cols, rows),
                    0, SCL_MEM(x.mem), SCL_UINT(x.off), SCL_MEM(y.mem), SCL_UINT(y.off), SCL_UINT(y_ld), SCL_UINT(rows),
                    SCL_UINT(cols), SCL_UINT(by_x));
}

scl_status scl__gemm_xwt(scl_context ctx, scl_region x, scl_region w, scl_region out, size_t n, size_t m, size_t k) {
  if (ctx->gemm_tile == 1 || n >= m)
    return scl__gemm(ctx, SCL_NO_TRANS, SCL_TRANS, n, m, k, 1.0f, x.mem, x.off, k, w.mem, w.off, k, 0.0f, out.mem,
                     out.off, m);
  /* outᵀ [M][N] = w · xᵀ: CLBlast's GEMMK=1 kernel takes w [M][K] as it is, where out = x · wᵀ would
     have it transpose all of w on every call (fc5: 11M floats); only the small x and out move. */
  cl_mem xt, ot;
  scl_status st = scl__workspace(ctx, SCL_WS_CONV_COL, k * n * sizeof(float), &xt);
  if (st == SCL_OK) st = scl__workspace(ctx, SCL_WS_CONV_T, m * n * sizeof(float), &ot);
  if (st == SCL_OK) st = scl__transpose(ctx, x, (scl_region){xt, 0}, n, n, k);
  if (st == SCL_OK)
    st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, m, n, k, 1.0f, w.mem, w.off, k, xt, 0, n, 0.0f, ot, 0, n);
  if (st == SCL_OK) st = scl__transpose(ctx, (scl_region){ot, 0}, out, m, m, n);
  return st;
}

scl_status scl__zero_tail(scl_context ctx, scl_region y, size_t rows, size_t from, size_t ld) {
  if (from >= ld) return SCL_OK;
  return SCL_LAUNCH(ctx, "bias", "zero_tail", scl__row_grouped(ctx, rows, ld - from), 0, SCL_MEM(y.mem),
                    SCL_UINT(y.off), SCL_UINT(rows), SCL_UINT(from), SCL_UINT(ld));
}
