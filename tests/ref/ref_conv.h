/* Naive double-precision 2-D convolution (cross-correlation, NCHW, weights KCRS): straight loops. */
#ifndef SCL_REF_CONV_H
#define SCL_REF_CONV_H
#include <stddef.h>

typedef struct {
  size_t n, c, h, w;     /* x */
  size_t k, r, s;        /* weights */
  int sh, sw, ph, pw;    /* strides, pads */
} ref_conv_shape;

/* Output height and width: (in + 2·pad − filter)/stride + 1. */
size_t ref_conv_p(const ref_conv_shape *g);
size_t ref_conv_q(const ref_conv_shape *g);

/* y [N,K,P,Q] = x ⋆ w + b (b may be NULL). */
void ref_conv2d_forward(const ref_conv_shape *g, const double *x, const double *w, const double *b, double *y);
/* dx [N,C,H,W], dw [K,C,R,S], db [K] of L = Σ y·dy. */
void ref_conv2d_backward(const ref_conv_shape *g, const double *x, const double *w, const double *dy, double *dx,
                         double *dw, double *db);
#endif
