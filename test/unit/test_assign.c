/* Unit tests of status assignment (core/assign.h) over a real store in a temporary directory: records imported
 * for a registered person colour them by the active rule set, with reasons, review_at and history. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"
#include "check.h"
#include "core/app.h"
#include "core/assign.h"
#include "core/holders.h"
#include "core/pii.h"
#include "core/records.h"
#include "core/registry.h"
#include "core/rulejob.h"
#include "core/rules.h"

#define PERSON "11010519491231002X"
#define DAY    86400

static char dir[64];
static struct ss_app *app;
static uint8_t idx[SS_INDEX_LEN];
static int64_t now; /* the records are dated relative to the real clock (the import refuses the future) */

static void on_bad(void *ctx, long line, const char *field, const char *reason)
{
	printf("#   line %ld: %s: %s\n", line, field ? field : "", reason);
}

static enum ss_err import_records(const char *text)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct ss_import_report rep = {.bad_line = on_bad};
	long long dups = 0;
	enum ss_err err = ss_records_import(app, f, "cdc", SS_RECORDS_JSONL, &rep, &dups);
	fclose(f);
	return err;
}

/* Imports one record about PERSON of kind with attributes (or NULL) at time t. */
static enum ss_err record(const char *id, const char *kind, const char *attrs, int64_t t)
{
	char when[SS_TIME_TEXT], line[1024];
	ss_time_format(t, when);
	snprintf(line, sizeof(line),
	         "{\"record_id\":\"%s\",\"kind\":\"%s\",\"id_number\":\"" PERSON "\",\"occurred_at\":\"%s\""
	         ",\"attributes\":%s}\n",
	         id, kind, when, attrs ? attrs : "{}");
	return import_records(line);
}

static int64_t person_id(void)
{
	struct ss_person_row p;
	struct ss_arena a;
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->person_get(app->store, idx, &a, &p);
	ss_arena_release(&a);
	return err ? 0 : p.person_id;
}

/* The stored status of PERSON, copied out; false if none. */
static bool status(struct ss_status_row *row, struct ss_arena *a)
{
	return app->store->ops->status_get(app->store, person_id(), a, row) == SS_OK;
}

static enum ss_err count_change(void *ctx, const struct ss_status_row *row)
{
	(*(int *)ctx)++;
	return SS_OK;
}

static int history_len(void)
{
	struct ss_arena a;
	int n = 0;
	ss_arena_init(&a);
	CHECK(app->store->ops->status_history_of_person(app->store, person_id(), 100, &a, count_change, &n) == SS_OK);
	ss_arena_release(&a);
	return n;
}

static void test_setup(void)
{
	const char *csv =
	        "id_number,name,sex,birth_date,division,phone\n" PERSON ",张三,F,1949-12-31,110105,13800138000\n";
	FILE *f = fmemopen((void *)csv, strlen(csv), "r");
	struct ss_import_report rep = {.bad_line = on_bad};
	CHECK(ss_registry_import(app, f, &rep) == SS_OK);
	fclose(f);
	ss_pii_index(app, PERSON, idx);
	CHECK(person_id() > 0);
	/* a new data directory gets the compiled-in default rule set */
	CHECK(ss_assign_load_rules(app) == SS_OK);
	CHECK(app->rules != NULL);
	CHECK(app->rules && ss_rules_count(app->rules) > 0);
}

static void test_nothing_is_green(void)
{
	bool changed = true;
	struct ss_status_row row;
	struct ss_arena a;
	CHECK(ss_assign_by_index(app, idx, now, &changed) == SS_OK);
	CHECK(!changed);
	ss_arena_init(&a);
	CHECK(!status(&row, &a)); /* green by default: nothing written */
	ss_arena_release(&a);
}

