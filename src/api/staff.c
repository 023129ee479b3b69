/*
 * staff: the staff endpoints (api.md "Staff"): who am I, creating staff and terminals, colours by hand, rules diff,
 * applying rules (a job: core/rulejob.h), tracing companions.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "core/alerts.h"
#include "core/assign.h"
#include "core/audit.h"
#include "core/division.h"
#include "core/holders.h"
#include "core/records.h"
#include "core/rulejob.h"
#include "core/rules.h"
#include "core/status.h"
#include "core/terminal.h"
#include "core/trace.h"

#define SMALL_BODY        (8 * 1024)    /* a form of a few short members */
#define RULES_BODY        (1024 * 1024) /* a rule file's text, escaped in JSON */
#define RULES_ERRORS_LIST 100           /* parse errors listed in a refusal */
#define RULES_ERRORS_MAX  (64 * 1024)

static enum ss_err staff_me(struct ss_api_call *c)
{
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "staff_id", c->staff.staff_id);
	ss_jw_kstr(&c->w, "name", c->staff.name);
	ss_jw_kstr(&c->w, "role", ss_role_name(c->staff.role));
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

static enum ss_err staff_create(struct ss_api_call *c)
{
	const char *name, *role;
	int64_t id;
	char token[65];
	enum ss_err err;

	if ((err = ss_json_get_str(c->body, "name", true, 64, &name)) ||
	    (err = ss_json_get_str(c->body, "role", true, 32, &role)) ||
	    (err = ss_staff_create(c->app, name, role, &id, token)))
		return err;
	c->resp->status = 201;
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "staff_id", id);
	ss_jw_kstr(&c->w, "token", token);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

static enum ss_err terminals_create(struct ss_api_call *c)
{
	const char *org, *place, *scene, *division;
	int64_t id;
	char secret[65];
	enum ss_err err;

	if ((err = ss_json_get_str(c->body, "org", true, SS_ORG_MAX, &org)) ||
	    (err = ss_json_get_str(c->body, "place", true, SS_PLACE_MAX, &place)) ||
	    (err = ss_json_get_str(c->body, "scene", true, 32, &scene)) ||
	    (err = ss_json_get_str(c->body, "division", false, 6, &division)) ||
	    (err = ss_terminal_create(c->app, org, place, scene, division, c->staff.staff_id, &id, secret)))
		return err;
	c->resp->status = 201;
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "terminal_id", id);
	ss_jw_kstr(&c->w, "secret", secret);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

/* POST /v1/staff/status: a colour set by hand, as a manual_override record (core/status.h). */
static enum ss_err status_set(struct ss_api_call *c)
{
	struct ss_status_by_hand h = {.staff_id = c->staff.staff_id};
	const char *until = NULL;
	int64_t now = ss_time_now();
	enum ss_err err;

	if ((err = ss_json_get_str(c->body, "id_number", true, 32, &h.id_number)) ||
	    (err = ss_json_get_str(c->body, "color", true, 16, &h.color)) ||
	    (err = ss_json_get_str(c->body, "reason", true, SS_RECORD_REASON_MAX, &h.reason)) ||
	    (err = ss_json_get_str(c->body, "until", false, 64, &until)))
		return err;
	if (until && !ss_time_parse(until, &h.until))
		return ss_fail(SS_INVALID, "until", "until must be an RFC 3339 time such as 2026-11-26T08:00:00Z");
	if ((err = ss_status_set_by_hand(c->app, &h, now)))
		return err;
	c->audit.subject = h.person_id;
	c->audit.detail =
	        ss_arena_printf(c->req->arena, "{\"color\":\"%s\",\"until\":%lld}", h.color, (long long)h.until);
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "color", h.color);
	ss_jw_ktime(&c->w, "until", h.until);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

/* The "errors" list of a refused rule file: [{"line","message"}], the first RULES_ERRORS_LIST of them. */
struct rule_errors {
	struct ss_buf buf;
	struct ss_jw w;
	int n;
};

static void on_rule_error(void *ctx, long line, const char *message)
{
	struct rule_errors *l = ctx;
	if (l->n++ >= RULES_ERRORS_LIST)
		return;
	ss_jw_obj_begin(&l->w);
	ss_jw_kint(&l->w, "line", line);
	ss_jw_kstr(&l->w, "message", message);
	ss_jw_obj_end(&l->w);
}

