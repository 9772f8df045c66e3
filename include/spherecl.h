/*
 * spherecl.h — SphereFace (A-Softmax) training and inference on any OpenCL device.
 *
 * The whole public API, in the order a user meets it:
 *   1. Status codes and messages           scl_status, scl_status_string, scl_context_error
 *   2. Devices and contexts                scl_device_count, scl_device_get_info, scl_context_create, ...
 *   3. Tensors                             scl_tensor_create, scl_tensor_wrap, scl_tensor_read/write/fill, ...
 *   4. Operations (forward and backward)   conv2d, linear, prelu, add, weightnorm, margin, softmax_xent, sgd
 *   5. Networks and training               scl_net_* (SphereFace-4..64, model files, grad hooks), scl_input_format
 *   6. Data                                scl_dataset_* (MNIST IDX, image folders, filters, crops), scl_image_load*
 *   7. Face verification                   scl_pairs_*, scl_verify_* (the LFW 10-fold protocol)
 *   8. Face alignment                      scl_align_* (landmarks → aligned crops), scl_landmarks_read
 *   9. Tuning                              scl_tuning_* (GEMM kernels and parameters per device: cache, apply, save)
 *  10. Import and export                   scl_net_import (Caffe, PyTorch), scl_net_export (PyTorch)
 *
 * Conventions that hold everywhere:
 *   - Every call returns scl_status (SCL_OK = 0). OpenCL and CLBlast codes pass through unchanged;
 *     the library's own codes are -4000 and below. A failed call sets a detailed message on its
 *     context (scl_context_error) and leaves every output untouched.
 *   - Shapes and dtypes are checked before anything is enqueued.
 *   - All device work runs on the context's one in-order queue. Ops return after enqueueing;
 *     scl_tensor_read, scl_softmax_xent and scl_context_finish wait.
 *   - One context is used by one thread at a time; separate contexts are independent.
 *   - Tensors are dense and row-major (last dimension fastest). Images NCHW, conv weights KCHW,
 *     features [N,K], class weights [M,K] (one row per class, as Caffe).
 *   - Every output tensor is overwritten, never accumulated into. Gradient outputs may be NULL.
 *
 * The exact mathematics of each op is in the project's SPEC (shared/SPEC.md) and is repeated,
 * briefly, next to each declaration below.
 */
#ifndef SPHERECL_H
#define SPHERECL_H

#define CL_TARGET_OPENCL_VERSION 120
#ifdef __APPLE__
#include <OpenCL/opencl.h>
#else
#include <CL/cl.h>
#endif
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SCL_VERSION_MAJOR 0
#define SCL_VERSION_MINOR 1
#define SCL_VERSION_PATCH 0
/* "0.1.0" — the version of the library actually linked. */
const char *scl_version(void);

/* ============================================================================================= */
/* 1. Status                                                                                     */
/* ============================================================================================= */

typedef int scl_status;
#define SCL_OK                        0
#define SCL_ERR_INVALID_ARGUMENT  (-4001) /* NULL handle, bad enum, out-of-range parameter      */
#define SCL_ERR_SHAPE             (-4002) /* wrong or inconsistent tensor shapes                */
#define SCL_ERR_DTYPE             (-4003) /* wrong tensor dtype                                 */
#define SCL_ERR_NO_DEVICE         (-4004) /* no OpenCL device, or none matched the selector      */
#define SCL_ERR_BUILD             (-4005) /* an OpenCL kernel failed to build (log in message)  */
#define SCL_ERR_IO                (-4006) /* a file could not be read or written                */
#define SCL_ERR_FORMAT            (-4007) /* corrupt, truncated, foreign or newer-version file  */
#define SCL_ERR_UNSUPPORTED       (-4008) /* the device or build lacks what the call needs       */
#define SCL_ERR_OUT_OF_MEMORY     (-4009) /* host or device allocation failed                   */
#define SCL_ERR_NUMERIC           (-4010) /* NaN or Inf found where the library checks          */

/* The symbolic name of any status: ours ("SCL_ERR_SHAPE"), OpenCL's ("CL_INVALID_VALUE") and
   CLBlast's ("CLBlastInvalidDimension"). Never NULL; unknown codes give "unknown status". */
const char *scl_status_string(scl_status status);

/* ============================================================================================= */
/* 2. Devices and contexts                                                                       */
/* ============================================================================================= */

typedef struct scl_context_s *scl_context;
typedef struct scl_tensor_s *scl_tensor;

typedef enum {
  SCL_DEVICE_CPU = 1,
  SCL_DEVICE_GPU = 2,
  SCL_DEVICE_ACCELERATOR = 4,
  SCL_DEVICE_OTHER = 8
} scl_device_type;

typedef struct {
  char platform[128], name[128], vendor[128], driver_version[64], opencl_version[64];
  scl_device_type type;
  unsigned compute_units;
  unsigned long long global_mem_bytes;
  unsigned long long max_alloc_bytes; /* the largest single buffer (CL_DEVICE_MAX_MEM_ALLOC_SIZE): a
                                         batch whose largest activation exceeds it is SCL_ERR_OUT_OF_MEMORY */
} scl_device_info;

