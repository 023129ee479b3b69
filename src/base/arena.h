/*
 * arena: bump allocation for one request or one job.
 *
 * Everything allocated from an arena dies together at ss_arena_release().
 * Out of memory aborts. An arena belongs to one thread at a time.
 */
#ifndef SS_BASE_ARENA_H
#define SS_BASE_ARENA_H

#include <stddef.h>

struct ss_arena_block;

struct ss_arena {
	struct ss_arena_block *head;
};

void ss_arena_init(struct ss_arena *a);

/* Frees every allocation of a; a may be used again. */
void ss_arena_release(struct ss_arena *a);

/* Like ss_arena_release, but wipes the memory first: for arenas that held secrets or personal data in clear. */
void ss_arena_release_secret(struct ss_arena *a);

/* n bytes aligned for any type, zeroed. */
void *ss_arena_alloc(struct ss_arena *a, size_t n);

/* A copy of n bytes of s with a NUL after them. */
char *ss_arena_strndup(struct ss_arena *a, const char *s, size_t n);
char *ss_arena_strdup(struct ss_arena *a, const char *s);

/* printf into the arena. */
char *ss_arena_printf(struct ss_arena *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
