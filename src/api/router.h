/*
 * router: the application behind the HTTP server: route tables in, answers
 * out, errors rendered in exactly one place as
 * {"error":{"code","message","field"}} with the status of err.h's table.
 * Also serves GET /healthz and GET /metrics. Thread-safe: the server calls it
 * from its pool threads.
 */
#ifndef SS_API_ROUTER_H
#define SS_API_ROUTER_H

#include <stddef.h>

#include "core/app.h"
#include "http/server.h"

/*
 * The application over app, with slow_threads threads for the slow routes
 * (password hashing). Free it after the HTTP server has stopped.
 */
struct ss_api;
struct ss_api *ss_api_new(struct ss_app *app, unsigned slow_threads);
void ss_api_free(struct ss_api *api);

/*
 * Serves the web pages (http/pages.h) for GET requests outside the API; pages
 * must outlive api. Without pages (NULL), the pages' paths answer 404 saying so.
 */
struct ss_pages;
void ss_api_set_pages(struct ss_api *api, const struct ss_pages *pages);

/* The handler and body-limit callbacks for ss_http_start(); ctx is the struct ss_api. */
void ss_api_handle(void *ctx, struct ss_http_req *req, struct ss_http_resp *resp);
size_t ss_api_body_limit(void *ctx, const char *method, const char *path);

#endif
