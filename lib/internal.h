/* Internal definitions shared by the library's files. Not installed. */
#ifndef SPHERECL_INTERNAL_H
#define SPHERECL_INTERNAL_H

#include "spherecl.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#if defined(__GNUC__)
#define SCL_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define SCL_PRINTF(a, b)
#endif

/* The embedded kernel sources (generated at build time from the kernels folder, see cmake/embed.cmake). */
typedef struct {
  const char *name;   /* file name without .cl, e.g. "fill" */
  const char *source; /* starts with a #line directive naming kernels/<name>.cl */
} scl_kernel_source;
extern const scl_kernel_source scl__kernel_sources[];
extern const size_t scl__kernel_source_count;

#define SCL_MAX_PROGRAMS 32
#define SCL_MESSAGE_SIZE 8192

/* A lazily built program: one per kernel file per context. */
typedef struct {
  const char *name;
  cl_program program;
} scl_program_slot;

/* A scratch buffer owned by the context, grown on demand and reused across calls (im2col columns,
   reductions). Ops on one context run one at a time on one in-order queue, so reuse is safe. */
typedef struct {
  cl_mem buffer;
  size_t bytes;
} scl_workspace;

/* Workspace slots: each user holds its own, so that nested uses never collide. */
enum {
  SCL_WS_CONV_COL,   /* conv2d: im2col columns / their gradient */
  SCL_WS_CONV_T,     /* conv2d: the K-by-columns GEMM operand */
  SCL_WS_MARGIN,     /* margin: cos theta and its parts */
  SCL_WS_SMALL_OPS,  /* prelu, softmax_xent partial results */
  SCL_WS_CONV_WT,    /* conv2d: transposed weights */
  SCL_WS_GEMM_TEMP,  /* CLBlast's temporary buffer for GEMMs that need a helper kernel */
  SCL_WS_GEMM_PACK,  /* spherecl's GEMM kernel: B packed into column strips */
  SCL_WS_CONV_ZEROS, /* conv2d as implicit GEMMs: zeros that the padding taps read (never written) */
  SCL_MAX_WORKSPACES
};

struct scl_context_s {
  cl_context cl;
  cl_device_id device;
  cl_command_queue queue;
  char device_label[300]; /* "platform: device" for messages */
  char build_options[64];
  size_t max_work_group; /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
  unsigned compute_units; /* CL_DEVICE_MAX_COMPUTE_UNITS (at least 1) */
  int cpu;                /* a CPU device (CL_DEVICE_TYPE_CPU, and not a GPU or accelerator) */
  scl_program_slot programs[SCL_MAX_PROGRAMS];
  scl_workspace workspaces[SCL_MAX_WORKSPACES];
  /* GEMM facts from the applied tuning (lib/blas/tuning.c): */
  scl_tuning_source tuning;
  size_t gemm_tile;          /* m, n, k multiples of this make an Xgemm call copy nothing (1: unknown) */
  size_t gemm_min_indirect;  /* CLBlast's XGEMM_MIN_INDIRECT_SIZE if an entry set it, else 0 */
  unsigned long gemm_helper_calls; /* indirect GEMMs so far that needed CLBlast's copy/transpose kernels */
  int winograd;              /* 3x3 stride-1 convolutions by Winograd F(m,3), m = this (2 or 4; 0: none) */
  int gemm_own;              /* GEMMs with an untransposed B by spherecl's kernel, tile gemm_own (0: CLBlast) */
  int conv_direct;           /* convolutions Winograd does not take as implicit GEMMs (conv2d_direct.c): 1 yes,
                                0 no (im2col + GEMM), -1 where spherecl's GEMM kernel runs */
  size_t winograd_min_c;     /* with implicit GEMMs on, Winograd only for layers of at least this many input
                                channels (the "Conv2dDirect 32 BELOW_CHANNELS=C" entry; 0: all it can take) */
  size_t mem_align;          /* CL_DEVICE_MEM_BASE_ADDR_ALIGN in bytes: sub-buffer origins */
  size_t max_alloc;          /* CL_DEVICE_MAX_MEM_ALLOC_SIZE in bytes (0: not reported) */
  int counted;               /* counted among the live contexts (context.c) */
  char message[SCL_MESSAGE_SIZE];
};

struct scl_tensor_s {
  scl_context ctx;
  scl_dtype dtype;
  int ndim;
  size_t dims[SCL_MAX_DIMS];
  size_t count;
  cl_mem buffer;
  size_t offset; /* in elements (all dtypes are 4 bytes) */
};

