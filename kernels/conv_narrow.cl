/* Convolutions of few input channels (conv1.1: 3) with the vectors along the output pixels
   (lib/ops/conv2d_narrow.c). The implicit GEMMs of conv_direct.cl run their vectors along the
   channels; on 3 channels a vector of 16 would be 13/16 padding, and their sums over C·R·S = 27
   terms are too short to pay for each tap's setup. Here a vector is 16 neighbouring output pixels
   of one row, so the stores are whole vectors and the weights are the broadcasts.

   Work-items. One work-item takes a group of `rows` output rows of one image, for every output
   channel (the host makes enough groups to keep every compute unit busy, and as few as that).

   Phase planes. A stride-2 layer reads every other input pixel of a row; so that those pixels are
   contiguous, each work-item first relays the x rows it needs into its own part xs of a scratch
   buffer, one plane per phase of the stride, with the padding written in as zeros:
     xs [C][sh][sw][hq][wq]:  xs[c][fy][fx][a][b] = x[img][c][(op0 + a)·sh + fy - ph][b·sw + fx - pw]
   (0 outside the image, and past column wn, the last a tap reads), hq = rows + (R - 1) / sh. The
   tap (fr, fs) of the output pixel (op, oq) then reads plane (fr % sh, fs % sw) at
   (op - op0 + fr / sh, oq + fs / sw): for 16 pixels of a row, one vector load, with no mask and no
   branch. wq leaves room for the last vector of a row (the host sizes it). Built by the item that
   reads them, the planes are read back from its core's caches, where a separate pass over the
   whole batch wrote them to memory and the convolution read them back from there (conv1.1, batch
   16, 2-core Intel CPU, against the SGEMM timed beside it, old and new alternating: forward
   0.72-0.77 -> 0.83-0.91, filter gradient 0.59-0.62 -> 0.67-0.69).

   Tiles within an item, in turn: forward, TM output channels x 16·TV pixels (TM·TV float16
   accumulators); filter gradient, TM output channels x TC input channels, every tap, the items'
   parts summed by conv_narrow_sum. */

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

/* Plane rows [a0, a0 + hq) of every phase of the c channels of image img into xs (layout above),
   each image row read once, in order. */
static inline void scl_item_planes(__global const float *x, __global float *xs, uint img, uint a0, uint c, uint h,
                                   uint w, uint sh, uint sw, uint ph, uint pw, uint hq, uint wq, uint wn) {
  const size_t plane = (size_t)hq * wq;
  for (uint ci = 0; ci < c; ci++) {
    __global const float *xc = x + ((size_t)img * c + ci) * h * w;
    __global float *pc = xs + (size_t)ci * sh * sw * plane;
    for (uint fy = 0; fy < sh; fy++) /* rows before and after the image: 0 */
      for (uint a = 0; a < hq; a++) {
        const int yy = (int)((a0 + a) * sh + fy) - (int)ph;
        if (yy < 0 || yy >= (int)h) scl_plane_rows(NULL, pc + (size_t)fy * sw * plane + (size_t)a * wq, plane, w, sw, pw, wq, wn);
      }
    for (uint yy = (uint)max((int)(a0 * sh) - (int)ph, 0); yy < h; yy++) {
      const uint a = (yy + ph) / sh, fy = (yy + ph) % sh;
      if (a >= a0 + hq) break;
      if (a >= a0) scl_plane_rows(xc + (size_t)yy * w, pc + (size_t)fy * sw * plane + (size_t)(a - a0) * wq, plane, w, sw, pw, wq, wn);
    }
  }
}

#define SCL_NARROW_SHAPE                                                                           \
  uint nb, uint k, uint c, uint r, uint s, uint p, uint q, uint sh, uint sw, uint hq, uint wq, uint h, uint w, \
      uint ph, uint pw

/* Filters of at most SCL_NARROW_TAPS taps (R·S; the host checks): the tap loop is unrolled over
   offsets computed once per work-item. */
#define SCL_NARROW_TAPS 9

