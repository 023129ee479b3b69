/* Unit tests of the scan path's parts: the in-memory holders table, scenes, and the group-committing scan writer
 * over a real SQLite store (every record acknowledged is in the store, ids count on across restarts). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/holders.h"
#include "core/scanlog.h"
#include "core/scene.h"
#include "store/store.h"

static char dir[64];

static void test_colors(void)
{
	int c = -1;
	CHECK(ss_color_parse("yellow", &c) && c == SS_YELLOW);
	CHECK(!ss_color_parse("blue", &c));
	CHECK_STR(ss_color_name(SS_RED), "red");
}

/* A person of the registry, so that the store can keep a colour for them; their id. */
static int64_t person(struct ss_store *s, uint8_t n)
{
	struct ss_person_row row = {.idx = {n}, .division = "310101", .sealed = {(const uint8_t *)"p", 1}};
	int64_t id = 0;
	CHECK(s->ops->person_put(s, &row, &id) == SS_OK);
	return id;
}

static void test_holders(void)
{
	char sub[96];
	struct ss_store *s = NULL;
	snprintf(sub, sizeof(sub), "%s/holders", dir);
	CHECK(mkdir(sub, 0700) == 0 && ss_store_open("sqlite", sub, true, &s) == SS_OK);
	int64_t red = person(s, 1), plain = person(s, 2);
	struct ss_holders *h = ss_holders_new();
	int color;
	int64_t since;
	CHECK(!ss_holders_get(h, red, &color, &since));
	/* a colour may come before the person holds a code: the store's, whoever set it, is the one they get */
	struct ss_status_row st = {.person_id = red, .color = SS_RED, .since = 100, .rule = "manual", .reason = "r"};
	CHECK(s->ops->status_put(s, &st) == SS_OK);
	CHECK(!ss_holders_get(h, red, &color, &since));
	CHECK(ss_holders_add(h, s, red, (struct ss_blob){(const uint8_t *)"abc", 3}, 50) == SS_OK);
	CHECK(ss_holders_get(h, red, &color, &since) && color == SS_RED && since == 100);
	uint8_t buf[8];
	size_t n = 0;
	CHECK(ss_holders_sealed(h, red, buf, sizeof(buf), &n) && n == 3 && memcmp(buf, "abc", 3) == 0);
	CHECK(!ss_holders_sealed(h, red, buf, 2, &n)); /* does not fit: refused, not cut */
	CHECK(!ss_holders_sealed(h, plain, buf, sizeof(buf), &n));
	/* no colour kept: green from when they became a holder */
	CHECK(ss_holders_add(h, s, plain, (struct ss_blob){(const uint8_t *)"x", 1}, 7) == SS_OK);
	CHECK(ss_holders_get(h, plain, &color, &since) && color == SS_GREEN && since == 7);
	/* far beyond the current size: the table grows (no registry person: no colour kept) */
	CHECK(ss_holders_add(h, s, 3000000, (struct ss_blob){(const uint8_t *)"x", 1}, 7) == SS_OK);
	CHECK(ss_holders_get(h, 3000000, &color, &since) && color == SS_GREEN && since == 7);
	CHECK(ss_holders_get(h, red, &color, &since) && color == SS_RED);
	CHECK(ss_holders_count(h) == 3);
	ss_holders_set_color(h, 3000000, SS_YELLOW, 9);
	CHECK(ss_holders_get(h, 3000000, &color, &since) && color == SS_YELLOW && since == 9);
	CHECK(!ss_holders_get(h, 0, &color, &since) && !ss_holders_get(h, -1, &color, &since));
	ss_holders_free(h);
	ss_store_close(s);
}

static void test_scenes(void)
{
	const struct ss_scene *s = ss_scene_find("hospital");
	CHECK(s && (s->sees & SS_SEE_NAME) && (s->sees & SS_SEE_ID_MASKED));
	CHECK(ss_scene_find("pool") && ss_scene_find("pool")->sees == SS_SEE_NAME_MASKED);
	CHECK(ss_scene_find("bank") == NULL);
	for (int i = 0; i < ss_scene_count(); i++)
		CHECK(ss_scene_by_id(ss_scene_at(i)->id) == ss_scene_at(i));
}

#define THREADS    4
#define PER_THREAD 500

struct worker {
	struct ss_scanlog *log;
	int64_t ids[PER_THREAD];
	int failures;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		struct ss_scan_row r = {.terminal_id = 1,
		                        .place_id = 1,
		                        .scene = 1,
		                        .person_id = i + 1,
		                        .result = 0,
		                        .scanned_at_ms = 1000 + i};
		if (ss_scanlog_append_wait(w->log, &r) != SS_OK)
			w->failures++;
		w->ids[i] = r.scan_id;
	}
	return NULL;
}

static void test_scanlog(void)
{
	struct ss_store *s;
	CHECK(ss_store_open("sqlite", dir, true, &s) == SS_OK);
	/* scans refer to places: make one */
	int64_t place;
	CHECK(s->ops->place_ensure(s, "org", "place", "310101", &place) == SS_OK && place == 1);
	struct ss_scanlog *log;
	CHECK(ss_scanlog_start(s, &log) == SS_OK);
	struct worker w[THREADS];
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].log = log;
		pthread_create(&t[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		CHECK(w[i].failures == 0);
	}
	ss_scanlog_stop(log);
	int64_t max = 0;
	CHECK(s->ops->scan_max_id(s, &max) == SS_OK && max == THREADS * PER_THREAD);
	/* ids are unique and every acknowledged one is stored */
	static char seen[THREADS * PER_THREAD + 1];
	for (int i = 0; i < THREADS; i++)
		for (int k = 0; k < PER_THREAD; k++) {
			int64_t id = w[i].ids[k];
			CHECK(id >= 1 && id <= THREADS * PER_THREAD && !seen[id]);
			if (id >= 1 && id <= THREADS * PER_THREAD)
				seen[id] = 1;
		}
	ss_store_close(s);
	/* a new writer counts on from the stored maximum */
	CHECK(ss_store_open("sqlite", dir, false, &s) == SS_OK);
	CHECK(ss_scanlog_start(s, &log) == SS_OK);
	struct ss_scan_row r = {.terminal_id = 1, .place_id = 1, .scene = 1, .result = 4, .scanned_at_ms = 5};
	CHECK(ss_scanlog_append_wait(log, &r) == SS_OK && r.scan_id == THREADS * PER_THREAD + 1);
	ss_scanlog_stop(log);
	ss_store_close(s);
}

int main(void)
{
	snprintf(dir, sizeof(dir), "/tmp/suishen-scan-XXXXXX");
	if (!mkdtemp(dir))
		return 1;
	RUN(test_colors);
	RUN(test_holders);
	RUN(test_scenes);
	RUN(test_scanlog);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	return check_done();
}
