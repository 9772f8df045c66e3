/* Checks and launch sizes shared by the small ops (see ops/elementwise_common.h). */
#include "ops/elementwise_common.h"

scl_status scl__check_f32_like(scl_context ctx, const char *op, const scl_named_tensor *args, int n) {
  scl_status st = SCL_OK;
  for (int i = 0; i < n && st == SCL_OK; i++) st = scl__check_tensor(ctx, op, args[i].name, args[i].t, SCL_F32);
  for (int i = 1; i < n && st == SCL_OK; i++)
    st = scl__check_same_shape(ctx, op, args[0].name, args[0].t, args[i].name, args[i].t);
  return st;
}

scl_status scl__check_in_place(scl_context ctx, const char *op, scl_named_tensor out, scl_named_tensor in) {
  int same = out.t->buffer == in.t->buffer && out.t->offset == in.t->offset && out.t->count == in.t->count;
  if (same || !scl__overlap(out.t, in.t)) return SCL_OK;
  return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT,
                   "%s: %s partly overlaps %s in memory (it may only be exactly %s, for an in-place call)", op,
                   out.name, in.name, in.name);
}

size_t scl__group_size(scl_context ctx) {
  return ctx->max_work_group < SCL_LOCAL_1D ? ctx->max_work_group : SCL_LOCAL_1D;
}
