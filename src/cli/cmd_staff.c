/* cmd_staff: `suishen staff create --data DIR --name NAME --role ROLE`: prints {"staff_id":..,"token":".."}. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/audit.h"
#include "core/staff.h"

int ss_cmd_staff(int argc, char **argv)
{
	static const char *const names[] = {"data", "name", "role", NULL};
	const char *values[3] = {NULL}, *rest[1];
	const char *usage = "create --data DIR --name NAME --role admin|operator|handler|epidemiologist|security";
	int nrest;

	if (!ss_cli_options("staff", argc, argv, names, values, rest, &nrest, 1) || nrest != 1 ||
	    strcmp(rest[0], "create") != 0 || !values[0] || !values[1] || !values[2])
		return ss_cli_usage("staff", usage);
	enum ss_role role;
	if (!ss_role_parse(values[2], &role)) {
		fprintf(stderr, "suishen staff: unknown role '%s'\n", values[2]);
		return ss_cli_usage("staff", usage);
	}
	struct ss_app *app = ss_cli_open("staff", values[0], false);
	if (!app)
		return 1;
	int64_t id;
	char token[65];
	enum ss_err err = ss_staff_create(app, values[1], values[2], &id, token);
	if (!err) {
		/* made at the command line: the system acted (an API call is audited as its caller's) */
		char detail[96];
		snprintf(detail, sizeof(detail), "{\"staff_id\":%lld,\"role\":\"%s\"}", (long long)id, values[2]);
		struct ss_audit_event e = {.actor = SS_ACTOR_SYSTEM, .action = "staff.create", .detail = detail};
		err = ss_audit(app, &e);
	}
	if (!err)
		printf("{\"staff_id\":%lld,\"token\":\"%s\"}\n", (long long)id, token);
	ss_app_close(app);
	return err ? ss_cli_fail("staff", err) : 0;
}
