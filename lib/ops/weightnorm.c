/* Row L2 normalisation of class weights w [M,K] (SphereFace normalises the last layer's rows):
     forward   wn_i = w_i / |w_i|, norms[i] = |w_i|; a zero row stays zero (no NaN)
     backward  dw_i = (dwn_i − wn_i (wn_i·dwn_i)) / |w_i|, the exact Jacobian; zero for a zero row
   wn may be w itself (in place); norms must not overlap either. One work-group per row with a local
   reduction (kernels/weightnorm.cl). Sums of squares are fp32, so a row whose squares all underflow
   (every |w_ij| below about 1e-19) counts as a zero row, and one whose sum overflows (|w_i| above
   about 1e19) is normalised to zeros. */
#include "ops/elementwise_common.h"

/* w is an F32 [M,K] matrix and the tensors after it in args[1..n) have its shape. */
static scl_status check_rows(scl_context ctx, const char *op, const scl_named_tensor *args, int n) {
  static const size_t any[2] = {0, 0};
  scl_status st = scl__check_tensor(ctx, op, args[0].name, args[0].t, SCL_F32);
  if (st == SCL_OK) st = scl__check_shape(ctx, op, args[0].name, args[0].t, 2, any);
  return st ? st : scl__check_f32_like(ctx, op, args, n);
}

/* The kernels' local memory: a float2 per work-item. */
static scl_arg local_pairs(scl_context ctx) { return SCL_LOCAL(scl__group_size(ctx) * 2 * sizeof(float)); }

scl_status scl_weightnorm_forward(scl_context ctx, scl_tensor w, scl_tensor wn, scl_tensor norms) {
  static const char op[] = "scl_weightnorm_forward";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  const scl_named_tensor args[] = {{"w", w}, {"wn", wn}};
  scl_status st;
  if ((st = check_rows(ctx, op, args, 2)) || (st = scl__check_vector(ctx, op, "norms", norms, w->dims[0])) ||
      (st = scl__check_in_place(ctx, op, args[1], args[0])))
    return st;
  const scl_named_tensor outs[] = {{"norms", norms}, {"w", w}, {"wn", wn}};
  if ((st = scl__check_disjoint(ctx, op, outs, 1, 3))) return st;

  scl_tensor norms_arg = norms ? norms : wn; /* never written when has_norms is 0 */
  size_t rows = w->dims[0], cols = w->dims[1];
  return SCL_LAUNCH(ctx, "weightnorm", "weightnorm_forward", rows * scl__group_size(ctx), 0, SCL_TENSOR(w),
                    SCL_TENSOR(wn), SCL_TENSOR(norms_arg), SCL_UINT(rows), SCL_UINT(cols), SCL_UINT(norms != NULL),
                    local_pairs(ctx));
}

scl_status scl_weightnorm_backward(scl_context ctx, scl_tensor w, scl_tensor dwn, scl_tensor dw) {
  static const char op[] = "scl_weightnorm_backward";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  const scl_named_tensor args[] = {{"w", w}, {"dwn", dwn}};
  scl_status st;
  if ((st = check_rows(ctx, op, args, 2)) || (st = scl__check_grad(ctx, op, "dw", dw, "w", w))) return st;
  const scl_named_tensor outs[] = {{"dw", dw}, {"w", w}, {"dwn", dwn}};
  if ((st = scl__check_disjoint(ctx, op, outs, 1, 3))) return st;
  if (!dw) return SCL_OK;

  size_t rows = w->dims[0], cols = w->dims[1];
  return SCL_LAUNCH(ctx, "weightnorm", "weightnorm_backward", rows * scl__group_size(ctx), 0, SCL_TENSOR(w),
                    SCL_TENSOR(dwn), SCL_TENSOR(dw), SCL_UINT(rows), SCL_UINT(cols), local_pairs(ctx));
}
