/* scl_conv2d_forward / scl_conv2d_backward against the naive double reference (tests/ref/ref_conv.c)
   and against central finite differences of that reference; NULL gradients; every bad input
   (status AND untouched outputs); tensors wrapped at byte offsets; a batch that runs in chunks. */
#include "ref/ref_conv.h"
#include "testkit/testkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
  const char *name;
  ref_conv_shape g; /* n c h w  k r s  sh sw ph pw */
} conv_case;

static const conv_case CASES[] = {
    {"3x3 stride 2 pad 1", {3, 5, 7, 9, 4, 3, 3, 2, 2, 1, 1}},
    {"1x1 stride 1 pad 0", {3, 5, 7, 9, 4, 1, 1, 1, 1, 0, 0}},
    {"5x5 stride 1 pad 2 on 11x6", {2, 3, 11, 6, 5, 5, 5, 1, 1, 2, 2}},
    {"3x3 stride 2 pad 0", {3, 5, 7, 9, 4, 3, 3, 2, 2, 0, 0}},
    {"2x3 stride 2x1 pad 0x1, one image", {1, 2, 5, 8, 3, 2, 3, 2, 1, 0, 1}},
};
#define NCASES (sizeof CASES / sizeof CASES[0])

/* One convolution with random inputs (float for the device, the same values in double). */
typedef struct {
  ref_conv_shape g;
  scl_conv2d_params p;
  size_t P, Q, nx, nw, ny;
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

static problem make_problem(const ref_conv_shape *g, uint64_t seed) {
  problem pr = {.g = *g, .p = {g->sh, g->sw, g->ph, g->pw}};
  tk_rng r = tk_rng_make(seed);
  pr.P = ref_conv_p(g), pr.Q = ref_conv_q(g);
  pr.nx = g->n * g->c * g->h * g->w, pr.nw = g->k * g->c * g->r * g->s, pr.ny = g->n * g->k * pr.P * pr.Q;
  pr.x = random_floats(&r, pr.nx), pr.w = random_floats(&r, pr.nw), pr.b = random_floats(&r, g->k);
  pr.dy = random_floats(&r, pr.ny);
  pr.xd = to_double(pr.x, pr.nx), pr.wd = to_double(pr.w, pr.nw), pr.bd = to_double(pr.b, g->k);
  pr.dyd = to_double(pr.dy, pr.ny);
  return pr;
}

static void free_problem(problem *pr) {
  free(pr->x), free(pr->w), free(pr->b), free(pr->dy);
  free(pr->xd), free(pr->wd), free(pr->bd), free(pr->dyd);
}

/* Device tensors of a problem; outputs start NaN-poisoned. */
typedef struct {
  scl_tensor x, w, b, dy, y, dx, dw, db;
} tensors;

static tensors make_tensors(scl_context ctx, const problem *pr) {
  const ref_conv_shape *g = &pr->g;
  tensors t = {
      .x = tk_tensor(ctx, pr->x, g->n, g->c, g->h, g->w),
      .w = tk_tensor(ctx, pr->w, g->k, g->c, g->r, g->s),
      .b = tk_tensor(ctx, pr->b, g->k, 0, 0, 0),
      .dy = tk_tensor(ctx, pr->dy, g->n, g->k, pr->P, pr->Q),
      .y = tk_tensor(ctx, NULL, g->n, g->k, pr->P, pr->Q),
      .dx = tk_tensor(ctx, NULL, g->n, g->c, g->h, g->w),
      .dw = tk_tensor(ctx, NULL, g->k, g->c, g->r, g->s),
      .db = tk_tensor(ctx, NULL, g->k, 0, 0, 0),
  };
  return t;
}

static void free_tensors(tensors *t) {
  scl_tensor all[] = {t->x, t->w, t->b, t->dy, t->y, t->dx, t->dw, t->db};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

/* Reads a tensor and compares it with ref (GEMM tolerance); names the case in the message. */
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
      problem pr = make_problem(&CASES[c].g, 100 + c);
      tensors t = make_tensors(ctx, &pr);
      double *ref = malloc(pr.ny * sizeof *ref);
      ref_conv2d_forward(&pr.g, pr.xd, pr.wd, with_bias ? pr.bd : NULL, ref);
      TK_STATUS(ctx, scl_conv2d_forward(ctx, &pr.p, t.x, t.w, with_bias ? t.b : NULL, t.y), SCL_OK);
      expect_tensor(CASES[c].name, with_bias ? "y with bias" : "y without bias", t.y, ref);
      free(ref);
      free_tensors(&t);
      free_problem(&pr);
    }
}