/* The offsets in xs of the R·S taps from a plane row's start (the layout above), by counting: a
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

/* Every item's start: which rows of which image (img, op0 <= op < op1), its planes built in xs. */
#define SCL_NARROW_ITEM                                                                            \
  const uint groups = (p + rows - 1) / rows, item = get_global_id(0);                              \
  if (item >= nb * groups) return;                                                                 \
  const uint img = item / groups, op0 = item % groups * rows, op1 = min(op0 + rows, p), rs = r * s; \
  const size_t plane = (size_t)hq * wq;                                                            \
  __global float *xs = scratch + (size_t)item * c * sh * sw * plane;                               \
  scl_item_planes(x + x_off, xs, img, op0, c, h, w, sh, sw, ph, pw, hq, wq, q + (s - 1) / sw);     \
  SCL_TAP_OFFSETS(off)

/* y = conv(x, w) + b. Tile: TM output channels k0.. (past K they repeat the last and are not
   stored) x 16·TV pixels oq0.. of the item's rows. */
#define SCL_NARROW_FORWARD_KERNEL(NAME, TM, TV)                                                    \
  __kernel void NAME(__global const float *x, uint x_off, __global float *scratch, __global const float *wt,   \
                     uint w_off, __global const float *bias, uint bias_off, uint has_bias, __global float *y,   \
                     uint y_off, uint rows, SCL_NARROW_SHAPE) {                                    \
    SCL_NARROW_ITEM;                                                                               \
    const uint kb = (k + TM - 1) / TM, chunks = (q + 16 * TV - 1) / (16 * TV);                     \
    for (uint tile = 0; tile < kb * chunks; tile++) {                                              \
      const uint k0 = tile / chunks * TM, oq0 = tile % chunks * 16 * TV;                           \
      float bk[TM];                                                                                \
      __global const float *wk[TM];                                                                \
      _Pragma("unroll") for (int t = 0; t < TM; t++) {                                             \
        wk[t] = wt + w_off + (size_t)min(k0 + t, k - 1) * c * rs;                                  \
        bk[t] = has_bias ? bias[bias_off + min(k0 + t, k - 1)] : 0.0f;                             \
      }                                                                                            \
      /* row op of channel k0 + t: y0 + t·P·Q + op·Q */                                            \
      __global float *y0 = y + y_off + ((size_t)img * k + k0) * p * q + oq0;                       \
      for (uint op = op0; op < op1; op++) {                                                        \
        /* the next row's y lines, fetched for writing while this row's FMAs run: stores that wait \
           for their lines to be read for ownership otherwise fill the store buffer */             \
        if (op + 1 < op1) {                                                                        \
          __global float *yn_ = y0 + (size_t)(op + 1) * q;                                        \
          _Pragma("unroll") for (int t = 0; t < TM; t++)                                           \
            _Pragma("unroll") for (int v = 0; v < TV; v++) SCL_PREFETCH_WRITE(yn_ + (size_t)t * p * q + 16 * v); \
        }                                                                                          \
        float16 acc[TM][TV];                                                                       \
        _Pragma("unroll") for (int t = 0; t < TM; t++)                                             \
          _Pragma("unroll") for (int v = 0; v < TV; v++) acc[t][v] = (float16)(bk[t]);             \
        __global const float *cbase = xs + (size_t)(op - op0) * wq + oq0;                          \
        for (uint ci = 0; ci < c; ci++, cbase += sh * sw * plane) {                                \
          _Pragma("unroll") for (uint tp = 0; tp < SCL_NARROW_TAPS; tp++) {                        \
            if (tp >= rs) continue; /* not break: LLVM unrolls no loop with a second exit */       \
            float16 xv[TV];                                                                        \
            _Pragma("unroll") for (int v = 0; v < TV; v++) xv[v] = vload16(v, cbase + off[tp]);    \
            _Pragma("unroll") for (int t = 0; t < TM; t++) {                                       \
              const float16 wv = (float16)(wk[t][ci * rs + tp]);                                   \
              _Pragma("unroll") for (int v = 0; v < TV; v++) acc[t][v] = fma(wv, xv[v], acc[t][v]); \
            }                                                                                      \
          }                                                                                        \
        }                                                                                          \
        __global float *yo = y0 + (size_t)op * q;                                                  \
        _Pragma("unroll") for (int t = 0; t < TM; t++) {                                           \
          if (k0 + t >= k) continue;                                                               \
          _Pragma("unroll") for (int v = 0; v < TV; v++) {                                         \
            if (oq0 + 16 * v >= q) continue; /* the vector lies past the row's end */              \
            scl_store16_upto(acc[t][v], yo + (size_t)t * p * q + 16 * v, q - oq0 - 16 * v);        \
          }                                                                                        \
        }                                                                                          \
      }                                                                                            \
    }                                                                                              \
  }

