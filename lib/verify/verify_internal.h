/* Internal pieces of face verification (lib/verify), shared with the tests and the CLI. */
#ifndef SPHERECL_VERIFY_INTERNAL_H
#define SPHERECL_VERIFY_INTERNAL_H

#include "internal.h"

#include <stdio.h>

/* ---- pairs (pairs.c) -------------------------------------------------------------------------- */

/* The largest per_fold scl_pairs_make accepts for this folder, identity range, fold count and seed
   (the seed matters: it decides which identities share a fold); 0 when none is possible. Errors as
   scl_pairs_make's (unreadable root, bad range, folds outside 1..32). */
scl_status scl__pairs_max_per_fold(const char *root, int first, int last, int folds, unsigned long long seed,
                                   int *max_per_fold);

/* ---- the protocol (protocol.c) ---------------------------------------------------------------- */

/* The candidate thresholds t_k = −1 + k·1e−4, k = 0..SCL_VERIFY_STEPS, computed exactly so. */
#define SCL_VERIFY_STEPS 20000
double scl__verify_grid(int k);

/* The protocol's threshold choice over n scores (same[i] 1 or 0): the mean of every grid point t
   with the most pairs right (same: score > t, different: score < t). The mean sums the chosen t in
   increasing k, in double, and divides by their number. Scores must be finite; n >= 1. Runs in
   O(n log n + steps) by sorting and sweeping, giving exactly the naive O(n · steps) answer.
   SCL_ERR_OUT_OF_MEMORY is its only failure. */
scl_status scl__verify_best_threshold(const double *scores, const int *same, size_t n, double *threshold);

#endif
