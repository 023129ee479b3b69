/* registry: all-or-nothing import of the population registry (see registry.h). */
#include "core/registry.h"

#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "core/pii.h"
#include "core/population.h"

#define MAX_RECORD     4096
#define PROGRESS_EVERY 20000

/* A set of the blind indexes seen in this file, to catch an ID number given twice. */
struct seen {
	struct slot {
		uint8_t key[16]; /* the first 16 bytes of the blind index: collisions are out of reach */
		long line;       /* 0: empty */
	} * slots;
	size_t cap, used;
};

static size_t slot_of(const struct seen *s, const uint8_t key[16])
{
	uint64_t h;
	memcpy(&h, key, sizeof(h));
	size_t i = (size_t)h & (s->cap - 1);
	while (s->slots[i].line && memcmp(s->slots[i].key, key, 16) != 0)
		i = (i + 1) & (s->cap - 1);
	return i;
}

/* Records key at line; returns the earlier line that had it, or 0. */
static long seen_add(struct seen *s, const uint8_t key[16], long line)
{
	if (2 * (s->used + 1) > s->cap) {
		struct seen bigger = {ss_calloc(s->cap ? 2 * s->cap : 1024, sizeof(struct slot)),
		                      s->cap ? 2 * s->cap : 1024, s->used};
		for (size_t i = 0; i < s->cap; i++)
			if (s->slots[i].line)
				bigger.slots[slot_of(&bigger, s->slots[i].key)] = s->slots[i];
		free(s->slots);
		*s = bigger;
	}
	size_t i = slot_of(s, key);
	if (s->slots[i].line)
		return s->slots[i].line;
	memcpy(s->slots[i].key, key, 16);
	s->slots[i].line = line;
	s->used++;
	return 0;
}

/* What the rows of one file share while it is checked. */
struct import {
	struct ss_app *app;
	struct ss_import_report *rep;
	struct seen seen;
	bool guardians; /* the file has the guardians column */
	long line;      /* the line being checked */
	long bad_line;  /* the last line counted as bad */
};

/* Reports one rule that the line breaks; each bad line counts once. */
static void bad(struct import *im, long line, const char *field, const char *reason)
{
	if (line != im->bad_line || line == 0) {
		im->rep->errors++;
		im->bad_line = line;
	}
	if (im->rep->bad_line)
		im->rep->bad_line(im->rep->ctx, line, field, reason);
}

static void bad_field(void *ctx, const char *field, const char *reason)
{
	struct import *im = ctx;
	bad(im, im->line, field, reason);
}

/* Keeps the guardians that the row of person_id names, in place of those kept before. */
static enum ss_err put_guardians(struct import *im, int64_t person_id, const struct ss_person *p)
{
	uint8_t idx[SS_REGISTRY_GUARDIANS][SS_INDEX_LEN];
	for (int i = 0; i < p->nguardians; i++)
		ss_pii_index(im->app, p->guardians[i], idx[i]);
	return im->app->store->ops->registry_guardians_set(im->app->store, person_id,
	                                                   (const uint8_t(*)[SS_INDEX_LEN])idx, (size_t)p->nguardians);
}

/* Checks and stores one row, reporting every rule it breaks; false if it was bad. */
static bool import_row(struct import *im, struct ss_csv *csv, struct ss_arena *a)
{
	const char *fields[SS_POPULATION_COLUMNS + 1];
	size_t lens[SS_POPULATION_COLUMNS + 1];
	size_t columns = SS_POPULATION_COLUMNS + im->guardians;
	struct ss_person p;
	char reason[320];

	im->line = csv->line;
	if (csv->nfields != columns) {
		snprintf(reason, sizeof(reason), "expected %zu fields, found %zu", columns, csv->nfields);
		bad(im, csv->line, NULL, reason);
		return false;
	}
	for (size_t i = 0; i < columns; i++)
		fields[i] = ss_csv_field(csv, i, &lens[i]);
	int64_t now = ss_time_now();
	bool good = ss_population_check_row(fields, lens, columns, now, &p, bad_field, im) == SS_OK;
	struct ss_person_row row = {.updated_at = now};
	if (p.id.number[0]) { /* a valid number given twice is a mistake whatever else the line has */
		ss_pii_index(im->app, p.id.number, row.idx);
		long earlier = seen_add(&im->seen, row.idx, csv->line);
		if (earlier) {
			snprintf(reason, sizeof(reason), "the same ID number as line %ld", earlier);
			bad(im, csv->line, "id_number", reason);
			good = false;
		}
	}
	if (!good)
		return false;
	if (im->rep->errors) /* the file will be refused: only check the rest */
		return true;
	char sex[2] = {p.sex, '\0'};
	const char *particulars[] = {p.id.number, p.name, sex, p.birth_date, p.division, p.phone};
	int64_t person_id = 0;
	memcpy(row.division, p.division, sizeof(row.division));
	if (ss_pii_seal(im->app, SS_PII_PERSON, particulars, 6, a, &row.sealed) ||
	    im->app->store->ops->person_put(im->app->store, &row, &person_id) ||
	    (im->guardians && put_guardians(im, person_id, &p))) {
		bad(im, csv->line, NULL, ss_err_message());
		return false;
	}
	return true;
}

