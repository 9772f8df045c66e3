/* Elementwise kernels of lib/ops/add.c and lib/ops/sgd.c: one work-item per element. */

/* y = a + b. y may be a or b (same buffer and offset): each item reads its element before writing it. */
__kernel void add(__global const float *a, uint a_off, __global const float *b, uint b_off, __global float *y,
                  uint y_off, uint count) {
  uint i = get_global_id(0);
  if (i < count) y[y_off + i] = a[a_off + i] + b[b_off + i];
}

/* Caffe's SGD with momentum and L2 weight decay, in Caffe's order:
   g = dw + decay·w;  h = momentum·h + lr·g;  w = w − h.  dw is only read. */
__kernel void sgd_update(__global float *w, uint w_off, __global const float *dw, uint dw_off, __global float *h,
                         uint h_off, uint count, float lr, float momentum, float decay) {
  uint i = get_global_id(0);
  if (i >= count) return;
  float wv = w[w_off + i];
  float g = dw[dw_off + i] + decay * wv;
  float hv = momentum * h[h_off + i] + lr * g;
  h[h_off + i] = hv;
  w[w_off + i] = wv - hv;
}
