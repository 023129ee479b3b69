/*
 * pages: the web pages people use (built from web/ into web/dist by
 * web/build.mjs), read into memory when the server starts and answered from
 * there: "/" the resident's page, "/terminal" the terminal's, "/console" the
 * staff console, "/assets/NAME" the scripts and styles they load.
 *
 * Assets carry a hash of their content in their names, so browsers may keep
 * them for a year ("immutable"); the three pages are revalidated on every
 * load (ETag, 304). A file the build also wrote compressed (FILE.gz beside
 * it) is sent compressed to a browser that accepts gzip. Every answer carries a strict Content-Security-Policy: no
 * script but the page's own files, no inline script or style, nothing from
 * another origin, no framing. Loaded once, read-only afterwards: any thread
 * may serve from it.
 */
#ifndef SS_HTTP_PAGES_H
#define SS_HTTP_PAGES_H

#include <stdbool.h>

#include "base/err.h"
#include "http/server.h"

struct ss_pages;

/*
 * Reads the built pages in dir (index.html, terminal.html, console.html and
 * the regular files of dir/assets). SS_NOT_FOUND if dir has no index.html
 * (the pages are not built); SS_TOO_BIG past the limits on a file's size,
 * the number of files or their total; SS_INVALID for a page that is not a
 * regular file or a file name in assets that is not a plain name. Hidden
 * files, links and folders in assets are left out.
 */
enum ss_err ss_pages_load(const char *dir, struct ss_pages **out) SS_MUST;

/* NULL is a no-op. */
void ss_pages_free(struct ss_pages *pages);

/* The page a path names ("/", "/terminal" or "/console", from any of their forms: "/index.html", "/console/"), or NULL.
 */
const char *ss_pages_page(const char *path);

/* How many files were loaded and their bytes in all. */
void ss_pages_size(const struct ss_pages *pages, unsigned *files, size_t *bytes);

/*
 * Answers a GET (or HEAD) of path with the page or asset it names, or 304
 * when the request's If-None-Match holds its ETag; false (resp untouched)
 * when path names none.
 */
bool ss_pages_serve(const struct ss_pages *pages, struct ss_http_req *req, struct ss_http_resp *resp);

/* Whether an Accept-Encoding header (NULL: none) accepts gzip (named, or "*", without q=0). */
bool ss_pages_accepts_gzip(const char *header);

/* Whether an If-None-Match header's list of entity tags holds etag (weak or not), or is "*". */
bool ss_pages_etag_matches(const char *header, const char *etag);

/* The headers every page and asset carries (policy, framing, sniffing), added to resp. */
void ss_pages_headers(struct ss_http_resp *resp);

#endif
