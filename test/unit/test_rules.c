/*
 * test_rules: unit tests of the status rules engine (core/rules): timelines
 * for every rule of rules/default.rules (read from the project root, where
 * the tests run), the exact end of each window, precedence, overrides that
 * expire, review_at, records in the future, the language's comparisons, and
 * the parser's errors with their line numbers.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/buf.h"
#include "core/holders.h"
#include "core/rules.h"

#define T0 INT64_C(1795680000) /* 2026-11-26T08:00:00Z */
#define H  INT64_C(3600)
#define D  INT64_C(86400)

#define REC(k, t)                                       \
	{                                               \
		.kind = SS_KIND_##k, .occurred_at = (t) \
	}
#define VISIT(t, lvl)                                                                                          \
	{                                                                                                      \
		.kind = SS_KIND_RISK_AREA_VISIT, .occurred_at = (t), .area = "420106", .level = SS_LEVEL_##lvl \
	}
#define TEST(t, res)                                                                       \
	{                                                                                  \
		.kind = SS_KIND_TEST_RESULT, .occurred_at = (t), .result = SS_RESULT_##res \
	}
#define DECLARE(t, temp)                                                                      \
	{                                                                                     \
		.kind = SS_KIND_HEALTH_DECLARATION, .occurred_at = (t), .temperature = (temp) \
	}
#define OVERRIDE(t, c, u)                                                                          \
	{                                                                                          \
		.kind = SS_KIND_MANUAL_OVERRIDE, .occurred_at = (t), .color = SS_##c, .until = (u) \
	}
#define INBOUND(t, from)                                                             \
	{                                                                            \
		.kind = SS_KIND_INBOUND_TRAVEL, .occurred_at = (t), .origin = (from) \
	}

/* ---- helpers ---- */

static void collect(void *ctx, long line, const char *message)
{
	if (ss_buf_printf(ctx, "%ld: %s\n", line, message) != SS_OK)
		abort();
}

static void print_report(void *ctx, long line, const char *message)
{
	printf("# %s:%ld: %s\n", (const char *)ctx, line, message);
}

static struct ss_ruleset *parse_ok(const char *text)
{
	struct ss_ruleset *rs = NULL;
	enum ss_err err = ss_rules_parse(text, strlen(text), &rs, print_report, "(text)");
	CHECK(err == SS_OK && rs);
	return rs;
}

static struct ss_ruleset *load_default(void)
{
	static char text[SS_RULES_MAX_FILE];
	struct ss_ruleset *rs = NULL;
	FILE *f = fopen("rules/default.rules", "rb");

	if (!f) {
		printf("# cannot open rules/default.rules (tests run from the project root)\n");
		exit(1);
	}
	size_t n = fread(text, 1, sizeof(text), f);
	fclose(f);
	if (ss_rules_parse(text, n, &rs, print_report, "rules/default.rules") != SS_OK) {
		printf("# rules/default.rules does not parse\n");
		exit(1);
	}
	return rs;
}

static size_t count_records(const struct ss_rule_record *r, size_t max)
{
	size_t n = 0;
	while (n < max && r[n].kind != SS_KIND_NONE)
		n++;
	return n;
}

/* "red.case,yellow.fever": the ids of the fired rules in verdict order. */
static const char *fired_ids(const struct ss_rule_verdict *v)
{
	static char out[1024];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < v->nfired; i++)
		len += (size_t)snprintf(out + len, sizeof(out) - len, "%s%s", i ? "," : "", v->fired[i].id);
	return out;
}

/*
 * Checks what must hold of any verdict: the colour is constant from now to
 * just before review_at and differs at review_at (unless a record becomes
 * current then), or never changes if review_at is 0; fired rules are ordered
 * by colour, their triggers are current records.
 */
static void check_consistent(const struct ss_ruleset *rs, const struct ss_rule_record *r, size_t n, int64_t now,
                             const struct ss_rule_verdict *v)
{
	struct ss_rule_verdict w;

	CHECK(v->nfired <= SS_RULES_MAX_FIRED && v->nfired <= v->nfired_total);
	CHECK(v->color == (v->overridden ? r[v->override].color : v->rules_color));
	for (size_t i = 0; i < v->nfired; i++) {
		CHECK(v->fired[i].trigger < n && r[v->fired[i].trigger].occurred_at <= now);
		CHECK(v->fired[i].color <= v->rules_color);
		CHECK(i == 0 || v->fired[i].color <= v->fired[i - 1].color);
		CHECK(v->fired[i].ends_at == 0 || v->fired[i].ends_at > now);
	}
	if (v->review_at) {
		CHECK(v->review_at > now);
		int64_t probes[] = {now + 1, now + (v->review_at - now) / 2, v->review_at - 1};
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			if (probes[i] >= v->review_at)
				continue;
			ss_rules_evaluate(rs, r, n, probes[i], &w);
			CHECK(w.color == v->color);
		}
		bool becomes_current = false;
		for (size_t i = 0; i < n; i++)
			becomes_current |= r[i].occurred_at == v->review_at;
		ss_rules_evaluate(rs, r, n, v->review_at, &w);
		CHECK(w.color != v->color || becomes_current);
	} else {
		int64_t probes[] = {now + 1, now + D, now + 15 * D, now + 400 * D};
		for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
			ss_rules_evaluate(rs, r, n, probes[i], &w);
			CHECK(w.color == v->color);
		}
	}
}

/* ---- timelines of the default rules ---- */

struct timeline {
	const char *name;
	int64_t now;
	struct ss_rule_record r[6];
	const char *color; /* expected colour */
	const char *fired; /* expected fired ids */
	int64_t review_at; /* expected */
};

