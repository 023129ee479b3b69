/*
 * records_import: loading a file of records, all or nothing (see records.h,
 * ss_records_import). The same shape as the registry's import: one
 * transaction, every bad line reported, and once one is found the rest is
 * only checked. Duplicates need no set in memory: a record_id kept earlier in
 * the same transaction is already in the store, so the store's refusal
 * (SS_CONFLICT) finds repeats within the file as well as across imports, and
 * memory stays bounded by one line whatever the file.
 */
#include "core/records.h"

#include <stdlib.h>
#include <string.h>

#include "base/csv.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"

#define PROGRESS_EVERY 20000
#define ARENA_EVERY    256 /* records between releases of the arena */

struct job {
	struct ss_app *app;
	const char *source;
	struct ss_import_report *rep;
	struct ss_arena a;
	long long rows, dups, checked;
	bool broken; /* the store failed: stop reading */
};

static void bad(struct ss_import_report *rep, long line, const char *field, const char *reason)
{
	rep->errors++;
	if (rep->bad_line)
		rep->bad_line(rep->ctx, line, field, reason);
}

/* Keeps the record that was checked with result err at line (or reports why not), then counts it. */
static void take(struct job *j, FILE *in, long line, enum ss_err err, const struct ss_record *r)
{
	if (err) {
		bad(j->rep, line, ss_err_field(), ss_err_message());
	} else if (!j->rep->errors) { /* once the file is refused, the rest is only checked */
		err = ss_record_put(j->app, r, ss_time_now());
		if (err == SS_CONFLICT) {
			j->dups++;
		} else if (err) {
			bad(j->rep, line, NULL, ss_err_message());
			j->broken = true;
		} else {
			j->rows++;
			if (j->rep->kept)
				j->rep->kept(j->rep->ctx, r->id.number);
		}
	}
	if (++j->checked % ARENA_EVERY == 0) { /* keep the arena small; it held personal data in clear */
		ss_arena_release_secret(&j->a);
		ss_arena_init(&j->a);
	}
	if (j->rep->progress && j->checked % PROGRESS_EVERY == 0)
		j->rep->progress(j->rep->ctx, (long long)ftello(in), j->rows + j->dups);
}

/*
 * Skips a UTF-8 byte-order mark and white space at the start of in, counting
 * the line ends skipped; returns the first other byte, pushed back, or EOF.
 * -2 for a start that looks like a byte-order mark and is not one.
 */
static int first_byte(FILE *in, long *lines)
{
	int c = getc_unlocked(in);
	*lines = 0;
	if (c == 0xef) {
		if (getc_unlocked(in) != 0xbb || getc_unlocked(in) != 0xbf)
			return -2;
		c = getc_unlocked(in);
	}
	while (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
		if (c == '\n')
			(*lines)++;
		c = getc_unlocked(in);
	}
	if (c != EOF)
		ungetc(c, in);
	return c;
}

static bool blank(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] != ' ' && s[i] != '\t')
			return false;
	return true;
}

/* JSON Lines from in, whose first `line` lines were blank and have been read. */
static void import_jsonl(struct job *j, FILE *in, long line)
{
	/* the line, and room for a CR before the LF and one byte to tell that it is too long */
	char *buf = ss_malloc(SS_RECORD_LINE_MAX + 2);
	int c = 0;

	while (!j->broken && c != EOF) {
		size_t n = 0;
		bool any = false;
		while ((c = getc_unlocked(in)) != EOF && c != '\n') {
			any = true;
			if (n < SS_RECORD_LINE_MAX + 2)
				buf[n++] = (char)c;
		}
		if (!any && c == EOF)
			break;
		line++;
		if (n && buf[n - 1] == '\r' && n <= SS_RECORD_LINE_MAX + 1)
			n--;
		if (n > SS_RECORD_LINE_MAX) {
			char reason[64];
			snprintf(reason, sizeof(reason), "line is longer than %d bytes", SS_RECORD_LINE_MAX);
			bad(j->rep, line, NULL, reason);
			continue;
		}
		if (blank(buf, n))
			continue;
		struct ss_record r;
		enum ss_err err = ss_record_from_jsonl(buf, n, j->source, ss_time_now(), &r, &j->a);
		take(j, in, line, err, &r);
	}
	free(buf);
}

