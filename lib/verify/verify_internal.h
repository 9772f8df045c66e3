/* Internal pieces of face verification (lib/verify), shared with the tests and the CLI. */
#ifndef SPHERECL_VERIFY_INTERNAL_H
#define SPHERECL_VERIFY_INTERNAL_H

#include "internal.h"

#include <stdio.h>

/* ---- atomic file writing (pairs.c) ------------------------------------------------------------ */

/* A file written under a temporary sibling name and renamed over `path` only when complete, so a
   reader never sees a half-written file and a failed write leaves the old file in place. */
typedef struct {
  FILE *f;
  const char *path;
  char *tmp; /* malloc'd "<path>.tmp-<pid>" */
} scl__atomic_file;

/* Opens the temporary file. op names the public call in messages. SCL_ERR_IO if it cannot be made. */
scl_status scl__atomic_open(scl__atomic_file *af, const char *path, const char *op);
/* Flushes, fsyncs, closes and renames; any write error since open (or here) gives SCL_ERR_IO and
   removes the temporary file. */
scl_status scl__atomic_commit(scl__atomic_file *af, const char *op);
/* Discards the temporary file (after a failure that happened before commit). */
void scl__atomic_abort(scl__atomic_file *af);

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
