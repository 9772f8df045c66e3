/* 3x3 stride-1 convolutions by Winograd F(m×m, 3×3), m = 2 or 4 (ctx->winograd; kernels/winograd.cl
   has the transforms). With α = m + 2, per chunk of nb images and T = nb·ceil(P/m)·ceil(Q/m) output
   tiles padded to ld columns:
     U = filter transform [α²][K][C]  (once per call)
     V = input transform  [α²][C][ld]
     M_ξ [K][ld] = U_ξ · V_ξ          (α² GEMMs, each row-major and untransposed: no copies)
     y = output transform of M (+ bias)
   Backward filter: dU_ξ [K][C] = Σ_chunks dM_ξ · Vᵀ_ξ with dM the transform of dy's tiles and V
   laid out [ld][C], then dw = Gᵀ·dU·G.
   F(2,3) does 2.25x fewer multiplications than im2col + GEMM and expands the input 4x rather than
   9x; F(4,3) 4x fewer and 2.25x, at a larger float32 error (tests/test_conv2d.c measures both).
   Backward data is the same convolution of dy with the flipped, transposed filter and pad 2 - pad
   (conv2d.c calls it with flip set). Slices start at multiples of 64 floats, so that scl__gemm can
   hand CLBlast each one as a sub-buffer at offset 0.
   Workspaces: SCL_WS_CONV_WT holds U (dU), SCL_WS_CONV_COL holds V, SCL_WS_CONV_T holds M (dM). */
#include "ops/conv2d.h"

#include <stdio.h>

#define SLICE_ALIGN 64 /* floats */

/* The sizes and workspaces one Winograd call shares between its kernels. */
typedef struct {
  size_t m, a2;          /* tile m, α² transform points */
  size_t tp_n, tq_n, per_img, nb;
  size_t u_stride, v_stride, m_stride;
  cl_mem u, v, mm;       /* SCL_WS_CONV_WT, SCL_WS_CONV_COL, SCL_WS_CONV_T */
  char kernel[32];
} wino_plan;

/* The tile of g: F(4,3) on outputs of at least 8x8, F(2,3) on smaller ones even when the context
   asks for 4. Why: on SphereFace-20's conv4.x (7x6 outputs) F(4,3) pads the output to 8x8 and
   leaves its 36 GEMMs 64 columns each; measured at batch 16 on the 2-core CPU, F(2,3) ran that
   layer's three passes in 92 ms against F(4,3)'s 114 ms, while F(4,3) won every larger layer. */
static size_t tile_m(scl_context ctx, const conv_shape *g) { return ctx->winograd == 4 && g->p >= 8 && g->q >= 8 ? 4 : 2; }

static scl_status plan(scl_context ctx, const conv_shape *g, wino_plan *w) {
  w->m = tile_m(ctx, g);
  w->a2 = (w->m + 2) * (w->m + 2);
  w->tp_n = (g->p + w->m - 1) / w->m, w->tq_n = (g->q + w->m - 1) / w->m, w->per_img = w->tp_n * w->tq_n;
  w->nb = scl__conv_chunk(ctx, g, w->a2 * (g->c + g->k) * w->per_img * sizeof(float));
  size_t ld_max = scl__gemm_ld_max(ctx, w->nb * w->per_img);
  w->u_stride = scl__round_up(g->k * g->c, SLICE_ALIGN);
  w->v_stride = scl__round_up(g->c * ld_max, SLICE_ALIGN), w->m_stride = scl__round_up(g->k * ld_max, SLICE_ALIGN);
  scl_status st = scl__workspace(ctx, SCL_WS_CONV_WT, w->a2 * w->u_stride * sizeof(float), &w->u);
  if (st == SCL_OK) st = scl__workspace(ctx, SCL_WS_CONV_COL, w->a2 * w->v_stride * sizeof(float), &w->v);
  if (st == SCL_OK) st = scl__workspace(ctx, SCL_WS_CONV_T, w->a2 * w->m_stride * sizeof(float), &w->mm);
  return st;
}

/* "wino4_input" for kernel "input" */
static const char *kname(wino_plan *w, const char *what) {
  snprintf(w->kernel, sizeof w->kernel, "wino%zu_%s", w->m, what);
  return w->kernel;
}

/* V of images n0.. (tiles of them, padded to ld): [α²][C][ld], or [α²][ld][C] with by_tile. */
static scl_status input_transform(scl_context ctx, const conv_shape *g, wino_plan *pl, scl_tensor x, size_t n0,
                                  size_t tiles, size_t ld, int by_tile) {
  return SCL_LAUNCH(ctx, "winograd", kname(pl, "input"), g->c * ld, 0, SCL_MEM(x->buffer),
                    SCL_UINT(x->offset + n0 * g->chw), SCL_MEM(pl->v), SCL_UINT(g->c), SCL_UINT(g->h), SCL_UINT(g->w),
                    SCL_UINT(g->ph), SCL_UINT(g->pw), SCL_UINT(pl->tp_n), SCL_UINT(pl->tq_n), SCL_UINT(tiles),
                    SCL_UINT(ld), SCL_UINT(pl->v_stride), SCL_UINT(by_tile));
}

