/*
 * metrics: request counters, latency histograms and named counters in fixed
 * tables of C11 atomics (see metrics.h).
 *
 * Routes live in an open-addressed table; each route slot holds its latency
 * histogram and a small open-addressed table of statuses. A slot is claimed
 * once, by a compare-and-swap of its key from empty, and never freed, so
 * observing takes no lock and allocates nothing, and rendering reads a
 * consistent-enough snapshot (each number is read atomically; a request being
 * counted while /metrics renders may show in one series and not yet in
 * another, which Prometheus tolerates).
 *
 * Keys are compared by pointer first and by text after, so two copies of the
 * same route text never render as two series with the same labels.
 */
#include "http/metrics.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#define MAX_ROUTES   128 /* distinct route patterns; more are counted as dropped */
#define MAX_STATUSES 16  /* distinct statuses per route; more are counted as dropped */
#define MAX_COUNTERS 64

/* Upper bounds of the histogram buckets in microseconds, and as Prometheus writes them in seconds. */
static const int64_t bucket_us[] = {100,   250,    500,    1000,   2500,    5000,    10000,  25000,
                                    50000, 100000, 250000, 500000, 1000000, 2500000, 5000000};
static const char *const bucket_le[] = {"0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025",
                                        "0.05",   "0.1",     "0.25",   "0.5",   "1",      "2.5",   "5"};
#define NBUCKETS (sizeof(bucket_us) / sizeof(bucket_us[0]))

struct status_slot {
	atomic_int status; /* 0: empty */
	atomic_uint_fast64_t count;
};

struct route_slot {
	_Atomic(const char *) name; /* NULL: empty */
	struct status_slot statuses[MAX_STATUSES];
	atomic_uint_fast64_t buckets[NBUCKETS + 1]; /* not cumulative; the last is +Inf */
	atomic_uint_fast64_t sum_us;
};

struct counter_slot {
	_Atomic(const char *) name; /* NULL: empty */
	_Atomic(const char *) help; /* set just after name is claimed; may briefly be NULL */
	atomic_uint_fast64_t value;
};

static struct route_slot routes[MAX_ROUTES];
static struct counter_slot counters[MAX_COUNTERS];
static atomic_uint_fast64_t dropped; /* observations that found no slot */

static const char unmatched[] = "unmatched";

/* FNV-1a of a C string. */
static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h;
}

static bool same(const char *a, const char *b)
{
	return a == b || strcmp(a, b) == 0;
}

/*
 * The slot of route name in the route table, claiming an empty one if need be;
 * NULL when the table is full.
 */
static struct route_slot *route_slot(const char *name)
{
	uint32_t h = hash(name);

	for (size_t i = 0; i < MAX_ROUTES; i++) {
		struct route_slot *r = &routes[(h + i) % MAX_ROUTES];
		const char *cur = atomic_load_explicit(&r->name, memory_order_acquire);
		if (!cur) {
			const char *expected = NULL;
			if (atomic_compare_exchange_strong_explicit(&r->name, &expected, name, memory_order_acq_rel,
			                                            memory_order_acquire))
				return r;
			cur = expected; /* another thread claimed it first: maybe for the same name */
		}
		if (same(cur, name))
			return r;
	}
	return NULL;
}

static struct status_slot *status_slot(struct route_slot *r, int status)
{
	for (size_t i = 0; i < MAX_STATUSES; i++) {
		struct status_slot *s = &r->statuses[((unsigned)status + i) % MAX_STATUSES];
		int cur = atomic_load_explicit(&s->status, memory_order_acquire);
		if (cur == 0) {
			int expected = 0;
			if (atomic_compare_exchange_strong_explicit(&s->status, &expected, status, memory_order_acq_rel,
			                                            memory_order_acquire))
				return s;
			cur = expected;
		}
		if (cur == status)
			return s;
	}
	return NULL;
}

void ss_metrics_observe(const char *route, int status, int64_t dur_us)
{
	struct route_slot *r = route_slot(route ? route : unmatched);
	/* status 0 marks an empty slot; a real response never has it */
	struct status_slot *s = r && status > 0 ? status_slot(r, status) : NULL;
	if (!r || !s) {
		atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);

	if (dur_us < 0)
		dur_us = 0;
	size_t b = 0;
	while (b < NBUCKETS && dur_us > bucket_us[b])
		b++;
	atomic_fetch_add_explicit(&r->buckets[b], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&r->sum_us, (uint_fast64_t)dur_us, memory_order_relaxed);
}

void ss_metrics_count(const char *name, const char *help, uint64_t n)
{
	uint32_t h = hash(name);

	for (size_t i = 0; i < MAX_COUNTERS; i++) {
		struct counter_slot *c = &counters[(h + i) % MAX_COUNTERS];
		const char *cur = atomic_load_explicit(&c->name, memory_order_acquire);
		if (!cur) {
			const char *expected = NULL;
			if (atomic_compare_exchange_strong_explicit(&c->name, &expected, name, memory_order_acq_rel,
			                                            memory_order_acquire)) {
				atomic_store_explicit(&c->help, help, memory_order_release);
				cur = name;
			} else {
				cur = expected;
			}
		}
		if (same(cur, name)) {
			atomic_fetch_add_explicit(&c->value, n, memory_order_relaxed);
			return;
		}
	}
	atomic_fetch_add_explicit(&dropped, 1, memory_order_relaxed);
}

