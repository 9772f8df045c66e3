/* Convolutions as implicit GEMMs (lib/ops/conv2d_direct.c): the im2col matrix is never written;
   each work-item reads the input pixels its tile needs straight from x (or dy), so a layer costs
   the GEMM's FMAs and no pass over a 9x larger column matrix. Written for CPUs under PoCL, where
   spherecl's GEMM kernel (kernels/gemm.cl) sets the pattern: a TM x 16·TV tile of the result in
   TM·TV float16 registers, per step TV vector loads of a row of weights (or of dyᵀ) and TM
   broadcasts, fully unrolled, no local memory, no barrier. The vectors run along the channels,
   whose rows the host lays out contiguously and padded with zeros to kp (a multiple of 16·TV), so
   every vector load is whole; the broadcasts are the gathered pixels.

   Zero padding: for each filter tap the forward and backward-data kernels point each pixel of the
   tile either into the image or, where the tap falls outside it, into `zeros`, a buffer of zeros
   as long as one image's channels: the loop over channels then reads both at the same offsets,
   with no mask and no branch (the first version multiplied by a 0/1 mask on border tiles, a
   second loop that every tile of conv4.1, whose 6-pixel rows all touch the border, ran).

   Layouts (made by conv_weights_by_tap / conv_dy_by_pos below):
     forward      y  [n][K][P][Q]   from wk  [kp/VW][R·S][C][VW]  (kp ≥ K)    vectors along K
     backward dx  dx [n][C][H][W]   from wc  [kp/VW][R·S][K][VW]  (kp ≥ C)    vectors along C
     backward dw  dw [K][C][R][S]   from dyp [kp/VW][n·P·Q][VW]   (kp ≥ K)    vectors along K
   strip by strip (VW = 16·TV channels, a work-item's): the rows one work-item steps through are
   consecutive. (Rows kp apart, 2 KB on conv4.1, fell into a few cache sets and evicted each
   other: the forward waited on the weight loads.) */

/* Pixel j of a batch of rows x cols grids: image img, row a, column b. A tile finds its first
   pixel so, and the next ones with scl_grid_next: 3 divisions a pixel had been 5 % of conv2.1's
   backward data, by perf's samples. */
static inline void scl_grid_at(uint j, uint rows, uint cols, uint *img, uint *a, uint *b) {
  *img = j / (rows * cols);
  const uint o = j - *img * (rows * cols);
  *a = o / cols, *b = o - *a * cols;
}

/* The pixel after (img, a, b), in the same order. */
static inline void scl_grid_next(uint *img, uint *a, uint *b, uint rows, uint cols) {
  if (++*b == cols) {
    *b = 0;
    if (++*a == rows) *a = 0, ++*img;
  }
}

/* One step of a tile: TV vectors of the row at bp, TM broadcasts a(t) (t = 0..TM-1). */
#define SCL_TILE_STEP(TM, TV, acc, bp, a)                                                          \
  do {                                                                                             \
    float16 bv_[TV];                                                                               \
    _Pragma("unroll") for (int v_ = 0; v_ < TV; v_++) bv_[v_] = vload16(v_, bp);                   \
    _Pragma("unroll") for (int t = 0; t < TM; t++) {                                               \
      const float16 av_ = (float16)(a);                                                            \
      _Pragma("unroll") for (int v_ = 0; v_ < TV; v_++) acc[t][v_] = fma(av_, bv_[v_], acc[t][v_]); \
    }                                                                                              \
  } while (0)

/* Stores the tile: for each row t with ROW_OK and each channel ch_ = c0 + 16·v_ + i_ below limit,
   STORE, a statement of the pointer o_ = BASE + ch_·STRIDE (BASE: an expression of t), ch_ and
   the value e_[i_]. The pointer advances by STRIDE: LLVM vectorized an address computed per
   channel into scatters fed by 64-bit multiplies, a third of conv2.1's backward data. (`continue`,
   not `break`, past the last row: LLVM does not fully unroll a loop with a second exit, and acc
   then lives in memory.) A whole strip, every strip of SphereFace's layers, takes a fully unrolled
   path with no counter and no bound: the rolled loop had been a quarter of the samples of conv2.1's
   backward data, whose items sum only 128-512 products per pixel before they store. */
