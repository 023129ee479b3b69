/*
 * source: the endpoints through which records arrive (api.md "Data sources"):
 * batches posted by source clients (POST /v1/sources/{source}/records, signed),
 * the creation of those clients by staff (POST /v1/staff/sources, admin) and
 * residents' own declarations (POST /v1/me/declarations), which become `self`
 * records.
 */
#include <string.h>

#include "api/api.h"
#include "base/mem.h"
#include "base/time.h"
#include "core/identity.h"
#include "core/source.h"

#define SMALL_BODY  (16 * 1024)  /* a client's creation, a declaration */
#define ERRORS_LIST 100          /* bad records listed in a refusal */
#define ERRORS_MAX  (256 * 1024) /* bytes of that list */

static enum ss_err sources_create(struct ss_api_call *c)
{
	const char *source, *name;
	int64_t id;
	char secret[65];
	enum ss_err err;

	if ((err = ss_json_get_str(c->body, "source", true, SS_SOURCE_MAX + 16, &source)) ||
	    (err = ss_json_get_str(c->body, "name", false, SS_SOURCE_NAME_MAX, &name)) ||
	    (err = ss_source_client_create(c->app, source, name, c->staff.staff_id, &id, secret)))
		return err;
	c->resp->status = 201;
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "client_id", id);
	ss_jw_kstr(&c->w, "source", source);
	ss_jw_kstr(&c->w, "secret", secret);
	ss_jw_obj_end(&c->w);
	ss_wipe(secret, sizeof(secret));
	return SS_OK;
}

/* The "errors" list of a refused batch: [{"index","field"?,"message"}], the first ERRORS_LIST of them. */
struct bad_list {
	struct ss_buf buf;
	struct ss_jw w;
	size_t n;
};

static void on_bad(void *ctx, size_t index, const char *field, const char *message)
{
	struct bad_list *l = ctx;
	if (l->n++ >= ERRORS_LIST)
		return;
	ss_jw_obj_begin(&l->w);
	ss_jw_kint(&l->w, "index", (int64_t)index);
	if (field)
		ss_jw_kstr(&l->w, "field", field);
	ss_jw_kstr(&l->w, "message", message && *message ? message : "bad record");
	ss_jw_obj_end(&l->w);
}

static enum ss_err records_post(struct ss_api_call *c)
{
	const struct ss_json *records;
	size_t nbad, accepted, duplicates;
	struct bad_list bad = {.n = 0};
	enum ss_err err;

	if (strcmp(c->params[0], c->client.source) != 0) {
		err = ss_fail(SS_DENIED, NULL, "this client may post only records of its own source");
		goto out;
	}
	if ((err = ss_json_get_arr(c->body, "records", true, SS_SOURCE_BATCH_MAX, &records)))
		goto out;
	ss_buf_init(&bad.buf, ERRORS_MAX);
	ss_jw_init(&bad.w, &bad.buf);
	ss_jw_arr_begin(&bad.w);
	err = ss_source_batch_put(c->app, c->client.source, records, ss_time_now(), &c->client.nonce, on_bad, &bad,
	                          &nbad, &accepted, &duplicates);
	ss_jw_arr_end(&bad.w);
	if (err == SS_INVALID && nbad && ss_jw_finish(&bad.w) == SS_OK)
		c->errors = ss_arena_strdup(c->req->arena, ss_buf_str(&bad.buf));
	ss_buf_release(&bad.buf);
	if (err)
		goto out;
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "accepted", (int64_t)accepted);
	ss_jw_kint(&c->w, "duplicates", (int64_t)duplicates);
	ss_jw_obj_end(&c->w);
out:
	ss_wipe(c->client.key, sizeof(c->client.key));
	return err;
}

static enum ss_err declarations_create(struct ss_api_call *c)
{
	struct ss_profile p;
	char record_id[SS_DECLARATION_ID_MAX + 1];
	enum ss_err err;

	if ((err = ss_identity_profile(c->app, c->citizen_id, &p)))
		return err;
	err = ss_source_declare(c->app, p.id_number, c->body, ss_time_now(), record_id);
	ss_wipe(&p, sizeof(p));
	if (err)
		return err;
	c->resp->status = 201;
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "record_id", record_id);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

const struct ss_api_route ss_api_source_routes[] = {
        {"POST", "/v1/sources/{source}/records", "POST /v1/sources/{source}/records", SS_AUTH_SOURCE, 0,
         SS_SOURCE_BODY_MAX, records_post},
        {"POST", "/v1/staff/sources", "POST /v1/staff/sources", SS_AUTH_STAFF, SS_ROLE_ADMIN, SMALL_BODY,
         sources_create},
        {"POST", "/v1/me/declarations", "POST /v1/me/declarations", SS_AUTH_CITIZEN, 0, SMALL_BODY,
         declarations_create},
        {.method = NULL},
};
