/* Winograd F(2x2, 3x3) for 3x3 stride-1 convolutions (Lavin & Gray 2016; lib/ops/conv2d_winograd.c
   launches these). A 2x2 output tile is Aᵀ·[(G·g·Gᵀ) ⊙ (Bᵀ·d·B)]·A for the 3x3 filter g and the
   4x4 input patch d, with
     Bᵀ = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   G = [1 0 0; ½ ½ ½; ½ -½ ½; 0 0 1]
     Aᵀ = [1 1 1 0; 0 1 -1 -1]
   so the sum over input channels becomes 16 GEMMs, one per point ξ of the 4x4 transform domain:
   M_ξ [K][tiles] = U_ξ [K][C] · V_ξ [C][tiles]. Point ξ = 4·i + j of each transform lives in slice
   ξ of its buffer (slices `stride` floats apart); tiles are numbered img·TP·TQ + tp·TQ + tq and
   padded with zero columns up to ld, as conv2d's other GEMM operands. */

/* U[ξ][k][c] = (G·g·Gᵀ)[ξ] for g = w[k][c], or with flip (backward data: the convolution of dy
   with the flipped, transposed filter) g = w[c][k] rotated by 180°. */
__kernel void wino_filter(__global const float *w, uint w_off, __global float *u, uint k_n, uint c_n, uint stride,
                          uint flip) {
  uint id = get_global_id(0);
  if (id >= k_n * c_n) return;
  uint k = id / c_n, c = id - k * c_n;
  __global const float *src = w + w_off + (flip ? c * k_n + k : id) * 9;
  float g[9], t[12];
  for (uint i = 0; i < 9; i++) g[i] = src[flip ? 8 - i : i];
  for (uint s = 0; s < 3; s++) { /* t = G·g, 4x3 */
    t[s] = g[s];
    t[3 + s] = 0.5f * (g[s] + g[3 + s] + g[6 + s]);
    t[6 + s] = 0.5f * (g[s] - g[3 + s] + g[6 + s]);
    t[9 + s] = g[6 + s];
  }
  for (uint i = 0; i < 4; i++) { /* U = t·Gᵀ, 4x4 */
    float a = t[3 * i], b = t[3 * i + 1], e = t[3 * i + 2];
    u[(4 * i + 0) * stride + id] = a;
    u[(4 * i + 1) * stride + id] = 0.5f * (a + b + e);
    u[(4 * i + 2) * stride + id] = 0.5f * (a - b + e);
    u[(4 * i + 3) * stride + id] = e;
  }
}

/* V[ξ][c][t] = (Bᵀ·d·B)[ξ] for the 4x4 patch d of channel c at tile t (rows from 2·tp - ph,
   columns from 2·tq - pw; zeros outside the image), and 0 for the padding tiles t >= tiles. With
   by_tile the slices are laid out [ld][C] instead (backward filter's GEMM operand). */
__kernel void wino_input(__global const float *x, uint x_off, __global float *v, uint c_n, uint h, uint w, uint ph,
                         uint pw, uint tp_n, uint tq_n, uint tiles, uint ld, uint stride, uint by_tile) {
  uint id = get_global_id(0);
  if (id >= c_n * ld) return;
  uint c = by_tile ? id % c_n : id / ld, t = by_tile ? id / c_n : id - c * ld;
  float d[16];
  for (uint i = 0; i < 16; i++) d[i] = 0.0f;
  if (t < tiles) {
    uint per_img = tp_n * tq_n, img = t / per_img, o = t - img * per_img, tp = o / tq_n, tq = o - tp * tq_n;
    __global const float *xc = x + x_off + (img * c_n + c) * h * w;
    int y0 = (int)(2 * tp) - (int)ph, x0 = (int)(2 * tq) - (int)pw;
    for (int i = 0; i < 4; i++) {
      int yy = y0 + i;
      if (yy < 0 || yy >= (int)h) continue;
      for (int j = 0; j < 4; j++) {
        int xx = x0 + j;
        if (xx >= 0 && xx < (int)w) d[4 * i + j] = xc[(uint)yy * w + (uint)xx];
      }
    }
  }
  float r[16];
  for (uint j = 0; j < 4; j++) { /* r = Bᵀ·d */
    r[j] = d[j] - d[8 + j];
    r[4 + j] = d[4 + j] + d[8 + j];
    r[8 + j] = d[8 + j] - d[4 + j];
    r[12 + j] = d[4 + j] - d[12 + j];
  }
  __global float *out = v + (by_tile ? t * c_n + c : c * ld + t);
  for (uint i = 0; i < 4; i++) { /* V = r·B */
    out[(4 * i + 0) * stride] = r[4 * i] - r[4 * i + 2];
    out[(4 * i + 1) * stride] = r[4 * i + 1] + r[4 * i + 2];
    out[(4 * i + 2) * stride] = r[4 * i + 2] - r[4 * i + 1];
    out[(4 * i + 3) * stride] = r[4 * i + 1] - r[4 * i + 3];
  }
}

