/*
 * cmd_import: `suishen import population --data DIR FILE.csv` loads the
 * population registry, and `suishen import records --data DIR --source SOURCE
 * [--format auto|csv|jsonl] FILE` a file of records from a data source
 * (core/records.h), each all or nothing, naming each bad line (a registry
 * line with each of its mistakes, core/population.h); a progress bar
 * is drawn on standard error when it is a terminal. FILE may be '-' for
 * standard input. After either, the people it concerns are re-evaluated by
 * the rules: those the records are about, or the people a population import
 * added (whose records were waiting for them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "base/time.h"
#include "cli/cli.h"
#include "core/assign.h"
#include "core/audit.h"
#include "core/pii.h"
#include "core/records.h"
#include "core/registry.h"

#define MAX_REPORTED 1000

struct progress {
	long long total;  /* bytes in the file, 0 if unknown */
	const char *unit; /* what is counted: "rows", "records" */
	bool tty;
	long long reported;
	int64_t started_us;
	/* the blind indexes of the people the records kept are about, to re-evaluate them after the commit */
	struct ss_app *app;
	uint8_t (*idx)[SS_INDEX_LEN];
	size_t nidx, cap;
};

static void on_kept(void *ctx, const char *id_number)
{
	struct progress *p = ctx;
	if (p->nidx == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 256;
		p->idx = ss_realloc(p->idx, p->cap * sizeof(*p->idx));
	}
	ss_pii_index(p->app, id_number, p->idx[p->nidx++]);
}

static int cmp_idx(const void *a, const void *b)
{
	return memcmp(a, b, SS_INDEX_LEN);
}

/*
 * Re-evaluates each person the import touched, once. Someone not in the
 * registry is skipped: their records wait until they are. A server that is
 * running follows the new colours from the store (cmd_serve.c).
 */
static enum ss_err reassign(struct progress *p, long long *people, long long *changed)
{
	enum ss_err err = SS_OK;
	int64_t now = ss_time_now();
	*people = *changed = 0;
	if (p->nidx > 1) /* qsort may not be given a NULL array, even empty */
		qsort(p->idx, p->nidx, SS_INDEX_LEN, cmp_idx);
	for (size_t i = 0; !err && i < p->nidx; i++) {
		if (i > 0 && !memcmp(p->idx[i], p->idx[i - 1], SS_INDEX_LEN))
			continue;
		bool c = false;
		err = ss_assign_by_index(p->app, p->idx[i], now, &c);
		(*people)++;
		*changed += c;
	}
	return err;
}

static void on_bad_line(void *ctx, long line, const char *field, const char *reason)
{
	struct progress *p = ctx;
	if (p->reported++ == MAX_REPORTED) {
		fprintf(stderr, "... (further mistakes are counted, not listed)\n");
		return;
	}
	if (p->reported > MAX_REPORTED)
		return;
	if (p->tty)
		fputs("\r\033[K", stderr);
	if (field)
		fprintf(stderr, "line %ld: %s: %s\n", line, field, reason);
	else
		fprintf(stderr, "line %ld: %s\n", line, reason);
}

static void on_progress(void *ctx, long long bytes, long long rows)
{
	struct progress *p = ctx;
	if (!p->tty)
		return;
	double secs = (double)(ss_time_mono_us() - p->started_us) / 1e6;
	if (p->total > 0 && bytes >= 0) {
		int pct = (int)(100.0 * (double)bytes / (double)p->total);
		int bar = pct * 30 / 100;
		fprintf(stderr, "\r[%.*s%*s] %3d%%  %lld %s  %.0f %s/s", bar, "##############################",
		        30 - bar, "", pct, rows, p->unit, secs > 0 ? (double)rows / secs : 0.0, p->unit);
	} else {
		fprintf(stderr, "\r%lld %s  %.0f %s/s", rows, p->unit, secs > 0 ? (double)rows / secs : 0.0, p->unit);
	}
}