/* The analytic double reference of a problem's backward. */
typedef struct {
  double *dx, *dw, *db;
} grads;

static grads reference_grads(const problem *pr) {
  grads r = {malloc(pr->nx * sizeof(double)), malloc(pr->nw * sizeof(double)), malloc(pr->g.k * sizeof(double))};
  ref_conv2d_backward(&pr->g, pr->xd, pr->wd, pr->dyd, r.dx, r.dw, r.db);
  return r;
}

static void free_grads(grads *r) { free(r->dx), free(r->dw), free(r->db); }

static void backward_matches_reference(scl_context ctx) {
  for (size_t c = 0; c < NCASES; c++) {
    problem pr = make_problem(&CASES[c].g, 200 + c);
    tensors t = make_tensors(ctx, &pr);
    grads ref = reference_grads(&pr);
    TK_STATUS(ctx, scl_conv2d_backward(ctx, &pr.p, t.x, t.w, t.dy, t.dx, t.dw, t.db), SCL_OK);
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
  ref_conv2d_forward(&pr->g, pr->xd, pr->wd, pr->bd, y);
  double s = 0;
  for (size_t i = 0; i < pr->ny; i++) s += y[i] * pr->dyd[i];
  return s;
}

/* Central differences of L with respect to every element of v (one of pr's double inputs). */
static double *finite_differences(problem *pr, double *v, size_t n) {
  const double eps = 1e-3;
  double *fd = malloc(n * sizeof *fd), *y = malloc(pr->ny * sizeof *y);
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
    problem pr = make_problem(&CASES[c].g, 300 + c);
    tensors t = make_tensors(ctx, &pr);
    TK_STATUS(ctx, scl_conv2d_backward(ctx, &pr.p, t.x, t.w, t.dy, t.dx, t.dw, t.db), SCL_OK);
    double *fx = finite_differences(&pr, pr.xd, pr.nx), *fw = finite_differences(&pr, pr.wd, pr.nw),
           *fb = finite_differences(&pr, pr.bd, pr.g.k);
    expect_tensor(CASES[c].name, "dx vs finite differences", t.dx, fx);
    expect_tensor(CASES[c].name, "dw vs finite differences", t.dw, fw);
    expect_tensor(CASES[c].name, "db vs finite differences", t.db, fb);
    free(fx), free(fw), free(fb);
    free_tensors(&t);
    free_problem(&pr);
  }
}

