/* scl_margin_forward / scl_margin_backward / scl_asoftmax_lambda (SPEC §5) against the double
   reference of ref/ref_margin.c, which uses acos and cos(mθ) literally where the library uses sign
   polynomials: A-Softmax m = 1..4 in both gradient modes at several λ, the combined margin as
   CosFace, ArcFace, NormFace and a mix (also with cosines past the clamp), SCL_MARGIN_NONE; odd
   shapes with a zero feature row; central finite differences of the reference forward for every
   true gradient; ψ's closed forms and the λ schedule; NULL gradients, element offsets, rows longer
   than a work-group's sweep; and every bad input refused with the outputs untouched. */
#include "ref/ref_elementwise.h"
#include "ref/ref_margin.h"
#include "testkit/testkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

/* ---- problems ---------------------------------------------------------------------------------- */

/* Features x [n,k], class weights w [m,k], labels [n], an upstream gradient g [n,m]. */
typedef struct {
  size_t n, k, m, zero_row; /* zero_row: the all-zero feature row (n: none) */
  float *x, *w, *g;
  int32_t *labels;
} problem;

static void normalise(double *v, size_t k) {
  double s = 0;
  for (size_t i = 0; i < k; i++) s += v[i] * v[i];
  s = sqrt(s);
  for (size_t i = 0; i < k; i++) v[i] /= s;
}

/* Class rows of length w_scale (1: unit rows, as A-Softmax expects). Sample i gets a cosine to its
   class row drawn uniformly from (−1, 1), so every piece of ψ is visited, and a norm in [0.5, 3];
   row zero_row is all zeros. The first sample's label is the last class, the third's the first. */
static problem make_problem(size_t n, size_t k, size_t m, double w_scale, size_t zero_row, uint64_t seed) {
  tk_rng r = tk_rng_make(seed);
  problem P = {n,
               k,
               m,
               zero_row,
               malloc(n * k * sizeof(float)),
               malloc(m * k * sizeof(float)),
               malloc(n * m * sizeof(float)),
               malloc(n * sizeof(int32_t))};
  double *row = malloc(k * sizeof *row), *v = malloc(k * sizeof *v);
  for (size_t j = 0; j < m; j++) {
    for (size_t c = 0; c < k; c++) row[c] = tk_normal(&r);
    normalise(row, k);
    for (size_t c = 0; c < k; c++) P.w[j * k + c] = (float)(w_scale * row[c]);
  }
  for (size_t i = 0; i < n; i++) {
    P.labels[i] = i == 0 ? (int32_t)(m - 1) : i == 2 ? 0 : (int32_t)(tk_uniform(&r, 0, 1) * (double)m) % (int32_t)m;
    if (i == zero_row) {
      for (size_t c = 0; c < k; c++) P.x[i * k + c] = 0.0f;
      continue;
    }
    for (size_t c = 0; c < k; c++) row[c] = P.w[P.labels[i] * k + c];
    normalise(row, k);
    double along = 0; /* v: a random unit vector orthogonal to the class row */
    for (size_t c = 0; c < k; c++) v[c] = tk_normal(&r);
    for (size_t c = 0; c < k; c++) along += v[c] * row[c];
    for (size_t c = 0; c < k; c++) v[c] -= along * row[c];
    normalise(v, k);
    double cosine = tk_uniform(&r, -1, 1), norm = tk_uniform(&r, 0.5, 3);
    for (size_t c = 0; c < k; c++)
      P.x[i * k + c] = (float)(norm * (cosine * row[c] + sqrt(1 - cosine * cosine) * v[c]));
  }
  tk_fill_uniform(&r, P.g, n * m, -1, 1);
  free(row), free(v);
  return P;
}

static void free_problem(problem *P) { free(P->x), free(P->w), free(P->g), free(P->labels); }

/* The problem's inputs on the device, and NaN-poisoned outputs. */
typedef struct {
  scl_tensor x, w, labels, g, logits, dx, dw;
} device;

static device upload(scl_context ctx, const problem *P) {
  device d = {tk_tensor(ctx, P->x, P->n, P->k, 0, 0), tk_tensor(ctx, P->w, P->m, P->k, 0, 0),
              tk_tensor_i32(ctx, P->labels, P->n),    tk_tensor(ctx, P->g, P->n, P->m, 0, 0),
              tk_tensor(ctx, NULL, P->n, P->m, 0, 0), tk_tensor(ctx, NULL, P->n, P->k, 0, 0),
              tk_tensor(ctx, NULL, P->m, P->k, 0, 0)};
  return d;
}

static void release_device(device *d) {
  scl_tensor ts[] = {d->x, d->w, d->labels, d->g, d->logits, d->dx, d->dw};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) scl_tensor_release(ts[i]);
}

/* The reference's results for the problem, in double. */
typedef struct {
  double *x, *w, *g, *logits, *dx, *dw;
} reference;

static reference run_reference(const scl_margin_params *p, const problem *P) {
  reference R = {ref_widen(P->x, P->n * P->k),         ref_widen(P->w, P->m * P->k),
                 ref_widen(P->g, P->n * P->m),         malloc(P->n * P->m * sizeof(double)),
                 malloc(P->n * P->k * sizeof(double)), malloc(P->m * P->k * sizeof(double))};
  ref_margin_forward(p, P->n, P->k, P->m, R.x, R.w, P->labels, R.logits);
  ref_margin_backward(p, P->n, P->k, P->m, R.x, R.w, P->labels, R.g, R.dx, R.dw);
  return R;
}

static void free_reference(reference *R) {
  free(R->x), free(R->w), free(R->g), free(R->logits), free(R->dx), free(R->dw);
}

static int is_plain(const scl_margin_params *p) {
  return p->type == SCL_MARGIN_NONE || (p->type == SCL_MARGIN_ASOFTMAX && p->m == 1);
}

