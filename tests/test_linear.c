/* scl_linear_forward / scl_linear_backward against the naive double reference (tests/ref/ref_linear.c)
   and central finite differences of it; NULL gradients; bad inputs (status AND untouched outputs);
   tensors wrapped at byte offsets. */
#include "internal.h"
#include "ref/ref_linear.h"
#include "testkit/tk_layer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  size_t xdims[4]; /* x's shape, 0-terminated; N = xdims[0], K = product of the rest */
  size_t m;
} linear_case;

static const linear_case CASES[] = {
    {"x [3,5,2,2] as [3,20], M 7", {3, 5, 2, 2}, 7},
    {"x [1,13], M 4", {1, 13, 0, 0}, 4},
    {"1-D x [5] as [5,1], M 3", {5, 0, 0, 0}, 3},
    {"x [17,301], M 70", {17, 301, 0, 0}, 70},
    {"x [64,1000], M 900 (CLBlast's large-GEMM path)", {64, 1000, 0, 0}, 900},
};
/* Finite differences cost two forwards per parameter: only for problems up to this N·K·M. */
#define FD_MAX_WORK 20000
#define NCASES (sizeof CASES / sizeof CASES[0])
/* The cases run: all but the last (large) one under SPHERECL_TEST_SMALL (set in main). */
static size_t ncases = NCASES;

typedef struct {
  size_t n, k, m;
  tk_layer_data d;
} problem;

static problem make_problem(const linear_case *c, uint64_t seed) {
  problem pr = {.n = c->xdims[0], .k = 1, .m = c->m};
  for (int i = 1; i < 4 && c->xdims[i]; i++) pr.k *= c->xdims[i];
  /* x and dx in x's own shape */
  tk_layer_shape shape = {.w = {pr.m, pr.k}, .y = {pr.n, pr.m}, .nb = pr.m};
  memcpy(shape.x, c->xdims, sizeof shape.x);
  pr.d = tk_layer_data_make(&shape, seed);
  return pr;
}

static void free_problem(problem *pr) { tk_layer_data_free(&pr->d); }

/* The double reference forward of the layer described by arg (a problem). */
static void reference_forward(const void *arg, const tk_layer_data *d, double *y) {
  const problem *pr = arg;
  ref_linear_forward(pr->n, pr->k, pr->m, d->xd, d->wd, d->bd, y);
}

/* Both ways of computing x·wᵀ (lib/ops/bias.c, scl__gemm_xwt): one NT GEMM (tile 1: CLBlast's GEMMK=0
   or unknown parameters), and wᵀ's transpose-free form with the small operands transposed (a GEMMK=1
   tile; forced here, whatever this machine's tuning). */
static void forward_matches_reference(scl_context ctx) {
  size_t saved = ctx->gemm_tile;
  for (int tiled = 0; tiled < 2; tiled++) {
    ctx->gemm_tile = tiled ? 32 : 1;
    for (size_t c = 0; c < ncases; c++)
      for (int with_bias = 0; with_bias < 2; with_bias++) {
        problem pr = make_problem(&CASES[c], 10 + c);
        tk_layer_tensors t = tk_layer_tensors_make(ctx, &pr.d);
        double *ref = malloc(pr.n * pr.m * sizeof *ref);
        ref_linear_forward(pr.n, pr.k, pr.m, pr.d.xd, pr.d.wd, with_bias ? pr.d.bd : NULL, ref);
        TK_STATUS(ctx, scl_linear_forward(ctx, t.x, t.w, with_bias ? t.b : NULL, t.y), SCL_OK);
        char what[64];
        snprintf(what, sizeof what, "y %s bias%s", with_bias ? "with" : "without", tiled ? ", w read in place" : "");
        tk_layer_expect(CASES[c].name, what, t.y, ref);
        free(ref);
        tk_layer_tensors_release(&t);
        free_problem(&pr);
      }
  }
  ctx->gemm_tile = saved;
}

