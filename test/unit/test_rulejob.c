/* Unit tests of rule jobs (core/rulejob.h) over a real store in a temporary directory, with a second app on the
 * same directory standing for a second process: a job's counts stay exact when its owner dies part-way and another
 * takes it over from where it was written last; one job at a time across processes; an owner silent past the lease
 * is taken over or superseded; an owner that lost its job writes nothing more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"
#include "check.h"
#include "core/app.h"
#include "core/assign.h"
#include "core/idcard.h"
#include "core/pii.h"
#include "core/records.h"
#include "core/registry.h"
#include "core/rulejob.h"
#include "core/rules.h"

#define PEOPLE 12
#define BATCH  2 /* people read at a time: a job writes where it is after each batch */

static char dir[64];
static struct ss_app *app, *other; /* two processes on one data directory */

/* The first set: a fever is yellow. */
static const char set_a[] = "version a-1\n"
                            "rule yellow.fever\n"
                            "    color yellow\n"
                            "    when health_declaration where temperature >= 37.3 within 3d\n"
                            "    reason zh 发热\n"
                            "    reason en fever\n";
/* The second: anything from 36.0 is red, so that most people move. */
static const char set_b[] = "version b-1\n"
                            "rule red.warm\n"
                            "    color red\n"
                            "    when health_declaration where temperature >= 36.0 within 3d\n"
                            "    reason zh 体温\n"
                            "    reason en warm\n";

static void on_bad(void *ctx, long line, const char *field, const char *reason)
{
	printf("#   line %ld: %s: %s\n", line, field ? field : "", reason);
}

static void id_number(int i, char out[19])
{
	/* two districts; sequence digits odd for men, even for women, as GB 11643 has it */
	snprintf(out, 19, "%s19800101%03d", i % 2 ? "310104" : "310101", 100 + 2 * i + (i % 2));
	out[17] = ss_idcard_check_char(out);
	out[18] = '\0';
}

static void test_setup(void)
{
	char csv[4096] = "id_number,name,sex,birth_date,division,phone\n", jsonl[8192] = "", id[19], when[SS_TIME_TEXT];
	ss_time_format(ss_time_now() - 3600, when);
	for (int i = 0; i < PEOPLE; i++) {
		id_number(i, id);
		snprintf(csv + strlen(csv), sizeof(csv) - strlen(csv), "%s,测试%d,%s,1980-01-01,%.6s,1380013%04d\n", id,
		         i, i % 2 ? "M" : "F", id, i);
		/* 36.5 (a: green, b: red), 38.0 (yellow, red), 35.5 (green under both) in turn */
		static const char *const temps[] = {"36.5", "38.0", "35.5"};
		snprintf(jsonl + strlen(jsonl), sizeof(jsonl) - strlen(jsonl),
		         "{\"record_id\":\"t-%d\",\"kind\":\"health_declaration\",\"id_number\":\"%s\",\"occurred_at\":"
		         "\"%s\",\"attributes\":{\"temperature\":%s,\"symptoms\":[]}}\n",
		         i, id, when, temps[i % 3]);
	}
	struct ss_import_report rep = {.bad_line = on_bad};
	FILE *f = fmemopen(csv, strlen(csv), "r");
	CHECK(ss_registry_import(app, f, &rep) == SS_OK);
	fclose(f);
	long long dups = 0;
	f = fmemopen(jsonl, strlen(jsonl), "r");
	CHECK(ss_records_import(app, f, "cdc", SS_RECORDS_JSONL, &rep, &dups) == SS_OK);
	fclose(f);
	CHECK(ss_app_open(dir, false, &other) == SS_OK);
}

static struct ss_ruleset *parse(const char *text)
{
	struct ss_ruleset *rs = NULL;
	CHECK(ss_rules_parse(text, strlen(text), &rs, NULL, NULL) == SS_OK);
	return rs;
}

/* The job as kept, raw (owner, heartbeat, place), copied to a. */
static struct ss_rule_job_row raw(int64_t job_id, struct ss_arena *a)
{
	struct ss_rule_job_row row = {.state = ""};
	CHECK(app->store->ops->rule_job_get(app->store, job_id, a, &row) == SS_OK);
	return row;
}