/* Every subset of {dx, dw, db}: the requested ones are right, the others are not needed. */
static void null_gradients(scl_context ctx) {
  problem pr = make_problem(&CASES[0].g, 400);
  grads ref = reference_grads(&pr);
  for (int mask = 0; mask < 8; mask++) {
    tensors t = make_tensors(ctx, &pr);
    scl_tensor dx = mask & 1 ? t.dx : NULL, dw = mask & 2 ? t.dw : NULL, db = mask & 4 ? t.db : NULL;
    TK_STATUS(ctx, scl_conv2d_backward(ctx, &pr.p, t.x, t.w, t.dy, dx, dw, db), SCL_OK);
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

/* Every element of t still holds SENTINEL (as a float, or as an int for I32 tensors). */
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

static scl_tensor sentinel(scl_context ctx, size_t d0, size_t d1, size_t d2, size_t d3) {
  scl_tensor t = tk_tensor(ctx, NULL, d0, d1, d2, d3);
  scl_tensor_fill(t, SENTINEL);
  return t;
}

static scl_tensor i32_tensor(scl_context ctx, size_t d0, size_t d1, size_t d2, size_t d3) {
  size_t dims[4] = {d0, d1, d2, d3};
  scl_tensor t = NULL;
  scl_tensor_create(ctx, SCL_I32, 4, dims, &t);
  scl_tensor_fill(t, SENTINEL);
  return t;
}

/* A forward call that must fail with `want` and leave y alone; the message must contain `needle`
   (NULL: not checked). */
static void refuse_forward(scl_context ctx, const char *what, const scl_conv2d_params *p, scl_tensor x, scl_tensor w,
                           scl_tensor b, scl_tensor y, scl_status want, const char *needle) {
  scl_status st = scl_conv2d_forward(ctx, p, x, w, b, y);
  TK_CHECK_MSG(st == want, "%s: got %s, expected %s (%s)", what, scl_status_string(st), scl_status_string(want),
               scl_context_error(ctx));
  if (needle) TK_CHECK_MSG(strstr(scl_context_error(ctx), needle), "%s: message \"%s\" lacks \"%s\"", what,
                           scl_context_error(ctx), needle);
  expect_untouched(what, y);
}

static void forward_refuses_bad_input(scl_context ctx) {
  const scl_conv2d_params p = {2, 2, 1, 1};
  scl_tensor x = sentinel(ctx, 3, 5, 7, 9), w = sentinel(ctx, 4, 5, 3, 3), b = sentinel(ctx, 4, 0, 0, 0);
  scl_tensor y = sentinel(ctx, 3, 4, 4, 5);
  scl_tensor xi = i32_tensor(ctx, 3, 5, 7, 9), yi = i32_tensor(ctx, 3, 4, 4, 5);
  size_t four = 4;
  scl_tensor bi = NULL;
  scl_tensor_create(ctx, SCL_I32, 1, &four, &bi);
  scl_tensor w_c6 = sentinel(ctx, 4, 6, 3, 3), y_bad = sentinel(ctx, 3, 4, 4, 6), b_bad = sentinel(ctx, 5, 0, 0, 0);
  scl_tensor x3d = sentinel(ctx, 5, 7, 9, 0), w_big = sentinel(ctx, 4, 5, 11, 3);

  TK_CHECK(scl_conv2d_forward(NULL, &p, x, w, b, y) == SCL_ERR_INVALID_ARGUMENT);
  expect_untouched("NULL ctx", y);
  refuse_forward(ctx, "NULL params", NULL, x, w, b, y, SCL_ERR_INVALID_ARGUMENT, "params");
  refuse_forward(ctx, "NULL x", &p, NULL, w, b, y, SCL_ERR_INVALID_ARGUMENT, "x is NULL");
  refuse_forward(ctx, "NULL w", &p, x, NULL, b, y, SCL_ERR_INVALID_ARGUMENT, "w is NULL");
  refuse_forward(ctx, "NULL y", &p, x, w, b, NULL, SCL_ERR_INVALID_ARGUMENT, "y is NULL");
  refuse_forward(ctx, "I32 x", &p, xi, w, b, y, SCL_ERR_DTYPE, "x");
  refuse_forward(ctx, "I32 b", &p, x, w, bi, y, SCL_ERR_DTYPE, "b");
  refuse_forward(ctx, "I32 y", &p, x, w, b, yi, SCL_ERR_DTYPE, "y");
  const scl_conv2d_params zero_h = {0, 2, 1, 1}, zero_w = {2, 0, 1, 1}, neg_h = {2, 2, -1, 1}, neg_w = {2, 2, 1, -1};
  refuse_forward(ctx, "stride_h 0", &zero_h, x, w, b, y, SCL_ERR_INVALID_ARGUMENT, "stride");
  refuse_forward(ctx, "stride_w 0", &zero_w, x, w, b, y, SCL_ERR_INVALID_ARGUMENT, "stride");
  refuse_forward(ctx, "pad_h -1", &neg_h, x, w, b, y, SCL_ERR_INVALID_ARGUMENT, "pad");
  refuse_forward(ctx, "pad_w -1", &neg_w, x, w, b, y, SCL_ERR_INVALID_ARGUMENT, "pad");
  refuse_forward(ctx, "channels differ", &p, x, w_c6, b, y, SCL_ERR_SHAPE, "[4,6,3,3]");
  refuse_forward(ctx, "wrong y", &p, x, w, b, y_bad, SCL_ERR_SHAPE, "[3,4,4,5]");
  refuse_forward(ctx, "wrong b", &p, x, w, b_bad, y, SCL_ERR_SHAPE, "b");
  refuse_forward(ctx, "3-D x", &p, x3d, w, b, y, SCL_ERR_SHAPE, "[5,7,9]");
  /* 11 rows of filter on 7 + 2·1 padded rows: P < 1, and the message names both shapes. */
  refuse_forward(ctx, "P < 1", &p, x, w_big, b, y, SCL_ERR_SHAPE, "[4,5,11,3]");
  TK_CHECK(strstr(scl_context_error(ctx), "[3,5,7,9]") != NULL);

  /* y overlapping x: two views of one buffer. */
  size_t ydims[4] = {3, 4, 4, 5};
  scl_tensor yx = NULL;
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 4, ydims, scl_tensor_buffer(x), 4 * 10, &yx));
  refuse_forward(ctx, "y overlaps x", &p, x, w, b, yx, SCL_ERR_INVALID_ARGUMENT, "overlaps");
  expect_untouched("x under an overlapping y", x);

  /* A tensor of another context. */
  scl_context other = NULL;
  if (scl_context_create(NULL, &other) == SCL_OK) {
    scl_tensor wo = NULL;
    size_t wdims[4] = {4, 5, 3, 3};
    if (scl_tensor_create(other, SCL_F32, 4, wdims, &wo) == SCL_OK)
      refuse_forward(ctx, "w of another context", &p, x, wo, b, y, SCL_ERR_INVALID_ARGUMENT, "context");
    scl_tensor_release(wo);
    scl_context_release(other);
  }

  scl_tensor all[] = {x, w, b, y, xi, yi, bi, w_c6, y_bad, b_bad, x3d, w_big, yx};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

/* A backward call that must fail with `want` and leave dx, dw and db alone. */
static void refuse_backward(scl_context ctx, const char *what, const scl_conv2d_params *p, scl_tensor x,
                            scl_tensor w, scl_tensor dy, scl_tensor dx, scl_tensor dw, scl_tensor db, scl_status want) {
  scl_status st = scl_conv2d_backward(ctx, p, x, w, dy, dx, dw, db);
  TK_CHECK_MSG(st == want, "%s: got %s, expected %s (%s)", what, scl_status_string(st), scl_status_string(want),
               scl_context_error(ctx));
  expect_untouched(what, dx);
  expect_untouched(what, dw);
  expect_untouched(what, db);
}

static void backward_refuses_bad_input(scl_context ctx) {
  const scl_conv2d_params p = {2, 2, 1, 1};
  scl_tensor x = sentinel(ctx, 3, 5, 7, 9), w = sentinel(ctx, 4, 5, 3, 3), dy = sentinel(ctx, 3, 4, 4, 5);
  scl_tensor dx = sentinel(ctx, 3, 5, 7, 9), dw = sentinel(ctx, 4, 5, 3, 3), db = sentinel(ctx, 4, 0, 0, 0);
  scl_tensor dy_bad = sentinel(ctx, 3, 4, 5, 5), dx_bad = sentinel(ctx, 3, 5, 7, 8), dw_bad = sentinel(ctx, 4, 5, 3, 1);
  scl_tensor db_bad = sentinel(ctx, 3, 0, 0, 0), dyi = i32_tensor(ctx, 3, 4, 4, 5), dwi = i32_tensor(ctx, 4, 5, 3, 3);
  const scl_conv2d_params zero = {1, 0, 1, 1}, neg = {1, 1, 0, -2};

  TK_CHECK(scl_conv2d_backward(NULL, &p, x, w, dy, dx, dw, db) == SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "NULL params", NULL, x, w, dy, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "NULL x", &p, NULL, w, dy, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "NULL w", &p, x, NULL, dy, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "NULL dy", &p, x, w, NULL, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "I32 dy", &p, x, w, dyi, dx, dw, db, SCL_ERR_DTYPE);
  refuse_backward(ctx, "I32 dw", &p, x, w, dy, dx, dwi, db, SCL_ERR_DTYPE);
  refuse_backward(ctx, "stride 0", &zero, x, w, dy, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "negative pad", &neg, x, w, dy, dx, dw, db, SCL_ERR_INVALID_ARGUMENT);
  refuse_backward(ctx, "wrong dy", &p, x, w, dy_bad, dx, dw, db, SCL_ERR_SHAPE);
  refuse_backward(ctx, "wrong dx", &p, x, w, dy, dx_bad, dw, db, SCL_ERR_SHAPE);
  refuse_backward(ctx, "wrong dw", &p, x, w, dy, dx, dw_bad, db, SCL_ERR_SHAPE);
  refuse_backward(ctx, "wrong db", &p, x, w, dy, dx, dw, db_bad, SCL_ERR_SHAPE);
  /* Outputs overlapping an input (w passed as dw) or each other (db inside dx). */
  refuse_backward(ctx, "dw is w", &p, x, w, dy, dx, w, db, SCL_ERR_INVALID_ARGUMENT);
  size_t four = 4;
  scl_tensor db_in_dx = NULL;
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 1, &four, scl_tensor_buffer(dx), 4 * 8, &db_in_dx));
  refuse_backward(ctx, "db overlaps dx", &p, x, w, dy, dx, dw, db_in_dx, SCL_ERR_INVALID_ARGUMENT);
  scl_tensor_release(db_in_dx);

  scl_tensor all[] = {x, w, dy, dx, dw, db, dy_bad, dx_bad, dw_bad, db_bad, dyi, dwi};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

