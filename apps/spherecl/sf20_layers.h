/* SphereFace-20's convolution and fc5 shapes at batch 16, with tensors to run each pass on, and
   the median timing both `spherecl bench ops` and `spherecl tune` measure them with. */
#ifndef SPHERECL_SF20_LAYERS_H
#define SPHERECL_SF20_LAYERS_H
#include "spherecl.h"

typedef scl_status (*timed_fn)(scl_context ctx, const void *arg);

#define SF20_BATCH 16

/* One layer shape: a 3x3 pad-1 convolution, or (c > 0, h = w = 1, linear = 1) fc5 with c inputs.
   count: how many layers of this shape SphereFace-20 has (for the per-step total). */
typedef struct {
  const char *name;
  size_t c, h, w, k;
  int stride, linear, count;
} layer;

#define SF20_LAYER_COUNT 9
extern const layer SF20_LAYERS[SF20_LAYER_COUNT];

enum { FORWARD, BACKWARD_DATA, BACKWARD_FILTER, PASSES };

/* The tensors of one layer and the pass to run. */
typedef struct {
  const layer *l;
  scl_conv2d_params p;
  scl_tensor x, w, b, y, dy, dx, dw;
  int pass;
} layer_run;

/* Seconds of one run of fn, ended by scl_context_finish. */
scl_status sf20_time_once(scl_context ctx, timed_fn fn, const void *arg, double *seconds);
/* The median of v[0..n) (n >= 1; sorts v). */
double sf20_median(double *v, int n);
/* Median seconds of `reps` runs of fn (1 <= reps <= 63) after one warm-up run, each ended by
   scl_context_finish. */
scl_status sf20_median_time(scl_context ctx, timed_fn fn, const void *arg, int reps, double *seconds);
/* A new F32 tensor filled with a small constant (uninitialised memory may hold denormals or NaN,
   which change a CPU's speed). */
scl_status sf20_tensor(scl_context ctx, int ndim, const size_t *dims, scl_tensor *t);
/* Output height and width of a layer (3x3, pad 1). */
size_t sf20_out_dim(size_t in, int stride);
/* The FLOPs of one pass (every pass is one GEMM's worth: 2·N·K·C·R·S·P·Q, or 2·N·M·K). */
double sf20_flops(const layer *l);
/* The tensors of layer l (free with sf20_free_layer, also after a failure). */
scl_status sf20_make_layer(scl_context ctx, const layer *l, layer_run *r);
void sf20_free_layer(layer_run *r);
/* Runs r->pass of r's layer (a timed_fn). */
scl_status sf20_run_pass(scl_context ctx, const void *arg);
/* "16x64x56x48 -> 16x64x56x48" */
void sf20_shape(const layer *l, char *buf, size_t size);

#endif
