/* What conv2d and linear share: bias add, bias gradient, the axis swap that lays a batch out for
   one GEMM (kernels/bias.cl), and the check that outputs do not overlap other arguments. Internal. */
#ifndef SCL_OPS_BIAS_H
#define SCL_OPS_BIAS_H

#include "internal.h"

/* A place in a device buffer: a tensor's data or a region of a workspace (offset in elements). */
typedef struct {
  cl_mem mem;
  size_t off;
} scl_region;

/* The region where tensor t's data starts, `elements` further on. */
scl_region scl__region_of(scl_tensor t, size_t elements);

/* y [rows, cols] += b [cols] on every row (a linear layer's bias). */
scl_status scl__bias_add(scl_context ctx, scl_region y, scl_tensor b, size_t rows, size_t cols);

/* db[k] = Σ_{n,i} dy[n][k][i], dy seen as [dims[0]][channels][rest]: a convolution's dy [N,K,P,Q]
   with channels = K, or a linear layer's dy [N,M] with channels = M. Overwrites db. */
scl_status scl__bias_grad(scl_context ctx, scl_tensor dy, size_t channels, scl_tensor db);

/* y[j][i][c] = x[i][j][c] (+ bias[i] unless bias is NULL) for x [na][nb][nc]. x and y must not
   overlap. */
scl_status scl__swap01(scl_context ctx, scl_region x, scl_region y, size_t na, size_t nb, size_t nc,
                       scl_tensor bias);

/* A tensor argument with its name, for checks over several arguments. */
typedef struct {
  const char *name;
  scl_tensor t;
} scl_named_tensor;

/* Optional arguments: SCL_OK when the tensor is NULL, else it must be F32 and a [len] vector (a
   bias or its gradient), or have the shape of `like` (a gradient). */
scl_status scl__check_vector(scl_context ctx, const char *op, const char *name, scl_tensor v, size_t len);
scl_status scl__check_grad(scl_context ctx, const char *op, const char *name, scl_tensor g, const char *like_name,
                           scl_tensor like);

/* SCL_ERR_INVALID_ARGUMENT (naming both) when one of the first n_out entries (the outputs; NULL
   entries skipped) shares memory with any other of the n entries. */
scl_status scl__check_disjoint(scl_context ctx, const char *op, const scl_named_tensor *args, int n_out, int n);

#endif
