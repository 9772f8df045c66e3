/* PReLU with one slope per channel (lib/ops/prelu.c), x seen as [batch][channels][inner]. */

/* y = x > 0 ? x : slope[c]·x, one work-item per element. The per-element division that finds the
   channel is this kernel's main cost on PoCL (about 3.5 GB/s where a copy runs at 30-40: integer
   division does not vectorise); the alternatives tried (row-grouped launches, multiply-shift
   division) were faster for some shapes only, and far slower for x [N,C]. */
__kernel void prelu_forward(__global const float *x, uint x_off, __global const float *slope, uint slope_off,
                            __global float *y, uint y_off, uint count, uint channels, uint inner) {
  uint i = get_global_id(0);
  if (i >= count) return;
  float v = x[x_off + i];
  y[y_off + i] = v > 0.0f ? v : slope[slope_off + (i / inner) % channels] * v;
}

/* Group g = part·channels + c covers channel c of samples [part·chunk, part·chunk + chunk) ∩ [0, batch):
   dx = x > 0 ? dy : slope[c]·dy there (when has_dx), and, when has_dslope, sums[sums_off + g] =
   Σ dy·x over its elements with x <= 0 (Caffe's rule). The host adds the parts of each channel with
   prelu_sum_parts (or, with one part, sums IS dslope). The group walks its elements (n, k), k < inner,
   get_local_size(0) at a time with carried counters, so no division runs in the loop and a small inner
   (even 1, for x [N,C]) keeps every work-item busy. */
__kernel void prelu_backward(__global const float *x, uint x_off, __global const float *slope, uint slope_off,
                             __global const float *dy, uint dy_off, __global float *dx, uint dx_off,
                             __global float *sums, uint sums_off, uint batch, uint channels, uint inner, uint chunk,
                             uint has_dx, uint has_dslope, __local float *part) {
  uint g = get_group_id(0), c = g % channels, p = g / channels;
  uint lid = get_local_id(0), ls = get_local_size(0);
  uint n = p * chunk + lid / inner, k = lid % inner, n_end = min(batch, p * chunk + chunk);
  uint step_n = ls / inner, step_k = ls % inner;
  float a = slope[slope_off + c], s = 0.0f;
  while (n < n_end) {
    uint i = (n * channels + c) * inner + k;
    float xv = x[x_off + i], d = dy[dy_off + i];
    if (has_dx) dx[dx_off + i] = xv > 0.0f ? d : a * d;
    if (xv <= 0.0f) s += d * xv;
    n += step_n;
    k += step_k;
    if (k >= inner) k -= inner, n++;
  }
  if (!has_dslope) return; /* uniform over the group: no barrier is split */
  float total = scl_group_sum(s, part); /* a tree in local memory (kernels/common.cl) */
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
