/* scl_prelu_forward / scl_prelu_backward against the double reference on 2-, 3- and 4-D odd shapes
   (exact zeros included: Caffe puts x == 0 on the slope side), against central finite differences
   of the reference forward (x and slope), and every bad input refused with the outputs untouched. */
#include "ref/ref_elementwise.h"
#include "testkit/testkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One problem: x [d0,d1,...] (d1 = channels), slope [d1], dy like x, all random (x in [-2,2] with
   every 7th element exactly 0), as floats for the device and doubles for the reference. */
typedef struct {
  size_t d[4], n, c, inner, count;
  float *x, *slope, *dy;
  double *xd, *sd, *dyd;
} problem;

static problem make_problem(const size_t d[4], uint64_t seed) {
  problem p;
  memcpy(p.d, d, sizeof p.d);
  p.n = d[0], p.c = d[1], p.count = d[0] * d[1];
  p.inner = 1;
  for (int i = 2; i < 4 && d[i]; i++) p.inner *= d[i];
  p.count *= p.inner;
  tk_rng r = tk_rng_make(seed);
  p.x = malloc(p.count * sizeof *p.x), p.dy = malloc(p.count * sizeof *p.dy), p.slope = malloc(p.c * sizeof *p.slope);
  tk_fill_uniform(&r, p.x, p.count, -2, 2);
  for (size_t i = 0; i < p.count; i += 7) p.x[i] = 0.0f;
  tk_fill_uniform(&r, p.dy, p.count, -1, 1);
  tk_fill_uniform(&r, p.slope, p.c, -0.5, 1);
  p.xd = ref_widen(p.x, p.count), p.sd = ref_widen(p.slope, p.c), p.dyd = ref_widen(p.dy, p.count);
  return p;
}

static void free_problem(problem *p) {
  free(p->x), free(p->slope), free(p->dy), free(p->xd), free(p->sd), free(p->dyd);
}

static scl_tensor like_x(scl_context ctx, const problem *p, const float *host) {
  return tk_tensor(ctx, host, p->d[0], p->d[1], p->d[2], p->d[3]);
}

/* The backward pass cuts the batch into parts of `chunk` samples (prelu.c): these shapes give chunks
   of 1 and of several samples, with inner 1, below and above the group size. The kernels take 16
   elements at a time: rows (inner) shorter than 16, of whole vectors (16, 48) and with a ragged
   end (25, 63, 70), so that forward vectors span one, two or many channels, and counts with and
   without a ragged last vector; [9,64,21,19] gives a backward group 3 rows of 25 vectors, more
   than a group has work-items, so they wrap from row to row. */
static const size_t shapes[][4] = {{3, 5, 7, 9},   {2, 3, 0, 0},   {1, 1, 0, 0},    {4, 3, 5, 0},
                                   {2, 600, 0, 0}, {300, 2, 0, 0}, {5, 4, 70, 0},   {37, 3, 5, 0},
                                   {40, 16, 5, 0}, {9, 300, 3, 0}, {6, 128, 7, 10}, {3, 4, 6, 8},
                                   {2, 5, 4, 4},   {4, 3, 25, 0},  {9, 64, 21, 19}};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static void prelu_forward_shapes(scl_context ctx) {
  for (size_t s = 0; s < NSHAPES; s++) {
    problem p = make_problem(shapes[s], 200 + s);
    scl_tensor X = like_x(ctx, &p, p.x), S = tk_tensor(ctx, p.slope, p.c, 0, 0, 0), Y = like_x(ctx, &p, NULL);
    TK_OK(ctx, scl_prelu_forward(ctx, X, S, Y));
    double *ref = malloc(p.count * sizeof *ref);
    ref_prelu_forward(p.n, p.c, p.inner, p.xd, p.sd, ref);
    char what[64];
    snprintf(what, sizeof what, "prelu y [%zu,%zu,%zu,%zu]", p.d[0], p.d[1], p.d[2], p.d[3]);
    tk_expect_tensor(what, Y, ref, TK_TOL_ELEMENTWISE);
    free(ref);
    scl_tensor_release(X), scl_tensor_release(S), scl_tensor_release(Y);
    free_problem(&p);
  }
}

