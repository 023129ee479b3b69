/*
 * test_records: unit tests of core/records.c (checking records from data sources: every kind, every attribute rule,
 * the members of a record, sources, the future tolerance, CSV and JSON Lines rows) and core/records_import.c over a
 * real SQLite store in a temporary directory (all or nothing, every bad line by number, duplicates within a file and
 * across imports, quoting, blank lines, CRLF, a byte-order mark, over-long lines, records about people not in the
 * registry, reading records back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/time.h"
#include "check.h"
#include "core/app.h"
#include "core/pii.h"
#include "core/records.h"

#define NOW INT64_C(1795680000) /* 2026-11-26T08:00:00Z */

static char dir[64];
static struct ss_arena arena;

/* A valid ID number from a division, a birth date and a sequence number. */
static const char *make_id(const char *division, const char *birth, int seq, char out[19])
{
	snprintf(out, 19, "%s%s%03d", division, birth, seq % 1000);
	out[17] = ss_idcard_check_char(out);
	out[18] = '\0';
	return out;
}

static enum ss_err from_json(const char *line, struct ss_record *r)
{
	ss_err_clear();
	return ss_record_from_jsonl(line, strlen(line), "lab", NOW, r, &arena);
}

/* A JSON record of kind with attributes (JSON text, or NULL for none) at occurred_at. */
static enum ss_err rec(const char *kind, const char *attrs, const char *occurred_at, struct ss_record *r)
{
	char line[2048];
	if (attrs)
		snprintf(line, sizeof(line),
		         "{\"record_id\":\"r-1\",\"kind\":\"%s\",\"id_number\":\"11010519491231002X\","
		         "\"occurred_at\":\"%s\",\"attributes\":%s}",
		         kind, occurred_at, attrs);
	else
		snprintf(line, sizeof(line),
		         "{\"record_id\":\"r-1\",\"kind\":\"%s\",\"id_number\":\"11010519491231002X\","
		         "\"occurred_at\":\"%s\"}",
		         kind, occurred_at);
	return from_json(line, r);
}

/* True if the last failure was SS_INVALID-shaped with this field and its message starts with prefix. */
static int failed_with(enum ss_err err, const char *field, const char *prefix)
{
	const char *f = ss_err_field();
	if (err != SS_INVALID) {
		printf("# expected SS_INVALID, got %d (%s)\n", (int)err, ss_err_message());
		return 0;
	}
	if ((f == NULL) != (field == NULL) || (f && strcmp(f, field) != 0) ||
	    strncmp(ss_err_message(), prefix, strlen(prefix)) != 0) {
		printf("# field %s, message \"%s\"; expected field %s, message \"%s...\"\n", f ? f : "(none)",
		       ss_err_message(), field ? field : "(none)", prefix);
		return 0;
	}
	return 1;
}

