/* Naive double-precision margin layer: see ref_margin.h. */
#include "ref/ref_margin.h"

#include <math.h>

static const double PI = 3.14159265358979323846;

static double dot(size_t k, const double *a, const double *b) {
  double s = 0;
  for (size_t i = 0; i < k; i++) s += a[i] * b[i];
  return s;
}

/* The plain inner product: no per-sample margin at all. */
static int is_plain(const scl_margin_params *p) {
  return p->type == SCL_MARGIN_NONE || (p->type == SCL_MARGIN_ASOFTMAX && p->m == 1);
}

/* θ = acos(c) of c clamped to [−1, 1], and the piece k with θ in [kπ/m, (k+1)π/m] (θ = π: k = m−1). */
static double theta_piece(int m, double c, int *piece) {
  double th = acos(c > 1 ? 1 : c < -1 ? -1 : c);
  int k = (int)floor(th * m / PI);
  *piece = k < 0 ? 0 : k > m - 1 ? m - 1 : k;
  return th;
}

double ref_asoftmax_psi(int m, double c) {
  int k;
  double th = theta_piece(m, c, &k);
  return (k % 2 ? -1.0 : 1.0) * cos(m * th) - 2.0 * k;
}

/* dψ/dc = dψ/dθ · dθ/dc = −(−1)^k·m·sin(mθ) · (−1/sin θ). */
double ref_asoftmax_dpsi(int m, double c) {
  int k;
  double th = theta_piece(m, c, &k);
  if (sin(th) < 1e-12) return (double)m * m;
  return (k % 2 ? -1.0 : 1.0) * m * sin(m * th) / sin(th);
}

static double clamp_cos(double u) {
  return u > REF_MARGIN_CLAMP ? REF_MARGIN_CLAMP : u < -REF_MARGIN_CLAMP ? -REF_MARGIN_CLAMP : u;
}

void ref_margin_forward(const scl_margin_params *p, size_t n, size_t k, size_t m, const double *x, const double *w,
                        const int32_t *labels, double *logits) {
  double lambda = p->lambda, s = p->s;
  for (size_t i = 0; i < n; i++) {
    const double *xi = x + i * k;
    double nx = sqrt(dot(k, xi, xi));
    for (size_t j = 0; j < m; j++) {
      double u = dot(k, xi, w + j * k), z;
      int target = (size_t)labels[i] == j;
      if (is_plain(p))
        z = u;
      else if (nx == 0)
        z = 0;
      else if (p->type == SCL_MARGIN_ASOFTMAX)
        z = target ? (lambda * u + nx * ref_asoftmax_psi(p->m, u / nx)) / (1 + lambda) : u;
      else {
        double c = clamp_cos(u / nx);
        z = target ? s * (cos(p->m1 * acos(c) + p->m2) - p->m3) : s * c;
      }
      logits[i * m + j] = z;
    }
  }
}

/* dx_i += a·w_j + b·x_i and dw_j += d·x_i. */
static void accumulate(size_t k, double *dxi, double *dwj, const double *xi, const double *wj, double a, double b,
                       double d) {
  for (size_t c = 0; c < k; c++) {
    if (dxi) dxi[c] += a * wj[c] + b * xi[c];
    if (dwj) dwj[c] += d * xi[c];
  }
}

void ref_margin_backward(const scl_margin_params *p, size_t n, size_t k, size_t m, const double *x, const double *w,
                         const int32_t *labels, const double *g, double *dx, double *dw) {
  double lambda = p->lambda, s = p->s;
  if (dx)
    for (size_t i = 0; i < n * k; i++) dx[i] = 0;
  if (dw)
    for (size_t i = 0; i < m * k; i++) dw[i] = 0;
  for (size_t i = 0; i < n; i++) {
    const double *xi = x + i * k;
    double nx = sqrt(dot(k, xi, xi));
    for (size_t j = 0; j < m; j++) {
      const double *wj = w + j * k;
      double gij = g[i * m + j], u = dot(k, xi, wj);
      int target = (size_t)labels[i] == j;
      double *dxi = dx ? dx + i * k : NULL, *dwj = dw ? dw + j * k : NULL;
      if (is_plain(p) || (p->type == SCL_MARGIN_ASOFTMAX && nx != 0 && !target)) {
        accumulate(k, dxi, dwj, xi, wj, gij, 0, gij); /* ∂(x·w_j) */
      } else if (nx == 0) {
        /* a zero feature row: zero gradients */
      } else if (p->type == SCL_MARGIN_ASOFTMAX) {
        /* f_y = (λ·x·w_y + |x|·ψ(c))/(1+λ), c = x·w_y/|x|: ∂(|x|ψ)/∂x = a·w_y + b·x with a = ψ'(c),
           b = (ψ − c·ψ')/|x|; ∂(|x|ψ)/∂w_y = ψ'(c)·x */
        double c = u / nx, a = ref_asoftmax_dpsi(p->m, c), b = (ref_asoftmax_psi(p->m, c) - c * a) / nx;
        if (p->grad == SCL_GRAD_EXACT) {
          accumulate(k, dxi, dwj, xi, wj, gij * (lambda + a) / (1 + lambda), gij * b / (1 + lambda),
                     gij * (lambda + a) / (1 + lambda));
        } else { /* SPEC's CAFFE rule */
          double len = sqrt(a * a + b * b), ah = a / len, bh = b / len;
          accumulate(k, dxi, dwj, xi, wj, gij * (ah / (1 + lambda) + lambda / (1 + lambda)), gij * bh / (1 + lambda),
                     gij);
        }
      } else {
        /* f_j = s·φ(clamp(u_j/|x|)): ∂(u/|x|)/∂x = w_j/|x| − u·x/|x|³, ∂(u/|x|)/∂w_j = x/|x| */
        double un = u / nx, c = clamp_cos(un), slope = 1;
        if (target) slope = p->m1 * sin(p->m1 * acos(c) + p->m2) / sin(acos(c));
        double h = fabs(un) <= REF_MARGIN_CLAMP ? gij * s * slope : 0;
        accumulate(k, dxi, dwj, xi, wj, h / nx, -h * un / (nx * nx), h / nx);
      }
    }
  }
}
