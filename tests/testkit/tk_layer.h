/* What the tests of the layers with weights and a bias (conv2d, linear) share: y = f(x, w) + b and
   its backward (dx, dw, db). A test names its shapes; these make the random problem, its device
   tensors, room for reference gradients, the finite differences of the reference forward, the
   comparisons, and the check with every argument packed into one buffer at odd offsets. */
#ifndef SCL_TK_LAYER_H
#define SCL_TK_LAYER_H

#include "testkit/testkit.h"

/* The shapes of x (and dx), w (and dw) and y (and dy), each a 0-terminated list of up to 4 dims;
   b and db are [nb]. */
typedef struct {
  size_t x[4], w[4], y[4];
  size_t nb;
} tk_layer_shape;

/* One problem: random inputs in [-1, 1] (drawn from one seed in the order x, w, b, dy) as floats for
   the device and the same values in double for the references. */
typedef struct {
  tk_layer_shape shape;
  size_t nx, nw, nb, ny; /* element counts */
  float *x, *w, *b, *dy;
  double *xd, *wd, *bd, *dyd;
} tk_layer_data;
tk_layer_data tk_layer_data_make(const tk_layer_shape *shape, uint64_t seed);
void tk_layer_data_free(tk_layer_data *d);

/* The device tensors of a problem: x, w, b, dy hold its data; y, dx, dw, db start NaN-poisoned. */
typedef struct {
  scl_tensor x, w, b, dy, y, dx, dw, db;
} tk_layer_tensors;
tk_layer_tensors tk_layer_tensors_make(scl_context ctx, const tk_layer_data *d);
void tk_layer_tensors_release(tk_layer_tensors *t);

/* Gradients in double (from a reference backward, or finite differences), sized for d. */
typedef struct {
  double *dx, *dw, *db;
} tk_layer_grads;
tk_layer_grads tk_layer_grads_alloc(const tk_layer_data *d);
void tk_layer_grads_free(tk_layer_grads *g);

/* The double reference forward: y = f(x, w) + b from d's double inputs (arg: the test's own
   description of the layer). */
typedef void (*tk_layer_forward_fn)(const void *arg, const tk_layer_data *d, double *y);

/* Central differences (step 1e-3) of L = Σ y·dy, y = forward(d), with respect to every element of x,
   w and b. d's double inputs are perturbed one at a time and restored. */
tk_layer_grads tk_layer_finite_differences(tk_layer_data *d, tk_layer_forward_fn forward, const void *arg);

/* Reads t and compares it with ref at the GEMM tolerance; the message says "case_name: what". */
void tk_layer_expect(const char *case_name, const char *what, scl_tensor t, const double *ref);
/* The same for each of dx, dw, db that is not NULL, named "dx" + suffix and so on. */
void tk_layer_expect_grads(const char *case_name, scl_tensor dx, scl_tensor dw, scl_tensor db,
                           const tk_layer_grads *ref, const char *suffix);

/* The comparison must be able to fail: t, computed wrongly on purpose, must NOT pass as ref at the
   GEMM tolerance. */
void tk_layer_expect_differs(const char *what, scl_tensor t, const double *ref);

/* x w b dy y dx dw db as views into ONE buffer, in that order, each at an odd element offset: `first`
   elements before x and `gap` between views. Everything outside the inputs holds TK_SENTINEL. */
typedef struct {
  tk_layer_tensors t; /* the views */
  cl_mem buffer;
  size_t off[8], count[8], total;
} tk_layer_packed;
tk_layer_packed tk_layer_pack(scl_context ctx, const tk_layer_data *d, size_t first, size_t gap);
/* After the op ran on p.t: reads the whole buffer back, compares y, dx, dw, db with the references
   and checks that no element outside the views changed. Returns the buffer's contents (malloc'd,
   indexed by p.off) for further checks. */
float *tk_layer_packed_check(scl_context ctx, const tk_layer_packed *p, const double *ref_y,
                             const tk_layer_grads *ref);
void tk_layer_packed_release(tk_layer_packed *p);

#endif
