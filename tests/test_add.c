/* scl_add: y = a + b against the double reference on odd shapes, at buffer offsets, in place
   (y is a or b, or a view of the same memory), and every bad input refused with y untouched. */
#include "ref/ref_elementwise.h"
#include "testkit/testkit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A view of `count` floats at element `offset` of t's buffer, shaped [count]. */
static scl_tensor view(scl_context ctx, scl_tensor t, size_t offset, size_t count) {
  scl_tensor v = NULL;
  if (scl_tensor_wrap(ctx, SCL_F32, 1, &count, scl_tensor_buffer(t), offset * sizeof(float), &v) != SCL_OK)
    tk_fail(__FILE__, __LINE__, "wrap: %s", scl_context_error(ctx));
  return v;
}

static void check_add(scl_context ctx, const size_t d[4], uint64_t seed) {
  tk_rng r = tk_rng_make(seed);
  scl_tensor y = tk_tensor(ctx, NULL, d[0], d[1], d[2], d[3]);
  size_t n = scl_tensor_count(y);
  float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
  tk_fill_uniform(&r, a, n, -3, 3);
  tk_fill_uniform(&r, b, n, -3, 3);
  scl_tensor A = tk_tensor(ctx, a, d[0], d[1], d[2], d[3]), B = tk_tensor(ctx, b, d[0], d[1], d[2], d[3]);
  TK_OK(ctx, scl_add(ctx, A, B, y));
  double *da = ref_widen(a, n), *db = ref_widen(b, n), *ref = malloc(n * sizeof *ref);
  ref_add(n, da, db, ref);
  char what[64];
  snprintf(what, sizeof what, "add [%zu,%zu,%zu,%zu]", d[0], d[1], d[2], d[3]);
  tk_expect_tensor(what, y, ref, TK_TOL_ELEMENTWISE);
  free(a), free(b), free(da), free(db), free(ref);
  scl_tensor_release(A), scl_tensor_release(B), scl_tensor_release(y);
}

static void add_shapes(scl_context ctx) {
  static const size_t shapes[][4] = {{3, 5, 7, 9}, {2, 3, 0, 0}, {1, 1, 0, 0}, {1001, 0, 0, 0}, {4, 3, 5, 0}};
  for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) check_add(ctx, shapes[i], 100 + i);
}

/* y is a, y is b, y is a view of a's memory (another handle), and a = b = y. */
static void add_in_place(scl_context ctx) {
  enum { N = 37 };
  float a[N], b[N];
  double ref[N];
  tk_rng r = tk_rng_make(7);
  tk_fill_uniform(&r, a, N, -1, 1);
  tk_fill_uniform(&r, b, N, -1, 1);
  for (int k = 0; k < 4; k++) {
    scl_tensor A = tk_tensor(ctx, a, N, 0, 0, 0), B = tk_tensor(ctx, b, N, 0, 0, 0);
    scl_tensor alias = view(ctx, A, 0, N);
    scl_tensor y = k == 0 ? A : k == 1 ? B : alias;
    scl_tensor second = k == 3 ? A : B;
    TK_OK(ctx, scl_add(ctx, A, second, y));
    for (int i = 0; i < N; i++) ref[i] = (double)a[i] + (k == 3 ? a[i] : b[i]);
    char what[32];
    snprintf(what, sizeof what, "in place, case %d", k);
    tk_expect_tensor(what, y, ref, TK_TOL_ELEMENTWISE);
    scl_tensor_release(alias), scl_tensor_release(A), scl_tensor_release(B);
  }
}

/* a, b, y as views at odd element offsets of one buffer, a and b overlapping each other (inputs may). */
static void add_offsets(scl_context ctx) {
  enum { N = 29, TOTAL = 3 + 2 * N + 5 + N };
  float host[TOTAL];
  tk_rng r = tk_rng_make(8);
  tk_fill_uniform(&r, host, TOTAL, -2, 2);
  scl_tensor all = tk_tensor(ctx, host, TOTAL, 0, 0, 0);
  scl_tensor A = view(ctx, all, 3, N), B = view(ctx, all, 3 + N / 2, N), Y = view(ctx, all, 3 + 2 * N + 5, N);
  TK_OK(ctx, scl_add(ctx, A, B, Y));
  double ref[TOTAL];
  for (int i = 0; i < TOTAL; i++) ref[i] = host[i];
  for (int i = 0; i < N; i++) ref[3 + 2 * N + 5 + i] = (double)host[3 + i] + host[3 + N / 2 + i];
  tk_expect_tensor("views at offsets (and nothing else written)", all, ref, TK_TOL_ELEMENTWISE);
  scl_tensor_release(A), scl_tensor_release(B), scl_tensor_release(Y), scl_tensor_release(all);
}

static void add_bad_inputs(scl_context ctx) {
  enum { N = 15 };
  float a[N];
  for (int i = 0; i < N; i++) a[i] = (float)i;
  scl_tensor A = tk_tensor(ctx, a, 3, 5, 0, 0), B = tk_tensor(ctx, a, 3, 5, 0, 0), Y = tk_tensor(ctx, a, 3, 5, 0, 0);
  scl_tensor T = tk_tensor(ctx, a, 5, 3, 0, 0); /* same count, other shape */
  scl_tensor big = tk_tensor(ctx, NULL, 2 * N, 0, 0, 0);
  size_t dims[2] = {3, 5};
  scl_tensor I = NULL, P = NULL, Q = NULL;
  TK_OK(ctx, scl_tensor_create(ctx, SCL_I32, 2, dims, &I));
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, dims, scl_tensor_buffer(big), 0, &P));
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, dims, scl_tensor_buffer(big), 4 * sizeof(float), &Q));
  TK_OK(ctx, scl_tensor_fill(big, 1.0f));
  float *before = tk_read(Y), *before_big = tk_read(big);

  TK_STATUS(ctx, scl_add(NULL, A, B, Y), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_add(ctx, NULL, B, Y), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_add(ctx, A, NULL, Y), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_add(ctx, A, B, NULL), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_add(ctx, A, I, Y), SCL_ERR_DTYPE);
  TK_STATUS(ctx, scl_add(ctx, A, T, Y), SCL_ERR_SHAPE);
  TK_STATUS(ctx, scl_add(ctx, T, B, Y), SCL_ERR_SHAPE);
  TK_CHECK(strstr(scl_context_error(ctx), "[5,3]") != NULL);
  tk_expect_unchanged("bad add", Y, before);
  /* Q starts 4 elements into P: partial overlaps are refused, whichever input it is */
  TK_STATUS(ctx, scl_add(ctx, P, B, Q), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_add(ctx, A, P, Q), SCL_ERR_INVALID_ARGUMENT);
  TK_STATUS(ctx, scl_add(ctx, Q, A, P), SCL_ERR_INVALID_ARGUMENT);
  tk_expect_unchanged("partial overlap", big, before_big);
  free(before), free(before_big);
  scl_tensor_release(A), scl_tensor_release(B), scl_tensor_release(Y), scl_tensor_release(T);
  scl_tensor_release(I), scl_tensor_release(P), scl_tensor_release(Q), scl_tensor_release(big);
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"add_shapes", add_shapes},
                           {"add_in_place", add_in_place},
                           {"add_offsets", add_offsets},
                           {"add_bad_inputs", add_bad_inputs}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