/* Devices are numbered platform by platform, device by device, in the order OpenCL reports them.
   No OpenCL platform installed is not an error here: *count = 0. */
scl_status scl_device_count(size_t *count);
/* index >= count: SCL_ERR_INVALID_ARGUMENT. Strings are NUL-terminated (truncated if longer). */
scl_status scl_device_get_info(size_t index, scl_device_info *info);

/* Creates a context (OpenCL context + one in-order queue) on the device the selector names:
     NULL or ""      the environment variable SPHERECL_DEVICE if set, else the first GPU,
                     else the first accelerator, else the first device;
     "3"             the device of that index (decimal);
     "cpu", "gpu", "accelerator"   the first device of that type;
     anything else   the first device whose "platform name: device name" contains it
                     (case-insensitive).
   No match, or no OpenCL platform: SCL_ERR_NO_DEVICE; the message lists the devices there are.
   On failure *ctx is NULL and scl_context_error(NULL) returns the message (per thread). */
scl_status scl_context_create(const char *selector, scl_context *ctx);

/* Wraps an OpenCL context the application already owns. queue may be NULL (one is made); a given
   queue must be in-order and belong to context and device (an out-of-order queue is refused with
   SCL_ERR_INVALID_ARGUMENT). The context and queue are retained, and released with the scl_context. */
scl_status scl_context_create_from_cl(cl_context context, cl_device_id device, cl_command_queue queue,
                                      scl_context *ctx);
/* Waits for queued work, then frees everything the context made. NULL is a no-op. Tensors of the
   context must be released first. */
void scl_context_release(scl_context ctx);
/* Waits until all work queued on the context has finished. */
scl_status scl_context_finish(scl_context ctx);
/* The last detailed message of a failed call on ctx ("" if none). With ctx NULL: the message of
   the last failed call that has no context to carry it (scl_context_create, scl_context_create_from_cl,
   datasets, image loading, pairs files, the verification protocol) on the calling thread. */
const char *scl_context_error(scl_context ctx);

cl_context scl_context_cl(scl_context ctx);
cl_device_id scl_context_device(scl_context ctx);
cl_command_queue scl_context_queue(scl_context ctx);

/* ============================================================================================= */
/* 3. Tensors                                                                                    */
/* ============================================================================================= */

typedef enum { SCL_F32 = 0, SCL_I32 = 1 } scl_dtype;
#define SCL_MAX_DIMS 4

/* A new device tensor with 1..4 dimensions, each >= 1. Contents are undefined until written.
   ndim outside 1..4, a zero dimension, or a byte size that overflows size_t: SCL_ERR_SHAPE. */
scl_status scl_tensor_create(scl_context ctx, scl_dtype dtype, int ndim, const size_t *dims, scl_tensor *t);
/* A tensor view of the caller's buffer starting at offset_bytes (a multiple of 4). The buffer must
   belong to ctx's OpenCL context and be large enough (else SCL_ERR_INVALID_ARGUMENT / SCL_ERR_SHAPE).
   The buffer is retained while the tensor lives and never freed by the library. */
scl_status scl_tensor_wrap(scl_context ctx, scl_dtype dtype, int ndim, const size_t *dims, cl_mem buffer,
                           size_t offset_bytes, scl_tensor *t);
/* NULL is a no-op. */
void scl_tensor_release(scl_tensor t);
/* Blocking copies; bytes must equal the tensor's size (count * 4), else SCL_ERR_SHAPE. */
scl_status scl_tensor_write(scl_tensor t, const void *host, size_t bytes);
scl_status scl_tensor_read(scl_tensor t, void *host, size_t bytes);
/* Sets every element to value. For SCL_I32 tensors value must be an integer in int32 range
   (else SCL_ERR_INVALID_ARGUMENT). Enqueued; does not wait. */
scl_status scl_tensor_fill(scl_tensor t, float value);

/* Accessors. On a NULL tensor or out-of-range axis they return 0 (dtype: SCL_F32, buffer: NULL). */
int scl_tensor_ndim(scl_tensor t);
size_t scl_tensor_dim(scl_tensor t, int axis);
size_t scl_tensor_count(scl_tensor t);
scl_dtype scl_tensor_dtype(scl_tensor t);
cl_mem scl_tensor_buffer(scl_tensor t);
/* Byte offset of the tensor inside scl_tensor_buffer (non-zero only for wrapped tensors). */
size_t scl_tensor_offset(scl_tensor t);
scl_context scl_tensor_context(scl_tensor t);

/* ============================================================================================= */
/* 4. Operations                                                                                 */
/* ============================================================================================= */

