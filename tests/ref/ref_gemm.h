/* Naive double-precision GEMM reference: C[m,n] = op(A)·op(B), row-major, no cleverness. */
#ifndef SCL_REF_GEMM_H
#define SCL_REF_GEMM_H
#include <stddef.h>
/* ta/tb: 0 = as stored (A is m×k), 1 = transposed (A stored k×m). */
void ref_gemm(int ta, int tb, size_t m, size_t n, size_t k, const float *a, const float *b, double *c);
#endif
