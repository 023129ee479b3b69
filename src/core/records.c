/* records: checking records from data sources, and keeping them (see records.h). */
#include "core/records.h"

#include <string.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/str.h"
#include "base/time.h"
#include "core/division.h"
#include "core/holders.h"
#include "core/pii.h"

#define EARLIEST     INT64_C(946684800)       /* 2000-01-01T00:00:00Z */
#define TEXT_MAX     1024                     /* bytes read of a member before its own rule is checked */
#define JSON_MAX     (4 * SS_RECORD_LINE_MAX) /* compact JSON of one record, as written back */
#define NAME_MAX_OUT 32                       /* the longest member name repeated in a message */

static const struct kind_info {
	const char *name;
	const char *members[4]; /* its attributes, NULL-ended */
} kinds[SS_RECORD_KINDS] = {
        [SS_RECORD_CONFIRMED_CASE] = {"confirmed_case", {NULL}},
        [SS_RECORD_SUSPECTED_CASE] = {"suspected_case", {NULL}},
        [SS_RECORD_RECOVERED] = {"recovered", {NULL}},
        [SS_RECORD_CLOSE_CONTACT] = {"close_contact", {NULL}},
        [SS_RECORD_SECONDARY_CONTACT] = {"secondary_contact", {NULL}},
        [SS_RECORD_RISK_AREA_VISIT] = {"risk_area_visit", {"area", "level", NULL}},
        [SS_RECORD_TEST_RESULT] = {"test_result", {"result", NULL}},
        [SS_RECORD_VACCINATION] = {"vaccination", {"dose", NULL}},
        [SS_RECORD_QUARANTINE_START] = {"quarantine_start", {NULL}},
        [SS_RECORD_QUARANTINE_END] = {"quarantine_end", {NULL}},
        [SS_RECORD_INBOUND_TRAVEL] = {"inbound_travel", {"origin", NULL}},
        [SS_RECORD_HEALTH_DECLARATION] = {"health_declaration", {"temperature", "symptoms", NULL}},
        [SS_RECORD_TRIP_DECLARATION] = {"trip_declaration", {"places", NULL}},
        [SS_RECORD_MANUAL_OVERRIDE] = {"manual_override", {"color", "until", "reason", NULL}},
};

static const char *const record_members[] = {"record_id", "kind", "id_number", "occurred_at", "attributes", NULL};

static const char *const plain_sources[] = {"national", "cdc",   "lab",    "airline", "railway",
                                            "self",     "staff", "appeal", "trace",   NULL};

static const char *const risk_levels[] = {[SS_RISK_LOW] = "low", [SS_RISK_MEDIUM] = "medium", [SS_RISK_HIGH] = "high"};

const char *ss_record_kind_name(enum ss_record_kind k)
{
	return (unsigned)k < SS_RECORD_KINDS ? kinds[k].name : NULL;
}

bool ss_record_kind_parse(const char *name, size_t n, enum ss_record_kind *out)
{
	for (int k = 0; k < SS_RECORD_KINDS; k++) {
		if (strlen(kinds[k].name) == n && memcmp(kinds[k].name, name, n) == 0) {
			*out = (enum ss_record_kind)k;
			return true;
		}
	}
	return false;
}

bool ss_source_is_valid(const char *s)
{
	for (size_t i = 0; plain_sources[i]; i++)
		if (!strcmp(s, plain_sources[i]))
			return true;
	if (strncmp(s, "province:", 9) != 0)
		return false;
	const char *code = s + 9;
	size_t n = strlen(code);
	if ((n != 2 && n != 6) || !ss_str_is_digits(code, n))
		return false;
	char six[7] = "000000";
	memcpy(six, code, n);
	return ss_division_is_valid(six);
}

enum ss_err ss_source_check(const char *s)
{
	if (s && ss_source_is_valid(s))
		return SS_OK;
	return ss_fail(SS_INVALID, "source",
	               "source must be national, province:<GB/T 2260 code>, cdc, lab, airline, railway, self, staff, "
	               "appeal or trace");
}

bool ss_records_format_parse(const char *name, enum ss_records_format *out)
{
	static const char *const names[] = {
	        [SS_RECORDS_AUTO] = "auto", [SS_RECORDS_CSV] = "csv", [SS_RECORDS_JSONL] = "jsonl"};
	for (int i = 0; i < 3; i++) {
		if (!strcmp(name, names[i])) {
			*out = (enum ss_records_format)i;
			return true;
		}
	}
	return false;
}

