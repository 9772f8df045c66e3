/* Fully connected layer: y [N,M] = x [N,K] · w [M,K]ᵀ + b [M], x [N, ...] seen as [N,K] (K the
   product of its other dims, 1 for a 1-D x). Three CLBlast GEMMs and the shared bias kernels:
     forward   y  = x · wᵀ (+ b on every row)
     backward  dx = dy · w        dw = dyᵀ · x        db = Σ_n dy[n] */
#include "ops/bias.h"

#include <stdio.h>

/* Checks x, w and out ("y" or "dy") = [N,M]; *n, *k, *m receive the sizes. */
static scl_status check_linear(scl_context ctx, const char *op, scl_tensor x, scl_tensor w, const char *out_name,
                               scl_tensor out, size_t *n, size_t *k, size_t *m) {
  scl_status st;
  if ((st = scl__check_tensor(ctx, op, "x", x, SCL_F32)) || (st = scl__check_tensor(ctx, op, "w", w, SCL_F32)) ||
      (st = scl__check_tensor(ctx, op, out_name, out, SCL_F32)))
    return st;
  *n = x->dims[0];
  *k = x->count / *n;
  char xs[96], ws[96], os[96];
  scl__shape_string(x, xs, sizeof xs);
  scl__shape_string(w, ws, sizeof ws);
  scl__shape_string(out, os, sizeof os);
  if (w->ndim != 2 || w->dims[1] != *k)
    return scl__fail(ctx, SCL_ERR_SHAPE, "%s: w has shape %s, expected [M,%zu] (x %s is seen as [%zu,%zu])", op, ws,
                     *k, xs, *n, *k);
  *m = w->dims[0];
  if (out->ndim != 2 || out->dims[0] != *n || out->dims[1] != *m)
    return scl__fail(ctx, SCL_ERR_SHAPE, "%s: %s has shape %s, expected [%zu,%zu] (x %s, w %s)", op, out_name, os, *n,
                     *m, xs, ws);
  return SCL_OK;
}

scl_status scl_linear_forward(scl_context ctx, scl_tensor x, scl_tensor w, scl_tensor b, scl_tensor y) {
  static const char op[] = "scl_linear_forward";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  size_t n, k, m;
  scl_status st;
  if ((st = check_linear(ctx, op, x, w, "y", y, &n, &k, &m)) || (st = scl__check_vector(ctx, op, "b", b, m))) return st;
  const scl_named_tensor args[] = {{"y", y}, {"x", x}, {"w", w}, {"b", b}};
  if ((st = scl__check_disjoint(ctx, op, args, 1, 4))) return st;

  st = scl__gemm_xwt(ctx, scl__region_of(x, 0), scl__region_of(w, 0), scl__region_of(y, 0), n, m, k);
  if (st == SCL_OK && b) st = scl__bias_add(ctx, scl__region_of(y, 0), b, n, m);
  return st;
}

scl_status scl_linear_backward(scl_context ctx, scl_tensor x, scl_tensor w, scl_tensor dy, scl_tensor dx,
                               scl_tensor dw, scl_tensor db) {
  static const char op[] = "scl_linear_backward";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  size_t n, k, m;
  scl_status st;
  if ((st = check_linear(ctx, op, x, w, "dy", dy, &n, &k, &m))) return st;
  if ((st = scl__check_grad(ctx, op, "dx", dx, "x", x)) || (st = scl__check_grad(ctx, op, "dw", dw, "w", w)) ||
      (st = scl__check_vector(ctx, op, "db", db, m)))
    return st;
  const scl_named_tensor args[] = {{"dx", dx}, {"dw", dw}, {"db", db}, {"x", x}, {"w", w}, {"dy", dy}};
  if ((st = scl__check_disjoint(ctx, op, args, 3, 6))) return st;

  if (dx)
    st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, n, k, m, 1.0f, dy->buffer, dy->offset, m, w->buffer, w->offset, k,
                   0.0f, dx->buffer, dx->offset, k);
  if (st == SCL_OK && dw)
    st = scl__gemm(ctx, SCL_TRANS, SCL_NO_TRANS, m, k, n, 1.0f, dy->buffer, dy->offset, m, x->buffer, x->offset, k,
                   0.0f, dw->buffer, dw->offset, k);
  if (st == SCL_OK && db) st = scl__bias_grad(ctx, dy, m, db);
  return st;
}
