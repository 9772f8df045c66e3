#include "ref/ref_linear.h"

void ref_linear_forward(size_t n, size_t k, size_t m, const double *x, const double *w, const double *b, double *y) {
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < m; j++) {
      double s = b ? b[j] : 0.0;
      for (size_t p = 0; p < k; p++) s += x[i * k + p] * w[j * k + p];
      y[i * m + j] = s;
    }
}

void ref_linear_backward(size_t n, size_t k, size_t m, const double *x, const double *w, const double *dy,
                         double *dx, double *dw, double *db) {
  for (size_t i = 0; i < n * k; i++) dx[i] = 0;
  for (size_t i = 0; i < m * k; i++) dw[i] = 0;
  for (size_t j = 0; j < m; j++) db[j] = 0;
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < m; j++) {
      double d = dy[i * m + j];
      db[j] += d;
      for (size_t p = 0; p < k; p++) {
        dx[i * k + p] += d * w[j * k + p];
        dw[j * k + p] += d * x[i * k + p];
      }
    }
}
