/* 2-D convolution (cross-correlation, NCHW, weights KCRS) as im2col + GEMM through CLBlast.

   Layout. The columns of a chunk of nb images form one matrix (rows: filter taps crs, CRS of them;
   columns: output positions of all nb images, cols = nb·PQ), so that ONE GEMM covers the chunk:
     forward       yT   [K][ld]   = w  [K][CRS] · col  [CRS][ld]     y = swap(yT) + b (one kernel)
     backward dx   dcol [CRS][ld] = wT [CRS][K] · dyT  [K][ld]       dx = col2im(dcol)
     backward dw   dw   [K][CRS]  = dyT [K][ld] · colT [ld][CRS]     (colT: im2col in the other layout)
   with dyT = swap(dy) and wT the transposed weights. Every GEMM is row-major and untransposed, the
   layout of CLBlast's GEMMK=1 Xgemm kernel (the kind `spherecl tune` picks for CPUs), and ld is
   cols rounded up to the tuned tile (ctx->gemm_tile; the padding columns are zeros), so that with
   such a tuning no GEMM needs CLBlast's copy or transpose kernels (tests/test_conv2d.c checks it
   at SphereFace-20's shapes). Our own im2col writes either layout directly and col2im gathers, so
   no axis swap of the columns is needed. Why one GEMM per chunk: measured on PoCL (2-core CPU,
   batch 16), one large GEMM ran the deep layers at 50-55 GFLOP/s against 21-30 for a
   strided-batched GEMM per image.

   Workspaces: SCL_WS_CONV_COL holds col, colT or dcol; SCL_WS_CONV_T holds yT or dyT;
   SCL_WS_CONV_WT holds wT. nb is the whole batch when they fit in SCL_CONV_WORKSPACE_CAP, else
   the batch runs in chunks. */
#include "ops/conv2d.h"

#include <stdio.h>

/* The workspace of one call: nb images per chunk and where the GEMM operands live. */
typedef struct {
  size_t nb;
  size_t crs_pad;   /* CRS rounded up to the tile: the rows of wT and dcol */
  cl_mem col, t_k;  /* SCL_WS_CONV_COL, SCL_WS_CONV_T */
} conv_work;

static void describe(char *buf, size_t size, scl_tensor x, scl_tensor w, const scl_conv2d_params *p) {
  char xs[96], ws[96];
  scl__shape_string(x, xs, sizeof xs);
  scl__shape_string(w, ws, sizeof ws);
  snprintf(buf, size, "x %s, w %s, stride %dx%d, pad %dx%d", xs, ws, p->stride_h, p->stride_w, p->pad_h, p->pad_w);
}

/* Output size along one axis, or 0 when the padded input is smaller than the filter. */
static size_t out_size(size_t in, size_t pad, size_t filter, size_t stride) {
  return in + 2 * pad < filter ? 0 : (in + 2 * pad - filter) / stride + 1;
}