static void test_close_contact_then_release(void)
{
	bool changed = false;
	struct ss_status_row row;
	struct ss_arena a;
	int64_t contact = now - DAY;
	ss_arena_init(&a);

	CHECK(record("cc-1", "close_contact", NULL, contact) == SS_OK);
	CHECK(ss_assign_by_index(app, idx, now, &changed) == SS_OK);
	CHECK(changed);
	CHECK(status(&row, &a));
	CHECK(row.color == 2);
	CHECK_STR(row.rule, "red.close-contact");
	CHECK(row.review_at == contact + 14 * DAY);
	CHECK_STR(row.rule_set, ss_rules_version(app->rules));
	CHECK(strstr(row.fired, "\"kind\":\"close_contact\"") != NULL);
	CHECK(strstr(row.fired, "\"text_en\":\"Close contact") != NULL);
	CHECK(strstr(row.fired, "cdc") == NULL); /* never who reported it */
	CHECK(strstr(row.fired, "cc-1") == NULL);
	CHECK(history_len() == 1);

	/* nothing new: nothing written */
	CHECK(ss_assign_by_index(app, idx, now + 60, &changed) == SS_OK);
	CHECK(!changed);
	CHECK(history_len() == 1);

	/* the window ends with no new record: green at review_at, not a second before */
	CHECK(ss_assign_person(app, idx, person_id(), contact + 14 * DAY - 1, &changed) == SS_OK);
	CHECK(!changed);

	/* released from quarantine */
	CHECK(record("qe-1", "quarantine_end", NULL, now - 60) == SS_OK);
	CHECK(ss_assign_by_index(app, idx, now, &changed) == SS_OK);
	CHECK(changed);
	CHECK(status(&row, &a));
	CHECK(row.color == 0);
	CHECK_STR(row.rule, "green");
	CHECK(row.review_at == 0);
	CHECK_STR(row.fired, "[]");
	CHECK(history_len() == 2);
	ss_arena_release(&a);
}

/* Time moves colours: with no new record, the scheduler finds the person at review_at and only then. */
static void test_scheduler_turns_green_when_the_window_ends(void)
{
	bool changed = false;
	int n = -1;
	struct ss_status_row row;
	struct ss_arena a;
	int64_t visit = now - 2 * DAY;
	ss_arena_init(&a);
	CHECK(record("sc-1", "secondary_contact", NULL, visit) == SS_OK);
	CHECK(ss_assign_by_index(app, idx, now, &changed) == SS_OK && changed);
	CHECK(status(&row, &a) && row.color == 1 && row.review_at == visit + 7 * DAY);
	int64_t due = row.review_at;
	CHECK(ss_assign_due(app, due - 1, &n) == SS_OK && n == 0);
	CHECK(status(&row, &a) && row.color == 1);
	CHECK(ss_assign_due(app, due, &n) == SS_OK && n == 1);
	CHECK(status(&row, &a) && row.color == 0 && row.review_at == 0);
	/* no one is due any more */
	CHECK(ss_assign_due(app, due + DAY, &n) == SS_OK && n == 0);
	ss_arena_release(&a);
}

static void test_override(void)
{
	bool changed = false;
	struct ss_status_row row;
	struct ss_arena a;
	char attrs[128], until[SS_TIME_TEXT];
	ss_arena_init(&a);

	ss_time_format(now + DAY, until);
	snprintf(attrs, sizeof(attrs), "{\"color\":\"yellow\",\"until\":\"%s\"}", until);
	CHECK(record("mo-1", "manual_override", attrs, now - 30) == SS_OK);
	CHECK(ss_assign_by_index(app, idx, now, &changed) == SS_OK);
	CHECK(changed);
	CHECK(status(&row, &a));
	CHECK(row.color == 1);
	CHECK_STR(row.rule, "manual_override");
	CHECK(row.review_at == now + DAY);
	CHECK(strstr(row.fired, "\"kind\":\"manual_override\"") != NULL);

	/* the override expires: back to what the rules say */
	CHECK(ss_assign_by_index(app, idx, now + DAY, &changed) == SS_OK);
	CHECK(changed);
	CHECK(status(&row, &a));
	CHECK(row.color == 0);
	ss_arena_release(&a);
}

static void test_not_registered_waits(void)
{
	uint8_t other[SS_INDEX_LEN];
	bool changed = true;
	ss_pii_index(app, "110105194912310029", other);
	CHECK(ss_assign_by_index(app, other, now, &changed) == SS_OK);
	CHECK(!changed);
}