static void changes_json(struct ss_jw *w, const int64_t changes[3][3])
{
	ss_jw_arr_begin(w);
	for (int from = 0; from < 3; from++)
		for (int to = 0; to < 3; to++)
			if (from != to && changes[from][to]) {
				ss_jw_obj_begin(w);
				ss_jw_kstr(w, "from", ss_color_name(from));
				ss_jw_kstr(w, "to", ss_color_name(to));
				ss_jw_kint(w, "count", changes[from][to]);
				ss_jw_obj_end(w);
			}
	ss_jw_arr_end(w);
}

static void district_json(struct ss_jw *w, const struct ss_rules_district *e, bool other)
{
	const char *name = other ? NULL : ss_division_name(e->division);
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "division", other ? "other" : e->division);
	if (name)
		ss_jw_kstr(w, "name", name);
	ss_jw_key(w, "changes");
	changes_json(w, e->changes);
	ss_jw_obj_end(w);
}

/* The "changes" and "by_district" members of a diff or a rule job. */
static void moves_json(struct ss_jw *w, const struct ss_rules_diff *d)
{
	ss_jw_key(w, "changes");
	changes_json(w, d->changes);
	ss_jw_key(w, "by_district");
	ss_jw_arr_begin(w);
	for (size_t i = 0; i < d->ndistricts; i++)
		district_json(w, &d->districts[i], false);
	if (d->has_other)
		district_json(w, &d->other, true);
	ss_jw_arr_end(w);
}

/*
 * The body's "rules" text and the rule set it parses to (*rs, the caller's);
 * a file that does not parse is refused with every error listed by line.
 */
static enum ss_err body_rules(struct ss_api_call *c, const char **text, size_t *n, struct ss_ruleset **rs)
{
	struct rule_errors bad = {.n = 0};
	enum ss_err err = ss_json_get_text(c->body, "rules", true, SS_RULES_MAX_FILE, text, n);
	if (err)
		return err;
	ss_buf_init(&bad.buf, RULES_ERRORS_MAX);
	ss_jw_init(&bad.w, &bad.buf);
	ss_jw_arr_begin(&bad.w);
	err = ss_rules_parse(*text, *n, rs, on_rule_error, &bad);
	ss_jw_arr_end(&bad.w);
	if (err) {
		if (bad.n && ss_jw_finish(&bad.w) == SS_OK)
			c->errors = ss_arena_strdup(c->req->arena, ss_buf_str(&bad.buf));
		err = ss_fail(err == SS_TOO_BIG ? SS_TOO_BIG : SS_INVALID, "rules", "the rule file has %d error%s",
		              bad.n ? bad.n : 1, bad.n == 1 ? "" : "s");
	}
	ss_buf_release(&bad.buf);
	return err;
}

static enum ss_err rules_diff(struct ss_api_call *c)
{
	const char *text;
	size_t n;
	struct ss_ruleset *rs = NULL;
	struct ss_rules_diff *d = NULL;
	enum ss_err err;

	if ((err = body_rules(c, &text, &n, &rs)))
		return err;
	d = ss_malloc(sizeof(*d));
	if ((err = ss_assign_diff(c->app, rs, ss_time_now(), d)))
		goto out;
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "version", ss_rules_version(rs));
	ss_jw_kint(&c->w, "people", d->people);
	moves_json(&c->w, d);
	ss_jw_obj_end(&c->w);
out:
	free(d);
	ss_rules_free(rs);
	return err;
}

/*
 * GET /v1/staff/rules: the rule set this server judges by (the store's active
 * one once the server has followed it: at its next housekeeping or SIGHUP).
 */
static enum ss_err rules_get(struct ss_api_call *c)
{
	struct ss_ruleset *rs;
	enum ss_err err = ss_assign_rules(c->app, &rs);
	if (err)
		return err;
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "version", ss_rules_version(rs));
	ss_jw_kstr(&c->w, "rules", ss_rules_text(rs));
	ss_jw_obj_end(&c->w);
	ss_rules_free(rs);
	return SS_OK;
}

