/* trace: tracing companions (see trace.h). */
#include "core/trace.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/mem.h"
#include "base/str.h"
#include "core/assign.h"
#include "core/idcard.h"
#include "core/pii.h"
#include "core/records.h"
#include "core/registry.h"

/* A scan of the case. */
struct case_scan {
	int64_t place_id;
	int64_t t_ms;
	const char *place;
};

/* What a trace gathers: the companions, found again by person id through an open-addressing table. */
struct gather {
	int64_t case_id;
	struct ss_trace_companion *c;
	size_t n, cap;
	uint32_t *slots; /* index + 1 into c; 0 is empty */
	size_t nslots;   /* a power of two, at least twice n */
	bool capped;
	/* the place being read: the case's times there, sorted */
	const int64_t *times;
	size_t ntimes;
	int64_t place_id;
	size_t place_new; /* companions first found at this place */
	int rows;         /* scans read in the current span */
	int64_t window_ms;
};

static int by_place_then_time(const void *x, const void *y)
{
	const struct case_scan *a = x, *b = y;
	if (a->place_id != b->place_id)
		return a->place_id < b->place_id ? -1 : 1;
	return (a->t_ms > b->t_ms) - (a->t_ms < b->t_ms);
}

static int closest_first(const void *x, const void *y)
{
	const struct ss_trace_companion *a = x, *b = y;
	if (a->gap_ms != b->gap_ms)
		return a->gap_ms < b->gap_ms ? -1 : 1;
	if (a->first_ms != b->first_ms)
		return a->first_ms < b->first_ms ? -1 : 1;
	return (a->person_id > b->person_id) - (a->person_id < b->person_id);
}

static size_t slot_of(int64_t person_id, size_t nslots)
{
	uint64_t h = (uint64_t)person_id * 0x9E3779B97F4A7C15ull;
	return (size_t)(h >> 20) & (nslots - 1);
}

static void rehash(struct gather *g, size_t nslots)
{
	free(g->slots);
	g->slots = ss_calloc(nslots, sizeof(*g->slots));
	g->nslots = nslots;
	for (size_t i = 0; i < g->n; i++) {
		size_t s = slot_of(g->c[i].person_id, nslots);
		while (g->slots[s])
			s = (s + 1) & (nslots - 1);
		g->slots[s] = (uint32_t)(i + 1);
	}
}

/* The companion person_id, made if new; NULL when the table is full (g->capped is set). */
static struct ss_trace_companion *companion(struct gather *g, int64_t person_id)
{
	size_t s = slot_of(person_id, g->nslots);
	while (g->slots[s]) {
		struct ss_trace_companion *c = &g->c[g->slots[s] - 1];
		if (c->person_id == person_id)
			return c;
		s = (s + 1) & (g->nslots - 1);
	}
	if (g->n == SS_TRACE_COMPANIONS_MAX) {
		g->capped = true;
		return NULL;
	}
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 256;
		g->c = ss_realloc(g->c, g->cap * sizeof(*g->c));
	}
	struct ss_trace_companion *c = &g->c[g->n++];
	memset(c, 0, sizeof(*c));
	c->person_id = person_id;
	c->gap_ms = INT64_MAX;
	g->slots[s] = (uint32_t)g->n;
	g->place_new++;
	if (2 * g->n > g->nslots)
		rehash(g, 2 * g->nslots);
	return c;
}

/* How far t is from the nearest of the case's scans at the current place, and that scan. */
static int64_t gap_to_case(const struct gather *g, int64_t t)
{
	size_t lo = 0, hi = g->ntimes; /* the first time >= t */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->times[mid] < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	int64_t best = INT64_MAX;
	if (lo < g->ntimes)
		best = g->times[lo] - t;
	if (lo > 0 && t - g->times[lo - 1] < best)
		best = t - g->times[lo - 1];
	return best;
}

static void seen_at(struct gather *g, int64_t person_id, int64_t t)
{
	if (person_id <= 0 || person_id == g->case_id)
		return;
	int64_t gap = gap_to_case(g, t);
	if (gap > g->window_ms) /* a merged interval's edge can hold scans outside every window */
		return;
	struct ss_trace_companion *c = companion(g, person_id);
	if (!c)
		return;
	if (c->scans == 0 || t < c->first_ms)
		c->first_ms = t;
	c->scans++;
	if (gap < c->gap_ms) {
		c->gap_ms = gap;
		c->closest_ms = t;
		c->place_id = g->place_id;
	}
}

static enum ss_err on_place_scan(void *ctx, const struct ss_scan_row *row)
{
	struct gather *g = ctx;
	g->rows++;
	seen_at(g, row->person_id, row->scanned_at_ms);
	if (row->presenter_id != row->person_id)
		seen_at(g, row->presenter_id, row->scanned_at_ms);
	return SS_OK;
}

