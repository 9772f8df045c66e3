/* The one file that calls CLBlast's routines: GEMM, plain and strided-batched.
   Tuning overrides are applied in lib/blas/tuning.c. */
#include "internal.h"

#include <clblast_c.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static CLBlastTranspose tr(scl_trans t) { return t == SCL_TRANS ? CLBlastTransposeYes : CLBlastTransposeNo; }

static scl_status blas_status(scl_context ctx, CLBlastStatusCode code, const char *what) {
  if (code == CLBlastSuccess) return SCL_OK;
  return scl__fail(ctx, (scl_status)code, "CLBlast %s failed on %s: %s (%d)", what, ctx->device_label,
                   scl_status_string((scl_status)code), (int)code);
}

/* Whether CLBlast serves this GEMM with its indirect Xgemm kernel (which may need helper kernels)
   rather than XgemmDirect (which never does). With an unknown threshold, assume indirect. */
static int indirect(scl_context ctx, size_t m, size_t n, size_t k) {
  unsigned long long t = ctx->gemm_min_indirect;
  return (unsigned long long)m * n * k >= t * t * t;
}

scl_status scl__gemm(scl_context ctx, scl_trans ta, scl_trans tb, size_t m, size_t n, size_t k, float alpha,
                     cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta, cl_mem c,
                     size_t c_off, size_t ldc) {
  /* CLBlast copies or transposes operands that are not in its kernel's layout into a temporary
     buffer, which it allocates on every call unless given one: give it the context's. */
  size_t temp = 0;
  CLBlastStatusCode code = CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, tr(ta), tr(tb), m, n, k, a_off, lda,
                                                      b_off, ldb, c_off, ldc, &ctx->queue, &temp);
  if (code != CLBlastSuccess) return blas_status(ctx, code, "SGemmTempBufferSize");
  if (temp > 0 && indirect(ctx, m, n, k)) {
    cl_mem tb_mem;
    scl_status st = scl__workspace(ctx, SCL_WS_GEMM_TEMP, temp, &tb_mem);
    if (st != SCL_OK) return st;
    ctx->gemm_helper_calls++;
    code = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, tr(ta), tr(tb), m, n, k, alpha, a, a_off, lda, b, b_off,
                                      ldb, beta, c, c_off, ldc, &ctx->queue, NULL, tb_mem);
    return blas_status(ctx, code, "SgemmWithTempBuffer");
  }
  code = CLBlastSgemm(CLBlastLayoutRowMajor, tr(ta), tr(tb), m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c,
                      c_off, ldc, &ctx->queue, NULL);
  return blas_status(ctx, code, "Sgemm");
}

scl_status scl__gemm_batched(scl_context ctx, scl_trans ta, scl_trans tb, size_t m, size_t n, size_t k,
                             float alpha, cl_mem a, size_t a_off, size_t lda, size_t a_stride, cl_mem b, size_t b_off,
                             size_t ldb, size_t b_stride, float beta, cl_mem c, size_t c_off, size_t ldc,
                             size_t c_stride, size_t batch_count) {
  if (batch_count == 1)
    return scl__gemm(ctx, ta, tb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off, ldc);
  CLBlastStatusCode code =
      CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, tr(ta), tr(tb), m, n, k, alpha, a, a_off, lda, a_stride, b,
                                 b_off, ldb, b_stride, beta, c, c_off, ldc, c_stride, batch_count, &ctx->queue, NULL);
  return blas_status(ctx, code, "SgemmStridedBatched");
}
