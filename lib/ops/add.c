/* Elementwise y = a + b over three same-shaped tensors (the residual connections of SphereFace's
   units). y may be a or b (in place); any other overlap with an input is refused. a and b are
   only read, so they may overlap each other freely. Kernel: kernels/elementwise.cl. */
#include "ops/elementwise_common.h"

scl_status scl_add(scl_context ctx, scl_tensor a, scl_tensor b, scl_tensor y) {
  static const char op[] = "scl_add";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  const scl_named_tensor args[] = {{"a", a}, {"b", b}, {"y", y}};
  scl_status st;
  if ((st = scl__check_f32_like(ctx, op, args, 3)) || (st = scl__check_in_place(ctx, op, args[2], args[0])) ||
      (st = scl__check_in_place(ctx, op, args[2], args[1])))
    return st;
  return SCL_LAUNCH(ctx, "elementwise", "add", y->count, 0, SCL_TENSOR(a), SCL_TENSOR(b), SCL_TENSOR(y),
                    SCL_UINT(y->count));
}
