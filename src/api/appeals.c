/*
 * appeals: the appeal endpoints (docs/api.md "Appeals"): residents file and
 * follow their own, hotline operators file and look up for a caller, handlers
 * work the queue (core/appeals.h). Personal data (the ID number and name of a
 * caller) travels in bodies, never in URLs.
 */
#include "api/api.h"

#include <stdio.h>
#include <string.h>

#include "base/buf.h"
#include "base/str.h"
#include "base/time.h"
#include "core/appeals.h"
#include "core/pii.h"
#include "core/population.h"

#define APPEAL_BODY        (32 * 1024) /* a reason and details (4,200 bytes), each character possibly escaped */
#define SMALL_BODY         (8 * 1024)  /* a lookup, a check or a decision */
#define QUEUE_PAGE_DEFAULT 50

/* The {id} of the route: an appeal id, else 404 (an id that cannot exist names nothing). */
static enum ss_err param_id(struct ss_api_call *c, int64_t *id)
{
	if (!ss_str_to_id(c->params[0], id))
		return ss_fail(SS_NOT_FOUND, NULL, "no such appeal");
	return SS_OK;
}

static const char *why(struct ss_api_call *c, int64_t appeal_id)
{
	return ss_arena_printf(c->req->arena, "appeal:%lld", (long long)appeal_id);
}

/* The decision of an appeal as its person reads it: null until decided. */
static void write_decision(struct ss_jw *w, const struct ss_appeal *ap)
{
	const struct ss_appeal_row *r = &ap->row;
	ss_jw_key(w, "decision");
	if (!*r->decision) {
		ss_jw_null(w);
		return;
	}
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "decision", r->decision);
	ss_jw_kstr(w, "reason", ap->decision_reason ? ap->decision_reason : "");
	ss_jw_ktime(w, "decided_at", r->decided_at);
	if (!strcmp(r->decision, "upheld")) {
		ss_jw_kstr(w, "color", r->color);
		ss_jw_ktime(w, "until", r->until);
	}
	ss_jw_obj_end(w);
}

/* The members every view of an appeal has. */
static void write_summary(struct ss_jw *w, const struct ss_appeal_row *r)
{
	ss_jw_kint(w, "appeal_id", r->appeal_id);
	ss_jw_kstr(w, "state", r->state);
	ss_jw_kstr(w, "channel", r->channel);
	ss_jw_ktime(w, "filed_at", r->filed_at);
	ss_jw_ktime(w, "due_at", r->due_at);
}

static enum ss_err write_event(void *ctx, const struct ss_appeal_event_row *e)
{
	struct ss_jw *w = ctx;
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "action", e->action);
	if (*e->kind)
		ss_jw_kstr(w, "kind", e->kind);
	ss_jw_kstr(w, "state", e->state);
	ss_jw_ktime(w, "at", e->at);
	ss_jw_key(w, "actor");
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "kind", e->actor);
	ss_jw_kint(w, "id", e->actor_id);
	ss_jw_obj_end(w);
	ss_jw_obj_end(w);
	return SS_OK;
}

static enum ss_err write_timeline(struct ss_api_call *c, int64_t appeal_id)
{
	ss_jw_key(&c->w, "timeline");
	ss_jw_arr_begin(&c->w);
	enum ss_err err =
	        c->app->store->ops->appeal_events(c->app->store, appeal_id, c->req->arena, write_event, &c->w);
	ss_jw_arr_end(&c->w);
	return err;
}

/* The person id of the calling resident. */
static enum ss_err my_person(struct ss_api_call *c, int64_t *person_id)
{
	struct ss_citizen_row row;
	enum ss_err err = c->app->store->ops->citizen_by_id(c->app->store, c->citizen_id, c->req->arena, &row);
	if (!err)
		*person_id = row.person_id;
	return err;
}

/* POST /v1/me/appeals */
static enum ss_err my_appeal_file(struct ss_api_call *c)
{
	struct ss_appeal_filing f = {.citizen_id = c->citizen_id};
	size_t n;
	enum ss_err err;
	if ((err = ss_api_channel(c, &f.channel)) ||
	    (err = ss_json_get_str(c->body, "reason", true, SS_APPEAL_REASON_MAX, &f.reason)) ||
	    (err = ss_json_get_text(c->body, "details", true, SS_APPEAL_DETAILS_MAX, &f.details, &n)) ||
	    (err = ss_appeal_file(c->app, &f, ss_time_now())))
		return err;
	c->resp->status = 201;
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "appeal_id", f.appeal_id);
	ss_jw_kstr(&c->w, "state", "submitted");
	ss_jw_ktime(&c->w, "due_at", f.due_at);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

