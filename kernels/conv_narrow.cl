/* Convolutions of few input channels (conv1.1: 3) with the vectors along the output pixels
   (lib/ops/conv2d_narrow.c). The implicit GEMMs of conv_direct.cl run their vectors along the
   channels; on 3 channels a vector of 16 would be 13/16 padding, and their sums over C·R·S = 27
   terms are too short to pay for each tap's setup. Here a vector is 16 neighbouring output pixels
   of one row, so the stores are whole vectors and the weights are the broadcasts.

   Phase planes. A stride-2 layer reads every other input pixel of a row; so that those pixels are
   contiguous, x is first relaid (conv_phase_planes) into one plane per phase of the stride, with
   the padding written in as zeros:
     xp [n][C][sh][sw][hq][wq]:  xp[i][c][fy][fx][a][b] = x[i][c][a·sh + fy - ph][b·sw + fx - pw]
   (0 outside the image, and past column wn, the last a tap reads). The tap (fr, fs) of the output
   pixel (op, oq) then reads plane (fr % sh, fs % sw) at (op + fr / sh, oq + fs / sw): for 16
   pixels of a row, one vector load, with no mask and no branch. wq leaves room for the last
   vector of a row (the host sizes it).

   Tiles: forward, TM output channels x 16·TV pixels of a group of rows (TM·TV float16
   accumulators); filter gradient, TM output channels x TC input channels of every tap in turn,
   over a group of rows of one image, the groups' parts summed by conv_narrow_sum. */

/* One plane row per phase fx of image row `row` (NULL: a padding row, all zeros): out + fx·plane.
   Column b of phase fx is x column b·sw + fx - pw, 0 outside the image and from column wn on. */
static inline void scl_plane_rows(__global const float *row, __global float *out, size_t plane, uint w, uint sw,
                                  uint pw, uint wq, uint wn) {
  uint bs = wq, bl = 0; /* stride 2: 16 columns of both phases from one 32-float span, from bs to bl */
  if (row && sw == 2 && w + pw >= 32 && wn >= 16) bs = (pw + 1) / 2, bl = min((w + pw - 32) / 2, wn - 16);
  if (bs <= bl) {
    /* phase fx, lane j: x column 2(b + j) + fx - pw = span[2j + fx], span = row + 2b - pw; the last
       block is moved back to end at bl + 16 (its columns are written twice, with the same values) */
    for (uint b = bs;; b = min(b + 16, bl)) {
      const float16 lo = vload16(0, row + 2 * b - pw), hi = vload16(0, row + 2 * b - pw + 16);
      scl_store16((float16)(lo.even, hi.even), out + b);
      scl_store16((float16)(lo.odd, hi.odd), out + plane + b);
      if (b == bl) break;
    }
  }
  for (uint fx = 0; fx < sw; fx++, out += plane)
    for (uint b = 0; b < wq; b++) {
      if (b == bs && bs <= bl) b = bl + 16; /* the blocks' columns */
      if (b >= wq) break;
      const int col = (int)(b * sw + fx) - (int)pw;
      out[b] = row && b < wn && col >= 0 && col < (int)w ? row[col] : 0.0f;
    }
}

/* xp from x (layout above). One work-item per image channel, which reads x's rows once, in order
   (the hardware prefetcher's best case: the planes follow a pass that left x out of the caches),
   and writes each row's sw phases. */
__kernel void conv_phase_planes(__global const float *x, uint x_off, __global float *xp, uint nb, uint c, uint h,
                                uint w, uint sh, uint sw, uint ph, uint pw, uint hq, uint wq, uint wn) {
  const uint ic = get_global_id(0);
  if (ic >= nb * c) return;
  const size_t plane = (size_t)hq * wq;
  __global const float *xc = x + x_off + (size_t)ic * h * w;
  __global float *pc = xp + (size_t)ic * sh * sw * plane;
  /* plane row a of phase fy holds image row a·sh + fy - ph: rows before and after the image are 0 */
  for (uint fy = 0; fy < sh; fy++)
    for (uint a = 0; a < hq; a++) {
      const int yy = (int)(a * sh + fy) - (int)ph;
      if (yy < 0 || yy >= (int)h)
        scl_plane_rows(NULL, pc + (size_t)fy * sw * plane + (size_t)a * wq, plane, w, sw, pw, wq, wn);
    }
  for (uint yy = 0, fy = ph % sh, a = ph / sh; yy < h && a < hq; yy++) {
    scl_plane_rows(xc + (size_t)yy * w, pc + (size_t)fy * sw * plane + (size_t)a * wq, plane, w, sw, pw, wq, wn);
    if (++fy == sh) fy = 0, a++;
  }
}

