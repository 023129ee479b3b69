/* rulejob: applying a rule set as a durable job on a thread of its own (see rulejob.h). */
#include "core/rulejob.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "core/audit.h"
#include "core/holders.h"
#include "core/rules.h"
#include "crypto/crypto.h"
#include "json/json.h"

#define COUNT_SPAN 20000 /* person ids counted at a time when a job counts its people (milliseconds each) */

struct ss_rulejobs {
	pthread_mutex_t lock; /* guards the members below but stop */
	struct ss_app *app;   /* of the thread */
	pthread_t thread;
	bool joinable;    /* a thread was started and is not joined yet */
	bool running;     /* it has not ended its walk */
	int64_t job_id;   /* the job it walks */
	atomic_bool stop; /* asks the thread to let go of its job after the person it is at */
	int64_t owner;    /* this process's token: never 0 */
};

static const char *const state_names[] = {"running", "done", "failed"};

const char *ss_rulejob_state_name(enum ss_rulejob_state s)
{
	return state_names[s];
}

enum ss_err ss_rulejobs_new(struct ss_rulejobs **out)
{
	struct ss_rulejobs *r = ss_calloc(1, sizeof(*r));
	while (!r->owner) {
		if (ss_random(&r->owner, sizeof(r->owner))) {
			free(r);
			return ss_fail(SS_INTERNAL, NULL, "cannot make a job owner token");
		}
		r->owner &= INT64_MAX; /* positive, as SQLite keeps it */
	}
	pthread_mutex_init(&r->lock, NULL);
	atomic_init(&r->stop, false);
	*out = r;
	return SS_OK;
}

