/* Running the network: forward to the embeddings, the margin and loss, backward, and SGD. */
#include "net_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static scl_status make_like_act(scl_net net, int a, size_t n, scl_tensor *t) {
  scl_act_shape s = net->shapes[a];
  s.dims[0] = n;
  return scl_tensor_create(net->ctx, SCL_F32, s.ndim, s.dims, t);
}

/* Activations with two consumers (a residual unit's input) need a scratch gradient buffer. */
static int consumers(scl_net net, int a) {
  int n = 0;
  for (int i = 0; i < net->nlayers; i++) n += (net->layers[i].in == a) + (net->layers[i].in2 == a);
  return n;
}

scl_status scl__net_ensure_batch(scl_net net, size_t n) {
  if (net->batch == n) return SCL_OK;
  scl__net_release_batch(net);
  scl_status st = SCL_OK;
  const size_t m = (size_t)net->cfg.num_classes;
  for (int a = 0; a < net->nacts && st == SCL_OK; a++) {
    st = make_like_act(net, a, n, &net->acts[a]);
    if (st == SCL_OK && a > 0) st = make_like_act(net, a, n, &net->grads[a]);
    if (st == SCL_OK && a > 0 && consumers(net, a) > 1) st = make_like_act(net, a, n, &net->scratch[a]);
  }
  const size_t ld[1] = {n}, lg[2] = {n, m};
  if (st == SCL_OK) st = scl_tensor_create(net->ctx, SCL_I32, 1, ld, &net->labels);
  if (st == SCL_OK) st = scl_tensor_create(net->ctx, SCL_F32, 2, lg, &net->logits);
  if (st == SCL_OK) st = scl_tensor_create(net->ctx, SCL_F32, 2, lg, &net->dlogits);
  if (st != SCL_OK) {
    scl__net_release_batch(net);
    if (st == SCL_ERR_OUT_OF_MEMORY) {
      char why[512];
      snprintf(why, sizeof why, "%s", scl_context_error(net->ctx));
      return scl__fail(net->ctx, st, "a batch of %zu images does not fit on the device (%s): use a smaller batch", n,
                       why);
    }
    return st;
  }
  net->batch = n;
  return SCL_OK;
}

static scl_tensor param(scl_net net, int i) { return i >= 0 ? net->params[i].value : NULL; }
static scl_tensor pgrad(scl_net net, int i) { return i >= 0 ? net->params[i].grad : NULL; }

scl_status scl__net_forward(scl_net net) {
  scl_context ctx = net->ctx;
  for (int i = 0; i < net->nlayers; i++) {
    const scl_layer *l = &net->layers[i];
    scl_tensor x = net->acts[l->in], y = net->acts[l->out];
    scl_status st = SCL_OK;
    switch (l->kind) {
    case SCL_LAYER_CONV: st = scl_conv2d_forward(ctx, &l->conv, x, param(net, l->w), param(net, l->b), y); break;
    case SCL_LAYER_PRELU: st = scl_prelu_forward(ctx, x, param(net, l->w), y); break;
    case SCL_LAYER_ADD: st = scl_add(ctx, x, net->acts[l->in2], y); break;
    case SCL_LAYER_LINEAR: st = scl_linear_forward(ctx, x, param(net, l->w), param(net, l->b), y); break;
    }
    if (st != SCL_OK) return st;
  }
  return SCL_OK;
}

/* Where a layer should write the gradient of activation a: its own buffer the first time a
   gradient reaches it in this backward pass, else the scratch buffer (then added in). */
static scl_tensor grad_target(scl_net net, scl_tensor *cur, int a) {
  if (a == 0) return NULL; /* the input images need no gradient */
  return cur[a] ? net->scratch[a] : net->grads[a];
}

static scl_status grad_delivered(scl_net net, scl_tensor *cur, int a, scl_tensor written) {
  if (a == 0) return SCL_OK;
  if (!cur[a]) {
    cur[a] = written;
    return SCL_OK;
  }
  return scl_add(net->ctx, cur[a], written, cur[a]);
}

/* Tells the ready hook that parameter i's gradient is complete (i < 0: the layer has none). */
static scl_status grad_ready(scl_net net, int i) {
  return i >= 0 && net->ready_hook ? net->ready_hook(net, i, net->ready_hook_user) : SCL_OK;
}

/* Backward from the embedding gradient in grads[nacts-1] to every parameter gradient. An ADD passes
   its gradient to both inputs by reference (no copy); a residual input's second gradient is summed
   into the first. */
