/* spherecl eval: PLACEHOLDER until its issue lands (replace this whole file). */
#include "commands.h"

#include <stdio.h>

int cmd_eval(int argc, char **argv) {
  (void)argc, (void)argv;
  fprintf(stderr, "spherecl eval: not built yet\n");
  return 1;
}
