/* spherecl — the command-line tool. Each subcommand lives in its own cmd_*.c file. */
#include "cli_mpi.h"
#include "commands.h"

#include <stdio.h>
#include <string.h>

static const struct {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
} commands[] = {
    {"devices", cmd_devices, "list OpenCL devices and the one spherecl picks by default"},
    {"selftest", cmd_selftest, "run a GEMM on a device and check it against the CPU"},
    {"align", cmd_align, "aligned face crops from images and their five landmarks"},
    {"train", cmd_train, "train a SphereFace model (MNIST or an image folder)"},
    {"eval", cmd_eval, "closed-set accuracy of a model on a test set"},
    {"embed", cmd_embed, "write the embeddings of images"},
    {"pairs", cmd_pairs, "make LFW-style same/different pairs from an image folder"},
    {"verify", cmd_verify, "face verification accuracy on a pairs file (LFW 10-fold protocol)"},
    {"compare", cmd_compare, "cosine similarity of two face images, and a same/different verdict"},
    {"import", cmd_import, "a spherecl model from the published Caffe or PyTorch SphereFace models"},
    {"export", cmd_export, "a spherecl model as a PyTorch state_dict"},
    {"tune", cmd_tune, "search CLBlast's GEMM parameters for a device and cache the fastest"},
    {"bench", cmd_bench, "benchmarks: `bench ops` (conv/GEMM rates), `bench train`"},
};

static void usage(FILE *f) {
  fprintf(f, "usage: spherecl COMMAND [options]   (spherecl COMMAND --help for its options)\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nThe device: --device SELECTOR or the environment variable SPHERECL_DEVICE\n"
             "(an index, cpu/gpu/accelerator, or part of \"platform: device\"; see `spherecl devices`).\n");
}

const char *cli_program_path;

int main(int argc, char **argv) {
  cli_program_path = argv[0];
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
    usage(stdout);
    return 0;
  }
  if (!strcmp(argv[1], "--version")) {
    const char *mpi = cli_mpi_feature();
    printf("spherecl %s\nfeatures: %s\n", scl_version(), mpi ? mpi : "none (built without MPI)");
    return 0;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (!strcmp(argv[1], commands[i].name)) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "spherecl: unknown command \"%s\"\n\n", argv[1]);
  usage(stderr);
  return 2;
}