static const struct timeline timelines[] = {
        /* nothing */
        {"no records", T0, {{0}}, "green", "", 0},
        {"records of unknown kind are ignored",
         T0,
         {{.kind = 99, .occurred_at = T0 - D}, REC(NONE, T0)},
         "green",
         "",
         0},
        {"vaccination alone", T0, {{.kind = SS_KIND_VACCINATION, .occurred_at = T0 - D, .dose = 3}}, "green", "", 0},

        /* red.case: until a recovered after it */
        {"confirmed case", T0, {REC(CONFIRMED_CASE, T0 - 10 * D)}, "red", "red.case", 0},
        {"suspected case", T0, {REC(SUSPECTED_CASE, T0 - 10 * D)}, "red", "red.case", 0},
        {"case a year ago, never recovered", T0, {REC(CONFIRMED_CASE, T0 - 365 * D)}, "red", "red.case", 0},
        {"case, recovered", T0, {REC(CONFIRMED_CASE, T0 - 10 * D), REC(RECOVERED, T0 - 2 * D)}, "green", "", 0},
        {"case, recovered in the same second (not after)",
         T0,
         {REC(CONFIRMED_CASE, T0 - 10 * D), REC(RECOVERED, T0 - 10 * D)},
         "red",
         "red.case",
         0},
        {"recovered before the case",
         T0,
         {REC(RECOVERED, T0 - 20 * D), REC(CONFIRMED_CASE, T0 - 10 * D)},
         "red",
         "red.case",
         0},
        {"case, recovered, case again",
         T0,
         {REC(CONFIRMED_CASE, T0 - 30 * D), REC(RECOVERED, T0 - 20 * D), REC(SUSPECTED_CASE, T0 - D)},
         "red",
         "red.case",
         0},
        {"recovered in the future counts then",
         T0,
         {REC(CONFIRMED_CASE, T0 - 10 * D), REC(RECOVERED, T0 + H)},
         "red",
         "red.case",
         T0 + H},

        /* red.close-contact: 14 days, until a quarantine_end after it */
        {"close contact 13 days ago", T0, {REC(CLOSE_CONTACT, T0 - 13 * D)}, "red", "red.close-contact", T0 + D},
        {"close contact 1 s before its window ends",
         T0,
         {REC(CLOSE_CONTACT, T0 - 14 * D + 1)},
         "red",
         "red.close-contact",
         T0 + 1},
        {"close contact exactly 14 days ago", T0, {REC(CLOSE_CONTACT, T0 - 14 * D)}, "green", "", 0},
        {"close contact 14 days and 1 s ago", T0, {REC(CLOSE_CONTACT, T0 - 14 * D - 1)}, "green", "", 0},
        {"close contact now", T0, {REC(CLOSE_CONTACT, T0)}, "red", "red.close-contact", T0 + 14 * D},
        {"close contact 1 s in the future is ignored", T0, {REC(CLOSE_CONTACT, T0 + 1)}, "green", "", T0 + 1},
        {"close contact, quarantine ended",
         T0,
         {REC(CLOSE_CONTACT, T0 - 5 * D), REC(QUARANTINE_END, T0 - D)},
         "green",
         "",
         0},
        {"quarantine end before the contact",
         T0,
         {REC(QUARANTINE_END, T0 - 6 * D), REC(CLOSE_CONTACT, T0 - 5 * D)},
         "red",
         "red.close-contact",
         T0 + 9 * D},
        {"quarantine end in the same second",
         T0,
         {REC(CLOSE_CONTACT, T0 - 5 * D), REC(QUARANTINE_END, T0 - 5 * D)},
         "red",
         "red.close-contact",
         T0 + 9 * D},
        {"quarantine start does not release",
         T0,
         {REC(CLOSE_CONTACT, T0 - 5 * D), REC(QUARANTINE_START, T0 - 4 * D)},
         "red",
         "red.close-contact",
         T0 + 9 * D},
        {"released contact, then a new contact",
         T0,
         {REC(CLOSE_CONTACT, T0 - 12 * D), REC(QUARANTINE_END, T0 - 3 * D), REC(CLOSE_CONTACT, T0 - D)},
         "red",
         "red.close-contact",
         T0 + 13 * D},

        /* yellow.high-risk-area: level high, 14 days */
        {"high-risk area 10 days ago", T0, {VISIT(T0 - 10 * D, HIGH)}, "yellow", "yellow.high-risk-area", T0 + 4 * D},
        {"high-risk area 1 s before the end",
         T0,
         {VISIT(T0 - 14 * D + 1, HIGH)},
         "yellow",
         "yellow.high-risk-area",
         T0 + 1},
        {"high-risk area exactly 14 days ago", T0, {VISIT(T0 - 14 * D, HIGH)}, "green", "", 0},
        {"high-risk area 14 days and 1 s ago", T0, {VISIT(T0 - 14 * D - 1, HIGH)}, "green", "", 0},
        {"medium-risk area", T0, {VISIT(T0 - D, MEDIUM)}, "green", "", 0},
        {"low-risk area", T0, {VISIT(T0 - D, LOW)}, "green", "", 0},
        {"area visit without a level", T0, {VISIT(T0 - D, NONE)}, "green", "", 0},
        {"two high-risk visits: the newer counts",
         T0,
         {VISIT(T0 - 13 * D, HIGH), VISIT(T0 - 2 * D, HIGH)},
         "yellow",
         "yellow.high-risk-area",
         T0 + 12 * D},

        /* yellow.secondary-contact: 7 days */
        {"secondary contact 6 days ago",
         T0,
         {REC(SECONDARY_CONTACT, T0 - 6 * D)},
         "yellow",
         "yellow.secondary-contact",
         T0 + D},
        {"secondary contact 1 s before the end",
         T0,
         {REC(SECONDARY_CONTACT, T0 - 7 * D + 1)},
         "yellow",
         "yellow.secondary-contact",
         T0 + 1},
        {"secondary contact exactly 7 days ago", T0, {REC(SECONDARY_CONTACT, T0 - 7 * D)}, "green", "", 0},
        {"secondary contact 7 days and 1 s ago", T0, {REC(SECONDARY_CONTACT, T0 - 7 * D - 1)}, "green", "", 0},

        /* yellow.fever: temperature >= 37.3, 3 days */
        {"fever 37.3", T0, {DECLARE(T0 - D, 37.3)}, "yellow", "yellow.fever", T0 + 2 * D},
        {"fever 39.1", T0, {DECLARE(T0 - D, 39.1)}, "yellow", "yellow.fever", T0 + 2 * D},
        {"37.2 is no fever", T0, {DECLARE(T0 - D, 37.2)}, "green", "", 0},
        {"37.29 is no fever", T0, {DECLARE(T0 - D, 37.29)}, "green", "", 0},
        {"no temperature", T0, {DECLARE(T0 - D, NAN)}, "green", "", 0},
        {"fever 1 s before the end", T0, {DECLARE(T0 - 3 * D + 1, 38.0)}, "yellow", "yellow.fever", T0 + 1},
        {"fever exactly 3 days ago", T0, {DECLARE(T0 - 3 * D, 38.0)}, "green", "", 0},
        {"fever 3 days and 1 s ago", T0, {DECLARE(T0 - 3 * D - 1, 38.0)}, "green", "", 0},
        {"fever, then normal: the fever still counts",
         T0,
         {DECLARE(T0 - 2 * D, 38.0), DECLARE(T0 - D, 36.5)},
         "yellow",
         "yellow.fever",
         T0 + D},

        /* yellow.inbound: 14 days, until two negative tests after arrival */
        {"arrived 5 days ago", T0, {INBOUND(T0 - 5 * D, "英国")}, "yellow", "yellow.inbound", T0 + 9 * D},
        {"arrived, one negative test",
         T0,
         {INBOUND(T0 - 5 * D, "英国"), TEST(T0 - 4 * D, NEGATIVE)},
         "yellow",
         "yellow.inbound",
         T0 + 9 * D},
        {"arrived, two negative tests",
         T0,
         {INBOUND(T0 - 5 * D, "英国"), TEST(T0 - 4 * D, NEGATIVE), TEST(T0 - 2 * D, NEGATIVE)},
         "green",
         "",
         0},
        {"two negative tests sampled in the same second",
         T0,
         {INBOUND(T0 - 5 * D, "英国"), TEST(T0 - 4 * D, NEGATIVE), TEST(T0 - 4 * D, NEGATIVE)},
         "green",
         "",
         0},
        {"one negative test before arrival does not count",
         T0,
         {TEST(T0 - 6 * D, NEGATIVE), INBOUND(T0 - 5 * D, "英国"), TEST(T0 - 2 * D, NEGATIVE)},
         "yellow",
         "yellow.inbound",
         T0 + 9 * D},
        {"a positive test does not count",
         T0,
         {INBOUND(T0 - 5 * D, "英国"), TEST(T0 - 4 * D, POSITIVE), TEST(T0 - 2 * D, NEGATIVE)},
         "yellow",
         "yellow.inbound",
         T0 + 9 * D},
        {"a test without a result does not count",
         T0,
         {INBOUND(T0 - 5 * D, "英国"), TEST(T0 - 4 * D, NONE), TEST(T0 - 2 * D, NEGATIVE)},
         "yellow",
         "yellow.inbound",
         T0 + 9 * D},
        {"arrived exactly 14 days ago", T0, {INBOUND(T0 - 14 * D, "英国")}, "green", "", 0},
        {"arrived 1 s less than 14 days ago",
         T0,
         {INBOUND(T0 - 14 * D + 1, "英国")},
         "yellow",
         "yellow.inbound",
         T0 + 1},
        {"second negative test in the future",
         T0,
         {INBOUND(T0 - 5 * D, "英国"), TEST(T0 - 4 * D, NEGATIVE), TEST(T0 + 60, NEGATIVE)},
         "yellow",
         "yellow.inbound",
         T0 + 60},

        /* precedence */
        {"close contact and high-risk area: red, both fired",
         T0,
         {REC(CLOSE_CONTACT, T0 - 2 * D), VISIT(T0 - D, HIGH)},
         "red",
         "red.close-contact,yellow.high-risk-area",
         T0 + 12 * D},
        {"yellow ends before red: review when red ends, to green",
         T0,
         {VISIT(T0 - 10 * D, HIGH), REC(CLOSE_CONTACT, T0 - D)},
         "red",
         "red.close-contact,yellow.high-risk-area",
         T0 + 13 * D},
        {"case and fever: red never ends by time",
         T0,
         {DECLARE(T0 - D, 38.0), REC(CONFIRMED_CASE, T0 - D)},
         "red",
         "red.case,yellow.fever",
         0},
        {"red ends, yellow uncovered",
         T0,
         {REC(CLOSE_CONTACT, T0 - 13 * D), REC(SECONDARY_CONTACT, T0 - D)},
         "red",
         "red.close-contact,yellow.secondary-contact",
         T0 + D},
        {"...and a day later",
         T0 + D,
         {REC(CLOSE_CONTACT, T0 - 13 * D), REC(SECONDARY_CONTACT, T0 - D)},
         "yellow",
         "yellow.secondary-contact",
         T0 + 6 * D},
        {"every rule at once",
         T0,
         {REC(CONFIRMED_CASE, T0 - D), REC(CLOSE_CONTACT, T0 - D), VISIT(T0 - D, HIGH), REC(SECONDARY_CONTACT, T0 - D),
          DECLARE(T0 - D, 38.0), INBOUND(T0 - D, "英国")},
         "red",
         "red.case,red.close-contact,yellow.high-risk-area,yellow.secondary-contact,yellow.fever,yellow.inbound",
         0},

        /* overrides */
        {"green override over a case, before until",
         T0,
         {REC(CONFIRMED_CASE, T0 - 5 * D), OVERRIDE(T0 - D, GREEN, T0 + 2 * D)},
         "green",
         "red.case",
         T0 + 2 * D},
        {"green override over a case, 1 s before until",
         T0 + 2 * D - 1,
         {REC(CONFIRMED_CASE, T0 - 5 * D), OVERRIDE(T0 - D, GREEN, T0 + 2 * D)},
         "green",
         "red.case",
         T0 + 2 * D},
        {"green override over a case, at until",
         T0 + 2 * D,
         {REC(CONFIRMED_CASE, T0 - 5 * D), OVERRIDE(T0 - D, GREEN, T0 + 2 * D)},
         "red",
         "red.case",
         0},
        {"green override over a case, after until",
         T0 + 3 * D,
         {REC(CONFIRMED_CASE, T0 - 5 * D), OVERRIDE(T0 - D, GREEN, T0 + 2 * D)},
         "red",
         "red.case",
         0},
        {"red override with no records", T0, {OVERRIDE(T0 - H, RED, T0 + D)}, "red", "", T0 + D},
        {"red override with no records, expired", T0 + D, {OVERRIDE(T0 - H, RED, T0 + D)}, "green", "", 0},
        {"newest override wins, and expiring into the same colour is no change",
         T0,
         {OVERRIDE(T0 - 2 * D, RED, T0 + 10 * D), OVERRIDE(T0 - D, GREEN, T0 + D)},
         "green",
         "",
         0},
        {"yellow override over a close contact: red when it expires",
         T0,
         {REC(CLOSE_CONTACT, T0 - D), OVERRIDE(T0 - H, YELLOW, T0 + 5 * D)},
         "yellow",
         "red.close-contact",
         T0 + 5 * D},
        {"red override over a close contact: the change is when the contact ends",
         T0,
         {REC(CLOSE_CONTACT, T0 - D), OVERRIDE(T0 - H, RED, T0 + 5 * D)},
         "red",
         "red.close-contact",
         T0 + 13 * D},
        {"an override that is not a colour is ignored",
         T0,
         {{.kind = SS_KIND_MANUAL_OVERRIDE, .occurred_at = T0 - H, .color = 7, .until = T0 + D}},
         "green",
         "",
         0},
        {"an override already expired", T0, {OVERRIDE(T0 - 2 * D, RED, T0 - D)}, "green", "", 0},
        {"an override in the future counts then", T0, {OVERRIDE(T0 + H, RED, T0 + D)}, "green", "", T0 + H},
};