/* A rule job as the endpoints below answer it (api.md "POST /v1/staff/rules/apply"). */
static void job_json(struct ss_jw *w, const struct ss_rulejob *j)
{
	ss_jw_obj_begin(w);
	ss_jw_kint(w, "job_id", j->job_id);
	ss_jw_kstr(w, "state", ss_rulejob_state_name(j->state));
	ss_jw_kstr(w, "version", j->version);
	ss_jw_kint(w, "started_by", j->started_by);
	ss_jw_ktime(w, "started_at", j->started_at);
	ss_jw_key(w, "finished_at");
	if (j->finished_at)
		ss_jw_time(w, j->finished_at);
	else
		ss_jw_null(w);
	ss_jw_key(w, "people_total");
	if (j->people_total >= 0)
		ss_jw_int(w, j->people_total);
	else
		ss_jw_null(w);
	ss_jw_kint(w, "people_done", j->people_done);
	ss_jw_kint(w, "changed", j->changed);
	moves_json(w, &j->moves);
	if (j->state == SS_RULEJOB_FAILED)
		ss_jw_kstr(w, "error", j->error);
	ss_jw_obj_end(w);
}

/* The job job_id (0: the newest) as the answer, never cached: it moves. */
static enum ss_err answer_job(struct ss_api_call *c, int64_t job_id)
{
	struct ss_rulejob *j = ss_malloc(sizeof(*j));
	enum ss_err err = ss_rulejob_get(c->app, job_id, j);
	if (!err) {
		ss_api_cache(c, 0);
		job_json(&c->w, j);
	}
	free(j);
	return err;
}

/*
 * POST /v1/staff/rules/apply: makes the body's rule set the active one and
 * starts re-evaluating everyone with records on the job thread
 * (core/rulejob.h); answers 202 with the job at once. One job at a time.
 */
static enum ss_err rules_apply(struct ss_api_call *c)
{
	const char *text;
	size_t n;
	struct ss_ruleset *rs = NULL;
	int64_t job_id = 0;
	enum ss_err err = body_rules(c, &text, &n, &rs);
	if (!err)
		err = ss_rulejob_start(c->app, rs, c->staff.staff_id, true, &job_id);
	if (!err) {
		/* who and which version now; the counts are in the rules.apply entry the job writes when it ends */
		c->audit.detail = ss_arena_printf(c->req->arena, "{\"job_id\":%lld,\"version\":\"%s\"}",
		                                  (long long)job_id, ss_rules_version(rs));
		c->resp->status = 202;
		ss_http_resp_header(c->resp, "Location",
		                    ss_arena_printf(c->req->arena, "/v1/staff/rules/jobs/%lld", (long long)job_id));
		err = answer_job(c, job_id);
	}
	ss_rules_free(rs);
	return err;
}

/* GET /v1/staff/rules/jobs/{job_id}: a rule job, or with "latest" the newest one. */
static enum ss_err rules_job(struct ss_api_call *c)
{
	const char *id = c->params[0];
	long long job_id = 0;
	if (strcmp(id, "latest") != 0 && !(id[0] >= '0' && id[0] <= '9' && ss_str_to_ll(id, 1, INT64_MAX, &job_id)))
		return ss_fail(SS_NOT_FOUND, NULL, "no such job");
	return answer_job(c, job_id);
}

/* A time member of the body, RFC 3339, required. */
static enum ss_err body_time(const struct ss_json *body, const char *key, int64_t *out)
{
	const char *text;
	enum ss_err err = ss_json_get_str(body, key, true, 64, &text);
	if (!err && !ss_time_parse(text, out))
		err = ss_fail(SS_INVALID, key, "%s must be an RFC 3339 time such as 2026-11-26T08:00:00Z", key);
	return err;
}

/* POST /v1/staff/trace: tracing companions (core/trace.h). */
static enum ss_err trace(struct ss_api_call *c)
{
	struct ss_trace_query q = {.staff_id = c->staff.staff_id};
	struct ss_trace_result r;
	int64_t window = 0;
	enum ss_err err;

