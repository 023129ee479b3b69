/* cmd_rules: `suishen rules load|show --data DIR [FILE]`: the active rule set (core/assign.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"
#include "cli/cli.h"
#include "core/assign.h"
#include "core/rules.h"

static void report(void *ctx, long line, const char *message)
{
	int *nerrors = ctx;
	(*nerrors)++;
	printf("line %ld: %s\n", line, message); /* line 0: the file as a whole */
}

/* Reads at most SS_RULES_MAX_FILE + 1 bytes, so that a longer file is refused by the parser without more memory. */
static char *read_file(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "suishen rules: cannot open '%s': %s\n", path, strerror(errno));
		return NULL;
	}
	char *text = ss_malloc(SS_RULES_MAX_FILE + 2);
	*n = fread(text, 1, SS_RULES_MAX_FILE + 1, f);
	bool failed = ferror(f);
	fclose(f);
	if (failed) {
		fprintf(stderr, "suishen rules: cannot read '%s'\n", path);
		free(text);
		return NULL;
	}
	text[*n] = '\0';
	return text;
}

int ss_cmd_rules(int argc, char **argv)
{
	static const char *const names[] = {"data", NULL};
	const char *values[1] = {NULL}, *rest[2];
	const char *usage = "load --data DIR FILE    check FILE fully, then make it the active rule set\n"
	                    "       suishen rules show --data DIR    print the active rule set's version";
	int nrest;

	if (!ss_cli_options("rules", argc, argv, names, values, rest, &nrest, 2) || nrest < 1 || !values[0])
		return ss_cli_usage("rules", usage);
	bool load = !strcmp(rest[0], "load");
	if (!(load && nrest == 2) && !(!strcmp(rest[0], "show") && nrest == 1))
		return ss_cli_usage("rules", usage);

	char *text = NULL;
	size_t n = 0;
	if (load && !(text = read_file(rest[1], &n)))
		return 1;
	/* check before opening anything: a bad file changes nothing */
	int nerrors = 0;
	if (load) {
		struct ss_ruleset *rs = NULL;
		enum ss_err perr = ss_rules_parse(text, n, &rs, report, &nerrors);
		ss_rules_free(rs);
		if (perr) {
			if (!nerrors)
				printf("line 0: %s\n",
				       perr == SS_TOO_BIG ? "the file is too large" : "the file is invalid");
			fprintf(stderr, "suishen rules: '%s' was not loaded: %d error%s\n", rest[1],
			        nerrors ? nerrors : 1, nerrors == 1 ? "" : "s");
			free(text);
			return 1;
		}
	}
	struct ss_app *app = ss_cli_open("rules", values[0], false);
	if (!app) {
		free(text);
		return 1;
	}
	enum ss_err err;
	const char *version = NULL;
	if (load)
		err = ss_assign_set_rules(app, text, n, report, &nerrors, &version);
	else if (!(err = ss_assign_load_rules(app)))
		version = ss_rules_version(app->rules);
	if (!err)
		printf("%s\n", version);
	ss_app_close(app);
	free(text);
	return err ? ss_cli_fail("rules", err) : 0;
}