struct list_ctx {
	struct ss_api_call *c;
	bool staff; /* the operator's view: no text the caller wrote */
};

static enum ss_err write_listed(void *ctx, const struct ss_appeal_row *row)
{
	struct list_ctx *l = ctx;
	struct ss_jw *w = &l->c->w;
	struct ss_appeal ap;
	enum ss_err err = ss_appeal_open(l->c->app, row, l->c->req->arena, &ap);
	if (err)
		return err;
	ss_jw_obj_begin(w);
	write_summary(w, row);
	if (!l->staff)
		ss_jw_kstr(w, "reason", ap.reason);
	write_decision(w, &ap);
	ss_jw_obj_end(w);
	return SS_OK;
}

static enum ss_err list_of_person(struct ss_api_call *c, int64_t person_id, bool staff)
{
	struct list_ctx l = {.c = c, .staff = staff};
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_key(&c->w, "appeals");
	ss_jw_arr_begin(&c->w);
	enum ss_err err = c->app->store->ops->appeals_of_person(c->app->store, person_id, SS_APPEALS_OF_PERSON,
	                                                        c->req->arena, write_listed, &l);
	ss_jw_arr_end(&c->w);
	ss_jw_obj_end(&c->w);
	return err;
}

/* GET /v1/me/appeals */
static enum ss_err my_appeals(struct ss_api_call *c)
{
	int64_t person_id;
	enum ss_err err = my_person(c, &person_id);
	return err ? err : list_of_person(c, person_id, false);
}

