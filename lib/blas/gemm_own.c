/* spherecl's own SGEMM kernels (kernels/gemm.cl): the tile table, and the launch. scl__gemm and
   scl__gemm_batched (blas.c) send GEMMs with an untransposed B here when the tuning chose a tile
   (the "Gemm 32 ROWS=R COLS=C" entry, or SPHERECL_GEMM=RxC); everything else goes to CLBlast. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
  int rows, cols;
  const char *kernel;
} TILES[] = {{4, 32, "gemm_4x32"}, {8, 32, "gemm_8x32"}, {8, 48, "gemm_8x48"}, {12, 32, "gemm_12x32"}};
#define NTILES (int)(sizeof TILES / sizeof TILES[0])

int scl__gemm_own_count(void) { return NTILES; }

int scl__gemm_own_tile(int rows, int cols) {
  for (int t = 0; t < NTILES; t++)
    if (TILES[t].rows == rows && TILES[t].cols == cols) return t + 1;
  return 0;
}

const char *scl__gemm_own_label(int tile) { return tile >= 1 && tile <= NTILES ? TILES[tile - 1].kernel + 5 : NULL; }

void scl__gemm_own_tiles(char *buf, size_t size) {
  size_t used = 0;
  buf[0] = '\0';
  for (int t = 0; t < NTILES && used < size; t++)
    used += (size_t)snprintf(buf + used, size - used, "%s%dx%d", t ? ", " : "", TILES[t].rows, TILES[t].cols);
}

size_t scl__gemm_ld(scl_context ctx, size_t cols) {
  size_t ld = scl__round_up(cols, ctx->gemm_tile);
  /* Rows 4 KiB apart alias in a CPU's L1 cache (kernels/gemm.cl): step off by 64 bytes instead of
     packing (a pass over the whole matrix). CLBlast wants its tile multiple, kept. */
  if (ctx->gemm_own && (ld * sizeof(float)) % 4096 == 0) ld = scl__round_up(ld + 16, ctx->gemm_tile);
  return ld;
}

size_t scl__gemm_ld_max(scl_context ctx, size_t cols) {
  return scl__round_up(cols, ctx->gemm_tile) + scl__round_up(16, ctx->gemm_tile);
}

/* Sizes, offsets and strides travel to the kernels as uint. */
static int fits_uint(size_t v) { return v <= 0xffffffffu; }

/* The statuses CLBlast gives for the same faults (lib/runtime/status.c names them), so that a
   caller sees one set whichever kernel runs. */
enum { LEAD_DIM_A = -1016, LEAD_DIM_B = -1015, LEAD_DIM_C = -1014, MEMORY_A = -1011, MEMORY_B = -1010, MEMORY_C = -1009 };

/* A kernel must never touch memory past a buffer: 1 if mem holds `elems` floats. */
static int holds(cl_mem mem, size_t elems) {
  size_t bytes = 0;
  return clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof bytes, &bytes, NULL) == CL_SUCCESS && elems <= bytes / sizeof(float);
}

/* Whether to pack B first (kernels/gemm.cl says why): when its rows lie a multiple of 4 KiB apart
   and C has rows enough to repay the extra pass over B. SPHERECL_GEMM_PACK=always or never
   overrides (for benchmarks and tests). */
static int pack_b(size_t m, size_t ldb) {
  const char *force = getenv("SPHERECL_GEMM_PACK");
  if (force && !strcmp(force, "always")) return 1;
  if (force && !strcmp(force, "never")) return 0;
  return m >= 64 && (ldb * sizeof(float)) % 4096 == 0;
}

/* The part of a call that every k slice shares. */
typedef struct {
  int tile;
  size_t m, n;
  float alpha;
  cl_mem a;
  size_t a_si, a_sp, a_stride; /* op(A)[i][p] = a[i·a_si + p·a_sp] */
  cl_mem b;
  size_t ldb, b_stride;
  cl_mem c;
  size_t c_off, ldc, c_stride, batch;
} gemm_call;

#define SPLIT_K_BYTES ((size_t)128 << 10)

