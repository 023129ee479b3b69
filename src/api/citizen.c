/* citizen: the residents' endpoints: register, log in, own profile (api.md "Residents"). */
#include <stdio.h>

#include <string.h>

#include "api/api.h"
#include "base/time.h"
#include "core/audit.h"
#include "core/codes.h"
#include "core/holders.h"
#include "core/identity.h"
#include "core/mask.h"
#include "core/rules.h"
#include "core/scene.h"
#include "core/status.h"
#include "json/json.h"
#include "qr/qr.h"

#define FORM_BODY 4096 /* a registration or a log-in: a few hundred bytes, each character possibly escaped */

static enum ss_err citizens_create(struct ss_api_call *c)
{
	struct ss_registration reg;
	int64_t id;
	char uri[SS_TOTP_URI_MAX];
	enum ss_err err;

	if ((err = ss_api_channel(c, &reg.channel)) ||
	    (err = ss_json_get_str(c->body, "name", true, SS_NAME_MAX, &reg.name)) ||
	    (err = ss_json_get_str(c->body, "id_number", true, 32, &reg.id_number)) ||
	    (err = ss_json_get_str(c->body, "phone", true, SS_PHONE_MAX, &reg.phone)) ||
	    (err = ss_json_get_str(c->body, "password", true, SS_PASSWORD_MAX, &reg.password)) ||
	    (err = ss_identity_register(c->app, &reg, &id, uri)))
		return err;
	c->resp->status = 201;
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "citizen_id", id);
	ss_jw_kstr(&c->w, "totp_uri", uri);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

/* DELETE /v1/sessions: logging out ends the session itself, not only the page's copy of the token. */
static enum ss_err sessions_delete(struct ss_api_call *c)
{
	enum ss_err err = ss_identity_logout(c->app, c->token);
	if (err)
		return err;
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "status", "logged_out");
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

static enum ss_err sessions_create(struct ss_api_call *c)
{
	const char *channel, *id_number, *password, *otp;
	struct ss_login login;
	enum ss_err err;

	if ((err = ss_api_channel(c, &channel)))
		return err;
	/* a credential of the wrong form is a wrong credential: 401 without a hint which */
	if (ss_json_get_str(c->body, "id_number", false, 32, &id_number) ||
	    ss_json_get_str(c->body, "password", false, 1024, &password) ||
	    ss_json_get_str(c->body, "otp", false, 16, &otp))
		id_number = password = otp = NULL;
	err = ss_identity_login(c->app, id_number, password, otp, channel, c->req->remote, &login);
	if (err == SS_RATE_LIMITED) {
		char *secs = ss_arena_printf(c->req->arena, "%lld", (long long)login.retry_after);
		ss_http_resp_header(c->resp, "Retry-After", secs);
	}
	if (err)
		return err;
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "token", login.token);
	ss_jw_ktime(&c->w, "expires_at", login.expires_at);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

static enum ss_err me(struct ss_api_call *c)
{
	struct ss_profile p;
	char name[SS_MASK_MAX], id[SS_MASK_MAX], phone[SS_MASK_MAX];
	enum ss_err err = ss_identity_profile(c->app, c->citizen_id, &p);
	if (err)
		return err;
	ss_mask_name(p.name, name);
	ss_mask_id(p.id_number, id);
	ss_mask_phone(p.phone, phone);
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "citizen_id", p.citizen_id);
	ss_jw_kstr(&c->w, "name", name);
	ss_jw_kstr(&c->w, "id_number", id);
	ss_jw_kstr(&c->w, "phone", phone);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

