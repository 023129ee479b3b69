/*
 * fuzz_rules: libFuzzer target for the status rules parser and evaluator.
 * Parses the input as a rule file; every report must name a line that exists
 * (or 0) and a failure must leave no rule set. If it parses, evaluates it over
 * fixed records of every kind (some in the future, an override) at a few
 * times and checks the verdict: a colour, fired rules in colour order with
 * current triggers, and review_at consistent with later evaluations (the
 * colour holds until just before it and changes at it, unless a record
 * becomes current then; with review_at 0 it never changes).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/err.h"
#include "core/holders.h"
#include "core/rules.h"

#define NOW INT64_C(1795680000) /* 2026-11-26T08:00:00Z */
#define D   INT64_C(86400)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long max_line;

static void report(void *ctx, long line, const char *message)
{
	(void)ctx;
	if (line < 0 || line > max_line || !message || !*message || strlen(message) > 600)
		abort();
}

static const struct ss_rule_record records[] = {
        {.kind = SS_KIND_CLOSE_CONTACT, .occurred_at = NOW - 10 * D},
        {.kind = SS_KIND_QUARANTINE_END, .occurred_at = NOW - 2 * D},
        {.kind = SS_KIND_SECONDARY_CONTACT, .occurred_at = NOW - 3 * D},
        {.kind = SS_KIND_RISK_AREA_VISIT, .occurred_at = NOW - 5 * D, .area = "420106", .level = SS_LEVEL_HIGH},
        {.kind = SS_KIND_RISK_AREA_VISIT, .occurred_at = NOW - 1 * D, .area = "310115", .level = SS_LEVEL_LOW},
        {.kind = SS_KIND_TEST_RESULT, .occurred_at = NOW - 4 * D, .result = SS_RESULT_NEGATIVE},
        {.kind = SS_KIND_TEST_RESULT, .occurred_at = NOW + 3600, .result = SS_RESULT_NEGATIVE},
        {.kind = SS_KIND_TEST_RESULT, .occurred_at = NOW - 1 * D, .result = SS_RESULT_POSITIVE},
        {.kind = SS_KIND_VACCINATION, .occurred_at = NOW - 60 * D, .dose = 3},
        {.kind = SS_KIND_INBOUND_TRAVEL, .occurred_at = NOW - 6 * D, .origin = "英国"},
        {.kind = SS_KIND_INBOUND_TRAVEL, .occurred_at = NOW - 6 * D},
        {.kind = SS_KIND_HEALTH_DECLARATION, .occurred_at = NOW - 2 * D, .temperature = 37.3, .symptoms = 1},
        {.kind = SS_KIND_TRIP_DECLARATION, .occurred_at = NOW - 1 * D, .places = 4},
        {.kind = SS_KIND_CONFIRMED_CASE, .occurred_at = NOW + 600},
        {.kind = SS_KIND_SUSPECTED_CASE, .occurred_at = NOW - 30 * D},
        {.kind = SS_KIND_RECOVERED, .occurred_at = NOW - 20 * D},
        {.kind = SS_KIND_QUARANTINE_START, .occurred_at = NOW - 9 * D},
        {.kind = SS_KIND_MANUAL_OVERRIDE, .occurred_at = NOW - 1 * D, .color = SS_YELLOW, .until = NOW + 2 * D},
        {.kind = 77, .occurred_at = NOW},
};

#define NRECORDS (sizeof(records) / sizeof(records[0]))

static void check_verdict(const struct ss_ruleset *rs, size_t n, int64_t now)
{
	struct ss_rule_verdict v, w;

	ss_rules_evaluate(rs, records, n, now, &v);
	if (v.color < SS_GREEN || v.color > SS_RED || v.rules_color < SS_GREEN || v.rules_color > SS_RED)
		abort();
	if (v.nfired > SS_RULES_MAX_FIRED || v.nfired > v.nfired_total || v.nfired_total > ss_rules_count(rs))
		abort();
	if (v.nfired < SS_RULES_MAX_FIRED && v.nfired != v.nfired_total)
		abort();
	if (v.overridden ? v.override >= n || records[v.override].color != v.color : v.color != v.rules_color)
		abort();
	for (size_t i = 0; i < v.nfired; i++) {
		const struct ss_rule_fired *f = &v.fired[i];
		if (f->trigger >= n || records[f->trigger].occurred_at > now || !f->id || !f->reason_zh ||
		    !f->reason_en)
			abort();
		if (f->color > v.rules_color || (i > 0 && f->color > v.fired[i - 1].color))
			abort();
		if (f->ends_at != 0 && f->ends_at <= now)
			abort();
		if (f->nagainst > SS_RULES_MAX_AGAINST)
			abort();
		for (size_t j = 0; j < f->nagainst; j++)
			if (f->against[j] >= n ||
			    records[f->against[j]].occurred_at <= records[f->trigger].occurred_at ||
			    records[f->against[j]].occurred_at > now)
				abort();
	}
	if (v.review_at) {
		if (v.review_at <= now)
			abort();
		ss_rules_evaluate(rs, records, n, v.review_at - 1, &w);
		if (w.color != v.color)
			abort();
		bool becomes_current = false;
		for (size_t i = 0; i < n; i++)
			becomes_current |= records[i].occurred_at == v.review_at;
		ss_rules_evaluate(rs, records, n, v.review_at, &w);
		if (w.color == v.color && !becomes_current)
			abort();
	} else {
		ss_rules_evaluate(rs, records, n, now + 400 * D, &w);
		if (w.color != v.color)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_ruleset *rs = (struct ss_ruleset *)&rs;

	max_line = 1;
	for (size_t i = 0; i < size; i++)
		max_line += data[i] == '\n';
	enum ss_err err = ss_rules_parse((const char *)data, size, &rs, report, NULL);
	if (err != SS_OK) {
		if ((err != SS_INVALID && err != SS_TOO_BIG) || rs)
			abort();
		return 0;
	}
	if (!rs || !ss_rules_version(rs) || ss_rules_count(rs) > SS_RULES_MAX_RULES)
		abort();
	for (size_t i = 0; i < ss_rules_count(rs); i++) {
		struct ss_rule_info info;
		if (!ss_rules_get(rs, i, &info) || !info.id || info.color < SS_GREEN || info.color > SS_RED)
			abort();
		if (!info.window && !info.nunless)
			abort(); /* every rule ends */
	}
	const int64_t nows[] = {NOW, NOW - 7 * D, NOW + 3 * D, NOW + 15 * D};
	for (size_t i = 0; i < sizeof(nows) / sizeof(nows[0]); i++)
		check_verdict(rs, NRECORDS, nows[i]);
	check_verdict(rs, 3, NOW);
	check_verdict(rs, 0, NOW);
	ss_rules_free(rs);
	return 0;
}
