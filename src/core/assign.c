/* assign: a person's records and the active rule set make their colour (see assign.h). */
#include "core/assign.h"

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
#include "core/records.h"
#include "core/rules.h"
#include "json/json.h"

/* A person with more records than this is refused rather than exhausting memory (none comes near). */
#define MAX_RECORDS    100000
#define MAX_FIRED_JSON (64 * 1024)

/* Makes rs (taken) the active rule set; the one it replaces is freed once no evaluation holds it. */
static void install(struct ss_app *app, struct ss_ruleset *rs)
{
	pthread_mutex_lock(&app->rules_lock);
	struct ss_ruleset *old = app->rules;
	app->rules = rs;
	pthread_mutex_unlock(&app->rules_lock);
	ss_rules_free(old);
}

/*
 * Makes rs (taken) the active rule set only if the active one is still
 * expected: a set read from the store must not replace one installed
 * meanwhile by another thread. false (rs freed) if it was not installed.
 */
static bool install_if(struct ss_app *app, const struct ss_ruleset *expected, struct ss_ruleset *rs)
{
	pthread_mutex_lock(&app->rules_lock);
	struct ss_ruleset *old = app->rules;
	bool swap = old == expected;
	if (swap)
		app->rules = rs;
	pthread_mutex_unlock(&app->rules_lock);
	ss_rules_free(swap ? old : rs);
	return swap;
}

/* A reference to the active rule set (NULL if none is loaded yet); drop it with ss_rules_free. */
static struct ss_ruleset *active(struct ss_app *app)
{
	pthread_mutex_lock(&app->rules_lock);
	struct ss_ruleset *rs = app->rules ? ss_rules_ref(app->rules) : NULL;
	pthread_mutex_unlock(&app->rules_lock);
	return rs;
}

enum ss_err ss_assign_load_rules(struct ss_app *app)
{
	struct ss_store *s = app->store;
	struct ss_arena a;
	const char *version = NULL, *text = NULL;
	struct ss_ruleset *rs = active(app);
	enum ss_err err;

	if (rs) {
		ss_rules_free(rs);
		return SS_OK;
	}
	ss_arena_init(&a);
	err = s->ops->rule_set_active(s, &a, &version, &text);
	if (err == SS_NOT_FOUND) {
		/* a new data directory: the compiled-in default becomes its first rule set */
		if ((err = ss_rules_parse(ss_default_rules, strlen(ss_default_rules), &rs, NULL, NULL))) {
			err = ss_fail(SS_INTERNAL, NULL, "the default rule set does not parse");
			goto out;
		}
		if ((err = s->ops->rule_set_put(s, ss_rules_version(rs), ss_default_rules, ss_time_now())))
			goto out;
		ss_log_info("rules_stored", "version=%s default=1", ss_rules_version(rs));
	} else if (!err && ss_rules_parse(text, strlen(text), &rs, NULL, NULL)) {
		ss_log_error("rules_corrupt", "version=%s", version);
		err = ss_fail(SS_INTERNAL, NULL, "the stored rule set '%s' does not parse", version);
	}
	if (!err) {
		ss_log_info("rules_loaded", "version=%s rules=%zu", ss_rules_version(rs), ss_rules_count(rs));
		(void)install_if(app, NULL, rs); /* unless another thread loaded one meanwhile (then rs is freed) */
		rs = NULL;
	}
out:
	ss_rules_free(rs);
	ss_arena_release(&a);
	return err;
}

enum ss_err ss_assign_rules(struct ss_app *app, struct ss_ruleset **out)
{
	enum ss_err err = ss_assign_load_rules(app);
	*out = err ? NULL : active(app);
	return err;
}