/* Checks params, x and w, and computes the shape; out ("y" or "dy") must be [N,K,P,Q]. */
static scl_status check_conv(scl_context ctx, const char *op, const scl_conv2d_params *p, scl_tensor x,
                             scl_tensor w, const char *out_name, scl_tensor out, conv_shape *g) {
  scl_status st;
  if (!p) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: params is NULL", op);
  if ((st = scl__check_tensor(ctx, op, "x", x, SCL_F32)) || (st = scl__check_tensor(ctx, op, "w", w, SCL_F32)) ||
      (st = scl__check_tensor(ctx, op, out_name, out, SCL_F32)))
    return st;
  if (p->stride_h < 1 || p->stride_w < 1 || p->pad_h < 0 || p->pad_w < 0)
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: strides must be >= 1 and pads >= 0 (stride %dx%d, pad %dx%d)",
                     op, p->stride_h, p->stride_w, p->pad_h, p->pad_w);
  const size_t any4[4] = {0, 0, 0, 0};
  if ((st = scl__check_shape(ctx, op, "x", x, 4, any4)) || (st = scl__check_shape(ctx, op, "w", w, 4, any4)))
    return st;
  char what[256];
  describe(what, sizeof what, x, w, p);
  if (w->dims[1] != x->dims[1])
    return scl__fail(ctx, SCL_ERR_SHAPE, "%s: w has %zu input channels, x has %zu (%s)", op, w->dims[1], x->dims[1],
                     what);
  *g = (conv_shape){.n = x->dims[0], .c = x->dims[1], .h = x->dims[2], .w = x->dims[3], .k = w->dims[0],
                    .r = w->dims[2], .s = w->dims[3], .sh = (size_t)p->stride_h, .sw = (size_t)p->stride_w,
                    .ph = (size_t)p->pad_h, .pw = (size_t)p->pad_w};
  g->p = out_size(g->h, g->ph, g->r, g->sh);
  g->q = out_size(g->w, g->pw, g->s, g->sw);
  if (g->p < 1 || g->q < 1)
    return scl__fail(ctx, SCL_ERR_SHAPE, "%s: the padded input is smaller than the filter, no output (%s)", op, what);
  g->crs = g->c * g->r * g->s;
  g->pq = g->p * g->q;
  g->chw = g->c * g->h * g->w;
  /* One image's workspace is indexed with 32-bit offsets in the kernels. */
  if ((g->k + 2 * g->crs) * g->pq > UINT32_MAX / 2)
    return scl__fail(ctx, SCL_ERR_SHAPE, "%s: one image's im2col columns exceed 2^31 elements (%s)", op, what);
  const size_t want[4] = {g->n, g->k, g->p, g->q};
  int ok = out->ndim == 4;
  for (int i = 0; ok && i < 4; i++) ok = out->dims[i] == want[i];
  if (!ok) {
    char got[96];
    scl__shape_string(out, got, sizeof got);
    return scl__fail(ctx, SCL_ERR_SHAPE, "%s: %s has shape %s, expected [%zu,%zu,%zu,%zu] (%s)", op, out_name, got,
                     want[0], want[1], want[2], want[3], what);
  }
  return SCL_OK;
}

/* The padded column count of a chunk of nb images. */
static size_t ld_of(scl_context ctx, const conv_shape *g, size_t nb) { return scl__gemm_ld(ctx, nb * g->pq); }

size_t scl__conv_chunk(scl_context ctx, const conv_shape *g, size_t per_image) {
  size_t max_alloc = ctx->max_alloc ? ctx->max_alloc : SCL_CONV_WORKSPACE_CAP;
  size_t nb = SCL_CONV_WORKSPACE_CAP / per_image;
  if (nb > g->n) nb = g->n;
  while (nb > 1 && nb * per_image > max_alloc) nb /= 2; /* the largest workspace is less than all of them */
  return nb < 1 ? 1 : nb; /* one image always runs, however large */
}

/* Picks the chunk size and gets the workspaces (see the header). */
static scl_status get_work(scl_context ctx, const conv_shape *g, conv_work *ws) {
  ws->crs_pad = scl__round_up(g->crs, ctx->gemm_tile);
  size_t nb = scl__conv_chunk(ctx, g, (ws->crs_pad + g->k) * g->pq * sizeof(float));
  size_t ld = scl__gemm_ld_max(ctx, nb * g->pq); /* every chunk's ld_of */
  scl_status st = scl__workspace(ctx, SCL_WS_CONV_COL, ws->crs_pad * ld * sizeof(float), &ws->col);
  if (st == SCL_OK) st = scl__workspace(ctx, SCL_WS_CONV_T, g->k * ld * sizeof(float), &ws->t_k);
  ws->nb = nb;
  return st;
}

#define CONV_ARGS(g)                                                                               \
  SCL_UINT((g)->c), SCL_UINT((g)->h), SCL_UINT((g)->w), SCL_UINT((g)->r), SCL_UINT((g)->s), SCL_UINT((g)->p), \
      SCL_UINT((g)->q), SCL_UINT((g)->sh), SCL_UINT((g)->sw), SCL_UINT((g)->ph), SCL_UINT((g)->pw)

