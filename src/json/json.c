/*
 * json: request bodies read with jansson, response bodies written by hand
 * (see json.h). This is the only file that includes <jansson.h>.
 *
 * A struct ss_json is a jansson json_t seen through an opaque type, so
 * pointers convert both ways without allocation.
 */
#include "json/json.h"

#include <assert.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/str.h"
#include "base/time.h"

/*
 * The deepest nesting a body may have. jansson itself stops at 2048 levels;
 * no request of ours nests more than a few, and a bound equal to the writer's
 * (need_comma[32]) means anything parsed can be written back.
 */
#define MAX_DEPTH 32

static json_t *J(const struct ss_json *v)
{
	return (json_t *)v;
}

static struct ss_json *S(json_t *v)
{
	return (struct ss_json *)v;
}

/*
 * Finds the first place where brackets nest deeper than MAX_DEPTH, outside
 * strings, before jansson recurses into it. Returns the byte offset, or n if
 * there is none. Malformed text is left for jansson to report.
 */
static size_t too_deep_at(const char *text, size_t n)
{
	int depth = 0;
	bool in_string = false;

	for (size_t i = 0; i < n; i++) {
		char c = text[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > MAX_DEPTH)
				return i;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return n;
}

/* The line and column (both 1-based) of byte offset off, as jansson counts them. */
static void line_col(const char *text, size_t off, int *line, int *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

enum ss_err ss_json_parse(const char *text, size_t n, struct ss_json **out)
{
	json_error_t jerr;

	*out = NULL;
	size_t deep = too_deep_at(text, n);
	if (deep < n) {
		int line, col;
		line_col(text, deep, &line, &col);
		return ss_fail(SS_INVALID, NULL, "malformed JSON: nested deeper than %d levels at line %d column %d",
		               MAX_DEPTH, line, col);
	}
	/* JSON_DECODE_ANY so that a bare scalar gets the clearer "must be a JSON object" below */
	json_t *v = json_loadb(text, n, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!v) {
		/*
		 * jansson appends " near '<token>'", which quotes the body back;
		 * a body may hold personal data and messages may not, so it is cut.
		 */
		char *cut = strstr(jerr.text, " near ");
		if (cut)
			*cut = '\0';
		/* and the name of a jansson flag means nothing to a client */
		cut = strstr(jerr.text, " without JSON_");
		if (cut)
			*cut = '\0';
		return ss_fail(SS_INVALID, NULL, "malformed JSON: %s at line %d column %d", jerr.text, jerr.line,
		               jerr.column);
	}
	if (!json_is_object(v)) {
		json_decref(v);
		return ss_fail(SS_INVALID, NULL, "body must be a JSON object");
	}
	*out = S(v);
	return SS_OK;
}

void ss_json_free(struct ss_json *v)
{
	if (v)
		json_decref(J(v));
}

/*
 * The member key of obj, or NULL when it is absent or null (both mean "not
 * given"). A non-object obj has no members.
 */
static json_t *member(const struct ss_json *obj, const char *key)
{
	json_t *v = obj ? json_object_get(J(obj), key) : NULL;
	return v && !json_is_null(v) ? v : NULL;
}

static enum ss_err missing(const char *key)
{
	return ss_fail(SS_INVALID, key, "%s is missing", key);
}

/* True if the jansson string v holds no NUL byte (jansson can carry them; C strings cannot). */
static bool no_nul(const json_t *v)
{
	return strlen(json_string_value(v)) == json_string_length(v);
}

/* The string member key of obj, checked for presence, type, NUL bytes and length; *v NULL if absent (and allowed). */
static enum ss_err string_member(const struct ss_json *obj, const char *key, bool required, size_t maxlen, json_t **v)
{
	*v = member(obj, key);
	if (!*v)
		return required ? missing(key) : SS_OK;
	if (!json_is_string(*v))
		return ss_fail(SS_INVALID, key, "%s must be a string", key);
	if (!no_nul(*v))
		return ss_fail(SS_INVALID, key, "%s must be text without NUL characters", key);
	if (json_string_length(*v) > maxlen)
		return ss_fail(SS_INVALID, key, "%s must be at most %zu bytes", key, maxlen);
	return SS_OK;
}

enum ss_err ss_json_get_str(const struct ss_json *obj, const char *key, bool required, size_t maxlen, const char **out)
{
	json_t *v;
	enum ss_err err = string_member(obj, key, required, maxlen, &v);

	*out = NULL;
	if (err || !v)
		return err;
	if (!ss_utf8_is_clean_text(json_string_value(v), json_string_length(v)))
		return ss_fail(SS_INVALID, key, "%s must be text without control characters", key);
	*out = json_string_value(v);
	return SS_OK;
}

enum ss_err ss_json_get_text(const struct ss_json *obj, const char *key, bool required, size_t maxlen, const char **out,
                             size_t *n)
{
	json_t *v;
	enum ss_err err = string_member(obj, key, required, maxlen, &v);

	*out = NULL;
	*n = 0;
	if (err || !v)
		return err;
	/* each stretch between line breaks and tabs (ASCII, so never inside a UTF-8 sequence) must be clean text */
	const char *text = json_string_value(v);
	size_t len = json_string_length(v);
	for (size_t start = 0, i = 0; i <= len; i++) {
		if (i < len && text[i] != '\n' && text[i] != '\r' && text[i] != '\t')
			continue;
		if (!ss_utf8_is_clean_text(text + start, i - start))
			return ss_fail(SS_INVALID, key,
			               "%s must be text without control characters other than line breaks", key);
		start = i + 1;
	}
	*out = text;
	*n = len;
	return SS_OK;
}

/* An absent optional number leaves *out as it was, so callers may preset a default. */
enum ss_err ss_json_get_int(const struct ss_json *obj, const char *key, bool required, int64_t min, int64_t max,
                            int64_t *out, bool *present)
{
	json_t *v = member(obj, key);

	if (present)
		*present = false;
	if (!v)
		return required ? missing(key) : SS_OK;
	if (!json_is_integer(v))
		return ss_fail(SS_INVALID, key, "%s must be an integer", key);
	json_int_t i = json_integer_value(v);
	if (i < min || i > max)
		return ss_fail(SS_INVALID, key, "%s must be between %" PRId64 " and %" PRId64, key, min, max);
	*out = (int64_t)i;
	if (present)
		*present = true;
	return SS_OK;
}

enum ss_err ss_json_get_num(const struct ss_json *obj, const char *key, bool required, double min, double max,
                            double *out, bool *present)
{
	json_t *v = member(obj, key);

	if (present)
		*present = false;
	if (!v)
		return required ? missing(key) : SS_OK;
	if (!json_is_number(v))
		return ss_fail(SS_INVALID, key, "%s must be a number", key);
	double d = json_number_value(v);
	if (!(d >= min && d <= max))
		return ss_fail(SS_INVALID, key, "%s must be between %g and %g", key, min, max);
	*out = d;
	if (present)
		*present = true;
	return SS_OK;
}

enum ss_err ss_json_get_bool(const struct ss_json *obj, const char *key, bool required, bool *out, bool *present)
{
	json_t *v = member(obj, key);

	if (present)
		*present = false;
	if (!v)
		return required ? missing(key) : SS_OK;
	if (!json_is_boolean(v))
		return ss_fail(SS_INVALID, key, "%s must be true or false", key);
	*out = json_is_true(v);
	if (present)
		*present = true;
	return SS_OK;
}

enum ss_err ss_json_get_obj(const struct ss_json *obj, const char *key, bool required, const struct ss_json **out)
{
	json_t *v = member(obj, key);

	*out = NULL;
	if (!v)
		return required ? missing(key) : SS_OK;
	if (!json_is_object(v))
		return ss_fail(SS_INVALID, key, "%s must be an object", key);
	*out = S(v);
	return SS_OK;
}

enum ss_err ss_json_get_arr(const struct ss_json *obj, const char *key, bool required, size_t maxlen,
                            const struct ss_json **out)
{
	json_t *v = member(obj, key);

	*out = NULL;
	if (!v)
		return required ? missing(key) : SS_OK;
	if (!json_is_array(v))
		return ss_fail(SS_INVALID, key, "%s must be an array", key);
	if (json_array_size(v) > maxlen)
		return ss_fail(SS_INVALID, key, "%s must have at most %zu elements", key, maxlen);
	*out = S(v);
	return SS_OK;
}

size_t ss_json_arr_len(const struct ss_json *arr)
{
	return arr ? json_array_size(J(arr)) : 0;
}

const struct ss_json *ss_json_arr_at(const struct ss_json *arr, size_t i)
{
	return arr ? S(json_array_get(J(arr), i)) : NULL;
}

const char *ss_json_as_str(const struct ss_json *v)
{
	if (!v || !json_is_string(J(v)) || !no_nul(J(v)))
		return NULL;
	return json_string_value(J(v));
}

const char *ss_json_unknown_member(const struct ss_json *obj, const char *const *known)
{
	const char *key;
	json_t *value;
	if (!obj || !json_is_object(J(obj)))
		return NULL;
	json_object_foreach(J(obj), key, value)
	{
		bool found = false;
		for (size_t i = 0; known[i] && !found; i++)
			found = !strcmp(known[i], key);
		if (!found)
			return key;
	}
	return NULL;
}

bool ss_json_is_obj(const struct ss_json *v)
{
	return v && json_is_object(J(v));
}

struct dump_ctx {
	struct ss_buf *out;
	enum ss_err err;
};

static int dump_cb(const char *p, size_t n, void *data)
{
	struct dump_ctx *d = data;
	d->err = ss_buf_append(d->out, p, n);
	return d->err ? -1 : 0;
}

/* On failure out is left as it was. */
enum ss_err ss_json_dump(const struct ss_json *v, struct ss_buf *out)
{
	struct dump_ctx d = {out, SS_OK};
	size_t old = out->len;

	if (json_dump_callback(J(v), dump_cb, &d, JSON_COMPACT | JSON_ENCODE_ANY) == 0)
		return SS_OK;
	out->len = old;
	if (out->ptr)
		out->ptr[old] = '\0';
	return d.err ? d.err : ss_fail(SS_INTERNAL, NULL, "cannot write JSON");
}

/* The writer. */

void ss_jw_init(struct ss_jw *w, struct ss_buf *out)
{
	w->out = out;
	w->err = SS_OK;
	w->depth = 0;
	memset(w->need_comma, 0, sizeof(w->need_comma));
}

static void put(struct ss_jw *w, const char *p, size_t n)
{
	if (!w->err)
		w->err = ss_buf_append(w->out, p, n);
}

static void putc_(struct ss_jw *w, char c)
{
	put(w, &c, 1);
}

/*
 * Called before every value and key: inside a container, a comma goes between
 * members. A value right after its key needs none; the struct has no flag for
 * that, but a key is the only thing whose text ends in ':' (a value never
 * does), so the last byte written tells.
 */
static void before_value(struct ss_jw *w)
{
	if (w->err || w->depth == 0)
		return;
	bool after_key = w->out->len > 0 && w->out->ptr[w->out->len - 1] == ':';
	if (!after_key && w->need_comma[w->depth - 1])
		putc_(w, ',');
	w->need_comma[w->depth - 1] = true;
}

static void open_(struct ss_jw *w, char c)
{
	before_value(w);
	if (w->err)
		return;
	/* deeper than need_comma can track: a programmer error, but refused rather than overrun */
	if (w->depth >= (int)(sizeof(w->need_comma) / sizeof(w->need_comma[0]))) {
		w->err = ss_fail(SS_TOO_BIG, NULL, "JSON nested deeper than %zu levels",
		                 sizeof(w->need_comma) / sizeof(w->need_comma[0]));
		return;
	}
	putc_(w, c);
	w->need_comma[w->depth++] = false;
}

static void close_(struct ss_jw *w, char c)
{
	if (w->err)
		return;
	assert(w->depth > 0);
	w->depth--;
	putc_(w, c);
}

void ss_jw_obj_begin(struct ss_jw *w)
{
	open_(w, '{');
}

void ss_jw_obj_end(struct ss_jw *w)
{
	close_(w, '}');
}

void ss_jw_arr_begin(struct ss_jw *w)
{
	open_(w, '[');
}

void ss_jw_arr_end(struct ss_jw *w)
{
	close_(w, ']');
}

/*
 * Writes s as a JSON string body: '"' and '\\' escaped, control characters (C0
 * and C1) as \u00XX, other valid UTF-8 as it is, and each byte that is not part of valid UTF-8
 * as U+FFFD, so the output is always valid JSON.
 */
static void put_escaped(struct ss_jw *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t run = 0; /* start of bytes not yet written that need no escaping */

	putc_(w, '"');
	for (size_t i = 0; i < n && !w->err;) {
		unsigned char c = p[i];
		if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
			i++;
			continue;
		}
		if (c >= 0x80) {
			size_t len = ss_utf8_char_len(c);
			if (c == 0xc2 && n - i >= 2 && p[i + 1] >= 0x80 && p[i + 1] < 0xa0) {
				/* a C1 control (U+0080..U+009F): escaped like the C0 ones */
				char esc[6] = {'\\', 'u', '0', '0', hex[p[i + 1] >> 4], hex[p[i + 1] & 15]};
				put(w, s + run, i - run);
				put(w, esc, 6);
				i += 2;
				run = i;
				continue;
			}
			if (len > 1 && n - i >= len && ss_utf8_is_clean_text((const char *)p + i, len)) {
				i += len;
				continue;
			}
			put(w, s + run, i - run);
			put(w, "\xef\xbf\xbd", 3);
			run = ++i;
			continue;
		}
		put(w, s + run, i - run);
		if (c == '"' || c == '\\') {
			char esc[2] = {'\\', (char)c};
			put(w, esc, 2);
		} else {
			char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
			put(w, esc, 6);
		}
		run = ++i;
	}
	put(w, s + run, n - run);
	putc_(w, '"');
}

void ss_jw_key(struct ss_jw *w, const char *key)
{
	before_value(w);
	/* the key is not the member's value: the value after it is what fills the slot */
	put_escaped(w, key, strlen(key));
	putc_(w, ':');
}

void ss_jw_strn(struct ss_jw *w, const char *s, size_t n)
{
	if (!s) {
		ss_jw_null(w);
		return;
	}
	before_value(w);
	put_escaped(w, s, n);
}

/* NULL writes null. */
void ss_jw_str(struct ss_jw *w, const char *s)
{
	ss_jw_strn(w, s, s ? strlen(s) : 0);
}

void ss_jw_int(struct ss_jw *w, int64_t v)
{
	char tmp[24];
	int n = snprintf(tmp, sizeof(tmp), "%" PRId64, v);
	before_value(w);
	put(w, tmp, (size_t)n);
}

/*
 * The shortest of %.15g and %.17g that reads back as v, so 36.8 is written
 * "36.8". JSON has no NaN or infinity: they are written as null.
 */
void ss_jw_num(struct ss_jw *w, double v)
{
	char tmp[32];

	if (!isfinite(v)) {
		ss_jw_null(w);
		return;
	}
	int n = snprintf(tmp, sizeof(tmp), "%.15g", v);
	if (strtod(tmp, NULL) != v)
		n = snprintf(tmp, sizeof(tmp), "%.17g", v);
	before_value(w);
	put(w, tmp, (size_t)n);
}

void ss_jw_bool(struct ss_jw *w, bool v)
{
	before_value(w);
	if (v)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void ss_jw_null(struct ss_jw *w)
{
	before_value(w);
	put(w, "null", 4);
}

void ss_jw_raw(struct ss_jw *w, const char *json, size_t n)
{
	before_value(w);
	put(w, json, n);
}

void ss_jw_time(struct ss_jw *w, int64_t t)
{
	char tmp[SS_TIME_TEXT];
	ss_time_format(t, tmp);
	ss_jw_str(w, tmp);
}

void ss_jw_kstr(struct ss_jw *w, const char *key, const char *s)
{
	ss_jw_key(w, key);
	ss_jw_str(w, s);
}

void ss_jw_kint(struct ss_jw *w, const char *key, int64_t v)
{
	ss_jw_key(w, key);
	ss_jw_int(w, v);
}

void ss_jw_ktime(struct ss_jw *w, const char *key, int64_t t)
{
	ss_jw_key(w, key);
	ss_jw_time(w, t);
}

enum ss_err ss_jw_finish(struct ss_jw *w)
{
	return w->err;
}
