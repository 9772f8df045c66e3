/* The margin layer (SPEC §5): A-Softmax (SphereFace) and the combined margin (CosFace, ArcFace,
   NormFace and their mixes) over features x [N,K], class weights w [M,K] (used as given: the caller
   normalises them) and labels I32 [N].
     forward   logits = x·wᵀ (one GEMM into logits), then kernels/margin.cl's margin_forward
               rewrites each sample's row in place: the target logit (A-Softmax), or every logit
               (combined: s·cosines, the target with the margin).
     backward  margin_grad_prep turns dlogits into gp [N,M] and per-sample scalars beta [N]
               (workspace slot SCL_WS_MARGIN) such that
                 dx = gp·W + beta ⊙ x   (one GEMM, then margin_add_rows)
                 dw = gpᵀ·X             (one GEMM; A-Softmax CAFFE uses dlogitsᵀ·X, the
                                         reference's plain inner-product rule)
               margin.cl derives gp and beta for each mode (the combined margin's derivation is
               written out there).
   SCL_MARGIN_NONE and A-Softmax m = 1 are a plain inner product: logits = x·wᵀ, dx = g·W,
   dw = gᵀ·X, with no per-sample step. A zero feature row then keeps dx = g·W, the true gradient of
   a linear map, as the reference's m = 1 layer does: SPEC §5's zero-row rule is applied where |x|
   enters the formula (A-Softmax m >= 2, combined), where a sample whose fp32 |x| is 0 (every
   |x_k| below about 1e-19, whose squares underflow, counts as 0) gets zero logits and zero
   gradients. The labels are read to the host and range-checked before anything is enqueued, so
   both calls wait for the work that produces the labels. */
#include "ops/bias.h" /* scl__gemm_xwt, and the argument checks */

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

/* Workspace slot SCL_WS_MARGIN holds gp [N,M] followed by beta [N] during scl_margin_backward. */

/* margin.cl's modes. */
enum { MODE_CAFFE = 0, MODE_EXACT = 1, MODE_COMBINED = 2 };

float scl_asoftmax_lambda(float base, float gamma, float power, float lambda_min, long iteration) {
  double v = (double)base * pow(1.0 + (double)gamma * (double)iteration, -(double)power);
  return v > (double)lambda_min ? (float)v : lambda_min; /* a NaN schedule gives lambda_min */
}

/* ---- argument checks ------------------------------------------------------------------------- */

static scl_status check_params(scl_context ctx, const char *op, const scl_margin_params *p) {
  if (!p) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: params is NULL", op);
  switch (p->type) {
  case SCL_MARGIN_NONE:
    return SCL_OK;
  case SCL_MARGIN_ASOFTMAX:
    if (p->m < 1 || p->m > 4)
      return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: A-Softmax margin m = %d, expected 1..4", op, p->m);
    if (!(p->lambda >= 0.0f) || isinf(p->lambda))
      return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: lambda = %g, expected a finite value >= 0", op,
                       (double)p->lambda);
    if (p->grad != SCL_GRAD_CAFFE && p->grad != SCL_GRAD_EXACT)
      return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: grad = %d is not an scl_grad_mode", op, (int)p->grad);
    return SCL_OK;
  case SCL_MARGIN_COMBINED:
    if (!(p->s > 0.0f) || isinf(p->s))
      return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: combined margin s = %g, expected a finite value > 0", op,
                       (double)p->s);
    if (!isfinite(p->m1) || !isfinite(p->m2) || !isfinite(p->m3))
      return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: combined margin m1, m2, m3 = %g, %g, %g must be finite", op,
                       (double)p->m1, (double)p->m2, (double)p->m3);
    return SCL_OK;
  }
  return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: type = %d is not an scl_margin_type", op, (int)p->type);
}

/* x [N,K] and w [M,K] F32, labels I32 [N], `rows_name` F32 [N,M] (logits or dlogits); the kernels
   index with 32-bit integers. */
