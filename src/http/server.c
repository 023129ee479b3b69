/*
 * server: the HTTP server over libmicrohttpd (see server.h). This is the only
 * file that includes <microhttpd.h>.
 *
 * libmicrohttpd calls the access handler several times per request: first
 * with the headers (we make the request's state and return, so that an
 * "Expect: 100-continue" is honoured and the connection stays usable), then
 * once per piece of the body, then once with no data, when the request is
 * complete and the application handler runs. Its response is queued at once;
 * the completion callback, called when the response has been sent or the
 * connection has gone, counts the request and frees its state.
 *
 * Stopping: requests that begin after the stop reach the handler with
 * body_err SS_BUSY, to be answered 503 at once (a load balancer moves on), every response carries "Connection: close"
 * from then on so kept-alive clients move elsewhere, and the requests that
 * began before it, counted by an atomic, are waited for up to a deadline
 * before the daemon is stopped. The listening socket is not quiesced:
 * libmicrohttpd's MHD_quiesce_daemon races with its own epoll threads taking
 * the same socket out of their epoll sets, and aborts the process when it
 * loses (seen here; an open defect of libmicrohttpd).
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "http/metrics.h"

/* The largest response body a handler may write, unless it re-initialises resp->body with its own maximum. */
#define RESP_BODY_MAX (16u << 20)
/* Idle seconds before a connection is closed: longer than any sane client pause, short enough to shed dead peers. */
#define CONN_TIMEOUT_S 30
/*
 * Per-connection memory for libmicrohttpd: the request line and headers and
 * the read and write buffers. Bodies do not count (they are handed to us in
 * pieces). 16 KiB admits headers of up to about 8 KiB (far more than any client of ours sends); larger get 431.
 * libmicrohttpd clears the pool for every request, so a larger one costs every request.
 */
#define CONN_MEMORY (16u << 10)
/* Connections kept at most, whatever the file-descriptor limit allows. */
#define CONN_MAX 10000u
/* Connections one address may hold: a terminal gateway needs many, one client cannot take them all. */
#define CONN_PER_IP 1000u
/* File descriptors left for everything else (database, key files, logs). */
#define FD_RESERVE 64u

struct ss_http_server {
	struct MHD_Daemon *daemon;
	ss_http_handler_fn handler;
	ss_http_body_limit_fn body_limit;
	void *ctx;
	uint16_t port;
	atomic_long in_flight; /* requests whose state exists: from their headers to their completion */
	atomic_bool stopping;
};

/* One request's state, from its first handler call to its completion callback. */
struct request {
	struct ss_http_server *srv;
	struct ss_arena arena;
	struct ss_buf body;
	bool too_big;  /* the body passed its limit; the rest is read and dropped */
	bool answered; /* the application handler has run and a response is queued */
	bool refused;  /* began after the server started stopping: handed over with body_err SS_BUSY, not counted */
	int status;
	const char *route;
	int64_t start_us;
	/* a deferred answer (ss_http_defer): the response waits in resp until resumed */
	bool deferred;
	struct MHD_Connection *conn;
	atomic_int defer_state; /* DEFER_HANDLING, DEFER_SUSPENDED or DEFER_DONE */
	atomic_bool defer_ok;
	int fail_status;
	const char *fail_body;
	struct ss_http_resp resp;
	/* the request headers, copied when the answer is deferred, for threads that may not touch the connection */
	size_t nheaders;
	const char **header_names, **header_values;
};

enum { DEFER_HANDLING, DEFER_SUSPENDED, DEFER_DONE };