static void test_default_timelines(void)
{
	struct ss_ruleset *rs = load_default();

	for (size_t i = 0; i < sizeof(timelines) / sizeof(timelines[0]); i++) {
		const struct timeline *tl = &timelines[i];
		size_t n = count_records(tl->r, 6);
		struct ss_rule_verdict v;
		int before = check_case_failed;
		check_case_failed = 0;
		ss_rules_evaluate(rs, tl->r, n, tl->now, &v);
		CHECK_STR(ss_color_name(v.color), tl->color);
		CHECK_STR(fired_ids(&v), tl->fired);
		CHECK(v.review_at == tl->review_at);
		check_consistent(rs, tl->r, n, tl->now, &v);
		if (check_case_failed)
			printf("# in timeline \"%s\": review_at now%+lld\n", tl->name,
			       v.review_at ? (long long)(v.review_at - tl->now) : 0LL);
		check_case_failed |= before;
	}
	ss_rules_free(rs);
}

/* ---- what a verdict says beyond the colour ---- */

static void test_default_rule_set(void)
{
	struct ss_ruleset *rs = load_default();
	struct ss_rule_info info;
	const char *ids[] = {"red.case",     "red.close-contact", "yellow.high-risk-area", "yellow.secondary-contact",
	                     "yellow.fever", "yellow.inbound"};
	const int64_t windows[] = {0, 14 * D, 14 * D, 7 * D, 3 * D, 14 * D};

	CHECK_STR(ss_rules_version(rs), "2026.1");
	CHECK(ss_rules_count(rs) == 6);
	for (size_t i = 0; i < 6; i++) {
		CHECK(ss_rules_get(rs, i, &info));
		CHECK_STR(info.id, ids[i]);
		CHECK(info.color == (i < 2 ? SS_RED : SS_YELLOW));
		CHECK(info.window == windows[i]);
		CHECK(info.reason_zh && info.reason_en && strlen(info.reason_zh) > 0);
		CHECK(info.line > 0);
	}
	CHECK(!ss_rules_get(rs, 6, &info));
	CHECK(ss_rules_get(rs, 0, &info) && info.nunless == 1);
	CHECK_STR(info.reason_zh, "确诊病例或疑似病例，尚未康复");
	CHECK_STR(info.reason_en, "Confirmed or suspected case, not yet recovered");
	ss_rules_free(rs);
}