#define SCL_NARROW_SHAPE                                                                           \
  uint nb, uint k, uint c, uint r, uint s, uint p, uint q, uint sh, uint sw, uint hq, uint wq

/* Filters of at most SCL_NARROW_TAPS taps (R·S; the host checks): the tap loop is unrolled over
   offsets computed once per work-item. */
#define SCL_NARROW_TAPS 9

/* The offsets in xp of the R·S taps from a plane row's start (the layout above), by counting: a
   division by a stride per tap cost more than the tap's FMAs. */
#define SCL_TAP_OFFSETS(off)                                                                       \
  uint off[SCL_NARROW_TAPS];                                                                       \
  for (uint fr = 0, fy = 0, ay = 0, tap_ = 0; fr < r; fr++) {                                      \
    for (uint fs = 0, fx = 0, ax = 0; fs < s; fs++, tap_++) {                                      \
      off[tap_] = (fy * sw + fx) * hq * wq + ay * wq + ax;                                         \
      if (++fx == sw) fx = 0, ax++;                                                                \
    }                                                                                              \
    if (++fy == sh) fy = 0, ay++;                                                                  \
  }

/* y = conv(x, w) + b from the phase planes. Work-item: TM output channels k0.. (past K they repeat
   the last and are not stored) x 16·TV pixels oq0.. of `rows` output rows from op0 of image i; the
   channel blocks of the same pixels are consecutive items, which read the same plane rows. */