int scl__winograd_applies(scl_context ctx, const conv_shape *g) {
  return (ctx->winograd == 2 || ctx->winograd == 4) && g->r == 3 && g->s == 3 && g->sh == 1 && g->sw == 1 &&
         g->ph <= 2 && g->pw <= 2 && !(g->c < ctx->winograd_min_c && scl__conv_direct_on(ctx));
}

scl_status scl__winograd_forward(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor w, int flip,
                                 scl_tensor b, scl_tensor y) {
  wino_plan pl;
  scl_status st = plan(ctx, g, &pl);
  if (st == SCL_OK)
    st = SCL_LAUNCH(ctx, "winograd", kname(&pl, "filter"), g->k * g->c, 0, SCL_TENSOR(w), SCL_MEM(pl.u),
                    SCL_UINT(g->k), SCL_UINT(g->c), SCL_UINT(pl.u_stride), SCL_UINT(flip));
  scl_region bias = b ? scl__region_of(b, 0) : (scl_region){pl.u, 0};
  for (size_t n0 = 0; n0 < g->n && st == SCL_OK; n0 += pl.nb) {
    size_t nbc = g->n - n0 < pl.nb ? g->n - n0 : pl.nb, tiles = nbc * pl.per_img;
    size_t ld = scl__gemm_ld(ctx, tiles);
    st = input_transform(ctx, g, &pl, x, n0, tiles, ld, 0);
    for (size_t xi = 0; xi < pl.a2 && st == SCL_OK; xi++)
      st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, g->k, ld, g->c, 1.0f, pl.u, xi * pl.u_stride, g->c, pl.v,
                     xi * pl.v_stride, ld, 0.0f, pl.mm, xi * pl.m_stride, ld);
    if (st == SCL_OK)
      st = SCL_LAUNCH(ctx, "winograd", kname(&pl, "output"), g->k * tiles, 0, SCL_MEM(pl.mm), SCL_MEM(y->buffer),
                      SCL_UINT(y->offset + n0 * g->k * g->pq), SCL_UINT(g->k), SCL_UINT(g->p), SCL_UINT(g->q),
                      SCL_UINT(pl.tp_n), SCL_UINT(pl.tq_n), SCL_UINT(tiles), SCL_UINT(ld), SCL_UINT(pl.m_stride),
                      SCL_MEM(bias.mem), SCL_UINT(bias.off), SCL_UINT(b != NULL));
  }
  return st;
}

scl_status scl__winograd_filter_grad(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor dy,
                                     scl_tensor dw) {
  wino_plan pl;
  scl_status st = plan(ctx, g, &pl);
  for (size_t n0 = 0; n0 < g->n && st == SCL_OK; n0 += pl.nb) {
    size_t nbc = g->n - n0 < pl.nb ? g->n - n0 : pl.nb, tiles = nbc * pl.per_img;
    size_t ld = scl__gemm_ld(ctx, tiles);
    st = input_transform(ctx, g, &pl, x, n0, tiles, ld, 1);
    if (st == SCL_OK)
      st = SCL_LAUNCH(ctx, "winograd", kname(&pl, "output_grad"), g->k * ld, 0, SCL_MEM(dy->buffer),
                      SCL_UINT(dy->offset + n0 * g->k * g->pq), SCL_MEM(pl.mm), SCL_UINT(g->k), SCL_UINT(g->p),
                      SCL_UINT(g->q), SCL_UINT(pl.tp_n), SCL_UINT(pl.tq_n), SCL_UINT(tiles), SCL_UINT(ld),
                      SCL_UINT(pl.m_stride));
    /* dU_ξ [K][C] (+)= dM_ξ [K][ld] · Vᵀ_ξ [ld][C] */
    for (size_t xi = 0; xi < pl.a2 && st == SCL_OK; xi++)
      st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, g->k, g->c, ld, 1.0f, pl.mm, xi * pl.m_stride, ld, pl.v,
                     xi * pl.v_stride, g->c, n0 ? 1.0f : 0.0f, pl.u, xi * pl.u_stride, g->c);
  }
  if (st == SCL_OK)
    st = SCL_LAUNCH(ctx, "winograd", kname(&pl, "filter_grad"), g->k * g->c, 0, SCL_MEM(pl.u),
                    SCL_UINT(pl.u_stride), SCL_TENSOR(dw), SCL_UINT(g->k * g->c));
  return st;
}
