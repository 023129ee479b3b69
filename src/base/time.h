/*
 * time: wall-clock and monotonic time, and RFC 3339 text in UTC.
 * All functions are thread-safe. Times are int64 seconds since the Unix epoch.
 */
#ifndef SS_BASE_TIME_H
#define SS_BASE_TIME_H

#include <stdbool.h>
#include <stdint.h>

#define SS_TIME_TEXT 32 /* room for "2026-11-26T08:00:00Z" and a NUL, with margin */

/* Unix seconds now. */
int64_t ss_time_now(void);

/* Unix milliseconds now. */
int64_t ss_time_now_ms(void);

/* Microseconds of a monotonic clock, for durations. */
int64_t ss_time_mono_us(void);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ". */
void ss_time_format(int64_t t, char out[SS_TIME_TEXT]);

/* Parses RFC 3339 ("2026-11-26T08:00:00Z", fractions and +hh:mm offsets allowed) into Unix seconds. */
bool ss_time_parse(const char *s, int64_t *out);

/* Days since 1970-01-01 for a proleptic Gregorian date; false if the date does not exist. */
bool ss_date_to_days(int year, int month, int day, int64_t *days);

/* The proleptic Gregorian date of a day number (days since 1970-01-01): the inverse of ss_date_to_days. */
void ss_days_to_date(int64_t days, int *year, int *month, int *day);

#endif
