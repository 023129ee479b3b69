/*
 * registry: loading the population registry from CSV, all or nothing.
 *
 * The whole file is read and checked in one transaction: every rule that
 * every line breaks is reported through the callback with its line number
 * and reason, and if there was any, the transaction is rolled back and
 * nothing is loaded. A person already in the registry (same ID number) has
 * their particulars replaced; an ID number twice in one file is an error
 * naming both lines. A file with the guardians column (population.h) sets
 * each of its people's guardians to exactly those it names (none, if the
 * field is empty); a file without it leaves the guardians kept before as they
 * are. Guardians are kept as blind indexes of their ID numbers only.
 * Single-threaded (a command-line job). And finding a person by ID number.
 */
#ifndef SS_CORE_REGISTRY_H
#define SS_CORE_REGISTRY_H

#include <stdint.h>
#include <stdio.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/app.h"

struct ss_import_report {
	/* Called for each rule a line breaks, several times for a line that breaks several (line 0: the file). */
	void (*bad_line)(void *ctx, long line, const char *field, const char *reason);
	/* Called now and then with the bytes read so far. */
	void (*progress)(void *ctx, long long bytes, long long rows);
	void *ctx;
	long long rows;   /* rows loaded (on success) */
	long long errors; /* bad lines found (each counted once) */
	/* Records only, may be NULL: called with the ID number of each record kept (before the import commits). */
	void (*kept)(void *ctx, const char *id_number);
};

/* Imports a population CSV from in. SS_INVALID if any line was bad (nothing loaded). */
enum ss_err ss_registry_import(struct ss_app *app, FILE *in, struct ss_import_report *rep) SS_MUST;

/*
 * The person of the registry with this ID number (its sealed particulars
 * copied into a): SS_INVALID naming id_number if it is not a valid one,
 * SS_NOT_FOUND naming id_number if the registry has no such person.
 * Thread-safe.
 */
enum ss_err ss_registry_find(struct ss_app *app, const char *id_number, struct ss_arena *a,
                             struct ss_person_row *out) SS_MUST;

#endif
