/*
 * records: the evidence that status assignment works from. A record says that
 * something happened to a person at a time, as a data source saw it:
 * (record_id, source, kind, id_number, occurred_at, attributes). Records come
 * from the national platform, other provinces, the CDC, labs, airlines,
 * railways, residents' own declarations, staff, appeals and tracing; they come
 * as JSON objects (JSON Lines files, HTTP batches) or as CSV rows with the
 * header `record_id,kind,id_number,occurred_at,attributes` (attributes: a
 * JSON object in one field). Both go through the same checks here.
 *
 * A record is checked strictly, so that a mistake of a source shows at once
 * instead of silently colouring (or failing to colour) someone:
 *   record_id    1..64 bytes of A-Z a-z 0-9 . _ : -; one record per record_id,
 *                whoever sends it (a record sent twice, or by two sources with
 *                the same record_id, counts once: the first one kept wins);
 *   kind         one of enum ss_record_kind, by its name;
 *   id_number    GB 11643 (ss_idcard_parse), normalised to upper-case X;
 *   occurred_at  RFC 3339; not before 2000 and at most
 *                SS_RECORD_FUTURE_TOLERANCE seconds after now (clocks differ
 *                a little; a record from the future is a mistake). Fractions
 *                of a second are dropped. For a test_result it is the time the
 *                sample was taken;
 *   attributes   an object with exactly the members of its kind (see the
 *                table below and docs/api.md): a missing one, one of the wrong
 *                type or out of range, and a member the kind does not have are
 *                all refused. Absent, null or (in CSV) an empty field is {}.
 * A JSON record object may have only the five members above (the source is
 * not one of them: it is who sends the record, given by the caller).
 *
 * Failures are SS_INVALID with the offending member as the error's field
 * ("record_id", "kind", "id_number", "occurred_at", "attributes" or
 * "attributes.<name>") and a message that names the member and the rule it
 * breaks, never the value (values may be personal data).
 *
 * Strings of a struct ss_record live in the arena given to the call that made
 * it. Pure functions of their arguments (ss_records_of_person reads the
 * store); thread-safe.
 */
#ifndef SS_CORE_RECORDS_H
#define SS_CORE_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/app.h"
#include "core/idcard.h"
#include "core/registry.h"
#include "json/json.h"

#define SS_RECORD_ID_MAX           64
#define SS_SOURCE_MAX              15    /* "province:310000" */
#define SS_RECORD_FUTURE_TOLERANCE 300   /* seconds an occurred_at may be ahead of now */
#define SS_RECORD_LINE_MAX         65536 /* bytes of one JSON Lines line or one CSV row, line end not counted */
#define SS_RECORD_ORIGIN_MAX       64    /* bytes of inbound_travel's origin */
#define SS_RECORD_SYMPTOMS_MAX     16    /* symptoms of one health_declaration */
#define SS_RECORD_SYMPTOM_MAX      32    /* bytes of one symptom */
#define SS_RECORD_PLACES_MAX       32    /* places of one trip_declaration */
#define SS_RECORD_REASON_MAX       500   /* bytes of a manual_override's reason */

/*
 * The kinds of record and their attributes (docs/api.md, "Data sources"):
 *   confirmed_case, suspected_case, recovered, close_contact,
 *   secondary_contact, quarantine_start, quarantine_end       {}
 *   risk_area_visit    {"area": 6-digit GB/T 2260 code, "level": "high"|"medium"|"low"}
 *   test_result        {"result": "positive"|"negative"}
 *   vaccination        {"dose": integer 1..10}
 *   inbound_travel     {"origin": text of 1..64 bytes (a country or a division)}
 *   health_declaration {"temperature": number 30..45 (degrees Celsius),
 *                       "symptoms": array of 0..16 texts of 1..32 bytes}
 *   trip_declaration   {"places": array of 1..32 6-digit GB/T 2260 codes}
 *   manual_override    {"color": "green"|"yellow"|"red", "until": RFC 3339 time after occurred_at,
 *                       "reason": optional text of 1..500 bytes, shown to the person}
 * The store keeps a kind by its name, never by its number here.
 */
enum ss_record_kind {
	SS_RECORD_CONFIRMED_CASE,
	SS_RECORD_SUSPECTED_CASE,
	SS_RECORD_RECOVERED,
	SS_RECORD_CLOSE_CONTACT,
	SS_RECORD_SECONDARY_CONTACT,
	SS_RECORD_RISK_AREA_VISIT,
	SS_RECORD_TEST_RESULT,
	SS_RECORD_VACCINATION,
	SS_RECORD_QUARANTINE_START,
	SS_RECORD_QUARANTINE_END,
	SS_RECORD_INBOUND_TRAVEL,
	SS_RECORD_HEALTH_DECLARATION,
	SS_RECORD_TRIP_DECLARATION,
	SS_RECORD_MANUAL_OVERRIDE,
	SS_RECORD_KINDS
};

enum ss_risk_level { SS_RISK_LOW, SS_RISK_MEDIUM, SS_RISK_HIGH };

/* A checked record with its attributes typed (for the rules) and as canonical JSON (for storage and display). */
struct ss_record {
	char record_id[SS_RECORD_ID_MAX + 1];
	char source[SS_SOURCE_MAX + 1];
	enum ss_record_kind kind;
	struct ss_idcard id; /* id.number: the normalised ID number */
	int64_t occurred_at; /* unix seconds */
	union {
		struct {
			char area[7];
			enum ss_risk_level level;
		} risk_area_visit;
		struct {
			bool positive;
		} test_result;
		struct {
			int dose;
		} vaccination;
		struct {
			const char *origin;
		} inbound_travel;
		struct {
			double temperature;
			size_t nsymptoms;
			const char *const *symptoms;
		} health_declaration;
		struct {
			size_t nplaces;
			const char *const *places; /* each 6 digits and a NUL */
		} trip_declaration;
		struct {
			int color; /* enum ss_color */
			int64_t until;
			const char *reason; /* NULL if none was given */
		} manual_override;
	} attr; /* the member named after kind; nothing for the kinds without attributes */
	/*
	 * The attributes as compact JSON with the members in the order of the
	 * table above and values normalised (times in UTC as "...Z", numbers in
	 * their shortest form): the same record always has the same text.
	 */
	const char *attributes;
	size_t attributes_len;
};

