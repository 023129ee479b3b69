/*
 * population: the population registry, the city's list of who exists, against
 * which residents are checked at registration (real-name check).
 *
 * The file format is CSV with the header line
 * `id_number,name,sex,birth_date,division,phone`, optionally followed by a
 * seventh column `guardians`: the ID numbers of the person's parents or legal
 * guardians (at most SS_REGISTRY_GUARDIANS, separated by ';'), which let a
 * guardian link a child's code at once (core/dependents.h).
 * ss_population_check_row() validates one row; ss_registry_import()
 * (registry.h) loads a whole file all or nothing. Thread-safe pure functions
 * unless said.
 */
#ifndef SS_CORE_POPULATION_H
#define SS_CORE_POPULATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "core/idcard.h"

#define SS_NAME_MAX           64 /* bytes of UTF-8 */
#define SS_PHONE_MAX          20
#define SS_POPULATION_COLUMNS 6 /* the header's columns; a seventh, guardians, is optional */
#define SS_REGISTRY_GUARDIANS 2 /* ID numbers the guardians column may hold */

struct ss_person {
	struct ss_idcard id; /* id.number is "" when the ID number is not valid */
	char name[SS_NAME_MAX + 1];
	char sex;            /* 'M' or 'F' */
	char birth_date[11]; /* YYYY-MM-DD */
	char division[7];
	char phone[SS_PHONE_MAX + 1];                             /* may be empty */
	int nguardians;                                           /* 0 when the column is absent or empty */
	char guardians[SS_REGISTRY_GUARDIANS][SS_IDCARD_LEN + 1]; /* normalised ID numbers */
};

/*
 * Checks a row given as its n fields in header order (n is 6, or 7 with the
 * guardians column), as of unix time now, and reports every rule it breaks,
 * in header order, through bad (which may be NULL): the field to blame and the
 * rule, never the value ("name must not be empty", "sex must be M or F",
 * "birth_date must be YYYY-MM-DD", "division is not a known GB/T 2260 code",
 * "phone must be 7-15 digits", ...; the id_number's messages are
 * ss_idcard_parse()'s). SS_OK if it breaks none; else SS_INVALID with the
 * first failure as the thread's error detail.
 *
 * Accepted: id_number as ss_idcard_parse() accepts it; sex M/F/男/女 (any case,
 * stored as 'M' or 'F'); birth_date YYYY-MM-DD, a real date, not before 1900
 * and not after today in China; division a valid code (division.h); phone empty
 * or 7-15 digits with an optional leading '+'; name as ss_name_check() takes
 * it; guardians empty, or 1..SS_REGISTRY_GUARDIANS valid ID numbers separated
 * by ';' (spaces around each ignored), none the person's own, none twice.
 *
 * sex and birth_date must agree with the ID number (GB 11643 encodes both: the
 * 17th digit is odd for men, digits 7-14 are the birth date), since a number
 * that contradicts the registry's own particulars is a mistake in one of them.
 * The division is not compared: the number keeps the district where it was
 * issued, the registry says where the person is registered now.
 */
enum ss_err ss_population_check_row(const char *const fields[], const size_t lens[], size_t n, int64_t now,
                                    struct ss_person *out,
                                    void (*bad)(void *ctx, const char *field, const char *reason), void *ctx) SS_MUST;

/*
 * True if the n header fields are exactly the expected header, with or
 * without the guardians column (*guardians says which).
 */
bool ss_population_header_ok(const char *const fields[], const size_t lens[], size_t n, bool *guardians);

/*
 * Checks a name given at registration: same rules as the registry's, those of every name people read
 * (ss_str_check_name, at most SS_NAME_MAX bytes). Field name as given; on success out holds the trimmed name,
 * NUL-terminated.
 */
enum ss_err ss_name_check(const char *s, size_t n, const char *field, char out[SS_NAME_MAX + 1]) SS_MUST;

/* Checks a phone number: 7-15 digits, optional leading '+'; on success out holds it, NUL-terminated. */
enum ss_err ss_phone_check(const char *s, size_t n, const char *field, char out[SS_PHONE_MAX + 1]) SS_MUST;

#endif
