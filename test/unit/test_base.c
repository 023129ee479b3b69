/*
 * test_base: unit tests of the base module: errors (err), bounded buffers
 * (buf), arenas (arena), text helpers (str) and time (time).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/arena.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"

/* --- err --- */

static void test_err_table(void)
{
	CHECK(ss_err_status(SS_OK) == 200);
	CHECK(ss_err_status(SS_INVALID) == 400);
	CHECK(ss_err_status(SS_UNAUTHENTICATED) == 401);
	CHECK(ss_err_status(SS_DENIED) == 403);
	CHECK(ss_err_status(SS_NOT_FOUND) == 404);
	CHECK(ss_err_status(SS_CONFLICT) == 409);
	CHECK(ss_err_status(SS_TOO_BIG) == 413);
	CHECK(ss_err_status(SS_MISMATCH) == 422);
	CHECK(ss_err_status(SS_RATE_LIMITED) == 429);
	CHECK(ss_err_status(SS_BUSY) == 503);
	CHECK_STR(ss_err_code(SS_INVALID), "invalid_argument");
	CHECK_STR(ss_err_code(SS_MISMATCH), "real_name_mismatch");
	CHECK_STR(ss_err_code(SS_RATE_LIMITED), "rate_limited");
	CHECK_STR(ss_err_code(SS_BUSY), "unavailable");
	CHECK_STR(ss_err_code((enum ss_err)999), "internal");
	CHECK(ss_err_status((enum ss_err)999) == 500);
}

