/*
 * cli: the `suishen` command line: one cmd_<name>.c per subcommand, each an
 * int ss_cmd_<name>(argc, argv) returning the process exit status, and the
 * option handling they share (common.c). Errors go to standard error as
 * "suishen <command>: <message>"; results to standard output.
 */
#ifndef SS_CLI_CLI_H
#define SS_CLI_CLI_H

#include <stdbool.h>

#include "base/err.h"
#include "core/app.h"

int ss_cmd_init(int argc, char **argv);
int ss_cmd_serve(int argc, char **argv);
int ss_cmd_import(int argc, char **argv);
int ss_cmd_staff(int argc, char **argv);
int ss_cmd_keys(int argc, char **argv);
int ss_cmd_code(int argc, char **argv);
int ss_cmd_verify(int argc, char **argv);
int ss_cmd_demo(int argc, char **argv);
int ss_cmd_rules(int argc, char **argv);
int ss_cmd_audit(int argc, char **argv);

/* Prints "suishen <cmd>: <message>" for err (the thread's error detail), returns exit status 1. */
int ss_cli_fail(const char *cmd, enum ss_err err);

/* Prints a usage error and returns exit status 2. */
int ss_cli_usage(const char *cmd, const char *usage);

/*
 * Parses "--name VALUE" and "--name=VALUE" options listed in names (NULL-ended)
 * into values (same order), and collects the remaining arguments into rest.
 * Returns false (after printing why) on an unknown option or a missing value.
 */
bool ss_cli_options(const char *cmd, int argc, char **argv, const char *const *names, const char **values,
                    const char **rest, int *nrest, int maxrest);

/*
 * Where serve finds the built pages when --web names none: installed beside
 * the binary (PREFIX/bin/suishen serves PREFIX/share/suishen/web, as `make
 * install` lays them out), else the web/dist of the source tree the binary
 * was built from (SS_WEB_DIR). Not thread-safe (a static buffer; called once
 * at start).
 */
const char *ss_cli_web_dir(void);

/* Opens the data directory (creating it with create), printing the error if it cannot. */
struct ss_app *ss_cli_open(const char *cmd, const char *data_dir, bool create);

#endif
