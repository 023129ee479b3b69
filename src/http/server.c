/*
 * server: the HTTP/1.1 server over epoll (see server.h).
 *
 * Each I/O thread has an epoll set holding the one listening socket
 * (EPOLLEXCLUSIVE: one thread wakes per new connection), an eventfd through
 * which other threads hand back resumed requests, and its connections
 * (edge-triggered). A connection carries one request at a time; its state
 * says what it waits for:
 *
 *   IDLE    the first byte of a request (idle deadline)
 *   HEAD    the rest of the head (head deadline, from the request's first byte)
 *   BODY    the body (body deadline: a base plus a second per body_min_rate bytes)
 *   WAIT    the application (deferred): no deadline, nothing read meanwhile
 *   WRITE   the peer to take the answer (write deadline)
 *   LINGER  after an answer that leaves unread input (an error, a body refused
 *           before it was read): our side is shut, what the peer still sends
 *           is read and dropped for a moment, so that its kernel does not
 *           reset the connection before it has read the answer
 *
 * The threads are in two groups. The first accepts, and carries the urgent
 * lane (scans, answered on the thread itself). A request the application
 * defers to its own threads on the other lane (low_priority) moves its
 * connection to the second group, whose threads run at nice 19 and give way
 * after every batch of events: a resident's or an attacker's connection then
 * costs the urgent lane only what it leaves. A connection moves back the same
 * way if it asks for the urgent lane. The move happens while the request waits,
 * when no thread watches the connection: out of one epoll set at the deferral,
 * into the other's when the request is resumed.
 *
 * Each thread sweeps its connections twice a second for deadlines. A
 * connection that is closed while its request waits (the peer went) is kept,
 * marked dead, until the request is resumed, and then freed. Connections are
 * freed at the end of the event batch that closed them, so that no handler
 * of that batch can touch freed memory.
 */
#include "http/server.h"

#include <arpa/inet.h>
#include <assert.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "crypto/crypto.h"
#include "http/metrics.h"
#include "http/wire.h"

/* The largest response body a handler may write, unless it re-initialises resp->body with its own maximum. */
#define RESP_BODY_MAX (16u << 20)
/* Input kept per connection: a head at most, and what follows it in the same reads. */
#define IN_FIRST 4096u
#define IN_MAX   (SS_WIRE_HEAD_MAX + 4096u)
/* Connections kept at most, whatever the file-descriptor limit allows. */
#define CONN_MAX 10000u
/* File descriptors left for everything else (database, key files, logs). */
#define FD_RESERVE 64u
/* Over the caps, a few more connections (per address, and in all) may carry only the health check. */
#define HEALTH_EXTRA_PER_ADDR 8u
#define HEALTH_EXTRA_TOTAL    64u
/* After an answer that leaves unread input: how long, and how much, is read and dropped before closing. */
#define LINGER_MS    2000
#define LINGER_BYTES (1u << 20)
/* Body memory is reserved in steps of this many bytes as a chunked body grows. */
#define BODY_STEP (16u << 10)
#define SWEEP_MS  500
/* The nice value of the low-priority group's threads (Linux keeps one per thread). */
#define LOW_NICE 19
#define EVENTS   128
#define ACCEPTS  64 /* connections accepted per wake-up, at most, before the thread serves others */
/* The per-address table: open addressing, at least twice as many slots as connections. */
#define ADDR_SLOTS (1u << 15)

enum { S_IDLE, S_HEAD, S_BODY, S_HANDLER, S_WAIT, S_WRITE, S_LINGER, S_CLOSED };
enum { D_NONE, D_HANDLING, D_SUSPENDED, D_DONE };
enum { RES_ANSWER, RES_FAIL, RES_BODY };

struct thread;

struct conn {
	struct thread *t;
	int fd;
	int state;
	struct conn *prev, *next;  /* the thread's connections */
	struct conn *ready_next;   /* the thread's queue of resumed requests */
	struct conn *garbage_next; /* the thread's connections to free after this batch */
	bool readable, writable;   /* edges seen and not yet used up */
	bool dead;                 /* closed while its request waits: freed when resumed */
	bool adopt;                /* moving to another thread, which takes it when its request is resumed */
	bool health_only;          /* over its address's cap: may ask for the health check alone */
	bool counted_addr;         /* counted in the per-address table */
	unsigned served;           /* requests answered */
	uint64_t source;
	char remote[INET6_ADDRSTRLEN];
	int64_t deadline; /* monotonic microseconds; 0: none */
	/* input */
	char *in;
	size_t in_len, in_cap;
	struct ss_wire_scan scan;
	/* the request in hand */
	bool active;          /* from its head to its end */
	bool in_flight;       /* counted for the stop */
	bool keep_alive;      /* the connection may carry another request after this one */
	bool no_body_out;     /* HEAD: the answer's body is not sent */
	bool expect_continue; /* the client waits for "100 Continue" before sending the body */
	bool chunked;
	bool body_unread; /* the request's body has not been read (an answer now must close the connection) */
	uint64_t length;  /* Content-Length still to read */
	struct ss_wire_chunked chunk;
	char *body;
	size_t body_len, body_cap, body_max;
	size_t reserved; /* body memory reserved */
	int64_t start_us, start_body_us;
	size_t linger; /* bytes dropped while lingering */
	int status;
	struct ss_http_req req;
	struct ss_http_resp resp;
	struct ss_arena arena;
	struct ss_http_header *headers;
	/* deferral */
	atomic_int defer;
	int resume;
	size_t resume_max;
	int fail_status;
	const char *fail_body;
	bool http10;
	/* output */
	struct ss_buf out;    /* the answer's head */
	const char *out_p[2]; /* what is still to send: the rest of the head, then of the body */
	size_t out_n[2];
	bool close_after;
};

struct thread {
	struct ss_http_server *srv;
	bool low; /* of the low-priority group: no accepting; connections come to it */
	pthread_t tid;
	int ep, wake;
	pthread_mutex_t lock; /* guards ready and gone */
	struct conn *ready;
	bool gone;
	struct conn *conns;   /* every live connection of this thread */
	struct conn *garbage; /* closed in this batch */
	int64_t next_sweep;
	char date[30];
	int64_t date_at;
};

