/* What conv2d.c (im2col + GEMM) and conv2d_winograd.c share. Internal. */
#ifndef SCL_OPS_CONV2D_H
#define SCL_OPS_CONV2D_H

#include "ops/bias.h"

#define SCL_CONV_WORKSPACE_CAP ((size_t)256 << 20) /* bytes, the column workspaces together */

/* Sizes of one convolution, all in elements. */
typedef struct {
  size_t n, c, h, w;      /* x */
  size_t k, r, s;         /* weights */
  size_t p, q;            /* output */
  size_t sh, sw, ph, pw;  /* strides, pads */
  size_t crs, pq, chw;    /* derived */
} conv_shape;

/* Images per chunk when one image needs per_image bytes of workspace (at least 1, at most g->n). */
size_t scl__conv_chunk(scl_context ctx, const conv_shape *g, size_t per_image);

/* Whether conv2d runs g with Winograd F(m×m,3×3): a 3x3 stride-1 convolution with pads <= 2 on a
   context whose tuning (or SPHERECL_WINOGRAD) sets ctx->winograd to 2 or 4 (4: F(4,3) on outputs
   of at least 8x8, F(2,3) on smaller ones), unless implicit GEMMs run and g has fewer input
   channels than ctx->winograd_min_c (the transforms, linear in the channels where the products
   are quadratic, then cost more than Winograd saves). */
int scl__winograd_applies(scl_context ctx, const conv_shape *g);
/* y = conv(x, w) + b by Winograd. With flip, w is [C][K][3][3] and the filter used is w's
   transpose rotated by 180° (the backward-data convolution); g describes the convolution run. */
scl_status scl__winograd_forward(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor w, int flip,
                                 scl_tensor b, scl_tensor y);
/* dw of conv(x, w) from dy by Winograd (overwrites dw). */
scl_status scl__winograd_filter_grad(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor dy,
                                     scl_tensor dw);

/* Whether conv2d runs g as implicit GEMMs (conv2d_direct.c): on a context that runs spherecl's
   GEMM kernel (ctx->conv_direct), for the layers Winograd does not take. */
int scl__conv_direct_applies(scl_context ctx, const conv_shape *g);
/* Whether the implicit GEMMs take g's dx too: not under 16 input channels, where their vectors
   along the channels would be mostly padding (conv1.1, 3 channels: 8-12 GFLOP/s against col2im's
   30); conv2d then runs dx by im2col + GEMM. SPHERECL_CONV=direct (ctx->conv_direct = 1) takes
   every dx. */
int scl__conv_direct_takes_dx(scl_context ctx, const conv_shape *g);
/* Whether ctx runs convolutions as implicit GEMMs at all (ctx->conv_direct). */
int scl__conv_direct_on(scl_context ctx);
scl_status scl__conv_direct_forward(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor w, scl_tensor b,
                                    scl_tensor y);
/* dx and/or dw (either may be NULL; both overwritten) of conv(x, w) from dy. */
scl_status scl__conv_direct_backward(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor w, scl_tensor dy,
                                     scl_tensor dx, scl_tensor dw);

/* Whether conv2d runs g's forward and filter gradient with the vectors along the output pixels
   (conv2d_narrow.c): under 16 input channels and filters of at most 9 taps, where the implicit
   GEMMs would run by default (not when SPHERECL_CONV=direct forces them). dx then goes by col2im. */
int scl__conv_narrow_applies(scl_context ctx, const conv_shape *g);
scl_status scl__conv_narrow_forward(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor w, scl_tensor b,
                                    scl_tensor y);
/* dw of conv(x, w) from dy (overwritten). */
scl_status scl__conv_narrow_filter_grad(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor dy,
                                        scl_tensor dw);

#endif
