/* What conv2d and linear share: bias add, bias gradient, and the axis swaps and transposes that
   lay a batch out for one GEMM (kernels/bias.cl). Internal. The argument checks they use are those
   of ops/op_checks.h, included here. */
#ifndef SCL_OPS_BIAS_H
#define SCL_OPS_BIAS_H

#include "ops/op_checks.h"

/* y [rows, cols] += b [cols] on every row (a linear layer's bias). */
scl_status scl__bias_add(scl_context ctx, scl_region y, scl_tensor b, size_t rows, size_t cols);

/* db[k] = Σ_{n,i} dy[n][k][i], dy seen as [dims[0]][channels][rest]: a convolution's dy [N,K,P,Q]
   with channels = K, or a linear layer's dy [N,M] with channels = M. Overwrites db. */
scl_status scl__bias_grad(scl_context ctx, scl_tensor dy, size_t channels, scl_tensor db);

/* Work-items for a row-grouped launch over `rows` rows of `cols` elements, each row starting a new
   work-group (scl_row_item, kernels/common.cl). */
size_t scl__row_grouped(scl_context ctx, size_t rows, size_t cols);

/* y[j][i][c] = x[i][j][c] (+ bias[i] unless bias is NULL) for i < na, j < nb, c < nc, x's rows i
   x_ld apart and y's rows j y_ld apart (nb·nc and na·nc when packed). x and y must not overlap. */
scl_status scl__swap01(scl_context ctx, scl_region x, size_t x_ld, scl_region y, size_t y_ld, size_t na, size_t nb,
                       size_t nc, scl_tensor bias);

/* y [cols][rows] = x [rows][cols]ᵀ (x packed), y's rows y_ld apart. */
scl_status scl__transpose(scl_context ctx, scl_region x, scl_region y, size_t y_ld, size_t rows, size_t cols);

/* out [N][M] = x [N][K] · w [M][K]ᵀ (all packed): a linear layer's forward and the margin's
   cosines. With GEMMK=1 layouts and N < M it runs as outᵀ = w · xᵀ, so that the large w is read in
   place (workspaces SCL_WS_CONV_COL and SCL_WS_CONV_T). */
scl_status scl__gemm_xwt(scl_context ctx, scl_region x, scl_region w, scl_region out, size_t n, size_t m, size_t k);

/* Zeros columns from..ld-1 of y [rows][ld]. */
scl_status scl__zero_tail(scl_context ctx, scl_region y, size_t rows, size_t from, size_t ld);

#endif
