/* SphereFace-20's layer shapes and their timing (sf20_layers.h). */
#include "sf20_layers.h"
#include "cli_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

scl_status sf20_time_once(scl_context ctx, timed_fn fn, const void *arg, double *seconds) {
  double t0 = cli_now();
  scl_status st = fn(ctx, arg);
  if (st == SCL_OK) st = scl_context_finish(ctx);
  *seconds = cli_now() - t0;
  return st;
}

double sf20_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof v[0], by_value);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Median seconds of `reps` runs of fn after one warm-up run. */
scl_status sf20_median_time(scl_context ctx, timed_fn fn, const void *arg, int reps, double *seconds) {
  double t[64], warm;
  scl_status st = sf20_time_once(ctx, fn, arg, &warm);
  for (int i = 0; i < reps && st == SCL_OK; i++) st = sf20_time_once(ctx, fn, arg, &t[i]);
  if (st == SCL_OK) *seconds = sf20_median(t, reps);
  return st;
}

/* A new F32 tensor filled with a small constant (uninitialised memory may hold denormals or NaN,
   which change a CPU's speed). */
scl_status sf20_tensor(scl_context ctx, int ndim, const size_t *dims, scl_tensor *t) {
  scl_status st = scl_tensor_create(ctx, SCL_F32, ndim, dims, t);
  return st ? st : scl_tensor_fill(*t, 0.01f);
}

const layer SF20_LAYERS[SF20_LAYER_COUNT] = {
    {"conv1.1 3->64 /2", 3, 112, 96, 64, 2, 0, 1},
    {"conv1.x 64->64", 64, 56, 48, 64, 1, 0, 2},
    {"conv2.1 64->128 /2", 64, 56, 48, 128, 2, 0, 1},
    {"conv2.x 128->128", 128, 28, 24, 128, 1, 0, 4},
    {"conv3.1 128->256 /2", 128, 28, 24, 256, 2, 0, 1},
    {"conv3.x 256->256", 256, 14, 12, 256, 1, 0, 8},
    {"conv4.1 256->512 /2", 256, 14, 12, 512, 2, 0, 1},
    {"conv4.x 512->512", 512, 7, 6, 512, 1, 0, 2},
    {"fc5 21504->512", 512 * 7 * 6, 1, 1, 512, 1, 1, 1},
};

scl_status sf20_run_pass(scl_context ctx, const void *arg) {
  const layer_run *r = arg;
  scl_tensor dx = r->pass == BACKWARD_DATA ? r->dx : NULL, dw = r->pass == BACKWARD_FILTER ? r->dw : NULL;
  if (r->l->linear)
    return r->pass == FORWARD ? scl_linear_forward(ctx, r->x, r->w, r->b, r->y)
                              : scl_linear_backward(ctx, r->x, r->w, r->dy, dx, dw, NULL);
  return r->pass == FORWARD ? scl_conv2d_forward(ctx, &r->p, r->x, r->w, r->b, r->y)
                            : scl_conv2d_backward(ctx, &r->p, r->x, r->w, r->dy, dx, dw, NULL);
}

/* Output height and width of a layer (3x3, pad 1). */
size_t sf20_out_dim(size_t in, int stride) { return (in + 2 - 3) / (size_t)stride + 1; }

/* The FLOPs of one pass (every pass is one GEMM's worth: 2·N·K·C·R·S·P·Q, or 2·N·M·K). */
double sf20_flops(const layer *l) {
  if (l->linear) return 2.0 * SF20_BATCH * l->k * l->c;
  return 2.0 * SF20_BATCH * l->k * l->c * 9 * sf20_out_dim(l->h, l->stride) * sf20_out_dim(l->w, l->stride);
}

scl_status sf20_make_layer(scl_context ctx, const layer *l, layer_run *r) {
  memset(r, 0, sizeof *r);
  r->l = l;
  r->p = (scl_conv2d_params){l->stride, l->stride, 1, 1};
  size_t p = sf20_out_dim(l->h, l->stride), q = sf20_out_dim(l->w, l->stride);
  size_t xd[4] = {SF20_BATCH, l->c, l->h, l->w}, wd[4] = {l->k, l->c, 3, 3}, yd[4] = {SF20_BATCH, l->k, p, q};
  int nd = 4;
  if (l->linear) xd[1] = l->c, wd[1] = l->c, yd[1] = l->k, nd = 2;
  scl_status st;
  if ((st = sf20_tensor(ctx, nd, xd, &r->x)) || (st = sf20_tensor(ctx, nd, wd, &r->w)) ||
      (st = sf20_tensor(ctx, 1, &l->k, &r->b)) || (st = sf20_tensor(ctx, nd, yd, &r->y)) ||
      (st = sf20_tensor(ctx, nd, yd, &r->dy)) || (st = sf20_tensor(ctx, nd, xd, &r->dx)) ||
      (st = sf20_tensor(ctx, nd, wd, &r->dw)))
    return st;
  return SCL_OK;
}

void sf20_free_layer(layer_run *r) {
  scl_tensor all[] = {r->x, r->w, r->b, r->y, r->dy, r->dx, r->dw};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

void sf20_shape(const layer *l, char *buf, size_t size) {
  if (l->linear) snprintf(buf, size, "%dx%zu -> %dx%zu", SF20_BATCH, l->c, SF20_BATCH, l->k);
  else
    snprintf(buf, size, "%dx%zux%zux%zu -> %dx%zux%zux%zu", SF20_BATCH, l->c, l->h, l->w, SF20_BATCH, l->k,
             sf20_out_dim(l->h, l->stride), sf20_out_dim(l->w, l->stride));
}

