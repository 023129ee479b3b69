/*
 * population: checks of population registry rows, names and phone numbers
 * (see population.h). Messages name the field and the rule, never the value:
 * they end up in import reports and API errors.
 */
#include "core/population.h"

#include <stdio.h>
#include <string.h>

#include "base/str.h"
#include "base/time.h"
#include "core/division.h"

static const char *const header[SS_POPULATION_COLUMNS + 1] = {"id_number", "name",  "sex",      "birth_date",
                                                              "division",  "phone", "guardians"};

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

/*
 * The rules a row breaks, passed on as each check finds one; the first is
 * kept, to be the thread's error detail at the end.
 */
struct report {
	void (*bad)(void *ctx, const char *field, const char *reason);
	void *ctx;
	bool failed;
	bool has_field;
	char field[32];
	char reason[256];
};

/* Passes on the failure err that a check has just recorded with ss_fail(); true if there was none. */
static bool ok(struct report *r, enum ss_err err)
{
	char field[sizeof(r->field)], reason[sizeof(r->reason)];
	if (!err)
		return true;
	const char *f = ss_err_field();
	snprintf(field, sizeof(field), "%s", f ? f : "");
	snprintf(reason, sizeof(reason), "%s", ss_err_message());
	if (!r->failed) {
		r->failed = true;
		r->has_field = f != NULL;
		memcpy(r->field, field, sizeof(field));
		memcpy(r->reason, reason, sizeof(reason));
	}
	if (r->bad)
		r->bad(r->ctx, f ? field : NULL, reason);
	return false;
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * The guardians column: empty, or ID numbers separated by ';'. Refuses the
 * column as a whole when its shape is wrong, else each number that is bad.
 */
static void check_guardians(const char *s, size_t n, int64_t now, struct ss_person *out, struct report *r)
{
	size_t entries = 1;
	bool blank = true;
	for (size_t i = 0; i < n; i++) {
		entries += s[i] == ';';
		blank = blank && is_space(s[i]);
	}
	if (blank)
		return;
	if (entries > SS_REGISTRY_GUARDIANS) {
		ok(r, ss_fail(SS_INVALID, "guardians", "guardians may name at most %d people, separated by ';'",
		              SS_REGISTRY_GUARDIANS));
		return;
	}
	for (size_t at = 0, k = 1; at <= n; k++) {
		size_t end = at;
		while (end < n && s[end] != ';')
			end++;
		size_t from = at, to = end;
		while (from < to && is_space(s[from]))
			from++;
		while (to > from && is_space(s[to - 1]))
			to--;
		at = end + 1;
		struct ss_idcard id;
		char why[128];
		if (from == to) {
			ok(r,
			   ss_fail(SS_INVALID, "guardians", "guardian %zu is empty: ID numbers separated by ';'", k));
			continue;
		}
		if (ss_idcard_parse(s + from, to - from, now, &id)) {
			snprintf(why, sizeof(why), "%s", ss_err_message());
			ok(r, ss_fail(SS_INVALID, "guardians", "guardian %zu: %s", k, why));
			continue;
		}
		if (!strcmp(id.number, out->id.number)) {
			ok(r, ss_fail(SS_INVALID, "guardians", "guardian %zu is the person themself", k));
			continue;
		}
		bool twice = false;
		for (int g = 0; g < out->nguardians; g++)
			twice = twice || !strcmp(out->guardians[g], id.number);
		if (twice) {
			ok(r, ss_fail(SS_INVALID, "guardians", "guardian %zu is named twice", k));
			continue;
		}
		memcpy(out->guardians[out->nguardians++], id.number, sizeof(id.number));
	}
}

enum ss_err ss_population_check_row(const char *const fields[], const size_t lens[], size_t n, int64_t now,
                                    struct ss_person *out,
                                    void (*bad)(void *ctx, const char *field, const char *reason), void *ctx)
{
	struct report r = {.bad = bad, .ctx = ctx};
	char encoded[11];

	memset(out, 0, sizeof(*out));
	bool id_ok = ok(&r, ss_idcard_parse(fields[0], lens[0], now, &out->id));
	if (!id_ok)
		memset(&out->id, 0, sizeof(out->id));
	ok(&r, ss_name_check(fields[1], lens[1], "name", out->name));
	if (ok(&r, check_sex(fields[2], lens[2], &out->sex)) && id_ok && (out->sex == 'M') != out->id.male)
		ok(&r, ss_fail(SS_INVALID, "sex",
		               "sex does not match the ID number (its 17th digit is odd for men, even for women)"));
	if (id_ok)
		snprintf(encoded, sizeof(encoded), "%04d-%02d-%02d", out->id.year, out->id.month, out->id.day);
	if (ok(&r, check_birth_date(fields[3], lens[3], now, out->birth_date)) && id_ok &&
	    strcmp(out->birth_date, encoded) != 0)
		ok(&r, ss_fail(SS_INVALID, "birth_date", "birth_date does not match the birth date in the ID number"));
	if (lens[4] != 6 || !ss_division_is_valid(fields[4]))
		ok(&r, ss_fail(SS_INVALID, "division", "division is not a known GB/T 2260 code"));
	else
		memcpy(out->division, fields[4], 7);
	if (lens[5] > 0)
		ok(&r, ss_phone_check(fields[5], lens[5], "phone", out->phone));
	if (n > SS_POPULATION_COLUMNS)
		check_guardians(fields[6], lens[6], now, out, &r);
	if (!r.failed)
		return SS_OK;
	return ss_fail(SS_INVALID, r.has_field ? r.field : NULL, "%s", r.reason);
}

bool ss_population_header_ok(const char *const fields[], const size_t lens[], size_t n, bool *guardians)
{
	if (n != SS_POPULATION_COLUMNS && n != SS_POPULATION_COLUMNS + 1)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!equals(fields[i], lens[i], header[i]))
			return false;
	*guardians = n > SS_POPULATION_COLUMNS;
	return true;
}