/* ---- tensors at byte offsets ------------------------------------------------------------------- */

/* Every argument is a view into one buffer at an odd element offset, with gaps between the views
   that must keep their sentinel. */
static void wrapped_offsets(scl_context ctx) {
  problem pr = make_problem(&CASES[0].g, 500);
  const ref_conv_shape *g = &pr.g;
  size_t sizes[8] = {pr.nx, pr.nw, g->k, pr.ny, pr.ny, pr.nx, pr.nw, g->k}; /* x w b dy y dx dw db */
  size_t offs[8], total = 3;
  for (int i = 0; i < 8; i++) offs[i] = total, total += sizes[i] + 5;
  float *host = malloc(total * sizeof *host);
  for (size_t i = 0; i < total; i++) host[i] = SENTINEL;
  memcpy(host + offs[0], pr.x, pr.nx * 4), memcpy(host + offs[1], pr.w, pr.nw * 4);
  memcpy(host + offs[2], pr.b, g->k * 4), memcpy(host + offs[3], pr.dy, pr.ny * 4);
  cl_int err;
  cl_mem buf = clCreateBuffer(scl_context_cl(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, total * 4, host, &err);
  TK_CHECK(err == CL_SUCCESS);
  size_t dx4[4] = {g->n, g->c, g->h, g->w}, dw4[4] = {g->k, g->c, g->r, g->s}, dy4[4] = {g->n, g->k, pr.P, pr.Q};
  const size_t *dims[8] = {dx4, dw4, &g->k, dy4, dy4, dx4, dw4, &g->k};
  scl_tensor t[8] = {NULL};
  for (int i = 0; i < 8; i++)
    TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, dims[i] == &g->k ? 1 : 4, dims[i], buf, offs[i] * 4, &t[i]));
  TK_OK(ctx, scl_conv2d_forward(ctx, &pr.p, t[0], t[1], t[2], t[4]));
  TK_OK(ctx, scl_conv2d_backward(ctx, &pr.p, t[0], t[1], t[3], t[5], t[6], t[7]));
  float *out = malloc(total * sizeof *out);
  TK_OK(ctx, scl_tensor_read(t[0], out, pr.nx * 4)); /* waits for the queue */
  TK_CHECK(clEnqueueReadBuffer(scl_context_queue(ctx), buf, CL_TRUE, 0, total * 4, out, 0, NULL, NULL) == CL_SUCCESS);

  double *y = malloc(pr.ny * sizeof *y);
  ref_conv2d_forward(g, pr.xd, pr.wd, pr.bd, y);
  grads ref = reference_grads(&pr);
  tk_expect_close("wrapped y", out + offs[4], y, pr.ny, TK_TOL_GEMM);
  tk_expect_close("wrapped dx", out + offs[5], ref.dx, pr.nx, TK_TOL_GEMM);
  tk_expect_close("wrapped dw", out + offs[6], ref.dw, pr.nw, TK_TOL_GEMM);
  tk_expect_close("wrapped db", out + offs[7], ref.db, g->k, TK_TOL_GEMM);
  /* Inputs unchanged, gaps untouched. */
  TK_CHECK(memcmp(out + offs[0], pr.x, pr.nx * 4) == 0 && memcmp(out + offs[1], pr.w, pr.nw * 4) == 0);
  TK_CHECK(memcmp(out + offs[3], pr.dy, pr.ny * 4) == 0);
  size_t changed = 0;
  for (int i = 0; i < 8; i++) {
    size_t gap_end = i + 1 < 8 ? offs[i + 1] : total;
    for (size_t j = offs[i] + sizes[i]; j < gap_end; j++) changed += out[j] != SENTINEL;
  }
  for (size_t j = 0; j < offs[0]; j++) changed += out[j] != SENTINEL;
  TK_CHECK_MSG(changed == 0, "%zu elements between the wrapped tensors changed", changed);

  for (int i = 0; i < 8; i++) scl_tensor_release(t[i]);
  clReleaseMemObject(buf);
  free(host), free(out), free(y);
  free_grads(&ref);
  free_problem(&pr);
}

