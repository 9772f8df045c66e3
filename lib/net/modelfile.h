/* The model-file container: a network's config, training state and named float32 tensors, stored
   little-endian, versioned and CRC-32 checked (the byte layout is documented in modelfile.c).
   Failures set the calling thread's message (scl_context_error(NULL)); it always names the file. */
#ifndef SPHERECL_MODELFILE_H
#define SPHERECL_MODELFILE_H

#include "internal.h"

#define SCL_MF_NAME_MAX 63 /* bytes of a tensor name (name[] holds it NUL-terminated) */
#define SCL_MF_VERSION 3   /* the format this build writes, and the newest it reads */

typedef struct {
  char name[64];  /* 1..63 bytes, NUL-terminated */
  int ndim;       /* 1..4 */
  size_t dims[4]; /* each >= 1; dims[ndim..3] are 0 after loading */
  float *data;    /* dims[0]·…·dims[ndim-1] values (malloc'd by scl__modelfile_load) */
} scl_mf_tensor;

typedef struct {
  scl_net_config config;
  long iteration;    /* training iterations done */
  float threshold;   /* verification threshold, NaN if none (stored bit-exactly) */
  int has_optimizer; /* 1 for checkpoints (histories are just more tensors, named "history/...") */
  size_t ntensors;
  scl_mf_tensor *tensors;
} scl_mf_model;

/* Writes m to path atomically: "path.tmp-PID" is written, flushed, fsync'd and renamed over path
   (then the folder is fsync'd). On failure the temporary file is removed and an existing path is
   left as it was. An invalid model (bad name, ndim, dims, NULL data) is SCL_ERR_INVALID_ARGUMENT;
   I/O failures are SCL_ERR_IO with the system's reason. */
scl_status scl__modelfile_save(const char *path, const scl_mf_model *m);

/* Reads path into m (allocating its tensors; free with scl__modelfile_free). Missing/unreadable:
   SCL_ERR_IO; foreign, newer-version, truncated, corrupt or absurd: SCL_ERR_FORMAT. On failure m is
   untouched. */
scl_status scl__modelfile_load(const char *path, scl_mf_model *m);

/* Frees what scl__modelfile_load allocated and zeroes m. NULL is a no-op. */
void scl__modelfile_free(scl_mf_model *m);

#endif
