/*
 * cmd_rules: `suishen rules load|diff|show --data DIR [FILE]`: the active rule set and what-if (core/assign.h).
 * show prints the active set's text as stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "cli/cli.h"
#include "base/time.h"
#include "core/assign.h"
#include "core/division.h"
#include "core/holders.h"
#include "core/rulejob.h"
#include "core/rules.h"

#define PROGRESS_MS 1000 /* between lines saying how far a load is */

static void report(void *ctx, long line, const char *message)
{
	int *nerrors = ctx;
	(*nerrors)++;
	printf("line %ld: %s\n", line, message); /* line 0: the file as a whole */
}

/* The rule file at path (at most SS_RULES_MAX_FILE bytes, the parser's own bound), or NULL having said why. */
static char *read_file(const char *path, size_t *n)
{
	struct ss_buf b;
	ss_buf_init(&b, SS_RULES_MAX_FILE);
	if (ss_buf_read_file(&b, path) != SS_OK) {
		fprintf(stderr, "suishen rules: %s\n", ss_err_message());
		ss_buf_release(&b);
		return NULL;
	}
	return ss_buf_take(&b, n);
}

/* Prints "  green->yellow: N" lines for the non-zero changes of a table. */
static void print_changes(const char *indent, const int64_t changes[3][3])
{
	for (int from = 0; from < 3; from++)
		for (int to = 0; to < 3; to++)
			if (from != to && changes[from][to])
				printf("%s%s->%s: %lld\n", indent, ss_color_name(from), ss_color_name(to),
				       (long long)changes[from][to]);
}

static void print_diff(const char *version, const struct ss_rules_diff *d)
{
	printf("rule set %s: %lld people with records, %lld would change colour\n", version, (long long)d->people,
	       (long long)ss_rules_diff_changed(d));
	printf("now:   green %lld, yellow %lld, red %lld\n", (long long)d->now[0], (long long)d->now[1],
	       (long long)d->now[2]);
	printf("after: green %lld, yellow %lld, red %lld\n", (long long)d->after[0], (long long)d->after[1],
	       (long long)d->after[2]);
	if (!ss_rules_diff_changed(d))
		return;
	printf("by transition:\n");
	print_changes("  ", d->changes);
	printf("by district:\n");
	for (size_t i = 0; i < d->ndistricts; i++) {
		const char *name = ss_division_name(d->districts[i].division);
		printf("  %s %s\n", d->districts[i].division, name ? name : "?");
		print_changes("    ", d->districts[i].changes);
	}
	if (d->has_other) {
		printf("  other\n");
		print_changes("    ", d->other.changes);
	}
}

/* Says how far the job is, at most every PROGRESS_MS. */
static bool print_progress(void *ctx, const struct ss_rulejob *job)
{
	int64_t *last_ms = ctx, now_ms = ss_time_now_ms();
	if (job->state == SS_RULEJOB_RUNNING && now_ms - *last_ms < PROGRESS_MS)
		return true;
	*last_ms = now_ms;
	if (job->people_total < 0)
		fprintf(stderr, "job %lld: counting the people with records\n", (long long)job->job_id);
	else if (job->state == SS_RULEJOB_RUNNING)
		fprintf(stderr, "job %lld: %lld of %lld people re-evaluated, %lld changed\n", (long long)job->job_id,
		        (long long)job->people_done, (long long)job->people_total, (long long)job->changed);
	return true;
}

/* Applies candidate as a job walked here, saying how far it is; prints its version once it is in force. */
static enum ss_err load_rules(struct ss_app *app, struct ss_ruleset *candidate)
{
	int64_t job_id = 0, last_ms = 0;
	enum ss_err err = ss_rulejob_start(app, candidate, 0, false, &job_id);
	if (err)
		return err;
	printf("%s\n", ss_rules_version(candidate)); /* stored and in force from here, whatever the walk does */
	fflush(stdout);
	err = ss_rulejob_run(app, job_id, 0, print_progress, &last_ms);
	struct ss_rulejob *job = ss_malloc(sizeof(*job));
	if (!err && !(err = ss_rulejob_get(app, job_id, job)))
		fprintf(stderr, "re-evaluated %lld people: %lld changed (job %lld)\n", (long long)job->people_done,
		        (long long)job->changed, (long long)job_id);
	free(job);
	return err;
}

int ss_cmd_rules(int argc, char **argv)
{
	static const char *const names[] = {"data", NULL};
	const char *values[1] = {NULL}, *rest[2];
	const char *usage =
	        "load --data DIR FILE    check FILE fully, make it the active rule set, re-evaluate everyone\n"
	        "       suishen rules diff --data DIR FILE    whom FILE would move between colours (changes nothing)\n"
	        "       suishen rules show --data DIR    print the active rule set (its text, version line and all)";
	int nrest;

	if (!ss_cli_options("rules", argc, argv, names, values, rest, &nrest, 2) || nrest < 1 || !values[0])
		return ss_cli_usage("rules", usage);
	bool diff = !strcmp(rest[0], "diff");
	bool load = diff || !strcmp(rest[0], "load"); /* both read and check a file first */
	if (!(load && nrest == 2) && !(!strcmp(rest[0], "show") && nrest == 1))
		return ss_cli_usage("rules", usage);

	char *text = NULL;
	size_t n = 0;
	if (load && !(text = read_file(rest[1], &n)))
		return 1;
	/* check before opening anything: a bad file changes nothing */
	int nerrors = 0;
	struct ss_ruleset *candidate = NULL;
	if (load) {
		enum ss_err perr = ss_rules_parse(text, n, &candidate, report, &nerrors);
		if (perr) {
			if (!nerrors)
				printf("line 0: %s\n",
				       perr == SS_TOO_BIG ? "the file is too large" : "the file is invalid");
			fprintf(stderr, "suishen rules: '%s' was not %s: %d error%s\n", rest[1],
			        diff ? "compared" : "loaded", nerrors ? nerrors : 1, nerrors == 1 ? "" : "s");
			free(text);
			return 1;
		}
	}
	struct ss_app *app = ss_cli_open("rules", values[0], false);
	if (!app) {
		ss_rules_free(candidate);
		free(text);
		return 1;
	}
	enum ss_err err;
	if (diff) {
		struct ss_rules_diff *d = ss_malloc(sizeof(*d));
		/* the current colours are the stored ones: the active set is not needed (nor stored, if none is) */
		if (!(err = ss_assign_diff(app, candidate, ss_time_now(), d)))
			print_diff(ss_rules_version(candidate), d);
		free(d);
	} else if (load) {
		err = load_rules(app, candidate);
	} else if (!(err = ss_assign_load_rules(app))) {
		/* the text as stored, so that `rules show > FILE` gives a file `rules load` takes back */
		const char *active = ss_rules_text(app->rules);
		size_t len = strlen(active);
		fwrite(active, 1, len, stdout);
		if (len && active[len - 1] != '\n')
			putchar('\n');
	}
	ss_app_close(app);
	ss_rules_free(candidate);
	free(text);
	return err ? ss_cli_fail("rules", err) : 0;
}
