/*
 * population: the population registry, the city's list of who exists, against
 * which residents are checked at registration (real-name check).
 *
 * The file format is CSV with the header line
 * `id_number,name,sex,birth_date,division,phone`. ss_population_check_row()
 * validates one row; ss_population_import() (population_import.c) loads a
 * whole file all or nothing. Thread-safe pure functions unless said.
 */
#ifndef SS_CORE_POPULATION_H
#define SS_CORE_POPULATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/idcard.h"

#define SS_NAME_MAX  64 /* bytes of UTF-8 */
#define SS_PHONE_MAX 20

struct ss_person {
	struct ss_idcard id;
	char name[SS_NAME_MAX + 1];
	char sex;            /* 'M' or 'F' */
	char birth_date[11]; /* YYYY-MM-DD */
	char division[7];
	char phone[SS_PHONE_MAX + 1]; /* may be empty */
};

/*
 * Checks a row given as its 6 fields, in header order, as of unix time now.
 * Accepted: id_number as ss_idcard_parse() accepts it; sex M/F/男/女 (any case,
 * stored as 'M' or 'F'); birth_date YYYY-MM-DD, a real date, not before 1900
 * and not after today in China; division a valid code (division.h); phone empty
 * or 7-15 digits with an optional leading '+'; name as ss_name_check() takes
 * it.
 * Fields are checked in header order and the first failure is reported:
 * SS_INVALID, with the field named and the rule in the message, never the
 * value itself ("name must not be empty", "sex must be M or F", "birth_date
 * must be YYYY-MM-DD", "division is not a known GB/T 2260 code", "phone must be
 * 7-15 digits", ...; the id_number's messages are ss_idcard_parse()'s).
 *
 * sex, birth_date and division are deliberately not cross-checked against the
 * digits of the ID number: real registries contain such inconsistencies (a
 * corrected sex or birth date, a move between districts) and the registry, not
 * the number, is the authority for them.
 */
enum ss_err ss_population_check_row(const char *const fields[6], const size_t lens[6], int64_t now,
                                    struct ss_person *out) SS_MUST;

/* True if the given 6 header fields are exactly the expected header. */
bool ss_population_header_ok(const char *const fields[], const size_t lens[], size_t n);

/*
 * Checks a name given at registration: same rules as the registry's, those of every name people read
 * (ss_str_check_name, at most SS_NAME_MAX bytes). Field name as given; on success out holds the trimmed name,
 * NUL-terminated.
 */
enum ss_err ss_name_check(const char *s, size_t n, const char *field, char out[SS_NAME_MAX + 1]) SS_MUST;

/* Checks a phone number: 7-15 digits, optional leading '+'; on success out holds it, NUL-terminated. */
enum ss_err ss_phone_check(const char *s, size_t n, const char *field, char out[SS_PHONE_MAX + 1]) SS_MUST;

#endif