enum ss_err ss_api_code(struct ss_api_call *c, int64_t person_id, int64_t presenter_id, enum ss_api_code_form form)
{
	char code[SS_CODE_LEN + 1];
	int64_t issued_at, since;
	int color = SS_GREEN;
	struct ss_qr *qr;
	enum ss_err err = ss_codes_issue_for(c->app, person_id, presenter_id, code, &issued_at);
	if (err)
		return err;
	ss_api_cache(c, 0);
	if (form == SS_API_CODE_JSON) {
		ss_jw_obj_begin(&c->w);
		ss_jw_kstr(&c->w, "code", code);
		ss_jw_ktime(&c->w, "issued_at", issued_at);
		ss_jw_ktime(&c->w, "expires_at", issued_at + c->app->cfg.code_ttl);
		ss_jw_obj_end(&c->w);
		return SS_OK;
	}
	/* a QR image, in the holder's colour */
	if ((err = ss_qr_encode(code, &qr)))
		return err;
	if (c->app->holders)
		(void)ss_holders_get(c->app->holders, person_id, &color, &since);
	static const enum ss_qr_ink inks[] = {SS_INK_GREEN, SS_INK_YELLOW, SS_INK_RED};
	enum ss_qr_ink ink = color >= 0 && color <= 2 ? inks[color] : SS_INK_BLACK;
	bool png = form == SS_API_CODE_PNG;
	ss_buf_reset(&c->resp->body);
	err = png ? ss_qr_png(qr, 8, ink, &c->resp->body) : ss_qr_svg(qr, 8, ink, &c->resp->body);
	ss_qr_free(qr);
	if (err)
		return err;
	c->resp->content_type = png ? "image/png" : "image/svg+xml";
	char *exp = ss_arena_alloc(c->req->arena, SS_TIME_TEXT);
	ss_time_format(issued_at + c->app->cfg.code_ttl, exp);
	ss_http_resp_header(c->resp, "X-Code-Expires-At", exp);
	return SS_OK;
}

/* A new code of mine, in the given form. */
static enum ss_err my_code(struct ss_api_call *c, enum ss_api_code_form form)
{
	struct ss_citizen_row row;
	enum ss_err err = c->app->store->ops->citizen_by_id(c->app->store, c->citizen_id, c->req->arena, &row);
	if (err == SS_NOT_FOUND)
		return ss_fail(SS_NOT_FOUND, NULL, "no such resident");
	return err ? err : ss_api_code(c, row.person_id, 0, form);
}

static enum ss_err code_json(struct ss_api_call *c)
{
	return my_code(c, SS_API_CODE_JSON);
}

static enum ss_err code_svg(struct ss_api_call *c)
{
	return my_code(c, SS_API_CODE_SVG);
}

static enum ss_err code_png(struct ss_api_call *c)
{
	return my_code(c, SS_API_CODE_PNG);
}

/* Writes a kept reason's "records" member: the kinds and dates of the records behind it. */
static void write_records(struct ss_jw *w, const struct ss_json *records)
{
	ss_jw_key(w, "records");
	ss_jw_arr_begin(w);
	for (size_t j = 0; records && j < ss_json_arr_len(records); j++) {
		const struct ss_json *r = ss_json_arr_at(records, j);
		const char *kind = NULL, *at = NULL;
		if (ss_json_get_str(r, "kind", true, 64, &kind) || ss_json_get_str(r, "occurred_at", true, 64, &at))
			continue;
		ss_jw_obj_begin(w);
		ss_jw_kstr(w, "kind", kind);
		ss_jw_kstr(w, "occurred_at", at);
		ss_jw_obj_end(w);
	}
	ss_jw_arr_end(w);
}

/*
 * Writes one kept reason f (core/assign.h) as {"rule","text","text_en",
 * "records"}, an override also with its "until" and its own words, and with
 * "overrides": {"color","reasons"}, what it set aside. *shown is false for
 * an override that has ended (see write_reasons), which is not written.
 */
