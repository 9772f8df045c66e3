/* Naive double-precision fully connected layer: y [N,M] = x [N,K] · w [M,K]ᵀ + b [M]. */
#ifndef SCL_REF_LINEAR_H
#define SCL_REF_LINEAR_H
#include <stddef.h>

/* b may be NULL. */
void ref_linear_forward(size_t n, size_t k, size_t m, const double *x, const double *w, const double *b, double *y);
/* dx [N,K], dw [M,K], db [M] of L = Σ y·dy. */
void ref_linear_backward(size_t n, size_t k, size_t m, const double *x, const double *w, const double *dy,
                         double *dx, double *dw, double *db);
#endif
