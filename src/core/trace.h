/*
 * trace: tracing companions (时空伴随). For a case (a person of the
 * registry, named by ID number) and a span of time, finds everyone whose code
 * was scanned at a place where the case's code was scanned, within
 * window_minutes before or after one of the case's scans there, and, if
 * asked, keeps a `close_contact` record (source `trace`) about each of them so
 * that the rules colour them like any other contact.
 *
 * Cost follows the case's scans and the scans near them, never the size of
 * the scan log: the case's scans are read through the index on person and
 * time, the companions through the index on place and time (which carries the
 * people, so no table row is read); overlapping windows at one place are
 * merged first, so no scan is read twice.
 *
 * Privacy: the answer shows companions masked (name, ID number) with where
 * and how close in time they were, never a phone number; the records it keeps
 * name no case (their record_id is a keyed hash), so a contact learns that
 * they were a close contact and when, never of whom. A companion is a holder
 * of a code that was scanned (a dependent's code counts its holder and the
 * relative who presented it). Thread-safe.
 */
#ifndef SS_CORE_TRACE_H
#define SS_CORE_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/arena.h"
#include "base/err.h"
#include "core/app.h"
#include "core/mask.h"

#define SS_TRACE_SPAN_MAX_DAYS   30     /* the longest span (to - from) a trace may cover */
#define SS_TRACE_WINDOW_DEFAULT  30     /* minutes, when the query gives none */
#define SS_TRACE_WINDOW_MAX      240    /* minutes */
#define SS_TRACE_CASE_SCANS_MAX  5000   /* scans of the case looked at (the first ones in the span) */
#define SS_TRACE_COMPANIONS_MAX  100000 /* companions found (and emitted) at most */
#define SS_TRACE_PLACE_SCANS_MAX 200000 /* scans read around one place's windows at most */
#define SS_TRACE_LIST_MAX        1000   /* companions listed in an answer (the closest first) */

struct ss_trace_query {
	const char *id_number; /* the case */
	int64_t from, to;      /* unix seconds: the case's scans in [from, to] */
	int window_minutes;    /* 0: SS_TRACE_WINDOW_DEFAULT */
	bool emit;             /* keep a close_contact record about each companion */
	int64_t staff_id;      /* who asks (logged) */
};

/* A place where the case's code was scanned. */
struct ss_trace_place {
	int64_t place_id;
	const char *name;  /* in the result's arena */
	int scans;         /* of the case, there */
	int64_t first_ms;  /* the case's first scan there */
	int64_t last_ms;   /* and last */
	size_t companions; /* people found there */
};

/* Someone scanned near the case. Particulars only for the listed ones. */
struct ss_trace_companion {
	int64_t person_id;
	int64_t first_ms;            /* their first scan within a window */
	int64_t closest_ms;          /* their scan closest in time to one of the case's at the same place */
	int64_t gap_ms;              /* how far from that scan of the case */
	int64_t place_id;            /* where that was */
	int scans;                   /* their scans within the windows */
	char name[SS_MASK_MAX];      /* masked; "" unless listed */
	char id_number[SS_MASK_MAX]; /* masked; "" unless listed */
	char division[7];            /* where they are registered; "" unless listed */
};

struct ss_trace_result {
	struct ss_arena arena;
	int64_t case_person_id;
	char case_name[SS_MASK_MAX]; /* masked */
	char case_id[SS_MASK_MAX];   /* masked */
	int64_t from, to;
	int window_minutes;
	size_t case_scans;
	bool case_scans_capped; /* more than SS_TRACE_CASE_SCANS_MAX in the span */
	struct ss_trace_place *places;
	size_t nplaces;
	/* the closest first (gap, then first scan, then person id); the first nlisted carry particulars */
	struct ss_trace_companion *companions;
	size_t ncompanions, nlisted;
	bool capped; /* a limit (companions, scans around a place) was reached: there may be more */
	bool emitted_asked;
	size_t emitted;    /* close_contact records kept */
	size_t duplicates; /* already kept by an earlier trace of the same case and day */
};

/*
 * Runs a trace as of now. SS_INVALID naming the field (id_number, from, to,
 * window_minutes: from after to, a span longer than SS_TRACE_SPAN_MAX_DAYS, a
 * window outside 1..SS_TRACE_WINDOW_MAX); SS_NOT_FOUND (field id_number) if
 * the registry has no such person. With emit, the records and the colours they
 * give are kept in one transaction. out is released with
 * ss_trace_result_release, whatever the result.
 */
enum ss_err ss_trace_run(struct ss_app *app, const struct ss_trace_query *q, int64_t now,
                         struct ss_trace_result *out) SS_MUST;

void ss_trace_result_release(struct ss_trace_result *r);

#endif