static enum ss_err write_reason(struct ss_api_call *c, struct ss_jw *w, int64_t person_id, const struct ss_json *f,
                                int64_t now, struct ss_arena *a, bool *shown)
{
	const struct ss_json *records = NULL, *overrides = NULL, *aside = NULL;
	const char *id = NULL, *zh = NULL, *en = NULL, *until = NULL, *color = NULL;
	enum ss_err err;
	*shown = false;
	if (ss_json_get_str(f, "rule", true, 1000, &id) || ss_json_get_str(f, "text_zh", true, 1000, &zh) ||
	    ss_json_get_str(f, "text_en", true, 1000, &en) || ss_json_get_str(f, "until", false, 64, &until) ||
	    ss_json_get_arr(f, "records", false, 1000, &records) ||
	    ss_json_get_obj(f, "overrides", false, &overrides) ||
	    (overrides && (ss_json_get_str(overrides, "color", true, 16, &color) ||
	                   ss_json_get_arr(overrides, "reasons", true, SS_RULES_MAX_FIRED, &aside))))
		return ss_fail(SS_INTERNAL, NULL, "a kept status does not parse");
	/*
	 * An override that has ended and left the colour as it was (a green one
	 * over green rules) changes nothing to look at again: its reason is
	 * no longer shown as a reason of the colour now (now 0: a past change).
	 */
	int64_t end;
	if (now && until && ss_time_parse(until, &end) && end <= now)
		return SS_OK;
	/* an override's own words are opened from its sealed record (core/status.h) */
	const struct ss_json *first = records && ss_json_arr_len(records) ? ss_json_arr_at(records, 0) : NULL;
	const char *at_text = NULL;
	int64_t set_at;
	if (!strcmp(id, "manual_override") && first && !ss_json_get_str(first, "occurred_at", true, 64, &at_text) &&
	    ss_time_parse(at_text, &set_at)) {
		const char *words = NULL;
		if ((err = ss_status_override_reason(c->app, person_id, set_at, a, &words)))
			return err;
		if (words)
			zh = words;
	}
	*shown = true;
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "rule", id);
	ss_jw_kstr(w, "text", zh);
	ss_jw_kstr(w, "text_en", en);
	if (until)
		ss_jw_kstr(w, "until", until);
	write_records(w, records);
	if (overrides) {
		ss_jw_key(w, "overrides");
		ss_jw_obj_begin(w);
		ss_jw_kstr(w, "color", color);
		ss_jw_key(w, "reasons");
		ss_jw_arr_begin(w);
		for (size_t i = 0; i < ss_json_arr_len(aside); i++) {
			bool inner;
			if ((err = write_reason(c, w, person_id, ss_json_arr_at(aside, i), now, a, &inner)))
				return err;
		}
		ss_jw_arr_end(w);
		ss_jw_obj_end(w);
	}
	ss_jw_obj_end(w);
	return SS_OK;
}

/*
 * The reasons of a colour: those that decide it, as they were kept
 * (core/assign.h); or, for a colour set by hand before colours came from
 * rules, its one rule and reason; none for green by default or by rules that
 * found nothing.
 */
static enum ss_err write_reasons(struct ss_api_call *c, struct ss_jw *w, int64_t person_id, const char *rule,
                                 const char *reason, const char *rule_set, const char *fired, int64_t now,
                                 struct ss_arena *a)
{
	struct ss_json *doc = NULL;
	enum ss_err err = SS_OK;
	ss_jw_arr_begin(w);
	if (!rule_set || !*rule_set) {
		if (rule && *rule) {
			ss_jw_obj_begin(w);
			ss_jw_kstr(w, "rule", rule);
			ss_jw_kstr(w, "text", reason);
			ss_jw_obj_end(w);
		}
		goto out;
	}
	/* ss_json parses objects: the kept array is wrapped in one */
	size_t n = strlen(fired);
	char *text = ss_arena_alloc(a, n + 8);
	memcpy(text, "{\"f\":", 5);
	memcpy(text + 5, fired, n);
	text[n + 5] = '}';
	const struct ss_json *arr = NULL;
	if ((err = ss_json_parse(text, n + 6, &doc)) ||
	    (err = ss_json_get_arr(doc, "f", true, SS_RULES_MAX_FIRED + 1, &arr))) {
		err = ss_fail(SS_INTERNAL, NULL, "a kept status does not parse");
		goto out;
	}
	for (size_t i = 0; i < ss_json_arr_len(arr); i++) {
		const struct ss_json *f = ss_json_arr_at(arr, i);
		const char *id = NULL;
		bool shown;
		if ((err = write_reason(c, w, person_id, f, now, a, &shown)))
			goto out;
		/*
		 * An override in force is the one reason of its colour. A status kept
		 * before reasons were chosen so also listed the rules it set aside
		 * after it: they decide nothing now, and are not shown.
		 */
		if (shown && !ss_json_get_str(f, "rule", true, 1000, &id) && !strcmp(id, "manual_override"))
			break;
	}
out:
	ss_jw_arr_end(w);
	ss_json_free(doc);
	return err;
}

