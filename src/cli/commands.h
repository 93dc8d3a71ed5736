/*
 * The CLI's subcommands. Each lives in src/cli/<name>.c as
 * int sg_cli_<name>(int argc, char **argv), where argv[0] is the subcommand name;
 * it returns the process exit status.
 */
#ifndef SG_CLI_COMMANDS_H
#define SG_CLI_COMMANDS_H

/* XX(name, one-line summary) */
#define SG_CLI_COMMANDS(XX)                                            \
  XX(serve, "run the gateway (stdio transport) on a catalog")          \
  XX(audit, "read and check the audit log: audit tail|verify|export")   \
  XX(approvals, "list, show, approve or deny calls waiting for a human") \
  XX(writes, "the kill switch for write tools: writes off|on|status")  \
  XX(check, "lint a catalog: check [--strict] CATALOG_DIR")            \
  XX(matrix, "who may call what: matrix [--json] CATALOG_DIR")         \
  XX(diff, "what a change grants or revokes: diff OLD NEW")             \
  XX(validate, "check JSON against a schema: validate --schema FILE [FILE...]") \
  XX(stats, "unused grants and rising denial rates from the audit: stats [--window HOURS]")

#define XX(name, summary) int sg_cli_##name(int argc, char **argv);
SG_CLI_COMMANDS(XX)
#undef XX

#endif