/* True if the n bytes at s are a member name that may be repeated in a message: short, plain ASCII. */
static bool plain_name(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_OUT)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
			return false;
	}
	return true;
}

/*
 * SS_INVALID if obj has a member not in known: field prefix+name (when the
 * name is plain enough to repeat) and a message saying what it is not.
 */
static enum ss_err only_members(const struct ss_json *obj, const char *const *known, const char *prefix,
                                const char *what)
{
	const char *name = ss_json_unknown_member(obj, known);
	if (!name)
		return SS_OK;
	size_t len = strlen(name);
	if (plain_name(name, len)) {
		char field[64];
		snprintf(field, sizeof(field), "%s%.*s", prefix, (int)len, name);
		return ss_fail(SS_INVALID, field, "%s is not %s", field, what);
	}
	return ss_fail(SS_INVALID, *prefix ? "attributes" : NULL, "%s has a member that is not %s",
	               *prefix ? "attributes" : "the record", what);
}

/* Re-states a getter's failure about an attribute ("dose must be ...") as one about "attributes.dose". */
static enum ss_err in_attributes(enum ss_err err)
{
	char field[64], msg[300];
	const char *f = ss_err_field();
	snprintf(field, sizeof(field), "attributes.%s", f ? f : "");
	snprintf(msg, sizeof(msg), "attributes.%s", ss_err_message());
	return ss_fail(err, field, "%s", msg);
}

static enum ss_err check_record_id(const char *s, size_t n, char out[SS_RECORD_ID_MAX + 1])
{
	if (n == 0 || n > SS_RECORD_ID_MAX)
		return ss_fail(SS_INVALID, "record_id", "record_id must be 1 to %d characters", SS_RECORD_ID_MAX);
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == ':' || c == '-'))
			return ss_fail(SS_INVALID, "record_id",
			               "record_id may hold only A-Z, a-z, 0-9, '.', '_', ':' and '-'");
	}
	memcpy(out, s, n);
	out[n] = '\0';
	return SS_OK;
}

static enum ss_err check_kind(const char *s, size_t n, enum ss_record_kind *out)
{
	if (ss_record_kind_parse(s, n, out))
		return SS_OK;
	char list[256];
	size_t o = 0;
	for (int k = 0; k < SS_RECORD_KINDS && o < sizeof(list); k++)
		o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", k ? ", " : "", kinds[k].name);
	return ss_fail(SS_INVALID, "kind", "kind must be one of %s", list);
}

/* An RFC 3339 time (NUL-terminated s) for member field. */
static enum ss_err check_time(const char *s, const char *field, int64_t *out)
{
	if (!ss_time_parse(s, out))
		return ss_fail(SS_INVALID, field, "%s must be an RFC 3339 time such as 2026-11-26T08:00:00Z", field);
	return SS_OK;
}

static enum ss_err check_occurred_at(const char *s, int64_t now, int64_t *out)
{
	enum ss_err err = check_time(s, "occurred_at", out);
	if (err)
		return err;
	if (*out < EARLIEST)
		return ss_fail(SS_INVALID, "occurred_at", "occurred_at must not be before 2000");
	if (*out > now + SS_RECORD_FUTURE_TOLERANCE)
		return ss_fail(SS_INVALID, "occurred_at", "occurred_at is in the future (more than %d s ahead)",
		               SS_RECORD_FUTURE_TOLERANCE);
	return SS_OK;
}

/* A string attribute, required; its own rules are the caller's. */
static enum ss_err attr_str(const struct ss_json *attrs, const char *key, const char **out)
{
	enum ss_err err = ss_json_get_str(attrs, key, true, TEXT_MAX, out);
	return err ? in_attributes(err) : SS_OK;
}

static bool is_division(const char *s)
{
	return s && strlen(s) == 6 && ss_str_is_digits(s, 6) && ss_division_is_valid(s);
}

static enum ss_err parse_risk_area_visit(const struct ss_json *attrs, struct ss_record *r, struct ss_jw *w)
{
	const char *area, *level;
	enum ss_err err;

