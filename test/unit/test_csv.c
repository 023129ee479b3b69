/*
 * test_csv: unit tests of the CSV reader (base/csv) and of population
 * registry rows read with it (core/population).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "base/buf.h"
#include "base/csv.h"
#include "base/err.h"
#include "base/time.h"
#include "core/idcard.h"
#include "core/population.h"

/*
 * Reads n bytes of input with max_record and describes every call's outcome,
 * one per line: "3:[a|b]" for a record of fields a and b starting on line 3,
 * "3:invalid" or "3:too_large" for an error, and "end@4" for the end of input.
 * Returns a static string.
 */
static const char *read_n(const char *input, size_t n, size_t max_record)
{
	static char out[4096];
	struct ss_buf b;
	struct ss_csv r;
	enum ss_err err;
	/* fmemopen() refuses a size of 0 on some systems */
	FILE *f = n ? fmemopen((void *)input, n, "r") : fopen("/dev/null", "r");

	if (!f)
		return "(fmemopen failed)";
	ss_buf_init(&b, sizeof(out) - 1);
	ss_csv_init(&r, f, max_record);
	for (int calls = 0; calls < 100; calls++) {
		err = ss_csv_next(&r);
		if (err == SS_NOT_FOUND) {
			CHECK(ss_buf_printf(&b, "end@%ld", r.next_line) == SS_OK);
			break;
		}
		if (err) {
			CHECK(ss_buf_printf(&b, "%ld:%s\n", r.line, ss_err_code(err)) == SS_OK);
			continue;
		}
		CHECK(ss_buf_printf(&b, "%ld:[", r.line) == SS_OK);
		for (size_t i = 0; i < r.nfields; i++) {
			size_t len;
			const char *field = ss_csv_field(&r, i, &len);
			if (strlen(field) != len)
				CHECK(ss_buf_puts(&b, "(length wrong)") == SS_OK);
			CHECK(ss_buf_printf(&b, "%s%s", i ? "|" : "", field) == SS_OK);
		}
		CHECK(ss_buf_puts(&b, "]\n") == SS_OK);
	}
	ss_csv_release(&r);
	fclose(f);
	snprintf(out, sizeof(out), "%s", ss_buf_str(&b));
	ss_buf_release(&b);
	return out;
}

static const char *read_all(const char *input)
{
	return read_n(input, strlen(input), 1024);
}

/* The message of the first error reading input. */
static const char *first_error(const char *input, size_t max_record)
{
	static char msg[256];
	struct ss_csv r;
	enum ss_err err;
	FILE *f = fmemopen((void *)input, strlen(input), "r");

	msg[0] = '\0';
	ss_csv_init(&r, f, max_record);
	while ((err = ss_csv_next(&r)) != SS_NOT_FOUND) {
		if (err) {
			snprintf(msg, sizeof(msg), "%s", ss_err_message());
			break;
		}
	}
	ss_csv_release(&r);
	fclose(f);
	return msg;
}

static void test_simple(void)
{
	CHECK_STR(read_all("a,b,c\n1,2,3\n"), "1:[a|b|c]\n2:[1|2|3]\nend@3");
	CHECK_STR(read_all("a,b,c\n1,2,3"), "1:[a|b|c]\n2:[1|2|3]\nend@2");
	CHECK_STR(read_all("one\n"), "1:[one]\nend@2");
	CHECK_STR(read_all(""), "end@1");
}

static void test_empty_fields(void)
{
	CHECK_STR(read_all(",\n"), "1:[|]\nend@2");
	CHECK_STR(read_all("a,,c\n,b,\n"), "1:[a||c]\n2:[|b|]\nend@3");
	CHECK_STR(read_all("\"\"\n"), "1:[]\nend@2");
	CHECK_STR(read_all("\"\",\"\"\n"), "1:[|]\nend@2");
	CHECK_STR(read_all("a,\n"), "1:[a|]\nend@2");
	CHECK_STR(read_all("a,"), "1:[a|]\nend@1");
}