/* Whether the backward is the true gradient of the forward (all but A-Softmax's CAFFE rule). */
static int is_true_gradient(const scl_margin_params *p) {
  return p->type != SCL_MARGIN_ASOFTMAX || p->m == 1 || p->grad == SCL_GRAD_EXACT;
}

static void describe(char *buf, size_t size, const scl_margin_params *p, const problem *P) {
  if (p->type == SCL_MARGIN_ASOFTMAX)
    snprintf(buf, size, "A-Softmax m=%d λ=%g %s [%zu,%zu,%zu]", p->m, (double)p->lambda,
             p->grad == SCL_GRAD_EXACT ? "exact" : "caffe", P->n, P->k, P->m);
  else if (p->type == SCL_MARGIN_COMBINED)
    snprintf(buf, size, "combined s=%g m=(%g,%g,%g) [%zu,%zu,%zu]", (double)p->s, (double)p->m1, (double)p->m2,
             (double)p->m3, P->n, P->k, P->m);
  else
    snprintf(buf, size, "none [%zu,%zu,%zu]", P->n, P->k, P->m);
}

/* ---- finite differences -------------------------------------------------------------------------- */

/* L = Σ logits·g of the reference forward. */
typedef struct {
  const scl_margin_params *p;
  const problem *P;
  const reference *R;
  double *scratch;
} loss_arg;

static double reference_loss(const void *arg) {
  const loss_arg *a = arg;
  const problem *P = a->P;
  ref_margin_forward(a->p, P->n, P->k, P->m, a->R->x, a->R->w, P->labels, a->scratch);
  double L = 0;
  for (size_t i = 0; i < P->n * P->m; i++) L += a->scratch[i] * a->R->g[i];
  return L;
}

/* Which rows of dx and dw the differences can judge: not the zero feature row (|x| has no
   derivative at 0), no A-Softmax target cosine within 1e-3 of a kink cos(kπ/m), no combined cosine
   within 1e-3 of the clamp. A skipped sample takes its dx row and the dw rows it touches nonlinearly
   (its class; every class near the clamp) with it. */
static void judged_rows(const scl_margin_params *p, const problem *P, const reference *R, int *x_ok, int *w_ok) {
  for (size_t j = 0; j < P->m; j++) w_ok[j] = 1;
  for (size_t i = 0; i < P->n; i++) {
    const double *xi = R->x + i * P->k;
    double nx = 0;
    for (size_t c = 0; c < P->k; c++) nx += xi[c] * xi[c];
    nx = sqrt(nx);
    x_ok[i] = i != P->zero_row || is_plain(p);
    if (nx == 0 || is_plain(p)) continue;
    for (size_t j = 0; j < P->m; j++) {
      double u = 0;
      for (size_t c = 0; c < P->k; c++) u += xi[c] * R->w[j * P->k + c];
      u /= nx;
      int near = 0;
      if (p->type == SCL_MARGIN_COMBINED)
        near = fabs(fabs(u) - REF_MARGIN_CLAMP) < 1e-3;
      else if ((size_t)P->labels[i] == j)
        for (int kk = 1; kk < p->m; kk++) near |= fabs(u - cos(kk * PI / p->m)) < 1e-3;
      if (near) x_ok[i] = 0, w_ok[j] = 0;
    }
  }
}

/* The entries of the judged rows: out[0..count) from the device, fd[0..count) the differences. */
static size_t gather_rows(const int *ok, size_t rows, size_t k, const float *dev, const double *fd, float *out_dev,
                          double *out_fd) {
  size_t count = 0;
  for (size_t i = 0; i < rows; i++)
    for (size_t c = 0; ok[i] && c < k; c++, count++) out_dev[count] = dev[i * k + c], out_fd[count] = fd[i * k + c];
  return count;
}

static double rel_l2_d(const double *a, const double *ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) num += (a[i] - ref[i]) * (a[i] - ref[i]), den += ref[i] * ref[i];
  return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* Central differences (h = 1e-6, double) of the reference loss against the device's dx and dw and
   against the reference's own analytic gradients, on the judged rows. */
static void check_finite_differences(const scl_margin_params *p, const problem *P, reference *R, const float *dx,
                                     const float *dw, const char *what) {
  size_t nk = P->n * P->k, mk = P->m * P->k;
  double *fdx = malloc(nk * sizeof *fdx), *fdw = malloc(mk * sizeof *fdw);
  loss_arg arg = {p, P, R, malloc(P->n * P->m * sizeof(double))};
  tk_central_differences(reference_loss, &arg, R->x, nk, 1e-6, fdx);
  tk_central_differences(reference_loss, &arg, R->w, mk, 1e-6, fdw);

  int *x_ok = malloc(P->n * sizeof *x_ok), *w_ok = malloc(P->m * sizeof *w_ok);
  judged_rows(p, P, R, x_ok, w_ok);
  float *dev = malloc((nk + mk) * sizeof *dev);
  double *fd = malloc((nk + mk) * sizeof *fd), *ana = malloc((nk + mk) * sizeof *ana);
  char buf[200];
  struct {
    const char *name;
    const int *ok;
    size_t rows;
    const float *dev;
    const double *fd, *ana;
  } grads[2] = {{"dx", x_ok, P->n, dx, fdx, R->dx}, {"dw", w_ok, P->m, dw, fdw, R->dw}};
  for (int t = 0; t < 2; t++) {
    size_t count = gather_rows(grads[t].ok, grads[t].rows, P->k, grads[t].dev, grads[t].fd, dev, fd);
    TK_CHECK_MSG(count >= grads[t].rows * P->k / 2, "%s: finite differences judge only %zu of %zu %s entries", what,
                 count, grads[t].rows * P->k, grads[t].name);
    /* the reference's analytic gradient on the same rows, in double */
    size_t c2 = 0;
    for (size_t i = 0; i < grads[t].rows; i++)
      for (size_t c = 0; grads[t].ok[i] && c < P->k; c++) ana[c2++] = grads[t].ana[i * P->k + c];
    double e = rel_l2_d(ana, fd, count);
    TK_CHECK_MSG(e < 1e-6, "%s: reference %s vs finite differences: relative L2 %.3g", what, grads[t].name, e);
    snprintf(buf, sizeof buf, "%s: device %s vs finite differences", what, grads[t].name);
    tk_expect_close(buf, dev, fd, count, TK_TOL_GEMM);
  }
  free(fdx), free(fdw), free(arg.scratch), free(x_ok), free(w_ok), free(dev), free(fd), free(ana);
}

