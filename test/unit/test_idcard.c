/*
 * test_idcard: unit tests of GB 11643 ID numbers (core/idcard) and GB/T 2260
 * division codes (core/division).
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "base/err.h"
#include "base/time.h"
#include "core/division.h"
#include "core/idcard.h"

/* 2026-11-26T08:00:00Z, the "now" of most tests */
static int64_t now(void)
{
	int64_t t = 0;
	ss_time_parse("2026-11-26T08:00:00Z", &t);
	return t;
}

/* Builds an 18-character number from a division, a YYYYMMDD date and a 3-digit sequence, with its check character. */
static const char *make(const char *division, const char *date, const char *seq)
{
	static char s[SS_IDCARD_LEN + 1];
	snprintf(s, sizeof(s), "%.6s%.8s%.3sX", division, date, seq);
	s[17] = ss_idcard_check_char(s);
	return s;
}

/* Parses s and returns the message ("" when it is accepted). */
static const char *why(const char *s)
{
	struct ss_idcard id;
	ss_err_clear();
	if (ss_idcard_parse(s, strlen(s), now(), &id) == SS_OK)
		return "";
	return ss_err_message();
}

/* True if the last failure's message contains no run of 4 or more digits (no part of a number). */
static bool message_has_no_digits(void)
{
	int run = 0;
	for (const char *p = ss_err_message(); *p; p++) {
		run = (*p >= '0' && *p <= '9') ? run + 1 : 0;
		if (run >= 4)
			return false;
	}
	return true;
}

static void test_standard_example(void)
{
	struct ss_idcard id;
	const char *s = "11010519491231002X";

	CHECK(ss_idcard_check_char(s) == 'X');
	CHECK(ss_idcard_parse(s, strlen(s), now(), &id) == SS_OK);
	CHECK_STR(id.number, "11010519491231002X");
	CHECK_STR(id.division, "110105");
	CHECK(id.year == 1949 && id.month == 12 && id.day == 31);
	CHECK(!id.male); /* sequence 002: even */
	CHECK(ss_idcard_is_valid(s, now()));
}

static void test_lowercase_x(void)
{
	struct ss_idcard id;
	const char *s = "11010519491231002x";

	CHECK(ss_idcard_parse(s, strlen(s), now(), &id) == SS_OK);
	CHECK_STR(id.number, "11010519491231002X");
	CHECK(ss_idcard_is_valid(s, now()));
}

static void test_check_char(void)
{
	/* weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2, "10X98765432" */
	CHECK(ss_idcard_check_char("00000000000000000") == '1'); /* sum 0 */
	CHECK(ss_idcard_check_char("10000000000000000") == '5'); /* sum 7 -> "10X98765432"[7] */
	CHECK(ss_idcard_check_char("01000000000000000") == '3'); /* sum 9 */
	CHECK(ss_idcard_check_char("00100000000000000") == '2'); /* sum 10 */
	CHECK(ss_idcard_check_char("00000000000000001") == 'X'); /* sum 2 */
	CHECK(ss_idcard_check_char("11010519491231002") == 'X');
}

static void test_constructed_valid(void)
{
	struct ss_idcard id;
	const char *s = make("310104", "19850704", "123");

	CHECK(ss_idcard_parse(s, strlen(s), now(), &id) == SS_OK);
	CHECK_STR(id.division, "310104");
	CHECK(id.year == 1985 && id.month == 7 && id.day == 4);
	CHECK(id.male); /* 3: odd */
	CHECK(ss_idcard_age(&id, now()) == 41);

	s = make("440305", "20000101", "004");
	CHECK(ss_idcard_parse(s, strlen(s), now(), &id) == SS_OK);
	CHECK(!id.male);
	CHECK(ss_idcard_age(&id, now()) == 26);
}

static void test_length(void)
{
	CHECK_STR(why(""), "must be 18 characters");
	CHECK_STR(why("11010519491231002"), "must be 18 characters");
	CHECK_STR(why("11010519491231002X0"), "must be 18 characters");
	CHECK_STR(ss_err_field(), "id_number");
	/* 15-digit first-generation numbers are not accepted */
	CHECK_STR(why("110105491231002"), "must be 18 characters");
	/* a NUL inside counts as a character, which is not a digit */
	struct ss_idcard id;
	CHECK(ss_idcard_parse("11010519491231002X", 17, now(), &id) == SS_INVALID);
	CHECK(ss_idcard_parse("1101051949\0"
	                      "1231002X",
	                      18, now(), &id) == SS_INVALID);
	CHECK_STR(ss_err_message(), "the first 17 characters must be digits");
}

