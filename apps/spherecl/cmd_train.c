/* spherecl train: PLACEHOLDER until its issue lands (replace this whole file). */
#include "commands.h"

#include <stdio.h>

int cmd_train(int argc, char **argv) {
  (void)argc, (void)argv;
  fprintf(stderr, "spherecl train: not built yet\n");
  return 1;
}
