/*
 * conf: the settings file of a data directory (DIR/suishen.conf): lines of
 * `key = value`, blank lines and `#` comments. Keys are lower-case letters,
 * digits, '.' and '_'; a value runs to the end of its line, trimmed. The
 * file is small and read once (at most SS_CONF_MAX_ENTRIES settings, lines of
 * at most SS_CONF_LINE_MAX bytes); an error names its line. Read-only after
 * loading: any thread may read it.
 */
#ifndef SS_BASE_CONF_H
#define SS_BASE_CONF_H

#include <stdbool.h>
#include <stddef.h>

#include "base/err.h"

#define SS_CONF_MAX_ENTRIES 256
#define SS_CONF_LINE_MAX    1024

struct ss_conf;

/*
 * Reads the settings file at path. A missing file is an empty set of
 * settings (SS_OK). SS_INVALID with "<path> line N: <why>" for a bad line or
 * a key given twice or a NUL byte; SS_TOO_BIG beyond the limits above. *out
 * is NULL on failure.
 */
enum ss_err ss_conf_load(const char *path, struct ss_conf **out) SS_MUST;

/* The same for the n bytes of text (need not be NUL-terminated), named name in messages. */
enum ss_err ss_conf_parse(const char *name, const char *text, size_t n, struct ss_conf **out) SS_MUST;

/* NULL is a no-op. */
void ss_conf_free(struct ss_conf *c);

/* The value of key, or NULL if it is not set (c may be NULL: nothing is set). */
const char *ss_conf_get(const struct ss_conf *c, const char *key);

/*
 * The number set for key into *value, which keeps its default when the key
 * is not set; SS_INVALID naming the key if the value is not a number within
 * [min, max].
 */
enum ss_err ss_conf_number(const struct ss_conf *c, const char *key, double min, double max, double *value) SS_MUST;

/* Calls fn for each key set, in file order (to find keys nothing reads). */
void ss_conf_each(const struct ss_conf *c, void (*fn)(void *ctx, const char *key, const char *value), void *ctx);

#endif