/* ---- Convolution --------------------------------------------------------------------------- */
typedef struct { int stride_h, stride_w, pad_h, pad_w; } scl_conv2d_params;
/* x [N,C,H,W], w [K,C,R,S], b [K] or NULL, y [N,K,P,Q] with P = (H + 2*pad_h - R)/stride_h + 1,
   Q = (W + 2*pad_w - S)/stride_w + 1. Strides >= 1, pads >= 0, P and Q >= 1.
   How it runs follows the device's tuning (section 9): 3x3 stride-1 layers by Winograd; the others
   as implicit GEMMs (spherecl's kernels read x where it lies; the default where spherecl's GEMM
   kernel runs, as on CPUs; layers of under 16 input channels, such as a net's first, then run
   forward and dw with their vectors along the output pixels, and dx by im2col) or as im2col +
   GEMM. SPHERECL_CONV=direct (implicit GEMMs for every pass of every such layer) or im2col forces
   the second choice. */
scl_status scl_conv2d_forward(scl_context ctx, const scl_conv2d_params *p, scl_tensor x, scl_tensor w,
                              scl_tensor b, scl_tensor y);
/* dx [N,C,H,W], dw [K,C,R,S], db [K]; any of them NULL to skip. */
scl_status scl_conv2d_backward(scl_context ctx, const scl_conv2d_params *p, scl_tensor x, scl_tensor w,
                               scl_tensor dy, scl_tensor dx, scl_tensor dw, scl_tensor db);

/* ---- Fully connected ------------------------------------------------------------------------ */
/* x [N, ...] seen as [N,K] with K the product of its other dims, w [M,K], b [M] or NULL, y [N,M]:
   y = x·wᵀ + b. dx has x's shape. */
scl_status scl_linear_forward(scl_context ctx, scl_tensor x, scl_tensor w, scl_tensor b, scl_tensor y);
scl_status scl_linear_backward(scl_context ctx, scl_tensor x, scl_tensor w, scl_tensor dy, scl_tensor dx,
                               scl_tensor dw, scl_tensor db);

/* ---- PReLU ---------------------------------------------------------------------------------- */
/* x [N,C,...], slope [C]: y = x > 0 ? x : slope[c]·x. dslope[c] = Σ dy·x over x <= 0 (Caffe). */
scl_status scl_prelu_forward(scl_context ctx, scl_tensor x, scl_tensor slope, scl_tensor y);
scl_status scl_prelu_backward(scl_context ctx, scl_tensor x, scl_tensor slope, scl_tensor dy, scl_tensor dx,
                              scl_tensor dslope);

/* ---- Elementwise add ------------------------------------------------------------------------ */
/* y = a + b, all three the same shape; y may be a or b. */
scl_status scl_add(scl_context ctx, scl_tensor a, scl_tensor b, scl_tensor y);

/* ---- Weight normalisation ------------------------------------------------------------------- */
/* w [M,K]: wn_i = w_i/|w_i| (a zero row stays zero); wn may be w. norms [M] or NULL gets |w_i|. */
scl_status scl_weightnorm_forward(scl_context ctx, scl_tensor w, scl_tensor wn, scl_tensor norms);
/* Exact Jacobian: dw_i = (dwn_i − wn_i (wn_i·dwn_i)) / |w_i| (zero for a zero row). */
scl_status scl_weightnorm_backward(scl_context ctx, scl_tensor w, scl_tensor dwn, scl_tensor dw);

/* ---- Margins (A-Softmax and the combined family) -------------------------------------------- */
typedef enum { SCL_MARGIN_NONE = 0, SCL_MARGIN_ASOFTMAX = 1, SCL_MARGIN_COMBINED = 2 } scl_margin_type;
typedef enum { SCL_GRAD_CAFFE = 0, SCL_GRAD_EXACT = 1 } scl_grad_mode;
typedef struct {
  scl_margin_type type;
  int m;              /* A-Softmax: integer margin 1..4 */
  float lambda;       /* A-Softmax: the current λ >= 0 (see scl_asoftmax_lambda) */
  scl_grad_mode grad; /* A-Softmax only */
  float s, m1, m2, m3; /* COMBINED: s·(cos(m1·θ + m2) − m3); CosFace m3>0, ArcFace m2>0, NormFace 0s, m1=1 */
} scl_margin_params;
/* max(lambda_min, base·(1 + gamma·iteration)^(−power)); the reference counts iterations from 1. */
float scl_asoftmax_lambda(float base, float gamma, float power, float lambda_min, long iteration);
/* x [N,K] features, w [M,K] class weights, labels I32 [N] in [0,M), logits [N,M].
   SCL_MARGIN_NONE: logits = x·wᵀ. Labels out of range: SCL_ERR_INVALID_ARGUMENT (checked on the host,
   so this call waits for the labels). */
scl_status scl_margin_forward(scl_context ctx, const scl_margin_params *p, scl_tensor x, scl_tensor w,
                              scl_tensor labels, scl_tensor logits);
scl_status scl_margin_backward(scl_context ctx, const scl_margin_params *p, scl_tensor x, scl_tensor w,
                               scl_tensor labels, scl_tensor dlogits, scl_tensor dx, scl_tensor dw);

/* ---- Loss ----------------------------------------------------------------------------------- */
/* Mean cross-entropy of softmax(logits [N,M]) against labels I32 [N], as Caffe's SoftmaxWithLoss
   (probabilities clamped at FLT_MIN). dlogits [N,M] or NULL gets (softmax − onehot)/N. loss and
   correct (number of rows whose argmax equals the label) may be NULL. Waits for the queue. */