/* Render: every append goes through put(), which keeps the first error. */

struct out {
	struct ss_buf *buf;
	enum ss_err err;
};

static void put(struct out *o, const char *s)
{
	if (!o->err)
		o->err = ss_buf_puts(o->buf, s);
}

static void putu(struct out *o, uint64_t v)
{
	if (!o->err)
		o->err = ss_buf_printf(o->buf, "%llu", (unsigned long long)v);
}

/* A label value: backslash, double quote and newline escaped, as the text format requires. */
static void put_label(struct out *o, const char *s)
{
	for (; *s && !o->err; s++) {
		if (*s == '\\')
			put(o, "\\\\");
		else if (*s == '"')
			put(o, "\\\"");
		else if (*s == '\n')
			put(o, "\\n");
		else
			o->err = ss_buf_putc(o->buf, *s);
	}
}

/* HELP text: backslash and newline escaped. */
static void put_help(struct out *o, const char *s)
{
	for (; *s && !o->err; s++) {
		if (*s == '\\')
			put(o, "\\\\");
		else if (*s == '\n')
			put(o, "\\n");
		else
			o->err = ss_buf_putc(o->buf, *s);
	}
}

static void render_requests(struct out *o)
{
	put(o, "# HELP suishen_http_requests_total HTTP requests answered, by route pattern and status.\n"
	       "# TYPE suishen_http_requests_total counter\n");
	for (size_t i = 0; i < MAX_ROUTES; i++) {
		struct route_slot *r = &routes[i];
		const char *name = atomic_load_explicit(&r->name, memory_order_acquire);
		if (!name)
			continue;
		for (size_t k = 0; k < MAX_STATUSES; k++) {
			struct status_slot *s = &r->statuses[k];
			int status = atomic_load_explicit(&s->status, memory_order_acquire);
			if (!status)
				continue;
			put(o, "suishen_http_requests_total{route=\"");
			put_label(o, name);
			if (!o->err)
				o->err = ss_buf_printf(o->buf, "\",status=\"%d\"} ", status);
			putu(o, atomic_load_explicit(&s->count, memory_order_relaxed));
			put(o, "\n");
		}
	}
}

static void render_durations(struct out *o)
{
	put(o, "# HELP suishen_http_request_duration_seconds Time from a request's arrival to the end of its "
	       "response, by route pattern.\n"
	       "# TYPE suishen_http_request_duration_seconds histogram\n");
	for (size_t i = 0; i < MAX_ROUTES; i++) {
		struct route_slot *r = &routes[i];
		const char *name = atomic_load_explicit(&r->name, memory_order_acquire);
		if (!name)
			continue;
		/* buckets are read once each, so _count always equals the +Inf bucket */
		uint64_t cumulative = 0;
		for (size_t b = 0; b <= NBUCKETS; b++) {
			cumulative += atomic_load_explicit(&r->buckets[b], memory_order_relaxed);
			put(o, "suishen_http_request_duration_seconds_bucket{route=\"");
			put_label(o, name);
			put(o, "\",le=\"");
			put(o, b < NBUCKETS ? bucket_le[b] : "+Inf");
			put(o, "\"} ");
			putu(o, cumulative);
			put(o, "\n");
		}
		uint64_t sum = atomic_load_explicit(&r->sum_us, memory_order_relaxed);
		put(o, "suishen_http_request_duration_seconds_sum{route=\"");
		put_label(o, name);
		if (!o->err)
			o->err = ss_buf_printf(o->buf, "\"} %llu.%06llu\n", (unsigned long long)(sum / 1000000),
			                       (unsigned long long)(sum % 1000000));
		put(o, "suishen_http_request_duration_seconds_count{route=\"");
		put_label(o, name);
		put(o, "\"} ");
		putu(o, cumulative);
		put(o, "\n");
	}
}

static void render_counters(struct out *o)
{
	for (size_t i = 0; i < MAX_COUNTERS; i++) {
		struct counter_slot *c = &counters[i];
		const char *name = atomic_load_explicit(&c->name, memory_order_acquire);
		if (!name)
			continue;
		const char *help = atomic_load_explicit(&c->help, memory_order_acquire);
		if (help) {
			put(o, "# HELP ");
			put(o, name);
			put(o, " ");
			put_help(o, help);
			put(o, "\n");
		}
		put(o, "# TYPE ");
		put(o, name);
		put(o, " counter\n");
		put(o, name);
		put(o, " ");
		putu(o, atomic_load_explicit(&c->value, memory_order_relaxed));
		put(o, "\n");
	}
	put(o, "# HELP suishen_metrics_dropped_total Observations not counted because a metrics table was full.\n"
	       "# TYPE suishen_metrics_dropped_total counter\n"
	       "suishen_metrics_dropped_total ");
	putu(o, atomic_load_explicit(&dropped, memory_order_relaxed));
	put(o, "\n");
}

enum ss_err ss_metrics_render(struct ss_buf *out)
{
	struct out o = {out, SS_OK};

	render_requests(&o);
	render_durations(&o);
	render_counters(&o);
	return o.err;
}