static void test_quoting(void)
{
	CHECK_STR(read_all("\"a,b\",c\n"), "1:[a,b|c]\nend@2");
	CHECK_STR(read_all("\"say \"\"hi\"\"\",x\n"), "1:[say \"hi\"|x]\nend@2");
	CHECK_STR(read_all("\"\"\"\"\n"), "1:[\"]\nend@2");
	CHECK_STR(read_all("x,\"\"\n"), "1:[x|]\nend@2");
	CHECK_STR(read_all("\"张三\",\"上海市\"\n"), "1:[张三|上海市]\nend@2");
	/* spaces are data; a quote after them is inside an unquoted field (RFC 4180 allows none) */
	CHECK_STR(read_all(" a ,b \n"), "1:[ a |b ]\nend@2");
	CHECK_STR(read_all(" a , \"b\"\n"), "1:invalid_argument\nend@2");
}

static void test_embedded_newlines(void)
{
	/* a quoted field spans lines 2-4; the next record starts on line 5 */
	CHECK_STR(read_all("h\n\"one\ntwo\nthree\",x\nnext\n"), "1:[h]\n2:[one\ntwo\nthree|x]\n5:[next]\nend@6");
	CHECK_STR(read_all("\"a\r\nb\"\r\nc\r\n"), "1:[a\r\nb]\n3:[c]\nend@4");
}

static void test_crlf(void)
{
	CHECK_STR(read_all("a,b\r\nc,d\r\n"), "1:[a|b]\n2:[c|d]\nend@3");
	CHECK_STR(read_all("\"a\",\"b\"\r\n\"c\"\r\n"), "1:[a|b]\n2:[c]\nend@3");
	CHECK_STR(read_all("a,b\r"), "1:[a|b]\nend@1");
	/* a CR without LF is data */
	CHECK_STR(read_all("a\rb,c\n"), "1:[a\rb|c]\nend@2");
	CHECK_STR(read_all("\rb\n"), "1:[\rb]\nend@2");
}

static void test_bom(void)
{
	CHECK_STR(read_all("\xef\xbb\xbfid,name\n1,2\n"), "1:[id|name]\n2:[1|2]\nend@3");
	CHECK_STR(read_all("\xef\xbb\xbf"), "end@1");
	CHECK_STR(read_all("\xef\xbb\xbf\"q\"\n"), "1:[q]\nend@2");
	/* only at the very start */
	CHECK_STR(read_all("a\n\xef\xbb\xbf"
	                   "b\n"),
	          "1:[a]\n2:[\xef\xbb\xbf"
	          "b]\nend@3");
	/* a partial mark is data */
	CHECK_STR(read_all("\xef\xbbx,y\n"), "1:[\xef\xbbx|y]\nend@2");
	CHECK_STR(read_all("\xef,y\n"), "1:[\xef|y]\nend@2");
	CHECK_STR(read_all("\xef\xbb"), "1:[\xef\xbb]\nend@1");
}

static void test_blank_lines(void)
{
	CHECK_STR(read_all("\n\na\n\n\nb\n\n"), "3:[a]\n6:[b]\nend@8");
	CHECK_STR(read_all("\r\n\r\na\r\n"), "3:[a]\nend@4");
	CHECK_STR(read_all("\n\n"), "end@3");
	/* a line of spaces is a record, not a blank line */
	CHECK_STR(read_all("  \n"), "1:[  ]\nend@2");
}

static void test_too_long_resyncs(void)
{
	/* max_record 10: "0123456789" fits, "0123456789a" does not */
	const char *in = "0123456789\n0123456789a\nok\n";
	CHECK_STR(read_n(in, strlen(in), 10), "1:[0123456789]\n2:too_large\n3:[ok]\nend@4");
	/* the line end does not count; quotes and commas do */
	CHECK_STR(read_n("a,b,c,d,ef\r\n", 12, 10), "1:[a|b|c|d|ef]\nend@2");
	CHECK_STR(read_n("\"abcdefgh\"\n", 11, 10), "1:[abcdefgh]\nend@2");
	CHECK_STR(read_n("\"abcdefghi\"\n", 12, 10), "1:too_large\nend@2");
	/* an over-long quoted field across lines is skipped as a whole */
	in = "\"long\nlong long\nlong\",x\nnext\n";
	CHECK_STR(read_n(in, strlen(in), 10), "1:too_large\n4:[next]\nend@5");
	CHECK_STR(first_error("0123456789abc\n", 10), "record is longer than 10 bytes");
}

