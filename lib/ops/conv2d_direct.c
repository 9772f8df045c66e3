/* Convolutions as implicit GEMMs (kernels/conv_direct.cl): the convolutions Winograd does not take
   (stride 2, 1x1, other filters) on devices that run spherecl's own GEMM kernel. im2col + GEMM
   writes a column matrix R·S times the input's size and reads it back; on conv2.1 of SphereFace-20
   that pass and the axis swap took as long as a third of the GEMM, and the GEMM itself ran slower
   on the columns' long rows. Here each pass is one kernel over the input as it lies, plus a small
   relayout of the weights (or of dy, for the filter gradient) so that the vectors are contiguous.

   Workspaces: SCL_WS_CONV_WT holds the weights by tap, SCL_WS_CONV_T dy by position,
   SCL_WS_CONV_ZEROS the zeros that taps in the padding read. */
#include "ops/conv2d.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Filter-gradient slices: images whose dy rows (one strip of 16·TV channels) fit a core's L2
   cache, read by every work-item of the slice; each slice after the first adds to dw. A slice has
   few work-items (conv2.1: 198; conv1.x: 99), which a CPU takes one by one (scl__tile_group): in
   groups of 64, four groups shared two cores 128:70; in groups of 16, conv1.x's seven ran 4:3. */
#define FILTER_SLICE_BYTES ((size_t)512 << 10)
#define STRIP_BLOCK_BYTES ((size_t)320 << 10)

typedef struct {
  int rows, vecs; /* TM pixels or channels x 16·TV channels */
  const char *suffix;
} direct_tile;

static const direct_tile TILES[] = {{8, 2, "8x32"}, {6, 4, "6x64"}, {12, 2, "12x32"}};

/* The channels of a tile's strip: 16·TV, the vw of the layouts (kernels/conv_direct.cl). */
static size_t strip_width(const direct_tile *t) { return 16 * (size_t)t->vecs; }

/* The tile: 12x32 (12 pixels or input channels x 32 channels, 24 accumulators) for the forward
   and backward-data passes, 6x64 for the filter gradient and for layers of fewer than 16 input
   channels, unless SPHERECL_CONV_TILE names one (tests and benchmarks). Measured on SphereFace-20's
   stride-2 layers, each pass against a 1024^3 SGEMM timed right after it:
   - on a 2-core AMD CPU (AVX-512, 1 MB L2 per core), 12x32 ran conv4.1's forward and backward
     data at 0.74 and 0.77 of the SGEMM where 6x64 ran 0.63 and 0.62, and was within the
     run-to-run noise of 6x64 and 8x32 on conv2.1 and conv3.1; on conv1.1 (3 input channels,
     27-step sums) 6x64 ran the forward at 58 GFLOP/s against 46 and the filter gradient at 38
     against 32 (12 rows of 3 channels);
   - on a 2-core Intel CPU (AVX-512, 2 MB L2 per core), 6x64 ran the filter gradients of conv2.1,
     conv3.1 and conv4.1 at 0.88-0.97, 0.60-0.65 and 1.13-1.18 where 12x32 ran 0.61-0.64,
     0.49-0.52 and 0.84-0.89 (6 channel rows of x per step instead of 12), and conv2.1's
     backward data at 0.65-0.67 against 0.70-0.72. */
static const direct_tile *tile_for(const conv_shape *g, int filter) {
  const char *force = getenv("SPHERECL_CONV_TILE");
  for (size_t i = 0; force && i < sizeof TILES / sizeof TILES[0]; i++)
    if (!strcmp(force, TILES[i].suffix)) return &TILES[i];
  return g->c < 16 || filter ? &TILES[1] : &TILES[2];
}

static const char *kernel_name(char *buf, size_t size, const char *pass, const direct_tile *t) {
  snprintf(buf, size, "conv_%s_%s", pass, t->suffix);
  return buf;
}

int scl__conv_direct_takes_dx(scl_context ctx, const conv_shape *g) { return ctx->conv_direct == 1 || g->c >= 16; }

int scl__conv_direct_on(scl_context ctx) { return ctx->conv_direct < 0 ? ctx->gemm_own != 0 : ctx->conv_direct; }

