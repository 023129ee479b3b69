/* reseal: re-sealing stored personal data under the current data key, so old data keys retire (see reseal.h). */
#include "core/reseal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/time.h"
#include "core/audit.h"
#include "store/store.h"

#define WRITE_TRIES 3 /* a batch whose transaction finds the store busy is tried again, then the run stops */

/* The store's sealed columns, named for people and with the use their blobs are sealed for. */
static const struct {
	const char *name, *use;
} columns[SS_SEALED_COLUMNS] = {
#define SS_SEALED_NAME(table, id, column, use) {#table "." #column, use},
        SS_STORE_SEALED(SS_SEALED_NAME)
#undef SS_SEALED_NAME
};

/*
 * Sealed values kept in meta: the audit key's private half. The store's fence
 * does not cover meta; it need not: the audit key is made once, at the first
 * checkpoint, and a rotation is itself audited and checkpointed by the process
 * that made the new key, so the audit key exists before any key can retire.
 */
static const struct {
	const char *key, *use;
} meta_values[] = {{SS_AUDIT_KEY_META, SS_AUDIT_KEY_USE}};

struct change {
	int64_t id;
	struct ss_blob from, to;
};

struct run {
	struct ss_app *app;
	const struct ss_reseal_report *rep;
	enum ss_reseal_pass pass;
	uint32_t old[SS_RESEAL_MAX_OLD];
	int nold;
	int batch;
	/* the batch in hand, of one column */
	const char *name, *use;
	struct ss_arena arena;
	struct change *changes;
	int nchanges;
	int64_t read, last;
	struct ss_reseal_result *out;
};

static bool is_old(const struct run *r, struct ss_blob b)
{
	uint32_t id = ss_keyring_sealed_key_id(b.p, b.n);
	for (int i = 0; i < r->nold; i++)
		if (r->old[i] == id)
			return true;
	return false;
}

/* The new blob of b (allocated from a), or an error naming where it is: a blob that does not open is lost already. */
static enum ss_err reseal(struct run *r, const char *where, int64_t id, struct ss_blob b, struct ss_arena *a,
                          struct ss_blob *to)
{
	uint8_t *p = ss_arena_alloc(a, b.n);
	if (ss_keyring_reseal(r->app->keys, r->use, b.p, b.n, p) != SS_OK)
		return ss_fail(SS_INVALID, NULL,
		               "%s of row %lld does not open under data key %u: it cannot be re-sealed, and the key "
		               "stays",
		               where, (long long)id, ss_keyring_sealed_key_id(b.p, b.n));
	*to = (struct ss_blob){p, b.n};
	return SS_OK;
}

static enum ss_err take(void *ctx, int64_t id, struct ss_blob blob)
{
	struct run *r = ctx;
	r->read++;
	r->last = id;
	if (!is_old(r, blob))
		return SS_OK;
	struct change *c = &r->changes[r->nchanges];
	c->id = id;
	c->from = blob;
	enum ss_err err = reseal(r, r->name, id, blob, &r->arena, &c->to);
	if (!err)
		r->nchanges++;
	return err;
}

/* Writes the batch in one transaction, each blob only if its row is as it was read; *done: how many were. */
static enum ss_err write_batch(struct run *r, enum ss_sealed_column col, int64_t *done)
{
	struct ss_store *s = r->app->store;
	enum ss_err err = SS_BUSY;
	for (int attempt = 0; err == SS_BUSY && attempt < WRITE_TRIES; attempt++) {
		int64_t n = 0;
		if ((err = s->ops->begin(s)))
			continue;
		for (int i = 0; !err && i < r->nchanges; i++) {
			struct change *c = &r->changes[i];
			err = s->ops->sealed_replace(s, col, c->id, c->from, c->to);
			if (err == SS_NOT_FOUND) /* changed meanwhile: whoever changed it sealed it anew */
				err = SS_OK;
			else if (!err)
				n++;
		}
		if (err)
			s->ops->rollback(s);
		else if (!(err = s->ops->commit(s)))
			*done = n;
	}
	return err;
}

static enum ss_err walk_column(struct run *r, enum ss_sealed_column col)
{
	struct ss_store *s = r->app->store;
	int64_t after = 0, rows = 0, resealed = 0;
	enum ss_err err = SS_OK;
	r->name = columns[col].name;
	r->use = columns[col].use;
	for (bool done = false; !err && !done;) {
		int64_t n = 0;
		ss_arena_init(&r->arena);
		r->nchanges = 0;
		r->read = 0;
		err = s->ops->sealed_rows(s, col, after, r->batch, &r->arena, take, r);
		if (!err && r->nchanges)
			err = write_batch(r, col, &n);
		ss_arena_release(&r->arena);
		if (err)
			break;
		rows += r->read;
		resealed += n;
		after = r->last;
		done = r->read < r->batch;
		if (r->rep->progress)
			r->rep->progress(r->rep->ctx, r->pass, r->name, rows, resealed, done);
	}
	if (r->pass == SS_RESEAL_PASS_RESEAL)
		r->out->rows += rows;
	r->out->resealed += resealed;
	return err;
}

