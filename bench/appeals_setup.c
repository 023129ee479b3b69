/*
 * appeals_setup: fills a data directory with appeals for bench/appeals.
 *
 *   appeals_setup --data DIR [--appeals N] [--days D] [--batch B] [--seed S]
 *
 * The data directory has been initialised and a population imported into it
 * (people with the ids 1..P). appeals_setup writes N appeals (default
 * 200,000) of people drawn uniformly from 1..P, filed at random times over
 * the D days (default 30) that end now, directly through the store's
 * appeal_insert and appeal_event_insert (one "filed" event each), B appeals
 * per transaction (default 10,000). Each appeal's ID number, reason and
 * details are sealed as the server seals them (ss_pii_seal, "appeal"), with
 * a fixed reason and details text (sealing costs the same whatever the
 * text). One appeal in four is then claimed by handler 1 (state assigned),
 * as a queue in use has some. Prints `key value` lines: appeals, people,
 * seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/time.h"
#include "core/app.h"
#include "core/appeals.h"
#include "core/pii.h"
#include "rng.h"

static void die(const char *what)
{
	fprintf(stderr, "appeals_setup: %s: %s\n", what, ss_err_message());
	exit(1);
}

static void usage(void)
{
	fprintf(stderr, "usage: appeals_setup --data DIR [--appeals N] [--days D] [--batch B] [--seed S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *data = NULL;
	long n = 200000, days = 30, batch = 10000;
	unsigned long long seed = 7;
	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (!strcmp(argv[i], "--data"))
			data = argv[++i];
		else if (!strcmp(argv[i], "--appeals"))
			n = atol(argv[++i]);
		else if (!strcmp(argv[i], "--days"))
			days = atol(argv[++i]);
		else if (!strcmp(argv[i], "--batch"))
			batch = atol(argv[++i]);
		else if (!strcmp(argv[i], "--seed"))
			seed = strtoull(argv[++i], NULL, 10);
		else
			usage();
	}
	if (!data || n <= 0 || days <= 0 || batch <= 0)
		usage();
	rng_state = seed ? seed : 7;

	struct ss_app *app;
	int64_t people;
	if (ss_app_open(data, false, &app))
		die("open");
	struct ss_store *s = app->store;
	if (s->ops->person_count(s, &people) || people == 0)
		die("population (import one first)");

	int64_t t0 = ss_time_now_ms(), now = ss_time_now();
	for (long done = 0; done < n;) {
		struct ss_arena a;
		ss_arena_init(&a);
		if (s->ops->begin(s))
			die("begin");
		for (long k = 0; k < batch && done < n; k++, done++) {
			int64_t person_id = 1 + (int64_t)(rng_next() % (uint64_t)people);
			struct ss_person_row person;
			const char *f[6];
			if (s->ops->person_by_id(s, person_id, &a, &person) ||
			    ss_pii_open(app, SS_PII_PERSON, person.sealed, &a, f, 6))
				die("person");
			const char *sealed[3] = {f[0], "健康码误判", "本人近14天未离开本市，请核实行程数据。"};
			int64_t filed = now - (int64_t)(rng_next() % (uint64_t)(days * 86400));
			struct ss_appeal_row row = {.person_id = person_id,
			                            .channel = "app",
			                            .filed_by = "citizen",
			                            .filed_by_id = 0,
			                            .state = "submitted",
			                            .filed_at = filed,
			                            .due_at = filed + SS_APPEAL_DUE_SECS};
			if (ss_pii_seal(app, "appeal", sealed, 3, &a, &row.sealed) ||
			    s->ops->appeal_insert(s, &row, &row.appeal_id))
				die("appeal_insert");
			struct ss_appeal_event_row ev = {.appeal_id = row.appeal_id,
			                                 .at = filed,
			                                 .action = "filed",
			                                 .kind = "",
			                                 .state = "submitted",
			                                 .actor = "citizen",
			                                 .actor_id = 0};
			if (s->ops->appeal_event_insert(s, &ev))
				die("appeal_event_insert");
			if (rng_next() % 4 == 0) {
				row.state = "assigned";
				row.handler_id = 1;
				row.decision = "";
				row.color = "";
				if (s->ops->appeal_update(s, &row))
					die("appeal_update");
			}
		}
		if (s->ops->commit(s))
			die("commit");
		ss_arena_release(&a);
	}
	printf("appeals %ld\npeople %lld\nseconds %.1f\n", n, (long long)people,
	       (double)(ss_time_now_ms() - t0) / 1000.0);
	ss_app_close(app);
	return 0;
}