/* Backward with both gradients, then each alone (the other NULL), then both again (nothing accumulates). */
static void prelu_backward_shapes(scl_context ctx) {
  for (size_t s = 0; s < NSHAPES; s++) {
    problem p = make_problem(shapes[s], 300 + s);
    scl_tensor X = like_x(ctx, &p, p.x), S = tk_tensor(ctx, p.slope, p.c, 0, 0, 0), DY = like_x(ctx, &p, p.dy);
    double *rdx = malloc(p.count * sizeof *rdx), *rds = malloc(p.c * sizeof *rds);
    ref_prelu_backward(p.n, p.c, p.inner, p.xd, p.sd, p.dyd, rdx, rds);
    for (int mode = 0; mode < 4; mode++) { /* 0, 3: both; 1: dx only; 2: dslope only */
      scl_tensor DX = like_x(ctx, &p, NULL), DS = tk_tensor(ctx, NULL, p.c, 0, 0, 0);
      TK_OK(ctx, scl_prelu_backward(ctx, X, S, DY, mode == 2 ? NULL : DX, mode == 1 ? NULL : DS));
      if (mode == 3) TK_OK(ctx, scl_prelu_backward(ctx, X, S, DY, DX, DS));
      char what[96];
      if (mode != 2) {
        snprintf(what, sizeof what, "prelu dx [%zu,%zu,%zu,%zu] mode %d", p.d[0], p.d[1], p.d[2], p.d[3], mode);
        tk_expect_tensor(what, DX, rdx, TK_TOL_ELEMENTWISE);
      }
      if (mode != 1) {
        snprintf(what, sizeof what, "prelu dslope [%zu,%zu,%zu,%zu] mode %d", p.d[0], p.d[1], p.d[2], p.d[3], mode);
        tk_expect_tensor(what, DS, rds, TK_TOL_ELEMENTWISE);
      }
      scl_tensor_release(DX), scl_tensor_release(DS);
    }
    free(rdx), free(rds);
    scl_tensor_release(X), scl_tensor_release(S), scl_tensor_release(DY);
    free_problem(&p);
  }
}

/* Every tensor at an odd element offset of its buffer. */
static void prelu_offsets(scl_context ctx) {
  static const size_t d[4] = {3, 4, 5, 6};
  problem p = make_problem(d, 350);
  scl_tensor b[6];
  scl_tensor X = tk_tensor_at_offset(ctx, p.x, 4, d, 3, &b[0]);
  scl_tensor S = tk_tensor_at_offset(ctx, p.slope, 1, &p.c, 1, &b[1]);
  scl_tensor DY = tk_tensor_at_offset(ctx, p.dy, 4, d, 5, &b[2]);
  scl_tensor Y = tk_tensor_at_offset(ctx, NULL, 4, d, 7, &b[3]);
  scl_tensor DX = tk_tensor_at_offset(ctx, NULL, 4, d, 2, &b[4]);
  scl_tensor DS = tk_tensor_at_offset(ctx, NULL, 1, &p.c, 9, &b[5]);
  TK_OK(ctx, scl_prelu_forward(ctx, X, S, Y));
  TK_OK(ctx, scl_prelu_backward(ctx, X, S, DY, DX, DS));
  double *ry = malloc(p.count * sizeof *ry), *rdx = malloc(p.count * sizeof *rdx), *rds = malloc(p.c * sizeof *rds);
  ref_prelu_forward(p.n, p.c, p.inner, p.xd, p.sd, ry);
  ref_prelu_backward(p.n, p.c, p.inner, p.xd, p.sd, p.dyd, rdx, rds);
  tk_expect_tensor("y at an offset", Y, ry, TK_TOL_ELEMENTWISE);
  tk_expect_tensor("dx at an offset", DX, rdx, TK_TOL_ELEMENTWISE);
  tk_expect_tensor("dslope at an offset", DS, rds, TK_TOL_ELEMENTWISE);
  free(ry), free(rdx), free(rds);
  scl_tensor ts[] = {X, S, DY, Y, DX, DS};
  for (int i = 0; i < 6; i++) scl_tensor_release(ts[i]), scl_tensor_release(b[i]);
  free_problem(&p);
}

/* L = Σ prelu(x)·dy in double, for the problem's x and slope. */
static double prelu_loss(const void *arg) {
  const problem *p = arg;
  double *y = malloc(p->count * sizeof *y), l = 0;
  ref_prelu_forward(p->n, p->c, p->inner, p->xd, p->sd, y);
  for (size_t i = 0; i < p->count; i++) l += y[i] * p->dyd[i];
  free(y);
  return l;
}

/* The device backward against finite differences; x within 1e-3 of the kink at 0 is skipped. */
static void prelu_gradcheck(scl_context ctx) {
  static const size_t d[4] = {3, 5, 7, 9};
  problem p = make_problem(d, 400);
  scl_tensor X = like_x(ctx, &p, p.x), S = tk_tensor(ctx, p.slope, p.c, 0, 0, 0), DY = like_x(ctx, &p, p.dy);
  scl_tensor DX = like_x(ctx, &p, NULL), DS = tk_tensor(ctx, NULL, p.c, 0, 0, 0);
  TK_OK(ctx, scl_prelu_backward(ctx, X, S, DY, DX, DS));
  float *dx = tk_read(DX);
  const double h = 1e-4;
  float *kept = malloc(p.count * sizeof *kept);
  double *fd = malloc(p.count * sizeof *fd);
  size_t m = 0;
  for (size_t i = 0; i < p.count; i++) {
    if (fabs(p.xd[i]) < 1e-3) continue;
    kept[m] = dx[i];
    fd[m++] = tk_central_difference(prelu_loss, &p, p.xd, i, h);
  }
  TK_CHECK_MSG(m > p.count / 2, "only %zu of %zu points checked", m, p.count);
  tk_expect_close("prelu dx vs finite differences", kept, fd, m, TK_TOL_ELEMENTWISE);
  tk_central_differences(prelu_loss, &p, p.sd, p.c, h, fd);
  tk_expect_tensor("prelu dslope vs finite differences", DS, fd, TK_TOL_ELEMENTWISE);
  free(dx), free(kept), free(fd);
  scl_tensor_release(X), scl_tensor_release(S), scl_tensor_release(DY), scl_tensor_release(DX),
      scl_tensor_release(DS);
  free_problem(&p);
}

