/* Saving and loading networks through the model-file container (modelfile.c holds the format). */
#include "modelfile.h"
#include "net_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads one device tensor into a container entry named `name`. */
static scl_status to_host(scl_net net, scl_tensor t, const char *name, scl_mf_tensor *e) {
  memset(e, 0, sizeof *e);
  snprintf(e->name, sizeof e->name, "%s", name);
  e->ndim = scl_tensor_ndim(t);
  for (int d = 0; d < e->ndim; d++) e->dims[d] = scl_tensor_dim(t, d);
  e->data = malloc(scl_tensor_count(t) * sizeof(float));
  if (!e->data) return scl__fail(net->ctx, SCL_ERR_OUT_OF_MEMORY, "scl_net_save: out of host memory");
  return scl_tensor_read(t, e->data, scl_tensor_count(t) * sizeof(float));
}

scl_status scl_net_save(scl_net net, const char *path, int with_optimizer) {
  if (!net) return SCL_ERR_INVALID_ARGUMENT;
  if (!path || !*path) return scl__fail(net->ctx, SCL_ERR_INVALID_ARGUMENT, "scl_net_save: path is empty");
  scl_mf_model m;
  memset(&m, 0, sizeof m);
  m.config = net->cfg;
  m.iteration = net->iteration;
  m.threshold = net->threshold;
  m.has_optimizer = with_optimizer ? 1 : 0;
  m.ntensors = (size_t)net->nparams * (with_optimizer ? 2 : 1);
  m.tensors = calloc(m.ntensors, sizeof *m.tensors);
  scl_status st = m.tensors ? SCL_OK : scl__fail(net->ctx, SCL_ERR_OUT_OF_MEMORY, "scl_net_save: out of host memory");
  for (int i = 0; st == SCL_OK && i < net->nparams; i++) {
    st = to_host(net, net->params[i].value, net->params[i].name, &m.tensors[i]);
    if (st == SCL_OK && with_optimizer) {
      char name[80];
      snprintf(name, sizeof name, "history/%s", net->params[i].name);
      st = to_host(net, net->params[i].history, name, &m.tensors[net->nparams + i]);
    }
  }
  /* Diverged weights are never written over the last good file: a NaN or infinity means training
     has already failed, and a checkpoint holding them could only ever resume into NaN. */
  for (size_t i = 0; st == SCL_OK && i < m.ntensors; i++) {
    const scl_mf_tensor *t = &m.tensors[i];
    size_t count = 1;
    for (int d = 0; d < t->ndim; d++) count *= t->dims[d];
    for (size_t k = 0; k < count; k++)
      if (!isfinite(t->data[k])) {
        st = scl__fail(net->ctx, SCL_ERR_NUMERIC,
                       "scl_net_save: %s holds %s (training diverged): %s not written, an existing file is kept",
                       t->name, isnan(t->data[k]) ? "NaN" : "an infinity", path);
        break;
      }
  }
  if (st == SCL_OK) {
    st = scl__modelfile_save(path, &m);
    if (st != SCL_OK) scl__fail(net->ctx, st, "%s", scl_context_error(NULL));
  }
  scl__modelfile_free(&m);
  return st;
}

static const scl_mf_tensor *find(const scl_mf_model *m, const char *name) {
  for (size_t i = 0; i < m->ntensors; i++)
    if (!strcmp(m->tensors[i].name, name)) return &m->tensors[i];
  return NULL;
}

/* Copies the file's tensor `name` into t after checking its shape. */
static scl_status from_host(scl_context ctx, const char *path, const scl_mf_model *m, const char *name,
                            scl_tensor t) {
  const scl_mf_tensor *e = find(m, name);
  if (!e) return scl__fail(ctx, SCL_ERR_FORMAT, "%s: the model lacks the tensor \"%s\"", path, name);
  int same = e->ndim == scl_tensor_ndim(t);
  for (int d = 0; same && d < e->ndim; d++) same = e->dims[d] == scl_tensor_dim(t, d);
  if (!same) return scl__fail(ctx, SCL_ERR_FORMAT, "%s: the tensor \"%s\" has the wrong shape for its config", path, name);
  return scl_tensor_write(t, e->data, scl_tensor_count(t) * sizeof(float));
}

scl_status scl_net_load(scl_context ctx, const char *path, scl_net *out) {
  if (!ctx) return SCL_ERR_INVALID_ARGUMENT;
  if (!path || !out) return scl__fail(ctx, SCL_ERR_INVALID_ARGUMENT, "scl_net_load: %s is NULL", !path ? "path" : "net");
  scl_mf_model m;
  scl_status st = scl__modelfile_load(path, &m);
  if (st != SCL_OK) return scl__fail(ctx, st, "%s", scl_context_error(NULL));
  char why[256];
  scl_net net = NULL;
  if ((st = scl__net_check_config(&m.config, why, sizeof why)) != SCL_OK)
    st = scl__fail(ctx, SCL_ERR_FORMAT, "%s: the stored configuration is invalid: %s", path, why);
  if (st == SCL_OK) st = scl__net_build(ctx, &m.config, &net);
  for (int i = 0; st == SCL_OK && i < net->nparams; i++) {
    st = from_host(ctx, path, &m, net->params[i].name, net->params[i].value);
    if (st == SCL_OK && m.has_optimizer) {
      char name[80];
      snprintf(name, sizeof name, "history/%s", net->params[i].name);
      st = from_host(ctx, path, &m, name, net->params[i].history);
    }
  }
  if (st == SCL_OK) {
    net->iteration = m.iteration;
    net->threshold = m.threshold;
    *out = net;
  } else {
    scl_net_release(net);
  }
  scl__modelfile_free(&m);
  return st;
}
