/* buf: bounded growable buffer (see buf.h). */
#include "base/buf.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/mem.h"

void ss_buf_init(struct ss_buf *b, size_t max)
{
	b->ptr = NULL;
	b->len = 0;
	b->cap = 0;
	b->max = max;
}

void ss_buf_release(struct ss_buf *b)
{
	free(b->ptr);
	ss_buf_init(b, b->max);
}

void ss_buf_reset(struct ss_buf *b)
{
	b->len = 0;
	if (b->ptr)
		b->ptr[0] = '\0';
}

static enum ss_err reserve(struct ss_buf *b, size_t n)
{
	/* the NUL takes one byte more than max, so a max of SIZE_MAX ("no limit") is SIZE_MAX - 1 in effect */
	size_t max = b->max < SIZE_MAX ? b->max : SIZE_MAX - 1;
	if (n > max || b->len > max - n)
		return ss_fail(SS_TOO_BIG, NULL, "more than %zu bytes", b->max);
	size_t need = b->len + n + 1;
	if (need <= b->cap)
		return SS_OK;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap <= SIZE_MAX / 2 ? cap * 2 : need;
	if (cap > max + 1)
		cap = max + 1;
	b->ptr = ss_realloc(b->ptr, cap);
	b->cap = cap;
	return SS_OK;
}

enum ss_err ss_buf_append(struct ss_buf *b, const void *p, size_t n)
{
	enum ss_err err = reserve(b, n);
	if (err)
		return err;
	if (n)
		memcpy(b->ptr + b->len, p, n);
	b->len += n;
	b->ptr[b->len] = '\0';
	return SS_OK;
}

enum ss_err ss_buf_puts(struct ss_buf *b, const char *s)
{
	return ss_buf_append(b, s, strlen(s));
}

enum ss_err ss_buf_putc(struct ss_buf *b, char c)
{
	return ss_buf_append(b, &c, 1);
}

enum ss_err ss_buf_vprintf(struct ss_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	char small[256];

	va_copy(copy, ap);
	int n = vsnprintf(small, sizeof(small), fmt, copy);
	va_end(copy);
	if (n < 0)
		return ss_fail(SS_INTERNAL, NULL, "bad format");
	if ((size_t)n < sizeof(small))
		return ss_buf_append(b, small, (size_t)n);
	enum ss_err err = reserve(b, (size_t)n);
	if (err)
		return err;
	vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return SS_OK;
}

enum ss_err ss_buf_printf(struct ss_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	enum ss_err err = ss_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return err;
}

const char *ss_buf_str(const struct ss_buf *b)
{
	return b->ptr ? b->ptr : "";
}

char *ss_buf_take(struct ss_buf *b, size_t *len)
{
	char *p = b->ptr ? b->ptr : ss_strdup("");
	if (len)
		*len = b->len;
	ss_buf_init(b, b->max);
	return p;
}

enum ss_err ss_buf_read_file(struct ss_buf *b, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return ss_fail(errno == ENOENT ? SS_NOT_FOUND : SS_INTERNAL, NULL, "cannot open '%s': %s", path,
		               strerror(errno));
	char chunk[16384];
	size_t got;
	enum ss_err err = SS_OK;
	while (!err && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		err = ss_buf_append(b, chunk, got);
	if (!err && ferror(f))
		err = ss_fail(SS_INTERNAL, NULL, "cannot read '%s'", path);
	fclose(f);
	if (err == SS_TOO_BIG)
		err = ss_fail(SS_TOO_BIG, NULL, "'%s' is larger than %zu bytes", path, b->max);
	return err;
}
