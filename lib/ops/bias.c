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
  return SCL_LAUNCH(ctx, "bias", "transpose", scl__row_grouped(ctx, cols, rows), 0, SCL_MEM(x.mem), SCL_UINT(x.off),
                    SCL_MEM(y.mem), SCL_UINT(y.off), SCL_UINT(y_ld), SCL_UINT(rows), SCL_UINT(cols));
}

scl_status scl__zero_tail(scl_context ctx, scl_region y, size_t rows, size_t from, size_t ld) {
  if (from >= ld) return SCL_OK;
  return SCL_LAUNCH(ctx, "bias", "zero_tail", scl__row_grouped(ctx, rows, ld - from), 0, SCL_MEM(y.mem),
                    SCL_UINT(y.off), SCL_UINT(rows), SCL_UINT(from), SCL_UINT(ld));
}