static void test_characters(void)
{
	CHECK_STR(why("1101051949123100AX"), "the first 17 characters must be digits");
	CHECK_STR(why("X10105194912310021"), "the first 17 characters must be digits");
	CHECK_STR(why("110105 9491231002X"), "the first 17 characters must be digits");
	CHECK_STR(why("11010519491231002Y"), "the last character must be a digit or X");
	CHECK_STR(why("11010519491231002-"), "the last character must be a digit or X");
	CHECK_STR(ss_err_field(), "id_number");
	CHECK(message_has_no_digits());
}

static void test_division_rule(void)
{
	CHECK_STR(why(make("990105", "19491231", "002")), "unknown division code");
	CHECK_STR(ss_err_field(), "id_number");
	CHECK(message_has_no_digits());
	CHECK_STR(why(make("310199", "19491231", "002")), "unknown division code");
	CHECK_STR(why(make("000000", "19491231", "002")), "unknown division code");
	CHECK_STR(why(make("310103", "19491231", "002")), ""); /* 卢湾区, retired */
}

static void test_birth_dates(void)
{
	CHECK_STR(why(make("310101", "19490230", "002")), "birth date is not a real date");
	CHECK_STR(ss_err_field(), "id_number");
	CHECK(message_has_no_digits());
	CHECK_STR(why(make("310101", "19491301", "002")), "birth date is not a real date");
	CHECK_STR(why(make("310101", "19490001", "002")), "birth date is not a real date");
	CHECK_STR(why(make("310101", "19490100", "002")), "birth date is not a real date");
	CHECK_STR(why(make("310101", "19490431", "002")), "birth date is not a real date");
	CHECK_STR(why(make("310101", "00000101", "002")), "birth date is not a real date");
	/* 29 February: leap years only; 1900 was not one, 2000 was */
	CHECK_STR(why(make("310101", "19880229", "002")), "");
	CHECK_STR(why(make("310101", "19890229", "002")), "birth date is not a real date");
	CHECK_STR(why(make("310101", "20000229", "002")), "");
	CHECK_STR(why(make("310101", "19000229", "002")), "birth date is not a real date");
	/* the range: 1900-01-01 to today */
	CHECK_STR(why(make("310101", "19000101", "002")), "");
	CHECK_STR(why(make("310101", "18991231", "002")), "birth date is before 1900");
	CHECK_STR(why(make("310101", "18500101", "002")), "birth date is before 1900");
	CHECK_STR(why(make("310101", "20261126", "002")), "");
	CHECK_STR(why(make("310101", "20261127", "002")), "birth date is in the future");
	CHECK_STR(why(make("310101", "20270101", "002")), "birth date is in the future");
	CHECK_STR(why(make("310101", "99991231", "002")), "birth date is in the future");
	CHECK(message_has_no_digits());
}

static void test_today_is_china_date(void)
{
	int64_t before = 0, after = 0;
	struct ss_idcard id;
	const char *s = make("310115", "20261127", "001");

	/* 2026-11-27 begins in China at 2026-11-26T16:00:00Z */
	CHECK(ss_time_parse("2026-11-26T15:59:59Z", &before));
	CHECK(ss_time_parse("2026-11-26T16:00:00Z", &after));
	CHECK(ss_idcard_parse(s, strlen(s), before, &id) == SS_INVALID);
	CHECK_STR(ss_err_message(), "birth date is in the future");
	CHECK(ss_idcard_parse(s, strlen(s), after, &id) == SS_OK);
	CHECK(ss_idcard_age(&id, after) == 0);
}

static void test_check_digit(void)
{
	char s[SS_IDCARD_LEN + 1];

	memcpy(s, make("310101", "19850704", "123"), sizeof(s));
	char good = s[17];
	int refused = 0;
	for (const char *c = "0123456789Xx"; *c; c++) {
		s[17] = *c;
		if (*c == good || (*c == 'x' && good == 'X')) {
			CHECK_STR(why(s), "");
			continue;
		}
		CHECK_STR(why(s), "wrong check digit");
		CHECK_STR(ss_err_field(), "id_number");
		refused++;
	}
	CHECK(refused == 10 || refused == 11);
	CHECK(message_has_no_digits());
	/* one digit changed in the body: the check digit catches it */
	CHECK_STR(why("11010519491231003X"), "wrong check digit");
	/* two adjacent digits swapped */
	CHECK_STR(why("11010519491213002X"), "wrong check digit");
}

