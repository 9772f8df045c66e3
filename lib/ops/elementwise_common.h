/* What the small ops (prelu, add, weightnorm, softmax_xent, sgd) share beyond the argument checks of
   ops/op_checks.h (included here, shared with conv2d and linear): the workspace slot of their
   partial results. Internal. */
#ifndef SCL_OPS_ELEMENTWISE_COMMON_H
#define SCL_OPS_ELEMENTWISE_COMMON_H

#include "ops/op_checks.h"

/* The workspace slot of these ops' partial results (prelu's per-channel sums, softmax_xent's
   per-row loss). Each op enqueues its last use of it before returning, and the queue is in order. */
#define SCL_WORKSPACE_SMALL_OPS 3

#endif
