/*
 * status: a person's colour and why. For now a colour is green by default and
 * set by hand by staff with a reason (rule "manual"); the rules engine of a
 * later issue sets colours from evidence through the same store operation.
 * Every change is kept in the store's history and applied to the in-memory
 * table of holders at once, so the next scan sees it. Thread-safe.
 */
#ifndef SS_CORE_STATUS_H
#define SS_CORE_STATUS_H

#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/app.h"

#define SS_REASON_MAX 500

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

/* Sets the colour of the person with this ID number by hand (staff_id is who); the reason is shown to them. */
enum ss_err ss_status_set_by_hand(struct ss_app *app, const char *id_number, const char *color, const char *reason,
                                  int64_t staff_id) SS_MUST;

/* The colour of a person and its reasons (green since default_since when nothing is recorded). */
enum ss_err ss_status_of_person(struct ss_app *app, int64_t person_id, int64_t default_since, struct ss_arena *a,
                                struct ss_status_view *out) SS_MUST;

#endif