#define SCL_NARROW_FORWARD_KERNEL(NAME, TM, TV)                                                    \
  __kernel void NAME(__global const float *xp, __global const float *wt, uint w_off, __global const float *bias, \
                     uint bias_off, uint has_bias, __global float *y, uint y_off, uint rows, SCL_NARROW_SHAPE) { \
    const uint kb = (k + TM - 1) / TM, chunks = (q + 16 * TV - 1) / (16 * TV), groups = (p + rows - 1) / rows;  \
    const uint id = get_global_id(0);                                                              \
    if (id >= kb * chunks * nb * groups) return;                                                   \
    const uint k0 = id % kb * TM, oq0 = id / kb % chunks * 16 * TV, g = id / (kb * chunks);        \
    const uint img = g / groups, op0 = g % groups * rows, op1 = min(op0 + rows, p), rs = r * s;     \
    const size_t plane = (size_t)hq * wq;                                                          \
    SCL_TAP_OFFSETS(off);                                                                          \
    float bk[TM];                                                                                  \
    __global const float *wk[TM];                                                                  \
    _Pragma("unroll") for (int t = 0; t < TM; t++) {                                               \
      wk[t] = wt + w_off + (size_t)min(k0 + t, k - 1) * c * rs;                                    \
      bk[t] = has_bias ? bias[bias_off + min(k0 + t, k - 1)] : 0.0f;                               \
    }                                                                                              \
    /* row op of channel k0 + t: y0 + t·P·Q + op·Q */                                              \
    __global float *y0 = y + y_off + ((size_t)img * k + k0) * p * q + oq0;                         \
    for (uint op = op0; op < op1; op++) {                                                          \
      /* the next row's y lines, fetched for writing while this row's FMAs run: stores that wait \
         for their lines to be read for ownership otherwise fill the store buffer */               \
      if (op + 1 < op1) {                                                                          \
        __global float *yn_ = y0 + (size_t)(op + 1) * q;                                          \
        _Pragma("unroll") for (int t = 0; t < TM; t++)                                             \
          _Pragma("unroll") for (int v = 0; v < TV; v++) SCL_PREFETCH_WRITE(yn_ + (size_t)t * p * q + 16 * v); \
      }                                                                                            \
      float16 acc[TM][TV];                                                                         \
      _Pragma("unroll") for (int t = 0; t < TM; t++)                                               \
        _Pragma("unroll") for (int v = 0; v < TV; v++) acc[t][v] = (float16)(bk[t]);               \
      __global const float *cbase = xp + (size_t)img * c * sh * sw * plane + (size_t)op * wq + oq0; \
      for (uint ci = 0; ci < c; ci++, cbase += sh * sw * plane) {                                  \
        _Pragma("unroll") for (uint tp = 0; tp < SCL_NARROW_TAPS; tp++) {                          \
          if (tp >= rs) continue; /* not break: LLVM unrolls no loop with a second exit */         \
          float16 xv[TV];                                                                          \
          _Pragma("unroll") for (int v = 0; v < TV; v++) xv[v] = vload16(v, cbase + off[tp]);      \
          _Pragma("unroll") for (int t = 0; t < TM; t++) {                                         \
            const float16 wv = (float16)(wk[t][ci * rs + tp]);                                     \
            _Pragma("unroll") for (int v = 0; v < TV; v++) acc[t][v] = fma(wv, xv[v], acc[t][v]);  \
          }                                                                                        \
        }                                                                                          \
      }                                                                                            \
      __global float *yo = y0 + (size_t)op * q;                                                    \
      _Pragma("unroll") for (int t = 0; t < TM; t++) {                                             \
        if (k0 + t >= k) continue;                                                                 \
        _Pragma("unroll") for (int v = 0; v < TV; v++) {                                           \
          __global float *o = yo + (size_t)t * p * q + 16 * v;                                     \
          if (oq0 + 16 * v + 16 <= q) scl_store16(acc[t][v], o);                                   \
          else {                                                                                   \
            float e_[16];                                                                          \
            vstore16(acc[t][v], 0, e_);                                                            \
            for (uint i = 0; oq0 + 16 * v + i < q && i < 16; i++) o[i] = e_[i];                    \
          }                                                                                        \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
  }

/* One group of `rows` output rows' share of dw: part[i·groups + g][k][c][tap] = Σ over output rows
   [g·rows, (g+1)·rows) of image i of dy[i][k][op][oq] · x at tap (fr, fs) from (op, oq).
   Work-item: TM output channels x TC input channels of one row group (past K or C they repeat the
   last and are not stored), every tap in turn over the same dy and plane rows (the host makes
   groups of at most 32 rows); 16 pixels of a row per step, the ragged end of a row masked. */
/* One step of the filter gradient: 16 pixels at (op, oq); DY(t) is output channel t's dy vector. */
#define SCL_NARROW_FILTER_STEP(TM, TC, DY)                                                         \
  do {                                                                                             \
    float16 xv[TC];                                                                                \
    _Pragma("unroll") for (int u = 0; u < TC; u++) xv[u] = vload16(0, xr[u] + (size_t)op * wq + oq); \
    _Pragma("unroll") for (int t = 0; t < TM; t++) {                                               \
      const float16 dv = DY;                                                                       \
      _Pragma("unroll") for (int u = 0; u < TC; u++) acc[t][u] = fma(dv, xv[u], acc[t][u]);        \
    }                                                                                              \
  } while (0)

#define SCL_NARROW_FILTER_KERNEL(NAME, TM, TC)                                                     \
  __kernel void NAME(__global const float *xp, __global const float *dy, uint dy_off, __global float *part, \
                     uint rows, SCL_NARROW_SHAPE) {                                                \
    const uint rs = r * s, kb = (k + TM - 1) / TM, cb = (c + TC - 1) / TC, groups = (p + rows - 1) / rows; \
    const uint id = get_global_id(0);                                                              \
    if (id >= cb * kb * nb * groups) return;                                                       \
    const uint c0 = id % cb * TC, k0 = id / cb % kb * TM, ig = id / (cb * kb), img = ig / groups;  \
    const uint op0 = ig % groups * rows, op1 = min(op0 + rows, p);                                 \
    const size_t plane = (size_t)hq * wq;                                                          \
    SCL_TAP_OFFSETS(off);                                                                          \
    __global const float *dr[TM];                                                                  \
    _Pragma("unroll") for (int t = 0; t < TM; t++)                                                 \
      dr[t] = dy + dy_off + ((size_t)img * k + min(k0 + t, k - 1)) * p * q;                        \
    /* The next work-item's dy: the hardware prefetcher misses the start of its TM channel streams, \
       and PoCL runs a group's items in turn on one core. Taps 1..TM each fetch one of its channels \
       (tap 0 reads this item's dy from memory; taps 1.. read it from the caches). */              \
    const uint nid = id + 1, nk0 = nid / cb % kb * TM, nig = nid / (cb * kb);                      \
    const int pf_ok = nid < cb * kb * nb * groups && (nk0 != k0 || nig != ig) && nk0 + TM <= k;     \
    __global const float *pf = dy + dy_off + ((size_t)(nig / groups) * k + nk0) * p * q + (size_t)(nig % groups) * rows * q; \
    for (uint tap = 0; tap < rs; tap++) {                                                          \
      __global const float *xr[TC];                                                                \
      _Pragma("unroll") for (int u = 0; u < TC; u++)                                               \
        xr[u] = xp + (size_t)(img * c + min(c0 + u, c - 1)) * sh * sw * plane + off[tap];          \
      float16 acc[TM][TC];                                                                         \
      _Pragma("unroll") for (int t = 0; t < TM; t++)                                               \
        _Pragma("unroll") for (int u = 0; u < TC; u++) acc[t][u] = (float16)(0.0f);                \
      /* per step, TC vectors of x, then one dy vector at a time: TM·TC + TC + 1 registers, where   \
         TM dy vectors at once spilled accumulators */                                             \
      for (uint op = op0; op < op1; op++) {                                                        \
        if (tap >= 1 && tap <= TM && pf_ok) {                                                       \
          __global const float *pr_ = pf + (size_t)(tap - 1) * p * q + (size_t)(op - op0) * q;     \
          for (uint j = 0; j < q; j += 16) SCL_PREFETCH(pr_ + j);                                     \
        }                                                                                          \
        uint oq = 0;                                                                               \
        for (; oq + 16 <= q; oq += 16) SCL_NARROW_FILTER_STEP(TM, TC, vload16(0, dr[t] + (size_t)op * q + oq)); \
        if (oq < q) SCL_NARROW_FILTER_STEP(TM, TC, scl_ragged_load16(dr[t] + (size_t)op * q + oq, q - oq)); \
      }                                                                                            \
      __global float *out = part + (((size_t)ig * k + k0) * c + c0) * rs + tap;                    \
      _Pragma("unroll") for (int t = 0; t < TM; t++)                                               \
        _Pragma("unroll") for (int u = 0; u < TC; u++) {                                           \
          if (k0 + t >= k || c0 + u >= c) continue;                                                \
          out[((size_t)t * c + u) * rs] = scl_sum16(acc[t][u]);                                    \
        }                                                                                          \
    }                                                                                              \
  }

SCL_NARROW_FORWARD_KERNEL(conv_narrow_forward_8x48, 8, 3)
SCL_NARROW_FILTER_KERNEL(conv_narrow_filter_8x3, 8, 3)

/* dw[e] = Σ over the nb parts (images x row groups) of part[i][e], e < len (= K·C·R·S). */
__kernel void conv_narrow_sum(__global const float *part, uint nb, uint len, __global float *dw, uint dw_off) {
  const uint e = get_global_id(0);
  if (e >= len) return;
  float sum = 0.0f;
  for (uint i = 0; i < nb; i++) sum += part[(size_t)i * len + e];
  dw[dw_off + e] = sum;
}
