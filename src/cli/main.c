/* main: the `suishen` binary: dispatches to one subcommand (cli.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "base/log.h"
#include "cli/cli.h"

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *help;
} commands[] = {
        {"init", ss_cmd_init, "--data DIR                          create a data directory (idempotent)"},
        {"serve", ss_cmd_serve, "--data DIR [--listen HOST:PORT] ...  serve the HTTP API"},
        {"import", ss_cmd_import, "population|records --data DIR FILE  load the registry, or records"},
        {"staff", ss_cmd_staff, "create --data DIR --name N --role R  create a member of staff"},
        {"keys", ss_cmd_keys, "rotate|list|retire|reseal|master ...  manage the key ring and the master key"},
        {"code", ss_cmd_code, "--data DIR --id-number N            print a resident's code as a QR"},
        {"verify", ss_cmd_verify, "--data DIR CODE                     what a scan of CODE would answer"},
        {"rules", ss_cmd_rules, "load|diff|show --data DIR [FILE]     load a rule set, compare one, or show it"},
        {"audit", ss_cmd_audit, "verify|checkpoint --data DIR          check the audit log's chain, or sign it"},
        {"demo", ss_cmd_demo, "--data DIR [--residents N] ...      fill DIR with a demo city, say how to log in"},
};

static int usage(FILE *out)
{
	fprintf(out, "usage: suishen COMMAND [OPTIONS] [--verbose]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-7s %s\n", commands[i].name, commands[i].help);
	fprintf(out, "\n--verbose (any command) also prints the log lines of routine events on standard error;\n"
	             "warnings and errors are printed always, and serve logs every event\n");
	return out == stdout ? 0 : 2;
}

/*
 * Takes --verbose out of argv (anywhere: before or after the command),
 * returning whether it was there, so that no command's options need it.
 */
static bool take_verbose(int *argc, char **argv)
{
	bool verbose = false;
	int n = 0;
	for (int i = 0; i < *argc; i++) {
		if (i > 0 && !strcmp(argv[i], "--verbose"))
			verbose = true;
		else
			argv[n++] = argv[i];
	}
	argv[n] = NULL;
	*argc = n;
	return verbose;
}

int main(int argc, char **argv)
{
	bool verbose = take_verbose(&argc, argv);
	if (argc < 2)
		return usage(stderr);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))
		return usage(stdout);
	/* a command's output is what it prints; its routine log lines are for --verbose (the server logs all) */
	ss_log_set_default(verbose || !strcmp(argv[1], "serve") ? SS_LOG_INFO : SS_LOG_WARN);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "suishen: unknown command '%s'\n", argv[1]);
	return usage(stderr);
}