scl_status scl_softmax_xent(scl_context ctx, scl_tensor logits, scl_tensor labels, scl_tensor dlogits,
                            float *loss, int *correct);

/* ---- Optimiser ------------------------------------------------------------------------------ */
typedef struct { float lr, momentum, weight_decay; } scl_sgd_params;
/* Caffe SGD: g = dw + weight_decay·w; history = momentum·history + lr·g; w −= history. dw unchanged. */
scl_status scl_sgd_update(scl_context ctx, const scl_sgd_params *p, scl_tensor w, scl_tensor dw,
                          scl_tensor history);

/* ============================================================================================= */
/* 5. Networks and training                                                                      */
/* ============================================================================================= */

typedef struct scl_net_s *scl_net;

/* What the network's input is, so that every user of a model file preprocesses images exactly as
   its training did. A pixel value p (0..255) of channel c enters the net as (p − mean)·scale. */
typedef enum { SCL_CHANNELS_RGB = 0, SCL_CHANNELS_BGR = 1 } scl_channel_order;
typedef struct {
  scl_channel_order order; /* of 3-channel input: RGB (spherecl's loaders) or BGR (Caffe/OpenCV models);
                              ignored for 1-channel (grey) input */
  float mean, scale;       /* 127.5 and 1/128: the reference's (p − 127.5)/128 */
  int crop_height, crop_width; /* the stored (aligned) image the input is cut from: training takes a
                                  random in_height×in_width window of it, inference its centre
                                  (e.g. 116×100 around a 112×96 input: the reference's pad of 2).
                                  0, 0: images are exactly the input size. */
} scl_input_format;

/* Everything that defines a network and how it is trained; saved whole in model files. */
typedef struct {
  int depth;                       /* SphereFace-N: 4, 10, 20, 36 or 64 */
  int in_channels, in_height, in_width; /* input images (C×H×W), e.g. 3×112×96, 1×28×28, 1×112×92 */
  int widths[4];                   /* the four stages' widths: 64, 128, 256, 512 */
  int embed_dim;                   /* fc5, the embedding: 512 */
  int num_classes;                 /* rows of the class-weight matrix (the margin layer) */
  scl_margin_params margin;        /* A-Softmax m=4, SCL_GRAD_CAFFE by default; λ is set by the schedule */
  float lambda_base, lambda_gamma, lambda_power, lambda_min; /* 1000, 0.12, 1, 5 */
  float lr, momentum, weight_decay; /* 0.1, 0.9, 5e-4 */
  float lr_gamma;                  /* lr multiplier at each step: 0.1 */
  long lr_steps[4];                /* iterations where lr is multiplied by lr_gamma; 0 = unused */
  unsigned long long seed;         /* initialisation (and the trainer's shuffling) */
  scl_input_format input;          /* RGB, 127.5, 1/128, no crop */
  int unit_bias;                   /* 1: the residual units' convs have trainable biases (the PyTorch port's
                                      sphere20a); 0 (default): none, as the reference, which fixes them at 0 */
} scl_net_config;

/* SphereFace-20, 3×112×96 input, widths 64/128/256/512, 512-d embedding, 10572 classes (CASIA),
   A-Softmax m=4 with Caffe gradients, λ 1000/0.12/1/5, lr 0.1, momentum 0.9, decay 5e-4,
   lr ×0.1 at 16000 and 24000, seed 1. */
void scl_net_config_default(scl_net_config *cfg);

/* Builds the network and initialises it as Caffe does (SPEC §6): stride-2 convs and fc5 xavier with
   trainable biases (lr×2, no decay); unit convs gaussian σ=0.01 with biases fixed at 0 (none at all
   unless cfg.unit_bias: then trainable, lr×2, no decay, starting at 0); PReLU 0.25; class weights xavier. Invalid configs: SCL_ERR_INVALID_ARGUMENT naming the field. The spatial size
   must stay >= 1 through the four stride-2 stages. */
scl_status scl_net_create(scl_context ctx, const scl_net_config *cfg, scl_net *net);
void scl_net_release(scl_net net);
const scl_net_config *scl_net_get_config(scl_net net);
scl_context scl_net_context(scl_net net);
/* Iterations done so far (0 for a new net; restored from checkpoints). */
long scl_net_iteration(scl_net net);

typedef struct {
  long iteration; /* the iteration this step was (counted from 1) */
  float loss;     /* mean softmax cross-entropy of the batch (with the margin) */
  float accuracy; /* fraction of the batch whose margin logits' argmax is the label */
  float lambda;   /* the λ used (A-Softmax) */
  float lr;       /* the learning rate used */
} scl_train_stats;

/* One SGD step on a host batch: images [n, C, H, W] already normalised ((p − 127.5)/128),
   labels [n] in [0, num_classes). A non-finite loss is SCL_ERR_NUMERIC and the step is not applied,
   but the weights that produced it are already unusable (diverged): lower lr, reload a checkpoint. */
scl_status scl_net_train_step(scl_net net, const float *images, const int *labels, size_t n,
                              scl_train_stats *stats);
