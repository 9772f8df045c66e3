/* Biases of conv2d and linear (add, gradient) and the batch/channel axis swap that lets conv2d run
   one GEMM over a whole batch (lib/ops/bias.c launches them).

   Row-grouped launches: a tensor is seen as rows of `cols` contiguous elements, and every
   work-group covers part of ONE row, so the divisions that split the index are the same for the
   whole group. PoCL runs per-element integer divisions at about a tenth of copy speed. */

/* The row and the column of this work-item; 0 when it lies past the end of its row. */
static inline int row_item(uint cols, uint *row, uint *col) {
  uint ls = get_local_size(0), groups_per_row = (cols + ls - 1) / ls, g = get_group_id(0);
  *row = g / groups_per_row;
  *col = (g - *row * groups_per_row) * ls + get_local_id(0);
  return *col < cols;
}

/* y[r][c] += b[c] for r < rows: a linear layer's y [N, M] += b [M]. */
__kernel void bias_add(__global float *y, uint y_off, __global const float *b, uint b_off, uint rows, uint cols) {
  uint r, c;
  if (row_item(cols, &r, &c) && r < rows) y[y_off + r * cols + c] += b[b_off + c];
}

/* y[j][i][c] = x[i][j][c] (+ bias[i] when has_bias) for x [na][nb][nc]: swaps the two outer axes,
   e.g. [N][K][P·Q] <-> [K][N][P·Q]. */
__kernel void swap01(__global const float *x, uint x_off, __global float *y, uint y_off, uint na, uint nb,
                     uint nc, __global const float *bias, uint bias_off, uint has_bias) {
  uint row, c;
  if (!row_item(nc, &row, &c) || row >= na * nb) return;
  uint j = row / na, i = row - j * na; /* y's row (j, i) */
  float v = x[x_off + (i * nb + j) * nc + c];
  y[y_off + row * nc + c] = has_bias ? v + bias[bias_off + i] : v;
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