#define SCL_TILE_STORE(TM, TV, acc, c0, limit, ROW_OK, BASE, STRIDE, STORE)                        \
  const int full_ = (c0) + 16 * TV <= (limit);                                                     \
  _Pragma("unroll") for (int t = 0; t < TM; t++) {                                                 \
    if (!(ROW_OK)) continue;                                                                       \
    __global float *o_ = (BASE) + (size_t)(c0) * (STRIDE);                                         \
    _Pragma("unroll") for (int v_ = 0; v_ < TV; v_++) {                                            \
      float e_[16];                                                                                \
      vstore16(acc[t][v_], 0, e_);                                                                 \
      if (full_) {                                                                                 \
        _Pragma("unroll") for (uint i_ = 0; i_ < 16; i_++, o_ += (STRIDE)) {                       \
          const uint ch_ = (c0) + 16 * v_ + i_;                                                    \
          STORE;                                                                                   \
        }                                                                                          \
        continue;                                                                                  \
      }                                                                                            \
      _Pragma("clang loop vectorize(disable)")                                                     \
      for (uint i_ = 0; i_ < 16 && (c0) + 16 * v_ + i_ < (limit); i_++, o_ += (STRIDE)) {          \
        const uint ch_ = (c0) + 16 * v_ + i_;                                                      \
        STORE;                                                                                     \
      }                                                                                            \
    }                                                                                              \
  }

/* Fetches the lines that SCL_TILE_STORE (same BASE and STRIDE) will write, for writing: those of
   rows 0, TM/2 and TM-1 of each channel. Issued before a tile's sums, they overlap the reads for
   ownership of the destination's lines with the FMAs, where the stores would otherwise wait for
   them with a full store buffer. */
#define SCL_TILE_PREFETCH_WRITE(TM, TV, c0, limit, BASE, STRIDE)                                   \
  _Pragma("unroll") for (int e_ = 0; e_ < 3; e_++) {                                               \
    const int t = e_ * (TM - 1) / 2;                                                               \
    __global float *o_ = (BASE) + (size_t)(c0) * (STRIDE);                                         \
    for (uint i_ = 0; i_ < 16 * TV && (c0) + i_ < (limit); i_++, o_ += (STRIDE)) SCL_PREFETCH_WRITE(o_); \
  }

#define SCL_TILE_ZERO(TM, TV, acc)                                                                 \
  float16 acc[TM][TV];                                                                             \
  _Pragma("unroll") for (int t = 0; t < TM; t++)                                                   \
    _Pragma("unroll") for (int v_ = 0; v_ < TV; v_++) acc[t][v_] = (float16)(0.0f)

#define SCL_DIRECT_SHAPE                                                                           \
  uint nb, uint k, uint c, uint h, uint w, uint r, uint s, uint p, uint q, uint sh, uint sw, uint ph, uint pw

/* y = conv(x, w) + b. Work-item: TM consecutive output pixels j = (img·P + op)·Q + oq of the
   batch (past the last one they repeat it and are not stored) x 16·TV output channels. The items
   of a block of sb channel strips for the same pixels are consecutive: the pixels come from
   memory once per block, and the block's strips of wk stay in the cache. */
