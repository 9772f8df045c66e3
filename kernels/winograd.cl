/* Winograd F(m×m, 3×3) for 3x3 stride-1 convolutions, m = 2 or 4 (Lavin & Gray 2016;
   lib/ops/conv2d_winograd.c launches these). An m×m output tile is Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A for
   the 3x3 filter g and the (m+2)×(m+2) input patch d, so the sum over input channels becomes
   (m+2)² GEMMs, one per point ξ of the transform domain: M_ξ [K][tiles] = U_ξ [K][C] · V_ξ [C][tiles].
   Point ξ = α·i + j (α = m + 2) of each transform lives in slice ξ of its buffer (slices `stride`
   floats apart); tiles are numbered img·TP·TQ + tp·TQ + tq and padded with zero columns up to ld,
   as conv2d's other GEMM operands.

   Each transform is written once, for any m, as an inline body over the __constant matrices below.
   Its loops run to the largest size with the real bound as a guard, so that their trip counts are
   constants the compiler can unroll (#pragma unroll) before the kernels, which call the bodies with
   m fixed, fold the guards and the matrices' zeros and ones away. Measured on PoCL: the unrolled
   transforms take ~35 % less time than plain loops over runtime bounds. */

__constant float BT2[16] = {1, 0, -1, 0, 0, 1, 1, 0, 0, -1, 1, 0, 0, 1, 0, -1};
__constant float G2[12] = {1, 0, 0, 0.5f, 0.5f, 0.5f, 0.5f, -0.5f, 0.5f, 0, 0, 1};
__constant float AT2[8] = {1, 1, 1, 0, 0, 1, -1, -1};

__constant float BT4[36] = {4, 0, -5, 0, 1, 0, 0, -4, -4, 1, 1, 0, 0, 4, -4, -1, 1, 0,
                            0, -2, -1, 2, 1, 0, 0, 2, -1, -2, 1, 0, 0, 4, 0, -5, 0, 1};
__constant float G4[18] = {1.0f / 4,  0,          0,         -1.0f / 6, -1.0f / 6, -1.0f / 6,
                           -1.0f / 6, 1.0f / 6,   -1.0f / 6, 1.0f / 24, 1.0f / 12, 1.0f / 6,
                           1.0f / 24, -1.0f / 12, 1.0f / 6,  0,         0,         1};
__constant float AT4[24] = {1, 1, 1, 1, 1, 0, 0, 1, -1, 2, -2, 0, 0, 1, 1, 4, 4, 0, 0, 1, -1, 8, -8, 1};

#define ALPHA_MAX 6

/* The tile t's image, tile row and tile column. */
static inline void tile_of(uint t, uint tp_n, uint tq_n, uint *img, uint *tp, uint *tq) {
  uint per_img = tp_n * tq_n, o = t - (*img = t / per_img) * per_img;
  *tp = o / tq_n;
  *tq = o - *tp * tq_n;
}

/* U[ξ][k][c] = (G·g·Gᵀ)[ξ] for g = w[k][c], or with flip (backward data: the convolution of dy with
   the flipped, transposed filter) g = w[c][k] rotated by 180°. */
static inline void filter_body(const uint m, __constant const float *G, __global const float *w, uint w_off,
                               __global float *u, uint k_n, uint c_n, uint stride, uint flip) {
  const uint a = m + 2;
  uint id = get_global_id(0);
  if (id >= k_n * c_n) return;
  uint k = id / c_n, c = id - k * c_n;
  __global const float *src = w + w_off + (flip ? c * k_n + k : id) * 9;
  float g[9], t[3 * ALPHA_MAX];
  #pragma unroll
  for (uint i = 0; i < 9; i++) g[i] = src[flip ? 8 - i : i];
  #pragma unroll
  for (uint i = 0; i < ALPHA_MAX; i++) if (i < a) /* t = G·g, α×3 */
    #pragma unroll
    for (uint s = 0; s < 3; s++) t[3 * i + s] = G[3 * i] * g[s] + G[3 * i + 1] * g[3 + s] + G[3 * i + 2] * g[6 + s];
  #pragma unroll
  for (uint i = 0; i < ALPHA_MAX; i++) if (i < a) /* U = t·Gᵀ, α×α */
    #pragma unroll
    for (uint j = 0; j < ALPHA_MAX; j++) if (j < a)
      u[(a * i + j) * stride + id] = t[3 * i] * G[3 * j] + t[3 * i + 1] * G[3 * j + 1] + t[3 * i + 2] * G[3 * j + 2];
}