static void test_err_detail(void)
{
	ss_err_clear();
	CHECK_STR(ss_err_message(), "");
	CHECK(ss_err_field() == NULL);
	CHECK(ss_fail(SS_CONFLICT, "id_number", "already %s", "registered") == SS_CONFLICT);
	CHECK_STR(ss_err_message(), "already registered");
	CHECK_STR(ss_err_field(), "id_number");
	/* the next failure replaces it, field and all */
	CHECK(ss_fail(SS_BUSY, NULL, "try later") == SS_BUSY);
	CHECK_STR(ss_err_message(), "try later");
	CHECK(ss_err_field() == NULL);
	ss_err_clear();
	CHECK_STR(ss_err_message(), "");

	/* over-long text is cut, not overflowed */
	char longtext[1000];
	memset(longtext, 'm', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	CHECK(ss_fail(SS_INVALID, longtext, "%s", longtext) == SS_INVALID);
	CHECK(strlen(ss_err_message()) > 100 && strlen(ss_err_message()) < sizeof(longtext) - 1);
	CHECK(ss_err_field() && strlen(ss_err_field()) < sizeof(longtext) - 1);
}

struct thread_seen {
	char initial[64];
	bool initial_field_null;
	char after[64];
};

static void *err_thread(void *arg)
{
	struct thread_seen *seen = arg;
	snprintf(seen->initial, sizeof(seen->initial), "%s", ss_err_message());
	seen->initial_field_null = ss_err_field() == NULL;
	(void)ss_fail(SS_DENIED, "role", "thread's own");
	snprintf(seen->after, sizeof(seen->after), "%s", ss_err_message());
	return NULL;
}

static void test_err_per_thread(void)
{
	pthread_t t;
	struct thread_seen seen;

	CHECK(ss_fail(SS_INVALID, "name", "main's detail") == SS_INVALID);
	CHECK(pthread_create(&t, NULL, err_thread, &seen) == 0);
	CHECK(pthread_join(t, NULL) == 0);
	CHECK_STR(seen.initial, "");
	CHECK(seen.initial_field_null);
	CHECK_STR(seen.after, "thread's own");
	CHECK_STR(ss_err_message(), "main's detail");
	CHECK_STR(ss_err_field(), "name");
}

/* --- buf --- */

static void test_buf_basics(void)
{
	struct ss_buf b;
	size_t len;

	ss_buf_init(&b, 100);
	CHECK_STR(ss_buf_str(&b), "");
	CHECK(b.len == 0);
	CHECK(ss_buf_append(&b, "abc", 3) == SS_OK);
	CHECK(ss_buf_putc(&b, '-') == SS_OK);
	CHECK(ss_buf_puts(&b, "def") == SS_OK);
	CHECK(ss_buf_printf(&b, "%d:%s", 42, "x") == SS_OK);
	CHECK_STR(ss_buf_str(&b), "abc-def42:x");
	CHECK(b.len == 11);
	CHECK(ss_buf_append(&b, "", 0) == SS_OK);
	CHECK(b.len == 11);
	ss_buf_reset(&b);
	CHECK_STR(ss_buf_str(&b), "");
	CHECK(b.len == 0 && b.cap > 0);
	CHECK(ss_buf_puts(&b, "again") == SS_OK);
	char *p = ss_buf_take(&b, &len);
	CHECK_STR(p, "again");
	CHECK(len == 5);
	CHECK(b.ptr == NULL && b.len == 0 && b.max == 100);
	free(p);
	p = ss_buf_take(&b, &len);
	CHECK_STR(p, "");
	CHECK(len == 0);
	free(p);
	ss_buf_release(&b);
	ss_buf_release(&b); /* twice is harmless */
}

static void test_buf_max(void)
{
	struct ss_buf b;
	char big[300];

	ss_buf_init(&b, 10);
	CHECK(ss_buf_puts(&b, "0123456") == SS_OK);
	CHECK(ss_buf_puts(&b, "7890") == SS_TOO_BIG);
	CHECK_STR(ss_buf_str(&b), "0123456");
	CHECK(b.len == 7);
	CHECK(ss_buf_printf(&b, "%s", "789x") == SS_TOO_BIG);
	CHECK_STR(ss_buf_str(&b), "0123456");
	/* the long path of printf, too */
	memset(big, 'z', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(ss_buf_printf(&b, "%s", big) == SS_TOO_BIG);
	CHECK_STR(ss_buf_str(&b), "0123456");
	CHECK(ss_buf_append(&b, big, SIZE_MAX) == SS_TOO_BIG);
	CHECK_STR(ss_buf_str(&b), "0123456");
	/* exactly max fits */
	CHECK(ss_buf_puts(&b, "789") == SS_OK);
	CHECK_STR(ss_buf_str(&b), "0123456789");
	CHECK(ss_buf_putc(&b, 'x') == SS_TOO_BIG);
	CHECK(b.cap <= b.max + 1);
	CHECK_STR(ss_buf_str(&b), "0123456789");
	ss_buf_release(&b);

	ss_buf_init(&b, 0);
	CHECK(ss_buf_putc(&b, 'x') == SS_TOO_BIG);
	CHECK(ss_buf_append(&b, "", 0) == SS_OK);
	CHECK_STR(ss_buf_str(&b), "");
	ss_buf_release(&b);
}

/* A maximum of SIZE_MAX ("no limit") once sized the first allocation to 1 byte (SIZE_MAX + 1 == 0). */
/* A whole file, within the maximum or not, and none: the shared reader of files (conf, pages, rules, demo). */
static void test_buf_read_file(void)
{
	char dir[64], path[128];
	struct ss_buf b;
	if (!check_data_dir(dir)) /* ".../data", not made: the files go beside it */
		return;
	snprintf(path, sizeof(path), "%.*s/f", (int)strlen(dir) - 5, dir);
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	for (int i = 0; f && i < 5000; i++) /* 5000 lines of 7 bytes: several reads of the 16 KiB chunk */
		fprintf(f, "l%05d\n", i);
	if (f)
		fclose(f);
	ss_buf_init(&b, 35000);
	CHECK(ss_buf_read_file(&b, path) == SS_OK);
	CHECK(b.len == 35000 && !memcmp(b.ptr, "l00000\n", 7) && !memcmp(b.ptr + 34993, "l04999\n", 7));
	ss_buf_release(&b);
	ss_buf_init(&b, 34999);
	CHECK(ss_buf_read_file(&b, path) == SS_TOO_BIG);
	CHECK(strstr(ss_err_message(), path) != NULL && strstr(ss_err_message(), "34999") != NULL);
	CHECK(b.len <= 34999);
	ss_buf_release(&b);
	snprintf(path, sizeof(path), "%.*s/none", (int)strlen(dir) - 5, dir);
	ss_buf_init(&b, 100);
	CHECK(ss_buf_read_file(&b, path) == SS_NOT_FOUND);
	CHECK(b.len == 0);
	ss_buf_release(&b);
	CHECK(check_data_dir_remove(dir));
}

/* %HH decoded in place, except %00, which stays written (a NUL would end the path early); bad escapes stay too. */
static void test_url_unescape(void)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
	        {"/assets/a.js", "/assets/a.js"},
	        {"/a%2Fb%2e%2E", "/a/b.."},
	        {"%E4%B8%AD", "\xe4\xb8\xad"},
	        {"/assets/a.js%00.png", "/assets/a.js%00.png"},
	        {"480%00", "480%00"},
	        {"%", "%"},
	        {"%4", "%4"},
	        {"%zz%4g", "%zz%4g"},
	        {"%252F", "%2F"},
	        {"", ""},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char s[64];
		snprintf(s, sizeof(s), "%s", cases[i].in);
		size_t n = ss_url_unescape(s);
		CHECK_STR(s, cases[i].out);
		CHECK(n == strlen(cases[i].out));
	}
}