/* ---- messages (context.c) ------------------------------------------------------------------- */
/* Sets ctx's message (printf-style) and returns status; ctx may be NULL (message dropped). */
scl_status scl__fail(scl_context ctx, scl_status status, const char *fmt, ...) SCL_PRINTF(3, 4);
/* For an OpenCL error: "what: CL_..." */
scl_status scl__cl_fail(scl_context ctx, cl_int err, const char *what);
/* For calls with no context (context creation, datasets, files, verification): sets the calling
   thread's message, which scl_context_error(NULL) returns, and returns status. */
scl_status scl__fail_noctx(scl_status status, const char *fmt, ...) SCL_PRINTF(2, 3);
#define scl__set_create_error(...) ((void)scl__fail_noctx(0, __VA_ARGS__))

/* ---- atomic file writing (atomic_file.c) ---------------------------------------------------- */

/* A file written under a temporary sibling name and renamed over `path` only when complete, so a
   reader never sees a half-written file and a failed write leaves the old file in place. */
typedef struct {
  FILE *f;
  const char *path;
  char *tmp; /* malloc'd "<path>.tmp-<pid>" */
} scl__atomic_file;

/* Opens the temporary file. op names the public call in messages. SCL_ERR_IO if it cannot be made. */
scl_status scl__atomic_open(scl__atomic_file *af, const char *path, const char *op);
/* Flushes, fsyncs, closes, renames and syncs the folder; any write error since open (or here) gives SCL_ERR_IO and
   removes the temporary file. */
scl_status scl__atomic_commit(scl__atomic_file *af, const char *op);
/* Discards the temporary file (after a failure that happened before commit). */
void scl__atomic_abort(scl__atomic_file *af);
/* mkdir -p of the folder path lies in; 1 on success, 0 with errno set. */
int scl__make_parent_dirs(const char *path);

/* v rounded up to a multiple of m (m >= 1). */
static inline size_t scl__round_up(size_t v, size_t m) { return (v + m - 1) / m * m; }

/* ---- little-endian bytes: every file format spherecl reads or writes is little-endian, whatever
   the host (model files, torch storages, zip headers, protobuf fixed-size numbers) -------------- */
/* The n-byte (n <= 8) little-endian number at p. */
static inline uint64_t scl__le(const unsigned char *p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
  return v;
}
/* Writes the n low bytes of v at p, least significant first. */
static inline void scl__put_le(unsigned char *p, uint64_t v, int n) {
  for (int i = 0; i < n; i++) p[i] = (unsigned char)(v >> (8 * i));
}
/* IEEE-754 bit patterns as numbers (NaN payloads kept). */
static inline float scl__f32_bits(uint32_t u) {
  float f;
  memcpy(&f, &u, 4);
  return f;
}
static inline double scl__f64_bits(uint64_t u) {
  double d;
  memcpy(&d, &u, 8);
  return d;
}

/* ---- whole files (read_file.c) ------------------------------------------------------------------ */
/* Reads a regular file of at most max_bytes into *data (malloc'd; free it) and *size. Messages name it
   as "<what> <path>"; missing or unreadable: SCL_ERR_IO, too large: SCL_ERR_FORMAT. */
scl_status scl__read_file(const char *path, const char *what, size_t max_bytes, unsigned char **data, size_t *size);

