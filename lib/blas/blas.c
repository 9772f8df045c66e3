/* The one file that calls CLBlast's routines: GEMM, plain and strided-batched, unless the tuning
   sends them to spherecl's own kernel (gemm_own.c). Tuning overrides are applied in tuning.c. */
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

/* A sub-buffer that starts at element `*off` of mem, so that CLBlast sees offset 0 (a non-zero
   offset makes it copy the operand); *off becomes 0. NULL (and *off unchanged) when the offset is
   not aligned for a sub-buffer, mem is itself one, or the device refuses. */
static cl_mem at_offset(scl_context ctx, cl_mem mem, size_t *off) {
  size_t bytes = *off * sizeof(float), size = 0;
  cl_mem parent = NULL;
  if (*off == 0 || !ctx->mem_align || bytes % ctx->mem_align ||
      clGetMemObjectInfo(mem, CL_MEM_ASSOCIATED_MEMOBJECT, sizeof parent, &parent, NULL) != CL_SUCCESS || parent ||
      clGetMemObjectInfo(mem, CL_MEM_SIZE, sizeof size, &size, NULL) != CL_SUCCESS || size <= bytes)
    return NULL;
  cl_buffer_region region = {bytes, size - bytes};
  cl_int err;
  cl_mem sub = clCreateSubBuffer(mem, CL_MEM_READ_WRITE, CL_BUFFER_CREATE_TYPE_REGION, &region, &err);
  if (err != CL_SUCCESS) return NULL;
  *off = 0;
  return sub;
}

scl_status scl__gemm(scl_context ctx, scl_trans ta, scl_trans tb, size_t m, size_t n, size_t k, float alpha,
                     cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta, cl_mem c,
                     size_t c_off, size_t ldc) {
  if (ctx->gemm_own && tb == SCL_NO_TRANS)
    return scl__gemm_own(ctx, ta, m, n, k, alpha, a, a_off, lda, 0, b, b_off, ldb, 0, beta, c, c_off, ldc, 0, 1);
  cl_mem sa = at_offset(ctx, a, &a_off), sb = at_offset(ctx, b, &b_off), sc = at_offset(ctx, c, &c_off);
  if (sa) a = sa;
  if (sb) b = sb;
  if (sc) c = sc;
  /* CLBlast copies or transposes operands that are not in its kernel's layout into a temporary
     buffer, which it allocates on every call unless given one: give it the context's. */
  size_t temp = 0;
  scl_status st;
  CLBlastStatusCode code = CLBlastSGemmTempBufferSize(CLBlastLayoutRowMajor, tr(ta), tr(tb), m, n, k, a_off, lda,
                                                      b_off, ldb, c_off, ldc, &ctx->queue, &temp);
  if (code != CLBlastSuccess) {
    st = blas_status(ctx, code, "SGemmTempBufferSize");
  } else if (temp > 0 && indirect(ctx, m, n, k)) {
    cl_mem tb_mem;
    st = scl__workspace(ctx, SCL_WS_GEMM_TEMP, temp, &tb_mem);
    if (st == SCL_OK) {
      ctx->gemm_helper_calls++;
      code = CLBlastSgemmWithTempBuffer(CLBlastLayoutRowMajor, tr(ta), tr(tb), m, n, k, alpha, a, a_off, lda, b, b_off,
                                        ldb, beta, c, c_off, ldc, &ctx->queue, NULL, tb_mem);
      st = blas_status(ctx, code, "SgemmWithTempBuffer");
    }
  } else {
    code = CLBlastSgemm(CLBlastLayoutRowMajor, tr(ta), tr(tb), m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c,
                        c_off, ldc, &ctx->queue, NULL);
    st = blas_status(ctx, code, "Sgemm");
  }
  /* The queue keeps what it still needs of a released sub-buffer. */
  if (sa) clReleaseMemObject(sa);
  if (sb) clReleaseMemObject(sb);
  if (sc) clReleaseMemObject(sc);
  return st;
}

scl_status scl__gemm_batched(scl_context ctx, scl_trans ta, scl_trans tb, size_t m, size_t n, size_t k,
                             float alpha, cl_mem a, size_t a_off, size_t lda, size_t a_stride, cl_mem b, size_t b_off,
                             size_t ldb, size_t b_stride, float beta, cl_mem c, size_t c_off, size_t ldc,
                             size_t c_stride, size_t batch_count) {
  if (ctx->gemm_own && tb == SCL_NO_TRANS)
    return scl__gemm_own(ctx, ta, m, n, k, alpha, a, a_off, lda, a_stride, b, b_off, ldb, b_stride, beta, c, c_off,
                         ldc, c_stride, batch_count);
  if (batch_count == 1)
    return scl__gemm(ctx, ta, tb, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off, ldc);
  CLBlastStatusCode code =
      CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, tr(ta), tr(tb), m, n, k, alpha, a, a_off, lda, a_stride, b,
                                 b_off, ldb, b_stride, beta, c, c_off, ldc, c_stride, batch_count, &ctx->queue, NULL);
  return blas_status(ctx, code, "SgemmStridedBatched");
}

void scl__blas_release_caches(void) { CLBlastClearCache(); }
