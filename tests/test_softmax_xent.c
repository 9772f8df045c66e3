/* scl_softmax_xent against the double reference (odd shapes, 10572 classes, logits of ±80), a loss
   worked out by hand, top-1 ties (wrong, as Caffe's Accuracy), central finite differences of the
   reference loss, every bad input refused with dlogits, loss and correct untouched, and a self-test
   of the comparator the other checks rely on. */
#include "ref/ref_elementwise.h"
#include "testkit/testkit.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Random logits [n,m] in [-scale, scale] and labels in [0,m). */
static float *random_logits(size_t n, size_t m, double scale, int32_t *labels, uint64_t seed) {
  tk_rng r = tk_rng_make(seed);
  float *z = malloc(n * m * sizeof *z);
  tk_fill_uniform(&r, z, n * m, -scale, scale);
  for (size_t i = 0; i < n; i++) labels[i] = (int32_t)(tk_uniform(&r, 0, 1) * (double)m) % (int32_t)m;
  return z;
}

/* The device against the reference for these logits and labels, with and without the optional outputs. */
static void check_xent(scl_context ctx, size_t n, size_t m, const float *z, const int32_t *labels) {
  double *zd = ref_widen(z, n * m), *rd = malloc(n * m * sizeof *rd);
  int rcorrect = -1;
  double rloss = ref_softmax_xent(n, m, zd, labels, rd, &rcorrect);
  scl_tensor Z = tk_tensor(ctx, z, n, m, 0, 0), L = tk_tensor_i32(ctx, labels, n), D = tk_tensor(ctx, NULL, n, m, 0, 0);
  float loss = NAN;
  int correct = -1;
  TK_OK(ctx, scl_softmax_xent(ctx, Z, L, D, &loss, &correct));
  char what[64];
  snprintf(what, sizeof what, "loss [%zu,%zu]", n, m);
  tk_expect_close(what, &loss, &rloss, 1, TK_TOL_ELEMENTWISE);
  TK_CHECK_MSG(correct == rcorrect, "[%zu,%zu]: correct %d, expected %d", n, m, correct, rcorrect);
  snprintf(what, sizeof what, "dlogits [%zu,%zu]", n, m);
  tk_expect_tensor(what, D, rd, TK_TOL_ELEMENTWISE);
  /* optional outputs left out, one at a time */
  float loss2 = NAN;
  int correct2 = -1;
  TK_OK(ctx, scl_softmax_xent(ctx, Z, L, NULL, &loss2, NULL));
  TK_CHECK(loss2 == loss);
  TK_OK(ctx, scl_softmax_xent(ctx, Z, L, NULL, NULL, &correct2));
  TK_CHECK(correct2 == correct);
  TK_OK(ctx, scl_softmax_xent(ctx, Z, L, NULL, NULL, NULL));
  free(zd), free(rd);
  scl_tensor_release(Z), scl_tensor_release(L), scl_tensor_release(D);
}

static void xent_shapes(scl_context ctx) {
  /* rows are read 4 columns at a time: every remainder mod 4, rows shorter and longer than 4·64 */
  static const size_t shapes[][2] = {{5, 11}, {2, 3}, {1, 1}, {3, 200}, {64, 7}, {4, 10}, {3, 1029}, {2, 2}};
  for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
    size_t n = shapes[s][0], m = shapes[s][1];
    int32_t *labels = malloc(n * sizeof *labels);
    float *z = random_logits(n, m, 4, labels, 1200 + s);
    check_xent(ctx, n, m, z, labels);
    free(z), free(labels);
  }
}

/* logits, labels and dlogits at odd element offsets of their buffers. */
static void xent_offsets(scl_context ctx) {
  const size_t n = 3, m = 9, dims[2] = {3, 9};
  int32_t labels[3], with_pad[5] = {-5, -5, 0, 0, 0};
  float *z = random_logits(n, m, 3, labels, 1250);
  memcpy(with_pad + 2, labels, sizeof labels);
  scl_tensor bz, bd, BL = tk_tensor_i32(ctx, with_pad, 5), L = NULL;
  scl_tensor Z = tk_tensor_at_offset(ctx, z, 2, dims, 3, &bz);
  scl_tensor D = tk_tensor_at_offset(ctx, NULL, 2, dims, 5, &bd);
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_I32, 1, &n, scl_tensor_buffer(BL), 2 * sizeof(int32_t), &L));
  float loss = NAN;
  int correct = -1, rcorrect = -2;
  TK_OK(ctx, scl_softmax_xent(ctx, Z, L, D, &loss, &correct));
  double *zd = ref_widen(z, n * m), *rd = malloc(n * m * sizeof *rd);
  double rloss = ref_softmax_xent(n, m, zd, labels, rd, &rcorrect);
  tk_expect_close("loss at offsets", &loss, &rloss, 1, TK_TOL_ELEMENTWISE);
  TK_CHECK(correct == rcorrect);
  tk_expect_tensor("dlogits at an offset", D, rd, TK_TOL_ELEMENTWISE);
  free(z), free(zd), free(rd);
  scl_tensor ts[] = {Z, D, L, bz, bd, BL};
  for (int i = 0; i < 6; i++) scl_tensor_release(ts[i]);
}

