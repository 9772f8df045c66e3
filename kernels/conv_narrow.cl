/* Convolutions of few input channels (conv1.1: 3) with the vectors along the output pixels
   (lib/ops/conv2d_narrow.c). The implicit GEMMs of conv_direct.cl run their vectors along the
   channels; on 3 channels a vector of 16 would be 13/16 padding, and their sums over C·R·S = 27
   terms are too short to pay for each tap's setup. Here a vector is 16 neighbouring output pixels
   of one row, so the stores are whole vectors and the weights are the broadcasts.

   Phase planes. A stride-2 layer reads every other input pixel of a row; so that those pixels are
   contiguous, x is first relaid (conv_phase_planes) into one plane per phase of the stride, with
   the padding written in as zeros:
     xp [n][C][sh][sw][hq][wq]:  xp[i][c][fy][fx][a][b] = x[i][c][a·sh + fy - ph][b·sw + fx - pw]
   (0 outside the image, and past column wn, the last a tap reads). The tap (fr, fs) of the output pixel (op, oq) then reads plane
   (fr % sh, fs % sw) at (op + fr / sh, oq + fs / sw): for 16 pixels of a row, one vector load,
   with no mask and no branch. wq leaves room for the last vector of a row (the host sizes it).

   Tiles: forward, TM output channels x 16·TV pixels of one row (TM·TV float16 accumulators);
   filter gradient, TM output channels x TC input channels of one tap, over one image's pixels,
   reduced across the images by conv_narrow_sum. */

/* xp from x (layout above). One work-item per plane row (i, c, fy, fx, a). */
__kernel void conv_phase_planes(__global const float *x, uint x_off, __global float *xp, uint nb, uint c, uint h,
                                uint w, uint sh, uint sw, uint ph, uint pw, uint hq, uint wq, uint wn) {
  const uint id = get_global_id(0);
  if (id >= nb * c * sh * sw * hq) return;
  const uint a = id % hq, plane = id / hq, fx = plane % sw, fy = plane / sw % sh, ic = plane / (sh * sw);
  const int yy = (int)(a * sh + fy) - (int)ph;
  __global float *out = xp + (size_t)id * wq;
  if (yy < 0 || yy >= (int)h) {
    for (uint b = 0; b < wq; b++) out[b] = 0.0f;
    return;
  }
  __global const float *row = x + x_off + ((size_t)ic * h + (uint)yy) * w;
  for (uint b = 0; b < wq; b++) {
    const int xx = (int)(b * sw + fx) - (int)pw;
    out[b] = xx >= 0 && xx < (int)w && b < wn ? row[xx] : 0.0f; /* past wn: lanes the filter gradient zeroes */
  }
}

#define SCL_NARROW_SHAPE                                                                           \
  uint nb, uint k, uint c, uint r, uint s, uint p, uint q, uint sh, uint sw, uint hq, uint wq

/* y = conv(x, w) + b from the phase planes. Work-item: TM output channels k0.. (past K they repeat
   the last and are not stored) x 16·TV pixels oq0.. of output row op of image i; the channel
   blocks of the same pixels are consecutive items, which read the same plane rows. */