/* The name of a kind ("close_contact"), or NULL if k is not one. */
const char *ss_record_kind_name(enum ss_record_kind k);

/* The kind named by the n bytes at name; false if there is none. */
bool ss_record_kind_parse(const char *name, size_t n, enum ss_record_kind *out);

/*
 * True if the NUL-terminated s is a source: national, cdc, lab, airline,
 * railway, self, staff, appeal, trace, or province:<code> where code is a
 * valid GB/T 2260 code of 6 digits or a province's 2 digits ("province:32").
 */
bool ss_source_is_valid(const char *s);

/* Checks a source as ss_source_is_valid() does: SS_INVALID with field "source" and the rule. */
enum ss_err ss_source_check(const char *s) SS_MUST;

/*
 * Checks the record object obj from source (which must be valid) as of unix
 * time now and fills out (strings from a). out is fully written only on
 * success.
 */
enum ss_err ss_record_from_json(const struct ss_json *obj, const char *source, int64_t now, struct ss_record *out,
                                struct ss_arena *a) SS_MUST;

/* The same for the n bytes of one JSON Lines line (one JSON object). */
enum ss_err ss_record_from_jsonl(const char *text, size_t n, const char *source, int64_t now, struct ss_record *out,
                                 struct ss_arena *a) SS_MUST;

/*
 * The same for a CSV row given as its 5 fields in header order
 * (record_id,kind,id_number,occurred_at,attributes), each NUL-terminated at
 * its length; the attributes field is a JSON object or empty.
 */
enum ss_err ss_record_from_csv(const char *const fields[5], const size_t lens[5], const char *source, int64_t now,
                               struct ss_record *out, struct ss_arena *a) SS_MUST;

/*
 * Builds a record that suishen makes itself (a declaration, a colour set by
 * staff, a traced contact) and checks it exactly as a received one:
 * attributes is the JSON text of its attributes object ("{}" for none).
 */
enum ss_err ss_record_build(const char *record_id, const char *source, enum ss_record_kind kind, const char *id_number,
                            int64_t occurred_at, const char *attributes, int64_t now, struct ss_record *out,
                            struct ss_arena *a) SS_MUST;
/* True if the n header fields are exactly record_id,kind,id_number,occurred_at,attributes. */
bool ss_record_csv_header_ok(const char *const fields[], const size_t lens[], size_t n);

/*
 * Keeps a checked record: sealed (record_id, ID number, attributes) under the
 * data key, found by the blind index of its ID number (so a record about
 * someone not yet in the population registry applies once they are), kept
 * once per record_id. SS_CONFLICT ("duplicate, ignored") and no change if a
 * record with its record_id is kept already. May run inside a transaction of
 * the caller's.
 */
enum ss_err ss_record_put(struct ss_app *app, const struct ss_record *r, int64_t received_at) SS_MUST;

/*
 * Calls fn with every record kept about the person with the blind index idx,
 * oldest first (by occurred_at, then by arrival), opened and typed as when it
 * was checked; the records' strings live in a. Stops at the first error of fn
 * and returns it. SS_INTERNAL if a stored record does not open or no longer
 * parses (data loss or tampering; logged).
 */
enum ss_err ss_records_of_person(struct ss_app *app, const uint8_t idx[SS_INDEX_LEN], struct ss_arena *a,
                                 enum ss_err (*fn)(void *ctx, const struct ss_record *r), void *ctx) SS_MUST;

enum ss_records_format { SS_RECORDS_AUTO, SS_RECORDS_CSV, SS_RECORDS_JSONL };

/* "auto", "csv", "jsonl" -> the format; false if none. */
bool ss_records_format_parse(const char *name, enum ss_records_format *out);

/*
 * Imports a file of records from source (records_import.c), all or nothing,
 * in one transaction: every bad line is reported through rep->bad_line with
 * its line number, the field and the reason, and if there was any, nothing is
 * kept and the result is SS_INVALID. Otherwise rep->rows is the number of
 * records kept and *duplicates the number ignored because their record_id
 * was kept already (by an earlier import, another source, or an earlier line
 * of this file: a record_id repeated within a file is not an error, it counts
 * once, the first one wins). SS_RECORDS_AUTO takes JSON Lines if the first
 * character that is not white space is '{', else CSV (whose first line must
 * be the header). A UTF-8 byte-order mark and blank lines are skipped; a file
 * with no records (and, for CSV, only the header) imports nothing and
 * succeeds. A line (or a CSV row) longer than SS_RECORD_LINE_MAX bytes is a
 * bad line, so memory stays bounded whatever the file. An invalid source is
 * refused before anything is read; a storage failure stops the import (and
 * is reported as a bad line at the line being kept). rep->progress is called
 * now and then with the bytes read and the records taken (kept or
 * duplicate). A command-line job: the transaction holds the store's write lock
 * until the end, so other writers (a running server's) wait meanwhile.
 */
enum ss_err ss_records_import(struct ss_app *app, FILE *in, const char *source, enum ss_records_format format,
                              struct ss_import_report *rep, long long *duplicates) SS_MUST;

#endif
