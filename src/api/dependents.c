/*
 * dependents: the endpoints of relatives' codes (core/dependents.h; docs/api.md "Relatives"): a resident's
 * dependents, their codes, colours and scans; the links that name a resident as dependent (requests to answer,
 * consent given to withdraw); and the hotline operator's confirmations: an adult's consent on a call, or the
 * document that shows a child's guardian. Particulars are masked in every answer; ids in URLs are link ids, never
 * personal data. A link of another account answers 404, as one that does not exist.
 */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "base/str.h"
#include "base/time.h"
#include "core/dependents.h"
#include "core/population.h"
#include "json/json.h"

#define SMALL_BODY 4096 /* a name, an ID number and a relation */

/* The link id of a URL: an id (ss_str_to_id); anything else names no link (0). */
static int64_t link_param(const char *p)
{
	int64_t n;
	return ss_str_to_id(p, &n) ? n : 0;
}

/* What made a link active, or null if nothing is recorded. */
static void write_basis(struct ss_jw *w, const struct ss_dependent *d)
{
	ss_jw_key(w, "basis");
	if (*d->basis)
		ss_jw_str(w, d->basis);
	else
		ss_jw_null(w);
}

static void write_dependent(struct ss_jw *w, const struct ss_dependent *d)
{
	ss_jw_obj_begin(w);
	ss_jw_kint(w, "dependent_id", d->link_id);
	ss_jw_kstr(w, "name", d->name);
	ss_jw_kstr(w, "id_number", d->id_number);
	ss_jw_kstr(w, "relation", ss_relation_name(d->relation));
	ss_jw_kstr(w, "state", d->state);
	write_basis(w, d);
	ss_jw_key(w, "minor");
	ss_jw_bool(w, d->adult_at > 0);
	ss_jw_key(w, "ends_at"); /* a minor's link ends when they turn 18 */
	if (d->adult_at > 0)
		ss_jw_time(w, d->adult_at);
	else
		ss_jw_null(w);
	ss_jw_ktime(w, "created_at", d->created_at);
	ss_jw_ktime(w, "changed_at", d->changed_at);
	ss_jw_obj_end(w);
}

/* POST /v1/me/dependents {"name","id_number","relation"} */
static enum ss_err dependents_add(struct ss_api_call *c)
{
	struct ss_dependent_request req;
	struct ss_dependent d;
	enum ss_err err;
	if ((err = ss_json_get_str(c->body, "name", true, SS_NAME_MAX, &req.name)) ||
	    (err = ss_json_get_str(c->body, "id_number", true, 32, &req.id_number)) ||
	    (err = ss_json_get_str(c->body, "relation", true, 32, &req.relation)) ||
	    (err = ss_dependents_add(c->app, c->citizen_id, &req, ss_time_now(), &d)))
		return err;
	c->resp->status = 201;
	ss_api_cache(c, 0);
	write_dependent(&c->w, &d);
	return SS_OK;
}

static enum ss_err write_listed(void *ctx, const struct ss_dependent *d)
{
	write_dependent(ctx, d);
	return SS_OK;
}

/* GET /v1/me/dependents */
static enum ss_err dependents_list(struct ss_api_call *c)
{
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_key(&c->w, "dependents");
	ss_jw_arr_begin(&c->w);
	enum ss_err err = ss_dependents_list(c->app, c->citizen_id, ss_time_now(), write_listed, &c->w);
	ss_jw_arr_end(&c->w);
	ss_jw_obj_end(&c->w);
	return err;
}

/* DELETE /v1/me/dependents/{dependent_id} */
static enum ss_err dependents_remove(struct ss_api_call *c)
{
	int64_t id = link_param(c->params[0]);
	enum ss_err err = ss_dependents_remove(c->app, c->citizen_id, id, ss_time_now());
	if (err)
		return err;
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "dependent_id", id);
	ss_jw_kstr(&c->w, "state", "removed");
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

/* The active link of the URL, of the caller's account. */
static enum ss_err active_link(struct ss_api_call *c, struct ss_dependent *d)
{
	return ss_dependents_active(c->app, c->citizen_id, link_param(c->params[0]), ss_time_now(), d);
}

static enum ss_err dependent_code(struct ss_api_call *c, enum ss_api_code_form form)
{
	struct ss_dependent d;
	enum ss_err err = active_link(c, &d);
	return err ? err : ss_api_code(c, d.person_id, d.guardian_person_id, form);
}

static enum ss_err code_json(struct ss_api_call *c)
{
	return dependent_code(c, SS_API_CODE_JSON);
}

static enum ss_err code_svg(struct ss_api_call *c)
{
	return dependent_code(c, SS_API_CODE_SVG);
}

static enum ss_err code_png(struct ss_api_call *c)
{
	return dependent_code(c, SS_API_CODE_PNG);
}

