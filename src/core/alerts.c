/* alerts: the security watcher (see alerts.h). */
#include "core/alerts.h"

#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "base/time.h"
#include "core/codes.h"
#include "core/pii.h"

#define SLOTS        60    /* a window is counted in SLOTS slots */
#define BATCH        10000 /* rows read per store call */
#define MAX_BATCHES  100   /* per run: a backlog is caught up over several runs */
#define MIN_BASELINE 20    /* scans before the window needed to trust a terminal's earlier share */
#define META_SCANS   "alerts.scans"
#define META_AUDIT   "alerts.audit"

/* The settings the watcher reads from DIR/suishen.conf: key, bounds and the field it sets. */
static const struct {
	const char *key;
	double min, max;
	size_t field;
} SETTINGS[] = {
        {"alerts.probe.window_seconds", 60, 86400, offsetof(struct ss_alert_config, probe_window)},
        {"alerts.probe.min_invalid", 1, 1e9, offsetof(struct ss_alert_config, probe_min_invalid)},
        {"alerts.probe.rate", 0, 1, offsetof(struct ss_alert_config, probe_rate)},
        {"alerts.probe.factor", 1, 1e6, offsetof(struct ss_alert_config, probe_factor)},
        {"alerts.reads.window_seconds", 60, 30 * 86400.0, offsetof(struct ss_alert_config, reads_window)},
        {"alerts.reads.min", 1, 1e9, offsetof(struct ss_alert_config, reads_min)},
        {"alerts.reads.factor", 1, 1e6, offsetof(struct ss_alert_config, reads_factor)},
        {"alerts.login.window_seconds", 60, 86400, offsetof(struct ss_alert_config, login_window)},
        {"alerts.login.failures", 1, 1e9, offsetof(struct ss_alert_config, login_failures)},
};

bool ss_alert_config_has(const char *key)
{
	for (size_t i = 0; i < sizeof(SETTINGS) / sizeof(SETTINGS[0]); i++)
		if (!strcmp(SETTINGS[i].key, key))
			return true;
	return false;
}

enum ss_err ss_alert_config_load(const struct ss_conf *conf, int64_t code_ttl, struct ss_alert_config *out)
{
	struct ss_alert_config c = {
	        .probe_window = 600,
	        .probe_min_invalid = 20,
	        .probe_rate = 0.5,
	        .probe_factor = 4,
	        .shared_lifetime = (double)code_ttl,
	        .reads_window = 86400,
	        .reads_min = 200,
	        .reads_factor = 5,
	        .login_window = 600,
	        .login_failures = 20,
	};
	for (size_t i = 0; i < sizeof(SETTINGS) / sizeof(SETTINGS[0]); i++) {
		double *v = (double *)(void *)((char *)&c + SETTINGS[i].field);
		enum ss_err err = ss_conf_number(conf, SETTINGS[i].key, SETTINGS[i].min, SETTINGS[i].max, v);
		if (err)
			return err;
	}
	*out = c;
	return SS_OK;
}

/* Counts in a sliding window of SLOTS slots of len_ms each. */
struct window {
	int64_t slot[SLOTS]; /* which slot (time / len) each count is for */
	uint32_t n[SLOTS];
};

static void window_add(struct window *w, int64_t len_ms, int64_t t_ms)
{
	int64_t s = t_ms / len_ms;
	int i = (int)(s % SLOTS);
	if (w->slot[i] != s) {
		w->slot[i] = s;
		w->n[i] = 0;
	}
	w->n[i]++;
}

static uint64_t window_sum(const struct window *w, int64_t len_ms, int64_t now_ms)
{
	int64_t s = now_ms / len_ms;
	uint64_t sum = 0;
	for (int i = 0; i < SLOTS; i++)
		if (w->slot[i] > s - SLOTS && w->slot[i] <= s)
			sum += w->n[i];
	return sum;
}

/* What is counted about one subject: a terminal, a code, a source of log-ins, a member of staff. */
struct subject {
	uint64_t k1, k2;
	struct window a, b;            /* terminal: scans, invalid ones; source: failures; staff: reads */
	uint64_t all, bad;             /* terminal: every scan and invalid one seen since the watcher started */
	int64_t place, terminal, t_ms; /* code: where, by which terminal and when first seen */
	int64_t quiet_until;           /* no new alert of this subject before */
};

struct table {
	struct subject *s;
	size_t n, cap;
	uint32_t *slots; /* index + 1; 0 empty */
	size_t nslots;
};