enum ss_err ss_assign_follow_rules(struct ss_app *app, bool *changed)
{
	struct ss_arena a;
	const char *version, *text;
	struct ss_ruleset *rs = NULL, *now = active(app);
	if (changed)
		*changed = false;
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->rule_set_active(app->store, &a, &version, &text);
	if (err == SS_NOT_FOUND) /* none stored yet: the default is stored at first use */
		err = SS_OK;
	/* the text, not the version: a file may be stored again under the same version with other rules */
	else if (!err && (!now || strcmp(text, ss_rules_text(now)) != 0)) {
		if (ss_rules_parse(text, strlen(text), &rs, NULL, NULL)) {
			ss_log_error("rules_corrupt", "version=%s", version);
			err = ss_fail(SS_INTERNAL, NULL, "the stored rule set '%s' does not parse", version);
		} else if (install_if(app, now, rs)) {
			ss_log_info("rules_followed", "version=%s", version);
			if (changed)
				*changed = true;
		}
	}
	ss_rules_free(now);
	ss_arena_release(&a);
	return err;
}

void ss_assign_install(struct ss_app *app, struct ss_ruleset *rules)
{
	ss_log_info("rules_stored", "version=%s rules=%zu", ss_rules_version(rules), ss_rules_count(rules));
	install(app, ss_rules_ref(rules));
}

/* Stores rs (the caller's) as the active rule set and makes it app->rules (taking a reference of its own). */
static enum ss_err store_rules(struct ss_app *app, struct ss_ruleset *rs)
{
	/* the parser refuses NUL bytes, so the text is whole as a C string */
	enum ss_err err =
	        app->store->ops->rule_set_put(app->store, ss_rules_version(rs), ss_rules_text(rs), ss_time_now());
	if (!err)
		ss_assign_install(app, rs);
	return err;
}

enum ss_err ss_assign_set_rules(struct ss_app *app, const char *text, size_t n,
                                void (*report)(void *ctx, long line, const char *message), void *ctx, char *version,
                                size_t size)
{
	struct ss_ruleset *rs = NULL;
	enum ss_err err = ss_rules_parse(text, n, &rs, report, ctx);
	if (!err)
		err = store_rules(app, rs);
	if (!err && version && size)
		snprintf(version, size, "%s", ss_rules_version(rs));
	ss_rules_free(rs);
	return err;
}

struct gather {
	struct ss_rule_record *recs;
	size_t n, cap;
};

static enum ss_err take_record(void *ctx, const struct ss_record *r)
{
	struct gather *g = ctx;
	int kind;
	if (g->n == MAX_RECORDS)
		return ss_fail(SS_TOO_BIG, NULL, "more than %d records about one person", MAX_RECORDS);
	if (!ss_rule_kind_parse(ss_record_kind_name(r->kind), &kind))
		return SS_OK; /* a kind the rules do not know: no rule can use it */
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 16;
		g->recs = ss_realloc(g->recs, g->cap * sizeof(*g->recs));
	}
	struct ss_rule_record *o = &g->recs[g->n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->occurred_at = r->occurred_at;
	switch (r->kind) {
	case SS_RECORD_RISK_AREA_VISIT:
		o->area = r->attr.risk_area_visit.area;
		o->level = r->attr.risk_area_visit.level == SS_RISK_HIGH     ? SS_LEVEL_HIGH
		           : r->attr.risk_area_visit.level == SS_RISK_MEDIUM ? SS_LEVEL_MEDIUM
		                                                             : SS_LEVEL_LOW;
		break;
	case SS_RECORD_TEST_RESULT:
		o->result = r->attr.test_result.positive ? SS_RESULT_POSITIVE : SS_RESULT_NEGATIVE;
		break;
	case SS_RECORD_VACCINATION:
		o->dose = r->attr.vaccination.dose;
		break;
	case SS_RECORD_INBOUND_TRAVEL:
		o->origin = r->attr.inbound_travel.origin;
		break;
	case SS_RECORD_HEALTH_DECLARATION:
		o->temperature = r->attr.health_declaration.temperature;
		o->symptoms = (int)r->attr.health_declaration.nsymptoms;
		break;
	case SS_RECORD_TRIP_DECLARATION:
		o->places = (int)r->attr.trip_declaration.nplaces;
		break;
	case SS_RECORD_MANUAL_OVERRIDE:
		o->color = r->attr.manual_override.color;
		o->until = r->attr.manual_override.until;
		break;
	default:
		break;
	}
	return SS_OK;
}