/* ---- the main check ---------------------------------------------------------------------------- */

/* dw = gᵀ·x in straight loops: A-Softmax CAFFE's weight gradient for every m. */
static void plain_dw(const problem *P, const reference *R, double *dw) {
  for (size_t j = 0; j < P->m; j++)
    for (size_t c = 0; c < P->k; c++) {
      double s = 0;
      for (size_t i = 0; i < P->n; i++) s += R->g[i * P->m + j] * R->x[i * P->k + c];
      dw[j * P->k + c] = s;
    }
}

/* The device's logits, dx and dw against the reference; the zero feature row's logits and dx are
   exactly zero; true gradients against finite differences; CAFFE's dw is gᵀ·x. */
static void check_margin(scl_context ctx, const scl_margin_params *p, const problem *P) {
  char what[160], buf[240];
  describe(what, sizeof what, p, P);
  device d = upload(ctx, P);
  reference R = run_reference(p, P);
  TK_OK(ctx, scl_margin_forward(ctx, p, d.x, d.w, d.labels, d.logits));
  TK_OK(ctx, scl_margin_backward(ctx, p, d.x, d.w, d.labels, d.g, d.dx, d.dw));
  float *z = tk_read(d.logits), *dx = tk_read(d.dx), *dw = tk_read(d.dw);
  snprintf(buf, sizeof buf, "%s logits", what);
  tk_expect_close(buf, z, R.logits, P->n * P->m, TK_TOL_GEMM);
  snprintf(buf, sizeof buf, "%s dx", what);
  tk_expect_close(buf, dx, R.dx, P->n * P->k, TK_TOL_GEMM);
  snprintf(buf, sizeof buf, "%s dw", what);
  tk_expect_close(buf, dw, R.dw, P->m * P->k, TK_TOL_GEMM);

  if (P->zero_row < P->n && !is_plain(p)) {
    for (size_t j = 0; j < P->m; j++)
      TK_CHECK_MSG(z[P->zero_row * P->m + j] == 0.0f, "%s: zero row logit %zu = %g", what, j,
                   (double)z[P->zero_row * P->m + j]);
    for (size_t c = 0; c < P->k; c++)
      TK_CHECK_MSG(dx[P->zero_row * P->k + c] == 0.0f, "%s: zero row dx %zu = %g", what, c,
                   (double)dx[P->zero_row * P->k + c]);
  }
  if (is_true_gradient(p))
    check_finite_differences(p, P, &R, dx, dw, what);
  else {
    double *want = malloc(P->m * P->k * sizeof *want);
    plain_dw(P, &R, want);
    snprintf(buf, sizeof buf, "%s dw = gᵀx", what);
    tk_expect_close(buf, dw, want, P->m * P->k, TK_TOL_GEMM);
    free(want);
  }
  free(z), free(dx), free(dw);
  free_reference(&R);
  release_device(&d);
}

static scl_margin_params asoftmax(int m, float lambda, scl_grad_mode grad) {
  scl_margin_params p = {SCL_MARGIN_ASOFTMAX, m, lambda, grad, 0, 0, 0, 0};
  return p;
}

static scl_margin_params combined(float s, float m1, float m2, float m3) {
  scl_margin_params p = {SCL_MARGIN_COMBINED, 0, 0, SCL_GRAD_EXACT, s, m1, m2, m3};
  return p;
}

/* The brief's two odd shapes (a zero feature row in each) and a taller one that visits ψ's pieces. */
static const size_t shapes[][4] = {{5, 7, 11, 3}, {3, 2, 4, 1}, {41, 5, 6, 17}};
#define NSHAPES (sizeof shapes / sizeof shapes[0])

static void run_asoftmax(scl_context ctx, scl_grad_mode grad, uint64_t seed) {
  static const float lambdas[] = {0.0f, 0.37f, 5.0f};
  for (size_t s = 0; s < NSHAPES; s++)
    for (int m = 1; m <= 4; m++)
      for (size_t l = 0; l < sizeof lambdas / sizeof lambdas[0]; l++) {
        problem P =
            make_problem(shapes[s][0], shapes[s][1], shapes[s][2], 1.0, shapes[s][3], seed + 16 * s + 4 * l + m);
        scl_margin_params p = asoftmax(m, lambdas[l], grad);
        check_margin(ctx, &p, &P);
        free_problem(&P);
      }
}

static void margin_asoftmax_exact(scl_context ctx) { run_asoftmax(ctx, SCL_GRAD_EXACT, 100); }
static void margin_asoftmax_caffe(scl_context ctx) { run_asoftmax(ctx, SCL_GRAD_CAFFE, 200); }

/* CosFace, ArcFace, NormFace and a mix, on unit class rows and on rows of length 1.3 (cosines past
   the clamp, whose gradient is 0). grad is ignored: CAFFE must give the same. */