	if ((err = ss_json_get_str(c->body, "id_number", true, 32, &q.id_number)) ||
	    (err = body_time(c->body, "from", &q.from)) || (err = body_time(c->body, "to", &q.to)) ||
	    (err = ss_json_get_int(c->body, "window_minutes", false, 1, SS_TRACE_WINDOW_MAX, &window, NULL)) ||
	    (err = ss_json_get_bool(c->body, "emit", false, &q.emit, NULL)))
		return err;
	q.window_minutes = (int)window;
	err = ss_trace_run(c->app, &q, ss_time_now(), &r);
	c->audit.subject = r.case_person_id;
	c->audit.why = "trace";
	if (err)
		goto out;
	c->audit.detail = ss_arena_printf(c->req->arena, "{\"companions\":%zu,\"emitted\":%zu,\"window_minutes\":%d}",
	                                  r.ncompanions, r.emitted, r.window_minutes);
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_key(&c->w, "case");
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "name", r.case_name);
	ss_jw_kstr(&c->w, "id_number", r.case_id);
	ss_jw_kint(&c->w, "scans", (int64_t)r.case_scans);
	ss_jw_obj_end(&c->w);
	ss_jw_ktime(&c->w, "from", r.from);
	ss_jw_ktime(&c->w, "to", r.to);
	ss_jw_kint(&c->w, "window_minutes", r.window_minutes);
	ss_jw_key(&c->w, "places");
	ss_jw_arr_begin(&c->w);
	for (size_t i = 0; i < r.nplaces; i++) {
		const struct ss_trace_place *p = &r.places[i];
		ss_jw_obj_begin(&c->w);
		ss_jw_kstr(&c->w, "place", p->name);
		ss_jw_kint(&c->w, "case_scans", p->scans);
		ss_jw_ktime(&c->w, "first_at", p->first_ms / 1000);
		ss_jw_ktime(&c->w, "last_at", p->last_ms / 1000);
		ss_jw_kint(&c->w, "companions", (int64_t)p->companions);
		ss_jw_obj_end(&c->w);
	}
	ss_jw_arr_end(&c->w);
	ss_jw_kint(&c->w, "count", (int64_t)r.ncompanions);
	ss_jw_key(&c->w, "truncated");
	ss_jw_bool(&c->w, r.capped || r.case_scans_capped || r.nlisted < r.ncompanions);
	ss_jw_key(&c->w, "companions");
	ss_jw_arr_begin(&c->w);
	for (size_t i = 0; i < r.nlisted; i++) {
		const struct ss_trace_companion *m = &r.companions[i];
		const char *place = "";
		for (size_t k = 0; k < r.nplaces; k++)
			if (r.places[k].place_id == m->place_id)
				place = r.places[k].name;
		ss_jw_obj_begin(&c->w);
		ss_jw_kstr(&c->w, "name", m->name);
		ss_jw_kstr(&c->w, "id_number", m->id_number);
		ss_jw_kstr(&c->w, "division", m->division);
		ss_jw_kstr(&c->w, "place", place);
		ss_jw_ktime(&c->w, "closest_at", m->closest_ms / 1000);
		ss_jw_kint(&c->w, "gap_seconds", (m->gap_ms + 500) / 1000);
		ss_jw_ktime(&c->w, "first_at", m->first_ms / 1000);
		ss_jw_kint(&c->w, "scans", m->scans);
		ss_jw_obj_end(&c->w);
	}
	ss_jw_arr_end(&c->w);
	if (r.emitted_asked) {
		ss_jw_kint(&c->w, "emitted", (int64_t)r.emitted);
		ss_jw_kint(&c->w, "duplicates", (int64_t)r.duplicates);
	}
	ss_jw_obj_end(&c->w);
out:
	ss_trace_result_release(&r);
	return err;
}

#define AUDIT_PAGE_DEFAULT 100
#define AUDIT_PAGE_MAX     500

/* "staff" or "staff:12" into the filter's actor and actor id. */
static enum ss_err audit_actor(const char *text, struct ss_audit_filter *f)
{
	char kind[16];
	const char *colon = strchr(text, ':');
	size_t n = colon ? (size_t)(colon - text) : strlen(text);
	enum ss_actor a;
	int64_t id = 0;
	if (n >= sizeof(kind))
		n = sizeof(kind) - 1;
	memcpy(kind, text, n);
	kind[n] = '\0';
	if (!ss_actor_parse(kind, &a) || (colon && !ss_str_to_id(colon + 1, &id)))
		return ss_fail(SS_INVALID, "actor",
		               "actor must be staff, citizen, terminal, source or system, optionally with :ID");
	f->actor = ss_actor_name(a);
	f->actor_id = id;
	return SS_OK;
}