static void record_ref(struct ss_jw *w, const struct ss_rule_record *r)
{
	ss_jw_obj_begin(w);
	ss_jw_kstr(w, "kind", ss_rule_kind_name(r->kind));
	ss_jw_ktime(w, "occurred_at", r->occurred_at);
	ss_jw_obj_end(w);
}

#define OVERRIDE_ZH "人工赋码"
#define OVERRIDE_EN "Colour set by hand"
#define GREEN_ZH    "无风险记录"

/* The fired rules of one colour, each {"rule","text_zh","text_en","records"}, as elements of the array being written.
 */
static void fired_of_color(struct ss_jw *w, const struct ss_rule_verdict *v, const struct ss_rule_record *recs,
                           int color)
{
	for (size_t i = 0; i < v->nfired; i++) {
		const struct ss_rule_fired *f = &v->fired[i];
		if (f->color != color)
			continue;
		ss_jw_obj_begin(w);
		ss_jw_kstr(w, "rule", f->id);
		ss_jw_kstr(w, "text_zh", f->reason_zh);
		ss_jw_kstr(w, "text_en", f->reason_en);
		ss_jw_key(w, "records");
		ss_jw_arr_begin(w);
		record_ref(w, &recs[f->trigger]);
		for (size_t j = 0; j < f->nagainst; j++)
			record_ref(w, &recs[f->against[j]]);
		ss_jw_arr_end(w);
		ss_jw_obj_end(w);
	}
}

/*
 * The verdict's reasons as the JSON kept with the status (kinds and dates of
 * records only): the reasons that decide the colour now. Those are the rules
 * of that colour that fired (a yellow rule that fired beside a red one does
 * not decide a red colour; review_at says when it will), or, while an
 * override holds, the override alone, saying what it overrides: the colour
 * the rules give and their reasons for it.
 */
static enum ss_err fired_json(const struct ss_rule_verdict *v, const struct ss_rule_record *recs, struct ss_buf *out)
{
	struct ss_jw w;
	ss_jw_init(&w, out);
	ss_jw_arr_begin(&w);
	if (v->overridden) {
		ss_jw_obj_begin(&w);
		ss_jw_kstr(&w, "rule", "manual_override");
		/*
		 * The reason its maker gave is personal (health) data: it stays in the
		 * sealed record, and is opened from there when shown (core/status.h).
		 */
		ss_jw_kstr(&w, "text_zh", OVERRIDE_ZH);
		ss_jw_kstr(&w, "text_en", OVERRIDE_EN);
		ss_jw_ktime(&w, "until", recs[v->override].until);
		ss_jw_key(&w, "records");
		ss_jw_arr_begin(&w);
		record_ref(&w, &recs[v->override]);
		ss_jw_arr_end(&w);
		ss_jw_key(&w, "overrides");
		ss_jw_obj_begin(&w);
		ss_jw_kstr(&w, "color", ss_color_name(v->rules_color));
		ss_jw_key(&w, "reasons");
		ss_jw_arr_begin(&w);
		fired_of_color(&w, v, recs, v->rules_color);
		ss_jw_arr_end(&w);
		ss_jw_obj_end(&w);
		ss_jw_obj_end(&w);
	} else {
		fired_of_color(&w, v, recs, v->color);
	}
	ss_jw_arr_end(&w);
	return ss_jw_finish(&w);
}

/*
 * ss_assign_person, also telling the colour before (the stored one, green if
 * none) and after; within (if not NULL) is called in the transaction that
 * keeps a new status, so that what it writes is kept with it or not at all.
 */