/* Embeddings (fc5 outputs) of n images into out [n, embed_dim]. */
scl_status scl_net_embed(scl_net net, const float *images, size_t n, float *out);
/* Inference logits [n, num_classes] with no margin: x·ŵᵀ (A-Softmax/softmax, ŵ the normalised class
   weights) or s·cos (combined). Their argmax is the closed-set prediction. */
scl_status scl_net_logits(scl_net net, const float *images, size_t n, float *out);

/* Model files: little-endian, versioned, CRC-32 checked (format documented in lib/net/modelfile.c).
   with_optimizer = 1 also stores the momentum histories and the iteration counter (a checkpoint), so
   training resumes exactly. Saving is atomic: a temporary file, fsync, then rename; weights holding a
   NaN or infinity (a diverged training) are SCL_ERR_NUMERIC and nothing is written. Loading refuses
   truncated, corrupt, foreign and newer-version files with SCL_ERR_FORMAT. */
scl_status scl_net_save(scl_net net, const char *path, int with_optimizer);
scl_status scl_net_load(scl_context ctx, const char *path, scl_net *net);
/* Data-parallel training (e.g. over MPI, as `mpirun spherecl train` does): every process trains an
   identical net on its own share of each batch, and after the backward pass of each step, before
   the SGD update, the hook runs; it may read and replace every parameter's gradient (the batch
   mean of its share), e.g. sum them over the processes and divide by their number, so that each
   process then applies the same update. A non-OK status from the hook fails the step (its status
   is returned; the update is not applied). NULL removes the hook. */
typedef scl_status (*scl_grad_hook)(scl_net net, void *user);
void scl_net_set_grad_hook(scl_net net, scl_grad_hook hook, void *user);
/* Overlapping communication with the backward pass: during the backward pass of each step, as soon
   as parameter i's gradient is complete (all its work enqueued: scl_tensor_read of it returns the
   final value, waiting only for the work queued before), ready(net, i, user) runs, once for every
   parameter and step, in a fixed order: the class weights first, then layer by layer from the
   embedding down to the first convolution. An application can read a group of gradients and start
   summing them over processes while the device computes the rest, and finish in the grad hook
   (which still runs after the last one). A non-OK status fails the step like the grad hook's.
   NULL removes it. */
typedef scl_status (*scl_grad_ready_hook)(scl_net net, int param, void *user);
void scl_net_set_grad_ready_hook(scl_net net, scl_grad_ready_hook ready, void *user);
/* The trainable parameters, in a fixed order (the same on every process for the same config):
   their names (as in model files), values and gradients (valid inside the hook). */
int scl_net_param_count(scl_net net);
const char *scl_net_param_name(scl_net net, int i);
scl_tensor scl_net_param_value(scl_net net, int i);
scl_tensor scl_net_param_grad(scl_net net, int i);

/* The verification threshold stored with the model (NaN when none was set). */
float scl_net_threshold(scl_net net);
void scl_net_set_threshold(scl_net net, float threshold);

/* ============================================================================================= */
/* 6. Data                                                                                       */
/* ============================================================================================= */

typedef struct scl_dataset_s *scl_dataset;

/* MNIST: dir holds train-images-idx3-ubyte / train-labels-idx1-ubyte (train = 1) or the t10k-
   files (train = 0), raw or with .gz. Images are 1×28×28. */
scl_status scl_dataset_open_mnist(const char *dir, int train, scl_dataset *ds);
/* An image folder: one subfolder per identity (sorted by name → labels 0..), images PGM, PPM, PNG or
   JPEG. All images must have one size; colour images are converted to the first image's channels.
   Images are decoded when fetched. first/last (1-based, inclusive; 0 = no limit) select a range of
   the sorted identities, e.g. 1..30 of AT&T's s1..s40 in natural order ("s2" before "s10"). */
scl_status scl_dataset_open_folder(const char *root, int first, int last, scl_dataset *ds);
void scl_dataset_release(scl_dataset ds);
size_t scl_dataset_size(scl_dataset ds);
int scl_dataset_classes(scl_dataset ds);
/* C, H, W of every image. */
void scl_dataset_shape(scl_dataset ds, int *channels, int *height, int *width);
/* The identity's folder name ("s7") or the digit ("7"). NULL if out of range. */
const char *scl_dataset_class_name(scl_dataset ds, int label);
/* Fetches n samples by index into images [n, C, H, W] normalised as (p − 127.5)/128 and labels [n]
   (either may be NULL). mirror (NULL or n flags) flips sample i horizontally when mirror[i] != 0. */
scl_status scl_dataset_get(scl_dataset ds, const size_t *indices, size_t n, const unsigned char *mirror,
                           float *images, int *labels);

/* Which identities of an image folder a dataset takes (all fields 0: every one). */
typedef struct {
  int first, last;          /* 1-based, inclusive range of the sorted identities; 0 = no limit */
  int min_images;           /* identities with fewer images are left out (0, 1: none) */
  const char *const *exclude; /* [nexclude] identity (folder) names left out, e.g. a held-out fold's */
  size_t nexclude;
} scl_folder_filter;
/* scl_dataset_open_folder with a filter; labels are 0.. over the identities kept, in order.
   Nothing left after filtering: SCL_ERR_FORMAT saying what removed them. */