static enum ss_err audit_time(const char *text, const char *field, int64_t *ms)
{
	int64_t t;
	if (!ss_time_parse(text, &t))
		return ss_fail(SS_INVALID, field, "%s must be an RFC 3339 time such as 2026-11-26T08:00:00Z", field);
	*ms = t * 1000;
	return SS_OK;
}

/* The filter of GET /v1/staff/audit from its query (no personal data in a URL: a subject is a person id). */
static enum ss_err audit_filter_query(struct ss_api_call *c, struct ss_audit_filter *f)
{
	const char *v;
	long long n;
	enum ss_err err;
	if ((v = ss_http_query(c->req, "actor")) && (err = audit_actor(v, f)))
		return err;
	if ((v = ss_http_query(c->req, "action"))) {
		if (!*v || strlen(v) > 64)
			return ss_fail(SS_INVALID, "action", "action must be 1 to 64 characters");
		f->action = v;
	}
	if ((v = ss_http_query(c->req, "subject"))) {
		if (!ss_str_to_id(v, &f->subject))
			return ss_fail(SS_INVALID, "subject", "subject must be a person id");
	}
	if ((v = ss_http_query(c->req, "from")) && (err = audit_time(v, "from", &f->from_ms)))
		return err;
	if ((v = ss_http_query(c->req, "to")) && (err = audit_time(v, "to", &f->to_ms)))
		return err;
	if ((v = ss_http_query(c->req, "unmasked"))) {
		if (strcmp(v, "true") && strcmp(v, "false"))
			return ss_fail(SS_INVALID, "unmasked", "unmasked must be true or false");
		f->unmasked = !strcmp(v, "true");
	}
	if ((v = ss_http_query(c->req, "before"))) {
		if (!ss_str_to_id(v, &f->before))
			return ss_fail(SS_INVALID, "before", "before must be an entry number");
	}
	if ((v = ss_http_query(c->req, "limit"))) {
		if (!ss_str_to_ll(v, 1, AUDIT_PAGE_MAX, &n))
			return ss_fail(SS_INVALID, "limit", "limit must be 1 to %d", AUDIT_PAGE_MAX);
		f->limit = (int)n;
	}
	return SS_OK;
}

/* The same from the body of POST /v1/staff/audit/search, which may name the subject by ID number. */
static enum ss_err audit_filter_body(struct ss_api_call *c, struct ss_audit_filter *f)
{
	const char *v = NULL, *id_number = NULL;
	int64_t n = 0;
	bool present = false;
	enum ss_err err;
	if ((err = ss_json_get_str(c->body, "actor", false, 32, &v)) || (v && (err = audit_actor(v, f))) ||
	    (err = ss_json_get_str(c->body, "action", false, 64, &f->action)) ||
	    (err = ss_json_get_str(c->body, "id_number", false, 32, &id_number)) ||
	    (err = ss_json_get_int(c->body, "subject", false, 1, INT64_MAX, &f->subject, NULL)) ||
	    (err = ss_json_get_bool(c->body, "unmasked", false, &f->unmasked, NULL)) ||
	    (err = ss_json_get_int(c->body, "before", false, 1, INT64_MAX, &f->before, NULL)) ||
	    (err = ss_json_get_int(c->body, "limit", false, 1, AUDIT_PAGE_MAX, &n, &present)))
		return err;
	if (present)
		f->limit = (int)n;
	v = NULL;
	if ((err = ss_json_get_str(c->body, "from", false, 64, &v)) ||
	    (v && (err = audit_time(v, "from", &f->from_ms))))
		return err;
	v = NULL;
	if ((err = ss_json_get_str(c->body, "to", false, 64, &v)) || (v && (err = audit_time(v, "to", &f->to_ms))))
		return err;
	if (id_number) {
		struct ss_person_row person;
		if ((err = ss_registry_find(c->app, id_number, c->req->arena, &person)))
			return err;
		f->subject = person.person_id;
	}
	return SS_OK;
}

struct audit_page {
	struct ss_jw *w;
	int n;
	int64_t last;
};