static enum ss_err assign(struct ss_app *app, const uint8_t idx[SS_INDEX_LEN], int64_t person_id, int64_t now,
                          bool *changed, int *from, int *to, enum ss_err (*within)(void *ctx, int from, int to),
                          void *ctx)
{
	struct ss_store *s = app->store;
	struct gather g = {0};
	struct ss_arena a;
	struct ss_buf fired;
	struct ss_rule_verdict v;
	struct ss_status_row old;
	enum ss_err err;

	if (changed)
		*changed = false;
	if ((err = ss_assign_load_rules(app)))
		return err;
	struct ss_ruleset *rules = active(app); /* held while its verdict is used, whatever another thread installs */
	ss_arena_init(&a);
	ss_buf_init(&fired, MAX_FIRED_JSON);
	if ((err = ss_records_of_person(app, idx, &a, take_record, &g)))
		goto out;
	ss_rules_evaluate(rules, g.recs, g.n, now, &v);
	if ((err = fired_json(&v, g.recs, &fired)))
		goto out;

	bool had = true;
	err = s->ops->status_get(s, person_id, &a, &old);
	if (err == SS_NOT_FOUND) {
		had = false;
		err = SS_OK;
	}
	if (err)
		goto out;
	*from = had ? old.color : SS_GREEN;
	*to = v.color;
	if (had ? old.color == v.color && strcmp(old.fired, ss_buf_str(&fired)) == 0 && old.review_at == v.review_at
	        : v.color == SS_GREEN && !v.overridden && v.nfired == 0)
		goto out; /* nothing new to say */

	const char *rule = "green", *reason = GREEN_ZH;
	if (v.overridden) {
		rule = "manual_override";
		reason = OVERRIDE_ZH;
	} else if (v.nfired) {
		rule = v.fired[0].id;
		reason = v.fired[0].reason_zh;
	}
	struct ss_status_row row = {
	        .person_id = person_id,
	        .color = v.color,
	        .since = had && old.color == v.color ? old.since : now,
	        .rule = rule,
	        .reason = reason,
	        .review_at = v.review_at,
	        .rule_set = ss_rules_version(rules),
	        .fired = ss_buf_str(&fired),
	};
	/* the change and its audit entry (the cause: the rules that fired, or an override), together */
	struct ss_buf detail;
	struct ss_jw w;
	ss_buf_init(&detail, 4096);
	ss_jw_init(&w, &detail);
	ss_jw_obj_begin(&w);
	ss_jw_kstr(&w, "from", ss_color_name(*from));
	ss_jw_kstr(&w, "to", ss_color_name(row.color));
	ss_jw_kstr(&w, "rule", rule);
	ss_jw_kstr(&w, "rule_set", row.rule_set);
	ss_jw_obj_end(&w);
	err = ss_jw_finish(&w);
	struct ss_audit_event e = {.actor = SS_ACTOR_SYSTEM,
	                           .action = "status.change",
	                           .subject = person_id,
	                           .detail = ss_buf_str(&detail)};
	if (err || (err = s->ops->begin(s))) {
		ss_buf_release(&detail);
		goto out;
	}
	if ((err = s->ops->status_put(s, &row)) || (err = ss_audit(app, &e)) ||
	    (within && (err = within(ctx, *from, row.color))))
		s->ops->rollback(s);
	else
		err = s->ops->commit(s);
	ss_buf_release(&detail);
	if (err)
		goto out;
	if (app->holders)
		ss_holders_set_color(app->holders, person_id, row.color, row.since);
	if (changed)
		*changed = true;
	ss_log_info("status_assigned", "person_id=%lld color=%s rule=%s review_at=%lld", (long long)person_id,
	            ss_color_name(row.color), rule, (long long)row.review_at);
out:
	free(g.recs);
	ss_buf_release(&fired);
	ss_arena_release_secret(&a);
	ss_rules_free(rules);
	return err;
}

enum ss_err ss_assign_person(struct ss_app *app, const uint8_t idx[SS_INDEX_LEN], int64_t person_id, int64_t now,
                             bool *changed)
{
	int from, to;
	return assign(app, idx, person_id, now, changed, &from, &to, NULL, NULL);
}

void ss_assign_resync(struct ss_app *app, int64_t person_id)
{
	struct ss_status_row row;
	struct ss_arena a;
	if (!app->holders || person_id <= 0)
		return;
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->status_get(app->store, person_id, &a, &row);
	if (err == SS_NOT_FOUND)
		ss_holders_set_color(app->holders, person_id, SS_GREEN, 0);
	else if (!err)
		ss_holders_set_color(app->holders, person_id, row.color, row.since);
	else
		ss_log_error("resync_failed", "person_id=%lld msg=\"%s\"", (long long)person_id, ss_err_message());
	ss_arena_release(&a);
}