	if ((err = attr_str(attrs, "area", &area)))
		return err;
	if (!is_division(area))
		return ss_fail(SS_INVALID, "attributes.area",
		               "attributes.area must be a 6-digit GB/T 2260 division code");
	if ((err = attr_str(attrs, "level", &level)))
		return err;
	int l = 0;
	while (l < 3 && strcmp(level, risk_levels[l]) != 0)
		l++;
	if (l == 3)
		return ss_fail(SS_INVALID, "attributes.level", "attributes.level must be high, medium or low");
	memcpy(r->attr.risk_area_visit.area, area, 7);
	r->attr.risk_area_visit.level = (enum ss_risk_level)l;
	ss_jw_kstr(w, "area", area);
	ss_jw_kstr(w, "level", risk_levels[l]);
	return SS_OK;
}

static enum ss_err parse_test_result(const struct ss_json *attrs, struct ss_record *r, struct ss_jw *w)
{
	const char *result;
	enum ss_err err = attr_str(attrs, "result", &result);
	if (err)
		return err;
	if (strcmp(result, "positive") != 0 && strcmp(result, "negative") != 0)
		return ss_fail(SS_INVALID, "attributes.result", "attributes.result must be positive or negative");
	r->attr.test_result.positive = result[0] == 'p';
	ss_jw_kstr(w, "result", result);
	return SS_OK;
}

static enum ss_err parse_vaccination(const struct ss_json *attrs, struct ss_record *r, struct ss_jw *w)
{
	int64_t dose;
	enum ss_err err = ss_json_get_int(attrs, "dose", true, 1, 10, &dose, NULL);
	if (err)
		return in_attributes(err);
	r->attr.vaccination.dose = (int)dose;
	ss_jw_kint(w, "dose", dose);
	return SS_OK;
}

static enum ss_err parse_inbound_travel(const struct ss_json *attrs, struct ss_record *r, struct ss_jw *w,
                                        struct ss_arena *a)
{
	const char *origin;
	enum ss_err err = attr_str(attrs, "origin", &origin);
	if (err)
		return err;
	size_t n = strlen(origin);
	if (n == 0 || n > SS_RECORD_ORIGIN_MAX)
		return ss_fail(SS_INVALID, "attributes.origin", "attributes.origin must be 1 to %d bytes",
		               SS_RECORD_ORIGIN_MAX);
	r->attr.inbound_travel.origin = ss_arena_strndup(a, origin, n);
	ss_jw_kstr(w, "origin", origin);
	return SS_OK;
}

static enum ss_err parse_health_declaration(const struct ss_json *attrs, struct ss_record *r, struct ss_jw *w,
                                            struct ss_arena *a)
{
	double t;
	const struct ss_json *arr;
	enum ss_err err;

	if ((err = ss_json_get_num(attrs, "temperature", true, 30, 45, &t, NULL)) ||
	    (err = ss_json_get_arr(attrs, "symptoms", true, SS_RECORD_SYMPTOMS_MAX, &arr)))
		return in_attributes(err);
	size_t n = ss_json_arr_len(arr);
	const char **list = ss_arena_alloc(a, (n ? n : 1) * sizeof(*list));
	for (size_t i = 0; i < n; i++) {
		const char *s = ss_json_as_str(ss_json_arr_at(arr, i));
		size_t len = s ? strlen(s) : 0;
		if (len == 0 || len > SS_RECORD_SYMPTOM_MAX || !ss_utf8_is_clean_text(s, len))
			return ss_fail(SS_INVALID, "attributes.symptoms",
			               "attributes.symptoms must be texts of 1 to %d bytes without control characters",
			               SS_RECORD_SYMPTOM_MAX);
		list[i] = ss_arena_strndup(a, s, len);
	}
	r->attr.health_declaration.temperature = t;
	r->attr.health_declaration.nsymptoms = n;
	r->attr.health_declaration.symptoms = list;
	ss_jw_key(w, "temperature");
	ss_jw_num(w, t);
	ss_jw_key(w, "symptoms");
	ss_jw_arr_begin(w);
	for (size_t i = 0; i < n; i++)
		ss_jw_str(w, list[i]);
	ss_jw_arr_end(w);
	return SS_OK;
}

