/* scanlog: the group-committing writer of scans (see scanlog.h). */
#include "core/scanlog.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "core/audit.h"
#include "core/codes.h"
#include "core/scene.h"

struct item {
	struct ss_scan_row row;
	ss_scan_done_fn done;
	void *ctx;
};

struct ss_scanlog {
	struct ss_store *store;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	struct item *queue; /* SS_SCANLOG_MAX items */
	size_t n;
	int64_t next_id;
	bool stopping;
};

#define DETAIL_MAX 48

/*
 * Writes a batch of scans and, in the same transaction, an audit entry for
 * each that showed a holder's particulars unmasked (a scene that sees the
 * full name: a hospital), so that such a read is kept exactly when its scan is.
 */
static enum ss_err write_batch(struct ss_store *s, const struct ss_scan_row *rows, size_t n, struct ss_audit_row *reads,
                               char (*details)[DETAIL_MAX])
{
	size_t m = 0;
	for (size_t i = 0; i < n; i++) {
		const struct ss_scan_row *r = &rows[i];
		const struct ss_scene *scene = ss_scene_by_id(r->scene);
		if (r->person_id <= 0 || r->result > SS_RESULT_RED || !scene || !(scene->sees & SS_SEE_NAME))
			continue;
		snprintf(details[m], DETAIL_MAX, "{\"scan_id\":%lld}", (long long)r->scan_id);
		reads[m] = (struct ss_audit_row){.at_ms = r->scanned_at_ms,
		                                 .actor = ss_actor_name(SS_ACTOR_TERMINAL),
		                                 .actor_id = r->terminal_id,
		                                 .action = "scan.unmasked",
		                                 .subject = r->person_id,
		                                 .why = scene->name,
		                                 .unmasked = true,
		                                 .detail = details[m]};
		m++;
	}
	if (m == 0)
		return s->ops->scan_append(s, rows, n);
	enum ss_err err = s->ops->begin(s);
	if (err)
		return err;
	if ((err = s->ops->scan_append(s, rows, n)) || (err = ss_audit_append(s, reads, m))) {
		s->ops->rollback(s);
		return err;
	}
	return s->ops->commit(s);
}

enum ss_err ss_scanlog_write(struct ss_store *s, const struct ss_scan_row *rows, size_t n)
{
	struct ss_audit_row *reads = ss_malloc((n ? n : 1) * sizeof(*reads));
	char(*details)[DETAIL_MAX] = ss_malloc((n ? n : 1) * sizeof(*details));
	enum ss_err err = write_batch(s, rows, n, reads, details);
	free(reads);
	free(details);
	return err;
}

static void *writer(void *arg)
{
	struct ss_scanlog *log = arg;
	struct item *items = ss_malloc(SS_SCANLOG_BATCH * sizeof(*items));
	struct ss_scan_row *rows = ss_malloc(SS_SCANLOG_BATCH * sizeof(*rows));
	struct ss_audit_row *reads = ss_malloc(SS_SCANLOG_BATCH * sizeof(*reads));
	char(*details)[DETAIL_MAX] = ss_malloc(SS_SCANLOG_BATCH * sizeof(*details));

	for (;;) {
		pthread_mutex_lock(&log->lock);
		while (log->n == 0 && !log->stopping)
			pthread_cond_wait(&log->wake, &log->lock);
		if (log->n == 0 && log->stopping) {
			pthread_mutex_unlock(&log->lock);
			break;
		}
		size_t n = log->n < SS_SCANLOG_BATCH ? log->n : SS_SCANLOG_BATCH;
		memcpy(items, log->queue, n * sizeof(*items));
		memmove(log->queue, log->queue + n, (log->n - n) * sizeof(*items));
		log->n -= n;
		pthread_mutex_unlock(&log->lock);

		for (size_t i = 0; i < n; i++)
			rows[i] = items[i].row;
		enum ss_err err = write_batch(log->store, rows, n, reads, details);
		if (err)
			ss_log_error("scan_write_failed", "rows=%zu msg=\"%s\"", n, ss_err_message());
		for (size_t i = 0; i < n; i++)
			items[i].done(items[i].ctx, err);
	}
	free(items);
	free(rows);
	free(reads);
	free(details);
	return NULL;
}

enum ss_err ss_scanlog_start(struct ss_store *s, struct ss_scanlog **out)
{
	int64_t max_id = 0;
	enum ss_err err = s->ops->scan_max_id(s, &max_id);
	if (err)
		return err;
	struct ss_scanlog *log = ss_calloc(1, sizeof(*log));
	log->store = s;
	log->next_id = max_id + 1;
	log->queue = ss_malloc(SS_SCANLOG_MAX * sizeof(*log->queue));
	pthread_mutex_init(&log->lock, NULL);
	pthread_cond_init(&log->wake, NULL);
	if (pthread_create(&log->thread, NULL, writer, log) != 0) {
		free(log->queue);
		free(log);
		return ss_fail(SS_INTERNAL, NULL, "cannot start the scan writer");
	}
	*out = log;
	return SS_OK;
}

void ss_scanlog_stop(struct ss_scanlog *log)
{
	if (!log)
		return;
	pthread_mutex_lock(&log->lock);
	log->stopping = true;
	pthread_cond_signal(&log->wake);
	pthread_mutex_unlock(&log->lock);
	pthread_join(log->thread, NULL);
	pthread_mutex_destroy(&log->lock);
	pthread_cond_destroy(&log->wake);
	free(log->queue);
	free(log);
}

enum ss_err ss_scanlog_append(struct ss_scanlog *log, struct ss_scan_row *rec, ss_scan_done_fn done, void *ctx)
{
	pthread_mutex_lock(&log->lock);
	if (log->n == SS_SCANLOG_MAX || log->stopping) {
		pthread_mutex_unlock(&log->lock);
		return ss_fail(SS_BUSY, NULL, "too many scans waiting to be written; try again");
	}
	rec->scan_id = log->next_id++;
	struct item *it = &log->queue[log->n++];
	it->row = *rec;
	it->row.place = NULL;
	it->done = done;
	it->ctx = ctx;
	if (log->n == 1)
		pthread_cond_signal(&log->wake);
	pthread_mutex_unlock(&log->lock);
	return SS_OK;
}

struct waiter {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	enum ss_err err;
};

static void wake_waiter(void *ctx, enum ss_err err)
{
	struct waiter *w = ctx;
	pthread_mutex_lock(&w->lock);
	w->done = true;
	w->err = err;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
}

enum ss_err ss_scanlog_append_wait(struct ss_scanlog *log, struct ss_scan_row *rec)
{
	struct waiter w = {.done = false};
	pthread_mutex_init(&w.lock, NULL);
	pthread_cond_init(&w.cond, NULL);
	enum ss_err err = ss_scanlog_append(log, rec, wake_waiter, &w);
	if (!err) {
		pthread_mutex_lock(&w.lock);
		while (!w.done)
			pthread_cond_wait(&w.cond, &w.lock);
		pthread_mutex_unlock(&w.lock);
		err = w.err;
	}
	pthread_mutex_destroy(&w.lock);
	pthread_cond_destroy(&w.cond);
	return err;
}
