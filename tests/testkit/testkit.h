/* The test kit: cases, checks, a seeded RNG, finite differences, NaN-poisoned device tensors, the
   comparator and the checks that a refused call left its outputs alone. Each test_*.c lists its
   cases and calls tk_main; the run ends with "N passed, N failed". Scratch files and folders are
   in tk_files.h, what the conv2d and linear tests share in tk_layer.h. */
#ifndef SCL_TESTKIT_H
#define SCL_TESTKIT_H

#include "spherecl.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h> /* strstr, for TK_EXPECT_FAIL */

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
/* A call without a context (datasets, files): expr must return `want` and, when needle is not NULL,
   the calling thread's message (scl_context_error(NULL)) must contain needle. */
#define TK_EXPECT_FAIL(expr, want, needle)                                                         \
  do {                                                                                             \
    scl_status got_ = (expr);                                                                      \
    TK_STATUS(NULL, got_, (want));                                                                 \
    const char *needle_ = (needle), *msg_ = scl_context_error(NULL);                               \
    TK_CHECK_MSG(!needle_ || strstr(msg_, needle_), "message \"%s\" does not contain \"%s\"", msg_,  \
                 needle_);                                                                         \
  } while (0)
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

/* ---- finite differences ----------------------------------------------------------------------- */
/* A scalar function of the test's data (a loss computed by a double reference). */
typedef double (*tk_scalar_fn)(const void *arg);
/* (f(v + h·e_i) − f(v − h·e_i)) / 2h: v[i] (one of the values f reads through arg) is moved and
   restored. */
double tk_central_difference(tk_scalar_fn f, const void *arg, double *v, size_t i, double h);
/* The same for every i < n, into fd[0..n). */
void tk_central_differences(tk_scalar_fn f, const void *arg, double *v, size_t n, double h, double *fd);

/* ---- tensors ---------------------------------------------------------------------------------- */
/* New F32 tensor with the given dims (0-terminated list, up to 4) holding host data (or NaN if NULL). */
scl_tensor tk_tensor(scl_context ctx, const float *host, size_t d0, size_t d1, size_t d2, size_t d3);
scl_tensor tk_tensor_i32(scl_context ctx, const int32_t *host, size_t n);
/* A tensor with the same shape as t, filled with NaN (poison: unwritten elements then fail). */
scl_tensor tk_poisoned_like(scl_context ctx, scl_tensor t);
/* Reads a whole F32 tensor into a new malloc'd array. */
float *tk_read(scl_tensor t);
/* A tensor of shape dims[0..nd) placed `off` elements into a NaN-filled buffer of its own, holding
   host (NaN if NULL): every kernel argument's element offset gets exercised. *base receives the
   buffer's own tensor; release both. */
scl_tensor tk_tensor_at_offset(scl_context ctx, const float *host, int nd, const size_t *dims, size_t off,
                               scl_tensor *base);

/* ---- comparison ------------------------------------------------------------------------------- */
/* ‖out − ref‖₂ / ‖ref‖₂ (absolute ‖out‖ when ref is all zero); +inf if any out is NaN or Inf. */
double tk_rel_l2(const float *out, const double *ref, size_t n);
/* Records a failure when tk_rel_l2 exceeds tol; prints the worst element. Returns 1 when close. */
int tk_expect_close(const char *what, const float *out, const double *ref, size_t n, double tol);
#define TK_TOL_ELEMENTWISE 1e-5
#define TK_TOL_GEMM 1e-4
/* Reads t and compares all of it with ref as tk_expect_close does. Returns 1 when close. */
int tk_expect_tensor(const char *what, scl_tensor t, const double *ref, double tol);

/* ---- refused calls: the outputs stay untouched ------------------------------------------------ */
/* Fails unless t still holds exactly `before` (bit for bit: a refused call wrote nothing). */
void tk_expect_unchanged(const char *what, scl_tensor t, const float *before);
/* The other way to see that nothing was written: outputs filled with TK_SENTINEL beforehand. */
#define TK_SENTINEL 7.0f
/* New tensor of dtype with the given dims (0-terminated list, up to 4), every element TK_SENTINEL
   (as a float, or as an int for SCL_I32). */
scl_tensor tk_sentinel(scl_context ctx, scl_dtype dtype, size_t d0, size_t d1, size_t d2, size_t d3);
/* Fails unless every element of t still holds TK_SENTINEL; a NULL t passes. */
void tk_expect_sentinel(const char *what, scl_tensor t);
/* A refused call: `got` must be `want`, the context message must contain `needle` (NULL: not
   checked), and the outputs o1..o3 (each may be NULL) must still hold TK_SENTINEL. */
void tk_expect_refused(scl_context ctx, const char *what, scl_status got, scl_status want, const char *needle,
                       scl_tensor o1, scl_tensor o2, scl_tensor o3);

/* Path of the shared data folder (SPHERECL_SHARED_DATA or ../shared/data), or NULL if absent. */
const char *tk_shared_data(void);

/* 1 when SPHERECL_TEST_SMALL is set (ci/oclgrind.sh: a simulator runs every work-item one by one):
   the few cases whose sizes exist only to reach large-problem code paths are left out, with a
   line saying so. Those paths are covered by the normal runs. */
int tk_small(const char *what);

#endif
