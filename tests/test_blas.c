/* The GEMM layer (CLBlast, and spherecl's own kernel): GEMM in every transpose combination, with
   offsets, batched, against a double-precision reference. (Tuning overrides: test_tuning.c, since they are process-wide.) */
#include "internal.h"
#include "ref/ref_gemm.h"
#include "testkit/testkit.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* C[m,n] at element offset 5 of its buffer, A and B at offsets 3 and 11, all with padded leading
   dimensions: every offset and ld argument is exercised. */
static void check_gemm(scl_context ctx, int ta, int tb, size_t m, size_t n, size_t k, uint64_t seed) {
  tk_rng r = tk_rng_make(seed);
  size_t arows = ta ? k : m, acols = ta ? m : k, brows = tb ? n : k, bcols = tb ? k : n;
  size_t lda = acols + 2, ldb = bcols + 1, ldc = n + 3;
  size_t asz = 3 + arows * lda, bsz = 11 + brows * ldb, csz = 5 + m * ldc;
  float *a = malloc(asz * 4), *b = malloc(bsz * 4), *c = malloc(csz * 4);
  tk_fill_uniform(&r, a, asz, -1, 1);
  tk_fill_uniform(&r, b, bsz, -1, 1);
  float *ap = malloc(arows * acols * 4), *bp = malloc(brows * bcols * 4);
  for (size_t i = 0; i < arows; i++)
    for (size_t j = 0; j < acols; j++) ap[i * acols + j] = a[3 + i * lda + j];
  for (size_t i = 0; i < brows; i++)
    for (size_t j = 0; j < bcols; j++) bp[i * bcols + j] = b[11 + i * ldb + j];
  scl_tensor A = tk_tensor(ctx, a, asz, 0, 0, 0), B = tk_tensor(ctx, b, bsz, 0, 0, 0), C = tk_tensor(ctx, NULL, csz, 0, 0, 0);
  TK_OK(ctx, scl__gemm(ctx, ta ? SCL_TRANS : SCL_NO_TRANS, tb ? SCL_TRANS : SCL_NO_TRANS, m, n, k, 1.0f, A->buffer, 3,
                       lda, B->buffer, 11, ldb, 0.0f, C->buffer, 5, ldc));
  TK_OK(ctx, scl_tensor_read(C, c, csz * 4));
  double *ref = malloc(m * n * sizeof *ref);
  ref_gemm(ta, tb, m, n, k, ap, bp, ref);
  float *got = malloc(m * n * 4);
  for (size_t i = 0; i < m; i++)
    for (size_t j = 0; j < n; j++) got[i * n + j] = c[5 + i * ldc + j];
  char what[64];
  snprintf(what, sizeof what, "gemm ta=%d tb=%d %zux%zux%zu", ta, tb, m, n, k);
  tk_expect_close(what, got, ref, m * n, TK_TOL_GEMM);
  free(a), free(b), free(c), free(ap), free(bp), free(ref), free(got);
  scl_tensor_release(A), scl_tensor_release(B), scl_tensor_release(C);
}

static void gemm_transposes(scl_context ctx) {
  for (int ta = 0; ta < 2; ta++)
    for (int tb = 0; tb < 2; tb++) check_gemm(ctx, ta, tb, 13, 7, 29, (uint64_t)(10 + ta * 2 + tb));
}

static void gemm_large(scl_context ctx) { check_gemm(ctx, 0, 1, 257, 131, 300, 3); }