static void test_triggers_and_evidence(void)
{
	struct ss_ruleset *rs = load_default();
	struct ss_rule_verdict v;

	/* the newest unreleased trigger is reported, and when it ends */
	struct ss_rule_record a[] = {REC(CLOSE_CONTACT, T0 - 10 * D), REC(QUARANTINE_END, T0 - 8 * D),
	                             REC(CLOSE_CONTACT, T0 - 6 * D), REC(CLOSE_CONTACT, T0 - 7 * D)};
	ss_rules_evaluate(rs, a, 4, T0, &v);
	CHECK(v.nfired == 1 && v.fired[0].trigger == 2 && v.fired[0].ends_at == T0 + 8 * D);
	CHECK(v.fired[0].nagainst == 0);
	CHECK(v.fired[0].color == SS_RED && !strcmp(v.fired[0].reason_en, "Close contact, not yet released from "
	                                                                  "quarantine"));

	/* one negative test of the two needed is what the arrival was measured against */
	struct ss_rule_record b[] = {TEST(T0 - 9 * D, NEGATIVE), INBOUND(T0 - 5 * D, "英国"),
	                             TEST(T0 - 4 * D, POSITIVE), TEST(T0 - 3 * D, NEGATIVE), TEST(T0 + H, NEGATIVE)};
	ss_rules_evaluate(rs, b, 5, T0, &v);
	CHECK(v.color == SS_YELLOW && v.nfired == 1 && v.fired[0].trigger == 1);
	CHECK(v.fired[0].nagainst == 1 && v.fired[0].against[0] == 3);
	CHECK(v.fired[0].ends_at == T0 + 9 * D);
	CHECK(v.review_at == T0 + H); /* the second test becomes current then */
	check_consistent(rs, b, 5, T0, &v);
	ss_rules_evaluate(rs, b, 5, T0 + H, &v);
	CHECK(v.color == SS_GREEN && v.nfired == 0 && v.review_at == 0);

	/* a case has no end by time */
	struct ss_rule_record c[] = {REC(SUSPECTED_CASE, T0 - D)};
	ss_rules_evaluate(rs, c, 1, T0, &v);
	CHECK(v.nfired == 1 && v.fired[0].ends_at == 0 && v.fired[0].trigger == 0);

	/* the override is named */
	struct ss_rule_record d[] = {OVERRIDE(T0 - 3 * H, YELLOW, T0 + D), OVERRIDE(T0 - 2 * H, RED, T0 + D),
	                             OVERRIDE(T0 - 2 * H, GREEN, T0 + 2 * D)};
	ss_rules_evaluate(rs, d, 3, T0, &v);
	CHECK(v.overridden && v.override == 2 && v.color == SS_GREEN && v.review_at == 0);
	ss_rules_evaluate(rs, d, 2, T0, &v);
	CHECK(v.overridden && v.override == 1 && v.color == SS_RED && v.rules_color == SS_GREEN);
	CHECK(v.review_at == T0 + D);
	ss_rules_evaluate(rs, d, 2, T0 + D, &v);
	CHECK(!v.overridden && v.color == SS_GREEN);

	/* no records at all */
	ss_rules_evaluate(rs, NULL, 0, T0, &v);
	CHECK(v.color == SS_GREEN && v.nfired == 0 && v.nfired_total == 0 && v.review_at == 0 && !v.overridden);
	ss_rules_free(rs);
}

