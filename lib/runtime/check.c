/* Argument checks shared by every op: each failure names the op, the argument and the shapes.
   The basic ones are declared in internal.h, those over several arguments in ops/op_checks.h. */
#include "internal.h"
#include "ops/op_checks.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dtype_name(scl_dtype d) { return d == SCL_F32 ? "F32" : d == SCL_I32 ? "I32" : "?"; }

void scl__shape_string(scl_tensor t, char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  if (!t) {
    snprintf(buf, size, "(null)");
    return;
  }
  for (int i = 0; i < t->ndim && used < size; i++) {
    int w = snprintf(buf + used, size - used, "%s%zu", i ? "," : "[", t->dims[i]);
    if (w < 0) return;
    used += (size_t)w;
  }
  if (used < size) snprintf(buf + used, size - used, "]");
}

scl_status scl__check_tensor(scl_context ctx, const char *op, const char *name, scl_tensor t, scl_dtype dtype) {
  if (!t) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: %s is NULL", op, name);
  if (t->ctx != ctx) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: %s belongs to another context", op, name);
  if (t->dtype != dtype)
    return scl__fail(ctx, SCL_ERR_DTYPE, "%s: %s is %s, expected %s", op, name, dtype_name(t->dtype),
                     dtype_name(dtype));
  return SCL_OK;
}

scl_status scl__check_shape(scl_context ctx, const char *op, const char *name, scl_tensor t, int ndim,
                            const size_t *dims) {
  int ok = t->ndim == ndim;
  for (int i = 0; ok && i < ndim; i++) ok = dims[i] == 0 || dims[i] == t->dims[i];
  if (ok) return SCL_OK;
  char got[96], want[96] = "[";
  scl__shape_string(t, got, sizeof got);
  for (int i = 0; i < ndim; i++) {
    char d[24];
    if (dims[i]) snprintf(d, sizeof d, "%s%zu", i ? "," : "", dims[i]);
    else snprintf(d, sizeof d, "%s*", i ? "," : "");
    strncat(want, d, sizeof want - strlen(want) - 1);
  }
  strncat(want, "]", sizeof want - strlen(want) - 1);
  return scl__fail(ctx, SCL_ERR_SHAPE, "%s: %s has shape %s, expected %s", op, name, got, want);
}

scl_status scl__check_same_shape(scl_context ctx, const char *op, const char *name_a, scl_tensor a,
                                 const char *name_b, scl_tensor b) {
  if (scl__check_shape(ctx, op, name_b, b, a->ndim, a->dims) == SCL_OK) return SCL_OK;
  char detail[256];
  memcpy(detail, ctx->message, sizeof detail - 1);
  detail[sizeof detail - 1] = '\0';
  return scl__fail(ctx, SCL_ERR_SHAPE, "%s (the shape of %s)", detail, name_a);
}

int scl__overlap(scl_tensor a, scl_tensor b) {
  if (!a || !b || a->buffer != b->buffer) return 0;
  return a->offset < b->offset + b->count && b->offset < a->offset + a->count;
}

scl_status scl__check_vector(scl_context ctx, const char *op, const char *name, scl_tensor v, size_t len) {
  if (!v) return SCL_OK;
  scl_status st = scl__check_tensor(ctx, op, name, v, SCL_F32);
  return st ? st : scl__check_shape(ctx, op, name, v, 1, &len);
}

scl_status scl__check_grad(scl_context ctx, const char *op, const char *name, scl_tensor g, const char *like_name,
                           scl_tensor like) {
  if (!g) return SCL_OK;
  scl_status st = scl__check_tensor(ctx, op, name, g, SCL_F32);
  return st ? st : scl__check_same_shape(ctx, op, like_name, like, name, g);
}

scl_status scl__check_disjoint(scl_context ctx, const char *op, const scl_named_tensor *args, int n_out, int n) {
  for (int i = 0; i < n_out; i++)
    for (int j = 0; j < n; j++)
      if (j != i && args[i].t && args[j].t && scl__overlap(args[i].t, args[j].t))
        return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: %s overlaps %s in memory", op, args[i].name,
                         args[j].name);
  return SCL_OK;
}

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

scl_region scl__region_of(scl_tensor t, size_t elements) {
  scl_region r = {t->buffer, t->offset + elements};
  return r;
}

/* Reads the labels (waiting for the work that produces them) and checks each lies in [0, classes). */
scl_status scl__check_labels(scl_context ctx, const char *op, scl_tensor labels, size_t classes) {
  size_t n = labels->count;
  int32_t *host = malloc(n * sizeof *host);
  if (!host) return scl__fail(ctx, SCL_ERR_OUT_OF_MEMORY, "%s: out of host memory for %zu labels", op, n);
  scl_status st = scl_tensor_read(labels, host, n * sizeof *host);
  for (size_t i = 0; st == SCL_OK && i < n; i++)
    if (host[i] < 0 || (size_t)host[i] >= classes)
      st = scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "%s: labels[%zu] = %d is outside [0,%zu)", op, i, (int)host[i],
                     classes);
  free(host);
  return st;
}