static enum ss_err parse_trip_declaration(const struct ss_json *attrs, struct ss_record *r, struct ss_jw *w,
                                          struct ss_arena *a)
{
	const struct ss_json *arr;
	enum ss_err err = ss_json_get_arr(attrs, "places", true, SS_RECORD_PLACES_MAX, &arr);
	if (err)
		return in_attributes(err);
	size_t n = ss_json_arr_len(arr);
	if (n == 0)
		return ss_fail(SS_INVALID, "attributes.places", "attributes.places must have at least 1 element");
	const char **list = ss_arena_alloc(a, n * sizeof(*list));
	for (size_t i = 0; i < n; i++) {
		const char *s = ss_json_as_str(ss_json_arr_at(arr, i));
		if (!is_division(s))
			return ss_fail(SS_INVALID, "attributes.places",
			               "attributes.places must be 6-digit GB/T 2260 division codes");
		list[i] = ss_arena_strndup(a, s, 6);
	}
	r->attr.trip_declaration.nplaces = n;
	r->attr.trip_declaration.places = list;
	ss_jw_key(w, "places");
	ss_jw_arr_begin(w);
	for (size_t i = 0; i < n; i++)
		ss_jw_str(w, list[i]);
	ss_jw_arr_end(w);
	return SS_OK;
}

static enum ss_err parse_manual_override(const struct ss_json *attrs, struct ss_record *r, struct ss_jw *w,
                                         struct ss_arena *a)
{
	const char *color, *until, *reason = NULL;
	int c;
	int64_t t;
	enum ss_err err;

	if ((err = attr_str(attrs, "color", &color)))
		return err;
	if (!ss_color_parse(color, &c))
		return ss_fail(SS_INVALID, "attributes.color", "attributes.color must be green, yellow or red");
	if ((err = attr_str(attrs, "until", &until)) || (err = check_time(until, "attributes.until", &t)))
		return err;
	if (t <= r->occurred_at)
		return ss_fail(SS_INVALID, "attributes.until", "attributes.until must be after occurred_at");
	r->attr.manual_override.color = c;
	r->attr.manual_override.until = t;
	ss_jw_kstr(w, "color", ss_color_name(c));
	ss_jw_ktime(w, "until", t);
	if ((err = ss_json_get_str(attrs, "reason", false, SS_RECORD_REASON_MAX, &reason)))
		return in_attributes(err);
	if (reason) {
		size_t n = strlen(reason);
		if (n == 0 || !ss_utf8_is_clean_text(reason, n))
			return ss_fail(SS_INVALID, "attributes.reason",
			               "attributes.reason must be 1 to %d bytes of text", SS_RECORD_REASON_MAX);
		r->attr.manual_override.reason = ss_arena_strdup(a, reason);
		ss_jw_kstr(w, "reason", reason);
	}
	return SS_OK;
}

/*
 * Checks the attributes (NULL: none given, the same as {}) of r's kind, which
 * r->kind and r->occurred_at already hold, and fills r's typed attributes and
 * canonical text.
 */
static enum ss_err parse_attributes(const struct ss_json *attrs, struct ss_record *r, struct ss_arena *a)
{
	struct ss_buf text;
	struct ss_jw w;
	char what[64];
	enum ss_err err = SS_OK;

	snprintf(what, sizeof(what), "an attribute of %s", kinds[r->kind].name);
	if (attrs && (err = only_members(attrs, kinds[r->kind].members, "attributes.", what)))
		return err;
	memset(&r->attr, 0, sizeof(r->attr));
	ss_buf_init(&text, JSON_MAX);
	ss_jw_init(&w, &text);
	ss_jw_obj_begin(&w);
	switch (r->kind) {
	case SS_RECORD_RISK_AREA_VISIT:
		err = parse_risk_area_visit(attrs, r, &w);
		break;
	case SS_RECORD_TEST_RESULT:
		err = parse_test_result(attrs, r, &w);
		break;
	case SS_RECORD_VACCINATION:
		err = parse_vaccination(attrs, r, &w);
		break;
	case SS_RECORD_INBOUND_TRAVEL:
		err = parse_inbound_travel(attrs, r, &w, a);
		break;
	case SS_RECORD_HEALTH_DECLARATION:
		err = parse_health_declaration(attrs, r, &w, a);
		break;
	case SS_RECORD_TRIP_DECLARATION:
		err = parse_trip_declaration(attrs, r, &w, a);
		break;
	case SS_RECORD_MANUAL_OVERRIDE:
		err = parse_manual_override(attrs, r, &w, a);
		break;
	default: /* the kinds without attributes */
		break;
	}
	ss_jw_obj_end(&w);
	if (!err && (err = ss_jw_finish(&w)))
		err = ss_fail(SS_INVALID, "attributes", "attributes is too large");
	if (!err) {
		r->attributes = ss_arena_strndup(a, text.ptr, text.len);
		r->attributes_len = text.len;
	}
	ss_buf_release(&text);
	return err;
}

