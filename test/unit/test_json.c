/*
 * test_json: unit tests of src/http/json.c (parsing, getters and their error
 * detail, the writer's escaping and bounds) and src/http/metrics.c (what
 * /metrics renders after some requests are observed).
 */
#include <stdint.h>
#include <string.h>

#include "base/buf.h"
#include "base/err.h"
#include "json/json.h"
#include "http/metrics.h"

#include "check.h"

static struct ss_json *parse(const char *text)
{
	struct ss_json *v = NULL;
	if (ss_json_parse(text, strlen(text), &v) != SS_OK)
		return NULL;
	return v;
}

/* True if the last error named field (NULL: none) and its message starts with prefix. */
static int detail_is(const char *field, const char *prefix)
{
	const char *f = ss_err_field();
	if ((f == NULL) != (field == NULL))
		return 0;
	if (f && strcmp(f, field) != 0)
		return 0;
	/* a member's message names it first: "name must be a string" */
	const char *msg = ss_err_message();
	if (f) {
		size_t n = strlen(f);
		if (strncmp(msg, f, n) != 0 || msg[n] != ' ')
			return 0;
		msg += n + 1;
	}
	return strncmp(msg, prefix, strlen(prefix)) == 0;
}

static void test_parse_good(void)
{
	struct ss_json *v = parse("{\"a\": 1, \"b\": [true, null], \"c\": {\"d\": \"\xe5\xbc\xa0\"}}");
	CHECK(v != NULL);
	CHECK(ss_json_is_obj(v));
	ss_json_free(v);

	v = parse(" {}\n");
	CHECK(v != NULL);
	ss_json_free(v);

	ss_json_free(NULL);
}

static void test_parse_bad(void)
{
	struct ss_json *v = (struct ss_json *)1;

	ss_err_clear();
	CHECK(ss_json_parse("{\"a\": }", 7, &v) == SS_INVALID);
	CHECK(v == NULL);
	CHECK(detail_is(NULL, "malformed JSON: "));
	CHECK(strstr(ss_err_message(), "at line 1 column") != NULL);

	/* the line is counted */
	CHECK(ss_json_parse("{\n\"a\": 1,\n}", 11, &v) == SS_INVALID);
	CHECK(strstr(ss_err_message(), "at line 3 column") != NULL);

	/* the body's text is not quoted back in the message */
	const char *secret = "{\"id\": 110101199003077777x}";
	CHECK(ss_json_parse(secret, strlen(secret), &v) == SS_INVALID);
	CHECK(strstr(ss_err_message(), "1101011990") == NULL);

	CHECK(ss_json_parse("{\"a\":1,\"a\":2}", 13, &v) == SS_INVALID);
	CHECK(strstr(ss_err_message(), "duplicate") != NULL);

	CHECK(ss_json_parse("", 0, &v) == SS_INVALID);
	CHECK(detail_is(NULL, "malformed JSON: "));
	CHECK(ss_json_parse("{} x", 4, &v) == SS_INVALID);
	CHECK(ss_json_parse("{\"a\":\"\xff\"}", 9, &v) == SS_INVALID);
	/* a NUL inside the text: "\u0000" escapes and raw NUL bytes */
	CHECK(ss_json_parse("{\"a\":\"x\\u0000y\"}", 15, &v) == SS_INVALID);
	CHECK_STR(ss_err_message(), "malformed JSON: \\u0000 is not allowed at line 1 column 15");
	CHECK(ss_json_parse("{\"a\":\"x\0y\"}", 10, &v) == SS_INVALID);
	CHECK(ss_json_parse("{\"a\":99999999999999999999}", 26, &v) == SS_INVALID);

	CHECK(ss_json_parse("[1,2]", 5, &v) == SS_INVALID);
	CHECK(detail_is(NULL, "body must be a JSON object"));
	CHECK(ss_json_parse("\"x\"", 3, &v) == SS_INVALID);
	CHECK(detail_is(NULL, "body must be a JSON object"));
	CHECK(ss_json_parse("null", 4, &v) == SS_INVALID);
	CHECK(detail_is(NULL, "body must be a JSON object"));
	CHECK(v == NULL);
}