/* One item's share of dw: part[item][k][c][tap] = Σ over the item's output rows of
   dy[img][k][op][oq] · x at tap (fr, fs) from (op, oq). Tile: TM output channels x TC input
   channels (past K or C they repeat the last and are not stored); 16 pixels of a row per step, the
   ragged end of a row masked. The rows go in chunks of SCL_NARROW_CHUNK, and each chunk is read
   once per tap: its TM rows of dy (12 KB for conv1.1) stay in the L1 cache from tap to tap, where
   the whole item's (86 KB) came from L2 (conv1.1's filter gradient 0.66-0.69 -> 0.68-0.72 of the
   SGEMM; chunks of 4 and 16 ran the same). Each tap's sums are carried from chunk to chunk in
   `sums`. One flat loop over (chunk, tap): PoCL puts an implicit barrier around a loop of uniform
   trip count nested in one that is not, and then switches work-items once per chunk. */
/* One step of the filter gradient: 16 pixels, at offset XO of the tap's planes (xr); DY(t) is output
   channel t's dy vector. */
#define SCL_NARROW_FILTER_STEP(TM, TC, XO, DY)                                                     \
  do {                                                                                             \
    float16 xv[TC];                                                                                \
    _Pragma("unroll") for (int u = 0; u < TC; u++) xv[u] = vload16(0, xr[u] + (XO));               \
    _Pragma("unroll") for (int t = 0; t < TM; t++) {                                               \
      const float16 dv = DY;                                                                       \
      _Pragma("unroll") for (int u = 0; u < TC; u++) acc[t][u] = fma(dv, xv[u], acc[t][u]);        \
    }                                                                                              \
  } while (0)

#define SCL_NARROW_CHUNK 8 /* output rows */