/* A colour changing at the exact end of a window, walked second by second around it. */
static void test_window_edges_walked(void)
{
	struct ss_ruleset *rs = load_default();
	struct ss_rule_record r[] = {REC(SECONDARY_CONTACT, T0)};
	struct ss_rule_verdict v;

	for (int64_t dt = -2; dt <= 2; dt++) {
		ss_rules_evaluate(rs, r, 1, T0 + 7 * D + dt, &v);
		CHECK(v.color == (dt < 0 ? SS_YELLOW : SS_GREEN));
		CHECK(v.review_at == (dt < 0 ? T0 + 7 * D : 0));
	}
	ss_rules_evaluate(rs, r, 1, T0 - 1, &v);
	CHECK(v.color == SS_GREEN && v.review_at == T0);
	ss_rules_evaluate(rs, r, 1, T0, &v);
	CHECK(v.color == SS_YELLOW && v.review_at == T0 + 7 * D);
	ss_rules_free(rs);
}

/* ---- the language, beyond the default set ---- */

static void test_hours_and_minutes(void)
{
	struct ss_ruleset *rs = parse_ok("version 1\n"
	                                 "rule y72\n color yellow\n when secondary_contact within 72h\n"
	                                 " reason zh 甲\n reason en a\n"
	                                 "rule r30\n color red\n when close_contact within 30m\n"
	                                 " reason zh 乙\n reason en b\n");
	struct ss_rule_record a[] = {REC(SECONDARY_CONTACT, T0)};
	struct ss_rule_record b[] = {REC(CLOSE_CONTACT, T0)};
	struct ss_rule_verdict v;

	if (!rs)
		return;
	ss_rules_evaluate(rs, a, 1, T0 + 72 * H - 1, &v);
	CHECK(v.color == SS_YELLOW && v.review_at == T0 + 72 * H);
	ss_rules_evaluate(rs, a, 1, T0 + 72 * H, &v);
	CHECK(v.color == SS_GREEN);
	ss_rules_evaluate(rs, b, 1, T0 + 30 * 60 - 1, &v);
	CHECK(v.color == SS_RED && v.review_at == T0 + 30 * 60);
	ss_rules_evaluate(rs, b, 1, T0 + 30 * 60, &v);
	CHECK(v.color == SS_GREEN && v.review_at == 0);
	ss_rules_free(rs);
}