enum ss_err ss_record_from_json(const struct ss_json *obj, const char *source, int64_t now, struct ss_record *out,
                                struct ss_arena *a)
{
	struct ss_record r;
	const char *s;
	const struct ss_json *attrs;
	enum ss_err err;

	memset(&r, 0, sizeof(r));
	if ((err = ss_source_check(source)))
		return err;
	if (!ss_json_is_obj(obj))
		return ss_fail(SS_INVALID, NULL, "a record must be a JSON object");
	if ((err = only_members(obj, record_members, "", "a member of a record")))
		return err;
	if ((err = ss_json_get_str(obj, "record_id", true, TEXT_MAX, &s)) ||
	    (err = check_record_id(s, strlen(s), r.record_id)))
		return err;
	if ((err = ss_json_get_str(obj, "kind", true, TEXT_MAX, &s)) || (err = check_kind(s, strlen(s), &r.kind)))
		return err;
	if ((err = ss_json_get_str(obj, "id_number", true, TEXT_MAX, &s)) ||
	    (err = ss_idcard_parse(s, strlen(s), now, &r.id)))
		return err;
	if ((err = ss_json_get_str(obj, "occurred_at", true, TEXT_MAX, &s)) ||
	    (err = check_occurred_at(s, now, &r.occurred_at)))
		return err;
	if ((err = ss_json_get_obj(obj, "attributes", false, &attrs)) || (err = parse_attributes(attrs, &r, a)))
		return err;
	snprintf(r.source, sizeof(r.source), "%s", source);
	*out = r;
	return SS_OK;
}

enum ss_err ss_record_from_jsonl(const char *text, size_t n, const char *source, int64_t now, struct ss_record *out,
                                 struct ss_arena *a)
{
	struct ss_json *obj = NULL;
	enum ss_err err;

	if ((err = ss_source_check(source)))
		return err;
	if (n > SS_RECORD_LINE_MAX)
		return ss_fail(SS_TOO_BIG, NULL, "a record must be at most %d bytes", SS_RECORD_LINE_MAX);
	if ((err = ss_json_parse(text, n, &obj))) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s", ss_err_message());
		if (strstr(msg, "must be a JSON object"))
			return ss_fail(SS_INVALID, NULL, "a record must be a JSON object");
		/* the text is one line: "at line 1 column 6" would contradict the line number the caller reports */
		char *at = strstr(msg, " at line 1 column ");
		if (at)
			return ss_fail(err, NULL, "%.*s at column %s", (int)(at - msg), msg,
			               at + strlen(" at line 1 column "));
		return err;
	}
	err = ss_record_from_json(obj, source, now, out, a);
	ss_json_free(obj);
	return err;
}

enum ss_err ss_record_from_csv(const char *const fields[5], const size_t lens[5], const char *source, int64_t now,
                               struct ss_record *out, struct ss_arena *a)
{
	struct ss_record r;
	struct ss_json *attrs = NULL;
	enum ss_err err;

	memset(&r, 0, sizeof(r));
	if ((err = ss_source_check(source)) || (err = check_record_id(fields[0], lens[0], r.record_id)) ||
	    (err = check_kind(fields[1], lens[1], &r.kind)) ||
	    (err = ss_idcard_parse(fields[2], lens[2], now, &r.id)) ||
	    (err = check_occurred_at(fields[3], now, &r.occurred_at)))
		return err;
	if (lens[4] && (err = ss_json_parse(fields[4], lens[4], &attrs))) {
		char msg[256];
		snprintf(msg, sizeof(msg), "%s", ss_err_message());
		if (strstr(msg, "must be a JSON object"))
			return ss_fail(SS_INVALID, "attributes", "attributes must be a JSON object");
		return ss_fail(SS_INVALID, "attributes", "attributes: %s", msg);
	}
	err = parse_attributes(attrs, &r, a);
	ss_json_free(attrs);
	if (err)
		return err;
	snprintf(r.source, sizeof(r.source), "%s", source);
	*out = r;
	return SS_OK;
}