/* CASIA-WebFace's 10572 classes (41 KB rows). */
static void xent_many_classes(scl_context ctx) {
  const size_t n = 9, m = 10572;
  int32_t labels[9];
  float *z = random_logits(n, m, 8, labels, 1300);
  z[4 * m + labels[4]] = 30.0f; /* one row surely right */
  check_xent(ctx, n, m, z, labels);
  free(z);
}

/* Logits of ±80, and a row near 100 where e^z overflows fp32 without the max subtraction. The row
   whose label sits at −80 among +80s has p_label = e^−160, below FLT_MIN: its loss is Caffe's cap
   −log(FLT_MIN). */
static void xent_large_logits(scl_context ctx) {
  const size_t n = 6, m = 13;
  int32_t labels[6];
  float *z = random_logits(n, m, 80, labels, 1400);
  for (size_t j = 0; j < m; j++) z[2 * m + j] = j == (size_t)labels[2] ? -80.0f : 80.0f;
  for (size_t j = 0; j < m; j++) z[3 * m + j] = 100.0f - (float)j * 0.5f; /* e^100 overflows fp32 */
  check_xent(ctx, n, m, z, labels);

  scl_tensor Z = tk_tensor(ctx, z + 2 * m, 1, m, 0, 0), L = tk_tensor_i32(ctx, labels + 2, 1);
  scl_tensor D = tk_tensor(ctx, NULL, 1, m, 0, 0);
  float loss = 0;
  TK_OK(ctx, scl_softmax_xent(ctx, Z, L, D, &loss, NULL));
  TK_CHECK_MSG(fabs(loss + log(FLT_MIN)) < 1e-4, "capped loss %.9g, expected %.9g", loss, -log(FLT_MIN));
  float *d = tk_read(D);
  for (size_t j = 0; j < m; j++) TK_CHECK(isfinite(d[j]));
  TK_CHECK(d[labels[2]] == -1.0f);
  free(d), free(z);
  scl_tensor_release(Z), scl_tensor_release(L), scl_tensor_release(D);
}

/* logits [[1,2,3]], label 2: loss = log(e + e² + e³) − 3, dlogits = softmax − onehot. */
static void xent_by_hand(scl_context ctx) {
  const float z[3] = {1, 2, 3};
  const int32_t label = 2;
  double s = exp(1.0) + exp(2.0) + exp(3.0);
  double want_loss = log(s) - 3; /* 0.40760596... */
  double want_d[3] = {exp(1.0) / s, exp(2.0) / s, exp(3.0) / s - 1};
  scl_tensor Z = tk_tensor(ctx, z, 1, 3, 0, 0), L = tk_tensor_i32(ctx, &label, 1), D = tk_tensor(ctx, NULL, 1, 3, 0, 0);
  float loss = NAN;
  int correct = -1;
  TK_OK(ctx, scl_softmax_xent(ctx, Z, L, D, &loss, &correct));
  TK_CHECK_MSG(fabs(loss - 0.40760596) < 1e-6 && fabs(loss - want_loss) < 1e-6, "loss %.9g", loss);
  TK_CHECK(correct == 1);
  tk_expect_tensor("dlogits by hand", D, want_d, TK_TOL_ELEMENTWISE);
  scl_tensor_release(Z), scl_tensor_release(L), scl_tensor_release(D);
}

