/*
 * scopegate's entry point: dispatches to the subcommand named by the first argument.
 */
#include <stdio.h>
#include <string.h>

#include "cli/commands.h"
#include "core/log.h"

static const struct {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv);
} commands[] = {
#define XX(name, summary) {#name, summary, sg_cli_##name},
    SG_CLI_COMMANDS(XX)
#undef XX
};

static int usage(FILE *out) {
  fprintf(out, "usage: scopegate COMMAND [OPTIONS]\n\ncommands:\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\nRun 'scopegate COMMAND --help' for a command's options.\n");
  return out == stdout ? 0 : 2;
}

int main(int argc, char **argv) {
  sg_log_init();
  if (argc < 2) return usage(stderr);
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
      strcmp(argv[1], "help") == 0)
    return usage(stdout);
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0) return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "scopegate: unknown command '%s'\n", argv[1]);
  return usage(stderr);
}