/* CSV from in, whose first `line` lines were blank and have been read. */
static void import_csv(struct job *j, FILE *in, long line)
{
	static const char header[] = "record_id,kind,id_number,occurred_at,attributes";
	struct ss_csv csv;
	char reason[128];

	ss_csv_init(&csv, in, SS_RECORD_LINE_MAX);
	/* the byte-order mark, if any, is gone: start the reader past it, on the right line */
	csv.line = line + 1;
	csv.next_line = line + 1;
	enum ss_err err = ss_csv_next(&csv);
	const char *hdr[SS_CSV_MAX_FIELDS];
	size_t hlen[SS_CSV_MAX_FIELDS];
	for (size_t i = 0; !err && i < csv.nfields; i++)
		hdr[i] = ss_csv_field(&csv, i, &hlen[i]);
	if (err == SS_NOT_FOUND) {
		snprintf(reason, sizeof(reason), "the file is empty: expected the header %s", header);
		bad(j->rep, 1, NULL, reason);
		goto out;
	}
	if (err || !ss_record_csv_header_ok(hdr, hlen, csv.nfields)) {
		snprintf(reason, sizeof(reason), "the header must be %s", header);
		bad(j->rep, csv.line, NULL, reason);
		goto out;
	}
	while (!j->broken && (err = ss_csv_next(&csv)) != SS_NOT_FOUND) {
		if (err == SS_INVALID || err == SS_TOO_BIG) {
			bad(j->rep, csv.line, NULL, ss_err_message());
			continue;
		}
		if (err) { /* the input cannot be read: stop, and keep nothing */
			bad(j->rep, csv.line, NULL, ss_err_message());
			break;
		}
		if (csv.nfields != 5) {
			snprintf(reason, sizeof(reason), "expected 5 fields, found %zu%s", csv.nfields,
			         csv.nfields > 5
			                 ? " (attributes with commas or quotes must be in double quotes, each \" "
			                   "written \"\")"
			                 : "");
			bad(j->rep, csv.line, NULL, reason);
			continue;
		}
		const char *fields[5];
		size_t lens[5];
		for (size_t i = 0; i < 5; i++)
			fields[i] = ss_csv_field(&csv, i, &lens[i]);
		struct ss_record r;
		err = ss_record_from_csv(fields, lens, j->source, ss_time_now(), &r, &j->a);
		take(j, in, csv.line, err, &r);
	}
out:
	ss_csv_release(&csv);
}

enum ss_err ss_records_import(struct ss_app *app, FILE *in, const char *source, enum ss_records_format format,
                              struct ss_import_report *rep, long long *duplicates)
{
	struct job j = {.app = app, .source = source, .rep = rep};
	long lines;
	enum ss_err err;

	rep->rows = rep->errors = 0;
	*duplicates = 0;
	if ((err = ss_source_check(source)))
		return err;
	if ((err = app->store->ops->begin(app->store)))
		return err;
	ss_arena_init(&j.a);

	int c = first_byte(in, &lines);
	if (c == -2)
		bad(rep, 1, NULL, "the file starts with a broken byte-order mark");
	else if (format == SS_RECORDS_CSV || (format == SS_RECORDS_AUTO && c != '{' && c != EOF))
		import_csv(&j, in, lines);
	else
		import_jsonl(&j, in, lines); /* an empty file is JSON Lines with no records */
	if (ferror(in))
		bad(rep, 0, NULL, "read error");

	if (rep->errors) {
		app->store->ops->rollback(app->store);
		err = ss_fail(SS_INVALID, NULL, "%lld bad lines: nothing was imported", rep->errors);
	} else if (!(err = app->store->ops->commit(app->store))) {
		rep->rows = j.rows;
		*duplicates = j.dups;
		ss_log_info("records_imported", "source=%s records=%lld duplicates=%lld", source, j.rows, j.dups);
	}
	ss_arena_release_secret(&j.a);
	return err;
}