#define SCL_CONV_FORWARD_KERNEL(NAME, TM, TV)                                                      \
  __kernel void NAME(__global const float *x, uint x_off, __global const float *zeros,             \
                     __global const float *wk, uint kp, __global const float *bias, uint bias_off, \
                     uint has_bias, __global float *y, uint y_off, uint sb, SCL_DIRECT_SHAPE) {    \
    const uint pq = p * q, npix = nb * pq, mt = (npix + TM - 1) / TM, id = get_global_id(0);      \
    const uint strip = id / (mt * sb) * sb + id % sb;                                              \
    if (strip >= kp / (16 * TV) || id / sb % mt * TM >= npix) return;                              \
    const uint j0 = id / sb % mt * TM, k0 = strip * 16 * TV;                                       \
    const size_t hw = (size_t)h * w;                                                               \
    size_t img_off[TM];                                                                            \
    int iy[TM], ix[TM];                                                                            \
    __global float *yo[TM];                                                                        \
    uint img, op, oq;                                                                              \
    scl_grid_at(j0, p, q, &img, &op, &oq);                                                         \
    _Pragma("unroll") for (int t = 0; t < TM; t++) {                                               \
      img_off[t] = x_off + img * c * hw;                                                           \
      iy[t] = (int)(op * sh) - (int)ph, ix[t] = (int)(oq * sw) - (int)pw;                          \
      yo[t] = y + y_off + (size_t)img * k * pq + op * q + oq;                                      \
      if (j0 + t + 1 < npix) scl_grid_next(&img, &op, &oq, p, q);                                 \
    }                                                                                              \
    SCL_TILE_PREFETCH_WRITE(TM, TV, k0, k, yo[t], pq);                                             \
    SCL_TILE_ZERO(TM, TV, acc);                                                                    \
    for (uint fr = 0; fr < r; fr++)                                                                \
      for (uint fs = 0; fs < s; fs++) {                                                            \
        __global const float *xr[TM];                                                              \
        _Pragma("unroll") for (int t = 0; t < TM; t++) {                                           \
          const int yy = iy[t] + (int)fr, xx = ix[t] + (int)fs;                                    \
          const int in = yy >= 0 && yy < (int)h && xx >= 0 && xx < (int)w;                         \
          xr[t] = in ? x + img_off[t] + (size_t)yy * w + (size_t)xx : zeros;                       \
        }                                                                                          \
        __global const float *bp = wk + ((size_t)strip * r * s + fr * s + fs) * c * (16 * TV);    \
        for (uint ci = 0; ci < c; ci++, bp += 16 * TV) SCL_TILE_STEP(TM, TV, acc, bp, xr[t][ci * hw]); \
      }                                                                                            \
    SCL_TILE_STORE(TM, TV, acc, k0, k, j0 + t < npix, yo[t], pq,                                   \
                   *o_ = e_[i_] + (has_bias ? bias[bias_off + ch_] : 0.0f));                       \
  }

/* dx's pixel t of a backward-data tile, channel 0 (a name for the kernel's locals; undefined after
   the kernels). */
#define SCL_DX_PIXEL(t) (dx + dx_off + img_[t] * c * hw + (py + sh * a_[t]) * w + px + sw * b_[t])

/* dx = the gradient of conv(x, w) by x, from dy. The pixels of one phase (yy mod sh, xx mod sw)
   are reached by the same taps: a work-item takes TM consecutive pixels of one phase's subgrid
   over all images (yy = py + sh·a, xx = px + sw·b; past the last one
   they repeat it and are not stored) x 16·TV input channels, and skips the taps that do not reach
   its phase; the phases of a tile are consecutive items, which read the same rows of dy. (Tiles
   within one row of a phase left conv4.1's 7-pixel rows 7/12 full.) Every dx
   pixel belongs to one item and is written once (0 where no tap reaches it). */