static scl_status check_inputs(scl_context ctx, const char *op, scl_tensor x, scl_tensor w, scl_tensor labels,
                               const char *rows_name, scl_tensor rows) {
  static const size_t any[2] = {0, 0};
  scl_status st;
  if ((st = scl__check_tensor(ctx, op, "x", x, SCL_F32)) || (st = scl__check_shape(ctx, op, "x", x, 2, any))) return st;
  const size_t n = x->dims[0], k = x->dims[1], wdims[2] = {0, k};
  if ((st = scl__check_tensor(ctx, op, "w", w, SCL_F32)) || (st = scl__check_shape(ctx, op, "w", w, 2, wdims)) ||
      (st = scl__check_tensor(ctx, op, "labels", labels, SCL_I32)) ||
      (st = scl__check_shape(ctx, op, "labels", labels, 1, &n)))
    return st;
  const size_t m = w->dims[0], ndims[2] = {n, m};
  if ((st = scl__check_tensor(ctx, op, rows_name, rows, SCL_F32)) ||
      (st = scl__check_shape(ctx, op, rows_name, rows, 2, ndims)))
    return st;
  if (n * m > UINT32_MAX || n * k > UINT32_MAX || m * k > UINT32_MAX)
    return scl__fail(ctx, SCL_ERR_UNSUPPORTED, "%s: N·M, N·K and M·K (N %zu, K %zu, M %zu) must fit in 32 bits", op, n,
                     k, m);
  return SCL_OK;
}

/* ---- the work ---------------------------------------------------------------------------------- */

/* A plain inner product: no per-sample step (SCL_MARGIN_NONE, A-Softmax with m = 1). */
static int is_plain(const scl_margin_params *p) {
  return p->type == SCL_MARGIN_NONE || (p->type == SCL_MARGIN_ASOFTMAX && p->m == 1);
}

static unsigned mode_of(const scl_margin_params *p) {
  if (p->type == SCL_MARGIN_COMBINED) return MODE_COMBINED;
  return p->grad == SCL_GRAD_EXACT ? MODE_EXACT : MODE_CAFFE;
}

/* The kernels' shared trailing arguments: sizes, the margin, and the row reduction's local memory. */
#define MARGIN_ARGS(ctx, p, n, k, m)                                                                                   \
  SCL_UINT(n), SCL_UINT(k), SCL_UINT(m), SCL_UINT(mode_of(p)), SCL_INT((p)->m), SCL_FLOAT((p)->lambda),                \
      SCL_FLOAT((p)->s), SCL_FLOAT((p)->m1), SCL_FLOAT((p)->m2), SCL_FLOAT((p)->m3),                                   \
      SCL_LOCAL(scl__group_size(ctx) * 2 * sizeof(float))

/* out [N,M] = x·wᵀ */
static scl_status gemm_xwt(scl_context ctx, scl_tensor x, scl_tensor w, scl_region out) {
  return scl__gemm_xwt(ctx, scl__region_of(x, 0), scl__region_of(w, 0), out, x->dims[0], w->dims[0], x->dims[1]);
}

/* dx [N,K] = g·W */
static scl_status gemm_gw(scl_context ctx, scl_region g, scl_tensor w, scl_tensor dx) {
  size_t n = dx->dims[0], k = dx->dims[1], m = w->dims[0];
  return scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, n, k, m, 1.0f, g.mem, g.off, m, w->buffer, w->offset, k, 0.0f,
                   dx->buffer, dx->offset, k);
}

/* dw [M,K] = gᵀ·X */
static scl_status gemm_gtx(scl_context ctx, scl_region g, scl_tensor x, scl_tensor dw) {
  size_t n = x->dims[0], k = x->dims[1], m = dw->dims[0];
  return scl__gemm(ctx, SCL_TRANS, SCL_NO_TRANS, m, k, n, 1.0f, g.mem, g.off, m, x->buffer, x->offset, k, 0.0f,
                   dw->buffer, dw->offset, k);
}