#define SCL_NARROW_FILTER_KERNEL(NAME, TM, TC)                                                     \
  __kernel void NAME(__global const float *x, uint x_off, __global float *scratch, __global const float *dy,   \
                     uint dy_off, __global float *part, uint rows, SCL_NARROW_SHAPE) {             \
    SCL_NARROW_ITEM;                                                                               \
    const uint kb = (k + TM - 1) / TM, cb = (c + TC - 1) / TC;                                     \
    for (uint tile = 0; tile < kb * cb; tile++) {                                                  \
      const uint k0 = tile / cb * TM, c0 = tile % cb * TC;                                         \
      __global const float *dr[TM];                                                                \
      _Pragma("unroll") for (int t = 0; t < TM; t++)                                               \
        dr[t] = dy + dy_off + ((size_t)img * k + min(k0 + t, k - 1)) * p * q;                      \
      /* The next tile's dy: the hardware prefetcher misses the start of its TM channel streams.   \
         In each chunk, taps 1..TM each fetch the chunk's rows of one of its channels (tap 0 reads \
         this tile's dy from memory; taps 1.. read it from the caches). */                         \
      const int pf_ok = c0 + TC >= c && k0 + 2 * TM <= k;                                          \
      __global const float *pf = dy + dy_off + ((size_t)img * k + k0 + TM) * p * q + (size_t)op0 * q; \
      float16 sums[SCL_NARROW_TAPS][TM][TC];                                                       \
      for (uint tap = 0; tap < rs; tap++)                                                          \
        _Pragma("unroll") for (int t = 0; t < TM; t++)                                             \
          _Pragma("unroll") for (int u = 0; u < TC; u++) sums[tap][t][u] = (float16)(0.0f);        \
      const uint chunks = (op1 - op0 + SCL_NARROW_CHUNK - 1) / SCL_NARROW_CHUNK;                   \
      for (uint step = 0; step < chunks * rs; step++) {                                            \
        const uint chunk = step / rs, tap = step - chunk * rs;                                     \
        const uint r0 = op0 + chunk * SCL_NARROW_CHUNK, r1 = min(r0 + SCL_NARROW_CHUNK, op1);      \
        __global const float *xr[TC];                                                              \
        _Pragma("unroll") for (int u = 0; u < TC; u++)                                             \
          xr[u] = xs + (size_t)min(c0 + u, c - 1) * sh * sw * plane + off[tap];                    \
        float16 acc[TM][TC];                                                                       \
        _Pragma("unroll") for (int t = 0; t < TM; t++)                                             \
          _Pragma("unroll") for (int u = 0; u < TC; u++) acc[t][u] = sums[tap][t][u];              \
        /* The chunk's vectors in one loop, row after row (a loop per row ran 3 steps on conv1.1, \
           and its setup of 11 row pointers took a quarter of the samples); the last vector of a  \
           ragged row is masked, and the next row starts where it ends. Taps 1..TM fetch one      \
           channel of the next tile's dy each, a line per step. */                               \
        __global const float *pfb = pf + (size_t)(tap ? tap - 1 : 0) * p * q - (size_t)op0 * q;   \
        const int pf_tap = tap >= 1 && tap <= TM && pf_ok;                                         \
        size_t dyo = (size_t)r0 * q, xo = (size_t)(r0 - op0) * wq;                                 \
        for (uint oq = 0; dyo < (size_t)r1 * q;) {                                                 \
          if (pf_tap) SCL_PREFETCH(pfb + dyo);                                                     \
          const uint n_ = q - oq; /* floats left in the row */                                     \
          if (n_ >= 16) SCL_NARROW_FILTER_STEP(TM, TC, xo, vload16(0, dr[t] + dyo));                \
          else SCL_NARROW_FILTER_STEP(TM, TC, xo, scl_ragged_load16(dr[t] + dyo, n_));              \
          const uint d_ = min(n_, 16u);                                                            \
          dyo += d_, oq += d_, xo += d_;                                                           \
          if (oq == q) oq = 0, xo += wq - q;                                                       \
        }                                                                                          \
        _Pragma("unroll") for (int t = 0; t < TM; t++)                                             \
          _Pragma("unroll") for (int u = 0; u < TC; u++) sums[tap][t][u] = acc[t][u];              \
      }                                                                                            \
      for (uint tap = 0; tap < rs; tap++) {                                                        \
        __global float *out = part + (((size_t)item * k + k0) * c + c0) * rs + tap;                \
        _Pragma("unroll") for (int t = 0; t < TM; t++)                                             \
          _Pragma("unroll") for (int u = 0; u < TC; u++) {                                         \
            if (k0 + t >= k || c0 + u >= c) continue;                                              \
            out[((size_t)t * c + u) * rs] = scl_sum16(sums[tap][t][u]);                            \
          }                                                                                        \
      }                                                                                            \
    }                                                                                              \
  }

SCL_NARROW_FORWARD_KERNEL(conv_narrow_forward_8x48, 8, 3)
SCL_NARROW_FILTER_KERNEL(conv_narrow_filter_8x3, 8, 3)

/* dw[e] = Σ over the nb parts (one per work-item) of part[i][e], e < len (= K·C·R·S). */
__kernel void conv_narrow_sum(__global const float *part, uint nb, uint len, __global float *dw, uint dw_off) {
  const uint e = get_global_id(0);
  if (e >= len) return;
  float sum = 0.0f;
  for (uint i = 0; i < nb; i++) sum += part[(size_t)i * len + e];
  dw[dw_off + e] = sum;
}
