/*
 * idcard: checks of GB 11643-1999 identity card numbers (see idcard.h).
 *
 * The rules are checked in the order a person would fix them: shape, division,
 * birth date, check character. "Today", for the birth date and for ages, is the
 * calendar date in China Standard Time (UTC+8), where the numbers are issued:
 * a child born this morning in Shanghai has a birth date that UTC still calls
 * tomorrow.
 */
#include "core/idcard.h"

#include <string.h>

#include "base/time.h"
#include "core/division.h"

#define CST_OFFSET (8 * 3600)

/* Days since 1970-01-01 of the date in China at unix time t. */
static int64_t china_day(int64_t t)
{
	int64_t s = t + CST_OFFSET;
	return s >= 0 ? s / 86400 : -((-s + 86399) / 86400);
}

static int num(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	return v;
}

char ss_idcard_check_char(const char first17[17])
{
	static const unsigned weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
	unsigned sum = 0;
	for (int i = 0; i < 17; i++)
		sum += weights[i] * (unsigned)((unsigned char)first17[i] - '0');
	return "10X98765432"[sum % 11];
}

/* The rule s breaks, or NULL if it is a valid number; fills out only when valid. */
static const char *check(const char *s, size_t n, int64_t now, struct ss_idcard *out)
{
	if (n != SS_IDCARD_LEN)
		return "must be 18 characters";
	for (int i = 0; i < 17; i++)
		if (s[i] < '0' || s[i] > '9')
			return "the first 17 characters must be digits";
	char last = s[17] == 'x' ? 'X' : s[17];
	if ((last < '0' || last > '9') && last != 'X')
		return "the last character must be a digit or X";
	if (!ss_division_is_valid(s))
		return "unknown division code";
	int year = num(s + 6, 4), month = num(s + 10, 2), day = num(s + 12, 2);
	int64_t days;
	if (!ss_date_to_days(year, month, day, &days))
		return "birth date is not a real date";
	if (year < 1900)
		return "birth date is before 1900";
	if (days > china_day(now))
		return "birth date is in the future";
	if (ss_idcard_check_char(s) != last)
		return "wrong check digit";

	memcpy(out->number, s, 17);
	out->number[17] = last;
	out->number[18] = '\0';
	memcpy(out->division, s, 6);
	out->division[6] = '\0';
	out->year = year;
	out->month = month;
	out->day = day;
	out->male = (s[16] - '0') % 2 == 1;
	return NULL;
}

enum ss_err ss_idcard_parse(const char *s, size_t n, int64_t now, struct ss_idcard *out)
{
	const char *rule = check(s, n, now, out);
	if (rule)
		return ss_fail(SS_INVALID, "id_number", "%s", rule);
	return SS_OK;
}

bool ss_idcard_is_valid(const char *s, int64_t now)
{
	struct ss_idcard id;
	return check(s, strlen(s), now, &id) == NULL;
}

int ss_idcard_age(const struct ss_idcard *id, int64_t now)
{
	int y, m, d;
	ss_days_to_date(china_day(now), &y, &m, &d);
	int age = y - id->year;
	if (m < id->month || (m == id->month && d < id->day))
		age--;
	return age;
}