struct case_scans {
	struct case_scan *s;
	size_t n;
};

static enum ss_err on_case_scan(void *ctx, const struct ss_scan_row *row)
{
	struct case_scans *cs = ctx;
	if (cs->n < SS_TRACE_CASE_SCANS_MAX)
		cs->s[cs->n] = (struct case_scan){row->place_id, row->scanned_at_ms, row->place};
	cs->n++;
	return SS_OK;
}

/* Reads the scans around the case's scans at one place (times sorted, n of them). */
static enum ss_err read_place(struct ss_app *app, struct gather *g, const int64_t *times, size_t n)
{
	struct ss_store *s = app->store;
	g->times = times;
	g->ntimes = n;
	for (size_t i = 0; i < n;) {
		int64_t lo = times[i] - g->window_ms, hi = times[i] + g->window_ms;
		size_t j = i + 1;
		while (j < n && times[j] - g->window_ms <= hi) /* overlapping windows: one read */
			hi = times[j++] + g->window_ms;
		g->rows = 0;
		enum ss_err err =
		        s->ops->scans_at_place(s, g->place_id, lo, hi, SS_TRACE_PLACE_SCANS_MAX, on_place_scan, g);
		if (err)
			return err;
		if (g->rows >= SS_TRACE_PLACE_SCANS_MAX)
			g->capped = true;
		i = j;
	}
	return SS_OK;
}

/* Opens a person's particulars: ID number, name and division (fields of SS_PII_PERSON). */
static enum ss_err particulars(struct ss_app *app, int64_t person_id, struct ss_arena *a, struct ss_person_row *row,
                               const char *fields[6])
{
	enum ss_err err = app->store->ops->person_by_id(app->store, person_id, a, row);
	if (!err)
		err = ss_pii_open(app, SS_PII_PERSON, row->sealed, a, fields, 6);
	return err;
}

/* Keeps a close_contact record about each companion, and the colours they give, in one transaction. */
static enum ss_err emit(struct ss_app *app, int64_t case_id, int64_t now, struct ss_trace_result *out)
{
	struct ss_store *s = app->store;
	enum ss_err err = s->ops->begin(s);
	if (err)
		return err;
	for (size_t i = 0; i < out->ncompanions && !err; i++) {
		const struct ss_trace_companion *c = &out->companions[i];
		struct ss_person_row row;
		struct ss_record r;
		const char *f[6];
		struct ss_arena a;
		ss_arena_init(&a);
		if (!(err = particulars(app, c->person_id, &a, &row, f))) {
			/*
			 * One record per case, companion and day of contact, so that tracing
			 * again counts once; a keyed hash, so it names no one.
			 */
			char text[96], record_id[SS_RECORD_ID_MAX + 1];
			uint8_t h[32];
			int n = snprintf(text, sizeof(text), "%lld|%lld|%lld", (long long)case_id,
			                 (long long)c->person_id, (long long)(c->closest_ms / 86400000));
			ss_keyring_blind(app->keys, "trace", text, (size_t)n, h);
			memcpy(record_id, "trace:", 6);
			ss_hex_encode(h, 20, record_id + 6);
			err = ss_record_build(record_id, "trace", SS_RECORD_CLOSE_CONTACT, f[0], c->closest_ms / 1000,
			                      "{}", now, &r, &a);
			if (!err)
				err = ss_record_put(app, &r, now);
			if (err == SS_CONFLICT) {
				out->duplicates++;
				err = SS_OK;
			} else if (!err) {
				out->emitted++;
				err = ss_assign_person(app, row.idx, c->person_id, now, NULL);
			}
		}
		ss_arena_release_secret(&a);
	}
	if (err)
		s->ops->rollback(s);
	else if (!(err = s->ops->commit(s)))
		return SS_OK;
	/* nothing was kept: the colours already set in memory go back to the stored ones */
	for (size_t i = 0; i < out->ncompanions; i++)
		ss_assign_resync(app, out->companions[i].person_id);
	out->emitted = out->duplicates = 0;
	return err;
}

enum ss_err ss_trace_run(struct ss_app *app, const struct ss_trace_query *q, int64_t now, struct ss_trace_result *out)
{
	struct ss_store *s = app->store;
	struct ss_idcard id;
	struct ss_person_row person;
	struct gather g = {0};
	struct case_scans cs = {0};
	int64_t *times = NULL;
	enum ss_err err;