enum ss_err ss_assign_by_index(struct ss_app *app, const uint8_t idx[SS_INDEX_LEN], int64_t now, bool *changed)
{
	struct ss_person_row person;
	struct ss_arena a;
	if (changed)
		*changed = false;
	ss_arena_init(&a);
	enum ss_err err = app->store->ops->person_get(app->store, idx, &a, &person);
	ss_arena_release(&a);
	if (err == SS_NOT_FOUND)
		return SS_OK; /* not in the registry: the records wait until the person is */
	if (err)
		return err;
	return ss_assign_person(app, idx, person.person_id, now, changed);
}

struct due {
	struct ss_app *app;
	int64_t now;
	int count;
};

static enum ss_err review_one(void *ctx, int64_t person_id, const uint8_t idx[SS_INDEX_LEN])
{
	struct due *d = ctx;
	bool changed = false;
	enum ss_err err = ss_assign_person(d->app, idx, person_id, d->now, &changed);
	d->count += changed;
	return err;
}

enum ss_err ss_assign_due(struct ss_app *app, int64_t now, int *changed)
{
	struct due d = {app, now, 0};
	enum ss_err err = SS_OK;
	/* rounds of up to 256 people, while the last round changed someone (then they are no longer due) */
	for (int round = 0; round < 1000; round++) {
		int before = d.count;
		err = app->store->ops->statuses_due(app->store, now, 256, review_one, &d);
		if (err || d.count == before)
			break;
	}
	if (changed)
		*changed = d.count;
	return err;
}

/* The colour candidate gives the person with the blind index idx as of now. */
static enum ss_err evaluate(struct ss_app *app, const struct ss_ruleset *candidate, const uint8_t idx[SS_INDEX_LEN],
                            int64_t now, int *color)
{
	struct gather g = {0};
	struct ss_arena a;
	struct ss_rule_verdict v;
	ss_arena_init(&a);
	enum ss_err err = ss_records_of_person(app, idx, &a, take_record, &g);
	if (!err) {
		ss_rules_evaluate(candidate, g.recs, g.n, now, &v);
		*color = v.color;
	}
	free(g.recs);
	ss_arena_release_secret(&a);
	return err;
}

static bool valid_color(int c)
{
	return c >= SS_GREEN && c <= SS_RED;
}

/* The district entry for division, added if there is room; NULL when the table is full. */
static struct ss_rules_district *district(struct ss_rules_diff *d, const char *division)
{
	for (size_t i = 0; i < d->ndistricts; i++)
		if (!strcmp(d->districts[i].division, division))
			return &d->districts[i];
	if (d->ndistricts == SS_DIFF_MAX_DISTRICTS)
		return NULL;
	struct ss_rules_district *e = &d->districts[d->ndistricts++];
	memset(e, 0, sizeof(*e));
	snprintf(e->division, sizeof(e->division), "%s", division);
	return e;
}

void ss_rules_diff_add_moves(struct ss_rules_diff *d, const char *division, int from, int to, int64_t n)
{
	d->changes[from][to] += n;
	struct ss_rules_district *e = district(d, division);
	if (!e) {
		e = &d->other;
		d->has_other = true;
	}
	e->changes[from][to] += n;
}

/* Counts one person moving from a colour to another (or keeping it). */
static void count(struct ss_rules_diff *d, const char *division, int from, int to)
{
	d->people++;
	d->now[from]++;
	d->after[to]++;
	if (from == to)
		d->changes[from][to]++;
	else
		ss_rules_diff_add_moves(d, division, from, to, 1);
}

struct walk {
	struct ss_app *app;
	const struct ss_ruleset *candidate;
	struct ss_rules_diff *diff;
	int64_t now, last;
};

