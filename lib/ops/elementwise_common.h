/* What the small ops (prelu, add, weightnorm, softmax_xent, sgd) share beyond the argument checks of
   ops/op_checks.h (included here, shared with conv2d and linear). Internal. Their partial results
   live in workspace slot SCL_WS_SMALL_OPS (lib/internal.h); each op enqueues its last use of it
   before returning, and the queue is in order. */
#ifndef SCL_OPS_ELEMENTWISE_COMMON_H
#define SCL_OPS_ELEMENTWISE_COMMON_H

#include "ops/op_checks.h"

#endif