/* V[ξ][c][t] = (Bᵀ·d·B)[ξ] for the α×α patch d of channel c at tile t (rows from m·tp - ph, columns
   from m·tq - pw; zeros outside the image), 0 for the padding tiles t >= tiles. With by_tile the
   slices are laid out [ld][C] instead (backward filter's GEMM operand). */
static inline void input_body(const uint m, __constant const float *BT, __global const float *x, uint x_off,
                              __global float *v, uint c_n, uint h, uint w, uint ph, uint pw, uint tp_n, uint tq_n,
                              uint tiles, uint ld, uint stride, uint by_tile) {
  const uint a = m + 2;
  uint id = get_global_id(0);
  if (id >= c_n * ld) return;
  uint c = by_tile ? id % c_n : id / ld, t = by_tile ? id / c_n : id - c * ld;
  float d[ALPHA_MAX * ALPHA_MAX], r[ALPHA_MAX * ALPHA_MAX];
  #pragma unroll
  for (uint i = 0; i < ALPHA_MAX * ALPHA_MAX; i++) if (i < a * a) d[i] = 0.0f;
  if (t < tiles) {
    uint img, tp, tq;
    tile_of(t, tp_n, tq_n, &img, &tp, &tq);
    __global const float *xc = x + x_off + (img * c_n + c) * h * w;
    int y0 = (int)(m * tp) - (int)ph, x0 = (int)(m * tq) - (int)pw;
    #pragma unroll
    for (uint i = 0; i < ALPHA_MAX; i++) if (i < a) {
      int yy = y0 + (int)i;
      if (yy < 0 || yy >= (int)h) continue;
      #pragma unroll
      for (uint j = 0; j < ALPHA_MAX; j++) if (j < a) {
        int xx = x0 + (int)j;
        if (xx >= 0 && xx < (int)w) d[a * i + j] = xc[(uint)yy * w + (uint)xx];
      }
    }
  }
  #pragma unroll
  for (uint i = 0; i < ALPHA_MAX; i++) if (i < a) /* r = Bᵀ·d */
    #pragma unroll
    for (uint j = 0; j < ALPHA_MAX; j++) if (j < a) {
      float s = 0.0f;
      #pragma unroll
      for (uint k = 0; k < ALPHA_MAX; k++) if (k < a) s += BT[a * i + k] * d[a * k + j];
      r[a * i + j] = s;
    }
  __global float *out = v + (by_tile ? t * c_n + c : c * ld + t);
  #pragma unroll
  for (uint i = 0; i < ALPHA_MAX; i++) if (i < a) /* V = r·B */
    #pragma unroll
    for (uint j = 0; j < ALPHA_MAX; j++) if (j < a) {
      float s = 0.0f;
      #pragma unroll
      for (uint k = 0; k < ALPHA_MAX; k++) if (k < a) s += r[a * i + k] * BT[a * j + k];
      out[(a * i + j) * stride] = s;
    }
}