static void margin_combined(scl_context ctx) {
  const scl_margin_params presets[] = {combined(30, 1, 0, 0.35f), combined(30, 1, 0.5f, 0), combined(16, 1, 0, 0),
                                       combined(30, 0.9f, 0.4f, 0.15f)};
  for (size_t s = 0; s < NSHAPES; s++)
    for (size_t q = 0; q < sizeof presets / sizeof presets[0]; q++)
      for (int scaled = 0; scaled < 2; scaled++) {
        problem P = make_problem(shapes[s][0], shapes[s][1], shapes[s][2], scaled ? 1.3 : 1.0, shapes[s][3],
                                 300 + 16 * s + 2 * q + scaled);
        scl_margin_params p = presets[q];
        p.grad = scaled ? SCL_GRAD_CAFFE : SCL_GRAD_EXACT;
        check_margin(ctx, &p, &P);
        free_problem(&P);
      }
}

static void margin_none(scl_context ctx) {
  for (size_t s = 0; s < NSHAPES; s++) {
    problem P = make_problem(shapes[s][0], shapes[s][1], shapes[s][2], 1.7, shapes[s][3], 400 + s);
    scl_margin_params p = {SCL_MARGIN_NONE, 0, 0, SCL_GRAD_CAFFE, 0, 0, 0, 0};
    check_margin(ctx, &p, &P);
    free_problem(&P);
  }
}

/* Rows longer than one work-group's sweep (4·64 columns) in both K and M. */
static void margin_long_rows(scl_context ctx) {
  const scl_margin_params ps[] = {asoftmax(4, 2.5f, SCL_GRAD_EXACT), asoftmax(3, 0.0f, SCL_GRAD_CAFFE),
                                  combined(30, 1, 0.5f, 0)};
  for (size_t q = 0; q < sizeof ps / sizeof ps[0]; q++) {
    problem P = make_problem(6, 301, 530, 1.0, 4, 500 + q);
    char what[160], buf[200];
    describe(what, sizeof what, &ps[q], &P);
    device d = upload(ctx, &P);
    reference R = run_reference(&ps[q], &P);
    TK_OK(ctx, scl_margin_forward(ctx, &ps[q], d.x, d.w, d.labels, d.logits));
    TK_OK(ctx, scl_margin_backward(ctx, &ps[q], d.x, d.w, d.labels, d.g, d.dx, d.dw));
    snprintf(buf, sizeof buf, "%s logits", what);
    tk_expect_tensor(buf, d.logits, R.logits, TK_TOL_GEMM);
    snprintf(buf, sizeof buf, "%s dx", what);
    tk_expect_tensor(buf, d.dx, R.dx, TK_TOL_GEMM);
    snprintf(buf, sizeof buf, "%s dw", what);
    tk_expect_tensor(buf, d.dw, R.dw, TK_TOL_GEMM);
    free_reference(&R);
    release_device(&d);
    free_problem(&P);
  }
}

/* ---- closed forms ---------------------------------------------------------------------------- */

static void margin_lambda(scl_context ctx) {
  (void)ctx;
  float l1 = scl_asoftmax_lambda(1000, 0.12f, 1, 5, 1);
  TK_CHECK_MSG(fabs(l1 - 892.857) < 1e-3, "λ(1) = %.6f, expected 892.857", (double)l1);
  TK_CHECK(fabs(scl_asoftmax_lambda(1000, 0.12f, 1, 5, 0) - 1000) < 1e-3);
  TK_CHECK(fabs(scl_asoftmax_lambda(1000, 0.12f, 1, 5, 100) - 1000 / 13.0) < 1e-3);
  TK_CHECK(scl_asoftmax_lambda(1000, 0.12f, 1, 5, 1657) > 5.0f);  /* 1000/199.84 */
  TK_CHECK(scl_asoftmax_lambda(1000, 0.12f, 1, 5, 1659) == 5.0f); /* 1000/200.08 */
  TK_CHECK(scl_asoftmax_lambda(1000, 0.12f, 1, 5, 28000) == 5.0f);
  TK_CHECK(scl_asoftmax_lambda(1000, 0.12f, 1, 5, 100000000L) == 5.0f);
  TK_CHECK(fabs(scl_asoftmax_lambda(1000, 0.12f, 2, 0, 10) - 1000 / (2.2 * 2.2)) < 1e-3);
}

/* ψ at its closed-form points, through the reference and through the device with |x| = 1, λ = 0
   (logit = ψ(c)); the device's exact dx there against the reference (a kink's slope is 0, so the
   sign(0) = 0 convention must give a = ψ'(c) = 0 at c = 0 for m = 4). */