/* A batch whose im2col columns exceed the 256 MiB workspace cap (about 100 MB per image): it runs
   in chunks of 2 + 1 images, so dw sums over chunks and the single-image path runs too. */
static void batch_in_chunks(scl_context ctx) {
  const ref_conv_shape g = {3, 32, 208, 208, 2, 3, 3, 1, 1, 1, 1};
  problem pr = make_problem(&g, 600);
  tensors t = make_tensors(ctx, &pr);
  TK_STATUS(ctx, scl_conv2d_forward(ctx, &pr.p, t.x, t.w, t.b, t.y), SCL_OK);
  TK_STATUS(ctx, scl_conv2d_backward(ctx, &pr.p, t.x, t.w, t.dy, t.dx, t.dw, t.db), SCL_OK);
  double *y = malloc(pr.ny * sizeof *y);
  ref_conv2d_forward(&pr.g, pr.xd, pr.wd, pr.bd, y);
  grads ref = reference_grads(&pr);
  expect_tensor("chunks", "y", t.y, y);
  expect_tensor("chunks", "dx", t.dx, ref.dx);
  expect_tensor("chunks", "dw", t.dw, ref.dw);
  expect_tensor("chunks", "db", t.db, ref.db);
  free(y);
  free_grads(&ref);
  free_tensors(&t);
  free_problem(&pr);
}

/* The comparison must be able to fail: y computed without its bias does not pass as y with it. */
static void wrong_result_is_caught(scl_context ctx) {
  problem pr = make_problem(&CASES[1].g, 700); /* 1x1 stride 1 */
  tensors t = make_tensors(ctx, &pr);
  double *ref = malloc(pr.ny * sizeof *ref);
  ref_conv2d_forward(&pr.g, pr.xd, pr.wd, pr.bd, ref);
  TK_OK(ctx, scl_conv2d_forward(ctx, &pr.p, t.x, t.w, NULL, t.y)); /* bias left out on purpose */
  float *got = tk_read(t.y);
  TK_CHECK(tk_rel_l2(got, ref, pr.ny) > TK_TOL_GEMM);
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
      {"batch_in_chunks", batch_in_chunks},
      {"wrong_result_is_caught", wrong_result_is_caught},
  };
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