static void test_rules_survive_reopen(void)
{
	static const char text[] = "version test-1\n"
	                           "rule red.any-contact\n"
	                           "    color red\n"
	                           "    when secondary_contact within 2d\n"
	                           "    reason zh 测试\n"
	                           "    reason en test\n";
	char version[SS_RULES_MAX_VERSION + 1] = "";
	CHECK(ss_assign_set_rules(app, text, strlen(text), NULL, NULL, version, sizeof(version)) == SS_OK);
	CHECK_STR(version, "test-1");
	/* a bad set changes nothing */
	CHECK(ss_assign_set_rules(app, "version x\nrule\n", 15, NULL, NULL, version, sizeof(version)) != SS_OK);
	ss_app_close(app);
	CHECK(ss_app_open(dir, false, &app) == SS_OK);
	CHECK(ss_assign_load_rules(app) == SS_OK);
	CHECK(app->rules && strcmp(ss_rules_version(app->rules), "test-1") == 0);
}

static void print_error(void *ctx, long line, const char *message)
{
	(void)ctx;
	printf("#   rules line %ld: %s\n", line, message);
}

/* Imports one record about id_number. */
static enum ss_err record_of(const char *id_number, const char *id, const char *kind, const char *attrs, int64_t t)
{
	char when[SS_TIME_TEXT], line[1024];
	ss_time_format(t, when);
	snprintf(line, sizeof(line),
	         "{\"record_id\":\"%s\",\"kind\":\"%s\",\"id_number\":\"%s\",\"occurred_at\":\"%s\""
	         ",\"attributes\":%s}\n",
	         id, kind, id_number, when, attrs ? attrs : "{}");
	return import_records(line);
}

/*
 * The reasons kept are those that decide the colour: a yellow rule that fires
 * beside a red one is not a reason of red; an override in force is the only
 * reason, and says what it overrides (the rules' colour and their reasons).
 */
static void test_reasons_decide_the_colour(void)
{
	static const char *const id = "310101199505050018";
	const char *csv = "id_number,name,sex,birth_date,division,phone\n"
	                  "310101199505050018,李四,M,1995-05-05,310101,13800138001\n";
	FILE *f = fmemopen((void *)csv, strlen(csv), "r");
	struct ss_import_report rep = {.bad_line = on_bad};
	CHECK(ss_registry_import(app, f, &rep) == SS_OK);
	fclose(f);
	uint8_t i[SS_INDEX_LEN];
	struct ss_person_row p;
	struct ss_status_row row;
	struct ss_arena a;
	char attrs[128], until[SS_TIME_TEXT];
	/* the default rules again (tests before this one load others) */
	CHECK(ss_assign_set_rules(app, ss_default_rules, strlen(ss_default_rules), NULL, NULL, NULL, 0) == SS_OK);
	ss_pii_index(app, id, i);
	ss_arena_init(&a);
	CHECK(app->store->ops->person_get(app->store, i, &a, &p) == SS_OK);

	/* red and yellow: red's reason only */
	CHECK(record_of(id, "rd-cc", "close_contact", NULL, now - DAY) == SS_OK);
	CHECK(record_of(id, "rd-sc", "secondary_contact", NULL, now - 2 * DAY) == SS_OK);
	CHECK(ss_assign_person(app, i, p.person_id, now, NULL) == SS_OK);
	CHECK(app->store->ops->status_get(app->store, p.person_id, &a, &row) == SS_OK);
	CHECK(row.color == 2);
	CHECK(strstr(row.fired, "red.close-contact") != NULL);
	CHECK(strstr(row.fired, "yellow.secondary-contact") == NULL);
	/* when the red one ends, yellow is what is left */
	CHECK(row.review_at == now - DAY + 14 * DAY);

	/* an override: the one reason, over the rules' red */
	ss_time_format(now + DAY, until);
	snprintf(attrs, sizeof(attrs), "{\"color\":\"green\",\"until\":\"%s\"}", until);
	CHECK(record_of(id, "rd-mo", "manual_override", attrs, now - 30) == SS_OK);
	CHECK(ss_assign_person(app, i, p.person_id, now, NULL) == SS_OK);
	CHECK(app->store->ops->status_get(app->store, p.person_id, &a, &row) == SS_OK);
	CHECK(row.color == 0);
	CHECK_STR(row.rule, "manual_override");
	const char *aside =
	        strstr(row.fired, "\"overrides\":{\"color\":\"red\",\"reasons\":[{\"rule\":\"red.close-contact\"");
	CHECK(aside != NULL);
	/* nothing after the override, nor any yellow reason */
	CHECK(strstr(row.fired, "yellow.secondary-contact") == NULL);
	CHECK(aside && strcmp(row.fired + strlen(row.fired) - 4, "]}}]") == 0);
	ss_arena_release(&a);
}