static size_t hash_of(uint64_t k1, uint64_t k2, size_t nslots)
{
	uint64_t h = (k1 * 0x9E3779B97F4A7C15ull) ^ (k2 + 0x632BE59BD9B4E019ull + (k1 << 6));
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	return (size_t)(h ^ (h >> 32)) & (nslots - 1);
}

static void table_rehash(struct table *t, size_t nslots)
{
	free(t->slots);
	t->slots = ss_calloc(nslots, sizeof(*t->slots));
	t->nslots = nslots;
	for (size_t i = 0; i < t->n; i++) {
		size_t h = hash_of(t->s[i].k1, t->s[i].k2, nslots);
		while (t->slots[h])
			h = (h + 1) & (nslots - 1);
		t->slots[h] = (uint32_t)(i + 1);
	}
}

static struct subject *table_get(struct table *t, uint64_t k1, uint64_t k2, bool *fresh)
{
	if (!t->slots)
		table_rehash(t, 1024);
	size_t h = hash_of(k1, k2, t->nslots);
	while (t->slots[h]) {
		struct subject *s = &t->s[t->slots[h] - 1];
		if (s->k1 == k1 && s->k2 == k2) {
			*fresh = false;
			return s;
		}
		h = (h + 1) & (t->nslots - 1);
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 256;
		t->s = ss_realloc(t->s, t->cap * sizeof(*t->s));
	}
	struct subject *s = &t->s[t->n++];
	memset(s, 0, sizeof(*s));
	s->k1 = k1;
	s->k2 = k2;
	t->slots[h] = (uint32_t)t->n;
	if (2 * t->n > t->nslots)
		table_rehash(t, 2 * t->nslots);
	*fresh = true;
	return &t->s[t->n - 1];
}

/* Keeps only the subjects keep() says to, so that the table of codes does not grow without end. */
static void table_prune(struct table *t, bool (*keep)(const struct subject *s, int64_t now_ms, int64_t ms),
                        int64_t now_ms, int64_t ms)
{
	size_t j = 0;
	for (size_t i = 0; i < t->n; i++)
		if (keep(&t->s[i], now_ms, ms))
			t->s[j++] = t->s[i];
	t->n = j;
	if (t->slots)
		table_rehash(t, t->nslots);
}

static void table_release(struct table *t)
{
	free(t->s);
	free(t->slots);
}

struct ss_alerts {
	pthread_mutex_t lock;
	struct ss_alert_config cfg;
	bool started;
	int64_t scan_cursor, audit_cursor;
	struct table terminals, codes, sources, staff;
	/* the run in progress */
	struct ss_app *app;
	int64_t now_ms;
	int raised;
	enum ss_err err;
};

struct ss_alerts *ss_alerts_new(const struct ss_alert_config *cfg)
{
	struct ss_alerts *w = ss_calloc(1, sizeof(*w));
	pthread_mutex_init(&w->lock, NULL);
	w->cfg = *cfg;
	return w;
}

void ss_alerts_free(struct ss_alerts *w)
{
	if (!w)
		return;
	table_release(&w->terminals);
	table_release(&w->codes);
	table_release(&w->sources);
	table_release(&w->staff);
	pthread_mutex_destroy(&w->lock);
	free(w);
}

/* Keeps row (kind, subject, detail and the ids it is about) as an alert raised now, unless the subject is quiet. */
static void raise_alert(struct ss_alerts *w, struct subject *s, int64_t quiet_ms, struct ss_alert_row row)
{
	if (w->err || w->now_ms < s->quiet_until)
		return;
	row.raised_at_ms = w->now_ms;
	w->err = w->app->store->ops->alert_put(w->app->store, &row);
	if (w->err)
		return;
	s->quiet_until = w->now_ms + quiet_ms;
	w->raised++;
	ss_log_warn("alert", "kind=%s subject=%s alert_id=%lld", row.kind, row.subject, (long long)row.alert_id);
}

static int64_t ms(double seconds)
{
	return (int64_t)(seconds * 1000);
}

/* One scan: the terminal's counts, and whether its code was seen elsewhere within its lifetime. */
static enum ss_err on_scan(void *ctx, const struct ss_scan_row *r)
{
	struct ss_alerts *w = ctx;
	const struct ss_alert_config *c = &w->cfg;
	int64_t slot = ms(c->probe_window) / SLOTS;
	bool fresh;
	w->scan_cursor = r->scan_id;

