/* What the small ops (prelu, add, weightnorm, softmax_xent, sgd) share: argument checks for lists
   of same-shaped tensors, the in-place rule, and the work-group size of their row reductions.
   Internal. The generic checks (scl_named_tensor, scl__check_grad, scl__check_disjoint) are those
   of ops/bias.h, shared with conv2d and linear. */
#ifndef SCL_OPS_ELEMENTWISE_COMMON_H
#define SCL_OPS_ELEMENTWISE_COMMON_H

#include "ops/bias.h"

/* The workspace slot of these ops' partial results (prelu's per-channel sums, softmax_xent's
   per-row loss). Each op enqueues its last use of it before returning, and the queue is in order. */
#define SCL_WORKSPACE_SMALL_OPS 3

/* Every args[i].t is a non-NULL F32 tensor and args[1..n) have the shape of args[0]. */
scl_status scl__check_f32_like(scl_context ctx, const char *op, const scl_named_tensor *args, int n);

/* An output that may BE the input (an in-place op: the same buffer and offset; shapes are checked
   separately) but must not share only part of its memory. */
scl_status scl__check_in_place(scl_context ctx, const char *op, scl_named_tensor out, scl_named_tensor in);

/* The local size scl__launch uses (SCL_LOCAL_1D, or less where the device caps it): reduction
   kernels size their local memory by it and launch one group per row as rows·group_size items. */
size_t scl__group_size(scl_context ctx);

#endif
