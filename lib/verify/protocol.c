/* The SphereFace authors' LFW verification protocol (their test/code/evaluation.m), in double
   precision: for each fold, centre every feature on the mean of the other folds' features,
   L2-normalise, score each pair by cosine, choose the threshold on the other folds and measure the
   accuracy on the held-out fold. Also the ROC of the held-out scores (TAR at a FAR, CSV files).

   Exact rules (the header gives the summary):
   - threshold: the grid t_k = −1 + k·1e−4 (k = 0..20000, computed as written, in double); a pair
     is right at t when same and score > t, or different and score < t; the threshold is the mean
     of all t_k with the most right pairs (summed in increasing k), as getThreshold does.
   - a feature that is exactly zero after centring has no direction: its pairs score 0.
   - ROC: "accept" means score >= s for a distinct score s; one row per distinct score from the
     highest down, FAR = accepted different / all different, TAR = accepted same / all same.
     TAR at FAR x = the largest TAR over the rows with FAR <= x, or 0 when none (accepting
     nothing); accepting at ">= s" or at "> the next lower score" is the same split of the pairs,
     so this is the best TAR over every threshold placed between sorted scores. NaN when the
     pairs hold no same or no different pair. */
#include "verify/verify_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SCL_VERIFY_MAX_FOLDS 32

double scl__verify_grid(int k) { return -1.0 + k * 1e-4; }

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

scl_status scl__verify_best_threshold(const double *scores, const int *same, size_t n, double *threshold) {
  double *sorted = malloc((n ? n : 1) * sizeof *sorted);
  if (!sorted) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory sorting %zu scores", n);
  size_t ns = 0;
  for (size_t i = 0; i < n; i++)
    if (same[i]) sorted[ns++] = scores[i];
  size_t nd = 0;
  for (size_t i = 0; i < n; i++)
    if (!same[i]) sorted[ns + nd++] = scores[i];
  const double *s = sorted, *d = sorted + ns;
  qsort(sorted, ns, sizeof *sorted, cmp_double);
  qsort(sorted + ns, nd, sizeof *sorted, cmp_double);

  /* The grid increases with k, so the counts only move forward: same pairs with score <= t are
     wrong, different pairs with score < t are right. The comparisons are the naive rule's own. */
  size_t same_wrong = 0, diff_right = 0, best = 0, count = 0;
  double sum = 0.0;
  for (int k = 0; k <= SCL_VERIFY_STEPS; k++) {
    double t = scl__verify_grid(k);
    while (same_wrong < ns && s[same_wrong] <= t) same_wrong++;
    while (diff_right < nd && d[diff_right] < t) diff_right++;
    size_t right = (ns - same_wrong) + diff_right;
    if (k == 0 || right > best) {
      best = right;
      sum = t;
      count = 1;
    } else if (right == best) {
      sum += t;
      count++;
    }
  }
  free(sorted);
  *threshold = sum / (double)count;
  return SCL_OK;
}

/* ---- the ROC ---------------------------------------------------------------------------------- */

typedef struct {
  double threshold;   /* a distinct score */
  size_t same, diff;  /* pairs of each kind scoring >= threshold */
} roc_row;

typedef struct {
  roc_row *rows;
  size_t nrows, nsame, ndiff;
} roc;

typedef struct {
  double score;
  int same;
} scored;

static int cmp_scored_desc(const void *a, const void *b) {
  double x = ((const scored *)a)->score, y = ((const scored *)b)->score;
  return (x < y) - (x > y);
}

/* Builds the ROC rows (highest threshold first) of n finite scores. */
static scl_status roc_build(const double *scores, const int *same, size_t n, roc *out) {
  scored *v = malloc((n ? n : 1) * sizeof *v);
  roc_row *rows = malloc((n ? n : 1) * sizeof *rows);
  if (!v || !rows) {
    free(v), free(rows);
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, "out of host memory building the ROC of %zu scores", n);
  }
  for (size_t i = 0; i < n; i++) v[i] = (scored){scores[i], same[i] != 0};
  qsort(v, n, sizeof *v, cmp_scored_desc);
  size_t nrows = 0, ns = 0, nd = 0;
  for (size_t i = 0; i < n; i++) {
    if (v[i].same) ns++;
    else nd++;
    if (i + 1 == n || v[i + 1].score != v[i].score) rows[nrows++] = (roc_row){v[i].score, ns, nd};
  }
  free(v);
  *out = (roc){rows, nrows, ns, nd};
  return SCL_OK;
}

static double roc_tar_at_far(const roc *r, double far) {
  if (r->nsame == 0 || r->ndiff == 0) return NAN;
  double best = 0.0;
  for (size_t i = 0; i < r->nrows; i++) {
    double f = (double)r->rows[i].diff / (double)r->ndiff, t = (double)r->rows[i].same / (double)r->nsame;
    if (f <= far && t > best) best = t;
  }
  return best;
}

/* ---- the protocol ----------------------------------------------------------------------------- */

typedef struct {
  const float *fa, *fb;
  size_t dim, n;
  const int *fold, *same;
  int folds;
} problem;

#define OP "scl_verify_protocol"