const char *ss_http_header(const struct ss_http_req *req, const char *name)
{
	const struct request *r = req->state;
	if (r && r->header_names) { /* deferred: from the copy */
		for (size_t i = 0; i < r->nheaders; i++)
			if (!strcasecmp(r->header_names[i], name))
				return r->header_values[i];
		return NULL;
	}
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

struct header_copy {
	struct request *r;
	size_t cap;
};

static enum MHD_Result copy_header(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct header_copy *hc = cls;
	struct request *r = hc->r;
	if (r->nheaders == hc->cap)
		return MHD_NO;
	r->header_names[r->nheaders] = ss_arena_strdup(&r->arena, key);
	r->header_values[r->nheaders] = ss_arena_strdup(&r->arena, value ? value : "");
	r->nheaders++;
	return MHD_YES;
}

struct query_find {
	const char *key;
	const char *value;
};

static enum MHD_Result query_iter(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	struct query_find *q = cls;
	if (!key || strcmp(key, q->key) != 0)
		return MHD_YES;
	q->value = value ? value : ""; /* "?flag" without '=' */
	return MHD_NO;
}

/*
 * MHD_lookup_connection_value() compares names without regard to case, which
 * is right for headers but not for query arguments, so they are searched here.
 */
const char *ss_http_query(const struct ss_http_req *req, const char *key)
{
	struct query_find q = {key, NULL};
	MHD_get_connection_values(req->conn, MHD_GET_ARGUMENT_KIND, query_iter, &q);
	return q.value;
}

void ss_http_resp_header(struct ss_http_resp *resp, const char *name, const char *value)
{
	assert(resp->nheaders < SS_HTTP_MAX_RESP_HEADERS);
	if (resp->nheaders >= SS_HTTP_MAX_RESP_HEADERS) {
		ss_log_error("http_too_many_headers", "name=\"%s\"", name);
		return;
	}
	resp->header_names[resp->nheaders] = name;
	resp->header_values[resp->nheaders] = value;
	resp->nheaders++;
}

/* The peer's address as text, in the request's arena. */
static const char *remote_text(struct MHD_Connection *conn, struct ss_arena *arena)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	char text[INET6_ADDRSTRLEN];

	if (!ci || !ci->client_addr)
		return "unknown";
	const struct sockaddr *sa = ci->client_addr;
	const void *addr = NULL;
	if (sa->sa_family == AF_INET)
		addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
	else if (sa->sa_family == AF_INET6)
		addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
	if (!addr || !inet_ntop(sa->sa_family, addr, text, sizeof(text)))
		return "unknown";
	return ss_arena_strdup(arena, text);
}

/* Queues resp (whose body passes to libmicrohttpd) as the answer to r. */
static enum MHD_Result queue(struct ss_http_server *srv, struct MHD_Connection *conn, struct request *r,
                             struct ss_http_resp *resp)
{
	r->status = resp->status;
	if (r->status < 100 || r->status > 999) {
		ss_log_error("http_bad_status", "route=\"%s\" status=%d", r->route ? r->route : "unmatched", r->status);
		r->status = 500;
		ss_buf_release(&resp->body);
		resp->content_type = NULL;
		resp->nheaders = 0;
	}

	size_t len;
	char *body = ss_buf_take(&resp->body, &len);
	/* MUST_FREE: the body's memory passes to libmicrohttpd, which free()s it; no copy */
	struct MHD_Response *mr = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
	if (!mr) {
		free(body);
		r->status = 500;
		return MHD_NO; /* closes the connection: nothing better can be sent */
	}
	if (resp->content_type && MHD_add_response_header(mr, "Content-Type", resp->content_type) != MHD_YES)
		ss_log_warn("http_bad_header", "name=\"Content-Type\"");
	for (size_t i = 0; i < resp->nheaders; i++) {
		/* refused when a name or value holds a line break: a bug, but not worth a broken response */
		if (MHD_add_response_header(mr, resp->header_names[i], resp->header_values[i]) != MHD_YES)
			ss_log_warn("http_bad_header", "name=\"%s\"", resp->header_names[i]);
	}
	if (atomic_load_explicit(&srv->stopping, memory_order_relaxed))
		MHD_add_response_header(mr, "Connection", "close");
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)r->status, mr);
	MHD_destroy_response(mr);
	return ret;
}

