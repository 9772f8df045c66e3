/* Data-parallel `spherecl train` over MPI: each rank trains the same net on its share of every
   batch and the gradients are averaged over the ranks (through scl_net_set_grad_hook) before each
   identical update. Built with SPHERECL_HAVE_MPI; without it, or when the process was not started
   by an MPI launcher (mpirun, srun), the job is one rank and nothing here touches MPI. */
#ifndef SPHERECL_CLI_MPI_H
#define SPHERECL_CLI_MPI_H

#include "spherecl.h"

#include <stddef.h>

typedef struct {
  int rank, size;             /* in the job (size 1 without MPI) */
  int local_rank, local_size; /* on this node */
  int active;                 /* MPI_Init was called */
  float *buf;                 /* every gradient, for the allreduce */
  size_t nbuf;
  double allreduce_s; /* seconds spent in the gradient allreduce, summed over the steps */
  long steps;
} cli_mpi;

/* Starts MPI when launched by an MPI launcher. Returns 0, or 1 after printing why. */
int cli_mpi_start(cli_mpi *m, int *argc, char ***argv);
void cli_mpi_stop(cli_mpi *m);
/* Ends the whole job after a rank's failure (its message already printed): MPI_Abort with status
   code when there are several ranks, so that no rank waits forever for this one. Returns code. */
int cli_mpi_fail(cli_mpi *m, int code);
/* The grad hook: every parameter's gradient summed over the ranks and divided by their number. */
scl_status cli_mpi_average_grads(scl_net net, void *m);
/* Averages loss and accuracy over the ranks and agrees on stopping: returns 1 if any rank wants to
   stop (Ctrl-C reaches the ranks at different moments; all must stop after the same step). */
int cli_mpi_step_done(cli_mpi *m, scl_train_stats *s, int want_stop);
/* The device selector for this rank: the given one, or with several ranks on a node that has at
   least as many GPUs, "N" for the local rank's GPU; NULL (the default device) otherwise. */
const char *cli_mpi_device(const cli_mpi *m, const char *given, char *buf, size_t size);
/* "MPI (library version)" when built with MPI, else NULL: for spherecl --version. */
const char *cli_mpi_feature(void);

#endif
