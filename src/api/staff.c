/* staff: the staff endpoints (api.md "Staff"): who am I, and creating staff (admin). */
#include "api/api.h"

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

const struct ss_api_route ss_api_staff_routes[] = {
        {"GET", "/v1/staff/me", "GET /v1/staff/me", SS_AUTH_STAFF, SS_ROLE_ANY, 0, staff_me},
        {"POST", "/v1/staff/staff", "POST /v1/staff/staff", SS_AUTH_STAFF, SS_ROLE_ADMIN, SMALL_BODY, staff_create},
        {.method = NULL},
};
