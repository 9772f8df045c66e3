/* Softmax cross-entropy over rows of logits [rows][cols] (lib/ops/softmax_xent.c), as Caffe's
   SoftmaxWithLoss + Accuracy (top 1): one work-group per row; each work-item takes every
   get_local_size(0)-th run of 4 columns of the row (float4: PoCL then runs exp on vectors; a GPU
   still reads the row coalesced). The row, 41 KB for 10572 classes, stays in cache for the three
   sweeps. The group reductions and the 4-column loads and stores are kernels/common.cl's. */

/* Row r with label y (checked by the host to lie in [0, cols)):
     m = max_j z_j;  s = Σ_j e^(z_j − m);  p_j = e^(z_j − m) / s
     row_out[r]        = −log(max(p_y, FLT_MIN)) = min(log s − (z_y − m), −log FLT_MIN)
     row_out[rows + r] = 1 if z_y > z_j for every j ≠ y, else 0 (a tie is wrong, as Caffe's Accuracy)
     dlogits_r         = (p − onehot(y)) · inv_rows          when has_d
   The loss uses the log-sum-exp form, which equals Caffe's clamped −log p without rounding p first. */
__kernel void softmax_xent(__global const float *logits, uint logits_off, __global const int *labels, uint labels_off,
                           __global float *dlogits, uint d_off, __global float *row_out, uint rows, uint cols,
                           uint has_d, float inv_rows, __local float *part) {
  uint r = get_group_id(0), lid = get_local_id(0), step = 4 * get_local_size(0);
  if (r >= rows) return; /* the whole group leaves: no barrier is split */
  __global const float *z = logits + logits_off + r * cols;
  int y = labels[labels_off + r];
  float zy = z[y];
  const int4 lane = (int4)(0, 1, 2, 3);

  float4 other4 = (float4)(-INFINITY); /* the largest logit but the label's */
  for (uint j = 4 * lid; j < cols; j += step)
    other4 = fmax(other4, select(scl_load4(z, j, cols, -INFINITY), (float4)(-INFINITY), (int)j + lane == y));
  float other = scl_group_max(fmax(fmax(other4.s0, other4.s1), fmax(other4.s2, other4.s3)), part);
  float m = fmax(other, zy);

  float4 s4 = (float4)(0.0f);
  for (uint j = 4 * lid; j < cols; j += step) s4 += exp(scl_load4(z, j, cols, -INFINITY) - m);
  float s = scl_group_sum(scl_hsum4(s4), part);

  if (has_d) {
    __global float *d = dlogits + d_off + r * cols;
    float inv_s = 1.0f / s;
    for (uint j = 4 * lid; j < cols; j += step) {
      float4 p = exp(scl_load4(z, j, cols, -INFINITY) - m) * inv_s;
      scl_store4(d, j, cols, (p - select((float4)(0.0f), (float4)(1.0f), (int)j + lane == y)) * inv_rows);
    }
  }
  if (lid == 0) {
    float loss = log(s) - (zy - m), cap = -log(FLT_MIN);
    row_out[r] = loss > cap ? cap : loss; /* a NaN stays NaN */
    row_out[rows + r] = zy > other ? 1.0f : 0.0f;
  }
}