/* Columns of images n0..n0+nb-1 into ws->col: [CRS][ld] (by_tap) or [ld][CRS], padding zeroed. */
static scl_status im2col(scl_context ctx, const conv_shape *g, const conv_work *ws, scl_tensor x, size_t n0,
                         size_t nb, int by_tap) {
  size_t ld = ld_of(ctx, g, nb), cols = nb * g->pq;
  scl_arg x_arg[2] = {SCL_MEM(x->buffer), SCL_UINT(x->offset + n0 * g->chw)};
  scl_region col = {ws->col, 0};
  if (by_tap) {
    scl_status st = SCL_LAUNCH(ctx, "im2col", "im2col_by_tap", g->crs * nb * g->p, 0, x_arg[0], x_arg[1],
                               SCL_MEM(ws->col), SCL_UINT(0), CONV_ARGS(g), SCL_UINT(nb), SCL_UINT(ld));
    return st ? st : scl__zero_tail(ctx, col, g->crs, cols, ld);
  }
  scl_status st = SCL_LAUNCH(ctx, "im2col", "im2col_by_pos", cols * g->c, 0, x_arg[0], x_arg[1], SCL_MEM(ws->col),
                             SCL_UINT(0), CONV_ARGS(g), SCL_UINT(nb));
  return st ? st : scl__zero_tail(ctx, col, 1, cols * g->crs, ld * g->crs);
}

static scl_status forward_chunk(scl_context ctx, const conv_shape *g, const conv_work *ws, scl_tensor x,
                                scl_tensor w, scl_tensor b, scl_tensor y, size_t n0, size_t nb) {
  size_t ld = ld_of(ctx, g, nb);
  scl_status st = im2col(ctx, g, ws, x, n0, nb, 1);
  if (st == SCL_OK)
    st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, g->k, ld, g->crs, 1.0f, w->buffer, w->offset, g->crs, ws->col, 0,
                   ld, 0.0f, ws->t_k, 0, ld);
  /* yT [K][nb][PQ] (rows ld apart) -> y [nb][K][PQ], adding the bias on the way */
  if (st == SCL_OK)
    st = scl__swap01(ctx, (scl_region){ws->t_k, 0}, ld, scl__region_of(y, n0 * g->k * g->pq), g->k * g->pq, g->k, nb,
                     g->pq, b);
  return st;
}

scl_status scl_conv2d_forward(scl_context ctx, const scl_conv2d_params *p, scl_tensor x, scl_tensor w,
                              scl_tensor b, scl_tensor y) {
  static const char op[] = "scl_conv2d_forward";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  conv_shape g;
  scl_status st = check_conv(ctx, op, p, x, w, "y", y, &g);
  if (st != SCL_OK) return st;
  if ((st = scl__check_vector(ctx, op, "b", b, g.k))) return st;
  const scl_named_tensor args[] = {{"y", y}, {"x", x}, {"w", w}, {"b", b}};
  if ((st = scl__check_disjoint(ctx, op, args, 1, 4))) return st;

  if (scl__winograd_applies(ctx, &g)) return scl__winograd_forward(ctx, &g, x, w, 0, b, y);
  if (scl__conv_narrow_applies(ctx, &g)) return scl__conv_narrow_forward(ctx, &g, x, w, b, y);
  if (scl__conv_direct_applies(ctx, &g)) return scl__conv_direct_forward(ctx, &g, x, w, b, y);
  conv_work ws;
  if ((st = get_work(ctx, &g, &ws))) return st;
  for (size_t n0 = 0; n0 < g.n && st == SCL_OK; n0 += ws.nb) {
    size_t nb = g.n - n0 < ws.nb ? g.n - n0 : ws.nb;
    st = forward_chunk(ctx, &g, &ws, x, w, b, y, n0, nb);
  }
  return st;
}

/* dx and dw of images n0..n0+nb-1 (dw accumulates over chunks after the first); wT is the
   transposed weights [crs_pad][K] when dx is wanted. */
static scl_status backward_chunk(scl_context ctx, const conv_shape *g, const conv_work *ws, scl_tensor x,
                                 cl_mem wT, scl_tensor dy, scl_tensor dx, scl_tensor dw, size_t n0, size_t nb) {
  size_t ld = ld_of(ctx, g, nb), cols = nb * g->pq;
  scl_region dyT = {ws->t_k, 0};
  /* dy [nb][K][PQ] -> dyT [K][ld], padding columns zero (they are a GEMM's inner dimension) */
  scl_status st = scl__swap01(ctx, scl__region_of(dy, n0 * g->k * g->pq), g->k * g->pq, dyT, ld, nb, g->k, g->pq,
                              NULL);
  if (st == SCL_OK) st = scl__zero_tail(ctx, dyT, g->k, cols, ld);
  if (st == SCL_OK && dx) {
    st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, ws->crs_pad, ld, g->k, 1.0f, wT, 0, g->k, ws->t_k, 0, ld, 0.0f,
                   ws->col, 0, ld);
    if (st == SCL_OK)
      st = SCL_LAUNCH(ctx, "im2col", "col2im", nb * g->c * g->h, 0, SCL_MEM(ws->col),
                      SCL_UINT(0), SCL_MEM(dx->buffer), SCL_UINT(dx->offset + n0 * g->chw), CONV_ARGS(g), SCL_UINT(nb),
                      SCL_UINT(ld));
  }
  if (st == SCL_OK && dw) {
    st = im2col(ctx, g, ws, x, n0, nb, 0);
    if (st == SCL_OK)
      st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, g->k, g->crs, ld, 1.0f, ws->t_k, 0, ld, ws->col, 0, g->crs,
                     n0 ? 1.0f : 0.0f, dw->buffer, dw->offset, g->crs);
  }
  return st;
}

