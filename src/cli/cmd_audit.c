/*
 * cmd_audit: `suishen audit verify --data DIR` recomputes the audit log's
 * chain and checks its signed checkpoints (core/audit.h), printing how much
 * was checked, or naming the first entry that does not fit and exiting 1;
 * `suishen audit checkpoint --data DIR` signs the latest entry now.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/audit.h"

int ss_cmd_audit(int argc, char **argv)
{
	static const char *const names[] = {"data", NULL};
	const char *values[1] = {NULL}, *rest[1];
	const char *usage = "verify --data DIR\n"
	                    "       suishen audit checkpoint --data DIR";
	int nrest;

	if (!ss_cli_options("audit", argc, argv, names, values, rest, &nrest, 1) || nrest != 1 || !values[0])
		return ss_cli_usage("audit", usage);
	bool verify = !strcmp(rest[0], "verify");
	if (!verify && strcmp(rest[0], "checkpoint") != 0)
		return ss_cli_usage("audit", usage);
	struct ss_app *app = ss_cli_open("audit", values[0], false);
	if (!app)
		return 1;
	enum ss_err err;
	if (verify) {
		struct ss_audit_report rep;
		err = ss_audit_verify(app, &rep);
		if (!err)
			printf("audit log intact: %lld entries, %lld signed checkpoints\n", (long long)rep.entries,
			       (long long)rep.checkpoints);
		else if (rep.first_bad)
			printf("audit log broken at entry %lld: %s (%lld entries before it fit)\n",
			       (long long)rep.first_bad, rep.reason, (long long)rep.entries);
	} else {
		bool made = false;
		err = ss_audit_checkpoint(app, &made);
		if (!err)
			puts(made ? "checkpoint signed" : "nothing new to sign");
	}
	ss_app_close(app);
	if (err == SS_CONFLICT)
		return 1;
	return err ? ss_cli_fail("audit", err) : 0;
}