static void test_comparisons(void)
{
	/* comments, blank lines, CRLF, a byte order mark, tabs and quoted text are all fine */
	struct ss_ruleset *rs = parse_ok("\xef\xbb\xbf# a test set\r\n"
	                                 "\r\n"
	                                 "version\tv-2.0_rc1\r\n"
	                                 "rule level\n"
	                                 "\tcolor yellow\n"
	                                 "\twhen risk_area_visit where level >= medium and area != 110101 within 14d\n"
	                                 "\treason zh 中风险及以上\n"
	                                 "\treason en medium or high\n"
	                                 "  # a comment inside a rule\n"
	                                 "rule uk\n"
	                                 "  when inbound_travel where origin = \"United Kingdom\" within 14d\n"
	                                 "  color red\n"
	                                 "  reason en from the UK\n"
	                                 "  reason zh 英国入境\n"
	                                 "rule not-cn\n"
	                                 "  color yellow\n"
	                                 "  when inbound_travel where origin != 中国 within 14d\n"
	                                 "  reason zh 境外\n"
	                                 "  reason en abroad\n"
	                                 "rule sick\n"
	                                 "  color yellow\n"
	                                 "  when health_declaration where temperature>37.5 and symptoms>=2 within 3d\n"
	                                 "  reason zh 发热且有症状\n"
	                                 "  reason en fever and symptoms\n"
	                                 "rule boosted\n"
	                                 "  color green\n"
	                                 "  when vaccination where dose >= 3 within 180d\n"
	                                 "  reason zh 已接种加强针\n"
	                                 "  reason en booster received\n"
	                                 "rule many-places\n"
	                                 "  color yellow\n"
	                                 "  when trip_declaration where places > 5 within 7d\n"
	                                 "  unless test_result where result = negative\n"
	                                 "  unless quarantine_end or recovered at least 1\n"
	                                 "  reason zh 多地行程\n"
	                                 "  reason en many places\n");
	struct ss_rule_verdict v;

	if (!rs)
		return;
	CHECK_STR(ss_rules_version(rs), "v-2.0_rc1");
	CHECK(ss_rules_count(rs) == 6);

	struct {
		struct ss_rule_record r;
		const char *fired;
	} cases[] = {
	        {VISIT(T0 - D, HIGH), "level"},
	        {VISIT(T0 - D, MEDIUM), "level"},
	        {VISIT(T0 - D, LOW), ""},
	        {VISIT(T0 - D, NONE), ""},
	        {{.kind = SS_KIND_RISK_AREA_VISIT, .occurred_at = T0 - D, .area = "110101", .level = SS_LEVEL_HIGH},
	         ""},
	        {{.kind = SS_KIND_RISK_AREA_VISIT, .occurred_at = T0 - D, .level = SS_LEVEL_HIGH}, ""}, /* no area */
	        {INBOUND(T0 - D, "United Kingdom"), "uk,not-cn"},
	        {INBOUND(T0 - D, "United"), "not-cn"},
	        {INBOUND(T0 - D, "中国"), ""},
	        {INBOUND(T0 - D, NULL), ""}, /* an attribute not carried: even != is false */
	        {{.kind = SS_KIND_HEALTH_DECLARATION, .occurred_at = T0 - D, .temperature = 37.6, .symptoms = 2},
	         "sick"},
	        {{.kind = SS_KIND_HEALTH_DECLARATION, .occurred_at = T0 - D, .temperature = 37.5, .symptoms = 2}, ""},
	        {{.kind = SS_KIND_HEALTH_DECLARATION, .occurred_at = T0 - D, .temperature = 38.0, .symptoms = 1}, ""},
	        {{.kind = SS_KIND_HEALTH_DECLARATION, .occurred_at = T0 - D, .temperature = INFINITY, .symptoms = 3},
	         ""},
	        {{.kind = SS_KIND_VACCINATION, .occurred_at = T0 - D, .dose = 3}, "boosted"},
	        {{.kind = SS_KIND_VACCINATION, .occurred_at = T0 - D, .dose = 2}, ""},
	        {{.kind = SS_KIND_TRIP_DECLARATION, .occurred_at = T0 - D, .places = 6}, "many-places"},
	        {{.kind = SS_KIND_TRIP_DECLARATION, .occurred_at = T0 - D, .places = 5}, ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ss_rules_evaluate(rs, &cases[i].r, 1, T0, &v);
		CHECK_STR(fired_ids(&v), cases[i].fired);
		if (strcmp(fired_ids(&v), cases[i].fired))
			printf("# in case %zu\n", i);
		check_consistent(rs, &cases[i].r, 1, T0, &v);
	}

	/* a green rule is reported, changes nothing, and comes after the others */
	struct ss_rule_record both[] = {{.kind = SS_KIND_VACCINATION, .occurred_at = T0 - D, .dose = 3},
	                                INBOUND(T0 - D, "United Kingdom")};
	ss_rules_evaluate(rs, both, 2, T0, &v);
	CHECK(v.color == SS_RED && v.nfired_total == 3);
	CHECK_STR(fired_ids(&v), "uk,not-cn,boosted");
	CHECK(v.review_at == T0 + 13 * D);

	/* either unless clause releases */
	struct ss_rule_record trip[] = {{.kind = SS_KIND_TRIP_DECLARATION, .occurred_at = T0 - D, .places = 9},
	                                REC(RECOVERED, T0 - H)};
	ss_rules_evaluate(rs, trip, 2, T0, &v);
	CHECK(v.nfired == 0);
	trip[1] = (struct ss_rule_record)TEST(T0 - H, NEGATIVE);
	ss_rules_evaluate(rs, trip, 2, T0, &v);
	CHECK(v.nfired == 0);
	trip[1] = (struct ss_rule_record)TEST(T0 - H, POSITIVE);
	ss_rules_evaluate(rs, trip, 2, T0, &v);
	CHECK_STR(fired_ids(&v), "many-places");
	ss_rules_free(rs);
}

static void test_fired_limit(void)
{
	struct ss_buf b;
	struct ss_ruleset *rs = NULL;
	struct ss_rule_verdict v;
	struct ss_rule_record r[] = {REC(CLOSE_CONTACT, T0 - D)};

	ss_buf_init(&b, SS_RULES_MAX_FILE);
	CHECK(ss_buf_puts(&b, "version 3\n") == SS_OK);
	for (int i = 0; i < 20; i++)
		CHECK(ss_buf_printf(&b,
		                    "rule r%02d\ncolor %s\nwhen close_contact within %dd\nreason zh 甲\nreason en a\n",
		                    i, i % 2 ? "red" : "yellow", 21 - i) == SS_OK);
	CHECK(ss_rules_parse(b.ptr, b.len, &rs, print_report, "(generated)") == SS_OK);
	if (rs) {
		ss_rules_evaluate(rs, r, 1, T0, &v);
		CHECK(v.color == SS_RED && v.nfired_total == 20 && v.nfired == SS_RULES_MAX_FIRED);
		/* red rules first (r01, r03, ...), then yellow, each in file order */
		CHECK_STR(v.fired[0].id, "r01");
		CHECK_STR(v.fired[9].id, "r19");
		CHECK_STR(v.fired[10].id, "r00");
		CHECK_STR(v.fired[15].id, "r10");
		/* the longest red is r01 (20 days), the longest yellow r00 (21 days) */
		CHECK(v.review_at == T0 - D + 20 * D);
		check_consistent(rs, r, 1, T0, &v);
	}
	ss_rules_free(rs);
	ss_buf_release(&b);
}

/* ---- the parser's errors ---- */

struct bad_file {
	const char *name;
	const char *text;
	enum ss_err err;
	const char *expected; /* every report, "line: message" each on its own line */
	size_t len;           /* of text, if it holds a NUL; else 0 */
};

#define NUL_FILE  "version 1\nrule a\n color red\0\n when close_contact within 14d\n reason zh 甲\n reason en a\n"
#define GOOD_RULE " color red\n when close_contact within 14d\n reason zh 甲\n reason en a\n"

static const struct bad_file bad_files[] = {
        {"empty file", "", SS_INVALID, "0: missing version line: the file holds no 'version <text>'\n"},
        {"only comments", "# nothing\n\n   # here\n", SS_INVALID,
         "0: missing version line: the file holds no 'version <text>'\n"},
        {"no version line", "# rules\nrule a\n" GOOD_RULE, SS_INVALID,
         "2: missing version line: the first line that is not blank or a comment must be 'version <text>'\n"},
        {"two version lines", "version 1\nrule a\n" GOOD_RULE "version 2\n", SS_INVALID,
         "7: second version line (first on line 1)\n"},
        {"bad version", "version 1 2\nrule a\n" GOOD_RULE "", SS_INVALID, "1: unexpected '2' after the version\n"},
        {"unknown kind",
         "version 1\nrule a\n color red\n when confirmd_case\n unless recovered\n reason zh 甲\n"
         " reason en a\n",
         SS_INVALID, "4: unknown kind 'confirmd_case'\n"},
        {"unknown kind after or",
         "version 1\nrule a\n color red\n when confirmed_case or cases\n unless recovered\n reason zh 甲\n"
         " reason en a\n"
         "rule b\n color red\n when confirmed_case or\n unless recovered\n reason zh 甲\n reason en a\n"
         "rule c\n color red\n when\n unless recovered\n reason zh 甲\n reason en a\n",
         SS_INVALID,
         "4: unknown kind 'cases'\n"
         "10: expected a kind after 'or'\n"
         "16: expected a kind after 'when'\n"},
        {"unknown attribute for the kind",
         "version 1\nrule a\n color red\n when close_contact where level = high within 14d\n reason zh 甲\n"
         " reason en a\n",
         SS_INVALID, "4: unknown attribute 'level' for close_contact (its attributes: none)\n"},
        {"attribute of another kind",
         "version 1\nrule a\n color red\n when health_declaration where dose >= 1 within 1d\n"
         " reason zh 甲\n reason en a\n",
         SS_INVALID, "4: unknown attribute 'dose' for health_declaration (its attributes: temperature, symptoms)\n"},
        {"bad windows",
         "version 1\nrule a\n color red\n when close_contact within 14w\n reason zh 甲\n reason en a\n"
         "rule b\n color red\n when close_contact within 0d\n reason zh 甲\n reason en a\n"
         "rule c\n color red\n when close_contact within 366d\n reason zh 甲\n reason en a\n"
         "rule d\n color red\n when close_contact within\n reason zh 甲\n reason en a\n"
         "rule e\n color red\n when close_contact within d14\n reason zh 甲\n reason en a\n",
         SS_INVALID,
         "4: bad window '14w': a whole number and d, h or m, such as 14d, 72h or 30m\n"
         "9: bad window '0d': from 1m to 365d\n"
         "14: bad window '366d': from 1m to 365d\n"
         "19: expected a window after 'within', such as 14d, 72h or 30m\n"
         "24: bad window 'd14': a whole number and d, h or m, such as 14d, 72h or 30m\n"},
        {"duplicate rule id", "version 1\nrule a\n" GOOD_RULE "rule b\n" GOOD_RULE "rule a\n" GOOD_RULE, SS_INVALID,
         "12: duplicate rule id 'a' (first on line 2)\n"},
        {"missing colour, condition and reasons", "version 1\n\nrule bare\n\nrule a\n" GOOD_RULE, SS_INVALID,
         "3: rule 'bare' has no color (add 'color red', 'color yellow' or 'color green')\n"
         "3: rule 'bare' has no condition (add 'when <kind> ...')\n"
         "3: rule 'bare' has no reason in Chinese (add 'reason zh <text>')\n"
         "3: rule 'bare' has no reason in English (add 'reason en <text>')\n"},
        {"bad numbers",
         "version 1\nrule a\n color yellow\n when health_declaration where temperature >= 37.3.1 within 3d\n"
         " reason zh 甲\n reason en a\n"
         "rule b\n color yellow\n when vaccination where dose >= 1.5 within 3d\n reason zh 甲\n reason en a\n"
         "rule c\n color yellow\n when inbound_travel within 14d\n unless test_result at least two\n"
         " reason zh 甲\n reason en a\n"
         "rule d\n color yellow\n when inbound_travel within 14d\n unless test_result at least 33\n"
         " reason zh 甲\n reason en a\n"
         "rule e\n color yellow\n when health_declaration where temperature >= 37.3456 within 3d\n"
         " reason zh 甲\n reason en a\n",
         SS_INVALID,
         "4: bad number '37.3.1' for temperature: a number with at most 3 decimals from 0 to 1000000\n"
         "9: bad number '1.5' for dose: a whole number from 0 to 1000000\n"
         "15: bad number 'two' after 'at least': a whole number from 1 to 32\n"
         "21: bad number '33' after 'at least': a whole number from 1 to 32\n"
         "26: bad number '37.3456' for temperature: a number with at most 3 decimals from 0 to 1000000\n"},
        {"unknown colour",
         "version 1\nrule a\n color blue\n when close_contact within 14d\n reason zh 甲\n"
         " reason en a\n",
         SS_INVALID, "3: unknown color 'blue' (expected red, yellow or green)\n"},
        {"operators and values",
         "version 1\nrule a\n color red\n when test_result where result >= negative within 14d\n reason zh 甲\n"
         " reason en a\n"
         "rule b\n color red\n when risk_area_visit where level == high within 14d\n reason zh 甲\n reason en a\n"
         "rule c\n color red\n when risk_area_visit where level = extreme within 14d\n reason zh 甲\n"
         " reason en a\n"
         "rule d\n color red\n when risk_area_visit where area = 3101 within 14d\n reason zh 甲\n reason en a\n"
         "rule e\n color red\n when inbound_travel where origin = \"United Kingdom within 14d\n reason zh 甲\n"
         " reason en a\n",
         SS_INVALID,
         "4: result can only be compared with = or !=\n"
         "9: unknown operator '==' (expected =, !=, >=, >, <= or <)\n"
         "14: unknown level 'extreme' (expected low, medium or high)\n"
         "19: bad area code '3101': 6 digits of GB/T 2260\n"
         "24: unterminated quote in '\"United Kingdom within 14d'\n"},
        {"rules that cannot be",
         "version 1\nrule a\n color red\n when manual_override within 1d\n reason zh 甲\n reason en a\n"
         "rule b\n color red\n when confirmed_case\n reason zh 甲\n reason en a\n"
         "rule c\n color red\n when close_contact within 14d\n unless quarantine_end within 3d\n reason zh 甲\n"
         " reason en a\n",
         SS_INVALID,
         "4: manual_override cannot be used in a rule: overrides are applied before rules\n"
         "7: rule 'b' never ends: give its trigger a window ('within 14d') or add an 'unless'\n"
         "15: unexpected 'within' (expected 'or', 'where', 'and' or 'at least')\n"},
        {"structure",
         "version 1\ncolor red\nrule 9lives\n" GOOD_RULE "rule a\n" GOOD_RULE " color yellow\n"
         " frobnicate\n reason fr bonjour\n reason zh  \n",
         SS_INVALID,
         "2: 'color' outside a rule: a rule starts with 'rule <id>'\n"
         "3: bad rule id '9lives': a letter, then letters, digits, '.', '-' or '_' (at most 64)\n"
         "13: second color in rule 'a' (first on line 9)\n"
         "14: unknown keyword 'frobnicate' (expected version, rule, color, when, unless or reason)\n"
         "15: unknown reason language 'fr' (expected zh or en)\n"
         "16: second reason zh in rule 'a' (first on line 11)\n"},
        {"reason texts",
         "version 1\nrule a\n color red\n when close_contact within 14d\n reason zh 甲\tb\n"
         " reason en \n",
         SS_INVALID,
         "5: reason text is not clean UTF-8 (no control characters, tabs included)\n"
         "6: empty reason text\n"},
        {"NUL byte", NUL_FILE, SS_INVALID,
         "3: NUL byte in the line\n"
         "2: rule 'a' has no color (add 'color red', 'color yellow' or 'color green')\n",
         sizeof(NUL_FILE) - 1},
};

static void test_parse_errors(void)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const struct bad_file *bf = &bad_files[i];
		struct ss_ruleset *rs = (struct ss_ruleset *)&rs; /* not NULL, to see it set */
		struct ss_buf b;
		size_t n = bf->len ? bf->len : strlen(bf->text);
		ss_buf_init(&b, 1 << 16);
		enum ss_err err = ss_rules_parse(bf->text, n, &rs, collect, &b);
		CHECK(err == bf->err);
		CHECK(rs == NULL);
		CHECK_STR(ss_buf_str(&b), bf->expected);
		if (err != bf->err || strcmp(ss_buf_str(&b), bf->expected))
			printf("# in bad file \"%s\"\n", bf->name);
		ss_buf_release(&b);
	}
}