enum ss_err ss_api_status(struct ss_api_call *c, int64_t person_id, int64_t default_since)
{
	struct ss_status_view v;
	enum ss_err err = ss_status_of_person(c->app, person_id, default_since, c->req->arena, &v);
	if (err)
		return err;
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "color", ss_color_name(v.color));
	ss_jw_ktime(&c->w, "since", v.since);
	ss_jw_key(&c->w, "review_at");
	if (v.review_at)
		ss_jw_time(&c->w, v.review_at);
	else
		ss_jw_null(&c->w);
	ss_jw_key(&c->w, "reasons");
	if ((err = write_reasons(c, &c->w, person_id, v.nreasons ? v.reasons[0].rule : NULL,
	                         v.nreasons ? v.reasons[0].text : NULL, v.rule_set, v.fired, ss_time_now(),
	                         c->req->arena)))
		return err;
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

static enum ss_err my_status(struct ss_api_call *c)
{
	struct ss_citizen_row row;
	enum ss_err err = c->app->store->ops->citizen_by_id(c->app->store, c->citizen_id, c->req->arena, &row);
	return err ? err : ss_api_status(c, row.person_id, row.created_at);
}

#define MY_HISTORY_MAX 100

struct history_ctx {
	struct ss_api_call *c;
	int64_t person_id;
};

static enum ss_err write_change(void *ctx, const struct ss_status_row *row)
{
	struct history_ctx *h = ctx;
	struct ss_jw *w = &h->c->w;
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "color", ss_color_name(row->color));
	ss_jw_ktime(w, "since", row->since);
	ss_jw_kstr(w, "rule", row->rule);
	ss_jw_key(w, "review_at");
	if (row->review_at)
		ss_jw_time(w, row->review_at);
	else
		ss_jw_null(w);
	ss_jw_key(w, "reasons");
	enum ss_err err = write_reasons(h->c, &h->c->w, h->person_id, row->rule, row->reason, row->rule_set, row->fired,
	                                0, h->c->req->arena);
	ss_jw_obj_end(w);
	return err;
}

/* GET /v1/me/status/history: the changes of my colour, newest first (at most MY_HISTORY_MAX). */
static enum ss_err my_status_history(struct ss_api_call *c)
{
	struct ss_citizen_row row;
	enum ss_err err = c->app->store->ops->citizen_by_id(c->app->store, c->citizen_id, c->req->arena, &row);
	if (err)
		return err;
	ss_api_cache(c, 0);
	struct history_ctx h = {c, row.person_id};
	ss_jw_obj_begin(&c->w);
	ss_jw_key(&c->w, "changes");
	ss_jw_arr_begin(&c->w);
	err = c->app->store->ops->status_history_of_person(c->app->store, row.person_id, MY_HISTORY_MAX, c->req->arena,
	                                                   write_change, &h);
	ss_jw_arr_end(&c->w);
	ss_jw_obj_end(&c->w);
	return err;
}

static enum ss_err write_scan(void *ctx, const struct ss_scan_row *row)
{
	struct ss_jw *w = ctx;
	const struct ss_scene *scene = ss_scene_by_id(row->scene);
	ss_jw_obj_begin(w);
	ss_jw_ktime(w, "scanned_at", row->scanned_at_ms / 1000);
	ss_jw_kstr(w, "place", row->place);
	ss_jw_kstr(w, "scene", scene ? scene->name : "unknown");
	ss_jw_kstr(w, "result", ss_scan_result_name(row->result));
	ss_jw_obj_end(w);
	return SS_OK;
}

#define MY_SCANS_MAX 100