static void gemm_batched(scl_context ctx) {
  const size_t m = 5, n = 6, k = 7, batch = 3;
  tk_rng r = tk_rng_make(4);
  float a[3 * 5 * 7], b[3 * 7 * 6], c[3 * 5 * 6];
  tk_fill_uniform(&r, a, sizeof a / 4, -1, 1);
  tk_fill_uniform(&r, b, sizeof b / 4, -1, 1);
  scl_tensor A = tk_tensor(ctx, a, sizeof a / 4, 0, 0, 0), B = tk_tensor(ctx, b, sizeof b / 4, 0, 0, 0),
             C = tk_tensor(ctx, NULL, sizeof c / 4, 0, 0, 0);
  TK_OK(ctx, scl__gemm_batched(ctx, SCL_NO_TRANS, SCL_NO_TRANS, m, n, k, 1.0f, A->buffer, 0, k, m * k, B->buffer, 0,
                               n, k * n, 0.0f, C->buffer, 0, n, m * n, batch));
  TK_OK(ctx, scl_tensor_read(C, c, sizeof c));
  double ref[3 * 5 * 6];
  for (size_t i = 0; i < batch; i++) ref_gemm(0, 0, m, n, k, a + i * m * k, b + i * k * n, ref + i * m * n);
  tk_expect_close("batched gemm", c, ref, batch * m * n, TK_TOL_GEMM);
  scl_tensor_release(A), scl_tensor_release(B), scl_tensor_release(C);
}

static void gemm_errors_pass_through(scl_context ctx) {
  scl_tensor A = tk_tensor(ctx, NULL, 4, 0, 0, 0);
  /* A buffer too small for the problem: CLBlast's own status comes back unchanged (and spherecl's
     GEMM kernel, when the tuning chose it, gives the same one rather than touch memory past it). */
  scl_status st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, 8, 8, 8, 1.0f, A->buffer, 0, 8, A->buffer, 0, 8, 0.0f,
                            A->buffer, 0, 8);
  TK_CHECK_MSG(st <= -1007 && st >= -1011, "got %s", scl_status_string(st));
  TK_CHECK(strstr(scl_context_error(ctx), ctx->gemm_own ? "buffer is too small" : "CLBlast") != NULL);
  scl_tensor_release(A);
}

/* spherecl's own GEMM kernel (kernels/gemm.cl), every tile, whatever the tuning chose: C =
   alpha·op(A)·B + beta·C against the double reference, on shapes with ragged row and column tiles
   (m, n not multiples of the tile, n < 16, m = 1), A transposed or not, batched at strides, padded
   leading dimensions and offsets; beta = 0 ignores C (NaN there must not leak), beta != 0 adds it;
   a transposed B still goes to CLBlast. */
static void own_gemm_case(scl_context ctx, int ta, size_t m, size_t n, size_t k, size_t batch, float alpha, float beta,
                          uint64_t seed) {
  tk_rng r = tk_rng_make(seed);
  const size_t arows = ta ? k : m, acols = ta ? m : k, lda = acols + 3, ldb = n + 2, ldc = n + 1;
  const size_t as = arows * lda + 5, bs = k * ldb + 1, cs = m * ldc + 2; /* per-problem strides */
  const size_t asz = 7 + batch * as, bsz = 2 + batch * bs, csz = 9 + batch * cs;
  float *a = malloc(asz * 4), *b = malloc(bsz * 4), *c = malloc(csz * 4), *c0 = malloc(csz * 4);
  tk_fill_uniform(&r, a, asz, -1, 1);
  tk_fill_uniform(&r, b, bsz, -1, 1);
  tk_fill_uniform(&r, c0, csz, -1, 1);
  if (beta == 0.0f)
    for (size_t i = 0; i < csz; i++) c0[i] = NAN;
  scl_tensor A = tk_tensor(ctx, a, asz, 0, 0, 0), B = tk_tensor(ctx, b, bsz, 0, 0, 0), C = tk_tensor(ctx, c0, csz, 0, 0, 0);
  TK_OK(ctx, scl__gemm_batched(ctx, ta ? SCL_TRANS : SCL_NO_TRANS, SCL_NO_TRANS, m, n, k, alpha, A->buffer, 7, lda, as,
                               B->buffer, 2, ldb, bs, beta, C->buffer, 9, ldc, cs, batch));
  TK_OK(ctx, scl_tensor_read(C, c, csz * 4));
  float *ap = malloc(arows * acols * 4), *bp = malloc(k * n * 4), *got = malloc(m * n * 4);
  double *ref = malloc(m * n * sizeof *ref);
  int untouched = 1;
  for (size_t z = 0; z < batch; z++) {
    for (size_t i = 0; i < arows; i++)
      for (size_t j = 0; j < acols; j++) ap[i * acols + j] = a[7 + z * as + i * lda + j];
    for (size_t i = 0; i < k; i++)
      for (size_t j = 0; j < n; j++) bp[i * n + j] = b[2 + z * bs + i * ldb + j];
    ref_gemm(ta, 0, m, n, k, ap, bp, ref);
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < n; j++) {
        const size_t at = 9 + z * cs + i * ldc + j;
        ref[i * n + j] = alpha * ref[i * n + j] + (beta != 0.0f ? (double)beta * c0[at] : 0.0);
        got[i * n + j] = c[at];
      }
    char what[192];
    snprintf(what, sizeof what, "own gemm tile %d ta=%d %zux%zux%zu batch %zu/%zu alpha %g beta %g", ctx->gemm_own, ta,
             m, n, k, z, batch, (double)alpha, (double)beta);
    tk_expect_close(what, got, ref, m * n, TK_TOL_GEMM);
  }
  /* Padding between rows and problems is never written. */
  for (size_t z = 0; z < batch; z++)
    for (size_t i = 0; i < m; i++)
      for (size_t j = n; j < ldc && 9 + z * cs + i * ldc + j < csz; j++) {
        const size_t at = 9 + z * cs + i * ldc + j;
        untouched &= memcmp(&c[at], &c0[at], 4) == 0;
      }
  TK_CHECK_MSG(untouched, "the kernel wrote outside C's rows");
  free(a), free(b), free(c), free(c0), free(ap), free(bp), free(got), free(ref);
  scl_tensor_release(A), scl_tensor_release(B), scl_tensor_release(C);
}

