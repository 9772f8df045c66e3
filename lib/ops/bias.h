/* What conv2d and linear share: bias add, bias gradient and the axis swap that lays a batch out for
   one GEMM (kernels/bias.cl). Internal. The argument checks they use are those of ops/op_checks.h,
   included here. */
#ifndef SCL_OPS_BIAS_H
#define SCL_OPS_BIAS_H

#include "ops/op_checks.h"

/* y [rows, cols] += b [cols] on every row (a linear layer's bias). */
scl_status scl__bias_add(scl_context ctx, scl_region y, scl_tensor b, size_t rows, size_t cols);

/* db[k] = Σ_{n,i} dy[n][k][i], dy seen as [dims[0]][channels][rest]: a convolution's dy [N,K,P,Q]
   with channels = K, or a linear layer's dy [N,M] with channels = M. Overwrites db. */
scl_status scl__bias_grad(scl_context ctx, scl_tensor dy, size_t channels, scl_tensor db);

/* y[j][i][c] = x[i][j][c] (+ bias[i] unless bias is NULL) for x [na][nb][nc]. x and y must not
   overlap. */
scl_status scl__swap01(scl_context ctx, scl_region x, scl_region y, size_t na, size_t nb, size_t nc,
                       scl_tensor bias);

#endif
