/* 3x3 stride-1 convolutions by Winograd F(2x2, 3x3) (kernels/winograd.cl has the transforms).
   Per chunk of nb images, with T = nb·ceil(P/2)·ceil(Q/2) output tiles padded to ld columns:
     U = filter transform [16][K][C]  (once per call)
     V = input transform  [16][C][ld]
     M_ξ [K][ld] = U_ξ · V_ξ          (16 GEMMs, each row-major and untransposed: no copies)
     y = output transform of M (+ bias)
   Backward filter: dU_ξ [K][C] = Σ_chunks dM_ξ · Vᵀ_ξ with dM the transform of dy's tiles and V
   laid out [ld][C], then dw = Gᵀ·dU·G.
   2.25x fewer multiplications than im2col + GEMM and a 4x rather than 9x expansion of the input.
   Backward data is the same convolution of dy with the flipped, transposed filter and pad 2 - pad
   (conv2d.c calls it with flip set). Slices start at multiples of 64 floats, so that scl__gemm can
   hand CLBlast each one as a sub-buffer at offset 0.
   Workspaces: SCL_WS_CONV_WT holds U (dU), SCL_WS_CONV_COL holds V, SCL_WS_CONV_T holds M (dM). */
#include "ops/conv2d.h"

#define SLICE_ALIGN 64 /* floats */

int scl__winograd_applies(scl_context ctx, const conv_shape *g) {
  return ctx->winograd && g->r == 3 && g->s == 3 && g->sh == 1 && g->sw == 1 && g->ph <= 2 && g->pw <= 2;
}

scl_status scl__winograd_forward(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor w, int flip,
                                 scl_tensor b, scl_tensor y) {
  size_t tp_n = (g->p + 1) / 2, tq_n = (g->q + 1) / 2, per_img = tp_n * tq_n;
  size_t nb = scl__conv_chunk(ctx, g, 16 * (g->c + g->k) * per_img * sizeof(float));
  size_t ld_max = scl__round_up(nb * per_img, ctx->gemm_tile);
  size_t u_stride = scl__round_up(g->k * g->c, SLICE_ALIGN);
  size_t v_stride = scl__round_up(g->c * ld_max, SLICE_ALIGN), m_stride = scl__round_up(g->k * ld_max, SLICE_ALIGN);
  cl_mem u, v, m;
  scl_status st = scl__workspace(ctx, SCL_WS_CONV_WT, 16 * u_stride * sizeof(float), &u);
  if (st == SCL_OK) st = scl__workspace(ctx, SCL_WS_CONV_COL, 16 * v_stride * sizeof(float), &v);
  if (st == SCL_OK) st = scl__workspace(ctx, SCL_WS_CONV_T, 16 * m_stride * sizeof(float), &m);
  if (st == SCL_OK)
    st = SCL_LAUNCH(ctx, "winograd", "wino_filter", g->k * g->c, 0, SCL_TENSOR(w), SCL_MEM(u), SCL_UINT(g->k),
                    SCL_UINT(g->c), SCL_UINT(u_stride), SCL_UINT(flip));
  scl_region bias = b ? scl__region_of(b, 0) : (scl_region){u, 0};
  for (size_t n0 = 0; n0 < g->n && st == SCL_OK; n0 += nb) {
    size_t nbc = g->n - n0 < nb ? g->n - n0 : nb, tiles = nbc * per_img, ld = scl__round_up(tiles, ctx->gemm_tile);
    st = SCL_LAUNCH(ctx, "winograd", "wino_input", g->c * ld, 0, SCL_MEM(x->buffer), SCL_UINT(x->offset + n0 * g->chw),
                    SCL_MEM(v), SCL_UINT(g->c), SCL_UINT(g->h), SCL_UINT(g->w), SCL_UINT(g->ph), SCL_UINT(g->pw),
                    SCL_UINT(tp_n), SCL_UINT(tq_n), SCL_UINT(tiles), SCL_UINT(ld), SCL_UINT(v_stride), SCL_UINT(0));
    for (size_t xi = 0; xi < 16 && st == SCL_OK; xi++)
      st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, g->k, ld, g->c, 1.0f, u, xi * u_stride, g->c, v, xi * v_stride,
                     ld, 0.0f, m, xi * m_stride, ld);
    if (st == SCL_OK)
      st = SCL_LAUNCH(ctx, "winograd", "wino_output", g->k * tiles, 0, SCL_MEM(m), SCL_MEM(y->buffer),
                      SCL_UINT(y->offset + n0 * g->k * g->pq), SCL_UINT(g->k), SCL_UINT(g->p), SCL_UINT(g->q),
                      SCL_UINT(tp_n), SCL_UINT(tq_n), SCL_UINT(tiles), SCL_UINT(ld), SCL_UINT(m_stride),
                      SCL_MEM(bias.mem), SCL_UINT(bias.off), SCL_UINT(b != NULL));
  }
  return st;
}