static void test_buf_unlimited(void)
{
	struct ss_buf b;
	ss_buf_init(&b, SIZE_MAX);
	for (int i = 0; i < 1000; i++)
		CHECK(ss_buf_puts(&b, "0123456789") == SS_OK);
	CHECK(b.len == 10000);
	CHECK(b.cap > b.len);
	CHECK(ss_buf_str(&b)[9999] == '9' && ss_buf_str(&b)[10000] == '\0');
	CHECK(ss_buf_append(&b, "x", SIZE_MAX) == SS_TOO_BIG);
	CHECK(b.len == 10000);
	ss_buf_release(&b);
}

static void test_buf_printf_long(void)
{
	struct ss_buf b;
	char *text = ss_malloc(100001);

	for (int i = 0; i < 100000; i++)
		text[i] = (char)('a' + i % 26);
	text[100000] = '\0';
	ss_buf_init(&b, 1 << 20);
	CHECK(ss_buf_puts(&b, "<") == SS_OK);
	CHECK(ss_buf_printf(&b, "%s|%d", text, 7) == SS_OK);
	CHECK(b.len == 1 + 100000 + 2);
	CHECK(memcmp(b.ptr + 1, text, 100000) == 0);
	CHECK_STR(b.ptr + 100001, "|7");
	/* lengths around the 256-byte first try */
	for (size_t n = 250; n < 260; n++) {
		ss_buf_reset(&b);
		CHECK(ss_buf_printf(&b, "%.*s", (int)n, text) == SS_OK);
		CHECK(b.len == n && strlen(ss_buf_str(&b)) == n);
	}
	ss_buf_release(&b);
	free(text);
}

/* --- arena --- */

static void test_arena(void)
{
	struct ss_arena a;

	ss_arena_init(&a);
	for (int round = 0; round < 2; round++) {
		char *small[100];
		for (int i = 0; i < 100; i++) {
			small[i] = ss_arena_alloc(&a, (size_t)i + 1);
			CHECK(((uintptr_t)small[i] & 15) == 0);
			bool zero = true;
			for (int k = 0; k <= i; k++)
				zero = zero && small[i][k] == 0;
			CHECK(zero);
			memset(small[i], i, (size_t)i + 1);
		}
		/* large allocations, before and between small ones */
		for (size_t n = 4000; n < 300000; n = n * 3 + 1) {
			unsigned char *big = ss_arena_alloc(&a, n);
			CHECK(((uintptr_t)big & 15) == 0);
			CHECK(big[0] == 0 && big[n / 2] == 0 && big[n - 1] == 0);
			memset(big, 0xab, n);
			char *after = ss_arena_alloc(&a, 8);
			CHECK(after[0] == 0);
			memset(after, 0xcd, 8);
		}
		/* earlier allocations are untouched */
		bool kept = true;
		for (int i = 0; i < 100; i++)
			for (int k = 0; k <= i; k++)
				kept = kept && small[i][k] == (char)i;
		CHECK(kept);
		CHECK(ss_arena_alloc(&a, 0) != NULL);
		ss_arena_release(&a);
		CHECK(a.head == NULL);
	}
}

