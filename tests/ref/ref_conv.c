#include "ref/ref_conv.h"

size_t ref_conv_p(const ref_conv_shape *g) { return (g->h + 2 * (size_t)g->ph - g->r) / (size_t)g->sh + 1; }
size_t ref_conv_q(const ref_conv_shape *g) { return (g->w + 2 * (size_t)g->pw - g->s) / (size_t)g->sw + 1; }

/* Index of x[n][c][iy][ix], or -1 where (iy, ix) falls in the zero padding. */
static long x_index(const ref_conv_shape *g, size_t n, size_t c, long iy, long ix) {
  if (iy < 0 || ix < 0 || iy >= (long)g->h || ix >= (long)g->w) return -1;
  return (long)(((n * g->c + c) * g->h + (size_t)iy) * g->w + (size_t)ix);
}

void ref_conv2d_forward(const ref_conv_shape *g, const double *x, const double *w, const double *b, double *y) {
  size_t P = ref_conv_p(g), Q = ref_conv_q(g);
  for (size_t n = 0; n < g->n; n++)
    for (size_t k = 0; k < g->k; k++)
      for (size_t p = 0; p < P; p++)
        for (size_t q = 0; q < Q; q++) {
          double s = b ? b[k] : 0.0;
          for (size_t c = 0; c < g->c; c++)
            for (size_t r = 0; r < g->r; r++)
              for (size_t t = 0; t < g->s; t++) {
                long i = x_index(g, n, c, (long)(p * g->sh + r) - g->ph, (long)(q * g->sw + t) - g->pw);
                if (i >= 0) s += x[i] * w[((k * g->c + c) * g->r + r) * g->s + t];
              }
          y[((n * g->k + k) * P + p) * Q + q] = s;
        }
}

void ref_conv2d_backward(const ref_conv_shape *g, const double *x, const double *w, const double *dy, double *dx,
                         double *dw, double *db) {
  size_t P = ref_conv_p(g), Q = ref_conv_q(g);
  for (size_t i = 0; i < g->n * g->c * g->h * g->w; i++) dx[i] = 0;
  for (size_t i = 0; i < g->k * g->c * g->r * g->s; i++) dw[i] = 0;
  for (size_t k = 0; k < g->k; k++) db[k] = 0;
  for (size_t n = 0; n < g->n; n++)
    for (size_t k = 0; k < g->k; k++)
      for (size_t p = 0; p < P; p++)
        for (size_t q = 0; q < Q; q++) {
          double d = dy[((n * g->k + k) * P + p) * Q + q];
          db[k] += d;
          for (size_t c = 0; c < g->c; c++)
            for (size_t r = 0; r < g->r; r++)
              for (size_t t = 0; t < g->s; t++) {
                long i = x_index(g, n, c, (long)(p * g->sh + r) - g->ph, (long)(q * g->sw + t) - g->pw);
                size_t wi = ((k * g->c + c) * g->r + r) * g->s + t;
                if (i < 0) continue;
                dx[i] += d * w[wi];
                dw[wi] += d * x[i];
              }
        }
}