static int color_of(const char *id_number)
{
	uint8_t i[SS_INDEX_LEN];
	struct ss_person_row p;
	struct ss_status_row row;
	struct ss_arena a;
	int color = 0;
	ss_pii_index(app, id_number, i);
	ss_arena_init(&a);
	if (app->store->ops->person_get(app->store, i, &a, &p) == SS_OK &&
	    app->store->ops->status_get(app->store, p.person_id, &a, &row) == SS_OK)
		color = row.color;
	ss_arena_release(&a);
	return color;
}

static const struct ss_rules_district *district_of(const struct ss_rules_diff *d, const char *division)
{
	for (size_t i = 0; i < d->ndistricts; i++)
		if (!strcmp(d->districts[i].division, division))
			return &d->districts[i];
	return NULL;
}

#define CLOSE "310101198001010018" /* a close contact three days ago */
#define FEVER "310104198502020029" /* declared 38.5 °C yesterday */
#define VACC  "310104199003030032" /* vaccinated only */

/* What-if: the diff against a stricter set counts exactly the changes that applying it then makes. */
/* Parses text (it must parse) and applies it as a rule job walked here (core/rulejob.h), batch people at a time. */
static enum ss_err apply_text(const char *text, int batch, int64_t *people, int64_t *changed)
{
	struct ss_ruleset *rs = NULL;
	struct ss_rulejob *job = calloc(1, sizeof(*job));
	int64_t job_id = 0;
	*people = *changed = -1;
	enum ss_err err = ss_rules_parse(text, strlen(text), &rs, print_error, NULL);
	if (!err)
		err = ss_rulejob_start(app, rs, 0, false, &job_id);
	if (!err)
		err = ss_rulejob_run(app, job_id, batch, NULL, NULL);
	if (!err && !(err = ss_rulejob_get(app, job_id, job))) {
		CHECK(job->state == SS_RULEJOB_DONE);
		*people = job->people_done;
		*changed = job->changed;
	}
	free(job);
	ss_rules_free(rs);
	return err;
}