/* y's 2x2 tile t of channel k = Aᵀ·m·A for m = M[·][k][t] (+ bias[k]); outputs past p×q dropped. */
__kernel void wino_output(__global const float *m, __global float *y, uint y_off, uint k_n, uint p, uint q,
                          uint tp_n, uint tq_n, uint tiles, uint ld, uint stride, __global const float *bias,
                          uint bias_off, uint has_bias) {
  uint id = get_global_id(0);
  if (id >= k_n * tiles) return;
  uint k = id / tiles, t = id - k * tiles;
  __global const float *in = m + k * ld + t;
  float a[8];
  for (uint j = 0; j < 4; j++) { /* a = Aᵀ·m, 2x4 */
    float m0 = in[j * stride], m1 = in[(4 + j) * stride], m2 = in[(8 + j) * stride], m3 = in[(12 + j) * stride];
    a[j] = m0 + m1 + m2;
    a[4 + j] = m1 - m2 - m3;
  }
  float b = has_bias ? bias[bias_off + k] : 0.0f;
  uint per_img = tp_n * tq_n, img = t / per_img, o = t - img * per_img, tp = o / tq_n, tq = o - tp * tq_n;
  __global float *out = y + y_off + (img * k_n + k) * p * q;
  for (uint i = 0; i < 2; i++) { /* Y = a·A */
    uint yy = 2 * tp + i;
    if (yy >= p) break;
    float y0 = a[4 * i] + a[4 * i + 1] + a[4 * i + 2] + b, y1 = a[4 * i + 1] - a[4 * i + 2] - a[4 * i + 3] + b;
    out[yy * q + 2 * tq] = y0;
    if (2 * tq + 1 < q) out[yy * q + 2 * tq + 1] = y1;
  }
}

/* Backward filter. dM[ξ][k][t] = (A·dY·Aᵀ)[ξ] for the 2x2 tile dY of dy (zeros past p×q, and for
   the padding tiles t >= tiles): the gradient of M, as y = Aᵀ·M·A is linear in M. */
__kernel void wino_output_grad(__global const float *dy, uint dy_off, __global float *dm, uint k_n, uint p, uint q,
                               uint tp_n, uint tq_n, uint tiles, uint ld, uint stride) {
  uint id = get_global_id(0);
  if (id >= k_n * ld) return;
  uint k = id / ld, t = id - k * ld;
  float g[4] = {0.0f, 0.0f, 0.0f, 0.0f};
  if (t < tiles) {
    uint per_img = tp_n * tq_n, img = t / per_img, o = t - img * per_img, tp = o / tq_n, tq = o - tp * tq_n;
    __global const float *src = dy + dy_off + (img * k_n + k) * p * q;
    for (uint i = 0; i < 2; i++)
      for (uint j = 0; j < 2; j++)
        if (2 * tp + i < p && 2 * tq + j < q) g[2 * i + j] = src[(2 * tp + i) * q + 2 * tq + j];
  }
  /* A = [1 0; 1 1; 1 -1; 0 -1]: r = A·g (4x2), then dM = r·Aᵀ (4x4) */
  float r[8] = {g[0], g[1], g[0] + g[2], g[1] + g[3], g[0] - g[2], g[1] - g[3], -g[2], -g[3]};
  __global float *out = dm + k * ld + t;
  for (uint i = 0; i < 4; i++) {
    float a = r[2 * i], b = r[2 * i + 1];
    out[(4 * i + 0) * stride] = a;
    out[(4 * i + 1) * stride] = a + b;
    out[(4 * i + 2) * stride] = a - b;
    out[(4 * i + 3) * stride] = -b;
  }
}

/* dw[k][c] = Gᵀ·dU·G for dU = dU[·][k][c] (4x4 -> 3x3): the gradient of U = G·g·Gᵀ. */
__kernel void wino_filter_grad(__global const float *du, uint stride, __global float *dw, uint dw_off, uint kc) {
  uint id = get_global_id(0);
  if (id >= kc) return;
  float d[16], t[12];
  for (uint i = 0; i < 16; i++) d[i] = du[i * stride + id];
  for (uint j = 0; j < 4; j++) { /* t = Gᵀ·dU, 3x4; Gᵀ = [1 ½ ½ 0; 0 ½ -½ 0; 0 ½ ½ 1] */
    t[j] = d[j] + 0.5f * (d[4 + j] + d[8 + j]);
    t[4 + j] = 0.5f * (d[4 + j] - d[8 + j]);
    t[8 + j] = 0.5f * (d[4 + j] + d[8 + j]) + d[12 + j];
  }
  __global float *out = dw + dw_off + id * 9;
  for (uint i = 0; i < 3; i++) { /* dw = t·G, 3x3 */
    float a = t[4 * i], b = t[4 * i + 1], c = t[4 * i + 2], e = t[4 * i + 3];
    out[3 * i] = a + 0.5f * (b + c);
    out[3 * i + 1] = 0.5f * (b - c);
    out[3 * i + 2] = 0.5f * (b + c) + e;
  }
}