/* ---- deterministic random numbers (rng.c): splitmix64, identical on every platform ------------ */
typedef struct {
  uint64_t state;
} scl_rng;
scl_rng scl__rng_make(uint64_t seed);
uint64_t scl__rng_next(scl_rng *r);
/* Uniform in [lo, hi). */
double scl__rng_uniform(scl_rng *r, double lo, double hi);
/* Standard normal (Box-Muller). */
double scl__rng_normal(scl_rng *r);
/* Uniform integer in [0, n). */
size_t scl__rng_below(scl_rng *r, size_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void scl__rng_shuffle(scl_rng *r, size_t *idx, size_t n);

/* ---- devices (device.c) --------------------------------------------------------------------- */
/* Enumerates every device: fills ids (up to cap) and returns the total in *count. */
scl_status scl__device_list(cl_device_id *ids, size_t cap, size_t *count);
/* Writes "  [i] type  platform: device\n" lines for every device into buf. */
void scl__device_describe_all(char *buf, size_t size);
scl_status scl__device_info_of(cl_device_id id, scl_device_info *info);

/* ---- programs and launches (program.c) ------------------------------------------------------ */
/* The kernel `kernel` of program kernels/<program>.cl, built on first use. Release it after use
   (clReleaseKernel); kernels are cheap to create once the program exists. */
scl_status scl__kernel(scl_context ctx, const char *program, const char *kernel, cl_kernel *out);
/* Builds a program from source (used for the embedded sources, and by tests for broken ones).
   A failed build returns SCL_ERR_BUILD with the compiler's log in the message. */
scl_status scl__program_build(scl_context ctx, const char *name, const char *source, cl_program *out);

/* Kernel arguments described in one list, so every launch site sets them the same way. */
typedef enum { SCL_ARG_MEM, SCL_ARG_INT, SCL_ARG_UINT, SCL_ARG_FLOAT, SCL_ARG_LOCAL } scl_arg_kind;
typedef struct {
  scl_arg_kind kind;
  union {
    cl_mem mem;
    cl_int i;
    cl_uint u;
    cl_float f;
    size_t local_bytes;
  } v;
} scl_arg;
#define SCL_MEM(m) ((scl_arg){SCL_ARG_MEM, {.mem = (m)}})
#define SCL_INT(x) ((scl_arg){SCL_ARG_INT, {.i = (cl_int)(x)}})
#define SCL_UINT(x) ((scl_arg){SCL_ARG_UINT, {.u = (cl_uint)(x)}})
#define SCL_FLOAT(x) ((scl_arg){SCL_ARG_FLOAT, {.f = (cl_float)(x)}})
#define SCL_LOCAL(bytes) ((scl_arg){SCL_ARG_LOCAL, {.local_bytes = (bytes)}})
/* A tensor's buffer followed by its element offset: kernels take (global T *p, uint p_off). */
#define SCL_TENSOR(t) SCL_MEM((t)->buffer), SCL_UINT((t)->offset)

/* The fixed local size of 1-D launches: a fixed size means PoCL compiles each kernel once. */
#define SCL_LOCAL_1D 64
/* The local size of kernels whose work-items each compute a whole register tile with explicit
   vectors (spherecl's GEMM kernel, the implicit-GEMM and narrow convolutions): 1 on a CPU, 0
   (SCL_LOCAL_1D) elsewhere. PoCL hands each work-group to one thread whole, so groups of one item
   keep both cores busy to the end of a launch. On a 2-core AMD CPU, one process alternating the
   two: the 1024^3 SGEMM 3-15% faster, conv1.x's filter gradient (99 items a launch, 7 groups of 16
   before) 18-32%, conv2.x's (Winograd's batched GEMMs) 31-38%, the other passes 0-18%
   (bench/README.md). A GPU needs its groups full. */
size_t scl__tile_group(scl_context ctx);
/* Enqueues program/kernel over `global` work-items (rounded up to a multiple of the local size;
   kernels check their bounds) in groups of `local` (0: SCL_LOCAL_1D). */
scl_status scl__launch(scl_context ctx, const char *program, const char *kernel, size_t global, size_t local,
                       int nargs, const scl_arg *args);
#define SCL_LAUNCH(ctx, prog, kern, global, local, ...)                                            \
  scl__launch((ctx), (prog), (kern), (global), (local), (int)(sizeof((scl_arg[]){__VA_ARGS__}) / sizeof(scl_arg)), \
              (scl_arg[]){__VA_ARGS__})

/* ---- workspaces (context.c) ----------------------------------------------------------------- */
/* A device buffer of at least `bytes`, slot 0..SCL_MAX_WORKSPACES-1, valid until the next call
   that asks for the same slot. */
scl_status scl__workspace(scl_context ctx, int slot, size_t bytes, cl_mem *out);
/* SCL_ERR_OUT_OF_MEMORY naming both sizes when one buffer of `bytes` exceeds the device's largest
   (CL_DEVICE_MAX_MEM_ALLOC_SIZE); op names the caller in the message. */
scl_status scl__check_alloc(scl_context ctx, const char *op, size_t bytes);

/* ---- argument checks (check.c) -------------------------------------------------------------- */
/* Each returns SCL_OK or fails with a message naming the op and the argument. */
scl_status scl__check_tensor(scl_context ctx, const char *op, const char *name, scl_tensor t, scl_dtype dtype);
/* t has exactly ndim dims equal to dims (a 0 in dims means "any"). */
scl_status scl__check_shape(scl_context ctx, const char *op, const char *name, scl_tensor t, int ndim,
                            const size_t *dims);
scl_status scl__check_same_shape(scl_context ctx, const char *op, const char *name_a, scl_tensor a,
                                 const char *name_b, scl_tensor b);
/* Two tensors sharing bytes of the same buffer (outputs must not overlap inputs unless allowed). */
int scl__overlap(scl_tensor a, scl_tensor b);
/* "[3,5,7]" */
void scl__shape_string(scl_tensor t, char *buf, size_t size);

/* ---- BLAS (blas.c, the only file that includes clblast_c.h) --------------------------------- */
typedef enum { SCL_NO_TRANS = 0, SCL_TRANS = 1 } scl_trans;
/* Row-major C[m,n] = alpha·op(A)·op(B) + beta·C, offsets and leading dimensions in elements.
   Copies nothing when CLBlast's kernel can take the operands as they are: with a GEMMK=1 Xgemm
   (ctx->gemm_tile > 1) that is A, B, C untransposed, packed (ld = row length), offset 0, and m, n,
   k multiples of ctx->gemm_tile; otherwise ctx->gemm_helper_calls counts the call. */
scl_status scl__gemm(scl_context ctx, scl_trans ta, scl_trans tb, size_t m, size_t n, size_t k, float alpha,
                     cl_mem a, size_t a_off, size_t lda, cl_mem b, size_t b_off, size_t ldb, float beta, cl_mem c,
                     size_t c_off, size_t ldc);
/* The same for batch_count independent problems, each offset by the given strides. */
scl_status scl__gemm_batched(scl_context ctx, scl_trans ta, scl_trans tb, size_t m, size_t n, size_t k,
                             float alpha, cl_mem a, size_t a_off, size_t lda, size_t a_stride, cl_mem b, size_t b_off,
                             size_t ldb, size_t b_stride, float beta, cl_mem c, size_t c_off, size_t ldc,
                             size_t c_stride, size_t batch_count);
/* spherecl's own GEMM kernels (gemm_own.c, kernels/gemm.cl): the same C = alpha·op(A)·B + beta·C
   for batch problems at the given strides (B untransposed), with tile ctx->gemm_own. */
scl_status scl__gemm_own(scl_context ctx, scl_trans ta, size_t m, size_t n, size_t k, float alpha, cl_mem a,
                         size_t a_off, size_t lda, size_t a_stride, cl_mem b, size_t b_off, size_t ldb,
                         size_t b_stride, float beta, cl_mem c, size_t c_off, size_t ldc, size_t c_stride,
                         size_t batch);
/* The leading dimension to lay out a GEMM operand of `cols` columns with: a multiple of
   ctx->gemm_tile (CLBlast's kernel copies nothing), and for spherecl's kernel not a multiple of
   4 KiB (it would pack the operand first). */
size_t scl__gemm_ld(scl_context ctx, size_t cols);
/* At least scl__gemm_ld(ctx, c) for every c <= cols: for sizing workspaces. */
size_t scl__gemm_ld_max(scl_context ctx, size_t cols);
/* The number of tiles (numbered 1..count); the tile number of a rows x cols tile, 0 if there is
   none; and "4x32, 8x32, ..." */
int scl__gemm_own_count(void);
int scl__gemm_own_tile(int rows, int cols);
void scl__gemm_own_tiles(char *buf, size_t size);
/* "8x32" for a tile number, NULL for 0 (CLBlast). */
const char *scl__gemm_own_label(int tile);
/* Empties CLBlast's process-wide caches of built programs (called when no context is left). */
void scl__blas_release_caches(void);
/* Chooses and applies ctx's tuning (header section 9): SPHERECL_TUNING's file, else the device's
   cache. Called once by context creation. A malformed SPHERECL_TUNING file is an error
   (SCL_ERR_FORMAT, line named); a bad cache only a warning. */
scl_status scl__blas_apply_tuning(scl_context ctx, const scl_device_info *info);
/* Parses and applies tuning entries for ctx's device; origin names them in messages ("FILE:LINE").
   *applied receives the number of kernel entries applied. */
scl_status scl__tuning_apply_text(scl_context ctx, const char *text, const char *origin, int *applied);
/* The same for a file (exposed for tests). */
scl_status scl__blas_apply_tuning_file(scl_context ctx, const char *path, int *applied);

/* The search space of `spherecl tune` (tune_space.c), stage by stage: complete tuning entries. */
typedef enum {
  SCL_TUNE_XGEMM,
  SCL_TUNE_DIRECT,
  SCL_TUNE_THRESHOLD,
  SCL_TUNE_WINOGRAD,
  SCL_TUNE_GEMM,
  SCL_TUNE_CONV_DIRECT,
  SCL_TUNE_STAGES
} scl_tune_stage;
const char *const *scl__tune_space(scl_tune_stage stage, size_t *count);

#endif