/* GET /v1/me/dependents/{dependent_id}/status */
static enum ss_err dependent_status(struct ss_api_call *c)
{
	struct ss_dependent d;
	enum ss_err err = active_link(c, &d);
	return err ? err : ss_api_status(c, d.person_id, d.created_at);
}

/* GET /v1/me/dependents/{dependent_id}/scans: the scans of the dependent's relatives' codes */
static enum ss_err dependent_scans(struct ss_api_call *c)
{
	struct ss_dependent d;
	enum ss_err err = active_link(c, &d);
	return err ? err : ss_api_scans(c, d.person_id, true);
}

/* A link that names the caller as dependent, with its guardian's particulars (masked). */
static enum ss_err write_naming(void *ctx, const struct ss_dependent *d)
{
	struct ss_jw *w = ctx;
	ss_jw_obj_begin(w);
	ss_jw_kint(w, "link_id", d->link_id);
	ss_jw_key(w, "guardian");
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "name", d->name);
	ss_jw_kstr(w, "id_number", d->id_number);
	ss_jw_obj_end(w);
	ss_jw_kstr(w, "relation", ss_relation_name(d->relation));
	ss_jw_kstr(w, "state", d->state);
	ss_jw_ktime(w, "created_at", d->created_at);
	if (!strcmp(d->state, "active")) {
		write_basis(w, d);
		ss_jw_ktime(w, "since", d->changed_at);
	}
	ss_jw_obj_end(w);
	return SS_OK;
}

/* The links in state that name the caller as dependent, as {"<member>": [...]}. */
static enum ss_err naming_list(struct ss_api_call *c, const char *member, const char *state)
{
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_key(&c->w, member);
	ss_jw_arr_begin(&c->w);
	enum ss_err err = ss_dependents_naming(c->app, c->citizen_id, state, write_naming, &c->w);
	ss_jw_arr_end(&c->w);
	ss_jw_obj_end(&c->w);
	return err;
}

/* GET /v1/me/guardian-requests: the pending links that name me as dependent */
static enum ss_err requests_list(struct ss_api_call *c)
{
	return naming_list(c, "requests", "pending");
}

/* GET /v1/me/guardians: who may show my code, on the consent I gave */
static enum ss_err guardians_list(struct ss_api_call *c)
{
	return naming_list(c, "guardians", "active");
}

/* The answer of a dependent's change of a link that names them: {"link_id","relation","state"}. */
static enum ss_err write_changed(struct ss_api_call *c, enum ss_err err, const struct ss_dependent *d)
{
	if (err)
		return err;
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "link_id", d->link_id);
	ss_jw_kstr(&c->w, "relation", ss_relation_name(d->relation));
	ss_jw_kstr(&c->w, "state", d->state);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

/* DELETE /v1/me/guardians/{link_id}: I withdraw my consent; the guardian's codes for me stop scanning at once */
static enum ss_err guardian_withdraw(struct ss_api_call *c)
{
	struct ss_dependent d;
	int64_t id = link_param(c->params[0]);
	return write_changed(c, ss_dependents_withdraw(c->app, c->citizen_id, id, ss_time_now(), &d), &d);
}

static enum ss_err answer(struct ss_api_call *c, bool accept)
{
	struct ss_dependent d;
	int64_t id = link_param(c->params[0]);
	return write_changed(c, ss_dependents_answer(c->app, c->citizen_id, id, accept, ss_time_now(), &d), &d);
}

static enum ss_err request_accept(struct ss_api_call *c)
{
	return answer(c, true);
}

static enum ss_err request_decline(struct ss_api_call *c)
{
	return answer(c, false);
}

/* The staff view of a link: masked particulars, no more. */
static void write_staff_view(struct ss_api_call *c, const struct ss_dependent *d)
{
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "link_id", d->link_id);
	ss_jw_kint(&c->w, "guardian_id", d->guardian_id);
	ss_jw_kstr(&c->w, "name", d->name);
	ss_jw_kstr(&c->w, "id_number", d->id_number);
	ss_jw_kstr(&c->w, "relation", ss_relation_name(d->relation));
	ss_jw_kstr(&c->w, "state", d->state);
	write_basis(&c->w, d);
	ss_jw_key(&c->w, "minor"); /* what the operator needs: a minor's link is confirmed by a document */
	ss_jw_bool(&c->w, d->adult_at > 0);
	ss_jw_ktime(&c->w, "created_at", d->created_at);
	ss_jw_obj_end(&c->w);
}

/* GET /v1/staff/dependents/{link_id} (operator): what a request names, for the confirming call */
static enum ss_err staff_view(struct ss_api_call *c)
{
	struct ss_dependent d;
	int64_t id = link_param(c->params[0]);
	c->audit.detail = ss_arena_printf(c->req->arena, "{\"link_id\":%lld}", (long long)id);
	enum ss_err err = ss_dependents_get(c->app, id, &d);
	if (err)
		return err;
	c->audit.subject = d.person_id;
	ss_api_cache(c, 0);
	write_staff_view(c, &d);
	return SS_OK;
}