static tk_layer_grads reference_grads(const problem *pr) {
  tk_layer_grads r = tk_layer_grads_alloc(&pr->d);
  ref_linear_backward(pr->n, pr->k, pr->m, pr->d.xd, pr->d.wd, pr->d.dyd, r.dx, r.dw, r.db);
  return r;
}

static void backward_matches_reference(scl_context ctx) {
  for (size_t c = 0; c < ncases; c++) {
    problem pr = make_problem(&CASES[c], 20 + c);
    tk_layer_tensors t = tk_layer_tensors_make(ctx, &pr.d);
    tk_layer_grads ref = reference_grads(&pr);
    TK_STATUS(ctx, scl_linear_backward(ctx, t.x, t.w, t.dy, t.dx, t.dw, t.db), SCL_OK);
    tk_layer_expect_grads(CASES[c].name, t.dx, t.dw, t.db, &ref, "");
    tk_layer_grads_free(&ref);
    tk_layer_tensors_release(&t);
    free_problem(&pr);
  }
}

static void backward_matches_finite_differences(scl_context ctx) {
  for (size_t c = 0; c < ncases; c++) {
    problem pr = make_problem(&CASES[c], 30 + c);
    if (pr.n * pr.k * pr.m > FD_MAX_WORK) {
      free_problem(&pr);
      continue;
    }
    tk_layer_tensors t = tk_layer_tensors_make(ctx, &pr.d);
    TK_STATUS(ctx, scl_linear_backward(ctx, t.x, t.w, t.dy, t.dx, t.dw, t.db), SCL_OK);
    tk_layer_grads fd = tk_layer_finite_differences(&pr.d, reference_forward, &pr);
    tk_layer_expect_grads(CASES[c].name, t.dx, t.dw, t.db, &fd, " vs finite differences");
    tk_layer_grads_free(&fd);
    tk_layer_tensors_release(&t);
    free_problem(&pr);
  }
}

static void null_gradients(scl_context ctx) {
  problem pr = make_problem(&CASES[0], 40);
  tk_layer_grads ref = reference_grads(&pr);
  for (int mask = 0; mask < 8; mask++) {
    tk_layer_tensors t = tk_layer_tensors_make(ctx, &pr.d);
    scl_tensor dx = mask & 1 ? t.dx : NULL, dw = mask & 2 ? t.dw : NULL, db = mask & 4 ? t.db : NULL;
    TK_STATUS(ctx, scl_linear_backward(ctx, t.x, t.w, t.dy, dx, dw, db), SCL_OK);
    char name[64];
    snprintf(name, sizeof name, "only%s%s%s", dx ? " dx" : "", dw ? " dw" : "", db ? " db" : "");
    tk_layer_expect_grads(name, dx, dw, db, &ref, "");
    tk_layer_tensors_release(&t);
  }
  tk_layer_grads_free(&ref);
  free_problem(&pr);
}

/* ---- bad inputs --------------------------------------------------------------------------------- */