void ss_rulejobs_free(struct ss_rulejobs *r)
{
	if (!r)
		return;
	atomic_store(&r->stop, true);
	pthread_mutex_lock(&r->lock);
	bool join = r->joinable;
	r->joinable = false;
	pthread_mutex_unlock(&r->lock);
	if (join)
		pthread_join(r->thread, NULL);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static bool is_running(const struct ss_rule_job_row *row)
{
	return !strcmp(row->state, "running");
}

/* Whether this process may take the running job row over: it is its own, let go, or its owner has gone silent. */
static bool may_take(const struct ss_rulejobs *r, const struct ss_rule_job_row *row, int64_t now_ms)
{
	return row->owner == r->owner || row->heartbeat_ms == 0 || now_ms - row->heartbeat_ms >= SS_RULEJOB_LEASE_MS;
}

/* The refusal of an application while job row runs. */
static enum ss_err busy(const struct ss_rule_job_row *row)
{
	return ss_fail(SS_CONFLICT, NULL, "rule set %s is being applied (job %lld); try again when it is done",
	               row->version, (long long)row->job_id);
}

/* The rules.apply audit entry of a job that ended (in the caller's transaction, if one is open). */
static enum ss_err audit_end(struct ss_app *app, const struct ss_rule_job_row *row)
{
	struct ss_buf detail;
	struct ss_jw w;
	ss_buf_init(&detail, 1024);
	ss_jw_init(&w, &detail);
	ss_jw_obj_begin(&w);
	ss_jw_kint(&w, "job_id", row->job_id);
	ss_jw_kstr(&w, "version", row->version);
	ss_jw_kstr(&w, "state", row->state);
	ss_jw_kint(&w, "people", row->people_done);
	ss_jw_kint(&w, "changed", row->changed);
	ss_jw_obj_end(&w);
	enum ss_err err = ss_jw_finish(&w);
	struct ss_audit_event e = {.actor = row->started_by ? SS_ACTOR_STAFF : SS_ACTOR_SYSTEM,
	                           .actor_id = row->started_by,
	                           .action = "rules.apply",
	                           .detail = ss_buf_str(&detail)};
	if (!err)
		err = ss_audit(app, &e);
	ss_buf_release(&detail);
	return err;
}

static void *thread_main(void *arg);

/* Starts the job thread on job_id (r->lock held, no thread running). */
static void spawn(struct ss_rulejobs *r, struct ss_app *app, int64_t job_id)
{
	if (r->joinable) /* a thread that has ended its walk: it is past its last use of r */
		pthread_join(r->thread, NULL);
	r->joinable = false;
	r->app = app;
	r->job_id = job_id;
	atomic_store(&r->stop, false);
	if (pthread_create(&r->thread, NULL, thread_main, r) != 0) {
		/* the job stays running under this owner, and the next ss_rulejob_resume takes it up */
		ss_log_error("rules_job_thread_failed", "job_id=%lld", (long long)job_id);
		return;
	}
	r->joinable = r->running = true;
}

enum ss_err ss_rulejob_start(struct ss_app *app, struct ss_ruleset *rules, int64_t staff_id, bool thread,
                             int64_t *job_id)
{
	struct ss_rulejobs *r = app->rulejobs;
	struct ss_store *s = app->store;
	struct ss_rule_job_row cur;
	struct ss_arena a;
	int64_t now_ms = ss_time_now_ms();
	enum ss_err err;

	ss_arena_init(&a);
	pthread_mutex_lock(&r->lock);
	if ((err = s->ops->begin(s)))
		goto out;
	bool supersede = false;
	err = s->ops->rule_job_get(s, 0, &a, &cur);
	if (err == SS_NOT_FOUND)
		err = SS_OK;
	else if (!err && is_running(&cur)) {
		/* this process's own thread is not silent whatever its store row says */
		if (r->running || !may_take(r, &cur, now_ms))
			err = busy(&cur);
		else
			supersede = true; /* its owner is gone: the new set walks everyone anyway */
	}
	if (!err && r->running) /* its job has just ended, and the thread with it */
		err = ss_fail(SS_CONFLICT, NULL, "job %lld is ending; try again", (long long)r->job_id);
	struct ss_rule_job_row row = {.version = ss_rules_version(rules),
	                              .state = "running",
	                              .started_by = staff_id,
	                              .started_at = now_ms / 1000,
	                              .people_total = -1,
	                              .owner = r->owner,
	                              .heartbeat_ms = now_ms};
	/* the parser refuses NUL bytes, so the text is whole as a C string */
	if (!err)
		err = s->ops->rule_set_put(s, row.version, ss_rules_text(rules), row.started_at);
	if (!err)
		err = s->ops->rule_job_insert(s, &row, job_id);
	if (!err && supersede) {
		int64_t owner = cur.owner;
		cur.state = "failed";
		cur.finished_at = row.started_at;
		cur.heartbeat_ms = 0;
		cur.error = ss_arena_printf(&a, "interrupted, then superseded by job %lld (rule set %s)",
		                            (long long)*job_id, row.version);
		if (!(err = s->ops->rule_job_update(s, &cur, owner)))
			err = audit_end(app, &cur);
	}
	if (err) {
		s->ops->rollback(s);
		goto out;
	}
	if ((err = s->ops->commit(s)))
		goto out;
	ss_log_info("rules_job_started", "job_id=%lld version=%s staff_id=%lld", (long long)*job_id, row.version,
	            (long long)staff_id);
	ss_assign_install(app, rules);
	if (thread)
		spawn(r, app, *job_id);
out:
	pthread_mutex_unlock(&r->lock);
	ss_arena_release(&a);
	return err;
}

/* A walk of one job by this process. */
struct walker {
	struct ss_app *app;
	struct ss_rule_job_row row; /* as last written */
	int64_t done0;              /* row.people_done when this walk began */
	int64_t changed0;           /* and row.changed */
	int64_t written_ms;         /* when row was last written */
	const struct ss_assign_walk *walk;
	bool lost; /* another process took the job over */
	bool (*progress)(void *ctx, const struct ss_rulejob *job);
	void *ctx;
};

/* A write of a job by its owner: SS_CONFLICT means someone else owns it now. */
static enum ss_err owned(struct walker *k, enum ss_err err)
{
	if (err == SS_CONFLICT)
		k->lost = true;
	return err;
}

static void to_job(const struct ss_rule_job_row *row, struct ss_rulejob *out)
{
	memset(out, 0, sizeof(*out));
	out->job_id = row->job_id;
	snprintf(out->version, sizeof(out->version), "%s", row->version);
	out->state = !strcmp(row->state, "done") ? SS_RULEJOB_DONE
	             : is_running(row)           ? SS_RULEJOB_RUNNING
	                                         : SS_RULEJOB_FAILED;
	out->started_by = row->started_by;
	out->started_at = row->started_at;
	out->finished_at = row->finished_at;
	out->people_total = row->people_total;
	out->people_done = row->people_done;
	out->changed = row->changed;
	snprintf(out->error, sizeof(out->error), "%s", row->error);
}

/* Writes where the walk is (w: NULL while counting) and tells progress; *stop if it, or ss_rulejobs_free, says so. */
static enum ss_err report(struct walker *k, const struct ss_assign_walk *w, bool *stop)
{
	if (w) {
		k->row.after = w->after;
		k->row.people_done = k->done0 + w->people;
		k->row.changed = k->changed0 + w->changed;
	}
	k->written_ms = k->row.heartbeat_ms = ss_time_now_ms();
	enum ss_err err = owned(k, k->app->store->ops->rule_job_update(k->app->store, &k->row, k->row.owner));
	if (err)
		return err;
	*stop = atomic_load(&k->app->rulejobs->stop);
	if (k->progress && !*stop) {
		struct ss_rulejob job;
		to_job(&k->row, &job);
		*stop = !k->progress(k->ctx, &job);
	}
	return SS_OK;
}

/* After each person: where the walk is, every batch and at least every SS_RULEJOB_BEAT_MS. */
static enum ss_err done_one(struct ss_assign_walk *w)
{
	struct walker *k = w->ctx;
	if (atomic_load(&k->app->rulejobs->stop)) {
		w->stop = true;
		return SS_OK;
	}
	int batch = w->batch > 0 && w->batch < SS_APPLY_BATCH ? w->batch : SS_APPLY_BATCH;
	if (w->people % batch && ss_time_now_ms() - k->written_ms < SS_RULEJOB_BEAT_MS)
		return SS_OK;
	return report(k, w, &w->stop);
}

/*
 * Counts a change of colour in the transaction that keeps it, and where the
 * walk is with it (this person done): so the job's counts are exact however
 * the walk ends, and never show more people changed than done.
 */
static enum ss_err changing(void *ctx, int64_t person_id, const char *division, int from, int to)
{
	struct walker *k = ctx;
	struct ss_rule_job_row at = k->row;
	at.after = person_id;
	at.people_done = k->done0 + k->walk->people + 1;
	return owned(k, k->app->store->ops->rule_job_change(k->app->store, &at, at.owner, division, from, to));
}

/* The people the job will walk, counted a span of person ids at a time; *stop as for report. */
static enum ss_err count_people(struct walker *k, bool *stop)
{
	struct ss_store *s = k->app->store;
	int64_t max = 0, total = 0;
	enum ss_err err = s->ops->person_max_id(s, &max);
	for (int64_t from = 0; !err && from < max && !*stop; from += COUNT_SPAN) {
		int64_t n = 0;
		if ((err = s->ops->record_people_count(s, from, from + COUNT_SPAN, &n)))
			break;
		total += n;
		*stop = atomic_load(&k->app->rulejobs->stop);
		if (!*stop && ss_time_now_ms() - k->written_ms >= SS_RULEJOB_BEAT_MS)
			err = report(k, NULL, stop);
	}
	if (!err && !*stop) {
		k->row.people_total = total;
		err = report(k, NULL, stop);
	}
	return err;
}

/* Takes job_id for this process (in one transaction) into k->row, copied to a. */
static enum ss_err take(struct ss_app *app, int64_t job_id, struct ss_arena *a, struct ss_rule_job_row *row)
{
	struct ss_store *s = app->store;
	int64_t now_ms = ss_time_now_ms();
	enum ss_err err = s->ops->begin(s);
	if (err)
		return err;
	if ((err = s->ops->rule_job_get(s, job_id, a, row)))
		goto fail;
	if (!is_running(row)) {
		err = ss_fail(SS_CONFLICT, NULL, "job %lld is %s", (long long)job_id, row->state);
		goto fail;
	}
	if (!may_take(app->rulejobs, row, now_ms)) {
		err = busy(row);
		goto fail;
	}
	int64_t owner = row->owner;
	row->owner = app->rulejobs->owner;
	row->heartbeat_ms = now_ms;
	if ((err = s->ops->rule_job_update(s, row, owner)))
		goto fail;
	return s->ops->commit(s);
fail:
	s->ops->rollback(s);
	return err;
}

/* Ends the job as state (error: why it failed), with its audit entry, in one transaction. */
static enum ss_err finish(struct walker *k, const char *state, const char *error)
{
	struct ss_store *s = k->app->store;
	k->row.state = state;
	k->row.finished_at = ss_time_now();
	k->row.heartbeat_ms = 0;
	k->row.error = error ? error : "";
	enum ss_err err = s->ops->begin(s);
	if (err)
		return err;
	if ((err = owned(k, s->ops->rule_job_update(s, &k->row, k->row.owner))) || (err = audit_end(k->app, &k->row))) {
		s->ops->rollback(s);
		return err;
	}
	return s->ops->commit(s);
}

enum ss_err ss_rulejob_run(struct ss_app *app, int64_t job_id, int batch,
                           bool (*progress)(void *ctx, const struct ss_rulejob *job), void *ctx)
{
	struct walker k = {.app = app, .progress = progress, .ctx = ctx};
	struct ss_assign_walk w = {.batch = batch, .ctx = &k, .changing = changing, .done_one = done_one};
	struct ss_arena a;
	struct ss_ruleset *rules = NULL;
	bool stop = false;
	char why[256] = "";
	enum ss_err err;

	k.walk = &w;
	ss_arena_init(&a);
	if ((err = take(app, job_id, &a, &k.row)))
		goto out;
	k.done0 = k.row.people_done;
	k.changed0 = k.row.changed;
	k.written_ms = k.row.heartbeat_ms;
	ss_log_info("rules_job_walking", "job_id=%lld version=%s after=%lld done=%lld", (long long)job_id,
	            k.row.version, (long long)k.row.after, (long long)k.row.people_done);
	/* the set is the one the job stored: another process's, if it started the job, is followed first */
	if (!(err = ss_assign_follow_rules(app, NULL)) && !(err = ss_assign_rules(app, &rules)) &&
	    strcmp(ss_rules_version(rules), k.row.version) != 0)
		err = ss_fail(SS_CONFLICT, NULL, "rule set %s is in force, not this job's", ss_rules_version(rules));
	if (!err && k.row.people_total < 0)
		err = count_people(&k, &stop);
	w.after = k.row.after;
	if (!err && !stop)
		err = ss_assign_walk(app, ss_time_now(), &w);
	if (err)
		snprintf(why, sizeof(why), "%s", ss_err_message());
	k.row.after = w.after;
	k.row.people_done = k.done0 + w.people;
	k.row.changed = k.changed0 + w.changed;
	if (k.lost) {
		ss_log_warn("rules_job_lost", "job_id=%lld (taken over by another process)", (long long)job_id);
		err = SS_OK;
	} else if (err) {
		ss_log_error("rules_job_failed", "job_id=%lld done=%lld msg=\"%s\"", (long long)job_id,
		             (long long)k.row.people_done, why);
		if (finish(&k, "failed", why))
			ss_log_error("rules_job_finish_failed", "job_id=%lld msg=\"%s\"", (long long)job_id,
			             ss_err_message());
		err = ss_fail(err, NULL, "%s", why);
	} else if (stop || w.stop) {
		/* let go: the next server to start (or this one, later) takes it up from here at once */
		k.row.heartbeat_ms = 0;
		if ((err = owned(&k, app->store->ops->rule_job_update(app->store, &k.row, k.row.owner))))
			goto out;
		ss_log_info("rules_job_paused", "job_id=%lld done=%lld", (long long)job_id,
		            (long long)k.row.people_done);
	} else if (!(err = finish(&k, "done", NULL))) {
		ss_log_info("rules_applied", "job_id=%lld version=%s people=%lld changed=%lld", (long long)job_id,
		            k.row.version, (long long)k.row.people_done, (long long)k.row.changed);
		if (progress) {
			struct ss_rulejob job;
			to_job(&k.row, &job);
			(void)progress(ctx, &job);
		}
	}
out:
	ss_rules_free(rules);
	ss_arena_release(&a);
	return err;
}

static void *thread_main(void *arg)
{
	struct ss_rulejobs *r = arg;
	pthread_mutex_lock(&r->lock);
	struct ss_app *app = r->app;
	int64_t job_id = r->job_id;
	pthread_mutex_unlock(&r->lock);
	if (ss_rulejob_run(app, job_id, 0, NULL, NULL) != SS_OK)
		ss_log_warn("rules_job_ended", "job_id=%lld msg=\"%s\"", (long long)job_id, ss_err_message());
	pthread_mutex_lock(&r->lock);
	r->running = false;
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

enum ss_err ss_rulejob_resume(struct ss_app *app, bool *resumed)
{
	struct ss_rulejobs *r = app->rulejobs;
	struct ss_rule_job_row row;
	struct ss_arena a;
	if (resumed)
		*resumed = false;
	ss_arena_init(&a);
	pthread_mutex_lock(&r->lock);
	enum ss_err err = SS_OK;
	if (!r->running) {
		err = app->store->ops->rule_job_get(app->store, 0, &a, &row);
		if (err == SS_NOT_FOUND)
			err = SS_OK;
		else if (!err && is_running(&row) && may_take(r, &row, ss_time_now_ms())) {
			ss_log_info("rules_job_resumed", "job_id=%lld version=%s done=%lld", (long long)row.job_id,
			            row.version, (long long)row.people_done);
			spawn(r, app, row.job_id);
			if (resumed)
				*resumed = r->running;
		}
	}
	pthread_mutex_unlock(&r->lock);
	ss_arena_release(&a);
	return err;
}

static void add_moves(void *ctx, const char *division, int from, int to, int64_t n)
{
	if (from >= SS_GREEN && from <= SS_RED && to >= SS_GREEN && to <= SS_RED && from != to)
		ss_rules_diff_add_moves(ctx, division, from, to, n);
}

enum ss_err ss_rulejob_get(struct ss_app *app, int64_t job_id, struct ss_rulejob *out)
{
	struct ss_rule_job_row row;
	struct ss_arena a;
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->rule_job_get(app->store, job_id, &a, &row);
	if (err == SS_NOT_FOUND)
		err = job_id ? ss_fail(SS_NOT_FOUND, NULL, "no job %lld", (long long)job_id)
		             : ss_fail(SS_NOT_FOUND, NULL, "no rule set has been applied yet");
	if (!err) {
		to_job(&row, out);
		err = app->store->ops->rule_job_changes(app->store, row.job_id, add_moves, &out->moves);
	}
	ss_arena_release(&a);
	return err;
}