static scl_status validate(const problem *p, const scl_verify_result *result) {
  if (!p->fa || !p->fb || !p->fold || !p->same || !result)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": %s is NULL",
                           !p->fa ? "fa" : !p->fb ? "fb" : !p->fold ? "fold" : !p->same ? "same" : "result");
  if (p->dim == 0) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": dim is 0");
  if (p->n == 0) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": npairs is 0");
  if (p->n > (size_t)-1 / sizeof(double) / p->dim)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": npairs × dim (%zu × %zu) is too large", p->n, p->dim);
  if (p->folds < 2 || p->folds > SCL_VERIFY_MAX_FOLDS)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": folds %d is outside 2..%d", p->folds,
                           SCL_VERIFY_MAX_FOLDS);
  size_t per_fold[SCL_VERIFY_MAX_FOLDS] = {0};
  for (size_t i = 0; i < p->n; i++) {
    if (p->fold[i] < 0 || p->fold[i] >= p->folds)
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": fold[%zu] = %d is outside 0..%d", i, p->fold[i],
                             p->folds - 1);
    if (p->same[i] != 0 && p->same[i] != 1)
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": same[%zu] = %d is neither 0 nor 1", i, p->same[i]);
    per_fold[p->fold[i]]++;
  }
  for (int k = 0; k < p->folds; k++)
    if (!per_fold[k]) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": fold %d has no pairs", k);
  for (size_t i = 0; i < p->n * p->dim; i++)
    if (!isfinite(p->fa[i]) || !isfinite(p->fb[i]))
      return scl__fail_noctx(SCL_ERR_NUMERIC, OP ": %s[%zu][%zu] is not finite", isfinite(p->fa[i]) ? "fb" : "fa",
                             i / p->dim, i % p->dim);
  return SCL_OK;
}

/* mu = the mean of every fa and fb row of the pairs outside fold `skip` (skip < 0: of all pairs). */
static void mean_feature(const problem *p, int skip, double *mu) {
  size_t rows = 0;
  memset(mu, 0, p->dim * sizeof *mu);
  for (size_t i = 0; i < p->n; i++) {
    if (p->fold[i] == skip) continue;
    const float *a = p->fa + i * p->dim, *b = p->fb + i * p->dim;
    for (size_t k = 0; k < p->dim; k++) mu[k] += (double)a[k] + (double)b[k];
    rows += 2;
  }
  for (size_t k = 0; k < p->dim; k++) mu[k] /= (double)rows;
}

/* Scales x[dim] to unit length in place; returns 0 (leaving x) when it is all zero. */
static int normalise(double *x, size_t dim) {
  double ss = 0.0;
  for (size_t k = 0; k < dim; k++) ss += x[k] * x[k];
  if (ss == 0.0) return 0;
  double norm = sqrt(ss);
  for (size_t k = 0; k < dim; k++) x[k] /= norm;
  return 1;
}

/* scores[i] = cosine of pair i after subtracting mu (NULL: nothing). work holds 2·dim doubles. */
static void cosine_scores(const problem *p, const double *mu, double *work, double *scores) {
  double *xa = work, *xb = work + p->dim;
  for (size_t i = 0; i < p->n; i++) {
    for (size_t k = 0; k < p->dim; k++) {
      xa[k] = (double)p->fa[i * p->dim + k] - (mu ? mu[k] : 0.0);
      xb[k] = (double)p->fb[i * p->dim + k] - (mu ? mu[k] : 0.0);
    }
    double dot = 0.0;
    if (normalise(xa, p->dim) && normalise(xb, p->dim))
      for (size_t k = 0; k < p->dim; k++) dot += xa[k] * xb[k];
    scores[i] = dot;
  }
}

/* The threshold chosen on the pairs outside fold `skip` (skip < 0: on all pairs). train_scores and
   train_same are scratch of n entries. */
static scl_status choose_threshold(const problem *p, const double *scores, int skip, double *train_scores,
                                   int *train_same, double *threshold) {
  size_t m = 0;
  for (size_t i = 0; i < p->n; i++)
    if (p->fold[i] != skip) {
      train_scores[m] = scores[i];
      train_same[m++] = p->same[i];
    }
  return scl__verify_best_threshold(train_scores, train_same, m, threshold);
}

/* Scores the pairs with features centred as the fold (or, for skip < 0, all pairs) asks. */
static void fold_scores(const problem *p, int subtract_mean, int skip, double *mu, double *work, double *scores) {
  if (subtract_mean) mean_feature(p, skip, mu);
  cosine_scores(p, subtract_mean ? mu : NULL, work, scores);
}

