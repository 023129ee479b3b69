/*
 * status: a person's colour and why, as the resident and staff see it.
 * Colours come from the rules (core/assign.h). Staff who must set one by hand
 * do it with evidence like any other: a manual_override record (source
 * `staff`) with a colour, an end and a reason, which the rules put above
 * themselves until it ends; the resident sees the reason and the end. The
 * colour is re-evaluated in the same transaction that keeps the record, and
 * the in-memory table of holders follows, so the next scan sees it.
 * Thread-safe.
 */
#ifndef SS_CORE_STATUS_H
#define SS_CORE_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/app.h"

#define SS_STATUS_HAND_DAYS     14 /* how long a colour set by hand holds unless staff say otherwise */
#define SS_STATUS_HAND_MAX_DAYS 90 /* the longest it may be set for */

/* A colour set by hand (POST /v1/staff/status). */
struct ss_status_by_hand {
	const char *id_number;
	const char *color;  /* "green", "yellow", "red" */
	const char *reason; /* 1..SS_RECORD_REASON_MAX bytes of text, shown to the resident */
	int64_t until;      /* when the rules take over again; 0: SS_STATUS_HAND_DAYS from now */
	int64_t staff_id;   /* who (kept, sealed, with the record) */
	const char *source; /* the record's source: NULL for "staff"; "appeal" for an upheld appeal */
	int64_t person_id;  /* set on success: whose colour it is */
};

struct ss_status_view {
	int color;
	int64_t since;
	size_t nreasons;
	struct {
		const char *rule, *text;
	} reasons[4];
	/* set by the rules (core/assign.h): 0, "" and "[]" for a colour set by hand or by default */
	int64_t review_at;    /* when the colour changes by itself, 0 if never */
	const char *rule_set; /* the rule set's version */
	const char *fired;    /* the fired rules as JSON (store.h, struct ss_status_row) */
};

/*
 * Sets a colour by hand as of now: keeps a manual_override record about the
 * person and re-evaluates them, in one transaction. SS_INVALID naming the
 * field (id_number, color, reason, until), SS_NOT_FOUND if the registry has
 * no such person. On success h->until is when the override ends.
 */
enum ss_err ss_status_set_by_hand(struct ss_app *app, struct ss_status_by_hand *h, int64_t now) SS_MUST;

/*
 * The reason given with the manual_override about person_id that occurred at
 * occurred_at (unix seconds), opened from its sealed record into a; NULL if
 * there is none or it gave no reason. A colour's reasons keep only the
 * override's kind and date: its words are personal data and stay sealed.
 */
enum ss_err ss_status_override_reason(struct ss_app *app, int64_t person_id, int64_t occurred_at, struct ss_arena *a,
                                      const char **reason) SS_MUST;

/* The colour of a person and its reasons (green since default_since when nothing is recorded). */
enum ss_err ss_status_of_person(struct ss_app *app, int64_t person_id, int64_t default_since, struct ss_arena *a,
                                struct ss_status_view *out) SS_MUST;

#endif
