/* The margin layer's per-sample work (lib/ops/margin.c; the math is SPEC §5). The GEMMs around these
   kernels are CLBlast's; what is here is one work-group per sample r that
     - sums |x_r|² and x_r·w_y over K (float4 sweeps and a tree sum in local memory, with the
       helpers of the prelude kernels/common.cl), then
     - sweeps the sample's row of M logits (or upstream gradients) 4 columns at a time, every
       get_local_size(0)-th run per work-item; the target column is handled by the work-item
       whose run holds it, so no two work-items ever touch the same element.
   mode: MODE_CAFFE / MODE_EXACT (A-Softmax with that gradient rule, integer margin m >= 2) or
   MODE_COMBINED (s·(cos(m1·θ + m2) − m3)). A sample whose fp32 |x| is 0 gets zeros. */

#define MODE_CAFFE 0
#define MODE_EXACT 1
#define MODE_COMBINED 2

/* The combined margin's clamp of the cosines (SPEC §5). */
#define CLAMP_LO (-1.0f + 1e-6f)
#define CLAMP_HI (1.0f - 1e-6f)

/* (|x|², x·w) of two rows of k elements, for every work-item of the group. */
static float2 row_stats(__global const float *x, __global const float *w, uint k, __local float2 *part) {
  uint step = 4 * get_local_size(0);
  float4 ss = (float4)(0.0f), dot = (float4)(0.0f);
  for (uint j = 4 * get_local_id(0); j < k; j += step) {
    float4 v = scl_load4(x, j, k, 0.0f);
    ss += v * v;
    dot += v * scl_load4(w, j, k, 0.0f);
  }
  return scl_group_sum2((float2)(scl_hsum4(ss), scl_hsum4(dot)), part);
}

/* A-Softmax for margin m at cosine c (SPEC §5; sign(0) = 0, as OpenCL's sign gives):
   (ψ(c), a, b·|x|) with ψ the piecewise polynomial, a = ψ'(c) and b·|x| = ψ(c) − c·ψ'(c), the
   coefficients of ∂(|x|·ψ(c))/∂x = a·w_y + b·x. m = 1 is the identity. */
static float3 asoftmax_terms(int m, float c) {
  float s0 = sign(c), c2 = c * c;
  if (m == 2) return (float3)(2.0f * s0 * c2 - 1.0f, 4.0f * s0 * c, -(2.0f * s0 * c2 + 1.0f));
  if (m == 3) {
    float s1 = sign(fabs(c) - 0.5f), s2 = s0 * (1.0f + s1) - 2.0f;
    return (float3)(s1 * (4.0f * c2 * c - 3.0f * c) + s2, s1 * (12.0f * c2 - 3.0f), -(8.0f * s1 * c2 * c - s2));
  }
  if (m == 4) {
    float s3 = sign(s0 * (2.0f * c2 - 1.0f)), s4 = 2.0f * s0 + s3 - 3.0f;
    return (float3)(s3 * (8.0f * c2 * c2 - 8.0f * c2 + 1.0f) + s4, s3 * (32.0f * c2 * c - 16.0f * c),
                    -(s3 * (24.0f * c2 * c2 - 8.0f * c2 - 1.0f) - s4));
  }
  return (float3)(c, 1.0f, 0.0f);
}

/* Lanes of a 4-column run starting at column j. */
#define LANES ((int4)(0, 1, 2, 3))

/* Forward, run in place on logits [rows][cols] = x·wᵀ (the GEMM's result):
     |x| = 0       the row becomes zeros
     A-Softmax     the target becomes (λ·x·w_y + |x|·ψ(c))/(1+λ), c = x·w_y/|x|; the rest stay
     combined      every logit becomes s·clamp(x·w_j/|x|); the target s·(cos(m1·θ + m2) − m3),
                   θ = acos(clamp(x·w_y/|x|)). */
__kernel void margin_forward(__global const float *x, uint x_off, __global const float *w, uint w_off,
                             __global const int *labels, uint labels_off, __global float *logits, uint logits_off,
                             uint rows, uint k, uint cols, uint mode, int m, float lambda, float s, float m1, float m2,
                             float m3, __local float2 *part) {
  uint r = get_group_id(0), lid = get_local_id(0), step = 4 * get_local_size(0);
  if (r >= rows) return; /* the whole group leaves: no barrier is split */
  int y = labels[labels_off + r];
  float2 st = row_stats(x + x_off + r * k, w + w_off + (uint)y * k, k, part);
  float norm = sqrt(st.x);
  __global float *z = logits + logits_off + r * cols;

  if (norm == 0.0f) {
    for (uint j = 4 * lid; j < cols; j += step) scl_store4(z, j, cols, (float4)(0.0f));
  } else if (mode != MODE_COMBINED) {
    if (lid == 0) z[y] = (lambda * st.y + norm * asoftmax_terms(m, st.y / norm).x) / (1.0f + lambda);
  } else {
    float inv = 1.0f / norm;
    for (uint j = 4 * lid; j < cols; j += step) {
      float4 f = s * clamp(scl_load4(z, j, cols, 0.0f) * inv, CLAMP_LO, CLAMP_HI);
      if ((uint)y - j < 4) { /* this run holds the target */
        float cy = clamp(z[y] * inv, CLAMP_LO, CLAMP_HI);
        f = select(f, (float4)(s * (cos(m1 * acos(cy) + m2) - m3)), LANES == (int4)(y - (int)j));
      }
      scl_store4(z, j, cols, f);
    }
  }
}