static void test_parse_bounds(void)
{
	struct ss_ruleset *rs = NULL;
	struct ss_buf b, rep;
	char *big;

	/* over 1 MiB: refused unread */
	big = malloc(SS_RULES_MAX_FILE + 1);
	memset(big, '\n', SS_RULES_MAX_FILE + 1);
	ss_buf_init(&rep, 1 << 16);
	CHECK(ss_rules_parse(big, SS_RULES_MAX_FILE + 1, &rs, collect, &rep) == SS_TOO_BIG && !rs);
	CHECK_STR(ss_buf_str(&rep), "0: rule file of 1048577 bytes, more than 1048576\n");
	/* exactly 1 MiB is read (and lacks a version) */
	ss_buf_reset(&rep);
	CHECK(ss_rules_parse(big, SS_RULES_MAX_FILE, &rs, collect, &rep) == SS_INVALID && !rs);
	CHECK_STR(ss_buf_str(&rep), "0: missing version line: the file holds no 'version <text>'\n");
	free(big);

	/* a line over 4096 bytes, even a comment; 4096 is fine */
	ss_buf_init(&b, SS_RULES_MAX_FILE);
	CHECK(ss_buf_puts(&b, "version 1\n#") == SS_OK);
	for (int i = 0; i < 4095; i++)
		CHECK(ss_buf_putc(&b, 'x') == SS_OK);
	CHECK(ss_buf_puts(&b, "\n#") == SS_OK);
	for (int i = 0; i < 4096; i++)
		CHECK(ss_buf_putc(&b, 'x') == SS_OK);
	CHECK(ss_buf_puts(&b, "\r\nrule a\n" GOOD_RULE) == SS_OK);
	ss_buf_reset(&rep);
	CHECK(ss_rules_parse(b.ptr, b.len, &rs, collect, &rep) == SS_TOO_BIG && !rs);
	CHECK_STR(ss_buf_str(&rep), "3: line of 4097 bytes, more than 4096\n");

	/* 1000 rules are fine, 1001 are not */
	ss_buf_reset(&b);
	CHECK(ss_buf_puts(&b, "version 1\n") == SS_OK);
	for (int i = 0; i < SS_RULES_MAX_RULES; i++)
		CHECK(ss_buf_printf(&b, "rule r%d\n" GOOD_RULE, i) == SS_OK);
	CHECK(ss_rules_parse(b.ptr, b.len, &rs, print_report, "(1000 rules)") == SS_OK && rs);
	CHECK(rs && ss_rules_count(rs) == SS_RULES_MAX_RULES);
	ss_rules_free(rs);
	rs = NULL;
	CHECK(ss_buf_puts(&b, "rule one-too-many\n" GOOD_RULE "rule and-another\n" GOOD_RULE) == SS_OK);
	ss_buf_reset(&rep);
	CHECK(ss_rules_parse(b.ptr, b.len, &rs, collect, &rep) == SS_TOO_BIG && !rs);
	CHECK_STR(ss_buf_str(&rep), "5002: more than 1000 rules\n");

	/* report may be NULL */
	CHECK(ss_rules_parse("rule", 4, &rs, NULL, NULL) == SS_INVALID && !rs);
	ss_buf_release(&b);
	ss_buf_release(&rep);
}

