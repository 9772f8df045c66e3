/* The LFW verification protocol (scl_verify_protocol) and ROC files, against answers worked out by
   hand: thresholds that are the mean of known grid intervals, fold-mean subtraction, the spread of
   the fold accuracies, TAR at a FAR; and the sorted sweep against the naive 20001 × n search. */
#include "testkit/testkit.h"
#include "verify/verify_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ---------------------------------------------------------------------------------- */

/* The mean of the grid points t inside the union of open intervals (lo[i], hi[i]), summed in
   increasing k as the protocol sums them: the hand-derived answer for a plateau of best thresholds. */
static double grid_mean_in(const double *lo, const double *hi, int nintervals) {
  double sum = 0.0;
  int count = 0;
  for (int k = 0; k <= SCL_VERIFY_STEPS; k++) {
    double t = -1.0 + k * 1e-4;
    for (int i = 0; i < nintervals; i++)
      if (t > lo[i] && t < hi[i]) {
        sum = count ? sum + t : t;
        count++;
        break;
      }
  }
  return sum / count;
}

/* The rule written out directly: every grid point, every pair. */
static double naive_threshold(const double *scores, const int *same, size_t n) {
  size_t best = 0, count = 0;
  double sum = 0.0;
  for (int k = 0; k <= SCL_VERIFY_STEPS; k++) {
    double t = -1.0 + k * 1e-4;
    size_t right = 0;
    for (size_t i = 0; i < n; i++) right += same[i] ? scores[i] > t : scores[i] < t;
    if (k == 0 || right > best) best = right, sum = t, count = 1;
    else if (right == best) sum += t, count++;
  }
  return sum / count;
}

/* 2-D features whose cosine is c: a = (1, 0), b = (c, sqrt(1 − c²)). */
static void pair_with_cosine(double c, float *a, float *b) {
  a[0] = 1.0f, a[1] = 0.0f;
  b[0] = (float)c, b[1] = (float)sqrt(1.0 - c * c);
}

/* A result full of a byte pattern, to see that failed calls leave it alone. */
static void poison_result(scl_verify_result *r) { memset(r, 0x5A, sizeof *r); }

static int result_untouched(const scl_verify_result *r) {
  scl_verify_result p;
  poison_result(&p);
  return memcmp(r, &p, sizeof p) == 0;
}

/* ---- the threshold search --------------------------------------------------------------------- */

/* Same scores {0.5, 0.7}, different {0.1, 0.2}: every t in (0.2, 0.5) gets all four right, and no
   other t does, so the threshold is the mean of the grid points strictly inside (0.2, 0.5). */
static void threshold_plateau(scl_context ctx) {
  (void)ctx;
  const double scores[] = {0.5, 0.1, 0.7, 0.2};
  const int same[] = {1, 0, 1, 0};
  double lo = 0.2, hi = 0.5, got = NAN;
  TK_OK(NULL, scl__verify_best_threshold(scores, same, 4, &got));
  double want = grid_mean_in(&lo, &hi, 1);
  TK_CHECK_MSG(got == want, "threshold %.17g, want %.17g", got, want);
  TK_CHECK(fabs(want - 0.35) < 1e-4); /* sanity of the hand answer itself */
}

/* Scores that sit exactly on grid points (where > and >= differ), duplicates, one-sided sets and
   plain random scores: the sort-and-sweep must give exactly the naive answer. */