/* GET /v1/me/appeals/{id}: one's own only; another's is not found, as one that does not exist */
static enum ss_err my_appeal(struct ss_api_call *c)
{
	int64_t id = 0, person_id = 0;
	struct ss_appeal ap;
	enum ss_err err;
	if ((err = param_id(c, &id)) || (err = my_person(c, &person_id)) ||
	    (err = ss_appeal_get(c->app, id, c->req->arena, &ap)))
		return err;
	if (ap.row.person_id != person_id)
		return ss_fail(SS_NOT_FOUND, NULL, "no such appeal");
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	write_summary(&c->w, &ap.row);
	ss_jw_kstr(&c->w, "reason", ap.reason);
	ss_jw_kstr(&c->w, "details", ap.details);
	write_decision(&c->w, &ap);
	if ((err = write_timeline(c, id)))
		return err;
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

/* POST /v1/staff/appeals (operator): an appeal filed for a caller of the hotline */
static enum ss_err staff_appeal_file(struct ss_api_call *c)
{
	struct ss_appeal_filing f = {.staff_id = c->staff.staff_id};
	size_t n;
	enum ss_err err;
	if ((err = ss_json_get_str(c->body, "id_number", true, 32, &f.id_number)) ||
	    (err = ss_json_get_str(c->body, "name", true, SS_NAME_MAX, &f.name)) ||
	    (err = ss_json_get_str(c->body, "reason", true, SS_APPEAL_REASON_MAX, &f.reason)) ||
	    (err = ss_json_get_text(c->body, "details", true, SS_APPEAL_DETAILS_MAX, &f.details, &n)))
		return err;
	err = ss_appeal_file(c->app, &f, ss_time_now());
	c->audit.subject = f.person_id;
	if (err)
		return err;
	c->audit.why = why(c, f.appeal_id);
	c->audit.detail = ss_arena_printf(c->req->arena, "{\"appeal_id\":%lld}", (long long)f.appeal_id);
	c->resp->status = 201;
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "appeal_id", f.appeal_id);
	ss_jw_kstr(&c->w, "state", "submitted");
	ss_jw_kstr(&c->w, "channel", "hotline");
	ss_jw_ktime(&c->w, "due_at", f.due_at);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

/* POST /v1/staff/appeals/lookup (operator): a caller's appeals, the caller named by ID number and name */
static enum ss_err staff_appeal_lookup(struct ss_api_call *c)
{
	const char *id_number, *name;
	int64_t person_id;
	enum ss_err err;
	if ((err = ss_json_get_str(c->body, "id_number", true, 32, &id_number)) ||
	    (err = ss_json_get_str(c->body, "name", true, SS_NAME_MAX, &name)) ||
	    (err = ss_appeal_caller(c->app, id_number, name, &person_id)))
		return err;
	c->audit.subject = person_id;
	c->audit.why = "appeal:lookup";
	return list_of_person(c, person_id, true);
}

/* "<due_at>.<appeal_id>": where a page of the queue ends */
static enum ss_err parse_cursor(const char *text, int64_t *due, int64_t *id)
{
	const char *dot = strchr(text, '.');
	char head[24];
	long long d, n;
	size_t len = dot ? (size_t)(dot - text) : 0;
	if (!dot || len == 0 || len >= sizeof(head))
		goto bad;
	memcpy(head, text, len);
	head[len] = '\0';
	if (!ss_str_to_ll(head, 0, INT64_MAX, &d) || !ss_str_to_ll(dot + 1, 0, INT64_MAX, &n))
		goto bad;
	*due = d;
	*id = n;
	return SS_OK;
bad:
	return ss_fail(SS_INVALID, "after", "after must be the next cursor of a page");
}

struct queue_ctx {
	struct ss_jw *w;
	int n;
	int64_t last_due, last_id;
	int64_t now;
};

static enum ss_err write_queued(void *ctx, const struct ss_appeal_row *r)
{
	struct queue_ctx *q = ctx;
	struct ss_jw *w = q->w;
	ss_jw_obj_begin(w);
	write_summary(w, r);
	ss_jw_key(w, "handler_id");
	if (r->handler_id)
		ss_jw_int(w, r->handler_id);
	else
		ss_jw_null(w);
	ss_jw_key(w, "overdue");
	ss_jw_bool(w, r->due_at < q->now && !r->decided_at);
	ss_jw_obj_end(w);
	q->n++;
	q->last_due = r->due_at;
	q->last_id = r->appeal_id;
	return SS_OK;
}

/* GET /v1/staff/appeals (handler): the queue by due time, a page at a time */
static enum ss_err staff_appeal_queue(struct ss_api_call *c)
{
	const char *state = ss_http_query(c->req, "state"), *v;
	int64_t after_due = 0, after_id = 0;
	long long limit = QUEUE_PAGE_DEFAULT;
	enum ss_err err;
	if (state && !ss_appeal_state_is_valid(state))
		return ss_fail(SS_INVALID, "state",
		               "state must be submitted, assigned, checking, upheld, rejected or closed");
	if ((v = ss_http_query(c->req, "limit")) && !ss_str_to_ll(v, 1, SS_APPEAL_PAGE_MAX, &limit))
		return ss_fail(SS_INVALID, "limit", "limit must be 1 to %d", SS_APPEAL_PAGE_MAX);
	if ((v = ss_http_query(c->req, "after")) && (err = parse_cursor(v, &after_due, &after_id)))
		return err;
	struct queue_ctx q = {.w = &c->w, .now = ss_time_now()};
	c->audit.why = "appeal:queue";
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_key(&c->w, "appeals");
	ss_jw_arr_begin(&c->w);
	err = c->app->store->ops->appeal_queue(c->app->store, state, after_due, after_id, (int)limit, c->req->arena,
	                                       write_queued, &q);
	ss_jw_arr_end(&c->w);
	ss_jw_key(&c->w, "next"); /* the next page: ?after=next */
	if (q.n == limit)
		ss_jw_str(&c->w,
		          ss_arena_printf(c->req->arena, "%lld.%lld", (long long)q.last_due, (long long)q.last_id));
	else
		ss_jw_null(&c->w);
	ss_jw_obj_end(&c->w);
	return err;
}

/* GET /v1/staff/appeals/stats (handler) */
static enum ss_err staff_appeal_stats(struct ss_api_call *c)
{
	struct ss_appeal_counts n;
	enum ss_err err = ss_appeal_counts(c->app, ss_time_now(), &n);
	if (err)
		return err;
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "open", n.open);
	ss_jw_kint(&c->w, "overdue", n.overdue);
	ss_jw_kint(&c->w, "decided", n.decided);
	ss_jw_key(&c->w, "median_decision_seconds");
	if (n.decided)
		ss_jw_int(&c->w, (int64_t)(n.median_decision_secs + 0.5));
	else
		ss_jw_null(&c->w);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

/* GET /v1/staff/appeals/{id} (handler): everything, the person unmasked (audited as such) */
static enum ss_err staff_appeal_get(struct ss_api_call *c)
{
	int64_t id = 0;
	struct ss_appeal ap;
	struct ss_person_row person;
	const char *fields[6];
	enum ss_err err;
	if ((err = param_id(c, &id)) || (err = ss_appeal_get(c->app, id, c->req->arena, &ap)))
		return err;
	c->audit.subject = ap.row.person_id;
	c->audit.why = why(c, id);
	if ((err = c->app->store->ops->person_by_id(c->app->store, ap.row.person_id, c->req->arena, &person)) ||
	    (err = ss_pii_open(c->app, SS_PII_PERSON, person.sealed, c->req->arena, fields, 6)))
		return err;
	c->audit.unmasked = true;
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	write_summary(&c->w, &ap.row);
	ss_jw_key(&c->w, "person");
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "name", fields[1]);
	ss_jw_kstr(&c->w, "id_number", fields[0]);
	ss_jw_obj_end(&c->w);
	ss_jw_key(&c->w, "filed_by");
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "kind", ap.row.filed_by);
	ss_jw_kint(&c->w, "id", ap.row.filed_by_id);
	ss_jw_obj_end(&c->w);
	ss_jw_key(&c->w, "handler_id");
	if (ap.row.handler_id)
		ss_jw_int(&c->w, ap.row.handler_id);
	else
		ss_jw_null(&c->w);
	ss_jw_kstr(&c->w, "reason", ap.reason);
	ss_jw_kstr(&c->w, "details", ap.details);
	ss_jw_key(&c->w, "checks");
	ss_jw_obj_begin(&c->w);
	ss_jw_key(&c->w, "data");
	ap.data_check ? ss_jw_str(&c->w, ap.data_check) : ss_jw_null(&c->w);
	ss_jw_key(&c->w, "grassroots");
	ap.grass_check ? ss_jw_str(&c->w, ap.grass_check) : ss_jw_null(&c->w);
	ss_jw_obj_end(&c->w);
	write_decision(&c->w, &ap);
	if ((err = write_timeline(c, id)))
		return err;
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

