/* Importing the published SphereFace models and exporting ours. The readers (caffe_read.c,
   torch_read.c on top of pickle.c) turn a file into a set of named float32 tensors, the writer
   (torch_write.c) does the reverse, and import.c maps those names onto a net's parameters. Every
   reader treats its input as hostile: each length and index is checked against the bytes left, and
   each failure names the file and the byte offset or the tensor. */
#ifndef SPHERECL_IMPORT_INTERNAL_H
#define SPHERECL_IMPORT_INTERNAL_H

#include "internal.h"

#define SCL_IMP_MAX_DIMS 8
#define SCL_IMP_NAME_MAX 127
/* Largest model file read (the published SphereFace-20 files are ~90 MB). */
#define SCL_IMP_MAX_FILE ((size_t)1 << 32)

typedef struct {
  char name[SCL_IMP_NAME_MAX + 1];
  int ndim; /* 0..SCL_IMP_MAX_DIMS, as in the file */
  size_t dims[SCL_IMP_MAX_DIMS];
  size_t count;
  float *data; /* malloc'd, row-major */
  int used;    /* set by import.c when a parameter took it */
} scl__imp_tensor;

typedef struct {
  scl__imp_tensor *t;
  size_t n, cap;
} scl__imp_set;

/* Adds a tensor named `name` with these dims and returns its (uninitialised) data in *data. A
   duplicate name, a too-long name or an absurd size is SCL_ERR_FORMAT naming `path`. */
scl_status scl__imp_set_add(scl__imp_set *s, const char *path, const char *name, int ndim, const size_t *dims,
                            float **data);
scl__imp_tensor *scl__imp_set_find(scl__imp_set *s, const char *name);
void scl__imp_set_free(scl__imp_set *s);
/* "[64, 3, 3, 3]" */
void scl__imp_dims_string(const size_t *dims, int ndim, char *buf, size_t size);

/* caffe_read.c: a binary NetParameter (LayerParameter or the old V1LayerParameter layers). Blob 0 of
   layer L becomes "L.weight", blob 1 "L.bias", further blobs "L.blob2", ...; blob-less layers are
   skipped. */
scl_status scl__caffe_read(const unsigned char *buf, size_t size, const char *path, scl__imp_set *out);

/* torch_read.c: a state_dict saved by torch.save, in the legacy format (any torch from 2017's 0.2
   on) or the zip format (torch >= 1.6's default); float32 tensors (float64 and float16 are converted). */
scl_status scl__torch_read(const unsigned char *buf, size_t size, const char *path, scl__imp_set *out);

/* zip_read.c: the entries of a zip archive (names point into buf, not NUL-terminated). */
typedef struct {
  const char *name;
  size_t name_len;
  size_t data_off, size; /* where the entry's bytes are in buf */
  int stored;            /* 1 if uncompressed (all that torch.save writes) */
} scl__zip_entry;
scl_status scl__zip_entries(const unsigned char *buf, size_t size, const char *path, scl__zip_entry **entries,
                            size_t *count);

/* torch_write.c: the set as a legacy-format state_dict (an OrderedDict of float32 tensors, in the
   set's order) that torch.load reads; written atomically. */
scl_status scl__torch_write(const char *path, const scl__imp_set *set);

#endif
