#include "ref/ref_elementwise.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>

double *ref_widen(const float *x, size_t n) {
  double *d = malloc((n ? n : 1) * sizeof *d);
  for (size_t i = 0; i < n; i++) d[i] = x[i];
  return d;
}

void ref_prelu_forward(size_t n, size_t c, size_t inner, const double *x, const double *slope, double *y) {
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < c; j++)
      for (size_t k = 0; k < inner; k++) {
        size_t e = (i * c + j) * inner + k;
        y[e] = x[e] > 0 ? x[e] : slope[j] * x[e];
      }
}

void ref_prelu_backward(size_t n, size_t c, size_t inner, const double *x, const double *slope, const double *dy,
                        double *dx, double *dslope) {
  for (size_t j = 0; j < c; j++) {
    double s = 0;
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < inner; k++) {
        size_t e = (i * c + j) * inner + k;
        if (dx) dx[e] = x[e] > 0 ? dy[e] : slope[j] * dy[e];
        if (x[e] <= 0) s += dy[e] * x[e];
      }
    if (dslope) dslope[j] = s;
  }
}

void ref_add(size_t n, const double *a, const double *b, double *y) {
  for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}

static double row_norm(size_t k, const double *w) {
  double s = 0;
  for (size_t j = 0; j < k; j++) s += w[j] * w[j];
  return sqrt(s);
}

void ref_weightnorm_forward(size_t m, size_t k, const double *w, double *wn, double *norms) {
  for (size_t i = 0; i < m; i++) {
    double norm = row_norm(k, w + i * k);
    for (size_t j = 0; j < k; j++) wn[i * k + j] = norm > 0 ? w[i * k + j] / norm : 0;
    if (norms) norms[i] = norm;
  }
}

void ref_weightnorm_backward(size_t m, size_t k, const double *w, const double *dwn, double *dw) {
  for (size_t i = 0; i < m; i++) {
    const double *wr = w + i * k, *g = dwn + i * k;
    double norm = row_norm(k, wr), dot = 0;
    for (size_t j = 0; j < k; j++) dot += norm > 0 ? wr[j] / norm * g[j] : 0;
    for (size_t j = 0; j < k; j++) dw[i * k + j] = norm > 0 ? (g[j] - wr[j] / norm * dot) / norm : 0;
  }
}

double ref_softmax_xent(size_t n, size_t m, const double *logits, const int32_t *labels, double *dlogits,
                        int *correct) {
  double loss = 0;
  int hits = 0;
  for (size_t i = 0; i < n; i++) {
    const double *z = logits + i * m;
    size_t y = (size_t)labels[i];
    double mx = z[0], sum = 0;
    for (size_t j = 1; j < m; j++) mx = z[j] > mx ? z[j] : mx;
    for (size_t j = 0; j < m; j++) sum += exp(z[j] - mx);
    double py = exp(z[y] - mx) / sum;
    loss -= log(py > FLT_MIN ? py : FLT_MIN);
    int hit = 1;
    for (size_t j = 0; j < m; j++)
      if (j != y && z[j] >= z[y]) hit = 0;
    hits += hit;
    if (dlogits)
      for (size_t j = 0; j < m; j++) dlogits[i * m + j] = (exp(z[j] - mx) / sum - (j == y ? 1.0 : 0.0)) / (double)n;
  }
  if (correct) *correct = hits;
  return loss / (double)n;
}

void ref_sgd_step(size_t n, double lr, double momentum, double decay, double *w, const double *dw, double *h) {
  for (size_t i = 0; i < n; i++) {
    double g = dw[i] + decay * w[i];
    h[i] = momentum * h[i] + lr * g;
    w[i] -= h[i];
  }
}