	memset(out, 0, sizeof(*out));
	ss_arena_init(&out->arena);
	int window = q->window_minutes ? q->window_minutes : SS_TRACE_WINDOW_DEFAULT;
	if ((err = ss_idcard_parse(q->id_number, strlen(q->id_number), now, &id)))
		return err;
	if (window < 1 || window > SS_TRACE_WINDOW_MAX)
		return ss_fail(SS_INVALID, "window_minutes", "window_minutes must be 1 to %d", SS_TRACE_WINDOW_MAX);
	if (q->from >= q->to)
		return ss_fail(SS_INVALID, "from", "from must be before to");
	if (q->to - q->from > (int64_t)SS_TRACE_SPAN_MAX_DAYS * 86400)
		return ss_fail(SS_INVALID, "to", "a trace may cover at most %d days", SS_TRACE_SPAN_MAX_DAYS);
	out->from = q->from;
	out->to = q->to;
	out->window_minutes = window;
	out->emitted_asked = q->emit;

	if ((err = ss_registry_find(app, id.number, &out->arena, &person)))
		return err;
	out->case_person_id = person.person_id;
	{
		const char *f[6];
		if ((err = ss_pii_open(app, SS_PII_PERSON, person.sealed, &out->arena, f, 6)))
			return err;
		ss_mask_name(f[1], out->case_name);
		ss_mask_id(f[0], out->case_id);
	}

	/* the case's scans, by place and time */
	cs.s = ss_malloc(SS_TRACE_CASE_SCANS_MAX * sizeof(*cs.s));
	if ((err = s->ops->scans_of_person_during(s, person.person_id, q->from * 1000, q->to * 1000 + 999,
	                                          SS_TRACE_CASE_SCANS_MAX + 1, &out->arena, on_case_scan, &cs)))
		goto out;
	out->case_scans_capped = cs.n > SS_TRACE_CASE_SCANS_MAX;
	if (out->case_scans_capped)
		cs.n = SS_TRACE_CASE_SCANS_MAX;
	out->case_scans = cs.n;
	qsort(cs.s, cs.n, sizeof(*cs.s), by_place_then_time);

	/* everyone near them, place by place */
	g.case_id = person.person_id;
	g.window_ms = (int64_t)window * 60000;
	rehash(&g, 1024);
	times = ss_malloc((cs.n ? cs.n : 1) * sizeof(*times));
	out->places = ss_arena_alloc(&out->arena, (cs.n ? cs.n : 1) * sizeof(*out->places));
	for (size_t i = 0; i < cs.n;) {
		size_t j = i;
		while (j < cs.n && cs.s[j].place_id == cs.s[i].place_id) {
			times[j - i] = cs.s[j].t_ms;
			j++;
		}
		g.place_id = cs.s[i].place_id;
		g.place_new = 0;
		if ((err = read_place(app, &g, times, j - i)))
			goto out;
		out->places[out->nplaces++] = (struct ss_trace_place){
		        .place_id = g.place_id,
		        .name = cs.s[i].place,
		        .scans = (int)(j - i),
		        .first_ms = times[0],
		        .last_ms = times[j - i - 1],
		        .companions = g.place_new,
		};
		i = j;
	}
	out->capped = g.capped;
	if (g.n > 1) /* qsort may not be given a NULL array, even empty */
		qsort(g.c, g.n, sizeof(*g.c), closest_first);
	out->companions = g.c;
	out->ncompanions = g.n;
	g.c = NULL;

	/* particulars, masked, of those listed */
	out->nlisted = out->ncompanions < SS_TRACE_LIST_MAX ? out->ncompanions : SS_TRACE_LIST_MAX;
	for (size_t i = 0; i < out->nlisted; i++) {
		struct ss_trace_companion *c = &out->companions[i];
		struct ss_person_row row;
		const char *f[6];
		struct ss_arena a;
		ss_arena_init(&a);
		err = particulars(app, c->person_id, &a, &row, f);
		if (!err) {
			ss_mask_name(f[1], c->name);
			ss_mask_id(f[0], c->id_number);
			snprintf(c->division, sizeof(c->division), "%s", row.division);
		}
		ss_arena_release_secret(&a);
		if (err)
			goto out;
	}

	if (q->emit && (err = emit(app, person.person_id, now, out)))
		goto out;
	ss_log_info("trace", "staff_id=%lld case_person_id=%lld case_scans=%zu places=%zu companions=%zu emitted=%zu",
	            (long long)q->staff_id, (long long)person.person_id, out->case_scans, out->nplaces,
	            out->ncompanions, out->emitted);
out:
	free(cs.s);
	free(times);
	free(g.c);
	free(g.slots);
	return err;
}

void ss_trace_result_release(struct ss_trace_result *r)
{
	free(r->companions);
	r->companions = NULL;
	ss_arena_release_secret(&r->arena);
}