#define SCL_NARROW_FORWARD_KERNEL(NAME, TM, TV)                                                    \
  __kernel void NAME(__global const float *xp, __global const float *wt, uint w_off, __global const float *bias, \
                     uint bias_off, uint has_bias, __global float *y, uint y_off, SCL_NARROW_SHAPE) {  \
    const uint kb = (k + TM - 1) / TM, chunks = (q + 16 * TV - 1) / (16 * TV), id = get_global_id(0);    \
    if (id >= kb * chunks * nb * p) return;                                                        \
    const uint k0 = id % kb * TM, oq0 = id / kb % chunks * 16 * TV, row = id / (kb * chunks);      \
    const uint img = row / p, op = row % p, crs = c * r * s;                                       \
    const size_t plane = (size_t)hq * wq;                                                          \
    __global const float *wk[TM];                                                                  \
    _Pragma("unroll") for (int t = 0; t < TM; t++) wk[t] = wt + w_off + (size_t)min(k0 + t, k - 1) * crs; \
    float16 acc[TM][TV];                                                                           \
    _Pragma("unroll") for (int t = 0; t < TM; t++)                                                 \
      _Pragma("unroll") for (int v = 0; v < TV; v++) acc[t][v] = (float16)(0.0f);                  \
    for (uint ci = 0; ci < c; ci++)                                                                \
      for (uint fr = 0; fr < r; fr++) {                                                            \
        __global const float *base = xp + ((size_t)(img * c + ci) * sh + fr % sh) * sw * plane +   \
                                     (size_t)(op + fr / sh) * wq + oq0;                            \
        for (uint fs = 0; fs < s; fs++) {                                                          \
          __global const float *xr = base + (fs % sw) * plane + fs / sw;                           \
          float16 xv[TV];                                                                          \
          _Pragma("unroll") for (int v = 0; v < TV; v++) xv[v] = vload16(v, xr);                   \
          const uint tap = (ci * r + fr) * s + fs;                                                 \
          _Pragma("unroll") for (int t = 0; t < TM; t++) {                                         \
            const float16 wv = (float16)(wk[t][tap]);                                              \
            _Pragma("unroll") for (int v = 0; v < TV; v++) acc[t][v] = fma(wv, xv[v], acc[t][v]);  \
          }                                                                                        \
        }                                                                                          \
      }                                                                                            \
    __global float *yo = y + y_off + ((size_t)img * k + k0) * p * q + (size_t)op * q + oq0;        \
    _Pragma("unroll") for (int t = 0; t < TM; t++) {                                               \
      if (k0 + t >= k) continue;                                                                   \
      const float b = has_bias ? bias[bias_off + k0 + t] : 0.0f;                                   \
      _Pragma("unroll") for (int v = 0; v < TV; v++) {                                             \
        __global float *o = yo + (size_t)t * p * q + 16 * v;                                       \
        const float16 e = acc[t][v] + b;                                                           \
        if (oq0 + 16 * v + 16 <= q) vstore16(e, 0, o);                                             \
        else {                                                                                     \
          float e_[16];                                                                            \
          vstore16(e, 0, e_);                                                                      \
          for (uint i = 0; oq0 + 16 * v + i < q && i < 16; i++) o[i] = e_[i];                      \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
  }

/* One image's share of dw: part[i][k][c][tap] = Σ over the output pixels of image i of
   dy[i][k][op][oq] · x at tap (fr, fs) from (op, oq). Work-item: TM output channels x TC input
   channels of one tap of one image (past K or C they repeat the last and are not stored); 16
   pixels of a row per step, the ragged end of a row masked. The taps and channel blocks of one
   image are consecutive items, which share its dy and planes (in a core's L2 cache). */
#define SCL_NARROW_FILTER_KERNEL(NAME, TM, TC)                                                     \
  __kernel void NAME(__global const float *xp, __global const float *dy, uint dy_off, __global float *part, \
                     SCL_NARROW_SHAPE) {                                                           \
    const uint rs = r * s, kb = (k + TM - 1) / TM, cb = (c + TC - 1) / TC, id = get_global_id(0);  \
    if (id >= rs * cb * kb * nb) return;                                                           \
    const uint tap = id % rs, c0 = id / rs % cb * TC, k0 = id / (rs * cb) % kb * TM, img = id / (rs * cb * kb); \
    const uint fr = tap / s, fs = tap % s;                                                         \
    const size_t plane = (size_t)hq * wq;                                                          \
    __global const float *xr[TC];                                                                  \
    _Pragma("unroll") for (int u = 0; u < TC; u++)                                                 \
      xr[u] = xp + (((size_t)(img * c + min(c0 + u, c - 1)) * sh + fr % sh) * sw + fs % sw) * plane + \
              (size_t)(fr / sh) * wq + fs / sw;                                                    \
    __global const float *dr[TM];                                                                  \
    _Pragma("unroll") for (int t = 0; t < TM; t++)                                                 \
      dr[t] = dy + dy_off + ((size_t)img * k + min(k0 + t, k - 1)) * p * q;                        \
    float16 acc[TM][TC];                                                                           \
    _Pragma("unroll") for (int t = 0; t < TM; t++)                                                 \
      _Pragma("unroll") for (int u = 0; u < TC; u++) acc[t][u] = (float16)(0.0f);                  \
    for (uint op = 0; op < p; op++)                                                                \
      for (uint oq = 0; oq < q; oq += 16) {                                                        \
        float16 dv[TM];                                                                            \
        if (oq + 16 <= q) {                                                                        \
          _Pragma("unroll") for (int t = 0; t < TM; t++) dv[t] = vload16(0, dr[t] + (size_t)op * q + oq); \
        } else { /* the row's ragged end: lanes past q are 0 (and dy is not read past its end) */ \
          _Pragma("unroll") for (int t = 0; t < TM; t++) {                                         \
            float e_[16];                                                                          \
            for (uint i = 0; i < 16; i++) e_[i] = oq + i < q ? dr[t][(size_t)op * q + oq + i] : 0.0f; \
            dv[t] = vload16(0, e_);                                                                \
          }                                                                                        \
        }                                                                                          \
        _Pragma("unroll") for (int u = 0; u < TC; u++) {                                           \
          const float16 xv = vload16(0, xr[u] + (size_t)op * wq + oq);                             \
          _Pragma("unroll") for (int t = 0; t < TM; t++) acc[t][u] = fma(dv[t], xv, acc[t][u]);    \
        }                                                                                          \
      }                                                                                            \
    __global float *out = part + (((size_t)img * k + k0) * c + c0) * rs + tap;                     \
    _Pragma("unroll") for (int t = 0; t < TM; t++)                                                 \
      _Pragma("unroll") for (int u = 0; u < TC; u++) {                                             \
        if (k0 + t >= k || c0 + u >= c) continue;                                                  \
        const float8 h8 = acc[t][u].lo + acc[t][u].hi;                                             \
        const float4 h4 = h8.lo + h8.hi;                                                           \
        const float2 h2 = h4.lo + h4.hi;                                                           \
        out[((size_t)t * c + u) * rs] = h2.x + h2.y;                                               \
      }                                                                                            \
  }

SCL_NARROW_FORWARD_KERNEL(conv_narrow_forward_8x48, 8, 3)
SCL_NARROW_FILTER_KERNEL(conv_narrow_filter_8x3, 8, 3)

/* dw[e] = Σ over the nb images of part[i][e], e < len (= K·C·R·S). */
__kernel void conv_narrow_sum(__global const float *part, uint nb, uint len, __global float *dw, uint dw_off) {
  const uint e = get_global_id(0);
  if (e >= len) return;
  float sum = 0.0f;
  for (uint i = 0; i < nb; i++) sum += part[(size_t)i * len + e];
  dw[dw_off + e] = sum;
}
