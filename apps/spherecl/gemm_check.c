/* A device GEMM checked against the host (gemm_check.h). */
#include "gemm_check.h"
#include "cli_common.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

scl_status gemm_check(scl_context ctx, scl_trans ta, scl_trans tb, size_t m, size_t n, size_t k, int reps,
                      double *err, double *seconds) {
  float *a = malloc(m * k * 4), *b = malloc(k * n * 4), *c = malloc(m * n * 4);
  scl_tensor A = NULL, B = NULL, C = NULL;
  scl_status st = a && b && c ? SCL_OK : SCL_ERR_OUT_OF_MEMORY;
  uint64_t s = m * 7919 + n * 31 + k;
  for (size_t i = 0; st == SCL_OK && i < m * k + k * n; i++) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    *(i < m * k ? &a[i] : &b[i - m * k]) = (float)((s >> 40) % 2001) / 1000.0f - 1.0f;
  }
  size_t ad[1] = {m * k}, bd[1] = {k * n}, cd[1] = {m * n};
  if (st == SCL_OK) st = scl_tensor_create(ctx, SCL_F32, 1, ad, &A);
  if (st == SCL_OK) st = scl_tensor_create(ctx, SCL_F32, 1, bd, &B);
  if (st == SCL_OK) st = scl_tensor_create(ctx, SCL_F32, 1, cd, &C);
  if (st == SCL_OK) st = scl_tensor_write(A, a, m * k * 4);
  if (st == SCL_OK) st = scl_tensor_write(B, b, k * n * 4);
  size_t lda = ta ? m : k, ldb = tb ? k : n;
  double best = INFINITY;
  for (int rep = 0; rep <= reps && st == SCL_OK; rep++) {
    double t0 = cli_now();
    st = scl__gemm(ctx, ta, tb, m, n, k, 1.0f, A->buffer, 0, lda, B->buffer, 0, ldb, 0.0f, C->buffer, 0, n);
    if (st == SCL_OK) st = scl_context_finish(ctx);
    if (rep && cli_now() - t0 < best) best = cli_now() - t0;
  }
  if (seconds) *seconds = best;
  if (st == SCL_OK) st = scl_tensor_read(C, c, m * n * 4);
  double e2 = 0, r2 = 0;
  for (size_t i = 0; st == SCL_OK && i < m; i++)
    for (size_t j = 0; j < n; j++) {
      double r = 0;
      for (size_t p = 0; p < k; p++) r += (double)a[ta ? p * m + i : i * k + p] * b[tb ? j * k + p : p * n + j];
      e2 += (c[i * n + j] - r) * (c[i * n + j] - r), r2 += r * r;
    }
  *err = r2 > 0 ? sqrt(e2 / r2) : 0;
  free(a), free(b), free(c);
  scl_tensor_release(A), scl_tensor_release(B), scl_tensor_release(C);
  return st;
}
