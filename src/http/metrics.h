/*
 * metrics: request counters and a latency histogram, rendered in the
 * Prometheus text format for GET /metrics.
 *
 * Counts are kept in fixed tables of atomics: observing a request never
 * allocates and never takes a lock on the hot path. Any thread may call.
 */
#ifndef SS_HTTP_METRICS_H
#define SS_HTTP_METRICS_H

#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

/*
 * Counts one request: its route pattern (a string that lives for the whole
 * process, such as a route table entry; NULL for "unmatched"), its status, and
 * how long it took in microseconds.
 */
void ss_metrics_observe(const char *route, int status, int64_t dur_us);

/* Adds to a named counter (name lives for the process; at most 64 distinct names). */
void ss_metrics_count(const char *name, const char *help, uint64_t n);

/*
 * Appends every metric in the Prometheus text exposition format (version
 * 0.0.4): suishen_http_requests_total{route,status}, the histogram
 * suishen_http_request_duration_seconds{route} (_bucket, _sum, _count), and
 * the named counters.
 */
enum ss_err ss_metrics_render(struct ss_buf *out) SS_MUST;

#endif
