/*
 * population: checks of population registry rows, names and phone numbers
 * (see population.h). Messages name the field and the rule, never the value:
 * they end up in import reports and API errors.
 */
#include "core/population.h"

#include <string.h>

#include "base/str.h"
#include "base/time.h"
#include "core/division.h"

static const char *const header[6] = {"id_number", "name", "sex", "birth_date", "division", "phone"};

enum ss_err ss_name_check(const char *s, size_t n, const char *field, char out[SS_NAME_MAX + 1])
{
	return ss_str_check_name(s, n, SS_NAME_MAX, field, out);
}

enum ss_err ss_phone_check(const char *s, size_t n, const char *field, char out[SS_PHONE_MAX + 1])
{
	size_t plus = n > 0 && s[0] == '+';
	size_t digits = n - plus;
	if (digits < 7 || digits > 15 || !ss_str_is_digits(s + plus, digits))
		return ss_fail(SS_INVALID, field, "%s must be 7-15 digits", field);
	memcpy(out, s, n);
	out[n] = '\0';
	return SS_OK;
}

static bool equals(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && memcmp(s, lit, n) == 0;
}

static enum ss_err check_sex(const char *s, size_t n, char *out)
{
	if (equals(s, n, "M") || equals(s, n, "m") || equals(s, n, "男"))
		*out = 'M';
	else if (equals(s, n, "F") || equals(s, n, "f") || equals(s, n, "女"))
		*out = 'F';
	else
		return ss_fail(SS_INVALID, "sex", "sex must be M or F");
	return SS_OK;
}

static enum ss_err check_birth_date(const char *s, size_t n, int64_t now, char out[11])
{
	int64_t days;

	if (n != 10 || !ss_str_is_digits(s, 4) || s[4] != '-' || !ss_str_is_digits(s + 5, 2) || s[7] != '-' ||
	    !ss_str_is_digits(s + 8, 2))
		return ss_fail(SS_INVALID, "birth_date", "birth_date must be YYYY-MM-DD");
	int y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0');
	int m = (s[5] - '0') * 10 + (s[6] - '0');
	int d = (s[8] - '0') * 10 + (s[9] - '0');
	if (!ss_date_to_days(y, m, d, &days))
		return ss_fail(SS_INVALID, "birth_date", "birth_date is not a real date");
	if (y < 1900)
		return ss_fail(SS_INVALID, "birth_date", "birth_date is before 1900");
	/* as for ID numbers, "today" is the date in China (UTC+8) */
	if (days * 86400 > now + 8 * 3600)
		return ss_fail(SS_INVALID, "birth_date", "birth_date is in the future");
	memcpy(out, s, 10);
	out[10] = '\0';
	return SS_OK;
}

enum ss_err ss_population_check_row(const char *const fields[6], const size_t lens[6], int64_t now,
                                    struct ss_person *out)
{
	enum ss_err err;

	if ((err = ss_idcard_parse(fields[0], lens[0], now, &out->id)))
		return err;
	if ((err = ss_name_check(fields[1], lens[1], "name", out->name)))
		return err;
	if ((err = check_sex(fields[2], lens[2], &out->sex)))
		return err;
	if ((err = check_birth_date(fields[3], lens[3], now, out->birth_date)))
		return err;
	if (lens[4] != 6 || !ss_division_is_valid(fields[4]))
		return ss_fail(SS_INVALID, "division", "division is not a known GB/T 2260 code");
	memcpy(out->division, fields[4], 6);
	out->division[6] = '\0';
	out->phone[0] = '\0';
	if (lens[5] > 0 && (err = ss_phone_check(fields[5], lens[5], "phone", out->phone)))
		return err;
	return SS_OK;
}

bool ss_population_header_ok(const char *const fields[], const size_t lens[], size_t n)
{
	if (n != 6)
		return false;
	for (size_t i = 0; i < 6; i++)
		if (!equals(fields[i], lens[i], header[i]))
			return false;
	return true;
}