/* The answer to a handler's step: the appeal's id and state now. */
static enum ss_err answer_step(struct ss_api_call *c, int64_t id, int64_t person_id, enum ss_err err,
                               const char *detail)
{
	c->audit.subject = person_id;
	c->audit.why = why(c, id);
	c->audit.detail = detail;
	if (err)
		return err;
	struct ss_appeal ap;
	if ((err = ss_appeal_get(c->app, id, c->req->arena, &ap)))
		return err;
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "appeal_id", id);
	ss_jw_kstr(&c->w, "state", ap.row.state);
	ss_jw_kint(&c->w, "handler_id", ap.row.handler_id);
	write_decision(&c->w, &ap);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

static enum ss_err staff_appeal_claim(struct ss_api_call *c)
{
	int64_t id = 0, person_id = 0;
	enum ss_err err = param_id(c, &id);
	if (err)
		return err;
	err = ss_appeal_claim(c->app, id, c->staff.staff_id, ss_time_now(), &person_id);
	return answer_step(c, id, person_id, err, NULL);
}

static enum ss_err staff_appeal_checks(struct ss_api_call *c)
{
	int64_t id = 0, person_id = 0;
	const char *kind, *result;
	size_t n;
	enum ss_err err;
	if ((err = param_id(c, &id)) || (err = ss_json_get_str(c->body, "kind", true, 16, &kind)) ||
	    (err = ss_json_get_text(c->body, "result", true, SS_APPEAL_CHECK_MAX, &result, &n)))
		return err;
	err = ss_appeal_check(c->app, id, c->staff.staff_id, kind, result, ss_time_now(), &person_id);
	return answer_step(c, id, person_id, err,
	                   err == SS_INVALID ? NULL : ss_arena_printf(c->req->arena, "{\"kind\":\"%s\"}", kind));
}

static enum ss_err staff_appeal_decision(struct ss_api_call *c)
{
	int64_t id = 0, person_id = 0;
	const char *decision, *until = NULL;
	struct ss_appeal_decision d = {0};
	enum ss_err err;
	if ((err = param_id(c, &id)) || (err = ss_json_get_str(c->body, "decision", true, 16, &decision)))
		return err;
	if (strcmp(decision, "upheld") && strcmp(decision, "rejected"))
		return ss_fail(SS_INVALID, "decision", "decision must be upheld or rejected");
	d.upheld = !strcmp(decision, "upheld");
	if (d.upheld && ((err = ss_json_get_str(c->body, "color", true, 16, &d.color)) ||
	                 (err = ss_json_get_str(c->body, "until", false, 64, &until))))
		return err;
	if (until && !ss_time_parse(until, &d.until))
		return ss_fail(SS_INVALID, "until", "until must be an RFC 3339 time such as 2026-11-26T08:00:00Z");
	if ((err = ss_json_get_str(c->body, "reason", true, SS_APPEAL_DECISION_MAX, &d.reason)))
		return err;
	err = ss_appeal_decide(c->app, id, c->staff.staff_id, &d, ss_time_now(), &person_id);
	return answer_step(c, id, person_id, err,
	                   ss_arena_printf(c->req->arena, "{\"decision\":\"%s\"}", d.upheld ? "upheld" : "rejected"));
}

