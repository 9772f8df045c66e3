/* The prelude of every program: lib/runtime/program.c builds kernels/NAME.cl as this file followed
   by NAME.cl (never this file alone), so these helpers serve every kernel file. Names start with
   scl_ (macros with SCL_) to stay clear of the kernel files' own; static inline, so a program that
   uses none of them builds without warnings. */

/* Defines `type name(type v, __local type *part)`: the reduction `op` of v over the work-group,
   returned to every work-item (all of the group must call it). part holds get_local_size(0) values
   and is free again on return. Any group size, not only powers of two. */
#define SCL_GROUP_REDUCE(name, type, op)                                                           \
  static inline type name(type v, __local type *part) {                                           \
    uint lid = get_local_id(0);                                                                    \
    part[lid] = v;                                                                                 \
    barrier(CLK_LOCAL_MEM_FENCE);                                                                  \
    for (uint w = get_local_size(0); w > 1;) {                                                     \
      uint h = (w + 1) / 2;                                                                        \
      if (lid < w - h) part[lid] = op(part[lid], part[lid + h]);                                  \
      barrier(CLK_LOCAL_MEM_FENCE);                                                                \
      w = h;                                                                                       \
    }                                                                                              \
    type total = part[0];                                                                          \
    barrier(CLK_LOCAL_MEM_FENCE);                                                                  \
    return total;                                                                                  \
  }
#define SCL_PLUS(a, b) ((a) + (b))
SCL_GROUP_REDUCE(scl_group_sum, float, SCL_PLUS)
SCL_GROUP_REDUCE(scl_group_sum2, float2, SCL_PLUS) /* two sums from one tree */
SCL_GROUP_REDUCE(scl_group_max, float, fmax)

/* Rows read and written 4 columns at a time (float4: PoCL then computes on vectors; a GPU still
   reads the row coalesced). */

/* Columns j..j+3 of row p (cols long); those past the end read as `pad`. */
static inline float4 scl_load4(__global const float *p, uint j, uint cols, float pad) {
  if (j + 4 <= cols) return vload4(0, p + j);
  float4 v = (float4)(pad);
  if (j < cols) v.s0 = p[j];
  if (j + 1 < cols) v.s1 = p[j + 1];
  if (j + 2 < cols) v.s2 = p[j + 2];
  return v;
}

/* Stores columns j..j+3 of row p, those before the end. */
static inline void scl_store4(__global float *p, uint j, uint cols, float4 v) {
  if (j + 4 <= cols) {
    vstore4(v, 0, p + j);
    return;
  }
  if (j < cols) p[j] = v.s0;
  if (j + 1 < cols) p[j + 1] = v.s1;
  if (j + 2 < cols) p[j + 2] = v.s2;
}

/* The sum of v's four lanes, always in the same order. */
static inline float scl_hsum4(float4 v) { return (v.s0 + v.s1) + (v.s2 + v.s3); }

/* Row-grouped launches: a tensor is seen as rows of `cols` contiguous elements, and every
   work-group covers part of ONE row, so the divisions that split the index are the same for the
   whole group (PoCL runs per-element integer divisions at about a tenth of copy speed). The host
   launches rows·ceil(cols/ls)·ls work-items (row_grouped, lib/ops/bias.c). Gives this work-item's
   row and column; 0 when it lies past the end of its row. */
static inline int scl_row_item(uint cols, uint *row, uint *col) {
  uint ls = get_local_size(0), groups_per_row = (cols + ls - 1) / ls, g = get_group_id(0);
  *row = g / groups_per_row;
  *col = (g - *row * groups_per_row) * ls + get_local_id(0);
  return *col < cols;
}

/* 16 floats stored at p (any float-aligned address) with one vector store. PoCL 3.1's vstore16
   writes them as three stores (16, 16 and 32 bytes) on x86, so no store covers a cache line. */
typedef float16 scl_float16_unaligned __attribute__((aligned(4)));
static inline void scl_store16(float16 v, __global float *p) { *(__global scl_float16_unaligned *)p = v; }

/* A row's ragged end, n < 16 floats, neither read nor written past: the first n floats at p, then
   zeros (PoCL makes the loop one masked load); the first n lanes of v stored at p. */
static inline float16 scl_ragged_load16(__global const float *p, uint n) {
  float e[16];
  for (uint i = 0; i < 16; i++) e[i] = i < n ? p[i] : 0.0f;
  return vload16(0, e);
}
static inline void scl_ragged_store16(float16 v, __global float *p, uint n) {
  float e[16];
  vstore16(v, 0, e);
  for (uint i = 0; i < n; i++) p[i] = e[i];
}
/* min(n, 16) floats at p, a whole vector (one load, one store) when n >= 16. */
static inline float16 scl_load16_upto(__global const float *p, uint n) {
  return n >= 16 ? vload16(0, p) : scl_ragged_load16(p, n);
}
static inline void scl_store16_upto(float16 v, __global float *p, uint n) {
  if (n >= 16) scl_store16(v, p);
  else scl_ragged_store16(v, p, n);
}

/* The sum of v's 16 lanes, by halves. */
static inline float scl_sum16(float16 v) {
  const float8 h8 = v.lo + v.hi;
  const float4 h4 = h8.lo + h8.hi;
  const float2 h2 = h4.lo + h4.hi;
  return h2.x + h2.y;
}

/* Hints to fetch the cache line at p soon, for reading (SCL_PREFETCH) or writing
   (SCL_PREFETCH_WRITE), on a CPU target: PoCL compiles for the host's triple and emits prefetcht1
   and prefetchw (its OpenCL prefetch() is a no-op). Elsewhere nothing: a simulator such as
   Oclgrind (target SPIR) has no llvm.prefetch. Never faults, so p may lie past its buffer's end. */
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__)
#define SCL_PREFETCH(p) __builtin_prefetch((p), 0, 2)
#define SCL_PREFETCH_WRITE(p) __builtin_prefetch((p), 1, 2)
#else
#define SCL_PREFETCH(p) ((void)(p))
#define SCL_PREFETCH_WRITE(p) ((void)(p))
#endif
