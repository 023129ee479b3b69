/*
 * server: the HTTP server (the only file that includes <microhttpd.h>).
 *
 * libmicrohttpd runs in epoll mode with a pool of threads; connections are
 * kept alive. The server reads a request (method, path, headers, body up to a
 * per-request limit the application chooses) and hands it, complete, to one
 * application handler, which fills in a response. It knows nothing about
 * routes, JSON or authentication: that is the router's (src/api/router.c).
 *
 * A request and everything allocated from its arena live until its response
 * has been queued. Handlers run on the server's pool threads, several at once.
 * Every request is counted in metrics (metrics.h) under the route name the
 * handler sets, and logged as one line without personal data.
 */
#ifndef SS_HTTP_SERVER_H
#define SS_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"

#define SS_HTTP_MAX_RESP_HEADERS 12

struct ss_http_req {
	const char *method;   /* "GET", "POST", ... */
	const char *path;     /* the URL path, percent-decoded ("%2F" is "/"), without the query string */
	const char *body;     /* NUL-terminated; "" when there is none */
	size_t body_len;      /* bytes of body, not counting the NUL */
	enum ss_err body_err; /* SS_OK; SS_TOO_BIG if the body passed its limit (body is then ""); SS_BUSY if the
	                         request began after the server started stopping (answer it 503 at once) */
	const char *remote;   /* the peer's address as text ("127.0.0.1") */
	const char *route;    /* set by the handler: the route pattern ("POST /v1/citizens") for metrics and logs */
	struct ss_arena *arena;
	void *conn;  /* private to the server */
	void *state; /* private to the server */
};

struct ss_http_resp {
	int status;               /* default 200 */
	const char *content_type; /* default "application/json" */
	struct ss_buf body;       /* what to send; at most 16 MiB unless the handler re-initialises it */
	size_t nheaders;
	const char *header_names[SS_HTTP_MAX_RESP_HEADERS];
	const char *header_values[SS_HTTP_MAX_RESP_HEADERS];
};

/* A request header's value (name matched case-insensitively), or NULL. */
const char *ss_http_header(const struct ss_http_req *req, const char *name);

/* A query-string argument's value (URL-decoded), or NULL. */
const char *ss_http_query(const struct ss_http_req *req, const char *key);

/* Adds a response header; name and value must live as long as the request (use req->arena). */
void ss_http_resp_header(struct ss_http_resp *resp, const char *name, const char *value);

/*
 * Deferring an answer: a handler whose response may only be sent once
 * something else has happened (a scan is answered only after its record is
 * committed) calls ss_http_defer(), writes its response as usual and returns.
 * The connection then waits without holding a server thread until some thread
 * calls ss_http_resume() on the handle: with ok, the handler's response is
 * sent; without, fail_status and fail_body (a static string) are sent instead.
 * ss_http_resume() may come before the handler has returned; it must come
 * exactly once per handle. Until then the request, its arena and resp stay
 * valid, and another thread may finish writing resp (after the handler has
 * returned); ss_http_header() then reads a copy of the headers made by
 * ss_http_defer(), so any thread may call it. ss_http_query() and
 * req->remote must be read before deferring.
 */
struct ss_http_deferred;

struct ss_http_deferred *ss_http_defer(struct ss_http_req *req, int fail_status, const char *fail_body);
void ss_http_resume(struct ss_http_deferred *d, bool ok);

/* Handles one complete request. Must not block for long: it runs on a pool thread. */
typedef void (*ss_http_handler_fn)(void *ctx, struct ss_http_req *req, struct ss_http_resp *resp);

/* The most body bytes accepted for method and path (0: no body allowed). */
typedef size_t (*ss_http_body_limit_fn)(void *ctx, const char *method, const char *path);

struct ss_http_config {
	const char *listen; /* "HOST:PORT"; port 0 picks a free one */
	unsigned threads;   /* pool size; 0 means the number of CPUs */
	ss_http_handler_fn handler;
	ss_http_body_limit_fn body_limit; /* NULL: no request may have a body */
	void *ctx;                        /* passed to handler and body_limit */
};

struct ss_http_server;

/* Starts serving; SS_INVALID for a bad listen address, SS_BUSY if it cannot bind. */
enum ss_err ss_http_start(const struct ss_http_config *cfg, struct ss_http_server **out) SS_MUST;

/* The TCP port the server listens on. */
uint16_t ss_http_port(const struct ss_http_server *srv);

/*
 * Stops accepting connections, waits (up to deadline_ms) for the requests in
 * flight to be answered, then stops and frees the server. NULL is a no-op.
 */
void ss_http_stop(struct ss_http_server *srv, unsigned deadline_ms);

#endif