static void test_too_many_fields(void)
{
	char line[200] = "";
	for (int i = 0; i < SS_CSV_MAX_FIELDS; i++)
		strcat(line, i ? ",x" : "x");
	char in[512];
	snprintf(in, sizeof(in), "%s\n%s,y\nz\n", line, line);
	const char *got = read_all(in);
	CHECK(strncmp(got, "1:[x|x|", 7) == 0);
	CHECK(strstr(got, "x]\n2:invalid_argument\n3:[z]\nend@4") != NULL);
	CHECK_STR(first_error(in + strlen(line) + 1, 1024), "more than 32 fields");
}

static void test_unterminated_quote(void)
{
	CHECK_STR(read_all("a\n\"open,b\nc\n"), "1:[a]\n2:invalid_argument\nend@4");
	CHECK_STR(first_error("\"open", 1024), "unterminated quote");
}

static void test_bad_quoting_resyncs(void)
{
	CHECK_STR(read_all("\"a\"b,c\nnext\n"), "1:invalid_argument\n2:[next]\nend@3");
	CHECK_STR(first_error("\"a\"b,c\n", 1024), "text after a closing quote");
	CHECK_STR(read_all("ab\"c,d\nnext\n"), "1:invalid_argument\n2:[next]\nend@3");
	CHECK_STR(first_error("ab\"c,d\n", 1024), "quote inside an unquoted field");
	/* a quoted field later in the bad record still spans its lines */
	CHECK_STR(read_all("\"a\"b,\"c\nd\"\nnext\n"), "1:invalid_argument\n3:[next]\nend@4");
	CHECK_STR(read_all("\"a\"\rb\nnext\n"), "1:invalid_argument\n2:[next]\nend@3");
}

static void test_nul_byte(void)
{
	CHECK_STR(read_n("a\0b,c\nd\n", 8, 1024), "1:invalid_argument\n2:[d]\nend@3");
	CHECK_STR(read_n("\"a\0b\"\nd\n", 8, 1024), "1:invalid_argument\n2:[d]\nend@3");
}

/* A read error must not pass for the end of the input: an import would stop short without a word. */
static void test_read_error(void)
{
	struct ss_csv r;
	FILE *f = fopen("/", "r"); /* a directory: opens, then every read fails with EISDIR */

	CHECK(f != NULL);
	if (!f)
		return;
	ss_csv_init(&r, f, 1024);
	CHECK(ss_csv_next(&r) == SS_INTERNAL);
	CHECK_STR(ss_err_message(), "cannot read the input");
	ss_csv_release(&r);
	fclose(f);
}

static void test_many_records_reuse_buffer(void)
{
	struct ss_buf in;
	ss_buf_init(&in, 1 << 20);
	for (int i = 0; i < 1000; i++)
		CHECK(ss_buf_printf(&in, "%d,\"name %d\",%s\n", i, i, i % 7 ? "" : "seven") == SS_OK);
	FILE *f = fmemopen(in.ptr, in.len, "r");
	struct ss_csv r;
	int n = 0;
	enum ss_err err;
	ss_csv_init(&r, f, 100);
	while ((err = ss_csv_next(&r)) == SS_OK) {
		size_t len;
		char want[32];
		CHECK(r.nfields == 3);
		CHECK(r.line == n + 1);
		snprintf(want, sizeof(want), "name %d", n);
		CHECK_STR(ss_csv_field(&r, 1, &len), want);
		CHECK(len == strlen(want));
		n++;
	}
	CHECK(err == SS_NOT_FOUND);
	CHECK(n == 1000);
	ss_csv_release(&r);
	fclose(f);
	ss_buf_release(&in);
}

/* --- population rows --- */

static int64_t now(void)
{
	int64_t t = 0;
	ss_time_parse("2026-11-26T08:00:00Z", &t);
	return t;
}

struct row {
	const char *f[7];
	size_t n[7];
	size_t count; /* 6, or 7 with the guardians column */
};