static void threshold_sweep_equals_naive(scl_context ctx) {
  (void)ctx;
  tk_rng r = tk_rng_make(7);
  const size_t sizes[] = {1, 2, 3, 7, 50, 301, 1000};
  for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++)
    for (int kind = 0; kind < 4; kind++) {
      size_t n = sizes[s];
      double *scores = malloc(n * sizeof *scores);
      int *same = malloc(n * sizeof *same);
      for (size_t i = 0; i < n; i++) {
        double u = tk_uniform(&r, 0, 1);
        if (kind == 0) scores[i] = tk_uniform(&r, -1.2, 1.2);              /* beyond the grid too */
        else if (kind == 1) scores[i] = -1.0 + (int)(u * 20001) * 1e-4;   /* on grid points */
        else scores[i] = -1.0 + (int)(u * 7) * 0.25;                       /* many ties */
        same[i] = kind == 3 ? 1 : tk_uniform(&r, 0, 1) < 0.5;
        if (kind == 1 || kind == 2) scores[i] += same[i] ? 0.3 : -0.3;     /* mostly separable */
      }
      double got = NAN, want = naive_threshold(scores, same, n);
      TK_OK(NULL, scl__verify_best_threshold(scores, same, n, &got));
      TK_CHECK_MSG(got == want, "n %zu kind %d: sweep %.17g, naive %.17g", n, kind, got, want);
      free(scores), free(same);
    }
}

/* ---- the protocol on hand-made scores --------------------------------------------------------- */

/* Two folds of 2-D features with known cosines (all half-way between grid points):
     fold 0: same 0.60005, 0.30005   different 0.10005, 0.40005
     fold 1: same 0.50005, 0.70005   different 0.10005, 0.20005
   Fold 0's threshold comes from fold 1: all right exactly on (0.20005, 0.50005); applied to fold 0
   it gets 0.60005 and 0.10005 right, the others wrong: 0.5. Fold 1's threshold comes from fold 0:
   3 of 4 right on (0.10005, 0.30005) and on (0.40005, 0.60005) (2 elsewhere), so it is the mean of
   both plateaus (≈ 0.35); fold 1 is then all right: 1.0. Mean 0.75, std sqrt(2·0.25²/1).
   All pairs: 7 of 8 right on (0.20005, 0.30005) and (0.40005, 0.50005) → threshold_all. */
