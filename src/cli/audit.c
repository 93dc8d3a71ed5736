#include "cli/commands.h"
#include <stdio.h>

int sg_cli_audit(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fprintf(stderr, "scopegate audit: unavailable\n");
  return 2;
}
