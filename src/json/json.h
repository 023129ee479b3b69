/*
 * json: reading and writing JSON (json.c is the only file that includes
 * <jansson.h>): request and response bodies, and records from data sources
 * (JSON Lines), so it sits below core with base, crypto and store.
 *
 * Reading: ss_json_parse() accepts one JSON object; the getters check a
 * member's presence, type and length and, when it is wrong, fail with
 * SS_INVALID naming the member as the error's field, so handlers validate
 * input in one line per field. Strings with NUL bytes are refused.
 *
 * Writing: a struct ss_jw writes compact JSON into a bounded ss_buf with
 * correct escaping; its first error (SS_TOO_BIG) is sticky and returned by
 * ss_jw_finish(). Not thread-safe per object; objects are per request.
 */
#ifndef SS_JSON_JSON_H
#define SS_JSON_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/err.h"

struct ss_json; /* a parsed JSON value */

/* Parses n bytes holding one JSON object. SS_INVALID ("malformed JSON: ..." or "body must be a JSON object"). */
enum ss_err ss_json_parse(const char *text, size_t n, struct ss_json **out) SS_MUST;

/* NULL is a no-op. Frees values got from it too. */
void ss_json_free(struct ss_json *v);

/*
 * A string member of object obj. Absent or null: SS_INVALID ("missing") if
 * required, else SS_OK with *out = NULL. Not a string, longer than maxlen
 * bytes, not valid UTF-8 or holding control characters: SS_INVALID. *out lives
 * as long as obj.
 */
enum ss_err ss_json_get_str(const struct ss_json *obj, const char *key, bool required, size_t maxlen,
                            const char **out) SS_MUST;

/*
 * The same for the text of a file carried in a string member (a rule file):
 * line breaks (LF, CR) and tabs are allowed, other control characters are
 * not. *n gets its length in bytes.
 */
enum ss_err ss_json_get_text(const struct ss_json *obj, const char *key, bool required, size_t maxlen, const char **out,
                             size_t *n) SS_MUST;

/* An integer member within [min, max]; absent and not required: SS_OK with *present = false. */
enum ss_err ss_json_get_int(const struct ss_json *obj, const char *key, bool required, int64_t min, int64_t max,
                            int64_t *out, bool *present) SS_MUST;

/* A number member (integer or real) within [min, max]. */
enum ss_err ss_json_get_num(const struct ss_json *obj, const char *key, bool required, double min, double max,
                            double *out, bool *present) SS_MUST;

/* A boolean member. */
enum ss_err ss_json_get_bool(const struct ss_json *obj, const char *key, bool required, bool *out,
                             bool *present) SS_MUST;

/* An object member (borrowed from obj), or NULL if absent and not required. */
enum ss_err ss_json_get_obj(const struct ss_json *obj, const char *key, bool required,
                            const struct ss_json **out) SS_MUST;

/* An array member (borrowed from obj) of at most maxlen elements, or NULL if absent and not required. */
enum ss_err ss_json_get_arr(const struct ss_json *obj, const char *key, bool required, size_t maxlen,
                            const struct ss_json **out) SS_MUST;

/* Elements of an array value: count, and the i-th (borrowed). */
size_t ss_json_arr_len(const struct ss_json *arr);
const struct ss_json *ss_json_arr_at(const struct ss_json *arr, size_t i);

/* The element as a string (NULL if it is not one). */
const char *ss_json_as_str(const struct ss_json *v);

/*
 * The name of the first member of object obj that is not in known (a
 * NULL-ended list), or NULL if every member is known (or obj is not an
 * object). The name lives as long as obj.
 */
const char *ss_json_unknown_member(const struct ss_json *obj, const char *const *known);

/* True if v is a JSON object. */
bool ss_json_is_obj(const struct ss_json *v);

/* Compact text of v into out (for storing attributes as written). */
enum ss_err ss_json_dump(const struct ss_json *v, struct ss_buf *out) SS_MUST;

/* A JSON writer. */
struct ss_jw {
	struct ss_buf *out;
	enum ss_err err;
	int depth;
	bool need_comma[32];
};

void ss_jw_init(struct ss_jw *w, struct ss_buf *out);
void ss_jw_obj_begin(struct ss_jw *w);
void ss_jw_obj_end(struct ss_jw *w);
void ss_jw_arr_begin(struct ss_jw *w);
void ss_jw_arr_end(struct ss_jw *w);
/* A member name inside an object; the next value call writes its value. */
void ss_jw_key(struct ss_jw *w, const char *key);
void ss_jw_str(struct ss_jw *w, const char *s);
void ss_jw_strn(struct ss_jw *w, const char *s, size_t n);
void ss_jw_int(struct ss_jw *w, int64_t v);
void ss_jw_num(struct ss_jw *w, double v);
void ss_jw_bool(struct ss_jw *w, bool v);
void ss_jw_null(struct ss_jw *w);
/* Writes already-valid JSON text as a value. */
void ss_jw_raw(struct ss_jw *w, const char *json, size_t n);
/* An RFC 3339 UTC time value. */
void ss_jw_time(struct ss_jw *w, int64_t t);
/* Shorthands: key then value. */
void ss_jw_kstr(struct ss_jw *w, const char *key, const char *s);
void ss_jw_kint(struct ss_jw *w, const char *key, int64_t v);
void ss_jw_ktime(struct ss_jw *w, const char *key, int64_t t);
/* The first error met (SS_TOO_BIG), or SS_OK. */
enum ss_err ss_jw_finish(struct ss_jw *w) SS_MUST;

#endif