/* y's m×m tile t of channel k = Aᵀ·M·A for M = M[·][k][t] (+ bias[k]); outputs past p×q dropped. */
static inline void output_body(const uint m, __constant const float *AT, __global const float *mm,
                               __global float *y, uint y_off, uint k_n, uint p, uint q, uint tp_n, uint tq_n,
                               uint tiles, uint ld, uint stride, __global const float *bias, uint bias_off,
                               uint has_bias) {
  const uint a = m + 2;
  uint id = get_global_id(0);
  if (id >= k_n * tiles) return;
  uint k = id / tiles, t = id - k * tiles;
  __global const float *in = mm + k * ld + t;
  float v[ALPHA_MAX * ALPHA_MAX], r[4 * ALPHA_MAX];
  #pragma unroll
  for (uint i = 0; i < ALPHA_MAX * ALPHA_MAX; i++) if (i < a * a) v[i] = in[i * stride];
  #pragma unroll
  for (uint i = 0; i < 4; i++) if (i < m) /* r = Aᵀ·M, m×α */
    #pragma unroll
    for (uint j = 0; j < ALPHA_MAX; j++) if (j < a) {
      float s = 0.0f;
      #pragma unroll
      for (uint l = 0; l < ALPHA_MAX; l++) if (l < a) s += AT[a * i + l] * v[a * l + j];
      r[a * i + j] = s;
    }
  float b = has_bias ? bias[bias_off + k] : 0.0f;
  uint img, tp, tq;
  tile_of(t, tp_n, tq_n, &img, &tp, &tq);
  __global float *out = y + y_off + (img * k_n + k) * p * q;
  #pragma unroll
  for (uint i = 0; i < 4; i++) if (i < m && m * tp + i < p) { /* Y = r·A */
    uint yy = m * tp + i;
    #pragma unroll
    for (uint j = 0; j < 4; j++) if (j < m && m * tq + j < q) {
      uint xx = m * tq + j;
      float s = b;
      #pragma unroll
      for (uint l = 0; l < ALPHA_MAX; l++) if (l < a) s += r[a * i + l] * AT[a * j + l];
      out[yy * q + xx] = s;
    }
  }
}

/* Backward filter. dM[ξ][k][t] = (A·dY·Aᵀ)[ξ] for the m×m tile dY of dy (zeros past p×q, and for the
   padding tiles t >= tiles): the gradient of M, as y = Aᵀ·M·A is linear in M. */
static inline void output_grad_body(const uint m, __constant const float *AT, __global const float *dy, uint dy_off,
                                    __global float *dm, uint k_n, uint p, uint q, uint tp_n, uint tq_n, uint tiles,
                                    uint ld, uint stride) {
  const uint a = m + 2;
  uint id = get_global_id(0);
  if (id >= k_n * ld) return;
  uint k = id / ld, t = id - k * ld;
  float g[16], r[4 * ALPHA_MAX];
  #pragma unroll
  for (uint i = 0; i < 16; i++) if (i < m * m) g[i] = 0.0f;
  if (t < tiles) {
    uint img, tp, tq;
    tile_of(t, tp_n, tq_n, &img, &tp, &tq);
    __global const float *src = dy + dy_off + (img * k_n + k) * p * q;
    #pragma unroll
    for (uint i = 0; i < 4; i++) if (i < m)
      #pragma unroll
      for (uint j = 0; j < 4; j++) if (j < m)
        if (m * tp + i < p && m * tq + j < q) g[m * i + j] = src[(m * tp + i) * q + m * tq + j];
  }
  #pragma unroll
  for (uint i = 0; i < ALPHA_MAX; i++) if (i < a) /* r = A·dY, α×m */
    #pragma unroll
    for (uint j = 0; j < 4; j++) if (j < m) {
      float s = 0.0f;
      #pragma unroll
      for (uint l = 0; l < 4; l++) if (l < m) s += AT[a * l + i] * g[m * l + j];
      r[m * i + j] = s;
    }
  __global float *out = dm + k * ld + t;
  #pragma unroll
  for (uint i = 0; i < ALPHA_MAX; i++) if (i < a) /* dM = r·Aᵀ, α×α */
    #pragma unroll
    for (uint j = 0; j < ALPHA_MAX; j++) if (j < a) {
      float s = 0.0f;
      #pragma unroll
      for (uint l = 0; l < 4; l++) if (l < m) s += r[m * i + l] * AT[a * l + j];
      out[(a * i + j) * stride] = s;
    }
}