static enum ss_err write_entry(void *ctx, const struct ss_audit_row *r)
{
	struct audit_page *p = ctx;
	struct ss_jw *w = p->w;
	ss_jw_obj_begin(w);
	ss_jw_kint(w, "seq", r->seq);
	ss_jw_ktime(w, "at", r->at_ms / 1000);
	ss_jw_key(w, "actor");
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "kind", r->actor);
	ss_jw_kint(w, "id", r->actor_id);
	if (*r->staff_role) {
		ss_jw_kstr(w, "role", r->staff_role);
		ss_jw_kstr(w, "name", r->staff_name);
	}
	if (*r->org) {
		ss_jw_kstr(w, "org", r->org);
		ss_jw_kstr(w, "place", r->place);
		ss_jw_kstr(w, "scene", r->scene);
	}
	ss_jw_obj_end(w);
	ss_jw_kstr(w, "action", r->action);
	ss_jw_key(w, "subject");
	if (r->subject)
		ss_jw_int(w, r->subject);
	else
		ss_jw_null(w);
	ss_jw_kstr(w, "why", r->why);
	ss_jw_key(w, "unmasked");
	ss_jw_bool(w, r->unmasked);
	ss_jw_key(w, "detail");
	ss_jw_raw(w, r->detail, strlen(r->detail));
	ss_jw_obj_end(w);
	p->n++;
	p->last = r->seq;
	return SS_OK;
}

/* GET /v1/staff/audit and POST /v1/staff/audit/search (security): the audit log, newest first, a page at a time. */
static enum ss_err audit_search(struct ss_api_call *c)
{
	struct ss_audit_filter f = {.limit = AUDIT_PAGE_DEFAULT};
	enum ss_err err = c->body ? audit_filter_body(c, &f) : audit_filter_query(c, &f);
	if (err)
		return err;
	if (f.from_ms && f.to_ms && f.from_ms > f.to_ms)
		return ss_fail(SS_INVALID, "from", "from must not be after to");
	c->audit.subject = f.subject;
	c->audit.why = "audit";
	struct audit_page p = {.w = &c->w};
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_key(&c->w, "entries");
	ss_jw_arr_begin(&c->w);
	err = c->app->store->ops->audit_query(c->app->store, &f, c->req->arena, write_entry, &p);
	ss_jw_arr_end(&c->w);
	ss_jw_key(&c->w, "next_before"); /* the next page: ?before=next_before */
	if (p.n == f.limit && p.last > 1)
		ss_jw_int(&c->w, p.last);
	else
		ss_jw_null(&c->w);
	ss_jw_obj_end(&c->w);
	return err;
}

#define ALERTS_PAGE_DEFAULT 100
#define ALERTS_PAGE_MAX     500
#define ALERTS_AUDIT_PEOPLE 256 /* people named in a read's audit entry, at most (its alert ids bound the rest) */

struct alert_page {
	struct ss_jw *w;
	int n;
	int64_t first, last;
	int64_t people[ALERTS_AUDIT_PEOPLE];
	size_t npeople;
};

/* A person an alert names, masked, and remembered for the read's audit entry. */
static void write_alert_person(struct alert_page *p, const char *key, int64_t person_id,
                               const struct ss_alert_person *who)
{
	if (!person_id)
		return;
	size_t i = 0;
	while (i < p->npeople && p->people[i] != person_id)
		i++;
	if (i == p->npeople && p->npeople < ALERTS_AUDIT_PEOPLE)
		p->people[p->npeople++] = person_id;
	ss_jw_key(p->w, key);
	if (!who->known) {
		ss_jw_null(p->w);
		return;
	}
	ss_jw_obj_begin(p->w);
	ss_jw_kstr(p->w, "name", who->name);
	ss_jw_kstr(p->w, "id_number", who->id_number);
	ss_jw_obj_end(p->w);
}

