#include "testkit/tk_layer.h"

#include "ref/ref_elementwise.h" /* ref_widen */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t count_of(const size_t dims[4]) {
  size_t n = 1;
  for (int i = 0; i < 4 && dims[i]; i++) n *= dims[i];
  return n;
}

static int ndim_of(const size_t dims[4]) {
  int nd = 0;
  while (nd < 4 && dims[nd]) nd++;
  return nd;
}

static float *random_floats(tk_rng *r, size_t n) {
  float *f = malloc(n * sizeof *f);
  tk_fill_uniform(r, f, n, -1, 1);
  return f;
}

tk_layer_data tk_layer_data_make(const tk_layer_shape *shape, uint64_t seed) {
  tk_layer_data d = {.shape = *shape, .nb = shape->nb};
  d.nx = count_of(shape->x), d.nw = count_of(shape->w), d.ny = count_of(shape->y);
  tk_rng r = tk_rng_make(seed);
  d.x = random_floats(&r, d.nx), d.w = random_floats(&r, d.nw), d.b = random_floats(&r, d.nb);
  d.dy = random_floats(&r, d.ny);
  d.xd = ref_widen(d.x, d.nx), d.wd = ref_widen(d.w, d.nw), d.bd = ref_widen(d.b, d.nb);
  d.dyd = ref_widen(d.dy, d.ny);
  return d;
}

void tk_layer_data_free(tk_layer_data *d) {
  free(d->x), free(d->w), free(d->b), free(d->dy);
  free(d->xd), free(d->wd), free(d->bd), free(d->dyd);
}

static scl_tensor tensor_of(scl_context ctx, const float *host, const size_t dims[4]) {
  return tk_tensor(ctx, host, dims[0], dims[1], dims[2], dims[3]);
}

tk_layer_tensors tk_layer_tensors_make(scl_context ctx, const tk_layer_data *d) {
  const tk_layer_shape *s = &d->shape;
  tk_layer_tensors t = {
      .x = tensor_of(ctx, d->x, s->x),
      .w = tensor_of(ctx, d->w, s->w),
      .b = tk_tensor(ctx, d->b, s->nb, 0, 0, 0),
      .dy = tensor_of(ctx, d->dy, s->y),
      .y = tensor_of(ctx, NULL, s->y),
      .dx = tensor_of(ctx, NULL, s->x),
      .dw = tensor_of(ctx, NULL, s->w),
      .db = tk_tensor(ctx, NULL, s->nb, 0, 0, 0),
  };
  return t;
}

void tk_layer_tensors_release(tk_layer_tensors *t) {
  scl_tensor all[] = {t->x, t->w, t->b, t->dy, t->y, t->dx, t->dw, t->db};
  for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) scl_tensor_release(all[i]);
}

tk_layer_grads tk_layer_grads_alloc(const tk_layer_data *d) {
  tk_layer_grads g = {malloc(d->nx * sizeof(double)), malloc(d->nw * sizeof(double)), malloc(d->nb * sizeof(double))};
  return g;
}

void tk_layer_grads_free(tk_layer_grads *g) { free(g->dx), free(g->dw), free(g->db); }

/* What the loss needs: the problem, its reference forward, and scratch for y. */
typedef struct {
  const tk_layer_data *d;
  tk_layer_forward_fn forward;
  const void *arg;
  double *y;
} loss_args;

/* L = Σ y·dy of the reference forward. */
static double loss(const void *p) {
  const loss_args *a = p;
  a->forward(a->arg, a->d, a->y);
  double s = 0;
  for (size_t i = 0; i < a->d->ny; i++) s += a->y[i] * a->d->dyd[i];
  return s;
}

tk_layer_grads tk_layer_finite_differences(tk_layer_data *d, tk_layer_forward_fn forward, const void *arg) {
  const double eps = 1e-3;
  loss_args a = {d, forward, arg, malloc(d->ny * sizeof(double))};
  tk_layer_grads g = tk_layer_grads_alloc(d);
  tk_central_differences(loss, &a, d->xd, d->nx, eps, g.dx);
  tk_central_differences(loss, &a, d->wd, d->nw, eps, g.dw);
  tk_central_differences(loss, &a, d->bd, d->nb, eps, g.db);
  free(a.y);
  return g;
}

