/*
 * appeals: a person contests their colour (申诉; GB/T 38963's correction
 * interface). A resident files one from a channel, or a hotline operator
 * files one for a caller named by ID number and name (checked against the
 * registry). A handler claims it, records the department data check and the
 * grassroots check, and decides:
 *
 *   submitted -> assigned -> checking -> upheld | rejected -> closed
 *
 * Each transition is kept as an event (who: actor kind and id; when) and
 * audited (actor, subject = the person, why "appeal:<id>"), in the same store
 * transaction as the change. Only the handler an appeal is assigned to may
 * record checks, decide and close it (SS_DENIED for anyone else); deciding
 * before both checks are recorded, claiming one that another handler holds,
 * or any transition out of order is SS_CONFLICT. An upheld appeal sets the
 * person's colour through the status-by-hand path (core/status.h): a
 * manual_override record with source "appeal" and a reason naming the
 * appeal, and a re-evaluation, in the same transaction, so the next scan sees
 * it. A rejected one keeps a reason the person reads.
 *
 * What the person wrote (reason, details), the checks' findings and the
 * decision's reason are personal data: sealed under the key ring, never
 * logged. A decision is due SS_APPEAL_DUE_SECS after filing; the handlers'
 * queue is ordered by that time and paged by key (due_at, appeal_id).
 *
 * Strings of results live in the arena the caller passes. Thread-safe.
 */
#ifndef SS_CORE_APPEALS_H
#define SS_CORE_APPEALS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/app.h"
#include "core/audit.h"
#include "store/store.h"

#define SS_APPEAL_REASON_MAX   200  /* bytes of the short reason */
#define SS_APPEAL_DETAILS_MAX  4000 /* bytes of the details */
#define SS_APPEAL_CHECK_MAX    2000 /* bytes of a check's finding */
#define SS_APPEAL_DECISION_MAX 400  /* bytes of a decision's reason (an override's reason holds 500 with the prefix) */
#define SS_APPEAL_DUE_SECS     (24 * 3600)
#define SS_APPEAL_PAGE_MAX     500
#define SS_APPEALS_OF_PERSON   100 /* the most a person's list shows */

/* Who files: a resident from their channel, or an operator for a caller. */
struct ss_appeal_filing {
	const char *reason;  /* 1..SS_APPEAL_REASON_MAX bytes of text */
	const char *details; /* 1..SS_APPEAL_DETAILS_MAX bytes of text (line breaks allowed) */
	/* a resident: */
	int64_t citizen_id;
	const char *channel; /* app, wechat, alipay, web */
	/* an operator (citizen_id 0): */
	int64_t staff_id;
	const char *id_number, *name; /* the caller, as they say; must match the registry */
	/* set on success: */
	int64_t appeal_id, person_id, due_at;
};

/* A decision (POST .../decision). */
struct ss_appeal_decision {
	bool upheld;
	const char *color;  /* upheld: green, yellow, red */
	int64_t until;      /* upheld: when the override ends; 0 for the default (core/status.h) */
	const char *reason; /* 1..SS_APPEAL_DECISION_MAX bytes of text, shown to the person */
};

/* An appeal, opened. */
struct ss_appeal {
	struct ss_appeal_row row;
	const char *id_number, *reason, *details;
	const char *data_check, *grass_check; /* NULL if not recorded */
	const char *decision_reason;          /* NULL if not decided */
};

/*
 * Files an appeal as of now. SS_INVALID naming reason, details, id_number or
 * name; SS_MISMATCH if the operator's caller's name does not match the
 * registry for the number (or the registry has no such number).
 */
enum ss_err ss_appeal_file(struct ss_app *app, struct ss_appeal_filing *f, int64_t now) SS_MUST;

/* Opens the sealed parts of a row read from the store (strings in a). */
enum ss_err ss_appeal_open(struct ss_app *app, const struct ss_appeal_row *row, struct ss_arena *a,
                           struct ss_appeal *out) SS_MUST;

/* An appeal and its sealed parts, opened. SS_NOT_FOUND if there is none. */
enum ss_err ss_appeal_get(struct ss_app *app, int64_t appeal_id, struct ss_arena *a, struct ss_appeal *out) SS_MUST;

/*
 * The transitions of a handler (staff_id), as of now; *person_id (if not
 * NULL) gets whose appeal it is, for the caller's audit, whatever the result
 * once the appeal is found. Claim: a submitted appeal becomes assigned to
 * staff_id (claiming one's own again changes nothing). Check: kind "data" or
 * "grassroots", the finding as text; the appeal becomes checking. Decide:
 * needs both checks. Close: a decided appeal.
 */
enum ss_err ss_appeal_claim(struct ss_app *app, int64_t appeal_id, int64_t staff_id, int64_t now,
                            int64_t *person_id) SS_MUST;
enum ss_err ss_appeal_check(struct ss_app *app, int64_t appeal_id, int64_t staff_id, const char *kind,
                            const char *result, int64_t now, int64_t *person_id) SS_MUST;
enum ss_err ss_appeal_decide(struct ss_app *app, int64_t appeal_id, int64_t staff_id,
                             const struct ss_appeal_decision *d, int64_t now, int64_t *person_id) SS_MUST;
enum ss_err ss_appeal_close(struct ss_app *app, int64_t appeal_id, int64_t staff_id, int64_t now,
                            int64_t *person_id) SS_MUST;

/* True if s names a state ("submitted", ..., "closed"). */
bool ss_appeal_state_is_valid(const char *s);

/* The person of the registry named by an ID number and a name (SS_MISMATCH if they do not match). */
enum ss_err ss_appeal_caller(struct ss_app *app, const char *id_number, const char *name, int64_t *person_id) SS_MUST;

/* The counts for metrics (store.h, struct ss_appeal_counts) as of now. */
enum ss_err ss_appeal_counts(struct ss_app *app, int64_t now, struct ss_appeal_counts *out) SS_MUST;

#endif