static enum ss_err write_alert(void *ctx, const struct ss_alert_view *v)
{
	struct alert_page *p = ctx;
	struct ss_jw *w = p->w;
	const struct ss_alert_row *r = v->row;
	ss_jw_obj_begin(w);
	ss_jw_kint(w, "alert_id", r->alert_id);
	ss_jw_kstr(w, "kind", r->kind);
	ss_jw_ktime(w, "raised_at", r->raised_at_ms / 1000);
	ss_jw_kstr(w, "subject", r->subject);
	ss_jw_key(w, "detail");
	ss_jw_raw(w, r->detail, strlen(r->detail));
	write_alert_person(p, "person", r->person_id, &v->person);
	write_alert_person(p, "presenter", r->presenter_id, &v->presenter);
	ss_jw_key(w, "places");
	ss_jw_arr_begin(w);
	for (int i = 0; i < 2; i++)
		if (r->place_id[i]) {
			ss_jw_obj_begin(w);
			ss_jw_kint(w, "place_id", r->place_id[i]);
			ss_jw_kstr(w, "org", r->org[i]);
			ss_jw_kstr(w, "place", r->place[i]);
			ss_jw_obj_end(w);
		}
	ss_jw_arr_end(w);
	if (r->staff_id) {
		ss_jw_key(w, "staff");
		ss_jw_obj_begin(w);
		ss_jw_kint(w, "staff_id", r->staff_id);
		ss_jw_kstr(w, "name", r->staff_name);
		ss_jw_kstr(w, "role", r->staff_role);
		ss_jw_obj_end(w);
	}
	ss_jw_key(w, "acknowledged");
	if (r->acknowledged_by) {
		ss_jw_obj_begin(w);
		ss_jw_kint(w, "by", r->acknowledged_by);
		ss_jw_kstr(w, "name", r->acknowledged_name);
		ss_jw_ktime(w, "at", r->acknowledged_at_ms / 1000);
		ss_jw_obj_end(w);
	} else {
		ss_jw_null(w);
	}
	ss_jw_obj_end(w);
	if (!p->n++)
		p->first = r->alert_id;
	p->last = r->alert_id;
	return SS_OK;
}

/* What a read of alerts showed, for its audit entry: which alerts, and the people they named (masked). */
static const char *alerts_audit_detail(struct ss_api_call *c, const struct alert_page *p)
{
	size_t cap = 96 + 21 * p->npeople, n;
	char *text = ss_arena_alloc(c->req->arena, cap);
	n = (size_t)snprintf(text, cap, "{\"alerts\":%d,\"alert_ids\":[", p->n);
	if (p->n)
		n += (size_t)snprintf(text + n, cap - n, "%lld,%lld", (long long)p->first, (long long)p->last);
	n += (size_t)snprintf(text + n, cap - n, "],\"people\":[");
	for (size_t i = 0; i < p->npeople; i++)
		n += (size_t)snprintf(text + n, cap - n, "%s%lld", i ? "," : "", (long long)p->people[i]);
	snprintf(text + n, cap - n, "]}");
	return text;
}

/*
 * GET /v1/staff/alerts (security): the security alerts (core/alerts.h),
 * newest first; the watcher first catches up with the logs, so an alert
 * is here as soon as what raises it is on disk. Places and staff are named,
 * people masked; the read is audited with the people it showed.
 */
static enum ss_err alerts_list(struct ss_api_call *c)
{
	const char *v, *kind = NULL;
	long long n;
	int64_t since = 0, before = 0;
	int limit = ALERTS_PAGE_DEFAULT;
	enum ss_err err;
	if ((v = ss_http_query(c->req, "kind"))) {
		if (strcmp(v, "probing") && strcmp(v, "shared_code") && strcmp(v, "staff_reads") &&
		    strcmp(v, "login_failures"))
			return ss_fail(SS_INVALID, "kind",
			               "kind must be probing, shared_code, staff_reads or login_failures");
		kind = v;
	}
	if ((v = ss_http_query(c->req, "since")) && (err = audit_time(v, "since", &since)))
		return err;
	if ((v = ss_http_query(c->req, "before"))) {
		if (!ss_str_to_id(v, &before))
			return ss_fail(SS_INVALID, "before", "before must be an alert id");
	}
	if ((v = ss_http_query(c->req, "limit"))) {
		if (!ss_str_to_ll(v, 1, ALERTS_PAGE_MAX, &n))
			return ss_fail(SS_INVALID, "limit", "limit must be 1 to %d", ALERTS_PAGE_MAX);
		limit = (int)n;
	}
	if (c->app->alerts && (err = ss_alerts_run(c->app, c->app->alerts, ss_time_now_ms(), NULL)))
		return err;
	struct alert_page *p = ss_arena_alloc(c->req->arena, sizeof(*p));
	memset(p, 0, sizeof(*p));
	p->w = &c->w;
	c->audit.why = "alerts";
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_key(&c->w, "alerts");
	ss_jw_arr_begin(&c->w);
	err = ss_alerts_list(c->app, since, kind, before, limit, c->req->arena, write_alert, p);
	ss_jw_arr_end(&c->w);
	ss_jw_key(&c->w, "next_before");
	if (p->n == limit && p->last > 1)
		ss_jw_int(&c->w, p->last);
	else
		ss_jw_null(&c->w);
	ss_jw_obj_end(&c->w);
	c->audit.detail = alerts_audit_detail(c, p);
	return err;
}