static void margin_closed_forms(scl_context ctx) {
  static const struct {
    int m;
    double c, psi;
  } pts[] = {{4, 0.9, -0.2312},
             {4, 0.5, -1.5},
             {4, 0.0, -3.0},
             {4, -0.5, -4.5},
             {4, -1.0, -7.0},
             {4, 1.0, 1.0},
             {4, 0.70710678118654752, -1.0},
             {3, 0.5, -1.0},
             {3, 0.0, -2.0},
             {3, -1.0, -5.0},
             {2, 0.5, -0.5},
             {2, 0.0, -1.0},
             {2, -1.0, -3.0},
             {1, -0.3, -0.3}};
  const size_t npts = sizeof pts / sizeof pts[0];
  for (size_t t = 0; t < npts; t++) {
    double psi = ref_asoftmax_psi(pts[t].m, pts[t].c);
    TK_CHECK_MSG(fabs(psi - pts[t].psi) < (t == 0 ? 1e-4 : 1e-12), "reference ψ_%d(%g) = %.9f, expected %g", pts[t].m,
                 pts[t].c, psi, pts[t].psi);
  }
  TK_CHECK(fabs(ref_asoftmax_psi(4, 0.9) - (8 * 0.6561 - 8 * 0.81 + 1)) < 1e-12);

  /* one sample per point, x = (c, sqrt(1 − c²)), w = [(1, 0)], label 0 */
  for (int m = 1; m <= 4; m++) {
    float x[2 * 16], g[16];
    double want[16];
    size_t n = 0;
    for (size_t t = 0; t < npts; t++)
      if (pts[t].m == m) {
        x[2 * n] = (float)pts[t].c, x[2 * n + 1] = (float)sqrt(1 - pts[t].c * pts[t].c);
        want[n] = pts[t].psi, g[n] = 1.0f, n++;
      }
    const float w[2] = {1, 0};
    int32_t labels[16] = {0};
    scl_tensor X = tk_tensor(ctx, x, n, 2, 0, 0), W = tk_tensor(ctx, w, 1, 2, 0, 0), L = tk_tensor_i32(ctx, labels, n);
    scl_tensor Z = tk_tensor(ctx, NULL, n, 1, 0, 0), G = tk_tensor(ctx, g, n, 1, 0, 0),
               DX = tk_tensor(ctx, NULL, n, 2, 0, 0);
    scl_margin_params p = asoftmax(m, 0.0f, SCL_GRAD_EXACT);
    TK_OK(ctx, scl_margin_forward(ctx, &p, X, W, L, Z));
    TK_OK(ctx, scl_margin_backward(ctx, &p, X, W, L, G, DX, NULL));
    float *z = tk_read(Z), *dx = tk_read(DX);
    for (size_t i = 0; i < n; i++)
      TK_CHECK_MSG(fabs(z[i] - want[i]) < 2e-5, "device ψ_%d(%g) = %.7f, expected %g", m, (double)x[2 * i],
                   (double)z[i], want[i]);
    double *xd = ref_widen(x, 2 * n), wd[2] = {1, 0}, gd[16], rdx[32];
    for (size_t i = 0; i < n; i++) gd[i] = 1;
    ref_margin_backward(&p, n, 2, 1, xd, wd, labels, gd, rdx, NULL);
    for (size_t i = 0; i < 2 * n; i++)
      TK_CHECK_MSG(fabs(dx[i] - rdx[i]) < 1e-4, "m=%d dx[%zu] = %.7f, reference %.7f", m, i, (double)dx[i], rdx[i]);
    free(z), free(dx), free(xd);
    scl_tensor ts[] = {X, W, L, Z, G, DX};
    for (int i = 0; i < 6; i++) scl_tensor_release(ts[i]);
  }
}

/* ---- optional outputs, offsets ---------------------------------------------------------------- */

/* dx or dw alone equal the same entries of a full call; neither is a no-op. */
static void margin_null_grads(scl_context ctx) {
  const scl_margin_params ps[] = {asoftmax(4, 0.5f, SCL_GRAD_EXACT), asoftmax(2, 0.5f, SCL_GRAD_CAFFE),
                                  combined(30, 1, 0, 0.35f), asoftmax(1, 0, SCL_GRAD_CAFFE)};
  problem P = make_problem(5, 7, 11, 1.0, 3, 600);
  for (size_t q = 0; q < sizeof ps / sizeof ps[0]; q++) {
    device d = upload(ctx, &P);
    reference R = run_reference(&ps[q], &P);
    char what[160], buf[200];
    describe(what, sizeof what, &ps[q], &P);
    TK_OK(ctx, scl_margin_backward(ctx, &ps[q], d.x, d.w, d.labels, d.g, d.dx, NULL));
    snprintf(buf, sizeof buf, "%s dx alone", what);
    tk_expect_tensor(buf, d.dx, R.dx, TK_TOL_GEMM);
    TK_OK(ctx, scl_margin_backward(ctx, &ps[q], d.x, d.w, d.labels, d.g, NULL, d.dw));
    snprintf(buf, sizeof buf, "%s dw alone", what);
    tk_expect_tensor(buf, d.dw, R.dw, TK_TOL_GEMM);
    float *dx0 = tk_read(d.dx), *dw0 = tk_read(d.dw);
    TK_OK(ctx, scl_margin_backward(ctx, &ps[q], d.x, d.w, d.labels, d.g, NULL, NULL));
    tk_expect_unchanged("neither gradient: dx", d.dx, dx0);
    tk_expect_unchanged("neither gradient: dw", d.dw, dw0);
    free(dx0), free(dw0);
    free_reference(&R);
    release_device(&d);
  }
  free_problem(&P);
}

/* Every tensor at an odd element offset of a NaN-filled buffer of its own (labels wrapped 3 into
   a padded buffer). */