enum ss_err ss_record_build(const char *record_id, const char *source, enum ss_record_kind kind, const char *id_number,
                            int64_t occurred_at, const char *attributes, int64_t now, struct ss_record *out,
                            struct ss_arena *a)
{
	struct ss_buf b;
	struct ss_jw w;
	struct ss_json *obj = NULL;
	enum ss_err err;

	if (!ss_record_kind_name(kind))
		return ss_fail(SS_INVALID, "kind", "no such kind of record");
	ss_buf_init(&b, JSON_MAX);
	ss_jw_init(&w, &b);
	ss_jw_obj_begin(&w);
	ss_jw_kstr(&w, "record_id", record_id);
	ss_jw_kstr(&w, "kind", kinds[kind].name);
	ss_jw_kstr(&w, "id_number", id_number);
	ss_jw_ktime(&w, "occurred_at", occurred_at);
	ss_jw_key(&w, "attributes");
	ss_jw_raw(&w, attributes, strlen(attributes));
	ss_jw_obj_end(&w);
	if ((err = ss_jw_finish(&w)))
		err = ss_fail(SS_INVALID, "attributes", "attributes is too large");
	else if (!(err = ss_json_parse(b.ptr, b.len, &obj)))
		err = ss_record_from_json(obj, source, now, out, a);
	ss_json_free(obj);
	ss_buf_release(&b);
	return err;
}

bool ss_record_csv_header_ok(const char *const fields[], const size_t lens[], size_t n)
{
	if (n != 5)
		return false;
	for (size_t i = 0; i < 5; i++)
		if (strlen(record_members[i]) != lens[i] || memcmp(record_members[i], fields[i], lens[i]) != 0)
			return false;
	return true;
}

enum ss_err ss_record_put(struct ss_app *app, const struct ss_record *r, int64_t received_at)
{
	struct ss_record_row row = {
	        .kind = kinds[r->kind].name,
	        .source = r->source,
	        .occurred_at = r->occurred_at,
	        .received_at = received_at,
	};
	const char *fields[] = {r->record_id, r->id.number, r->attributes};
	struct ss_arena a;

	ss_keyring_blind(app->keys, "record_id", r->record_id, strlen(r->record_id), row.record_key);
	ss_pii_index(app, r->id.number, row.idx);
	ss_arena_init(&a);
	enum ss_err err = ss_pii_seal(app, "record", fields, 3, &a, &row.sealed);
	if (!err)
		err = app->store->ops->record_put(app->store, &row, NULL);
	ss_arena_release(&a);
	return err;
}

struct of_person {
	struct ss_app *app;
	struct ss_arena *a;
	enum ss_err (*fn)(void *ctx, const struct ss_record *r);
	void *ctx;
};

/* Opens and re-types one stored record. */
static enum ss_err open_row(void *ctx, const struct ss_record_row *row)
{
	struct of_person *op = ctx;
	const char *fields[3];
	struct ss_record r;
	struct ss_json *attrs = NULL;
	enum ss_err err;

	memset(&r, 0, sizeof(r));
	if ((err = ss_pii_open(op->app, "record", row->sealed, op->a, fields, 3)))
		return err;
	r.occurred_at = row->occurred_at;
	if (!ss_record_kind_parse(row->kind, strlen(row->kind), &r.kind) ||
	    check_record_id(fields[0], strlen(fields[0]), r.record_id) ||
	    ss_idcard_parse(fields[1], strlen(fields[1]), ss_time_now(), &r.id) ||
	    ss_json_parse(fields[2], strlen(fields[2]), &attrs) || parse_attributes(attrs, &r, op->a)) {
		ss_json_free(attrs);
		ss_log_error("record_unreadable", "record_seq=%lld", (long long)row->record_seq);
		return ss_fail(SS_INTERNAL, NULL, "a stored record cannot be read");
	}
	ss_json_free(attrs);
	snprintf(r.source, sizeof(r.source), "%s", row->source);
	return op->fn(op->ctx, &r);
}

enum ss_err ss_records_of_person(struct ss_app *app, const uint8_t idx[SS_INDEX_LEN], struct ss_arena *a,
                                 enum ss_err (*fn)(void *ctx, const struct ss_record *r), void *ctx)
{
	struct of_person op = {app, a, fn, ctx};
	return app->store->ops->records_of_person(app->store, idx, a, open_row, &op);
}