static void protocol_hand_intervals(scl_context ctx) {
  (void)ctx;
  const double cosines[8] = {0.60005, 0.30005, 0.10005, 0.40005, 0.50005, 0.70005, 0.10005, 0.20005};
  const int same[8] = {1, 1, 0, 0, 1, 1, 0, 0}, fold[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  float fa[16], fb[16], scores[8];
  for (int i = 0; i < 8; i++) pair_with_cosine(cosines[i], fa + 2 * i, fb + 2 * i);
  scl_verify_result r;
  TK_OK(NULL, scl_verify_protocol(fa, fb, 2, fold, same, 8, 2, 0, &r, scores));
  double lo0[] = {0.20005}, hi0[] = {0.50005};
  double lo1[] = {0.10005, 0.40005}, hi1[] = {0.30005, 0.60005};
  double lo_all[] = {0.20005, 0.40005}, hi_all[] = {0.30005, 0.50005};
  TK_CHECK(r.folds == 2);
  TK_CHECK_MSG(r.threshold[0] == grid_mean_in(lo0, hi0, 1), "threshold[0] %.17g", r.threshold[0]);
  TK_CHECK_MSG(r.threshold[1] == grid_mean_in(lo1, hi1, 2), "threshold[1] %.17g", r.threshold[1]);
  TK_CHECK_MSG(r.threshold_all == grid_mean_in(lo_all, hi_all, 2), "threshold_all %.17g", r.threshold_all);
  TK_CHECK_MSG(r.accuracy[0] == 0.5 && r.accuracy[1] == 1.0, "accuracy %g %g", r.accuracy[0], r.accuracy[1]);
  TK_CHECK(r.mean == 0.75);
  TK_CHECK_MSG(fabs(r.std - sqrt(0.125)) < 1e-15, "std %.17g (sample std, n - 1)", r.std);
  for (int i = 0; i < 8; i++) TK_CHECK_MSG(fabs(scores[i] - cosines[i]) < 1e-6, "score %d = %g", i, scores[i]);
  /* The same scores with subtract_mean: the centred features are different, so only check that it
     runs; the case below checks the centring itself. */
  TK_OK(NULL, scl_verify_protocol(fa, fb, 2, fold, same, 8, 2, 1, &r, NULL));
}

/* 1-D features around 10: same pairs (12, 13), (7, 8), different (12, 7), (13, 8), in both folds.
   Uncentred, every score is +1: any t < 1 gets the same pairs right and the different ones wrong
   (0.5), t = 1 gets nothing right, so the threshold is the mean of t_0..t_19999 and the accuracy
   0.5. Centred on the mean 10: same pairs score +1, different −1, so every t in (−1, 1) is right
   for all, the threshold is the mean of t_1..t_19999 and the accuracy 1. */
static void protocol_mean_subtraction_by_hand(scl_context ctx) {
  (void)ctx;
  const float fa[8] = {12, 7, 12, 13, 12, 7, 12, 13}, fb[8] = {13, 8, 7, 8, 13, 8, 7, 8};
  const int same[8] = {1, 1, 0, 0, 1, 1, 0, 0}, fold[8] = {0, 0, 0, 0, 1, 1, 1, 1};
  scl_verify_result raw, centred;
  float scores[8];
  TK_OK(NULL, scl_verify_protocol(fa, fb, 1, fold, same, 8, 2, 0, &raw, NULL));
  TK_OK(NULL, scl_verify_protocol(fa, fb, 1, fold, same, 8, 2, 1, &centred, scores));
  double below_one_lo[] = {-2.0}, below_one_hi[] = {1.0}, open_lo[] = {-1.0}, open_hi[] = {1.0};
  double t_raw = grid_mean_in(below_one_lo, below_one_hi, 1), t_centred = grid_mean_in(open_lo, open_hi, 1);
  for (int k = 0; k < 2; k++) {
    TK_CHECK_MSG(raw.accuracy[k] == 0.5 && raw.threshold[k] == t_raw, "raw fold %d: %g at %.17g", k,
                 raw.accuracy[k], raw.threshold[k]);
    TK_CHECK_MSG(centred.accuracy[k] == 1.0 && centred.threshold[k] == t_centred, "centred fold %d: %g at %.17g", k,
                 centred.accuracy[k], centred.threshold[k]);
  }
  TK_CHECK(raw.threshold_all == t_raw && centred.threshold_all == t_centred);
  TK_CHECK(raw.mean == 0.5 && raw.std == 0.0 && centred.mean == 1.0 && centred.std == 0.0);
  for (int i = 0; i < 8; i++)
    TK_CHECK_MSG(scores[i] == (same[i] ? 1.0f : -1.0f), "centred score %d = %g", i, scores[i]);
}

/* Centring on the other folds' mean removes any offset common to all features: random features
   with and without a large common offset give the same thresholds and accuracies. Each fold's mean
   differs (the folds differ), which the held-out scores also show against a single global mean. */
static void protocol_offset_invariance(scl_context ctx) {
  (void)ctx;
  enum { N = 41, D = 7, F = 4 };
  tk_rng r = tk_rng_make(11);
  float fa[N * D], fb[N * D], ga[N * D], gb[N * D], s1[N], s2[N];
  int same[N], fold[N];
  double offset[D];
  for (int k = 0; k < D; k++) offset[k] = tk_uniform(&r, -3, 3);
  for (int i = 0; i < N; i++) {
    same[i] = i % 2, fold[i] = i % F;
    for (int k = 0; k < D; k++) {
      fa[i * D + k] = (float)tk_normal(&r);
      fb[i * D + k] = (float)(same[i] ? fa[i * D + k] + 0.8 * tk_normal(&r) : tk_normal(&r));
      ga[i * D + k] = (float)(fa[i * D + k] + offset[k]);
      gb[i * D + k] = (float)(fb[i * D + k] + offset[k]);
    }
  }
  scl_verify_result a, b;
  TK_OK(NULL, scl_verify_protocol(fa, fb, D, fold, same, N, F, 1, &a, s1));
  TK_OK(NULL, scl_verify_protocol(ga, gb, D, fold, same, N, F, 1, &b, s2));
  for (int k = 0; k < F; k++) {
    TK_CHECK_MSG(fabs(a.threshold[k] - b.threshold[k]) < 1e-9 && a.accuracy[k] == b.accuracy[k],
                 "fold %d: %.17g/%g vs %.17g/%g", k, a.threshold[k], a.accuracy[k], b.threshold[k], b.accuracy[k]);
  }
  TK_CHECK(fabs(a.threshold_all - b.threshold_all) < 1e-9 && a.mean == b.mean);
  double worst = 0;
  for (int i = 0; i < N; i++) worst = fmax(worst, fabs(s1[i] - s2[i]));
  TK_CHECK_MSG(worst < 1e-5, "scores differ by %g", worst);
  /* Without centring the offset matters: the scores change. */
  TK_OK(NULL, scl_verify_protocol(ga, gb, D, fold, same, N, F, 0, &b, s2));
  worst = 0;
  for (int i = 0; i < N; i++) worst = fmax(worst, fabs(s1[i] - s2[i]));
  TK_CHECK_MSG(worst > 1e-2, "the offset should change uncentred scores (max diff %g)", worst);
}

/* The protocol as evaluation.m writes it, in straight loops: for fold k (skip = k) or for all pairs
   (skip = -1), centre on the mean of the pairs outside `skip`, normalise, score, search naively. */
static double reference_fold(const float *fa, const float *fb, int dim, const int *fold, const int *same, int n,
                             int skip, double *scores) {
  double *mu = calloc((size_t)dim, sizeof *mu), *xa = malloc(dim * sizeof *xa), *xb = malloc(dim * sizeof *xb);
  double *train = malloc(n * sizeof *train);
  int *train_same = malloc(n * sizeof *train_same), rows = 0, m = 0;
  for (int i = 0; i < n; i++)
    if (fold[i] != skip) {
      for (int k = 0; k < dim; k++) mu[k] += (double)fa[i * dim + k] + (double)fb[i * dim + k];
      rows += 2;
    }
  for (int k = 0; k < dim; k++) mu[k] /= rows;
  for (int i = 0; i < n; i++) {
    double na = 0, nb = 0, dot = 0;
    for (int k = 0; k < dim; k++) {
      xa[k] = fa[i * dim + k] - mu[k], xb[k] = fb[i * dim + k] - mu[k];
      na += xa[k] * xa[k], nb += xb[k] * xb[k];
    }
    for (int k = 0; k < dim; k++) dot += xa[k] / sqrt(na) * (xb[k] / sqrt(nb));
    scores[i] = dot;
    if (fold[i] != skip) train[m] = dot, train_same[m++] = same[i];
  }
  double t = naive_threshold(train, train_same, (size_t)m);
  free(mu), free(xa), free(xb), free(train), free(train_same);
  return t;
}

/* Random features whose folds sit at different places (a per-fold offset), so centring on the other
   folds' mean differs from centring on the global mean: every output equals the reference's. */
static void protocol_matches_reference(scl_context ctx) {
  (void)ctx;
  enum { N = 90, D = 5, F = 3 };
  tk_rng r = tk_rng_make(21);
  float fa[N * D], fb[N * D], scores[N];
  int same[N], fold[N];
  for (int i = 0; i < N; i++) {
    same[i] = (i / 3) % 2, fold[i] = i % F;
    for (int k = 0; k < D; k++) {
      double shift = fold[i] * (k + 1) * 0.7;
      fa[i * D + k] = (float)(tk_normal(&r) + shift);
      fb[i * D + k] = (float)((same[i] ? 0.5 * (fa[i * D + k] - shift) : 0.0) + tk_normal(&r) + shift);
    }
  }
  scl_verify_result res;
  TK_OK(NULL, scl_verify_protocol(fa, fb, D, fold, same, N, F, 1, &res, scores));
  double ref[N], heldout[N], mean = 0;
  for (int f = 0; f < F; f++) {
    double t = reference_fold(fa, fb, D, fold, same, N, f, ref);
    int right = 0, count = 0;
    for (int i = 0; i < N; i++)
      if (fold[i] == f) {
        heldout[i] = ref[i], count++;
        right += same[i] ? ref[i] > t : ref[i] < t;
      }
    TK_CHECK_MSG(res.threshold[f] == t, "fold %d: threshold %.17g, reference %.17g", f, res.threshold[f], t);
    TK_CHECK_MSG(res.accuracy[f] == (double)right / count, "fold %d: accuracy %g, reference %g", f, res.accuracy[f],
                 (double)right / count);
    mean += (double)right / count / F;
  }
  TK_CHECK(fabs(res.mean - mean) < 1e-15);
  double t_all = reference_fold(fa, fb, D, fold, same, N, -1, ref);
  TK_CHECK_MSG(res.threshold_all == t_all, "threshold_all %.17g, reference %.17g", res.threshold_all, t_all);
  for (int i = 0; i < N; i++)
    TK_CHECK_MSG(scores[i] == (float)heldout[i], "score %d: %g vs %g", i, scores[i], heldout[i]);
}

/* Three folds of 1-D features (a = 1, b = ±1, uncentred: scores ±1). Every training set has a same
   pair at +1 and a different pair at −1, so every threshold is the mean of the grid inside (−1, 1).
   Held out: fold 0 all right (1), fold 1 two wrong (0.5), fold 2 one wrong (0.75):
   mean 0.75, std with n − 1 = sqrt((0.25² + 0.25² + 0)/2) = 0.25 (with n it would be 0.204). */
static void protocol_std_uses_n_minus_1(scl_context ctx) {
  (void)ctx;
  const float fb[12] = {1, 1, -1, -1, /**/ 1, -1, 1, -1, /**/ 1, 1, -1, 1};
  const float fa[12] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  const int same[12] = {1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0}, fold[12] = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
  scl_verify_result r;
  TK_OK(NULL, scl_verify_protocol(fa, fb, 1, fold, same, 12, 3, 0, &r, NULL));
  double lo[] = {-1.0}, hi[] = {1.0}, t = grid_mean_in(lo, hi, 1);
  TK_CHECK(r.threshold[0] == t && r.threshold[1] == t && r.threshold[2] == t);
  TK_CHECK_MSG(r.accuracy[0] == 1.0 && r.accuracy[1] == 0.5 && r.accuracy[2] == 0.75, "accuracies %g %g %g",
               r.accuracy[0], r.accuracy[1], r.accuracy[2]);
  TK_CHECK(r.mean == 0.75);
  TK_CHECK_MSG(r.std == 0.25, "std %.17g, want 0.25", r.std);
}

/* 1000 different pairs (one at 0.95, nine at 0.9, the rest at or below 0.5) and 10 same pairs
   (0.99 0.97 0.93 0.92 0.91 0.8 0.7 0.6 0.3 0.2). FAR <= 1e−3 allows one different pair: accept
   >= 0.91 (fp 1, 5 same) → TAR 0.5. FAR <= 1e−2 allows ten: accept >= 0.6 (fp 10, 8 same) → 0.8;
   accepting the next score (0.5, a different pair) would make fp 11. */
static void protocol_tar_at_far(scl_context ctx) {
  (void)ctx;
  enum { ND = 1000, NS = 10, N = ND + NS };
  static float fa[2 * N], fb[2 * N];
  static int same[N], fold[N];
  const double same_scores[NS] = {0.99, 0.97, 0.93, 0.92, 0.91, 0.8, 0.7, 0.6, 0.3, 0.2};
  for (int i = 0; i < N; i++) {
    double c = i < NS ? same_scores[i] : i == NS ? 0.95 : i <= NS + 9 ? 0.9 : 0.5 - (i - NS) * 1e-4;
    pair_with_cosine(c, fa + 2 * i, fb + 2 * i);
    same[i] = i < NS, fold[i] = i % 3;
  }
  scl_verify_result r;
  TK_OK(NULL, scl_verify_protocol(fa, fb, 2, fold, same, N, 3, 0, &r, NULL));
  TK_CHECK_MSG(r.tar_at_far_1e3 == 0.5, "TAR@FAR=1e-3 %.17g, want 0.5", r.tar_at_far_1e3);
  TK_CHECK_MSG(r.tar_at_far_1e2 == 0.8, "TAR@FAR=1e-2 %.17g, want 0.8", r.tar_at_far_1e2);
}

/* ---- arguments -------------------------------------------------------------------------------- */

static void protocol_bad_arguments(scl_context ctx) {
  (void)ctx;
  const float fa[8] = {1, 2, 3, 4, 5, 6, 7, 8}, fb[8] = {2, 1, 4, 3, 6, 5, 8, 7};
  const int same[4] = {1, 0, 1, 0}, fold[4] = {0, 0, 1, 1};
  const int bad_fold[4] = {0, 0, 2, 1}, one_fold[4] = {0, 0, 0, 0}, bad_same[4] = {1, 0, 2, 0};
  float nan_fa[8] = {1, 2, 3, 4, 5, NAN, 7, 8};
  scl_verify_result r;
  float scores[4] = {42, 42, 42, 42};
  struct {
    const char *what;
    scl_status status;
    scl_status got;
  } cases[] = {
      {"fa NULL", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(NULL, fb, 2, fold, same, 4, 2, 1, &r, scores)},
      {"fb NULL", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(fa, NULL, 2, fold, same, 4, 2, 1, &r, scores)},
      {"fold NULL", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(fa, fb, 2, NULL, same, 4, 2, 1, &r, scores)},
      {"same NULL", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(fa, fb, 2, fold, NULL, 4, 2, 1, &r, scores)},
      {"result NULL", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(fa, fb, 2, fold, same, 4, 2, 1, NULL, scores)},
      {"dim 0", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(fa, fb, 0, fold, same, 4, 2, 1, &r, scores)},
      {"npairs 0", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(fa, fb, 2, fold, same, 0, 2, 1, &r, scores)},
      {"folds 1", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(fa, fb, 2, one_fold, same, 4, 1, 1, &r, scores)},
      {"folds 33", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(fa, fb, 2, fold, same, 4, 33, 1, &r, scores)},
      {"fold id 2 of 2", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(fa, fb, 2, bad_fold, same, 4, 2, 1, &r, scores)},
      {"fold 2 empty", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(fa, fb, 2, fold, same, 4, 3, 1, &r, scores)},
      {"same 2", SCL_ERR_INVALID_ARGUMENT, scl_verify_protocol(fa, fb, 2, fold, bad_same, 4, 2, 1, &r, scores)},
      {"NaN feature", SCL_ERR_NUMERIC, scl_verify_protocol(nan_fa, fb, 2, fold, same, 4, 2, 1, &r, scores)},
  };
  (void)r;
  for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
    TK_CHECK_MSG(cases[i].got == cases[i].status, "%s: got %s", cases[i].what, scl_status_string(cases[i].got));
  /* Outputs stay untouched on failure (checked on a fresh poisoned result). */
  poison_result(&r);
  TK_STATUS(NULL, scl_verify_protocol(fa, fb, 2, bad_fold, same, 4, 2, 1, &r, scores), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK(strstr(scl_context_error(NULL), "fold[2]") != NULL);
  TK_STATUS(NULL, scl_verify_protocol(nan_fa, fb, 2, fold, same, 4, 2, 1, &r, scores), SCL_ERR_NUMERIC);
  TK_CHECK(strstr(scl_context_error(NULL), "fa[2][1]") != NULL);
  TK_CHECK(result_untouched(&r));
  for (int i = 0; i < 4; i++) TK_CHECK(scores[i] == 42);
  /* and the valid call works */
  TK_OK(NULL, scl_verify_protocol(fa, fb, 2, fold, same, 4, 2, 1, &r, scores));
}

/* ---- ROC files -------------------------------------------------------------------------------- */

/* scores 0.9 0.8 0.8 0.3 0.1, same 1 1 0 1 0: rows (threshold, far, tar) from the top:
   0.9 (0, 1/3), 0.8 (1/2, 2/3), 0.3 (1/2, 1), 0.1 (1, 1). */
static void roc_file(scl_context ctx) {
  (void)ctx;
  char dir[] = "/tmp/scl_test_verify_XXXXXX";
  TK_CHECK(mkdtemp(dir) != NULL);
  char path[256];
  snprintf(path, sizeof path, "%s/roc.csv", dir);
  const float scores[5] = {0.9f, 0.8f, 0.8f, 0.3f, 0.1f};
  const int same[5] = {1, 1, 0, 1, 0};
  TK_OK(NULL, scl_verify_write_roc(path, scores, same, 5));
  const double want[4][3] = {{0.9f, 0, 1.0 / 3}, {0.8f, 0.5, 2.0 / 3}, {0.3f, 0.5, 1}, {0.1f, 1, 1}};
  FILE *f = fopen(path, "r");
  TK_CHECK(f != NULL);
  char line[256];
  int rows = 0;
  if (f) {
    TK_CHECK(fgets(line, sizeof line, f) && strcmp(line, "threshold,far,tar\n") == 0);
    double t, fa, ta;
    while (fgets(line, sizeof line, f) && sscanf(line, "%lf,%lf,%lf", &t, &fa, &ta) == 3) {
      if (rows < 4)
        TK_CHECK_MSG((float)t == (float)want[rows][0] && fabs(fa - want[rows][1]) < 1e-8 &&
                         fabs(ta - want[rows][2]) < 1e-8,
                     "row %d: %s", rows, line);
      rows++;
    }
    fclose(f);
  }
  TK_CHECK_MSG(rows == 4, "%d rows, want 4 (one per distinct score)", rows);
  /* The same points in memory. */
  scl_roc_point *pts = NULL;
  size_t npts = 0;
  TK_OK(NULL, scl_verify_roc(scores, same, 5, &pts, &npts));
  TK_CHECK_MSG(npts == 4, "%zu ROC points, want 4", npts);
  for (size_t i = 0; i < npts && i < 4; i++)
    TK_CHECK_MSG((float)pts[i].threshold == (float)want[i][0] && fabs(pts[i].far - want[i][1]) < 1e-12 &&
                     fabs(pts[i].tar - want[i][2]) < 1e-12,
                 "point %zu: %g %g %g", i, pts[i].threshold, pts[i].far, pts[i].tar);
  free(pts);
  pts = (scl_roc_point *)1;
  TK_STATUS(NULL, scl_verify_roc(scores, (const int[5]){0, 0, 0, 0, 0}, 5, &pts, &npts), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK(pts == (scl_roc_point *)1);
  /* Bad arguments: nothing is written. */
  char other[256];
  snprintf(other, sizeof other, "%s/bad.csv", dir);
  const int all_same[5] = {1, 1, 1, 1, 1};
  const float nan_scores[5] = {0.9f, NAN, 0.8f, 0.3f, 0.1f};
  TK_STATUS(NULL, scl_verify_write_roc(other, scores, all_same, 5), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(NULL, scl_verify_write_roc(other, nan_scores, same, 5), SCL_ERR_NUMERIC);
  TK_STATUS(NULL, scl_verify_write_roc(NULL, scores, same, 5), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK(access(other, F_OK) != 0);
  /* A folder that does not exist: SCL_ERR_IO, and no temporary file is left anywhere. */
  snprintf(other, sizeof other, "%s/missing/roc.csv", dir);
  TK_STATUS(NULL, scl_verify_write_roc(other, scores, same, 5), SCL_ERR_IO);
  remove(path);
  TK_CHECK_MSG(rmdir(dir) == 0, "%s should be empty now (a temporary file left behind?)", dir);
}

/* ---- LFW-sized -------------------------------------------------------------------------------- */

/* 6000 pairs of 512-d features in 10 folds (same pairs correlated weakly enough that the threshold
   matters): the whole protocol in well under a second, and the threshold on all pairs equals the
   naive search over the scores it was computed from. */
static void protocol_lfw_size(scl_context ctx) {
  (void)ctx;
  enum { N = 6000, D = 512, F = 10 };
  float *fa = malloc(sizeof(float) * N * D), *fb = malloc(sizeof(float) * N * D);
  int *same = malloc(N * sizeof *same), *fold = malloc(N * sizeof *fold);
  tk_rng r = tk_rng_make(5);
  for (int i = 0; i < N; i++) {
    same[i] = (i / 300) % 2 == 0, fold[i] = i / 600;
    for (int k = 0; k < D; k++) {
      fa[(size_t)i * D + k] = (float)tk_normal(&r);
      fb[(size_t)i * D + k] = (float)((same[i] ? 0.12 * fa[(size_t)i * D + k] : 0.0) + tk_normal(&r));
    }
  }
  scl_verify_result res;
  clock_t t0 = clock();
  TK_OK(NULL, scl_verify_protocol(fa, fb, D, fold, same, N, F, 0, &res, NULL));
  double seconds = (double)(clock() - t0) / CLOCKS_PER_SEC;
  printf("  6000 pairs x 512-d, 10 folds: %.3f s CPU; accuracy %.4f ± %.4f\n", seconds, res.mean, res.std);
  /* Uncentred scores do not depend on the fold: recompute them here and search naively. */
  double *scores = malloc(N * sizeof *scores);
  for (int i = 0; i < N; i++) {
    double dot = 0, na = 0, nb = 0;
    for (int k = 0; k < D; k++) {
      double a = fa[(size_t)i * D + k], b = fb[(size_t)i * D + k];
      na += a * a, nb += b * b;
    }
    for (int k = 0; k < D; k++) dot += fa[(size_t)i * D + k] / sqrt(na) * (fb[(size_t)i * D + k] / sqrt(nb));
    scores[i] = dot;
  }
  double naive = naive_threshold(scores, same, N);
  TK_CHECK_MSG(fabs(res.threshold_all - naive) < 1e-12, "threshold_all %.17g, naive %.17g", res.threshold_all, naive);
  TK_CHECK_MSG(res.mean > 0.8 && res.mean < 1.0, "mean accuracy %g", res.mean);
  free(fa), free(fb), free(same), free(fold), free(scores);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"threshold_plateau", threshold_plateau},
                           {"threshold_sweep_equals_naive", threshold_sweep_equals_naive},
                           {"protocol_hand_intervals", protocol_hand_intervals},
                           {"protocol_mean_subtraction_by_hand", protocol_mean_subtraction_by_hand},
                           {"protocol_offset_invariance", protocol_offset_invariance},
                           {"protocol_matches_reference", protocol_matches_reference},
                           {"protocol_std_uses_n_minus_1", protocol_std_uses_n_minus_1},
                           {"protocol_tar_at_far", protocol_tar_at_far},
                           {"protocol_bad_arguments", protocol_bad_arguments},
                           {"roc_file", roc_file},
                           {"protocol_lfw_size", protocol_lfw_size}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof *cases);
}
