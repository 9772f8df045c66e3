/* Biases of conv2d and linear (add, gradient) and the batch/channel axis swap that lets conv2d run
   one GEMM over a whole batch (lib/ops/bias.c launches them).

   Launches are row-grouped (scl_row_item, kernels/common.cl). */

/* y[r][c] += b[c] for r < rows: a linear layer's y [N, M] += b [M]. */
__kernel void bias_add(__global float *y, uint y_off, __global const float *b, uint b_off, uint rows, uint cols) {
  uint r, c;
  if (scl_row_item(cols, &r, &c) && r < rows) y[y_off + r * cols + c] += b[b_off + c];
}

/* y[j][i][c] = x[i][j][c] (+ bias[i] when has_bias) for i < na, j < nb, c < nc: swaps the two outer
   axes, e.g. [N][K][P·Q] <-> [K][N][P·Q]. x's rows i start x_ld apart and y's rows j start y_ld
   apart (na·nc and nb·nc when packed; conv2d's GEMM operands are padded to whole tiles). */
__kernel void swap01(__global const float *x, uint x_off, uint x_ld, __global float *y, uint y_off, uint y_ld,
                     uint na, uint nb, uint nc, __global const float *bias, uint bias_off, uint has_bias) {
  uint row, c;
  if (!scl_row_item(nc, &row, &c) || row >= na * nb) return;
  uint j = row / na, i = row - j * na; /* y's row (j, i) */
  float v = x[x_off + i * x_ld + j * nc + c];
  y[y_off + j * y_ld + i * nc + c] = has_bias ? v + bias[bias_off + i] : v;
}

/* y [cols][rows] = x [rows][cols]ᵀ, y's rows y_ld apart (conv2d's transposed weights, linear's
   small operands). Row-grouped over y's rows, or over x's rows when by_x (the longer rows make the
   fuller work-groups). */
__kernel void transpose(__global const float *x, uint x_off, __global float *y, uint y_off, uint y_ld, uint rows,
                        uint cols, uint by_x) {
  uint a, b;
  if (!scl_row_item(by_x ? cols : rows, &a, &b) || a >= (by_x ? rows : cols)) return;
  uint i = by_x ? a : b, j = by_x ? b : a;
  y[y_off + j * y_ld + i] = x[x_off + i * cols + j];
}

/* y[r][c] = 0 for r < rows, from <= c < ld: the padding columns of a [rows][ld] GEMM operand. */
__kernel void zero_tail(__global float *y, uint y_off, uint rows, uint from, uint ld) {
  uint r, c;
  if (scl_row_item(ld - from, &r, &c) && r < rows) y[y_off + r * ld + from + c] = 0.0f;
}

/* db[k] = Σ_{n,i} dy[n][k][i] for dy [batch][channels][inner]: one work-group per k; each
   work-item sums a strided part of every run of `inner` elements, then a tree in local memory
   (scl_group_sum, kernels/common.cl). */
__kernel void bias_grad(__global const float *dy, uint dy_off, __global float *db, uint db_off, uint batch,
                        uint channels, uint inner, __local float *part) {
  uint k = get_group_id(0), lid = get_local_id(0), ls = get_local_size(0);
  if (k >= channels) return; /* the whole group leaves: no barrier is split */
  float s = 0.0f;
  for (uint n = 0; n < batch; n++) {
    __global const float *run = dy + dy_off + (n * channels + k) * inner;
    for (uint i = lid; i < inner; i += ls) s += run[i];
  }
  float total = scl_group_sum(s, part);
  if (lid == 0) db[db_off + k] = total;
}