static void test_diff_matches_apply(void)
{
	static const char lenient[] = "version lenient-1\n"
	                              "rule red.case\n"
	                              "    color red\n"
	                              "    when confirmed_case\n"
	                              "    unless recovered\n"
	                              "    reason zh 确诊\n"
	                              "    reason en case\n";
	static const char strict[] = "version strict-1\n"
	                             "rule red.close-contact\n"
	                             "    color red\n"
	                             "    when close_contact within 14d\n"
	                             "    reason zh 密接\n"
	                             "    reason en close contact\n"
	                             "rule yellow.fever\n"
	                             "    color yellow\n"
	                             "    when health_declaration where temperature >= 37.3 within 3d\n"
	                             "    reason zh 发热\n"
	                             "    reason en fever\n";
	const char *csv =
	        "id_number,name,sex,birth_date,division,phone\n" CLOSE ",李四,M,1980-01-01,310101,13800138001\n" FEVER
	        ",王五,F,1985-02-02,310104,13800138002\n" VACC ",赵六,M,1990-03-03,310104,13800138003\n";
	FILE *f = fmemopen((void *)csv, strlen(csv), "r");
	struct ss_import_report rep = {.bad_line = on_bad};
	CHECK(ss_registry_import(app, f, &rep) == SS_OK);
	fclose(f);
	CHECK(record_of(CLOSE, "d-cc", "close_contact", NULL, now - 3 * DAY) == SS_OK);
	CHECK(record_of(FEVER, "d-hd", "health_declaration", "{\"temperature\":38.5,\"symptoms\":[]}", now - DAY) ==
	      SS_OK);
	CHECK(record_of(VACC, "d-va", "vaccination", "{\"dose\":1}", now - DAY) == SS_OK);

	/* green under the lenient set, but for PERSON, whose yellow override (test_override) is in force until now + 1d
	 */
	int64_t people = -1, changed = -1;
	CHECK(apply_text(lenient, 2, &people, &changed) == SS_OK);
	CHECK(people == 4);
	CHECK(color_of(PERSON) == 1 && color_of(CLOSE) == 0 && color_of(FEVER) == 0 && color_of(VACC) == 0);

	struct ss_ruleset *rs = NULL;
	CHECK(ss_rules_parse(strict, strlen(strict), &rs, NULL, NULL) == SS_OK);
	struct ss_rules_diff *d = calloc(1, sizeof(*d));
	CHECK(rs && ss_assign_diff(app, rs, now, d) == SS_OK);
	ss_rules_free(rs);
	CHECK(d->people == 4);
	CHECK(d->changes[0][2] == 1); /* CLOSE (310101) */
	CHECK(d->changes[0][1] == 1); /* FEVER (310104) */
	CHECK(d->changes[0][0] == 1); /* VACC stays green */
	CHECK(d->changes[1][1] == 1); /* PERSON (110105): the override wins over the close contact */
	CHECK(ss_rules_diff_changed(d) == 2);
	CHECK(d->now[0] == 3 && d->now[1] == 1 && d->after[0] == 1 && d->after[1] == 2 && d->after[2] == 1);
	CHECK(d->ndistricts == 2 && !d->has_other); /* only districts with a change */
	const struct ss_rules_district *e;
	CHECK(district_of(d, "110105") == NULL);
	CHECK((e = district_of(d, "310101")) && e->changes[0][2] == 1);
	CHECK((e = district_of(d, "310104")) && e->changes[0][1] == 1 && e->changes[0][2] == 0);
	CHECK(d->ndistricts == 2 && strcmp(d->districts[0].division, d->districts[1].division) < 0);
	/* nothing written by the diff */
	CHECK(color_of(PERSON) == 1 && color_of(CLOSE) == 0 && color_of(FEVER) == 0);

	/* batches of 3 make the walk cross a batch boundary */
	CHECK(apply_text(strict, 3, &people, &changed) == SS_OK);
	CHECK_STR(ss_rules_version(app->rules), "strict-1");
	CHECK(people == 4);
	CHECK(changed == ss_rules_diff_changed(d));
	CHECK(color_of(PERSON) == 1 && color_of(CLOSE) == 2 && color_of(FEVER) == 1 && color_of(VACC) == 0);

	/* applied again, the same set changes no one, and a diff against it says so */
	CHECK(ss_assign_diff(app, app->rules, now, d) == SS_OK);
	CHECK(ss_rules_diff_changed(d) == 0 && d->ndistricts == 0);
	CHECK(apply_text(strict, 0, &people, &changed) == SS_OK);
	CHECK(people == 4 && changed == 0);

	free(d);
}

/*
 * Another process (`suishen rules load`) stores a rule file under the version
 * already active but with other rules: the server's set follows the text, not
 * the version; and a store that says the same changes nothing.
 */
