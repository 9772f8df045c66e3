/* Naive double-precision margin layer (SPEC §5), written from the trigonometric definitions rather
   than the library's polynomials: A-Softmax's ψ(θ) = (−1)^k·cos(mθ) − 2k on [kπ/m, (k+1)π/m] through
   acos and cos literally, and the combined margin s·(cos(m1·θ + m2) − m3). Straight loops. */
#ifndef SCL_REF_MARGIN_H
#define SCL_REF_MARGIN_H
#include "spherecl.h"

#include <stddef.h>
#include <stdint.h>

/* ψ(c) for the integer margin m >= 1 (θ = acos c, c clamped to [−1, 1]) and its derivative dψ/dc
   (m² at c = ±1, the limit). */
double ref_asoftmax_psi(int m, double c);
double ref_asoftmax_dpsi(int m, double c);

/* The cosine clamp of the combined margin: [−1 + 1e−6, 1 − 1e−6]. */
#define REF_MARGIN_CLAMP (1.0 - 1e-6)

/* logits [n][m] of features x [n][k], class weights w [m][k] (used as given) and labels [n] in [0,m),
   for every margin type: NONE and A-Softmax m = 1 are x·wᵀ; a zero feature row gives zero logits
   for A-Softmax m >= 2 and the combined margin. */
void ref_margin_forward(const scl_margin_params *p, size_t n, size_t k, size_t m, const double *x, const double *w,
                        const int32_t *labels, double *logits);

/* dx [n][k] and dw [m][k] for the upstream gradient g [n][m] (either output may be NULL):
   A-Softmax SCL_GRAD_EXACT, the combined margin and the plain types: the true gradient of
   L = Σ logits·g (the clamp's slope is 0 outside it); A-Softmax SCL_GRAD_CAFFE: SPEC's rule,
   dx with the normalised (â, b̂) and dw = gᵀ·x. Zero feature rows as ref_margin_forward. */
void ref_margin_backward(const scl_margin_params *p, size_t n, size_t k, size_t m, const double *x, const double *w,
                         const int32_t *labels, const double *g, double *dx, double *dw);
#endif
