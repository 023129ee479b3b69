/* citizen: the residents' endpoints: register, log in, own profile (api.md "Residents"). */
#include <stdio.h>

#include "api/api.h"
#include "core/identity.h"
#include "core/mask.h"

#define SMALL_BODY (64 * 1024)

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
	err = ss_identity_login(c->app, id_number, password, otp, channel, &login);
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

const struct ss_api_route ss_api_citizen_routes[] = {
        {"POST", "/v1/citizens", "POST /v1/citizens", SS_AUTH_NONE, 0, SMALL_BODY, citizens_create},
        {"POST", "/v1/sessions", "POST /v1/sessions", SS_AUTH_NONE, 0, SMALL_BODY, sessions_create},
        {"GET", "/v1/me", "GET /v1/me", SS_AUTH_CITIZEN, 0, 0, me},
        {.method = NULL},
};
