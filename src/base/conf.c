/* conf: the settings file of a data directory (see conf.h). */
#include "base/conf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/mem.h"

struct entry {
	char *key, *value;
};

struct ss_conf {
	struct entry e[SS_CONF_MAX_ENTRIES];
	int n;
};

static char *trim(char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strlen(s);
	while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
		s[--n] = '\0';
	return s;
}

static bool key_ok(const char *k)
{
	if (!*k)
		return false;
	for (; *k; k++)
		if (!((*k >= 'a' && *k <= 'z') || (*k >= '0' && *k <= '9') || *k == '.' || *k == '_'))
			return false;
	return true;
}

enum ss_err ss_conf_parse(const char *name, const char *text, size_t n, struct ss_conf **out)
{
	struct ss_conf *c = ss_calloc(1, sizeof(*c));
	char line[SS_CONF_LINE_MAX + 1];
	enum ss_err err = SS_OK;
	long no = 0;
	size_t pos = 0;

	while (pos < n && !err) {
		const char *nl = memchr(text + pos, '\n', n - pos);
		size_t len = nl ? (size_t)(nl - (text + pos)) : n - pos;
		no++;
		if (len > SS_CONF_LINE_MAX) {
			err = ss_fail(SS_TOO_BIG, NULL, "%s line %ld: longer than %d bytes", name, no,
			              SS_CONF_LINE_MAX);
			break;
		}
		if (memchr(text + pos, '\0', len)) {
			err = ss_fail(SS_INVALID, NULL, "%s line %ld: a NUL byte", name, no);
			break;
		}
		memcpy(line, text + pos, len);
		line[len] = '\0';
		pos += len + 1;
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			err = ss_fail(SS_INVALID, NULL, "%s line %ld: expected key = value", name, no);
			break;
		}
		*eq = '\0';
		char *key = trim(s), *value = trim(eq + 1);
		if (!key_ok(key))
			err = ss_fail(SS_INVALID, NULL, "%s line %ld: a key is lower-case letters, digits, '.' and '_'",
			              name, no);
		else if (ss_conf_get(c, key))
			err = ss_fail(SS_INVALID, NULL, "%s line %ld: %s is set twice", name, no, key);
		else if (c->n == SS_CONF_MAX_ENTRIES)
			err = ss_fail(SS_TOO_BIG, NULL, "%s line %ld: more than %d settings", name, no,
			              SS_CONF_MAX_ENTRIES);
		if (err)
			break;
		c->e[c->n].key = ss_strdup(key);
		c->e[c->n].value = ss_strdup(value);
		c->n++;
	}
	if (err) {
		ss_conf_free(c);
		c = NULL;
	}
	*out = c;
	return err;
}

enum ss_err ss_conf_load(const char *path, struct ss_conf **out)
{
	/* the longest file that can be valid: every setting on a line of its own, and as many blank or comment lines */
	enum { FILE_MAX = 4 * SS_CONF_MAX_ENTRIES * (SS_CONF_LINE_MAX + 1) };
	*out = NULL;
	struct ss_buf b;
	ss_buf_init(&b, FILE_MAX);
	enum ss_err err = ss_buf_read_file(&b, path);
	if (err == SS_NOT_FOUND) /* no file: no settings */
		err = ss_conf_parse(path, "", 0, out);
	else if (!err)
		err = ss_conf_parse(path, b.ptr ? b.ptr : "", b.len, out);
	ss_buf_release(&b);
	return err;
}

void ss_conf_free(struct ss_conf *c)
{
	if (!c)
		return;
	for (int i = 0; i < c->n; i++) {
		free(c->e[i].key);
		free(c->e[i].value);
	}
	free(c);
}

const char *ss_conf_get(const struct ss_conf *c, const char *key)
{
	for (int i = 0; c && i < c->n; i++)
		if (!strcmp(c->e[i].key, key))
			return c->e[i].value;
	return NULL;
}

enum ss_err ss_conf_number(const struct ss_conf *c, const char *key, double min, double max, double *value)
{
	const char *v = ss_conf_get(c, key);
	if (!v)
		return SS_OK;
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(d) || d < min || d > max)
		return ss_fail(SS_INVALID, key, "setting %s must be a number from %g to %g", key, min, max);
	*value = d;
	return SS_OK;
}

void ss_conf_each(const struct ss_conf *c, void (*fn)(void *ctx, const char *key, const char *value), void *ctx)
{
	for (int i = 0; c && i < c->n; i++)
		fn(ctx, c->e[i].key, c->e[i].value);
}