int scl__conv_direct_applies(scl_context ctx, const conv_shape *g) {
  /* The kernels count work-items, pixels and offsets in uint: x and dx, y and dy, dy by position
     and the weights by tap (kp at most the channels rounded up to 64) must each fit. */
  const size_t wide = g->k > g->c ? g->k : g->c, kp = scl__round_up(wide, 64), limit = 0xffffffffu;
  return scl__conv_direct_on(ctx) && g->n * g->chw < limit && g->n * g->k * g->pq < limit &&
         g->n * g->pq * kp < limit && g->r * g->s * wide * kp < limit;
}

#define SHAPE_ARGS(g, nb)                                                                         \
  SCL_UINT(nb), SCL_UINT((g)->k), SCL_UINT((g)->c), SCL_UINT((g)->h), SCL_UINT((g)->w), SCL_UINT((g)->r), \
      SCL_UINT((g)->s), SCL_UINT((g)->p), SCL_UINT((g)->q), SCL_UINT((g)->sh), SCL_UINT((g)->sw),       \
      SCL_UINT((g)->ph), SCL_UINT((g)->pw)

/* `floats` zeros, kept in their workspace: filled only when it grows. */
static scl_status zeros(scl_context ctx, size_t floats, cl_mem *out) {
  const size_t had = ctx->workspaces[SCL_WS_CONV_ZEROS].bytes;
  scl_status st = scl__workspace(ctx, SCL_WS_CONV_ZEROS, floats * sizeof(float), out);
  const size_t now = ctx->workspaces[SCL_WS_CONV_ZEROS].bytes;
  return st || now == had ? st : scl__zero_tail(ctx, (scl_region){*out, 0}, 1, 0, now / sizeof(float));
}

/* w by tap into SCL_WS_CONV_WT, strip by strip: [kp/vw][R·S][C][vw] (by_k) or [kp/vw][R·S][K][vw],
   kp = cols rounded to the tile's vw = 16·TV. */
static scl_status weights_by_tap(scl_context ctx, const conv_shape *g, scl_tensor w, size_t kp, size_t vw, int by_k,
                                 cl_mem *out) {
  const size_t rs = g->r * g->s, rows = rs * (by_k ? g->c : g->k);
  scl_status st = scl__workspace(ctx, SCL_WS_CONV_WT, rows * kp * sizeof(float), out);
  return st ? st
            : SCL_LAUNCH(ctx, "conv_direct", "conv_weights_by_tap", rows / rs * (kp / 16), 0, SCL_TENSOR(w), SCL_MEM(*out),
                         SCL_UINT(g->k), SCL_UINT(g->c), SCL_UINT(rs), SCL_UINT(kp), SCL_UINT(vw), SCL_UINT(by_k));
}

/* Channel strips per block: consecutive work-items take the strips of one block for the same
   pixels, so those pixels come from memory once per block instead of once per strip, while the
   block's weights (`rows` rows of 16·TV floats per strip) stay in a core's L2 cache. Measured on
   conv2.1's forward (2-core CPU, best of 3 against the SGEMM): one strip per block 0.77 of the
   SGEMM, all four 0.88; on conv3.1, whose strips are twice as long, 1 to 4 strips ran 0.84-0.87. */
static size_t strip_block(size_t strips, size_t rows, const direct_tile *t) {
  const char *force = getenv("SPHERECL_CONV_SB"); /* benchmarks */
  size_t sb = force ? (size_t)atoi(force) : STRIP_BLOCK_BYTES / (rows * strip_width(t) * sizeof(float));
  return sb < 1 ? 1 : sb > strips ? strips : sb;
}

scl_status scl__conv_direct_forward(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor w, scl_tensor b,
                                    scl_tensor y) {
  const direct_tile *t = tile_for(g, 0);
  const size_t vw = strip_width(t), kp = scl__round_up(g->k, vw), npix = g->n * g->pq;
  cl_mem wk, zero;
  scl_status st = weights_by_tap(ctx, g, w, kp, vw, 1, &wk);
  if (st || (st = zeros(ctx, g->c * g->h * g->w, &zero))) return st;
  char name[48];
  scl_region bias = b ? scl__region_of(b, 0) : (scl_region){wk, 0};
  const size_t strips = kp / vw, sb = strip_block(strips, g->c * g->r * g->s, t);
  const size_t items = (strips + sb - 1) / sb * sb * ((npix + (size_t)t->rows - 1) / (size_t)t->rows);
  return SCL_LAUNCH(ctx, "conv_direct", kernel_name(name, sizeof name, "forward", t), items, scl__tile_group(ctx),
                    SCL_TENSOR(x), SCL_MEM(zero), SCL_MEM(wk), SCL_UINT(kp), SCL_MEM(bias.mem), SCL_UINT(bias.off),
                    SCL_UINT(b != NULL), SCL_TENSOR(y), SCL_UINT(sb), SHAPE_ARGS(g, g->n));
}

