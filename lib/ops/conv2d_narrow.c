/* Convolutions of fewer than 16 input channels (kernels/conv_narrow.cl), forward and filter
   gradient, with the vectors along the output pixels: on SphereFace's first layer (3 -> 64
   channels, stride 2) the implicit GEMMs of conv2d_direct.c, whose vectors run along the
   channels, ran at 0.10-0.26 of the SGEMM rate. Their dx stays with col2im (conv2d.c): a net's
   first layer needs none.

   Workspaces: SCL_WS_CONV_COL holds x's phase planes, SCL_WS_CONV_T the filter gradient's parts
   (one per image and group of output rows). */
#include "ops/conv2d.h"

#define NARROW_BELOW 16 /* input channels */
#define NARROW_TAPS 9   /* R·S at most: SCL_NARROW_TAPS */
#define FORWARD_PIXELS 48 /* 16·TV of conv_narrow_forward_8x48 */
/* Output rows per work-item, at most: each item pays for its tap offsets and pointers once. On
   conv1.1's forward (56 rows; 2-core Intel CPU, against the SGEMM timed after it) 1 row per item
   ran at 0.31 of the SGEMM, 4 at 0.46-0.52, 14 at 0.59-0.69, 28 at 0.66-0.77 and 56 at 0.69-0.73;
   its filter gradient ran the same with 4 to 56 rows. */
#define GROUP_ROWS 32
#define PLANES_GROUP 4 /* work-items of conv_phase_planes per group: conv1.1 has 48, in 12 groups */

/* The phase planes' extent (kernels/conv_narrow.cl): the rows and columns the taps read, the
   columns rounded up to whole forward vectors. */
static size_t planes_h(const conv_shape *g) { return g->p + (g->r - 1) / g->sh; }
static size_t planes_w(const conv_shape *g) { return scl__round_up(g->q, FORWARD_PIXELS) + (g->s - 1) / g->sw; }
static size_t planes_floats(const conv_shape *g) { return g->n * g->c * g->sh * g->sw * planes_h(g) * planes_w(g); }
/* The output rows of one work-item: P in groups of at most GROUP_ROWS, as even as they come;
   row_groups, how many groups that makes. */
static size_t group_rows(const conv_shape *g) {
  const size_t groups = (g->p + GROUP_ROWS - 1) / GROUP_ROWS;
  return (g->p + groups - 1) / groups;
}
static size_t row_groups(const conv_shape *g) { return (g->p + group_rows(g) - 1) / group_rows(g); }

int scl__conv_narrow_applies(scl_context ctx, const conv_shape *g) {
  /* the kernels count elements in uint: the planes, x, y and dy, and the parts must fit */
  const size_t limit = 0xffffffffu;
  return ctx->conv_direct < 0 && scl__conv_direct_on(ctx) && g->c < NARROW_BELOW && g->r * g->s <= NARROW_TAPS &&
         planes_floats(g) < limit && g->n * g->chw < limit && g->n * g->k * g->pq < limit &&
         g->n * row_groups(g) * g->k * g->crs < limit;
}

#define NARROW_SHAPE(g)                                                                            \
  SCL_UINT((g)->n), SCL_UINT((g)->k), SCL_UINT((g)->c), SCL_UINT((g)->r), SCL_UINT((g)->s), SCL_UINT((g)->p), \
      SCL_UINT((g)->q), SCL_UINT((g)->sh), SCL_UINT((g)->sw), SCL_UINT(planes_h(g)), SCL_UINT(planes_w(g))

static scl_status phase_planes(scl_context ctx, const conv_shape *g, scl_tensor x, cl_mem *xp) {
  scl_status st = scl__workspace(ctx, SCL_WS_CONV_COL, planes_floats(g) * sizeof(float), xp);
  return st ? st
            : SCL_LAUNCH(ctx, "conv_narrow", "conv_phase_planes", g->n * g->c, PLANES_GROUP,
                         SCL_TENSOR(x), SCL_MEM(*xp), SCL_UINT(g->n), SCL_UINT(g->c), SCL_UINT(g->h), SCL_UINT(g->w),
                         SCL_UINT(g->sh), SCL_UINT(g->sw), SCL_UINT(g->ph), SCL_UINT(g->pw), SCL_UINT(planes_h(g)),
                         SCL_UINT(planes_w(g)), SCL_UINT(g->q + (g->s - 1) / g->sw));
}

scl_status scl__conv_narrow_forward(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor w, scl_tensor b,
                                    scl_tensor y) {
  cl_mem xp;
  scl_status st = phase_planes(ctx, g, x, &xp);
  if (st) return st;
  scl_region bias = b ? scl__region_of(b, 0) : (scl_region){xp, 0};
  const size_t items = (g->k + 7) / 8 * ((g->q + FORWARD_PIXELS - 1) / FORWARD_PIXELS) * g->n * row_groups(g);
  return SCL_LAUNCH(ctx, "conv_narrow", "conv_narrow_forward_8x48", items, 0, SCL_MEM(xp), SCL_TENSOR(w),
                    SCL_MEM(bias.mem), SCL_UINT(bias.off), SCL_UINT(b != NULL), SCL_TENSOR(y),
                    SCL_UINT(group_rows(g)), NARROW_SHAPE(g));
}

scl_status scl__conv_narrow_filter_grad(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor dy,
                                        scl_tensor dw) {
  const size_t groups = row_groups(g), len = g->k * g->crs;
  cl_mem xp, part;
  scl_status st = phase_planes(ctx, g, x, &xp);
  if (st || (st = scl__workspace(ctx, SCL_WS_CONV_T, g->n * groups * len * sizeof(float), &part))) return st;
  const size_t items = ((g->c + 2) / 3) * ((g->k + 7) / 8) * g->n * groups;
  st = SCL_LAUNCH(ctx, "conv_narrow", "conv_narrow_filter_8x3", items, 0, SCL_MEM(xp), SCL_TENSOR(dy), SCL_MEM(part),
                  SCL_UINT(group_rows(g)), NARROW_SHAPE(g));
  return st ? st
            : SCL_LAUNCH(ctx, "conv_narrow", "conv_narrow_sum", len, 0, SCL_MEM(part), SCL_UINT(g->n * groups),
                         SCL_UINT(len), SCL_TENSOR(dw));
}
