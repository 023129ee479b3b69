/*
 * csv: the streaming RFC 4180 reader (see csv.h).
 *
 * One pass over the bytes with getc_unlocked() and a four-state machine. The
 * fields of a record are stored one after another in r->text, each followed by
 * a NUL; the record's raw size (every byte of it but its line end) is counted
 * as it is read, and once it passes max_record, or the record is found to be
 * malformed, nothing more is stored: the machine runs on, discarding, to the
 * end of the record, so the next call starts on a record boundary.
 *
 * Since a record's stored size (its field bytes plus one NUL per field) is at
 * most its raw size plus one, r->text never needs more than max_record + 1
 * bytes (plus the buffer's own trailing NUL).
 */
#include "base/csv.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "base/mem.h"

enum state {
	FIELD_START, /* nothing of the field read yet */
	UNQUOTED,    /* inside a field that did not start with a quote */
	QUOTED,      /* inside quotes */
	QUOTE_SEEN,  /* a quote inside quotes: the closing one, or the first of "" */
};

void ss_csv_init(struct ss_csv *r, FILE *in, size_t max_record)
{
	/* keeps max_record + 2 from overflowing; no real record comes near this */
	if (max_record > SIZE_MAX / 4)
		max_record = SIZE_MAX / 4;
	r->in = in;
	r->max_record = max_record;
	r->line = 0; /* 0 until the first ss_csv_next(), which looks for a byte-order mark */
	r->next_line = 1;
	ss_buf_init(&r->text, max_record + 1);
	r->nfields = 0;
}

void ss_csv_release(struct ss_csv *r)
{
	ss_buf_release(&r->text);
	r->nfields = 0;
}

/* Makes room for at least two more bytes after len (the byte and a NUL), within the buffer's maximum. */
static void grow(struct ss_buf *b, size_t len)
{
	size_t cap = b->cap ? b->cap * 2 : 256;
	if (cap > b->max + 1)
		cap = b->max + 1;
	assert(cap >= len + 2);
	b->ptr = ss_realloc(b->ptr, cap);
	b->cap = cap;
}

/*
 * Skips a UTF-8 byte-order mark at the start of the stream. Returns how many
 * bytes of a partial mark it consumed that are data after all (0-2), copied
 * to lead; the byte after them has been pushed back.
 */
static int skip_bom(FILE *in, unsigned char lead[2])
{
	static const unsigned char bom[3] = {0xef, 0xbb, 0xbf};
	int k;

	for (k = 0; k < 3; k++) {
		int c = getc_unlocked(in);
		if (c != bom[k]) {
			if (c != EOF)
				ungetc(c, in);
			break;
		}
		if (k < 2)
			lead[k] = (unsigned char)c;
	}
	return k == 3 ? 0 : k;
}

enum ss_err ss_csv_next(struct ss_csv *r)
{
	FILE *in = r->in;
	const size_t max = r->max_record;
	char *buf = r->text.ptr;
	size_t cap = r->text.cap, len = 0, raw = 0, nf = 0, start = 0;
	long line = r->next_line;
	enum state st = FIELD_START;
	enum ss_err err = SS_OK;
	bool lenient = false; /* after a quoting error: read the rest of the record as Python's csv would */
	bool first = r->line == 0;
	int c;

	r->nfields = 0;
	r->line = line;

/* counts one raw byte of the record */
#define COUNT()                                                                                  \
	do {                                                                                     \
		if (++raw > max && !err)                                                         \
			err = ss_fail(SS_TOO_BIG, NULL, "record is longer than %zu bytes", max); \
	} while (0)
/* stores one byte of the current field (once an error is found, stores nothing) */
#define PUT(ch)                                      \
	do {                                         \
		if (!err) {                          \
			if (len + 2 > cap) {         \
				r->text.len = len;   \
				grow(&r->text, len); \
				buf = r->text.ptr;   \
				cap = r->text.cap;   \
			}                            \
			buf[len++] = (char)(ch);     \
		}                                    \
	} while (0)
/* a byte that goes into the field as it is */
#define DATA(ch)                                                                       \
	do {                                                                           \
		COUNT();                                                               \
		if ((ch) == '\0' && !err)                                              \
			err = ss_fail(SS_INVALID, NULL, "record contains a nul byte"); \
		PUT(ch);                                                               \
	} while (0)
/* ends the current field */
#define END_FIELD()                                                                                \
	do {                                                                                       \
		if (!err && nf == SS_CSV_MAX_FIELDS)                                               \
			err = ss_fail(SS_INVALID, NULL, "more than %d fields", SS_CSV_MAX_FIELDS); \
		if (!err) {                                                                        \
			r->offsets[nf] = start;                                                    \
			r->lengths[nf] = len - start;                                              \
			PUT('\0');                                                                 \
		}                                                                                  \
		nf++;                                                                              \
		start = len;                                                                       \
	} while (0)