/* Top-1 hits as Caffe's Accuracy: the label's logit must beat every other strictly. */
static void xent_ties(scl_context ctx) {
  const float z[5][3] = {{1, 3, 3}, {1, 3, 2}, {5, 5, 5}, {3, 1, 3}, {-1, -2, -3}};
  const int32_t labels[5] = {1, 1, 0, 0, 0}; /* tie, hit, tie, tie, hit */
  scl_tensor Z = tk_tensor(ctx, &z[0][0], 5, 3, 0, 0), L = tk_tensor_i32(ctx, labels, 5);
  int correct = -1;
  TK_OK(ctx, scl_softmax_xent(ctx, Z, L, NULL, NULL, &correct));
  TK_CHECK_MSG(correct == 2, "correct %d, expected 2", correct);
  int rcorrect = -1;
  double zd[15];
  for (int i = 0; i < 15; i++) zd[i] = (&z[0][0])[i];
  ref_softmax_xent(5, 3, zd, labels, NULL, &rcorrect);
  TK_CHECK(rcorrect == 2);
  /* one class: always a hit, loss 0 */
  const float one = 7;
  const int32_t zero = 0;
  scl_tensor Z1 = tk_tensor(ctx, &one, 1, 1, 0, 0), L1 = tk_tensor_i32(ctx, &zero, 1);
  float loss = NAN;
  TK_OK(ctx, scl_softmax_xent(ctx, Z1, L1, NULL, &loss, &correct));
  TK_CHECK(correct == 1 && loss == 0.0f);
  scl_tensor_release(Z), scl_tensor_release(L), scl_tensor_release(Z1), scl_tensor_release(L1);
}

/* The reference loss of logits [n,m] with labels. */
typedef struct {
  size_t n, m;
  const double *logits;
  const int32_t *labels;
} xent_loss_args;

static double xent_loss(const void *p) {
  const xent_loss_args *a = p;
  return ref_softmax_xent(a->n, a->m, a->logits, a->labels, NULL, NULL);
}

static void xent_gradcheck(scl_context ctx) {
  const size_t n = 5, m = 11;
  int32_t labels[5];
  float *z = random_logits(n, m, 3, labels, 1500);
  double *zd = ref_widen(z, n * m), *fd = malloc(n * m * sizeof *fd);
  const xent_loss_args args = {n, m, zd, labels};
  tk_central_differences(xent_loss, &args, zd, n * m, 1e-5, fd);
  scl_tensor Z = tk_tensor(ctx, z, n, m, 0, 0), L = tk_tensor_i32(ctx, labels, n), D = tk_tensor(ctx, NULL, n, m, 0, 0);
  TK_OK(ctx, scl_softmax_xent(ctx, Z, L, D, NULL, NULL));
  tk_expect_tensor("dlogits vs finite differences", D, fd, TK_TOL_ELEMENTWISE);
  free(z), free(zd), free(fd);
  scl_tensor_release(Z), scl_tensor_release(L), scl_tensor_release(D);
}