static enum ss_err diff_one(void *ctx, int64_t person_id, const uint8_t idx[SS_INDEX_LEN], const char *division)
{
	struct walk *w = ctx;
	struct ss_store *s = w->app->store;
	struct ss_status_row old;
	struct ss_arena a;
	int from = SS_GREEN, to = SS_GREEN;
	w->last = person_id;
	ss_arena_init(&a);
	enum ss_err err = s->ops->status_get(s, person_id, &a, &old);
	if (!err)
		from = old.color;
	else if (err == SS_NOT_FOUND)
		err = SS_OK;
	ss_arena_release(&a);
	if (!err)
		err = evaluate(w->app, w->candidate, idx, w->now, &to);
	if (!err && (!valid_color(from) || !valid_color(to)))
		err = ss_fail(SS_INTERNAL, NULL, "person %lld has no valid colour", (long long)person_id);
	if (!err)
		count(w->diff, division, from, to);
	return err;
}

static int by_division(const void *a, const void *b)
{
	return strcmp(((const struct ss_rules_district *)a)->division, ((const struct ss_rules_district *)b)->division);
}

enum ss_err ss_assign_diff(struct ss_app *app, const struct ss_ruleset *candidate, int64_t now,
                           struct ss_rules_diff *out)
{
	struct walk w = {.app = app, .candidate = candidate, .diff = out, .now = now};
	enum ss_err err;
	memset(out, 0, sizeof(*out));
	for (;;) {
		int64_t before = out->people;
		if ((err = app->store->ops->record_people_each(app->store, w.last, SS_APPLY_BATCH, diff_one, &w)))
			return err;
		if (out->people - before < SS_APPLY_BATCH)
			break;
	}
	qsort(out->districts, out->ndistricts, sizeof(out->districts[0]), by_division);
	return SS_OK;
}

int64_t ss_rules_diff_changed(const struct ss_rules_diff *d)
{
	int64_t n = 0;
	for (int from = 0; from < 3; from++)
		for (int to = 0; to < 3; to++)
			if (from != to)
				n += d->changes[from][to];
	return n;
}

struct walking {
	struct ss_app *app;
	struct ss_assign_walk *w;
	int64_t now;
	int64_t person_id;    /* the person being re-evaluated */
	const char *division; /* and where they are registered */
};

/* Inside the transaction that keeps a person's new status. */
static enum ss_err moving(void *ctx, int from, int to)
{
	struct walking *k = ctx;
	return from != to && k->w->changing ? k->w->changing(k->w->ctx, k->person_id, k->division, from, to) : SS_OK;
}

static enum ss_err walk_one(void *ctx, int64_t person_id, const uint8_t idx[SS_INDEX_LEN], const char *division)
{
	struct walking *k = ctx;
	struct ss_assign_walk *w = k->w;
	int from = SS_GREEN, to = SS_GREEN;
	if (w->stop)
		return SS_OK; /* the rest of the batch is left for the next walk */
	k->person_id = person_id;
	k->division = division;
	enum ss_err err = assign(k->app, idx, person_id, k->now, NULL, &from, &to, moving, k);
	if (err)
		return err;
	w->after = person_id;
	w->people++;
	w->changed += from != to;
	return w->done_one ? w->done_one(w) : SS_OK;
}

enum ss_err ss_assign_walk(struct ss_app *app, int64_t now, struct ss_assign_walk *w)
{
	struct walking k = {app, w, now, 0, NULL};
	int batch = w->batch > 0 && w->batch < SS_APPLY_BATCH ? w->batch : SS_APPLY_BATCH;
	enum ss_err err = SS_OK;
	while (!err && !w->stop) {
		int64_t before = w->people;
		err = app->store->ops->record_people_each(app->store, w->after, batch, walk_one, &k);
		if (w->people - before < batch)
			break;
	}
	return err;
}

enum ss_err ss_assign_people_after(struct ss_app *app, int64_t after, int64_t now, int batch, int64_t *people,
                                   int64_t *changed)
{
	struct ss_assign_walk w = {.after = after, .batch = batch};
	enum ss_err err = ss_assign_walk(app, now, &w);
	if (people)
		*people = w.people;
	if (changed)
		*changed = w.changed;
	return err;
}
