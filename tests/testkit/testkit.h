/* The test kit: cases, checks, a seeded RNG, NaN-poisoned device tensors and the comparator.
   Each test_*.c lists its cases and calls tk_main; the run ends with "N passed, N failed". */
#ifndef SCL_TESTKIT_H
#define SCL_TESTKIT_H

#include "spherecl.h"

#include <stddef.h>
#include <stdint.h>

typedef struct {
  const char *name;
  void (*fn)(scl_context ctx);
} tk_case;

/* Runs the cases on a context from SPHERECL_TEST_DEVICE (else the default selector), printing one
   line per case and the closing "N passed, N failed". Returns the process exit code. A case with a
   name argument on the command line runs alone. */
int tk_main(int argc, char **argv, const tk_case *cases, size_t ncases);

/* Records a failure (file:line and a message) for the running case; the case continues. */
void tk_fail(const char *file, int line, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
#define TK_CHECK(cond)                                                                             \
  do {                                                                                             \
    if (!(cond)) tk_fail(__FILE__, __LINE__, "check failed: %s", #cond);                           \
  } while (0)
#define TK_CHECK_MSG(cond, ...)                                                                    \
  do {                                                                                             \
    if (!(cond)) tk_fail(__FILE__, __LINE__, __VA_ARGS__);                                         \
  } while (0)
/* expr must return exactly `expected`; on mismatch both statuses and the context message are printed. */
#define TK_STATUS(ctx, expr, expected) tk_check_status((ctx), (expr), (expected), #expr, __FILE__, __LINE__)
int tk_check_status(scl_context ctx, scl_status got, scl_status expected, const char *expr, const char *file,
                    int line);
/* Fails the case (and returns from it) unless expr is SCL_OK. */
#define TK_OK(ctx, expr)                                                                           \
  do {                                                                                             \
    if (!TK_STATUS((ctx), (expr), SCL_OK)) return;                                                 \
  } while (0)

/* ---- random data (deterministic per seed) ---------------------------------------------------- */
typedef struct { uint64_t s; } tk_rng;
tk_rng tk_rng_make(uint64_t seed);
double tk_uniform(tk_rng *r, double lo, double hi);
double tk_normal(tk_rng *r);
void tk_fill_uniform(tk_rng *r, float *x, size_t n, double lo, double hi);

/* ---- tensors ---------------------------------------------------------------------------------- */
/* New F32 tensor with the given dims (0-terminated list, up to 4) holding host data (or NaN if NULL). */
scl_tensor tk_tensor(scl_context ctx, const float *host, size_t d0, size_t d1, size_t d2, size_t d3);
scl_tensor tk_tensor_i32(scl_context ctx, const int32_t *host, size_t n);
/* A tensor with the same shape as t, filled with NaN (poison: unwritten elements then fail). */
scl_tensor tk_poisoned_like(scl_context ctx, scl_tensor t);
/* Reads a whole F32 tensor into a new malloc'd array. */
float *tk_read(scl_tensor t);

/* ---- comparison ------------------------------------------------------------------------------- */
/* ‖out − ref‖₂ / ‖ref‖₂ (absolute ‖out‖ when ref is all zero); +inf if any out is NaN or Inf. */
double tk_rel_l2(const float *out, const double *ref, size_t n);
/* Records a failure when tk_rel_l2 exceeds tol; prints the worst element. Returns 1 when close. */
int tk_expect_close(const char *what, const float *out, const double *ref, size_t n, double tol);
#define TK_TOL_ELEMENTWISE 1e-5
#define TK_TOL_GEMM 1e-4

/* Path of the shared data folder (SPHERECL_SHARED_DATA or ../shared/data), or NULL if absent. */
const char *tk_shared_data(void);

#endif
