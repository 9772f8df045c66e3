/* spherecl verify: PLACEHOLDER until its issue lands (replace this whole file). */
#include "commands.h"

#include <stdio.h>

int cmd_verify(int argc, char **argv) {
  (void)argc, (void)argv;
  fprintf(stderr, "spherecl verify: not built yet\n");
  return 1;
}
