/* The MPI side of `spherecl train` (cli_mpi.h). */
#include "cli_mpi.h"
#include "cli_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SPHERECL_HAVE_MPI
#include <mpi.h>

/* Started by a launcher: Open MPI, MPICH/Hydra and Slurm's PMI set one of these. */
static int launched(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

int cli_mpi_start(cli_mpi *m, int *argc, char ***argv) {
  memset(m, 0, sizeof *m);
  m->size = m->local_size = 1;
  if (!launched()) return 0;
  if (MPI_Init(argc, argv) != MPI_SUCCESS) {
    fprintf(stderr, "spherecl train: MPI_Init failed\n");
    return 1;
  }
  m->active = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &m->rank);
  MPI_Comm_size(MPI_COMM_WORLD, &m->size);
  MPI_Comm node;
  MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, m->rank, MPI_INFO_NULL, &node);
  MPI_Comm_rank(node, &m->local_rank);
  MPI_Comm_size(node, &m->local_size);
  MPI_Comm_free(&node);
  return 0;
}

void cli_mpi_stop(cli_mpi *m) {
  free(m->buf);
  m->buf = NULL;
  if (m->active) MPI_Finalize();
  m->active = 0;
}

int cli_mpi_fail(cli_mpi *m, int code) {
  if (m->active && m->size > 1) {
    fflush(stderr);
    MPI_Abort(MPI_COMM_WORLD, code);
  }
  return code;
}

scl_status cli_mpi_average_grads(scl_net net, void *user) {
  cli_mpi *m = user;
  if (m->size == 1) return SCL_OK;
  const int np = scl_net_param_count(net);
  size_t total = 0;
  for (int i = 0; i < np; i++) total += scl_tensor_count(scl_net_param_grad(net, i));
  if (total > m->nbuf) {
    float *b = realloc(m->buf, total * sizeof *b);
    if (!b) return SCL_ERR_OUT_OF_MEMORY;
    m->buf = b, m->nbuf = total;
  }
  scl_status st = SCL_OK;
  size_t at = 0;
  for (int i = 0; i < np && st == SCL_OK; i++) {
    scl_tensor g = scl_net_param_grad(net, i);
    st = scl_tensor_read(g, m->buf + at, scl_tensor_count(g) * sizeof(float));
    at += scl_tensor_count(g);
  }
  if (st != SCL_OK) return st;
  double t0 = cli_now();
  /* One message per step; MPI_Allreduce takes an int count, so huge nets go in pieces. */
  for (size_t off = 0; off < total; off += (size_t)1 << 30) {
    size_t n = total - off < ((size_t)1 << 30) ? total - off : ((size_t)1 << 30);
    if (MPI_Allreduce(MPI_IN_PLACE, m->buf + off, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
      return SCL_ERR_UNSUPPORTED;
  }
  m->allreduce_s += cli_now() - t0;
  m->steps++;
  const float scale = 1.0f / (float)m->size;
  for (size_t k = 0; k < total; k++) m->buf[k] *= scale;
  at = 0;
  for (int i = 0; i < np && st == SCL_OK; i++) {
    scl_tensor g = scl_net_param_grad(net, i);
    st = scl_tensor_write(g, m->buf + at, scl_tensor_count(g) * sizeof(float));
    at += scl_tensor_count(g);
  }
  return st;
}

int cli_mpi_step_done(cli_mpi *m, scl_train_stats *s, int want_stop) {
  if (m->size == 1) return want_stop;
  double v[3] = {s->loss, s->accuracy, want_stop ? 1.0 : 0.0};
  MPI_Allreduce(MPI_IN_PLACE, v, 3, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
  s->loss = (float)(v[0] / m->size), s->accuracy = (float)(v[1] / m->size);
  return v[2] > 0;
}

const char *cli_mpi_feature(void) {
  static char buf[MPI_MAX_LIBRARY_VERSION_STRING + 16];
  char lib[MPI_MAX_LIBRARY_VERSION_STRING] = "";
  int len = 0;
  MPI_Get_library_version(lib, &len);
  char *nl = strpbrk(lib, ",\n");
  if (nl) *nl = 0;
  snprintf(buf, sizeof buf, "MPI (%s)", lib);
  return buf;
}

#else /* no MPI: one rank */

int cli_mpi_start(cli_mpi *m, int *argc, char ***argv) {
  (void)argc, (void)argv;
  memset(m, 0, sizeof *m);
  m->size = m->local_size = 1;
  return 0;
}
void cli_mpi_stop(cli_mpi *m) { (void)m; }
int cli_mpi_fail(cli_mpi *m, int code) {
  (void)m;
  return code;
}
scl_status cli_mpi_average_grads(scl_net net, void *m) {
  (void)net, (void)m;
  return SCL_OK;
}
int cli_mpi_step_done(cli_mpi *m, scl_train_stats *s, int want_stop) {
  (void)m, (void)s;
  return want_stop;
}
const char *cli_mpi_feature(void) { return NULL; }

#endif

const char *cli_mpi_device(const cli_mpi *m, const char *given, char *buf, size_t size) {
  if (given || getenv("SPHERECL_DEVICE") || m->local_size < 2) return given;
  size_t count = 0, gpus = 0, first = 0;
  scl_device_count(&count);
  for (size_t i = 0; i < count; i++) {
    scl_device_info info;
    if (scl_device_get_info(i, &info) == SCL_OK && info.type == SCL_DEVICE_GPU) {
      if (gpus++ == (size_t)m->local_rank) first = i;
    }
  }
  if (gpus < (size_t)m->local_size) return NULL; /* not one each: all share the default device */
  snprintf(buf, size, "%zu", first);
  return buf;
}
