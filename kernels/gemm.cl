/* spherecl's own SGEMM (lib/blas/gemm_own.c), for devices where it beats CLBlast's kernels: on
   PoCL CLBlast's Xgemm tops out at ~100-125 GFLOP/s on two AVX-512 cores, where this reaches ~300.
   Row-major C = alpha·op(A)·B + beta·C for `batch` problems at fixed strides; op(A)[i][p] is
   a[i·a_si + p·a_sp] (A as stored: a_si = lda, a_sp = 1; transposed: a_si = 1, a_sp = lda); B is
   untransposed (rows of ldb). Each work-item computes a TM x (16·TV) tile of C in TM·TV float16
   registers: per p one or more 16-float vector loads of B's row p and TM broadcasts of A, TM·TV
   FMAs, no local memory, no barrier (the slow paths on PoCL). The loops over the tile are fully
   unrolled so that the accumulators stay in registers: with a loop left, the compiler keeps them
   in memory and the kernel runs at a third of the speed. Consecutive work-items take consecutive
   row tiles of one column strip, so a work-group reuses that strip of B from the cache.
   Tails: rows past m read row m-1 and are not stored; columns past n read 0 and are not stored
   (a vector wholly inside n is still one load, so that n = 16 with 32-column tiles, fc5's and the
   margin's batch-16 GEMMs, costs half the FMAs and no per-element loads).
   B is read in column strips of 16·TV: strip s, row p starts at b[s·b_panel + p·ldb], so B as
   stored is b_panel = 16·TV; packed by gemm_pack_b it is b_panel = k·16·TV, ldb = 16·TV. Packing
   pays where B's rows lie a multiple of 4 KiB apart: then the rows of a strip all map to the same
   few sets of a CPU's L1 cache and evict each other (1024^3: ~130 GFLOP/s as stored, ~310 packed). */

#define SCL_GEMM_KERNEL(NAME, TM, TV)                                                          \
  __kernel void NAME(uint m, uint n, uint k, float alpha, __global const float *a, uint a_off, \
                     uint a_si, uint a_sp, uint a_stride, __global const float *b, uint b_off, \
                     uint ldb, uint b_panel, uint b_stride, float beta, __global float *c,     \
                     uint c_off, uint ldc, uint c_stride, uint batch) {                        \
    const uint mt = (m + TM - 1) / TM, nt = (n + 16 * TV - 1) / (16 * TV);                     \
    const uint id = get_global_id(0);                                                          \
    if (id >= mt * nt * batch) return;                                                         \
    const uint i0 = (id % mt) * TM, j0 = (id / mt % nt) * 16 * TV, z = id / (mt * nt);         \
    __global const float *ar[TM];                                                              \
    _Pragma("unroll") for (int r = 0; r < TM; r++)                                             \
      ar[r] = a + a_off + (size_t)z * a_stride + (size_t)min(i0 + r, m - 1) * a_si;            \
    __global const float *bp =                                                                 \
        b + b_off + (size_t)z * b_stride + (size_t)(j0 / (16 * TV)) * b_panel;                 \
    const int full = j0 + 16 * TV <= n;                                                        \
    float16 acc[TM][TV];                                                                       \
    _Pragma("unroll") for (int r = 0; r < TM; r++)                                             \
      _Pragma("unroll") for (int v = 0; v < TV; v++) acc[r][v] = (float16)(0.0f);              \
    for (uint p = 0; p < k; p++, bp += ldb) {                                                  \
      float16 bv[TV];                                                                          \
      _Pragma("unroll") for (int v = 0; v < TV; v++) {                                         \
        if (full || j0 + 16 * v + 16 <= n) {                                                   \
          bv[v] = vload16(v, bp);                                                              \
        } else if (j0 + 16 * v >= n) {                                                         \
          bv[v] = (float16)(0.0f);                                                             \
        } else {                                                                               \
          float t[16];                                                                         \
          for (uint e = 0; e < 16; e++) t[e] = j0 + 16 * v + e < n ? bp[16 * v + e] : 0.0f;    \
          bv[v] = vload16(0, t);                                                               \
        }                                                                                      \
      }                                                                                        \
      _Pragma("unroll") for (int r = 0; r < TM; r++) {                                         \
        const float16 av = (float16)(ar[r][(size_t)p * a_sp]);                                 \
        _Pragma("unroll") for (int v = 0; v < TV; v++) acc[r][v] = fma(av, bv[v], acc[r][v]);  \
      }                                                                                        \
    }                                                                                          \
    __global float *cp = c + c_off + (size_t)z * c_stride + (size_t)i0 * ldc + j0;             \
    _Pragma("unroll") for (int r = 0; r < TM; r++) {                                           \
      if (i0 + r >= m) continue;                                                               \
      _Pragma("unroll") for (int v = 0; v < TV; v++) {                                         \
        float16 out = alpha * acc[r][v];                                                       \
        if (full || j0 + 16 * v + 16 <= n) {                                                   \
          if (beta != 0.0f) out += beta * vload16(v, cp);                                      \
          scl_store16(out, cp + 16 * v);                                                       \
        } else {                                                                               \
          float t[16];                                                                         \
          vstore16(out, 0, t);                                                                 \
          for (uint e = 0; e < 16 && j0 + 16 * v + e < n; e++)                                 \
            cp[16 * v + e] = beta != 0.0f ? t[e] + beta * cp[16 * v + e] : t[e];               \
        }                                                                                      \
      }                                                                                        \
      cp += ldc;                                                                               \
    }                                                                                          \
  }

/* The tiles `spherecl tune` chooses from (lib/blas/tune_space.c): rows x columns. */
SCL_GEMM_KERNEL(gemm_4x32, 4, 2)
SCL_GEMM_KERNEL(gemm_8x32, 8, 2)
SCL_GEMM_KERNEL(gemm_8x48, 8, 3)
SCL_GEMM_KERNEL(gemm_12x32, 12, 2)

/* B [k, n] (rows of ldb, problems b_stride apart) into strips of `cols` columns, each strip's k rows
   contiguous: out[((z·strips + s)·k + p)·cols + e] = B[p][s·cols + e], 0 past column n-1. */
__kernel void gemm_pack_b(uint k, uint n, uint cols, __global const float *b, uint b_off, uint ldb, uint b_stride,
                          __global float *out, uint batch) {
  const uint strips = (n + cols - 1) / cols, id = get_global_id(0);
  if (id >= strips * k * batch) return;
  const uint p = id % k, s = id / k % strips, z = id / (k * strips);
  __global const float *row = b + b_off + (size_t)z * b_stride + (size_t)p * ldb + s * cols;
  __global float *o = out + (size_t)id * cols;
  if ((s + 1) * cols <= n) {
    for (uint e = 0; e < cols; e += 16) scl_store16(vload16(0, row + e), o + e);
  } else {
    for (uint e = 0; e < cols; e++) o[e] = s * cols + e < n ? row[e] : 0.0f;
  }
}
