/* mem: aborting allocators and secret wiping (see mem.h). */
#include "base/mem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void oom(size_t n)
{
	fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
	abort();
}

void *ss_malloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom(n);
	return p;
}

void *ss_calloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		oom(count * size);
	return p;
}

void *ss_realloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		oom(n);
	return q;
}

char *ss_strdup(const char *s)
{
	return ss_strndup(s, strlen(s));
}

char *ss_strndup(const char *s, size_t n)
{
	char *p = ss_malloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void ss_wipe(void *p, size_t n)
{
	if (p && n)
		explicit_bzero(p, n);
}

void ss_free_secret(void *p, size_t n)
{
	if (!p)
		return;
	ss_wipe(p, n);
	free(p);
}
