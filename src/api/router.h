/*
 * router: the application behind the HTTP server: route tables in, answers
 * out, errors rendered in exactly one place as
 * {"error":{"code","message","field"}} with the status of err.h's table
 * (503 and 429 with Retry-After). Also serves GET /healthz and GET /metrics.
 *
 * Each route runs in a lane (api.h): on the server's thread (scans, the health
 * check), on the work pool after its credentials are checked and before its
 * body is read, or on the slow pool, limited and served fairly per source.
 * The server calls it from its I/O threads; its own threads run at a lower
 * priority than those.
 */
#ifndef SS_API_ROUTER_H
#define SS_API_ROUTER_H

#include <stddef.h>

#include "core/app.h"
#include "http/server.h"

/*
 * The application over app, with threads for a machine of cpus processors
 * (two work threads and one slow thread per processor). Free it after the
 * HTTP server has stopped.
 */
struct ss_api;
struct ss_api *ss_api_new(struct ss_app *app, unsigned cpus);
void ss_api_free(struct ss_api *api);

/*
 * Serves the web pages (http/pages.h) for GET requests outside the API; pages
 * must outlive api. Without pages (NULL), the pages' paths answer 404 saying so.
 */
struct ss_pages;
void ss_api_set_pages(struct ss_api *api, const struct ss_pages *pages);

/*
 * Log-ins and registrations one peer address may begin a second (a burst of
 * twice as many; 0: the default, 20), besides at most 8 at once. Behind a NAT
 * or a proxy that does not pass on the client's address, many people share one.
 */
void ss_api_set_slow_rate(struct ss_api *api, unsigned per_second);

/* The callbacks for ss_http_start() (server.h); ctx is the struct ss_api. */
enum ss_http_next ss_api_head(void *ctx, struct ss_http_req *req, struct ss_http_resp *resp);
void ss_api_handle(void *ctx, struct ss_http_req *req, struct ss_http_resp *resp);
void ss_api_error(void *ctx, enum ss_err err, const char *msg, struct ss_buf *out);

#endif
