/* pages: the built web pages, served from memory (see pages.h). */
#include "http/pages.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"

#define FILE_MAX  (8u << 20)  /* one page or asset */
#define TOTAL_MAX (64u << 20) /* all of them */
#define FILES_MAX 512u

struct page {
	char *path; /* the URL path it answers: "/", "/assets/resident-X.js" */
	char *type; /* Content-Type */
	char *etag; /* "\"<16 hex>\"" */
	bool immutable;
	char *data;
	size_t len;
	/* the same compressed by the build (FILE.gz beside it), or NULL */
	char *gz;
	size_t gz_len;
	char *gz_etag; /* "\"<16 hex>-gz\"" */
};

struct ss_pages {
	struct page *files;
	unsigned n;
	size_t bytes;
};

static const char POLICY[] = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
                             "connect-src 'self'; media-src 'self' blob:; font-src 'self'; manifest-src 'self'; "
                             "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

static const struct {
	const char *ext, *type;
} TYPES[] = {
        {".html", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},
        {".svg", "image/svg+xml"},
        {".png", "image/png"},
        {".ico", "image/x-icon"},
        {".woff2", "font/woff2"},
        {".json", "application/json"},
        {".webmanifest", "application/manifest+json"},
        {".txt", "text/plain; charset=utf-8"},
};

static const char *type_of(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < sizeof(TYPES) / sizeof(TYPES[0]); i++) {
		size_t e = strlen(TYPES[i].ext);
		if (n > e && !strcmp(name + n - e, TYPES[i].ext))
			return TYPES[i].type;
	}
	return "application/octet-stream";
}

/* An asset's name is plain: letters, digits, '.', '-', '_', not starting with a dot. */
static bool is_plain_name(const char *name)
{
	if (!*name || *name == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '-' || *p == '_'))
			return false;
	return true;
}