#define SCL_CONV_BACKWARD_DATA_KERNEL(NAME, TM, TV)                                                \
  __kernel void NAME(__global const float *dy, uint dy_off, __global const float *zeros,           \
                     __global const float *wc, uint kp, __global float *dx, uint dx_off, uint sb,  \
                     SCL_DIRECT_SHAPE) {                                                           \
    const uint tiles = (nb * ((h + sh - 1) / sh) * ((w + sw - 1) / sw) + TM - 1) / TM;             \
    const uint phases = sh * sw, id = get_global_id(0);                                            \
    const uint rem = id % (sb * phases * tiles), strip = id / (sb * phases * tiles) * sb + rem % sb;  \
    if (strip >= kp / (16 * TV)) return;                                                           \
    const uint phase = rem / sb % phases, j0 = rem / (sb * phases) * TM, c0 = strip * 16 * TV;     \
    const uint py = phase / sw, px = phase % sw;                                                   \
    if (py >= h || px >= w) return; /* a stride larger than the input */                          \
    const uint hy = (h - py + sh - 1) / sh, wx = (w - px + sw - 1) / sw, npix = nb * hy * wx;      \
    if (j0 >= npix) return;                                                                        \
    const size_t pq = (size_t)p * q;                                                               \
    size_t img_[TM];                                                                               \
    int a_[TM], b_[TM]; /* the pixel's row and column in its phase's subgrid */                    \
    uint img, a, b;                                                                                \
    scl_grid_at(j0, hy, wx, &img, &a, &b);                                                         \
    _Pragma("unroll") for (int t = 0; t < TM; t++) {                                               \
      img_[t] = img, a_[t] = (int)a, b_[t] = (int)b;                                               \
      if (j0 + t + 1 < npix) scl_grid_next(&img, &a, &b, hy, wx);                                 \
    }                                                                                              \
    const size_t hw = (size_t)h * w;                                                               \
    SCL_TILE_PREFETCH_WRITE(TM, TV, c0, c, SCL_DX_PIXEL(t), hw);                                   \
    SCL_TILE_ZERO(TM, TV, acc);                                                                    \
    for (uint fr = 0; fr < r; fr++) {                                                              \
      if (((int)(py + ph) - (int)fr) % (int)sh) continue; /* the tap misses this phase's rows */   \
      /* dy's row: (yy + ph - fr) / sh = a + dr, exactly (no division per pixel and tap) */         \
      const int dr = ((int)(py + ph) - (int)fr) / (int)sh;                                         \
      for (uint fs = 0; fs < s; fs++) {                                                            \
        if (((int)(px + pw) - (int)fs) % (int)sw) continue;                                        \
        const int dc = ((int)(px + pw) - (int)fs) / (int)sw;                                       \
        __global const float *ar[TM];                                                              \
        _Pragma("unroll") for (int t = 0; t < TM; t++) {                                           \
          const int oy = a_[t] + dr, ox = b_[t] + dc;                                              \
          const int in = oy >= 0 && ox >= 0 && oy < (int)p && ox < (int)q;                         \
          ar[t] = in ? dy + dy_off + img_[t] * k * pq + (size_t)oy * q + ox : zeros;               \
        }                                                                                          \
        __global const float *bp = wc + ((size_t)strip * r * s + fr * s + fs) * k * (16 * TV);    \
        for (uint co = 0; co < k; co++, bp += 16 * TV) SCL_TILE_STEP(TM, TV, acc, bp, ar[t][co * pq]); \
      }                                                                                            \
    }                                                                                              \
    SCL_TILE_STORE(TM, TV, acc, c0, c, j0 + t < npix, SCL_DX_PIXEL(t), hw, *o_ = e_[i_]);          \
  }

/* dw (+)= the gradient of conv(x, w) by w, from dyp = dy by position, over images [0, nb).
   Work-item: TM consecutive input channels of one tap (channels past C repeat the last and are
   not stored) x 16·TV output channels; the inner loop runs over the output pixels that read
   inside the image, so it needs no mask. The taps of the same channels are consecutive items,
   which read the same rows of x and the same strip of dyp. */