/* Backward, first step. Writes gp [rows][cols] and beta [rows] such that
     dx = gp·W + beta ⊙ x   (the GEMM, then margin_add_rows)
     dw = gp'ᵀ·X            (gp' = gp, except A-Softmax CAFFE, whose dw uses dlogits itself)
   gp may not alias dlogits. In MODE_COMBINED gp holds x·wᵀ on entry (rewritten in place).
   Per sample (g the row of dlogits, y the label):
     |x| = 0     gp row and beta are zeros.
     A-Softmax   gp = g, but gp_y = g_y·(λ + a)/(1+λ); beta = g_y·b/(1+λ), with (a, b) from
                 asoftmax_terms, divided by sqrt(a² + b²) in MODE_CAFFE (the reference's rule).
     combined    with u_j = x·w_j/|x| (unclamped), c_j = clamp(u_j), f_j = s·φ_j(c_j) where
                 φ_j(c) = c (j ≠ y) and φ_y(c) = cos(m1·acos c + m2) − m3:
                   ∂u_j/∂x   = w_j/|x| − (x·w_j)·x/|x|³ = w_j/|x| − u_j·x/|x|²
                   ∂u_j/∂w_j = x/|x|
                   ∂f_j/∂u_j = s·φ_j'(c_j) inside the clamp, 0 outside (the clamp's slope)
                   φ_y'(c)   = −sin(m1·θ + m2)·m1·dθ/dc = m1·sin(m1·θ + m2)/sin θ   (θ = acos c,
                               dθ/dc = −1/sin θ; sin θ >= about 1.4e-3 thanks to the clamp)
                 so with h_j = g_j·∂f_j/∂u_j:
                   dx  = Σ_j h_j·w_j/|x| − (Σ_j h_j·u_j)·x/|x|²
                   dw_j = h_j·x/|x|  (summed over the samples)
                 hence gp_j = h_j/|x| and beta = −(Σ_j h_j·u_j)/|x|². The projection term uses the
                 unclamped u_j, as automatic differentiation of the same formula does; where u_j
                 is clamped h_j is 0, so it is the same number. */
__kernel void margin_grad_prep(__global const float *x, uint x_off, __global const float *w, uint w_off,
                               __global const int *labels, uint labels_off, __global const float *g, uint g_off,
                               __global float *gp, uint gp_off, __global float *beta, uint beta_off, uint rows, uint k,
                               uint cols, uint mode, int m, float lambda, float s, float m1, float m2, float m3,
                               __local float2 *part) {
  uint r = get_group_id(0), lid = get_local_id(0), step = 4 * get_local_size(0);
  if (r >= rows) return;
  int y = labels[labels_off + r];
  float2 st = row_stats(x + x_off + r * k, w + w_off + (uint)y * k, k, part);
  float norm = sqrt(st.x);
  __global const float *gr = g + g_off + r * cols;
  __global float *out = gp + gp_off + r * cols;

  if (norm == 0.0f) {
    for (uint j = 4 * lid; j < cols; j += step) scl_store4(out, j, cols, (float4)(0.0f));
    if (lid == 0) beta[beta_off + r] = 0.0f;
  } else if (mode != MODE_COMBINED) {
    float3 t = asoftmax_terms(m, st.y / norm);
    float a = t.y, b = t.z / norm;
    if (mode == MODE_CAFFE) {
      float len = sqrt(a * a + b * b); /* never 0 for m = 2..4 (SPEC's a and b have no common zero) */
      a /= len;
      b /= len;
    }
    float scale_y = (lambda + a) / (1.0f + lambda);
    for (uint j = 4 * lid; j < cols; j += step) {
      float4 v = scl_load4(gr, j, cols, 0.0f);
      if ((uint)y - j < 4) v = select(v, v * scale_y, LANES == (int4)(y - (int)j));
      scl_store4(out, j, cols, v);
    }
    if (lid == 0) beta[beta_off + r] = gr[y] * b / (1.0f + lambda);
  } else {
    float inv = 1.0f / norm;
    float4 hu = (float4)(0.0f);
    for (uint j = 4 * lid; j < cols; j += step) {
      float4 u = scl_load4(out, j, cols, 0.0f) * inv;
      int4 inside = u >= CLAMP_LO && u <= CLAMP_HI;
      float4 h = select((float4)(0.0f), s * scl_load4(gr, j, cols, 0.0f), inside);
      if ((uint)y - j < 4) {
        float cy = clamp(out[y] * inv, CLAMP_LO, CLAMP_HI), theta = acos(cy);
        float slope = m1 * sin(m1 * theta + m2) / sqrt((1.0f - cy) * (1.0f + cy));
        h = select(h, h * slope, LANES == (int4)(y - (int)j)); /* h_y is 0 where clamped */
      }
      hu += h * u;
      scl_store4(out, j, cols, h * inv);
    }
    float total = scl_group_sum(scl_hsum4(hu), (__local float *)part);
    if (lid == 0) beta[beta_off + r] = -total * inv * inv;
  }
}

/* dx[r][c] += beta[r]·x[r][c] over dx, x [rows][k] (the second step of dx). */
__kernel void margin_add_rows(__global float *dx, uint dx_off, __global const float *x, uint x_off,
                              __global const float *beta, uint beta_off, uint rows, uint k) {
  uint i = get_global_id(0);
  if (i >= rows * k) return;
  dx[dx_off + i] += beta[beta_off + i / k] * x[x_off + i];
}