/*
 * Splits a row given as one CSV line (no quotes) into 6 fields, or 7 if it has
 * 6 commas; each field points into a static copy.
 */
static struct row row(const char *line)
{
	static char copy[512];
	struct row r = {.count = 6};
	snprintf(copy, sizeof(copy), "%s", line);
	char *p = copy;
	for (size_t i = 0; i < r.count; i++) {
		r.f[i] = p;
		char *comma = strchr(p, ',');
		if (comma && i == 5)
			r.count = 7;
		if (comma && i < 6) {
			*comma = '\0';
			p = comma + 1;
		} else {
			p += strlen(p);
		}
		r.n[i] = strlen(r.f[i]);
	}
	return r;
}

static enum ss_err check_row(const struct row *r, struct ss_person *p,
                             void (*bad)(void *ctx, const char *field, const char *reason), void *ctx)
{
	return ss_population_check_row(r->f, r->n, r->count, now(), p, bad, ctx);
}

/* The message for a row ("" if accepted): its first failure; the field is left in ss_err_field(). */
static const char *row_why(const char *line)
{
	struct ss_person p;
	struct row r = row(line);
	ss_err_clear();
	if (check_row(&r, &p, NULL, NULL) == SS_OK)
		return "";
	return ss_err_message();
}

/* Every failure of a row, as "field: reason" lines. */
static void collect(void *ctx, const char *field, const char *reason)
{
	CHECK(ss_buf_printf(ctx, "%s: %s\n", field ? field : "-", reason) == SS_OK);
}

static const char *row_all(const char *line)
{
	static struct ss_buf out;
	struct ss_person p;
	struct row r = row(line);
	ss_buf_release(&out);
	ss_buf_init(&out, 4096);
	enum ss_err err = check_row(&r, &p, collect, &out);
	CHECK((err == SS_OK) == (out.len == 0));
	return ss_buf_str(&out);
}

static void test_population_good_row(void)
{
	struct ss_person p;
	struct row r = row("11010519491231002X,  张三 ,F,1949-12-31,310104,13800138000");

	CHECK(check_row(&r, &p, NULL, NULL) == SS_OK);
	CHECK_STR(p.id.number, "11010519491231002X");
	CHECK_STR(p.name, "张三");
	CHECK(p.sex == 'F');
	CHECK_STR(p.birth_date, "1949-12-31");
	CHECK_STR(p.division, "310104");
	CHECK_STR(p.phone, "13800138000");
	CHECK(p.nguardians == 0);

	CHECK_STR(row_why("110105194912310011,欧阳小明,男,1949-12-31,310103,"), "");
	CHECK_STR(row_why("110105194912310011,Li Lei,m,1949-12-31,110105,+8613800138000"), "");
	CHECK_STR(row_why("11010519491231002x,Li,女,1949-12-31,110105,1234567"), "");
	CHECK_STR(row_why("11010519491231002X,Li,f,1949-12-31,110105,123456789012345"), "");
	/* the division is not compared with the number's: people move */
	CHECK_STR(row_why("11010519491231002X,Li,F,1949-12-31,320581,"), "");

	r = row("110105198002290013,Wang,M,1980-02-29,440305,");
	CHECK(check_row(&r, &p, NULL, NULL) == SS_OK);
	CHECK(p.sex == 'M');
	CHECK_STR(p.phone, "");
}

/* GB 11643 encodes sex and birth date: a row that contradicts its own number is refused, naming the field. */
static void test_population_contradictions(void)
{
	CHECK_STR(row_why("11010519491231002X,Li,M,1949-12-31,110105,"),
	          "sex does not match the ID number (its 17th digit is odd for men, even for women)");
	CHECK_STR(ss_err_field(), "sex");
	CHECK_STR(row_why("110105194912310011,Li,女,1949-12-31,110105,"),
	          "sex does not match the ID number (its 17th digit is odd for men, even for women)");
	CHECK_STR(row_why("11010519491231002X,Li,F,1950-01-01,110105,"),
	          "birth_date does not match the birth date in the ID number");
	CHECK_STR(ss_err_field(), "birth_date");
	CHECK_STR(row_why("11010519491231002X,Li,F,1949-12-30,110105,"),
	          "birth_date does not match the birth date in the ID number");
	/* a bad number is reported as such, not as a contradiction as well */
	CHECK_STR(row_all("11010519491231003X,Li,M,1950-01-01,110105,"), "id_number: wrong check digit\n");
}