static void test_follow_rules_by_text(void)
{
	static const char a[] = "version same-1\n"
	                        "rule red.any-contact\n"
	                        "    color red\n"
	                        "    when secondary_contact within 2d\n"
	                        "    reason zh 测试\n"
	                        "    reason en test\n";
	static const char b[] = "version same-1\n"
	                        "rule yellow.any-contact\n"
	                        "    color yellow\n"
	                        "    when secondary_contact within 3d\n"
	                        "    reason zh 测试\n"
	                        "    reason en test\n";
	bool changed = true;
	CHECK(ss_assign_set_rules(app, a, strlen(a), NULL, NULL, NULL, 0) == SS_OK);
	CHECK(ss_assign_follow_rules(app, &changed) == SS_OK);
	CHECK(!changed);
	struct ss_app *other;
	CHECK(ss_app_open(dir, false, &other) == SS_OK);
	CHECK(ss_assign_set_rules(other, b, strlen(b), NULL, NULL, NULL, 0) == SS_OK);
	ss_app_close(other);
	CHECK(ss_assign_follow_rules(app, &changed) == SS_OK);
	CHECK(changed);
	CHECK(app->rules && strcmp(ss_rules_text(app->rules), b) == 0);
	CHECK(ss_assign_follow_rules(app, &changed) == SS_OK);
	CHECK(!changed);
}

struct evaluator {
	atomic_bool stop;
	int runs, failures;
};

/* Re-evaluates PERSON until told to stop, as the server's threads do while an admin applies a rule set. */
static void *evaluate_loop(void *arg)
{
	struct evaluator *e = arg;
	while (!atomic_load(&e->stop)) {
		bool changed;
		if (ss_assign_person(app, idx, person_id(), ss_time_now(), &changed) != SS_OK)
			e->failures++;
		e->runs++;
	}
	return NULL;
}

/*
 * Replacing the active rule set while another thread evaluates with it: the
 * old set lives as long as an evaluation holds it (under ASan a set freed
 * too early is a use after free), and every evaluation uses one whole set.
 */
static void test_rules_replaced_while_evaluating(void)
{
	static const char a[] = "version swap-a\n"
	                        "rule red.any-contact\n"
	                        "    color red\n"
	                        "    when secondary_contact within 2d\n"
	                        "    reason zh 测试\n"
	                        "    reason en test\n";
	static const char b[] = "version swap-b\n"
	                        "rule yellow.any-contact\n"
	                        "    color yellow\n"
	                        "    when secondary_contact within 2d\n"
	                        "    reason zh 测试\n"
	                        "    reason en test\n";
	CHECK(record("swap-1", "secondary_contact", NULL, now - 3600) == SS_OK);
	struct evaluator e = {.runs = 0};
	pthread_t t;
	CHECK(pthread_create(&t, NULL, evaluate_loop, &e) == 0);
	int applied = 0;
	for (int i = 0; i < 40; i++) {
		const char *text = i % 2 ? b : a;
		if (ss_assign_set_rules(app, text, strlen(text), NULL, NULL, NULL, 0) == SS_OK)
			applied++;
	}
	atomic_store(&e.stop, true);
	pthread_join(t, NULL);
	CHECK(applied == 40);
	CHECK(e.failures == 0);
	CHECK(e.runs > 0);
	/* the last set applied (b) decides the colour once the person is evaluated again */
	bool changed;
	CHECK(ss_assign_person(app, idx, person_id(), ss_time_now(), &changed) == SS_OK);
	struct ss_status_row row;
	struct ss_arena ar;
	ss_arena_init(&ar);
	CHECK(app->store->ops->status_get(app->store, person_id(), &ar, &row) == SS_OK);
	CHECK(row.color == SS_YELLOW);
	CHECK_STR(row.rule_set, "swap-b");
	ss_arena_release(&ar);
}

int main(void)
{
	if (!check_data_dir(dir))
		return 1;
	if (ss_app_open(dir, true, &app)) {
		printf("# open: %s\n", ss_err_message());
		return 1;
	}
	now = ss_time_now();
	RUN(test_setup);
	RUN(test_nothing_is_green);
	RUN(test_close_contact_then_release);
	RUN(test_override);
	RUN(test_scheduler_turns_green_when_the_window_ends);
	RUN(test_not_registered_waits);
	RUN(test_rules_survive_reopen);
	RUN(test_diff_matches_apply);
	RUN(test_follow_rules_by_text);
	RUN(test_rules_replaced_while_evaluating);
	RUN(test_reasons_decide_the_colour);
	ss_app_close(app);
	if (!check_data_dir_remove(dir))
		return 1;
	return check_done();
}
