/* The MPI side of `spherecl train` (cli_mpi.h). */
#include "cli_mpi.h"
#include "cli_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef SPHERECL_HAVE_MPI
#include <mpi.h>
#include <pthread.h>

/* Started by a launcher: Open MPI, MPICH/Hydra and Slurm's PMI set one of these. */
static int launched(void) {
  return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

/* The communication thread runs the allreduces of the step's buckets in order while the main
   thread goes on with the backward pass; MPI is called by one thread at a time (the main thread
   calls it only between steps, when every bucket is done), so MPI_THREAD_SERIALIZED suffices. */
struct cli_mpi_comm {
  pthread_t thread;
  int threaded; /* 0: MPI gave no thread support; buckets are then reduced on the main thread */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  float *buf;   /* every gradient of the step, in the order they became ready */
  size_t total; /* floats in buf */
  size_t *bucket_off, *bucket_n; /* the step's buckets: queued [0, queued), reduced [0, done) */
  int queued, done, failed, quit;
  double busy_s;
  /* Main thread only: where each parameter's gradient goes in buf, and the bucket being filled. */
  int np, seen;
  size_t *param_off, cursor;
  int *pending, npending;
  size_t pending_n;
};

/* Sums buf[off, off + n) over the ranks (MPI counts are ints: huge buckets go in pieces). */
static int reduce(float *buf, size_t off, size_t n) {
  const size_t piece = (size_t)1 << 30;
  for (size_t at = off; at < off + n; at += piece) {
    size_t k = off + n - at < piece ? off + n - at : piece;
    if (MPI_Allreduce(MPI_IN_PLACE, buf + at, (int)k, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS) return 0;
  }
  return 1;
}

static void *comm_thread(void *arg) {
  struct cli_mpi_comm *c = arg;
  pthread_mutex_lock(&c->mu);
  for (;;) {
    while (!c->quit && c->done == c->queued) pthread_cond_wait(&c->cv, &c->mu);
    if (c->quit) break;
    const size_t off = c->bucket_off[c->done], n = c->bucket_n[c->done];
    pthread_mutex_unlock(&c->mu);
    double t0 = cli_now();
    int ok = reduce(c->buf, off, n);
    double t = cli_now() - t0;
    pthread_mutex_lock(&c->mu);
    c->busy_s += t;
    c->failed |= !ok;
    c->done++;
    pthread_cond_broadcast(&c->cv);
  }
  pthread_mutex_unlock(&c->mu);
  return NULL;
}

int cli_mpi_start(cli_mpi *m, int *argc, char ***argv) {
  memset(m, 0, sizeof *m);
  m->size = m->local_size = 1;
  if (!launched()) return 0;
  int provided = MPI_THREAD_SINGLE;
  if (MPI_Init_thread(argc, argv, MPI_THREAD_SERIALIZED, &provided) != MPI_SUCCESS) {
    fprintf(stderr, "spherecl train: MPI_Init_thread failed\n");
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
  struct cli_mpi_comm *c = calloc(1, sizeof *c);
  if (!c) {
    fprintf(stderr, "spherecl train: out of memory\n");
    return 1;
  }
  m->comm = c;
  pthread_mutex_init(&c->mu, NULL);
  pthread_cond_init(&c->cv, NULL);
  c->threaded = m->size > 1 && provided >= MPI_THREAD_SERIALIZED && !pthread_create(&c->thread, NULL, comm_thread, c);
  return 0;
}

void cli_mpi_stop(cli_mpi *m) {
  struct cli_mpi_comm *c = m->comm;
  if (c) {
    if (c->threaded) {
      pthread_mutex_lock(&c->mu);
      c->quit = 1;
      pthread_cond_broadcast(&c->cv);
      pthread_mutex_unlock(&c->mu);
      pthread_join(c->thread, NULL);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c->buf), free(c->bucket_off), free(c->bucket_n), free(c->param_off), free(c->pending);
    free(c);
    m->comm = NULL;
  }
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

/* The first time: room for every gradient and per-parameter bookkeeping. */
static scl_status prepare(struct cli_mpi_comm *c, scl_net net) {
  if (c->buf) return SCL_OK;
  c->np = scl_net_param_count(net);
  for (int i = 0; i < c->np; i++) c->total += scl_tensor_count(scl_net_param_grad(net, i));
  c->buf = malloc(c->total * sizeof *c->buf);
  c->param_off = malloc((size_t)c->np * sizeof *c->param_off);
  c->pending = malloc((size_t)c->np * sizeof *c->pending);
  c->bucket_off = malloc((size_t)c->np * sizeof *c->bucket_off);
  c->bucket_n = malloc((size_t)c->np * sizeof *c->bucket_n);
  if (c->buf && c->param_off && c->pending && c->bucket_off && c->bucket_n) return SCL_OK;
  free(c->buf);
  c->buf = NULL;
  return SCL_ERR_OUT_OF_MEMORY;
}

/* Reads the pending gradients (waiting for the device to finish them) into their places in buf,
   which follow one another, and hands them to the communication thread as one bucket. */
static scl_status send_bucket(cli_mpi *m, scl_net net) {
  struct cli_mpi_comm *c = m->comm;
  if (!c->npending) return SCL_OK;
  for (int k = 0; k < c->npending; k++) {
    scl_tensor g = scl_net_param_grad(net, c->pending[k]);
    scl_status st = scl_tensor_read(g, c->buf + c->param_off[c->pending[k]], scl_tensor_count(g) * sizeof(float));
    if (st != SCL_OK) return st;
  }
  const size_t off = c->param_off[c->pending[0]], n = c->pending_n;
  c->npending = 0, c->pending_n = 0;
  m->buckets++;
  if (!c->threaded) {
    double t0 = cli_now();
    int ok = reduce(c->buf, off, n);
    c->busy_s += cli_now() - t0;
    return ok ? SCL_OK : SCL_ERR_UNSUPPORTED;
  }
  pthread_mutex_lock(&c->mu);
  c->bucket_off[c->queued] = off, c->bucket_n[c->queued] = n;
  c->queued++;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
  return SCL_OK;
}

/* Parameter i's gradient is complete: it joins the bucket being filled, sent when full. */
static scl_status add_to_bucket(cli_mpi *m, scl_net net, int i, int may_send) {
  struct cli_mpi_comm *c = m->comm;
  scl_status st = prepare(c, net);
  if (st != SCL_OK) return st;
  if (c->seen == c->np) return SCL_ERR_INVALID_ARGUMENT; /* more ready calls than parameters */
  size_t n = scl_tensor_count(scl_net_param_grad(net, i));
  c->param_off[i] = c->cursor, c->cursor += n;
  c->pending[c->npending++] = i, c->pending_n += n;
  c->seen++;
  return may_send && (double)c->pending_n * sizeof(float) >= m->bucket_mb * 1e6 ? send_bucket(m, net) : SCL_OK;
}

static scl_status on_ready(scl_net net, int i, void *user) { return add_to_bucket(user, net, i, 1); }

/* After backward: the last bucket goes out, the step waits for all of them (the time the backward
   pass did not hide), and every gradient becomes the average over the ranks. */
static scl_status on_backward_done(scl_net net, void *user) {
  cli_mpi *m = user;
  struct cli_mpi_comm *c = m->comm;
  scl_status st = SCL_OK;
  if (m->bucket_mb <= 0) /* no ready hook: all of them now, in one bucket */
    for (int i = 0; i < scl_net_param_count(net) && st == SCL_OK; i++) st = add_to_bucket(m, net, i, 0);
  if (st == SCL_OK) st = send_bucket(m, net);
  double t0 = cli_now();
  pthread_mutex_lock(&c->mu);
  while (c->done < c->queued) pthread_cond_wait(&c->cv, &c->mu);
  const int failed = c->failed;
  c->queued = c->done = 0;
  pthread_mutex_unlock(&c->mu);
  m->wait_s += cli_now() - t0;
  if (st == SCL_OK && (failed || c->seen != c->np)) st = SCL_ERR_UNSUPPORTED;
  const int seen = c->seen;
  c->seen = 0, c->cursor = 0, c->npending = 0, c->pending_n = 0;
  if (st != SCL_OK) {
    fprintf(stderr, "spherecl train: rank %d: the gradient allreduce failed (%s; %d of %d gradients)\n", m->rank,
            failed ? "MPI_Allreduce failed" : "bucketing", seen, c->np);
    return st;
  }
  m->steps++;
  m->floats = c->total;
  m->comm_s = c->busy_s;
  const float scale = 1.0f / (float)m->size;
  for (size_t k = 0; k < c->total; k++) c->buf[k] *= scale;
  for (int i = 0; i < c->np && st == SCL_OK; i++) {
    scl_tensor g = scl_net_param_grad(net, i);
    st = scl_tensor_write(g, c->buf + c->param_off[i], scl_tensor_count(g) * sizeof(float));
  }
  return st;
}

void cli_mpi_attach(cli_mpi *m, scl_net net) {
  if (m->size == 1) return;
  scl_net_set_grad_hook(net, on_backward_done, m);
  scl_net_set_grad_ready_hook(net, m->bucket_mb > 0 ? on_ready : NULL, m);
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
void cli_mpi_attach(cli_mpi *m, scl_net net) { (void)m, (void)net; }
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
