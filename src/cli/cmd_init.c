/* cmd_init: `suishen init --data DIR`: create the data directory, database and keys; idempotent. */
#include <stdio.h>

#include "cli/cli.h"

int ss_cmd_init(int argc, char **argv)
{
	static const char *const names[] = {"data", NULL};
	const char *values[1] = {NULL}, *rest[1];
	int nrest;

	if (!ss_cli_options("init", argc, argv, names, values, rest, &nrest, 0) || !values[0])
		return ss_cli_usage("init", "--data DIR");
	struct ss_app *app = ss_cli_open("init", values[0], true);
	if (!app)
		return 1;
	printf("data directory '%s' is ready\n", values[0]);
	ss_app_close(app);
	return 0;
}