enum ss_err ss_api_scans(struct ss_api_call *c, int64_t person_id, bool presented_only)
{
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_key(&c->w, "scans");
	ss_jw_arr_begin(&c->w);
	enum ss_err err = c->app->store->ops->scans_of_person(c->app->store, person_id, presented_only, MY_SCANS_MAX,
	                                                      c->req->arena, write_scan, &c->w);
	ss_jw_arr_end(&c->w);
	ss_jw_obj_end(&c->w);
	return err;
}

static enum ss_err my_scans(struct ss_api_call *c)
{
	struct ss_citizen_row row;
	enum ss_err err = c->app->store->ops->citizen_by_id(c->app->store, c->citizen_id, c->req->arena, &row);
	return err ? err : ss_api_scans(c, row.person_id, false);
}

#define ACCESS_LOG_MAX 100

static enum ss_err write_access(void *ctx, const struct ss_audit_row *r)
{
	struct ss_jw *w = ctx;
	ss_jw_obj_begin(w);
	ss_jw_ktime(w, "at", r->at_ms / 1000);
	ss_jw_key(w, "by");
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "kind", r->actor);
	if (*r->org) { /* a terminal: the organisation and place, never a person */
		ss_jw_kstr(w, "org", r->org);
		ss_jw_kstr(w, "place", r->place);
		ss_jw_kstr(w, "scene", r->scene);
	} else if (*r->staff_role) { /* a member of staff: the role, not the name */
		ss_jw_kstr(w, "role", r->staff_role);
	}
	ss_jw_obj_end(w);
	ss_jw_kstr(w, "why", r->why);
	ss_jw_kstr(w, "action", r->action);
	ss_jw_obj_end(w);
	return SS_OK;
}

/*
 * GET /v1/me/access-log: who read my personal data unmasked, when and why
 * (the audit log's entries about me that did), newest first (at most
 * ACCESS_LOG_MAX).
 */
static enum ss_err my_access_log(struct ss_api_call *c)
{
	struct ss_citizen_row row;
	enum ss_err err = c->app->store->ops->citizen_by_id(c->app->store, c->citizen_id, c->req->arena, &row);
	if (err)
		return err;
	struct ss_audit_filter f = {.subject = row.person_id, .unmasked = true, .limit = ACCESS_LOG_MAX};
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_key(&c->w, "reads");
	ss_jw_arr_begin(&c->w);
	err = c->app->store->ops->audit_query(c->app->store, &f, c->req->arena, write_access, &c->w);
	ss_jw_arr_end(&c->w);
	ss_jw_obj_end(&c->w);
	return err;
}

const struct ss_api_route ss_api_citizen_routes[] = {
        {"POST", "/v1/citizens", "POST /v1/citizens", SS_AUTH_NONE, 0, FORM_BODY, citizens_create,
         .lane = SS_LANE_SLOW},
        {"POST", "/v1/sessions", "POST /v1/sessions", SS_AUTH_NONE, 0, FORM_BODY, sessions_create,
         .lane = SS_LANE_SLOW},
        {"DELETE", "/v1/sessions", "DELETE /v1/sessions", SS_AUTH_CITIZEN, 0, 0, sessions_delete},
        {"GET", "/v1/me", "GET /v1/me", SS_AUTH_CITIZEN, 0, 0, me},
        {"GET", "/v1/me/code", "GET /v1/me/code", SS_AUTH_CITIZEN, 0, 0, code_json},
        {"GET", "/v1/me/code.svg", "GET /v1/me/code.svg", SS_AUTH_CITIZEN, 0, 0, code_svg},
        {"GET", "/v1/me/code.png", "GET /v1/me/code.png", SS_AUTH_CITIZEN, 0, 0, code_png},
        {"GET", "/v1/me/status", "GET /v1/me/status", SS_AUTH_CITIZEN, 0, 0, my_status},
        {"GET", "/v1/me/status/history", "GET /v1/me/status/history", SS_AUTH_CITIZEN, 0, 0, my_status_history},
        {"GET", "/v1/me/access-log", "GET /v1/me/access-log", SS_AUTH_CITIZEN, 0, 0, my_access_log},
        {"GET", "/v1/me/scans", "GET /v1/me/scans", SS_AUTH_CITIZEN, 0, 0, my_scans},
        {.method = NULL},
};
