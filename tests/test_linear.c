/* scl_linear_forward / scl_linear_backward against the naive double reference (tests/ref/ref_linear.c)
   and central finite differences of it; NULL gradients; bad inputs (status AND untouched outputs);
   tensors wrapped at byte offsets. */
#include "ref/ref_linear.h"
#include "testkit/testkit.h"

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

typedef struct {
  const linear_case *c;
  size_t n, k, m;
  float *x, *w, *b, *dy;
  double *xd, *wd, *bd, *dyd;
} problem;

static double *to_double(const float *f, size_t n) {
  double *d = malloc(n * sizeof *d);
  for (size_t i = 0; i < n; i++) d[i] = f[i];
  return d;
}

static float *random_floats(tk_rng *r, size_t n) {
  float *f = malloc(n * sizeof *f);
  tk_fill_uniform(r, f, n, -1, 1);
  return f;
}

static problem make_problem(const linear_case *c, uint64_t seed) {
  problem pr = {.c = c, .n = c->xdims[0], .k = 1, .m = c->m};
  for (int i = 1; i < 4 && c->xdims[i]; i++) pr.k *= c->xdims[i];
  tk_rng r = tk_rng_make(seed);
  pr.x = random_floats(&r, pr.n * pr.k), pr.w = random_floats(&r, pr.m * pr.k), pr.b = random_floats(&r, pr.m);
  pr.dy = random_floats(&r, pr.n * pr.m);
  pr.xd = to_double(pr.x, pr.n * pr.k), pr.wd = to_double(pr.w, pr.m * pr.k), pr.bd = to_double(pr.b, pr.m);
  pr.dyd = to_double(pr.dy, pr.n * pr.m);
  return pr;
}

static void free_problem(problem *pr) {
  free(pr->x), free(pr->w), free(pr->b), free(pr->dy);
  free(pr->xd), free(pr->wd), free(pr->bd), free(pr->dyd);
}

typedef struct {
  scl_tensor x, w, b, dy, y, dx, dw, db;
} tensors;

/* Device tensors of a problem (x and dx in x's own shape); outputs start NaN-poisoned. */
static tensors make_tensors(scl_context ctx, const problem *pr) {
  const size_t *xd = pr->c->xdims;
  tensors t = {
      .x = tk_tensor(ctx, pr->x, xd[0], xd[1], xd[2], xd[3]),
      .w = tk_tensor(ctx, pr->w, pr->m, pr->k, 0, 0),
      .b = tk_tensor(ctx, pr->b, pr->m, 0, 0, 0),
      .dy = tk_tensor(ctx, pr->dy, pr->n, pr->m, 0, 0),
      .y = tk_tensor(ctx, NULL, pr->n, pr->m, 0, 0),
      .dx = tk_tensor(ctx, NULL, xd[0], xd[1], xd[2], xd[3]),
      .dw = tk_tensor(ctx, NULL, pr->m, pr->k, 0, 0),
      .db = tk_tensor(ctx, NULL, pr->m, 0, 0, 0),
  };
  return t;
}

