/* One SGEMM on a device against a double-precision loop on the host: `spherecl selftest` and each
   `spherecl tune` candidate. */
#ifndef SPHERECL_GEMM_CHECK_H
#define SPHERECL_GEMM_CHECK_H
#include "internal.h"

/* C = op(A)·op(B), row-major, op(A) m×k and op(B) k×n, operands in [-1, 1] from a fixed seed;
   *err receives the relative L2 error of C (NaN or infinite when the result is not finite). With
   reps > 0 the GEMM runs reps more times and *seconds (may be NULL otherwise) receives the fastest,
   the first run having paid for compiling. */
scl_status gemm_check(scl_context ctx, scl_trans ta, scl_trans tb, size_t m, size_t n, size_t k, int reps,
                      double *err, double *seconds);

#endif