static void own_gemm_kernel(scl_context ctx) {
  const int keep = ctx->gemm_own;
  static const int tiles[][2] = {{4, 32}, {8, 32}, {8, 48}, {12, 32}};
  for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++) {
    ctx->gemm_own = scl__gemm_own_tile(tiles[t][0], tiles[t][1]);
    TK_CHECK(ctx->gemm_own > 0);
    own_gemm_case(ctx, 0, 37, 75, 19, 1, 1.0f, 0.0f, 20 + t);  /* ragged rows and columns */
    own_gemm_case(ctx, 1, 13, 50, 33, 3, 0.5f, 0.0f, 30 + t);  /* A transposed, batched */
    own_gemm_case(ctx, 0, 1, 9, 64, 2, -1.5f, 0.25f, 40 + t);  /* one row, n < 16, beta */
    own_gemm_case(ctx, 0, 21, 16, 30, 1, 1.0f, 0.75f, 45 + t); /* n = 16: whole vectors, a tile part empty */
    own_gemm_case(ctx, 0, 48, 96, 40, 2, 2.0f, 1.0f, 50 + t);  /* whole tiles, beta 1 */
    own_gemm_case(ctx, 1, 24, 17, 0, 1, 1.0f, 0.5f, 60 + t);   /* k = 0: C = beta·C */
    own_gemm_case(ctx, 0, 9, 40, 3001, 2, 1.0f, 0.5f, 80 + t); /* k in slices (split-K), beta */
    own_gemm_case(ctx, 1, 70, 33, 2900, 1, 1.0f, 0.0f, 90 + t); /* the same, A transposed */
    own_gemm_case(ctx, 0, 64, 1022, 5, 2, 1.0f, 0.0f, 100 + t); /* B's rows 4 KiB apart: packed first */
    check_gemm(ctx, 0, 1, 13, 7, 29, 70 + t);                  /* B transposed: CLBlast */
  }
  ctx->gemm_own = keep;
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"gemm_transposes", gemm_transposes},
                           {"gemm_large", gemm_large},
                           {"gemm_batched", gemm_batched},
                           {"gemm_errors_pass_through", gemm_errors_pass_through},
                           {"own_gemm_kernel", own_gemm_kernel}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
