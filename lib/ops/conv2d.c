/* 2-D convolution (cross-correlation, NCHW, weights KCRS) as im2col + GEMM through CLBlast.

   Layout. A chunk of nb images becomes columns [nb][CRS][PQ] in ONE CLBlast im2col call over
   nb·C channels (im2col treats channels independently, so more images are just more channels).
   Swapping the two outer axes gives colT [CRS][nb·PQ], and then ONE GEMM covers the chunk:
     forward       yT [K][nb·PQ]     = w [K][CRS] · colT           y  = swap(yT) + b (one kernel)
     backward dx   dcolT [CRS][nb·PQ] = wᵀ · dyT                   dx = col2im(swap(dcolT))
     backward dw   dw [K][CRS]       = Σ_chunks dyT · colTᵀ        (inner dimension nb·PQ)
   with dyT [K][nb·PQ] = swap(dy). A single image needs no swap (both layouts are the same).
   Why: measured on PoCL (2-core CPU, `spherecl bench ops` shapes, batch 16), one large GEMM with
   the tuned Xgemm parameters of bench/README.md runs at 50-55 GFLOP/s for the deep layers against
   21-30 for a strided-batched GEMM per image (stride-0 weights), and dw at 50 against 13-15 for
   per-image GEMMs accumulated with beta = 1. With CLBlast's untuned defaults the batched form is up
   to 1.4x faster on some layers, but tuning is what matters on PoCL and GPUs favour the large GEMM.

   Workspaces: slot 0 holds col or dcolT [CRS·nb·PQ]; slot 1 holds yT or dyT [K·nb·PQ] followed by
   colT or dcol [CRS·nb·PQ]. nb is the whole batch when both fit in SCL_CONV_WORKSPACE_CAP, else
   the batch runs in chunks. */
#include "ops/bias.h"

#include <stdio.h>

#define SCL_CONV_WORKSPACE_CAP ((size_t)256 << 20) /* bytes, both slots together */

/* Sizes of one convolution, all in elements. */
typedef struct {
  size_t n, c, h, w;      /* x */
  size_t k, r, s;         /* weights */
  size_t p, q;            /* output */
  size_t sh, sw, ph, pw;  /* strides, pads */
  size_t crs, pq, chw;    /* derived */
} conv_shape;

/* The workspace of one call: nb images per chunk and the three regions the header names. */
typedef struct {
  size_t nb;
  scl_region col;   /* slot 0: col / dcolT */
  scl_region t_k;   /* slot 1: yT / dyT */
  scl_region t_crs; /* slot 1, after t_k: colT / dcol */
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

/* Picks the chunk size and gets the workspaces (see the header). */
static scl_status get_work(scl_context ctx, const conv_shape *g, conv_work *ws) {
  size_t slot0 = g->crs * g->pq * sizeof(float), slot1 = (g->k + g->crs) * g->pq * sizeof(float); /* per image */
  cl_ulong max_alloc = 0;
  if (clGetDeviceInfo(ctx->device, CL_DEVICE_MAX_MEM_ALLOC_SIZE, sizeof max_alloc, &max_alloc, NULL) != CL_SUCCESS)
    max_alloc = SCL_CONV_WORKSPACE_CAP;
  size_t nb = SCL_CONV_WORKSPACE_CAP / (slot0 + slot1);
  if (nb > max_alloc / slot1) nb = (size_t)(max_alloc / slot1);
  if (nb > g->n) nb = g->n;
  if (nb < 1) nb = 1; /* one image always runs, however large */
  cl_mem m0, m1;
  scl_status st = scl__workspace(ctx, 0, nb * slot0, &m0);
  if (st == SCL_OK) st = scl__workspace(ctx, 1, nb * slot1, &m1);
  if (st != SCL_OK) return st;
  ws->nb = nb;
  ws->col = (scl_region){m0, 0};
  ws->t_k = (scl_region){m1, 0};
  ws->t_crs = (scl_region){m1, g->k * nb * g->pq};
  return SCL_OK;
}

/* [na][nb][nc] -> [nb][na][nc] into scratch, or src itself when one of the outer axes is 1. */
static scl_status swapped(scl_context ctx, scl_region src, scl_region scratch, size_t na, size_t nb, size_t nc,
                          scl_region *out) {
  *out = src;
  if (na == 1 || nb == 1) return SCL_OK;
  *out = scratch;
  return scl__swap01(ctx, src, scratch, na, nb, nc, NULL);
}

/* Columns of images n0..n0+nb-1 into ws->col [nb][CRS][PQ]. */
static scl_status im2col(scl_context ctx, const conv_shape *g, const conv_work *ws, scl_tensor x, size_t n0,
                         size_t nb) {
  return scl__im2col(ctx, nb * g->c, g->h, g->w, g->r, g->s, g->ph, g->pw, g->sh, g->sw, x->buffer,
                     x->offset + n0 * g->chw, ws->col.mem, ws->col.off);
}

static scl_status forward_chunk(scl_context ctx, const conv_shape *g, const conv_work *ws, scl_tensor x,
                                scl_tensor w, scl_tensor b, scl_tensor y, size_t n0, size_t nb) {
  size_t cols = nb * g->pq;
  scl_region colT;
  scl_status st = im2col(ctx, g, ws, x, n0, nb);
  if (st == SCL_OK) st = swapped(ctx, ws->col, ws->t_crs, nb, g->crs, g->pq, &colT);
  if (st == SCL_OK)
    st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, g->k, cols, g->crs, 1.0f, w->buffer, w->offset, g->crs, colT.mem,
                   colT.off, cols, 0.0f, ws->t_k.mem, ws->t_k.off, cols);
  if (st == SCL_OK) st = scl__swap01(ctx, ws->t_k, scl__region_of(y, n0 * g->k * g->pq), g->k, nb, g->pq, b);
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

  conv_work ws;
  if ((st = get_work(ctx, &g, &ws))) return st;
  for (size_t n0 = 0; n0 < g.n && st == SCL_OK; n0 += ws.nb) {
    size_t nb = g.n - n0 < ws.nb ? g.n - n0 : ws.nb;
    st = forward_chunk(ctx, &g, &ws, x, w, b, y, n0, nb);
  }
  return st;
}