static void test_arena_strings(void)
{
	struct ss_arena a;
	char text[5000];

	ss_arena_init(&a);
	CHECK_STR(ss_arena_strdup(&a, "hello"), "hello");
	CHECK_STR(ss_arena_strndup(&a, "hello world", 5), "hello");
	CHECK_STR(ss_arena_strndup(&a, "", 0), "");
	CHECK_STR(ss_arena_printf(&a, "%s-%d", "n", 5), "n-5");
	memset(text, 'q', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	char *p = ss_arena_printf(&a, "[%s]", text);
	CHECK(strlen(p) == sizeof(text) + 1 && p[0] == '[' && p[sizeof(text)] == ']');
	ss_arena_release(&a);
}

/* --- str --- */

static void test_hex(void)
{
	uint8_t all[256], back[256];
	char hex[513];

	for (int i = 0; i < 256; i++)
		all[i] = (uint8_t)i;
	ss_hex_encode(all, 256, hex);
	CHECK(strlen(hex) == 512);
	CHECK(strncmp(hex, "000102", 6) == 0);
	CHECK_STR(hex + 506, "fdfeff");
	CHECK(ss_hex_decode(hex, 512, back, 256));
	CHECK(memcmp(all, back, 256) == 0);
	CHECK(ss_hex_decode("DEADbeef", 8, back, 4));
	CHECK(back[0] == 0xde && back[1] == 0xad && back[2] == 0xbe && back[3] == 0xef);
	ss_hex_encode(all, 0, hex);
	CHECK_STR(hex, "");
	CHECK(ss_hex_decode("", 0, back, 0));
	/* bad hex */
	CHECK(!ss_hex_decode("abc", 3, back, 1));
	CHECK(!ss_hex_decode("abc", 3, back, 2));
	CHECK(!ss_hex_decode("abcd", 4, back, 1));
	CHECK(!ss_hex_decode("zz", 2, back, 1));
	CHECK(!ss_hex_decode("0g", 2, back, 1));
	CHECK(!ss_hex_decode(" 0", 2, back, 1));
	CHECK(!ss_hex_decode("0\0", 2, back, 1));
}

static void test_base32(void)
{
	/* RFC 4648 section 10, without padding */
	static const char *const vectors[][2] = {
	        {"", ""},
	        {"f", "MY"},
	        {"fo", "MZXQ"},
	        {"foo", "MZXW6"},
	        {"foob", "MZXW6YQ"},
	        {"fooba", "MZXW6YTB"},
	        {"foobar", "MZXW6YTBOI"},
	};
	char out[64];
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		ss_base32_encode((const uint8_t *)vectors[i][0], strlen(vectors[i][0]), out);
		CHECK_STR(out, vectors[i][1]);
	}
	/* a 20-byte TOTP secret: 32 characters */
	uint8_t key[20];
	memset(key, 0xff, sizeof(key));
	ss_base32_encode(key, sizeof(key), out);
	CHECK_STR(out, "77777777777777777777777777777777");
	ss_base32_encode((const uint8_t *)"12345678901234567890", 20, out);
	CHECK_STR(out, "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
}

static bool clean(const char *s)
{
	return ss_utf8_is_clean_text(s, strlen(s));
}

static void test_utf8_clean(void)
{
	CHECK(clean(""));
	CHECK(clean("Zhang San"));
	CHECK(clean("张三"));
	CHECK(clean("欧阳小明"));
	CHECK(clean("\xc2\xa0"));         /* U+00A0, the first after the C1 controls */
	CHECK(clean("\xef\xbf\xbd"));     /* U+FFFD */
	CHECK(clean("\xf0\x9f\x98\x80")); /* U+1F600 */
	CHECK(clean("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	CHECK(clean("\xed\x9f\xbf"));     /* U+D7FF, just before the surrogates */
	CHECK(clean("\xee\x80\x80"));     /* U+E000, just after */
	CHECK(clean("~"));

	/* C0 controls, DEL, C1 controls */
	CHECK(!clean("a\tb"));
	CHECK(!clean("a\nb"));
	CHECK(!clean("\x1f"));
	CHECK(!clean("\x7f"));
	CHECK(!clean("\xc2\x80"));
	CHECK(!clean("\xc2\x85"));
	CHECK(!clean("\xc2\x9f"));
	CHECK(!ss_utf8_is_clean_text("a\0b", 3));
	/* overlong forms */
	CHECK(!clean("\xc0\x80"));
	CHECK(!clean("\xc1\xbf"));
	CHECK(!clean("\xe0\x80\x80"));
	CHECK(!clean("\xe0\x9f\xbf"));
	CHECK(!clean("\xf0\x80\x80\x80"));
	CHECK(!clean("\xf0\x8f\xbf\xbf"));
	/* surrogates */
	CHECK(!clean("\xed\xa0\x80"));
	CHECK(!clean("\xed\xbf\xbf"));
	/* beyond U+10FFFF, and bytes never in UTF-8 */
	CHECK(!clean("\xf4\x90\x80\x80"));
	CHECK(!clean("\xf5\x80\x80\x80"));
	CHECK(!clean("\xf8\x88\x80\x80\x80"));
	CHECK(!clean("\xff"));
	CHECK(!clean("\xfe"));
	/* truncated and broken sequences */
	CHECK(!clean("\xe5\xbc"));
	CHECK(!clean("\xe5"));
	CHECK(!clean("\xf0\x9f\x98"));
	CHECK(!clean("a\xc2"));
	CHECK(!clean("\x80"));
	CHECK(!clean("\xbf"));
	CHECK(!clean("\xe5\x41\x41"));
	CHECK(!clean("\xe5\xbc\xa0\xbc"));
	/* a truncated character is refused even when the byte after n is a continuation */
	CHECK(!ss_utf8_is_clean_text("\xe5\xbc\xa0", 2));
}

/* ss_str_check_name on a C string with room for max bytes; the trimmed name in out, or the message. */
static const char *name_check(const char *s, size_t max, char *out)
{
	return ss_str_check_name(s, strlen(s), max, "name", out) ? ss_err_message() : out;
}

static void test_check_name(void)
{
	char out[65];
	CHECK_STR(name_check("张三", 64, out), "张三");
	CHECK_STR(name_check("  张三 ", 64, out), "张三");
	CHECK_STR(name_check("\xe3\x80\x80张三\xe3\x80\x80", 64, out), "张三");   /* U+3000 at both ends */
	CHECK_STR(name_check("G60 沪昆高速 卡口", 64, out), "G60 沪昆高速 卡口"); /* spaces inside stay */
	CHECK_STR(name_check("\xe8\x91\x9b\xf3\xa0\x84\x80", 64, out), "\xe8\x91\x9b\xf3\xa0\x84\x80"); /* IVS */
	CHECK_STR(name_check("Zoë", 64, out), "Zoë");
	/* nothing but white space */
	CHECK_STR(name_check("", 64, out), "name must not be empty");
	CHECK_STR(name_check("   ", 64, out), "name must not be empty");
	CHECK_STR(name_check("\xe3\x80\x80\xc2\xa0\xe2\x80\x83", 64, out), "name must not be empty");
	/* invisible and bidirectional characters anywhere, named by code point */
	CHECK_STR(name_check("张\xe2\x80\xae三", 64, out),
	          "name must not hold invisible or bidirectional control characters (such as U+202E)");
	static const char *const bad[] = {
	        "\xe2\x80\xaa", "\xe2\x80\xab", "\xe2\x80\xac",     "\xe2\x80\xad", "\xe2\x80\xae", /* U+202A-E */
	        "\xe2\x81\xa6", "\xe2\x81\xa7", "\xe2\x81\xa8",     "\xe2\x81\xa9",                 /* U+2066-9 */
	        "\xe2\x80\x8e", "\xe2\x80\x8f", "\xd8\x9c",                                         /* LRM RLM ALM */
	        "\xe2\x80\x8b", "\xe2\x80\x8c", "\xe2\x80\x8d",     "\xe2\x81\xa0", "\xef\xbb\xbf", /* zero width */
	        "\xc2\xad",     "\xe3\x85\xa4", "\xf3\xa0\x80\x81", "\xe2\x80\xa8",                 /* SHY, fillers */
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char s[32];
		snprintf(s, sizeof(s), "a%sb", bad[i]);
		CHECK(ss_str_check_name(s, strlen(s), 64, "org", out) == SS_INVALID);
		CHECK_STR(ss_err_field(), "org");
		CHECK(strstr(ss_err_message(), "invisible or bidirectional") != NULL);
	}
	/* as ss_utf8_is_clean_text; and the limit counts the trimmed bytes */
	CHECK_STR(name_check("a\tb", 64, out), "name must be UTF-8 text without control characters");
	CHECK_STR(name_check("\xff", 64, out), "name must be UTF-8 text without control characters");
	CHECK_STR(name_check(" abcd ", 4, out), "abcd");
	CHECK_STR(name_check("abcde", 4, out), "name must be at most 4 bytes");
}

static void test_str_to_id(void)
{
	int64_t id = 0;
	CHECK(ss_str_to_id("1", &id) && id == 1);
	CHECK(ss_str_to_id("9223372036854775807", &id) && id == INT64_MAX);
	static const char *const bad[] = {"",
	                                  "0",
	                                  "+1",
	                                  "-1",
	                                  "01",
	                                  " 1",
	                                  "1 ",
	                                  "1.0",
	                                  "1e3",
	                                  "0x1",
	                                  "１",
	                                  "9223372036854775808",
	                                  "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(!ss_str_to_id(bad[i], &id));
	CHECK(!ss_str_to_id(NULL, &id));
}

static void test_utf8_helpers(void)
{
	CHECK(ss_utf8_count("", 0) == 0);
	CHECK(ss_utf8_count("abc", 3) == 3);
	CHECK(ss_utf8_count("张三", strlen("张三")) == 2);
	CHECK(ss_utf8_count("a张\xf0\x9f\x98\x80", 8) == 3);
	CHECK(ss_utf8_char_len('a') == 1);
	CHECK(ss_utf8_char_len(0xc2) == 2);
	CHECK(ss_utf8_char_len(0xe5) == 3);
	CHECK(ss_utf8_char_len(0xf0) == 4);
	CHECK(ss_utf8_char_len(0x80) == 1);
	CHECK(ss_utf8_char_len(0xff) == 1);

	CHECK(ss_ct_equal("abc", "abc", 3));
	CHECK(!ss_ct_equal("abc", "abd", 3));
	CHECK(!ss_ct_equal("xbc", "abc", 3));
	CHECK(ss_ct_equal("a", "b", 0));

	CHECK(ss_str_is_digits("0123456789", 10));
	CHECK(!ss_str_is_digits("", 0));
	CHECK(!ss_str_is_digits("12a", 3));
	CHECK(!ss_str_is_digits("-1", 2));
	CHECK(ss_str_is_digits("12a", 2));
}

/* --- time --- */

static int64_t parsed(const char *s)
{
	int64_t t = INT64_MIN;
	if (!ss_time_parse(s, &t))
		return INT64_MIN;
	return t;
}

static void test_time_parse_format(void)
{
	char out[SS_TIME_TEXT];

	CHECK(parsed("1970-01-01T00:00:00Z") == 0);
	CHECK(parsed("2026-11-26T08:00:00Z") == 1795680000);
	ss_time_format(1795680000, out);
	CHECK_STR(out, "2026-11-26T08:00:00Z");
	ss_time_format(0, out);
	CHECK_STR(out, "1970-01-01T00:00:00Z");
	ss_time_format(-1, out);
	CHECK_STR(out, "1969-12-31T23:59:59Z");
	CHECK(parsed("1969-12-31T23:59:59Z") == -1);
	CHECK(parsed("2000-02-29T12:34:56Z") == 951827696);
	CHECK(parsed("2038-01-19T03:14:08Z") == INT64_C(2147483648));
	/* lowercase t and z */
	CHECK(parsed("2026-11-26t08:00:00z") == 1795680000);
	/* fractions are accepted and dropped */
	CHECK(parsed("2026-11-26T08:00:00.999999Z") == 1795680000);
	CHECK(parsed("2026-11-26T08:00:00.5+00:00") == 1795680000);

	/* round trips, across a wide range */
	for (int64_t t = -2208988800; t < INT64_C(4102444800); t += 86400 * 37 + 3917) {
		ss_time_format(t, out);
		CHECK(parsed(out) == t);
	}
	/* years before 1000 keep four digits (strftime's %Y once wrote "1-01-01") */
	ss_time_format(-62135596800, out);
	CHECK_STR(out, "0001-01-01T00:00:00Z");
	CHECK(parsed(out) == -62135596800);
	CHECK(parsed("9999-12-31T23:59:59Z") == INT64_C(253402300799));
	ss_time_format(INT64_C(253402300799), out);
	CHECK_STR(out, "9999-12-31T23:59:59Z");
}

static void test_time_offsets(void)
{
	CHECK(parsed("2026-11-26T16:00:00+08:00") == 1795680000);
	CHECK(parsed("2026-11-26T02:30:00-05:30") == 1795680000);
	CHECK(parsed("2026-11-26T08:00:00+00:00") == 1795680000);
	CHECK(parsed("2026-11-26T08:00:00-00:00") == 1795680000);
	CHECK(parsed("2026-11-27T07:59:00+23:59") == 1795680000);
	/* across a date line */
	CHECK(parsed("2026-11-25T23:00:00-09:00") == 1795680000);
}

static void test_time_bad(void)
{
	static const char *const bad[] = {
	        "",
	        "2026-11-26",
	        "2026-11-26T08:00:00",
	        "2026-11-26T08:00Z",
	        "2026-11-26 08:00:00Z",
	        "2026/11/26T08:00:00Z",
	        "2026-11-26T08:00:00ZZ",
	        "2026-11-26T08:00:00Z ",
	        " 2026-11-26T08:00:00Z",
	        "2026-13-01T08:00:00Z",
	        "2026-00-01T08:00:00Z",
	        "2026-11-31T08:00:00Z",
	        "2026-11-00T08:00:00Z",
	        "2025-02-29T08:00:00Z",
	        "2026-11-26T24:00:00Z",
	        "2026-11-26T08:60:00Z",
	        "2026-11-26T08:00:61Z",
	        "2026-11-26T08:00:00+0800",
	        "2026-11-26T08:00:00+08",
	        "2026-11-26T08:00:00+24:00",
	        "2026-11-26T08:00:00+08:60",
	        "2026-11-26T08:00:00.Z",
	        "2026-11-26T08:00:00,5Z",
	        "+2026-11-26T08:00:00Z",
	        "0000-01-01T00:00:00Z",
	        "2026-1a-26T08:00:00Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 12345;
		bool ok = ss_time_parse(bad[i], &t);
		if (ok)
			printf("# accepted \"%s\"\n", bad[i]);
		CHECK(!ok);
		CHECK(t == 12345);
	}
}

static void test_time_leap_second(void)
{
	/* 2016-12-31T23:59:60Z existed; Unix time has no place for it and reads it as :59 */
	CHECK(parsed("2016-12-31T23:59:60Z") == parsed("2016-12-31T23:59:59Z"));
	CHECK(parsed("2016-12-31T23:59:60Z") == 1483228799);
	CHECK(parsed("2017-01-01T07:59:60+08:00") == 1483228799);
}

static void test_date_to_days(void)
{
	int64_t d = 0;

	CHECK(ss_date_to_days(1970, 1, 1, &d) && d == 0);
	CHECK(ss_date_to_days(1969, 12, 31, &d) && d == -1);
	CHECK(ss_date_to_days(2000, 3, 1, &d) && d == 11017);
	CHECK(ss_date_to_days(2000, 2, 29, &d) && d == 11016);
	CHECK(ss_date_to_days(1900, 1, 1, &d) && d == -25567);
	CHECK(ss_date_to_days(1, 1, 1, &d) && d == -719162);
	CHECK(ss_date_to_days(9999, 12, 31, &d) && d == 2932896);
	CHECK(ss_date_to_days(2026, 11, 26, &d) && d == 20783);
	/* leap years: every 4th, not every 100th, every 400th */
	CHECK(ss_date_to_days(2024, 2, 29, &d));
	CHECK(!ss_date_to_days(2023, 2, 29, &d));
	CHECK(!ss_date_to_days(1900, 2, 29, &d));
	CHECK(ss_date_to_days(2000, 2, 29, &d));
	CHECK(!ss_date_to_days(2100, 2, 29, &d));
	/* days that do not exist */
	CHECK(!ss_date_to_days(2026, 4, 31, &d));
	CHECK(!ss_date_to_days(2026, 1, 32, &d));
	CHECK(!ss_date_to_days(2026, 1, 0, &d));
	CHECK(!ss_date_to_days(2026, 0, 1, &d));
	CHECK(!ss_date_to_days(2026, 13, 1, &d));
	CHECK(!ss_date_to_days(0, 1, 1, &d));
	CHECK(!ss_date_to_days(10000, 1, 1, &d));
	CHECK(!ss_date_to_days(-1, 1, 1, &d));
	/* consecutive days are consecutive numbers */
	int64_t prev = 0, cur = 0;
	bool consecutive = true;
	CHECK(ss_date_to_days(1899, 12, 31, &prev));
	for (int y = 1900; y <= 2100; y++)
		for (int m = 1; m <= 12; m++)
			for (int day = 1; day <= 31; day++)
				if (ss_date_to_days(y, m, day, &cur)) {
					consecutive = consecutive && cur == prev + 1;
					prev = cur;
				}
	CHECK(consecutive);
}

static void test_clocks(void)
{
	CHECK(ss_time_now() > 1700000000); /* after November 2023 */
	int64_t a = ss_time_mono_us(), b = ss_time_mono_us();
	CHECK(a > 0 && b >= a);
}

static void test_days_to_date_round_trip(void)
{
	int y, m, d;
	ss_days_to_date(0, &y, &m, &d);
	CHECK(y == 1970 && m == 1 && d == 1);
	ss_days_to_date(11016, &y, &m, &d); /* 2000-02-29 */
	CHECK(y == 2000 && m == 2 && d == 29);
	for (int64_t days = -719162; days < 2932897; days += 97) { /* 0001-01-01 .. 9999-12-31 */
		int64_t back = -1;
		ss_days_to_date(days, &y, &m, &d);
		if (!ss_date_to_days(y, m, d, &back) || back != days) {
			CHECK(back == days);
			break;
		}
	}
}

int main(void)
{
	RUN(test_err_table);
	RUN(test_err_detail);
	RUN(test_err_per_thread);
	RUN(test_buf_basics);
	RUN(test_buf_max);
	RUN(test_buf_read_file);
	RUN(test_url_unescape);
	RUN(test_buf_unlimited);
	RUN(test_buf_printf_long);
	RUN(test_arena);
	RUN(test_arena_strings);
	RUN(test_hex);
	RUN(test_base32);
	RUN(test_utf8_clean);
	RUN(test_utf8_helpers);
	RUN(test_check_name);
	RUN(test_str_to_id);
	RUN(test_time_parse_format);
	RUN(test_time_offsets);
	RUN(test_time_bad);
	RUN(test_time_leap_second);
	RUN(test_date_to_days);
	RUN(test_clocks);
	RUN(test_days_to_date_round_trip);
	return check_done();
}
