/* arena: bump allocator (see arena.h). */
#include "base/arena.h"

#include <assert.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

#define BLOCK_SIZE 4096
#define ALIGN      16

struct ss_arena_block {
	struct ss_arena_block *next;
	size_t used, size;
	_Alignas(ALIGN) unsigned char data[];
};

void ss_arena_init(struct ss_arena *a)
{
	a->head = NULL;
}

void ss_arena_release(struct ss_arena *a)
{
	struct ss_arena_block *b = a->head;
	while (b) {
		struct ss_arena_block *next = b->next;
		free(b);
		b = next;
	}
	a->head = NULL;
}

void ss_arena_release_secret(struct ss_arena *a)
{
	for (struct ss_arena_block *b = a->head; b; b = b->next)
		ss_wipe(b->data, b->used);
	ss_arena_release(a);
}

void *ss_arena_alloc(struct ss_arena *a, size_t n)
{
	size_t need = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
	struct ss_arena_block *b = a->head;

	if (!b || b->size - b->used < need) {
		size_t size = need > BLOCK_SIZE ? need : BLOCK_SIZE;
		b = ss_malloc(sizeof(*b) + size);
		b->used = 0;
		b->size = size;
		if (a->head && need > BLOCK_SIZE) {
			/* a large one-off goes behind the current block, which keeps serving small ones */
			b->next = a->head->next;
			a->head->next = b;
		} else {
			b->next = a->head;
			a->head = b;
		}
	}
	void *p = b->data + b->used;
	b->used += need;
	memset(p, 0, n);
	return p;
}

char *ss_arena_strndup(struct ss_arena *a, const char *s, size_t n)
{
	char *p = ss_arena_alloc(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *ss_arena_strdup(struct ss_arena *a, const char *s)
{
	return ss_arena_strndup(a, s, strlen(s));
}

char *ss_arena_printf(struct ss_arena *a, const char *fmt, ...)
{
	va_list ap, copy;
	char small[128];

	/*
	 * Not only for callers: without it GCC 12 with -fsanitize=undefined warns of a null format here
	 * (on UBSan's recover-and-continue path), which -Werror makes a build failure.
	 */
	assert(fmt);
	va_start(ap, fmt);
	va_copy(copy, ap);
	int n = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n < 0)
		n = 0;
	char *p = ss_arena_alloc(a, (size_t)n + 1);
	if ((size_t)n < sizeof(small))
		memcpy(p, small, (size_t)n + 1);
	else
		vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}
