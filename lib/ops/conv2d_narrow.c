/* Convolutions of fewer than 16 input channels (kernels/conv_narrow.cl), forward and filter
   gradient, with the vectors along the output pixels: on SphereFace's first layer (3 -> 64
   channels, stride 2) the implicit GEMMs of conv2d_direct.c, whose vectors run along the
   channels, ran at 0.10-0.26 of the SGEMM rate. Their dx stays with col2im (conv2d.c): a net's
   first layer needs none.

   Workspaces: SCL_WS_CONV_COL holds the work-items' phase planes, SCL_WS_CONV_T the filter
   gradient's parts (one per work-item). */
#include "ops/conv2d.h"

#define NARROW_BELOW 16 /* input channels */
#define NARROW_TAPS 9   /* R·S at most: SCL_NARROW_TAPS */
#define FORWARD_PIXELS 48 /* 16·TV of conv_narrow_forward_8x48 */
/* Work-items per compute unit, at least (while an image has rows to split): an item builds the
   planes of its rows plus (R - 1) / sh more, so the fewer the items, the less is built twice. On
   conv1.1 (batch 16, 2-core Intel CPU, against the SGEMM timed beside it), 8 items per unit (a
   whole image each) ran the forward at 0.80-0.81 and the filter gradient at 0.68-0.69, 16 items
   per unit at 0.77-0.79 and 0.59-0.66, 32 at 0.73-0.79 and 0.59-0.63. */
#define ITEMS_PER_UNIT 8

/* How the output rows are split between work-items: `rows` per item (the last may have fewer),
   `groups` items per image, each with planes of hq rows and wq columns (kernels/conv_narrow.cl). */
typedef struct {
  size_t rows, groups, hq, wq;
} narrow_items;

static narrow_items items_of(scl_context ctx, const conv_shape *g) {
  const size_t want = (ITEMS_PER_UNIT * ctx->compute_units + g->n - 1) / g->n; /* groups per image */
  narrow_items it;
  it.rows = (g->p + (want < g->p ? want : g->p) - 1) / (want < g->p ? want : g->p);
  it.groups = (g->p + it.rows - 1) / it.rows;
  it.hq = it.rows + (g->r - 1) / g->sh;
  /* the columns the taps read, rounded up to whole forward vectors */
  it.wq = scl__round_up(g->q, FORWARD_PIXELS) + (g->s - 1) / g->sw;
  return it;
}
static size_t planes_floats(const conv_shape *g, const narrow_items *it) {
  return g->n * it->groups * g->c * g->sh * g->sw * it->hq * it->wq;
}

int scl__conv_narrow_applies(scl_context ctx, const conv_shape *g) {
  if (!(ctx->conv_direct < 0 && scl__conv_direct_on(ctx) && g->c < NARROW_BELOW && g->r * g->s <= NARROW_TAPS))
    return 0;
  /* the kernels count elements in uint: the planes, x, y and dy, and the parts must fit */
  const size_t limit = 0xffffffffu;
  const narrow_items it = items_of(ctx, g);
  return planes_floats(g, &it) < limit && g->n * g->chw < limit && g->n * g->k * g->pq < limit &&
         g->n * it.groups * g->k * g->crs < limit;
}

/* The arguments both kernels end with (SCL_NARROW_SHAPE). */
#define NARROW_SHAPE(g, it)                                                                        \
  SCL_UINT((g)->n), SCL_UINT((g)->k), SCL_UINT((g)->c), SCL_UINT((g)->r), SCL_UINT((g)->s), SCL_UINT((g)->p), \
      SCL_UINT((g)->q), SCL_UINT((g)->sh), SCL_UINT((g)->sw), SCL_UINT((it)->hq), SCL_UINT((it)->wq),          \
      SCL_UINT((g)->h), SCL_UINT((g)->w), SCL_UINT((g)->ph), SCL_UINT((g)->pw)

scl_status scl__conv_narrow_forward(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor w, scl_tensor b,
                                    scl_tensor y) {
  const narrow_items it = items_of(ctx, g);
  cl_mem xs;
  scl_status st = scl__workspace(ctx, SCL_WS_CONV_COL, planes_floats(g, &it) * sizeof(float), &xs);
  if (st) return st;
  scl_region bias = b ? scl__region_of(b, 0) : (scl_region){xs, 0};
  return SCL_LAUNCH(ctx, "conv_narrow", "conv_narrow_forward_8x48", g->n * it.groups, scl__tile_group(ctx),
                    SCL_TENSOR(x), SCL_MEM(xs), SCL_TENSOR(w), SCL_MEM(bias.mem), SCL_UINT(bias.off),
                    SCL_UINT(b != NULL), SCL_TENSOR(y), SCL_UINT(it.rows), NARROW_SHAPE(g, &it));
}

scl_status scl__conv_narrow_filter_grad(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor dy,
                                        scl_tensor dw) {
  const narrow_items it = items_of(ctx, g);
  const size_t items = g->n * it.groups, len = g->k * g->crs;
  cl_mem xs, part;
  scl_status st = scl__workspace(ctx, SCL_WS_CONV_COL, planes_floats(g, &it) * sizeof(float), &xs);
  if (st || (st = scl__workspace(ctx, SCL_WS_CONV_T, items * len * sizeof(float), &part))) return st;
  st = SCL_LAUNCH(ctx, "conv_narrow", "conv_narrow_filter_8x3", items, scl__tile_group(ctx), SCL_TENSOR(x),
                  SCL_MEM(xs), SCL_TENSOR(dy), SCL_MEM(part), SCL_UINT(it.rows), NARROW_SHAPE(g, &it));
  return st ? st
            : SCL_LAUNCH(ctx, "conv_narrow", "conv_narrow_sum", len, 0, SCL_MEM(part), SCL_UINT(items),
                         SCL_UINT(len), SCL_TENSOR(dw));
}