static void test_is_valid_keeps_error_detail(void)
{
	ss_fail(SS_INVALID, "password", "earlier failure");
	CHECK(!ss_idcard_is_valid("11010519491231002Y", now()));
	CHECK_STR(ss_err_message(), "earlier failure");
	CHECK_STR(ss_err_field(), "password");
	CHECK(!ss_idcard_is_valid("", now()));
}

static void test_age(void)
{
	struct ss_idcard id;
	int64_t t = 0;
	const char *s = make("310101", "20000229", "002");

	CHECK(ss_idcard_parse(s, strlen(s), now(), &id) == SS_OK);
	/* a common year: a year older on 1 March (China date) */
	CHECK(ss_time_parse("2025-02-28T15:59:59Z", &t));
	CHECK(ss_idcard_age(&id, t) == 24);
	CHECK(ss_time_parse("2025-02-28T16:00:00Z", &t)); /* 2025-03-01 00:00 in China */
	CHECK(ss_idcard_age(&id, t) == 25);
	/* a leap year: on the day */
	CHECK(ss_time_parse("2024-02-28T16:00:00Z", &t));
	CHECK(ss_idcard_age(&id, t) == 24);

	s = make("310101", "19491231", "002");
	CHECK(ss_idcard_parse(s, strlen(s), now(), &id) == SS_OK);
	CHECK(ss_time_parse("2026-12-30T15:59:59Z", &t));
	CHECK(ss_idcard_age(&id, t) == 76);
	CHECK(ss_time_parse("2026-12-30T16:00:00Z", &t));
	CHECK(ss_idcard_age(&id, t) == 77);
}

static void test_division_shanghai_current(void)
{
	const char *code, *zh, *en;
	static const char *const codes[16] = {"310101", "310104", "310105", "310106", "310107", "310109",
	                                      "310110", "310112", "310113", "310114", "310115", "310116",
	                                      "310117", "310118", "310120", "310151"};

	CHECK(ss_division_shanghai_count() == 16);
	for (int i = 0; i < 16 && i < ss_division_shanghai_count(); i++) {
		ss_division_shanghai_at(i, &code, &zh, &en);
		CHECK_STR(code, codes[i]);
		CHECK(ss_division_is_valid(code));
		CHECK_STR(ss_division_name(code), zh);
		CHECK(en && *en);
		CHECK_STR(why(make(code, "19900101", "011")), "");
	}
	ss_division_shanghai_at(0, &code, &zh, &en);
	CHECK_STR(zh, "黄浦区");
	CHECK_STR(en, "Huangpu");
	ss_division_shanghai_at(3, &code, &zh, &en);
	CHECK_STR(code, "310106");
	CHECK_STR(zh, "静安区");
	CHECK_STR(en, "Jing'an");
	ss_division_shanghai_at(10, &code, &zh, &en);
	CHECK_STR(code, "310115");
	CHECK_STR(zh, "浦东新区");
	ss_division_shanghai_at(15, &code, &zh, &en);
	CHECK_STR(code, "310151");
	CHECK_STR(zh, "崇明区");
	CHECK_STR(en, "Chongming");
}

static void test_division_shanghai_retired(void)
{
	static const char *const retired[][2] = {
	        {"310100", "市辖区"}, {"310102", "南市区"}, {"310103", "卢湾区"}, {"310108", "闸北区"},
	        {"310111", "吴淞区"}, {"310119", "南汇区"}, {"310221", "上海县"}, {"310222", "嘉定县"},
	        {"310223", "宝山县"}, {"310224", "川沙县"}, {"310225", "南汇县"}, {"310226", "奉贤县"},
	        {"310227", "松江县"}, {"310228", "金山县"}, {"310229", "青浦县"}, {"310230", "崇明县"},
	};
	for (size_t i = 0; i < sizeof(retired) / sizeof(retired[0]); i++) {
		CHECK(ss_division_is_valid(retired[i][0]));
		CHECK_STR(ss_division_name(retired[i][0]), retired[i][1]);
		CHECK_STR(why(make(retired[i][0], "19700101", "011")), "");
	}
	/* never Shanghai codes */
	static const char *const never[] = {"310199", "310121", "310152", "310150", "310231",
	                                    "310300", "310001", "319001", "310220", "310201"};
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		CHECK(!ss_division_is_valid(never[i]));
		CHECK(ss_division_name(never[i]) == NULL);
	}
	CHECK(ss_division_is_valid("310000"));
	CHECK_STR(ss_division_name("310000"), "上海市");
}