scl_status scl_dataset_open_folder_filtered(const char *root, const scl_folder_filter *filter, scl_dataset *ds);

/* scl_dataset_get with a crop: each stored image (mirrored first when mirror[i]) is cut to the
   window of height×width at row top[i], column left[i] (both >= 0, the window inside the image;
   top/left NULL: centred, rounding down), so images is [n, C, height, width]. This is how the
   trainer takes random crops of padded aligned faces. */
scl_status scl_dataset_get_crops(scl_dataset ds, const size_t *indices, size_t n, const unsigned char *mirror,
                                 const int *top, const int *left, int height, int width, float *images,
                                 int *labels);

/* Loads one image file (PGM/PNG/JPEG) as channels×height×width floats normalised as above;
   the file's size must match (else SCL_ERR_SHAPE), colour↔grey is converted. */
scl_status scl_image_load(const char *path, int channels, int height, int width, float *out);
/* Loads one image file as a network with this input expects it: the file must be the stored size
   (fmt's crop, or height×width without one; else SCL_ERR_SHAPE naming both sizes); a colour file
   for a grey net becomes grey (0.299 R + 0.587 G + 0.114 B), a grey file for a colour net is
   SCL_ERR_SHAPE; the centre height×width window is cut (rounding down), channels are put in fmt's
   order and values become (p − mean)·scale. out [channels, height, width]. */
scl_status scl_image_load_input(const char *path, const scl_input_format *fmt, int channels, int height, int width,
                                float *out);

/* ============================================================================================= */
/* 7. Face verification                                                                          */
/* ============================================================================================= */

/* One line of an LFW-style pairs file: same person (name_a == name_b) or different people. */
typedef struct {
  char name_a[128], name_b[128];
  int index_a, index_b; /* image numbers as written in the file (LFW: 1-based) */
  int same;             /* 1 same person, 0 different */
  int fold;             /* 0..folds-1 */
} scl_pair;

/* Reads pairs.txt: a header "folds pairs_per_class", then per fold pairs_per_class lines
   "name i j" (same) followed by pairs_per_class lines "name1 i name2 j" (different).
   *pairs is malloc'd (free with free()). Malformed lines: SCL_ERR_FORMAT naming the line number. */
scl_status scl_pairs_read(const char *path, scl_pair **pairs, size_t *npairs, int *folds);
/* Writes pairs (grouped by fold, same before different) atomically. */
scl_status scl_pairs_write(const char *path, const scl_pair *pairs, size_t npairs, int folds);
/* Makes balanced pairs from an image folder (identities first..last as in scl_dataset_open_folder):
   per fold, per_fold same-person and per_fold different-person pairs, drawn without repeats by seed. */
scl_status scl_pairs_make(const char *root, int first, int last, int folds, int per_fold, unsigned long long seed,
                          scl_pair **pairs, size_t *npairs);
/* The distinct people (names) that appear in fold `fold` (0-based) of the pairs, for leaving them
   out of training: *names is one malloc'd block (free(*names) frees all), sorted by strcmp.
   fold outside 0..folds-1 of the pairs: SCL_ERR_INVALID_ARGUMENT. */
scl_status scl_pairs_fold_people(const scl_pair *pairs, size_t npairs, int fold, char ***names, size_t *count);
/* The file of image (name, index) under root. pattern NULL: tries the LFW layout
   root/name/name_%04d.{jpg,png,pgm} then root/name/%d.{pgm,png,jpg}; else a pattern with %n (name)
   and %i (index) or %4i (zero-padded to 4), e.g. "%n/%n_%4i.jpg" or "%n/%i.pgm". SCL_ERR_IO if absent. */
scl_status scl_pairs_image_path(const char *root, const char *pattern, const char *name, int index, char *out,
                                size_t size);

/* The reference's test-time feature of n images [n, C, H, W] (normalised as scl_dataset_get does, at
   the net's input size): each image's embedding followed by the embedding of its horizontal mirror,
   out [n, 2·embed_dim] (with_mirror = 0: the embedding alone, out [n, embed_dim]), then each row
   L2-normalised (a zero row stays zero). The cosine similarity of two faces is then the dot product
   of their rows. Errors as scl_net_embed's, on the net's context (a NULL net: SCL_ERR_INVALID_ARGUMENT
   with the message on scl_context_error(NULL)); out is untouched on failure. */
scl_status scl_verify_features(scl_net net, const float *images, size_t n, int with_mirror, float *out);

typedef struct {
  int folds;
  double accuracy[32];  /* per fold, on its held-out pairs */
  double threshold[32]; /* per fold, chosen on the other folds */
  double mean, std;     /* of the fold accuracies (std with n − 1) */
  double tar_at_far_1e2, tar_at_far_1e3; /* over all pairs' held-out scores */
  double threshold_all; /* the threshold chosen on all pairs together (for `compare`) */
} scl_verify_result;

