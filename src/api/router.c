/* router: route matching, authentication, roles, body parsing, error rendering (see router.h). */
#include "api/router.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "core/audit.h"
#include "core/identity.h"
#include "http/metrics.h"
#include "http/pages.h"

static enum ss_err healthz(struct ss_api_call *c)
{
	ss_jw_obj_begin(&c->w);
	ss_jw_kstr(&c->w, "status", "ok");
	ss_jw_obj_end(&c->w);
	return SS_OK;
}

static enum ss_err metrics(struct ss_api_call *c)
{
	c->resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	enum ss_err err = ss_metrics_render(&c->resp->body);
	return err ? err : ss_api_appeal_metrics(c->app, &c->resp->body);
}

static const struct ss_api_route system_routes[] = {
        {"GET", "/healthz", "GET /healthz", SS_AUTH_NONE, 0, 0, healthz},
        {"GET", "/metrics", "GET /metrics", SS_AUTH_NONE, 0, 0, metrics},
        {.method = NULL},
};

static const struct ss_api_route *const tables[] = {
        system_routes,        ss_api_citizen_routes, ss_api_staff_routes,     ss_api_terminal_routes,
        ss_api_source_routes, ss_api_appeal_routes,  ss_api_dependent_routes, ss_api_dashboard_routes};

/* Matches path against pattern, collecting {params} into params (arena copies). */
static bool match(const char *pattern, const char *path, struct ss_arena *a, const char **params)
{
	size_t np = 0;
	while (*pattern && *path) {
		if (*pattern == '{') {
			const char *end = strchr(pattern, '}');
			size_t n = strcspn(path, "/");
			if (!end || n == 0 || np == SS_API_MAX_PARAMS)
				return false;
			params[np++] = ss_arena_strndup(a, path, n);
			pattern = end + 1;
			path += n;
			continue;
		}
		if (*pattern++ != *path++)
			return false;
	}
	return *pattern == '\0' && *path == '\0';
}

/* The route for method and path: SS_NOT_FOUND if no pattern fits, SS_METHOD if only other methods do. */
static enum ss_err find(const char *method, const char *path, struct ss_arena *a, const char **params,
                        const struct ss_api_route **out)
{
	bool path_known = false;
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++) {
		for (const struct ss_api_route *r = tables[t]; r->method; r++) {
			if (!match(r->pattern, path, a, params))
				continue;
			path_known = true;
			if (!strcmp(r->method, method)) {
				*out = r;
				return SS_OK;
			}
		}
	}
	if (path_known)
		return ss_fail(SS_METHOD, NULL, "method %s is not allowed here", method);
	return ss_fail(SS_NOT_FOUND, NULL, "no such endpoint");
}

/* The methods a path admits, for the Allow header of a 405. */
static const char *allowed(const char *path, struct ss_arena *a)
{
	const char *params[SS_API_MAX_PARAMS];
	char *list = ss_arena_strdup(a, "");
	for (size_t t = 0; t < sizeof(tables) / sizeof(tables[0]); t++)
		for (const struct ss_api_route *r = tables[t]; r->method; r++)
			if (match(r->pattern, path, a, params))
				list = ss_arena_printf(a, "%s%s%s", list, *list ? ", " : "", r->method);
	return list;
}