static enum ss_err staff_appeal_close(struct ss_api_call *c)
{
	int64_t id = 0, person_id = 0;
	enum ss_err err = param_id(c, &id);
	if (err)
		return err;
	err = ss_appeal_close(c->app, id, c->staff.staff_id, ss_time_now(), &person_id);
	return answer_step(c, id, person_id, err, NULL);
}

enum ss_err ss_api_appeal_metrics(struct ss_app *app, struct ss_buf *out)
{
	struct ss_appeal_counts n;
	enum ss_err err = ss_appeal_counts(app, ss_time_now(), &n);
	if (err)
		return err;
	return ss_buf_printf(out,
	                     "# HELP suishen_appeals_open Appeals filed and not yet decided.\n"
	                     "# TYPE suishen_appeals_open gauge\n"
	                     "suishen_appeals_open %lld\n"
	                     "# HELP suishen_appeals_overdue Appeals not yet decided and past their due time.\n"
	                     "# TYPE suishen_appeals_overdue gauge\n"
	                     "suishen_appeals_overdue %lld\n"
	                     "# HELP suishen_appeals_decided Appeals decided (upheld or rejected).\n"
	                     "# TYPE suishen_appeals_decided gauge\n"
	                     "suishen_appeals_decided %lld\n"
	                     "# HELP suishen_appeal_decision_seconds_median Median time from filing to decision.\n"
	                     "# TYPE suishen_appeal_decision_seconds_median gauge\n"
	                     "suishen_appeal_decision_seconds_median %.0f\n",
	                     (long long)n.open, (long long)n.overdue, (long long)n.decided, n.median_decision_secs);
}

#define H SS_ROLE_HANDLER
#define O SS_ROLE_OPERATOR

const struct ss_api_route ss_api_appeal_routes[] = {
        {"POST", "/v1/me/appeals", "POST /v1/me/appeals", SS_AUTH_CITIZEN, 0, APPEAL_BODY, my_appeal_file},
        {"GET", "/v1/me/appeals", "GET /v1/me/appeals", SS_AUTH_CITIZEN, 0, 0, my_appeals},
        {"GET", "/v1/me/appeals/{id}", "GET /v1/me/appeals/{id}", SS_AUTH_CITIZEN, 0, 0, my_appeal},
        {"POST", "/v1/staff/appeals", "POST /v1/staff/appeals", SS_AUTH_STAFF, O, APPEAL_BODY, staff_appeal_file},
        {"POST", "/v1/staff/appeals/lookup", "POST /v1/staff/appeals/lookup", SS_AUTH_STAFF, O, SMALL_BODY,
         staff_appeal_lookup},
        {"GET", "/v1/staff/appeals", "GET /v1/staff/appeals", SS_AUTH_STAFF, H, 0, staff_appeal_queue},
        {"GET", "/v1/staff/appeals/stats", "GET /v1/staff/appeals/stats", SS_AUTH_STAFF, H, 0, staff_appeal_stats},
        {"GET", "/v1/staff/appeals/{id}", "GET /v1/staff/appeals/{id}", SS_AUTH_STAFF, H, 0, staff_appeal_get},
        {"POST", "/v1/staff/appeals/{id}/claim", "POST /v1/staff/appeals/{id}/claim", SS_AUTH_STAFF, H, 0,
         staff_appeal_claim},
        {"POST", "/v1/staff/appeals/{id}/checks", "POST /v1/staff/appeals/{id}/checks", SS_AUTH_STAFF, H,
         2 * SMALL_BODY, staff_appeal_checks},
        {"POST", "/v1/staff/appeals/{id}/decision", "POST /v1/staff/appeals/{id}/decision", SS_AUTH_STAFF, H,
         SMALL_BODY, staff_appeal_decision},
        {"POST", "/v1/staff/appeals/{id}/close", "POST /v1/staff/appeals/{id}/close", SS_AUTH_STAFF, H, 0,
         staff_appeal_close},
        {.method = NULL},
};