/* Runs the application handler for complete request r and queues its response (or holds it, if deferred). */
static enum MHD_Result answer(struct ss_http_server *srv, struct MHD_Connection *conn, struct request *r,
                              const char *method, const char *url)
{
	struct ss_http_req req = {
	        .method = method,
	        .path = url,
	        .body = r->too_big ? "" : ss_buf_str(&r->body),
	        .body_len = r->too_big ? 0 : r->body.len,
	        .body_err = r->refused   ? SS_BUSY
	                    : r->too_big ? SS_TOO_BIG
	                                 : SS_OK,
	        .remote = remote_text(conn, &r->arena),
	        .route = NULL,
	        .arena = &r->arena,
	        .conn = conn,
	        .state = r,
	};
	/* the response lives in r: a deferred one is finished by another thread while the connection waits */
	struct ss_http_resp *resp = &r->resp;
	*resp = (struct ss_http_resp){.status = 200, .content_type = "application/json"};
	ss_buf_init(&resp->body, RESP_BODY_MAX);
	ss_err_clear();
	srv->handler(srv->ctx, &req, resp);
	r->answered = true;
	r->route = req.route;
	if (!r->deferred)
		return queue(srv, conn, r, resp);

	/* hold the response; wait, without a thread, for ss_http_resume() (which may have come already) */
	MHD_suspend_connection(conn);
	int expected = DEFER_HANDLING;
	if (!atomic_compare_exchange_strong(&r->defer_state, &expected, DEFER_SUSPENDED))
		MHD_resume_connection(conn); /* done before we suspended */
	return MHD_YES;
}

struct ss_http_deferred *ss_http_defer(struct ss_http_req *req, int fail_status, const char *fail_body)
{
	struct request *r = req->state;
	assert(!r->deferred);
	r->deferred = true;
	r->conn = req->conn;
	r->fail_status = fail_status;
	r->fail_body = fail_body;
	/* copy the headers now, on the connection's thread: whoever finishes the answer may read them */
	int n = MHD_get_connection_values(req->conn, MHD_HEADER_KIND, NULL, NULL);
	struct header_copy hc = {r, n > 0 ? (size_t)n : 0};
	r->header_names = ss_arena_alloc(&r->arena, (hc.cap + 1) * sizeof(char *));
	r->header_values = ss_arena_alloc(&r->arena, (hc.cap + 1) * sizeof(char *));
	MHD_get_connection_values(req->conn, MHD_HEADER_KIND, copy_header, &hc);
	atomic_init(&r->defer_state, DEFER_HANDLING);
	atomic_init(&r->defer_ok, false);
	return (struct ss_http_deferred *)r;
}

void ss_http_resume(struct ss_http_deferred *d, bool ok)
{
	struct request *r = (struct request *)d;
	atomic_store(&r->defer_ok, ok);
	if (atomic_exchange(&r->defer_state, DEFER_DONE) == DEFER_SUSPENDED)
		MHD_resume_connection(r->conn);
}

/* Sends a deferred response once resumed: the handler's, or the failure answer. */
static enum MHD_Result send_deferred(struct ss_http_server *srv, struct MHD_Connection *conn, struct request *r)
{
	r->deferred = false; /* sent once */
	if (!atomic_load(&r->defer_ok)) {
		ss_buf_reset(&r->resp.body);
		if (ss_buf_puts(&r->resp.body, r->fail_body) != SS_OK)
			ss_buf_reset(&r->resp.body);
		r->resp.status = r->fail_status;
		r->resp.content_type = "application/json";
		r->resp.nheaders = 0;
	}
	return queue(srv, conn, r, &r->resp);
}

