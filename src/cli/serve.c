#include "cli/commands.h"
#include <stdio.h>

int sg_cli_serve(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "scopegate serve: unavailable\n");
  return 2;
}