struct addr_slot {
	uint64_t key; /* 0: empty */
	uint32_t count;
};

struct ss_http_server {
	struct ss_http_config cfg;
	int listen_fd;
	uint16_t port;
	unsigned nthreads, nhigh; /* threads [0, nhigh) accept and carry the urgent lane; the rest, the others */
	struct thread *threads;
	atomic_bool stopping, quit;
	atomic_long in_flight; /* requests from their head to their end, begun before the stop */
	atomic_long conns;
	atomic_size_t body_bytes;
	atomic_long refs; /* 1 for ss_http_stop, 1 per connection orphaned by it */
	unsigned max_conns;
	uint8_t addr_key[32];
	pthread_mutex_t addr_lock;
	struct addr_slot *addrs;
	char busy_conn[512], busy_addr[512]; /* answers to connections refused as they come */
	size_t busy_conn_len, busy_addr_len;
};

/* ---- the per-address table */

static uint64_t addr_hash(struct ss_http_server *srv, const struct sockaddr *sa)
{
	uint8_t h[32];
	uint64_t k = 0;
	if (sa->sa_family == AF_INET)
		ss_hmac_sm3(srv->addr_key, sizeof(srv->addr_key),
		            &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4, h);
	else
		ss_hmac_sm3(srv->addr_key, sizeof(srv->addr_key),
		            &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16, h);
	memcpy(&k, h, sizeof(k));
	return k ? k : 1;
}

/* Counts one more connection of key; its new count. */
static uint32_t addr_add(struct ss_http_server *srv, uint64_t key)
{
	pthread_mutex_lock(&srv->addr_lock);
	size_t i = (size_t)(key & (ADDR_SLOTS - 1));
	while (srv->addrs[i].key && srv->addrs[i].key != key)
		i = (i + 1) & (ADDR_SLOTS - 1);
	srv->addrs[i].key = key;
	uint32_t n = ++srv->addrs[i].count;
	pthread_mutex_unlock(&srv->addr_lock);
	return n;
}

/* One connection of key fewer; the slot is emptied (and the probe run behind it closed up) at 0. */
static void addr_remove(struct ss_http_server *srv, uint64_t key)
{
	pthread_mutex_lock(&srv->addr_lock);
	size_t i = (size_t)(key & (ADDR_SLOTS - 1));
	while (srv->addrs[i].key && srv->addrs[i].key != key)
		i = (i + 1) & (ADDR_SLOTS - 1);
	if (srv->addrs[i].key == key && --srv->addrs[i].count == 0) {
		/* backward-shift deletion keeps every other key reachable from its home slot */
		size_t hole = i, j = i;
		for (;;) {
			j = (j + 1) & (ADDR_SLOTS - 1);
			if (!srv->addrs[j].key)
				break;
			size_t home = (size_t)(srv->addrs[j].key & (ADDR_SLOTS - 1));
			bool movable = hole <= j ? (home <= hole || home > j) : (home <= hole && home > j);
			if (movable) {
				srv->addrs[hole] = srv->addrs[j];
				hole = j;
			}
		}
		srv->addrs[hole] = (struct addr_slot){0};
	}
	pthread_mutex_unlock(&srv->addr_lock);
}

/* ---- requests, as the application sees them */

const char *ss_http_header(const struct ss_http_req *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++)
		if (!strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	return NULL;
}

/* A query key or value: "+" is a space, then %XX as paths have it. */
static char *query_text(struct ss_arena *a, const char *s, size_t n)
{
	char *t = ss_arena_strndup(a, s, n);
	for (char *p = t; *p; p++)
		if (*p == '+')
			*p = ' ';
	ss_url_unescape(t);
	return t;
}