/* dx and dw of images n0..n0+nb-1 (dw accumulates over chunks after the first). */
static scl_status backward_chunk(scl_context ctx, const conv_shape *g, const conv_work *ws, scl_tensor x,
                                 scl_tensor w, scl_tensor dy, scl_tensor dx, scl_tensor dw, size_t n0, size_t nb) {
  size_t cols = nb * g->pq;
  scl_region dyT, dcol, colT;
  scl_status st = swapped(ctx, scl__region_of(dy, n0 * g->k * g->pq), ws->t_k, nb, g->k, g->pq, &dyT);
  if (st == SCL_OK && dx) {
    st = scl__gemm(ctx, SCL_TRANS, SCL_NO_TRANS, g->crs, cols, g->k, 1.0f, w->buffer, w->offset, g->crs, dyT.mem,
                   dyT.off, cols, 0.0f, ws->col.mem, ws->col.off, cols);
    if (st == SCL_OK) st = swapped(ctx, ws->col, ws->t_crs, g->crs, nb, g->pq, &dcol);
    if (st == SCL_OK) /* adds into dx, which the caller zeroed */
      st = scl__col2im(ctx, nb * g->c, g->h, g->w, g->r, g->s, g->ph, g->pw, g->sh, g->sw, dcol.mem, dcol.off,
                       dx->buffer, dx->offset + n0 * g->chw);
  }
  if (st == SCL_OK && dw) {
    st = im2col(ctx, g, ws, x, n0, nb);
    if (st == SCL_OK) st = swapped(ctx, ws->col, ws->t_crs, nb, g->crs, g->pq, &colT);
    if (st == SCL_OK)
      st = scl__gemm(ctx, SCL_NO_TRANS, SCL_TRANS, g->k, g->crs, cols, 1.0f, dyT.mem, dyT.off, cols, colT.mem,
                     colT.off, cols, n0 ? 1.0f : 0.0f, dw->buffer, dw->offset, g->crs);
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
  if (!dx && !dw) return SCL_OK;
  if (dx && (st = scl_tensor_fill(dx, 0.0f))) return st; /* col2im adds into it */
  conv_work ws;
  if ((st = get_work(ctx, &g, &ws))) return st;
  for (size_t n0 = 0; n0 < g.n && st == SCL_OK; n0 += ws.nb) {
    size_t nb = g.n - n0 < ws.nb ? g.n - n0 : ws.nb;
    st = backward_chunk(ctx, &g, &ws, x, w, dy, dx, dw, n0, nb);
  }
  return st;
}