static void free_tensors(tensors *t) {
  scl_tensor all[] = {t->x, t->w, t->b, t->dy, t->y, t->dx, t->dw, t->db};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

static void expect_tensor(const char *case_name, const char *what, scl_tensor t, const double *ref) {
  float *got = tk_read(t);
  char label[160];
  snprintf(label, sizeof label, "%s: %s", case_name, what);
  tk_expect_close(label, got, ref, scl_tensor_count(t), TK_TOL_GEMM);
  free(got);
}

static void forward_matches_reference(scl_context ctx) {
  for (size_t c = 0; c < NCASES; c++)
    for (int with_bias = 0; with_bias < 2; with_bias++) {
      problem pr = make_problem(&CASES[c], 10 + c);
      tensors t = make_tensors(ctx, &pr);
      double *ref = malloc(pr.n * pr.m * sizeof *ref);
      ref_linear_forward(pr.n, pr.k, pr.m, pr.xd, pr.wd, with_bias ? pr.bd : NULL, ref);
      TK_STATUS(ctx, scl_linear_forward(ctx, t.x, t.w, with_bias ? t.b : NULL, t.y), SCL_OK);
      expect_tensor(CASES[c].name, with_bias ? "y with bias" : "y without bias", t.y, ref);
      free(ref);
      free_tensors(&t);
      free_problem(&pr);
    }
}

typedef struct {
  double *dx, *dw, *db;
} grads;

static grads reference_grads(const problem *pr) {
  grads r = {malloc(pr->n * pr->k * sizeof(double)), malloc(pr->m * pr->k * sizeof(double)),
             malloc(pr->m * sizeof(double))};
  ref_linear_backward(pr->n, pr->k, pr->m, pr->xd, pr->wd, pr->dyd, r.dx, r.dw, r.db);
  return r;
}

static void free_grads(grads *r) { free(r->dx), free(r->dw), free(r->db); }

static void backward_matches_reference(scl_context ctx) {
  for (size_t c = 0; c < NCASES; c++) {
    problem pr = make_problem(&CASES[c], 20 + c);
    tensors t = make_tensors(ctx, &pr);
    grads ref = reference_grads(&pr);
    TK_STATUS(ctx, scl_linear_backward(ctx, t.x, t.w, t.dy, t.dx, t.dw, t.db), SCL_OK);
    expect_tensor(CASES[c].name, "dx", t.dx, ref.dx);
    expect_tensor(CASES[c].name, "dw", t.dw, ref.dw);
    expect_tensor(CASES[c].name, "db", t.db, ref.db);
    free_grads(&ref);
    free_tensors(&t);
    free_problem(&pr);
  }
}

/* L = Σ y·g of the double reference forward. */
static double loss(const problem *pr, double *y) {
  ref_linear_forward(pr->n, pr->k, pr->m, pr->xd, pr->wd, pr->bd, y);
  double s = 0;
  for (size_t i = 0; i < pr->n * pr->m; i++) s += y[i] * pr->dyd[i];
  return s;
}

static double *finite_differences(problem *pr, double *v, size_t n) {
  const double eps = 1e-3;
  double *fd = malloc(n * sizeof *fd), *y = malloc(pr->n * pr->m * sizeof *y);
  for (size_t i = 0; i < n; i++) {
    double keep = v[i];
    v[i] = keep + eps;
    double up = loss(pr, y);
    v[i] = keep - eps;
    double down = loss(pr, y);
    v[i] = keep;
    fd[i] = (up - down) / (2 * eps);
  }
  free(y);
  return fd;
}

static void backward_matches_finite_differences(scl_context ctx) {
  for (size_t c = 0; c < NCASES; c++) {
    problem pr = make_problem(&CASES[c], 30 + c);
    if (pr.n * pr.k * pr.m > FD_MAX_WORK) {
      free_problem(&pr);
      continue;
    }
    tensors t = make_tensors(ctx, &pr);
    TK_STATUS(ctx, scl_linear_backward(ctx, t.x, t.w, t.dy, t.dx, t.dw, t.db), SCL_OK);
    double *fx = finite_differences(&pr, pr.xd, pr.n * pr.k), *fw = finite_differences(&pr, pr.wd, pr.m * pr.k),
           *fb = finite_differences(&pr, pr.bd, pr.m);
    expect_tensor(CASES[c].name, "dx vs finite differences", t.dx, fx);
    expect_tensor(CASES[c].name, "dw vs finite differences", t.dw, fw);
    expect_tensor(CASES[c].name, "db vs finite differences", t.db, fb);
    free(fx), free(fw), free(fb);
    free_tensors(&t);
    free_problem(&pr);
  }
}

static void null_gradients(scl_context ctx) {
  problem pr = make_problem(&CASES[0], 40);
  grads ref = reference_grads(&pr);
  for (int mask = 0; mask < 8; mask++) {
    tensors t = make_tensors(ctx, &pr);
    scl_tensor dx = mask & 1 ? t.dx : NULL, dw = mask & 2 ? t.dw : NULL, db = mask & 4 ? t.db : NULL;
    TK_STATUS(ctx, scl_linear_backward(ctx, t.x, t.w, t.dy, dx, dw, db), SCL_OK);
    char name[64];
    snprintf(name, sizeof name, "only%s%s%s", dx ? " dx" : "", dw ? " dw" : "", db ? " db" : "");
    if (dx) expect_tensor(name, "dx", dx, ref.dx);
    if (dw) expect_tensor(name, "dw", dw, ref.dw);
    if (db) expect_tensor(name, "db", db, ref.db);
    free_tensors(&t);
  }
  free_grads(&ref);
  free_problem(&pr);
}

/* ---- bad inputs --------------------------------------------------------------------------------- */

#define SENTINEL 7.0f

static scl_tensor sentinel(scl_context ctx, scl_dtype dtype, size_t d0, size_t d1) {
  size_t dims[2] = {d0, d1};
  scl_tensor t = NULL;
  if (scl_tensor_create(ctx, dtype, d1 ? 2 : 1, dims, &t) != SCL_OK) tk_fail(__FILE__, __LINE__, "create failed");
  scl_tensor_fill(t, SENTINEL);
  return t;
}

/* Every element still holds SENTINEL (as a float, or as an int for I32 tensors). */
static void expect_untouched(const char *what, scl_tensor t) {
  if (!t) return;
  size_t n = scl_tensor_count(t), bad = 0;
  uint32_t *h = malloc(n * 4), want;
  float f = SENTINEL;
  int32_t i = (int32_t)SENTINEL;
  if (scl_tensor_dtype(t) == SCL_I32) memcpy(&want, &i, 4);
  else memcpy(&want, &f, 4);
  TK_CHECK(scl_tensor_read(t, h, n * 4) == SCL_OK);
  for (size_t j = 0; j < n; j++) bad += h[j] != want;
  TK_CHECK_MSG(bad == 0, "%s: %zu elements of an output changed after a refused call", what, bad);
  free(h);
}

static void expect_refused(scl_context ctx, const char *what, scl_status got, scl_status want, const char *needle,
                           scl_tensor o1, scl_tensor o2, scl_tensor o3) {
  TK_CHECK_MSG(got == want, "%s: got %s, expected %s (%s)", what, scl_status_string(got), scl_status_string(want),
               scl_context_error(ctx));
  if (needle) TK_CHECK_MSG(strstr(scl_context_error(ctx), needle), "%s: message \"%s\" lacks \"%s\"", what,
                           scl_context_error(ctx), needle);
  expect_untouched(what, o1), expect_untouched(what, o2), expect_untouched(what, o3);
}

static void forward_refuses_bad_input(scl_context ctx) {
  scl_tensor x = sentinel(ctx, SCL_F32, 3, 20), w = sentinel(ctx, SCL_F32, 7, 20), b = sentinel(ctx, SCL_F32, 7, 0);
  scl_tensor y = sentinel(ctx, SCL_F32, 3, 7), xi = sentinel(ctx, SCL_I32, 3, 20), yi = sentinel(ctx, SCL_I32, 3, 7);
  scl_tensor w_k = sentinel(ctx, SCL_F32, 7, 21), y_n = sentinel(ctx, SCL_F32, 4, 7), y_m = sentinel(ctx, SCL_F32, 3, 8);
  scl_tensor b_m = sentinel(ctx, SCL_F32, 8, 0), w1 = sentinel(ctx, SCL_F32, 140, 0);
#define REFUSE(what, call, want, needle, out) expect_refused(ctx, what, call, want, needle, out, NULL, NULL)
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
  scl_tensor x = sentinel(ctx, SCL_F32, 3, 20), w = sentinel(ctx, SCL_F32, 7, 20), dy = sentinel(ctx, SCL_F32, 3, 7);
  scl_tensor dx = sentinel(ctx, SCL_F32, 3, 20), dw = sentinel(ctx, SCL_F32, 7, 20), db = sentinel(ctx, SCL_F32, 7, 0);
  scl_tensor dy_bad = sentinel(ctx, SCL_F32, 3, 6), dx_bad = sentinel(ctx, SCL_F32, 20, 3);
  scl_tensor dw_bad = sentinel(ctx, SCL_F32, 7, 19), db_bad = sentinel(ctx, SCL_F32, 3, 0);
  scl_tensor dbi = sentinel(ctx, SCL_I32, 7, 0);
#define REFUSE(what, call, want, needle) expect_refused(ctx, what, call, want, needle, dx, dw, db)
  TK_CHECK(scl_linear_backward(NULL, x, w, dy, dx, dw, db) == SCL_ERR_INVALID_ARGUMENT);
  REFUSE("NULL x", scl_linear_backward(ctx, NULL, w, dy, dx, dw, db), SCL_ERR_INVALID_ARGUMENT, "x is NULL");
  REFUSE("NULL dy", scl_linear_backward(ctx, x, w, NULL, dx, dw, db), SCL_ERR_INVALID_ARGUMENT, "dy is NULL");
  REFUSE("wrong dy", scl_linear_backward(ctx, x, w, dy_bad, dx, dw, db), SCL_ERR_SHAPE, "[3,6]");
  /* dx must have x's shape, not only its element count. */
  REFUSE("wrong dx", scl_linear_backward(ctx, x, w, dy, dx_bad, dw, db), SCL_ERR_SHAPE, "[20,3]");
  REFUSE("wrong dw", scl_linear_backward(ctx, x, w, dy, dx, dw_bad, db), SCL_ERR_SHAPE, "[7,19]");
  REFUSE("wrong db", scl_linear_backward(ctx, x, w, dy, dx, dw, db_bad), SCL_ERR_SHAPE, "db");
  expect_refused(ctx, "I32 db", scl_linear_backward(ctx, x, w, dy, dx, dw, dbi), SCL_ERR_DTYPE, "db", dx, dw, dbi);
  REFUSE("dw is w", scl_linear_backward(ctx, x, w, dy, dx, w, db), SCL_ERR_INVALID_ARGUMENT, "overlaps");
  REFUSE("dx is x", scl_linear_backward(ctx, x, w, dy, x, dw, db), SCL_ERR_INVALID_ARGUMENT, "overlaps");
#undef REFUSE
  expect_untouched("w", w), expect_untouched("x", x);
  scl_tensor all[] = {x, w, dy, dx, dw, db, dy_bad, dx_bad, dw_bad, db_bad, dbi};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

/* Every argument a view into one buffer at an odd element offset; gaps keep their sentinel. */
static void wrapped_offsets(scl_context ctx) {
  problem pr = make_problem(&CASES[0], 50);
  size_t nx = pr.n * pr.k, nw = pr.m * pr.k, ny = pr.n * pr.m;
  size_t sizes[8] = {nx, nw, pr.m, ny, ny, nx, nw, pr.m}; /* x w b dy y dx dw db */
  size_t offs[8], total = 1;
  for (int i = 0; i < 8; i++) offs[i] = total, total += sizes[i] + 3;
  float *host = malloc(total * sizeof *host), *out = malloc(total * sizeof *out);
  for (size_t i = 0; i < total; i++) host[i] = SENTINEL;
  memcpy(host + offs[0], pr.x, nx * 4), memcpy(host + offs[1], pr.w, nw * 4);
  memcpy(host + offs[2], pr.b, pr.m * 4), memcpy(host + offs[3], pr.dy, ny * 4);
  cl_int err;
  cl_mem buf = clCreateBuffer(scl_context_cl(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, total * 4, host, &err);
  TK_CHECK(err == CL_SUCCESS);
  size_t xdims[2] = {pr.n, pr.k}, wdims[2] = {pr.m, pr.k}, ydims[2] = {pr.n, pr.m};
  const size_t *dims[8] = {xdims, wdims, &pr.m, ydims, ydims, xdims, wdims, &pr.m};
  scl_tensor t[8] = {NULL};
  for (int i = 0; i < 8; i++)
    TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, dims[i] == &pr.m ? 1 : 2, dims[i], buf, offs[i] * 4, &t[i]));
  TK_OK(ctx, scl_linear_forward(ctx, t[0], t[1], t[2], t[4]));
  TK_OK(ctx, scl_linear_backward(ctx, t[0], t[1], t[3], t[5], t[6], t[7]));
  TK_CHECK(clEnqueueReadBuffer(scl_context_queue(ctx), buf, CL_TRUE, 0, total * 4, out, 0, NULL, NULL) == CL_SUCCESS);

  double *y = malloc(ny * sizeof *y);
  ref_linear_forward(pr.n, pr.k, pr.m, pr.xd, pr.wd, pr.bd, y);
  grads ref = reference_grads(&pr);
  tk_expect_close("wrapped y", out + offs[4], y, ny, TK_TOL_GEMM);
  tk_expect_close("wrapped dx", out + offs[5], ref.dx, nx, TK_TOL_GEMM);
  tk_expect_close("wrapped dw", out + offs[6], ref.dw, nw, TK_TOL_GEMM);
  tk_expect_close("wrapped db", out + offs[7], ref.db, pr.m, TK_TOL_GEMM);
  size_t changed = 0;
  for (size_t j = 0; j < offs[0]; j++) changed += out[j] != SENTINEL;
  for (int i = 0; i < 8; i++)
    for (size_t j = offs[i] + sizes[i]; j < (i + 1 < 8 ? offs[i + 1] : total); j++) changed += out[j] != SENTINEL;
  TK_CHECK_MSG(changed == 0, "%zu elements between the wrapped tensors changed", changed);

  for (int i = 0; i < 8; i++) scl_tensor_release(t[i]);
  clReleaseMemObject(buf);
  free(host), free(out), free(y);
  free_grads(&ref);
  free_problem(&pr);
}

/* The comparison must be able to fail: y computed without its bias does not pass as y with it. */
static void wrong_result_is_caught(scl_context ctx) {
  problem pr = make_problem(&CASES[0], 60);
  tensors t = make_tensors(ctx, &pr);
  double *ref = malloc(pr.n * pr.m * sizeof *ref);
  ref_linear_forward(pr.n, pr.k, pr.m, pr.xd, pr.wd, pr.bd, ref);
  TK_OK(ctx, scl_linear_forward(ctx, t.x, t.w, NULL, t.y));
  float *got = tk_read(t.y);
  TK_CHECK(tk_rel_l2(got, ref, pr.n * pr.m) > TK_TOL_GEMM);
  free(got), free(ref);
  free_tensors(&t);
  free_problem(&pr);
}

int main(int argc, char **argv) {
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