static void forward_refuses_bad_input(scl_context ctx) {
  scl_tensor x = tk_sentinel(ctx, SCL_F32, 3, 20, 0, 0), w = tk_sentinel(ctx, SCL_F32, 7, 20, 0, 0);
  scl_tensor b = tk_sentinel(ctx, SCL_F32, 7, 0, 0, 0), y = tk_sentinel(ctx, SCL_F32, 3, 7, 0, 0);
  scl_tensor xi = tk_sentinel(ctx, SCL_I32, 3, 20, 0, 0), yi = tk_sentinel(ctx, SCL_I32, 3, 7, 0, 0);
  scl_tensor w_k = tk_sentinel(ctx, SCL_F32, 7, 21, 0, 0), y_n = tk_sentinel(ctx, SCL_F32, 4, 7, 0, 0);
  scl_tensor y_m = tk_sentinel(ctx, SCL_F32, 3, 8, 0, 0), b_m = tk_sentinel(ctx, SCL_F32, 8, 0, 0, 0);
  scl_tensor w1 = tk_sentinel(ctx, SCL_F32, 140, 0, 0, 0);
#define REFUSE(what, call, want, needle, out) tk_expect_refused(ctx, what, call, want, needle, out, NULL, NULL)
  TK_CHECK(scl_linear_forward(NULL, x, w, b, y) == SCL_ERR_INVALID_ARGUMENT);
  REFUSE("NULL x", scl_linear_forward(ctx, NULL, w, b, y), SCL_ERR_INVALID_ARGUMENT, "x is NULL", y);
  REFUSE("NULL w", scl_linear_forward(ctx, x, NULL, b, y), SCL_ERR_INVALID_ARGUMENT, "w is NULL", y);
  REFUSE("NULL y", scl_linear_forward(ctx, x, w, b, NULL), SCL_ERR_INVALID_ARGUMENT, "y is NULL", NULL);
  REFUSE("I32 x", scl_linear_forward(ctx, xi, w, b, y), SCL_ERR_DTYPE, "x", y);
  REFUSE("I32 y", scl_linear_forward(ctx, x, w, b, yi), SCL_ERR_DTYPE, "y", yi);
  REFUSE("K differs", scl_linear_forward(ctx, x, w_k, b, y), SCL_ERR_SHAPE, "[7,21]", y);
  REFUSE("1-D w", scl_linear_forward(ctx, x, w1, b, y), SCL_ERR_SHAPE, "[140]", y);
  REFUSE("N differs", scl_linear_forward(ctx, x, w, b, y_n), SCL_ERR_SHAPE, "[4,7]", y_n);
  REFUSE("M differs", scl_linear_forward(ctx, x, w, b, y_m), SCL_ERR_SHAPE, "[3,8]", y_m);
  REFUSE("b length", scl_linear_forward(ctx, x, w, b_m, y), SCL_ERR_SHAPE, "b", y);
  size_t ydims[2] = {3, 7};
  scl_tensor y_in_w = NULL;
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, ydims, scl_tensor_buffer(w), 4 * 30, &y_in_w));
  REFUSE("y overlaps w", scl_linear_forward(ctx, x, w, b, y_in_w), SCL_ERR_INVALID_ARGUMENT, "overlaps", w);
#undef REFUSE
  scl_tensor all[] = {x, w, b, y, xi, yi, w_k, y_n, y_m, b_m, w1, y_in_w};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