const char *ss_http_query(const struct ss_http_req *req, const char *key)
{
	const char *q = req->query;
	while (*q) {
		size_t n = strcspn(q, "&");
		const char *eq = memchr(q, '=', n);
		size_t klen = eq ? (size_t)(eq - q) : n;
		if (klen > 0 && !strcmp(query_text(req->arena, q, klen), key))
			return eq ? query_text(req->arena, eq + 1, n - klen - 1) : "";
		q += n;
		if (*q == '&')
			q++;
	}
	return NULL;
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

/* ---- connections */

static int64_t now_us(void)
{
	return ss_time_mono_us();
}

static void close_conn(struct conn *c);
static void advance(struct conn *c);

static void unlink_conn(struct conn *c)
{
	struct thread *t = c->t;
	if (c->prev)
		c->prev->next = c->next;
	else if (t->conns == c)
		t->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* Gives back what the request holds and counts it done; the connection stays. */
static void end_request(struct conn *c)
{
	struct ss_http_server *srv = c->t->srv;
	if (!c->active)
		return;
	c->active = false;
	if (c->status) {
		int64_t dur_us = now_us() - c->start_us;
		const char *route = c->req.route ? c->req.route : "unmatched";
		ss_metrics_observe(c->req.route, c->status, dur_us);
		/* the route pattern only: never the URL, which may carry anything */
		ss_log_info("request", "route=\"%s\" status=%d dur_us=%lld", route, c->status, (long long)dur_us);
	} else {
		ss_log_debug("request_abandoned", "route=\"%s\"", c->req.route ? c->req.route : "unmatched");
	}
	if (c->reserved)
		atomic_fetch_sub(&srv->body_bytes, c->reserved);
	c->reserved = 0;
	free(c->body);
	c->body = NULL;
	c->body_len = c->body_cap = 0;
	ss_buf_release(&c->resp.body);
	ss_buf_release(&c->out);
	ss_arena_release(&c->arena);
	c->headers = NULL;
	memset(&c->req, 0, sizeof(c->req));
	if (c->in_flight)
		atomic_fetch_sub_explicit(&srv->in_flight, 1, memory_order_release);
	c->in_flight = false;
}

static void free_conn(struct conn *c)
{
	struct ss_http_server *srv = c->t->srv;
	end_request(c);
	free(c->in);
	free(c);
	atomic_fetch_sub(&srv->conns, 1);
}

static void srv_unref(struct ss_http_server *srv);

/* Closes the socket; the memory goes at the end of the batch, or when a waiting request is resumed. */
static void close_conn(struct conn *c)
{
	if (c->state == S_CLOSED || c->dead)
		return;
	struct thread *t = c->t;
	epoll_ctl(t->ep, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	if (c->counted_addr)
		addr_remove(t->srv, c->source);
	c->counted_addr = false;
	unlink_conn(c);
	if (c->state == S_WAIT || c->state == S_HANDLER) {
		c->dead = true; /* whoever resumes it frees it */
		return;
	}
	c->state = S_CLOSED;
	c->garbage_next = t->garbage;
	t->garbage = c;
}

/* The Date header's value, made once a second per thread. */
static const char *date_now(struct thread *t)
{
	int64_t now = ss_time_now();
	if (now != t->date_at) {
		ss_wire_date(now, t->date);
		t->date_at = now;
	}
	return t->date;
}

static bool header_safe(const char *s)
{
	return s && !strpbrk(s, "\r\n");
}

/* Writes the answer's head into c->out and points the output at it and at the body. */
static void compose(struct conn *c)
{
	struct ss_http_server *srv = c->t->srv;
	struct ss_http_resp *resp = &c->resp;
	struct ss_buf *h = &c->out;
	if (atomic_load_explicit(&srv->stopping, memory_order_relaxed) || !c->keep_alive || c->body_unread)
		c->close_after = true;
	bool body_allowed = c->status >= 200 && c->status != 204 && c->status != 304;
	ss_buf_release(h);
	ss_buf_init(h, 64u << 10);
	enum ss_err err = ss_buf_printf(h, "HTTP/1.1 %d %s\r\nDate: %s\r\n", c->status, ss_wire_reason(c->status),
	                                date_now(c->t));
	if (!err && body_allowed && header_safe(resp->content_type))
		err = ss_buf_printf(h, "Content-Type: %s\r\n", resp->content_type);
	if (!err && body_allowed)
		err = ss_buf_printf(h, "Content-Length: %zu\r\n", resp->body.len);
	for (size_t i = 0; !err && i < resp->nheaders; i++) {
		/* a name or value with a line break is a bug, but not worth a broken answer */
		if (!header_safe(resp->header_names[i]) || !header_safe(resp->header_values[i])) {
			ss_log_warn("http_bad_header", "index=%zu", i);
			continue;
		}
		err = ss_buf_printf(h, "%s: %s\r\n", resp->header_names[i], resp->header_values[i]);
	}
	if (!err)
		err = ss_buf_puts(h, c->close_after ? "Connection: close\r\n\r\n"
		                     : c->http10    ? "Connection: keep-alive\r\n\r\n"
		                                    : "\r\n");
	if (err) { /* 64 KiB of headers: a bug; the answer goes without them */
		ss_log_error("http_head_too_large", "status=%d", c->status);
		ss_buf_reset(h);
		c->close_after = true;
		if (ss_buf_printf(h, "HTTP/1.1 %d %s\r\nDate: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		                  c->status, ss_wire_reason(c->status), date_now(c->t),
		                  body_allowed ? resp->body.len : 0) != SS_OK)
			ss_buf_reset(h);
	}
	c->out_p[0] = ss_buf_str(h);
	c->out_n[0] = h->len;
	c->out_p[1] = resp->body.ptr ? resp->body.ptr : "";
	c->out_n[1] = body_allowed && !c->no_body_out ? resp->body.len : 0;
}

/* Sends resp as the answer to the request in hand. */
static void answer(struct conn *c)
{
	c->status = c->resp.status;
	if (c->status < 100 || c->status > 999) {
		ss_log_error("http_bad_status", "route=\"%s\" status=%d", c->req.route ? c->req.route : "unmatched",
		             c->status);
		c->status = 500;
		ss_buf_reset(&c->resp.body);
		c->resp.nheaders = 0;
	}
	if (c->body_unread && !c->chunked && c->length <= c->in_len) {
		/* an unread body that is all here already is dropped, and the connection can carry the next request */
		memmove(c->in, c->in + c->length, c->in_len - (size_t)c->length);
		c->in_len -= (size_t)c->length;
		c->length = 0;
		c->body_unread = false;
	}
	compose(c);
	c->state = S_WRITE;
	c->deadline = now_us() + (int64_t)c->t->srv->cfg.write_timeout_ms * 1000;
	c->writable = true; /* try at once; EAGAIN says otherwise */
}

/* The request's state, made when its head is in (or when the server refuses one it could not read). */
static void begin(struct conn *c)
{
	c->active = true;
	c->start_us = now_us();
	c->status = 0;
	ss_arena_init(&c->arena);
	memset(&c->req, 0, sizeof(c->req));
	c->req.arena = &c->arena;
	c->req.state = c;
	c->req.remote = c->remote;
	c->req.source = c->source;
	c->req.body = "";
	c->req.query = "";
	c->resp = (struct ss_http_resp){.status = 200, .content_type = "application/json"};
	ss_buf_init(&c->resp.body, RESP_BODY_MAX);
	ss_buf_init(&c->out, 64u << 10);
	atomic_store(&c->defer, D_NONE);
}

/* The server's own refusal: the error body of err, then the connection is closed. */
static void refuse(struct conn *c, enum ss_err err, const char *why)
{
	struct ss_http_server *srv = c->t->srv;
	if (!c->active) {
		begin(c);
		c->req.route = "malformed";
	}
	if (!c->req.route)
		c->req.route = "malformed";
	ss_buf_reset(&c->resp.body);
	c->resp.status = ss_err_status(err);
	c->resp.content_type = "application/json";
	c->resp.nheaders = 0;
	srv->cfg.errors(srv->cfg.ctx, err, why, &c->resp.body);
	if (err == SS_BUSY || err == SS_RATE_LIMITED)
		ss_http_resp_header(&c->resp, "Retry-After", "1");
	c->keep_alive = false;
	ss_log_info("http_refused", "status=%d why=\"%s\"", c->resp.status, why);
	ss_metrics_count("suishen_http_refused_total",
	                 "requests the server refused itself: malformed, too large, too slow, over a cap", 1);
	answer(c);
}

/* Reserves n more bytes of body memory for c; false if every body together would pass the limit. */
static bool reserve(struct conn *c, size_t n)
{
	struct ss_http_server *srv = c->t->srv;
	size_t had = atomic_fetch_add(&srv->body_bytes, n);
	if (had + n > srv->cfg.body_memory) {
		atomic_fetch_sub(&srv->body_bytes, n);
		return false;
	}
	c->reserved += n;
	return true;
}

static void resumed(struct conn *c);

/* After head() or the handler: send, read the body, or wait for the application. */
static void after_app(struct conn *c, enum ss_http_next next);

static void run_handler(struct conn *c)
{
	struct ss_http_server *srv = c->t->srv;
	c->body_unread = false;
	c->req.body = c->body ? c->body : "";
	c->req.body_len = c->body_len;
	c->state = S_HANDLER;
	c->deadline = 0;
	srv->cfg.handler(srv->cfg.ctx, &c->req, &c->resp);
	after_app(c, atomic_load(&c->defer) != D_NONE ? SS_HTTP_WAIT : SS_HTTP_ANSWER);
}

/* Starts reading a body of at most max bytes (the handler follows once it is in). */
static void start_body(struct conn *c, size_t max)
{
	if (!c->body_unread) { /* none: the handler at once */
		run_handler(c);
		return;
	}
	if (!c->chunked && c->length > max) {
		refuse(c, SS_TOO_BIG, "the request body is too large");
		return;
	}
	size_t first = c->chunked ? (max < BODY_STEP ? max : BODY_STEP) : (size_t)c->length;
	if (!reserve(c, first)) {
		refuse(c, SS_BUSY, "the server is reading too many request bodies; try again");
		return;
	}
	c->body_max = max;
	c->body_cap = first + 1;
	c->body = ss_malloc(c->body_cap);
	c->body_len = 0;
	memset(&c->chunk, 0, sizeof(c->chunk));
	c->state = S_BODY;
	c->start_body_us = now_us();
	c->deadline = c->start_body_us + (int64_t)c->t->srv->cfg.body_timeout_ms * 1000;
	if (c->expect_continue && c->in_len == 0) {
		static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
		if (send(c->fd, cont, sizeof(cont) - 1, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)sizeof(cont) - 1)
			close_conn(c);
	}
}

static void enqueue(struct conn *c);

/*
 * A request that waits for the application on the other group's lane moves
 * its connection to a thread of that group (see the top): out of this
 * thread's epoll set and list now, into the other's when it is resumed. The
 * move holds a reference to the server, as an orphan does, until then.
 */
static bool move_to_group(struct conn *c)
{
	struct ss_http_server *srv = c->t->srv;
	bool want_low = c->req.low_priority;
	if (srv->nthreads == srv->nhigh || want_low == c->t->low)
		return false;
	epoll_ctl(c->t->ep, EPOLL_CTL_DEL, c->fd, NULL);
	unlink_conn(c);
	unsigned first = want_low ? srv->nhigh : 0, n = want_low ? srv->nthreads - srv->nhigh : srv->nhigh;
	c->t = &srv->threads[first + (unsigned)c->fd % n];
	c->adopt = true;
	atomic_fetch_add(&srv->refs, 1);
	return true;
}

/* A thread takes a connection another one moved to it. */
static void adopt(struct conn *c)
{
	struct thread *t = c->t;
	c->adopt = false;
	c->next = t->conns;
	if (t->conns)
		t->conns->prev = c;
	t->conns = c;
	struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
	c->readable = c->writable = true; /* whatever came meanwhile: EAGAIN says otherwise */
	if (epoll_ctl(t->ep, EPOLL_CTL_ADD, c->fd, &ev) != 0)
		ss_log_error("http_adopt", "errno=%d", errno); /* its deadline closes it */
	srv_unref(t->srv);
}

static void after_app(struct conn *c, enum ss_http_next next)
{
	switch (next) {
	case SS_HTTP_ANSWER:
		assert(atomic_load(&c->defer) == D_NONE);
		answer(c);
		return;
	case SS_HTTP_BODY:
		assert(atomic_load(&c->defer) == D_NONE);
		start_body(c, c->req.body_max);
		return;
	case SS_HTTP_WAIT: {
		int expected = D_HANDLING;
		assert(atomic_load(&c->defer) != D_NONE);
		bool moving = move_to_group(c);
		if (atomic_compare_exchange_strong(&c->defer, &expected, D_SUSPENDED))
			c->state = S_WAIT; /* ss_http_resume* hands it back through the (new) thread's queue */
		else if (moving)
			enqueue(c); /* resumed already: the new thread takes it at once */
		else
			resumed(c); /* resumed already, before the application returned */
		return;
	}
	}
}

/* A request handed back by the application (on its I/O thread). */
static void resumed(struct conn *c)
{
	atomic_store(&c->defer, D_NONE);
	if (c->dead) { /* the peer went while it waited */
		c->state = S_CLOSED;
		c->garbage_next = c->t->garbage;
		c->t->garbage = c;
		return;
	}
	switch (c->resume) {
	case RES_BODY:
		start_body(c, c->resume_max);
		return;
	case RES_FAIL:
		ss_buf_reset(&c->resp.body);
		if (ss_buf_puts(&c->resp.body, c->fail_body) != SS_OK)
			ss_buf_reset(&c->resp.body);
		c->resp.status = c->fail_status;
		c->resp.content_type = "application/json";
		c->resp.nheaders = 0;
		if (c->fail_status == 503)
			ss_http_resp_header(&c->resp, "Retry-After", "1");
		answer(c);
		return;
	default:
		answer(c);
		return;
	}
}

/* A complete head of head_len bytes is at the front of c->in. */
static void take_head(struct conn *c, size_t head_len)
{
	struct ss_http_server *srv = c->t->srv;
	struct ss_wire_head h;
	struct ss_wire_error werr;
	if (ss_wire_parse(c->in, head_len, &h, &werr) != SS_WIRE_DONE) {
		refuse(c, werr.err, werr.why);
		return;
	}
	begin(c);
	struct ss_http_req *req = &c->req;
	req->method = ss_arena_strndup(&c->arena, h.method, h.method_len);
	const char *q = memchr(h.target, '?', h.target_len);
	size_t plen = q ? (size_t)(q - h.target) : h.target_len;
	char *path = ss_arena_strndup(&c->arena, h.target, plen);
	ss_url_unescape(path);
	req->path = path;
	req->query = q ? ss_arena_strndup(&c->arena, q + 1, h.target_len - plen - 1) : "";
	struct ss_http_header *hs = ss_arena_alloc(&c->arena, (h.nfields ? h.nfields : 1) * sizeof(*hs));
	for (size_t i = 0; i < h.nfields; i++) {
		hs[i].name = ss_arena_strndup(&c->arena, h.fields[i].name, h.fields[i].name_len);
		hs[i].value = ss_arena_strndup(&c->arena, h.fields[i].value, h.fields[i].value_len);
	}
	req->headers = c->headers = hs;
	req->nheaders = h.nfields;
	c->keep_alive = h.keep_alive;
	c->http10 = h.minor == 0;
	c->no_body_out = !strcmp(req->method, "HEAD");
	c->expect_continue = h.expect_continue;
	c->chunked = h.chunked;
	c->length = h.has_length ? h.length : 0;
	c->body_unread = c->chunked || c->length > 0;
	req->has_body = c->body_unread;
	c->close_after = false;
	/* the head's bytes are copied out: what follows moves to the front */
	memmove(c->in, c->in + head_len, c->in_len - head_len);
	c->in_len -= head_len;
	memset(&c->scan, 0, sizeof(c->scan));

	if (atomic_load(&srv->stopping)) {
		req->body_err = SS_BUSY;
	} else {
		c->in_flight = true;
		atomic_fetch_add_explicit(&srv->in_flight, 1, memory_order_relaxed);
	}
	if (c->health_only && (!srv->cfg.health_path || strcmp(path, srv->cfg.health_path) != 0)) {
		refuse(c, SS_RATE_LIMITED, "too many connections from this address");
		return;
	}
	c->state = S_HANDLER;
	c->deadline = 0;
	after_app(c, srv->cfg.head(srv->cfg.ctx, req, &c->resp));
}

/* Reads into c->in; false when there is nothing to read now (or the connection is gone). */
static bool read_in(struct conn *c)
{
	if (!c->readable)
		return false;
	if (c->in_cap - c->in_len < 1024 && c->in_cap < IN_MAX) {
		c->in_cap = c->in_cap ? IN_MAX : IN_FIRST;
		c->in = ss_realloc(c->in, c->in_cap);
	}
	size_t room = c->in_cap - c->in_len;
	if (room == 0)
		return false; /* a full buffer: only a body step or a refusal empties it */
	ssize_t n = recv(c->fd, c->in + c->in_len, room, 0);
	if (n > 0) {
		c->in_len += (size_t)n;
		if ((size_t)n < room)
			c->readable = false; /* drained: the next edge says when there is more */
		return true;
	}
	if (n < 0 && errno == EINTR)
		return true;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->readable = false;
		return false;
	}
	close_conn(c); /* the peer has gone (or reset): nothing can be answered */
	return false;
}

static bool step_head(struct conn *c)
{
	struct ss_http_server *srv = c->t->srv;
	if (c->in_len > c->scan.pos) {
		size_t head_len = 0;
		struct ss_wire_error werr;
		if (c->state == S_IDLE) {
			c->state = S_HEAD;
			c->deadline = now_us() + (int64_t)srv->cfg.head_timeout_ms * 1000;
		}
		switch (ss_wire_scan(&c->scan, c->in, c->in_len, &head_len, &werr)) {
		case SS_WIRE_DONE:
			take_head(c, head_len);
			return true;
		case SS_WIRE_ERROR:
			refuse(c, werr.err, werr.why);
			return true;
		case SS_WIRE_MORE:
			break;
		}
	}
	return read_in(c);
}

/* Moves body bytes from c->in into the body; true once the body is complete. */
static bool take_body(struct conn *c, bool *failed)
{
	*failed = false;
	if (!c->chunked) {
		size_t take = c->in_len < c->length ? c->in_len : (size_t)c->length;
		memcpy(c->body + c->body_len, c->in, take);
		c->body_len += take;
		c->length -= take;
		memmove(c->in, c->in + take, c->in_len - take);
		c->in_len -= take;
		return c->length == 0;
	}
	size_t used, data;
	struct ss_wire_error werr;
	enum ss_wire_result r = ss_wire_chunked_decode(&c->chunk, c->in, c->in_len, &used, &data, &werr);
	if (r == SS_WIRE_ERROR) {
		*failed = true;
		refuse(c, werr.err, werr.why);
		return false;
	}
	if (c->body_len + data > c->body_max) {
		*failed = true;
		refuse(c, SS_TOO_BIG, "the request body is too large");
		return false;
	}
	if (c->body_len + data + 1 > c->body_cap) {
		size_t cap = c->body_cap;
		while (cap < c->body_len + data + 1)
			cap += BODY_STEP;
		if (cap > c->body_max + 1)
			cap = c->body_max + 1;
		if (!reserve(c, cap - c->body_cap)) {
			*failed = true;
			refuse(c, SS_BUSY, "the server is reading too many request bodies; try again");
			return false;
		}
		c->body = ss_realloc(c->body, cap);
		c->body_cap = cap;
	}
	memcpy(c->body + c->body_len, c->in, data);
	c->body_len += data;
	memmove(c->in, c->in + used, c->in_len - used);
	c->in_len -= used;
	return r == SS_WIRE_DONE;
}

static bool step_body(struct conn *c)
{
	struct ss_http_server *srv = c->t->srv;
	bool failed;
	if (c->in_len > 0 || (!c->chunked && c->length == 0)) {
		if (take_body(c, &failed)) {
			c->body[c->body_len] = '\0';
			run_handler(c);
			return true;
		}
		if (failed)
			return true;
	}
	/* the deadline grows with what has come: a second per body_min_rate bytes */
	c->deadline = c->start_body_us + (int64_t)srv->cfg.body_timeout_ms * 1000 +
	              (int64_t)(c->body_len * 1000000.0 / srv->cfg.body_min_rate);
	if (!c->readable)
		return false;
	if (c->chunked)
		return read_in(c);
	/* a sized body is read straight into its place */
	size_t want = c->length < (1u << 20) ? (size_t)c->length : (1u << 20);
	ssize_t n = recv(c->fd, c->body + c->body_len, want, 0);
	if (n > 0) {
		c->body_len += (size_t)n;
		c->length -= (uint64_t)n;
		if ((size_t)n < want)
			c->readable = false;
		return true;
	}
	if (n < 0 && errno == EINTR)
		return true;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		c->readable = false;
		return false;
	}
	close_conn(c);
	return false;
}

/* The answer has gone out: the next request, or the end of the connection. */
static void finished(struct conn *c)
{
	struct ss_http_server *srv = c->t->srv;
	bool close = c->close_after;
	end_request(c);
	c->served++;
	if (!close) {
		c->state = S_IDLE;
		c->deadline = now_us() + (int64_t)srv->cfg.idle_timeout_ms * 1000;
		return;
	}
	/* our side is done; what the peer still sends is read and dropped for a moment (see the top) */
	shutdown(c->fd, SHUT_WR);
	c->in_len = 0;
	c->linger = 0;
	c->state = S_LINGER;
	c->deadline = now_us() + (int64_t)LINGER_MS * 1000;
	c->readable = true;
}

static bool step_write(struct conn *c)
{
	if (!c->writable)
		return false;
	struct iovec iov[2];
	int n = 0;
	for (int i = 0; i < 2; i++)
		if (c->out_n[i])
			iov[n++] = (struct iovec){(void *)c->out_p[i], c->out_n[i]};
	if (n == 0) {
		finished(c);
		return true;
	}
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
	ssize_t sent = sendmsg(c->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	if (sent < 0) {
		if (errno == EINTR)
			return true;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			c->writable = false;
			return false;
		}
		close_conn(c);
		return false;
	}
	for (int i = 0; i < 2 && sent > 0; i++) {
		size_t k = (size_t)sent < c->out_n[i] ? (size_t)sent : c->out_n[i];
		c->out_p[i] += k;
		c->out_n[i] -= k;
		sent -= (ssize_t)k;
	}
	if (c->out_n[0] || c->out_n[1])
		c->writable = false; /* a short write: the socket is full until the next edge */
	return true;
}

static void step_linger(struct conn *c)
{
	char drop[4096];
	if (!c->readable)
		return; /* woken for something else (the socket's room): wait for input, EOF or the deadline */
	for (;;) {
		ssize_t n = recv(c->fd, drop, sizeof(drop), 0);
		if (n > 0) {
			c->linger += (size_t)n;
			if (c->linger > LINGER_BYTES)
				break;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			c->readable = false;
			return;
		}
		break; /* the peer has closed too, or reset */
	}
	close_conn(c);
}

/* Drives c as far as what has arrived and the socket's room allow. */
static void advance(struct conn *c)
{
	for (;;) {
		if (c->dead)
			return;
		switch (c->state) {
		case S_IDLE:
		case S_HEAD:
			if (!step_head(c))
				return;
			break;
		case S_BODY:
			if (!step_body(c))
				return;
			break;
		case S_WRITE:
			if (!step_write(c))
				return;
			break;
		case S_LINGER:
			step_linger(c);
			return;
		default: /* S_HANDLER, S_WAIT, S_CLOSED */
			return;
		}
	}
}

/* ---- deferral */

struct ss_http_deferred *ss_http_defer(struct ss_http_req *req, int fail_status, const char *fail_body)
{
	struct conn *c = req->state;
	assert(atomic_load(&c->defer) == D_NONE);
	c->fail_status = fail_status;
	c->fail_body = fail_body;
	atomic_store(&c->defer, D_HANDLING);
	return (struct ss_http_deferred *)c;
}

/* Hands c back to its thread; after the thread has gone, frees it. */
static void enqueue(struct conn *c)
{
	struct thread *t = c->t;
	pthread_mutex_lock(&t->lock);
	if (t->gone) {
		pthread_mutex_unlock(&t->lock);
		struct ss_http_server *srv = t->srv;
		if (c->fd >= 0) { /* moving between threads when the server stopped: not closed by either */
			close(c->fd);
			if (c->counted_addr)
				addr_remove(srv, c->source);
		}
		free_conn(c);
		srv_unref(srv);
		return;
	}
	bool first = t->ready == NULL;
	c->ready_next = t->ready;
	t->ready = c;
	if (first) {
		uint64_t one = 1;
		if (write(t->wake, &one, sizeof(one)) != sizeof(one))
			ss_log_error("http_wake_failed", "errno=%d", errno);
	}
	pthread_mutex_unlock(&t->lock);
}

static void resume(struct ss_http_deferred *d, int kind, size_t max)
{
	struct conn *c = (struct conn *)d;
	c->resume = kind;
	c->resume_max = max;
	if (atomic_exchange(&c->defer, D_DONE) == D_SUSPENDED)
		enqueue(c);
}

void ss_http_resume(struct ss_http_deferred *d, bool ok)
{
	resume(d, ok ? RES_ANSWER : RES_FAIL, 0);
}

void ss_http_resume_body(struct ss_http_deferred *d, size_t body_max)
{
	resume(d, RES_BODY, body_max);
}

/* ---- threads */

static void drain_ready(struct thread *t)
{
	uint64_t n;
	if (read(t->wake, &n, sizeof(n)) < 0 && errno != EAGAIN)
		ss_log_warn("http_wake_read", "errno=%d", errno);
	pthread_mutex_lock(&t->lock);
	struct conn *list = t->ready;
	t->ready = NULL;
	pthread_mutex_unlock(&t->lock);
	struct conn *fifo = NULL; /* the queue is pushed at its head: reverse it, first resumed first */
	while (list) {
		struct conn *next = list->ready_next;
		list->ready_next = fifo;
		fifo = list;
		list = next;
	}
	while (fifo) {
		struct conn *c = fifo;
		fifo = c->ready_next;
		if (c->adopt)
			adopt(c);
		resumed(c);
		advance(c);
	}
}

static void accept_some(struct thread *t)
{
	struct ss_http_server *srv = t->srv;
	for (int i = 0; i < ACCEPTS; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		int fd = accept4(srv->listen_fd, (struct sockaddr *)&sa, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				ss_log_warn("http_accept", "msg=\"out of file descriptors\"");
			return;
		}
		uint64_t key = addr_hash(srv, (struct sockaddr *)&sa);
		long total = atomic_fetch_add(&srv->conns, 1) + 1;
		uint32_t mine = addr_add(srv, key);
		bool over_total = total > (long)srv->max_conns, over_addr = mine > srv->cfg.conn_per_addr;
		if (total > (long)(srv->max_conns + HEALTH_EXTRA_TOTAL) ||
		    mine > srv->cfg.conn_per_addr + HEALTH_EXTRA_PER_ADDR) {
			/* refused as it comes: a canned answer, then closed */
			ss_metrics_count("suishen_http_connections_refused_total",
			                 "connections refused as they came: over the caps per address and in all", 1);
			const char *msg = over_addr ? srv->busy_addr : srv->busy_conn;
			size_t n = over_addr ? srv->busy_addr_len : srv->busy_conn_len;
			if (send(fd, msg, n, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
				/* nothing more to do for it */
			}
			close(fd);
			addr_remove(srv, key);
			atomic_fetch_sub(&srv->conns, 1);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = ss_calloc(1, sizeof(*c));
		c->t = t;
		c->fd = fd;
		c->source = key;
		c->counted_addr = true;
		c->health_only = over_total || over_addr;
		const void *addr = sa.ss_family == AF_INET6 ? (const void *)&((struct sockaddr_in6 *)&sa)->sin6_addr
		                                            : (const void *)&((struct sockaddr_in *)&sa)->sin_addr;
		if (!inet_ntop(sa.ss_family, addr, c->remote, sizeof(c->remote)))
			snprintf(c->remote, sizeof(c->remote), "unknown");
		c->state = S_IDLE;
		c->deadline = now_us() + (int64_t)srv->cfg.idle_timeout_ms * 1000;
		atomic_init(&c->defer, D_NONE);
		c->next = t->conns;
		if (t->conns)
			t->conns->prev = c;
		t->conns = c;
		struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
		if (epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
			close_conn(c);
			continue;
		}
	}
}

/* Deadlines, twice a second. */
static void sweep(struct thread *t)
{
	int64_t now = now_us();
	bool stopping = atomic_load(&t->srv->stopping);
	for (struct conn *c = t->conns, *next; c; c = next) {
		next = c->next;
		if (stopping && c->state == S_IDLE && c->served) {
			close_conn(c); /* kept alive, with nothing asked: it moves to another server */
			continue;
		}
		if (!c->deadline || now < c->deadline)
			continue;
		switch (c->state) {
		case S_HEAD:
			refuse(c, SS_TIMEOUT, "the request head took too long to arrive");
			advance(c);
			break;
		case S_BODY:
			refuse(c, SS_TIMEOUT, "the request body took too long to arrive");
			advance(c);
			break;
		case S_IDLE:
		case S_WRITE:
		case S_LINGER:
			close_conn(c);
			break;
		default:
			break;
		}
	}
}

static void free_garbage(struct thread *t)
{
	while (t->garbage) {
		struct conn *c = t->garbage;
		t->garbage = c->garbage_next;
		free_conn(c);
	}
}

/* The thread's end: what waits for the application is left to be freed when resumed; the rest is closed. */
static void thread_exit(struct thread *t)
{
	struct ss_http_server *srv = t->srv;
	for (struct conn *c = t->conns, *next; c; c = next) {
		next = c->next;
		if (c->state == S_WAIT)
			atomic_fetch_add(&srv->refs, 1); /* an orphan: its resume frees it, and lets go of the server */
		close_conn(c);
	}
	free_garbage(t);
	pthread_mutex_lock(&t->lock);
	t->gone = true;
	struct conn *list = t->ready; /* resumed but not yet taken: freed here */
	t->ready = NULL;
	pthread_mutex_unlock(&t->lock);
	while (list) {
		struct conn *c = list;
		list = c->ready_next;
		free_conn(c);
		srv_unref(srv);
	}
}

static void *thread_main(void *arg)
{
	struct thread *t = arg;
	struct ss_http_server *srv = t->srv;
	struct epoll_event events[EVENTS];
	if (t->low && setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), LOW_NICE) != 0)
		ss_log_warn("http_thread_priority", "nice=%d", LOW_NICE);
	t->next_sweep = now_us() + SWEEP_MS * 1000;
	while (!atomic_load(&srv->quit)) {
		int64_t wait_ms = (t->next_sweep - now_us()) / 1000;
		int n = epoll_wait(t->ep, events, EVENTS, wait_ms < 0 ? 0 : (int)wait_ms + 1);
		for (int i = 0; i < n; i++) {
			void *p = events[i].data.ptr;
			if (p == &srv->listen_fd) {
				accept_some(t);
				continue;
			}
			if (p == &t->wake) {
				drain_ready(t);
				continue;
			}
			struct conn *c = p;
			if (c->state == S_CLOSED || c->dead)
				continue;
			uint32_t e = events[i].events;
			if (e & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
				c->readable = true;
			if (e & (EPOLLOUT | EPOLLHUP | EPOLLERR))
				c->writable = true;
			if ((e & (EPOLLHUP | EPOLLERR)) && c->state == S_WAIT) {
				close_conn(c); /* the peer has gone: the request is freed when it is resumed */
				continue;
			}
			advance(c);
			if (t->low)
				sched_yield(); /* after each connection, the urgent lane's woken threads first (see
				                  router.c) */
		}
		if (now_us() >= t->next_sweep) {
			sweep(t);
			t->next_sweep = now_us() + SWEEP_MS * 1000;
		}
		free_garbage(t);
	}
	thread_exit(t);
	return NULL;
}

static void srv_unref(struct ss_http_server *srv)
{
	if (atomic_fetch_sub(&srv->refs, 1) != 1)
		return;
	for (unsigned i = 0; i < srv->nthreads; i++) {
		pthread_mutex_destroy(&srv->threads[i].lock);
		close(srv->threads[i].ep);
		close(srv->threads[i].wake);
	}
	free(srv->threads);
	free(srv->addrs);
	pthread_mutex_destroy(&srv->addr_lock);
	ss_wipe(srv->addr_key, sizeof(srv->addr_key));
	free(srv);
}

/* ---- start and stop */

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

/* The answer to a connection refused as it comes: err's body, "Retry-After: 1", closed. */
static size_t canned(const struct ss_http_config *cfg, enum ss_err err, const char *msg, char *out, size_t n)
{
	struct ss_buf body;
	ss_buf_init(&body, 256);
	cfg->errors(cfg->ctx, err, msg, &body);
	int len = snprintf(out, n,
	                   "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
	                   "Retry-After: 1\r\nConnection: close\r\n\r\n%s",
	                   ss_err_status(err), ss_wire_reason(ss_err_status(err)), body.len, ss_buf_str(&body));
	ss_buf_release(&body);
	return len > 0 && (size_t)len < n ? (size_t)len : 0;
}

static unsigned or_default(unsigned v, unsigned def)
{
	return v ? v : def;
}

enum ss_err ss_http_start(const struct ss_http_config *cfg, struct ss_http_server **out)
{
	struct sockaddr_storage sa;
	bool v6 = false;

	*out = NULL;
	assert(cfg->head && cfg->handler && cfg->errors);
	enum ss_err err = parse_listen(cfg->listen, &sa, &v6);
	if (err)
		return err;
	int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd < 0)
		return ss_fail(SS_INTERNAL, "listen", "cannot make a socket: %s", strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	socklen_t salen = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
	if (bind(fd, (struct sockaddr *)&sa, salen) != 0 || listen(fd, 1024) != 0) {
		int e = errno;
		close(fd);
		return ss_fail(SS_BUSY, "listen", "cannot listen on '%s': %s", cfg->listen, strerror(e));
	}
	struct sockaddr_storage bound;
	socklen_t blen = sizeof(bound);
	getsockname(fd, (struct sockaddr *)&bound, &blen);

	struct ss_http_server *srv = ss_calloc(1, sizeof(*srv));
	srv->cfg = *cfg;
	struct ss_http_config *c = &srv->cfg;
	c->head_timeout_ms = or_default(c->head_timeout_ms, 10000);
	c->body_timeout_ms = or_default(c->body_timeout_ms, 10000);
	c->body_min_rate = or_default(c->body_min_rate, 16384);
	c->idle_timeout_ms = or_default(c->idle_timeout_ms, 30000);
	c->write_timeout_ms = or_default(c->write_timeout_ms, 30000);
	c->conn_per_addr = or_default(c->conn_per_addr, 1000);
	if (!c->body_memory)
		c->body_memory = 64u << 20;
	if (!c->threads) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		c->threads = n > 0 ? (unsigned)n : 1;
	}
	if (!c->low_threads)
		c->low_threads = c->threads;
	srv->listen_fd = fd;
	srv->port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
	                                              : ((struct sockaddr_in *)&bound)->sin_port);
	srv->max_conns = connection_limit();
	atomic_init(&srv->refs, 1);
	pthread_mutex_init(&srv->addr_lock, NULL);
	srv->addrs = ss_calloc(ADDR_SLOTS, sizeof(*srv->addrs));
	if ((err = ss_random(srv->addr_key, sizeof(srv->addr_key)))) {
		close(fd);
		free(srv->addrs);
		free(srv);
		return err;
	}
	srv->busy_conn_len = canned(c, SS_BUSY, "the server has too many connections; try again", srv->busy_conn,
	                            sizeof(srv->busy_conn));
	srv->busy_addr_len = canned(c, SS_RATE_LIMITED, "too many connections from this address", srv->busy_addr,
	                            sizeof(srv->busy_addr));

	unsigned total = c->threads + c->low_threads;
	srv->nhigh = c->threads;
	srv->threads = ss_calloc(total, sizeof(*srv->threads));
	for (unsigned i = 0; i < total; i++) {
		struct thread *t = &srv->threads[i];
		t->srv = srv;
		t->low = i >= c->threads;
		pthread_mutex_init(&t->lock, NULL);
		t->ep = epoll_create1(EPOLL_CLOEXEC);
		t->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &srv->listen_fd};
		struct epoll_event wev = {.events = EPOLLIN, .data.ptr = &t->wake};
		if (t->ep < 0 || t->wake < 0 || (!t->low && epoll_ctl(t->ep, EPOLL_CTL_ADD, fd, &lev) != 0) ||
		    epoll_ctl(t->ep, EPOLL_CTL_ADD, t->wake, &wev) != 0 ||
		    pthread_create(&t->tid, NULL, thread_main, t) != 0) {
			ss_log_error("http_thread", "errno=%d", errno);
			srv->nthreads = i + 1; /* this one's descriptors are closed with the rest */
			atomic_store(&srv->quit, true);
			for (unsigned k = 0; k < i; k++) {
				uint64_t v = 1;
				(void)!write(srv->threads[k].wake, &v, sizeof(v));
				pthread_join(srv->threads[k].tid, NULL);
			}
			close(fd);
			srv_unref(srv);
			return ss_fail(SS_INTERNAL, NULL, "cannot start the server's threads");
		}
		srv->nthreads = i + 1;
	}
	ss_log_info("http_listen", "port=%u threads=%u low_threads=%u connection_limit=%u", (unsigned)srv->port,
	            srv->nhigh, srv->nthreads - srv->nhigh, srv->max_conns);
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
	/* from here on new requests are refused (503) and do not count */
	atomic_store(&srv->stopping, true);
	int64_t deadline = now_us() + (int64_t)deadline_ms * 1000;
	long left;
	while ((left = atomic_load_explicit(&srv->in_flight, memory_order_acquire)) > 0 && now_us() < deadline) {
		/* a short poll interval, not a guess at how long the requests take */
		struct timespec ts = {0, 2 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	if (left > 0)
		ss_log_warn("http_stop", "requests_cut_off=%ld", left);
	atomic_store(&srv->quit, true);
	for (unsigned i = 0; i < srv->nthreads; i++) {
		uint64_t v = 1;
		if (write(srv->threads[i].wake, &v, sizeof(v)) < 0)
			ss_log_warn("http_stop_wake", "errno=%d", errno);
	}
	for (unsigned i = 0; i < srv->nthreads; i++)
		pthread_join(srv->threads[i].tid, NULL);
	close(srv->listen_fd);
	ss_log_info("http_stopped", "port=%u", (unsigned)srv->port);
	srv_unref(srv);
}