static void test_every_kind_accepted(void)
{
	static const struct {
		const char *kind, *attrs, *canonical;
	} cases[] = {
	        {"confirmed_case", NULL, "{}"},
	        {"suspected_case", "{}", "{}"},
	        {"recovered", "null", "{}"},
	        {"close_contact", "{}", "{}"},
	        {"secondary_contact", "{}", "{}"},
	        {"quarantine_start", "{}", "{}"},
	        {"quarantine_end", "{}", "{}"},
	        {"risk_area_visit", "{\"level\":\"high\",\"area\":\"310101\"}",
	         "{\"area\":\"310101\",\"level\":\"high\"}"},
	        {"test_result", "{\"result\":\"positive\"}", "{\"result\":\"positive\"}"},
	        {"vaccination", "{\"dose\":3}", "{\"dose\":3}"},
	        {"inbound_travel", "{\"origin\":\"新加坡\"}", "{\"origin\":\"新加坡\"}"},
	        {"health_declaration", "{\"symptoms\":[\"cough\",\"发热\"],\"temperature\":36.80}",
	         "{\"temperature\":36.8,\"symptoms\":[\"cough\",\"发热\"]}"},
	        {"health_declaration", "{\"temperature\":37,\"symptoms\":[]}", "{\"temperature\":37,\"symptoms\":[]}"},
	        {"trip_declaration", "{\"places\":[\"310115\",\"320581\"]}", "{\"places\":[\"310115\",\"320581\"]}"},
	        {"manual_override", "{\"color\":\"yellow\",\"until\":\"2026-11-27T08:00:00+08:00\"}",
	         "{\"color\":\"yellow\",\"until\":\"2026-11-27T00:00:00Z\"}"},
	        {"manual_override", "{\"reason\":\"申诉核实\",\"color\":\"green\",\"until\":\"2026-11-27T00:00:00Z\"}",
	         "{\"color\":\"green\",\"until\":\"2026-11-27T00:00:00Z\",\"reason\":\"申诉核实\"}"},
	};
	bool seen[SS_RECORD_KINDS] = {false};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_record r;
		enum ss_err err = rec(cases[i].kind, cases[i].attrs, "2026-11-20T10:00:00Z", &r);
		if (err) {
			printf("# %s: %s: %s\n", cases[i].kind, ss_err_field() ? ss_err_field() : "", ss_err_message());
			CHECK(0);
			continue;
		}
		CHECK_STR(ss_record_kind_name(r.kind), cases[i].kind);
		CHECK_STR(r.attributes, cases[i].canonical);
		CHECK(r.attributes_len == strlen(cases[i].canonical));
		CHECK_STR(r.record_id, "r-1");
		CHECK_STR(r.source, "lab");
		CHECK_STR(r.id.number, "11010519491231002X");
		CHECK(r.occurred_at == NOW - 6 * 86400 + 2 * 3600);
		seen[r.kind] = true;
	}
	for (int k = 0; k < SS_RECORD_KINDS; k++)
		CHECK(seen[k]);
	CHECK(ss_record_kind_name(SS_RECORD_KINDS) == NULL);

	/* the typed attributes */
	struct ss_record r;
	CHECK(rec("risk_area_visit", "{\"area\":\"310101\",\"level\":\"medium\"}", "2026-11-20T10:00:00Z", &r) ==
	      SS_OK);
	CHECK_STR(r.attr.risk_area_visit.area, "310101");
	CHECK(r.attr.risk_area_visit.level == SS_RISK_MEDIUM);
	CHECK(rec("test_result", "{\"result\":\"negative\"}", "2026-11-20T10:00:00Z", &r) == SS_OK);
	CHECK(!r.attr.test_result.positive);
	CHECK(rec("test_result", "{\"result\":\"positive\"}", "2026-11-20T10:00:00Z", &r) == SS_OK);
	CHECK(r.attr.test_result.positive);
	CHECK(rec("vaccination", "{\"dose\":10}", "2026-11-20T10:00:00Z", &r) == SS_OK);
	CHECK(r.attr.vaccination.dose == 10);
	CHECK(rec("inbound_travel", "{\"origin\":\"810000\"}", "2026-11-20T10:00:00Z", &r) == SS_OK);
	CHECK_STR(r.attr.inbound_travel.origin, "810000");
	CHECK(rec("health_declaration", "{\"temperature\":38.5,\"symptoms\":[\"cough\"]}", "2026-11-20T10:00:00Z",
	          &r) == SS_OK);
	CHECK(r.attr.health_declaration.temperature == 38.5);
	CHECK(r.attr.health_declaration.nsymptoms == 1);
	CHECK_STR(r.attr.health_declaration.symptoms[0], "cough");
	CHECK(rec("trip_declaration", "{\"places\":[\"310115\",\"110105\"]}", "2026-11-20T10:00:00Z", &r) == SS_OK);
	CHECK(r.attr.trip_declaration.nplaces == 2);
	CHECK_STR(r.attr.trip_declaration.places[1], "110105");
	CHECK(rec("manual_override", "{\"color\":\"red\",\"until\":\"2026-11-21T10:00:00Z\"}", "2026-11-20T10:00:00Z",
	          &r) == SS_OK);
	CHECK(r.attr.manual_override.color == 2);
	CHECK(r.attr.manual_override.until == NOW - 5 * 86400 + 2 * 3600);
	CHECK(r.attr.manual_override.reason == NULL);
	CHECK(rec("manual_override", "{\"color\":\"green\",\"until\":\"2026-11-21T10:00:00Z\",\"reason\":\"复核\"}",
	          "2026-11-20T10:00:00Z", &r) == SS_OK);
	CHECK_STR(r.attr.manual_override.reason, "复核");
	/* a lower-case x is normalised */
	CHECK(from_json("{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002x\","
	                "\"occurred_at\":\"2026-11-20T10:00:00Z\"}",
	                &r) == SS_OK);
	CHECK_STR(r.id.number, "11010519491231002X");
}