static void backward_refuses_bad_input(scl_context ctx) {
  scl_tensor x = tk_sentinel(ctx, SCL_F32, 3, 20, 0, 0), w = tk_sentinel(ctx, SCL_F32, 7, 20, 0, 0);
  scl_tensor dy = tk_sentinel(ctx, SCL_F32, 3, 7, 0, 0), dx = tk_sentinel(ctx, SCL_F32, 3, 20, 0, 0);
  scl_tensor dw = tk_sentinel(ctx, SCL_F32, 7, 20, 0, 0), db = tk_sentinel(ctx, SCL_F32, 7, 0, 0, 0);
  scl_tensor dy_bad = tk_sentinel(ctx, SCL_F32, 3, 6, 0, 0), dx_bad = tk_sentinel(ctx, SCL_F32, 20, 3, 0, 0);
  scl_tensor dw_bad = tk_sentinel(ctx, SCL_F32, 7, 19, 0, 0), db_bad = tk_sentinel(ctx, SCL_F32, 3, 0, 0, 0);
  scl_tensor dbi = tk_sentinel(ctx, SCL_I32, 7, 0, 0, 0);
#define REFUSE(what, call, want, needle) tk_expect_refused(ctx, what, call, want, needle, dx, dw, db)
  TK_CHECK(scl_linear_backward(NULL, x, w, dy, dx, dw, db) == SCL_ERR_INVALID_ARGUMENT);
  REFUSE("NULL x", scl_linear_backward(ctx, NULL, w, dy, dx, dw, db), SCL_ERR_INVALID_ARGUMENT, "x is NULL");
  REFUSE("NULL dy", scl_linear_backward(ctx, x, w, NULL, dx, dw, db), SCL_ERR_INVALID_ARGUMENT, "dy is NULL");
  REFUSE("wrong dy", scl_linear_backward(ctx, x, w, dy_bad, dx, dw, db), SCL_ERR_SHAPE, "[3,6]");
  /* dx must have x's shape, not only its element count. */
  REFUSE("wrong dx", scl_linear_backward(ctx, x, w, dy, dx_bad, dw, db), SCL_ERR_SHAPE, "[20,3]");
  REFUSE("wrong dw", scl_linear_backward(ctx, x, w, dy, dx, dw_bad, db), SCL_ERR_SHAPE, "[7,19]");
  REFUSE("wrong db", scl_linear_backward(ctx, x, w, dy, dx, dw, db_bad), SCL_ERR_SHAPE, "db");
  tk_expect_refused(ctx, "I32 db", scl_linear_backward(ctx, x, w, dy, dx, dw, dbi), SCL_ERR_DTYPE, "db", dx, dw,
                    dbi);
  REFUSE("dw is w", scl_linear_backward(ctx, x, w, dy, dx, w, db), SCL_ERR_INVALID_ARGUMENT, "overlaps");
  REFUSE("dx is x", scl_linear_backward(ctx, x, w, dy, x, dw, db), SCL_ERR_INVALID_ARGUMENT, "overlaps");
#undef REFUSE
  tk_expect_sentinel("w", w), tk_expect_sentinel("x", x);
  scl_tensor all[] = {x, w, dy, dx, dw, db, dy_bad, dx_bad, dw_bad, db_bad, dbi};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

/* Every argument a view into one buffer at an odd element offset; gaps keep their sentinel. */
static void wrapped_offsets(scl_context ctx) {
  problem pr = make_problem(&CASES[0], 50);
  const size_t flat_x[4] = {pr.n, pr.k}; /* x and dx wrapped as the [N,K] matrix the op sees */
  memcpy(pr.d.shape.x, flat_x, sizeof flat_x);
  tk_layer_packed p = tk_layer_pack(ctx, &pr.d, 1, 3);
  TK_OK(ctx, scl_linear_forward(ctx, p.t.x, p.t.w, p.t.b, p.t.y));
  TK_OK(ctx, scl_linear_backward(ctx, p.t.x, p.t.w, p.t.dy, p.t.dx, p.t.dw, p.t.db));
  double *y = malloc(pr.d.ny * sizeof *y);
  ref_linear_forward(pr.n, pr.k, pr.m, pr.d.xd, pr.d.wd, pr.d.bd, y);
  tk_layer_grads ref = reference_grads(&pr);
  free(tk_layer_packed_check(ctx, &p, y, &ref));
  tk_layer_packed_release(&p);
  free(y);
  tk_layer_grads_free(&ref);
  free_problem(&pr);
}

/* The comparison must be able to fail: y computed without its bias does not pass as y with it. */
static void wrong_result_is_caught(scl_context ctx) {
  problem pr = make_problem(&CASES[0], 60);
  tk_layer_tensors t = tk_layer_tensors_make(ctx, &pr.d);
  double *ref = malloc(pr.n * pr.m * sizeof *ref);
  ref_linear_forward(pr.n, pr.k, pr.m, pr.d.xd, pr.d.wd, pr.d.bd, ref);
  TK_OK(ctx, scl_linear_forward(ctx, t.x, t.w, NULL, t.y)); /* bias left out on purpose */
  tk_layer_expect_differs("y without its bias", t.y, ref);
  free(ref);
  tk_layer_tensors_release(&t);
  free_problem(&pr);
}

int main(int argc, char **argv) {
  if (tk_small("the [64,1000]x900 case")) ncases = NCASES - 1;
  const tk_case cases[] = {
      {"forward_matches_reference", forward_matches_reference},
      {"backward_matches_reference", backward_matches_reference},
      {"backward_matches_finite_differences", backward_matches_finite_differences},
      {"null_gradients", null_gradients},
      {"forward_refuses_bad_input", forward_refuses_bad_input},
      {"backward_refuses_bad_input", backward_refuses_bad_input},
      {"wrapped_offsets", wrapped_offsets},
      {"wrong_result_is_caught", wrong_result_is_caught},
  };
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
