/*
 * server: the HTTP/1.1 server: sockets, connections, deadlines and limits.
 *
 * A few I/O threads (one per CPU by default), each with its own epoll set,
 * accept connections from one listening socket, read requests with the
 * strict parser of wire.h, and write answers; they never block. The server
 * knows nothing about routes, JSON or authentication: it hands each request
 * to the application twice, and the application (src/api/router.c) decides:
 *
 *   head(ctx, req, resp)     when the request line and headers are in, before
 *                            any body byte is read: answer at once
 *                            (SS_HTTP_ANSWER), read a body of at most
 *                            req->body_max bytes and then call the handler
 *                            (SS_HTTP_BODY), or take the request elsewhere
 *                            (SS_HTTP_WAIT, after ss_http_defer()), to come
 *                            back with ss_http_resume() or ss_http_resume_body();
 *   handler(ctx, req, resp)  once the body is complete; it fills resp, or
 *                            defers it (ss_http_defer()).
 *
 * Both run on I/O threads and must not block: work that may (the store,
 * password hashing) is handed to the application's own threads by deferring.
 *
 * What the server enforces by itself, answering with the error body of the
 * contract (errors(), set by the application) and closing the connection:
 * malformed or ambiguous framing (wire.h); deadlines for a request's head,
 * its body and its answer to be sent; at most cfg->conn_per_addr
 * connections per peer address (a few more may carry only the health check,
 * cfg->health_path); a total for the bodies that are being read or are
 * waiting for their answer, so that unfinished bodies cannot hold more than
 * cfg->body_memory bytes (503 with Retry-After for the excess, at once).
 * Peers are told apart by a keyed hash of their address (random key per
 * process): the address itself is kept only for the request that carries it.
 *
 * A request and everything allocated from its arena live until its response
 * has been sent (or the peer has gone, and any deferral has been resumed).
 * Every request is counted in metrics (metrics.h) under the route name the
 * application sets, and logged as one line without personal data.
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

struct ss_http_header {
	const char *name, *value; /* NUL-terminated; a value never holds a NUL (such a request is refused) */
};