static void test_division_other_provinces(void)
{
	/* by rule: known province, prefecture 01-70 or 90, any county */
	CHECK(ss_division_is_valid("110105"));
	CHECK(ss_division_is_valid("110000"));
	CHECK(ss_division_is_valid("320581"));
	CHECK(ss_division_is_valid("440305"));
	CHECK(ss_division_is_valid("422801")); /* an autonomous prefecture */
	CHECK(ss_division_is_valid("429004")); /* directly administered county-level city */
	CHECK(ss_division_is_valid("650000"));
	CHECK(ss_division_is_valid("327099"));
	CHECK(!ss_division_is_valid("327101"));
	CHECK(!ss_division_is_valid("328901"));
	CHECK(!ss_division_is_valid("329101"));
	CHECK(!ss_division_is_valid("320001")); /* prefecture 00 is the province itself */
	CHECK(!ss_division_is_valid("990101"));
	CHECK(!ss_division_is_valid("100101"));
	CHECK(!ss_division_is_valid("160101"));
	CHECK(!ss_division_is_valid("660101"));
	CHECK(!ss_division_is_valid("00000a"));
	CHECK(!ss_division_is_valid("3201a1"));
	/* Hong Kong, Macao, Taiwan, and Taiwan residents' permits: only as a whole */
	CHECK(ss_division_is_valid("810000"));
	CHECK(ss_division_is_valid("820000"));
	CHECK(ss_division_is_valid("830000"));
	CHECK(ss_division_is_valid("710000"));
	CHECK(!ss_division_is_valid("810101"));
	CHECK(!ss_division_is_valid("830100"));
	CHECK(!ss_division_is_valid("840000"));
	CHECK(!ss_division_is_valid("910000"));
	CHECK_STR(why(make("810000", "19900101", "011")), "");
	CHECK_STR(why(make("830000", "19900101", "011")), "");
	CHECK_STR(why(make("990000", "19900101", "011")), "unknown division code");
}

static void test_division_names(void)
{
	CHECK_STR(ss_division_name("110000"), "北京市");
	CHECK_STR(ss_division_name("110105"), "北京市");
	CHECK_STR(ss_division_name("150102"), "内蒙古自治区");
	CHECK_STR(ss_division_name("230103"), "黑龙江省");
	CHECK_STR(ss_division_name("320581"), "江苏省");
	CHECK_STR(ss_division_name("450102"), "广西壮族自治区");
	CHECK_STR(ss_division_name("500101"), "重庆市");
	CHECK_STR(ss_division_name("540102"), "西藏自治区");
	CHECK_STR(ss_division_name("640104"), "宁夏回族自治区");
	CHECK_STR(ss_division_name("650102"), "新疆维吾尔自治区");
	CHECK_STR(ss_division_name("710000"), "台湾省");
	CHECK_STR(ss_division_name("810000"), "香港特别行政区");
	CHECK_STR(ss_division_name("820000"), "澳门特别行政区");
	CHECK(ss_division_name("830000") != NULL);
	CHECK_STR(ss_division_name("310101"), "黄浦区");
	CHECK_STR(ss_division_name("310108"), "闸北区");
	CHECK(ss_division_name("990000") == NULL);
	CHECK(ss_division_name("320001") == NULL);

	/* all 34 province-level divisions of GB/T 2260 */
	static const char *const all[] = {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34",
	                                  "35", "36", "37", "41", "42", "43", "44", "45", "46", "50", "51", "52",
	                                  "53", "54", "61", "62", "63", "64", "65", "71", "81", "82"};
	int known = 0;
	for (int p = 0; p < 100; p++) {
		char code[7] = {(char)('0' + p / 10), (char)('0' + p % 10), '0', '0', '0', '0', '\0'};
		if (ss_division_is_valid(code))
			known++;
	}
	CHECK(known == 35); /* the 34 and 83 */
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		char code[7];
		snprintf(code, sizeof(code), "%s0000", all[i]);
		CHECK(ss_division_is_valid(code));
		CHECK(ss_division_name(code) != NULL);
	}
}

int main(void)
{
	RUN(test_standard_example);
	RUN(test_lowercase_x);
	RUN(test_check_char);
	RUN(test_constructed_valid);
	RUN(test_length);
	RUN(test_characters);
	RUN(test_division_rule);
	RUN(test_birth_dates);
	RUN(test_today_is_china_date);
	RUN(test_check_digit);
	RUN(test_is_valid_keeps_error_detail);
	RUN(test_age);
	RUN(test_division_shanghai_current);
	RUN(test_division_shanghai_retired);
	RUN(test_division_other_provinces);
	RUN(test_division_names);
	return check_done();
}