static void prelu_bad_inputs(scl_context ctx) {
  static const size_t d[4] = {2, 3, 4, 0};
  problem p = make_problem(d, 500);
  scl_tensor X = like_x(ctx, &p, p.x), S = tk_tensor(ctx, p.slope, 3, 0, 0, 0), DY = like_x(ctx, &p, p.dy);
  scl_tensor Y = like_x(ctx, &p, p.dy), DX = like_x(ctx, &p, p.dy), DS = tk_tensor(ctx, p.slope, 3, 0, 0, 0);
  scl_tensor S4 = tk_tensor(ctx, p.x, 4, 0, 0, 0), X1 = tk_tensor(ctx, p.x, 24, 0, 0, 0);
  scl_tensor Y2 = tk_tensor(ctx, p.x, 2, 12, 0, 0), DS2 = tk_tensor(ctx, p.x, 3, 1, 0, 0);
  size_t three = 3, dims[3] = {2, 3, 4};
  scl_tensor SI = NULL, XI = NULL, DSX = NULL;
  TK_OK(ctx, scl_tensor_create(ctx, SCL_I32, 1, &three, &SI));
  TK_OK(ctx, scl_tensor_create(ctx, SCL_I32, 3, dims, &XI));
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 1, &three, scl_tensor_buffer(DX), 5 * sizeof(float), &DSX));
  float *y0 = tk_read(Y), *dx0 = tk_read(DX), *ds0 = tk_read(DS);

  TK_STATUS(ctx, scl_prelu_forward(NULL, X, S, Y), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_prelu_forward(ctx, NULL, S, Y), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_prelu_forward(ctx, X, NULL, Y), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_prelu_forward(ctx, X, S, NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_prelu_forward(ctx, XI, S, Y), SCL_ERR_DTYPE);
  TK_STATUS(ctx, scl_prelu_forward(ctx, X, SI, Y), SCL_ERR_DTYPE);
  TK_STATUS(ctx, scl_prelu_forward(ctx, X, S4, Y), SCL_ERR_SHAPE);
  TK_CHECK(strstr(scl_context_error(ctx), "slope") != NULL);
  TK_STATUS(ctx, scl_prelu_forward(ctx, X, S, Y2), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_prelu_forward(ctx, X1, S, X1), SCL_ERR_SHAPE); /* 1-D x has no channel axis */
  TK_STATUS(ctx, scl_prelu_forward(ctx, Y, S, Y), SCL_ERR_INVALID_ARGUMENT); /* not in place */
  tk_expect_unchanged("bad prelu forward", Y, y0);

  TK_STATUS(ctx, scl_prelu_backward(NULL, X, S, DY, DX, DS), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_prelu_backward(ctx, X, S, NULL, DX, DS), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_prelu_backward(ctx, X, S, Y2, DX, DS), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_prelu_backward(ctx, X, S, DY, Y2, DS), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_prelu_backward(ctx, X, S, DY, DX, S4), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_prelu_backward(ctx, X, S, DY, DX, DS2), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_prelu_backward(ctx, X, S, DY, DX, SI), SCL_ERR_DTYPE);
  TK_STATUS(ctx, scl_prelu_backward(ctx, X, S, DY, DX, DSX), SCL_ERR_INVALID_ARGUMENT); /* dslope inside dx */
  TK_STATUS(ctx, scl_prelu_backward(ctx, X, S, DX, DX, DS), SCL_ERR_INVALID_ARGUMENT);  /* dx is dy */
  TK_STATUS(ctx, scl_prelu_backward(ctx, X, DS, DY, DX, DS), SCL_ERR_INVALID_ARGUMENT); /* dslope is slope */
  tk_expect_unchanged("bad prelu backward dx", DX, dx0);
  tk_expect_unchanged("bad prelu backward dslope", DS, ds0);
  TK_OK(ctx, scl_prelu_backward(ctx, X, S, DY, NULL, NULL)); /* nothing asked: nothing done */
  tk_expect_unchanged("no gradients asked", DX, dx0);

  free(y0), free(dx0), free(ds0);
  scl_tensor ts[] = {X, S, DY, Y, DX, DS, S4, X1, Y2, DS2, SI, XI, DSX};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) scl_tensor_release(ts[i]);
  free_problem(&p);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"prelu_forward_shapes", prelu_forward_shapes},
                           {"prelu_backward_shapes", prelu_backward_shapes},
                           {"prelu_offsets", prelu_offsets},
                           {"prelu_gradcheck", prelu_gradcheck},
                           {"prelu_bad_inputs", prelu_bad_inputs}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