/* POST /v1/staff/alerts/{alert_id}/ack (security): someone has looked at it. */
static enum ss_err alert_ack(struct ss_api_call *c)
{
	int64_t id;
	if (!ss_str_to_id(c->params[0], &id))
		return ss_fail(SS_NOT_FOUND, NULL, "no such alert");
	enum ss_err err = c->app->store->ops->alert_ack(c->app->store, id, c->staff.staff_id, ss_time_now_ms());
	if (err == SS_NOT_FOUND)
		return ss_fail(SS_NOT_FOUND, NULL, "no such alert");
	if (err)
		return err;
	c->audit.detail = ss_arena_printf(c->req->arena, "{\"alert_id\":%lld}", (long long)id);
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "alert_id", id);
	ss_jw_key(&c->w, "acknowledged");
	ss_jw_bool(&c->w, true);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

const struct ss_api_route ss_api_staff_routes[] = {
        {"GET", "/v1/staff/me", "GET /v1/staff/me", SS_AUTH_STAFF, SS_ROLE_ANY, 0, staff_me},
        {"POST", "/v1/staff/staff", "POST /v1/staff/staff", SS_AUTH_STAFF, SS_ROLE_ADMIN, SMALL_BODY, staff_create},
        {"POST", "/v1/staff/terminals", "POST /v1/staff/terminals", SS_AUTH_STAFF, SS_ROLE_ADMIN, SMALL_BODY,
         terminals_create},
        {"POST", "/v1/staff/status", "POST /v1/staff/status", SS_AUTH_STAFF, SS_ROLE_ADMIN, SMALL_BODY, status_set},
        {"POST", "/v1/staff/rules/diff", "POST /v1/staff/rules/diff", SS_AUTH_STAFF, SS_ROLE_ADMIN, RULES_BODY,
         rules_diff},
        {"GET", "/v1/staff/rules", "GET /v1/staff/rules", SS_AUTH_STAFF, SS_ROLE_ADMIN, 0, rules_get},
        /* answers at once: the walk is the job thread's (core/rulejob.h) */
        {"POST", "/v1/staff/rules/apply", "POST /v1/staff/rules/apply", SS_AUTH_STAFF, SS_ROLE_ADMIN, RULES_BODY,
         rules_apply},
        {"GET", "/v1/staff/rules/jobs/{job_id}", "GET /v1/staff/rules/jobs/{job_id}", SS_AUTH_STAFF, SS_ROLE_ADMIN, 0,
         rules_job},
        {"POST", "/v1/staff/trace", "POST /v1/staff/trace", SS_AUTH_STAFF, SS_ROLE_EPIDEMIOLOGIST, SMALL_BODY, trace},
        {"GET", "/v1/staff/audit", "GET /v1/staff/audit", SS_AUTH_STAFF, SS_ROLE_SECURITY, 0, audit_search},
        {"POST", "/v1/staff/audit/search", "POST /v1/staff/audit/search", SS_AUTH_STAFF, SS_ROLE_SECURITY, SMALL_BODY,
         audit_search},
        {"GET", "/v1/staff/alerts", "GET /v1/staff/alerts", SS_AUTH_STAFF, SS_ROLE_SECURITY, 0, alerts_list},
        {"POST", "/v1/staff/alerts/{alert_id}/ack", "POST /v1/staff/alerts/{alert_id}/ack", SS_AUTH_STAFF,
         SS_ROLE_SECURITY, 0, alert_ack},
        {.method = NULL},
};