/* libmicrohttpd's unescaping of paths and query arguments, as base/str.h's (keeping %00). */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
	return ss_url_unescape(s);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                 const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct ss_http_server *srv = cls;
	struct request *r = *con_cls;

	if (!r) {
		/* the headers are in: make the state, decide the body's limit, answer nothing yet */
		r = ss_calloc(1, sizeof(*r));
		r->srv = srv;
		r->start_us = ss_time_mono_us();
		ss_arena_init(&r->arena);
		r->refused = atomic_load(&srv->stopping);
		ss_buf_init(&r->body, srv->body_limit && !r->refused ? srv->body_limit(srv->ctx, method, url) : 0);
		if (!r->refused)
			atomic_fetch_add_explicit(&srv->in_flight, 1, memory_order_relaxed);
		*con_cls = r;
		return MHD_YES;
	}
	if (*upload_data_size > 0) {
		/*
		 * Past the limit the rest of the body is still read, and dropped,
		 * so the connection can carry the 413 and the next request.
		 */
		if (!r->too_big && ss_buf_append(&r->body, upload_data, *upload_data_size) != SS_OK) {
			r->too_big = true;
			ss_buf_release(&r->body);
		}
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->answered)
		return r->deferred && atomic_load(&r->defer_state) == DEFER_DONE ? send_deferred(srv, conn, r)
		                                                                 : MHD_YES;
	return answer(srv, conn, r, method, url);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	struct ss_http_server *srv = cls;
	struct request *r = *con_cls;

	if (!r)
		return;
	*con_cls = NULL;
	int64_t dur_us = ss_time_mono_us() - r->start_us;
	if (r->answered && r->status) {
		ss_metrics_observe(r->route, r->status, dur_us);
		/* the route pattern only: never the URL, which may carry anything */
		ss_log_info("request", "route=\"%s\" status=%d dur_us=%lld", r->route ? r->route : "unmatched",
		            r->status, (long long)dur_us);
	} else {
		/* the peer left, timed out or the server stopped before the request was answered */
		ss_log_debug("request_abandoned", "reason=%d dur_us=%lld", (int)toe, (long long)dur_us);
	}
	ss_arena_release(&r->arena);
	ss_buf_release(&r->body);
	ss_buf_release(&r->resp.body);
	bool counted = !r->refused;
	free(r);
	if (counted)
		atomic_fetch_sub_explicit(&srv->in_flight, 1, memory_order_release);
}

/* libmicrohttpd's own messages, as log lines. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	size_t n = strlen(msg);
	while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' ' || msg[n - 1] == '.'))
		msg[--n] = '\0';
	for (char *p = msg; *p; p++) {
		if (*p == '"')
			*p = '\'';
		else if (*p == '\n')
			*p = ' ';
	}
	ss_log_warn("http_engine", "msg=\"%s\"", msg);
}

/*
 * Parses "HOST:PORT" where HOST is dotted IPv4, "localhost" or a bracketed
 * IPv6 address ("[::1]:8080"), into sa.
 */
static enum ss_err parse_listen(const char *listen, struct sockaddr_storage *sa, bool *v6)
{
	char host[INET6_ADDRSTRLEN + 1];
	const char *port_text;
	size_t host_len;

	memset(sa, 0, sizeof(*sa));
	if (!listen)
		goto bad;
	if (listen[0] == '[') {
		const char *close = strchr(listen, ']');
		if (!close || close[1] != ':')
			goto bad;
		host_len = (size_t)(close - listen - 1);
		if (host_len >= sizeof(host))
			goto bad;
		memcpy(host, listen + 1, host_len);
		port_text = close + 2;
		*v6 = true;
	} else {
		const char *colon = strrchr(listen, ':');
		if (!colon)
			goto bad;
		host_len = (size_t)(colon - listen);
		if (host_len >= sizeof(host) || memchr(listen, ':', host_len))
			goto bad;
		memcpy(host, listen, host_len);
		port_text = colon + 1;
		*v6 = false;
	}
	host[host_len] = '\0';

	size_t port_len = strlen(port_text);
	if (port_len == 0 || port_len > 5 || !ss_str_is_digits(port_text, port_len))
		goto bad;
	long port = strtol(port_text, NULL, 10);
	if (port > 65535)
		goto bad;