/* Every rule a row breaks is reported, in header order, and the first is the thread's error detail. */
static void test_population_every_error(void)
{
	CHECK_STR(row_all("11010519491231002X,张三,F,1949-12-31,310104,13800138000"), "");
	CHECK_STR(row_all("11010519491231002X,,M,1950-01-01,310199,123"),
	          "name: name must not be empty\n"
	          "sex: sex does not match the ID number (its 17th digit is odd for men, even for women)\n"
	          "birth_date: birth_date does not match the birth date in the ID number\n"
	          "division: division is not a known GB/T 2260 code\n"
	          "phone: phone must be 7-15 digits\n");
	CHECK_STR(row_why("11010519491231002X,,M,1950-01-01,310199,123"), "name must not be empty");
	CHECK_STR(ss_err_field(), "name");
	CHECK_STR(row_all("1101051949,\x01,Q,1949/12/31,3101,+"), "id_number: must be 18 characters\n"
	                                                          "name: name must be UTF-8 text without control "
	                                                          "characters\n"
	                                                          "sex: sex must be M or F\n"
	                                                          "birth_date: birth_date must be YYYY-MM-DD\n"
	                                                          "division: division is not a known GB/T 2260 code\n"
	                                                          "phone: phone must be 7-15 digits\n");
}

/* The optional seventh column: up to two guardians' ID numbers, separated by ';'. */
static void test_population_guardians(void)
{
	struct ss_person p;
	struct row r = row("310104201803150024,张小红,F,2018-03-15,310104,,110105194912310011; 11010519491231002x");
	CHECK(check_row(&r, &p, NULL, NULL) == SS_OK);
	CHECK(p.nguardians == 2);
	CHECK_STR(p.guardians[0], "110105194912310011");
	CHECK_STR(p.guardians[1], "11010519491231002X"); /* normalised */
	r = row("310104201803150024,张小红,F,2018-03-15,310104,,110105194912310011");
	CHECK(check_row(&r, &p, NULL, NULL) == SS_OK && p.nguardians == 1);
	r = row("310104201803150024,张小红,F,2018-03-15,310104,,");
	CHECK(check_row(&r, &p, NULL, NULL) == SS_OK && p.nguardians == 0);
	r = row("310104201803150024,张小红,F,2018-03-15,310104,,  ");
	CHECK(check_row(&r, &p, NULL, NULL) == SS_OK && p.nguardians == 0);

	CHECK_STR(row_why("310104201803150024,张小红,F,2018-03-15,310104,,110105194912310012"),
	          "guardian 1: wrong check digit");
	CHECK_STR(ss_err_field(), "guardians");
	CHECK_STR(row_all("310104201803150024,张小红,F,2018-03-15,310104,,110105194912310011;1101051949"),
	          "guardians: guardian 2: must be 18 characters\n");
	CHECK_STR(row_all("310104201803150024,张小红,F,2018-03-15,310104,,110105194912310011;"),
	          "guardians: guardian 2 is empty: ID numbers separated by ';'\n");
	CHECK_STR(row_all("310104201803150024,张小红,F,2018-03-15,310104,,110105194912310011;110105194912310011"),
	          "guardians: guardian 2 is named twice\n");
	CHECK_STR(row_all("310104201803150024,张小红,F,2018-03-15,310104,,310104201803150024"),
	          "guardians: guardian 1 is the person themself\n");
	CHECK_STR(row_all("310104201803150024,张小红,F,2018-03-15,310104,,"
	                  "110105194912310011;11010519491231002X;110105198002290013"),
	          "guardians: guardians may name at most 2 people, separated by ';'\n");
	/* a row's other errors and its guardians' are all reported */
	CHECK_STR(row_all("310104201803150024,张小红,M,2018-03-15,310104,,110105194912310012"),
	          "sex: sex does not match the ID number (its 17th digit is odd for men, even for women)\n"
	          "guardians: guardian 1: wrong check digit\n");
}

