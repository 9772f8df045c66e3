/* Softmax cross-entropy of logits [N,M] against labels I32 [N], as Caffe's SoftmaxWithLoss (loss
   normalised by N, probabilities clamped at FLT_MIN before the log) together with Caffe's Accuracy
   layer at top_k = 1:
     loss    = (1/N) Σ_i −log(max(p_i,y_i, FLT_MIN)),  p_i = softmax(logits_i), max-subtracted
     correct = the number of rows whose label's logit is strictly greater than every other logit of
               the row (a tie counts as wrong)
     dlogits = (p − onehot(labels)) / N, when not NULL
   One work-group per row (kernels/softmax.cl) writes the row's loss and 0/1 hit into a workspace;
   the host adds them in double, in row order. The labels are read and checked on the host first:
   the kernel indexes the row by the label, and the call waits for the queue anyway. */
#include "ops/elementwise_common.h"

#include <stdio.h>
#include <stdlib.h>

static scl_status check_xent(scl_context ctx, const char *op, scl_tensor logits, scl_tensor labels,
                             scl_tensor dlogits) {
  static const size_t any[2] = {0, 0};
  scl_status st;
  if ((st = scl__check_tensor(ctx, op, "logits", logits, SCL_F32)) ||
      (st = scl__check_shape(ctx, op, "logits", logits, 2, any)) ||
      (st = scl__check_tensor(ctx, op, "labels", labels, SCL_I32)) ||
      (st = scl__check_shape(ctx, op, "labels", labels, 1, &logits->dims[0])) ||
      (st = scl__check_grad(ctx, op, "dlogits", dlogits, "logits", logits)))
    return st;
  const scl_named_tensor args[] = {{"dlogits", dlogits}, {"logits", logits}, {"labels", labels}};
  return scl__check_disjoint(ctx, op, args, 1, 3);
}

/* Reads the per-row losses rows_out[0..rows) and hits rows_out[rows..2·rows) (waiting for the
   kernel) and reduces them: the mean loss and the number of hits. */
static scl_status read_totals(scl_context ctx, const char *op, cl_mem rows_out, size_t rows, float *loss,
                              int *correct) {
  float *host = malloc(2 * rows * sizeof *host);
  if (!host) return scl__fail(ctx, SCL_ERR_OUT_OF_MEMORY, "%s: out of host memory", op);
  cl_int err = clEnqueueReadBuffer(ctx->queue, rows_out, CL_TRUE, 0, 2 * rows * sizeof *host, host, 0, NULL, NULL);
  if (err != CL_SUCCESS) {
    free(host);
    char what[96];
    snprintf(what, sizeof what, "%s: reading the per-row losses", op);
    return scl__cl_fail(ctx, err, what);
  }
  double sum = 0.0;
  long hits = 0;
  for (size_t i = 0; i < rows; i++) {
    sum += host[i];
    hits += host[rows + i] != 0.0f;
  }
  free(host);
  if (loss) *loss = (float)(sum / (double)rows);
  if (correct) *correct = (int)hits;
  return SCL_OK;
}

scl_status scl_softmax_xent(scl_context ctx, scl_tensor logits, scl_tensor labels, scl_tensor dlogits, float *loss,
                            int *correct) {
  static const char op[] = "scl_softmax_xent";
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  scl_status st;
  if ((st = check_xent(ctx, op, logits, labels, dlogits))) return st;
  size_t rows = logits->dims[0], cols = logits->dims[1];
  if ((st = scl__check_labels(ctx, op, labels, cols))) return st;

  cl_mem rows_out;
  if ((st = scl__workspace(ctx, SCL_WS_SMALL_OPS, 2 * rows * sizeof(float), &rows_out))) return st;
  scl_tensor d_arg = dlogits ? dlogits : logits; /* never written when has_d is 0 */
  size_t ls = scl__group_size(ctx);
  st = SCL_LAUNCH(ctx, "softmax", "softmax_xent", rows * ls, 0, SCL_TENSOR(logits), SCL_TENSOR(labels),
                  SCL_TENSOR(d_arg), SCL_MEM(rows_out), SCL_UINT(rows), SCL_UINT(cols), SCL_UINT(dlogits != NULL),
                  SCL_FLOAT(1.0 / (double)rows), SCL_LOCAL(ls * sizeof(float)));
  return st ? st : read_totals(ctx, op, rows_out, rows, loss, correct);
}