void tk_layer_expect(const char *case_name, const char *what, scl_tensor t, const double *ref) {
  char label[160];
  snprintf(label, sizeof label, "%s: %s", case_name, what);
  tk_expect_tensor(label, t, ref, TK_TOL_GEMM);
}

void tk_layer_expect_grads(const char *case_name, scl_tensor dx, scl_tensor dw, scl_tensor db,
                           const tk_layer_grads *ref, const char *suffix) {
  const char *names[3] = {"dx", "dw", "db"};
  scl_tensor got[3] = {dx, dw, db};
  const double *want[3] = {ref->dx, ref->dw, ref->db};
  for (int i = 0; i < 3; i++) {
    if (!got[i]) continue;
    char what[96];
    snprintf(what, sizeof what, "%s%s", names[i], suffix);
    tk_layer_expect(case_name, what, got[i], want[i]);
  }
}

void tk_layer_expect_differs(const char *what, scl_tensor t, const double *ref) {
  float *got = tk_read(t);
  double e = tk_rel_l2(got, ref, scl_tensor_count(t));
  TK_CHECK_MSG(e > TK_TOL_GEMM, "%s passed the comparison (relative L2 error %.3g)", what, e);
  free(got);
}

tk_layer_packed tk_layer_pack(scl_context ctx, const tk_layer_data *d, size_t first, size_t gap) {
  const tk_layer_shape *s = &d->shape;
  const size_t b[4] = {s->nb, 0, 0, 0};
  const size_t *dims[8] = {s->x, s->w, b, s->y, s->y, s->x, s->w, b};
  const float *inputs[4] = {d->x, d->w, d->b, d->dy};
  tk_layer_packed p;
  memset(&p, 0, sizeof p);
  p.total = first;
  for (int i = 0; i < 8; i++) p.off[i] = p.total, p.count[i] = count_of(dims[i]), p.total += p.count[i] + gap;
  float *host = malloc(p.total * sizeof *host);
  for (size_t i = 0; i < p.total; i++) host[i] = TK_SENTINEL;
  for (int i = 0; i < 4; i++) memcpy(host + p.off[i], inputs[i], p.count[i] * sizeof *host);
  cl_int err;
  p.buffer = clCreateBuffer(scl_context_cl(ctx), CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR, p.total * sizeof *host,
                            host, &err);
  TK_CHECK(err == CL_SUCCESS);
  free(host);
  scl_tensor *views[8] = {&p.t.x, &p.t.w, &p.t.b, &p.t.dy, &p.t.y, &p.t.dx, &p.t.dw, &p.t.db};
  for (int i = 0; i < 8; i++)
    TK_STATUS(ctx, scl_tensor_wrap(ctx, SCL_F32, ndim_of(dims[i]), dims[i], p.buffer, p.off[i] * sizeof(float),
                                   views[i]),
              SCL_OK);
  return p;
}

float *tk_layer_packed_check(scl_context ctx, const tk_layer_packed *p, const double *ref_y,
                             const tk_layer_grads *ref) {
  float *out = malloc(p->total * sizeof *out);
  TK_CHECK(clEnqueueReadBuffer(scl_context_queue(ctx), p->buffer, CL_TRUE, 0, p->total * sizeof *out, out, 0, NULL,
                               NULL) == CL_SUCCESS);
  tk_expect_close("wrapped y", out + p->off[4], ref_y, p->count[4], TK_TOL_GEMM);
  tk_expect_close("wrapped dx", out + p->off[5], ref->dx, p->count[5], TK_TOL_GEMM);
  tk_expect_close("wrapped dw", out + p->off[6], ref->dw, p->count[6], TK_TOL_GEMM);
  tk_expect_close("wrapped db", out + p->off[7], ref->db, p->count[7], TK_TOL_GEMM);
  size_t changed = 0;
  for (size_t j = 0; j < p->off[0]; j++) changed += out[j] != TK_SENTINEL;
  for (int i = 0; i < 8; i++)
    for (size_t j = p->off[i] + p->count[i]; j < (i + 1 < 8 ? p->off[i + 1] : p->total); j++)
      changed += out[j] != TK_SENTINEL;
  TK_CHECK_MSG(changed == 0, "%zu elements between the wrapped tensors changed", changed);
  return out;
}

void tk_layer_packed_release(tk_layer_packed *p) {
  tk_layer_tensors_release(&p->t);
  clReleaseMemObject(p->buffer);
}