scl_status scl_margin_forward(scl_context ctx, const scl_margin_params *p, scl_tensor x, scl_tensor w,
                              scl_tensor labels, scl_tensor logits) {
  static const char op[] = "scl_margin_forward";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  scl_status st;
  if ((st = check_params(ctx, op, p)) || (st = check_inputs(ctx, op, x, w, labels, "logits", logits))) return st;
  const scl_named_tensor args[] = {{"logits", logits}, {"x", x}, {"w", w}, {"labels", labels}};
  if ((st = scl__check_disjoint(ctx, op, args, 1, 4)) || (st = scl__check_labels(ctx, op, labels, w->dims[0]))) return st;

  size_t n = x->dims[0], k = x->dims[1], m = w->dims[0];
  st = gemm_xwt(ctx, x, w, scl__region_of(logits, 0));
  if (st || is_plain(p)) return st;
  return SCL_LAUNCH(ctx, "margin", "margin_forward", n * scl__group_size(ctx), 0, SCL_TENSOR(x), SCL_TENSOR(w),
                    SCL_TENSOR(labels), SCL_TENSOR(logits), MARGIN_ARGS(ctx, p, n, k, m));
}

scl_status scl_margin_backward(scl_context ctx, const scl_margin_params *p, scl_tensor x, scl_tensor w,
                               scl_tensor labels, scl_tensor dlogits, scl_tensor dx, scl_tensor dw) {
  static const char op[] = "scl_margin_backward";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  scl_status st;
  if ((st = check_params(ctx, op, p)) || (st = check_inputs(ctx, op, x, w, labels, "dlogits", dlogits)) ||
      (st = scl__check_grad(ctx, op, "dx", dx, "x", x)) || (st = scl__check_grad(ctx, op, "dw", dw, "w", w)))
    return st;
  const scl_named_tensor args[] = {{"dx", dx}, {"dw", dw},         {"x", x},
                                   {"w", w},   {"labels", labels}, {"dlogits", dlogits}};
  if ((st = scl__check_disjoint(ctx, op, args, 2, 6)) || (st = scl__check_labels(ctx, op, labels, w->dims[0]))) return st;
  if (!dx && !dw) return SCL_OK;

  size_t n = x->dims[0], k = x->dims[1], m = w->dims[0];
  scl_region g = scl__region_of(dlogits, 0);
  int caffe_dw = p->type == SCL_MARGIN_ASOFTMAX && p->grad == SCL_GRAD_CAFFE;
  if (is_plain(p) || (caffe_dw && !dx)) {
    if (dx) st = gemm_gw(ctx, g, w, dx);
    if (st == SCL_OK && dw) st = gemm_gtx(ctx, g, x, dw);
    return st;
  }

  cl_mem ws;
  if ((st = scl__workspace(ctx, SCL_WS_MARGIN, (n * m + n) * sizeof(float), &ws))) return st;
  scl_region gp = {ws, 0}, beta = {ws, n * m};
  if (p->type == SCL_MARGIN_COMBINED) st = gemm_xwt(ctx, x, w, gp); /* the cosines' numerators, rewritten in place */
  if (st == SCL_OK)
    st = SCL_LAUNCH(ctx, "margin", "margin_grad_prep", n * scl__group_size(ctx), 0, SCL_TENSOR(x), SCL_TENSOR(w),
                    SCL_TENSOR(labels), SCL_TENSOR(dlogits), SCL_MEM(gp.mem), SCL_UINT(gp.off), SCL_MEM(beta.mem),
                    SCL_UINT(beta.off), MARGIN_ARGS(ctx, p, n, k, m));
  if (st == SCL_OK && dx) {
    st = gemm_gw(ctx, gp, w, dx);
    if (st == SCL_OK)
      st = SCL_LAUNCH(ctx, "margin", "margin_add_rows", n * k, 0, SCL_TENSOR(dx), SCL_TENSOR(x), SCL_MEM(beta.mem),
                      SCL_UINT(beta.off), SCL_UINT(n), SCL_UINT(k));
  }
  if (st == SCL_OK && dw) st = gemm_gtx(ctx, caffe_dw ? g : gp, x, dw);
  return st;
}
