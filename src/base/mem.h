/*
 * mem: allocation that never returns NULL.
 *
 * Out of memory aborts, as in Redis, h2o and git: no caller checks for NULL.
 * Bounds on what input may allocate live with the buffers (buf.h), not here.
 * ss_wipe() clears secrets in a way the compiler may not drop.
 */
#ifndef SS_BASE_MEM_H
#define SS_BASE_MEM_H

#include <stddef.h>

void *ss_malloc(size_t n);
void *ss_calloc(size_t count, size_t size);
void *ss_realloc(void *p, size_t n);
char *ss_strdup(const char *s);
char *ss_strndup(const char *s, size_t n);

/* Overwrites n bytes at p with zeros; never optimised away. */
void ss_wipe(void *p, size_t n);

/* Wipes n bytes at p, then frees p. NULL is a no-op. */
void ss_free_secret(void *p, size_t n);

#endif