struct ss_http_req {
	const char *method; /* "GET", "POST", ... (the application may rewrite it: HEAD is answered as GET) */
	const char *path;   /* the URL path, percent-decoded ("%2F" is "/"; "%00" stays as written), no query */
	const char *query;  /* the query string as sent, without '?' ("" if none) */
	const struct ss_http_header *headers;
	size_t nheaders;
	bool has_body;        /* the request announces a body (a Content-Length above 0, or chunked) */
	size_t body_max;      /* set by head() with SS_HTTP_BODY: the most body bytes to read */
	const char *body;     /* NUL-terminated; "" when there is none */
	size_t body_len;      /* bytes of body, not counting the NUL */
	enum ss_err body_err; /* SS_OK; SS_BUSY if the request began after the server started stopping (answer it
	                         503 at once) */
	const char *remote;   /* the peer's address as text ("127.0.0.1"): for this request only, never kept */
	uint64_t source;      /* a keyed hash of the peer's address: tells peers apart without naming them */
	const char *route;    /* set by the application: the route pattern ("POST /v1/citizens") for metrics, logs */
	bool low_priority;    /* set by the application: the request (and its connection) belong to the low-priority
	                         threads (see ss_http_config.low_threads) */
	struct ss_arena *arena;
	void *app;   /* the application's, from head() to the end of the request */
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

/* A request header's value (name matched case-insensitively), or NULL. Any thread holding the request may call. */
const char *ss_http_header(const struct ss_http_req *req, const char *name);

/* A query-string argument's value ("+" and %XX decoded; "" for "?flag"), or NULL; copied to req->arena. */
const char *ss_http_query(const struct ss_http_req *req, const char *key);

/* Adds a response header; name and value must live as long as the request (use req->arena). */
void ss_http_resp_header(struct ss_http_resp *resp, const char *name, const char *value);

enum ss_http_next {
	SS_HTTP_ANSWER, /* resp is the answer */
	SS_HTTP_BODY,   /* read the body (at most req->body_max bytes), then call the handler */
	SS_HTTP_WAIT,   /* deferred with ss_http_defer(): the application resumes it */
};

/*
 * Deferring: a request whose answer may only be sent once something else has
 * happened (a scan is answered only after its record is committed; a call that
 * must use the store runs on the application's threads) is deferred with
 * ss_http_defer(), by head() (which then returns SS_HTTP_WAIT) or by the
 * handler (which then writes its response as usual and returns). The
 * connection waits without holding a thread until some thread calls, exactly
 * once per deferral:
 *   ss_http_resume(d, ok)          with ok, resp is sent as it is; without,
 *                                  fail_status and fail_body (a static string)
 *                                  are sent instead;
 *   ss_http_resume_body(d, max)    (a deferral by head() only) read a body of
 *                                  at most max bytes, then call the handler.
 * Either may come before the deferring call has returned. Until then the
 * request, its arena and resp stay valid and belong to whoever resumes.
 */
struct ss_http_deferred;

struct ss_http_deferred *ss_http_defer(struct ss_http_req *req, int fail_status, const char *fail_body);
void ss_http_resume(struct ss_http_deferred *d, bool ok);
void ss_http_resume_body(struct ss_http_deferred *d, size_t body_max);

typedef enum ss_http_next (*ss_http_head_fn)(void *ctx, struct ss_http_req *req, struct ss_http_resp *resp);
typedef void (*ss_http_handler_fn)(void *ctx, struct ss_http_req *req, struct ss_http_resp *resp);

/*
 * Writes into out the error body of err (SS_INVALID, SS_TIMEOUT, SS_TOO_BIG,
 * SS_URI_TOO_LONG, SS_RATE_LIMITED, SS_HEADERS_TOO_BIG, SS_NOT_IMPLEMENTED,
 * SS_BUSY or SS_VERSION) with message msg, for what the server refuses
 * itself: the application renders it, so that every answer has one format.
 * Called on I/O threads.
 */
typedef void (*ss_http_error_fn)(void *ctx, enum ss_err err, const char *msg, struct ss_buf *out);

struct ss_http_config {
	const char *listen;   /* "HOST:PORT"; port 0 picks a free one */
	unsigned threads;     /* I/O threads of the urgent lane, which accept; 0 means the number of CPUs */
	unsigned low_threads; /* I/O threads of the rest, at the lowest priority; 0 means as many as threads */
	ss_http_head_fn head;
	ss_http_handler_fn handler;
	ss_http_error_fn errors;
	void *ctx;               /* passed to head, handler and errors */
	const char *health_path; /* the one path a connection over its address's cap may ask for (NULL: none) */
	/* limits; 0 takes the default in brackets */
	unsigned head_timeout_ms;  /* from a request's first byte to the end of its head [10000] */
	unsigned body_timeout_ms;  /* for a body to arrive, plus a second per body_min_rate bytes [10000] */
	unsigned body_min_rate;    /* bytes a second [16384] */
	unsigned idle_timeout_ms;  /* a kept-alive connection without a request [30000] */
	unsigned write_timeout_ms; /* for an answer to be sent [30000] */
	unsigned conn_per_addr;    /* connections one peer address may hold [1000] */
	size_t body_memory;        /* bytes all bodies being read or answered may hold together [64 MiB] */
};

struct ss_http_server;

/* Starts serving; SS_INVALID for a bad listen address, SS_BUSY if it cannot bind. */
enum ss_err ss_http_start(const struct ss_http_config *cfg, struct ss_http_server **out) SS_MUST;

/* The TCP port the server listens on. */
uint16_t ss_http_port(const struct ss_http_server *srv);

/*
 * Stops: requests that begin from now on reach head() with body_err SS_BUSY
 * (to be answered 503), answers carry "Connection: close", the requests in
 * flight are waited for up to deadline_ms, then the connections and the
 * listening socket are closed and the server freed. A deferral not yet
 * resumed by then may still be resumed: its request is freed then. NULL is a
 * no-op.
 */
void ss_http_stop(struct ss_http_server *srv, unsigned deadline_ms);

#endif
