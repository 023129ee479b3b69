/*
 * idcard: the Chinese resident identity card number (GB 11643-1999).
 *
 * 18 characters: a 6-digit administrative division code (GB/T 2260, checked
 * by division.h), an 8-digit birth date YYYYMMDD (a real date, not in the
 * future, not before 1900), a 3-digit sequence (odd for men, even for women)
 * and a check character computed with ISO 7064 MOD 11-2 ('0'-'9' or 'X').
 * A lowercase 'x' is accepted and normalised to 'X'. "Today" (for the birth
 * date and for ages) is the calendar date in China (UTC+8). Pure functions;
 * thread-safe.
 */
#ifndef SS_CORE_IDCARD_H
#define SS_CORE_IDCARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define SS_IDCARD_LEN 18

struct ss_idcard {
	char number[SS_IDCARD_LEN + 1]; /* normalised (upper-case X) */
	char division[7];
	int year, month, day;
	bool male;
};

/*
 * Parses and checks n bytes of s as of unix time now. On failure returns
 * SS_INVALID with field "id_number" and a message saying which rule failed,
 * the first of, in this order: "must be 18 characters", "the first 17
 * characters must be digits", "the last character must be a digit or X",
 * "unknown division code", "birth date is not a real date", "birth date is
 * before 1900", "birth date is in the future", "wrong check digit". The message
 * never repeats the number. out is written only on success.
 */
enum ss_err ss_idcard_parse(const char *s, size_t n, int64_t now, struct ss_idcard *out) SS_MUST;

/* True if s (NUL-terminated) is a valid number as of now. Leaves the thread's error detail alone. */
bool ss_idcard_is_valid(const char *s, int64_t now);

/* The check character ('0'-'9' or 'X') for the first 17 digits. */
char ss_idcard_check_char(const char first17[17]);

/* Age in whole years at unix time now (born on 29 February: a year older on 1 March in common years). */
int ss_idcard_age(const struct ss_idcard *id, int64_t now);

#endif
