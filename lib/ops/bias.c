/* Bias add / bias gradient of conv2d and linear, and the axis swap conv2d lays batches out with.
   The kernels are in kernels/bias.cl; its row-grouped launches are explained there. */
#include "ops/bias.h"

scl_region scl__region_of(scl_tensor t, size_t elements) {
  scl_region r = {t->buffer, t->offset + elements};
  return r;
}

/* The launch's local size as scl__launch picks it (SCL_LOCAL_1D, or less where the device caps it). */
static size_t local_size(scl_context ctx) {
  return ctx->max_work_group < SCL_LOCAL_1D ? ctx->max_work_group : SCL_LOCAL_1D;
}

/* Work-items for `rows` rows of `cols` elements, each row starting a new work-group. */
static size_t row_grouped(scl_context ctx, size_t rows, size_t cols) {
  size_t ls = local_size(ctx);
  return rows * ((cols + ls - 1) / ls) * ls;
}

scl_status scl__bias_add(scl_context ctx, scl_region y, scl_tensor b, size_t rows, size_t cols) {
  return SCL_LAUNCH(ctx, "bias", "bias_add", row_grouped(ctx, rows, cols), 0, SCL_MEM(y.mem), SCL_UINT(y.off),
                    SCL_TENSOR(b), SCL_UINT(rows), SCL_UINT(cols));
}

scl_status scl__bias_grad(scl_context ctx, scl_tensor dy, size_t channels, scl_tensor db) {
  size_t batch = dy->dims[0], inner = dy->count / batch / channels, ls = local_size(ctx);
  return SCL_LAUNCH(ctx, "bias", "bias_grad", channels * ls, 0, SCL_TENSOR(dy), SCL_TENSOR(db), SCL_UINT(batch),
                    SCL_UINT(channels), SCL_UINT(inner), SCL_LOCAL(ls * sizeof(float)));
}

scl_status scl__swap01(scl_context ctx, scl_region x, scl_region y, size_t na, size_t nb, size_t nc,
                       scl_tensor bias) {
  /* Without a bias the kernel never reads its bias argument; any buffer fills the slot. */
  scl_region b = bias ? scl__region_of(bias, 0) : x;
  return SCL_LAUNCH(ctx, "bias", "swap01", row_grouped(ctx, na * nb, nc), 0, SCL_MEM(x.mem), SCL_UINT(x.off),
                    SCL_MEM(y.mem), SCL_UINT(y.off), SCL_UINT(na), SCL_UINT(nb), SCL_UINT(nc), SCL_MEM(b.mem),
                    SCL_UINT(b.off), SCL_UINT(bias != NULL));
}

scl_status scl__check_disjoint(scl_context ctx, const char *op, const scl_named_tensor *args, int n_out, int n) {
  for (int i = 0; i < n_out; i++)
    for (int j = 0; j < n; j++)
      if (j != i && args[i].t && args[j].t && scl__overlap(args[i].t, args[j].t))
        return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: %s overlaps %s in memory", op, args[i].name,
                         args[j].name);
  return SCL_OK;
}

scl_status scl__check_vector(scl_context ctx, const char *op, const char *name, scl_tensor v, size_t len) {
  if (!v) return SCL_OK;
  scl_status st = scl__check_tensor(ctx, op, name, v, SCL_F32);
  return st ? st : scl__check_shape(ctx, op, name, v, 1, &len);
}

scl_status scl__check_grad(scl_context ctx, const char *op, const char *name, scl_tensor g, const char *like_name,
                           scl_tensor like) {
  if (!g) return SCL_OK;
  scl_status st = scl__check_tensor(ctx, op, name, g, SCL_F32);
  return st ? st : scl__check_same_shape(ctx, op, like_name, like, name, g);
}
