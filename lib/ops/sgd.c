/* One step of Caffe's SGD solver on one parameter tensor (kernels/elementwise.cl, sgd_update):
     g = dw + weight_decay·w;  history = momentum·history + lr·g;  w −= history.
   Caffe leaves the step in the parameter's diff; here dw is left unchanged, so the caller's
   gradient stays readable. w, dw and history are same-shaped F32 tensors sharing no memory. */
#include "ops/elementwise_common.h"

#include <math.h>

scl_status scl_sgd_update(scl_context ctx, const scl_sgd_params *p, scl_tensor w, scl_tensor dw,
                          scl_tensor history) {
  static const char op[] = "scl_sgd_update";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  if (!p) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: params is NULL", op);
  if (!isfinite(p->lr) || !isfinite(p->momentum) || !isfinite(p->weight_decay))
    return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: lr %g, momentum %g, weight_decay %g: all must be finite",
                     op, (double)p->lr, (double)p->momentum, (double)p->weight_decay);
  const scl_named_tensor args[] = {{"w", w}, {"dw", dw}, {"history", history}};
  scl_status st;
  if ((st = scl__check_f32_like(ctx, op, args, 3)) || (st = scl__check_disjoint(ctx, op, args, 3, 3))) return st;
  return SCL_LAUNCH(ctx, "elementwise", "sgd_update", w->count, 0, SCL_TENSOR(w), SCL_TENSOR(dw),
                    SCL_TENSOR(history), SCL_UINT(w->count), SCL_FLOAT(p->lr), SCL_FLOAT(p->momentum),
                    SCL_FLOAT(p->weight_decay));
}
