/* spherecl selftest: a GEMM on the chosen device, checked against a double-precision CPU loop,
   with its rate. A quick "does this device work" for a new machine. */
#include "commands.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cmd_selftest(int argc, char **argv) {
  const char *selector = NULL;
  size_t n = 256;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--device") && i + 1 < argc) selector = argv[++i];
    else if (!strcmp(argv[i], "--size") && i + 1 < argc) n = strtoul(argv[++i], NULL, 10);
    else {
      printf("usage: spherecl selftest [--device SELECTOR] [--size N]\n");
      return !strcmp(argv[i], "--help") ? 0 : 2;
    }
  }
  if (n < 1 || n > 4096) {
    fprintf(stderr, "spherecl selftest: --size must be 1..4096\n");
    return 2;
  }
  scl_context ctx;
  scl_status st = scl_context_create(selector, &ctx);
  if (st != SCL_OK) {
    fprintf(stderr, "spherecl: %s\n", scl_context_error(NULL));
    return 1;
  }
  float *a = malloc(n * n * 4), *b = malloc(n * n * 4), *c = malloc(n * n * 4);
  for (size_t i = 0; i < n * n; i++) a[i] = (float)((int)(i * 7 % 13) - 6) / 8, b[i] = (float)((int)(i * 5 % 11) - 5) / 4;
  size_t dims[2] = {n, n};
  scl_tensor A = NULL, B = NULL, C = NULL;
  int rc = 1;
  if ((st = scl_tensor_create(ctx, SCL_F32, 2, dims, &A)) || (st = scl_tensor_create(ctx, SCL_F32, 2, dims, &B)) ||
      (st = scl_tensor_create(ctx, SCL_F32, 2, dims, &C)) || (st = scl_tensor_write(A, a, n * n * 4)) ||
      (st = scl_tensor_write(B, b, n * n * 4)))
    goto done;
  double best = 1e30;
  for (int rep = 0; rep < 4; rep++) { /* the first run includes kernel compilation */
    double t0 = now();
    st = scl__gemm(ctx, SCL_NO_TRANS, SCL_NO_TRANS, n, n, n, 1.0f, A->buffer, 0, n, B->buffer, 0, n, 0.0f, C->buffer,
                   0, n);
    if (st == SCL_OK) st = scl_context_finish(ctx);
    if (st != SCL_OK) goto done;
    if (rep && now() - t0 < best) best = now() - t0;
  }
  if ((st = scl_tensor_read(C, c, n * n * 4))) goto done;
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double s = 0;
      for (size_t k = 0; k < n; k++) s += (double)a[i * n + k] * b[k * n + j];
      num += (c[i * n + j] - s) * (c[i * n + j] - s);
      den += s * s;
    }
  double err = sqrt(num / den);
  rc = !(err <= 1e-4);
  printf("selftest: %zux%zux%zu SGEMM on %s: relative error %.2e (%s), %.1f GFLOP/s\n", n, n, n,
         ctx->device_label, err, rc ? "FAILED" : "ok", 2.0 * n * n * n / best * 1e-9);
done:
  if (st != SCL_OK) fprintf(stderr, "spherecl selftest: %s\n", scl_context_error(ctx));
  scl_tensor_release(A), scl_tensor_release(B), scl_tensor_release(C);
  scl_context_release(ctx);
  free(a), free(b), free(c);
  return st != SCL_OK ? 1 : rc;
}