static void test_parse_depth(void)
{
	char text[256];
	struct ss_json *v = NULL;
	size_t n = 0;

	/* 32 levels are allowed, 33 are not */
	text[n++] = '{';
	text[n++] = '"';
	text[n++] = 'a';
	text[n++] = '"';
	text[n++] = ':';
	for (int i = 0; i < 31; i++)
		text[n++] = '[';
	for (int i = 0; i < 31; i++)
		text[n++] = ']';
	text[n++] = '}';
	CHECK(ss_json_parse(text, n, &v) == SS_OK);
	ss_json_free(v);

	n = 0;
	for (int i = 0; i < 33; i++)
		text[n++] = '[';
	for (int i = 0; i < 33; i++)
		text[n++] = ']';
	CHECK(ss_json_parse(text, n, &v) == SS_INVALID);
	CHECK(detail_is(NULL, "malformed JSON: nested deeper than 32 levels"));

	/* brackets inside strings do not count */
	n = (size_t)snprintf(text, sizeof(text), "{\"a\":\"%s\"}",
	                     "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"[[[[[[[");
	CHECK(ss_json_parse(text, n, &v) == SS_OK);
	ss_json_free(v);

	/* a very deep body is refused before the parser recurses */
	static char deep[200000];
	memset(deep, '[', sizeof(deep));
	CHECK(ss_json_parse(deep, sizeof(deep), &v) == SS_INVALID);
}

static void test_get_str(void)
{
	struct ss_json *v = parse("{\"name\":\"\xe5\xbc\xa0\xe4\xb8\x89\",\"n\":5,\"ctl\":\"a\\nb\",\"nul\":null,"
	                          "\"long\":\"abcdefghij\",\"c1\":\"\\u0085\",\"empty\":\"\"}");
	const char *s = "unchanged";

	CHECK(v != NULL);
	CHECK(ss_json_get_str(v, "name", true, 64, &s) == SS_OK);
	CHECK_STR(s, "\xe5\xbc\xa0\xe4\xb8\x89");
	CHECK(ss_json_get_str(v, "empty", true, 64, &s) == SS_OK);
	CHECK_STR(s, "");

	/* exactly maxlen bytes fit; one fewer does not */
	CHECK(ss_json_get_str(v, "long", true, 10, &s) == SS_OK);
	CHECK(ss_json_get_str(v, "long", true, 9, &s) == SS_INVALID);
	CHECK(s == NULL);
	CHECK(detail_is("long", "must be at most 9 bytes"));

	CHECK(ss_json_get_str(v, "missing", true, 64, &s) == SS_INVALID);
	CHECK(detail_is("missing", "is missing"));
	s = "x";
	CHECK(ss_json_get_str(v, "missing", false, 64, &s) == SS_OK);
	CHECK(s == NULL);

	/* null counts as absent */
	CHECK(ss_json_get_str(v, "nul", true, 64, &s) == SS_INVALID);
	CHECK(detail_is("nul", "is missing"));
	CHECK(ss_json_get_str(v, "nul", false, 64, &s) == SS_OK);
	CHECK(s == NULL);

	CHECK(ss_json_get_str(v, "n", true, 64, &s) == SS_INVALID);
	CHECK(detail_is("n", "must be a string"));
	CHECK(ss_json_get_str(v, "ctl", true, 64, &s) == SS_INVALID);
	CHECK(detail_is("ctl", "must be text without control characters"));
	CHECK(ss_json_get_str(v, "c1", true, 64, &s) == SS_INVALID);
	CHECK(detail_is("c1", "must be text without control characters"));
	ss_json_free(v);
}

/* A file's text: line breaks and tabs pass, other control characters and NUL do not. */
static void test_get_text(void)
{
	struct ss_json *v = parse("{\"text\":\"version 1\\r\\nrule a\\n\\tcolor red\\n\xe5\xbc\xa0\\n\","
	                          "\"bell\":\"a\\u0007b\",\"c1\":\"a\\n\\u0085\",\"n\":5}");
	const char *s = "unchanged";
	size_t n = 99;

	CHECK(v != NULL);
	CHECK(ss_json_get_text(v, "text", true, 64, &s, &n) == SS_OK);
	CHECK_STR(s, "version 1\r\nrule a\n\tcolor red\n\xe5\xbc\xa0\n");
	CHECK(n == strlen("version 1\r\nrule a\n\tcolor red\n\xe5\xbc\xa0\n"));
	CHECK(ss_json_get_text(v, "text", true, n - 1, &s, &n) == SS_INVALID);
	CHECK(s == NULL && n == 0);
	CHECK(ss_json_get_text(v, "bell", true, 64, &s, &n) == SS_INVALID);
	CHECK(detail_is("bell", "must be text without control characters other than line breaks"));
	CHECK(ss_json_get_text(v, "c1", true, 64, &s, &n) == SS_INVALID);
	CHECK(ss_json_get_text(v, "n", true, 64, &s, &n) == SS_INVALID);
	CHECK(ss_json_get_text(v, "missing", true, 64, &s, &n) == SS_INVALID);
	CHECK(ss_json_get_text(v, "missing", false, 64, &s, &n) == SS_OK && s == NULL);
	ss_json_free(v);
}

static void test_get_int(void)
{
	struct ss_json *v = parse("{\"dose\":3,\"neg\":-9223372036854775808,\"real\":3.0,\"s\":\"3\",\"t\":true}");
	int64_t i = 42;
	bool present = true;

	CHECK(v != NULL);
	CHECK(ss_json_get_int(v, "dose", true, 1, 10, &i, &present) == SS_OK);
	CHECK(i == 3 && present);
	CHECK(ss_json_get_int(v, "dose", true, 3, 3, &i, NULL) == SS_OK);
	CHECK(ss_json_get_int(v, "neg", true, INT64_MIN, 0, &i, &present) == SS_OK);
	CHECK(i == INT64_MIN);

	i = 42;
	CHECK(ss_json_get_int(v, "dose", true, 4, 10, &i, &present) == SS_INVALID);
	CHECK(detail_is("dose", "must be between 4 and 10"));
	CHECK(i == 42 && !present);
	CHECK(ss_json_get_int(v, "dose", true, 0, 2, &i, &present) == SS_INVALID);
	CHECK(detail_is("dose", "must be between 0 and 2"));

	CHECK(ss_json_get_int(v, "real", true, 0, 10, &i, &present) == SS_INVALID);
	CHECK(detail_is("real", "must be an integer"));
	CHECK(ss_json_get_int(v, "s", true, 0, 10, &i, &present) == SS_INVALID);
	CHECK(detail_is("s", "must be an integer"));
	CHECK(ss_json_get_int(v, "t", true, 0, 10, &i, &present) == SS_INVALID);
	CHECK(detail_is("t", "must be an integer"));

	CHECK(ss_json_get_int(v, "none", true, 0, 10, &i, &present) == SS_INVALID);
	CHECK(detail_is("none", "is missing"));
	/* an absent optional member leaves the preset default */
	present = true;
	CHECK(ss_json_get_int(v, "none", false, 0, 10, &i, &present) == SS_OK);
	CHECK(!present && i == 42);
	ss_json_free(v);
}

static void test_get_num(void)
{
	struct ss_json *v = parse("{\"t\":36.8,\"i\":37,\"s\":\"36.8\",\"big\":1e300}");
	double d = 0;
	bool present = false;

	CHECK(v != NULL);
	CHECK(ss_json_get_num(v, "t", true, 30, 45, &d, &present) == SS_OK);
	CHECK(d == 36.8 && present);
	CHECK(ss_json_get_num(v, "i", true, 30, 45, &d, &present) == SS_OK);
	CHECK(d == 37.0);
	CHECK(ss_json_get_num(v, "big", true, 30, 45, &d, &present) == SS_INVALID);
	CHECK(detail_is("big", "must be between 30 and 45"));
	CHECK(ss_json_get_num(v, "s", true, 30, 45, &d, &present) == SS_INVALID);
	CHECK(detail_is("s", "must be a number"));
	CHECK(ss_json_get_num(v, "x", true, 30, 45, &d, &present) == SS_INVALID);
	CHECK(detail_is("x", "is missing"));
	CHECK(ss_json_get_num(v, "x", false, 30, 45, &d, &present) == SS_OK);
	CHECK(!present);
	ss_json_free(v);
}

static void test_get_bool(void)
{
	struct ss_json *v = parse("{\"y\":true,\"n\":false,\"i\":1}");
	bool b = false, present = false;

	CHECK(v != NULL);
	CHECK(ss_json_get_bool(v, "y", true, &b, &present) == SS_OK);
	CHECK(b && present);
	CHECK(ss_json_get_bool(v, "n", true, &b, &present) == SS_OK);
	CHECK(!b && present);
	CHECK(ss_json_get_bool(v, "i", true, &b, &present) == SS_INVALID);
	CHECK(detail_is("i", "must be true or false"));
	CHECK(ss_json_get_bool(v, "x", true, &b, &present) == SS_INVALID);
	CHECK(detail_is("x", "is missing"));
	CHECK(ss_json_get_bool(v, "x", false, &b, &present) == SS_OK);
	CHECK(!present);
	ss_json_free(v);
}

static void test_get_obj_arr(void)
{
	struct ss_json *v = parse(
	        "{\"attributes\":{\"level\":\"high\",\"dose\":2},\"places\":[\"310101\",\"310104\",7],\"s\":\"x\"}");
	const struct ss_json *o = NULL, *a = NULL;
	const char *s = NULL;
	int64_t i = 0;

	CHECK(v != NULL);
	CHECK(ss_json_get_obj(v, "attributes", true, &o) == SS_OK);
	CHECK(o != NULL && ss_json_is_obj(o));
	CHECK(ss_json_get_str(o, "level", true, 8, &s) == SS_OK);
	CHECK_STR(s, "high");
	CHECK(ss_json_get_int(o, "dose", true, 1, 9, &i, NULL) == SS_OK);
	CHECK(i == 2);

	CHECK(ss_json_get_obj(v, "places", true, &o) == SS_INVALID);
	CHECK(o == NULL);
	CHECK(detail_is("places", "must be an object"));
	CHECK(ss_json_get_obj(v, "none", true, &o) == SS_INVALID);
	CHECK(detail_is("none", "is missing"));
	CHECK(ss_json_get_obj(v, "none", false, &o) == SS_OK);
	CHECK(o == NULL);

	CHECK(ss_json_get_arr(v, "places", true, 3, &a) == SS_OK);
	CHECK(ss_json_arr_len(a) == 3);
	CHECK_STR(ss_json_as_str(ss_json_arr_at(a, 0)), "310101");
	CHECK_STR(ss_json_as_str(ss_json_arr_at(a, 1)), "310104");
	CHECK(ss_json_as_str(ss_json_arr_at(a, 2)) == NULL);
	CHECK(ss_json_arr_at(a, 3) == NULL);
	CHECK(!ss_json_is_obj(a));

	CHECK(ss_json_get_arr(v, "places", true, 2, &a) == SS_INVALID);
	CHECK(a == NULL);
	CHECK(detail_is("places", "must have at most 2 elements"));
	CHECK(ss_json_get_arr(v, "s", true, 2, &a) == SS_INVALID);
	CHECK(detail_is("s", "must be an array"));
	CHECK(ss_json_get_arr(v, "none", false, 2, &a) == SS_OK);
	CHECK(a == NULL && ss_json_arr_len(a) == 0);
	ss_json_free(v);
}

static void test_dump(void)
{
	struct ss_json *v = parse("{ \"b\" : [1, 2.5, \"x\"],\n \"a\" : {} }");
	const struct ss_json *b = NULL;
	struct ss_buf out;

	CHECK(v != NULL);
	ss_buf_init(&out, 1024);
	CHECK(ss_json_dump(v, &out) == SS_OK);
	/* compact, and in the order written */
	CHECK_STR(ss_buf_str(&out), "{\"b\":[1,2.5,\"x\"],\"a\":{}}");
	ss_buf_reset(&out);
	CHECK(ss_json_get_arr(v, "b", true, 8, &b) == SS_OK);
	CHECK(ss_json_dump(b, &out) == SS_OK);
	CHECK_STR(ss_buf_str(&out), "[1,2.5,\"x\"]");
	ss_buf_release(&out);

	/* too small: refused, and the buffer is left as it was */
	ss_buf_init(&out, 10);
	CHECK(ss_buf_puts(&out, "pre") == SS_OK);
	CHECK(ss_json_dump(v, &out) == SS_TOO_BIG);
	CHECK_STR(ss_buf_str(&out), "pre");
	ss_buf_release(&out);
	ss_json_free(v);
}

static void test_writer(void)
{
	struct ss_buf out;
	struct ss_jw w;

	ss_buf_init(&out, 4096);
	ss_jw_init(&w, &out);
	ss_jw_obj_begin(&w);
	ss_jw_kstr(&w, "a", "x");
	ss_jw_kint(&w, "n", -12);
	ss_jw_key(&w, "arr");
	ss_jw_arr_begin(&w);
	ss_jw_int(&w, 1);
	ss_jw_arr_begin(&w);
	ss_jw_arr_end(&w);
	ss_jw_obj_begin(&w);
	ss_jw_obj_end(&w);
	ss_jw_bool(&w, true);
	ss_jw_bool(&w, false);
	ss_jw_null(&w);
	ss_jw_num(&w, 36.8);
	ss_jw_str(&w, NULL);
	ss_jw_arr_end(&w);
	ss_jw_key(&w, "raw");
	ss_jw_raw(&w, "{\"k\":[1]}", 9);
	ss_jw_ktime(&w, "t", 1795680000);
	ss_jw_key(&w, "e");
	ss_jw_obj_begin(&w);
	ss_jw_obj_end(&w);
	ss_jw_obj_end(&w);
	CHECK(ss_jw_finish(&w) == SS_OK);
	CHECK_STR(ss_buf_str(&out), "{\"a\":\"x\",\"n\":-12,\"arr\":[1,[],{},true,false,null,36.8,null],"
	                            "\"raw\":{\"k\":[1]},\"t\":\"2026-11-26T08:00:00Z\",\"e\":{}}");

	/* and it parses back */
	struct ss_json *v = NULL;
	CHECK(ss_json_parse(out.ptr, out.len, &v) == SS_OK);
	ss_json_free(v);
	ss_buf_release(&out);
}

static void test_writer_escaping(void)
{
	/* every control character, quotes, backslashes, multibyte UTF-8, a C1 control */
	char in[64];
	size_t n = 0;
	for (int c = 1; c < 0x20; c++)
		in[n++] = (char)c;
	memcpy(in + n, "\"\\/\x7f\xe5\xbc\xa0\xf0\x9f\x98\x80\xc2\x85", 13);
	n += 13;

	struct ss_buf out;
	struct ss_jw w;
	ss_buf_init(&out, 4096);
	ss_jw_init(&w, &out);
	ss_jw_obj_begin(&w);
	ss_jw_key(&w, "k\"\n");
	ss_jw_arr_begin(&w);
	ss_jw_strn(&w, in, n);
	ss_jw_arr_end(&w);
	ss_jw_obj_end(&w);
	CHECK(ss_jw_finish(&w) == SS_OK);
	CHECK(strstr(out.ptr, "\\u0001") != NULL);
	CHECK(strstr(out.ptr, "\\u001f") != NULL);
	CHECK(strstr(out.ptr, "\\u0085") != NULL);
	CHECK(strstr(out.ptr, "\\\"") != NULL);
	CHECK(strstr(out.ptr, "\xe5\xbc\xa0\xf0\x9f\x98\x80") != NULL); /* passed through, not escaped */
	for (size_t i = 0; i < out.len; i++)
		CHECK((unsigned char)out.ptr[i] >= 0x20);

	/* round trip: the parsed string is byte for byte what was written */
	struct ss_json *v = NULL;
	const struct ss_json *arr = NULL;
	CHECK(ss_json_parse(out.ptr, out.len, &v) == SS_OK);
	CHECK(ss_json_get_arr(v, "k\"\n", true, 1, &arr) == SS_OK);
	const char *back = ss_json_as_str(ss_json_arr_at(arr, 0));
	CHECK(back && strlen(back) == n && memcmp(back, in, n) == 0);
	ss_json_free(v);

	/* text without control characters comes back through ss_json_get_str */
	ss_buf_reset(&out);
	ss_jw_init(&w, &out);
	const char *text = "\xe6\xac\xa7\xe9\x98\xb3 \"quoted\" back\\slash /";
	ss_jw_obj_begin(&w);
	ss_jw_kstr(&w, "s", text);
	ss_jw_obj_end(&w);
	CHECK(ss_jw_finish(&w) == SS_OK);
	CHECK(ss_json_parse(out.ptr, out.len, &v) == SS_OK);
	const char *s = NULL;
	CHECK(ss_json_get_str(v, "s", true, 64, &s) == SS_OK);
	CHECK_STR(s, text);
	ss_json_free(v);

	/* invalid UTF-8 becomes U+FFFD, so the output is still valid JSON */
	ss_buf_reset(&out);
	ss_jw_init(&w, &out);
	ss_jw_obj_begin(&w);
	ss_jw_key(&w, "s");
	ss_jw_strn(&w,
	           "a\xff"
	           "b\xe5\xbc"
	           "c\xc2",
	           7);
	ss_jw_obj_end(&w);
	CHECK(ss_jw_finish(&w) == SS_OK);
	CHECK_STR(ss_buf_str(&out), "{\"s\":\"a\xef\xbf\xbd"
	                            "b\xef\xbf\xbd\xef\xbf\xbd"
	                            "c\xef\xbf\xbd\"}");
	CHECK(ss_json_parse(out.ptr, out.len, &v) == SS_OK);
	ss_json_free(v);

	/* a NUL byte inside a counted string is escaped, and then refused when read back */
	ss_buf_reset(&out);
	ss_jw_init(&w, &out);
	ss_jw_obj_begin(&w);
	ss_jw_key(&w, "s");
	ss_jw_strn(&w, "a\0b", 3);
	ss_jw_obj_end(&w);
	CHECK(ss_jw_finish(&w) == SS_OK);
	CHECK_STR(ss_buf_str(&out), "{\"s\":\"a\\u0000b\"}");
	CHECK(ss_json_parse(out.ptr, out.len, &v) == SS_INVALID);
	ss_buf_release(&out);
}

static void test_writer_numbers(void)
{
	struct ss_buf out;
	struct ss_jw w;
	const double nums[] = {0, -0.5, 0.1, 1e300, -1e-300, 123456789012345678.0, 2.0 / 3.0};

	ss_buf_init(&out, 4096);
	ss_jw_init(&w, &out);
	ss_jw_obj_begin(&w);
	ss_jw_kint(&w, "min", INT64_MIN);
	ss_jw_kint(&w, "max", INT64_MAX);
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char key[8];
		snprintf(key, sizeof(key), "d%zu", i);
		ss_jw_key(&w, key);
		ss_jw_num(&w, nums[i]);
	}
	ss_jw_obj_end(&w);
	CHECK(ss_jw_finish(&w) == SS_OK);

	struct ss_json *v = NULL;
	int64_t i64 = 0;
	CHECK(ss_json_parse(out.ptr, out.len, &v) == SS_OK);
	CHECK(ss_json_get_int(v, "min", true, INT64_MIN, INT64_MAX, &i64, NULL) == SS_OK);
	CHECK(i64 == INT64_MIN);
	CHECK(ss_json_get_int(v, "max", true, INT64_MIN, INT64_MAX, &i64, NULL) == SS_OK);
	CHECK(i64 == INT64_MAX);
	for (size_t i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		char key[8];
		double d = 1;
		snprintf(key, sizeof(key), "d%zu", i);
		CHECK(ss_json_get_num(v, key, true, -1e308, 1e308, &d, NULL) == SS_OK);
		CHECK(d == nums[i]); /* exact: numbers round-trip */
	}
	ss_json_free(v);
	ss_buf_release(&out);
}

static void test_writer_too_big(void)
{
	struct ss_buf out;
	struct ss_jw w;

	ss_buf_init(&out, 16);
	ss_jw_init(&w, &out);
	ss_jw_obj_begin(&w);
	ss_jw_kstr(&w, "a", "0123456789");
	ss_jw_kstr(&w, "b", "x"); /* past the maximum */
	ss_jw_kint(&w, "c", 1);   /* the error stays */
	ss_jw_obj_end(&w);
	CHECK(ss_jw_finish(&w) == SS_TOO_BIG);
	CHECK(out.len <= 16);
	ss_buf_release(&out);

	/* nesting past what the writer can track is refused, not overrun */
	ss_buf_init(&out, 4096);
	ss_jw_init(&w, &out);
	for (int i = 0; i < 40; i++)
		ss_jw_arr_begin(&w);
	CHECK(ss_jw_finish(&w) == SS_TOO_BIG);
	ss_buf_release(&out);

	/* 32 levels are fine */
	ss_buf_init(&out, 4096);
	ss_jw_init(&w, &out);
	for (int i = 0; i < 32; i++)
		ss_jw_arr_begin(&w);
	for (int i = 0; i < 32; i++)
		ss_jw_arr_end(&w);
	CHECK(ss_jw_finish(&w) == SS_OK);
	CHECK(out.len == 64);
	ss_buf_release(&out);
}

static const char route_a[] = "POST /v1/citizens";
static const char route_q[] = "GET /v1/\"odd\\route\"";

static void test_metrics(void)
{
	struct ss_buf out;
	/* a copy of the same text at another address: must count as the same route */
	char copy[sizeof(route_a)];
	memcpy(copy, route_a, sizeof(route_a));

	ss_metrics_observe(route_a, 201, 50);   /* le 0.0001 */
	ss_metrics_observe(route_a, 201, 300);  /* le 0.0005 */
	ss_metrics_observe(copy, 201, 7000000); /* +Inf */
	ss_metrics_observe(route_a, 400, 100);  /* exactly on a bound: le 0.0001 */
	ss_metrics_observe(NULL, 404, 10);
	ss_metrics_observe(route_q, 200, 1);
	ss_metrics_count("suishen_scans_total", "Scans recorded.", 2);
	ss_metrics_count("suishen_scans_total", "Scans recorded.", 3);

	ss_buf_init(&out, 1 << 20);
	CHECK(ss_metrics_render(&out) == SS_OK);
	const char *s = ss_buf_str(&out);
	CHECK(strstr(s, "# TYPE suishen_http_requests_total counter\n") != NULL);
	CHECK(strstr(s, "# HELP suishen_http_requests_total ") != NULL);
	CHECK(strstr(s, "# TYPE suishen_http_request_duration_seconds histogram\n") != NULL);
	CHECK(strstr(s, "suishen_http_requests_total{route=\"POST /v1/citizens\",status=\"201\"} 3\n") != NULL);
	CHECK(strstr(s, "suishen_http_requests_total{route=\"POST /v1/citizens\",status=\"400\"} 1\n") != NULL);
	CHECK(strstr(s, "suishen_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n") != NULL);
	CHECK(strstr(s, "suishen_http_requests_total{route=\"GET /v1/\\\"odd\\\\route\\\"\",status=\"200\"} 1\n") !=
	      NULL);
	CHECK(strstr(s,
	             "suishen_http_request_duration_seconds_bucket{route=\"POST /v1/citizens\",le=\"0.0001\"} 2\n") !=
	      NULL);
	CHECK(strstr(s,
	             "suishen_http_request_duration_seconds_bucket{route=\"POST /v1/citizens\",le=\"0.00025\"} 2\n") !=
	      NULL);
	CHECK(strstr(s,
	             "suishen_http_request_duration_seconds_bucket{route=\"POST /v1/citizens\",le=\"0.0005\"} 3\n") !=
	      NULL);
	CHECK(strstr(s, "suishen_http_request_duration_seconds_bucket{route=\"POST /v1/citizens\",le=\"5\"} 3\n") !=
	      NULL);
	CHECK(strstr(s, "suishen_http_request_duration_seconds_bucket{route=\"POST /v1/citizens\",le=\"+Inf\"} 4\n") !=
	      NULL);
	CHECK(strstr(s, "suishen_http_request_duration_seconds_sum{route=\"POST /v1/citizens\"} 7.000450\n") != NULL);
	CHECK(strstr(s, "suishen_http_request_duration_seconds_count{route=\"POST /v1/citizens\"} 4\n") != NULL);
	CHECK(strstr(s, "# HELP suishen_scans_total Scans recorded.\n# TYPE suishen_scans_total counter\n"
	                "suishen_scans_total 5\n") != NULL);
	/* one series per route, however many copies of its text */
	const char *first = strstr(s, "route=\"POST /v1/citizens\",status=\"201\"");
	CHECK(first && !strstr(first + 1, "route=\"POST /v1/citizens\",status=\"201\""));
	ss_buf_release(&out);

	/* a small buffer: TOO_BIG, not a crash */
	ss_buf_init(&out, 100);
	CHECK(ss_metrics_render(&out) == SS_TOO_BIG);
	ss_buf_release(&out);
}

static void test_unknown_member(void)
{
	static const char *const known[] = {"a", "b", NULL};
	struct ss_json *v = parse("{\"a\":1,\"b\":{\"zz\":2}}");
	CHECK(v && ss_json_unknown_member(v, known) == NULL); /* nested members are not the object's own */
	ss_json_free(v);
	v = parse("{\"a\":1,\"c\":[1],\"b\":2}");
	CHECK_STR(ss_json_unknown_member(v, known), "c");
	ss_json_free(v);
	v = parse("{}");
	CHECK(ss_json_unknown_member(v, known) == NULL);
	ss_json_free(v);
	CHECK(ss_json_unknown_member(NULL, known) == NULL);
}

int main(void)
{
	RUN(test_parse_good);
	RUN(test_unknown_member);
	RUN(test_parse_bad);
	RUN(test_parse_depth);
	RUN(test_get_str);
	RUN(test_get_text);
	RUN(test_get_int);
	RUN(test_get_num);
	RUN(test_get_bool);
	RUN(test_get_obj_arr);
	RUN(test_dump);
	RUN(test_writer);
	RUN(test_writer_escaping);
	RUN(test_writer_numbers);
	RUN(test_writer_too_big);
	RUN(test_metrics);
	return check_done();
}
