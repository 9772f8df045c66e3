/* PReLU with one slope per channel (lib/ops/prelu.c), x seen as [batch][channels][inner]. Both
   passes take 16 elements per work-item step, whole vectors where a row allows. On SphereFace-20's
   activations (2-core Intel CPU under PoCL, bytes read and written per second) one element per
   item, with a division per element to find its channel, ran the forward at 7.7-8.6 GB/s and the
   backward at 2.6-3.9; vectors run them at 15-18 and 13-22 (conv4's 7x6 rows, a third of whose
   vectors are ragged: 5.6-6.2), and PReLU's share of a training step's samples fell from 13% to
   3%. */

#define SCL_LANES ((int16)(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15))

/* y = x > 0 ? x : slope[c]·x, elements [16·id, 16·id + 16) of x. Rows of at least 16 floats put at
   most two channels in a vector: two slopes and a select. Shorter rows (x [N,C]: inner 1) find
   each lane's channel by division. */
__kernel void prelu_forward(__global const float *x, uint x_off, __global const float *slope, uint slope_off,
                            __global float *y, uint y_off, uint count, uint channels, uint inner) {
  const uint i0 = get_global_id(0) * 16;
  if (i0 >= count) return;
  const uint n = min(16u, count - i0), row = i0 / inner;
  float16 a;
  if (inner >= 16) {
    const uint split = min(16u, inner - (i0 - row * inner)); /* lanes from here on: the next row */
    const float a0 = slope[slope_off + row % channels];
    const float a1 = split < 16 ? slope[slope_off + (row + 1) % channels] : a0;
    a = select((float16)(a0), (float16)(a1), SCL_LANES >= (int16)(split));
  } else {
    float e[16];
    for (uint j = 0; j < 16; j++) e[j] = slope[slope_off + (i0 + min(j, n - 1)) / inner % channels];
    a = vload16(0, e);
  }
  const float16 v = scl_load16_upto(x + x_off + i0, n);
  scl_store16_upto(select(a * v, v, v > 0.0f), y + y_off + i0, n);
}

/* Group g = part·channels + c covers channel c of samples [part·chunk, part·chunk + chunk) ∩ [0, batch):
   dx = x > 0 ? dy : slope[c]·dy there (when has_dx), and, when has_dslope, sums[sums_off + g] =
   Σ dy·x over its elements with x <= 0 (Caffe's rule). The host adds the parts of each channel with
   prelu_sum_parts (or, with one part, sums IS dslope). The group walks the 16-float vectors (n, v)
   of its rows, v < ⌈inner/16⌉ (the last one of a row ragged), get_local_size(0) at a time with
   carried counters, so no division runs in the loop and a small inner (even 1, for x [N,C]) keeps
   every work-item busy. A ragged vector's missing lanes read x = dy = 0 and add nothing. */
__kernel void prelu_backward(__global const float *x, uint x_off, __global const float *slope, uint slope_off,
                             __global const float *dy, uint dy_off, __global float *dx, uint dx_off,
                             __global float *sums, uint sums_off, uint batch, uint channels, uint inner, uint chunk,
                             uint has_dx, uint has_dslope, __local float *part) {
  const uint g = get_group_id(0), c = g % channels, p = g / channels;
  const uint lid = get_local_id(0), ls = get_local_size(0), vpr = (inner + 15) / 16;
  uint n = p * chunk + lid / vpr, v = lid % vpr;
  const uint n_end = min(batch, p * chunk + chunk), step_n = ls / vpr, step_v = ls % vpr;
  const float a = slope[slope_off + c];
  float16 s = (float16)(0.0f);
  while (n < n_end) {
    const uint i = (n * channels + c) * inner + 16 * v, len = min(16u, inner - 16 * v);
    const float16 xv = scl_load16_upto(x + x_off + i, len), d = scl_load16_upto(dy + dy_off + i, len);
    if (has_dx) scl_store16_upto(select(a * d, d, xv > 0.0f), dx + dx_off + i, len);
    s += select(d * xv, (float16)(0.0f), xv > 0.0f);
    n += step_n;
    v += step_v;
    if (v >= vpr) v -= vpr, n++;
  }
  if (!has_dslope) return; /* uniform over the group: no barrier is split */
  float total = scl_group_sum(scl_sum16(s), part); /* a tree in local memory (kernels/common.cl) */
  if (lid == 0) sums[sums_off + g] = total;
}

/* dslope[c] = Σ_p sums[p·channels + c], one work-item per channel, always in the same order. */
__kernel void prelu_sum_parts(__global const float *sums, uint sums_off, __global float *dslope, uint dslope_off,
                              uint channels, uint parts) {
  uint c = get_global_id(0);
  if (c >= channels) return;
  float s = 0.0f;
  for (uint p = 0; p < parts; p++) s += sums[sums_off + p * channels + c];
  dslope[dslope_off + c] = s;
}
