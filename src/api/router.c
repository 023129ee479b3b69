/* router: route matching, lanes and their threads, authentication, roles, body parsing, errors (see router.h). */
#include "api/router.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "api/api.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "core/audit.h"
#include "core/identity.h"
#include "base/time.h"
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
        {"GET", "/healthz", "GET /healthz", SS_AUTH_NONE, 0, 0, healthz, .lane = SS_LANE_INLINE},
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

/*
 * The credentials of a call, as far as they can be checked before its body:
 * all of a bearer token; of a signed request, the client (a source client
 * from the store; a terminal's only on the scan path, from its cache, after
 * the body) and the headers' forms and window. Runs where the route's lane
 * says: a store read only on the router's threads.
 */
static enum ss_err authenticate_head(struct ss_api_call *c)
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
		int64_t id;
		if ((err = ss_sign_client_id(&sr, &id)))
			return err;
		return ss_sign_check_headers(sr.timestamp, sr.nonce, sr.signature, ss_time_now());
	}
	case SS_AUTH_SOURCE: {
		struct ss_signed_request sr = signed_request(c->req, "X-Client-Id");
		return ss_source_client_identify(c->app, &sr, &c->client);
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

/* The rest of a signed request's check, once its body is in: the signature and the nonce. */
static enum ss_err authenticate_body(struct ss_api_call *c)
{
	switch (c->route->auth) {
	case SS_AUTH_TERMINAL: {
		struct ss_signed_request sr = signed_request(c->req, "X-Terminal-Id");
		return ss_terminal_authenticate(c->app, &sr, &c->terminal);
	}
	case SS_AUTH_SOURCE: {
		struct ss_signed_request sr = signed_request(c->req, "X-Client-Id");
		return ss_source_client_verify(c->app, &sr, &c->client);
	}
	default:
		return SS_OK;
	}
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

/* Every 503 and 429 says when to come back. */
static void retry_after(struct ss_http_resp *resp, enum ss_err err)
{
	if (err != SS_BUSY && err != SS_RATE_LIMITED)
		return;
	for (size_t i = 0; i < resp->nheaders; i++)
		if (!strcasecmp(resp->header_names[i], "Retry-After"))
			return;
	ss_http_resp_header(resp, "Retry-After", "1");
}

static void render_error(struct ss_http_resp *resp, enum ss_err err, const char *errors)
{
	resp->status = ss_err_status(err);
	resp->content_type = "application/json";
	write_error(&resp->body, err, ss_err_message(), ss_err_field(), errors);
	retry_after(resp, err);
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
 * The router's threads. The work pool runs whatever may block (the store):
 * a queue (bounded: 503 when full) and threads at a lower priority than the
 * server's, so that scans, answered on the server's threads, come first. The
 * slow pool runs the password-hashing routes (log-in, registration), which
 * anyone may call: each source (a keyed hash of the peer's address, from the
 * server) may have at most SLOW_PER_SOURCE of them admitted at once and
 * slow_rate a second (ss_api_set_slow_rate; a bucket of twice that: a log-in
 * refused early, its number locked, still reads and writes the store), the excess is
 * answered 429 after a delay (TARPIT_MS: a flood from one address cannot
 * turn the refusals into a load of their own), and the threads take the
 * sources in turn, one call each, so that a source with a long queue does not
 * keep the others waiting behind it.
 */
#define WORK_QUEUE      4096
#define WORK_NICE       19
#define SLOW_MAX        256 /* slow calls admitted (queued or running), in all */
#define SLOW_PER_SOURCE 8
#define SLOW_RATE       20.0 /* a second, per source, unless ss_api_set_slow_rate says otherwise */
#define RATE_SLOTS      4096 /* sources remembered for their rate; the least recently seen go first */
#define RATE_PROBE      8
#define TARPIT_MS       500
#define TARPIT_MAX      65536

enum { STAGE_HEAD, STAGE_BODY };

struct queue {
	struct ss_api_call *head, *tail;
	size_t n;
};

static void queue_push(struct queue *q, struct ss_api_call *c)
{
	c->next = NULL;
	if (q->tail)
		q->tail->next = c;
	else
		q->head = c;
	q->tail = c;
	q->n++;
}

static struct ss_api_call *queue_pop(struct queue *q)
{
	struct ss_api_call *c = q->head;
	if (!c)
		return NULL;
	q->head = c->next;
	if (!q->head)
		q->tail = NULL;
	q->n--;
	return c;
}

/* A source of slow calls: those of its calls admitted (queued or running), and its queue. */
struct source {
	uint64_t key; /* 0: a free entry */
	unsigned admitted;
	struct queue waiting;
};

/* A source's bucket of slow calls: tokens refill at slow_rate a second, up to twice that. */
struct rate {
	uint64_t key; /* 0: free */
	double tokens;
	int64_t at_us; /* when tokens was last brought up to date */
};

struct tarpit_entry {
	int64_t due_us;
	struct ss_http_deferred *d;
};

struct ss_api {
	struct ss_app *app;
	const struct ss_pages *pages; /* the web pages, or NULL */
	pthread_mutex_t lock;         /* guards everything below */
	pthread_cond_t work_wake, slow_wake, tarpit_wake;
	bool stopping;
	struct queue work;
	struct source sources[SLOW_MAX];
	struct rate rates[RATE_SLOTS];
	double slow_rate;
	unsigned slow_admitted;
	unsigned slow_cursor;        /* where the next slow call is looked for: the sources in turn */
	struct tarpit_entry *tarpit; /* a ring of TARPIT_MAX: the delay is constant, so first in is first due */
	size_t tarpit_head, tarpit_n;
	pthread_t tarpit_thread;
	bool has_tarpit;
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
	if (err)
		render_error(c->resp, err, c->errors);
	audit_staff_call(c, err ? ss_err_status(err) : c->resp->status ? c->resp->status : 200);
	ss_json_free(c->body);
	c->body = NULL;
}

/*
 * An endpoint without a body also takes an empty JSON object, which many
 * clients send with every POST; at most NO_BODY_MAX bytes of it.
 */
#define NO_BODY_MAX 16

static size_t body_limit(const struct ss_api_route *route)
{
	return route->body_max ? route->body_max : NO_BODY_MAX;
}

/* Parses the body (an endpoint without one takes an empty object: parsed as any body is, then no member). */
static enum ss_err parse_body(struct ss_api_call *c)
{
	const struct ss_api_route *route = c->route;
	enum ss_err err;
	if ((route->body_max || c->req->body_len) && (err = ss_json_parse(c->req->body, c->req->body_len, &c->body)))
		return err;
	static const char *const no_members[] = {NULL};
	if (!route->body_max && c->body && ss_json_unknown_member(c->body, no_members))
		return ss_fail(SS_INVALID, NULL, "this endpoint takes no body");
	return SS_OK;
}

/* What every lane does once the body is in and the credentials are checked: parse, handle, finish. */
static void handle(struct ss_api_call *c)
{
	enum ss_err err = parse_body(c);
	if (!err)
		err = c->route->fn(c);
	finish(c, err);
}

/* Sets the thread's nice value (Linux keeps one per thread): the pools yield to the server's threads. */
static void lower_priority(int nice)
{
	if (setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice) != 0)
		ss_log_warn("thread_priority", "nice=%d", nice);
}

/*
 * A work-pool call: its credentials (STAGE_HEAD, before the body; then the
 * body is read, and it comes back as STAGE_BODY), the part of them that
 * needed the body, and the handler. A refusal before the body leaves it
 * unread: the server closes the connection after the answer.
 */
static void work_call(struct ss_api_call *c)
{
	enum ss_err err = SS_OK;
	ss_err_clear();
	if (c->stage == STAGE_HEAD && !(err = authenticate_head(c)) && c->req->has_body) {
		c->stage = STAGE_BODY;
		ss_http_resume_body(c->deferred, body_limit(c->route));
		return;
	}
	if (!err && !(err = authenticate_body(c)))
		handle(c);
	else
		finish(c, err);
	ss_http_resume(c->deferred, true);
}

static void *work_worker(void *arg)
{
	struct ss_api *api = arg;
	lower_priority(WORK_NICE);
	for (;;) {
		pthread_mutex_lock(&api->lock);
		while (!api->work.n && !api->stopping)
			pthread_cond_wait(&api->work_wake, &api->lock);
		struct ss_api_call *c = queue_pop(&api->work);
		pthread_mutex_unlock(&api->lock);
		if (!c)
			return NULL;
		work_call(c);
		/*
		 * Give way after each call: a nice value alone lets this thread finish its time slice (a millisecond or
		 * more) before a scan thread that has just woken runs, and scans wait for many such wake-ups.
		 */
		sched_yield();
	}
}

/* Queues c on the work pool, deferring its answer; SS_BUSY (and nothing deferred) if the queue is full. */
static enum ss_err to_work(struct ss_api *api, struct ss_api_call *c, int stage)
{
	const char *fail = ss_api_error_body(c, SS_BUSY, "the server is busy; try again");
	pthread_mutex_lock(&api->lock);
	if (api->work.n >= WORK_QUEUE || api->stopping) {
		pthread_mutex_unlock(&api->lock);
		return ss_fail(SS_BUSY, NULL, "the server is busy; try again");
	}
	c->stage = stage;
	c->deferred = ss_http_defer(c->req, ss_err_status(SS_BUSY), fail);
	queue_push(&api->work, c);
	pthread_cond_signal(&api->work_wake);
	pthread_mutex_unlock(&api->lock);
	return SS_OK;
}

/* The entry of source key (made if need be, when there is room); NULL if there is none and no room. Locked. */
static struct source *source_of(struct ss_api *api, uint64_t key, bool make)
{
	struct source *free_entry = NULL;
	for (unsigned i = 0; i < SLOW_MAX; i++) {
		if (api->sources[i].key == key)
			return &api->sources[i];
		if (!api->sources[i].key && !free_entry)
			free_entry = &api->sources[i];
	}
	if (!make || !free_entry)
		return NULL;
	*free_entry = (struct source){.key = key ? key : 1};
	return free_entry;
}

/* The bucket of source key, brought up to date at now (made, or taken from the least recently seen). Locked. */
static struct rate *rate_of(struct ss_api *api, uint64_t key, int64_t now)
{
	size_t home = (size_t)(key * 0x9E3779B97F4A7C15ull >> 52) % RATE_SLOTS;
	struct rate *r = NULL, *oldest = NULL;
	for (size_t i = 0; i < RATE_PROBE && !r; i++) {
		struct rate *e = &api->rates[(home + i) % RATE_SLOTS];
		if (e->key == key)
			r = e;
		else if (!oldest || !e->key || (oldest->key && e->at_us < oldest->at_us))
			oldest = e;
	}
	if (!r) { /* new, or forgotten: a full bucket (a source forgotten has been quiet the longest) */
		r = oldest;
		*r = (struct rate){.key = key, .tokens = 2 * api->slow_rate, .at_us = now};
	}
	r->tokens += (double)(now - r->at_us) / 1e6 * api->slow_rate;
	if (r->tokens > 2 * api->slow_rate)
		r->tokens = 2 * api->slow_rate;
	r->at_us = now;
	return r;
}

/* Why source key may not have one more slow call now (SS_RATE_LIMITED, SS_BUSY), or SS_OK. Locked. */
static enum ss_err slow_refusal(struct ss_api *api, uint64_t key)
{
	struct source *s = source_of(api, key, false);
	if ((s && s->admitted >= SLOW_PER_SOURCE) || rate_of(api, key, ss_time_mono_us())->tokens < 1.0)
		return ss_fail(SS_RATE_LIMITED, NULL,
		               "too many log-ins and registrations from this address; try again");
	if (api->slow_admitted >= SLOW_MAX || api->stopping)
		return ss_fail(SS_BUSY, NULL, "the server is busy; try again");
	return SS_OK;
}

/* The next slow call, taking the sources in turn. Locked. */
static struct ss_api_call *slow_next(struct ss_api *api)
{
	for (unsigned k = 0; k < SLOW_MAX; k++) {
		struct source *s = &api->sources[(api->slow_cursor + k) % SLOW_MAX];
		if (s->key && s->waiting.n) {
			api->slow_cursor = (api->slow_cursor + k + 1) % SLOW_MAX;
			return queue_pop(&s->waiting);
		}
	}
	return NULL;
}

static void *slow_worker(void *arg)
{
	struct ss_api *api = arg;
	/* at the server's priority: it holds the store; its argon2 runs on a low-priority thread (base/lowprio.h) */
	for (;;) {
		struct ss_api_call *c;
		pthread_mutex_lock(&api->lock);
		while (!(c = slow_next(api)) && !api->stopping)
			pthread_cond_wait(&api->slow_wake, &api->lock);
		pthread_mutex_unlock(&api->lock);
		if (!c)
			return NULL;
		ss_err_clear();
		handle(c);
		pthread_mutex_lock(&api->lock);
		struct source *s = source_of(api, c->req->source ? c->req->source : 1, false);
		if (s && --s->admitted == 0 && !s->waiting.n)
			s->key = 0;
		api->slow_admitted--;
		pthread_mutex_unlock(&api->lock);
		ss_http_resume(c->deferred, true);
	}
}

/* Admits c to the slow pool, deferring its answer; the refusal (and nothing deferred) if it may not. */
static enum ss_err to_slow(struct ss_api *api, struct ss_api_call *c)
{
	const char *fail = ss_api_error_body(c, SS_BUSY, "the server is busy; try again");
	uint64_t key = c->req->source ? c->req->source : 1;
	pthread_mutex_lock(&api->lock);
	enum ss_err err = slow_refusal(api, key);
	struct source *s = err ? NULL : source_of(api, key, true);
	if (!err && !s)
		err = ss_fail(SS_BUSY, NULL, "the server is busy; try again");
	if (err) {
		pthread_mutex_unlock(&api->lock);
		return err;
	}
	s->admitted++;
	api->slow_admitted++;
	rate_of(api, key, ss_time_mono_us())->tokens -= 1.0;
	c->deferred = ss_http_defer(c->req, ss_err_status(SS_BUSY), fail);
	queue_push(&s->waiting, c);
	pthread_cond_signal(&api->slow_wake);
	pthread_mutex_unlock(&api->lock);
	return SS_OK;
}

/* Answers c's error after TARPIT_MS (at once if the tarpit is full); the answer is rendered now. */
static void refuse_slowly(struct ss_api *api, struct ss_api_call *c, enum ss_err err)
{
	finish(c, err);
	ss_metrics_count("suishen_slow_refused_total", "log-ins and registrations refused: over a source's share", 1);
	struct ss_http_deferred *d = ss_http_defer(c->req, ss_err_status(SS_BUSY), "");
	pthread_mutex_lock(&api->lock);
	if (!api->has_tarpit || api->tarpit_n == TARPIT_MAX) {
		pthread_mutex_unlock(&api->lock);
		ss_http_resume(d, true);
		return;
	}
	api->tarpit[(api->tarpit_head + api->tarpit_n) % TARPIT_MAX] =
	        (struct tarpit_entry){.due_us = ss_time_mono_us() + TARPIT_MS * 1000, .d = d};
	if (api->tarpit_n++ == 0)
		pthread_cond_signal(&api->tarpit_wake);
	pthread_mutex_unlock(&api->lock);
}

static void *tarpit_worker(void *arg)
{
	struct ss_api *api = arg;
	pthread_mutex_lock(&api->lock);
	for (;;) {
		if (!api->tarpit_n) {
			if (api->stopping)
				break;
			pthread_cond_wait(&api->tarpit_wake, &api->lock);
			continue;
		}
		struct tarpit_entry e = api->tarpit[api->tarpit_head];
		int64_t now = ss_time_mono_us();
		if (e.due_us > now && !api->stopping) {
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			int64_t ns = (int64_t)ts.tv_nsec + (e.due_us - now) * 1000;
			ts.tv_sec += (time_t)(ns / 1000000000);
			ts.tv_nsec = (long)(ns % 1000000000);
			pthread_cond_timedwait(&api->tarpit_wake, &api->lock, &ts);
			continue;
		}
		api->tarpit_head = (api->tarpit_head + 1) % TARPIT_MAX;
		api->tarpit_n--;
		pthread_mutex_unlock(&api->lock);
		ss_http_resume(e.d, true);
		pthread_mutex_lock(&api->lock);
	}
	pthread_mutex_unlock(&api->lock);
	return NULL;
}

struct ss_api *ss_api_new(struct ss_app *app, unsigned cpus)
{
	if (cpus == 0)
		cpus = 1;
	unsigned nwork = 2 * cpus, nslow = cpus;
	struct ss_api *api = ss_calloc(1, sizeof(*api) + (nwork + nslow) * sizeof(pthread_t));
	api->app = app;
	api->slow_rate = SLOW_RATE;
	pthread_mutex_init(&api->lock, NULL);
	pthread_cond_init(&api->work_wake, NULL);
	pthread_cond_init(&api->slow_wake, NULL);
	pthread_cond_init(&api->tarpit_wake, NULL);
	api->tarpit = ss_malloc(TARPIT_MAX * sizeof(*api->tarpit));
	api->has_tarpit = pthread_create(&api->tarpit_thread, NULL, tarpit_worker, api) == 0;
	for (unsigned i = 0; i < nwork + nslow; i++) {
		if (pthread_create(&api->threads[api->nthreads], NULL, i < nwork ? work_worker : slow_worker, api) != 0)
			break;
		api->nthreads++;
	}
	if (api->nthreads < nwork + nslow)
		ss_log_error("api_threads", "started=%u wanted=%u", api->nthreads, nwork + nslow);
	return api;
}

void ss_api_free(struct ss_api *api)
{
	if (!api)
		return;
	pthread_mutex_lock(&api->lock);
	api->stopping = true;
	pthread_cond_broadcast(&api->work_wake);
	pthread_cond_broadcast(&api->slow_wake);
	pthread_cond_broadcast(&api->tarpit_wake);
	pthread_mutex_unlock(&api->lock);
	for (unsigned i = 0; i < api->nthreads; i++)
		pthread_join(api->threads[i], NULL);
	if (api->has_tarpit)
		pthread_join(api->tarpit_thread, NULL);
	/* calls still queued (the server stopped waiting for them): answered 503 (their connections are gone) */
	struct ss_api_call *c;
	while ((c = queue_pop(&api->work)))
		ss_http_resume(c->deferred, false);
	for (unsigned i = 0; i < SLOW_MAX; i++)
		while ((c = queue_pop(&api->sources[i].waiting)))
			ss_http_resume(c->deferred, false);
	pthread_mutex_destroy(&api->lock);
	pthread_cond_destroy(&api->work_wake);
	pthread_cond_destroy(&api->slow_wake);
	pthread_cond_destroy(&api->tarpit_wake);
	free(api->tarpit);
	free(api);
}

void ss_api_set_pages(struct ss_api *api, const struct ss_pages *pages)
{
	api->pages = pages;
}

void ss_api_set_slow_rate(struct ss_api *api, unsigned per_second)
{
	pthread_mutex_lock(&api->lock);
	api->slow_rate = per_second ? per_second : SLOW_RATE;
	pthread_mutex_unlock(&api->lock);
}

/* The answer of c is ready (resp, or err's error body): for head() and the handler on the server's thread. */
static enum ss_http_next answer_now(struct ss_api_call *c, enum ss_err err)
{
	finish(c, err);
	return SS_HTTP_ANSWER;
}

/* X-Channel, wherever it is sent, is one of the channels (a resident's routes read it with ss_api_channel). */
static enum ss_err check_channel(struct ss_api_call *c)
{
	const char *ch;
	return ss_api_channel(c, &ch);
}

enum ss_http_next ss_api_head(void *ctx, struct ss_http_req *req, struct ss_http_resp *resp)
{
	struct ss_api *api = ctx;
	struct ss_api_call *c = ss_arena_alloc(req->arena, sizeof(*c));
	const struct ss_api_route *route = NULL;
	enum ss_err err;

	*c = (struct ss_api_call){.app = api->app, .api = api, .req = req, .resp = resp};
	req->app = c;
	ss_err_clear();
	ss_jw_init(&c->w, &resp->body);
	if (req->body_err == SS_BUSY) { /* the server is stopping: nothing new is begun */
		req->route = "stopping";
		return answer_now(c, ss_fail(SS_BUSY, NULL, "the server is stopping; try another"));
	}
	if (!strcmp(req->method, "HEAD")) /* answered as GET; the server sends no body */
		req->method = "GET";
	if ((err = find(req->method, req->path, req->arena, c->params, &route))) {
		/* not the API: one of the pages or their assets? */
		if (err == SS_NOT_FOUND && !strcmp(req->method, "GET") && ss_pages_serve(api->pages, req, resp))
			return SS_HTTP_ANSWER;
		if (err == SS_NOT_FOUND && !api->pages && !strcmp(req->method, "GET") && ss_pages_page(req->path))
			err = ss_fail(SS_NOT_FOUND, NULL,
			              "the pages are not built or could not be loaded (the server's log, "
			              "event no_pages, says why; the reason names its files, so not here)");
		if (err == SS_METHOD)
			ss_http_resp_header(resp, "Allow", allowed(req->path, req->arena));
		return answer_now(c, err);
	}
	c->route = route;
	req->route = route->name;
	req->low_priority = route->lane != SS_LANE_INLINE; /* its connection moves to the server's other threads */
	if ((err = check_channel(c)))
		return answer_now(c, err);
	switch (route->lane) {
	case SS_LANE_INLINE:
		/* memory only: a terminal's headers now, the rest once the (small) body is in */
		if ((err = authenticate_head(c)))
			return answer_now(c, err);
		req->body_max = body_limit(route);
		return SS_HTTP_BODY;
	case SS_LANE_SLOW:
		/* a source over its share is told so before its body is read, let alone hashed */
		pthread_mutex_lock(&api->lock);
		err = slow_refusal(api, req->source ? req->source : 1);
		pthread_mutex_unlock(&api->lock);
		if (err == SS_RATE_LIMITED) {
			refuse_slowly(api, c, err);
			return SS_HTTP_WAIT;
		}
		if (err)
			return answer_now(c, err);
		req->body_max = body_limit(route);
		return SS_HTTP_BODY;
	case SS_LANE_WORK:
		if (route->auth == SS_AUTH_NONE) {
			req->body_max = body_limit(route);
			return SS_HTTP_BODY;
		}
		/* credentials need the store: checked on the work pool, and only then is the body read */
		if ((err = to_work(api, c, STAGE_HEAD)))
			return answer_now(c, err);
		return SS_HTTP_WAIT;
	}
	return answer_now(c, ss_fail(SS_INTERNAL, NULL, "route has no lane"));
}

void ss_api_handle(void *ctx, struct ss_http_req *req, struct ss_http_resp *resp)
{
	struct ss_api *api = ctx;
	struct ss_api_call *c = req->app;
	enum ss_err err;

	ss_err_clear();
	switch (c->route->lane) {
	case SS_LANE_INLINE:
		if ((err = authenticate_body(c)))
			finish(c, err);
		else
			handle(c);
		return;
	case SS_LANE_SLOW:
		if ((err = to_slow(api, c)) == SS_RATE_LIMITED)
			refuse_slowly(api, c, err);
		else if (err)
			finish(c, err);
		return;
	case SS_LANE_WORK:
		/* a route without credentials comes here with its body; one with them, after its credentials */
		if ((err = to_work(api, c, STAGE_BODY)))
			finish(c, err);
		return;
	}
}

void ss_api_error(void *ctx, enum ss_err err, const char *msg, struct ss_buf *out)
{
	(void)ctx;
	write_error(out, err, msg, NULL, NULL);
}
