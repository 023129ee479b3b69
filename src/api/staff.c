/* staff: the staff endpoints (api.md "Staff"): who am I, and creating staff (admin). */
#include "api/api.h"
#include "core/status.h"
#include "core/terminal.h"

#define SMALL_BODY (64 * 1024)

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

static enum ss_err status_set(struct ss_api_call *c)
{
	const char *id_number, *color, *reason;
	enum ss_err err;

	if ((err = ss_json_get_str(c->body, "id_number", true, 32, &id_number)) ||
	    (err = ss_json_get_str(c->body, "color", true, 16, &color)) ||
	    (err = ss_json_get_str(c->body, "reason", true, SS_REASON_MAX, &reason)) ||
	    (err = ss_status_set_by_hand(c->app, id_number, color, reason, c->staff.staff_id)))
		return err;
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "color", color);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

const struct ss_api_route ss_api_staff_routes[] = {
        {"GET", "/v1/staff/me", "GET /v1/staff/me", SS_AUTH_STAFF, SS_ROLE_ANY, 0, staff_me},
        {"POST", "/v1/staff/staff", "POST /v1/staff/staff", SS_AUTH_STAFF, SS_ROLE_ADMIN, SMALL_BODY, staff_create},
        {"POST", "/v1/staff/terminals", "POST /v1/staff/terminals", SS_AUTH_STAFF, SS_ROLE_ADMIN, SMALL_BODY,
         terminals_create},
        {"POST", "/v1/staff/status", "POST /v1/staff/status", SS_AUTH_STAFF, SS_ROLE_ADMIN, SMALL_BODY, status_set},
        {.method = NULL},
};