/* POST /v1/staff/dependents/{link_id}/confirm (operator): the dependent consented on a call */
static enum ss_err staff_confirm(struct ss_api_call *c)
{
	struct ss_dependent d;
	int64_t id = link_param(c->params[0]);
	c->audit.detail = ss_arena_printf(c->req->arena, "{\"link_id\":%lld}", (long long)id);
	enum ss_err err = ss_dependents_confirm(c->app, c->staff.staff_id, id, ss_time_now(), &d);
	if (err)
		return err;
	c->audit.subject = d.person_id;
	write_staff_view(c, &d);
	return SS_OK;
}

/*
 * POST /v1/staff/dependents/{link_id}/document {"document"} (operator): the operator has seen the child's birth
 * certificate or household register, which names the guardian
 */
static enum ss_err staff_document(struct ss_api_call *c)
{
	struct ss_dependent d;
	const char *document;
	int64_t id = link_param(c->params[0]);
	enum ss_err err = ss_json_get_str(c->body, "document", true, 32, &document);
	c->audit.detail = ss_arena_printf(c->req->arena, "{\"link_id\":%lld}", (long long)id);
	if (err || (err = ss_dependents_document(c->app, c->staff.staff_id, id, document, ss_time_now(), &d)))
		return err;
	c->audit.subject = d.person_id;
	c->audit.detail =
	        ss_arena_printf(c->req->arena, "{\"link_id\":%lld,\"document\":\"%s\"}", (long long)id, d.basis);
	write_staff_view(c, &d);
	return SS_OK;
}

const struct ss_api_route ss_api_dependent_routes[] = {
        {"POST", "/v1/me/dependents", "POST /v1/me/dependents", SS_AUTH_CITIZEN, 0, SMALL_BODY, dependents_add},
        {"GET", "/v1/me/dependents", "GET /v1/me/dependents", SS_AUTH_CITIZEN, 0, 0, dependents_list},
        {"DELETE", "/v1/me/dependents/{id}", "DELETE /v1/me/dependents/{id}", SS_AUTH_CITIZEN, 0, 0, dependents_remove},
        {"GET", "/v1/me/dependents/{id}/code", "GET /v1/me/dependents/{id}/code", SS_AUTH_CITIZEN, 0, 0, code_json},
        {"GET", "/v1/me/dependents/{id}/code.svg", "GET /v1/me/dependents/{id}/code.svg", SS_AUTH_CITIZEN, 0, 0,
         code_svg},
        {"GET", "/v1/me/dependents/{id}/code.png", "GET /v1/me/dependents/{id}/code.png", SS_AUTH_CITIZEN, 0, 0,
         code_png},
        {"GET", "/v1/me/dependents/{id}/status", "GET /v1/me/dependents/{id}/status", SS_AUTH_CITIZEN, 0, 0,
         dependent_status},
        {"GET", "/v1/me/dependents/{id}/scans", "GET /v1/me/dependents/{id}/scans", SS_AUTH_CITIZEN, 0, 0,
         dependent_scans},
        {"GET", "/v1/me/guardian-requests", "GET /v1/me/guardian-requests", SS_AUTH_CITIZEN, 0, 0, requests_list},
        {"POST", "/v1/me/guardian-requests/{id}/accept", "POST /v1/me/guardian-requests/{id}/accept", SS_AUTH_CITIZEN,
         0, 0, request_accept},
        {"POST", "/v1/me/guardian-requests/{id}/decline", "POST /v1/me/guardian-requests/{id}/decline", SS_AUTH_CITIZEN,
         0, 0, request_decline},
        {"GET", "/v1/me/guardians", "GET /v1/me/guardians", SS_AUTH_CITIZEN, 0, 0, guardians_list},
        {"DELETE", "/v1/me/guardians/{id}", "DELETE /v1/me/guardians/{id}", SS_AUTH_CITIZEN, 0, 0, guardian_withdraw},
        {"GET", "/v1/staff/dependents/{id}", "GET /v1/staff/dependents/{id}", SS_AUTH_STAFF, SS_ROLE_OPERATOR, 0,
         staff_view},
        {"POST", "/v1/staff/dependents/{id}/confirm", "POST /v1/staff/dependents/{id}/confirm", SS_AUTH_STAFF,
         SS_ROLE_OPERATOR, 0, staff_confirm},
        {"POST", "/v1/staff/dependents/{id}/document", "POST /v1/staff/dependents/{id}/document", SS_AUTH_STAFF,
         SS_ROLE_OPERATOR, SMALL_BODY, staff_document},
        {.method = NULL},
};