static scl_status run_protocol(const problem *p, int subtract_mean, scl_verify_result *r, double *heldout,
                               double *scores, double *mu, double *work, double *train_scores, int *train_same) {
  memset(r, 0, sizeof *r);
  r->folds = p->folds;
  for (int k = 0; k < p->folds; k++) {
    fold_scores(p, subtract_mean, k, mu, work, scores);
    scl_status st = choose_threshold(p, scores, k, train_scores, train_same, &r->threshold[k]);
    if (st != SCL_OK) return st;
    size_t right = 0, count = 0;
    for (size_t i = 0; i < p->n; i++) {
      if (p->fold[i] != k) continue;
      heldout[i] = scores[i];
      right += p->same[i] ? scores[i] > r->threshold[k] : scores[i] < r->threshold[k];
      count++;
    }
    r->accuracy[k] = (double)right / (double)count;
    r->mean += r->accuracy[k];
  }
  r->mean /= p->folds;
  double ss = 0.0;
  for (int k = 0; k < p->folds; k++) ss += (r->accuracy[k] - r->mean) * (r->accuracy[k] - r->mean);
  r->std = sqrt(ss / (p->folds - 1));

  roc c;
  scl_status st = roc_build(heldout, p->same, p->n, &c);
  if (st != SCL_OK) return st;
  r->tar_at_far_1e2 = roc_tar_at_far(&c, 1e-2);
  r->tar_at_far_1e3 = roc_tar_at_far(&c, 1e-3);
  free(c.rows);

  fold_scores(p, subtract_mean, -1, mu, work, scores);
  return choose_threshold(p, scores, -1, train_scores, train_same, &r->threshold_all);
}

scl_status scl_verify_protocol(const float *fa, const float *fb, size_t dim, const int *fold, const int *same,
                               size_t npairs, int folds, int subtract_mean, scl_verify_result *result,
                               float *scores) {
  const problem p = {fa, fb, dim, npairs, fold, same, folds};
  scl_status st = validate(&p, result);
  if (st != SCL_OK) return st;
  double *heldout = malloc(npairs * sizeof *heldout), *now = malloc(npairs * sizeof *now);
  double *train = malloc(npairs * sizeof *train), *mu = malloc(dim * sizeof *mu);
  double *work = malloc(2 * dim * sizeof *work);
  int *train_same = malloc(npairs * sizeof *train_same);
  scl_verify_result r;
  if (!heldout || !now || !train || !mu || !work || !train_same)
    st = scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, OP ": out of host memory for %zu pairs of dim %zu", npairs, dim);
  else st = run_protocol(&p, subtract_mean, &r, heldout, now, mu, work, train, train_same);
  if (st == SCL_OK) {
    *result = r;
    if (scores)
      for (size_t i = 0; i < npairs; i++) scores[i] = (float)heldout[i];
  }
  free(heldout), free(now), free(train), free(mu), free(work), free(train_same);
  return st;
}

#undef OP

/* ---- ROC files -------------------------------------------------------------------------------- */

#define OP "scl_verify_roc"

scl_status scl_verify_roc(const float *scores, const int *same, size_t n, scl_roc_point **points, size_t *count) {
  if (!scores || !same || !points || !count)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": %s is NULL",
                           !scores ? "scores" : !same ? "same" : !points ? "points" : "count");
  size_t ns = 0;
  for (size_t i = 0; i < n; i++) {
    if (!isfinite(scores[i]))
      return scl__fail_noctx(SCL_ERR_NUMERIC, OP ": scores[%zu] is not finite", i);
    if (same[i] != 0 && same[i] != 1)
      return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": same[%zu] = %d is neither 0 nor 1", i, same[i]);
    ns += (size_t)same[i];
  }
  if (ns == 0 || ns == n)
    return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": the ROC needs same and different pairs (%zu same of %zu)",
                           ns, n);
  double *d = malloc(n * sizeof *d);
  if (!d) return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, OP ": out of host memory for %zu scores", n);
  for (size_t i = 0; i < n; i++) d[i] = scores[i];
  roc c;
  scl_status st = roc_build(d, same, n, &c);
  free(d);
  if (st != SCL_OK) return st;
  scl_roc_point *pts = malloc(c.nrows * sizeof *pts);
  if (!pts) {
    free(c.rows);
    return scl__fail_noctx(SCL_ERR_OUT_OF_MEMORY, OP ": out of host memory for %zu ROC points", c.nrows);
  }
  for (size_t i = 0; i < c.nrows; i++)
    pts[i] = (scl_roc_point){c.rows[i].threshold, (double)c.rows[i].diff / (double)c.ndiff,
                             (double)c.rows[i].same / (double)c.nsame};
  free(c.rows);
  *points = pts;
  *count = c.nrows;
  return SCL_OK;
}
#undef OP

#define OP "scl_verify_write_roc"

scl_status scl_verify_write_roc(const char *path, const float *scores, const int *same, size_t n) {
  if (!path) return scl__fail_noctx(SCL_ERR_INVALID_ARGUMENT, OP ": path is NULL");
  scl_roc_point *pts = NULL;
  size_t npts = 0;
  scl_status st = scl_verify_roc(scores, same, n, &pts, &npts);
  if (st != SCL_OK) return st;
  scl__atomic_file af;
  st = scl__atomic_open(&af, path, OP);
  if (st == SCL_OK) {
    fprintf(af.f, "threshold,far,tar\n");
    for (size_t i = 0; i < npts; i++) fprintf(af.f, "%.9g,%.9g,%.9g\n", pts[i].threshold, pts[i].far, pts[i].tar);
    st = scl__atomic_commit(&af, OP);
  }
  free(pts);
  return st;
}