	struct subject *t = table_get(&w->terminals, (uint64_t)r->terminal_id, 0, &fresh);
	bool invalid = r->result == SS_RESULT_INVALID;
	window_add(&t->a, slot, r->scanned_at_ms);
	t->all++;
	if (invalid) {
		window_add(&t->b, slot, r->scanned_at_ms);
		t->bad++;
		uint64_t n = window_sum(&t->a, slot, w->now_ms), bad = window_sum(&t->b, slot, w->now_ms);
		double share = n ? (double)bad / (double)n : 0;
		uint64_t before = t->all > n ? t->all - n : 0, bad_before = t->bad > bad ? t->bad - bad : 0;
		double base = before >= MIN_BASELINE ? (double)bad_before / (double)before : 0;
		if (bad >= c->probe_min_invalid && share >= c->probe_rate && share >= c->probe_factor * base) {
			char subject[48], detail[256];
			snprintf(subject, sizeof(subject), "terminal:%lld", (long long)r->terminal_id);
			snprintf(detail, sizeof(detail),
			         "{\"terminal_id\":%lld,\"place_id\":%lld,\"scans\":%llu,\"invalid\":%llu,\"share\":%."
			         "3f,"
			         "\"share_before\":%.3f,\"window_seconds\":%.0f}",
			         (long long)r->terminal_id, (long long)r->place_id, (unsigned long long)n,
			         (unsigned long long)bad, share, base, c->probe_window);
			raise_alert(w, t, ms(c->probe_window),
			            (struct ss_alert_row){.kind = "probing",
			                                  .subject = subject,
			                                  .detail = detail,
			                                  .place_id = {r->place_id}});
		}
	}
	if (r->person_id > 0 && r->code_fingerprint) {
		/*
		 * A code is its fingerprint (crypto/code.h): two codes of one holder
		 * are two codes, even when issued in the same second or fetched by two
		 * guardians. A scan without one (written before scans kept it) is not
		 * judged: no alert is better than a false one.
		 */
		struct subject *code = table_get(&w->codes, (uint64_t)r->person_id, r->code_fingerprint, &fresh);
		if (fresh) {
			code->place = r->place_id;
			code->terminal = r->terminal_id;
			code->t_ms = r->scanned_at_ms;
		} else if (code->place != r->place_id && r->scanned_at_ms - code->t_ms <= ms(c->shared_lifetime)) {
			char subject[48], detail[400], presenter[40] = "", first[SS_TIME_TEXT], then[SS_TIME_TEXT];
			snprintf(subject, sizeof(subject), "person:%lld", (long long)r->person_id);
			if (r->presenter_id)
				snprintf(presenter, sizeof(presenter), "\"presenter_id\":%lld,",
				         (long long)r->presenter_id);
			ss_time_format(code->t_ms / 1000, first);
			ss_time_format(r->scanned_at_ms / 1000, then);
			snprintf(detail, sizeof(detail),
			         "{\"person_id\":%lld,%s\"places\":[%lld,%lld],\"terminals\":[%lld,%lld],"
			         "\"scanned_at\":[\"%s\",\"%s\"],\"terminal_id\":%lld,\"seconds_apart\":%.1f}",
			         (long long)r->person_id, presenter, (long long)code->place, (long long)r->place_id,
			         (long long)code->terminal, (long long)r->terminal_id, first, then,
			         (long long)r->terminal_id, (double)(r->scanned_at_ms - code->t_ms) / 1000.0);
			raise_alert(w, code, ms(c->shared_lifetime) * 2 + 60000,
			            (struct ss_alert_row){.kind = "shared_code",
			                                  .subject = subject,
			                                  .detail = detail,
			                                  .person_id = r->person_id,
			                                  .presenter_id = r->presenter_id,
			                                  .place_id = {code->place, r->place_id}});
		}
	}
	return w->err;
}