static void xent_bad_inputs(scl_context ctx) {
  const size_t n = 4, m = 7;
  const int32_t labels[4] = {0, 6, 3, 1}, high[4] = {0, 6, 7, 1}, negative[4] = {0, -1, 3, 1};
  int32_t unused[4];
  float *z = random_logits(n, m, 2, unused, 1600);
  scl_tensor Z = tk_tensor(ctx, z, n, m, 0, 0), D = tk_tensor(ctx, z, n, m, 0, 0), L = tk_tensor_i32(ctx, labels, n);
  scl_tensor LH = tk_tensor_i32(ctx, high, n), LN = tk_tensor_i32(ctx, negative, n), L3 = tk_tensor_i32(ctx, labels, 3);
  scl_tensor LF = tk_tensor(ctx, z, n, 0, 0, 0), Z1 = tk_tensor(ctx, z, n * m, 0, 0, 0);
  scl_tensor DT = tk_tensor(ctx, z, m, n, 0, 0), Z3 = tk_tensor(ctx, z, n, m, 1, 0);
  scl_tensor DZ = NULL;
  size_t dims[2] = {n, m};
  TK_OK(ctx, scl_tensor_wrap(ctx, SCL_F32, 2, dims, scl_tensor_buffer(Z), 0, &DZ));
  float *d0 = tk_read(D);
  float loss = 123.0f;
  int correct = -77;
#define BAD(call, status)                                                                          \
  do {                                                                                             \
    TK_STATUS(ctx, call, status);                                                                  \
    TK_CHECK_MSG(loss == 123.0f && correct == -77, "loss/correct written by %s", #call);           \
  } while (0)
  BAD(scl_softmax_xent(NULL, Z, L, D, &loss, &correct), SCL_ERR_INVALID_ARGUMENT);
  BAD(scl_softmax_xent(ctx, NULL, L, D, &loss, &correct), SCL_ERR_INVALID_ARGUMENT);
  BAD(scl_softmax_xent(ctx, Z, NULL, D, &loss, &correct), SCL_ERR_INVALID_ARGUMENT);
  BAD(scl_softmax_xent(ctx, Z, LF, D, &loss, &correct), SCL_ERR_DTYPE);
  BAD(scl_softmax_xent(ctx, Z, L3, D, &loss, &correct), SCL_ERR_SHAPE);
  BAD(scl_softmax_xent(ctx, Z1, L, NULL, &loss, &correct), SCL_ERR_SHAPE);
  BAD(scl_softmax_xent(ctx, Z3, L, NULL, &loss, &correct), SCL_ERR_SHAPE);
  BAD(scl_softmax_xent(ctx, Z, L, DT, &loss, &correct), SCL_ERR_SHAPE);
  BAD(scl_softmax_xent(ctx, Z, L, DZ, &loss, &correct), SCL_ERR_INVALID_ARGUMENT); /* dlogits is logits */
  BAD(scl_softmax_xent(ctx, Z, LH, D, &loss, &correct), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK_MSG(strstr(scl_context_error(ctx), "labels[2] = 7") != NULL, "message: %s", scl_context_error(ctx));
  BAD(scl_softmax_xent(ctx, Z, LN, D, &loss, &correct), SCL_ERR_INVALID_ARGUMENT);
  TK_CHECK_MSG(strstr(scl_context_error(ctx), "labels[1] = -1") != NULL, "message: %s", scl_context_error(ctx));
#undef BAD
  tk_expect_unchanged("bad softmax_xent", D, d0);
  free(d0), free(z);
  scl_tensor ts[] = {Z, D, L, LH, LN, L3, LF, Z1, DT, Z3, DZ};
  for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) scl_tensor_release(ts[i]);
}

/* The comparator every test here relies on: data off by 1e-3 relative, or one NaN or Inf, must not
   pass; exact data must. tk_rel_l2 is called directly so this case itself does not fail. */
static void comparator_self_test(scl_context ctx) {
  (void)ctx;
  enum { N = 100 };
  double ref[N];
  float same[N], off[N], nan1[N], inf1[N];
  tk_rng r = tk_rng_make(1700);
  for (int i = 0; i < N; i++) {
    ref[i] = tk_uniform(&r, -1, 1);
    same[i] = (float)ref[i];
    off[i] = (float)(ref[i] * (1 + 1e-3));
  }
  memcpy(nan1, same, sizeof same);
  memcpy(inf1, same, sizeof same);
  nan1[37] = NAN;
  inf1[3] = INFINITY;
  TK_CHECK(tk_rel_l2(same, ref, N) <= 1e-7);
  double e = tk_rel_l2(off, ref, N);
  TK_CHECK_MSG(e > TK_TOL_ELEMENTWISE && e > TK_TOL_GEMM && e < 2e-3, "off by 1e-3: error %g", e);
  TK_CHECK(!(tk_rel_l2(nan1, ref, N) <= TK_TOL_GEMM));
  TK_CHECK(!(tk_rel_l2(inf1, ref, N) <= TK_TOL_GEMM));
  /* an all-zero reference compares absolutely, and a NaN there still fails */
  double zeros[4] = {0};
  float small[4] = {0, 0, 1e-9f, 0}, bad[4] = {0, NAN, 0, 0};
  TK_CHECK(tk_rel_l2(small, zeros, 4) <= TK_TOL_ELEMENTWISE);
  TK_CHECK(!(tk_rel_l2(bad, zeros, 4) <= TK_TOL_ELEMENTWISE));
}

int main(int argc, char **argv) {
  const tk_case cases[] = {{"xent_shapes", xent_shapes},
                           {"xent_offsets", xent_offsets},
                           {"xent_many_classes", xent_many_classes},
                           {"xent_large_logits", xent_large_logits},
                           {"xent_by_hand", xent_by_hand},
                           {"xent_ties", xent_ties},
                           {"xent_gradcheck", xent_gradcheck},
                           {"xent_bad_inputs", xent_bad_inputs},
                           {"comparator_self_test", comparator_self_test}};
  return tk_main(argc, argv, cases, sizeof cases / sizeof cases[0]);
}