static void margin_offsets(scl_context ctx) {
  const scl_margin_params ps[] = {asoftmax(4, 0.7f, SCL_GRAD_EXACT), asoftmax(3, 0.7f, SCL_GRAD_CAFFE),
                                  combined(30, 0.9f, 0.4f, 0.15f)};
  problem P = make_problem(5, 7, 11, 1.0, 3, 700);
  const size_t xd[2] = {5, 7}, wd[2] = {11, 7}, zd[2] = {5, 11}, n = 5;
  int32_t padded[8] = {-9, -9, -9};
  memcpy(padded + 3, P.labels, n * sizeof(int32_t));
  for (size_t q = 0; q < sizeof ps / sizeof ps[0]; q++) {
    scl_tensor base[6], L = NULL, BL = tk_tensor_i32(ctx, padded, 8);
    scl_tensor X = tk_tensor_at_offset(ctx, P.x, 2, xd, 1, &base[0]),
               W = tk_tensor_at_offset(ctx, P.w, 2, wd, 3, &base[1]);
    scl_tensor G = tk_tensor_at_offset(ctx, P.g, 2, zd, 5, &base[2]),
               Z = tk_tensor_at_offset(ctx, NULL, 2, zd, 2, &base[3]);
    scl_tensor DX = tk_tensor_at_offset(ctx, NULL, 2, xd, 7, &base[4]),
               DW = tk_tensor_at_offset(ctx, NULL, 2, wd, 9, &base[5]);
    TK_OK(ctx, scl_tensor_wrap(ctx, SCL_I32, 1, &n, scl_tensor_buffer(BL), 3 * sizeof(int32_t), &L));
    reference R = run_reference(&ps[q], &P);
    TK_OK(ctx, scl_margin_forward(ctx, &ps[q], X, W, L, Z));
    TK_OK(ctx, scl_margin_backward(ctx, &ps[q], X, W, L, G, DX, DW));
    char what[160], buf[200];
    describe(what, sizeof what, &ps[q], &P);
    snprintf(buf, sizeof buf, "%s at offsets: logits", what);
    tk_expect_tensor(buf, Z, R.logits, TK_TOL_GEMM);
    snprintf(buf, sizeof buf, "%s at offsets: dx", what);
    tk_expect_tensor(buf, DX, R.dx, TK_TOL_GEMM);
    snprintf(buf, sizeof buf, "%s at offsets: dw", what);
    tk_expect_tensor(buf, DW, R.dw, TK_TOL_GEMM);
    free_reference(&R);
    scl_tensor ts[] = {X, W, G, Z, DX, DW, L, BL};
    for (int i = 0; i < 8; i++) scl_tensor_release(ts[i]);
    for (int i = 0; i < 6; i++) scl_tensor_release(base[i]);
  }
  free_problem(&P);
}

/* The checks above can fail: the device's m = 4 logits are far from the reference's m = 3, its
   CAFFE dx far from the true gradient, its EXACT dw far from gᵀx, and the comparator rejects NaN. */
static void margin_checks_can_fail(scl_context ctx) {
  problem P = make_problem(5, 7, 11, 1.0, 3, 800);
  device d = upload(ctx, &P);
  scl_margin_params m4 = asoftmax(4, 0.2f, SCL_GRAD_CAFFE), m3 = asoftmax(3, 0.2f, SCL_GRAD_CAFFE);
  scl_margin_params exact = asoftmax(4, 0.2f, SCL_GRAD_EXACT);
  reference R3 = run_reference(&m3, &P), RE = run_reference(&exact, &P);
  TK_OK(ctx, scl_margin_forward(ctx, &m4, d.x, d.w, d.labels, d.logits));
  TK_OK(ctx, scl_margin_backward(ctx, &m4, d.x, d.w, d.labels, d.g, d.dx, d.dw));
  float *z = tk_read(d.logits), *dx = tk_read(d.dx);
  TK_CHECK(tk_rel_l2(z, R3.logits, P.n * P.m) > 1e-2);
  TK_CHECK(tk_rel_l2(dx, RE.dx, P.n * P.k) > 1e-2);
  TK_OK(ctx, scl_margin_backward(ctx, &exact, d.x, d.w, d.labels, d.g, NULL, d.dw));
  float *dw = tk_read(d.dw);
  double *gtx = malloc(P.m * P.k * sizeof *gtx);
  plain_dw(&P, &RE, gtx);
  TK_CHECK(tk_rel_l2(dw, gtx, P.m * P.k) > 1e-2);
  z[0] = NAN;
  TK_CHECK(isinf(tk_rel_l2(z, R3.logits, P.n * P.m)));
  free(z), free(dx), free(dw), free(gtx);
  free_reference(&R3), free_reference(&RE);
  release_device(&d);
  free_problem(&P);
}

/* ---- bad inputs ----------------------------------------------------------------------------- */

