/* The network: a flat list of layers (the darknet idea) over activations and parameters.
   net_build.c makes and initialises it, net_run.c runs it forward/backward and trains it,
   net_io.c saves and loads it. */
#ifndef SPHERECL_NET_INTERNAL_H
#define SPHERECL_NET_INTERNAL_H

#include "internal.h"

typedef enum { SCL_LAYER_CONV, SCL_LAYER_PRELU, SCL_LAYER_ADD, SCL_LAYER_LINEAR } scl_layer_kind;

/* A trainable tensor with its gradient, its momentum history and Caffe's multipliers. */
typedef struct {
  char name[64];
  scl_tensor value, grad, history;
  float lr_mult, decay_mult;
} scl_param;

/* One layer: reads activation `in` (and `in2` for ADD), writes activation `out`.
   w/b are parameter indices (-1: none); for PRELU, w is the slope. */
typedef struct {
  scl_layer_kind kind;
  int in, in2, out;
  int w, b;
  scl_conv2d_params conv;
} scl_layer;

/* An activation's shape without the batch dimension. */
typedef struct {
  int ndim; /* including the batch dimension: 4 (NCHW) or 2 ([N, D]) */
  size_t dims[4]; /* dims[0] is set to the batch size when tensors are allocated */
} scl_act_shape;

#define SCL_NET_MAX_LAYERS 256
#define SCL_NET_MAX_PARAMS 160
#define SCL_NET_MAX_ACTS (SCL_NET_MAX_LAYERS + 1)

struct scl_net_s {
  scl_context ctx;
  scl_net_config cfg;
  long iteration;
  float threshold;

  int nlayers, nparams, nacts;
  scl_layer layers[SCL_NET_MAX_LAYERS];
  scl_param params[SCL_NET_MAX_PARAMS];
  scl_act_shape shapes[SCL_NET_MAX_ACTS];
  int class_w; /* parameter index of the class weights [M, D] */

  /* Per-batch-size buffers (reallocated when the batch size changes). */
  size_t batch;
  scl_tensor acts[SCL_NET_MAX_ACTS];    /* acts[0] = input images, acts[nacts-1] = embeddings */
  scl_tensor grads[SCL_NET_MAX_ACTS];   /* each activation's own gradient buffer */
  scl_tensor scratch[SCL_NET_MAX_ACTS]; /* for activations with two consumers (residual inputs) */
  scl_tensor labels, logits, dlogits;
  scl_tensor wn, dwn; /* exact mode: the normalised class weights and their gradient */
  scl_grad_hook grad_hook; /* run between backward and the SGD update (data-parallel training) */
  void *grad_hook_user;
  scl_grad_ready_hook ready_hook; /* run in backward as each parameter's gradient is complete */
  void *ready_hook_user;
};

/* net_build.c */
scl_status scl__net_check_config(const scl_net_config *cfg, char *why, size_t size);
/* Builds layers and parameters for cfg (no initialisation: values are uninitialised). */
scl_status scl__net_build(scl_context ctx, const scl_net_config *cfg, scl_net *out);
/* Caffe initialisation from cfg.seed. */
scl_status scl__net_init_params(scl_net net);
int scl__net_find_param(scl_net net, const char *name);

void scl__net_release_batch(scl_net net);

/* net_run.c */
/* Makes sure the per-batch buffers exist for batch size n. */
scl_status scl__net_ensure_batch(scl_net net, size_t n);
/* Runs the layers forward from acts[0] (already written) to the embeddings. */
scl_status scl__net_forward(scl_net net);

#endif
