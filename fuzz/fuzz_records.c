/*
 * fuzz_records: libFuzzer target for the checks of records from data sources
 * (src/core/records.c).
 *
 * The input is read twice: as JSON Lines (each line through
 * ss_record_from_jsonl) and as CSV (ss_csv with the import's limit; each
 * 5-field row through ss_record_from_csv), both from the source "lab" at a
 * fixed now. Every record accepted must satisfy its rules (record_id
 * alphabet, a valid ID number, occurred_at within the tolerance, canonical
 * attributes of the stated length), and written back as a JSON line with its
 * canonical attributes it must be accepted again with the same canonical text
 * and time (the canonical form is a fixed point). Every refusal must be
 * SS_INVALID or SS_TOO_BIG with a message. Any failed check aborts.
 * The seeds are in fuzz/corpus/records/.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/csv.h"
#include "base/err.h"
#include "base/time.h"
#include "core/idcard.h"
#include "core/records.h"

#define NOW INT64_C(1795680000) /* 2026-11-26T08:00:00Z */

#define CHECK(x)                 \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void accepted(const struct ss_record *r, struct ss_arena *a)
{
	size_t n = strlen(r->record_id);
	CHECK(n >= 1 && n <= SS_RECORD_ID_MAX);
	CHECK(strspn(r->record_id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._:-") == n);
	CHECK(ss_record_kind_name(r->kind) != NULL);
	CHECK(ss_idcard_is_valid(r->id.number, NOW));
	CHECK(r->occurred_at <= NOW + SS_RECORD_FUTURE_TOLERANCE);
	CHECK(!strcmp(r->source, "lab"));
	CHECK(r->attributes && strlen(r->attributes) == r->attributes_len && r->attributes[0] == '{');

	/* written back canonically, it reads the same */
	char at[SS_TIME_TEXT];
	struct ss_buf line;
	struct ss_record again;
	ss_time_format(r->occurred_at, at);
	ss_buf_init(&line, 4 * SS_RECORD_LINE_MAX);
	CHECK(ss_buf_printf(&line,
	                    "{\"record_id\":\"%s\",\"kind\":\"%s\",\"id_number\":\"%s\",\"occurred_at\":\"%s\","
	                    "\"attributes\":%s}",
	                    r->record_id, ss_record_kind_name(r->kind), r->id.number, at, r->attributes) == SS_OK);
	CHECK(ss_record_from_jsonl(line.ptr, line.len, "lab", NOW, &again, a) == SS_OK);
	CHECK(again.kind == r->kind && again.occurred_at == r->occurred_at);
	CHECK(!strcmp(again.attributes, r->attributes));
	ss_buf_release(&line);
}

static void refused(enum ss_err err)
{
	CHECK(err == SS_INVALID || err == SS_TOO_BIG);
	CHECK(ss_err_message()[0] != '\0');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ss_arena a;
	struct ss_record r;
	enum ss_err err;

	ss_arena_init(&a);
	/* JSON Lines */
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = (size_t)((nl ? nl : end) - p);
		if ((err = ss_record_from_jsonl(p, n, "lab", NOW, &r, &a)))
			refused(err);
		else
			accepted(&r, &a);
		p += n + 1;
	}

	/* CSV */
	FILE *f = size ? fmemopen((void *)data, size, "r") : NULL;
	if (f) {
		struct ss_csv csv;
		ss_csv_init(&csv, f, SS_RECORD_LINE_MAX);
		for (size_t calls = 0; (err = ss_csv_next(&csv)) != SS_NOT_FOUND && calls <= size; calls++) {
			if (err || csv.nfields != 5)
				continue;
			const char *fields[5];
			size_t lens[5];
			for (size_t i = 0; i < 5; i++)
				fields[i] = ss_csv_field(&csv, i, &lens[i]);
			(void)ss_record_csv_header_ok(fields, lens, 5);
			if ((err = ss_record_from_csv(fields, lens, "lab", NOW, &r, &a)))
				refused(err);
			else
				accepted(&r, &a);
		}
		ss_csv_release(&csv);
		fclose(f);
	}
	ss_arena_release(&a);
	return 0;
}
