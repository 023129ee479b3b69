/*
 * fuzz_http: libFuzzer target for what the server itself parses of a request
 * before any handler: the unescaping of paths and query arguments
 * (ss_url_unescape, base/str.h) and the If-None-Match list of the pages
 * (ss_pages_etag_matches, http/pages.h) and Accept-Encoding
 * (ss_pages_accepts_gzip). Unescaping never lengthens, leaves
 * no NUL inside, keeps %00 as written, and gives back what an escaped copy
 * of its output decodes to; a header naming the tag matches it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "http/pages.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	size_t in = strlen(s);
	char *copy = strdup(s);

	size_t n = ss_url_unescape(s);
	if (n > in || strlen(s) != n)
		abort();
	if (strstr(copy, "%00") && !strstr(s, "%00"))
		abort();

	/* escaping every byte of the result and unescaping gives the result back (no %00 can arise: no NUL inside) */
	char *esc = malloc(3 * n + 1);
	for (size_t i = 0; i < n; i++)
		snprintf(esc + 3 * i, 4, "%%%02X", (unsigned char)s[i]);
	esc[3 * n] = '\0';
	if (ss_url_unescape(esc) != n || memcmp(esc, s, n) != 0)
		abort();

	static const char etag[] = "\"0123456789abcdef\"";
	(void)ss_pages_etag_matches(copy, etag);
	(void)ss_pages_accepts_gzip(copy);
	char *gz = malloc(in + 8);
	snprintf(gz, in + 8, "gzip, %s", copy);
	if (!ss_pages_accepts_gzip(gz))
		abort();
	free(gz);
	char *listed = malloc(in + sizeof(etag) + 4);
	snprintf(listed, in + sizeof(etag) + 4, "%s, %s", copy, etag);
	if (strchr(copy, ',') == NULL && !ss_pages_etag_matches(listed, etag))
		abort();

	free(listed);
	free(esc);
	free(copy);
	free(s);
	return 0;
}