scl_status scl__winograd_filter_grad(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor dy,
                                     scl_tensor dw) {
  size_t tp_n = (g->p + 1) / 2, tq_n = (g->q + 1) / 2, per_img = tp_n * tq_n;
  size_t nb = scl__conv_chunk(ctx, g, 16 * (g->c + g->k) * per_img * sizeof(float));
  size_t ld_max = scl__round_up(nb * per_img, ctx->gemm_tile);
  size_t u_stride = scl__round_up(g->k * g->c, SLICE_ALIGN);
  size_t v_stride = scl__round_up(g->c * ld_max, SLICE_ALIGN), m_stride = scl__round_up(g->k * ld_max, SLICE_ALIGN);
  cl_mem du, v, dm;
  scl_status st = scl__workspace(ctx, SCL_WS_CONV_WT, 16 * u_stride * sizeof(float), &du);
  if (st == SCL_OK) st = scl__workspace(ctx, SCL_WS_CONV_COL, 16 * v_stride * sizeof(float), &v);
  if (st == SCL_OK) st = scl__workspace(ctx, SCL_WS_CONV_T, 16 * m_stride * sizeof(float), &dm);
  for (size_t n0 = 0; n0 < g->n && st == SCL_OK; n0 += nb) {
    size_t nbc = g->n - n0 < nb ? g->n - n0 : nb, tiles = nbc * per_img, ld = scl__round_up(tiles, ctx->gemm_tile);
    st = SCL_LAUNCH(ctx, "winograd", "wino_input", g->c * ld, 0, SCL_MEM(x->buffer), SCL_UINT(x->offset + n0 * g->chw),
                    SCL_MEM(v), SCL_UINT(g->c), SCL_UINT(g->h), SCL_UINT(g->w), SCL_UINT(g->ph), SCL_UINT(g->pw),
                    SCL_UINT(tp_n), SCL_UINT(tq_n), SCL_UINT(tiles), SCL_UINT(ld), SCL_UINT(v_stride), SCL_UINT(1));
    if (st == SCL_OK)
      st = SCL_LAUNCH(ctx, "winograd", "wino_output_grad", g->k * ld, 0, SCL_MEM(dy->buffer),
                      SCL_UINT(dy->offset + n0 * g->k * g->pq), SCL_MEM(dm), SCL_UINT(g->k), SCL_UINT(g->p),
                      SCL_UINT(g->q), SCL_UINT(tp_n), SCL_UINT(tq_n), SCL_UINT(tiles), SCL_UINT(ld), SCL_UINT(m_stride));
    /* dU_ξ [K][C] (+)= dM_ξ [K][ld] · Vᵀ_ξ [ld][C] */
    for (size_t xi = 0; xi < 16 && st == SCL_OK; xi++)
      st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, g->k, g->c, ld, 1.0f, dm, xi * m_stride, ld, v, xi * v_stride,
                     g->c, n0 ? 1.0f : 0.0f, du, xi * u_stride, g->c);
  }
  if (st == SCL_OK)
    st = SCL_LAUNCH(ctx, "winograd", "wino_filter_grad", g->k * g->c, 0, SCL_MEM(du), SCL_UINT(u_stride),
                    SCL_TENSOR(dw), SCL_UINT(g->k * g->c));
  return st;
}
