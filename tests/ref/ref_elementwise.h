/* Naive double-precision references of the small ops: PReLU, add, weight normalisation, softmax
   cross-entropy and the SGD step. Straight loops over double inputs, no cleverness. */
#ifndef SCL_REF_ELEMENTWISE_H
#define SCL_REF_ELEMENTWISE_H
#include <stddef.h>
#include <stdint.h>

/* A malloc'd double copy of n floats: the references' inputs from the data given to the device. */
double *ref_widen(const float *x, size_t n);

/* x [n][c][inner], slope [c]: y = x > 0 ? x : slope·x. */
void ref_prelu_forward(size_t n, size_t c, size_t inner, const double *x, const double *slope, double *y);
/* Gradients of L = Σ y·dy: dx = x > 0 ? dy : slope·dy; dslope[c] = Σ dy·x over x <= 0 (Caffe, which
   counts x == 0 on the slope side). Either output may be NULL. */
void ref_prelu_backward(size_t n, size_t c, size_t inner, const double *x, const double *slope, const double *dy,
                        double *dx, double *dslope);

/* y = a + b over n elements. */
void ref_add(size_t n, const double *a, const double *b, double *y);

/* w [m][k]: wn_i = w_i/|w_i| (zeros for a zero row); norms [m] gets |w_i| (may be NULL). */
void ref_weightnorm_forward(size_t m, size_t k, const double *w, double *wn, double *norms);
/* dw_i = (dwn_i − wn_i (wn_i·dwn_i))/|w_i|, zeros for a zero row. */
void ref_weightnorm_backward(size_t m, size_t k, const double *w, const double *dwn, double *dw);

/* logits [n][m], labels [n]: the mean over rows of −log(max(p_label, FLT_MIN)) with p = softmax of
   the row. dlogits (may be NULL) gets (p − onehot)/n; *correct the number of rows whose label's logit
   is strictly greater than every other (may be NULL). Returns the loss. */
double ref_softmax_xent(size_t n, size_t m, const double *logits, const int32_t *labels, double *dlogits,
                        int *correct);

/* One Caffe SGD step in place: g = dw + decay·w; h = momentum·h + lr·g; w −= h. */
void ref_sgd_step(size_t n, double lr, double momentum, double decay, double *w, const double *dw, double *h);
#endif
