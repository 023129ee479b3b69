/*
 * fuzz_csv: libFuzzer target for the CSV reader and the population registry's
 * line checks. Feeds the input through fmemopen() into ss_csv with a small
 * max_record, and checks every record it returns: field count within bounds,
 * each field NUL-terminated at its length with no NUL inside, the whole within
 * max_record. A record of 6 or 7 fields (7: with the guardians column) goes
 * through ss_population_check_row(), which must report every rule it finds
 * broken with a field and a message that repeats no digits of the input, and
 * call the row good exactly when it reported nothing; a good row must agree
 * with its ID number (sex, birth date) and name only valid guardians, not
 * the person, none twice.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/err.h"
#include "core/population.h"

#define NOW        INT64_C(1795680000) /* 2026-11-26T08:00:00Z */
#define MAX_RECORD 256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The record whose failures are being reported, to look for its values in the messages. */
struct row {
	const char *const *fields;
	const size_t *lens;
	size_t n;
	int reports;
};

/* True if s holds a run of 6 digits that is also in one of the row's fields. */
static bool repeats_digits(const struct row *r, const char *s)
{
	for (size_t i = 0; i + 6 <= strlen(s); i++) {
		if (strspn(s + i, "0123456789") < 6)
			continue;
		for (size_t f = 0; f < r->n; f++)
			if (r->lens[f] >= 6 && memmem(r->fields[f], r->lens[f], s + i, 6))
				return true;
	}
	return false;
}

static void on_bad(void *ctx, const char *field, const char *reason)
{
	struct row *r = ctx;
	r->reports++;
	if (!field || !*field || !reason || !*reason || repeats_digits(r, reason))
		abort();
}

static void check_person(const char *const *fields, const size_t *lens, size_t n)
{
	struct ss_person p;
	struct row r = {fields, lens, n, 0};
	enum ss_err err = ss_population_check_row(fields, lens, n, NOW, &p, on_bad, &r);
	if ((err == SS_OK) != (r.reports == 0) || (err != SS_OK && err != SS_INVALID))
		abort();
	if (err) {
		if (!ss_err_field() || repeats_digits(&r, ss_err_message()))
			abort();
		return;
	}
	char born[11];
	snprintf(born, sizeof(born), "%04d-%02d-%02d", p.id.year, p.id.month, p.id.day);
	if (strlen(p.name) == 0 || (p.sex != 'M' && p.sex != 'F') || (p.sex == 'M') != p.id.male ||
	    strcmp(p.birth_date, born) != 0)
		abort();
	if (p.nguardians < 0 || p.nguardians > SS_REGISTRY_GUARDIANS || (n == SS_POPULATION_COLUMNS && p.nguardians))
		abort();
	for (int i = 0; i < p.nguardians; i++) {
		if (!ss_idcard_is_valid(p.guardians[i], NOW) || !strcmp(p.guardians[i], p.id.number))
			abort();
		for (int k = 0; k < i; k++)
			if (!strcmp(p.guardians[i], p.guardians[k]))
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_csv r;
	enum ss_err err;
	long last_line = 0;

	if (size == 0)
		return 0;
	FILE *f = fmemopen((void *)data, size, "r");
	if (!f)
		return 0;
	ss_csv_init(&r, f, MAX_RECORD);
	/* each call consumes at least one byte or ends the input */
	for (size_t calls = 0; (err = ss_csv_next(&r)) != SS_NOT_FOUND; calls++) {
		if (calls > size || r.line < last_line || r.next_line < r.line)
			abort();
		last_line = r.line;
		if (err) {
			if ((err != SS_INVALID && err != SS_TOO_BIG) || r.nfields != 0)
				abort();
			continue;
		}
		if (r.nfields < 1 || r.nfields > SS_CSV_MAX_FIELDS)
			abort();
		size_t total = 0;
		const char *fields[SS_CSV_MAX_FIELDS];
		size_t lens[SS_CSV_MAX_FIELDS];
		for (size_t i = 0; i < r.nfields; i++) {
			fields[i] = ss_csv_field(&r, i, &lens[i]);
			if (strlen(fields[i]) != lens[i])
				abort();
			total += lens[i];
		}
		if (total > MAX_RECORD)
			abort();
		if (r.nfields == SS_POPULATION_COLUMNS || r.nfields == SS_POPULATION_COLUMNS + 1)
			check_person(fields, lens, r.nfields);
		bool guardians;
		if (ss_population_header_ok(fields, lens, r.nfields, &guardians) &&
		    guardians != (r.nfields > SS_POPULATION_COLUMNS))
			abort();
	}
	ss_csv_release(&r);
	fclose(f);
	return 0;
}