static scl_status backward(scl_net net) {
  scl_context ctx = net->ctx;
  scl_tensor cur[SCL_NET_MAX_ACTS] = {0};
  cur[net->nacts - 1] = net->grads[net->nacts - 1];
  for (int i = net->nlayers - 1; i >= 0; i--) {
    const scl_layer *l = &net->layers[i];
    scl_tensor x = net->acts[l->in], dy = cur[l->out];
    scl_status st = SCL_OK;
    if (l->kind == SCL_LAYER_ADD) {
      if ((st = grad_delivered(net, cur, l->in, dy)) != SCL_OK) return st;
      if ((st = grad_delivered(net, cur, l->in2, dy)) != SCL_OK) return st;
      continue;
    }
    scl_tensor dx = grad_target(net, cur, l->in);
    switch (l->kind) {
    case SCL_LAYER_CONV:
      st = scl_conv2d_backward(ctx, &l->conv, x, param(net, l->w), dy, dx, pgrad(net, l->w), pgrad(net, l->b));
      break;
    case SCL_LAYER_PRELU: st = scl_prelu_backward(ctx, x, param(net, l->w), dy, dx, pgrad(net, l->w)); break;
    case SCL_LAYER_LINEAR:
      st = scl_linear_backward(ctx, x, param(net, l->w), dy, dx, pgrad(net, l->w), pgrad(net, l->b));
      break;
    case SCL_LAYER_ADD: break;
    }
    if (st == SCL_OK && dx) st = grad_delivered(net, cur, l->in, dx);
    if (st == SCL_OK) st = grad_ready(net, l->w);
    if (st == SCL_OK) st = grad_ready(net, l->b);
    if (st != SCL_OK) return st;
  }
  return SCL_OK;
}

/* Caffe's multistep policy: lr·gamma^k, k = the number of steps s with (iteration − 1) >= s
   (Caffe counts its updates from 0; we count iterations from 1). */
static float learning_rate(const scl_net_config *c, long iteration) {
  float lr = c->lr;
  for (int i = 0; i < 4; i++)
    if (c->lr_steps[i] > 0 && iteration - 1 >= c->lr_steps[i]) lr *= c->lr_gamma;
  return lr;
}

/* The class weights the margin sees: in Caffe mode, for training, normalised in place (the reference
   does so before every forward); in exact mode, and for inference in either mode, normalised into
   net->wn (so normalisation is part of the graph, and inference never changes the model). */
static scl_status class_weights(scl_net net, int training, scl_tensor *w_used) {
  scl_tensor w = net->params[net->class_w].value;
  if (net->cfg.margin.type == SCL_MARGIN_NONE) {
    *w_used = w; /* plain softmax: an ordinary inner-product layer, no normalisation */
    return SCL_OK;
  }
  if (training && net->cfg.margin.grad == SCL_GRAD_CAFFE) {
    *w_used = w;
    return scl_weightnorm_forward(net->ctx, w, w, NULL);
  }
  if (!net->wn) {
    const size_t d[2] = {scl_tensor_dim(w, 0), scl_tensor_dim(w, 1)};
    scl_status st = scl_tensor_create(net->ctx, SCL_F32, 2, d, &net->wn);
    if (st != SCL_OK) return st;
  }
  *w_used = net->wn;
  return scl_weightnorm_forward(net->ctx, w, net->wn, NULL);
}

static scl_status check_batch(scl_net net, const char *op, const float *images, size_t n) {
  if (!images) return scl__fail(net->ctx, SCL_ERR_INVALID_ARGUMENT, "%s: images is NULL", op);
  if (n == 0 || n > 65536) return scl__fail(net->ctx, SCL_ERR_SHAPE, "%s: batch size %zu is outside 1..65536", op, n);
  return SCL_OK;
}

static scl_status load_images(scl_net net, const float *images, size_t n) {
  scl_status st = scl__net_ensure_batch(net, n);
  if (st != SCL_OK) return st;
  return scl_tensor_write(net->acts[0], images, scl_tensor_count(net->acts[0]) * sizeof(float));
}

