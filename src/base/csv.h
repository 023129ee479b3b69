/*
 * csv: a streaming reader of RFC 4180 CSV (comma-separated, fields optionally
 * in double quotes, "" for a quote inside quotes, CRLF or LF line ends).
 *
 * Reads one record at a time from a stdio stream, with a hard limit on the
 * bytes of one record and on the number of fields, so no input can make it
 * use unbounded memory. A quoted field may span lines; line numbers count
 * physical lines so errors can name the line a person sees in an editor.
 * One reader per stream; not thread-safe.
 */
#ifndef SS_BASE_CSV_H
#define SS_BASE_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/err.h"

#define SS_CSV_MAX_FIELDS 32

struct ss_csv {
	FILE *in;
	size_t max_record;  /* most bytes one record may have */
	long line;          /* physical line where the current record starts (1-based) */
	long next_line;     /* physical line where the next record starts */
	struct ss_buf text; /* the fields' bytes, each NUL-terminated */
	size_t nfields;
	size_t offsets[SS_CSV_MAX_FIELDS];
	size_t lengths[SS_CSV_MAX_FIELDS];
};

/* Starts reading in; records longer than max_record bytes are refused. */
void ss_csv_init(struct ss_csv *r, FILE *in, size_t max_record);
void ss_csv_release(struct ss_csv *r);

/*
 * Reads the next record. Returns SS_OK with r->nfields set, SS_NOT_FOUND at the
 * end of the input, SS_INVALID for a malformed record (an unterminated quote,
 * text after a closing quote, a quote inside an unquoted field, a NUL byte,
 * more than SS_CSV_MAX_FIELDS fields), SS_TOO_BIG for an over-long one, and
 * SS_INTERNAL if the stream reports a read error (which getc() would otherwise
 * pass off as the end). After SS_INVALID or SS_TOO_BIG the reader has skipped
 * to the start of the next record, so the caller can report and go on (the
 * message is set with ss_fail(); r->line is the line the bad record starts on).
 * After a quoting error the rest of the bad record is read leniently (a quote
 * opens a quoted field only at the start of a field), which finds the next
 * record in the usual cases of a stray quote.
 *
 * A record's size, checked against max_record, is its raw bytes (quotes and
 * commas included) without its line end. A UTF-8 byte-order mark at the very
 * start is skipped. Blank lines (nothing, or only CR, before the LF) are
 * skipped. A CR not followed by LF is data.
 */
enum ss_err ss_csv_next(struct ss_csv *r) SS_MUST;

/* Field i of the current record (NUL-terminated; may contain no NUL itself) and its length. */
const char *ss_csv_field(const struct ss_csv *r, size_t i, size_t *len);

#endif