/* A sealed value of meta: compared again under the write lock before it is replaced. */
static enum ss_err walk_meta(struct run *r, const char *key, const char *use)
{
	struct ss_store *s = r->app->store;
	struct ss_arena a;
	struct ss_blob from, now, to;
	ss_arena_init(&a);
	r->use = use;
	enum ss_err err = s->ops->meta_get(s, key, &a, &from);
	if (!err && r->pass == SS_RESEAL_PASS_RESEAL)
		r->out->rows++;
	if (err == SS_NOT_FOUND || (!err && !is_old(r, from))) {
		err = SS_OK;
		goto out;
	}
	if (err || (err = reseal(r, key, 0, from, &a, &to)) || (err = s->ops->begin(s)))
		goto out;
	if ((err = s->ops->meta_get(s, key, &a, &now)) || now.n != from.n || memcmp(now.p, from.p, from.n) ||
	    (err = s->ops->meta_set(s, key, to))) {
		s->ops->rollback(s);
		goto out;
	}
	if (!(err = s->ops->commit(s)))
		r->out->resealed++;
out:
	ss_arena_release(&a);
	return err;
}

static enum ss_err walk(struct run *r, enum ss_reseal_pass pass)
{
	enum ss_err err = SS_OK;
	r->pass = pass;
	for (int col = 0; !err && col < SS_SEALED_COLUMNS; col++)
		err = walk_column(r, (enum ss_sealed_column)col);
	for (size_t i = 0; !err && i < sizeof(meta_values) / sizeof(meta_values[0]); i++)
		err = walk_meta(r, meta_values[i].key, meta_values[i].use);
	return err;
}

struct find_old {
	struct run *r;
	uint32_t current;
	int64_t current_since;
};

static enum ss_err find_old(void *ctx, const struct ss_key_row *row)
{
	struct find_old *f = ctx;
	if (strcmp(row->purpose, "data") != 0)
		return SS_OK;
	if ((uint32_t)row->key_id == f->current)
		f->current_since = row->created_at;
	else if ((!strcmp(row->state, "active") || !strcmp(row->state, "retiring")) && f->r->nold < SS_RESEAL_MAX_OLD)
		f->r->old[f->r->nold++] = (uint32_t)row->key_id;
	return SS_OK;
}

/* Sets the state of the old keys in one transaction; with audit, each retirement has its entry. */
static enum ss_err set_state(struct run *r, const char *state, bool audit)
{
	struct ss_store *s = r->app->store;
	enum ss_err err = s->ops->begin(s);
	if (err)
		return err;
	for (int i = 0; !err && i < r->nold; i++) {
		char detail[96];
		snprintf(detail, sizeof(detail), "{\"key_id\":%u,\"purpose\":\"data\",\"resealed_to\":%u}", r->old[i],
		         r->out->current);
		struct ss_audit_event e = {.actor = SS_ACTOR_SYSTEM, .action = "key.retire", .detail = detail};
		if (!(err = s->ops->key_set_state(s, r->old[i], state)) && audit)
			err = ss_audit(r->app, &e);
	}
	if (err) {
		s->ops->rollback(s);
		return err;
	}
	return s->ops->commit(s);
}

/* Waits until the current key is settle seconds old, so that running servers seal under it. */
static void settle(struct run *r, int64_t since)
{
	int64_t left = since + r->rep->settle - ss_time_now();
	if (left <= 0)
		return;
	if (r->rep->waiting)
		r->rep->waiting(r->rep->ctx, r->out->current, left);
	while (ss_time_now() < since + r->rep->settle) {
		struct timespec one = {.tv_sec = 1};
		nanosleep(&one, NULL);
	}
}

enum ss_err ss_reseal_run(struct ss_app *app, const struct ss_reseal_report *rep, struct ss_reseal_result *out)
{
	struct run r = {.app = app, .rep = rep, .out = out, .batch = rep->batch > 0 ? rep->batch : SS_RESEAL_BATCH};
	memset(out, 0, sizeof(*out));
	if (r.batch > SS_RESEAL_BATCH_MAX)
		return ss_fail(SS_INVALID, "batch", "a batch is at most %d rows", SS_RESEAL_BATCH_MAX);
	out->current = ss_keyring_current_id(app->keys, SS_KEY_DATA);
	struct find_old f = {.r = &r, .current = out->current};
	enum ss_err err = app->store->ops->key_each(app->store, find_old, &f);
	if (err || r.nold == 0)
		return err;
	r.changes = ss_malloc((size_t)r.batch * sizeof(*r.changes));
	if ((err = walk(&r, SS_RESEAL_PASS_RESEAL)))
		goto out;
	settle(&r, f.current_since);
	/* from here no new blob names an old key, so what the second walk leaves is all there is */
	if ((err = set_state(&r, "retiring", false)) || (err = walk(&r, SS_RESEAL_PASS_CHECK)) ||
	    (err = set_state(&r, "retired", true)))
		goto out;
	memcpy(out->retired, r.old, sizeof(r.old));
	out->nretired = r.nold;
	for (int i = 0; i < r.nold; i++)
		ss_log_info("key_retired", "key_id=%u purpose=data resealed_to=%u", r.old[i], out->current);
	err = ss_app_reload_keys(app);
out:
	free(r.changes);
	return err;
}