scl_status scl_conv2d_backward(scl_context ctx, const scl_conv2d_params *p, scl_tensor x, scl_tensor w,
                               scl_tensor dy, scl_tensor dx, scl_tensor dw, scl_tensor db) {
  static const char op[] = "scl_conv2d_backward";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  conv_shape g;
  scl_status st = check_conv(ctx, op, p, x, w, "dy", dy, &g);
  if (st != SCL_OK) return st;
  if ((st = scl__check_grad(ctx, op, "dx", dx, "x", x)) || (st = scl__check_grad(ctx, op, "dw", dw, "w", w)) ||
      (st = scl__check_vector(ctx, op, "db", db, g.k)))
    return st;
  const scl_named_tensor args[] = {{"dx", dx}, {"dw", dw}, {"db", db}, {"x", x}, {"w", w}, {"dy", dy}};
  if ((st = scl__check_disjoint(ctx, op, args, 3, 6))) return st;

  if (db && (st = scl__bias_grad(ctx, dy, g.k, db))) return st;
  if ((dx || dw) && scl__winograd_applies(ctx, &g)) {
    /* dx = dy convolved with the flipped, transposed filter, pad 2 - pad: the same output size */
    conv_shape gd = {.n = g.n, .c = g.k, .h = g.p, .w = g.q, .k = g.c, .r = 3, .s = 3, .p = g.h, .q = g.w,
                     .sh = 1, .sw = 1, .ph = 2 - g.ph, .pw = 2 - g.pw};
    gd.crs = gd.c * 9, gd.pq = gd.p * gd.q, gd.chw = gd.c * gd.h * gd.w;
    if (dx && (st = scl__winograd_forward(ctx, &gd, dy, w, 1, NULL, dx))) return st;
    if (dw && (st = scl__winograd_filter_grad(ctx, &g, x, dy, dw))) return st;
    return SCL_OK;
  }
  if (!dx && !dw) return SCL_OK;
  if (dw && scl__conv_narrow_applies(ctx, &g)) {
    if ((st = scl__conv_narrow_filter_grad(ctx, &g, x, dy, dw)) || !dx) return st;
    dw = NULL; /* done: dx alone by col2im below */
  } else if (scl__conv_direct_applies(ctx, &g)) {
    scl_tensor dx_direct = scl__conv_direct_takes_dx(ctx, &g) ? dx : NULL;
    if ((st = scl__conv_direct_backward(ctx, &g, x, w, dy, dx_direct, dw)) || dx_direct || !dx) return st;
    dw = NULL; /* done: dx alone by col2im below */
  }
  conv_work ws;
  if ((st = get_work(ctx, &g, &ws))) return st;
  cl_mem wT = NULL;
  if (dx) { /* wT [crs_pad][K]: w transposed, then zero rows up to crs_pad */
    st = scl__workspace(ctx, SCL_WS_CONV_WT, ws.crs_pad * g.k * sizeof(float), &wT);
    if (st == SCL_OK) st = scl__transpose(ctx, scl__region_of(w, 0), (scl_region){wT, 0}, g.k, g.k, g.crs);
    if (st == SCL_OK) st = scl__zero_tail(ctx, (scl_region){wT, 0}, 1, g.crs * g.k, ws.crs_pad * g.k);
  }
  for (size_t n0 = 0; n0 < g.n && st == SCL_OK; n0 += ws.nb) {
    size_t nb = g.n - n0 < ws.nb ? g.n - n0 : ws.nb;
    st = backward_chunk(ctx, &g, &ws, x, wT, dy, dx, dw, n0, nb);
  }
  return st;
}