/* C = alpha·op(A)[:, slice]·B[slice, :] + beta·C for the k-slice that starts at a_off / b_off. */
static scl_status launch(scl_context ctx, const gemm_call *g, size_t a_off, size_t b_off, size_t k, float beta) {
  const size_t cols = (size_t)TILES[g->tile].cols, rows = (size_t)TILES[g->tile].rows;
  const size_t nt = (g->n + cols - 1) / cols, items = (g->m + rows - 1) / rows * nt * g->batch;
  cl_mem b = g->b;
  size_t ldb = g->ldb, b_panel = cols, b_stride = g->b_stride;
  scl_status st;
  if (k && pack_b(g->m, ldb) && fits_uint(k * cols * nt * g->batch)) { /* else read B as it is */
    const size_t panel = k * cols;
    if ((st = scl__workspace(ctx, SCL_WS_GEMM_PACK, panel * nt * g->batch * sizeof(float), &b)) != SCL_OK ||
        (st = SCL_LAUNCH(ctx, "gemm", "gemm_pack_b", k * nt * g->batch, 0, SCL_UINT(k), SCL_UINT(g->n), SCL_UINT(cols),
                         SCL_MEM(g->b), SCL_UINT(b_off), SCL_UINT(ldb), SCL_UINT(b_stride), SCL_MEM(b),
                         SCL_UINT(g->batch))) != SCL_OK)
      return st;
    b_off = 0, ldb = cols, b_panel = panel, b_stride = panel * nt;
  }
  return SCL_LAUNCH(ctx, "gemm", TILES[g->tile].kernel, items, scl__tile_group(ctx), SCL_UINT(g->m), SCL_UINT(g->n), SCL_UINT(k),
                    SCL_FLOAT(g->alpha), SCL_MEM(g->a), SCL_UINT(a_off), SCL_UINT(g->a_si), SCL_UINT(g->a_sp),
                    SCL_UINT(g->a_stride), SCL_MEM(b), SCL_UINT(b_off), SCL_UINT(ldb), SCL_UINT(b_panel),
                    SCL_UINT(b_stride), SCL_FLOAT(beta), SCL_MEM(g->c), SCL_UINT(g->c_off), SCL_UINT(g->ldc),
                    SCL_UINT(g->c_stride), SCL_UINT(g->batch));
}

scl_status scl__gemm_own(scl_context ctx, scl_trans ta, size_t m, size_t n, size_t k, float alpha, cl_mem a,
                         size_t a_off, size_t lda, size_t a_stride, cl_mem b, size_t b_off, size_t ldb,
                         size_t b_stride, float beta, cl_mem c, size_t c_off, size_t ldc, size_t c_stride,
                         size_t batch) {
  const int t = ctx->gemm_own - 1;
  if (t < 0 || t >= NTILES) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "internal: no GEMM tile %d", t + 1);
  if (m == 0 || n == 0 || batch == 0) return SCL_OK;
  const size_t arows = ta == SCL_TRANS ? k : m, acols = ta == SCL_TRANS ? m : k;
  const char *bad = NULL;
  int code = 0;
  if (lda < acols) bad = "lda is smaller than a row of A", code = LEAD_DIM_A;
  else if (ldb < n) bad = "ldb is smaller than a row of B", code = LEAD_DIM_B;
  else if (ldc < n) bad = "ldc is smaller than a row of C", code = LEAD_DIM_C;
  else if (arows && !holds(a, a_off + a_stride * (batch - 1) + (arows - 1) * lda + acols))
    bad = "A's buffer is too small", code = MEMORY_A;
  else if (k && !holds(b, b_off + b_stride * (batch - 1) + (k - 1) * ldb + n))
    bad = "B's buffer is too small", code = MEMORY_B;
  else if (!holds(c, c_off + c_stride * (batch - 1) + (m - 1) * ldc + n))
    bad = "C's buffer is too small", code = MEMORY_C;
  if (bad)
    return scl__fail(ctx, (scl_status)code, "GEMM %zux%zux%zu (x%zu) by spherecl's GEMM kernel: %s", m, n, k, batch,
                     bad);
  const size_t mt = (m + TILES[t].rows - 1) / TILES[t].rows, nt = (n + TILES[t].cols - 1) / TILES[t].cols;
  const size_t items = mt * nt * batch;
  /* The kernel takes every size, offset and stride as a uint and indexes with size_t. */
  const size_t args[] = {m, n, k, batch, items, a_off, lda, a_stride, b_off, ldb, b_stride, c_off, ldc, c_stride};
  int fit = 1;
  for (size_t i = 0; i < sizeof args / sizeof args[0]; i++) fit &= fits_uint(args[i]);
  if (!fit)
    return scl__fail(ctx, SCL_ERR_SHAPE, "GEMM %zux%zux%zu (x%zu) is too large for spherecl's GEMM kernel", m, n, k,
                     batch);
  const gemm_call g = {t, m, n, alpha, a, ta == SCL_TRANS ? 1 : lda, ta == SCL_TRANS ? lda : 1, a_stride, b, ldb,
                       b_stride, c, c_off, ldc, c_stride, batch};
  /* Split-K: in slices of k whose strips of B stay in a CPU core's L2 cache while the work-items
     of a work-group, one row tile after another, go through them (conv2.1's backward filter,
     k = 10752: 56 -> 137 GFLOP/s); each slice after the first adds to C. */
  const size_t slice = SPLIT_K_BYTES / (sizeof(float) * (size_t)TILES[t].cols);
  if (k <= 2 * slice) return launch(ctx, &g, a_off, b_off, k, beta);
  scl_status st = SCL_OK;
  for (size_t k0 = 0; k0 < k && st == SCL_OK; k0 += slice)
    st = launch(ctx, &g, a_off + k0 * g.a_sp, b_off + k0 * ldb, k - k0 < slice ? k - k0 : slice, k0 ? 1.0f : beta);
  return st;
}
