/* cmd_keys: `suishen keys rotate|list|retire --data DIR`: the key ring. */
#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "base/time.h"
#include "cli/cli.h"

static enum ss_err print_key(void *ctx, const struct ss_key_row *row)
{
	char t[SS_TIME_TEXT];
	ss_time_format(row->created_at, t);
	printf("%lld\t%s\t%s\t%s\n", (long long)row->key_id, row->purpose, row->state, t);
	return SS_OK;
}

int ss_cmd_keys(int argc, char **argv)
{
	static const char *const names[] = {"data", "purpose", "id", NULL};
	const char *values[3] = {NULL}, *rest[1];
	const char *usage = "rotate --data DIR [--purpose code|data]\n"
	                    "       suishen keys list --data DIR\n"
	                    "       suishen keys retire --data DIR --id KEY_ID";
	int nrest;

	if (!ss_cli_options("keys", argc, argv, names, values, rest, &nrest, 1) || nrest != 1 || !values[0])
		return ss_cli_usage("keys", usage);
	const char *verb = rest[0];
	if (strcmp(verb, "rotate") && strcmp(verb, "list") && strcmp(verb, "retire"))
		return ss_cli_usage("keys", usage);
	enum ss_key_purpose purpose = SS_KEY_CODE;
	if (values[1] && (!ss_key_purpose_parse(values[1], &purpose) || purpose == SS_KEY_INDEX)) {
		fprintf(stderr, "suishen keys: --purpose must be code or data\n");
		return 2;
	}
	long long id = 0;
	if (!strcmp(verb, "retire") && (!values[2] || !ss_str_to_ll(values[2], 1, UINT32_MAX, &id)))
		return ss_cli_usage("keys", usage);

	struct ss_app *app = ss_cli_open("keys", values[0], false);
	if (!app)
		return 1;
	enum ss_err err = SS_OK;
	if (!strcmp(verb, "list")) {
		printf("key_id\tpurpose\tstate\tcreated_at\n");
		err = app->store->ops->key_each(app->store, print_key, NULL);
	} else if (!strcmp(verb, "rotate")) {
		uint32_t new_id;
		err = ss_app_rotate_key(app, purpose, &new_id);
		if (!err)
			printf("key %u is now the current %s key\n", new_id, ss_key_purpose_name(purpose));
	} else {
		err = ss_app_retire_key(app, (uint32_t)id);
		if (!err)
			printf("key %lld is retired\n", id);
	}
	ss_app_close(app);
	return err ? ss_cli_fail("keys", err) : 0;
}
