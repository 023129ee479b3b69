/*
 * test_dependents: unit tests of the pure parts of relatives' codes (core/dependents): when a minor comes of age
 * (checked against ss_idcard_age at the boundary, 29 February included), relations, and the in-memory table of
 * active links that the scan path reads.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "base/time.h"
#include "core/dependents.h"
#include "core/idcard.h"

static struct ss_idcard born(int year, int month, int day)
{
	struct ss_idcard id;
	memset(&id, 0, sizeof(id));
	id.year = year;
	id.month = month;
	id.day = day;
	return id;
}

static int64_t at(const char *rfc3339)
{
	int64_t t = 0;
	ss_time_parse(rfc3339, &t);
	return t;
}

static void test_adult_at(void)
{
	struct ss_idcard id = born(2008, 11, 27);
	int64_t t = ss_dependents_adult_at(&id);
	/* midnight in China is 16:00 UTC the day before */
	CHECK(t == at("2026-11-26T16:00:00Z"));
	CHECK(ss_idcard_age(&id, t - 1) == 17);
	CHECK(ss_idcard_age(&id, t) == 18);
	CHECK(!ss_dependents_of_age(t, t - 1));
	CHECK(ss_dependents_of_age(t, t));
	CHECK(!ss_dependents_of_age(0, t)); /* an adult's link never ends by age */
}

static void test_adult_at_leap_day(void)
{
	struct ss_idcard id = born(2008, 2, 29); /* 2026 is a common year: 18 on 1 March */
	int64_t t = ss_dependents_adult_at(&id);
	CHECK(t == at("2026-02-28T16:00:00Z"));
	CHECK(ss_idcard_age(&id, t - 1) == 17);
	CHECK(ss_idcard_age(&id, t) == 18);
	struct ss_idcard leap = born(2006, 2, 29); /* 2024 is a leap year: 18 on 29 February */
	int64_t u = ss_dependents_adult_at(&leap);
	CHECK(u == at("2024-02-28T16:00:00Z"));
	CHECK(ss_idcard_age(&leap, u - 1) == 17 && ss_idcard_age(&leap, u) == 18);
}

static void test_relations(void)
{
	int r = -1;
	CHECK(ss_relation_parse("child", &r) && r == SS_REL_CHILD);
	CHECK(ss_relation_parse("grandparent", &r) && r == SS_REL_GRANDPARENT);
	CHECK(!ss_relation_parse("Child", &r) && !ss_relation_parse("", &r) && !ss_relation_parse("neighbour", &r));
	for (int i = 0; i < SS_RELATIONS; i++)
		CHECK(ss_relation_parse(ss_relation_name(i), &r) && r == i);
}

static void test_table(void)
{
	struct ss_dependents *d = ss_dependents_new();
	int rel = -1;
	CHECK(!ss_dependents_live(d, 1, 2, 100, &rel));
	ss_dependents_put(d, 1, 2, SS_REL_CHILD, 0);
	ss_dependents_put(d, 3, 2, SS_REL_PARENT, 500);
	CHECK(ss_dependents_live(d, 1, 2, 100, &rel) && rel == SS_REL_CHILD);
	CHECK(!ss_dependents_live(d, 2, 1, 100, &rel)); /* the pair, in order */
	CHECK(ss_dependents_live(d, 3, 2, 499, &rel) && rel == SS_REL_PARENT);
	CHECK(!ss_dependents_live(d, 3, 2, 500, &rel)); /* come of age */
	ss_dependents_put(d, 1, 2, SS_REL_OTHER, 0);    /* updated, not added */
	CHECK(ss_dependents_count(d) == 2);
	CHECK(ss_dependents_live(d, 1, 2, 100, &rel) && rel == SS_REL_OTHER);
	ss_dependents_drop(d, 1, 2);
	ss_dependents_drop(d, 1, 2); /* a no-op */
	CHECK(!ss_dependents_live(d, 1, 2, 100, &rel) && ss_dependents_count(d) == 1);
	/* many links: the table grows and keeps them all */
	for (int64_t g = 1; g <= 5000; g++)
		ss_dependents_put(d, g, g + 1000000, SS_REL_CHILD, 0);
	bool all = true;
	for (int64_t g = 1; g <= 5000; g++)
		all = all && ss_dependents_live(d, g, g + 1000000, 100, &rel);
	CHECK(all && ss_dependents_count(d) == 5001);
	ss_dependents_free(d);
	ss_dependents_free(NULL);
}

int main(void)
{
	RUN(test_adult_at);
	RUN(test_adult_at_leap_day);
	RUN(test_relations);
	RUN(test_table);
	return check_done();
}
