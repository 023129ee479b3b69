/* conf: the settings file of a data directory (see conf.h). */
#include "base/conf.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

enum ss_err ss_conf_load(const char *path, struct ss_conf **out)
{
	struct ss_conf *c = ss_calloc(1, sizeof(*c));
	char line[SS_CONF_LINE_MAX + 2];
	enum ss_err err = SS_OK;
	long no = 0;

	*out = c;
	FILE *f = fopen(path, "r");
	if (!f) {
		if (errno == ENOENT)
			return SS_OK;
		err = ss_fail(SS_INTERNAL, NULL, "cannot read '%s'", path);
		goto fail;
	}
	while (fgets(line, sizeof(line), f)) {
		no++;
		if (strlen(line) > SS_CONF_LINE_MAX && line[strlen(line) - 1] != '\n') {
			err = ss_fail(SS_TOO_BIG, NULL, "%s line %ld: longer than %d bytes", path, no,
			              SS_CONF_LINE_MAX);
			break;
		}
		char *s = trim(line);
		if (!*s || *s == '#')
			continue;
		char *eq = strchr(s, '=');
		if (!eq) {
			err = ss_fail(SS_INVALID, NULL, "%s line %ld: expected key = value", path, no);
			break;
		}
		*eq = '\0';
		char *key = trim(s), *value = trim(eq + 1);
		if (!key_ok(key)) {
			err = ss_fail(SS_INVALID, NULL, "%s line %ld: a key is lower-case letters, digits, '.' and '_'",
			              path, no);
			break;
		}
		if (ss_conf_get(c, key)) {
			err = ss_fail(SS_INVALID, NULL, "%s line %ld: %s is set twice", path, no, key);
			break;
		}
		if (c->n == SS_CONF_MAX_ENTRIES) {
			err = ss_fail(SS_TOO_BIG, NULL, "%s line %ld: more than %d settings", path, no,
			              SS_CONF_MAX_ENTRIES);
			break;
		}
		c->e[c->n].key = ss_strdup(key);
		c->e[c->n].value = ss_strdup(value);
		c->n++;
	}
	fclose(f);
	if (!err)
		return SS_OK;
fail:
	ss_conf_free(c);
	*out = NULL;
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