/* One audit entry: failed log-ins by source, reads of people's records by staff. */
static enum ss_err on_entry(void *ctx, const struct ss_audit_row *r)
{
	struct ss_alerts *w = ctx;
	const struct ss_alert_config *c = &w->cfg;
	bool fresh;
	w->audit_cursor = r->seq;
	if (!strcmp(r->action, "login.failed")) {
		/* the source is 16 hex digits (identity.c's keyed hash), or "" when none is known */
		const char *src = strstr(r->detail, "\"source\":\"");
		uint8_t h[8];
		uint64_t key = 0;
		if (!src || !ss_hex_decode(src + 10, strcspn(src + 10, "\""), h, sizeof(h)))
			return SS_OK;
		for (size_t i = 0; i < sizeof(h); i++)
			key = key << 8 | h[i];
		if (!key)
			return SS_OK;
		int64_t slot = ms(c->login_window) / SLOTS;
		struct subject *s = table_get(&w->sources, key, 0, &fresh);
		window_add(&s->a, slot, r->at_ms);
		uint64_t n = window_sum(&s->a, slot, w->now_ms);
		if (n >= c->login_failures) {
			char subject[48], detail[160];
			snprintf(subject, sizeof(subject), "source:%016llx", (unsigned long long)key);
			snprintf(detail, sizeof(detail),
			         "{\"source\":\"%016llx\",\"failures\":%llu,\"window_seconds\":%.0f}",
			         (unsigned long long)key, (unsigned long long)n, c->login_window);
			raise_alert(
			        w, s, ms(c->login_window),
			        (struct ss_alert_row){.kind = "login_failures", .subject = subject, .detail = detail});
		}
	} else if (!strcmp(r->actor, "staff") && r->subject > 0) {
		struct subject *s = table_get(&w->staff, (uint64_t)r->actor_id, 0, &fresh);
		window_add(&s->a, ms(c->reads_window) / SLOTS, r->at_ms);
	}
	return w->err;
}

static int by_value(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return (a > b) - (a < b);
}

/* Staff who read far more than the median of the others who read any. */
static void check_staff(struct ss_alerts *w)
{
	const struct ss_alert_config *c = &w->cfg;
	int64_t slot = ms(c->reads_window) / SLOTS;
	size_t n = w->staff.n, m = 0;
	if (n == 0)
		return;
	uint64_t *counts = ss_malloc(n * sizeof(*counts)), *others = ss_malloc(n * sizeof(*others));
	for (size_t i = 0; i < n; i++)
		counts[i] = window_sum(&w->staff.s[i].a, slot, w->now_ms);
	for (size_t i = 0; i < n && !w->err; i++) {
		if (counts[i] < c->reads_min)
			continue;
		m = 0;
		for (size_t j = 0; j < n; j++)
			if (j != i && counts[j] > 0)
				others[m++] = counts[j];
		qsort(others, m, sizeof(*others), by_value);
		double median = m == 0 ? 0 : m % 2 ? (double)others[m / 2] : (others[m / 2 - 1] + others[m / 2]) / 2.0;
		if ((double)counts[i] <= c->reads_factor * (median > 1 ? median : 1))
			continue;
		struct subject *s = &w->staff.s[i];
		char subject[48], detail[200];
		snprintf(subject, sizeof(subject), "staff:%llu", (unsigned long long)s->k1);
		snprintf(detail, sizeof(detail),
		         "{\"staff_id\":%llu,\"reads\":%llu,\"peers\":%zu,\"peers_median\":%.1f,\"window_seconds\":%."
		         "0f}",
		         (unsigned long long)s->k1, (unsigned long long)counts[i], m, median, c->reads_window);
		raise_alert(w, s, ms(c->reads_window),
		            (struct ss_alert_row){.kind = "staff_reads",
		                                  .subject = subject,
		                                  .detail = detail,
		                                  .staff_id = (int64_t)s->k1});
	}
	free(counts);
	free(others);
}

static bool code_recent(const struct subject *s, int64_t now_ms, int64_t keep_ms)
{
	return s->t_ms >= now_ms - keep_ms;
}

/* A source of failed log-ins with none left in its window and no alert to keep quiet is forgotten. */
static bool source_active(const struct subject *s, int64_t now_ms, int64_t slot_ms)
{
	return s->quiet_until > now_ms || window_sum(&s->a, slot_ms, now_ms) > 0;
}

static enum ss_err cursor_get(struct ss_app *app, const char *key, int64_t *out)
{
	struct ss_arena a;
	struct ss_blob b;
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->meta_get(app->store, key, &a, &b);
	if (!err) {
		char text[24];
		long long v = 0;
		snprintf(text, sizeof(text), "%.*s", (int)(b.n < 23 ? b.n : 23), (const char *)b.p);
		err = ss_str_to_ll(text, 0, INT64_MAX, &v) ? SS_OK : ss_fail(SS_INTERNAL, NULL, "bad %s", key);
		*out = v;
	}
	ss_arena_release(&a);
	return err;
}

static enum ss_err cursor_put(struct ss_app *app, const char *key, int64_t v)
{
	char text[24];
	int n = snprintf(text, sizeof(text), "%lld", (long long)v);
	return app->store->ops->meta_set(app->store, key, (struct ss_blob){(const uint8_t *)text, (size_t)n});
}

