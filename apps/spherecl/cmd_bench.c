/* spherecl bench: PLACEHOLDER until its issue lands (replace this whole file). */
#include "commands.h"

#include <stdio.h>

int cmd_bench(int argc, char **argv) {
  (void)argc, (void)argv;
  fprintf(stderr, "spherecl bench: not built yet\n");
  return 1;
}