scl_status scl_net_train_step(scl_net net, const float *images, const int *labels, size_t n,
                              scl_train_stats *stats) {
  if (!net) return SCL_ERR_INVALID_ARGUMENT;
  const char *op = "scl_net_train_step";
  scl_status st = check_batch(net, op, images, n);
  if (st != SCL_OK) return st;
  if (!labels) return scl__fail(net->ctx, SCL_ERR_INVALID_ARGUMENT, "%s: labels is NULL", op);
  for (size_t i = 0; i < n; i++)
    if (labels[i] < 0 || labels[i] >= net->cfg.num_classes)
      return scl__fail(net->ctx, SCL_ERR_INVALID_ARGUMENT, "%s: label %d of sample %zu is outside [0, %d)", op,
                       labels[i], i, net->cfg.num_classes);
  if ((st = load_images(net, images, n)) != SCL_OK) return st;
  if ((st = scl_tensor_write(net->labels, labels, n * sizeof(int))) != SCL_OK) return st;

  const long it = net->iteration + 1;
  scl_margin_params mp = net->cfg.margin;
  mp.lambda = scl_asoftmax_lambda(net->cfg.lambda_base, net->cfg.lambda_gamma, net->cfg.lambda_power,
                                  net->cfg.lambda_min, it);
  scl_tensor emb = net->acts[net->nacts - 1], demb = net->grads[net->nacts - 1];
  scl_tensor w_used;
  float loss = 0;
  int correct = 0;
  if ((st = scl__net_forward(net)) != SCL_OK || (st = class_weights(net, 1, &w_used)) != SCL_OK ||
      (st = scl_margin_forward(net->ctx, &mp, emb, w_used, net->labels, net->logits)) != SCL_OK ||
      (st = scl_softmax_xent(net->ctx, net->logits, net->labels, net->dlogits, &loss, &correct)) != SCL_OK)
    return st;
  if (!isfinite(loss))
    return scl__fail(net->ctx, SCL_ERR_NUMERIC, "%s: the loss is %g at iteration %ld (lower the learning rate?)", op,
                     (double)loss, it);
  scl_param *cw = &net->params[net->class_w];
  if (w_used == net->wn) {
    /* Exact mode: the margin gives d/dŵ, the normalisation's Jacobian turns it into d/dw. */
    if (!net->dwn && (st = scl_tensor_create(net->ctx, SCL_F32, 2, net->wn->dims, &net->dwn)) != SCL_OK) return st;
    if ((st = scl_margin_backward(net->ctx, &mp, emb, net->wn, net->labels, net->dlogits, demb, net->dwn)) !=
            SCL_OK ||
        (st = scl_weightnorm_backward(net->ctx, cw->value, net->dwn, cw->grad)) != SCL_OK)
      return st;
  } else if ((st = scl_margin_backward(net->ctx, &mp, emb, w_used, net->labels, net->dlogits, demb, cw->grad)) !=
             SCL_OK) {
    return st;
  }
  if ((st = grad_ready(net, net->class_w)) != SCL_OK || (st = backward(net)) != SCL_OK) return st;
  if (net->grad_hook && (st = net->grad_hook(net, net->grad_hook_user)) != SCL_OK) return st;

  const float lr = learning_rate(&net->cfg, it);
  for (int i = 0; i < net->nparams; i++) {
    scl_param *p = &net->params[i];
    scl_sgd_params sp = {lr * p->lr_mult, net->cfg.momentum, net->cfg.weight_decay * p->decay_mult};
    if ((st = scl_sgd_update(net->ctx, &sp, p->value, p->grad, p->history)) != SCL_OK) return st;
  }
  net->iteration = it;
  if (stats) {
    stats->iteration = it;
    stats->loss = loss;
    stats->accuracy = (float)correct / (float)n;
    stats->lambda = mp.lambda;
    stats->lr = lr;
  }
  return SCL_OK;
}

scl_status scl_net_embed(scl_net net, const float *images, size_t n, float *out) {
  if (!net) return SCL_ERR_INVALID_ARGUMENT;
  scl_status st = check_batch(net, "scl_net_embed", images, n);
  if (st != SCL_OK) return st;
  if (!out) return scl__fail(net->ctx, SCL_ERR_INVALID_ARGUMENT, "scl_net_embed: out is NULL");
  if ((st = load_images(net, images, n)) != SCL_OK || (st = scl__net_forward(net)) != SCL_OK) return st;
  scl_tensor emb = net->acts[net->nacts - 1];
  return scl_tensor_read(emb, out, scl_tensor_count(emb) * sizeof(float));
}

scl_status scl_net_logits(scl_net net, const float *images, size_t n, float *out) {
  if (!net) return SCL_ERR_INVALID_ARGUMENT;
  scl_status st = check_batch(net, "scl_net_logits", images, n);
  if (st != SCL_OK) return st;
  if (!out) return scl__fail(net->ctx, SCL_ERR_INVALID_ARGUMENT, "scl_net_logits: out is NULL");
  scl_tensor w_used;
  if ((st = load_images(net, images, n)) != SCL_OK || (st = scl__net_forward(net)) != SCL_OK ||
      (st = class_weights(net, 0, &w_used)) != SCL_OK)
    return st;
  scl_tensor emb = net->acts[net->nacts - 1];
  if ((st = scl_linear_forward(net->ctx, emb, w_used, NULL, net->logits)) != SCL_OK ||
      (st = scl_tensor_read(net->logits, out, scl_tensor_count(net->logits) * sizeof(float))) != SCL_OK)
    return st;
  if (net->cfg.margin.type != SCL_MARGIN_COMBINED) return SCL_OK;
  /* Combined margins score by s·cos: rescale each row by s/|x|. */
  const size_t d = (size_t)net->cfg.embed_dim, m = (size_t)net->cfg.num_classes;
  float *e = malloc(n * d * sizeof *e);
  if (!e) return scl__fail(net->ctx, SCL_ERR_OUT_OF_MEMORY, "scl_net_logits: out of host memory");
  st = scl_tensor_read(emb, e, n * d * sizeof *e);
  for (size_t i = 0; st == SCL_OK && i < n; i++) {
    double norm = 0;
    for (size_t k = 0; k < d; k++) norm += (double)e[i * d + k] * e[i * d + k];
    double scale = norm > 0 ? net->cfg.margin.s / sqrt(norm) : 0.0;
    for (size_t j = 0; j < m; j++) out[i * m + j] = (float)(out[i * m + j] * scale);
  }
  free(e);
  return st;
}