static struct ss_rulejob *job(int64_t job_id)
{
	struct ss_rulejob *j = calloc(1, sizeof(*j));
	CHECK(ss_rulejob_get(app, job_id, j) == SS_OK);
	return j;
}

/* Stops the walk at its second write of where it is (after 2 * BATCH people). */
static bool stop_at_second(void *ctx, const struct ss_rulejob *j)
{
	int *reports = ctx;
	return j->people_total < 0 || j->people_done == 0 || ++*reports < 2;
}

static void test_first_set(void)
{
	struct ss_ruleset *rs = parse(set_a);
	int64_t id = 0;
	CHECK(rs && ss_rulejob_start(app, rs, 7, false, &id) == SS_OK);
	CHECK(ss_rulejob_run(app, id, BATCH, NULL, NULL) == SS_OK);
	struct ss_rulejob *j = job(id);
	CHECK(j->state == SS_RULEJOB_DONE && j->people_total == PEOPLE && j->people_done == PEOPLE);
	CHECK(j->changed == PEOPLE / 3); /* the fevers */
	CHECK(j->started_by == 7 && j->finished_at > 0);
	CHECK(j->moves.changes[0][1] == PEOPLE / 3 && j->moves.ndistricts == 2);
	free(j);
	ss_rules_free(rs);
}

/*
 * A second process starts applying set b and dies part-way, its place
 * written at BATCH people although it went on to 2 * BATCH, changing some of
 * them (kept, and counted in the transaction of each change): more than a
 * crash leaves, as a change writes the place too. While its lease holds
 * nobody else may apply or take the job; once it has run out this process
 * takes it over from that place, re-evaluating those people again, and the
 * outcome is exactly what the diff said: nobody counted twice or missed.
 */
static void test_taken_over_after_a_crash(void)
{
	struct ss_ruleset *b = parse(set_b), *a = parse(set_a);
	struct ss_rules_diff *d = calloc(1, sizeof(*d));
	struct ss_arena ar;
	ss_arena_init(&ar);
	CHECK(ss_assign_diff(app, b, ss_time_now(), d) == SS_OK);
	CHECK(d->people == PEOPLE && ss_rules_diff_changed(d) == 2 * PEOPLE / 3);

	int64_t id = 0;
	int reports = 0;
	CHECK(ss_rulejob_start(other, b, 0, false, &id) == SS_OK);
	CHECK(ss_rulejob_run(other, id, BATCH, stop_at_second, &reports) == SS_OK);
	struct ss_rule_job_row row = raw(id, &ar);
	CHECK_STR(row.state, "running");
	CHECK(row.people_done == 2 * BATCH && row.heartbeat_ms == 0); /* stopped: let go */
	int64_t changed_then = row.changed;
	CHECK(changed_then > 0);

	/* as if killed with its place written at BATCH people: its changes after that kept, its lease fresh */
	int64_t owner = row.owner;
	struct ss_rule_job_row first = row;
	first.people_done = BATCH;
	first.heartbeat_ms = ss_time_now_ms();
	struct ss_person_row p;
	char idn[19];
	uint8_t idx[SS_INDEX_LEN];
	id_number(BATCH - 1, idn);
	ss_pii_index(app, idn, idx);
	CHECK(app->store->ops->person_get(app->store, idx, &ar, &p) == SS_OK);
	first.after = p.person_id; /* persons come in person id order: the BATCH-th */
	CHECK(app->store->ops->rule_job_update(app->store, &first, owner) == SS_OK);

	/* its lease holds: no one else applies, nor takes it */
	int64_t refused = 0;
	CHECK(ss_rulejob_start(app, a, 0, false, &refused) == SS_CONFLICT);
	char want[64];
	snprintf(want, sizeof(want), "(job %lld)", (long long)id);
	CHECK(strstr(ss_err_message(), want) != NULL);
	bool resumed = true;
	CHECK(ss_rulejob_resume(app, &resumed) == SS_OK && !resumed);
	CHECK(ss_rulejob_run(app, id, BATCH, NULL, NULL) == SS_CONFLICT);
	struct ss_rulejob *j = job(0);
	CHECK(j->job_id == id && j->state == SS_RULEJOB_RUNNING && j->people_done == BATCH);
	CHECK(j->changed == changed_then);
	free(j);

	/* silent past the lease: taken over, on the job thread, and finished */
	first.heartbeat_ms = ss_time_now_ms() - SS_RULEJOB_LEASE_MS - 1;
	CHECK(app->store->ops->rule_job_update(app->store, &first, owner) == SS_OK);
	CHECK(ss_rulejob_resume(app, &resumed) == SS_OK && resumed);
	int64_t deadline = ss_time_now_ms() + 30000;
	for (;;) {
		j = job(id);
		bool running = j->state == SS_RULEJOB_RUNNING;
		free(j);
		if (!running || ss_time_now_ms() > deadline)
			break;
		usleep(10000);
	}
	j = job(id);
	CHECK(j->state == SS_RULEJOB_DONE);
	CHECK(j->people_total == d->people && j->people_done == d->people);
	CHECK(j->changed == ss_rules_diff_changed(d));
	for (int from = 0; from < 3; from++)
		for (int to = 0; to < 3; to++)
			CHECK(from == to || j->moves.changes[from][to] == d->changes[from][to]);
	CHECK(j->moves.ndistricts == d->ndistricts);
	for (size_t i = 0; i < d->ndistricts && i < j->moves.ndistricts; i++) {
		CHECK_STR(j->moves.districts[i].division, d->districts[i].division);
		CHECK(!memcmp(j->moves.districts[i].changes, d->districts[i].changes, sizeof(d->districts[i].changes)));
	}
	free(j);
	/* nothing left to move, and the dead owner's job is no longer its own */
	CHECK(ss_assign_diff(app, b, ss_time_now(), d) == SS_OK && ss_rules_diff_changed(d) == 0);
	CHECK(ss_rulejob_run(other, id, BATCH, NULL, NULL) == SS_CONFLICT);
	free(d);
	ss_arena_release(&ar);
	ss_rules_free(a);
	ss_rules_free(b);
}

