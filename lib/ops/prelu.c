/* PReLU with one learned slope per channel (Caffe's PReLU layer, channel_shared false), x [N,C,...]
   with 2 to 4 dims seen as [N][C][inner]. Kernels: kernels/prelu.cl.
     forward   y = x > 0 ? x : slope[c]·x                          prelu_forward, 16 elements per item
     backward  dx = x > 0 ? dy : slope[c]·dy                        prelu_backward, one pass over x, dy:
               dslope[c] = Σ_{n,k} dy·x over the elements x <= 0    partial sums per (part of the batch, c),
                                                                   then prelu_sum_parts adds the parts
   y must not overlap x or slope (the op is not in place, as SPEC §4 says by default). */
#include "ops/elementwise_common.h"

/* The backward pass aims at about this many work-groups. One group per channel would leave most of a
   GPU idle for the first stage's 64 channels, so the batch is cut into parts; the number depends on
   the shape only (never on the device), so results are the same everywhere the arithmetic is. */
#define PRELU_BACKWARD_GROUPS 256

/* Checks x [N,C,...], slope [C] and out (y or dy) shaped as x. */
static scl_status check_prelu(scl_context ctx, const char *op, scl_tensor x, scl_tensor slope, const char *out_name,
                              scl_tensor out) {
  const scl_named_tensor like_x[] = {{"x", x}, {out_name, out}};
  scl_status st;
  if ((st = scl__check_f32_like(ctx, op, like_x, 2)) || (st = scl__check_tensor(ctx, op, "slope", slope, SCL_F32)))
    return st;
  if (x->ndim < 2) {
    char xs[96];
    scl__shape_string(x, xs, sizeof xs);
    return scl__fail(ctx, SCL_ERR_SHAPE, "%s: x has shape %s, expected [N,C,...] with 2 to 4 dims", op, xs);
  }
  return scl__check_shape(ctx, op, "slope", slope, 1, &x->dims[1]);
}

/* The product of x's dims after the channel axis (1 for x [N,C]). */
static size_t inner_size(scl_tensor x) { return x->count / x->dims[0] / x->dims[1]; }

scl_status scl_prelu_forward(scl_context ctx, scl_tensor x, scl_tensor slope, scl_tensor y) {
  static const char op[] = "scl_prelu_forward";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  scl_status st;
  if ((st = check_prelu(ctx, op, x, slope, "y", y))) return st;
  const scl_named_tensor args[] = {{"y", y}, {"x", x}, {"slope", slope}};
  if ((st = scl__check_disjoint(ctx, op, args, 1, 3))) return st;
  return SCL_LAUNCH(ctx, "prelu", "prelu_forward", (x->count + 15) / 16, 0, SCL_TENSOR(x), SCL_TENSOR(slope), SCL_TENSOR(y),
                    SCL_UINT(x->count), SCL_UINT(x->dims[1]), SCL_UINT(inner_size(x)));
}

scl_status scl_prelu_backward(scl_context ctx, scl_tensor x, scl_tensor slope, scl_tensor dy, scl_tensor dx,
                              scl_tensor dslope) {
  static const char op[] = "scl_prelu_backward";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  scl_status st;
  if ((st = check_prelu(ctx, op, x, slope, "dy", dy)) || (st = scl__check_grad(ctx, op, "dx", dx, "x", x)) ||
      (st = scl__check_vector(ctx, op, "dslope", dslope, x->dims[1])))
    return st;
  const scl_named_tensor args[] = {{"dx", dx}, {"dslope", dslope}, {"x", x}, {"slope", slope}, {"dy", dy}};
  if ((st = scl__check_disjoint(ctx, op, args, 2, 5))) return st;
  if (!dx && !dslope) return SCL_OK;

  size_t batch = x->dims[0], channels = x->dims[1];
  size_t parts = (PRELU_BACKWARD_GROUPS + channels - 1) / channels;
  if (parts > batch) parts = batch;
  size_t chunk = (batch + parts - 1) / parts; /* samples per part; then no part is empty: */
  parts = (batch + chunk - 1) / chunk;

  /* With one part the partial sums are dslope itself; without dslope nothing is summed and the
     kernel never writes its sums argument (any buffer fills the slot). */
  scl_region sums = scl__region_of(dslope ? dslope : x, 0);
  if (dslope && parts > 1) {
    sums.off = 0;
    st = scl__workspace(ctx, SCL_WS_SMALL_OPS, parts * channels * sizeof(float), &sums.mem);
    if (st) return st;
  }
  scl_tensor dx_arg = dx ? dx : x; /* never written when has_dx is 0 */
  size_t ls = scl__group_size(ctx);
  st = SCL_LAUNCH(ctx, "prelu", "prelu_backward", parts * channels * ls, 0, SCL_TENSOR(x), SCL_TENSOR(slope),
                  SCL_TENSOR(dy), SCL_TENSOR(dx_arg), SCL_MEM(sums.mem), SCL_UINT(sums.off), SCL_UINT(batch),
                  SCL_UINT(channels), SCL_UINT(inner_size(x)), SCL_UINT(chunk), SCL_UINT(dx != NULL),
                  SCL_UINT(dslope != NULL), SCL_LOCAL(ls * sizeof(float)));
  if (st == SCL_OK && dslope && parts > 1)
    st = SCL_LAUNCH(ctx, "prelu", "prelu_sum_parts", channels, 0, SCL_MEM(sums.mem), SCL_UINT(sums.off),
                    SCL_TENSOR(dslope), SCL_UINT(channels), SCL_UINT(parts));
  return st;
}