static scl_status backward_data(scl_context ctx, const conv_shape *g, scl_tensor w, scl_tensor dy, scl_tensor dx) {
  const direct_tile *t = tile_for(g, 0);
  const size_t vw = strip_width(t), kp = scl__round_up(g->c, vw);
  cl_mem wc, zero;
  scl_status st = weights_by_tap(ctx, g, w, kp, vw, 0, &wc);
  if (st || (st = zeros(ctx, g->k * g->pq, &zero))) return st;
  char name[48];
  const size_t phase_pixels = g->n * ((g->h + g->sh - 1) / g->sh) * ((g->w + g->sw - 1) / g->sw);
  const size_t tiles = (phase_pixels + (size_t)t->rows - 1) / (size_t)t->rows;
  const size_t strips = kp / vw, sb = strip_block(strips, g->k * g->r * g->s, t);
  const size_t items = (strips + sb - 1) / sb * sb * g->sh * g->sw * tiles;
  return SCL_LAUNCH(ctx, "conv_direct", kernel_name(name, sizeof name, "backward_data", t), items, scl__tile_group(ctx),
                    SCL_TENSOR(dy), SCL_MEM(zero), SCL_MEM(wc), SCL_UINT(kp), SCL_TENSOR(dx), SCL_UINT(sb),
                    SHAPE_ARGS(g, g->n));
}

static scl_status backward_filter(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor dy, scl_tensor dw) {
  const direct_tile *t = tile_for(g, 1);
  const size_t vw = strip_width(t), kp = scl__round_up(g->k, vw);
  cl_mem dyp;
  scl_status st = scl__workspace(ctx, SCL_WS_CONV_T, g->n * g->pq * kp * sizeof(float), &dyp);
  if (st == SCL_OK)
    st = SCL_LAUNCH(ctx, "conv_direct", "conv_dy_by_pos", g->n * ((g->pq + 15) / 16) * (kp / 16), 0,
                    SCL_TENSOR(dy), SCL_MEM(dyp), SCL_UINT(g->n), SCL_UINT(g->k), SCL_UINT(g->pq), SCL_UINT(kp),
                    SCL_UINT(vw));
  char name[48];
  kernel_name(name, sizeof name, "backward_filter", t);
  const size_t items = g->r * g->s * ((g->c + (size_t)t->rows - 1) / (size_t)t->rows) * (kp / vw);
  const size_t strip = g->pq * vw * sizeof(float);
  size_t slice = FILTER_SLICE_BYTES / strip;
  if (slice < 1) slice = 1;
  for (size_t n0 = 0; n0 < g->n && st == SCL_OK; n0 += slice) {
    const size_t nb = g->n - n0 < slice ? g->n - n0 : slice;
    st = SCL_LAUNCH(ctx, "conv_direct", name, items, scl__tile_group(ctx), SCL_MEM(x->buffer),
                    SCL_UINT(x->offset + n0 * g->chw), SCL_MEM(dyp), SCL_UINT(n0 * g->pq * vw), SCL_UINT(kp),
                    SCL_UINT(g->n * g->pq * vw), SCL_TENSOR(dw), SCL_UINT(n0 > 0), SHAPE_ARGS(g, nb));
  }
  return st;
}

scl_status scl__conv_direct_backward(scl_context ctx, const conv_shape *g, scl_tensor x, scl_tensor w, scl_tensor dy,
                                     scl_tensor dx, scl_tensor dw) {
  scl_status st = dx ? backward_data(ctx, g, w, dy, dx) : SCL_OK;
  return st || !dw ? st : backward_filter(ctx, g, x, dy, dw);
}