/* Takes the job over for app in the middle of other's walk: other's next write finds it is no longer its own. */
static bool steal(void *ctx, const struct ss_rulejob *j)
{
	int64_t *owner = ctx;
	if (j->people_done == 0 || *owner)
		return true;
	struct ss_arena ar;
	ss_arena_init(&ar);
	struct ss_rule_job_row row = raw(j->job_id, &ar);
	*owner = row.owner;
	row.owner = 42;
	CHECK(app->store->ops->rule_job_update(app->store, &row, *owner) == SS_OK);
	ss_arena_release(&ar);
	return true;
}

static void test_an_owner_that_lost_its_job_stops(void)
{
	struct ss_ruleset *a = parse(set_a);
	int64_t id = 0, owner = 0;
	CHECK(ss_rulejob_start(other, a, 0, false, &id) == SS_OK);
	CHECK(ss_rulejob_run(other, id, BATCH, steal, &owner) == SS_OK); /* taken over: not its to end */
	CHECK(owner != 0);
	struct ss_arena ar;
	ss_arena_init(&ar);
	struct ss_rule_job_row row = raw(id, &ar);
	CHECK_STR(row.state, "running");
	CHECK(row.owner == 42 && row.people_done == BATCH);
	/* the new owner (gone silent at once) is superseded by the next application, which walks everyone */
	row.heartbeat_ms = 1;
	CHECK(app->store->ops->rule_job_update(app->store, &row, 42) == SS_OK);
	int64_t next = 0;
	CHECK(ss_rulejob_start(app, a, 0, false, &next) == SS_OK && next == id + 1);
	struct ss_rulejob *j = job(id);
	CHECK(j->state == SS_RULEJOB_FAILED && strstr(j->error, "superseded") != NULL);
	free(j);
	CHECK(ss_rulejob_run(app, next, 0, NULL, NULL) == SS_OK);
	j = job(next);
	CHECK(j->state == SS_RULEJOB_DONE && j->people_done == PEOPLE);
	free(j);
	ss_arena_release(&ar);
	ss_rules_free(a);
}

int main(void)
{
	if (!check_data_dir(dir))
		return 1;
	if (ss_app_open(dir, true, &app)) {
		printf("# open: %s\n", ss_err_message());
		return 1;
	}
	RUN(test_setup);
	RUN(test_first_set);
	RUN(test_taken_over_after_a_crash);
	RUN(test_an_owner_that_lost_its_job_stops);
	ss_app_close(other);
	ss_app_close(app);
	if (!check_data_dir_remove(dir))
		return 1;
	return check_done();
}