enum ss_err ss_registry_import(struct ss_app *app, FILE *in, struct ss_import_report *rep)
{
	struct ss_csv csv;
	struct import im = {.app = app, .rep = rep, .bad_line = -1};
	struct ss_arena a;
	enum ss_err err;

	rep->rows = rep->errors = 0;
	ss_csv_init(&csv, in, MAX_RECORD);
	ss_arena_init(&a);
	if ((err = app->store->ops->begin(app->store)))
		goto out;

	err = ss_csv_next(&csv);
	const char *hdr[SS_CSV_MAX_FIELDS];
	size_t hlen[SS_CSV_MAX_FIELDS];
	for (size_t i = 0; !err && i < csv.nfields; i++)
		hdr[i] = ss_csv_field(&csv, i, &hlen[i]);
	if (err == SS_NOT_FOUND) {
		bad(&im, 1, NULL,
		    "the file is empty: expected the header id_number,name,sex,birth_date,division,phone");
	} else if (err || !ss_population_header_ok(hdr, hlen, csv.nfields, &im.guardians)) {
		bad(&im, 1, NULL,
		    "the header must be id_number,name,sex,birth_date,division,phone (and optionally guardians)");
	} else {
		long long rows = 0;
		while ((err = ss_csv_next(&csv)) != SS_NOT_FOUND) {
			if (err == SS_INVALID || err == SS_TOO_BIG) {
				bad(&im, csv.line, NULL, ss_err_message());
				continue;
			}
			if (err) { /* the input cannot be read: stop, and load nothing */
				bad(&im, csv.line, NULL, ss_err_message());
				break;
			}
			if (import_row(&im, &csv, &a))
				rows++;
			if (rows % 256 == 0) { /* keep the arena small */
				ss_arena_release(&a);
				ss_arena_init(&a);
			}
			if (rep->progress && (rows + rep->errors) % PROGRESS_EVERY == 0)
				rep->progress(rep->ctx, (long long)ftello(in), rows);
		}
		rep->rows = rows;
	}
	if (ferror(in))
		bad(&im, 0, NULL, "read error");
	if (rep->errors) {
		app->store->ops->rollback(app->store);
		rep->rows = 0;
		err = ss_fail(SS_INVALID, NULL, "%lld bad lines: nothing was imported", rep->errors);
	} else {
		err = app->store->ops->commit(app->store);
		if (!err)
			ss_log_info("population_imported", "rows=%lld", rep->rows);
	}
out:
	free(im.seen.slots);
	ss_arena_release(&a);
	ss_csv_release(&csv);
	return err;
}

enum ss_err ss_registry_find(struct ss_app *app, const char *id_number, struct ss_arena *a, struct ss_person_row *out)
{
	struct ss_idcard id;
	uint8_t idx[SS_INDEX_LEN];
	enum ss_err err = ss_idcard_parse(id_number, strlen(id_number), ss_time_now(), &id);
	if (err)
		return err;
	ss_pii_index(app, id.number, idx);
	err = app->store->ops->person_get(app->store, idx, a, out);
	if (err == SS_NOT_FOUND)
		return ss_fail(SS_NOT_FOUND, "id_number", "no person with this ID number in the population registry");
	return err;
}