static void margin_bad_inputs(scl_context ctx) {
  const size_t n = 3, k = 4, m = 5;
  problem P = make_problem(n, k, m, 1.0, n, 900);
  scl_tensor X = tk_tensor(ctx, P.x, n, k, 0, 0), W = tk_tensor(ctx, P.w, m, k, 0, 0),
             L = tk_tensor_i32(ctx, P.labels, n);
  scl_tensor G = tk_tensor(ctx, P.g, n, m, 0, 0);
  scl_tensor Z = tk_sentinel(ctx, SCL_F32, n, m, 0, 0), DX = tk_sentinel(ctx, SCL_F32, n, k, 0, 0);
  scl_tensor DW = tk_sentinel(ctx, SCL_F32, m, k, 0, 0);
  const int32_t neg[3] = {0, -1, 2}, big[3] = {0, 1, (int32_t)m};
  scl_tensor Lneg = tk_tensor_i32(ctx, neg, n), Lbig = tk_tensor_i32(ctx, big, n);
  scl_margin_params good = asoftmax(4, 1.5f, SCL_GRAD_EXACT);
  char what[96];

  /* parameters */
  struct {
    scl_margin_params p;
    const char *needle;
  } bad[] = {{asoftmax(0, 1, SCL_GRAD_EXACT), "m = 0"},
             {asoftmax(5, 1, SCL_GRAD_CAFFE), "m = 5"},
             {asoftmax(4, -0.5f, SCL_GRAD_EXACT), "lambda"},
             {asoftmax(4, NAN, SCL_GRAD_EXACT), "lambda"},
             {asoftmax(4, INFINITY, SCL_GRAD_EXACT), "lambda"},
             {asoftmax(4, 1, (scl_grad_mode)2), "grad"},
             {combined(0, 1, 0, 0.35f), "s ="},
             {combined(-30, 1, 0, 0.35f), "s ="},
             {combined(NAN, 1, 0, 0.35f), "s ="},
             {combined(INFINITY, 1, 0, 0.35f), "s ="},
             {combined(30, 1, NAN, 0), "finite"},
             {combined(30, INFINITY, 0, 0), "finite"},
             {{(scl_margin_type)3, 4, 1, SCL_GRAD_EXACT, 0, 0, 0, 0}, "type"},
             {{(scl_margin_type)-1, 4, 1, SCL_GRAD_EXACT, 0, 0, 0, 0}, "type"}};
  for (size_t b = 0; b < sizeof bad / sizeof bad[0]; b++) {
    snprintf(what, sizeof what, "params %zu forward", b);
    tk_expect_refused(ctx, what, scl_margin_forward(ctx, &bad[b].p, X, W, L, Z), SCL_ERR_INVALID_ARGUMENT,
                      bad[b].needle, Z, NULL, NULL);
    snprintf(what, sizeof what, "params %zu backward", b);
    tk_expect_refused(ctx, what, scl_margin_backward(ctx, &bad[b].p, X, W, L, G, DX, DW), SCL_ERR_INVALID_ARGUMENT,
                      bad[b].needle, DX, DW, NULL);
  }
  tk_expect_refused(ctx, "NULL params", scl_margin_forward(ctx, NULL, X, W, L, Z), SCL_ERR_INVALID_ARGUMENT, "params",
                    Z, NULL, NULL);
  tk_expect_refused(ctx, "NULL params", scl_margin_backward(ctx, NULL, X, W, L, G, DX, DW), SCL_ERR_INVALID_ARGUMENT,
                    "params", DX, DW, NULL);
  TK_STATUS(ctx, scl_margin_forward(NULL, &good, X, W, L, Z), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_margin_backward(NULL, &good, X, W, L, G, DX, DW), SCL_ERR_INVALID_ARGUMENT);
  tk_expect_sentinel("NULL context", Z), tk_expect_sentinel("NULL context", DX), tk_expect_sentinel("NULL context", DW);

  /* labels out of range: every margin type, also SCL_MARGIN_NONE */
  scl_margin_params none = {SCL_MARGIN_NONE, 0, 0, SCL_GRAD_CAFFE, 0, 0, 0, 0}, comb = combined(30, 1, 0.5f, 0);
  const scl_margin_params *types[] = {&good, &none, &comb};
  scl_tensor bad_labels[] = {Lneg, Lbig};
  for (int t = 0; t < 3; t++)
    for (int b = 0; b < 2; b++) {
      snprintf(what, sizeof what, "labels %s, type %d forward", b ? "= M" : "< 0", t);
      tk_expect_refused(ctx, what, scl_margin_forward(ctx, types[t], X, W, bad_labels[b], Z), SCL_ERR_INVALID_ARGUMENT,
                        b ? "labels[2] = 5" : "labels[1] = -1", Z, NULL, NULL);
      snprintf(what, sizeof what, "labels %s, type %d backward", b ? "= M" : "< 0", t);
      tk_expect_refused(ctx, what, scl_margin_backward(ctx, types[t], X, W, bad_labels[b], G, DX, DW),
                        SCL_ERR_INVALID_ARGUMENT, "labels[", DX, DW, NULL);
    }

  /* NULL, dtype and shape errors, forward then backward */
  size_t d2[2] = {n, k};
  scl_tensor XI = NULL, WI = tk_sentinel(ctx, SCL_I32, m, k, 0, 0), LF = tk_tensor(ctx, NULL, n, 0, 0, 0);
  scl_tensor ZI = tk_sentinel(ctx, SCL_I32, n, m, 0, 0), DXI = tk_sentinel(ctx, SCL_I32, n, k, 0, 0);
  scl_tensor DWI = tk_sentinel(ctx, SCL_I32, m, k, 0, 0), GI = tk_sentinel(ctx, SCL_I32, n, m, 0, 0);
  TK_OK(ctx, scl_tensor_create(ctx, SCL_I32, 2, d2, &XI));
  scl_tensor X1 = tk_tensor(ctx, P.x, n * k, 0, 0, 0), X3 = tk_tensor(ctx, P.x, n, k, 1, 0);
  scl_tensor Wk = tk_tensor(ctx, NULL, m, k + 1, 0, 0), L4 = tk_tensor_i32(ctx, big, n - 1);
  scl_tensor Zm = tk_sentinel(ctx, SCL_F32, n, m + 1, 0, 0), Zn = tk_sentinel(ctx, SCL_F32, n + 1, m, 0, 0);
  scl_tensor Gm = tk_tensor(ctx, NULL, n, m + 1, 0, 0), DXk = tk_sentinel(ctx, SCL_F32, n, k + 1, 0, 0);
  scl_tensor DWm = tk_sentinel(ctx, SCL_F32, m + 1, k, 0, 0);
  struct {
    const char *what;
    scl_tensor x, w, l, z;
    scl_status want;
    const char *needle;
  } fwd[] = {{"NULL x", NULL, W, L, Z, SCL_ERR_INVALID_ARGUMENT, "x is NULL"},
             {"NULL w", X, NULL, L, Z, SCL_ERR_INVALID_ARGUMENT, "w is NULL"},
             {"NULL labels", X, W, NULL, Z, SCL_ERR_INVALID_ARGUMENT, "labels is NULL"},
             {"I32 x", XI, W, L, Z, SCL_ERR_DTYPE, "x is I32"},
             {"I32 w", X, WI, L, Z, SCL_ERR_DTYPE, "w is I32"},
             {"F32 labels", X, W, LF, Z, SCL_ERR_DTYPE, "labels is F32"},
             {"1-D x", X1, W, L, Z, SCL_ERR_SHAPE, "x has shape"},
             {"3-D x", X3, W, L, Z, SCL_ERR_SHAPE, "x has shape"},
             {"w of K+1", X, Wk, L, Z, SCL_ERR_SHAPE, "w has shape"},
             {"N-1 labels", X, W, L4, Z, SCL_ERR_SHAPE, "labels has shape"}};
  for (size_t t = 0; t < sizeof fwd / sizeof fwd[0]; t++) {
    tk_expect_refused(ctx, fwd[t].what, scl_margin_forward(ctx, &good, fwd[t].x, fwd[t].w, fwd[t].l, fwd[t].z),
                      fwd[t].want, fwd[t].needle, Z, NULL, NULL);
    tk_expect_refused(ctx, fwd[t].what, scl_margin_backward(ctx, &good, fwd[t].x, fwd[t].w, fwd[t].l, G, DX, DW),
                      fwd[t].want, fwd[t].needle, DX, DW, NULL);
  }
  tk_expect_refused(ctx, "NULL logits", scl_margin_forward(ctx, &good, X, W, L, NULL), SCL_ERR_INVALID_ARGUMENT,
                    "logits is NULL", NULL, NULL, NULL);
  tk_expect_refused(ctx, "I32 logits", scl_margin_forward(ctx, &good, X, W, L, ZI), SCL_ERR_DTYPE, "logits is I32", ZI,
                    NULL, NULL);
  tk_expect_refused(ctx, "logits M+1", scl_margin_forward(ctx, &good, X, W, L, Zm), SCL_ERR_SHAPE, "logits has shape",
                    Zm, NULL, NULL);
  tk_expect_refused(ctx, "logits N+1", scl_margin_forward(ctx, &good, X, W, L, Zn), SCL_ERR_SHAPE, "logits has shape",
                    Zn, NULL, NULL);
  tk_expect_refused(ctx, "NULL dlogits", scl_margin_backward(ctx, &good, X, W, L, NULL, DX, DW),
                    SCL_ERR_INVALID_ARGUMENT, "dlogits is NULL", DX, DW, NULL);
  tk_expect_refused(ctx, "I32 dlogits", scl_margin_backward(ctx, &good, X, W, L, GI, DX, DW), SCL_ERR_DTYPE,
                    "dlogits is I32", DX, DW, NULL);
  tk_expect_refused(ctx, "dlogits M+1", scl_margin_backward(ctx, &good, X, W, L, Gm, DX, DW), SCL_ERR_SHAPE,
                    "dlogits has shape", DX, DW, NULL);
  tk_expect_refused(ctx, "I32 dx", scl_margin_backward(ctx, &good, X, W, L, G, DXI, DW), SCL_ERR_DTYPE, "dx is I32",
                    DXI, DW, NULL);
  tk_expect_refused(ctx, "I32 dw", scl_margin_backward(ctx, &good, X, W, L, G, DX, DWI), SCL_ERR_DTYPE, "dw is I32", DX,
                    DWI, NULL);
  tk_expect_refused(ctx, "dx K+1", scl_margin_backward(ctx, &good, X, W, L, G, DXk, DW), SCL_ERR_SHAPE, "dx has shape",
                    DXk, DW, NULL);
  tk_expect_refused(ctx, "dw M+1", scl_margin_backward(ctx, &good, X, W, L, G, DX, DWm), SCL_ERR_SHAPE, "dw has shape",
                    DX, DWm, NULL);

  /* overlaps: outputs sharing memory with an input */
  scl_tensor BUF = tk_sentinel(ctx, SCL_F32, n * k + n * m, 0, 0, 0), XV = NULL, ZV = NULL, DWV = NULL, GV = NULL;
  const size_t zdims[2] = {n, m}, wdims[2] = {m, k};
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, d2, scl_tensor_buffer(BUF), 0, &XV));
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, zdims, scl_tensor_buffer(BUF), (n * k - 1) * sizeof(float), &ZV));
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, zdims, scl_tensor_buffer(BUF), n * k * sizeof(float), &GV));
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, wdims, scl_tensor_buffer(BUF), 0, &DWV));
  tk_expect_refused(ctx, "logits overlaps x", scl_margin_forward(ctx, &good, XV, W, L, ZV), SCL_ERR_INVALID_ARGUMENT,
                    "overlaps", BUF, NULL, NULL);
  tk_expect_refused(ctx, "dx is x", scl_margin_backward(ctx, &good, X, W, L, G, X, DW), SCL_ERR_INVALID_ARGUMENT,
                    "overlaps", DW, NULL, NULL);
  tk_expect_refused(ctx, "dw overlaps dlogits", scl_margin_backward(ctx, &good, X, W, L, GV, DX, DWV),
                    SCL_ERR_INVALID_ARGUMENT, "overlaps", BUF, DX, NULL);

  /* the fixture itself is valid */
  TK_OK(ctx, scl_margin_forward(ctx, &good, X, W, L, Z));
  TK_OK(ctx, scl_margin_backward(ctx, &good, X, W, L, G, DX, DW));
  float *z = tk_read(Z);
  TK_CHECK(z[0] != TK_SENTINEL);
  free(z);

  scl_tensor ts[] = {X,  W,  L,  G,  Z,  DX, DW, Lneg, Lbig, XI,  WI,  LF, ZI, DXI, DWI,
                     GI, X1, X3, Wk, L4, Zm, Zn, Gm,   DXk,  DWm, BUF, XV, ZV, DWV, GV};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) scl_tensor_release(ts[i]);
  free_problem(&P);
}

int main(int argc, char **argv) {
  static const tk_case cases[] = {{"margin_lambda", margin_lambda},
                                  {"margin_closed_forms", margin_closed_forms},
                                  {"margin_asoftmax_exact", margin_asoftmax_exact},
                                  {"margin_asoftmax_caffe", margin_asoftmax_caffe},
                                  {"margin_combined", margin_combined},
                                  {"margin_none", margin_none},
                                  {"margin_long_rows", margin_long_rows},
                                  {"margin_null_grads", margin_null_grads},
                                  {"margin_offsets", margin_offsets},
                                  {"margin_checks_can_fail", margin_checks_can_fail},
                                  {"margin_bad_inputs", margin_bad_inputs}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