/* The SphereFace authors' LFW protocol over features fa, fb [npairs, dim] (already the embedding
   of the image ++ its mirror), fold[npairs], same[npairs]. For each fold: subtract the mean feature
   of the other folds (if subtract_mean), L2-normalise, score by cosine; the threshold is the mean of
   all t = −1 + k·1e−4 (k = 0..20000) reaching the best accuracy on the other folds (same pairs count
   when score > t, different when score < t); it is applied to the held-out fold. scores (NULL or
   [npairs]) receives each pair's held-out score. */
scl_status scl_verify_protocol(const float *fa, const float *fb, size_t dim, const int *fold, const int *same,
                               size_t npairs, int folds, int subtract_mean, scl_verify_result *result,
                               float *scores);
/* The ROC of n pair scores (same[i] 1 for a same-person pair, 0 else): one point per distinct score,
   highest threshold first, with far/tar the fractions of different/same pairs scoring >= it.
   *points is malloc'd (free()). Non-finite scores: SCL_ERR_NUMERIC; only one kind of pair, or same
   values other than 0/1: SCL_ERR_INVALID_ARGUMENT. */
typedef struct {
  double threshold, far, tar;
} scl_roc_point;
scl_status scl_verify_roc(const float *scores, const int *same, size_t n, scl_roc_point **points, size_t *count);
/* Writes that ROC as CSV "threshold,far,tar" (atomically). */
scl_status scl_verify_write_roc(const char *path, const float *scores, const int *same, size_t n);

/* ============================================================================================= */
/* 8. Face alignment                                                                             */
/* ============================================================================================= */

/* The SphereFace reference points (left eye, right eye, nose tip, left and right mouth corner, as
   seen in the image; x y pairs) for a width×height crop: the authors' points for 96×112 scaled by
   width/96 and height/112, then shifted by pad, for a (width + 2·pad)×(height + 2·pad) crop (the
   reference trains on 100×116 = 96×112 with pad 2). */
scl_status scl_align_reference_points(int width, int height, int pad, float points[10]);

/* The similarity transform (rotation, uniform scale, translation; never a reflection) that maps the
   npoints >= 2 source points src onto dst (both x y pairs) with the least squared error, as the 2×3
   matrix m = [a −b tx; b a ty] (dst ≈ m·[x y 1]ᵀ). All source points equal: SCL_ERR_INVALID_ARGUMENT. */
scl_status scl_align_similarity(const float *src, const float *dst, int npoints, double m[6]);

/* Warps src (interleaved bytes [src_height, src_width, channels], channels 1..4) into out
   [out_height, out_width, channels]: out(x, y) = src(m⁻¹·(x, y)) by bilinear interpolation with pixel
   centres at integer coordinates; source pixels outside the image count as 0 (as OpenCV's
   warpAffine); values rounded to the nearest byte. */
scl_status scl_align_warp(const unsigned char *src, int channels, int src_height, int src_width, const double m[6],
                          int out_height, int out_width, unsigned char *out);

/* One line of a landmark file: an image's path (relative to the image root) and its points. */
#define SCL_MAX_LANDMARKS 68
typedef struct {
  char path[512];
  int npoints;
  float xy[2 * SCL_MAX_LANDMARKS]; /* x1 y1 x2 y2 ... in pixels of the image */
} scl_landmarks;
/* Reads a landmark file in LFW's format: per line "relative/path.jpg x1 y1 ... xN yN", separated by
   spaces or tabs; blank lines skipped; the last line may lack its newline. Every line must have the
   same N >= 2. *entries is malloc'd (free()). Errors are SCL_ERR_FORMAT "FILE:LINE: what". */
scl_status scl_landmarks_read(const char *path, scl_landmarks **entries, size_t *count);

/* ============================================================================================= */
/* 9. Tuning                                                                                     */
/* ============================================================================================= */

/* CLBlast picks its GEMM kernels' parameters from a database of known devices; others (PoCL's CPU
   device, new GPUs) get slow generic ones. `spherecl tune` times candidate parameter sets on the
   SphereFace GEMM shapes and stores the winners in the device's tuning cache. Every context applies
   its device's tuning when it is created, from the first of:
     SPHERECL_TUNING=FILE   the entries of FILE (a malformed file fails context creation);
     SPHERECL_TUNING=off    nothing: CLBlast's own choice;
     the cache file         scl_tuning_cache_path; one that is stale (another driver version) or
                            corrupt is ignored with a warning on stderr, never an error.
   Entries are text, one per line: a CLBlast kernel name, a precision in bits, then every parameter
   of that kernel as NAME=VALUE, e.g.
       Xgemm 32 GEMMK=1 KREG=16 KWG=1 KWI=1 MDIMA=2 MDIMC=2 MWG=64 NDIMB=2 NDIMC=2 NWG=64 SA=0 SB=0 STRM=0 STRN=0 VWM=16 VWN=16
   '#' starts a comment; a line "[text]" limits the entries after it to devices whose
   "platform: device" contains text. CLBlast's parameters apply to the device process-wide, and
   belong before a context's first GEMM (CLBlast keeps the kernels it built). Two entries are
   spherecl's own: "Conv2d 32 WINOGRAD=M" runs 3x3 stride-1 convolutions by Winograd F(4x4,3x3)
   (M = 4; F(2x2,3x3) on outputs under 8x8), F(2x2,3x3) (M = 2) or im2col (M = 0); the environment
   variable SPHERECL_WINOGRAD=0, 2 or 4 overrides it. "Gemm 32 ROWS=R COLS=C" runs every GEMM whose
   B is untransposed (all of the convolutions') on spherecl's own kernel, each work-item an R x C
   tile of C in registers (4x32, 8x32, 8x48 or 12x32; 0 and 0: CLBlast), which on CPUs under PoCL
   runs about twice as fast as CLBlast's (bench/README.md); SPHERECL_GEMM=RxC or =clblast
   overrides it. An untuned CPU device (no cache, no file) runs that kernel with an 8x32 tile.
   Where it runs, convolutions that Winograd does not take run as implicit GEMMs, and
   "Conv2dDirect 32 BELOW_CHANNELS=C" also takes from Winograd the layers with fewer than C input
   channels (0, the default: none). */
