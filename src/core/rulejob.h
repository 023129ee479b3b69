/*
 * rulejob: applying a rule set as a job. Re-evaluating everyone with records
 * takes about 40 s at a million people, so an application is a job that runs
 * on a thread of its own while the server answers, and whose progress anyone
 * with the job's id can read.
 *
 * A job starts by storing its rule set as the active one and the job itself,
 * state running, in one transaction, and making the set the one the app
 * judges by: from then on every evaluation (a record, an appeal, a review)
 * uses the new set, and the job walks everyone with records in person id
 * order (core/assign.h, ss_assign_walk), each person's write its own small
 * transaction. So a person's colour is always the one either set gives them,
 * and changes as the walk reaches them; those it has reached keep the new
 * set's colour whatever happens after.
 *
 * The job is durable: its place in the walk (the last person id done) and the
 * people done are written at least every SS_RULEJOB_BEAT_MS and every batch,
 * and each change of colour is counted (overall and by district) in the same
 * transaction as the change itself, so the counts are exact however the walk
 * ends. A process that runs a job owns it (a random token per process) and
 * says so with every write; a server stopped with SIGTERM lets go of its job
 * at once, and one killed stops saying so: a job whose owner has been silent
 * for SS_RULEJOB_LEASE_MS is taken over and finished from its place by the
 * next server (ss_rulejob_resume, from its housekeeping) or superseded by the
 * next application. A failed walk leaves the job failed, with why, and the
 * people not reached with their colour until their next evaluation (or the
 * next application).
 *
 * One job at a time, across processes: starting one while another runs and
 * its owner is not silent is SS_CONFLICT, naming it. At the end a rules.apply
 * audit entry says who (the member of staff who started it, or the system for
 * the command line), the version and the counts.
 *
 * Threads: any thread may call these; the app (struct ss_app, rulejobs) owns
 * the one job thread of a process, stopped by ss_app_close.
 */
#ifndef SS_CORE_RULEJOB_H
#define SS_CORE_RULEJOB_H

#include <stdbool.h>
#include <stdint.h>

#include "base/err.h"
#include "core/app.h"
#include "core/assign.h"
#include "core/rules.h"

#define SS_RULEJOB_BEAT_MS  1000  /* a running job's owner writes where it is at least this often */
#define SS_RULEJOB_LEASE_MS 15000 /* an owner silent this long is taken to be gone */

enum ss_rulejob_state { SS_RULEJOB_RUNNING, SS_RULEJOB_DONE, SS_RULEJOB_FAILED };

/* "running", "done", "failed". */
const char *ss_rulejob_state_name(enum ss_rulejob_state s);

/* A job as kept. */
struct ss_rulejob {
	int64_t job_id;
	char version[SS_RULES_MAX_VERSION + 1];
	enum ss_rulejob_state state;
	int64_t started_by;   /* staff id; 0: the command line */
	int64_t started_at;   /* unix seconds */
	int64_t finished_at;  /* unix seconds; 0 while running */
	int64_t people_total; /* everyone with records when it started; -1 until counted */
	int64_t people_done;  /* re-evaluated so far */
	int64_t changed;      /* of them, those whose colour it changed */
	char error[256];      /* failed: why */
	/* the changes of colour it made: changes, and by district (districts, other); its people, now and after are 0
	 */
	struct ss_rules_diff moves;
};

/* The opaque per-process part: the job thread and this process's owner token. */
struct ss_rulejobs;

/* Makes the part of an app (ss_app_open); SS_INTERNAL if no random token can be had. */
enum ss_err ss_rulejobs_new(struct ss_rulejobs **out) SS_MUST;

/* Stops the job thread, if any, after the person it is at (its job is let go, to be resumed), and frees; NULL: no-op.
 */
void ss_rulejobs_free(struct ss_rulejobs *r);

/*
 * Starts applying rules (parsed and checked; the app takes a reference of its
 * own) on behalf of staff_id (0: the command line): stores it and the job,
 * makes it the set the app judges by and, with thread, starts the walk on the
 * job thread and returns at once; without, the caller walks it (ss_rulejob_run).
 * SS_CONFLICT, changing nothing, while another job runs (the message names
 * its id and version). *job_id gets the new job's id.
 */
enum ss_err ss_rulejob_start(struct ss_app *app, struct ss_ruleset *rules, int64_t staff_id, bool thread,
                             int64_t *job_id) SS_MUST;

/*
 * Walks the job job_id (one this process started without a thread) on the
 * calling thread to its end, batch people (0: SS_APPLY_BATCH) read at a time;
 * progress (if not NULL) is called with the job as kept after each write of
 * where it is, and may return false to stop (the job is then let go, running,
 * for a later ss_rulejob_resume). SS_OK when the job is done, stopped or
 * taken over; the walk's error (the job failed) otherwise.
 */
enum ss_err ss_rulejob_run(struct ss_app *app, int64_t job_id, int batch,
                           bool (*progress)(void *ctx, const struct ss_rulejob *job), void *ctx) SS_MUST;

/*
 * Takes over the newest job if it is running and its owner has let go of it
 * or been silent for SS_RULEJOB_LEASE_MS (a server stopped or killed
 * part-way), and finishes it on the job thread. *resumed (if not NULL) tells
 * whether it did. Cheap when there is nothing to do: for the server's
 * housekeeping.
 */
enum ss_err ss_rulejob_resume(struct ss_app *app, bool *resumed) SS_MUST;

/* The job job_id, or with 0 the newest; SS_NOT_FOUND if there is none. */
enum ss_err ss_rulejob_get(struct ss_app *app, int64_t job_id, struct ss_rulejob *out) SS_MUST;

#endif