static void test_attribute_rules(void)
{
	static const struct {
		const char *kind, *attrs, *field, *message;
	} cases[] = {
	        /* kinds without attributes refuse any */
	        {"close_contact", "{\"area\":\"310101\"}", "attributes.area",
	         "attributes.area is not an attribute of close_contact"},
	        {"confirmed_case", "{\"x\":null}", "attributes.x",
	         "attributes.x is not an attribute of confirmed_case"},
	        {"recovered", "{\"bad name!\":1}", "attributes", "attributes has a member that is not an attribute"},
	        {"recovered", "[]", "attributes", "attributes must be an object"},
	        {"recovered", "\"{}\"", "attributes", "attributes must be an object"},
	        /* risk_area_visit */
	        {"risk_area_visit", "{}", "attributes.area", "attributes.area is missing"},
	        {"risk_area_visit", "{\"area\":\"310101\"}", "attributes.level", "attributes.level is missing"},
	        {"risk_area_visit", "{\"area\":310101,\"level\":\"high\"}", "attributes.area",
	         "attributes.area must be a string"},
	        {"risk_area_visit", "{\"area\":\"31010\",\"level\":\"high\"}", "attributes.area",
	         "attributes.area must be a 6-digit"},
	        {"risk_area_visit", "{\"area\":\"990101\",\"level\":\"high\"}", "attributes.area",
	         "attributes.area must be a 6-digit"},
	        {"risk_area_visit", "{\"area\":\"310101\",\"level\":\"HIGH\"}", "attributes.level",
	         "attributes.level must be high, medium or low"},
	        {"risk_area_visit", "{\"area\":\"310101\",\"level\":\"high\",\"levle\":\"low\"}", "attributes.levle",
	         "attributes.levle is not an attribute of risk_area_visit"},
	        /* test_result */
	        {"test_result", "{}", "attributes.result", "attributes.result is missing"},
	        {"test_result", "{\"result\":\"unclear\"}", "attributes.result",
	         "attributes.result must be positive or negative"},
	        {"test_result", "{\"result\":true}", "attributes.result", "attributes.result must be a string"},
	        /* vaccination */
	        {"vaccination", NULL, "attributes.dose", "attributes.dose is missing"},
	        {"vaccination", "{\"dose\":0}", "attributes.dose", "attributes.dose must be between 1 and 10"},
	        {"vaccination", "{\"dose\":11}", "attributes.dose", "attributes.dose must be between 1 and 10"},
	        {"vaccination", "{\"dose\":2.5}", "attributes.dose", "attributes.dose must be an integer"},
	        {"vaccination", "{\"dose\":\"2\"}", "attributes.dose", "attributes.dose must be an integer"},
	        /* inbound_travel */
	        {"inbound_travel", "{}", "attributes.origin", "attributes.origin is missing"},
	        {"inbound_travel", "{\"origin\":\"\"}", "attributes.origin", "attributes.origin must be 1 to 64 bytes"},
	        {"inbound_travel", "{\"origin\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	         "attributes.origin", "attributes.origin must be 1 to 64 bytes"},
	        {"inbound_travel", "{\"origin\":\"a\\nb\"}", "attributes.origin",
	         "attributes.origin must be text without control"},
	        /* health_declaration */
	        {"health_declaration", "{\"symptoms\":[]}", "attributes.temperature",
	         "attributes.temperature is missing"},
	        {"health_declaration", "{\"temperature\":36.5}", "attributes.symptoms",
	         "attributes.symptoms is missing"},
	        {"health_declaration", "{\"temperature\":29.9,\"symptoms\":[]}", "attributes.temperature",
	         "attributes.temperature must be between 30 and 45"},
	        {"health_declaration", "{\"temperature\":45.1,\"symptoms\":[]}", "attributes.temperature",
	         "attributes.temperature must be between 30 and 45"},
	        {"health_declaration", "{\"temperature\":\"37\",\"symptoms\":[]}", "attributes.temperature",
	         "attributes.temperature must be a number"},
	        {"health_declaration", "{\"temperature\":37,\"symptoms\":\"cough\"}", "attributes.symptoms",
	         "attributes.symptoms must be an array"},
	        {"health_declaration", "{\"temperature\":37,\"symptoms\":[1]}", "attributes.symptoms",
	         "attributes.symptoms must be texts"},
	        {"health_declaration", "{\"temperature\":37,\"symptoms\":[\"\"]}", "attributes.symptoms",
	         "attributes.symptoms must be texts"},
	        {"health_declaration", "{\"temperature\":37,\"symptoms\":[\"123456789012345678901234567890123\"]}",
	         "attributes.symptoms", "attributes.symptoms must be texts"},
	        {"health_declaration",
	         "{\"temperature\":37,\"symptoms\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\",\"k\","
	         "\"l\",\"m\",\"n\",\"o\",\"p\",\"q\"]}",
	         "attributes.symptoms", "attributes.symptoms must have at most 16 elements"},
	        /* trip_declaration */
	        {"trip_declaration", "{}", "attributes.places", "attributes.places is missing"},
	        {"trip_declaration", "{\"places\":[]}", "attributes.places",
	         "attributes.places must have at least 1 element"},
	        {"trip_declaration", "{\"places\":[\"310115\",\"31011\"]}", "attributes.places",
	         "attributes.places must be 6-digit"},
	        {"trip_declaration", "{\"places\":[310115]}", "attributes.places", "attributes.places must be 6-digit"},
	        {"trip_declaration",
	         "{\"places\":[\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\","
	         "\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\","
	         "\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\","
	         "\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\",\"310115\"]}",
	         "attributes.places", "attributes.places must have at most 32 elements"},
	        /* manual_override */
	        {"manual_override", "{\"until\":\"2026-11-21T00:00:00Z\"}", "attributes.color",
	         "attributes.color is missing"},
	        {"manual_override", "{\"color\":\"blue\",\"until\":\"2026-11-21T00:00:00Z\"}", "attributes.color",
	         "attributes.color must be green, yellow or red"},
	        {"manual_override", "{\"color\":\"red\"}", "attributes.until", "attributes.until is missing"},
	        {"manual_override", "{\"color\":\"red\",\"until\":\"tomorrow\"}", "attributes.until",
	         "attributes.until must be an RFC 3339 time"},
	        {"manual_override", "{\"color\":\"red\",\"until\":\"2026-11-20T10:00:00Z\"}", "attributes.until",
	         "attributes.until must be after occurred_at"},
	        {"manual_override", "{\"color\":\"red\",\"until\":\"2026-11-20T09:00:00Z\"}", "attributes.until",
	         "attributes.until must be after occurred_at"},
	        {"manual_override", "{\"color\":\"red\",\"until\":\"2026-11-21T00:00:00Z\",\"reason\":\"\"}",
	         "attributes.reason", "attributes.reason must be 1 to 500 bytes of text"},
	        {"manual_override", "{\"color\":\"red\",\"until\":\"2026-11-21T00:00:00Z\",\"reason\":5}",
	         "attributes.reason", "attributes.reason must be a string"},
	        {"manual_override", "{\"color\":\"red\",\"until\":\"2026-11-21T00:00:00Z\",\"reason\":\"a\\u0007b\"}",
	         "attributes.reason", "attributes.reason must be text without control characters"},
	        {"manual_override", "{\"color\":\"red\",\"until\":\"2026-11-21T00:00:00Z\",\"note\":\"x\"}",
	         "attributes.note", "attributes.note is not an attribute of manual_override"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_record r;
		enum ss_err err = rec(cases[i].kind, cases[i].attrs, "2026-11-20T10:00:00Z", &r);
		if (!failed_with(err, cases[i].field, cases[i].message)) {
			printf("# case %zu: %s %s\n", i, cases[i].kind, cases[i].attrs ? cases[i].attrs : "(none)");
			CHECK(0);
		}
	}
}

static void test_record_members(void)
{
	static const struct {
		const char *line, *field, *message;
	} cases[] = {
	        {"{\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":\"2026-11-20T10:00:"
	         "00Z\"}",
	         "record_id", "record_id is missing"},
	        {"{\"record_id\":\"\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":"
	         "\"2026-11-20T10:00:00Z\"}",
	         "record_id", "record_id must be 1 to 64 characters"},
	        {"{\"record_id\":\"12345678901234567890123456789012345678901234567890123456789012345\",\"kind\":"
	         "\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":\"2026-11-20T10:00:00Z\"}",
	         "record_id", "record_id must be 1 to 64 characters"},
	        {"{\"record_id\":\"a "
	         "b\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":\"2026-11-20T10:00:"
	         "00Z\"}",
	         "record_id", "record_id may hold only"},
	        {"{\"record_id\":\"a/"
	         "b\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":\"2026-11-20T10:00:"
	         "00Z\"}",
	         "record_id", "record_id may hold only"},
	        {"{\"record_id\":7,\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":\"2026-"
	         "11-20T10:00:00Z\"}",
	         "record_id", "record_id must be a string"},
	        {"{\"record_id\":\"a\",\"id_number\":\"11010519491231002X\",\"occurred_at\":\"2026-11-20T10:00:00Z\"}",
	         "kind", "kind is missing"},
	        {"{\"record_id\":\"a\",\"kind\":\"cured\",\"id_number\":\"11010519491231002X\",\"occurred_at\":\"2026-"
	         "11-20T10:00:00Z\"}",
	         "kind", "kind must be one of confirmed_case, suspected_case"},
	        {"{\"record_id\":\"a\",\"kind\":\"recovered\",\"occurred_at\":\"2026-11-20T10:00:00Z\"}", "id_number",
	         "id_number is missing"},
	        {"{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"110105194912310021\",\"occurred_at\":"
	         "\"2026-11-20T10:00:00Z\"}",
	         "id_number", "wrong check digit"},
	        {"{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"1101051949123100\",\"occurred_at\":"
	         "\"2026-11-20T10:00:00Z\"}",
	         "id_number", "must be 18 characters"},
	        {"{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\"}", "occurred_at",
	         "occurred_at is missing"},
	        {"{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":"
	         "\"2026-11-20 10:00:00\"}",
	         "occurred_at", "occurred_at must be an RFC 3339 time"},
	        {"{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":"
	         "\"2026-02-30T10:00:00Z\"}",
	         "occurred_at", "occurred_at must be an RFC 3339 time"},
	        {"{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":"
	         "\"1999-12-31T23:59:59Z\"}",
	         "occurred_at", "occurred_at must not be before 2000"},
	        {"{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":"
	         "1795680000}",
	         "occurred_at", "occurred_at must be a string"},
	        /* members a record does not have */
	        {"{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":"
	         "\"2026-11-20T10:00:00Z\",\"source\":\"cdc\"}",
	         "source", "source is not a member of a record"},
	        {"{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\",\"occurred_at\":"
	         "\"2026-11-20T10:00:00Z\",\"\xe5\xa7\x93\xe5\x90\x8d\":\"x\"}",
	         NULL, "the record has a member that is not a member of a record"},
	        /* not a record at all */
	        {"[1,2]", NULL, "a record must be a JSON object"},
	        {"{\"record_id\":", NULL, "malformed JSON"},
	        {"{\"a\":1,\"a\":2}", NULL, "malformed JSON"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct ss_record r;
		if (!failed_with(from_json(cases[i].line, &r), cases[i].field, cases[i].message)) {
			printf("# case %zu: %s\n", i, cases[i].line);
			CHECK(0);
		}
	}
	/* the message never repeats the ID number */
	struct ss_record r;
	CHECK(from_json("{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"110105194912310021\","
	                "\"occurred_at\":\"2026-11-20T10:00:00Z\"}",
	                &r) == SS_INVALID);
	CHECK(strstr(ss_err_message(), "11010519") == NULL);
	/* a JSON Lines line is one line: its parse errors say the column only, the caller says which line */
	CHECK(from_json("{\"record_id\":\"a\",}", &r) == SS_INVALID);
	CHECK(strstr(ss_err_message(), "malformed JSON") != NULL && strstr(ss_err_message(), "line") == NULL);
	/* the record_id alphabet, in full */
	CHECK(from_json("{\"record_id\":\"AZaz09._:-\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\","
	                "\"occurred_at\":\"2026-11-20T10:00:00Z\"}",
	                &r) == SS_OK);
	CHECK_STR(r.record_id, "AZaz09._:-");
}

static void test_sources(void)
{
	static const char *const good[] = {
	        "national",        "province:31", "province:44",    "province:320581", "cdc",    "lab",
	        "airline",         "railway",     "self",           "staff",           "appeal", "trace",
	        "province:810000", "province:71", "province:310000"};
	static const char *const bad[] = {"",
	                                  "Lab",
	                                  "lab ",
	                                  "province",
	                                  "province:",
	                                  "province:3",
	                                  "province:99",
	                                  "province:999999",
	                                  "province:3101",
	                                  "province:3101011",
	                                  "province:31a",
	                                  "provinces:31",
	                                  "hospital"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		if (!ss_source_is_valid(good[i])) {
			printf("# refused %s\n", good[i]);
			CHECK(0);
		}
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (ss_source_is_valid(bad[i])) {
			printf("# accepted '%s'\n", bad[i]);
			CHECK(0);
		}
	}
	CHECK(failed_with(ss_source_check("hospital"), "source", "source must be national, province:"));
	CHECK(failed_with(ss_source_check(NULL), "source", "source must be"));
	/* a record is refused from a source that is not one, and keeps the source it came from */
	struct ss_record r;
	const char *line = "{\"record_id\":\"a\",\"kind\":\"recovered\",\"id_number\":\"11010519491231002X\","
	                   "\"occurred_at\":\"2026-11-20T10:00:00Z\"}";
	CHECK(failed_with(ss_record_from_jsonl(line, strlen(line), "nowhere", NOW, &r, &arena), "source",
	                  "source must"));
	CHECK(ss_record_from_jsonl(line, strlen(line), "province:320581", NOW, &r, &arena) == SS_OK);
	CHECK_STR(r.source, "province:320581");
}

static void test_future_tolerance(void)
{
	struct ss_record r;
	char t[SS_TIME_TEXT];

	ss_time_format(NOW + SS_RECORD_FUTURE_TOLERANCE, t);
	CHECK(rec("recovered", NULL, t, &r) == SS_OK);
	CHECK(r.occurred_at == NOW + 300);
	ss_time_format(NOW + SS_RECORD_FUTURE_TOLERANCE + 1, t);
	CHECK(failed_with(rec("recovered", NULL, t, &r), "occurred_at", "occurred_at is in the future"));
	/* fractions are dropped: 300.9 s ahead is 300 s */
	CHECK(rec("recovered", NULL, "2026-11-26T08:05:00.900Z", &r) == SS_OK);
	CHECK(failed_with(rec("recovered", NULL, "2026-11-26T08:05:01Z", &r), "occurred_at",
	                  "occurred_at is in the future"));
	/* an offset is a time like any other: 16:05:00+08:00 is 08:05:00Z */
	CHECK(rec("recovered", NULL, "2026-11-26T16:05:00+08:00", &r) == SS_OK);
	CHECK(failed_with(rec("recovered", NULL, "2026-11-26T16:05:01+08:00", &r), "occurred_at",
	                  "occurred_at is in the future"));
	CHECK(rec("recovered", NULL, "2000-01-01T00:00:00Z", &r) == SS_OK);
}

static enum ss_err from_csv(const char *f0, const char *f1, const char *f2, const char *f3, const char *f4,
                            struct ss_record *r)
{
	const char *fields[5] = {f0, f1, f2, f3, f4};
	size_t lens[5];
	for (int i = 0; i < 5; i++)
		lens[i] = strlen(fields[i]);
	ss_err_clear();
	return ss_record_from_csv(fields, lens, "cdc", NOW, r, &arena);
}

static void test_csv_rows(void)
{
	struct ss_record r;
	CHECK(from_csv("c-1", "close_contact", "11010519491231002X", "2026-11-20T10:00:00Z", "", &r) == SS_OK);
	CHECK(r.kind == SS_RECORD_CLOSE_CONTACT);
	CHECK_STR(r.attributes, "{}");
	CHECK_STR(r.source, "cdc");
	CHECK(from_csv("c-2", "vaccination", "11010519491231002X", "2026-11-20T10:00:00Z", "{\"dose\": 2}", &r) ==
	      SS_OK);
	CHECK(r.attr.vaccination.dose == 2);
	CHECK_STR(r.attributes, "{\"dose\":2}");
	CHECK(failed_with(from_csv("c-3", "vaccination", "11010519491231002X", "2026-11-20T10:00:00Z", "", &r),
	                  "attributes.dose", "attributes.dose is missing"));
	CHECK(failed_with(from_csv("c-3", "vaccination", "11010519491231002X", "2026-11-20T10:00:00Z", "{dose:2}", &r),
	                  "attributes", "attributes: malformed JSON"));
	CHECK(failed_with(from_csv("c-3", "vaccination", "11010519491231002X", "2026-11-20T10:00:00Z", "2", &r),
	                  "attributes", "attributes must be a JSON object"));
	CHECK(failed_with(from_csv("c 3", "vaccination", "11010519491231002X", "2026-11-20T10:00:00Z", "", &r),
	                  "record_id", "record_id may hold only"));
	CHECK(failed_with(from_csv("c-3", "Vaccination", "11010519491231002X", "2026-11-20T10:00:00Z", "", &r), "kind",
	                  "kind must be one of"));
	CHECK(failed_with(from_csv("c-3", "recovered", "11010519491231002", "2026-11-20T10:00:00Z", "", &r),
	                  "id_number", "must be 18 characters"));
	CHECK(failed_with(from_csv("c-3", "recovered", "11010519491231002X", "", "", &r), "occurred_at",
	                  "occurred_at must be an RFC 3339 time"));
	CHECK(failed_with(from_csv("c-3", "recovered", "11010519491231002X", "2099-01-01T00:00:00Z", "", &r),
	                  "occurred_at", "occurred_at is in the future"));

	const char *h[] = {"record_id", "kind", "id_number", "occurred_at", "attributes"};
	size_t hl[] = {9, 4, 9, 11, 10};
	CHECK(ss_record_csv_header_ok(h, hl, 5));
	CHECK(!ss_record_csv_header_ok(h, hl, 4));
	const char *h2[] = {"record_id", "kind", "id_number", "occurred", "attributes"};
	size_t hl2[] = {9, 4, 9, 8, 10};
	CHECK(!ss_record_csv_header_ok(h2, hl2, 5));

	enum ss_records_format f;
	CHECK(ss_records_format_parse("csv", &f) && f == SS_RECORDS_CSV);
	CHECK(ss_records_format_parse("jsonl", &f) && f == SS_RECORDS_JSONL);
	CHECK(ss_records_format_parse("auto", &f) && f == SS_RECORDS_AUTO);
	CHECK(!ss_records_format_parse("json", &f));
}

/* -- over a real store -- */

static struct ss_app *open_app(void)
{
	struct ss_app *app = NULL;
	if (ss_app_open(dir, true, &app)) {
		printf("# open: %s\n", ss_err_message());
		return NULL;
	}
	return app;
}

#define MAX_BAD 64
static long bad_at[MAX_BAD];
static char bad_field[MAX_BAD][64];
static char bad_reason[MAX_BAD][256];
static int nbad;
static long long progress_calls;

static void on_bad(void *ctx, long line, const char *field, const char *reason)
{
	if (nbad < MAX_BAD) {
		bad_at[nbad] = line;
		snprintf(bad_field[nbad], sizeof(bad_field[nbad]), "%s", field ? field : "");
		snprintf(bad_reason[nbad], sizeof(bad_reason[nbad]), "%s", reason);
	}
	nbad++;
}

static void on_progress(void *ctx, long long bytes, long long rows)
{
	progress_calls++;
}

static enum ss_err import_n(struct ss_app *app, const char *text, size_t n, const char *source,
                            enum ss_records_format format, long long *rows, long long *dups)
{
	FILE *f = fmemopen((void *)text, n, "r");
	struct ss_import_report rep = {.bad_line = on_bad, .progress = on_progress};
	nbad = 0;
	enum ss_err err = ss_records_import(app, f, source, format, &rep, dups);
	*rows = rep.rows;
	CHECK(rep.errors == nbad);
	fclose(f);
	for (int i = 0; i < nbad && i < MAX_BAD; i++)
		printf("#   line %ld: %s: %s\n", bad_at[i], bad_field[i], bad_reason[i]);
	return err;
}

static enum ss_err import(struct ss_app *app, const char *text, const char *source, enum ss_records_format format,
                          long long *rows, long long *dups)
{
	return import_n(app, text, strlen(text), source, format, rows, dups);
}

struct seen {
	int n;
	char ids[8][SS_RECORD_ID_MAX + 1];
	char attrs[8][128];
	enum ss_record_kind kinds[8];
	int64_t at[8];
};

static enum ss_err collect(void *ctx, const struct ss_record *r)
{
	struct seen *s = ctx;
	if (s->n < 8) {
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", r->record_id);
		snprintf(s->attrs[s->n], sizeof(s->attrs[0]), "%s", r->attributes);
		s->kinds[s->n] = r->kind;
		s->at[s->n] = r->occurred_at;
	}
	s->n++;
	return SS_OK;
}

static int count_of(struct ss_app *app, const char *id_number, struct seen *s)
{
	uint8_t idx[SS_INDEX_LEN];
	struct ss_arena a;
	memset(s, 0, sizeof(*s));
	ss_pii_index(app, id_number, idx);
	ss_arena_init(&a);
	enum ss_err err = ss_records_of_person(app, idx, &a, collect, s);
	ss_arena_release(&a);
	CHECK(err == SS_OK);
	return s->n;
}

static void test_import_jsonl(void)
{
	struct ss_app *app = open_app();
	long long rows = -1, dups = -1;
	char p1[19], p2[19];
	struct seen s;
	char text[4096];
	if (!app)
		return;
	make_id("310115", "19800101", 11, p1); /* nobody is in the registry: records are kept all the same */
	make_id("320581", "19920229", 12, p2);
	snprintf(text, sizeof(text),
	         "\xef\xbb\xbf\n"
	         "{\"record_id\":\"j-1\",\"kind\":\"close_contact\",\"id_number\":\"%s\",\"occurred_at\":\"2026-01-"
	         "02T00:00:00Z\"}\r\n"
	         "   \n"
	         "{\"record_id\":\"j-2\",\"kind\":\"test_result\",\"id_number\":\"%s\",\"occurred_at\":\"2026-01-01T00:"
	         "00:00Z\","
	         "\"attributes\":{\"result\":\"negative\"}}\n"
	         "{\"record_id\":\"j-3\",\"kind\":\"vaccination\",\"id_number\":\"%s\",\"occurred_at\":\"2026-01-03T00:"
	         "00:00Z\","
	         "\"attributes\":{\"dose\":1}}\n"
	         /* the same record_id again, even with another content: counts once, the first wins */
	         "{\"record_id\":\"j-1\",\"kind\":\"recovered\",\"id_number\":\"%s\",\"occurred_at\":\"2026-01-02T00:"
	         "00:00Z\"}",
	         p1, p1, p2, p2);
	CHECK(import(app, text, "cdc", SS_RECORDS_AUTO, &rows, &dups) == SS_OK);
	CHECK(nbad == 0);
	CHECK(rows == 3);
	CHECK(dups == 1);
	CHECK(count_of(app, p1, &s) == 2);
	/* oldest first, typed again from what was kept */
	CHECK_STR(s.ids[0], "j-2");
	CHECK(s.kinds[0] == SS_RECORD_TEST_RESULT);
	CHECK_STR(s.attrs[0], "{\"result\":\"negative\"}");
	CHECK_STR(s.ids[1], "j-1");
	CHECK(s.kinds[1] == SS_RECORD_CLOSE_CONTACT);
	CHECK(count_of(app, p2, &s) == 1);
	CHECK_STR(s.ids[0], "j-3");

	/* again, from another source: all duplicates, nothing new */
	CHECK(import(app, text, "province:31", SS_RECORDS_JSONL, &rows, &dups) == SS_OK);
	CHECK(rows == 0 && dups == 4);
	CHECK(count_of(app, p1, &s) == 2);

	/* an empty file, or only blank lines: no records, no error */
	CHECK(import(app, "", "lab", SS_RECORDS_AUTO, &rows, &dups) == SS_OK && rows == 0 && dups == 0);
	CHECK(import(app, "\n \r\n\n", "lab", SS_RECORDS_AUTO, &rows, &dups) == SS_OK && rows == 0);
	ss_app_close(app);
}

static void test_import_csv(void)
{
	struct ss_app *app = open_app();
	long long rows = -1, dups = -1;
	char p1[19];
	struct seen s;
	char text[4096];
	if (!app)
		return;
	make_id("310104", "19751212", 21, p1);
	snprintf(text, sizeof(text),
	         "\n"
	         "record_id,kind,id_number,occurred_at,attributes\r\n"
	         "c-1,risk_area_visit,%s,2026-02-01T08:00:00+08:00,\"{\"\"area\"\":\"\"310104\"\",\"\"level\"\":"
	         "\"\"high\"\"}\"\r\n"
	         "c-2,quarantine_start,%s,2026-02-02T00:00:00Z,\r\n"
	         "\n"
	         "\"c-3\",health_declaration,%s,2026-02-03T00:00:00Z,\"{\"\"temperature\"\": 37.5,\n "
	         "\"\"symptoms\"\": [\"\"cough, dry\"\"]}\"\n"
	         "c-2,quarantine_end,%s,2026-02-04T00:00:00Z,{}\n",
	         p1, p1, p1, p1);
	CHECK(import(app, text, "lab", SS_RECORDS_AUTO, &rows, &dups) == SS_OK);
	CHECK(nbad == 0 && rows == 3 && dups == 1);
	CHECK(count_of(app, p1, &s) == 3);
	CHECK_STR(s.attrs[0], "{\"area\":\"310104\",\"level\":\"high\"}");
	CHECK(s.at[0] == 1769904000); /* 2026-02-01T00:00:00Z */
	CHECK(s.kinds[1] == SS_RECORD_QUARANTINE_START);
	CHECK_STR(s.attrs[2], "{\"temperature\":37.5,\"symptoms\":[\"cough, dry\"]}");

	/* bad lines of CSV: field count, quoting, the header */
	snprintf(text, sizeof(text),
	         "record_id,kind,id_number,occurred_at,attributes\n"
	         "d-1,vaccination,%s,2026-02-01T00:00:00Z,{\"dose\":2}\n" /* unquoted JSON: a quote inside a field */
	         "d-2,vaccination,%s,2026-02-01T00:00:00Z,{}, \n"
	         "d-3,recovered,%s\n"
	         "d-4,recovered,%s,2026-02-01T00:00:00Z,\n"
	         "d-5,recovered,%s,2026-02-01T00:00:00Z,\"{\n\n}\"\n" /* a field over three lines */
	         "d-6,recovered,%s,2026-02-01T00:00:00Z,\"{\"\"x\"\":1}\"\n",
	         p1, p1, p1, p1, p1, p1);
	CHECK(import(app, text, "lab", SS_RECORDS_CSV, &rows, &dups) == SS_INVALID);
	CHECK(nbad == 4 && rows == 0 && dups == 0);
	CHECK(bad_at[0] == 2 && strstr(bad_reason[0], "quote") != NULL);
	CHECK(bad_at[1] == 3 && strstr(bad_reason[1], "expected 5 fields, found 6") != NULL);
	CHECK(bad_at[2] == 4 && strstr(bad_reason[2], "expected 5 fields, found 3") != NULL);
	CHECK(bad_at[3] == 9 && !strcmp(bad_field[3], "attributes.x"));
	CHECK(count_of(app, p1, &s) == 3); /* d-4 was good, but the file was refused */

	CHECK(import(app, "id_number,kind\nx,y\n", "lab", SS_RECORDS_AUTO, &rows, &dups) == SS_INVALID);
	CHECK(nbad == 1 && bad_at[0] == 1 && strstr(bad_reason[0], "the header must be") != NULL);
	CHECK(import(app, "\n\n", "lab", SS_RECORDS_CSV, &rows, &dups) == SS_INVALID);
	CHECK(nbad == 1 && bad_at[0] == 1 && strstr(bad_reason[0], "the file is empty") != NULL);
	/* JSON Lines given as CSV is refused by its header */
	CHECK(import(app, "{\"record_id\":\"x\"}\n", "lab", SS_RECORDS_CSV, &rows, &dups) == SS_INVALID);
	CHECK(nbad == 1 && bad_at[0] == 1);
	ss_app_close(app);
}

static void test_all_or_nothing(void)
{
	struct ss_app *app = open_app();
	long long rows = -1, dups = -1;
	char ids[12][19], good[8192], all[8192];
	size_t g = 0, o = 0;
	struct seen s;
	if (!app)
		return;
	/* 10 lines; 3, 7 and 9 are bad */
	for (int line = 1; line <= 10; line++) {
		make_id("310101", "19880808", 100 + line, ids[line]);
		char text[512];
		if (line == 3)
			snprintf(text, sizeof(text),
			         "{\"record_id\":\"n-%d\",\"kind\":\"recovered\",\"id_number\":\"%.17s%c\",\"occurred_"
			         "at\":\"2026-03-01T00:00:00Z\"}\n",
			         line, ids[line], ids[line][17] == '0' ? '1' : '0'); /* a wrong check digit */
		else if (line == 7)
			snprintf(text, sizeof(text),
			         "{\"record_id\":\"n-%d\",\"kind\":\"teleported\",\"id_number\":\"%s\",\"occurred_at\":"
			         "\"2026-03-01T00:00:00Z\"}\n",
			         line, ids[line]);
		else if (line == 9)
			snprintf(text, sizeof(text),
			         "{\"record_id\":\"n-%d\",\"kind\":\"recovered\",\"id_number\":\"%s\",\"occurred_at\":"
			         "\"2099-03-01T00:00:00Z\"}\n",
			         line, ids[line]);
		else
			snprintf(text, sizeof(text),
			         "{\"record_id\":\"n-%d\",\"kind\":\"recovered\",\"id_number\":\"%s\",\"occurred_at\":"
			         "\"2026-03-01T00:00:00Z\"}\n",
			         line, ids[line]);
		o += (size_t)snprintf(all + o, sizeof(all) - o, "%s", text);
		if (line != 3 && line != 7 && line != 9)
			g += (size_t)snprintf(good + g, sizeof(good) - g, "%s", text);
	}
	CHECK(import(app, all, "lab", SS_RECORDS_AUTO, &rows, &dups) == SS_INVALID);
	CHECK(nbad == 3);
	CHECK(bad_at[0] == 3 && !strcmp(bad_field[0], "id_number"));
	CHECK(bad_at[1] == 7 && !strcmp(bad_field[1], "kind"));
	CHECK(bad_at[2] == 9 && !strcmp(bad_field[2], "occurred_at"));
	CHECK(rows == 0 && dups == 0);
	CHECK_STR(ss_err_message(), "3 bad lines: nothing was imported");
	for (int line = 1; line <= 10; line++)
		CHECK(count_of(app, ids[line], &s) == 0);
	/* nothing was kept: the good lines alone are all new */
	CHECK(import(app, good, "lab", SS_RECORDS_AUTO, &rows, &dups) == SS_OK);
	CHECK(rows == 7 && dups == 0);
	CHECK(count_of(app, ids[1], &s) == 1 && count_of(app, ids[10], &s) == 1);
	ss_app_close(app);
}

static void test_long_lines_and_dedup_put(void)
{
	struct ss_app *app = open_app();
	long long rows = -1, dups = -1;
	char p1[19];
	if (!app)
		return;
	make_id("310110", "20000101", 31, p1);
	/* a line of SS_RECORD_LINE_MAX bytes is checked (and refused for what it says); one byte more is too long */
	size_t n = 3 * (SS_RECORD_LINE_MAX + 200);
	char *text = malloc(n);
	size_t o = 0;
	char head[256];
	int hl = snprintf(head, sizeof(head),
	                  "{\"record_id\":\"L-1\",\"kind\":\"recovered\",\"id_number\":\"%s\",\"occurred_at\":"
	                  "\"2026-03-01T00:00:00Z\",\"x\":\"",
	                  p1);
	for (int k = 0; k < 2; k++) {
		size_t len = SS_RECORD_LINE_MAX + (size_t)k;
		memcpy(text + o, head, (size_t)hl);
		memset(text + o + hl, 'a', len - (size_t)hl - 2);
		memcpy(text + o + len - 2, "\"}", 2);
		o += len;
		text[o++] = '\n';
	}
	o += (size_t)snprintf(text + o, n - o,
	                      "{\"record_id\":\"L-2\",\"kind\":\"recovered\",\"id_number\":\"%s\",\"occurred_at\":"
	                      "\"2026-03-01T00:00:00Z\"}\n",
	                      p1);
	CHECK(import_n(app, text, o, "lab", SS_RECORDS_AUTO, &rows, &dups) == SS_INVALID);
	CHECK(nbad == 2);
	CHECK(bad_at[0] == 1 && !strcmp(bad_field[0], "x"));
	CHECK(bad_at[1] == 2 && strstr(bad_reason[1], "line is longer than 65536 bytes") != NULL);
	free(text);

	/* the same record put twice: the second is refused and changes nothing */
	struct ss_record r;
	struct seen s;
	char line[256];
	snprintf(line, sizeof(line),
	         "{\"record_id\":\"P-1\",\"kind\":\"inbound_travel\",\"id_number\":\"%s\","
	         "\"occurred_at\":\"2026-03-01T00:00:00Z\",\"attributes\":{\"origin\":\"Singapore\"}}",
	         p1);
	CHECK(ss_record_from_jsonl(line, strlen(line), "airline", ss_time_now(), &r, &arena) == SS_OK);
	CHECK(ss_record_put(app, &r, ss_time_now()) == SS_OK);
	CHECK(ss_record_put(app, &r, ss_time_now()) == SS_CONFLICT);
	CHECK_STR(ss_err_message(), "duplicate, ignored");
	CHECK(count_of(app, p1, &s) == 1);
	CHECK_STR(s.attrs[0], "{\"origin\":\"Singapore\"}");
	ss_app_close(app);
}

int main(void)
{
	if (!check_data_dir(dir))
		return 1;
	ss_arena_init(&arena);
	RUN(test_every_kind_accepted);
	RUN(test_attribute_rules);
	RUN(test_record_members);
	RUN(test_sources);
	RUN(test_future_tolerance);
	RUN(test_csv_rows);
	RUN(test_import_jsonl);
	RUN(test_import_csv);
	RUN(test_all_or_nothing);
	RUN(test_long_lines_and_dedup_put);
	ss_arena_release(&arena);
	if (!check_data_dir_remove(dir))
		return 1;
	return check_done();
}
