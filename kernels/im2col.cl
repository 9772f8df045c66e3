/* im2col and col2im of conv2d in the layouts its GEMMs want (lib/ops/conv2d.c launches them).

   The columns of nb images form a matrix with one row per filter tap crs = (c·R + r)·S + s and one
   column per output position j = img·P·Q + p·Q + q (j < cols = nb·P·Q); columns cols..ld-1 are
   zeros, so that a GEMM over ld columns runs on whole tiles and needs no padding copy.
   Two layouts of that matrix:
     by tap:       [CRS][ld]  (element (crs, j) at crs·ld + j)   forward's B, bwd-data's C
     by position:  [ld][CRS]  (element (crs, j) at j·CRS + crs)  bwd-filter's B
   The im2col kernels leave the padding to scl__zero_tail. Each work-item writes a run of
   contiguous elements, so that the integer divisions that split its index (slow on PoCL) are paid
   once per run. */

/* The shape of one convolution, packed so that both kernels take the same argument list. */
typedef struct {
  uint c, h, w;      /* input channels and size */
  uint r, s;         /* filter size */
  uint p, q;         /* output size */
  uint sh, sw, ph, pw;
} scl_conv;

static inline scl_conv conv_of(uint c, uint h, uint w, uint r, uint s, uint p, uint q, uint sh, uint sw, uint ph,
                               uint pw) {
  scl_conv g = {c, h, w, r, s, p, q, sh, sw, ph, pw};
  return g;
}

#define SCL_CONV_ARGS                                                                              \
  uint c, uint h, uint w, uint r, uint s, uint p, uint q, uint sh, uint sw, uint ph, uint pw

/* The input pixel a tap reads for output (op, oq), or 0 outside the image (the zero padding). */
static inline float tap(__global const float *xc, scl_conv g, uint fr, uint fs, uint op, uint oq) {
  int y = (int)(op * g.sh + fr) - (int)g.ph, x = (int)(oq * g.sw + fs) - (int)g.pw;
  return y >= 0 && y < (int)g.h && x >= 0 && x < (int)g.w ? xc[(uint)y * g.w + (uint)x] : 0.0f;
}

/* col [CRS][ld] (by-tap layout) of images x[0..nb): one work-item per (tap, image, output row)
   writes that row's Q contiguous columns, so the index is split once per Q elements. */
__kernel void im2col_by_tap(__global const float *x, uint x_off, __global float *col, uint col_off, SCL_CONV_ARGS,
                            uint nb, uint ld) {
  scl_conv g = conv_of(c, h, w, r, s, p, q, sh, sw, ph, pw);
  uint id = get_global_id(0), rs = g.r * g.s;
  if (id >= g.c * rs * nb * g.p) return;
  uint op = id % g.p, t = id / g.p, img = t % nb, crs = t / nb;
  uint ch = crs / rs, fr = (crs - ch * rs) / g.s, fs = crs - ch * rs - fr * g.s;
  __global const float *xc = x + x_off + (img * g.c + ch) * g.h * g.w;
  __global float *out = col + col_off + crs * ld + (img * g.p + op) * g.q;
  for (uint oq = 0; oq < g.q; oq++) out[oq] = tap(xc, g, fr, fs, op, oq);
}

/* colT [ld][CRS] (by-position layout) of images x[0..nb): one work-item per (output position,
   channel) writes that channel's R·S contiguous taps. */
__kernel void im2col_by_pos(__global const float *x, uint x_off, __global float *col, uint col_off, SCL_CONV_ARGS,
                            uint nb) {
  scl_conv g = conv_of(c, h, w, r, s, p, q, sh, sw, ph, pw);
  uint id = get_global_id(0), pq = g.p * g.q;
  if (id >= nb * pq * g.c) return;
  uint ch = id % g.c, j = id / g.c, img = j / pq, o = j - img * pq, op = o / g.q, oq = o - op * g.q;
  __global const float *xc = x + x_off + (img * g.c + ch) * g.h * g.w;
  __global float *out = col + col_off + j * g.c * g.r * g.s + ch * g.r * g.s;
  for (uint fr = 0; fr < g.r; fr++)
    for (uint fs = 0; fs < g.s; fs++) out[fr * g.s + fs] = tap(xc, g, fr, fs, op, oq);
}

/* dx of nb images from dcol [CRS][ld] (by-tap layout): one work-item per input row (image,
   channel, y) gathers, for each of its W pixels, the taps that read it; every dx element is
   written once (no atomics), so dx need not be zeroed first. The taps that reach a pixel are
   fr ≡ y + ph and fs ≡ x + pw (mod stride), each step of sh (sw) one output row (column) back;
   the residues are found once per row and then carried along x, so the loops divide nothing (an
   integer division per tap made stride-2 layers' backward data 3x slower on PoCL). */
__kernel void col2im(__global const float *dcol, uint dcol_off, __global float *dx, uint dx_off, SCL_CONV_ARGS,
                     uint nb, uint ld) {
  scl_conv g = conv_of(c, h, w, r, s, p, q, sh, sw, ph, pw);
  uint id = get_global_id(0);
  if (id >= nb * g.c * g.h) return;
  uint yh = id % g.h, t = id / g.h, ch = t % g.c, img = t / g.c;
  __global const float *base = dcol + dcol_off + ch * g.r * g.s * ld + img * g.p * g.q;
  __global float *out = dx + dx_off + id * g.w;
  uint ry = yh + g.ph, fr0 = ry % g.sh, op0 = ry / g.sh; /* tap fr0 reads output row op0 */
  uint qb = g.pw / g.sw, rem = g.pw % g.sw;            /* for x = 0: tap rem reads column qb */
  for (uint xw = 0; xw < g.w; xw++) {
    float sum = 0.0f;
    /* op and oq count down from op0 and qb; past 0 they wrap to huge values and fail the tests */
    for (uint fr = fr0, op = op0; fr < g.r; fr += g.sh, op--) {
      if (op >= g.p) continue;
      for (uint fs = rem, oq = qb; fs < g.s; fs += g.sw, oq--)
        if (oq < g.q) sum += base[(fr * g.s + fs) * ld + op * g.q + oq];
    }
    out[xw] = sum;
    if (++rem == g.sw) rem = 0, qb++;
  }
}