#define SCL_CONV_BACKWARD_FILTER_KERNEL(NAME, TM, TV)                                              \
  __kernel void NAME(__global const float *x, uint x_off, __global const float *dyp, uint dyp_off, \
                     uint kp, uint dyp_strip, __global float *dw, uint dw_off, uint accumulate,     \
                     SCL_DIRECT_SHAPE) {                                                           \
    const uint ct = (c + TM - 1) / TM, tiles = r * s * ct, id = get_global_id(0);                  \
    if (id >= tiles * (kp / (16 * TV))) return;                                                    \
    const uint tap = id % tiles % (r * s), ci0 = id % tiles / (r * s) * TM, k0 = id / tiles * 16 * TV; \
    const uint fr = tap / s, fs = tap % s;                                                         \
    const size_t hw = (size_t)h * w;                                                               \
    size_t coff[TM];                                                                               \
    _Pragma("unroll") for (int t = 0; t < TM; t++) coff[t] = min(ci0 + t, c - 1) * hw;             \
    /* the output columns whose tap reads inside: oq·sw + fs - pw in [0, w) */                     \
    const uint q_lo = pw > fs ? (pw - fs + sw - 1) / sw : 0;                                       \
    const uint q_hi = w + pw > fs ? min(q, (w + pw - fs - 1) / sw + 1) : 0;                        \
    SCL_TILE_ZERO(TM, TV, acc);                                                                    \
    for (uint img = 0; img < nb; img++)                                                            \
      for (uint op = 0; op < p; op++) {                                                            \
        const int yy = (int)(op * sh + fr) - (int)ph;                                              \
        if (yy < 0 || yy >= (int)h || q_lo >= q_hi) continue;                                      \
        __global const float *xr = x + x_off + img * c * hw + (size_t)yy * w + (q_lo * sw + fs - pw); \
        __global const float *bp = dyp + dyp_off + (size_t)k0 / (16 * TV) * dyp_strip +           \
                                   ((size_t)(img * p + op) * q + q_lo) * (16 * TV);                \
        for (uint oq = q_lo; oq < q_hi; oq++, xr += sw, bp += 16 * TV)                             \
          SCL_TILE_STEP(TM, TV, acc, bp, xr[coff[t]]);                                             \
      }                                                                                            \
    __global float *out = dw + dw_off + (size_t)ci0 * r * s + tap;                                 \
    const size_t crs = (size_t)c * r * s;                                                          \
    SCL_TILE_STORE(TM, TV, acc, k0, k, ci0 + t < c, out + (size_t)t * r * s, crs,                  \
                   *o_ = accumulate ? *o_ + e_[i_] : e_[i_]);                                      \
  }

/* Tiles: TM rows x 16·TV channels (lib/ops/conv2d_direct.c chooses). */
SCL_CONV_FORWARD_KERNEL(conv_forward_8x32, 8, 2)
SCL_CONV_FORWARD_KERNEL(conv_forward_6x64, 6, 4)
SCL_CONV_FORWARD_KERNEL(conv_forward_12x32, 12, 2)
SCL_CONV_BACKWARD_DATA_KERNEL(conv_backward_data_8x32, 8, 2)
SCL_CONV_BACKWARD_DATA_KERNEL(conv_backward_data_6x64, 6, 4)
SCL_CONV_BACKWARD_DATA_KERNEL(conv_backward_data_12x32, 12, 2)
#undef SCL_DX_PIXEL /* it names the backward-data kernels' locals */
SCL_CONV_BACKWARD_FILTER_KERNEL(conv_backward_filter_8x32, 8, 2)
SCL_CONV_BACKWARD_FILTER_KERNEL(conv_backward_filter_6x64, 6, 4)
SCL_CONV_BACKWARD_FILTER_KERNEL(conv_backward_filter_12x32, 12, 2)

/* The vector of f[0], f[stride], ..., f[15·stride]: a column of a block held in private memory (the
   relayouts below load rows whole and store columns). */
static inline float16 scl_strided16(const float *f, uint stride) {
  float16 v;
  _Pragma("unroll") for (uint i = 0; i < 16; i++) ((float *)&v)[i] = f[i * stride];
  return v;
}

/* 3x3 filters (all of SphereFace's): 16 columns' runs of 9 taps, `run` floats apart, loaded whole
   (vload8 and one float each; the runs are consecutive without by_k) and stored as 9 vectors, one
   per tap, `tap_stride` floats apart. The general loop below, one float at a time, became 16-lane
   gathers under PoCL: 0.9-1.3 ms of conv4.1's backward data (about 5 ms), where a plain copy of
   the same bytes took 0.1-0.3; this path made the pass 1.08-1.22x faster. */