static void test_names(void)
{
	int k = -1;

	for (int i = 1; i < SS_KIND_COUNT; i++)
		CHECK(ss_rule_kind_name(i) && ss_rule_kind_parse(ss_rule_kind_name(i), &k) && k == i);
	CHECK(ss_rule_kind_name(SS_KIND_NONE) == NULL && ss_rule_kind_name(SS_KIND_COUNT) == NULL);
	CHECK(!ss_rule_kind_parse("", &k) && !ss_rule_kind_parse("close_contacts", &k));
	CHECK_STR(ss_rule_kind_name(SS_KIND_TEST_RESULT), "test_result");
	CHECK(ss_rule_level_parse("medium", &k) && k == SS_LEVEL_MEDIUM);
	CHECK(!ss_rule_level_parse("none", &k));
	CHECK_STR(ss_rule_level_name(SS_LEVEL_HIGH), "high");
	CHECK(ss_rule_level_name(0) == NULL && ss_rule_level_name(4) == NULL);
	CHECK(ss_rule_result_parse("positive", &k) && k == SS_RESULT_POSITIVE);
	CHECK_STR(ss_rule_result_name(SS_RESULT_NEGATIVE), "negative");
	CHECK(ss_rule_result_name(3) == NULL);
}

int main(void)
{
	RUN(test_default_rule_set);
	RUN(test_default_timelines);
	RUN(test_triggers_and_evidence);
	RUN(test_window_edges_walked);
	RUN(test_hours_and_minutes);
	RUN(test_comparisons);
	RUN(test_fired_limit);
	RUN(test_parse_errors);
	RUN(test_parse_bounds);
	RUN(test_names);
	return check_done();
}
