/*
 * fuzz_csv: libFuzzer target for the CSV reader and population row checks.
 * Feeds the input through fmemopen() into ss_csv with a small max_record, and
 * checks every record it returns: field count within bounds, each field
 * NUL-terminated at its length with no NUL inside, the whole within
 * max_record; a 6-field record goes through ss_population_check_row().
 */
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
		if (r.nfields == 6) {
			struct ss_person p;
			if (ss_population_check_row(fields, lens, NOW, &p) == SS_OK) {
				if (strlen(p.name) == 0 || (p.sex != 'M' && p.sex != 'F') || strlen(p.birth_date) != 10)
					abort();
			} else if (!ss_err_field()) {
				abort();
			}
			(void)ss_population_header_ok(fields, lens, r.nfields);
		}
	}
	ss_csv_release(&r);
	fclose(f);
	return 0;
}
