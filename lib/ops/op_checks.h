/* What every op shares about its tensor arguments, beyond the basic checks of internal.h: named
   argument lists and the checks over them, buffer regions (all in lib/runtime/check.c), and the
   work-group size of 1-D launches (lib/runtime/program.c). Internal. */
#ifndef SCL_OPS_OP_CHECKS_H
#define SCL_OPS_OP_CHECKS_H

#include "internal.h"

/* A tensor argument with its name, for checks over several arguments. */
typedef struct {
  const char *name;
  scl_tensor t;
} scl_named_tensor;

/* Optional arguments: SCL_OK when the tensor is NULL, else it must be F32 and a [len] vector (a
   bias or its gradient), or have the shape of `like` (a gradient). */
scl_status scl__check_vector(scl_context ctx, const char *op, const char *name, scl_tensor v, size_t len);
scl_status scl__check_grad(scl_context ctx, const char *op, const char *name, scl_tensor g, const char *like_name,
                           scl_tensor like);

/* SCL_ERR_INVALID_ARGUMENT (naming both) when one of the first n_out entries (the outputs; NULL
   entries skipped) shares memory with any other of the n entries. */
scl_status scl__check_disjoint(scl_context ctx, const char *op, const scl_named_tensor *args, int n_out, int n);

/* Every args[i].t is a non-NULL F32 tensor and args[1..n) have the shape of args[0]. */
scl_status scl__check_f32_like(scl_context ctx, const char *op, const scl_named_tensor *args, int n);

/* An output that may BE the input (an in-place op: the same buffer and offset; shapes are checked
   separately) but must not share only part of its memory. */
scl_status scl__check_in_place(scl_context ctx, const char *op, scl_named_tensor out, scl_named_tensor in);

/* Reads an I32 labels tensor to the host (so this waits for the work that produces it) and checks
   that every label lies in [0, classes); the message names the first bad row and value. */
scl_status scl__check_labels(scl_context ctx, const char *op, scl_tensor labels, size_t classes);

/* A place in a device buffer: a tensor's data or a region of a workspace (offset in elements). */
typedef struct {
  cl_mem mem;
  size_t off;
} scl_region;

/* The region where tensor t's data starts, `elements` further on. */
scl_region scl__region_of(scl_tensor t, size_t elements);

/* The local size scl__launch uses when given 0 (SCL_LOCAL_1D, or less where the device caps it):
   kernels that reduce over a work-group size their local memory by it, and row-per-group launches
   ask for rows·group_size items. */
size_t scl__group_size(scl_context ctx);

#endif