static const char *bearer(const struct ss_http_req *req)
{
	const char *h = ss_http_header(req, "Authorization");
	if (!h || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return h;
}

/* The signed request in req's headers, its client named by id_header. */
static struct ss_signed_request signed_request(const struct ss_http_req *req, const char *id_header)
{
	return (struct ss_signed_request){
	        .id_header = id_header,
	        .id = ss_http_header(req, id_header),
	        .timestamp = ss_http_header(req, "X-Timestamp"),
	        .nonce = ss_http_header(req, "X-Nonce"),
	        .signature = ss_http_header(req, "X-Signature"),
	        .method = req->method,
	        .path = req->path,
	        .body = req->body,
	        .body_len = req->body_len,
	};
}

static enum ss_err authenticate(struct ss_api_call *c)
{
	const char *token = bearer(c->req);
	enum ss_err err;
	switch (c->route->auth) {
	case SS_AUTH_NONE:
		return SS_OK;
	case SS_AUTH_CITIZEN:
		c->token = token;
		return ss_identity_authenticate(c->app, token, &c->citizen_id);
	case SS_AUTH_TERMINAL: {
		struct ss_signed_request sr = signed_request(c->req, "X-Terminal-Id");
		return ss_terminal_authenticate(c->app, &sr, &c->terminal);
	}
	case SS_AUTH_SOURCE: {
		struct ss_signed_request sr = signed_request(c->req, "X-Client-Id");
		return ss_source_client_authenticate(c->app, &sr, &c->client);
	}
	case SS_AUTH_STAFF:
		if ((err = ss_staff_authenticate(c->app, token, &c->staff)))
			return err;
		if (!(c->route->roles & (unsigned)c->staff.role))
			return ss_fail(SS_DENIED, NULL, "role %s may not do this", ss_role_name(c->staff.role));
		return SS_OK;
	}
	return ss_fail(SS_INTERNAL, NULL, "route has no authentication rule");
}

enum ss_err ss_api_channel(struct ss_api_call *c, const char **channel)
{
	const char *ch = ss_http_header(c->req, "X-Channel");
	if (!ch) {
		*channel = "web";
		return SS_OK;
	}
	if (!ss_channel_is_valid(ch))
		return ss_fail(SS_INVALID, "X-Channel", "X-Channel must be app, wechat, alipay or web");
	*channel = ch;
	return SS_OK;
}

/* Writes the error body of err: the one place an error becomes an answer. */
static void write_error(struct ss_buf *out, enum ss_err err, const char *msg, const char *field, const char *errors)
{
	struct ss_jw w;
	if (err == SS_INTERNAL) { /* the detail is in the log, not in the answer */
		msg = "internal error";
		field = NULL;
	} else if (!msg || !*msg) {
		msg = ss_err_code(err);
	}
	ss_buf_reset(out);
	ss_jw_init(&w, out);
	ss_jw_obj_begin(&w);
	ss_jw_key(&w, "error");
	ss_jw_obj_begin(&w);
	ss_jw_kstr(&w, "code", ss_err_code(err));
	ss_jw_kstr(&w, "message", msg);
	if (field)
		ss_jw_kstr(&w, "field", field);
	ss_jw_obj_end(&w);
	if (errors && err != SS_INTERNAL) { /* the details of a refusal, e.g. each bad record of a batch */
		ss_jw_key(&w, "errors");
		ss_jw_raw(&w, errors, strlen(errors));
	}
	ss_jw_obj_end(&w);
	if (ss_jw_finish(&w) != SS_OK)
		ss_log_error("error_render", "msg=\"error body too large\"");
}

static void render_error(struct ss_http_resp *resp, enum ss_err err, const char *errors)
{
	resp->status = ss_err_status(err);
	resp->content_type = "application/json";
	write_error(&resp->body, err, ss_err_message(), ss_err_field(), errors);
}

const char *ss_api_error_body(struct ss_api_call *c, enum ss_err err, const char *msg)
{
	struct ss_buf b;
	ss_buf_init(&b, 4096);
	write_error(&b, err, msg, NULL, NULL);
	const char *body = ss_arena_strdup(c->req->arena, ss_buf_str(&b));
	ss_buf_release(&b);
	return body;
}

void ss_api_error_text(enum ss_err err, const char *msg, char *out, size_t n)
{
	struct ss_buf b;
	ss_buf_init(&b, 4096);
	write_error(&b, err, msg, NULL, NULL);
	snprintf(out, n, "%s", ss_buf_str(&b));
	ss_buf_release(&b);
}

void ss_api_cache(struct ss_api_call *c, int max_age)
{
	if (max_age <= 0)
		ss_http_resp_header(c->resp, "Cache-Control", "no-store");
	else
		ss_http_resp_header(c->resp, "Cache-Control", ss_arena_printf(c->req->arena, "max-age=%d", max_age));
}

/*
 * The slow pool: threads that run the handlers of slow routes (argon2id
 * log-ins and registrations, tens of milliseconds of CPU each), so that the
 * server's threads go on answering scans meanwhile. Its queue is bounded:
 * when it is full, slow requests are refused with 503 at once.
 */
#define SLOW_QUEUE 256

struct ss_api {
	struct ss_app *app;
	const struct ss_pages *pages; /* the web pages, or NULL */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct ss_api_call *queue[SLOW_QUEUE];
	size_t head, count;
	bool stopping;
	unsigned nthreads;
	pthread_t threads[];
};

/*
 * The audit entry of a call by an authenticated member of staff: the route,
 * the answer's status, and what the handler said it touched. An entry that
 * cannot be written is logged (ss_audit); the answer stands.
 */
static void audit_staff_call(struct ss_api_call *c, int status)
{
	if (!c->route || c->route->auth != SS_AUTH_STAFF || c->staff.staff_id <= 0)
		return;
	struct ss_buf b;
	struct ss_jw w;
	ss_buf_init(&b, 8192);
	ss_jw_init(&w, &b);
	ss_jw_obj_begin(&w);
	ss_jw_kint(&w, "status", status);
	if (c->audit.detail) {
		ss_jw_key(&w, "call");
		ss_jw_raw(&w, c->audit.detail, strlen(c->audit.detail));
	}
	ss_jw_obj_end(&w);
	struct ss_audit_event e = {.actor = SS_ACTOR_STAFF,
	                           .actor_id = c->staff.staff_id,
	                           .action = c->route->name,
	                           .subject = c->audit.subject,
	                           .why = c->audit.why,
	                           .unmasked = c->audit.unmasked,
	                           .detail = ss_jw_finish(&w) == SS_OK ? ss_buf_str(&b) : "{}"};
	if (ss_audit(c->app, &e) != SS_OK) {
		/* logged by ss_audit; the answer stands */
	}
	ss_buf_release(&b);
}

/* Finishes a call: renders its error if any, audits a staff call, frees what it parsed. */
static void finish(struct ss_api_call *c, enum ss_err err)
{
	if (!err)
		err = ss_jw_finish(&c->w);
	if (err) {
		if (err == SS_TOO_BIG && c->req->body_err == SS_TOO_BIG)
			(void)ss_fail(SS_TOO_BIG, NULL, "the request body is too large");
		render_error(c->resp, err, c->errors);
	}
	audit_staff_call(c, err ? ss_err_status(err) : c->resp->status ? c->resp->status : 200);
	ss_json_free(c->body);
	c->body = NULL;
}

static void *slow_worker(void *arg)
{
	struct ss_api *api = arg;
	for (;;) {
		pthread_mutex_lock(&api->lock);
		while (api->count == 0 && !api->stopping)
			pthread_cond_wait(&api->wake, &api->lock);
		if (api->count == 0) {
			pthread_mutex_unlock(&api->lock);
			return NULL;
		}
		struct ss_api_call *c = api->queue[api->head];
		api->head = (api->head + 1) % SLOW_QUEUE;
		api->count--;
		pthread_mutex_unlock(&api->lock);

		ss_err_clear();
		finish(c, c->route->fn(c));
		ss_http_resume(c->deferred, true);
	}
}

/* Hands c to the slow pool, deferring its answer; SS_BUSY if the queue is full. */
static enum ss_err hand_over(struct ss_api *api, struct ss_api_call *c)
{
	struct ss_api_call *job = ss_arena_alloc(c->req->arena, sizeof(*job));
	struct ss_http_req *req = ss_arena_alloc(c->req->arena, sizeof(*req));
	const char *fail = ss_api_error_body(c, SS_BUSY, "the server is busy; try again");
	*req = *c->req;
	*job = *c;
	job->req = req;
	pthread_mutex_lock(&api->lock);
	if (api->count == SLOW_QUEUE || api->stopping) {
		pthread_mutex_unlock(&api->lock);
		return ss_fail(SS_BUSY, NULL, "the server is busy; try again");
	}
	job->deferred = ss_http_defer(c->req, ss_err_status(SS_BUSY), fail);
	api->queue[(api->head + api->count) % SLOW_QUEUE] = job;
	api->count++;
	pthread_cond_signal(&api->wake);
	pthread_mutex_unlock(&api->lock);
	c->body = NULL; /* the job owns it now */
	return SS_OK;
}

struct ss_api *ss_api_new(struct ss_app *app, unsigned slow_threads)
{
	if (slow_threads == 0)
		slow_threads = 1;
	struct ss_api *api = ss_calloc(1, sizeof(*api) + slow_threads * sizeof(pthread_t));
	api->app = app;
	pthread_mutex_init(&api->lock, NULL);
	pthread_cond_init(&api->wake, NULL);
	for (unsigned i = 0; i < slow_threads; i++) {
		if (pthread_create(&api->threads[i], NULL, slow_worker, api) != 0)
			break;
		api->nthreads++;
	}
	return api;
}

void ss_api_free(struct ss_api *api)
{
	if (!api)
		return;
	pthread_mutex_lock(&api->lock);
	api->stopping = true;
	pthread_cond_broadcast(&api->wake);
	pthread_mutex_unlock(&api->lock);
	for (unsigned i = 0; i < api->nthreads; i++)
		pthread_join(api->threads[i], NULL);
	pthread_mutex_destroy(&api->lock);
	pthread_cond_destroy(&api->wake);
	free(api);
}

/*
 * An endpoint without a body also takes an empty JSON object, which many
 * clients send with every POST; at most NO_BODY_MAX bytes of it.
 */
#define NO_BODY_MAX 16

void ss_api_set_pages(struct ss_api *api, const struct ss_pages *pages)
{
	api->pages = pages;
}

void ss_api_handle(void *ctx, struct ss_http_req *req, struct ss_http_resp *resp)
{
	struct ss_api *api = ctx;
	struct ss_api_call c = {.app = api->app, .req = req, .resp = resp};
	const struct ss_api_route *route = NULL;
	enum ss_err err;

	ss_err_clear();
	ss_jw_init(&c.w, &resp->body);
	if (req->body_err == SS_BUSY) { /* the server is stopping: nothing new is begun */
		req->route = "stopping";
		err = ss_fail(SS_BUSY, NULL, "the server is stopping; try another");
		goto out;
	}
	if (!strcmp(req->method, "HEAD")) /* answered as GET; the server sends no body */
		req->method = "GET";
	if ((err = find(req->method, req->path, req->arena, c.params, &route))) {
		/* not the API: one of the pages or their assets? */
		if (err == SS_NOT_FOUND && !strcmp(req->method, "GET") && ss_pages_serve(api->pages, req, resp))
			return;
		if (err == SS_NOT_FOUND && !api->pages && !strcmp(req->method, "GET") && ss_pages_page(req->path))
			err = ss_fail(SS_NOT_FOUND, NULL,
			              "the pages are not built or could not be loaded (the server's log, "
			              "event no_pages, says why; the reason names its files, so not here)");
		if (err == SS_METHOD)
			ss_http_resp_header(resp, "Allow", allowed(req->path, req->arena));
		goto out;
	}
	c.route = route;
	req->route = route->name;
	if ((err = req->body_err) || (err = authenticate(&c)))
		goto out;
	/* an endpoint without a body takes an empty object too: parsed as any body is, then it must have no member */
	if ((route->body_max || req->body_len) && (err = ss_json_parse(req->body, req->body_len, &c.body)))
		goto out;
	static const char *const no_members[] = {NULL};
	if (!route->body_max && c.body && ss_json_unknown_member(c.body, no_members)) {
		err = ss_fail(SS_INVALID, NULL, "this endpoint takes no body");
		goto out;
	}
	if (route->slow && api->nthreads) {
		if ((err = hand_over(api, &c)))
			goto out;
		return;
	}
	err = route->fn(&c);
out:
	finish(&c, err);
}

size_t ss_api_body_limit(void *ctx, const char *method, const char *path)
{
	(void)ctx;
	struct ss_arena a;
	const char *params[SS_API_MAX_PARAMS];
	const struct ss_api_route *route = NULL;
	ss_arena_init(&a);
	bool found = find(method, path, &a, params, &route) == SS_OK;
	ss_arena_release(&a);
	return found ? (route->body_max ? route->body_max : NO_BODY_MAX) : 0;
}
