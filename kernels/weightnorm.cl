/* Row L2 normalisation of w [rows][cols] (lib/ops/weightnorm.c): one work-group per row; each
   work-item takes every get_local_size(0)-th run of 4 columns (float4: PoCL then computes on
   vectors; a GPU still reads the row coalesced), then a tree sum in local memory. */

/* Σ of v over the work-group, returned to every work-item. part holds get_local_size(0) values and is
   free again on return. Any group size, not only powers of two. */
static float2 group_sum2(float2 v, __local float2 *part) {
  uint lid = get_local_id(0);
  part[lid] = v;
  barrier(CLK_LOCAL_MEM_FENCE);
  for (uint w = get_local_size(0); w > 1;) {
    uint h = (w + 1) / 2;
    if (lid < w - h) part[lid] += part[lid + h];
    barrier(CLK_LOCAL_MEM_FENCE);
    w = h;
  }
  float2 total = part[0];
  barrier(CLK_LOCAL_MEM_FENCE);
  return total;
}

/* Columns j..j+3 of row p (cols long); those past the end read as 0. */
static float4 load4(__global const float *p, uint j, uint cols) {
  if (j + 4 <= cols) return vload4(0, p + j);
  float4 v = (float4)(0.0f);
  if (j < cols) v.s0 = p[j];
  if (j + 1 < cols) v.s1 = p[j + 1];
  if (j + 2 < cols) v.s2 = p[j + 2];
  return v;
}

/* Stores columns j..j+3 of row p, those before the end. */
static void store4(__global float *p, uint j, uint cols, float4 v) {
  if (j + 4 <= cols) {
    vstore4(v, 0, p + j);
    return;
  }
  if (j < cols) p[j] = v.s0;
  if (j + 1 < cols) p[j + 1] = v.s1;
  if (j + 2 < cols) p[j + 2] = v.s2;
}

static float hsum(float4 v) { return (v.s0 + v.s1) + (v.s2 + v.s3); }

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
    float4 v = load4(wr, j, cols);
    ss += v * v;
  }
  float norm = sqrt(group_sum2((float2)(hsum(ss), 0.0f), part).x);
  float inv = norm > 0.0f ? 1.0f / norm : 0.0f;
  for (uint j = 4 * lid; j < cols; j += step) store4(out, j, cols, load4(wr, j, cols) * inv);
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
    float4 v = load4(wr, j, cols);
    ss += v * v;
    dot += v * load4(gr, j, cols);
  }
  float2 s = group_sum2((float2)(hsum(ss), hsum(dot)), part);
  float norm = sqrt(s.x);
  float inv = norm > 0.0f ? 1.0f / norm : 0.0f, proj = norm > 0.0f ? s.y / s.x : 0.0f;
  for (uint j = 4 * lid; j < cols; j += step)
    store4(out, j, cols, (load4(gr, j, cols) - load4(wr, j, cols) * proj) * inv);
}