/* lstat() of file: a regular file (not a link) -> SS_OK; none -> SS_NOT_FOUND; else SS_INVALID or SS_INTERNAL. */
static enum ss_err regular_file(const char *file)
{
	struct stat st;
	if (lstat(file, &st) != 0)
		return ss_fail(errno == ENOENT ? SS_NOT_FOUND : SS_INTERNAL, NULL, "cannot open '%s': %s", file,
		               strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ss_fail(SS_INVALID, NULL, "'%s' is not a regular file", file);
	return SS_OK;
}

/* FNV-1a, 64 bits: an ETag only has to change when the content does. */
static uint64_t fnv1a(const char *p, size_t n)
{
	uint64_t h = 14695981039346656037ull;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* The whole file at path, at most FILE_MAX bytes, in *data (malloc'ed) and *len. */
static enum ss_err read_file(const char *path, char **data, size_t *len)
{
	struct ss_buf b;
	ss_buf_init(&b, FILE_MAX);
	enum ss_err err = ss_buf_read_file(&b, path);
	if (err) {
		ss_buf_release(&b);
		return err;
	}
	*data = ss_buf_take(&b, len);
	return SS_OK;
}

static enum ss_err add(struct ss_pages *p, const char *url, const char *file, bool immutable)
{
	if (p->n == FILES_MAX)
		return ss_fail(SS_TOO_BIG, NULL, "more than %u files to serve", FILES_MAX);
	/* regular files only, not links: what is served is what the build wrote */
	struct page pg = {0};
	char gz[4096 + 8];
	enum ss_err err = regular_file(file);
	if (!err)
		err = read_file(file, &pg.data, &pg.len);
	if (err)
		return err;
	snprintf(gz, sizeof(gz), "%s.gz", file);
	if ((err = regular_file(gz)) == SS_OK)
		err = read_file(gz, &pg.gz, &pg.gz_len);
	else if (err == SS_NOT_FOUND)
		err = SS_OK;
	if (!err && p->bytes + pg.len + pg.gz_len > TOTAL_MAX)
		err = ss_fail(SS_TOO_BIG, NULL, "the pages are larger than %u bytes in all", TOTAL_MAX);
	if (err) {
		free(pg.data);
		free(pg.gz);
		return err;
	}
	char etag[32];
	snprintf(etag, sizeof(etag), "\"%016llx\"", (unsigned long long)fnv1a(pg.data, pg.len));
	pg.etag = ss_strdup(etag);
	if (pg.gz) { /* another representation, another tag (RFC 9110 8.8.3) */
		snprintf(etag, sizeof(etag), "\"%016llx-gz\"", (unsigned long long)fnv1a(pg.data, pg.len));
		pg.gz_etag = ss_strdup(etag);
	}
	pg.path = ss_strdup(url);
	pg.type = ss_strdup(type_of(file)); /* by the file's name: "/" is index.html */
	pg.immutable = immutable;
	p->files = ss_realloc(p->files, (p->n + 1) * sizeof(*p->files));
	p->files[p->n++] = pg;
	p->bytes += pg.len + pg.gz_len;
	return SS_OK;
}

static enum ss_err load_assets(struct ss_pages *p, const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/assets", dir);
	DIR *d = opendir(path);
	if (!d)
		return errno == ENOENT ? SS_OK
		                       : ss_fail(SS_INTERNAL, NULL, "cannot open '%s': %s", path, strerror(errno));
	enum ss_err err = SS_OK;
	struct dirent *e;
	while (!err && (e = readdir(d))) {
		if (e->d_name[0] == '.') /* ".", "..", and hidden files an editor or a copy left */
			continue;
		size_t nlen = strlen(e->d_name);
		if (nlen > 3 && !strcmp(e->d_name + nlen - 3, ".gz")) /* a compressed copy, loaded with its file */
			continue;
		if (!is_plain_name(e->d_name)) {
			err = ss_fail(SS_INVALID, NULL, "'%s/%s' is not a plain file name", path, e->d_name);
			break;
		}
		char file[4096 + 256], url[300];
		snprintf(file, sizeof(file), "%s/%s", path, e->d_name);
		if (regular_file(file) != SS_OK) /* links and folders are left out */
			continue;
		snprintf(url, sizeof(url), "/assets/%s", e->d_name);
		err = add(p, url, file, true);
	}
	closedir(d);
	return err;
}

enum ss_err ss_pages_load(const char *dir, struct ss_pages **out)
{
	static const struct {
		const char *url, *file;
		bool required;
	} PAGES[] = {
	        {"/", "index.html", true}, {"/terminal", "terminal.html", false}, {"/console", "console.html", false}};
	struct ss_pages *p = ss_calloc(1, sizeof(*p));
	enum ss_err err = SS_OK;
	for (size_t i = 0; !err && i < sizeof(PAGES) / sizeof(PAGES[0]); i++) {
		char file[4096];
		snprintf(file, sizeof(file), "%s/%s", dir, PAGES[i].file);
		err = add(p, PAGES[i].url, file, false);
		if (err == SS_NOT_FOUND && !PAGES[i].required)
			err = SS_OK;
		else if (err == SS_NOT_FOUND)
			err = ss_fail(SS_NOT_FOUND, NULL,
			              "no built pages in '%s' (build them: make, or npm run build in web/)", dir);
	}
	if (!err)
		err = load_assets(p, dir);
	if (err) {
		ss_pages_free(p);
		return err;
	}
	*out = p;
	return SS_OK;
}

void ss_pages_free(struct ss_pages *p)
{
	if (!p)
		return;
	for (unsigned i = 0; i < p->n; i++) {
		free(p->files[i].path);
		free(p->files[i].type);
		free(p->files[i].etag);
		free(p->files[i].data);
		free(p->files[i].gz);
		free(p->files[i].gz_etag);
	}
	free(p->files);
	free(p);
}

void ss_pages_size(const struct ss_pages *p, unsigned *files, size_t *bytes)
{
	*files = p ? p->n : 0;
	*bytes = p ? p->bytes : 0;
}

void ss_pages_headers(struct ss_http_resp *resp)
{
	ss_http_resp_header(resp, "Content-Security-Policy", POLICY);
	ss_http_resp_header(resp, "X-Content-Type-Options", "nosniff");
	ss_http_resp_header(resp, "X-Frame-Options", "DENY");
	ss_http_resp_header(resp, "Referrer-Policy", "no-referrer");
	ss_http_resp_header(resp, "Cross-Origin-Opener-Policy", "same-origin");
	ss_http_resp_header(resp, "Permissions-Policy", "camera=(self), microphone=(), geolocation=(), payment=()");
}

bool ss_pages_etag_matches(const char *header, const char *etag)
{
	size_t n = strlen(etag);
	for (const char *h = header; *h;) {
		while (*h == ' ' || *h == ',')
			h++;
		if (!strncmp(h, "W/", 2))
			h += 2;
		if (*h == '*' || (!strncmp(h, etag, n) && (h[n] == '\0' || h[n] == ',' || h[n] == ' ')))
			return true;
		h += strcspn(h, ",");
	}
	return false;
}

bool ss_pages_accepts_gzip(const char *header)
{
	for (const char *h = header; h && *h;) {
		h += strspn(h, " \t,");
		size_t n = strcspn(h, ",;");
		while (n && (h[n - 1] == ' ' || h[n - 1] == '\t'))
			n--;
		bool named = (n == 4 && !strncasecmp(h, "gzip", 4)) || (n == 1 && *h == '*');
		const char *end = h + strcspn(h, ",");
		if (named) {
			/* refused only with a weight of zero: q=0, q=0.0, q=0.000 */
			const char *q = h + strcspn(h, ";");
			bool zero = false;
			while (q < end) {
				q += strspn(q, "; \t");
				if ((q[0] == 'q' || q[0] == 'Q') && q[1] == '=') {
					const char *v = q + 2;
					zero = v[0] == '0' &&
					       (v[1] != '.' || strspn(v + 2, "0") == strcspn(v + 2, ", \t;"));
				}
				q += strcspn(q, ";,");
				if (*q != ';')
					break;
			}
			return !zero;
		}
		h = end;
	}
	return false;
}

const char *ss_pages_page(const char *path)
{
	static const char *const forms[][2] = {{"/", "/"},
	                                       {"/index.html", "/"},
	                                       {"/terminal", "/terminal"},
	                                       {"/terminal/", "/terminal"},
	                                       {"/console", "/console"},
	                                       {"/console/", "/console"}};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (!strcmp(path, forms[i][0]))
			return forms[i][1];
	return NULL;
}

bool ss_pages_serve(const struct ss_pages *p, struct ss_http_req *req, struct ss_http_resp *resp)
{
	if (!p)
		return false;
	const char *path = ss_pages_page(req->path) ? ss_pages_page(req->path) : req->path;
	const struct page *pg = NULL;
	for (unsigned i = 0; i < p->n && !pg; i++)
		if (!strcmp(p->files[i].path, path))
			pg = &p->files[i];
	if (!pg)
		return false;
	req->route = pg->immutable ? "GET /assets/{name}" : "GET /{page}";
	bool gz = pg->gz && ss_pages_accepts_gzip(ss_http_header(req, "Accept-Encoding"));
	const char *etag = gz ? pg->gz_etag : pg->etag;
	ss_pages_headers(resp);
	ss_http_resp_header(resp, "Cache-Control", pg->immutable ? "public, max-age=31536000, immutable" : "no-cache");
	ss_http_resp_header(resp, "ETag", etag);
	if (pg->gz)
		ss_http_resp_header(resp, "Vary", "Accept-Encoding");
	if (gz)
		ss_http_resp_header(resp, "Content-Encoding", "gzip");
	resp->content_type = pg->type;
	ss_buf_reset(&resp->body);
	const char *inm = ss_http_header(req, "If-None-Match");
	if (inm && ss_pages_etag_matches(inm, etag)) {
		resp->status = 304;
		return true;
	}
	if (ss_buf_append(&resp->body, gz ? pg->gz : pg->data, gz ? pg->gz_len : pg->len) !=
	    SS_OK) { /* cannot happen: files are under 8 MiB */
		resp->status = 500;
		ss_buf_reset(&resp->body);
	}
	return true;
}