static void test_population_bad_rows(void)
{
	CHECK_STR(row_why("11010519491231002,张三,F,1949-12-31,310104,"), "must be 18 characters");
	CHECK_STR(ss_err_field(), "id_number");
	CHECK_STR(row_why("11010519491231003X,张三,F,1949-12-31,310104,"), "wrong check digit");
	CHECK_STR(ss_err_field(), "id_number");

	CHECK_STR(row_why("11010519491231002X,,F,1949-12-31,310104,"), "name must not be empty");
	CHECK_STR(ss_err_field(), "name");
	CHECK_STR(row_why("11010519491231002X,   ,F,1949-12-31,310104,"), "name must not be empty");
	CHECK_STR(row_why("11010519491231002X,a\tb,F,1949-12-31,310104,"),
	          "name must be UTF-8 text without control characters");
	CHECK_STR(row_why("11010519491231002X,\xe5\xbc,F,1949-12-31,310104,"),
	          "name must be UTF-8 text without control characters");
	CHECK_STR(row_why("11010519491231002X,"
	                  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa,F,1949-12-31,310104,"),
	          "name must be at most 64 bytes");

	CHECK_STR(row_why("11010519491231002X,张三,X,1949-12-31,310104,"), "sex must be M or F");
	CHECK_STR(ss_err_field(), "sex");
	CHECK_STR(row_why("11010519491231002X,张三,,1949-12-31,310104,"), "sex must be M or F");
	CHECK_STR(row_why("11010519491231002X,张三,MF,1949-12-31,310104,"), "sex must be M or F");
	CHECK_STR(row_why("11010519491231002X,张三,male,1949-12-31,310104,"), "sex must be M or F");

	CHECK_STR(row_why("11010519491231002X,张三,F,1949/12/31,310104,"), "birth_date must be YYYY-MM-DD");
	CHECK_STR(ss_err_field(), "birth_date");
	CHECK_STR(row_why("11010519491231002X,张三,F,19491231,310104,"), "birth_date must be YYYY-MM-DD");
	CHECK_STR(row_why("11010519491231002X,张三,F,1949-12-3,310104,"), "birth_date must be YYYY-MM-DD");
	CHECK_STR(row_why("11010519491231002X,张三,F,,310104,"), "birth_date must be YYYY-MM-DD");
	CHECK_STR(row_why("11010519491231002X,张三,F,1949-02-30,310104,"), "birth_date is not a real date");
	CHECK_STR(row_why("11010519491231002X,张三,F,1899-12-31,310104,"), "birth_date is before 1900");
	CHECK_STR(row_why("11010519491231002X,张三,F,2026-11-27,310104,"), "birth_date is in the future");
	CHECK_STR(row_why("310104202611260020,张三,F,2026-11-26,310104,"), ""); /* born today */

	CHECK_STR(row_why("11010519491231002X,张三,F,1949-12-31,310199,"), "division is not a known GB/T 2260 code");
	CHECK_STR(ss_err_field(), "division");
	CHECK_STR(row_why("11010519491231002X,张三,F,1949-12-31,31010,"), "division is not a known GB/T 2260 code");
	CHECK_STR(row_why("11010519491231002X,张三,F,1949-12-31,3101040,"), "division is not a known GB/T 2260 code");
	CHECK_STR(row_why("11010519491231002X,张三,F,1949-12-31,990101,"), "division is not a known GB/T 2260 code");

	CHECK_STR(row_why("11010519491231002X,张三,F,1949-12-31,310104,123456"), "phone must be 7-15 digits");
	CHECK_STR(ss_err_field(), "phone");
	CHECK_STR(row_why("11010519491231002X,张三,F,1949-12-31,310104,1234567890123456"), "phone must be 7-15 digits");
	CHECK_STR(row_why("11010519491231002X,张三,F,1949-12-31,310104,138-0013-8000"), "phone must be 7-15 digits");
	CHECK_STR(row_why("11010519491231002X,张三,F,1949-12-31,310104,+"), "phone must be 7-15 digits");
	CHECK_STR(row_why("11010519491231002X,张三,F,1949-12-31,310104,++8613800138000"), "phone must be 7-15 digits");
}

static void test_population_messages_hold_no_values(void)
{
	static const char *const bad[] = {
	        "11010519491231003X,张三,F,1949-12-31,310104,",
	        "11010519491231002X,张三\x01,F,1949-12-31,310104,",
	        "11010519491231002X,张三,Q,1949-12-31,310104,",
	        "11010519491231002X,张三,F,1949-13-31,310104,",
	        "11010519491231002X,张三,F,1949-12-31,319999,",
	        "11010519491231002X,张三,F,1949-12-31,310104,13800",
	        "11010519491231002X,张三,M,1949-12-30,310104,",
	        "11010519491231002X,张三,F,1949-12-31,310104,,31010419491",
	        "11010519491231002X,张三,F,1949-12-31,310104,,110105194912310012",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(strcmp(row_why(bad[i]), "") != 0);
		const char *msg = ss_err_message();
		CHECK(strstr(msg, "张") == NULL);
		CHECK(strstr(msg, "1949") == NULL);
		CHECK(strstr(msg, "3101") == NULL && strstr(msg, "3199") == NULL);
		CHECK(strstr(msg, "13800") == NULL);
	}
}

static void test_name_and_phone_checks(void)
{
	char name[SS_NAME_MAX + 1], phone[SS_PHONE_MAX + 1];
	char long_name[SS_NAME_MAX + 3];

	CHECK(ss_name_check(" 李四  ", strlen(" 李四  "), "full_name", name) == SS_OK);
	CHECK_STR(name, "李四");
	CHECK(ss_name_check("", 0, "full_name", name) == SS_INVALID);
	CHECK_STR(ss_err_message(), "full_name must not be empty");
	CHECK_STR(ss_err_field(), "full_name");
	memset(long_name, 'a', sizeof(long_name));
	CHECK(ss_name_check(long_name, SS_NAME_MAX, "name", name) == SS_OK);
	CHECK(strlen(name) == SS_NAME_MAX);
	CHECK(ss_name_check(long_name, SS_NAME_MAX + 1, "name", name) == SS_INVALID);
	/* trimmed before the length is checked */
	long_name[0] = ' ';
	long_name[SS_NAME_MAX + 1] = ' ';
	CHECK(ss_name_check(long_name, SS_NAME_MAX + 2, "name", name) == SS_OK);
	CHECK(ss_name_check("a\x7f", 2, "name", name) == SS_INVALID);
	CHECK(ss_name_check("a\xc2\x85", 3, "name", name) == SS_INVALID); /* U+0085, a C1 control */
	CHECK(ss_name_check("a\0b", 3, "name", name) == SS_INVALID);

	CHECK(ss_phone_check("13800138000", 11, "mobile", phone) == SS_OK);
	CHECK_STR(phone, "13800138000");
	CHECK(ss_phone_check("+441234567890", 13, "mobile", phone) == SS_OK);
	CHECK_STR(phone, "+441234567890");
	CHECK(ss_phone_check("+123456789012345", 16, "mobile", phone) == SS_OK);
	CHECK(ss_phone_check("", 0, "mobile", phone) == SS_INVALID);
	CHECK_STR(ss_err_message(), "mobile must be 7-15 digits");
	CHECK_STR(ss_err_field(), "mobile");
	CHECK(ss_phone_check("138 0013 800", 12, "mobile", phone) == SS_INVALID);
	CHECK(ss_phone_check("1380013800a", 11, "mobile", phone) == SS_INVALID);
}

static void test_population_header(void)
{
	struct ss_csv r;
	const char *in = "\xef\xbb\xbfid_number,name,sex,birth_date,division,phone\r\n";
	FILE *f = fmemopen((void *)in, strlen(in), "r");
	const char *fields[SS_CSV_MAX_FIELDS];
	size_t lens[SS_CSV_MAX_FIELDS];

	ss_csv_init(&r, f, 1024);
	CHECK(ss_csv_next(&r) == SS_OK);
	CHECK(r.nfields == 6);
	for (size_t i = 0; i < r.nfields; i++)
		fields[i] = ss_csv_field(&r, i, &lens[i]);
	bool guardians = true;
	CHECK(ss_population_header_ok(fields, lens, r.nfields, &guardians) && !guardians);
	CHECK(!ss_population_header_ok(fields, lens, 5, &guardians));
	ss_csv_release(&r);
	fclose(f);

	struct row h = row("id_number,name,sex,birth_date,division,phone");
	CHECK(ss_population_header_ok(h.f, h.n, h.count, &guardians) && !guardians);
	h = row("id_number,name,sex,birth_date,division,phone,guardians");
	CHECK(ss_population_header_ok(h.f, h.n, h.count, &guardians) && guardians);
	h = row("id_number,name,sex,birth_date,division,phone,guardian");
	CHECK(!ss_population_header_ok(h.f, h.n, h.count, &guardians));
	h = row("id_number,name,sex,birth_date,phone,division");
	CHECK(!ss_population_header_ok(h.f, h.n, h.count, &guardians));
	h = row("ID_NUMBER,name,sex,birth_date,division,phone");
	CHECK(!ss_population_header_ok(h.f, h.n, h.count, &guardians));
	h = row("id_number,name ,sex,birth_date,division,phone");
	CHECK(!ss_population_header_ok(h.f, h.n, h.count, &guardians));
	h = row("id_number,name,sex,birth_date,division,");
	CHECK(!ss_population_header_ok(h.f, h.n, h.count, &guardians));
}

/* A small registry file read end to end, as the importer will. */
static void test_population_file(void)
{
	const char *in = "id_number,name,sex,birth_date,division,phone\n"
	                 "11010519491231002X,张三,F,1949-12-31,310104,13800138000\n"
	                 "\n"
	                 "11010519491231002X,\"欧阳, 小明\",F,1949-12-31,310115,\n"
	                 "11010519491231003X,李四,M,1949-12-31,310115,\n"
	                 "11010519491231002X,王五,M,1949-12-31\n";
	FILE *f = fmemopen((void *)in, strlen(in), "r");
	struct ss_csv r;
	struct ss_buf report;
	enum ss_err err;

	ss_buf_init(&report, 1024);
	ss_csv_init(&r, f, 512);
	CHECK(ss_csv_next(&r) == SS_OK);
	while ((err = ss_csv_next(&r)) != SS_NOT_FOUND) {
		const char *fields[6];
		size_t lens[6];
		struct ss_person p;
		if (err == SS_OK && r.nfields != 6) {
			CHECK(ss_buf_printf(&report, "%ld: %zu fields\n", r.line, r.nfields) == SS_OK);
			continue;
		}
		for (size_t i = 0; err == SS_OK && i < 6; i++)
			fields[i] = ss_csv_field(&r, i, &lens[i]);
		if (err == SS_OK)
			err = ss_population_check_row(fields, lens, 6, now(), &p, NULL, NULL);
		CHECK(ss_buf_printf(&report, "%ld: %s\n", r.line, err ? ss_err_message() : "ok") == SS_OK);
	}
	CHECK_STR(ss_buf_str(&report), "2: ok\n4: ok\n5: wrong check digit\n6: 4 fields\n");
	ss_buf_release(&report);
	ss_csv_release(&r);
	fclose(f);
}

int main(void)
{
	RUN(test_simple);
	RUN(test_empty_fields);
	RUN(test_quoting);
	RUN(test_embedded_newlines);
	RUN(test_crlf);
	RUN(test_bom);
	RUN(test_blank_lines);
	RUN(test_too_long_resyncs);
	RUN(test_too_many_fields);
	RUN(test_unterminated_quote);
	RUN(test_bad_quoting_resyncs);
	RUN(test_nul_byte);
	RUN(test_read_error);
	RUN(test_many_records_reuse_buffer);
	RUN(test_population_good_row);
	RUN(test_population_bad_rows);
	RUN(test_population_contradictions);
	RUN(test_population_every_error);
	RUN(test_population_guardians);
	RUN(test_population_messages_hold_no_values);
	RUN(test_name_and_phone_checks);
	RUN(test_population_header);
	RUN(test_population_file);
	return check_done();
}
