/* The subcommands of `spherecl`: each takes its own argv (argv[0] is the command name) and returns
   the process exit code (0 success, 1 failure, 2 bad usage). */
#ifndef SPHERECL_COMMANDS_H
#define SPHERECL_COMMANDS_H
#include "spherecl.h"

/* argv[0] of the process (spherecl tune re-runs itself for each candidate). */
extern const char *cli_program_path;

int cmd_devices(int argc, char **argv);
int cmd_selftest(int argc, char **argv);
int cmd_align(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_embed(int argc, char **argv);
int cmd_pairs(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_export(int argc, char **argv);

#endif
