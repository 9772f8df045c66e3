/* The 1024^3 SGEMM rate of OpenBLAS on this machine with N threads (the peer of `spherecl bench
   gemm`): median of 9 runs after a warm-up. bench/compare.sh builds and runs it:
       cc -O2 bench/openblas_sgemm.c -o openblas_sgemm -lopenblas && OPENBLAS_NUM_THREADS=2 ./openblas_sgemm */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 1024
#define REPS 9

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int by_value(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

int main(void) {
  float *a = malloc(sizeof(float) * N * N * 3);
  if (!a) return 1;
  for (size_t i = 0; i < (size_t)N * N * 3; i++) a[i] = 0.01f;
  float *b = a + N * N, *c = b + N * N;
  double t[REPS];
  for (int r = -1; r < REPS; r++) {
    double t0 = now();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, N, N, N, 1.0f, a, N, b, N, 0.0f, c, N);
    if (r >= 0) t[r] = now() - t0;
  }
  qsort(t, REPS, sizeof t[0], by_value);
  printf("openblas: %d^3 SGEMM: %.1f GFLOP/s\n", N, 2.0 * N * N * N / t[REPS / 2] * 1e-9);
  free(a);
  return 0;
}
