/*
 * cmd_verify: `suishen verify --data DIR CODE` says what a scan of CODE would
 * answer now (without recording a scan or showing personal data): one JSON
 * line with the result, the key id and the issue and expiry times.
 */
#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"
#include "core/codes.h"

int ss_cmd_verify(int argc, char **argv)
{
	static const char *const names[] = {"data", "code-ttl", NULL};
	const char *values[2] = {NULL, "60"}, *rest[1];
	long long ttl;
	int nrest;

	if (!ss_cli_options("verify", argc, argv, names, values, rest, &nrest, 1) || !values[0] || nrest != 1 ||
	    !ss_str_to_ll(values[1], 1, 86400, &ttl))
		return ss_cli_usage("verify", "--data DIR [--code-ttl SECONDS] CODE");
	struct ss_app *app = ss_cli_open("verify", values[0], false);
	if (!app)
		return 1;
	app->cfg.code_ttl = ttl;
	enum ss_err err = ss_app_start(app, false);
	if (!err) {
		struct ss_code_check check;
		ss_codes_check(app, rest[0], strlen(rest[0]), ss_time_now(), &check);
		printf("{\"result\":\"%s\"", ss_scan_result_name(check.result));
		if (check.result != SS_RESULT_INVALID) {
			char issued[SS_TIME_TEXT], expires[SS_TIME_TEXT];
			ss_time_format(check.issued_at, issued);
			ss_time_format(check.issued_at + ttl, expires);
			printf(",\"key_id\":%lld,\"issued_at\":\"%s\",\"expires_at\":\"%s\"", (long long)check.key_id,
			       issued, expires);
		}
		printf("}\n");
	}
	ss_app_close(app);
	return err ? ss_cli_fail("verify", err) : 0;
}