int ss_cmd_import(int argc, char **argv)
{
	static const char *const names[] = {"data", "source", "format", NULL};
	const char *values[3] = {NULL, NULL, NULL}, *rest[2];
	const char *usage = "population --data DIR FILE.csv\n"
	                    "       suishen import records --data DIR --source SOURCE [--format auto|csv|jsonl] FILE";
	enum ss_records_format format = SS_RECORDS_AUTO;
	int nrest;

	if (!ss_cli_options("import", argc, argv, names, values, rest, &nrest, 2) || nrest != 2 || !values[0])
		return ss_cli_usage("import", usage);
	bool records = !strcmp(rest[0], "records");
	if (!records && strcmp(rest[0], "population") != 0) {
		fprintf(stderr, "suishen import: unknown kind '%s' (this version imports: population, records)\n",
		        rest[0]);
		return 2;
	}
	if (!records && (values[1] || values[2]))
		return ss_cli_usage("import", usage);
	if (records) {
		if (!values[1])
			return ss_cli_usage("import", usage);
		if (ss_source_check(values[1])) {
			fprintf(stderr, "suishen import: %s\n", ss_err_message());
			return 2;
		}
		if (values[2] && !ss_records_format_parse(values[2], &format)) {
			fprintf(stderr, "suishen import: --format must be auto, csv or jsonl\n");
			return 2;
		}
	}
	FILE *in = strcmp(rest[1], "-") ? fopen(rest[1], "rb") : stdin;
	if (!in) {
		fprintf(stderr, "suishen import: cannot open '%s'\n", rest[1]);
		return 1;
	}
	struct ss_app *app = ss_cli_open("import", values[0], false);
	if (!app) {
		if (in != stdin)
			fclose(in);
		return 1;
	}
	struct stat st;
	struct progress p = {
	        .tty = isatty(STDERR_FILENO), .started_us = ss_time_mono_us(), .unit = records ? "records" : "rows"};
	if (fstat(fileno(in), &st) == 0 && S_ISREG(st.st_mode))
		p.total = (long long)st.st_size;
	p.app = app;
	struct ss_import_report rep = {
	        .bad_line = on_bad_line, .progress = on_progress, .kept = records ? on_kept : NULL, .ctx = &p};
	long long dups = 0;
	int64_t last_person = 0; /* people added by a population import have higher ids */
	enum ss_err err = records ? SS_OK : app->store->ops->person_max_id(app->store, &last_person);
	if (!err)
		err = records ? ss_records_import(app, in, values[1], format, &rep, &dups)
		              : ss_registry_import(app, in, &rep);
	if (p.tty)
		fputs("\r\033[K", stderr);
	double secs = (double)(ss_time_mono_us() - p.started_us) / 1e6;
	if (!err && records)
		printf("imported %lld records (%lld duplicates ignored) in %.1f s\n", rep.rows, dups, secs);
	else if (!err)
		printf("imported %lld people in %.1f s\n", rep.rows, secs);
	if (!err) {
		char detail[128];
		snprintf(detail, sizeof(detail), "{\"source\":\"%s\",\"kept\":%lld,\"duplicates\":%lld}",
		         records ? values[1] : "registry", rep.rows, dups);
		struct ss_audit_event e = {.actor = SS_ACTOR_SYSTEM,
		                           .action = records ? "import.records" : "import.population",
		                           .detail = detail};
		err = ss_audit(app, &e);
	}
	long long people = 0, changed = 0;
	if (!err && records && !(err = reassign(&p, &people, &changed)))
		fprintf(stderr, "re-evaluated %lld people: %lld changed\n", people, changed);
	/* records about people not yet in the registry were waiting for them */
	int64_t waited = 0, coloured = 0;
	if (!err && !records && !(err = ss_assign_people_after(app, last_person, ss_time_now(), 0, &waited, &coloured)))
		fprintf(stderr, "re-evaluated %lld new people with records: %lld changed\n", (long long)waited,
		        (long long)coloured);
	free(p.idx);
	if (in != stdin)
		fclose(in);
	ss_app_close(app);
	return err ? ss_cli_fail("import", err) : 0;
}
