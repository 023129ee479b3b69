/*
 * api: what the handlers of src/api/ share: a call (the request, who made it,
 * the parsed body, the response being written) and the route tables, one per
 * audience (citizen.c, staff.c). Routes are data: method, pattern with
 * {params}, who may call, how big a body may be, and the handler. The router
 * (router.c) matches, authenticates, checks roles, parses the JSON body, runs
 * the handler and turns any enum ss_err into the error body of the contract:
 * handlers only parse, call the core and render.
 */
#ifndef SS_API_API_H
#define SS_API_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/app.h"
#include "core/staff.h"
#include "core/source.h"
#include "core/terminal.h"
#include "json/json.h"
#include "http/server.h"

#define SS_API_MAX_PARAMS 4

enum ss_api_auth {
	SS_AUTH_NONE,     /* anyone */
	SS_AUTH_CITIZEN,  /* a resident's bearer token */
	SS_AUTH_STAFF,    /* a staff bearer token with one of the route's roles */
	SS_AUTH_TERMINAL, /* a request signed by a terminal (sign.h) */
	SS_AUTH_SOURCE,   /* a request signed by a source client (source.h) */
};

/*
 * Where a route's handler runs (router.c). Scans come first: they are
 * answered on the server's own threads from memory, while everything that
 * may touch the store or hash a password waits its turn on the router's
 * threads, which run at a lower priority, so that no other traffic can take
 * the processors from them.
 */
enum ss_api_lane {
	SS_LANE_WORK = 0, /* the work pool: credentials first (before any body is read), then the handler */
	SS_LANE_INLINE,   /* the server's thread: memory only (the health check; scans, whose answer waits for the
	                     scan writer) */
	SS_LANE_SLOW,     /* the slow pool (password hashing): unauthenticated, so limited per source, and served
	                     fairly, a source at a time */
};

struct ss_api_call;
typedef enum ss_err (*ss_api_fn)(struct ss_api_call *c);

struct ss_api_route {
	const char *method;
	const char *pattern; /* "/v1/me/dependents/{id}" */
	const char *name;    /* "GET /v1/me/dependents/{id}": metrics and logs */
	enum ss_api_auth auth;
	unsigned roles;  /* SS_AUTH_STAFF: the roles admitted (enum ss_role bits) */
	size_t body_max; /* 0: no body; else the body is one JSON object of at most this many bytes */
	ss_api_fn fn;
	enum ss_api_lane lane;
};

struct ss_api_call {
	struct ss_app *app;
	struct ss_http_req *req;
	struct ss_http_resp *resp;
	const struct ss_api_route *route;
	const char *params[SS_API_MAX_PARAMS]; /* the {params} of the pattern, in order */
	int64_t citizen_id;                    /* SS_AUTH_CITIZEN */
	const char *token;                     /* SS_AUTH_CITIZEN: the bearer token it came with */
	struct ss_staff staff;                 /* SS_AUTH_STAFF */
	struct ss_terminal terminal;           /* SS_AUTH_TERMINAL */
	struct ss_source_client client;        /* SS_AUTH_SOURCE */
	const char *errors;                    /* raw JSON of an "errors" member added to an error answer, or NULL */
	struct ss_json *body;                  /* routes with a body */
	struct ss_jw w;                        /* writes resp->body */
	struct ss_http_deferred *deferred;     /* the call's deferred answer, while the router's threads have it */
	struct ss_api *api;                    /* the router's */
	int stage;                             /* the router's: credentials checked, body read */
	struct ss_api_call *next;              /* the router's: in a pool's queue */
	/*
	 * What a staff call did, for its audit entry (the router writes one for
	 * every call of an authenticated member of staff, refused or not): the
	 * person it concerned, why, whether it read their data unmasked, and
	 * details as a JSON object of ids (no personal data).
	 */
	struct {
		int64_t subject;
		const char *why;
		bool unmasked;
		const char *detail;
	} audit;
};

/* The route tables, each ended by an entry with a NULL method. */
extern const struct ss_api_route ss_api_citizen_routes[];
extern const struct ss_api_route ss_api_staff_routes[];
extern const struct ss_api_route ss_api_terminal_routes[];
extern const struct ss_api_route ss_api_source_routes[];
extern const struct ss_api_route ss_api_dependent_routes[];
extern const struct ss_api_route ss_api_appeal_routes[];
extern const struct ss_api_route ss_api_dashboard_routes[];

/* Appends the appeals' gauges (open, overdue, decided, median time to decision) to a /metrics answer (appeals.c). */
enum ss_err ss_api_appeal_metrics(struct ss_app *app, struct ss_buf *out) SS_MUST;

/* The X-Channel of a resident's request ("web" when absent); SS_INVALID for an unknown one. */
enum ss_err ss_api_channel(struct ss_api_call *c, const char **channel) SS_MUST;

/* The error body of err with message msg, rendered into the request's arena (for deferred answers). */
const char *ss_api_error_body(struct ss_api_call *c, enum ss_err err, const char *msg);

/* The same into out (n bytes, truncated if need be). */
void ss_api_error_text(enum ss_err err, const char *msg, char *out, size_t n);

/* Allows caching of a response for max_age seconds (0: not at all, "no-store"). */
void ss_api_cache(struct ss_api_call *c, int max_age);

/* What a resident sees of a code holder, shared by their own endpoints and their relatives' (citizen.c). */
enum ss_api_code_form { SS_API_CODE_JSON, SS_API_CODE_SVG, SS_API_CODE_PNG };

/*
 * Issues a new code of person_id presented by presenter_id (0: the holder) and
 * writes it as GET /v1/me/code{,.svg,.png} answer: {"code","issued_at",
 * "expires_at"}, or a QR image in the holder's colour.
 */
enum ss_err ss_api_code(struct ss_api_call *c, int64_t person_id, int64_t presenter_id,
                        enum ss_api_code_form form) SS_MUST;

/* Writes the colour of person_id and its reasons as GET /v1/me/status does (default_since: green since when). */
enum ss_err ss_api_status(struct ss_api_call *c, int64_t person_id, int64_t default_since) SS_MUST;

/* Writes the scans of person_id's codes as GET /v1/me/scans does; presented_only: only relatives' codes. */
enum ss_err ss_api_scans(struct ss_api_call *c, int64_t person_id, bool presented_only) SS_MUST;

#endif