	if (*v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)sa;
		a->sin6_family = AF_INET6;
		a->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &a->sin6_addr) != 1)
			goto bad;
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)sa;
		a->sin_family = AF_INET;
		a->sin_port = htons((uint16_t)port);
		if (strcmp(host, "localhost") == 0)
			a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		else if (inet_pton(AF_INET, host, &a->sin_addr) != 1)
			goto bad;
	}
	return SS_OK;
bad:
	return ss_fail(SS_INVALID, "listen",
	               "bad listen address '%s' (want HOST:PORT, with HOST an IPv4 address, "
	               "localhost or [IPv6])",
	               listen ? listen : "");
}

/* As many connections as the file-descriptor limit leaves room for, at most CONN_MAX. */
static unsigned connection_limit(void)
{
	struct rlimit rl;
	rlim_t fds = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		fds = rl.rlim_cur; /* RLIM_INFINITY is large, and capped below */
	if (fds <= 2 * FD_RESERVE)
		return fds / 2 > 0 ? (unsigned)(fds / 2) : 1;
	fds -= FD_RESERVE;
	return fds > CONN_MAX ? CONN_MAX : (unsigned)fds;
}

enum ss_err ss_http_start(const struct ss_http_config *cfg, struct ss_http_server **out)
{
	struct sockaddr_storage sa;
	bool v6 = false;

	*out = NULL;
	assert(cfg->handler);
	enum ss_err err = parse_listen(cfg->listen, &sa, &v6);
	if (err)
		return err;

	unsigned threads = cfg->threads;
	if (threads == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		threads = n > 0 ? (unsigned)n : 1;
	}

	struct ss_http_server *srv = ss_calloc(1, sizeof(*srv));
	srv->handler = cfg->handler;
	srv->body_limit = cfg->body_limit;
	srv->ctx = cfg->ctx;
	atomic_init(&srv->in_flight, 0);
	atomic_init(&srv->stopping, false);

	/* MHD_USE_ITC: a resumed connection (a deferred answer) wakes its pool thread */
	unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_USE_ITC | MHD_ALLOW_SUSPEND_RESUME;
	if (v6)
		flags |= MHD_USE_IPv6;
	srv->daemon =
	        MHD_start_daemon(flags, 0, NULL, NULL, on_access, srv, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	                         MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, threads,
	                         MHD_OPTION_CONNECTION_LIMIT, connection_limit(), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	                         (size_t)CONN_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONN_TIMEOUT_S,
	                         MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)CONN_PER_IP, MHD_OPTION_NOTIFY_COMPLETED,
	                         on_completed, srv, MHD_OPTION_UNESCAPE_CALLBACK, unescape, NULL, MHD_OPTION_END);
	if (!srv->daemon) {
		free(srv);
		/* the address parsed, so what failed is the bind (in use, or not ours); MHD has logged why */
		return ss_fail(SS_BUSY, "listen", "cannot listen on '%s'", cfg->listen);
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = di ? di->port : 0;
	ss_log_info("http_listen", "port=%u threads=%u", (unsigned)srv->port, threads);
	*out = srv;
	return SS_OK;
}

uint16_t ss_http_port(const struct ss_http_server *srv)
{
	return srv->port;
}

void ss_http_stop(struct ss_http_server *srv, unsigned deadline_ms)
{
	if (!srv)
		return;
	/* from here on new requests are refused (503) and do not count; see the top of this file */
	atomic_store(&srv->stopping, true);

	int64_t deadline = ss_time_mono_us() + (int64_t)deadline_ms * 1000;
	long left;
	while ((left = atomic_load_explicit(&srv->in_flight, memory_order_acquire)) > 0 &&
	       ss_time_mono_us() < deadline) {
		/* a short poll interval, not a guess at how long the requests take */
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (left > 0)
		ss_log_warn("http_stop", "requests_cut_off=%ld", left);

	/* completes (and frees) whatever is left, closes idle kept-alive connections and the listening socket */
	MHD_stop_daemon(srv->daemon);
	ss_log_info("http_stopped", "port=%u", (unsigned)srv->port);
	free(srv);
}