	if (first) {
		/* a byte-order mark may come before the first record */
		unsigned char lead[2];
		int k = skip_bom(in, lead);
		for (int i = 0; i < k; i++)
			DATA(lead[i]);
		if (k)
			st = UNQUOTED;
	}

	for (;;) {
		c = getc_unlocked(in);
		switch (st) {
		case FIELD_START:
			if (c == '\r') {
				int d = getc_unlocked(in);
				if (d != '\n' && d != EOF) {
					ungetc(d, in);
					DATA('\r');
					st = UNQUOTED;
					break;
				}
				c = d;
			}
			if (c == EOF || c == '\n') {
				if (nf == 0 && raw == 0) {
					if (c == EOF) {
						r->next_line = line;
						if (ferror(in))
							return ss_fail(SS_INTERNAL, NULL, "cannot read the input");
						return SS_NOT_FOUND;
					}
					/* a blank line: the record starts on the next one */
					r->line = ++line;
					break;
				}
				END_FIELD();
				goto end_record;
			}
			COUNT();
			if (c == ',') {
				END_FIELD();
			} else if (c == '"') {
				st = QUOTED;
			} else {
				if (c == '\0' && !err)
					err = ss_fail(SS_INVALID, NULL, "record contains a nul byte");
				PUT(c);
				st = UNQUOTED;
			}
			break;
		case UNQUOTED:
			if (c == '\r') {
				int d = getc_unlocked(in);
				if (d != '\n' && d != EOF) {
					ungetc(d, in);
					DATA('\r');
					break;
				}
				c = d;
			}
			if (c == EOF || c == '\n') {
				END_FIELD();
				goto end_record;
			}
			if (c == ',') {
				COUNT();
				END_FIELD();
				st = FIELD_START;
				break;
			}
			if (c == '"' && !lenient) {
				lenient = true;
				if (!err)
					err = ss_fail(SS_INVALID, NULL, "quote inside an unquoted field");
			}
			DATA(c);
			break;
		case QUOTED:
			if (c == EOF) {
				if (!err)
					err = ss_fail(SS_INVALID, NULL, "unterminated quote");
				goto end_record;
			}
			if (c == '"') {
				COUNT();
				st = QUOTE_SEEN;
				break;
			}
			if (c == '\n')
				line++;
			DATA(c);
			break;
		case QUOTE_SEEN:
			if (c == '"') {
				DATA('"');
				st = QUOTED;
				break;
			}
			if (c == '\r') {
				int d = getc_unlocked(in);
				if (d != '\n' && d != EOF)
					ungetc(d, in);
				else
					c = d;
			}
			if (c == EOF || c == '\n') {
				END_FIELD();
				goto end_record;
			}
			if (c == ',') {
				COUNT();
				END_FIELD();
				st = FIELD_START;
				break;
			}
			lenient = true;
			if (!err)
				err = ss_fail(SS_INVALID, NULL, "text after a closing quote");
			DATA(c);
			st = UNQUOTED;
			break;
		}
	}

end_record:
	if (c == '\n')
		line++;
	if (c == EOF && ferror(in) && err != SS_INTERNAL)
		err = ss_fail(SS_INTERNAL, NULL, "cannot read the input");
	r->next_line = line;
	r->text.len = err ? 0 : len;
	if (r->text.ptr)
		r->text.ptr[r->text.len] = '\0';
	if (err)
		return err;
	r->nfields = nf;
	return SS_OK;

#undef COUNT
#undef PUT
#undef DATA
#undef END_FIELD
}

const char *ss_csv_field(const struct ss_csv *r, size_t i, size_t *len)
{
	assert(i < r->nfields);
	if (len)
		*len = r->lengths[i];
	return r->text.ptr + r->offsets[i];
}
