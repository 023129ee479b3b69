/*
 * buf: a growable byte buffer with a hard maximum.
 *
 * Every buffer that the network or a file can fill is given a maximum when it
 * is initialised; an append that would pass it fails with SS_TOO_BIG and leaves
 * the buffer as it was (as curl's dynbuf does). The contents are always
 * followed by a NUL byte that is not counted in len, so text can be read as a
 * C string. A buf is owned by whoever embeds it; not thread-safe.
 */
#ifndef SS_BASE_BUF_H
#define SS_BASE_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "base/err.h"

struct ss_buf {
	char *ptr;  /* NULL until the first append */
	size_t len; /* bytes in use, not counting the NUL */
	size_t cap; /* bytes allocated */
	size_t max; /* the most len may become */
};

/* Initialises an empty buffer that may hold at most max bytes. */
void ss_buf_init(struct ss_buf *b, size_t max);

/*
 * Appends the whole file at path to b: SS_NOT_FOUND if there is none,
 * SS_TOO_BIG if it would pass b's maximum (b is then as it was before the
 * last piece), SS_INTERNAL if it cannot be read; each message names the path.
 */
enum ss_err ss_buf_read_file(struct ss_buf *b, const char *path) SS_MUST;

/* Frees the contents; b may be initialised again. */
void ss_buf_release(struct ss_buf *b);

/* Empties b, keeping its memory. */
void ss_buf_reset(struct ss_buf *b);

/* Appends n bytes; SS_TOO_BIG (and no change) if that would pass max. */
enum ss_err ss_buf_append(struct ss_buf *b, const void *p, size_t n) SS_MUST;

/* Appends a C string. */
enum ss_err ss_buf_puts(struct ss_buf *b, const char *s) SS_MUST;

/* Appends one byte. */
enum ss_err ss_buf_putc(struct ss_buf *b, char c) SS_MUST;

/* Appends printf-style text. */
enum ss_err ss_buf_printf(struct ss_buf *b, const char *fmt, ...) SS_MUST __attribute__((format(printf, 2, 3)));
enum ss_err ss_buf_vprintf(struct ss_buf *b, const char *fmt, va_list ap) SS_MUST;

/* The contents as a C string: "" for an empty buffer, never NULL. */
const char *ss_buf_str(const struct ss_buf *b);

/* Hands the contents (NUL-terminated, malloc'ed) to the caller and empties b. */
char *ss_buf_take(struct ss_buf *b, size_t *len);

#endif
