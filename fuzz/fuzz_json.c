/*
 * fuzz_json: libFuzzer target for the JSON reader and writer (src/http/json.c).
 *
 * Parses the input as a request body, runs every getter over a few keys,
 * writes what they accept back with struct ss_jw, and checks that what the
 * writer produced parses again to the same values. Also writes the raw input
 * as one JSON string and checks that it reads back. Any failed check aborts.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Isrc fuzz/fuzz_json.c src/http/json.c \
 *     src/base/{err,mem,buf,arena,str,time,log}.c -ljansson -o /tmp/fuzz_json && /tmp/fuzz_json
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "base/str.h"
#include "json/json.h"

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

static const char *const keys[] = {"a",    "code",        "name",   "id_number", "attributes",
                                   "dose", "temperature", "places", "ok",        ""};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* What the getters accepted for one key, to compare after the round trip. */
struct seen {
	const char *str;
	int64_t i;
	bool has_i;
	double d;
	bool has_d;
	bool b, has_b;
	size_t arr_len;
	bool has_arr, has_obj;
};

static void read_key(const struct ss_json *obj, const char *key, struct seen *s)
{
	const struct ss_json *o = NULL, *a = NULL;

	memset(s, 0, sizeof(*s));
	if (ss_json_get_str(obj, key, false, 256, &s->str) != SS_OK)
		s->str = NULL;
	if (ss_json_get_int(obj, key, false, INT64_MIN, INT64_MAX, &s->i, &s->has_i) != SS_OK)
		s->has_i = false;
	if (ss_json_get_num(obj, key, false, -1e308, 1e308, &s->d, &s->has_d) != SS_OK)
		s->has_d = false;
	if (ss_json_get_bool(obj, key, false, &s->b, &s->has_b) != SS_OK)
		s->has_b = false;
	if (ss_json_get_obj(obj, key, false, &o) == SS_OK && o) {
		s->has_obj = true;
		CHECK(ss_json_is_obj(o));
	}
	if (ss_json_get_arr(obj, key, false, 64, &a) == SS_OK && a) {
		s->has_arr = true;
		s->arr_len = ss_json_arr_len(a);
		CHECK(s->arr_len <= 64);
		for (size_t i = 0; i < s->arr_len; i++)
			(void)ss_json_as_str(ss_json_arr_at(a, i));
		CHECK(ss_json_arr_at(a, s->arr_len) == NULL);
	}
	/* a failing getter names the key */
	if (ss_json_get_str(obj, key, true, 0, &s->str) != SS_OK) {
		CHECK(ss_err_field() && strcmp(ss_err_field(), key) == 0);
		CHECK(ss_err_message()[0] != '\0');
	}
	if (ss_json_get_str(obj, key, false, 256, &s->str) != SS_OK)
		s->str = NULL;
}

/* Writes back what the getters accepted, key by key, with the object and array members as dumped. */
static void write_back(struct ss_jw *w, const struct ss_json *obj, const struct seen *seen)
{
	ss_jw_obj_begin(w);
	for (size_t k = 0; k < NKEYS; k++) {
		const struct seen *s = &seen[k];
		if (s->str) {
			ss_jw_kstr(w, keys[k], s->str);
		} else if (s->has_i) {
			ss_jw_kint(w, keys[k], s->i);
		} else if (s->has_d) {
			ss_jw_key(w, keys[k]);
			ss_jw_num(w, s->d);
		} else if (s->has_b) {
			ss_jw_key(w, keys[k]);
			ss_jw_bool(w, s->b);
		} else if (s->has_obj || s->has_arr) {
			const struct ss_json *v = NULL;
			struct ss_buf dump;
			ss_buf_init(&dump, 1 << 20);
			if (s->has_obj)
				CHECK(ss_json_get_obj(obj, keys[k], true, &v) == SS_OK);
			else
				CHECK(ss_json_get_arr(obj, keys[k], true, 64, &v) == SS_OK);
			if (ss_json_dump(v, &dump) == SS_OK) {
				ss_jw_key(w, keys[k]);
				ss_jw_raw(w, dump.ptr, dump.len);
			}
			ss_buf_release(&dump);
		}
	}
	ss_jw_obj_end(w);
}

static void round_trip(const struct ss_json *obj)
{
	struct seen before[NKEYS], after[NKEYS];
	struct ss_buf out;
	struct ss_jw w;
	struct ss_json *again = NULL;

	for (size_t k = 0; k < NKEYS; k++)
		read_key(obj, keys[k], &before[k]);
	ss_buf_init(&out, 1 << 22);
	ss_jw_init(&w, &out);
	write_back(&w, obj, before);
	if (ss_jw_finish(&w) != SS_OK) {
		ss_buf_release(&out);
		return;
	}
	/* the writer's output is always valid JSON, and holds the same values */
	CHECK(ss_json_parse(out.ptr, out.len, &again) == SS_OK);
	for (size_t k = 0; k < NKEYS; k++) {
		read_key(again, keys[k], &after[k]);
		CHECK((before[k].str == NULL) == (after[k].str == NULL));
		if (before[k].str)
			CHECK(strcmp(before[k].str, after[k].str) == 0);
		/* a real with no fraction (1.0, -0.0) is written as 1 and reads back as an integer too */
		CHECK(!before[k].has_i || (after[k].has_i && before[k].i == after[k].i));
		CHECK(before[k].has_d == after[k].has_d && (!before[k].has_d || before[k].d == after[k].d));
		CHECK(before[k].has_b == after[k].has_b && (!before[k].has_b || before[k].b == after[k].b));
		CHECK(before[k].has_obj == after[k].has_obj);
		CHECK(before[k].has_arr == after[k].has_arr && before[k].arr_len == after[k].arr_len);
	}
	ss_json_free(again);
	ss_buf_release(&out);
}

/* Any bytes written as a string give valid JSON; clean text reads back unchanged. */
static void string_trip(const uint8_t *data, size_t size)
{
	struct ss_buf out;
	struct ss_jw w;
	struct ss_json *v = NULL;
	const char *s = NULL;

	ss_buf_init(&out, 1 << 22);
	ss_jw_init(&w, &out);
	ss_jw_obj_begin(&w);
	ss_jw_key(&w, "s");
	ss_jw_strn(&w, (const char *)data, size);
	ss_jw_obj_end(&w);
	CHECK(ss_jw_finish(&w) == SS_OK);
	bool has_nul = memchr(data, 0, size) != NULL;
	enum ss_err err = ss_json_parse(out.ptr, out.len, &v);
	CHECK(has_nul ? err == SS_INVALID : err == SS_OK);
	if (!err && ss_utf8_is_clean_text((const char *)data, size)) {
		CHECK(ss_json_get_str(v, "s", true, size, &s) == SS_OK);
		CHECK(strlen(s) == size && memcmp(s, data, size) == 0);
	}
	ss_json_free(v);
	ss_buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_json *obj = NULL;

	if (ss_json_parse((const char *)data, size, &obj) == SS_OK) {
		CHECK(ss_json_is_obj(obj));
		round_trip(obj);
		ss_json_free(obj);
	} else {
		CHECK(obj == NULL);
		CHECK(strncmp(ss_err_message(), "malformed JSON: ", 16) == 0 ||
		      strcmp(ss_err_message(), "body must be a JSON object") == 0);
	}
	string_trip(data, size);
	return 0;
}