typedef enum {
  SCL_TUNING_NONE = 0,  /* CLBlast's database or defaults */
  SCL_TUNING_CACHE = 1, /* the device's cache file */
  SCL_TUNING_FILE = 2   /* the file named by SPHERECL_TUNING */
} scl_tuning_source;

/* Where ctx's tuning came from. */
scl_tuning_source scl_context_tuning(scl_context ctx);
/* The cache file of a device: FOLDER/PLATFORM--DEVICE.tuning, FOLDER being $SPHERECL_CACHE_DIR,
   else $XDG_CACHE_HOME/spherecl, else ~/.cache/spherecl (characters other than letters, digits, '.'
   and '-' become '_'). */
scl_status scl_tuning_cache_path(const scl_device_info *info, char *path, size_t size);
/* 1 if the device has a cache file made for it (this platform, device and driver version), else 0;
   why (may be NULL) receives the reason a file that exists is not used ("" if none). */
int scl_tuning_cache_state(const scl_device_info *info, char *why, size_t size);
/* Applies entries to ctx's device now (a refused entry: its status, the line named). */
scl_status scl_tuning_apply(scl_context ctx, const char *entries);
/* Writes entries as the device's cache file (atomically; the folder is created). */
scl_status scl_tuning_save(const scl_device_info *info, const char *entries);

/* ============================================================================================= */
/* 10. Import and export                                                                         */
/* ============================================================================================= */

/* The published SphereFace models run without Caffe, Python or CUDA: the authors' Caffe model
   (sphereface_model.caffemodel) and the PyTorch port's state_dict (sphere20a_20171020.pth), or any
   SphereFace-4/10/20/36/64 saved the same way. Both name their tensors conv{S}_{K} (K = 1 the stage's
   stride-2 conv, K = 2U and 2U+1 the convs of residual unit U), relu{S}_{K} (PReLU slopes), fc5 (the
   embedding) and, for training, fc6 (the class weights: [classes, D] in Caffe, [D, classes] in the port).
   The importer reads depth, widths, embedding size and class count from the tensors, carries a bias
   wherever the file has one (the port's residual-unit convs have trained ones), and records the input
   convention of the options in the model, so that embed/verify/compare preprocess as the model expects. */
typedef enum {
  SCL_MODEL_CAFFE = 1,  /* a binary .caffemodel (NetParameter; the pre-2015 V1 layers too), read with no Caffe */
  SCL_MODEL_PYTORCH = 2 /* a state_dict saved by torch.save: the legacy format (torch 0.2 on, the port's
                           2017 file) or the zip format (torch >= 1.6's default); read with no Python */
} scl_model_format;

typedef struct {
  int in_height, in_width; /* the input the model was trained on: 112×96 for both published models */
  scl_input_format input;  /* BGR, 127.5, 1/128, no crop: both published models' convention */
} scl_import_options;
void scl_import_options_default(scl_import_options *opt);

/* Reads path as format and builds the net on ctx (opt NULL: the defaults). A missing tensor, an
   extra one, a wrong shape, a truncated or foreign file: SCL_ERR_FORMAT naming the tensor or the byte
   offset. Without fc6 the net embeds as the file says but has 2 placeholder classes (xavier-initialised,
   seed 1): it cannot classify until trained. The imported net trains like any other (A-Softmax m=4). */
scl_status scl_net_import(scl_context ctx, scl_model_format format, const char *path, const scl_import_options *opt,
                          scl_net *net);
/* Writes net as a state_dict of the port's layout and names (format SCL_MODEL_PYTORCH only; Caffe:
   SCL_ERR_UNSUPPORTED), loadable by torch.load and load_state_dict into the port's sphere20a (or
   its deeper siblings): every conv has a bias (zeros where net has none), fc6 is [D, classes].
   Written atomically. */
scl_status scl_net_export(scl_net net, scl_model_format format, const char *path);

#ifdef __cplusplus
} /* extern "C" */
#endif
#endif /* SPHERECL_H */