static inline void scl_weights_block9(__global const float *src, size_t run, __global float *dst, size_t tap_stride) {
  float f[144];
  _Pragma("unroll") for (uint e = 0; e < 16; e++) {
    vstore8(vload8(0, src + e * run), 0, f + 9 * e);
    f[9 * e + 8] = src[e * run + 8];
  }
  _Pragma("unroll") for (uint tap = 0; tap < 9; tap++) scl_store16(scl_strided16(f + tap, 9), dst + tap * tap_stride);
}

/* The weights w [K][C][R·S] by tap, strip by strip: wk [kp/vw][R·S][C][vw] (by_k: vectors along
   K, the forward's) or wc [kp/vw][R·S][K][vw] (vectors along C, backward data's); columns past K
   (C) zero. A work-item takes 16 columns of one row per tap: it reads 16 short runs of taps (w's
   lines, shared with the items next to it) and writes one vector per tap. (One item per output
   row, reading a column of w scattered over the whole tensor, took a sixth of conv4.1's forward.) */
__kernel void conv_weights_by_tap(__global const float *wt, uint w_off, __global float *out, uint k, uint c, uint rs,
                                  uint kp, uint vw, uint by_k) {
  const uint rows = by_k ? c : k, cols = by_k ? k : c, id = get_global_id(0);
  if (id >= rows * (kp / 16)) return;
  const uint i = id % rows, e0 = id / rows * 16; /* i: the row's input (by_k) or output channel */
  if (rs == 9 && e0 + 16 <= cols) {
    scl_weights_block9(wt + w_off + (by_k ? ((size_t)e0 * c + i) * 9 : ((size_t)i * c + e0) * 9),
                       by_k ? (size_t)c * 9 : 9, out + ((size_t)(e0 / vw) * rs * rows + i) * vw + e0 % vw,
                       (size_t)rows * vw);
    return;
  }
  for (uint tap = 0; tap < rs; tap++) {
    float v[16];
    for (uint e = 0; e < 16; e++) {
      const uint co = by_k ? e0 + e : i, ci = by_k ? i : e0 + e;
      v[e] = e0 + e < cols ? wt[w_off + ((size_t)co * c + ci) * rs + tap] : 0.0f;
    }
    vstore16(vload16(0, v), 0, out + (((size_t)(e0 / vw) * rs + tap) * rows + i) * vw + e0 % vw);
  }
}

/* dy [nb][K][P·Q] by position, strip by strip: dyp [kp/vw][nb·P·Q][vw], columns past K zero. A
   work-item transposes a block of 16 channels x 16 pixels of one image: 16 vector loads along the
   pixels, 16 vector stores along the channels. (One item per pixel, looping over the channels,
   became 16-lane scatters when PoCL vectorized across items: a fifth of conv2.1's filter gradient
   by perf's samples, 6% with the blocks.) */
__kernel void conv_dy_by_pos(__global const float *dy, uint dy_off, __global float *out, uint nb, uint k, uint pq,
                             uint kp, uint vw) {
  const uint blocks = (pq + 15) / 16, id = get_global_id(0);
  if (id >= nb * blocks * (kp / 16)) return;
  const uint e0 = id / (nb * blocks) * 16, img = id % (nb * blocks) / blocks, o0 = id % blocks * 16;
  const uint n = min(16u, pq - o0); /* the pixels of the block */
  float16 t[16];                    /* t[i]: channel e0 + i, pixels o0.. */
  __global const float *src = dy + dy_off + ((size_t)img * k + e0) * pq + o0;
  _Pragma("unroll") for (uint i = 0; i < 16; i++)
    t[i] = e0 + i < k ? scl_load16_upto(src + (size_t)i * pq, n) : (float16)(0.0f);
  __global float *dst = out + ((size_t)(e0 / vw) * nb * pq + (size_t)img * pq + o0) * vw + e0 % vw;
  const float *f = (const float *)t;
  _Pragma("unroll") for (uint j = 0; j < 16; j++) {
    if (j >= n) continue; /* not break: LLVM unrolls no loop with a second exit */
    scl_store16(scl_strided16(f + j, 16), dst + (size_t)j * vw);
  }
}
