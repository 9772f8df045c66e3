/* Data-parallel `spherecl train` over MPI: each rank trains the same net on its share of every
   batch and the gradients are averaged over the ranks, in buckets that overlap the backward pass,
   before each identical update. Built with SPHERECL_HAVE_MPI; without it, or when the process was
   not started by an MPI launcher (mpirun, srun), the job is one rank and nothing here touches MPI. */
#ifndef SPHERECL_CLI_MPI_H
#define SPHERECL_CLI_MPI_H

#include "spherecl.h"

#include <stddef.h>

struct cli_mpi_comm; /* the communication thread and the step's buckets (cli_mpi.c) */

typedef struct {
  int rank, size;             /* in the job (size 1 without MPI) */
  int local_rank, local_size; /* on this node */
  int active;                 /* MPI_Init was called */
  double bucket_mb;           /* gradients go out in buckets of about this size while the backward pass
                                 goes on (0: one allreduce of all of them after it) */
  struct cli_mpi_comm *comm;
  /* Figures for the closing line, summed over the steps: */
  long steps, buckets;
  size_t floats;  /* gradient floats per step */
  double comm_s;  /* seconds the allreduces ran (on the communication thread) */
  double wait_s;  /* seconds the step waited for them after its backward pass: the part not hidden */
} cli_mpi;

/* Starts MPI when launched by an MPI launcher. Returns 0, or 1 after printing why. */
int cli_mpi_start(cli_mpi *m, int *argc, char ***argv);
void cli_mpi_stop(cli_mpi *m);
/* Ends the whole job after a rank's failure (its message already printed): MPI_Abort with status
   code when there are several ranks, so that no rank waits forever for this one. Returns code. */
int cli_mpi_fail(cli_mpi *m, int code);
/* With several ranks, makes every training step of net average its gradients over the ranks: as
   the backward pass completes each bucket of m->bucket_mb (scl_net_set_grad_ready_hook), the bucket
   is read and summed over the ranks by a communication thread while the device computes the rest;
   after backward (scl_net_set_grad_hook) the step waits for the last bucket, divides by the number
   of ranks and writes the averages back. Every rank forms the same buckets in the same order. */
void cli_mpi_attach(cli_mpi *m, scl_net net);
/* Averages loss and accuracy over the ranks and agrees on stopping: returns 1 if any rank wants to
   stop (Ctrl-C reaches the ranks at different moments; all must stop after the same step). */
int cli_mpi_step_done(cli_mpi *m, scl_train_stats *s, int want_stop);
/* The device selector for this rank: the given one, or with several ranks on a node that has at
   least as many GPUs, "N" for the local rank's GPU; NULL (the default device) otherwise. */
const char *cli_mpi_device(const cli_mpi *m, const char *given, char *buf, size_t size);
/* "MPI (library version)" when built with MPI, else NULL: for spherecl --version. */
const char *cli_mpi_feature(void);

#endif
