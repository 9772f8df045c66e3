/* Row L2 normalisation of w [rows][cols] (lib/ops/weightnorm.c): one work-group per row; each
   work-item takes every get_local_size(0)-th run of 4 columns (float4: PoCL then computes on
   vectors; a GPU still reads the row coalesced), then a tree sum in local memory (scl_load4,
   scl_store4, scl_group_sum2: kernels/common.cl). */

/* wn_r = w_r / |w_r| (a zero row gives zeros); norms[r] = |w_r| when has_norms. wn may be w itself:
   a work-item rewrites only the elements it read, after the whole row has been summed. */
__kernel void weightnorm_forward(__global const float *w, uint w_off, __global float *wn, uint wn_off,
                                 __global float *norms, uint norms_off, uint rows, uint cols, uint has_norms,
                                 __local float2 *part) {
  uint r = get_group_id(0), lid = get_local_id(0), step = 4 * get_local_size(0);
  if (r >= rows) return; /* the whole group leaves: no barrier is split */
  __global const float *wr = w + w_off + r * cols;
  __global float *out = wn + wn_off + r * cols;
  float4 ss = (float4)(0.0f);
  for (uint j = 4 * lid; j < cols; j += step) {
    float4 v = scl_load4(wr, j, cols, 0.0f);
    ss += v * v;
  }
  float norm = sqrt(scl_group_sum2((float2)(scl_hsum4(ss), 0.0f), part).x);
  float inv = norm > 0.0f ? 1.0f / norm : 0.0f;
  for (uint j = 4 * lid; j < cols; j += step) scl_store4(out, j, cols, scl_load4(wr, j, cols, 0.0f) * inv);
  if (has_norms && lid == 0) norms[norms_off + r] = norm;
}

/* dw_r = (dwn_r − wn_r (wn_r·dwn_r)) / |w_r| = (dwn_r − w_r (w_r·dwn_r)/|w_r|²) / |w_r|, zero for a
   zero row. Both sums come from one pass over the row. */
__kernel void weightnorm_backward(__global const float *w, uint w_off, __global const float *dwn, uint dwn_off,
                                  __global float *dw, uint dw_off, uint rows, uint cols, __local float2 *part) {
  uint r = get_group_id(0), lid = get_local_id(0), step = 4 * get_local_size(0);
  if (r >= rows) return;
  __global const float *wr = w + w_off + r * cols, *gr = dwn + dwn_off + r * cols;
  __global float *out = dw + dw_off + r * cols;
  float4 ss = (float4)(0.0f), dot = (float4)(0.0f);
  for (uint j = 4 * lid; j < cols; j += step) {
    float4 v = scl_load4(wr, j, cols, 0.0f);
    ss += v * v;
    dot += v * scl_load4(gr, j, cols, 0.0f);
  }
  float2 s = scl_group_sum2((float2)(scl_hsum4(ss), scl_hsum4(dot)), part);
  float norm = sqrt(s.x);
  float inv = norm > 0.0f ? 1.0f / norm : 0.0f, proj = norm > 0.0f ? s.y / s.x : 0.0f;
  for (uint j = 4 * lid; j < cols; j += step)
    scl_store4(out, j, cols, (scl_load4(gr, j, cols, 0.0f) - scl_load4(wr, j, cols, 0.0f) * proj) * inv);
}