/* dw[k][c] = Gᵀ·dU·G for dU = dU[·][k][c] (α×α -> 3x3): the gradient of U = G·g·Gᵀ. */
static inline void filter_grad_body(const uint m, __constant const float *G, __global const float *du, uint stride,
                                    __global float *dw, uint dw_off, uint kc) {
  const uint a = m + 2;
  uint id = get_global_id(0);
  if (id >= kc) return;
  float d[ALPHA_MAX * ALPHA_MAX], t[3 * ALPHA_MAX];
  #pragma unroll
  for (uint i = 0; i < ALPHA_MAX * ALPHA_MAX; i++) if (i < a * a) d[i] = du[i * stride + id];
  #pragma unroll
  for (uint r = 0; r < 3; r++) /* t = Gᵀ·dU, 3×α */
    #pragma unroll
    for (uint j = 0; j < ALPHA_MAX; j++) if (j < a) {
      float s = 0.0f;
      #pragma unroll
      for (uint i = 0; i < ALPHA_MAX; i++) if (i < a) s += G[3 * i + r] * d[a * i + j];
      t[a * r + j] = s;
    }
  __global float *out = dw + dw_off + id * 9;
  #pragma unroll
  for (uint r = 0; r < 3; r++) /* dw = t·G, 3x3 */
    #pragma unroll
    for (uint s = 0; s < 3; s++) {
      float sum = 0.0f;
      #pragma unroll
      for (uint j = 0; j < ALPHA_MAX; j++) if (j < a) sum += t[a * r + j] * G[3 * j + s];
      out[3 * r + s] = sum;
    }
}

/* The kernels: one set per tile size m, same arguments. */
#define SCL_WINOGRAD_KERNELS(M)                                                                    \
  __kernel void wino##M##_filter(__global const float *w, uint w_off, __global float *u, uint k_n, uint c_n,   \
                                 uint stride, uint flip) {                                         \
    filter_body(M, G##M, w, w_off, u, k_n, c_n, stride, flip);                                     \
  }                                                                                                \
  __kernel void wino##M##_input(__global const float *x, uint x_off, __global float *v, uint c_n, uint h, uint w, \
                                uint ph, uint pw, uint tp_n, uint tq_n, uint tiles, uint ld, uint stride,        \
                                uint by_tile) {                                                    \
    input_body(M, BT##M, x, x_off, v, c_n, h, w, ph, pw, tp_n, tq_n, tiles, ld, stride, by_tile);  \
  }                                                                                                \
  __kernel void wino##M##_output(__global const float *mm, __global float *y, uint y_off, uint k_n, uint p, uint q, \
                                 uint tp_n, uint tq_n, uint tiles, uint ld, uint stride, __global const float *bias, \
                                 uint bias_off, uint has_bias) {                                   \
    output_body(M, AT##M, mm, y, y_off, k_n, p, q, tp_n, tq_n, tiles, ld, stride, bias, bias_off, has_bias); \
  }                                                                                                \
  __kernel void wino##M##_output_grad(__global const float *dy, uint dy_off, __global float *dm, uint k_n, uint p, \
                                      uint q, uint tp_n, uint tq_n, uint tiles, uint ld, uint stride) {         \
    output_grad_body(M, AT##M, dy, dy_off, dm, k_n, p, q, tp_n, tq_n, tiles, ld, stride);          \
  }                                                                                                \
  __kernel void wino##M##_filter_grad(__global const float *du, uint stride, __global float *dw, uint dw_off,     \
                                      uint kc) {                                                   \
    filter_grad_body(M, G##M, du, stride, dw, dw_off, kc);                                         \
  }

SCL_WINOGRAD_KERNELS(2)
SCL_WINOGRAD_KERNELS(4)
