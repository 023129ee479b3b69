/*
 * terminal: the terminals' endpoints (api.md "Terminals"): POST /v1/scans,
 * and GET /v1/terminals/me (which terminal a secret is: the terminal page
 * checks its setup with it and shows where it stands).
 * The answer is deferred until the scan's record is on disk: the handler
 * writes it, the scan writer commits the record, and only then is it sent.
 */
#include <pthread.h>
#include <string.h>

#include "api/api.h"
#include "core/codes.h"

#define SCAN_BODY 1024 /* {"code": 56 characters} and what a scan may add: a few hundred bytes */

/* The answer when a scan cannot be written: the same for every scan, so rendered once. */
static char fail_body[256];

static void render_fail(void)
{
	ss_api_error_text(SS_BUSY, "the scan could not be recorded; scan again", fail_body, sizeof(fail_body));
}

/* Called by the scan writer once the record is committed (or not). */
static void scan_recorded(void *ctx, enum ss_err err)
{
	ss_http_resume(ctx, err == SS_OK);
}

static enum ss_err scans_create(struct ss_api_call *c)
{
	const char *code;
	struct ss_scan_answer ans;
	enum ss_err err = ss_json_get_str(c->body, "code", true, SS_CODE_INPUT_MAX, &code);
	if (err)
		return err;
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, render_fail);
	struct ss_http_deferred *d = ss_http_defer(c->req, ss_err_status(SS_BUSY), fail_body);
	if ((err = ss_codes_scan(c->app, &c->terminal, code, strlen(code), &ans, scan_recorded, d))) {
		ss_http_resume(d, false); /* nothing was recorded: the failure answer goes out */
		return SS_OK;
	}
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "scan_id", ans.scan_id);
	ss_jw_ktime(&c->w, "scanned_at", ans.scanned_at_ms / 1000);
	ss_jw_kstr(&c->w, "result", ss_scan_result_name(ans.result));
	if (ans.has_person) {
		ss_jw_key(&c->w, "person");
		ss_jw_obj_begin(&c->w);
		ss_jw_kstr(&c->w, "name", ans.name);
		if (ans.has_id)
			ss_jw_kstr(&c->w, "id_number", ans.id_masked);
		ss_jw_obj_end(&c->w);
	}
	if (ans.has_presenter) { /* a relative's code: who presents it (core/dependents.h) */
		ss_jw_key(&c->w, "presented_by");
		ss_jw_obj_begin(&c->w);
		ss_jw_kstr(&c->w, "name", ans.presenter_name);
		ss_jw_kstr(&c->w, "relation", ans.relation);
		ss_jw_obj_end(&c->w);
	}
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

static enum ss_err terminal_me(struct ss_api_call *c)
{
	struct ss_terminal_row row;
	enum ss_err err = c->app->store->ops->terminal_get(c->app->store, c->terminal.terminal_id, c->req->arena, &row);
	if (err)
		return err;
	ss_api_cache(c, 0);
	ss_jw_obj_begin(&c->w);
	ss_jw_kint(&c->w, "terminal_id", row.terminal_id);
	ss_jw_kstr(&c->w, "org", row.org);
	ss_jw_kstr(&c->w, "place", row.place);
	ss_jw_kstr(&c->w, "scene", c->terminal.scene->name);
	ss_jw_kstr(&c->w, "scene_label", c->terminal.scene->label);
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

const struct ss_api_route ss_api_terminal_routes[] = {
        {"GET", "/v1/terminals/me", "GET /v1/terminals/me", SS_AUTH_TERMINAL, 0, 0, terminal_me},
        {"POST", "/v1/scans", "POST /v1/scans", SS_AUTH_TERMINAL, 0, SCAN_BODY, scans_create, .lane = SS_LANE_INLINE},
        {.method = NULL},
};