/* Where to start: where the last run stopped, else the logs' ends (history is not replayed). */
static enum ss_err start(struct ss_app *app, struct ss_alerts *w)
{
	struct ss_store *s = app->store;
	uint8_t hash[32];
	enum ss_err err = cursor_get(app, META_SCANS, &w->scan_cursor);
	if (err == SS_NOT_FOUND)
		err = s->ops->scan_max_id(s, &w->scan_cursor);
	if (err)
		return err;
	err = cursor_get(app, META_AUDIT, &w->audit_cursor);
	if (err == SS_NOT_FOUND)
		err = s->ops->audit_last(s, &w->audit_cursor, hash);
	return err;
}

enum ss_err ss_alerts_run(struct ss_app *app, struct ss_alerts *w, int64_t now_ms, int *raised)
{
	struct ss_store *s = app->store;
	enum ss_err err = SS_OK;
	pthread_mutex_lock(&w->lock);
	w->app = app;
	w->now_ms = now_ms;
	w->raised = 0;
	w->err = SS_OK;
	if (!w->started) {
		if ((err = start(app, w)))
			goto out;
		w->started = true;
	}
	int64_t scans0 = w->scan_cursor, audit0 = w->audit_cursor;
	for (int i = 0; i < MAX_BATCHES; i++) {
		int64_t before = w->scan_cursor;
		if ((err = s->ops->scans_after(s, w->scan_cursor, BATCH, on_scan, w)))
			goto out;
		if (w->scan_cursor == before)
			break;
	}
	for (int i = 0; i < MAX_BATCHES; i++) {
		struct ss_arena a;
		int64_t before = w->audit_cursor;
		ss_arena_init(&a);
		err = s->ops->audit_each(s, w->audit_cursor, BATCH, &a, on_entry, w);
		ss_arena_release(&a);
		if (err)
			goto out;
		if (w->audit_cursor == before)
			break;
	}
	check_staff(w);
	if ((err = w->err))
		goto out;
	if (w->codes.n > 100000) /* codes older than two lifetimes cannot pair any more */
		table_prune(&w->codes, code_recent, now_ms, 2 * ms(w->cfg.shared_lifetime) + 60000);
	if (w->sources.n > 10000) /* sources are whoever tries: keep only those that count now */
		table_prune(&w->sources, source_active, now_ms, ms(w->cfg.login_window) / SLOTS);
	if ((w->scan_cursor != scans0 && (err = cursor_put(app, META_SCANS, w->scan_cursor))) ||
	    (w->audit_cursor != audit0 && (err = cursor_put(app, META_AUDIT, w->audit_cursor))))
		goto out;
out:
	if (raised)
		*raised = w->raised;
	pthread_mutex_unlock(&w->lock);
	return err;
}

struct listing {
	struct ss_app *app;
	enum ss_err (*fn)(void *ctx, const struct ss_alert_view *v);
	void *ctx;
};

/* Masks the registry particulars sealed (ID number, name, ...: SS_PII_PERSON) into p. */
static void mask_person(struct ss_app *app, struct ss_blob sealed, struct ss_alert_person *p)
{
	struct ss_arena a;
	const char *f[6];
	memset(p, 0, sizeof(*p));
	if (sealed.n == 0)
		return;
	ss_arena_init(&a);
	if (ss_pii_open(app, SS_PII_PERSON, sealed, &a, f, 6) == SS_OK) {
		ss_mask_id(f[0], p->id_number);
		ss_mask_name(f[1], p->name);
		p->known = true;
	}
	ss_arena_release_secret(&a);
}

static enum ss_err on_alert(void *ctx, const struct ss_alert_row *row)
{
	struct listing *l = ctx;
	struct ss_alert_view v = {.row = row};
	mask_person(l->app, row->person_sealed, &v.person);
	mask_person(l->app, row->presenter_sealed, &v.presenter);
	return l->fn(l->ctx, &v);
}

enum ss_err ss_alerts_list(struct ss_app *app, int64_t since_ms, const char *kind, int64_t before, int limit,
                           struct ss_arena *a, enum ss_err (*fn)(void *ctx, const struct ss_alert_view *v), void *ctx)
{
	struct listing l = {.app = app, .fn = fn, .ctx = ctx};
	return app->store->ops->alerts_list(app->store, since_ms, kind, before, limit, a, on_alert, &l);
}
